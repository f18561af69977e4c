//! The provenance marker: the comment segment (`COM`) `photopress q=<quality>; s=<8 hex
//! digits>` (29 bytes or so) that every output photopress encodes carries, the `s` a short
//! hash of the settings that change an output's bytes. Written by both codecs, read back by
//! [`find`]; what it is used for (`--skip-existing`, never re-encoding our own output at the
//! same or a higher quality) is `photo::provenance`'s.

/// The COM marker code.
pub const COM: u8 = 0xFE;

const TAG: &[u8] = b"photopress q=";
const SETTINGS_TAG: &[u8] = b"; s=";

/// What a marker says about the output that carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Provenance {
    /// The JPEG quality it was encoded at.
    pub quality: u8,
    /// The settings id of the run that made it; `None` in an earlier photopress's marker.
    pub settings: Option<u32>,
}

/// The body of the COM segment for an output encoded at `quality` under the settings whose
/// settings id (`Options::settings_id`) is `settings`.
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
}
