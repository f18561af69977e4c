//! The DCT-domain transcoder: re-encodes a JPEG without going through pixels. The input's
//! entropy-coded coefficients are decoded, requantized to the output quality's tables
//! (`round(c × q_in / q_out)`) and kept sparse, then written as one baseline scan with
//! optimized Huffman tables, or as progressive scans (`encode_progressive`). Under `lossless`
//! the coefficients are kept as they are, with the input's quantization tables: only the
//! entropy coding changes (jpegtran's `-optimize`). No colour conversion and no pixel DCT
//! (chroma downsampling, below, is a fixed map on coefficients): the work left is the entropy
//! decoding of the input, which is what libjpeg spends most of its decoding time on anyway.
//!
//! It covers Huffman-coded 8-bit baseline, extended and progressive JPEGs, gray or YCbCr. The
//! rest (arithmetic coding, 12-bit, lossless, CMYK, RGB-coded) is refused with
//! [`Refusal::NotCovered`], and the caller uses the pixel path. The output keeps the input's
//! chroma subsampling, or is 4:2:0 when asked: 4:4:4, 4:2:2 and 4:4:0 chroma is then
//! downsampled in the DCT domain (`chroma.rs`).
//!
//! Safe Rust: every length, marker, table index, Huffman code and coefficient position of the
//! input is checked, and memory is bounded by the frame's declared size (checked against the
//! same limits as the pixel path before anything is allocated).
#![forbid(unsafe_code)]
mod bits;
mod chroma;
mod decode;
mod decode_progressive;
mod encode;
mod encode_progressive;
mod frame;
mod huffman;
mod orient;
mod prune;
mod quant;
mod refusal;
mod scan;
mod store;
mod tokens;
mod trellis;

use std::cell::Cell;

use frame::FrameCheck;
use image::metadata::Orientation;
use mozjpeg::Marker;

use crate::error::ImageError;
use crate::jpeg::pixel::{self, EncodeSettings};

use quant::QuantTables;
pub use quant::output_tables;
pub use refusal::Refusal;

/// Re-encodes a JPEG in the DCT domain at `settings.quality`, keeping the segments the pixel
/// path keeps. With `any_subsampling` false, the output has the pixel path's layout (YCbCr
/// 4:2:0, or gray), so that both paths give the same kind of file: 4:4:4, 4:2:2 and 4:4:0
/// chroma is downsampled, other layouts (4:1:1) are refused. Otherwise the input's
/// subsampling is kept.
///
/// Under `settings.best` the tables are `--best`'s, the AC coefficients are chosen by trellis
/// quantization (`trellis`) and the output is progressive. Under
/// `settings.lossless` the coefficients and tables are the input's (any subsampling), and
/// `--strip` on a rotated photo keeps the orientation (an EXIF segment with that tag alone):
/// the pixels cannot be turned without changing them. Otherwise `--strip` on a rotated photo
/// turns its coefficients upright first (`orient`), when that is exact.
pub fn recompress(
    input: &[u8],
    settings: &EncodeSettings,
    any_subsampling: bool,
) -> Result<Vec<u8>, Refusal> {
    if input.is_empty() {
        return Err(Refusal::Invalid(ImageError::Empty));
    }
    let tables = tables_for(settings);
    let coverage = Coverage {
        settings,
        any_subsampling: any_subsampling || settings.lossless,
        turn: Cell::new(None),
        raw: false,
    };
    let decoded = decode::read(input, settings.strict, &tables, &coverage)?;
    match coverage.turn.get() {
        Some(turn) => upright(decoded, turn, &tables, &coverage),
        None => write(decoded, &tables, settings),
    }
}

/// An input read once for many encodes (a target search's candidates): its coefficients as
/// the file holds them, turned upright first where [`recompress`] would turn them, then
/// requantized for each output ([`Prepared::recompress`]). The entropy-coded data is decoded
/// once, not once a candidate; the outputs are [`recompress`]'s, byte for byte.
pub struct Prepared<'a> {
    frame: frame::Frame,
    coefficients: Vec<store::Sparse>,
    segments: Vec<(u8, &'a [u8])>,
    density: Option<(u8, u16, u16)>,
    any_subsampling: bool,
    /// The settings it was read for; an encode may change the quality only.
    settings: EncodeSettings,
}

/// Reads `input` for [`Prepared::recompress`], refusing what [`recompress`] refuses with
/// `settings` (any quality: only the quality may change between the encodes) and
/// `any_subsampling`. Not for `lossless`, which has one output.
pub fn prepare<'a>(
    input: &'a [u8],
    settings: &EncodeSettings,
    any_subsampling: bool,
) -> Result<Prepared<'a>, Refusal> {
    if input.is_empty() {
        return Err(Refusal::Invalid(ImageError::Empty));
    }
    if settings.lossless {
        return Err(Refusal::NotCovered(
            "one lossless output: nothing to prepare".into(),
        ));
    }
    let tables = tables_for(settings);
    let coverage = Coverage {
        settings,
        any_subsampling,
        turn: Cell::new(None),
        raw: true,
    };
    let decoded = decode::read(input, settings.strict, &tables, &coverage)?;
    let (frame, coefficients, density) = match coverage.turn.get() {
        Some(turn) => {
            let (frame, raw) = orient::turn(decoded.frame, decoded.coefficients, turn)?;
            (frame, raw, turned_density(decoded.density, turn))
        }
        None => (decoded.frame, decoded.coefficients, decoded.density),
    };
    Ok(Prepared {
        frame,
        coefficients,
        segments: decoded.segments,
        density,
        any_subsampling,
        settings: *settings,
    })
}

impl Prepared<'_> {
    /// Bytes the coefficients hold (what `memory::prepared_coefficients` bounds, with one
    /// candidate's copy).
    pub fn bytes(&self) -> u64 {
        self.coefficients.iter().map(store::Sparse::bytes).sum()
    }

    /// The output at `settings` (those of [`prepare`] but for the quality), as [`recompress`]
    /// writes it.
    pub fn recompress(&self, settings: &EncodeSettings) -> Result<Vec<u8>, Refusal> {
        let same = EncodeSettings {
            quality: self.settings.quality,
            ..*settings
        };
        if same != self.settings {
            return Err(Refusal::NotCovered(
                "the input was prepared for other settings than the quality's".into(),
            ));
        }
        let tables = tables_for(settings);
        let trellis = settings.best;
        let (frame, coefficients) = decode::requantize(
            &self.frame,
            &self.coefficients,
            &tables,
            trellis,
            !self.any_subsampling,
        )?;
        let decoded = frame::Decoded {
            frame,
            coefficients,
            segments: self.segments.clone(),
            density: self.density,
            tokens: None,
        };
        write(decoded, &tables, settings)
    }
}

/// The JFIF density of a photo turned by `turn`: its axes swap with a transposition.
fn turned_density(density: Option<(u8, u16, u16)>, turn: orient::Turn) -> Option<(u8, u16, u16)> {
    density.map(|(units, x, y)| {
        if turn.transpose {
            (units, y, x)
        } else {
            (units, x, y)
        }
    })
}

/// The output's luminance and chrominance tables: 8-bit unless asked otherwise, as the pixel
/// path's (a baseline file at every quality).
fn tables_for(settings: &EncodeSettings) -> [[u16; 64]; 2] {
    if settings.best {
        quant::best_tables(settings.quality)
    } else if settings.extended {
        output_tables(settings.quality)
    } else {
        quant::baseline_tables(settings.quality)
    }
}

/// Writes the output of `decoded`, requantized to `tables` (or with its own under
/// `lossless`): the kept segments, the provenance marker, the scans.
fn write(
    decoded: frame::Decoded,
    tables: &[[u16; 64]; 2],
    settings: &EncodeSettings,
) -> Result<Vec<u8>, Refusal> {
    let provenance = crate::jpeg::marker::marker(settings.quality, settings.settings_id);
    let orientation = if settings.lossless && !settings.keep_metadata {
        orientation_of(&decoded.segments)
    } else {
        Orientation::NoTransforms
    };
    let exif = orientation_exif(orientation);
    // The kept segments, then the provenance marker (after them: EXIF readers look for
    // APP1 right after the JFIF segment).
    let kept: Vec<(u8, &[u8])> = decoded
        .segments
        .iter()
        .filter(|(code, data)| pixel::keep_marker(marker(*code), data, settings))
        .copied()
        .chain(exif.as_deref().map(|exif| (0xE1, exif)))
        .chain(std::iter::once((
            crate::jpeg::marker::COM,
            provenance.as_slice(),
        )))
        .collect();
    let components = &decoded.frame.components;
    let tables = if settings.lossless {
        QuantTables::per_component(&input_tables(components))
    } else {
        QuantTables::requantized(tables, components.len())
    };
    // The coefficients are there when progressive output was asked (see `Coverage`).
    if (settings.progressive || settings.best) && decoded.coefficients.len() == components.len() {
        Ok(encode_progressive::write(&decoded, &kept, &tables))
    } else {
        Ok(encode::write(&decoded, &kept, &tables))
    }
}

/// The components' own quantization tables, as a file can carry them (no zero step).
fn input_tables(components: &[frame::Component]) -> Vec<[u16; 64]> {
    components
        .iter()
        .map(|c| c.table.map(|q| q.max(1)))
        .collect()
}

/// `--strip` on a rotated photo: its coefficients, read as the file holds them (see
/// [`Coverage`]), turned upright by `turn`, then requantized to `tables` as if the file had
/// held them upright.
fn upright(
    decoded: frame::Decoded,
    turn: orient::Turn,
    tables: &[[u16; 64]; 2],
    coverage: &Coverage,
) -> Result<Vec<u8>, Refusal> {
    let (frame, raw) = orient::turn(decoded.frame, decoded.coefficients, turn)?;
    let to_420 = !coverage.any_subsampling;
    let (frame, coefficients) =
        decode::requantize(&frame, &raw, tables, coverage.trellis(), to_420)?;
    let density = turned_density(decoded.density, turn);
    let turned = frame::Decoded {
        frame,
        coefficients,
        segments: decoded.segments,
        density,
        tokens: None,
    };
    write(turned, tables, coverage.settings)
}

/// The EXIF orientation among APPn segments.
fn orientation_of(segments: &[(u8, &[u8])]) -> Orientation {
    pixel::exif_orientation(
        segments
            .iter()
            .filter(|(code, _)| (0xE0..=0xEF).contains(code))
            .map(|(code, data)| (marker(*code), *data)),
    )
}

/// An EXIF segment's body with the orientation tag alone (none for an upright photo): what
/// `--strip --lossless` keeps of a rotated photo's metadata, so that it still shows upright.
fn orientation_exif(orientation: Orientation) -> Option<Vec<u8>> {
    if orientation == Orientation::NoTransforms {
        return None;
    }
    let mut body = b"Exif\0\0".to_vec();
    // Big-endian TIFF header, the first IFD at offset 8: one entry, tag 0x0112 (orientation),
    // type SHORT, count 1, the value in the entry's first two bytes; no next IFD.
    body.extend_from_slice(b"MM\0\x2a\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01\0");
    body.push(orientation.to_exif());
    body.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    Some(body)
}

/// Reads all the entropy-coded data of a Huffman JPEG of any layout or colour model (also
/// those [`recompress`] does not cover), without writing anything: the check of the data that
/// the pixel path runs first, since libjpeg-turbo's in-memory decoder turns some corruption
/// (bad Huffman codes) into zeros without a word. `NotCovered` means the data could not be
/// checked here (arithmetic coding, 12-bit, lossless...); `Invalid` that it is corrupt.
pub fn validate(input: &[u8]) -> Result<(), Refusal> {
    check(input, true)
}

/// [`validate`], or with `strict` false, reads past what it can (noting the corruption it
/// meets, see `jpeg::corruption`) and fails only on what stops it.
pub fn check(input: &[u8], strict: bool) -> Result<(), Refusal> {
    if input.is_empty() {
        return Err(Refusal::Invalid(ImageError::Empty));
    }
    let tables = output_tables(crate::jpeg::DEFAULT_QUALITY);
    decode::read(input, strict, &tables, &AnyLayout).map(drop)
}

/// Every layout and colour model: the data is read and dropped.
struct AnyLayout;

impl frame::FrameCheck for AnyLayout {
    fn check(&self, _: &frame::Frame, _: &[(u8, &[u8])]) -> Result<(), Refusal> {
        Ok(())
    }

    fn data_only(&self) -> bool {
        true
    }
}

/// The mozjpeg name of an APPn or COM marker code.
fn marker(code: u8) -> Marker {
    match code {
        0xE0..=0xEF => Marker::APP(code - 0xE0),
        _ => Marker::COM,
    }
}

/// The inputs a call takes. Under `--strip` (not lossless), a rotated photo whose turn is
/// exact is read with its coefficients as they are, to be turned before they are requantized
/// (`turn`, set by the check). With `raw` ([`prepare`]), every photo is read so.
struct Coverage<'s> {
    settings: &'s EncodeSettings,
    any_subsampling: bool,
    turn: Cell<Option<orient::Turn>>,
    raw: bool,
}

impl Coverage<'_> {
    /// The coefficients are read as the file holds them, to be requantized after.
    fn as_held(&self) -> bool {
        self.raw || self.turn.get().is_some()
    }
}

impl frame::FrameCheck for Coverage<'_> {
    fn check(&self, frame: &frame::Frame, segments: &[(u8, &[u8])]) -> Result<(), Refusal> {
        let c = &frame.components;
        if !self.any_subsampling && c.len() == 3 && chroma::merge(frame).is_none() {
            let factors: Vec<String> = c.iter().map(|c| format!("{}x{}", c.h, c.v)).collect();
            return Err(Refusal::unsupported(format!(
                "sampling factors {} (the output is 4:2:0, which they cannot be mapped to)",
                factors.join(",")
            )));
        }
        if !self.settings.keep_metadata && !self.settings.lossless {
            let orientation = orientation_of(segments);
            if orientation != Orientation::NoTransforms {
                let turn = orient::Turn::upright(orientation);
                if !orient::exact(frame, turn) {
                    return Err(Refusal::unsupported(format!(
                        "{} on a rotated photo whose mirrored side is not a whole number of \
                         MCUs (the pixels are turned upright)",
                        crate::names::name(crate::names::Setting::Strip)
                    )));
                }
                self.turn.set(Some(turn));
            }
        }
        Ok(())
    }

    fn trellis(&self) -> bool {
        self.settings.best && !self.settings.lossless && !self.raw
    }

    /// Not while the coefficients are read as held: they are downsampled after.
    fn to_420(&self) -> bool {
        !self.any_subsampling && !self.as_held()
    }

    fn keep_tables(&self) -> bool {
        self.settings.lossless || self.as_held()
    }

    fn coefficients(&self) -> bool {
        self.settings.progressive || self.settings.best || self.as_held()
    }
}
