//! The one JPEG header reader: the marker walk and the frame header (SOFn), shared by the
//! memory budget, the transcoder and the pixel path's checks, so that they never disagree on
//! what a file declares. Bytes between segments that are not a marker are skipped, as libjpeg
//! skips them (with a warning): a stray byte must not hide the frame from the budget.
//!
//! Everything here reads untrusted bytes: every length and index is checked.

/// Why a header could not be read. The messages use libjpeg's words where it has some.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    /// The input does not start with SOI (`FF D8`); its first two bytes are held (0 for a
    /// byte it lacks).
    #[error("Not a JPEG file: starts with 0x{0:02x} 0x{1:02x}")]
    NotJpeg(u8, u8),
    /// The input ends before its frame header ([`read_frame`]; a [`walk`] over a part says
    /// where to go on instead).
    #[error("Premature end of JPEG file")]
    Truncated,
    #[error("Corrupt JPEG data: marker 0x{marker:02x} with length {len}")]
    /// A segment declares a length below 2, the size of the length field itself.
    BadLength {
        /// The segment's marker code (the byte after `FF`).
        marker: u8,
        /// The declared length in bytes.
        len: usize,
    },
    /// A scan (SOS) or the end of the image (EOI) comes before any SOFn marker.
    #[error("no image in the file (no SOF marker)")]
    NoFrame,
    /// The SOFn segment is malformed: its length does not match its component count, a
    /// sampling factor is outside 1..=4, or a quantization table number is above 3.
    #[error("{0}")]
    BadFrame(String),
}

/// How a frame is coded, from its SOF marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    /// SOF0: baseline sequential Huffman.
    Baseline,
    /// SOF1: extended sequential Huffman (16-bit tables or 12-bit samples allowed).
    Extended,
    /// SOF2: progressive Huffman.
    Progressive,
    /// SOF3: lossless.
    Lossless,
    /// SOF5..7, SOF13..15: hierarchical.
    Hierarchical,
    /// SOF9..11: arithmetic coding.
    Arithmetic,
}

/// One component of the frame, as declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameComponent {
    /// The component identifier the scans refer to it by (often 1, 2, 3).
    pub id: u8,
    /// Horizontal sampling factor, 1..=4.
    pub h: u8,
    /// Vertical sampling factor, 1..=4.
    pub v: u8,
    /// Quantization table number, 0..=3.
    pub tq: u8,
}

/// The frame header: what the picture is, before any data is decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameHeader {
    /// How the frame is coded, from its SOFn marker.
    pub coding: Coding,
    /// Bits per sample (8 or 12 for DCT frames).
    pub precision: u8,
    /// Samples per line, in pixels, as stored (before any EXIF orientation).
    pub width: usize,
    /// Lines, in pixels, as stored; 0 when a DNL segment would give it.
    pub height: usize,
    /// The components in frame order (1 for grayscale, 3 for YCbCr, 4 for CMYK or YCCK).
    pub components: Vec<FrameComponent>,
}

impl FrameHeader {
    /// True for a progressive (SOF2) frame.
    pub fn progressive(&self) -> bool {
        self.coding == Coding::Progressive
    }

    /// A YCbCr (or any three-component) frame with 4:2:0 chroma: luma 2x2, chroma 1x1.
    pub fn is_420(&self) -> bool {
        is_420(self.components.iter().map(|c| (c.h, c.v)))
    }
}

/// True when a frame's sampling factors `(h, v)`, in frame order, are 4:2:0 as photopress
/// writes it: three components, luma 2x2, chroma 1x1. The one test of "is it the output's
/// layout", for the pixel path, the transcoder and the header alike.
pub fn is_420<T: Into<usize>>(factors: impl IntoIterator<Item = (T, T)>) -> bool {
    let mut factors = factors.into_iter().map(|(h, v)| (h.into(), v.into()));
    factors.next() == Some((2, 2))
        && factors.next() == Some((1, 1))
        && factors.next() == Some((1, 1))
        && factors.next().is_none()
}

/// The next marker at or after `pos`: its code and the position after it. Bytes before it
/// that are not a marker are skipped, and so are fill bytes (`FF FF`) and stuffed zeros.
pub fn next_marker(input: &[u8], mut pos: usize) -> Option<(u8, usize)> {
    loop {
        if *input.get(pos)? != 0xFF {
            pos += 1;
            continue;
        }
        match *input.get(pos + 1)? {
            0xFF => pos += 1,
            0x00 => pos += 2,
            code => return Some((code, pos + 2)),
        }
    }
}

/// True for the SOFn markers (C0..CF but DHT C4, JPG C8 and DAC CC).
pub fn is_sof(code: u8) -> bool {
    matches!(code, 0xC0..=0xCF) && !matches!(code, 0xC4 | 0xC8 | 0xCC)
}

/// Parses the body of a SOFn segment (`code` its marker): lengths, sampling factors and table
/// numbers are checked; what a codec supports is for the codec to decide.
pub fn parse_frame(code: u8, body: &[u8]) -> Result<FrameHeader, HeaderError> {
    let bogus = || HeaderError::BadFrame("Bogus marker length".into());
    if body.len() < 6 {
        return Err(bogus());
    }
    let count = usize::from(body[5]);
    // Exactly the declared components, as libjpeg requires (a longer segment is refused too).
    if body.len() != 6 + 3 * count {
        return Err(bogus());
    }
    let mut components = Vec::with_capacity(count);
    for c in body[6..].chunks_exact(3) {
        let (h, v) = (c[1] >> 4, c[1] & 15);
        if !(1..=4).contains(&h) || !(1..=4).contains(&v) {
            return Err(HeaderError::BadFrame("Bogus sampling factors".into()));
        }
        if c[2] > 3 {
            return Err(HeaderError::BadFrame(format!(
                "Bogus quantization table number {}",
                c[2]
            )));
        }
        components.push(FrameComponent {
            id: c[0],
            h,
            v,
            tq: c[2],
        });
    }
    let coding = match code {
        0xC0 => Coding::Baseline,
        0xC1 => Coding::Extended,
        0xC2 => Coding::Progressive,
        0xC3 => Coding::Lossless,
        0xC9..=0xCB => Coding::Arithmetic,
        _ => Coding::Hierarchical,
    };
    Ok(FrameHeader {
        coding,
        precision: body[0],
        height: usize::from(u16::from_be_bytes([body[1], body[2]])),
        width: usize::from(u16::from_be_bytes([body[3], body[4]])),
        components,
    })
}

/// Reads the frame header of a JPEG held in memory, walking its segments up to the first
/// SOFn. Fails on anything that is not a JPEG, ends early or has no frame before its first
/// scan.
pub fn read_frame(input: &[u8]) -> Result<FrameHeader, HeaderError> {
    match walk_from_start(input)? {
        Walk::Frame(frame) => Ok(frame),
        Walk::From(_) => Err(HeaderError::Truncated),
    }
}

/// [`walk`] over the first part of a file: after checking that it starts with SOI.
pub fn walk_from_start(input: &[u8]) -> Result<Walk, HeaderError> {
    if input.len() < 2 || input[0] != 0xFF || input[1] != 0xD8 {
        return Err(HeaderError::NotJpeg(
            input.first().copied().unwrap_or(0),
            input.get(1).copied().unwrap_or(0),
        ));
    }
    walk(input, 2)
}

/// Where a walk over part of a file ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Walk {
    /// The frame header.
    Frame(FrameHeader),
    /// The part ended before the frame: the walk goes on from this offset (of the part; it
    /// can lie beyond its end, past a segment the part does not hold). Always after the
    /// walk's start unless the part is shorter than two bytes.
    From(usize),
}

/// Walks the segments of `input`, a part of a JPEG file, from `pos` (after the SOI marker,
/// or where an earlier walk said to go on) up to the first SOFn, without needing the
/// bodies of the segments it skips: so that a file's frame can be found by reading a few
/// small windows of it, however big its EXIF or ICC segments are.
pub fn walk(input: &[u8], mut pos: usize) -> Result<Walk, HeaderError> {
    loop {
        let Some((code, after)) = next_marker(input, pos) else {
            // Everything up to the last byte was searched; that byte may start a marker.
            return Ok(Walk::From(pos.max(input.len().saturating_sub(1))));
        };
        let marker = after - 2;
        pos = after;
        match code {
            // Standalone markers: no length.
            0x01 | 0xD0..=0xD8 => continue,
            0xD9 | 0xDA => return Err(HeaderError::NoFrame),
            _ => {}
        }
        let Some(len) = input
            .get(pos..pos + 2)
            .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
        else {
            return Ok(Walk::From(marker));
        };
        if len < 2 {
            return Err(HeaderError::BadLength { marker: code, len });
        }
        if is_sof(code) {
            return match input.get(pos + 2..pos + len) {
                Some(body) => parse_frame(code, body).map(Walk::Frame),
                None => Ok(Walk::From(marker)),
            };
        }
        pos += len;
    }
}

/// The APPn and COM segments of a whole file before its first scan (code and body each),
/// where the first other segment starts, and where the last APPn/COM segment ends. `None`
/// for a file that does not start with SOI or whose segments run past its end.
#[allow(clippy::type_complexity)]
pub fn leading_segments(file: &[u8]) -> Option<(Vec<(u8, &[u8])>, usize, usize)> {
    if file.get(..2)? != [0xFF, 0xD8] {
        return None;
    }
    let mut segments = Vec::new();
    let (mut pos, mut first_other, mut last_app_end) = (2, None, 2);
    loop {
        let (code, after) = next_marker(file, pos)?;
        let start = after - 2;
        match code {
            0x01 | 0xD0..=0xD8 => {
                pos = after;
                continue;
            }
            0xD9 | 0xDA => return Some((segments, first_other.unwrap_or(start), last_app_end)),
            _ => {}
        }
        let len = usize::from(u16::from_be_bytes([
            *file.get(after)?,
            *file.get(after + 1)?,
        ]));
        let end = after + len.max(2);
        let body = file.get(after + 2..end)?;
        if matches!(code, 0xE0..=0xEF | 0xFE) {
            segments.push((code, body));
            last_app_end = end;
        } else {
            first_other.get_or_insert(start);
        }
        pos = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn photo(name: &str) -> Vec<u8> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("IMAGES");
        std::fs::read(root.join(name)).unwrap_or_default()
    }

    #[test]
    fn frames_of_the_demo_photos() {
        let h = read_frame(&photo("dogs.jpg")).expect("header");
        assert_eq!(
            (h.width, h.height, h.components.len(), h.progressive()),
            (2056, 3088, 3, true)
        );
        let h = read_frame(&photo("leaf.jpg")).expect("header");
        assert_eq!(
            (h.width, h.height, h.coding),
            (1920, 1200, Coding::Baseline)
        );
        assert_eq!(
            read_frame(b"\x89PNG"),
            Err(HeaderError::NotJpeg(0x89, 0x50))
        );
        assert_eq!(
            read_frame(&photo("leaf.jpg")[..300]),
            Err(HeaderError::Truncated)
        );
    }

    #[test]
    fn a_stray_byte_between_segments_does_not_hide_the_frame() {
        let leaf = photo("leaf.jpg");
        // After SOI and the first segment, insert a byte that is not a marker.
        let first_len = usize::from(u16::from_be_bytes([leaf[4], leaf[5]]));
        let cut = 4 + first_len;
        let mut stray = leaf[..cut].to_vec();
        stray.push(0x42);
        stray.extend_from_slice(&leaf[cut..]);
        assert_eq!(read_frame(&stray), read_frame(&leaf));
        assert!(read_frame(&stray).is_ok());
    }

    #[test]
    fn a_walk_over_windows_finds_the_frame_that_the_whole_file_gives() {
        for name in ["dogs.jpg", "leaf.jpg"] {
            let data = photo(name);
            let whole = read_frame(&data).expect("header");
            for window in [2usize, 7, 64, 4096] {
                // From each offset the walk names, a window of `window` bytes, as a file
                // reader would read them.
                let (mut offset, mut pos, mut frame) = (0usize, 2usize, None);
                for _ in 0..data.len() {
                    let part = &data[offset..data.len().min(offset + window)];
                    match walk(part, pos).expect("walk") {
                        Walk::Frame(f) => {
                            frame = Some(f);
                            break;
                        }
                        // No progress: this window cannot hold what the walk needs.
                        Walk::From(at) if at <= pos => break,
                        Walk::From(at) => {
                            offset += at;
                            pos = 0;
                        }
                    }
                }
                // A window too small for a length field or the frame segment stops the walk
                // (it makes no progress); windows that hold them find the same frame.
                if window >= 64 {
                    assert_eq!(frame.as_ref(), Some(&whole), "{name}, windows of {window}");
                } else {
                    assert_eq!(frame, None, "{name}, windows of {window}");
                }
            }
        }
    }

    #[test]
    fn mutated_headers_never_panic() {
        // A small deterministic fuzz of the walk: bytes flipped, cut and inserted at random
        // near the start of real files.
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for name in ["dogs.jpg", "leaf.jpg"] {
            let data = photo(name);
            let head = &data[..data.len().min(4096)];
            for _ in 0..3000 {
                let mut m = head.to_vec();
                for _ in 0..1 + next() % 4 {
                    let at = (next() as usize) % m.len();
                    match next() % 3 {
                        0 => m[at] = next() as u8,
                        1 => m.truncate(at),
                        _ => m.insert(at, next() as u8),
                    }
                    if m.is_empty() {
                        break;
                    }
                }
                let _ = read_frame(&m);
                // A walk may start anywhere in a window, even past its end, and must say
                // where to go on from without panicking.
                let from = (next() as usize) % (m.len() + 70_000);
                if let Ok(Walk::From(at)) = walk(&m, from) {
                    assert!(
                        at >= from.min(m.len().saturating_sub(1)),
                        "{name}: {at} < {from}"
                    );
                }
            }
        }
    }
}
