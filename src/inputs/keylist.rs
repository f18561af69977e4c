//! Key lists: the files `photopress plan` writes (one per shard) and `--keys-from` reads, so
//! that N array tasks do not each list ten million keys. One key a line, relative to the
//! input root (`sub/dir/photo.jpg`), optionally followed by a tab, the object's size, a tab
//! and its ETag (what an S3 Inventory report gives too). Keys are untrusted: each is checked
//! with the same rules as an object key (no empty, `.` or `..` segment, no control character,
//! no leading `/`) before it is joined to anything; a bad line fails alone.
use std::fmt::Write as _;

use crate::storage::validate_key_rel;

/// One key of a list, with what the list says of its object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyEntry {
    /// The relative key, checked (`sub/dir/photo.jpg`).
    pub key: String,
    /// The object's size in bytes (second field); `None` when the line has none.
    pub size: Option<u64>,
    /// The object's ETag (third field), as written; `None` when the line has none.
    pub etag: Option<String>,
}

/// An entry's shard is its key's.
impl AsRef<[u8]> for KeyEntry {
    fn as_ref(&self) -> &[u8] {
        self.key.as_bytes()
    }
}

/// A line that is not a valid entry: its number (from 1) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    /// The line's number, from 1.
    pub line: usize,
    /// The line's text, cut to its first 200 characters.
    pub text: String,
    /// Why it is refused: a bad key, a size that is not a number, too many fields.
    pub reason: String,
}

/// Parses a key list. Empty lines are skipped; a `\r` before the newline is dropped.
pub fn parse(text: &str) -> (Vec<KeyEntry>, Vec<BadLine>) {
    let mut entries = Vec::new();
    let mut bad = Vec::new();
    for (i, line) in text.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        match parse_line(line) {
            Ok(entry) => entries.push(entry),
            Err(reason) => bad.push(BadLine {
                line: i + 1,
                text: line.chars().take(200).collect(),
                reason,
            }),
        }
    }
    (entries, bad)
}

fn parse_line(line: &str) -> Result<KeyEntry, String> {
    let mut fields = line.split('\t');
    let key = fields.next().unwrap_or_default();
    validate_key_rel(key).map_err(|e| e.to_string())?;
    let size = match fields.next() {
        None | Some("") => None,
        Some(text) => Some(
            text.parse::<u64>()
                .map_err(|_| format!("{text:?} is not a size in bytes"))?,
        ),
    };
    let etag = fields.next().filter(|t| !t.is_empty()).map(str::to_string);
    if fields.next().is_some() {
        return Err("more than three tab-separated fields".into());
    }
    Ok(KeyEntry {
        key: key.to_string(),
        size,
        etag,
    })
}

/// Writes entries as a key list. Keys with a tab or a line break cannot be written (and are
/// not valid keys anyway: control characters).
pub fn write(entries: &[KeyEntry]) -> String {
    let mut out = String::new();
    for e in entries {
        push_line(&mut out, e);
    }
    out
}

/// Appends one entry's line (with its newline) to a list being written: what [`write`] writes
/// for it, so that a list written a line at a time (`photopress plan`) is the same text.
pub fn push_line(out: &mut String, e: &KeyEntry) {
    out.push_str(&e.key);
    if e.size.is_some() || e.etag.is_some() {
        out.push('\t');
        if let Some(size) = e.size {
            let _ = write!(out, "{size}");
        }
        out.push('\t');
        if let Some(etag) = &e.etag {
            out.push_str(etag);
        }
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_bad_lines_fail_alone() {
        let entries = vec![
            KeyEntry {
                key: "a/b.jpg".into(),
                size: Some(12),
                etag: Some("\"abc\"".into()),
            },
            KeyEntry {
                key: "c d/ü.jpg".into(),
                size: None,
                etag: None,
            },
        ];
        let text = write(&entries);
        assert_eq!(parse(&text), (entries.clone(), Vec::new()));
        let hostile =
            format!("{text}../etc/passwd\n/abs.jpg\nx//y.jpg\n\nok.jpg\t12x\nfine.jpg\r\n");
        let (good, bad) = parse(&hostile);
        assert_eq!(good.len(), 3);
        assert_eq!(good[2].key, "fine.jpg");
        let lines: Vec<usize> = bad.iter().map(|b| b.line).collect();
        assert_eq!(lines, [3, 4, 5, 7]);
        assert!(bad[0].reason.contains(".."), "{}", bad[0].reason);
    }
}
