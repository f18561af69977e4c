//! Typed errors of the library. Per-image errors are outcomes (the batch goes on); setup errors
//! stop the run before any work (the command line turns them into exit code 2).
use std::io;
use std::path::PathBuf;

/// Why one image could not be compressed. Carried in that image's [`crate::Outcome`].
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("cannot read the file: {0}")]
    Read(#[source] io::Error),
    #[error("the file is empty")]
    Empty,
    #[error("not a regular file ({0}): only regular files are read")]
    NotRegularFile(&'static str),
    #[error(
        "the file is {size} bytes, more than the {cap} bytes an input may be (--max-file-size, and within the --max-memory budget)"
    )]
    TooLarge { size: u64, cap: u64 },
    #[error("not a valid JPEG: {0}{hint}", hint = truncation_hint(.0))]
    Decode(String),
    /// Another format under a JPEG's name (sniffed by `jpeg::sniff`).
    #[error("is {0} file (photopress compresses JPEG)")]
    OtherFormat(&'static str),
    /// Named on the command line without a JPEG extension, and not starting like a JPEG.
    #[error(
        "not a JPEG: it does not start with a JPEG's bytes (FF D8 FF), and its name does not end in .jpg, .jpeg, .jfif or .jpe"
    )]
    NotJpegContent,
    #[error("is a symlink to {}, which does not exist", .0.display())]
    DanglingLink(PathBuf),
    #[error("unsupported JPEG: {0}")]
    Unsupported(String),
    #[error("encoding failed: {0}")]
    Encode(String),
    #[error("needs about {} MiB of memory, more than the {} MiB budget (--max-memory)", needed >> 20, budget >> 20)]
    OverBudget { needed: u64, budget: u64 },
    #[error("cannot create the output folder {}: {message}", path.display())]
    OutputDir { path: PathBuf, message: String },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// `--target-size`: the output at quality 1, as measured, is over the limit.
    #[error("does not fit in {} ({limit} bytes) even at quality 1, which makes {} ({at_quality_1} bytes); a smaller size needs fewer pixels", crate::human::size(*limit), crate::human::size(*at_quality_1))]
    DoesNotFit { limit: u64, at_quality_1: u64 },
    #[error("{0}")]
    Scan(String),
    #[error("{0}")]
    Storage(#[from] crate::storage::StorageError),
}

/// libjpeg's and the transcoder's words for a file that ends early, and what to do about it.
fn truncation_hint(message: &str) -> &'static str {
    if message.contains("Premature end") {
        " (the file ends early: an incomplete copy or download? --accept-truncated keeps what can be decoded)"
    } else {
        ""
    }
}

impl ImageError {
    /// The error of a failed read of `path`: a dangling symlink says where it points.
    pub fn read(path: &std::path::Path, err: io::Error) -> Self {
        if err.kind() == io::ErrorKind::NotFound
            && let Ok(target) = std::fs::read_link(path)
        {
            return ImageError::DanglingLink(target);
        }
        ImageError::Read(err)
    }
}

/// A problem with the run as a whole, found before any image is touched.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("input {} does not exist", .0.display())]
    MissingInput(PathBuf),
    #[error("cannot read input {}: {source}", path.display())]
    UnreadableInput {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("output {} exists and is not a directory", .0.display())]
    OutputNotADirectory(PathBuf),
    #[error("output {} would overwrite input {}; choose another --output or --prefix", output.display(), input.display())]
    WouldOverwriteInput { input: PathBuf, output: PathBuf },
    #[error(
        "invalid --prefix {0:?}: it is the start of a file name, so it cannot contain '/', '\\' or NUL, nor be '.' or '..'"
    )]
    InvalidPrefix(String),
    #[error("cannot write to the output folder {}: {message}", path.display())]
    OutputNotWritable { path: PathBuf, message: String },
    #[error("{0}")]
    Targets(String),
    #[error("quality must be between 1 and 100, got {0}")]
    InvalidQuality(u8),
    #[error("cannot start the worker threads: {0}")]
    ThreadPool(String),
    #[error("object storage: {0}")]
    Storage(String),
    #[error("cannot write to the output {url}: {message}")]
    OutputBucket { url: String, message: String },
    #[error(
        "--keys-from takes exactly one INPUT (the folder or prefix the keys are relative to), not {0}"
    )]
    KeysNeedOneInput(usize),
    #[error("{0}")]
    Usage(String),
}

/// Any error of the library's one-call API ([`crate::compress_bytes`]).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The options do not hold together.
    #[error(transparent)]
    Setup(#[from] SetupError),
    /// The image could not be compressed.
    #[error(transparent)]
    Image(#[from] ImageError),
}
