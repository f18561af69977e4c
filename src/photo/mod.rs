//! One photo under the run's rules: read it, re-encode it (to a quality or size target,
//! scored by the metric), write it atomically, and know it again on the next run.
pub mod archive;
pub mod bytes;
pub mod compress;
pub mod file;
pub mod input;
pub mod metric;
pub mod output;
pub mod provenance;
pub mod search;
pub mod stream;
