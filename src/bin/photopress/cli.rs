//! The command-line arguments, and their translation into [`photopress::Options`].
use photopress::names::Setting;
use std::ffi::OsString;
use std::path::PathBuf;

use super::progress::ProgressMode;
use clap::builder::TypedValueParser;
use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};
use photopress::Options;
use photopress::jpeg::resize::{MAX_SIDE, Resize};
use photopress::options::{DEFAULT_INPUT, DEFAULT_OUTPUT};
use photopress::options::{Method, Operation};
use tracing::Level;

/// Compress every JPEG photo of a folder in parallel, and report exactly what it saved.
#[derive(Debug, Parser)]
#[command(name = "photopress", version, about, long_about = None, after_help = EXIT_CODES)]
#[command(args_conflicts_with_subcommands = true)]
#[command(group(clap::ArgGroup::new("size_limit").multiple(true).args(["long_edge", "width", "height"])))]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Folders and/or JPEG files to compress [default: IMAGES], or one bucket prefix
    /// s3://bucket/prefix (or gs://bucket/prefix, az://container/prefix). From folders: files named .jpg/.jpeg/.jfif/.jpe (any case), hidden
    /// ones left out; a file named here is taken whatever its name when its content is a JPEG.
    /// '-' alone reads one JPEG from stdin and writes the result to stdout
    #[arg(value_name = "INPUT")]
    pub inputs: Vec<OsString>,

    /// Folder (created if missing) or bucket prefix (s3://, gs://, az://) to write the
    /// compressed images to
    #[arg(short, long, value_name = "DIR", default_value = DEFAULT_OUTPUT)]
    pub output: OsString,

    /// Split the inputs into N shards by a hash of their keys, and do one (array jobs);
    /// writes a manifest under the output and skips what an earlier run of the shard did
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub shard_count: Option<u64>,

    /// The shard to do, 0-based [default: $SLURM_ARRAY_TASK_ID, $JOB_COMPLETION_INDEX or
    /// $AWS_BATCH_JOB_ARRAY_INDEX]
    #[arg(long, value_name = "K", requires = "shard_count")]
    pub shard_index: Option<u64>,

    /// Read the keys to do (relative to the one INPUT) from this list instead of listing the
    /// input: a file or a bucket object (s3://, gs://, az://), one key a line (what `photopress plan` writes)
    #[arg(long, value_name = "FILE")]
    pub keys_from: Option<OsString>,

    /// JPEG quality, 1 (smallest) to 100 (best) [default: 30; with --target-quality or
    /// --target-size, the highest quality the search may choose, default 95]
    #[arg(short, long, value_name = "N", value_parser = clap::value_parser!(u8).range(1..=100))]
    pub quality: Option<u8>,

    /// Per image, the lowest quality (up to -q, or a little above it) whose output still scores
    /// SCORE against the input: ssimulacra2:SCORE (or just SCORE), 100 identical, 90 visually lossless, 70 high,
    /// 50 medium. Several candidates are encoded and scored per image: slower
    #[arg(long, value_name = "METRIC:SCORE", value_parser = photopress::options::target::parse_quality_target,
          conflicts_with_all = ["target_size", "size_limit"])]
    pub target_quality: Option<photopress::options::target::QualityTarget>,

    /// Per image, the highest quality (up to -q) whose output fits SIZE: bytes (500K, 2M) or a
    /// share of the input (40%); an image that does not fit even at quality 1 fails
    #[arg(long, value_name = "SIZE|PCT", value_parser = photopress::options::target::parse_size_limit)]
    pub target_size: Option<photopress::options::target::SizeLimit>,

    /// Keep the original (kept-original) when re-encoding saves less than this: bytes (20K)
    /// or a share of the input (5%)
    #[arg(long, value_name = "SIZE|PCT", value_parser = photopress::options::target::parse_size_limit,
          conflicts_with = "allow_larger")]
    pub min_savings: Option<photopress::options::target::SizeLimit>,

    /// Worker threads [default: one per core]
    #[arg(short, long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=4096))]
    pub jobs: Option<u16>,

    /// Compress one image after another on the main thread, with no thread pool
    #[arg(long, conflicts_with = "jobs")]
    pub sequential: bool,

    /// Prefix of each output file name ('' keeps the input's name); no '/', '\\', NUL, '.' or '..'
    /// [default: compressed_; for restore: '']
    #[arg(long, value_name = "TEXT", value_parser = clap::builder::OsStringValueParser::new().try_map(parse_prefix))]
    pub prefix: Option<OsString>,

    /// Walk sub-folders too, mirroring the tree under the output folder
    #[arg(short, long)]
    pub recursive: bool,

    /// In folders, take hidden files and folders too (names starting with '.'); macOS '._*'
    /// files and NAS/Windows system entries (@eaDir, #recycle, Thumbs.db) are always skipped
    #[arg(long)]
    pub hidden: bool,

    /// Leave out the inputs whose path below their INPUT (sub/x.jpg) or file name matches this
    /// glob (repeatable): --exclude '*_thumb.jpg' --exclude 'raw/**'
    #[arg(long, value_name = "GLOB", value_parser = parse_glob)]
    pub exclude: Vec<String>,

    /// Drop EXIF, XMP, IPTC and comments (the EXIF orientation is applied to the pixels)
    #[arg(long)]
    pub strip: bool,

    /// Drop the ICC colour profile too (colours of wide-gamut photos will change)
    #[arg(long)]
    pub strip_icc: bool,

    /// Resize so that the longer side is at most N pixels (aspect kept; sizes are as displayed,
    /// after the EXIF orientation; never enlarged without --upscale)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_SIDE)))]
    pub long_edge: Option<u32>,

    /// Resize so that the displayed width is at most N pixels (aspect kept; with --long-edge
    /// or --height, the image fits within all of them)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_SIDE)))]
    pub width: Option<u32>,

    /// Resize so that the displayed height is at most N pixels (aspect kept)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_SIDE)))]
    pub height: Option<u32>,

    /// Enlarge images smaller than --long-edge/--width/--height until they meet one
    #[arg(long, requires = "size_limit")]
    pub upscale: bool,

    /// Keep the re-encoded file even when it is not smaller than the original (a resized
    /// output is always kept: the original has another size)
    #[arg(long)]
    pub allow_larger: bool,

    /// Leave alone the outputs that are up to date: not older than their input, and made at
    /// this --quality with the same --method, --best, --strip, --strip-icc, --extended,
    /// --accept-corrupt, --progressive, --lossless, targets and resize limits (others are
    /// redone, with a line saying why)
    #[arg(long)]
    pub skip_existing: bool,

    /// Keep each input's modification and access times on its output
    #[arg(short, long)]
    pub preserve: bool,

    /// Compress what can be decoded of truncated or corrupt JPEGs instead of failing them
    /// (each with a WARN line naming the corruption; never kept as the original bytes). The
    /// old name --accept-truncated still works
    #[arg(long, alias = "accept-truncated")]
    pub accept_corrupt: bool,

    /// Smallest files: trellis quantization (mozjpeg's, on the input's coefficients; on the
    /// pixels under --method pixel), mozjpeg's --best tables and progressive scans (slower)
    #[arg(long)]
    pub best: bool,

    /// How to re-encode: dct requantizes the coefficients without decoding to pixels (twice as
    /// fast; keeps the input's chroma subsampling), pixel decodes and encodes again; auto takes
    /// dct for the YCbCr and grayscale photos it can write as 4:2:0, pixel for the rest
    #[arg(long, value_enum, value_name = "HOW", default_value_t = MethodArg::Auto)]
    pub method: MethodArg,

    /// Memory budget for the images in progress (e.g. 2G, 512M; 0: none)
    /// [default: half the available memory]
    #[arg(long, value_name = "SIZE", value_parser = photopress::memory::parse_size)]
    pub max_memory: Option<u64>,

    /// Flush each output to disk (fsync) before renaming it into place, and its folder after
    #[arg(long)]
    pub fsync: bool,

    /// Allow 16-bit quantization tables below quality 24 (extended-sequential JPEG, which some
    /// decoders refuse); by default tables are clamped and every output is baseline
    #[arg(long)]
    pub extended: bool,

    /// Progressive outputs: smaller (about 5 % at quality 30 with the dct method) and shown
    /// coarse-to-fine while loading, slower to decode; default: baseline
    #[arg(long)]
    pub progressive: bool,

    /// Optimize only, like jpegtran -optimize: keep each photo's coefficients and quantization
    /// tables (identical pixels) and redo the Huffman coding (with --progressive: progressive
    /// scans); inputs it cannot take (arithmetic-coded, 12-bit, CMYK, RGB-coded) fail
    #[arg(long, conflicts_with_all = ["quality", "method", "best", "extended", "target_quality", "target_size", "size_limit"])]
    pub lossless: bool,

    /// Reversible archive: store each JPEG as <prefix><name>.lep with Lepton, about 22 %
    /// smaller, every bit kept (restore with `photopress restore`). Each archive is decoded
    /// again and compared with its original before it counts; a file Lepton cannot hold
    /// exactly is stored as it is in its .lep, with a WARN line. A .lep is not an image
    #[arg(long, conflicts_with_all = ARCHIVE_CONFLICTS)]
    pub archive: bool,

    /// With --archive: fail a file Lepton cannot hold exactly instead of storing it as it is
    #[arg(long, requires = "archive")]
    pub archive_strict: bool,

    /// (What `photopress restore` runs: .lep archives back into their original JPEGs.)
    #[arg(long, hide = true, conflicts_with_all = ARCHIVE_CONFLICTS, conflicts_with = "archive")]
    pub restore: bool,

    /// (What `photopress event` runs: the objects an event notification names.)
    #[arg(long, hide = true, conflicts_with_all = ["keys_from", "shard_count", "dry_run", "restore"])]
    pub event: bool,

    /// With `photopress event`: the file holding the event's JSON ('-' or none: stdin)
    #[arg(long, value_name = "FILE", requires = "event")]
    pub payload: Option<OsString>,

    /// Inputs larger than this fail without being read (e.g. 100M, 1G)
    #[arg(long, value_name = "SIZE", default_value = "512M", value_parser = photopress::memory::parse_size)]
    pub max_file_size: u64,

    /// Print the report as one JSON document instead of text
    #[arg(long)]
    pub json: bool,

    /// Print one JSON object per file as it finishes (the --json report's files), flushed
    /// line by line, then one line {"totals": {...}}
    #[arg(long, conflicts_with = "json")]
    pub json_lines: bool,

    /// List what would be done (each input, its size, its output, whether --skip-existing
    /// would skip it) and the total input size; write nothing
    #[arg(short = 'n', long)]
    pub dry_run: bool,

    /// When to draw a progress bar on stderr
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ProgressArg::Auto)]
    pub progress: ProgressArg,

    /// Log warnings and errors only
    #[arg(long, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Log more (-v: debug, -vv: trace); RUST_LOG overrides both
    #[arg(short, long, action = ArgAction::Count)]
    pub verbose: u8,
}

/// What an archive or a restore cannot be combined with: every option that changes bytes.
const ARCHIVE_CONFLICTS: [&str; 15] = [
    "quality",
    "method",
    "best",
    "extended",
    "target_quality",
    "target_size",
    "size_limit",
    "lossless",
    "strip",
    "strip_icc",
    "progressive",
    "allow_larger",
    "min_savings",
    "accept_corrupt",
    "upscale",
];

const EXIT_CODES: &str = "Exit status: 0 every image compressed (or kept, or skipped as up to date); \
1 at least one image failed (the others are still done); 2 usage error (nothing done); \
3 nothing to do: no JPEG found in the inputs; 130 interrupted (Ctrl-C).";

fn parse_glob(text: &str) -> Result<String, String> {
    globset::Glob::new(text)
        .map(|_| text.to_string())
        .map_err(|e| e.to_string())
}

fn parse_prefix(text: OsString) -> Result<OsString, String> {
    photopress::options::validate_prefix(&text).map(|()| text)
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List an input once and write one key list per shard (shard-K.keys) for an array job
    Plan(PlanArgs),
    /// Sum up a sharded job from its manifests: the report of the whole job
    Report(ReportArgs),
    /// Print a shell completion script (e.g. photopress completions bash > /etc/bash_completion.d/photopress)
    Completions {
        /// The shell
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff; e.g. photopress man | man -l -)
    Man,
    /// Turn .lep archives (made with --archive) back into their original JPEGs, bit for bit,
    /// each checked against its original's SHA-256: photopress restore IN... -o OUT, with the
    /// main command's input, output, shard, JSON and --skip-existing options; the prefix
    /// defaults to '' (x.jpg.lep gives x.jpg)
    #[command(disable_help_flag = true)]
    Restore {
        /// The main command's arguments
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
        args: Vec<OsString>,
    },
    /// Compress the objects one event notification says were created (S3 / SQS / SNS /
    /// EventBridge, Google Cloud Storage, Azure Event Grid JSON, on stdin or --payload FILE):
    /// photopress event s3://bucket/uploads -o s3://bucket/small [OPTIONS]. Objects outside
    /// INPUT and photopress's own outputs are left out; an object already done at the same
    /// version and settings is skipped (marks under OUT/_photopress/events/)
    #[command(disable_help_flag = true)]
    Event {
        /// The main command's arguments
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
        args: Vec<OsString>,
    },
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The folder or bucket prefix to list
    #[arg(value_name = "INPUT")]
    pub input: OsString,
    /// Sub-folders / sub-prefixes too
    #[arg(short, long)]
    pub recursive: bool,
    /// Number of shards (array tasks)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub shard_count: u64,
    /// Folder or bucket prefix to write the key lists to
    #[arg(long, value_name = "DIR")]
    pub to: OsString,
    /// Print what was written as JSON
    #[arg(long)]
    pub json: bool,
    /// List .lep archives (for an array of `photopress restore` tasks) instead of JPEGs
    #[arg(long)]
    pub archives: bool,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The job's manifests: <output>/_photopress/n<N> (a folder or a bucket prefix)
    #[arg(value_name = "MANIFESTS")]
    pub manifests: OsString,
    /// The plan (folder or prefix of shard-K.keys) to find keys no manifest records
    #[arg(long, value_name = "DIR")]
    pub plan: Option<OsString>,
    /// Print the report as one JSON document
    #[arg(long)]
    pub json: bool,
    /// Check each done key's output where its record says it is (a file's size, an object's
    /// HEAD) against the bytes recorded; list what is missing or differs (exit 1 when any)
    #[arg(long)]
    pub verify: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MethodArg {
    /// dct where it applies, pixel otherwise
    Auto,
    /// The DCT-domain transcoder (pixel only for inputs it does not cover)
    Dct,
    /// Decode to pixels and encode again
    Pixel,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProgressArg {
    /// Only when stderr is a terminal
    Auto,
    /// Always
    Always,
    /// Never
    Never,
}

/// `photopress restore ARGS...` is the main command with `--restore`: the same inputs,
/// outputs, shards, reports and checks, on `.lep` archives.
pub fn restore_as_flag(args: impl IntoIterator<Item = OsString>) -> Vec<OsString> {
    let mut args: Vec<OsString> = args.into_iter().collect();
    if args.get(1).is_some_and(|a| a == "restore") {
        args[1] = OsString::from("--restore");
    } else if args.get(1).is_some_and(|a| a == "event") {
        args[1] = OsString::from("--event");
    }
    args
}

impl Cli {
    /// The inputs, `IMAGES` when none was given.
    pub fn inputs(&self) -> Vec<OsString> {
        if self.inputs.is_empty() {
            vec![OsString::from(DEFAULT_INPUT)]
        } else {
            self.inputs.clone()
        }
    }

    pub fn options(&self) -> Options {
        Options {
            output_dir: PathBuf::from(&self.output),
            quality: self.quality.unwrap_or(Options::default_quality(
                self.target_quality.is_some() || self.target_size.is_some(),
            )),
            jobs: self.jobs.map_or(0, usize::from),
            sequential: self.sequential,
            prefix: self
                .prefix
                .clone()
                .unwrap_or_else(|| OsString::from(Options::default_prefix(self.operation()))),
            recursive: self.recursive,
            strip: self.strip,
            strip_icc: self.strip_icc,
            allow_larger: self.allow_larger,
            skip_existing: self.skip_existing,
            accept_corrupt: self.accept_corrupt,
            best: self.best,
            method: match self.method {
                MethodArg::Auto => Method::Auto,
                MethodArg::Dct => Method::Dct,
                MethodArg::Pixel => Method::Pixel,
            },
            max_memory: self
                .max_memory
                .unwrap_or_else(photopress::memory::default_limit),
            fsync: self.fsync,
            extended: self.extended,
            progressive: self.progressive,
            lossless: self.lossless,
            max_file_size: self.max_file_size,
            output_url: None,
            shard: photopress::shard::Shard::ALL,
            manifest: false,
            preserve: self.preserve,
            hidden: self.hidden,
            exclude: self.exclude.clone(),
            target_quality: self.target_quality,
            target_size: self.target_size,
            min_savings: self.min_savings,
            resize: (self.long_edge.is_some() || self.width.is_some() || self.height.is_some())
                .then_some(Resize {
                    long_edge: self.long_edge,
                    width: self.width,
                    height: self.height,
                    upscale: self.upscale,
                }),
            operation: self.operation(),
            archive_strict: self.archive_strict,
        }
    }

    fn operation(&self) -> Operation {
        if self.archive {
            Operation::Archive
        } else if self.restore {
            Operation::Restore
        } else {
            Operation::Compress
        }
    }

    pub fn progress_mode(&self) -> ProgressMode {
        match self.progress {
            ProgressArg::Auto => ProgressMode::Auto,
            ProgressArg::Always => ProgressMode::Always,
            ProgressArg::Never => ProgressMode::Never,
        }
    }

    pub fn log_level(&self) -> Level {
        match (self.quiet, self.verbose) {
            (true, _) => Level::WARN,
            (false, 0) => Level::INFO,
            (false, 1) => Level::DEBUG,
            (false, _) => Level::TRACE,
        }
    }
}

/// How the library's messages name the settings on the command line: by their flags.
pub fn flag(setting: Setting) -> &'static str {
    match setting {
        Setting::MaxFileSize => "--max-file-size",
        Setting::MaxMemory => "--max-memory",
        Setting::AcceptCorrupt => "--accept-corrupt",
        Setting::Output => "--output",
        Setting::Prefix => "--prefix",
        Setting::KeysFrom => "--keys-from",
        Setting::TargetQuality => "--target-quality",
        Setting::TargetSize => "--target-size",
        Setting::MinSavings => "--min-savings",
        Setting::AllowLarger => "--allow-larger",
        Setting::Lossless => "--lossless",
        Setting::SkipExisting => "--skip-existing",
        Setting::Json => "--json",
        Setting::LongEdge => "--long-edge",
        Setting::Width => "--width",
        Setting::Height => "--height",
        Setting::Upscale => "--upscale",
        Setting::Strip => "--strip",
        Setting::StripIcc => "--strip-icc",
        Setting::Method => "--method",
        Setting::Best => "--best",
        Setting::Extended => "--extended",
        Setting::Progressive => "--progressive",
        Setting::Hidden => "--hidden",
        Setting::Recursive => "-r (--recursive)",
        Setting::Exclude => "--exclude",
        Setting::ArchiveStrict => "--archive-strict",
        Setting::ShardCount => "--shard-count",
        Setting::ShardIndex => "--shard-index",
    }
}
