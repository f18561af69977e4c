//! Provenance: how photopress knows a file is its own output. Every output it encodes carries
//! a comment segment (`COM`) `photopress q=<quality>; s=<8 hex digits>` (29 bytes or so), the
//! `s` a short hash of the settings that change an output's bytes ([`Options::settings_id`]). Two rules
//! use it:
//! - a file that carries it is not re-encoded at the same or a higher quality (that would
//!   only lose detail, generation after generation): its bytes are kept as they are;
//! - the marker of an input is never copied into its output (the output gets its own).
//!
//! - `--skip-existing` leaves an output alone only when its marker says it was made at the
//!   quality and with the settings asked for now ([`up_to_date`]). A marker of an earlier
//!   photopress, `photopress q=<quality>` alone, is still read; its settings count as others.
//!
//! (The scan's prefix rule — files named with the output prefix in the output folder are never
//! taken as inputs — needs no marker: it also covers originals kept as they were.)

use std::fs;
use std::io::Read;
use std::path::Path;

use crate::jpeg::marker;
use crate::names::{Setting, name};
use crate::options::Options;

/// Why an existing output is not up to date (`--skip-existing` redoes it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Stale {
    /// No output yet (or it cannot be read): the usual case, not worth a word.
    #[error("it has no output yet")]
    Missing,
    /// The output path holds a folder, a symlink or another non-file.
    #[error("its output is not a regular file")]
    NotAFile,
    /// The output was last modified before its input (or a modification time cannot be
    /// read).
    #[error("its output is older than it")]
    Older,
    /// The output's first MiB holds no photopress comment segment.
    #[error(
        "its output carries no photopress marker (a copy of the original, kept because re-encoding was not smaller, or not made by photopress), so the quality it was made for is unknown"
    )]
    NoMarker,
    /// The marker's quality is not the one asked for now (under a target: is above it), and
    /// the output is not the input copied as it was.
    #[error("its output was made at quality {made}, this run asks for {asked}")]
    OtherQuality {
        /// The quality in the output's marker.
        made: u8,
        /// The quality this run writes: `-q`, 100 under `--lossless`, the ceiling under a
        /// target.
        asked: u8,
    },
    /// The marker's quality fits, but its settings hash is not this run's
    /// ([`Options::settings_id`]).
    #[error(
        "its output was made with other settings ({}, the targets or the resize limits)",
        [Setting::Method, Setting::Best, Setting::Strip, Setting::StripIcc, Setting::Extended,
         Setting::AcceptCorrupt, Setting::Progressive, Setting::Lossless].map(name).join(", ")
    )]
    OtherSettings,
    /// (Archives and restores.) The output is not the archive of this input's bytes, or not
    /// the original this archive holds.
    #[error("its output does not hold this input's bytes (another archive, or other bytes)")]
    OtherContent,
    /// The marker's quality fits, but it is an earlier photopress's `q=` alone, with no
    /// settings hash to compare.
    #[error(
        "its output was made by an earlier photopress, whose marker does not say with which settings"
    )]
    UnknownSettings,
}

/// The segments before the first scan hold the marker; even with a large ICC profile they
/// fit in this many bytes.
const HEADER_READ: u64 = 1 << 20;

/// Whether the output of `input` at `output` is up to date for a run under `opts`: a regular
/// file (not a link), not older than its input (`--preserve` gives it the same time), whose
/// marker says it was made at this quality with these settings ([`Options::settings_id`]) — or that is the input itself, copied as it was
/// because it is a photopress output of a lower quality than this one (not under `--strip`,
/// nor with resize limits: the copy may be larger than they allow).
/// Returns the input's and the output's sizes.
pub fn up_to_date(input: &Path, output: &Path, opts: &Options) -> Result<(u64, u64), Stale> {
    let out = fs::symlink_metadata(output).map_err(|_| Stale::Missing)?;
    if !out.is_file() {
        return Err(Stale::NotAFile);
    }
    let inp = fs::metadata(input).map_err(|_| Stale::Missing)?;
    let (Ok(out_time), Ok(in_time)) = (out.modified(), inp.modified()) else {
        return Err(Stale::Older);
    };
    if out_time < in_time {
        return Err(Stale::Older);
    }
    let sizes = (inp.len(), out.len());
    let mut head = Vec::new();
    fs::File::open(output)
        .and_then(|file| file.take(HEADER_READ).read_to_end(&mut head))
        .map_err(|_| Stale::Missing)?;
    let asked = opts.output_quality();
    match marker::find(&head) {
        // Under a target the quality was chosen per image, up to the ceiling `asked`.
        Some(made) if made.quality == asked || (opts.has_target() && made.quality <= asked) => {
            match made.settings {
                Some(id) if id == opts.settings_id() => Ok(sizes),
                Some(_) => Err(Stale::OtherSettings),
                None => Err(Stale::UnknownSettings),
            }
        }
        Some(made)
            if made.quality < asked
                && !opts.strip
                && opts.resize.is_none()
                && inp.len() == out.len()
                && same_bytes(input, output) =>
        {
            Ok(sizes)
        }
        Some(made) => Err(Stale::OtherQuality {
            made: made.quality,
            asked,
        }),
        None => Err(Stale::NoMarker),
    }
}

fn same_bytes(a: &Path, b: &Path) -> bool {
    match (fs::read(a), fs::read(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_settings_id_changes_with_each_byte_changing_option_only() {
        let base = Options::default();
        let id = base.settings_id();
        assert_eq!(id, base.clone().settings_id(), "stable");
        let changed: [fn(&mut Options); 10] = [
            |o| o.quality = 31,
            |o| o.method = crate::options::Method::Dct,
            |o| o.best = true,
            |o| o.strip = true,
            |o| o.strip_icc = true,
            |o| o.extended = true,
            |o| o.accept_corrupt = true,
            |o| o.method = crate::options::Method::Pixel,
            |o| {
                o.resize = Some(crate::jpeg::resize::Resize {
                    long_edge: Some(2048),
                    ..Default::default()
                })
            },
            |o| {
                o.resize = Some(crate::jpeg::resize::Resize {
                    width: Some(2048),
                    ..Default::default()
                })
            },
        ];
        for (i, change) in changed.iter().enumerate() {
            let mut other = base.clone();
            change(&mut other);
            assert_ne!(other.settings_id(), id, "change {i}");
        }
        let same = Options {
            jobs: 3,
            preserve: true,
            fsync: true,
            skip_existing: true,
            ..base
        };
        assert_eq!(same.settings_id(), id);
    }
}
