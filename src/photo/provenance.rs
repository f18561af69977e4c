//! Provenance: how photopress knows a file is its own output. Every output it encodes carries
//! a comment segment (`COM`) `photopress q=<quality>; s=<8 hex digits>` (29 bytes or so), the
//! `s` a short hash of the settings that change an output's bytes ([`settings_id`]). Two rules
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

use md5::{Digest, Md5};

use crate::options::Options;

/// The COM marker code.
pub const COM: u8 = 0xFE;

const TAG: &[u8] = b"photopress q=";
const SETTINGS_TAG: &[u8] = b"; s=";

/// What a marker says about the output that carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Provenance {
    /// The JPEG quality it was encoded at.
    pub quality: u8,
    /// The [`settings_id`] of the run that made it; `None` in an earlier photopress's marker.
    pub settings: Option<u32>,
}

/// A short, stable hash of the options that change an output's bytes
/// ([`Options::output_settings`]): the first 4 bytes of their MD5, big-endian.
pub fn settings_id(opts: &Options) -> u32 {
    let digest = Md5::digest(opts.output_settings().as_bytes());
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

/// The body of the COM segment for an output encoded at `quality` under the settings whose
/// [`settings_id`] is `settings`.
pub fn marker(quality: u8, settings: u32) -> Vec<u8> {
    format!("photopress q={quality}; s={settings:08x}").into_bytes()
}

/// Whether the body of a COM segment is a photopress marker.
pub fn is_marker(body: &[u8]) -> bool {
    parse(body).is_some()
}

fn parse(body: &[u8]) -> Option<Provenance> {
    let rest = body.strip_prefix(TAG)?;
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || digits > 3 || (digits < rest.len() && rest[digits] != b';') {
        return None;
    }
    let quality: u8 = std::str::from_utf8(&rest[..digits]).ok()?.parse().ok()?;
    if !(1..=100).contains(&quality) {
        return None;
    }
    // `; s=` and 8 hex digits, ending there or at the next `;`; anything else after the
    // quality (an earlier marker's form, or a later one's other fields) leaves it unknown.
    let settings = rest[digits..]
        .strip_prefix(SETTINGS_TAG)
        .and_then(|hex| match hex.get(8) {
            None | Some(b';') => hex.get(..8),
            Some(_) => None,
        })
        .and_then(|hex| std::str::from_utf8(hex).ok())
        .filter(|hex| hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .and_then(|hex| u32::from_str_radix(hex, 16).ok());
    Some(Provenance { quality, settings })
}

/// The photopress marker of a JPEG, if it has one among its segments before the first scan.
pub fn find(jpeg: &[u8]) -> Option<Provenance> {
    if jpeg.get(..2)? != [0xFF, 0xD8] {
        return None;
    }
    let mut pos = 2;
    while let Some((code, after)) = crate::jpeg::header::next_marker(jpeg, pos) {
        pos = after;
        if matches!(code, 0x01 | 0xD0..=0xD8) {
            continue;
        }
        if code == 0xDA || code == 0xD9 {
            return None;
        }
        let len = usize::from(u16::from_be_bytes([*jpeg.get(pos)?, *jpeg.get(pos + 1)?]));
        let body = jpeg.get(pos + 2..pos + len.max(2))?;
        if code == COM
            && let Some(found) = parse(body)
        {
            return Some(found);
        }
        pos += len.max(2);
    }
    None
}

/// Why an existing output is not up to date (`--skip-existing` redoes it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Stale {
    /// No output yet (or it cannot be read): the usual case, not worth a word.
    #[error("it has no output yet")]
    Missing,
    #[error("its output is not a regular file")]
    NotAFile,
    #[error("its output is older than it")]
    Older,
    #[error(
        "its output carries no photopress marker (a copy of the original, kept because re-encoding was not smaller, or not made by photopress), so the quality it was made for is unknown"
    )]
    NoMarker,
    #[error("its output was made at quality {made}, this run asks for {asked}")]
    OtherQuality { made: u8, asked: u8 },
    #[error(
        "its output was made with other settings (--method, --best, --strip, --strip-icc, --extended, --accept-truncated, --progressive, --lossless, the targets or the resize limits)"
    )]
    OtherSettings,
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
/// marker says it was made at this quality with these settings ([`settings_id`]) — or that is the input itself, copied as it was
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
    match find(&head) {
        // Under a target the quality was chosen per image, up to the ceiling `asked`.
        Some(made) if made.quality == asked || (opts.has_target() && made.quality <= asked) => {
            match made.settings {
                Some(id) if id == settings_id(opts) => Ok(sizes),
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
    fn markers_round_trip_and_others_are_not_ours() {
        assert_eq!(marker(30, 0x1a2b3c4d), b"photopress q=30; s=1a2b3c4d");
        assert_eq!(
            parse(&marker(30, 0x1a2b3c4d)),
            Some(Provenance {
                quality: 30,
                settings: Some(0x1a2b3c4d)
            })
        );
        let old = |quality| {
            Some(Provenance {
                quality,
                settings: None,
            })
        };
        assert_eq!(parse(b"photopress q=30"), old(30), "an earlier marker");
        assert_eq!(parse(b"photopress q=7; method=dct"), old(7));
        assert_eq!(parse(b"photopress q=7; s=1a2b3c4"), old(7), "short");
        assert_eq!(parse(b"photopress q=7; s=1a2b3c4d5"), old(7), "long");
        assert_eq!(parse(b"photopress q=7; s=1a2b3c4g"), old(7), "not hex");
        assert_eq!(
            parse(b"photopress q=7; s=0000000a; later=1"),
            Some(Provenance {
                quality: 7,
                settings: Some(10)
            })
        );
        for other in [
            &b"photopress q="[..],
            b"photopress q=0",
            b"photopress q=101",
            b"photopress q=30x",
            b"Made with photopress q=30",
            b"",
        ] {
            assert_eq!(parse(other), None, "{}", String::from_utf8_lossy(other));
        }
    }

    #[test]
    fn found_among_the_segments_before_the_scan() {
        let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 4, 1, 2];
        let body = marker(45, 7);
        jpeg.extend_from_slice(&[0xFF, COM]);
        jpeg.extend_from_slice(&((body.len() + 2) as u16).to_be_bytes());
        jpeg.extend_from_slice(&body);
        jpeg.extend_from_slice(&[0xFF, 0xDA, 0, 2, 0xFF, 0xD9]);
        assert_eq!(
            find(&jpeg),
            Some(Provenance {
                quality: 45,
                settings: Some(7)
            })
        );
        let leaf =
            std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("IMAGES/leaf.jpg"))
                .unwrap_or_default();
        assert_eq!(find(&leaf), None);
        assert_eq!(find(&jpeg[..12]), None, "cut short: no marker, no panic");
    }

    #[test]
    fn the_settings_id_changes_with_each_byte_changing_option_only() {
        let base = Options::default();
        let id = settings_id(&base);
        assert_eq!(id, settings_id(&base.clone()), "stable");
        let changed: [fn(&mut Options); 10] = [
            |o| o.quality = 31,
            |o| o.method = crate::options::Method::Dct,
            |o| o.best = true,
            |o| o.strip = true,
            |o| o.strip_icc = true,
            |o| o.extended = true,
            |o| o.accept_truncated = true,
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
            assert_ne!(settings_id(&other), id, "change {i}");
        }
        let same = Options {
            jobs: 3,
            preserve: true,
            fsync: true,
            skip_existing: true,
            ..base
        };
        assert_eq!(settings_id(&same), id);
    }
}
