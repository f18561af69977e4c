//! The one-call API for embedders: one JPEG held in memory in, its compressed bytes out, under
//! the same rules as an image of a batch (other formats refused by name, the never-larger
//! rule, the size cap and memory budget, targets, resizing, metadata), with no file, folder
//! or thread pool involved.
use crate::error::{Error, ImageError};
use crate::options::{Method, Options};
use crate::outcome::Outcome;
use crate::outcome::Status;
use crate::photo::compress::{self, Context};

/// One JPEG compressed in memory.
#[derive(Debug, Clone, PartialEq)]
pub struct Compressed {
    /// The output: the re-encoded JPEG, or the input's own bytes when
    /// [`kept_original`](Self::kept_original).
    pub data: Vec<u8>,
    /// The input's size in bytes (as read, for [`crate::compress_file`]).
    pub input_bytes: u64,
    /// Re-encoding was not smaller (or the input is photopress's own output at this quality
    /// or below): `data` is the input, unchanged.
    pub kept_original: bool,
    /// How it was re-encoded: [`Method::Dct`] (the transcoder) or [`Method::Pixel`]; under
    /// an archive or a restore ([`crate::options::Operation`]), [`Method::Archive`] or
    /// [`Method::Restore`] (`data` is then the archive, or the original it held).
    pub method: Option<Method>,
    /// The quality of the output (chosen per image under a target).
    pub quality: Option<u8>,
    /// Its SSIMULACRA 2 score against the input, under a quality target.
    pub score: Option<f64>,
    /// Candidates encoded to choose it, under a target.
    pub candidates: Option<u32>,
    /// Its width and height as displayed, when it was resized.
    pub dimensions: Option<(usize, usize)>,
}

/// Compresses one JPEG held in memory under `options` (the folder, prefix, jobs and other
/// batch-level options are not used). Fails on options that do not hold together
/// ([`Error::Setup`]) and on an input it cannot compress ([`Error::Image`]: not a JPEG, corrupt,
/// too large for the cap or the budget, ...).
///
/// ```
/// use photopress::{Options, compress_bytes};
/// let input = std::fs::read("IMAGES/leaf.jpg")?;
/// let out = compress_bytes(&input, &Options::default())?;
/// assert!(out.data.len() < input.len());
/// assert_eq!(out.quality, Some(30));
///
/// let not_a_jpeg = compress_bytes(b"GIF89a...", &Options::default());
/// assert!(matches!(not_a_jpeg, Err(photopress::Error::Image(_))));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn compress_bytes(input: &[u8], options: &Options) -> Result<Compressed, Error> {
    options.validate()?;
    let ctx = Context::new(options);
    within_cap(input, ctx.input_cap())?;
    Ok(compress_owned(input.to_vec(), &ctx)?)
}

/// [`compress_bytes`] of an input already owned and checked against `ctx`'s cap (options
/// validated): what [`crate::compress_file`] calls with the bytes it read.
pub(crate) fn compress_owned(input: Vec<u8>, ctx: &Context<'_>) -> Result<Compressed, ImageError> {
    let input_bytes = input.len() as u64;
    let mut outcome = Outcome::new(Default::default(), Default::default(), String::new());
    let (data, status) = compress::produce(input, ctx, &mut outcome)?;
    let kept_original = matches!(status, Status::KeptOriginal);
    Ok(Compressed {
        data,
        input_bytes,
        kept_original,
        method: outcome.method,
        quality: outcome.quality,
        score: outcome.score,
        candidates: outcome.candidates,
        dimensions: outcome.dimensions,
    })
}

/// Refuses an input held in memory that is empty or larger than `cap` bytes (the size cap
/// and the budget: `Context::input_cap`), as a file of that size is refused.
pub(crate) fn within_cap(input: &[u8], cap: u64) -> Result<(), ImageError> {
    if input.len() as u64 > cap {
        return Err(ImageError::TooLarge {
            size: input.len() as u64,
            cap,
        });
    }
    if input.is_empty() {
        return Err(ImageError::Empty);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf() -> Vec<u8> {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/IMAGES/leaf.jpg");
        std::fs::read(path).unwrap_or_default()
    }

    #[test]
    fn a_photo_comes_out_smaller_and_decodes_at_its_size() {
        let input = leaf();
        let out = compress_bytes(&input, &Options::default()).expect("leaf.jpg compresses");
        assert!(!out.kept_original);
        assert!(out.data.len() * 4 < input.len(), "{} bytes", out.data.len());
        let before = crate::jpeg::header::read_frame(&input).expect("input header");
        let after = crate::jpeg::header::read_frame(&out.data).expect("output header");
        assert_eq!((after.width, after.height), (before.width, before.height));
        assert_eq!(out.quality, Some(30));
        assert!(out.method.is_some());
        // Our own output at the same quality: its bytes are kept as they are.
        let again = compress_bytes(&out.data, &Options::default()).expect("again");
        assert!(again.kept_original);
        assert_eq!(again.data, out.data);
    }

    #[test]
    fn bad_inputs_and_options_are_typed_errors() {
        let options = Options::default();
        assert!(matches!(
            compress_bytes(b"", &options),
            Err(Error::Image(ImageError::Empty))
        ));
        assert!(matches!(
            compress_bytes(b"\x89PNG\r\n\x1a\n....", &options),
            Err(Error::Image(ImageError::OtherFormat(_)))
        ));
        let small = Options {
            max_file_size: 1000,
            ..Options::default()
        };
        assert!(matches!(
            compress_bytes(&leaf(), &small),
            Err(Error::Image(ImageError::TooLarge { cap: 1000, .. }))
        ));
        let bad = Options {
            quality: 0,
            ..Options::default()
        };
        assert!(matches!(
            compress_bytes(&leaf(), &bad),
            Err(Error::Setup(crate::error::SetupError::InvalidQuality(0)))
        ));
    }
}
