//! photopress: compress every JPEG photo of a folder in parallel, and report what it saved.
//!
//! Data flows one way: [`Options`] → [`inputs::walk::scan`] (the jobs) → [`batch::run`] (one
//! [`Outcome`] per image, reduced into [`Totals`]) → [`report`].
//!
//! ```no_run
//! use photopress::{Options, batch, cancel::Cancel, inputs::walk, report};
//! let options = Options::default();
//! let inputs = [std::path::PathBuf::from("IMAGES")];
//! let jobs = walk::scan(&inputs, &options)?;
//! let result = batch::run(&jobs, &inputs, &options, &batch::Silent, &Cancel::new())?;
//! print!("{}", report::text(&result));
//! # Ok::<(), photopress::SetupError>(())
//! ```
pub mod batch;
pub mod cancel;
pub mod error;
pub mod fleet;
pub mod human;
pub mod inputs;
pub mod jpeg;
pub mod memory;
pub mod options;
pub mod outcome;
pub mod photo;
pub mod report;
pub mod shard;
pub mod storage;

#[cfg(test)]
mod layers;

pub use error::{ImageError, SetupError};
pub use options::{Method, Options};
pub use outcome::{BatchResult, Kind, Outcome, Status, Totals};
