//! The scale-out state of an array job: the plan (one key list per shard), the manifest
//! records a shard writes, and the journal that writes and reads them back for resume.
pub mod done;
pub mod journal;
pub mod manifest;
pub mod plan;
