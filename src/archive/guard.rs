//! A check of a Lepton stream's own header before Lepton reads it. Lepton (`lepton_jpeg`
//! 0.5.8) sizes four buffers from 32-bit counts inside its zlib-compressed header and fills
//! them with zeros *before* reading their bytes: a hostile `.lep` of 300 bytes made it allocate
//! and touch 3.35 GB (found by fuzzing `restore`). This walks the same header — the fixed 28
//! bytes, then the compressed part, decompressed here within a bound — and refuses any count
//! larger than the bytes that follow it, so that Lepton only ever allocates what the file
//! holds. It parses nothing else: Lepton remains the one reader of its format; this only
//! bounds it.
use std::io::Read;

use super::ArchiveError;

/// Lepton's fixed header: magic, version, type, streams, reserved and revision, then the
/// original's size and the compressed header's size (little-endian u32 at 20 and 24).
const FIXED: usize = 28;

/// The decompressed header holds the JPEG's own header, restart counts and errors, and the
/// bytes after its end: never more than the original itself, plus this margin.
const MARGIN: u64 = 64 << 10;

/// Checks the Lepton stream `body` of an original of `original_len` bytes.
pub fn check(body: &[u8], original_len: u64) -> Result<(), ArchiveError> {
    let damaged = |why: &str| ArchiveError::Damaged(format!("Lepton header: {why}"));
    let fixed = body.get(..FIXED).ok_or_else(|| damaged("cut short"))?;
    let compressed = u32_at(fixed, 24) as usize;
    let zipped = body
        .get(FIXED..FIXED + compressed)
        .ok_or_else(|| damaged("its compressed part is longer than the file"))?;
    let limit = original_len.saturating_add(MARGIN);
    let mut header = Vec::new();
    flate2::read::ZlibDecoder::new(zipped)
        .take(limit + 1)
        .read_to_end(&mut header)
        .map_err(|e| damaged(&format!("its compressed part does not inflate ({e})")))?;
    if header.len() as u64 > limit {
        return Err(damaged("larger than the original it describes"));
    }
    walk(&header).map_err(damaged)
}

/// Walks the decompressed header's sections as Lepton reads them, checking each count
/// against the bytes left.
fn walk(header: &[u8]) -> Result<(), &'static str> {
    let mut at = Cursor {
        data: header,
        at: 0,
    };
    if at.take(3)? != b"HDR" {
        return Err("no HDR section");
    }
    let n = at.u32()? as usize;
    at.take(n)?;
    while at.at < header.len() {
        let marker = at.take(3)?;
        match marker {
            b"P0D" => {
                at.take(1)?;
            }
            b"CRS" => {
                let n = at.u32()? as usize;
                at.take(n.checked_mul(4).ok_or("restart count overflows")?)?;
            }
            [b'H', b'H', n] => {
                // Per thread: u16 start row, u32 size, 2 overhang bytes, 4 i16 DCs.
                at.take(usize::from(*n) * 16)?;
            }
            b"FRS" | b"GRB" => {
                let n = at.u32()? as usize;
                at.take(n)?;
            }
            b"EEE" => {
                at.take(7 * 4)?;
            }
            _ => return Err("an unknown section"),
        }
    }
    Ok(())
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(b)
}

struct Cursor<'a> {
    data: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], &'static str> {
        let end = self.at.checked_add(n).ok_or("a count overflows")?;
        let bytes = self
            .data
            .get(self.at..end)
            .ok_or("a count is larger than the bytes that follow it")?;
        self.at = end;
        Ok(bytes)
    }

    fn u32(&mut self) -> Result<u32, &'static str> {
        Ok(u32_at(self.take(4)?, 0))
    }
}
