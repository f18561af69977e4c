//! What identifies an input's content, as the manifest records it and resume compares it:
//! `size:…,mtime_ns:…` for a file, `etag:"…"` for an object.
use std::fs;
use std::time::UNIX_EPOCH;

/// The version of a local file: its size and modification time.
pub fn file_version(meta: &fs::Metadata) -> String {
    let mtime_ns = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    format!("size:{},mtime_ns:{mtime_ns}", meta.len())
}

/// The version of an object: its ETag, else its size.
pub fn object_version(etag: Option<&str>, size: u64) -> String {
    match etag {
        Some(etag) => format!("etag:{etag}"),
        None => format!("size:{size}"),
    }
}
