//! photopress: compress every JPEG photo of a folder (or a bucket) in parallel, and report
//! what it saved.
//!
//! One photo in memory: [`compress_bytes`] (like oxipng's `optimize_from_memory`). A whole
//! folder, as the command does it: [`compress_dir`], which lists the inputs and runs the
//! batch (one [`Outcome`] per image, reduced into [`Totals`]); [`report`] turns the result into
//! the text or JSON report. Data flows one way: [`Options`] → `inputs` (the jobs) → `batch`
//! (each job through `photo`, on a rayon pool) → `report`; see `docs/architecture.md`.
//!
//! ```
//! use photopress::{Options, batch::Silent, cancel::Cancel, compress_dir, report};
//! use photopress::storage::location::Location;
//! let out = std::env::temp_dir().join(format!("photopress-doc-{}", std::process::id()));
//! let options = Options { output_dir: out.clone(), ..Options::default() };
//! let inputs = [Location::Local("IMAGES".into())];
//! let result = compress_dir(&inputs, &options, &Silent, &Cancel::new())?;
//! assert_eq!(result.totals.files, 4);
//! assert!(result.totals.output_bytes < result.totals.input_bytes);
//! print!("{}", report::text(&result));
//! # std::fs::remove_dir_all(&out)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]

// The API: the calls and types above, and these modules.
pub mod archive;
pub mod batch;
pub mod cancel;
pub mod error;
pub mod names;
pub mod options;
pub mod outcome;
pub mod report;
pub mod storage;

// The layers the command line, the benchmarks and the tests reach into: public so that they
// can, documented, but not part of the API (hidden from its documentation; they may change).
#[doc(hidden)]
pub mod fleet;
#[doc(hidden)]
pub mod human;
#[doc(hidden)]
pub mod inputs;
#[doc(hidden)]
pub mod jpeg;
#[doc(hidden)]
pub mod memory;
#[doc(hidden)]
pub mod photo;
#[doc(hidden)]
pub mod shard;

// A sort of byte entries in bounded memory (the bucket listing's, the job report's).
mod extsort;
#[cfg(test)]
mod layers;

pub use batch::compress_dir;
pub use error::{Error, ImageError, SetupError};
pub use options::{Method, Options};
pub use outcome::{BatchResult, Kind, Outcome, Status, Totals};
pub use photo::bytes::{Compressed, compress_bytes};
pub use photo::file::compress_file;
