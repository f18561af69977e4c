//! The options of a run: plain data, built by the command line or by a library user.
use std::ffi::{OsStr, OsString};
use std::path::PathBuf;

use md5::{Digest, Md5};

pub mod target;

use crate::jpeg::pixel::EncodeSettings;

/// Default JPEG quality: the reference setting (Pillow's `quality=30, optimize=True`).
pub use crate::jpeg::DEFAULT_QUALITY;
/// Default output folder.
pub const DEFAULT_OUTPUT: &str = "COMPRESSED_IMAGES";
/// Default input folder.
pub const DEFAULT_INPUT: &str = "IMAGES";
/// Default output file-name prefix.
pub const DEFAULT_PREFIX: &str = "compressed_";
/// Default cap on an input file's size: 512 MiB (a 400-megapixel JPEG at quality 100 is about
/// half that).
pub const DEFAULT_MAX_FILE_SIZE: u64 = 512 << 20;

/// How an image is re-encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Method {
    /// The DCT-domain transcoder where it applies (an 8-bit YCbCr or grayscale baseline or
    /// progressive Huffman JPEG; under `best` with trellis quantization), writing 4:2:0 as the pixel path does:
    /// 4:4:4, 4:2:2 and 4:4:0 chroma is downsampled in the DCT domain. The pixel path
    /// otherwise (4:1:1, CMYK, arithmetic coding, 12-bit, lossless, `strip` on a rotated photo).
    #[default]
    Auto,
    /// Requantize the input's coefficients without decoding to pixels; the output keeps the
    /// input's chroma subsampling. Under `best`, trellis quantization of those coefficients
    /// with `best`'s tables, and progressive output. Inputs the transcoder does not cover
    /// (arithmetic coding, 12-bit, lossless, CMYK, `strip` on a rotated photo) still take the
    /// pixel path.
    Dct,
    /// Decode to pixels (or YCbCr planes) and encode again with mozjpeg.
    Pixel,
    /// An outcome's method under [`Operation::Archive`]: the file was archived (not an
    /// option value: set `operation`).
    Archive,
    /// An outcome's method under [`Operation::Restore`]: the file was restored from its
    /// archive (not an option value: set `operation`).
    Restore,
}

impl Method {
    /// The name used on the command line and in the JSON report.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Auto => "auto",
            Method::Dct => "dct",
            Method::Pixel => "pixel",
            Method::Archive => "archive",
            Method::Restore => "restore",
        }
    }
}

/// What a run makes of each input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Operation {
    /// Re-encode each JPEG smaller (the seed's job).
    #[default]
    Compress,
    /// Store each JPEG reversibly (Lepton, every bit kept): `<prefix><name>.lep`, verified
    /// before it counts (see [`crate::archive`]).
    Archive,
    /// Turn `.lep` archives back into the original JPEGs: `<prefix><name>` without `.lep`,
    /// checked against the original's length and SHA-256.
    Restore,
}

impl Operation {
    /// The word in messages and the settings strings.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Compress => "compress",
            Operation::Archive => "archive",
            Operation::Restore => "restore",
        }
    }

    /// The output file name for an input file name: the prefix, then the name (with `.lep`
    /// added when archiving, taken off when restoring; a restored name that is then no JPEG
    /// name gets `.jpg`).
    pub fn output_name(self, prefix: &OsStr, file_name: &OsStr) -> OsString {
        let mut name = OsString::with_capacity(prefix.len() + file_name.len() + 4);
        name.push(prefix);
        match self {
            Operation::Compress => name.push(file_name),
            Operation::Archive => {
                name.push(file_name);
                name.push(".");
                name.push(crate::archive::EXTENSION);
            }
            Operation::Restore => {
                let path = std::path::Path::new(file_name);
                let restored = match path.file_stem() {
                    Some(stem) if is_archive_name(path) => stem,
                    _ => file_name,
                };
                name.push(restored);
                if !crate::jpeg::has_jpeg_extension(std::path::Path::new(restored)) {
                    name.push(".jpg");
                }
            }
        }
        name
    }
}

/// Whether a name ends in `.lep` (any case) after a stem: an archive's name.
pub fn is_archive_name(path: &std::path::Path) -> bool {
    path.extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case(crate::archive::EXTENSION))
}

/// Everything that decides what a run does. Every field states its default.
#[derive(Debug, Clone)]
pub struct Options {
    /// Folder the outputs are written to; created if missing. Default `COMPRESSED_IMAGES`.
    pub output_dir: PathBuf,
    /// JPEG quality, 1..=100. Default 30. Under a target (`target_quality`, `target_size`), the
    /// highest quality the search may choose (the command line defaults it to 95 then).
    pub quality: u8,
    /// Worker threads; 0 means one per core. Default 0.
    pub jobs: usize,
    /// Compress every image on the calling thread, with no pool. Default false.
    pub sequential: bool,
    /// Prefix put before each output file name. Default `compressed_`.
    pub prefix: OsString,
    /// Walk sub-folders and mirror the tree under the output folder. Default false.
    pub recursive: bool,
    /// Drop EXIF, XMP, IPTC and comments (orientation is then applied to the pixels). Default false.
    pub strip: bool,
    /// Drop the ICC colour profile too. Default false.
    pub strip_icc: bool,
    /// Keep a re-encoded file even when it is not smaller than the original. Default false:
    /// the original bytes are written instead (status `kept-original`), except under `strip`,
    /// where the original would still carry the metadata to remove.
    pub allow_larger: bool,
    /// Leave an output alone when it is up to date: not older than its input and made at this
    /// quality with these settings (see `photo::provenance::up_to_date`). Default false.
    pub skip_existing: bool,
    /// Accept truncated or corrupt JPEGs, compressing what could be decoded. Default false:
    /// such files are errors.
    pub accept_corrupt: bool,
    /// mozjpeg's slow, smallest encoding (trellis quantization, optimized progressive scans).
    /// Default false.
    pub best: bool,
    /// How images are re-encoded. Default [`Method::Auto`].
    pub method: Method,
    /// Memory budget in bytes for the images in progress; 0 means none. Default: half the
    /// memory available at the start (see [`crate::memory::default_limit`]).
    pub max_memory: u64,
    /// fsync each output before renaming it into place, and its folder after (durable across
    /// power loss). Default false.
    pub fsync: bool,
    /// Allow 16-bit quantization tables (extended-sequential output below quality 24).
    /// Default false: 8-bit tables, baseline output at every quality.
    pub extended: bool,
    /// Progressive outputs (SOF2): the transcoder writes jpegli's successive-approximation
    /// scan script, the pixel path mozjpeg's progressive mode. Default false: baseline
    /// outputs whatever the input's mode (under `best`, outputs are progressive anyway).
    pub progressive: bool,
    /// Optimize only: keep each input's coefficients and quantization tables, redo the
    /// entropy coding (optimized Huffman tables, progressive with `progressive`); `quality`,
    /// `method` and `best` do not apply. Inputs the transcoder does not cover fail. Default
    /// false.
    pub lossless: bool,
    /// Largest input file read, in bytes; larger ones fail before being read. Default
    /// [`DEFAULT_MAX_FILE_SIZE`].
    pub max_file_size: u64,
    /// Write the outputs below this bucket prefix instead of `output_dir`. Default none.
    pub output_url: Option<crate::storage::ObjectUrl>,
    /// The share of the inputs this run takes: keys whose hash falls in it. Default: all.
    pub shard: crate::shard::Shard,
    /// Keep a manifest of what this run did under the output (`_photopress/n<N>/shard-<K>/`),
    /// and skip what an earlier run of the same shard recorded as done with the same input
    /// version and settings. Default false (the command line turns it on for sharded runs
    /// and bucket outputs).
    pub manifest: bool,
    /// Give each output its input's access and modification times. Default false: an output
    /// is a new file, dated when it was written.
    pub preserve: bool,
    /// Take hidden files and folders (names starting with `.`) in folder walks. Default false:
    /// they are skipped, as are system entries (`@eaDir`, `Thumbs.db`...) in any case.
    pub hidden: bool,
    /// Glob patterns (`*_thumb.jpg`, `raw/**`): an input whose relative key (`sub/x.jpg`) or
    /// file name matches one is left out. Default none.
    pub exclude: Vec<String>,
    /// Instead of `quality`, the lowest quality (up to `quality`, the ceiling) whose output
    /// scores at least this against the input, or a little above it (the search does not
    /// measure a quality predicted to pass by less than a step's gain). Default none.
    pub target_quality: Option<target::QualityTarget>,
    /// Instead of `quality`, the highest quality (up to `quality`) whose output fits this size;
    /// an image that does not fit even at quality 1 fails. Default none.
    pub target_size: Option<target::SizeLimit>,
    /// Keep the original (`kept-original`) when re-encoding saves less than this. Default
    /// none: only an output that is not smaller is replaced by the original.
    pub min_savings: Option<target::SizeLimit>,
    /// Resize each image to fit these limits (as displayed, after its EXIF orientation) before
    /// it is encoded. Default none: images keep their size.
    pub resize: Option<crate::jpeg::resize::Resize>,
    /// What the run makes of each input: compressed JPEGs, archives, or restored originals.
    /// Default [`Operation::Compress`].
    pub operation: Operation,
    /// Under [`Operation::Archive`], fail a file Lepton cannot hold exactly instead of storing
    /// it as it is in its archive. Default false.
    pub archive_strict: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            output_dir: PathBuf::from(DEFAULT_OUTPUT),
            quality: DEFAULT_QUALITY,
            jobs: 0,
            sequential: false,
            prefix: OsString::from(DEFAULT_PREFIX),
            recursive: false,
            strip: false,
            strip_icc: false,
            allow_larger: false,
            skip_existing: false,
            accept_corrupt: false,
            best: false,
            method: Method::Auto,
            max_memory: crate::memory::default_limit(),
            fsync: false,
            extended: false,
            progressive: false,
            lossless: false,
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            output_url: None,
            shard: crate::shard::Shard::ALL,
            manifest: false,
            preserve: false,
            hidden: false,
            exclude: Vec::new(),
            target_quality: None,
            target_size: None,
            min_savings: None,
            resize: None,
            operation: Operation::Compress,
            archive_strict: false,
        }
    }
}

impl Options {
    /// Every option that changes an output's bytes, as one string: a manifest records it, and a
    /// resumed run redoes what was done with other settings.
    pub fn fingerprint(&self) -> String {
        if self.operation != Operation::Compress {
            // Nothing of the encoders applies: the archive keeps every bit.
            return format!(
                "{};strict={};prefix={:?}",
                self.operation.as_str(),
                u8::from(self.archive_strict),
                self.prefix.to_string_lossy()
            );
        }
        format!(
            "q={};method={};best={};strip={};strip_icc={};allow_larger={};accept_truncated={};extended={};prefix={:?}{}",
            self.output_quality(),
            self.method.as_str(),
            self.best_setting(),
            u8::from(self.strip),
            u8::from(self.strip_icc),
            u8::from(self.allow_larger),
            u8::from(self.accept_corrupt),
            u8::from(self.extended),
            self.prefix.to_string_lossy(),
            self.targets()
        ) + &self.resize_settings()
            + &self.scan_settings()
    }

    /// A short, stable hash of the options that change an output's bytes
    /// ([`Self::output_settings`]): the first 4 bytes of their MD5, big-endian. Written in
    /// each output's provenance marker.
    pub fn settings_id(&self) -> u32 {
        let digest = Md5::digest(self.output_settings().as_bytes());
        u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
    }

    /// What the codecs need of the run: their own small settings, never the options.
    pub fn encode_settings(&self) -> EncodeSettings {
        EncodeSettings {
            quality: self.output_quality(),
            keep_metadata: !self.strip,
            keep_icc: !self.strip_icc,
            strict: !self.accept_corrupt,
            best: self.best,
            extended: self.extended,
            progressive: self.progressive,
            lossless: self.lossless,
            settings_id: self.settings_id(),
        }
    }

    /// The options that change an output's bytes, as one string: its hash
    /// ([`Self::settings_id`]) goes into each output's marker, so that
    /// `--skip-existing` redoes an output made with other settings. (Unlike [`Self::fingerprint`],
    /// not the prefix nor `allow_larger`, which change which file is written, not its bytes.)
    pub fn output_settings(&self) -> String {
        format!(
            "q={};method={};best={};strip={};strip_icc={};extended={};accept_truncated={}{}",
            self.output_quality(),
            self.method.as_str(),
            self.best_setting(),
            u8::from(self.strip),
            u8::from(self.strip_icc),
            u8::from(self.extended),
            u8::from(self.accept_corrupt),
            self.targets()
        ) + &self.resize_settings()
            + &self.scan_settings()
    }

    /// `best` in the settings strings: 0 without it, 1 for mozjpeg on pixels (`--method pixel
    /// --best`, and what `--best` was before the transcoder took it), 2 for the transcoder's
    /// trellis (`auto` and `dct`), so that outputs of the old `--best` are redone by a resumed
    /// run instead of counting as up to date.
    fn best_setting(&self) -> u8 {
        match (self.best, self.method) {
            (false, _) => 0,
            (true, Method::Pixel) => 1,
            (true, Method::Auto | Method::Dct | Method::Archive | Method::Restore) => 2,
        }
    }

    /// The resize limits for [`Self::fingerprint`] and [`Self::output_settings`]: nothing
    /// without them, so that the settings of runs without resizing stay what they were.
    fn resize_settings(&self) -> String {
        self.resize
            .map_or_else(String::new, |r| format!(";resize:{}", r.describe()))
    }

    /// The targets, for the settings strings: empty without any (so that the outputs of runs
    /// without targets keep their settings hash).
    fn targets(&self) -> String {
        let mut text = String::new();
        if let Some(t) = &self.target_quality {
            text.push_str(&format!(";target_quality={t}"));
        }
        if let Some(t) = &self.target_size {
            text.push_str(&format!(";target_size={t}"));
        }
        if let Some(t) = &self.min_savings {
            text.push_str(&format!(";min_savings={t}"));
        }
        text
    }

    /// The quality when the caller gives none: a target's search ceiling under a target, else
    /// [`DEFAULT_QUALITY`] (the command line's and the Python API's default).
    pub fn default_quality(has_target: bool) -> u8 {
        if has_target {
            target::TARGET_CEILING
        } else {
            DEFAULT_QUALITY
        }
    }

    /// The prefix when the caller gives none: [`DEFAULT_PREFIX`], and none for a restore (the
    /// archives give back their originals' names).
    pub fn default_prefix(operation: Operation) -> &'static str {
        match operation {
            Operation::Restore => "",
            Operation::Compress | Operation::Archive => DEFAULT_PREFIX,
        }
    }

    /// Sets the place outputs go: a folder, or a bucket prefix (whose runs keep a manifest).
    pub fn set_output(&mut self, output: crate::storage::location::Location) {
        use crate::storage::location::Location;
        match output {
            Location::Local(path) => self.output_dir = path,
            Location::Object(url) => {
                self.output_url = Some(url);
                self.manifest = true;
            }
        }
    }

    /// True when the quality is searched per image (`quality` is then the ceiling).
    pub fn has_target(&self) -> bool {
        self.target_quality.is_some() || self.target_size.is_some()
    }

    /// `;progressive=1`, `;lossless=1`, or both, or nothing: the settings strings of runs
    /// without them stay what they were, so their outputs stay up to date.
    fn scan_settings(&self) -> String {
        let mut s = String::new();
        if self.progressive {
            s.push_str(";progressive=1");
        }
        if self.lossless {
            s.push_str(";lossless=1");
        }
        s
    }

    /// The quality an output is made at, as its provenance marker says: `quality`, or 100
    /// under `lossless` (no loss: a later lossy run at any quality re-encodes it).
    pub fn output_quality(&self) -> u8 {
        if self.lossless { 100 } else { self.quality }
    }

    /// Checks the values a library user could set wrong; the command line checks them too.
    pub fn validate(&self) -> Result<(), crate::error::SetupError> {
        use crate::error::SetupError;
        use crate::names::{Setting, name};
        if !(1..=100).contains(&self.quality) {
            return Err(SetupError::InvalidQuality(self.quality));
        }
        if self.target_quality.is_some() && self.target_size.is_some() {
            return Err(SetupError::Targets(format!(
                "{} and {} cannot be combined: choose one",
                name(Setting::TargetQuality),
                name(Setting::TargetSize)
            )));
        }
        if self.min_savings.is_some() && self.allow_larger {
            return Err(SetupError::Targets(format!(
                "{} and {} cannot be combined: one keeps originals, the other never does",
                name(Setting::MinSavings),
                name(Setting::AllowLarger)
            )));
        }
        if self.lossless && (self.has_target() || self.resize.is_some()) {
            return Err(SetupError::Targets(format!(
                "{} keeps the input's coefficients: it cannot be combined with a target or resizing",
                name(Setting::Lossless)
            )));
        }
        if self.target_quality.is_some() && self.resize.is_some() {
            return Err(SetupError::Targets(format!(
                "{} cannot be combined with resizing yet: the score compares pictures of one size",
                name(Setting::TargetQuality)
            )));
        }
        if matches!(self.method, Method::Archive | Method::Restore) {
            return Err(SetupError::Usage(format!(
                "{} {:?} names what a file went through; set the operation to archive or restore",
                name(Setting::Method),
                self.method.as_str()
            )));
        }
        if self.operation != Operation::Compress {
            let changes_bytes = [
                (self.strip, Setting::Strip),
                (self.strip_icc, Setting::StripIcc),
                (self.lossless, Setting::Lossless),
                (self.best, Setting::Best),
                (self.progressive, Setting::Progressive),
                (self.extended, Setting::Extended),
                (self.allow_larger, Setting::AllowLarger),
                (self.method != Method::Auto, Setting::Method),
                (self.target_quality.is_some(), Setting::TargetQuality),
                (self.target_size.is_some(), Setting::TargetSize),
                (self.min_savings.is_some(), Setting::MinSavings),
                (self.resize.is_some(), Setting::LongEdge),
            ];
            if let Some((_, setting)) = changes_bytes.iter().find(|(set, _)| *set) {
                return Err(SetupError::Usage(format!(
                    "{} keeps every bit of each photo: it cannot be combined with {}",
                    self.operation.as_str(),
                    name(*setting)
                )));
            }
        }
        if let Some(resize) = &self.resize {
            resize.validate().map_err(SetupError::Usage)?;
        }
        validate_prefix(&self.prefix)
            .map_err(|_| SetupError::InvalidPrefix(self.prefix.to_string_lossy().into_owned()))
    }

    /// The number of worker threads this run uses.
    pub fn threads(&self) -> usize {
        if self.sequential {
            1
        } else if self.jobs == 0 {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            self.jobs
        }
    }
}

/// A prefix is the start of a file name: no path separator (either kind: a `..\\` prefix is a
/// path on Windows and in the hands of any tool that converts it), no NUL, not `.` or `..`.
pub fn validate_prefix(prefix: &std::ffi::OsStr) -> Result<(), String> {
    let bytes = prefix.as_encoded_bytes();
    if bytes.iter().any(|b| matches!(b, b'/' | b'\\' | 0)) || bytes == b"." || bytes == b".." {
        return Err(format!(
            "{:?} is the start of a file name: it cannot contain '/', '\\' or NUL, nor be '.' or '..'",
            prefix.to_string_lossy()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_that_would_leave_the_output_folder_are_refused() {
        for bad in [
            "../IMAGES/",
            "a/b",
            "/abs",
            "./",
            "..\\x",
            ".",
            "..",
            "x\0y",
        ] {
            assert!(validate_prefix(bad.as_ref()).is_err(), "{bad:?}");
        }
        for good in ["", "compressed_", "..x", ".hidden_", "a.b", "...", "small "] {
            assert!(validate_prefix(good.as_ref()).is_ok(), "{good:?}");
        }
    }

    #[test]
    fn the_two_best_encoders_have_different_settings() {
        let with = |method, best| Options {
            method,
            best,
            ..Options::default()
        };
        let settings = |o: &Options| (o.output_settings(), o.fingerprint());
        let plain = settings(&with(Method::Auto, false));
        let trellis = settings(&with(Method::Auto, true));
        let pixels = settings(&with(Method::Pixel, true));
        assert!(plain.0.contains(";best=0;"), "{}", plain.0);
        assert!(trellis.0.contains(";best=2;") && trellis.1.contains(";best=2;"));
        assert!(pixels.0.contains(";best=1;") && pixels.1.contains(";best=1;"));
        assert!(settings(&with(Method::Dct, true)).0.contains(";best=2;"));
        // Without --best, the strings are what they were before there were two encoders.
        assert_eq!(
            plain.0,
            "q=30;method=auto;best=0;strip=0;strip_icc=0;extended=0;accept_truncated=0".to_string()
                + &with(Method::Auto, false).scan_settings()
        );
    }
}
