//! Typed errors of the library. Per-image errors are outcomes (the batch goes on); setup errors
//! stop the run before any work (the command line turns them into exit code 2).
use std::io;
use std::path::PathBuf;

/// Why one image could not be compressed. Carried in that image's outcome.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// Opening or reading the input failed (a local file, or the standard input).
    #[error("cannot read the file: {0}")]
    Read(#[source] io::Error),
    /// The input has no bytes (a file, an object, the standard input or a buffer).
    #[error("the file is empty")]
    Empty,
    /// The input is a folder, FIFO, socket or device (the text says which), also behind a
    /// symlink; it is refused without being read.
    #[error("not a regular file ({0}): only regular files are read")]
    NotRegularFile(&'static str),
    /// The input is larger than the input cap: `--max-file-size`, or the `--max-memory`
    /// budget when that is smaller.
    #[error(
        "the file is {size} bytes, more than the {cap} bytes an input may be ({}, and within the {} budget)",
        crate::names::name(crate::names::Setting::MaxFileSize),
        crate::names::name(crate::names::Setting::MaxMemory)
    )]
    TooLarge {
        /// The input's size in bytes (of a file that grew while read: what was read, one byte
        /// over the cap).
        size: u64,
        /// The largest input accepted, in bytes.
        cap: u64,
    },
    /// The input is not a decodable JPEG (bad markers or tables, data that ends early): the
    /// text is libjpeg's, the transcoder's or the header reader's.
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
    /// The input is a symlink whose target (the path held) does not exist.
    #[error("is a symlink to {}, which does not exist", .0.display())]
    DanglingLink(PathBuf),
    /// A JPEG that photopress does not handle: a feature libjpeg refuses, more pixels than
    /// `jpeg::pixel::MAX_PIXELS`, a picture too small for `--target-quality`, a file
    /// `--lossless` cannot keep, or too little memory for its pixels.
    #[error("unsupported JPEG: {0}")]
    Unsupported(String),
    /// An archive could not be made (under `archive_strict`) or restored: the cause, in the
    /// archive format's words.
    #[error("{0}")]
    Archive(String),
    /// Writing the new JPEG failed in libjpeg, in the resizer, or in the metric's comparison
    /// of a candidate with the input.
    #[error("encoding failed: {0}")]
    Encode(String),
    /// The image's estimated working memory is more than the whole `--max-memory` budget, so it
    /// can never run within it.
    #[error("needs about {} MiB of memory, more than the {} MiB budget ({})", needed >> 20, budget >> 20, crate::names::name(crate::names::Setting::MaxMemory))]
    OverBudget {
        /// The estimate for this image in bytes: decoding, encoding (and resizing or scoring,
        /// when asked) plus the input's bytes.
        needed: u64,
        /// The `--max-memory` budget in bytes.
        budget: u64,
    },
    /// The output folder, or the sub-folder an output goes in, could not be created.
    #[error("cannot create the output folder {}: {message}", path.display())]
    OutputDir {
        /// The folder that could not be created.
        path: PathBuf,
        /// The operating system's reason.
        message: String,
    },
    /// Writing the output failed: the local file (its temporary file, the rename, the sync)
    /// or the standard output.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The output being written (`<stdout>` for the standard output).
        path: PathBuf,
        /// The failed write's error.
        #[source]
        source: io::Error,
    },
    /// `--target-size`: the output at quality 1, as measured, is over the limit.
    #[error("does not fit in {} ({limit} bytes) even at quality 1, which makes {} ({at_quality_1} bytes); a smaller size needs fewer pixels", crate::human::size(*limit), crate::human::size(*at_quality_1))]
    DoesNotFit {
        /// The `--target-size` limit for this image in bytes (a percentage already applied to
        /// the input's size).
        limit: u64,
        /// The output's size at quality 1, in bytes.
        at_quality_1: u64,
    },
    /// A problem the scan found before the image was read (an unreadable folder, an output
    /// taken by another input, an invalid key); the text is the job's `problem`.
    #[error("{0}")]
    Scan(String),
    /// Downloading the input object or uploading its output failed.
    #[error("{0}")]
    Storage(#[from] crate::storage::StorageError),
}

/// libjpeg's and the transcoder's words for a file that ends early, and what to do about it.
fn truncation_hint(message: &str) -> String {
    if message.contains("Premature end") {
        format!(
            " (the file ends early: an incomplete copy or download? {} keeps what can be decoded)",
            crate::names::name(crate::names::Setting::AcceptCorrupt)
        )
    } else {
        String::new()
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
    /// An input named on the command line does not exist (a dangling symlink fails as that
    /// file's error instead).
    #[error("input {} does not exist", .0.display())]
    MissingInput(PathBuf),
    /// An input named on the command line cannot be examined, or, a folder, cannot be listed.
    #[error("cannot read input {}: {source}", path.display())]
    UnreadableInput {
        /// The input as named.
        path: PathBuf,
        /// The failed call's error.
        #[source]
        source: io::Error,
    },
    /// The local output folder (`--output`, the path held) exists and is not a folder.
    #[error("output {} exists and is not a directory", .0.display())]
    OutputNotADirectory(PathBuf),
    /// An output path is an input's own file, directly or through a symlink: the run stops
    /// rather than overwrite it.
    #[error("output {} would overwrite input {}; choose another {} or {}", output.display(), input.display(), crate::names::name(crate::names::Setting::Output), crate::names::name(crate::names::Setting::Prefix))]
    WouldOverwriteInput {
        /// The input that would be overwritten.
        input: PathBuf,
        /// The output path that lands on it.
        output: PathBuf,
    },
    /// `--prefix` (the text held) contains `/`, `\` or NUL, or is `.` or `..`.
    #[error(
        "invalid {flag} {0:?}: it is the start of a file name, so it cannot contain '/', '\\' or NUL, nor be '.' or '..'",
        flag = crate::names::name(crate::names::Setting::Prefix)
    )]
    InvalidPrefix(String),
    /// The local output folder cannot be written (a probe file cannot be made in it, or its
    /// nearest existing ancestor is not writable), or a shard plan's folder cannot be created.
    #[error("cannot write to the output folder {}: {message}", path.display())]
    OutputNotWritable {
        /// The folder.
        path: PathBuf,
        /// The operating system's reason.
        message: String,
    },
    /// Options that cannot be combined: `--target-quality` with `--target-size` or resizing,
    /// `--min-savings` with `--allow-larger`, `--lossless` with a target or resizing. The text
    /// says which.
    #[error("{0}")]
    Targets(String),
    /// The quality (`-q`, the value held) is outside 1..=100; only a library caller can set
    /// it so, the command line refuses it first.
    #[error("quality must be between 1 and 100, got {0}")]
    InvalidQuality(u8),
    /// The rayon pool of `--jobs` worker threads could not be built.
    #[error("cannot start the worker threads: {0}")]
    ThreadPool(String),
    /// Connecting to a bucket or listing an input prefix failed, a bucket input has no
    /// connection, or a shard plan's files could not be written (locally too).
    #[error("object storage: {0}")]
    Storage(String),
    /// The output prefix cannot be written: a small probe object (`_photopress/.probe-PID`)
    /// could not be put and deleted before the run.
    #[error("cannot write to the output {url}: {message}")]
    OutputBucket {
        /// The output prefix, `s3://bucket/prefix`.
        url: String,
        /// Why: the bucket does not exist, permission is denied, or the storage error's text.
        message: String,
    },
    /// `--keys-from` was given with no INPUT or several (the count held).
    #[error(
        "{flag} takes exactly one INPUT (the folder or prefix the keys are relative to), not {0}",
        flag = crate::names::name(crate::names::Setting::KeysFrom)
    )]
    KeysNeedOneInput(usize),
    /// Other wrong arguments, the text saying which: a bad resize, a bad `--exclude` glob, an
    /// unreadable `--keys-from` list, a bucket input that is not the only INPUT, a
    /// `--shard-count` of 0.
    #[error("{0}")]
    Usage(String),
}

/// A storage failure before any image: its message, naming the address.
impl From<crate::storage::StorageError> for SetupError {
    fn from(err: crate::storage::StorageError) -> Self {
        SetupError::Storage(err.to_string())
    }
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
