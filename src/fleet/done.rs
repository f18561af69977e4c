//! Per-object marks of `photopress event`: one small JSON file per input key under the output,
//! `_photopress/events/<key>.json`, written when its output is done (compressed, kept or
//! skipped), saying from which version of the input and with which settings. An event for an
//! object already marked at the same version and settings — a redelivery, a retry — is skipped
//! with one read, whatever the number of objects done before (a shard's manifest would be read
//! whole on every event).
use serde::{Deserialize, Serialize};

use crate::fleet::journal::Root;

/// Where the marks live, below the output.
pub const DIR: &str = "_photopress/events";

/// What a mark says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mark {
    /// The input's version the output was made from (`etag:"…"`).
    pub version: String,
    /// The settings fingerprint of the run that made it (`Options::fingerprint`).
    pub settings: String,
    /// The input's and the output's sizes.
    pub input_bytes: u64,
    /// The output's size.
    pub output_bytes: u64,
    /// The output's address.
    pub output: String,
}

/// The mark's name for an input key (relative to the root it is read and written below).
pub fn name(key: &str) -> String {
    format!("{DIR}/{key}.json")
}

/// The mark of `key`, if there is one that reads; an unreadable or damaged mark is none (the
/// object is redone), with the reason.
pub fn read(root: &Root<'_>, key: &str) -> Result<Option<Mark>, String> {
    match root.read_small(&name(key), 64 << 10)? {
        None => Ok(None),
        Some(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| format!("{}: {e}", name(key))),
    }
}

/// Writes the mark of `key`.
pub fn write(root: &Root<'_>, key: &str, mark: &Mark) -> Result<(), String> {
    let bytes = serde_json::to_vec(mark).map_err(|e| e.to_string())?;
    root.write(&name(key), bytes)
}
