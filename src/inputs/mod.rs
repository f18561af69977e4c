//! From places to jobs: the folder walk, bucket listings and key lists, the output-path
//! guard, and what one job is.
pub mod event;
pub mod guard;
pub mod job;
pub mod keylist;
pub mod objects;
pub mod version;
pub mod walk;
