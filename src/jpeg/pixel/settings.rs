//! What the pixel path's encoder is asked for: the codecs' own small settings.

/// The lowest quality at which libjpeg's scaled tables all fit in 8 bits.
pub const BASELINE_QUALITY: u8 = 24;

/// How to encode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncodeSettings {
    /// JPEG quality 1..=100.
    pub quality: u8,
    /// Keep EXIF, XMP, IPTC and comment segments.
    pub keep_metadata: bool,
    /// Keep the ICC colour profile.
    pub keep_icc: bool,
    /// Treat truncated or corrupt entropy-coded data as an error.
    pub strict: bool,
    /// mozjpeg's full search (trellis quantization, progressive scans chosen for size): smaller
    /// files, several times slower. Otherwise libjpeg-turbo's fast settings (Pillow's bytes).
    pub best: bool,
    /// Allow quantization tables above 255 (16-bit tables: an extended-sequential SOF1 file
    /// below quality 24, which some decoders refuse). Otherwise tables are clamped to 8 bits,
    /// as Pillow and `cjpeg -baseline` do, and every output is baseline.
    pub extended: bool,
    /// Progressive output: the transcoder's scan script (see `dct::progressive`), or
    /// mozjpeg's progressive mode on the pixel path. Otherwise baseline, except under `best`,
    /// whose pixel path is mozjpeg's progressive with optimized scans either way.
    pub progressive: bool,
    /// Keep the input's coefficients and quantization tables (the transcoder only): the
    /// entropy coding alone is redone. `quality` is then only the marker's (100).
    pub lossless: bool,
    /// The settings id of the run (`Options::settings_id`), written into each output's marker.
    pub settings_id: u32,
}

impl Default for EncodeSettings {
    fn default() -> Self {
        EncodeSettings {
            quality: crate::jpeg::DEFAULT_QUALITY,
            keep_metadata: true,
            keep_icc: true,
            strict: true,
            best: false,
            extended: false,
            progressive: false,
            lossless: false,
            settings_id: 0,
        }
    }
}
