//! The integration tests: one test crate (one binary to link), a module per subject. Most run
//! the real binary (`CARGO_BIN_EXE_photopress`) in a temporary folder on fixtures made from
//! the repository's photos (`IMAGES/`) and read its outputs with independent decoders; some
//! call the library. `common` holds the shared helpers; `moto` (tests/moto/mod.rs) starts the
//! S3 server of the object-storage tests; the fuzz regressions' inputs are in
//! tests/fuzz_regressions/.
//!
//! One test: `cargo test --test it NAME` (a substring of `module::test_name`).

// A test fails by panicking: the tests and their helpers unwrap and expect freely (clippy.toml's
// allow-unwrap-in-tests and allow-expect-in-tests cover `#[test]` functions, not helpers).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../azurite/mod.rs"]
mod azurite;
mod common;
#[path = "../gcs/mod.rs"]
mod gcs;
#[path = "../moto/mod.rs"]
mod moto;

mod archive;
mod buckets;
mod chroma;
mod cli;
mod clouds;
mod corruption;
mod fidelity;
mod hostile_input;
mod inputs;
mod logging;
mod metadata;
mod output_safety;
mod progressive;
mod report;
mod rerun;
mod resize;
mod shards;
mod storage;
mod stream;
mod targets;
mod transcode;
