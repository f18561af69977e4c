//! The reversible archive: a JPEG stored about 22 % smaller with every bit kept, by Lepton
//! (the `lepton_jpeg` crate, Microsoft's Rust port of Dropbox's format), inside a small
//! header of our own that carries what restoring needs to prove itself right:
//!
//! | offset | bytes | field |
//! |---:|---:|---|
//! | 0 | 8 | magic `PPARCH\0` and the format version, 1 |
//! | 8 | 1 | body: 1 Lepton, 0 the original stored as it is |
//! | 9 | 1 | the original's component count (0 when stored) |
//! | 10 | 2 | reserved, 0 |
//! | 12 | 4 + 4 | the original's width and height (little-endian; 0 when stored) |
//! | 20 | 8 | the original's length in bytes (little-endian) |
//! | 28 | 32 | the original's SHA-256 |
//! | 60 | … | the body: a plain Lepton file, or the original bytes |
//!
//! An archive is made only after its Lepton body was decoded back in memory and compared
//! byte for byte with the original ([`archive`]); an original Lepton cannot hold exactly is
//! stored as it is ([`Body::Stored`]), so that every archive restores. Restoring
//! ([`restore`]) checks the length and the SHA-256 of what it rebuilt, and never produces
//! more than the header's length (nor a picture larger than its size). `tail -c +61 x.lep`
//! is a plain Lepton file for Lepton's own tools.
use std::io::{self, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};

use lepton_jpeg::{EnabledFeatures, SingleThreadPool};
use sha2::{Digest, Sha256};

use crate::jpeg::header::FrameHeader;

/// The header's length; the body starts here.
pub const HEADER_LEN: usize = 60;
/// The first 7 bytes of every archive.
const MAGIC: &[u8; 7] = b"PPARCH\0";
/// The format version this build writes and reads.
const VERSION: u8 = 1;
/// The file-name extension of an archive.
pub const EXTENSION: &str = "lep";

/// What an archive's body holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    /// A Lepton file, verified to decode to the original when it was made.
    Lepton,
    /// The original bytes, as they are (Lepton could not hold them exactly).
    Stored,
}

/// Why an archive could not be made or restored.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ArchiveError {
    /// Lepton refused the JPEG (its code and words).
    #[error("Lepton cannot hold it: {0}")]
    Refused(String),
    /// Lepton's output did not decode back to the original bytes.
    #[error("Lepton's output does not decode back to the original ({0})")]
    NotReversible(String),
    /// The file is not an archive of ours.
    #[error("not a photopress archive (no PPARCH header)")]
    NotAnArchive,
    /// An archive of a later format.
    #[error("archive format version {0}; this photopress reads version {VERSION}")]
    Version(u8),
    /// The header is cut short or names an unknown body.
    #[error("damaged archive header: {0}")]
    Header(String),
    /// The header says the original is larger than this run reads.
    #[error("the original would be {size} bytes, more than the {cap} bytes allowed")]
    TooLarge {
        /// The original's length, as the header says.
        size: u64,
        /// The largest original restored.
        cap: u64,
    },
    /// The body did not decode.
    #[error("damaged archive: {0}")]
    Damaged(String),
    /// The body decoded, but not to the original.
    #[error(
        "restored bytes do not match the original's checksum (expected {expected_len} bytes, SHA-256 {expected}; got {got_len} bytes, SHA-256 {got})"
    )]
    Mismatch {
        /// The original's length, from the header.
        expected_len: u64,
        /// The original's SHA-256, from the header, in hex.
        expected: String,
        /// What the body decoded to: its length.
        got_len: u64,
        /// ...and its SHA-256, in hex.
        got: String,
    },
}

/// What an archive's header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// The body's kind.
    pub body: Body,
    /// The original's component count, width and height (0 when stored).
    pub components: u8,
    /// The original's width in pixels.
    pub width: u32,
    /// The original's height in pixels.
    pub height: u32,
    /// The original's length in bytes.
    pub len: u64,
    /// The original's SHA-256.
    pub sha256: [u8; 32],
}

impl Header {
    /// The header of an archive of `original`.
    fn of(original: &[u8], body: Body, frame: Option<&FrameHeader>) -> Header {
        let (components, width, height) = match (body, frame) {
            (Body::Lepton, Some(f)) => (f.components.len() as u8, f.width as u32, f.height as u32),
            _ => (0, 0, 0),
        };
        Header {
            body,
            components,
            width,
            height,
            len: original.len() as u64,
            sha256: Sha256::digest(original).into(),
        }
    }

    fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        out.push(match self.body {
            Body::Lepton => 1,
            Body::Stored => 0,
        });
        out.push(self.components);
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(&self.width.to_le_bytes());
        out.extend_from_slice(&self.height.to_le_bytes());
        out.extend_from_slice(&self.len.to_le_bytes());
        out.extend_from_slice(&self.sha256);
    }

    /// Reads the header at the start of `data`.
    pub fn read(data: &[u8]) -> Result<Header, ArchiveError> {
        if data.len() < MAGIC.len() || &data[..MAGIC.len()] != MAGIC {
            return Err(ArchiveError::NotAnArchive);
        }
        let Some(fixed) = data.get(..HEADER_LEN) else {
            return Err(ArchiveError::Header(format!(
                "{} bytes, the header alone is {HEADER_LEN}",
                data.len()
            )));
        };
        if fixed[7] != VERSION {
            return Err(ArchiveError::Version(fixed[7]));
        }
        let body = match fixed[8] {
            1 => Body::Lepton,
            0 => Body::Stored,
            other => return Err(ArchiveError::Header(format!("unknown body kind {other}"))),
        };
        let u32_at = |at: usize| {
            let mut b = [0u8; 4];
            b.copy_from_slice(&fixed[at..at + 4]);
            u32::from_le_bytes(b)
        };
        let mut len = [0u8; 8];
        len.copy_from_slice(&fixed[20..28]);
        let mut sha256 = [0u8; 32];
        sha256.copy_from_slice(&fixed[28..60]);
        Ok(Header {
            body,
            components: fixed[9],
            width: u32_at(12),
            height: u32_at(16),
            len: u64::from_le_bytes(len),
            sha256,
        })
    }

    /// Bytes restoring this archive needs beyond its own: the original, and Lepton's
    /// coefficients (2 bytes each, 64 a block) for the picture the header declares.
    pub fn restore_memory(&self) -> u64 {
        self.len + coefficient_bytes(self.width as u64, self.height as u64, self.components)
    }
}

/// Lepton's coefficient memory for a picture: every component counted at full size (a bound
/// for subsampled chroma), 2 bytes a coefficient, plus its models and buffers.
fn coefficient_bytes(width: u64, height: u64, components: u8) -> u64 {
    let padded = width.div_ceil(16) * 16 * (height.div_ceil(16) * 16);
    padded * 2 * u64::from(components.max(1)) + (8 << 20)
}

/// Bytes archiving `frame`'s picture of `input_len` bytes needs: Lepton's coefficients twice
/// (the encoder's, then the verifying decoder's: 2 bytes each, each component at its own
/// sampling, padded to whole MCUs), its models and buffers, the archive and the decoded copy.
/// (A 20.4 MP photo of 4.4 MB, chroma not subsampled: 189 MB counted, the whole process
/// peaking at 119 MB, `--sequential`.)
pub fn archive_memory(frame: &FrameHeader, input_len: u64) -> u64 {
    let hmax = frame
        .components
        .iter()
        .map(|c| u64::from(c.h))
        .max()
        .unwrap_or(1)
        .max(1);
    let vmax = frame
        .components
        .iter()
        .map(|c| u64::from(c.v))
        .max()
        .unwrap_or(1)
        .max(1);
    let mcus_x = (frame.width as u64).div_ceil(8 * hmax);
    let mcus_y = (frame.height.max(1) as u64).div_ceil(8 * vmax);
    let blocks: u64 = frame
        .components
        .iter()
        .map(|c| mcus_x * u64::from(c.h) * mcus_y * u64::from(c.v))
        .sum();
    2 * (blocks * 64 * 2 + (8 << 20)) + 2 * input_len
}

/// An archive made by [`archive`].
#[derive(Debug)]
pub struct Archived {
    /// The archive's bytes: header and body.
    pub bytes: Vec<u8>,
    /// What the body holds.
    pub body: Body,
    /// Why Lepton could not hold the original, when it is stored.
    pub stored_because: Option<ArchiveError>,
}

/// The features Lepton runs with: single-threaded (the batch's pool is the parallelism),
/// bytes after EOI kept, no picture larger than `width`x`height` (the original's, or the
/// largest JPEG), no JPEG longer than `max_len`.
fn features(max_len: u64, width: u32, height: u32) -> EnabledFeatures {
    let mut f = EnabledFeatures::compat_lepton_vector_write();
    f.max_jpeg_width = width;
    f.max_jpeg_height = height;
    f.max_jpeg_file_size = u32::try_from(max_len).unwrap_or(u32::MAX);
    f.max_partitions = 1;
    f.max_processor_threads = 1;
    f.stop_reading_at_eoi = false;
    f
}

/// Lepton's own largest picture side (its default limit).
const MAX_SIDE: u32 = 16386;

/// Archives `original` (a JPEG whose frame header is `frame`): its Lepton form, decoded back
/// and compared byte for byte, else — when Lepton refuses it or would not give it back exactly
/// — the original stored as it is, with the reason.
pub fn archive(original: &[u8], frame: &FrameHeader) -> Archived {
    match lepton(original) {
        Ok(body) => {
            let mut bytes = Vec::with_capacity(HEADER_LEN + body.len());
            Header::of(original, Body::Lepton, Some(frame)).write(&mut bytes);
            bytes.extend_from_slice(&body);
            Archived {
                bytes,
                body: Body::Lepton,
                stored_because: None,
            }
        }
        Err(why) => Archived {
            bytes: stored(original),
            body: Body::Stored,
            stored_because: Some(why),
        },
    }
}

/// The archive of `original` stored as it is.
pub fn stored(original: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(HEADER_LEN + original.len());
    Header::of(original, Body::Stored, None).write(&mut bytes);
    bytes.extend_from_slice(original);
    bytes
}

/// Lepton's encoding of `original`, verified: decoded again and compared.
fn lepton(original: &[u8]) -> Result<Vec<u8>, ArchiveError> {
    let len = original.len() as u64;
    let encoded = guarded(|| {
        let mut out = io::Cursor::new(Vec::with_capacity(original.len()));
        lepton_jpeg::encode_lepton(
            &mut io::Cursor::new(original),
            &mut out,
            &features(len, MAX_SIDE, MAX_SIDE),
            &SingleThreadPool {},
        )
        .map(|_| out.into_inner())
        .map_err(|e| ArchiveError::Refused(words(&e)))
    })?;
    let decoded = decode(&encoded, len, MAX_SIDE, MAX_SIDE)
        .map_err(|e| ArchiveError::NotReversible(e.to_string()))?;
    if decoded != original {
        let at = decoded
            .iter()
            .zip(original)
            .position(|(a, b)| a != b)
            .unwrap_or(decoded.len().min(original.len()));
        return Err(ArchiveError::NotReversible(format!(
            "{} bytes back for {}, first difference at byte {at}",
            decoded.len(),
            original.len()
        )));
    }
    Ok(encoded)
}

/// Decodes a Lepton body into at most `len` bytes.
fn decode(body: &[u8], len: u64, width: u32, height: u32) -> Result<Vec<u8>, ArchiveError> {
    guarded(|| {
        let mut out = Bounded {
            data: Vec::with_capacity(len.min(1 << 30) as usize),
            cap: len,
        };
        lepton_jpeg::decode_lepton(
            &mut io::Cursor::new(body),
            &mut out,
            &features(len, width, height),
            &SingleThreadPool {},
        )
        .map(|_| out.data)
        .map_err(|e| ArchiveError::Damaged(words(&e)))
    })
}

/// Runs Lepton, turning a panic of its own into an error: a hostile input must fail alone.
fn guarded<T>(f: impl FnOnce() -> Result<T, ArchiveError>) -> Result<T, ArchiveError> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "an internal error".into());
        Err(ArchiveError::Damaged(format!("Lepton stopped: {what}")))
    })
}

/// Lepton's error in words: its message (without the source locations it appends), else its
/// exit code's name.
fn words(err: &lepton_jpeg::LeptonError) -> String {
    let message = err.message().lines().next().unwrap_or("").trim();
    let message = message.strip_prefix("ERROR ").unwrap_or(message);
    if message.is_empty() {
        format!("{:?}", err.exit_code())
    } else {
        format!("{:?}: {message}", err.exit_code())
    }
}

/// A writer that refuses to grow past `cap` bytes: a damaged or hostile body cannot make
/// restoring allocate more than the original's declared length.
struct Bounded {
    data: Vec<u8>,
    cap: u64,
}

impl Write for Bounded {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.data.len() as u64 + buf.len() as u64 > self.cap {
            return Err(io::Error::other(format!(
                "decodes to more than the {} bytes the header declares",
                self.cap
            )));
        }
        self.data.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Restores the original bytes of `archive`, checked against the header's length and
/// SHA-256; an original longer than `cap` bytes is refused before anything is decoded.
pub fn restore(archive: &[u8], cap: u64) -> Result<Vec<u8>, ArchiveError> {
    let header = Header::read(archive)?;
    if header.len > cap {
        return Err(ArchiveError::TooLarge {
            size: header.len,
            cap,
        });
    }
    let body = &archive[HEADER_LEN..];
    let restored = match header.body {
        Body::Stored => body.to_vec(),
        Body::Lepton => {
            guard::check(body, header.len)?;
            decode(body, header.len, header.width, header.height)?
        }
    };
    let got: [u8; 32] = Sha256::digest(&restored).into();
    if restored.len() as u64 != header.len || got != header.sha256 {
        return Err(ArchiveError::Mismatch {
            expected_len: header.len,
            expected: hex(&header.sha256),
            got_len: restored.len() as u64,
            got: hex(&got),
        });
    }
    Ok(restored)
}

/// Whether `archive` (its header, at least) is an archive of exactly `original`: same length
/// and SHA-256 (`--skip-existing`: an archive made from the same bytes is up to date).
pub fn is_archive_of(archive_head: &[u8], original: &[u8]) -> bool {
    Header::read(archive_head).is_ok_and(|h| {
        h.len == original.len() as u64 && h.sha256 == <[u8; 32]>::from(Sha256::digest(original))
    })
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

mod guard;
#[cfg(test)]
mod tests;
