//! Why the transcoder did not produce an output: not covered (the pixel path can take the
//! input) or invalid. Every module of the transcoder refuses with it.
use crate::error::ImageError;

/// Why the transcoder did not produce an output.
#[derive(Debug)]
pub enum Refusal {
    /// The input is one the transcoder does not cover; the pixel path can take it.
    NotCovered(String),
    /// The input is not a valid JPEG (or cannot be processed at all).
    Invalid(ImageError),
}

impl Refusal {
    pub(super) fn corrupt(message: impl Into<String>) -> Self {
        Refusal::Invalid(ImageError::Decode(message.into()))
    }

    pub(super) fn unsupported(message: impl Into<String>) -> Self {
        Refusal::NotCovered(message.into())
    }

    /// Corrupt data: an error when `strict`, else noted (`--accept-corrupt`, see
    /// `jpeg::corruption`) and gone past.
    pub(super) fn unless_lenient(strict: bool, message: String) -> Result<(), Refusal> {
        if strict {
            return Err(Refusal::corrupt(message));
        }
        crate::jpeg::corruption::note(message);
        Ok(())
    }

    pub(super) fn no_memory() -> Self {
        Refusal::Invalid(ImageError::Unsupported(
            "not enough memory for the image".into(),
        ))
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::NotCovered(why) => write!(f, "not covered by the transcoder: {why}"),
            Refusal::Invalid(err) => err.fmt(f),
        }
    }
}
