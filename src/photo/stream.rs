//! One JPEG from a stream to a stream (`photopress -`: stdin to stdout), with the batch's rules
//! for one image: the size cap, other formats refused by name, the never-larger rule.
use std::io::{Read, Write};
use std::path::PathBuf;
use std::time::Instant;

use crate::error::ImageError;
use crate::options::Options;
use crate::outcome::{Outcome, Status};
use crate::photo::compress::{self, Context};

/// The name a stream input goes by in messages and reports.
pub const STDIN_NAME: &str = "<stdin>";
/// The name a stream output goes by.
pub const STDOUT_NAME: &str = "<stdout>";

/// Reads one JPEG from `reader` (at most `options.max_file_size` bytes, and the memory
/// budget), re-encodes it and writes the result to `writer`. The outcome says what was done;
/// on an error, nothing was written.
pub fn compress_stream(reader: impl Read, writer: &mut impl Write, options: &Options) -> Outcome {
    let clock = Instant::now();
    let mut outcome = Outcome::new(
        PathBuf::from(STDIN_NAME),
        PathBuf::from(STDOUT_NAME),
        STDIN_NAME.to_string(),
    );
    let ctx = Context::new(options);
    outcome.status = match run(reader, writer, &ctx, &mut outcome) {
        Ok(status) => status,
        Err(err) => {
            outcome.method = None;
            Status::Failed(err)
        }
    };
    outcome.duration = clock.elapsed();
    outcome
}

fn run(
    reader: impl Read,
    writer: &mut impl Write,
    ctx: &Context<'_>,
    outcome: &mut Outcome,
) -> Result<Status, ImageError> {
    let cap = ctx.input_cap();
    let mut input = Vec::new();
    reader
        .take(cap.saturating_add(1))
        .read_to_end(&mut input)
        .map_err(ImageError::Read)?;
    outcome.input_bytes = input.len() as u64;
    crate::photo::bytes::within_cap(&input, cap)?;
    let (data, status) = compress::produce(input, ctx, outcome)?;
    writer
        .write_all(&data)
        .and_then(|()| writer.flush())
        .map_err(|source| ImageError::Write {
            path: PathBuf::from(STDOUT_NAME),
            source,
        })?;
    outcome.output_bytes = data.len() as u64;
    Ok(status)
}
