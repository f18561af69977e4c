//! A scan: its header, the order of its blocks (MCUs, restart intervals), and the decoding of
//! a baseline scan's blocks, requantized, into the output's symbols or a sparse store.
use super::bits::BitReader;
use super::frame::Frame;
use super::huffman::{Decoder, extend};
use super::quant::{BlockEntries, Requant, chroma_gains};
use super::refusal::Refusal;
use super::store::Sparse;
use super::tokens::{Tokens, encode_block};
use std::ops::Range;

pub struct Scan {
    /// Indexes into the frame's components, with DC and AC table numbers.
    pub components: Vec<(usize, usize, usize)>,
    pub ss: usize,
    pub se: usize,
    pub ah: u32,
    pub al: u32,
}

impl Scan {
    /// The scan whose header is `body`, checked against the frame and the tables defined so
    /// far. A component's quantization table is latched at its first scan, with its
    /// requantization to `outputs` (luminance, chrominance; subsampled chroma with
    /// [`chroma_gains`]), or to itself without them (the coefficients kept as they are:
    /// `--lossless`).
    pub fn parse(
        body: &[u8],
        frame: &mut Frame,
        qtables: &[Option<[u16; 64]>; 4],
        outputs: Option<&[[u16; 64]; 2]>,
        trellis: bool,
        dc_tables: &[Option<Decoder>; 4],
        ac_tables: &[Option<Decoder>; 4],
    ) -> Result<Scan, Refusal> {
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
            if frame.components[index].requant.is_none() {
                // Tables are latched at a component's first scan, as libjpeg does.
                let tq = frame.components[index].tq;
                let Some(table) = &qtables[tq] else {
                    return Err(Refusal::corrupt(format!(
                        "Quantization table 0x{tq:02x} was not defined"
                    )));
                };
                frame.components[index].table = *table;
                let requant = requant_for(frame, index, outputs, trellis);
                frame.components[index].requant = Some(requant);
            }
            let comp = &mut frame.components[index];
            blocks_in_mcu += comp.h * comp.v;
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
            let dc_ok = !needs_dc || dc_tables.get(td).is_some_and(Option::is_some);
            let ac_ok = !needs_ac || ac_tables.get(ta).is_some_and(Option::is_some);
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
        Ok(scan)
    }
}

/// The requantization of component `index` of `frame` (its table latched) to `outputs`
/// (luminance, chrominance), or to its own table without them (`--lossless`). A component to
/// downsample keeps the input's values (requantized by the downsampling, from its table).
pub fn requant_for(
    frame: &Frame,
    index: usize,
    outputs: Option<&[[u16; 64]; 2]>,
    trellis: bool,
) -> Requant {
    let comp = &frame.components[index];
    match outputs {
        Some(outputs) if !comp.raw => {
            // Chroma halved along an axis is smoothed there as a decode and re-encode smooths
            // it (luma and full-resolution axes: gains of 1).
            let hmax = frame.components.iter().map(|c| c.h).max().unwrap_or(1);
            let vmax = frame.components.iter().map(|c| c.v).max().unwrap_or(1);
            let chroma = frame.components.len() == 3 && index > 0;
            let gains = chroma_gains(chroma && 2 * comp.h == hmax, chroma && 2 * comp.v == vmax);
            let class = usize::from(index > 0);
            if trellis {
                Requant::with_trellis(&comp.table, &outputs[class], &gains, class)
            } else {
                Requant::with_gains(&comp.table, &outputs[class], &gains)
            }
        }
        _ => Requant::new(&comp.table, &comp.table),
    }
}

/// The order of a scan's blocks: MCUs, restart intervals.
pub struct Layout {
    /// MCUs across and down.
    mcus_x: usize,
    mcus_y: usize,
    /// Per scan component: (blocks across one MCU, down, the component's grid width); a
    /// single-component scan has MCUs of one block.
    components: Vec<(usize, usize, usize)>,
    restart_interval: usize,
}

/// What a scan does with each block.
pub trait BlockDecoder {
    /// Decodes the block at `block` (grid index) of scan component `si`.
    fn block(&mut self, bits: &mut BitReader, si: usize, block: usize) -> Result<(), Refusal>;
    /// The block at `block` has no data (lenient decoding of data that ended): all zero.
    fn zero_block(&mut self, si: usize, block: usize);
    /// Resets the predictions at a restart marker.
    fn restart(&mut self);
}

impl Layout {
    pub fn new(frame: &Frame, scan: &Scan, restart_interval: usize) -> Self {
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
    pub fn run(
        &self,
        bits: &mut BitReader,
        decoder: &mut impl BlockDecoder,
    ) -> Result<(), Refusal> {
        let mut cursor = self.cursor();
        self.run_rows(&mut cursor, bits, decoder, 0..self.mcus_y)
    }

    /// The position of a scan before its first MCU, for [`Layout::run_rows`].
    pub fn cursor(&self) -> Cursor {
        Cursor {
            left_in_interval: self.restart_interval,
            next_restart: 0,
            ended: false,
        }
    }

    /// Decodes the blocks of MCU rows `rows` (clamped to the scan's), going on from `cursor`:
    /// a scan can be decoded a few rows at a time, in order.
    pub fn run_rows(
        &self,
        cursor: &mut Cursor,
        bits: &mut BitReader,
        decoder: &mut impl BlockDecoder,
        rows: Range<usize>,
    ) -> Result<(), Refusal> {
        let single = match self.components.as_slice() {
            &[(1, 1, grid_w)] => Some(grid_w),
            _ => None,
        };
        for my in rows.start..rows.end.min(self.mcus_y) {
            for mx in 0..self.mcus_x {
                if self.restart_interval > 0 && !cursor.ended {
                    if cursor.left_in_interval == 0 {
                        bits.restart(cursor.next_restart)?;
                        cursor.next_restart = (cursor.next_restart + 1) & 7;
                        decoder.restart();
                        cursor.left_in_interval = self.restart_interval;
                    }
                    cursor.left_in_interval -= 1;
                }
                if let Some(grid_w) = single {
                    // One component, one block an MCU (every progressive AC scan).
                    let block = my * grid_w + mx;
                    if cursor.ended {
                        decoder.zero_block(0, block);
                    } else {
                        decoder.block(bits, 0, block)?;
                    }
                } else {
                    for (si, &(h, v, grid_w)) in self.components.iter().enumerate() {
                        for by in 0..v {
                            let row = (my * v + by) * grid_w + mx * h;
                            for block in row..row + h {
                                if cursor.ended {
                                    decoder.zero_block(si, block);
                                } else {
                                    decoder.block(bits, si, block)?;
                                }
                            }
                        }
                    }
                }
                // Data that ended early: an error when strict.
                if !cursor.ended && bits.overran() {
                    if bits.is_strict() {
                        return Err(bits.overrun_error());
                    }
                    // Lenient decoding: the blocks left are zero, as libjpeg makes them.
                    cursor.ended = true;
                }
            }
        }
        Ok(())
    }
}

/// Where a scan's decoding stands between calls of [`Layout::run_rows`].
pub struct Cursor {
    left_in_interval: usize,
    next_restart: u8,
    ended: bool,
}

pub struct BaselineScan<'s> {
    pub frame: &'s Frame,
    pub scan: &'s Scan,
    pub dc: &'s [Option<Decoder>; 4],
    pub ac: &'s [Option<Decoder>; 4],
    pub sparse: &'s mut [Sparse],
    /// The output's symbols, made as blocks are decoded (see [`super::frame::Decoded::tokens`]).
    pub fused: Option<Box<Tokens>>,
    /// A check of the data only: blocks are decoded and dropped.
    pub discard: bool,
    /// The output's DC prediction per component (no restarts in the output).
    pub output_pred: [i32; 4],
    /// One block's entries as they are read.
    pub entries: BlockEntries,
}

impl BaselineScan<'_> {
    /// Sends a decoded block (DC value, and `n` entries in `self.entries`) to the output's
    /// symbols or to the store.
    #[inline(always)]
    fn put(&mut self, si: usize, index: usize, block: usize, dc: i32, n: usize) {
        if self.discard {
            return;
        }
        let entries = &self.entries.entries[..n];
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
pub struct Predictions(pub [i32; 4]);

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
            scan.entries.push(requant, k, value);
            k += 1;
        }
        let n = scan.entries.finish(requant, usize::from(index > 0));
        scan.put(si, index, block, dc, n);
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
