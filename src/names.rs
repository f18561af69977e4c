//! How messages name the options. The library's messages (errors, log lines, the report's
//! hints) name a setting through [`name`], not as a command-line flag: by default as the
//! field of `Options` that holds it (`max_file_size`), and as the host says once it calls
//! [`name_with`] — the command line names them by their flags (`--max-file-size`), a Python
//! binding could by its keyword arguments. The errors themselves carry data (sizes, paths,
//! keys); this is only their wording.
use std::sync::OnceLock;

/// A setting a message may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Setting {
    /// `Options::max_file_size`.
    MaxFileSize,
    /// `Options::max_memory`.
    MaxMemory,
    /// `Options::accept_corrupt`.
    AcceptCorrupt,
    /// `Options::output_dir` (or `output_url`).
    Output,
    /// `Options::prefix`.
    Prefix,
    /// The key list a batch reads instead of listing its input.
    KeysFrom,
    /// `Options::target_quality`.
    TargetQuality,
    /// `Options::target_size`.
    TargetSize,
    /// `Options::min_savings`.
    MinSavings,
    /// `Options::allow_larger`.
    AllowLarger,
    /// `Options::lossless`.
    Lossless,
    /// `Options::skip_existing`.
    SkipExisting,
    /// The JSON report.
    Json,
    /// `Resize::long_edge`.
    LongEdge,
    /// `Resize::width`.
    Width,
    /// `Resize::height`.
    Height,
    /// `Resize::upscale`.
    Upscale,
    /// `Options::strip`.
    Strip,
    /// `Options::strip_icc`.
    StripIcc,
    /// `Options::method`.
    Method,
    /// `Options::best`.
    Best,
    /// `Options::extended`.
    Extended,
    /// `Options::progressive`.
    Progressive,
    /// `Options::hidden`.
    Hidden,
    /// `Options::recursive`.
    Recursive,
    /// `Options::exclude`.
    Exclude,
    /// `Options::archive_strict`.
    ArchiveStrict,
    /// `Shard::count`.
    ShardCount,
    /// `Shard::index`.
    ShardIndex,
}

impl Setting {
    /// The name of the field that holds the setting: the library's own wording.
    pub fn field(self) -> &'static str {
        match self {
            Setting::MaxFileSize => "max_file_size",
            Setting::MaxMemory => "max_memory",
            Setting::AcceptCorrupt => "accept_corrupt",
            Setting::Output => "output_dir",
            Setting::Prefix => "prefix",
            Setting::KeysFrom => "a key list",
            Setting::TargetQuality => "target_quality",
            Setting::TargetSize => "target_size",
            Setting::MinSavings => "min_savings",
            Setting::AllowLarger => "allow_larger",
            Setting::Lossless => "lossless",
            Setting::SkipExisting => "skip_existing",
            Setting::Json => "the JSON report",
            Setting::LongEdge => "long_edge",
            Setting::Width => "width",
            Setting::Height => "height",
            Setting::Upscale => "upscale",
            Setting::Strip => "strip",
            Setting::StripIcc => "strip_icc",
            Setting::Method => "method",
            Setting::Best => "best",
            Setting::Extended => "extended",
            Setting::Progressive => "progressive",
            Setting::Hidden => "hidden",
            Setting::Recursive => "recursive",
            Setting::Exclude => "exclude",
            Setting::ArchiveStrict => "archive_strict",
            Setting::ShardCount => "shard count",
            Setting::ShardIndex => "shard index",
        }
    }
}

static NAMES: OnceLock<fn(Setting) -> &'static str> = OnceLock::new();

/// Makes messages name settings with `names` from now on (once per process; false when a
/// naming was chosen already).
pub fn name_with(names: fn(Setting) -> &'static str) -> bool {
    NAMES.set(names).is_ok()
}

/// How messages name `setting`.
pub fn name(setting: Setting) -> &'static str {
    match NAMES.get() {
        Some(names) => names(setting),
        None => setting.field(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_named_by_their_fields_until_a_host_says_otherwise() {
        // (The unit tests never set a naming: the command line does, in its main.)
        assert_eq!(name(Setting::MaxFileSize), "max_file_size");
        assert_eq!(name(Setting::ShardCount), "shard count");
    }
}
