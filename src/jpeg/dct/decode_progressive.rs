//! Progressive scans. Every scan of a coefficient is needed before it is known, so the scans
//! are only located while the file is read ([`Deferred`]), then decoded together a strip at a
//! time ([`decode`]): each scan decodes one MCU row's worth of blocks, in file order, into a
//! dense store of that strip only, which is then requantized into the sparse form. The store
//! stays in the cache, where a whole image's (128 bytes a block) would not: each scan would
//! otherwise be a pass over memory.
use super::bits::BitReader;
use super::frame::{Component, Frame};
use super::huffman::{Decoder, extend};
use super::quant::BlockEntries;
use super::refusal::Refusal;
use super::scan::{BlockDecoder, Cursor, Layout, Predictions, Scan};
use super::store::{Sparse, zeroed};

/// One strip of a progressive component's coefficients as its scans build them: the DC
/// values apart, the AC ones 64 a block in zigzag order (position 0 unused), and a mask of
/// each block's non-zero AC positions (so that refinement and the requantization visit those
/// only).
struct Dense {
    dc: Vec<i16>,
    coefs: Vec<i16>,
    nonzero: Vec<u64>,
}

impl Dense {
    fn new(blocks: usize) -> Result<Self, Refusal> {
        Ok(Dense {
            dc: zeroed(blocks)?,
            coefs: zeroed(blocks * 64)?,
            nonzero: zeroed(blocks)?,
        })
    }

    fn clear(&mut self) {
        self.dc.fill(0);
        self.coefs.fill(0);
        self.nonzero.fill(0);
    }
}

/// A progressive scan located in the file, decoded later: its header, its data's reader, the
/// Huffman tables defined when it came (a later DHT may replace them), and where its decoding
/// stands.
pub struct Deferred<'a> {
    scan: Scan,
    layout: Layout,
    cursor: Cursor,
    bits: BitReader<'a>,
    dc: [Option<Decoder>; 4],
    ac: Option<Decoder>,
    predictions: Predictions,
    eobrun: u32,
}

impl<'a> Deferred<'a> {
    /// The scan `scan` of `frame`, its data at `bits`; `dc` and `ac` are the tables defined
    /// so far (those the scan uses are kept).
    pub fn new(
        frame: &Frame,
        scan: Scan,
        restart_interval: usize,
        bits: BitReader<'a>,
        dc: &[Option<Decoder>; 4],
        ac: &[Option<Decoder>; 4],
    ) -> Self {
        let layout = Layout::new(frame, &scan, restart_interval);
        let mut dc_kept: [Option<Decoder>; 4] = Default::default();
        let mut ac_kept = None;
        if scan.ss == 0 {
            if scan.ah == 0 {
                for &(_, td, _) in &scan.components {
                    dc_kept[td] = dc[td].clone();
                }
            }
        } else if let Some(&(_, _, ta)) = scan.components.first() {
            ac_kept = ac[ta].clone();
        }
        Deferred {
            cursor: layout.cursor(),
            layout,
            scan,
            bits,
            dc: dc_kept,
            ac: ac_kept,
            predictions: Predictions([0; 4]),
            eobrun: 0,
        }
    }

    /// Decodes the scan's blocks of strip `strip` (MCU row) into `dense`.
    fn strip(&mut self, frame: &Frame, strip: usize, dense: &mut [Dense]) -> Result<(), Refusal> {
        let first_row = |c: &Component| strip * c.v;
        let mut bases = [0; 4];
        for (base, c) in bases.iter_mut().zip(&frame.components) {
            *base = first_row(c) * c.blocks_w;
        }
        let rows = match self.scan.components.as_slice() {
            // One component: its own block rows of the strip (a row an MCU).
            &[(index, _, _)] => match frame.components.get(index) {
                Some(c) => first_row(c)..first_row(c) + c.v,
                None => return Ok(()),
            },
            _ => strip..strip + 1,
        };
        if self.scan.ss == 0 {
            let mut state = (
                DcScan {
                    scan: &self.scan,
                    dc: &self.dc,
                    dense,
                    bases,
                },
                Predictions(self.predictions.0),
            );
            let result = self
                .layout
                .run_rows(&mut self.cursor, &mut self.bits, &mut state, rows);
            self.predictions = state.1;
            result
        } else {
            // One component (checked by `Scan::parse`), whose AC table is defined.
            let index = self.scan.components[0].0;
            let (Some(ac), Some(dense), Some(&base)) =
                (self.ac.as_ref(), dense.get_mut(index), bases.get(index))
            else {
                return Ok(());
            };
            let mut state = AcScan {
                ac,
                dense,
                base,
                band: (self.scan.ss, self.scan.se, self.scan.al),
                refine: self.scan.ah > 0,
                eobrun: self.eobrun,
            };
            let result = self
                .layout
                .run_rows(&mut self.cursor, &mut self.bits, &mut state, rows);
            self.eobrun = state.eobrun;
            result
        }
    }
}

/// Decodes the progressive scans of `frame`, a strip at a time, into the requantized sparse
/// form of each component (none when `data_only`: a check of the data).
pub fn decode(
    frame: &Frame,
    scans: &mut [Deferred],
    data_only: bool,
) -> Result<Vec<Sparse>, Refusal> {
    let mut dense = Vec::with_capacity(frame.components.len());
    let mut sparse = Vec::with_capacity(frame.components.len());
    for c in &frame.components {
        dense.push(Dense::new(c.blocks_w * c.v)?);
        if !data_only {
            sparse.push(Sparse::new(c.blocks_w * c.blocks_h)?);
        }
    }
    let mut entries = BlockEntries::default();
    for strip in 0..frame.mcus_y {
        for scan in scans.iter_mut() {
            scan.strip(frame, strip, &mut dense)?;
        }
        for (i, (comp, store)) in frame.components.iter().zip(&mut sparse).enumerate() {
            sparsify(
                comp,
                &dense[i],
                strip,
                store,
                usize::from(i > 0),
                &mut entries,
            );
        }
        for d in &mut dense {
            d.clear();
        }
    }
    for scan in scans {
        // Data that ended early is an error when strict.
        scan.bits.finish()?;
    }
    Ok(sparse)
}

/// Requantizes strip `strip` of a component's dense coefficients into its sparse store
/// (`class`: the output's table class, 0 luminance, 1 chrominance).
fn sparsify(
    comp: &Component,
    dense: &Dense,
    strip: usize,
    sparse: &mut Sparse,
    class: usize,
    entries: &mut BlockEntries,
) {
    let Some(requant) = &comp.requant else {
        return;
    };
    let first = strip * comp.v * comp.blocks_w;
    let blocks = (comp.blocks_w * comp.blocks_h).saturating_sub(first);
    for (b, ((block, &mask), &dc)) in dense
        .coefs
        .chunks_exact(64)
        .zip(&dense.nonzero)
        .zip(&dense.dc)
        .enumerate()
        .take(blocks)
    {
        // The non-zero AC positions, in order.
        let mut mask = mask & !1;
        let values = std::iter::from_fn(|| {
            (mask != 0).then(|| {
                let k = mask.trailing_zeros() as usize;
                mask &= mask - 1;
                (k, i32::from(block[k]))
            })
        });
        entries.requantize_into(requant, class, (i32::from(dc), values), sparse, first + b);
    }
}

/// A DC scan (first or refinement) of one or more components, over a strip whose first block
/// is `bases[i]` in component `i`'s grid.
struct DcScan<'s> {
    scan: &'s Scan,
    dc: &'s [Option<Decoder>; 4],
    dense: &'s mut [Dense],
    bases: [usize; 4],
}

impl BlockDecoder for (DcScan<'_>, Predictions) {
    fn block(&mut self, bits: &mut BitReader, si: usize, block: usize) -> Result<(), Refusal> {
        let (scan, preds) = self;
        let (index, td, _) = scan.scan.components[si];
        let al = scan.scan.al;
        let base = scan.bases.get(index).copied().unwrap_or(0);
        let Some(coef) = scan
            .dense
            .get_mut(index)
            .and_then(|d| d.dc.get_mut(block.wrapping_sub(base)))
        else {
            return Ok(());
        };
        if scan.scan.ah == 0 {
            let Some(dc) = &scan.dc[td] else {
                return Ok(());
            };
            let size = u32::from(bits.symbol(dc)?);
            let diff = extend(bits.bits(size), size);
            preds.0[si] = preds.0[si].wrapping_add(diff);
            *coef = (preds.0[si].wrapping_shl(al)) as i16;
        } else if bits.bit() {
            *coef |= (1i32 << al) as i16;
        }
        Ok(())
    }

    fn zero_block(&mut self, _si: usize, _block: usize) {}

    fn restart(&mut self) {
        self.1.0 = [0; 4];
    }
}

/// An AC scan (first or refinement) of one component's band `ss..=se` at point transform
/// `al`, over a strip whose first block is `base`. Its own decoder, apart from the DC scans',
/// so that the many blocks an end-of-band run covers cost a decrement each.
struct AcScan<'s> {
    ac: &'s Decoder,
    dense: &'s mut Dense,
    base: usize,
    band: (usize, usize, u32),
    refine: bool,
    eobrun: u32,
}

impl BlockDecoder for AcScan<'_> {
    #[inline(always)]
    fn block(&mut self, bits: &mut BitReader, _si: usize, block: usize) -> Result<(), Refusal> {
        if !self.refine && self.eobrun > 0 {
            self.eobrun -= 1;
            return Ok(());
        }
        let local = block.wrapping_sub(self.base);
        let (Some(coefs), Some(nonzero)) = (
            self.dense.coefs.chunks_exact_mut(64).nth(local),
            self.dense.nonzero.get_mut(local),
        ) else {
            return Ok(());
        };
        if self.refine {
            ac_refine(bits, self.ac, coefs, nonzero, self.band, &mut self.eobrun)
        } else {
            ac_first(bits, self.ac, coefs, nonzero, self.band, &mut self.eobrun)
        }
    }

    fn zero_block(&mut self, _si: usize, _block: usize) {}

    fn restart(&mut self) {
        self.eobrun = 0;
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
            Refusal::unless_lenient(
                bits.is_strict(),
                "Corrupt JPEG data: coefficient past the end of a band".into(),
            )?;
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
    // A correction bit for each already non-zero coefficient of `mask`, in order: 1 = one more
    // step away from 0.
    let refine = |bits: &mut BitReader, coefs: &mut [i16], mut mask: u64| {
        while mask != 0 {
            let c = &mut coefs[mask.trailing_zeros() as usize];
            mask &= mask - 1;
            if bits.bit() && (*c & p1) == 0 {
                *c = if *c >= 0 {
                    c.wrapping_add(p1)
                } else {
                    c.wrapping_add(m1)
                };
            }
        }
    };
    let mut k = ss;
    if *eobrun == 0 {
        while k <= se {
            let symbol = bits.symbol(ac)?;
            let run = symbol >> 4;
            let size = symbol & 15;
            let mut new_value = 0i16;
            if size != 0 {
                if size != 1 {
                    Refusal::unless_lenient(
                        bits.is_strict(),
                        "Corrupt JPEG data: bad Huffman code".into(),
                    )?;
                }
                new_value = if bits.bit() { p1 } else { m1 };
            } else if run != 15 {
                *eobrun = (1 << run) + bits.bits(u32::from(run));
                break;
            }
            // Skip `run` zero coefficients, refining the non-zero ones passed on the way: the
            // stop is the band's `run`-th zero from `k` on (0-based), or past the band.
            let mut zeros = !*nonzero & positions(k, se);
            for _ in 0..run {
                zeros &= zeros.wrapping_sub(1);
            }
            let stop = if zeros == 0 {
                se + 1
            } else {
                zeros.trailing_zeros() as usize
            };
            refine(bits, coefs, *nonzero & positions(k, stop - 1));
            if new_value != 0 && stop <= se {
                coefs[stop] = new_value;
                *nonzero |= 1 << stop;
            }
            k = stop + 1;
        }
    }
    if *eobrun > 0 {
        // The rest of the band: a correction bit for each non-zero coefficient, in order.
        refine(bits, coefs, *nonzero & positions(k, se));
        *eobrun -= 1;
    }
    Ok(())
}

/// The bit mask of zigzag positions `from..=to` (`to` ≤ 63); empty when `from > to`.
#[inline(always)]
fn positions(from: usize, to: usize) -> u64 {
    if from > to {
        0
    } else {
        (u64::MAX >> (63 - to)) & (u64::MAX << from)
    }
}
