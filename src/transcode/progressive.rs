//! Progressive scans: every scan of a coefficient is needed before it is known, so they fill
//! a dense store per component ([`Dense`]), requantized into the sparse form at the end.
use super::Refusal;
use super::bits::BitReader;
use super::frame::Component;
use super::huffman::{Decoder, extend};
use super::quant::BlockEntries;
use super::scan::{BlockDecoder, Predictions, Scan};
use super::store::Sparse;

/// A progressive component's coefficients as its scans build them: the DC values apart (a
/// DC scan then writes 2 bytes a block in a row, not one cache line a block), the AC ones 64
/// a block in zigzag order (position 0 unused), and a mask of each block's non-zero AC
/// positions (so that refinement and the final requantization visit those only).
pub struct Dense {
    pub dc: Vec<i16>,
    pub coefs: Vec<i16>,
    pub nonzero: Vec<u64>,
}

/// The requantized sparse form of a progressive component's dense coefficients (`class`: the
/// output's table class, 0 luminance, 1 chrominance).
pub fn sparsify(comp: &Component, dense: &Dense, class: usize) -> Result<Sparse, Refusal> {
    let blocks = comp.blocks_w * comp.blocks_h;
    let mut sparse = Sparse::new(blocks)?;
    let Some(requant) = &comp.requant else {
        return Ok(sparse);
    };
    let mut entries = BlockEntries::default();
    for (b, ((block, &mask), &dc)) in dense
        .coefs
        .chunks_exact(64)
        .zip(&dense.nonzero)
        .zip(&dense.dc)
        .enumerate()
        .take(blocks)
    {
        sparse.begin(b, requant.apply_dc(i32::from(dc)));
        let mut mask = mask & !1;
        while mask != 0 {
            let k = mask.trailing_zeros() as usize;
            mask &= mask - 1;
            entries.push(requant, k, i32::from(block[k]));
        }
        let n = entries.finish(requant, class);
        sparse.ac.extend_from_slice(&entries.entries[..n]);
        sparse.end(b);
    }
    Ok(sparse)
}

/// A DC scan (first or refinement) of one or more components.
pub struct DcScan<'s> {
    pub scan: &'s Scan,
    pub dc: &'s [Option<Decoder>; 4],
    pub dense: &'s mut [Dense],
}

impl BlockDecoder for (DcScan<'_>, Predictions) {
    fn block(&mut self, bits: &mut BitReader, si: usize, block: usize) -> Result<(), Refusal> {
        let (scan, preds) = self;
        let (index, td, _) = scan.scan.components[si];
        let al = scan.scan.al;
        let Some(coef) = scan.dense.get_mut(index).and_then(|d| d.dc.get_mut(block)) else {
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
/// `al`. Its own decoder, apart from the DC scans', so that the many blocks an end-of-band
/// run covers cost a decrement each.
pub struct AcScan<'s> {
    pub ac: &'s Decoder,
    pub dense: &'s mut Dense,
    pub band: (usize, usize, u32),
    pub refine: bool,
    pub eobrun: u32,
}

impl BlockDecoder for AcScan<'_> {
    #[inline(always)]
    fn block(&mut self, bits: &mut BitReader, _si: usize, block: usize) -> Result<(), Refusal> {
        if !self.refine && self.eobrun > 0 {
            self.eobrun -= 1;
            return Ok(());
        }
        let (Some(coefs), Some(nonzero)) = (
            self.dense.coefs.get_mut(block * 64..block * 64 + 64),
            self.dense.nonzero.get_mut(block),
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
                if size != 1 && bits.is_strict() {
                    return Err(Refusal::corrupt("Corrupt JPEG data: bad Huffman code"));
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
