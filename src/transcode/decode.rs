//! Reading the input: its segments (tables, frame, metadata) and its scans, entropy-decoded
//! and requantized to the output's tables. A baseline scan of every component in frame order
//! (the usual file) has the output's block order, so its blocks become the output's symbols
//! at once ([`Tokens`]); other baseline scans fill a [`Sparse`] store per component.
//! Progressive scans need every scan of a coefficient before it is known, so they fill a
//! dense store ([`Dense`]) that is requantized into the sparse one at the end.
//!
//! Every length, index, table and position comes from an untrusted file and is checked; the
//! memory used is bounded by the frame's declared size, which is checked first.
use super::Refusal;
use super::bits::BitReader;
use super::encode::{Tokens, encode_block};
use super::huffman::{Decoder, Spec, extend};
use super::quant::Requant;
use super::store::{Sparse, zeroed};
use crate::header::{self, next_marker};

/// Most scans accepted in one file (each one is a pass over the image; a typical progressive
/// JPEG has 10).
const MAX_SCANS: usize = 300;

/// One component of the frame.
pub struct Component {
    pub id: u8,
    pub h: usize,
    pub v: usize,
    tq: usize,
    /// The component's block grid as stored: whole MCUs for a multi-component frame.
    pub blocks_w: usize,
    pub blocks_h: usize,
    /// The blocks that cover the component's samples (a non-interleaved scan codes these).
    pub coded_w: usize,
    pub coded_h: usize,
    requant: Option<Requant>,
    /// The input's table, latched at the component's first scan (see [`FrameCheck::keep_tables`]).
    pub input_table: Option<[u16; 64]>,
    scanned: bool,
}

/// The frame: size, components and coding.
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

    /// The output keeps the input's quantization tables: coefficients are copied as they are,
    /// not requantized (`--lossless`), and `outputs` is not used.
    fn keep_tables(&self) -> bool {
        false
    }

    /// The output needs the coefficients ([`Decoded::coefficients`]), not the symbols of one
    /// baseline scan ([`Decoded::tokens`]): progressive output.
    fn coefficients(&self) -> bool {
        false
    }
}

struct Scan {
    /// Indexes into the frame's components, with DC and AC table numbers.
    components: Vec<(usize, usize, usize)>,
    ss: usize,
    se: usize,
    ah: u32,
    al: u32,
}

struct Reader<'a> {
    input: &'a [u8],
    strict: bool,
    data_only: bool,
    outputs: &'a [[u16; 64]; 2],
    qtables: [Option<[u16; 64]>; 4],
    dc_tables: [Option<Decoder>; 4],
    ac_tables: [Option<Decoder>; 4],
    restart_interval: usize,
    frame: Option<Frame>,
    sparse: Vec<Sparse>,
    dense: Vec<Dense>,
    segments: Vec<(u8, &'a [u8])>,
    adobe_transform: Option<u8>,
    jfif: bool,
    density: Option<(u8, u16, u16)>,
    scans: usize,
    tokens: Option<Box<Tokens>>,
}

fn be16(data: &[u8], at: usize) -> usize {
    usize::from(data[at]) << 8 | usize::from(data[at + 1])
}

/// Reads the whole input. `outputs` are the output's luminance and chrominance tables.
pub fn read<'a>(
    input: &'a [u8],
    strict: bool,
    outputs: &'a [[u16; 64]; 2],
    check: &dyn FrameCheck,
) -> Result<Decoded<'a>, Refusal> {
    if input.len() < 2 || input[0] != 0xFF || input[1] != 0xD8 {
        return Err(Refusal::corrupt(format!(
            "Not a JPEG file: starts with 0x{:02x} 0x{:02x}",
            input.first().copied().unwrap_or(0),
            input.get(1).copied().unwrap_or(0)
        )));
    }
    let mut r = Reader {
        input,
        strict,
        data_only: check.data_only(),
        outputs,
        qtables: [None; 4],
        dc_tables: Default::default(),
        ac_tables: Default::default(),
        restart_interval: 0,
        frame: None,
        sparse: Vec::new(),
        dense: Vec::new(),
        segments: Vec::new(),
        adobe_transform: None,
        jfif: false,
        density: None,
        scans: 0,
        tokens: None,
    };
    let mut pos = 2;
    let mut ended = false;
    while let Some((code, after)) = next_marker(input, pos) {
        pos = after;
        match code {
            0xD9 => {
                ended = true;
                break;
            }
            // Standalone markers: no length.
            0x01 | 0xD0..=0xD7 => continue,
            0xD8 => {
                return Err(Refusal::corrupt(
                    "Invalid JPEG file structure: two SOI markers",
                ));
            }
            _ => {}
        }
        let Some(len) = input.get(pos..pos + 2).map(|b| be16(b, 0)) else {
            return Err(Refusal::corrupt("Premature end of JPEG file"));
        };
        if len < 2 {
            return Err(Refusal::corrupt(format!(
                "Corrupt JPEG data: marker 0x{code:02x} with length {len}"
            )));
        }
        let Some(body) = input.get(pos + 2..pos + len) else {
            return Err(Refusal::corrupt("Premature end of JPEG file"));
        };
        pos += len;
        match code {
            0xC0..=0xC2 => r.frame(code, body)?,
            0xC3 => return Err(Refusal::unsupported("lossless JPEG")),
            0xC5..=0xC7 | 0xCD..=0xCF => return Err(Refusal::unsupported("hierarchical JPEG")),
            0xC9..=0xCB => return Err(Refusal::unsupported("arithmetic coding")),
            0xC4 => r.huffman_tables(body)?,
            0xCC => return Err(Refusal::unsupported("arithmetic coding")),
            0xDB => r.quant_tables(body)?,
            0xDD => {
                if body.len() < 2 {
                    return Err(Refusal::corrupt("Bogus DRI marker length"));
                }
                r.restart_interval = be16(body, 0);
            }
            0xDA => {
                pos = r.scan(body, pos, check)?;
            }
            0xDC => return Err(Refusal::unsupported("a DNL marker")),
            0xE0..=0xEF | 0xFE => r.segment(code, body),
            _ => {}
        }
    }
    if !ended && strict {
        return Err(Refusal::corrupt("Premature end of JPEG file"));
    }
    r.finish()
}

impl<'a> Reader<'a> {
    fn frame(&mut self, code: u8, body: &[u8]) -> Result<(), Refusal> {
        if self.frame.is_some() {
            return Err(Refusal::corrupt(
                "Invalid JPEG file structure: two SOF markers",
            ));
        }
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
        let colours_ok = count == 1 || count == 3 || (self.data_only && count == 4);
        if !colours_ok {
            return Err(Refusal::unsupported(format!("{count} colour components")));
        }
        crate::codec::check_size(width, height, self.input.len()).map_err(Refusal::Invalid)?;
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
                input_table: None,
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
        self.frame = Some(frame);
        Ok(())
    }

    fn huffman_tables(&mut self, mut body: &[u8]) -> Result<(), Refusal> {
        while !body.is_empty() {
            if body.len() < 17 {
                return Err(Refusal::corrupt("Bogus DHT marker length"));
            }
            let (class, id) = (body[0] >> 4, usize::from(body[0] & 15));
            let mut counts = [0u8; 16];
            counts.copy_from_slice(&body[1..17]);
            let total: usize = counts.iter().map(|&c| usize::from(c)).sum();
            let Some(symbols) = body.get(17..17 + total) else {
                return Err(Refusal::corrupt("Bogus DHT marker length"));
            };
            if class > 1 || id > 3 {
                return Err(Refusal::corrupt(format!("Bogus DHT index {}", body[0])));
            }
            let spec = Spec {
                counts,
                symbols: symbols.to_vec(),
            };
            let decoder = Decoder::new(&spec, class == 0)?;
            if class == 0 {
                self.dc_tables[id] = Some(decoder);
            } else {
                self.ac_tables[id] = Some(decoder);
            }
            body = &body[17 + total..];
        }
        Ok(())
    }

    fn quant_tables(&mut self, mut body: &[u8]) -> Result<(), Refusal> {
        while !body.is_empty() {
            let (precision, id) = (body[0] >> 4, usize::from(body[0] & 15));
            if precision > 1 || id > 3 {
                return Err(Refusal::corrupt(format!("Bogus DQT index {id}")));
            }
            let size = if precision == 0 { 64 } else { 128 };
            let Some(values) = body.get(1..1 + size) else {
                return Err(Refusal::corrupt("Bogus DQT marker length"));
            };
            let mut table = [0u16; 64];
            for (k, slot) in table.iter_mut().enumerate() {
                *slot = if precision == 0 {
                    u16::from(values[k])
                } else {
                    u16::from_be_bytes([values[2 * k], values[2 * k + 1]])
                };
            }
            self.qtables[id] = Some(table);
            body = &body[1 + size..];
        }
        Ok(())
    }

    fn segment(&mut self, code: u8, body: &'a [u8]) {
        // As libjpeg: segments after the first scan are not kept, a JFIF segment is read
        // from 14 bytes on, and a density in units it does not know is not copied.
        if self.scans > 0 {
            return;
        }
        if code == 0xE0 && body.len() >= 14 && body.starts_with(b"JFIF\0") {
            self.jfif = true;
            if body[7] <= 2 {
                self.density = Some((
                    body[7],
                    u16::from_be_bytes([body[8], body[9]]),
                    u16::from_be_bytes([body[10], body[11]]),
                ));
            }
        }
        if code == 0xEE && body.len() >= 12 && body.starts_with(b"Adobe") {
            self.adobe_transform = Some(body[11]);
        }
        self.segments.push((code, body));
    }

    /// Decodes one scan whose header is `body`, its data starting at `pos`. Returns the
    /// position of the marker after the data.
    fn scan(&mut self, body: &[u8], pos: usize, check: &dyn FrameCheck) -> Result<usize, Refusal> {
        let Some(frame) = self.frame.as_mut() else {
            return Err(Refusal::corrupt(
                "Invalid JPEG file structure: SOS before SOF",
            ));
        };
        self.scans += 1;
        if self.scans > MAX_SCANS {
            return Err(Refusal::unsupported(format!("more than {MAX_SCANS} scans")));
        }
        if self.scans == 1 {
            if !self.data_only {
                colour_check(frame, self.jfif, self.adobe_transform)?;
            }
            check.check(frame, &self.segments)?;
        }
        let count = usize::from(*body.first().unwrap_or(&0));
        if !(1..=4).contains(&count) || body.len() != 4 + 2 * count {
            return Err(Refusal::corrupt("Bogus SOS marker length"));
        }
        let mut components = Vec::with_capacity(count);
        let mut blocks_in_mcu = 0;
        for c in body[1..1 + 2 * count].chunks_exact(2) {
            let Some(index) = frame.components.iter().position(|f| f.id == c[0]) else {
                return Err(Refusal::corrupt(format!(
                    "Invalid component ID {} in SOS",
                    c[0]
                )));
            };
            if components.iter().any(|&(i, _, _)| i == index) {
                return Err(Refusal::corrupt(format!(
                    "Invalid component ID {} in SOS",
                    c[0]
                )));
            }
            let comp = &mut frame.components[index];
            blocks_in_mcu += comp.h * comp.v;
            if comp.requant.is_none() {
                // Tables are latched at a component's first scan, as libjpeg does.
                let Some(table) = &self.qtables[comp.tq] else {
                    return Err(Refusal::corrupt(format!(
                        "Quantization table 0x{:02x} was not defined",
                        comp.tq
                    )));
                };
                let output = if check.keep_tables() {
                    table
                } else {
                    &self.outputs[usize::from(index > 0)]
                };
                comp.requant = Some(Requant::new(table, output));
                comp.input_table = Some(*table);
            }
            if !frame.progressive && comp.scanned {
                return Err(Refusal::corrupt(format!(
                    "component {} appears in two sequential scans",
                    comp.id
                )));
            }
            comp.scanned = true;
            components.push((index, usize::from(c[1] >> 4), usize::from(c[1] & 15)));
        }
        if count > 1 && blocks_in_mcu > 10 {
            return Err(Refusal::corrupt(
                "Sampling factors too large for interleaved scan",
            ));
        }
        let tail = &body[1 + 2 * count..];
        let scan = Scan {
            components,
            ss: usize::from(tail[0]),
            se: usize::from(tail[1]),
            ah: u32::from(tail[2] >> 4),
            al: u32::from(tail[2] & 15),
        };
        let needs_ac = !frame.progressive || scan.ss > 0;
        let needs_dc = !frame.progressive || (scan.ss == 0 && scan.ah == 0);
        for &(_, td, ta) in &scan.components {
            let dc_ok = !needs_dc || self.dc_tables.get(td).is_some_and(Option::is_some);
            let ac_ok = !needs_ac || self.ac_tables.get(ta).is_some_and(Option::is_some);
            if !dc_ok || !ac_ok {
                // libjpeg would use the standard tables (Motion JPEG); the pixel path does.
                return Err(Refusal::unsupported(
                    "a scan uses an undefined Huffman table",
                ));
            }
        }
        if frame.progressive {
            let valid = if scan.ss == 0 {
                scan.se == 0
            } else {
                scan.se >= scan.ss && scan.se <= 63 && count == 1
            } && (scan.ah == 0 || scan.al + 1 == scan.ah)
                && scan.al <= 13;
            if !valid {
                return Err(Refusal::corrupt(format!(
                    "Invalid progressive parameters Ss={} Se={} Ah={} Al={}",
                    scan.ss, scan.se, scan.ah, scan.al
                )));
            }
        }
        let mut bits = BitReader::new(self.input, pos, self.strict);
        let frame = &*frame;
        let layout = Layout::new(frame, &scan, self.restart_interval);
        // A first baseline scan of every component in frame order has the output's block
        // order: its blocks go straight to the output's symbols, with no store in between (and
        // no other baseline scan can follow it: each component has one).
        let in_output_order = !frame.progressive
            && !check.coefficients()
            && self.scans == 1
            && scan.components.len() == frame.components.len()
            && scan.components.iter().enumerate().all(|(i, c)| c.0 == i);
        if self.scans == 1 && !in_output_order {
            for c in &frame.components {
                let blocks = c.blocks_w * c.blocks_h;
                if frame.progressive {
                    self.dense.push(Dense {
                        coefs: zeroed(blocks * 64)?,
                        nonzero: zeroed(blocks)?,
                    });
                } else if !self.data_only {
                    // (A check of the data only keeps no baseline coefficients.)
                    self.sparse.push(Sparse::new(blocks)?);
                }
            }
        }
        if !frame.progressive {
            let fused = if in_output_order && !self.data_only {
                let blocks: usize = frame
                    .components
                    .iter()
                    .map(|c| c.blocks_w * c.blocks_h)
                    .sum();
                Some(Box::new(Tokens::with_capacity(blocks * 3)?))
            } else {
                None
            };
            let mut state = (
                BaselineScan {
                    frame,
                    scan: &scan,
                    dc: &self.dc_tables,
                    ac: &self.ac_tables,
                    sparse: &mut self.sparse,
                    fused,
                    discard: self.data_only,
                    output_pred: [0; 4],
                    entries: [0; 64],
                },
                Predictions([0; 4]),
            );
            layout.run(&mut bits, &mut state)?;
            self.tokens = state.0.fused;
        } else {
            let mut state = (
                ProgressiveScan {
                    scan: &scan,
                    dc: &self.dc_tables,
                    ac: &self.ac_tables,
                    dense: &mut self.dense,
                    eobrun: 0,
                },
                Predictions([0; 4]),
            );
            layout.run(&mut bits, &mut state)?;
        }
        match bits.finish()? {
            Some((_, after)) => Ok(after - 2),
            None => Ok(self.input.len()),
        }
    }

    fn finish(mut self) -> Result<Decoded<'a>, Refusal> {
        let Some(frame) = self.frame.take() else {
            return Err(Refusal::corrupt("no image in the file (no SOF marker)"));
        };
        if self.scans == 0 {
            return Err(Refusal::corrupt(
                "no image data in the file (no SOS marker)",
            ));
        }
        if self.strict && frame.components.iter().any(|c| !c.scanned) {
            return Err(Refusal::corrupt("Premature end of JPEG file"));
        }
        // Baseline: the stores its scans filled (none when they became tokens).
        let mut coefficients = self.sparse;
        // A check of the data only needs no output coefficients.
        if !self.data_only {
            for (comp, dense) in frame.components.iter().zip(&self.dense) {
                coefficients.push(sparsify(comp, dense)?);
            }
        }
        Ok(Decoded {
            frame,
            coefficients,
            segments: self.segments,
            density: self.density,
            tokens: self.tokens,
        })
    }
}

/// Refuses inputs whose colours are not YCbCr or gray: RGB-coded JPEGs.
fn colour_check(frame: &Frame, jfif: bool, adobe: Option<u8>) -> Result<(), Refusal> {
    if frame.components.len() != 3 {
        return Ok(());
    }
    let rgb_ids = frame.components.iter().map(|c| c.id).eq([b'R', b'G', b'B']);
    if adobe == Some(0) || (!jfif && adobe.is_none() && rgb_ids) {
        return Err(Refusal::unsupported("RGB-coded JPEG"));
    }
    Ok(())
}

/// A progressive component's coefficients as its scans build them: 64 a block in zigzag
/// order, and a mask of each block's non-zero AC positions (so that refinement and the final
/// requantization visit those only).
struct Dense {
    coefs: Vec<i16>,
    nonzero: Vec<u64>,
}

/// The requantized sparse form of a progressive component's dense coefficients.
fn sparsify(comp: &Component, dense: &Dense) -> Result<Sparse, Refusal> {
    let blocks = comp.blocks_w * comp.blocks_h;
    let mut sparse = Sparse::new(blocks)?;
    let Some(requant) = &comp.requant else {
        return Ok(sparse);
    };
    for (b, (block, &mask)) in dense
        .coefs
        .chunks_exact(64)
        .zip(&dense.nonzero)
        .enumerate()
        .take(blocks)
    {
        sparse.begin(b, requant.apply_dc(i32::from(block[0])));
        let mut mask = mask & !1;
        while mask != 0 {
            let k = mask.trailing_zeros() as usize;
            mask &= mask - 1;
            let q = requant.apply(i32::from(block[k]), k);
            if q != 0 {
                sparse.push(k, q);
            }
        }
        sparse.end(b);
    }
    Ok(sparse)
}

/// The order of a scan's blocks: MCUs, restart intervals.
struct Layout {
    /// MCUs across and down.
    mcus_x: usize,
    mcus_y: usize,
    /// Per scan component: (blocks across one MCU, down, the component's grid width); a
    /// single-component scan has MCUs of one block.
    components: Vec<(usize, usize, usize)>,
    restart_interval: usize,
}

/// What a scan does with each block.
trait BlockDecoder {
    /// Decodes the block at `block` (grid index) of scan component `si`.
    fn block(&mut self, bits: &mut BitReader, si: usize, block: usize) -> Result<(), Refusal>;
    /// The block at `block` has no data (lenient decoding of data that ended): all zero.
    fn zero_block(&mut self, si: usize, block: usize);
    /// Resets the predictions at a restart marker.
    fn restart(&mut self);
}

impl Layout {
    fn new(frame: &Frame, scan: &Scan, restart_interval: usize) -> Self {
        let single = scan.components.len() == 1;
        let components = scan
            .components
            .iter()
            .map(|&(i, _, _)| {
                let c = &frame.components[i];
                if single {
                    (1, 1, c.blocks_w)
                } else {
                    (c.h, c.v, c.blocks_w)
                }
            })
            .collect();
        let (mcus_x, mcus_y) = if single {
            let c = &frame.components[scan.components[0].0];
            (c.coded_w, c.coded_h)
        } else {
            (frame.mcus_x, frame.mcus_y)
        };
        Layout {
            mcus_x,
            mcus_y,
            components,
            restart_interval,
        }
    }

    /// Decodes the scan's blocks.
    fn run(&self, bits: &mut BitReader, decoder: &mut impl BlockDecoder) -> Result<(), Refusal> {
        let mut left_in_interval = self.restart_interval;
        let mut next_restart = 0u8;
        // Lenient decoding of data that ended: the blocks left are zero, as libjpeg makes them.
        let mut ended = false;
        for my in 0..self.mcus_y {
            for mx in 0..self.mcus_x {
                if self.restart_interval > 0 && !ended {
                    if left_in_interval == 0 {
                        bits.restart(next_restart)?;
                        next_restart = (next_restart + 1) & 7;
                        decoder.restart();
                        left_in_interval = self.restart_interval;
                    }
                    left_in_interval -= 1;
                }
                for (si, &(h, v, grid_w)) in self.components.iter().enumerate() {
                    for by in 0..v {
                        let row = (my * v + by) * grid_w + mx * h;
                        for block in row..row + h {
                            if ended {
                                decoder.zero_block(si, block);
                            } else {
                                decoder.block(bits, si, block)?;
                            }
                        }
                    }
                }
                // Data that ended early: an error when strict.
                if !ended && bits.overran() {
                    if bits.is_strict() {
                        return Err(bits.overrun_error());
                    }
                    ended = true;
                }
            }
        }
        Ok(())
    }
}

struct BaselineScan<'s> {
    frame: &'s Frame,
    scan: &'s Scan,
    dc: &'s [Option<Decoder>; 4],
    ac: &'s [Option<Decoder>; 4],
    sparse: &'s mut [Sparse],
    /// The output's symbols, made as blocks are decoded (see [`Decoded::tokens`]).
    fused: Option<Box<Tokens>>,
    /// A check of the data only: blocks are decoded and dropped.
    discard: bool,
    /// The output's DC prediction per component (no restarts in the output).
    output_pred: [i32; 4],
    /// Room for one block's entries.
    entries: [u32; 64],
}

impl BaselineScan<'_> {
    /// Sends a decoded block (DC value, and `n` entries in `self.entries`) to the output's
    /// symbols or to the store.
    #[inline(always)]
    fn put(&mut self, si: usize, index: usize, block: usize, dc: i32, n: usize) {
        if self.discard {
            return;
        }
        let entries = &self.entries[..n];
        if let Some(tokens) = self.fused.as_deref_mut() {
            let diff = dc - self.output_pred[si];
            self.output_pred[si] = dc;
            encode_block(tokens, usize::from(index > 0), diff, entries);
        } else {
            let sparse = &mut self.sparse[index];
            sparse.begin(block, dc);
            sparse.ac.extend_from_slice(entries);
            sparse.end(block);
        }
    }
}

/// The DC prediction of each scan component.
struct Predictions([i32; 4]);

impl BlockDecoder for (BaselineScan<'_>, Predictions) {
    #[inline(always)]
    fn block(&mut self, bits: &mut BitReader, si: usize, block: usize) -> Result<(), Refusal> {
        let (scan, preds) = self;
        let (index, td, ta) = scan.scan.components[si];
        let (Some(dc), Some(ac), Some(requant)) = (
            scan.dc[td].as_ref(),
            scan.ac[ta].as_ref(),
            scan.frame.components[index].requant.as_ref(),
        ) else {
            return Ok(());
        };
        let size = u32::from(bits.symbol(dc)?);
        let diff = extend(bits.bits(size), size);
        preds.0[si] = preds.0[si].wrapping_add(diff);
        let dc = requant.apply_dc(preds.0[si]);
        // The block's entries gather in a buffer, then go out at once.
        let entries = &mut scan.entries;
        let mut n = 0;
        let mut k = 1usize;
        while k < 64 {
            let (run, value) = bits.ac(ac)?;
            if value == 0 {
                if run == 15 {
                    k += 16;
                    continue;
                }
                break;
            }
            k += run as usize;
            if k > 63 {
                if bits.is_strict() {
                    return Err(Refusal::corrupt(
                        "Corrupt JPEG data: coefficient past the end of a block",
                    ));
                }
                break;
            }
            // Written always, kept when non-zero: no branch to mispredict on the value.
            let q = requant.apply(value, k);
            entries[n & 63] = Sparse::entry(k, q);
            n += usize::from(q != 0);
            k += 1;
        }
        scan.put(si, index, block, dc, n.min(64));
        Ok(())
    }

    fn zero_block(&mut self, si: usize, block: usize) {
        let index = self.0.scan.components[si].0;
        self.0.put(si, index, block, 0, 0);
    }

    fn restart(&mut self) {
        self.1.0 = [0; 4];
    }
}

struct ProgressiveScan<'s> {
    scan: &'s Scan,
    dc: &'s [Option<Decoder>; 4],
    ac: &'s [Option<Decoder>; 4],
    dense: &'s mut [Dense],
    eobrun: u32,
}

impl BlockDecoder for (ProgressiveScan<'_>, Predictions) {
    fn block(&mut self, bits: &mut BitReader, si: usize, block: usize) -> Result<(), Refusal> {
        let (scan, preds) = self;
        let (index, td, ta) = scan.scan.components[si];
        let (ss, se, ah, al) = (scan.scan.ss, scan.scan.se, scan.scan.ah, scan.scan.al);
        let dense = &mut scan.dense[index];
        let (Some(coefs), Some(nonzero)) = (
            dense.coefs.get_mut(block * 64..block * 64 + 64),
            dense.nonzero.get_mut(block),
        ) else {
            return Ok(());
        };
        if ss == 0 {
            if ah == 0 {
                let Some(dc) = &scan.dc[td] else {
                    return Ok(());
                };
                let size = u32::from(bits.symbol(dc)?);
                let diff = extend(bits.bits(size), size);
                preds.0[si] = preds.0[si].wrapping_add(diff);
                coefs[0] = (preds.0[si].wrapping_shl(al)) as i16;
            } else if bits.bit() {
                coefs[0] |= (1i32 << al) as i16;
            }
            return Ok(());
        }
        let Some(ac) = &scan.ac[ta] else {
            return Ok(());
        };
        if ah == 0 {
            ac_first(bits, ac, coefs, nonzero, (ss, se, al), &mut scan.eobrun)
        } else {
            ac_refine(bits, ac, coefs, nonzero, (ss, se, al), &mut scan.eobrun)
        }
    }

    fn zero_block(&mut self, _si: usize, _block: usize) {}

    fn restart(&mut self) {
        self.1.0 = [0; 4];
        self.0.eobrun = 0;
    }
}

/// A first AC scan of one block: band `ss..=se` at point transform `al`.
fn ac_first(
    bits: &mut BitReader,
    ac: &Decoder,
    coefs: &mut [i16],
    nonzero: &mut u64,
    (ss, se, al): (usize, usize, u32),
    eobrun: &mut u32,
) -> Result<(), Refusal> {
    if *eobrun > 0 {
        *eobrun -= 1;
        return Ok(());
    }
    let mut k = ss;
    while k <= se {
        let symbol = bits.symbol(ac)?;
        let (run, size) = (u32::from(symbol >> 4), u32::from(symbol & 15));
        if size == 0 {
            if run < 15 {
                *eobrun = (1 << run) + bits.bits(run) - 1;
                break;
            }
            k += 16;
            continue;
        }
        k += run as usize;
        if k > se {
            if bits.is_strict() {
                return Err(Refusal::corrupt(
                    "Corrupt JPEG data: coefficient past the end of a band",
                ));
            }
            break;
        }
        let value = extend(bits.bits(size), size).wrapping_shl(al) as i16;
        coefs[k] = value;
        *nonzero = (*nonzero & !(1 << k)) | u64::from(value != 0) << k;
        k += 1;
    }
    Ok(())
}

/// A refinement AC scan of one block (libjpeg's `decode_mcu_AC_refine`).
fn ac_refine(
    bits: &mut BitReader,
    ac: &Decoder,
    coefs: &mut [i16],
    nonzero: &mut u64,
    (ss, se, al): (usize, usize, u32),
    eobrun: &mut u32,
) -> Result<(), Refusal> {
    let p1 = (1i32 << al) as i16;
    let m1 = (-1i32 << al) as i16;
    // A correction bit for an already non-zero coefficient: 1 = one more step away from 0.
    let refine = |bits: &mut BitReader, c: &mut i16| {
        if bits.bit() && (*c & p1) == 0 {
            *c = if *c >= 0 {
                c.wrapping_add(p1)
            } else {
                c.wrapping_add(m1)
            };
        }
    };
    let mut k = ss;
    if *eobrun == 0 {
        while k <= se {
            let symbol = bits.symbol(ac)?;
            let mut run = i32::from(symbol >> 4);
            let size = symbol & 15;
            let mut new_value = 0i16;
            if size != 0 {
                if size != 1 && bits.is_strict() {
                    return Err(Refusal::corrupt("Corrupt JPEG data: bad Huffman code"));
                }
                new_value = if bits.bit() { p1 } else { m1 };
            } else if run != 15 {
                *eobrun = (1 << run) + bits.bits(run as u32);
                break;
            }
            // Skip `run` zero coefficients, refining the non-zero ones passed on the way.
            while k <= se {
                let c = &mut coefs[k];
                if *c != 0 {
                    refine(bits, c);
                } else {
                    if run == 0 {
                        break;
                    }
                    run -= 1;
                }
                k += 1;
            }
            if new_value != 0 && k <= se {
                coefs[k] = new_value;
                *nonzero |= 1 << k;
            }
            k += 1;
        }
    }
    if *eobrun > 0 {
        // The rest of the band: a correction bit for each non-zero coefficient, in order.
        if k <= se {
            let band = (u64::MAX >> (63 - se)) & (u64::MAX << k);
            let mut mask = *nonzero & band;
            while mask != 0 {
                let k = mask.trailing_zeros() as usize;
                mask &= mask - 1;
                refine(bits, &mut coefs[k]);
            }
        }
        *eobrun -= 1;
    }
    Ok(())
}
