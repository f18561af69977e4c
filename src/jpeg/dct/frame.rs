//! The frame: what the input's SOF segment declares (size, components, sampling, coding)
//! and the block grids that follow from it, and what the reader hands the encoder.
use super::quant::Requant;
use super::refusal::Refusal;
use super::store::Sparse;
use super::tokens::Tokens;
use crate::jpeg::header;

/// One component of the frame.
#[derive(Clone)]
pub struct Component {
    pub id: u8,
    pub h: usize,
    pub v: usize,
    pub tq: usize,
    /// The component's block grid as stored: whole MCUs for a multi-component frame.
    pub blocks_w: usize,
    pub blocks_h: usize,
    /// The blocks that cover the component's samples (a non-interleaved scan codes these).
    pub coded_w: usize,
    pub coded_h: usize,
    pub requant: Option<Requant>,
    /// The input's quantization table, latched at the component's first scan (zigzag).
    pub table: [u16; 64],
    /// Its coefficients are kept as the input has them, for the chroma downsampling.
    pub raw: bool,
    pub scanned: bool,
}

/// The frame: size, components and coding.
#[derive(Clone)]
pub struct Frame {
    pub width: usize,
    pub height: usize,
    pub progressive: bool,
    pub components: Vec<Component>,
    pub mcus_x: usize,
    pub mcus_y: usize,
}

/// What the encoder needs from the input.
pub struct Decoded<'a> {
    pub frame: Frame,
    pub coefficients: Vec<Sparse>,
    /// APPn and COM segments in file order: (marker code, payload).
    pub segments: Vec<(u8, &'a [u8])>,
    /// The JFIF density: units, x, y.
    pub density: Option<(u8, u16, u16)>,
    /// The output's symbols, when they were made while decoding (a baseline file whose one
    /// scan has the output's block order); `coefficients` is then empty.
    pub tokens: Option<Box<Tokens>>,
}

/// The caller's check of the frame and of the segments before it, made before anything is
/// allocated or decoded (at the first scan): the layouts it covers. An error stops early.
pub trait FrameCheck {
    fn check(&self, frame: &Frame, segments: &[(u8, &[u8])]) -> Result<(), Refusal>;

    /// A check of the data only: any colour model is read (RGB-coded and four-component
    /// frames too), and the coefficients are decoded and dropped, not kept for an output.
    fn data_only(&self) -> bool {
        false
    }

    /// The output is 4:2:0: a frame with other chroma sampling is downsampled (the check
    /// refuses those [`super::chroma::merge`] cannot map).
    fn to_420(&self) -> bool {
        false
    }

    /// The output keeps the input's quantization tables: coefficients are copied as they are,
    /// not requantized (`--lossless`), and the output tables are not used.
    fn keep_tables(&self) -> bool {
        false
    }

    /// The AC coefficients are chosen by trellis quantization (`--best`), not rounded.
    fn trellis(&self) -> bool {
        false
    }

    /// The output needs the coefficients ([`Decoded::coefficients`]), not the symbols of one
    /// baseline scan ([`Decoded::tokens`]): progressive output.
    fn coefficients(&self) -> bool {
        false
    }
}

impl Frame {
    /// The frame of SOF segment `code` with payload `body`, checked: 8-bit, a size within
    /// the limits for a file of `file_len` bytes, one or three components (four too for a
    /// check of the data only).
    pub fn parse(
        code: u8,
        body: &[u8],
        file_len: usize,
        data_only: bool,
    ) -> Result<Frame, Refusal> {
        let header =
            header::parse_frame(code, body).map_err(|e| Refusal::corrupt(e.to_string()))?;
        if header.precision != 8 {
            return Err(Refusal::unsupported(format!(
                "{}-bit samples",
                header.precision
            )));
        }
        let (width, height, count) = (header.width, header.height, header.components.len());
        if height == 0 {
            // A DNL segment would give it; libjpeg does not support that either.
            return Err(Refusal::unsupported("no height in the frame header"));
        }
        if width == 0 {
            return Err(Refusal::corrupt("Empty JPEG image"));
        }
        let colours_ok = count == 1 || count == 3 || (data_only && count == 4);
        if !colours_ok {
            return Err(Refusal::unsupported(format!("{count} colour components")));
        }
        crate::jpeg::pixel::check_size(width, height, file_len).map_err(Refusal::Invalid)?;
        let mut components: Vec<Component> = Vec::with_capacity(count);
        for c in &header.components {
            if components.iter().any(|o| o.id == c.id) {
                return Err(Refusal::unsupported(
                    "two components with the same identifier",
                ));
            }
            components.push(Component {
                id: c.id,
                h: usize::from(c.h),
                v: usize::from(c.v),
                tq: usize::from(c.tq),
                blocks_w: 0,
                blocks_h: 0,
                coded_w: 0,
                coded_h: 0,
                requant: None,
                table: [0; 64],
                raw: false,
                scanned: false,
            });
        }
        // The output is one interleaved scan, which libjpeg reads only up to 10 blocks a unit
        // (an input may code such a frame in separate scans).
        if count > 1 && components.iter().map(|c| c.h * c.v).sum::<usize>() > 10 {
            return Err(Refusal::unsupported(
                "sampling factors of more than 10 blocks a unit",
            ));
        }
        let hmax = components.iter().map(|c| c.h).max().unwrap_or(1);
        let vmax = components.iter().map(|c| c.v).max().unwrap_or(1);
        let mcus_x = width.div_ceil(8 * hmax);
        let mcus_y = height.div_ceil(8 * vmax);
        for c in &mut components {
            c.coded_w = (width * c.h).div_ceil(hmax).div_ceil(8);
            c.coded_h = (height * c.v).div_ceil(vmax).div_ceil(8);
            if count == 1 {
                (c.blocks_w, c.blocks_h) = (c.coded_w, c.coded_h);
            } else {
                (c.blocks_w, c.blocks_h) = (mcus_x * c.h, mcus_y * c.v);
            }
        }
        let frame = Frame {
            width,
            height,
            progressive: code == 0xC2,
            components,
            mcus_x,
            mcus_y,
        };
        Ok(frame)
    }
}

/// Refuses inputs whose colours are not YCbCr or gray: RGB-coded JPEGs.
pub fn colour_check(frame: &Frame, jfif: bool, adobe: Option<u8>) -> Result<(), Refusal> {
    if frame.components.len() != 3 {
        return Ok(());
    }
    let rgb_ids = frame.components.iter().map(|c| c.id).eq([b'R', b'G', b'B']);
    if adobe == Some(0) || (!jfif && adobe.is_none() && rgb_ids) {
        return Err(Refusal::unsupported("RGB-coded JPEG"));
    }
    Ok(())
}
