//! photopress: compress every JPEG photo of a folder in parallel, and report what it saved.
//!
//! Data flows one way: [`Options`] → [`scan::scan`] (the jobs) → [`batch::run`] (one
//! [`Outcome`] per image, reduced into [`batch::Totals`]) → [`report`].
//!
//! ```no_run
//! use photopress::{Options, batch, progress::Progress, report, scan};
//! let options = Options::default();
//! let inputs = [std::path::PathBuf::from("IMAGES")];
//! let jobs = scan::scan(&inputs, &options)?;
//! let result = batch::run(&jobs, &inputs, &options, &Progress::hidden())?;
//! print!("{}", report::text(&result));
//! # Ok::<(), photopress::SetupError>(())
//! ```
pub mod batch;
pub mod codec;
pub mod compress;
pub mod dryrun;
pub mod error;
pub mod guard;
pub mod header;
pub mod human;
pub mod input;
pub mod interrupt;
pub mod job;
pub mod journal;
pub mod keylist;
pub mod location;
pub mod logging;
pub mod manifest;
pub mod memory;
pub mod metric;
pub mod objects;
pub mod options;
pub mod output;
pub mod plan;
pub mod progress;
pub mod provenance;
pub mod report;
pub mod resize;
pub mod scan;
pub mod schedule;
pub mod setup;
pub mod shard;
pub mod sniff;
pub mod storage;
pub mod stream;
pub mod summary;
pub mod target;
pub mod transcode;

pub use batch::{BatchResult, Totals};
pub use compress::{Outcome, Status};
pub use error::{ImageError, SetupError};
pub use options::{Method, Options};
