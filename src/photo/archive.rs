//! One photo archived or restored under the run's rules (`Operation::Archive`,
//! `Operation::Restore`): the memory budget reserved, what Lepton cannot hold stored as it
//! is (with a WARN line) or failed under `archive_strict`, restores checked, and
//! `--skip-existing`'s test of an archive or a restored file (by content, not by date).
use std::fs;
use std::io::Read;
use std::path::Path;

use tracing::warn;

use crate::archive::{self, ArchiveError, Body, HEADER_LEN, Header};
use crate::error::ImageError;
use crate::jpeg::{header, sniff};
use crate::memory::Budget;
use crate::names::{Setting, name};
use crate::options::{Method, Operation, Options};
use crate::outcome::{Outcome, Status};
use crate::photo::provenance::Stale;

/// Makes the archive of `input` (a JPEG held in memory): the output's bytes and its status,
/// `Compressed` for a verified Lepton archive, `KeptOriginal` for the original stored as it is.
pub fn archive_one(
    input: &[u8],
    budget: &Budget,
    options: &Options,
    outcome: &mut Outcome,
) -> Result<(Vec<u8>, Status), ImageError> {
    if let Some(format) = sniff::other_format(input) {
        return Err(ImageError::OtherFormat(format));
    }
    let frame = header::read_frame(input).map_err(|e| ImageError::Decode(e.to_string()))?;
    let needed = archive::archive_memory(&frame, input.len() as u64);
    let reservation = budget.reserve(needed).ok_or(ImageError::OverBudget {
        needed,
        budget: budget.limit(),
    })?;
    let made = archive::archive(input, &frame);
    drop(reservation);
    outcome.method = Some(Method::Archive);
    match (made.body, made.stored_because) {
        (Body::Lepton, _) if made.bytes.len() < input.len() + HEADER_LEN => {
            outcome.verified = Some(true);
            Ok((made.bytes, Status::Compressed))
        }
        (Body::Lepton, _) => {
            // Lepton's form is not smaller than the original stored: the original it is.
            outcome.verified = Some(true);
            Ok((archive::stored(input), Status::KeptOriginal))
        }
        (Body::Stored, why) => {
            let why = why.map_or_else(|| "no reason given".to_string(), |w| w.to_string());
            if options.archive_strict {
                return Err(ImageError::Archive(format!(
                    "not archived ({}): {why}",
                    name(Setting::ArchiveStrict)
                )));
            }
            warn!(
                target: "CompressOneImage",
                "{}: stored as it is in its archive, not compressed: {why}",
                outcome.input.display()
            );
            outcome.verified = Some(true);
            Ok((made.bytes, Status::KeptOriginal))
        }
    }
}

/// Restores the original bytes of the archive `input`, checked against its header's length and
/// SHA-256; an original larger than `cap` is refused before anything is decoded.
pub fn restore_one(
    input: &[u8],
    cap: u64,
    budget: &Budget,
    outcome: &mut Outcome,
) -> Result<Vec<u8>, ImageError> {
    let header = Header::read(input).map_err(archive_error)?;
    let needed = header.restore_memory();
    let reservation = budget.reserve(needed).ok_or(ImageError::OverBudget {
        needed,
        budget: budget.limit(),
    })?;
    let restored = archive::restore(input, cap).map_err(archive_error)?;
    drop(reservation);
    outcome.method = Some(Method::Restore);
    outcome.verified = Some(true);
    Ok(restored)
}

fn archive_error(err: ArchiveError) -> ImageError {
    ImageError::Archive(err.to_string())
}

/// `--skip-existing` for archives and restores: whether `output` already holds what this run
/// would write for `input` — an archive of exactly the input's bytes (same length and SHA-256,
/// whatever its date), or the restored original its archive's header describes. Returns the
/// input's and the output's sizes.
pub fn up_to_date(input: &Path, output: &Path, options: &Options) -> Result<(u64, u64), Stale> {
    let out = fs::symlink_metadata(output).map_err(|_| Stale::Missing)?;
    if !out.is_file() {
        return Err(Stale::NotAFile);
    }
    let inp = fs::metadata(input).map_err(|_| Stale::Missing)?;
    if inp.len() > options.max_file_size {
        return Err(Stale::Missing);
    }
    let sizes = (inp.len(), out.len());
    let same = match options.operation {
        Operation::Archive => {
            let head = read_head(output)?;
            let original = fs::read(input).map_err(|_| Stale::Missing)?;
            archive::is_archive_of(&head, &original)
        }
        Operation::Restore => {
            let head = read_head(input)?;
            let restored = fs::read(output).map_err(|_| Stale::Missing)?;
            archive::is_archive_of(&head, &restored)
        }
        Operation::Compress => false,
    };
    if same {
        Ok(sizes)
    } else {
        Err(Stale::OtherContent)
    }
}

/// The first [`HEADER_LEN`] bytes of a file (fewer when it is shorter).
fn read_head(path: &Path) -> Result<Vec<u8>, Stale> {
    let mut head = Vec::with_capacity(HEADER_LEN);
    fs::File::open(path)
        .and_then(|f| f.take(HEADER_LEN as u64).read_to_end(&mut head))
        .map_err(|_| Stale::Missing)?;
    Ok(head)
}
