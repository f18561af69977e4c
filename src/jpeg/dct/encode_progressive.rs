//! Progressive output: the transcoder's coefficients written as a series of scans (a
//! progressive JPEG, SOF2) instead of one baseline scan. Same coefficients, so the same
//! pixels; only the entropy coding differs, and it is smaller: each band of frequencies gets
//! its own optimized Huffman table, long runs of empty blocks become one end-of-band symbol
//! (EOBRUN), and successive approximation codes the rare large values' low bits raw.
//!
//! The scan script starts from jpegli's (libjxl `lib/jpegli/encode.cc`, progressive level
//! 2): DC first, then per component AC 1–2 in full, AC 3–63 without its two low bits, and two
//! refinement scans of one bit each. Each component's AC layout is then chosen among a few
//! ([`SCRIPTS`]) by the exact size of its scans, as mozjpeg's `optimize_scans` tries
//! alternatives. The coding of each scan follows libjpeg's `jcphuff.c` (with
//! `optimize_coding`: one pass gathers the symbols, their counts give the tables, a second
//! writes them).
use super::encode::{BitWriter, for_each_block, header, segment};
use super::frame::Decoded;
use super::huffman::{self, Encoder, category};
use super::quant::QuantTables;
use super::store::{Sparse, position, value};
use super::tokens::{Sink, raw_bits};

/// One scan of the script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScriptScan {
    /// The components, as a bit mask over the frame's (several: an interleaved DC scan).
    pub components: u8,
    /// The band of zigzag positions `ss..=se`.
    pub ss: u8,
    pub se: u8,
    /// Successive approximation: the bit position of the previous scan of this band (0: none)
    /// and of this one.
    pub ah: u8,
    pub al: u8,
}

/// A component's AC scans: (`ss`, `se`, `ah`, `al`) each.
type ScanScript = &'static [(u8, u8, u8, u8)];

/// The AC layouts tried for each component; the one that codes it in the fewest bytes is
/// written. jpegli's first; then one bit of successive approximation, a split at 5 (mozjpeg's
/// luma split), spectral selection only, and one scan of all.
const SCRIPTS: [ScanScript; 5] = [
    &[(1, 2, 0, 0), (3, 63, 0, 2), (3, 63, 2, 1), (3, 63, 1, 0)],
    &[(1, 2, 0, 0), (3, 63, 0, 1), (3, 63, 1, 0)],
    &[(1, 5, 0, 0), (6, 63, 0, 2), (6, 63, 2, 1), (6, 63, 1, 0)],
    &[(1, 2, 0, 0), (3, 63, 0, 0)],
    &[(1, 63, 0, 0)],
];

/// The script: the DC scans (one interleaved scan when there is no subsampling, else one per
/// component, as jpegli does), then the components' AC scans, the first of each component,
/// the second...
fn assemble(components: usize, subsampled: bool, layouts: &[ScanScript]) -> Vec<ScriptScan> {
    let all = ((1u16 << components) - 1) as u8;
    let mut scans = Vec::new();
    let one = |c: usize, (ss, se, ah, al): (u8, u8, u8, u8)| ScriptScan {
        components: 1 << c,
        ss,
        se,
        ah,
        al,
    };
    if subsampled {
        scans.extend((0..components).map(|c| one(c, (0, 0, 0, 0))));
    } else {
        scans.push(ScriptScan {
            components: all,
            ss: 0,
            se: 0,
            ah: 0,
            al: 0,
        });
    }
    let passes = layouts.iter().map(|l| l.len()).max().unwrap_or(0);
    for pass in 0..passes {
        for (c, layout) in layouts.iter().enumerate() {
            if let Some(&band) = layout.get(pass) {
                scans.push(one(c, band));
            }
        }
    }
    scans
}

/// The cheapest layout of each component, by the exact size of its scans (their data with
/// optimal tables, the tables, the scan headers). A band that several layouts share is
/// counted once.
fn choose(decoded: &Decoded, coefficients: &[Sparse]) -> Vec<ScanScript> {
    (0..decoded.frame.components.len())
        .map(|c| {
            let mut known: Vec<((u8, u8, u8, u8), u64)> = Vec::new();
            let mut best = (u64::MAX, SCRIPTS[0]);
            for layout in SCRIPTS {
                let mut bits = 0;
                for &band in layout {
                    bits += match known.iter().find(|(b, _)| *b == band) {
                        Some(&(_, cost)) => cost,
                        None => {
                            let (ss, se, ah, al) = band;
                            let scan = ScriptScan {
                                components: 1 << c,
                                ss,
                                se,
                                ah,
                                al,
                            };
                            let mut tally = Tally::default();
                            tokens(decoded, coefficients, &scan, &mut tally);
                            let cost = tally.cost();
                            known.push((band, cost));
                            cost
                        }
                    };
                    if bits >= best.0 {
                        break;
                    }
                }
                if bits < best.0 {
                    best = (bits, layout);
                }
            }
            best.1
        })
        .collect()
}

/// A scan's symbol counts and raw bits, without the symbols: what its size needs.
struct Tally {
    counts: [[u32; 256]; 2],
    raw: u64,
}

impl Default for Tally {
    fn default() -> Self {
        Tally {
            counts: [[0; 256]; 2],
            raw: 0,
        }
    }
}

impl Tally {
    /// The bits a scan of these symbols takes: data, Huffman tables and scan header.
    fn cost(&self) -> u64 {
        let mut bits = self.raw + 8 * (4 + 10);
        for table in &self.counts {
            if table.iter().all(|&c| c == 0) {
                continue;
            }
            let spec = huffman::optimal(table);
            let encoder = Encoder::new(&spec);
            bits += 8 * (17 + spec.symbols.len() as u64);
            bits += table
                .iter()
                .zip(encoder.len)
                .map(|(&n, len)| u64::from(n) * u64::from(len))
                .sum::<u64>();
        }
        bits
    }
}

/// Where a scan's symbols go: kept in order ([`ScanTokens`], to write them) or only counted
/// ([`Tally`], to weigh a layout).
trait Out {
    /// A symbol of table `table` (0 or 1) followed by `size` raw bits.
    fn symbol(&mut self, table: usize, symbol: u8, raw: u32, size: u32);
    /// `size` raw bits with no symbol.
    fn raw(&mut self, raw: u32, size: u32);
    /// Correction bits, one a byte, in order.
    fn bits(&mut self, bits: &[u8]) {
        for chunk in bits.chunks(16) {
            let raw = chunk.iter().fold(0u32, |acc, &b| acc << 1 | u32::from(b));
            self.raw(raw, chunk.len() as u32);
        }
    }
}

impl Out for Tally {
    #[inline(always)]
    fn symbol(&mut self, table: usize, symbol: u8, _raw: u32, size: u32) {
        self.counts[table & 1][usize::from(symbol)] += 1;
        self.raw += u64::from(size);
    }

    #[inline(always)]
    fn raw(&mut self, _raw: u32, size: u32) {
        self.raw += u64::from(size);
    }

    fn bits(&mut self, bits: &[u8]) {
        self.raw += bits.len() as u64;
    }
}

/// Longest end-of-band run a symbol codes (14 extra bits).
const MAX_EOBRUN: u32 = 0x7FFF;
/// Correction bits held back for an end-of-band run at most, as libjpeg's `MAX_CORR_BITS`.
const MAX_CORRECTION_BITS: usize = 1000;

/// A scan's symbols and raw bits in order, made once, and their tally (the counts the tables
/// are made from), then written. A token is `symbol | size << 8 | raw << 13 | table << 29`,
/// or, with [`RAW_ONLY`] set, `size << 8 | raw << 13` (bits with no symbol); `size` ≤ 16.
#[derive(Default)]
struct ScanTokens {
    tokens: Vec<u32>,
    tally: Tally,
}

const RAW_ONLY: u32 = 1 << 31;

impl Out for ScanTokens {
    #[inline(always)]
    fn symbol(&mut self, table: usize, symbol: u8, raw: u32, size: u32) {
        self.tally.symbol(table, symbol, raw, size);
        self.tokens
            .push(u32::from(symbol) | size << 8 | raw << 13 | (table as u32) << 29);
    }

    #[inline(always)]
    fn raw(&mut self, raw: u32, size: u32) {
        self.tally.raw(raw, size);
        self.tokens.push(RAW_ONLY | size << 8 | raw << 13);
    }
}

/// The end-of-band state of an AC scan: blocks whose band is all zero from some position on,
/// not yet coded, and (refinement) the correction bits of those blocks.
#[derive(Default)]
struct EobRun {
    run: u32,
    corrections: Vec<u8>,
}

impl EobRun {
    /// Codes the pending run, then its correction bits.
    fn flush(&mut self, out: &mut impl Out) {
        if self.run == 0 {
            return;
        }
        let bits = 31 - self.run.leading_zeros();
        out.symbol(0, (bits << 4) as u8, self.run & ((1 << bits) - 1), bits);
        self.run = 0;
        out.bits(&self.corrections);
        self.corrections.clear();
    }
}

/// An AC first scan of one block: the band's values shifted right by `al` (magnitudes: the
/// decoder shifts them back), runs of zeros, and an end-of-band run for the zeros at its end.
fn ac_first(entries: &[u32], (ss, se, al): (u32, u32, u32), eob: &mut EobRun, out: &mut impl Out) {
    // The position after the last coded value.
    let mut next = ss;
    for &e in entries {
        let k = position(e);
        if k < ss || k > se {
            continue;
        }
        let v = value(e);
        let magnitude = v.unsigned_abs() >> al;
        if magnitude == 0 {
            continue;
        }
        eob.flush(out);
        let mut run = k - next;
        while run > 15 {
            out.symbol(0, 0xF0, 0, 0);
            run -= 16;
        }
        let shifted = if v < 0 {
            -(magnitude as i32)
        } else {
            magnitude as i32
        };
        let size = category(shifted);
        out.symbol(0, ((run << 4) | size) as u8, raw_bits(shifted, size), size);
        next = k + 1;
    }
    if next <= se {
        eob.run += 1;
        if eob.run == MAX_EOBRUN {
            eob.flush(out);
        }
    }
}

/// An AC refinement scan of one block (bit `al` of each value): a value whose magnitude
/// becomes 1 here is coded as a symbol (run of zeros, then its sign); a value already
/// non-zero gets one correction bit, sent after the next symbol (libjpeg's
/// `encode_mcu_AC_refine`).
fn ac_refine(entries: &[u32], (ss, se, al): (u32, u32, u32), eob: &mut EobRun, out: &mut impl Out) {
    let in_band =
        |e: &&u32| (ss..=se).contains(&position(**e)) && value(**e).unsigned_abs() >> al != 0;
    // The last value that becomes non-zero in this scan: zero runs past it go into the
    // end-of-band run instead of ZRL symbols.
    let last_new = entries
        .iter()
        .filter(in_band)
        .filter(|e| value(**e).unsigned_abs() >> al == 1)
        .map(|e| position(*e))
        .next_back();
    let mut run = 0;
    let mut next = ss;
    let mut corrections: Vec<u8> = Vec::new();
    for e in entries.iter().filter(in_band) {
        let k = position(*e);
        let v = value(*e);
        let magnitude = v.unsigned_abs() >> al;
        run += k - next;
        next = k + 1;
        while run > 15 && last_new.is_some_and(|last| k <= last) {
            eob.flush(out);
            out.symbol(0, 0xF0, 0, 0);
            run -= 16;
            out.bits(&corrections);
            corrections.clear();
        }
        if magnitude > 1 {
            corrections.push((magnitude & 1) as u8);
            continue;
        }
        eob.flush(out);
        out.symbol(0, ((run << 4) | 1) as u8, 0, 0);
        out.raw(u32::from(v > 0), 1);
        out.bits(&corrections);
        corrections.clear();
        run = 0;
    }
    run += (se + 1).saturating_sub(next);
    if run > 0 || !corrections.is_empty() {
        eob.run += 1;
        eob.corrections.extend_from_slice(&corrections);
        if eob.run == MAX_EOBRUN || eob.corrections.len() > MAX_CORRECTION_BITS - 64 + 1 {
            eob.flush(out);
        }
    }
}

/// The symbols of one scan.
fn tokens(decoded: &Decoded, coefficients: &[Sparse], scan: &ScriptScan, out: &mut impl Out) {
    let frame = &decoded.frame;
    let al = u32::from(scan.al);
    if scan.ss == 0 {
        let interleaved = scan.components.count_ones() > 1;
        let mut pred = [0i32; 4];
        let mut dc_block = |ci: usize, b: usize| {
            let dc = i32::from(coefficients[ci].dc[b]);
            if scan.ah == 0 {
                let v = dc >> al;
                let diff = v - pred[ci];
                pred[ci] = v;
                let size = category(diff);
                let table = usize::from(ci > 0 && interleaved);
                out.symbol(table, size as u8, raw_bits(diff, size), size);
            } else {
                out.raw(((dc >> al) & 1) as u32, 1);
            }
        };
        if interleaved {
            for_each_block(decoded, |ci, b| {
                if scan.components & (1 << ci) != 0 {
                    dc_block(ci, b);
                }
            });
        } else {
            let ci = scan.components.trailing_zeros() as usize;
            let c = &frame.components[ci];
            for by in 0..c.coded_h {
                for bx in 0..c.coded_w {
                    dc_block(ci, by * c.blocks_w + bx);
                }
            }
        }
        return;
    }
    let ci = scan.components.trailing_zeros() as usize;
    let c = &frame.components[ci];
    let store = &coefficients[ci];
    let band = (u32::from(scan.ss), u32::from(scan.se), al);
    let mut eob = EobRun::default();
    for by in 0..c.coded_h {
        for bx in 0..c.coded_w {
            let entries = store.entries(by * c.blocks_w + bx);
            if scan.ah == 0 {
                ac_first(entries, band, &mut eob, out);
            } else {
                ac_refine(entries, band, &mut eob, out);
            }
        }
    }
    eob.flush(out);
}

/// The output file, progressive, with `decoded`'s coefficients (which must be there: the
/// caller asked the decoder for them, see `FrameCheck::coefficients`).
pub fn write(decoded: &Decoded, kept: &[(u8, &[u8])], tables: &QuantTables) -> Vec<u8> {
    let coefficients = &decoded.coefficients;
    let frame = &decoded.frame;
    let n = frame.components.len();
    let subsampled = frame.components.iter().any(|c| c.h > 1 || c.v > 1) && n > 1;
    let mut out = header(decoded, kept, tables, 0xC2);
    for scan in assemble(n, subsampled, &choose(decoded, coefficients)) {
        let mut symbols = ScanTokens::default();
        tokens(decoded, coefficients, &scan, &mut symbols);
        out = write_scan(out, &scan, &symbols);
    }
    out.extend_from_slice(&[0xFF, 0xD9]);
    out
}

/// Appends one scan: its Huffman tables (none for a DC refinement), its header, its data.
fn write_scan(mut out: Vec<u8>, scan: &ScriptScan, symbols: &ScanTokens) -> Vec<u8> {
    let is_dc = scan.ss == 0;
    let counts = &symbols.tally.counts;
    let used: Vec<usize> = (0..2)
        .filter(|&t| counts[t].iter().any(|&c| c > 0))
        .collect();
    let specs: Vec<huffman::Spec> = counts.iter().map(huffman::optimal).collect();
    if !used.is_empty() {
        let mut body = Vec::new();
        for &t in &used {
            body.push(u8::from(!is_dc) << 4 | t as u8);
            body.extend_from_slice(&specs[t].counts);
            body.extend_from_slice(&specs[t].symbols);
        }
        segment(&mut out, 0xC4, &body);
    }
    let mut sos = vec![scan.components.count_ones() as u8];
    for ci in (0..8).filter(|ci| scan.components & (1 << ci) != 0) {
        // Interleaved DC scans: luminance table 0, chrominance table 1.
        let t = u8::from(ci > 0 && scan.components.count_ones() > 1);
        let t = if is_dc { t << 4 } else { t };
        sos.extend_from_slice(&[ci as u8 + 1, t]);
    }
    sos.extend_from_slice(&[scan.ss, scan.se, scan.ah << 4 | scan.al]);
    segment(&mut out, 0xDA, &sos);
    let empty = huffman::Spec {
        counts: [0; 16],
        symbols: Vec::new(),
    };
    let mut writer = BitWriter::new(
        out,
        [
            Encoder::new(&specs[0]),
            Encoder::new(&specs[1]),
            Encoder::new(&empty),
            Encoder::new(&empty),
        ],
    );
    for &t in &symbols.tokens {
        let size = (t >> 8) & 31;
        let raw = (t >> 13) & 0xFFFF;
        if t & RAW_ONLY != 0 {
            writer.bits(raw, size);
        } else {
            writer.put(((t >> 29) & 1) as usize, t as u8, raw, size);
        }
    }
    writer.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every bit of every coefficient of every component is sent once, in order (jpegli's
    /// `ValidateScanScript`): a first scan of a band before its refinements, DC before AC.
    #[test]
    fn the_script_sends_every_bit_once() {
        let mixed = [SCRIPTS[1], SCRIPTS[4], SCRIPTS[2]];
        for (components, subsampled, layouts) in [
            (1, false, &SCRIPTS[..1]),
            (3, false, &SCRIPTS[..3]),
            (3, true, &SCRIPTS[2..]),
            (3, true, &mixed[..]),
        ] {
            let mut sent = vec![[0u16; 64]; components];
            for scan in assemble(components, subsampled, layouts) {
                assert!(scan.ss > 0 || scan.se == 0, "{scan:?}");
                assert!(
                    scan.ss == 0 || scan.components.count_ones() == 1,
                    "{scan:?}"
                );
                for (c, mask) in sent.iter_mut().enumerate() {
                    if scan.components & (1 << c) == 0 {
                        continue;
                    }
                    assert!(scan.ss == 0 || mask[0] == 0xFFFF, "AC before DC: {scan:?}");
                    for m in &mut mask[usize::from(scan.ss)..=usize::from(scan.se)] {
                        if scan.ah == 0 {
                            assert_eq!(*m, 0, "{scan:?}");
                            *m = 0xFFFF << scan.al;
                        } else {
                            assert_eq!(*m, 0xFFFF << scan.ah, "{scan:?}");
                            assert_eq!(scan.al + 1, scan.ah, "{scan:?}");
                            *m |= 1 << scan.al;
                        }
                    }
                }
            }
            assert!(sent.iter().flatten().all(|&m| m == 0xFFFF));
        }
    }

    /// (symbol, raw bits, size) of each symbol token, or (None, bits, size) for raw bits.
    fn decoded(tokens: &ScanTokens) -> Vec<(Option<u8>, u32, u32)> {
        tokens
            .tokens
            .iter()
            .map(|&t| {
                let symbol = (t & RAW_ONLY == 0).then_some(t as u8);
                (symbol, (t >> 13) & 0xFFFF, (t >> 8) & 31)
            })
            .collect()
    }

    #[test]
    fn end_of_band_runs_longer_than_a_symbol_codes_are_split() {
        let mut out = ScanTokens::default();
        let mut eob = EobRun::default();
        for _ in 0..MAX_EOBRUN + 2 {
            ac_first(&[], (1, 63, 0), &mut eob, &mut out);
        }
        eob.flush(&mut out);
        // 0x7FFF blocks: EOB14 and 14 one bits; then a run of 2: EOB1 and a 0 bit.
        assert_eq!(
            decoded(&out),
            [(Some(0xE0), 0x3FFF, 14), (Some(0x10), 0, 1)]
        );
    }

    #[test]
    fn a_value_ends_the_run_of_empty_blocks_before_it() {
        let mut out = ScanTokens::default();
        let mut eob = EobRun::default();
        ac_first(&[], (1, 5, 1), &mut eob, &mut out);
        // |1| >> 1 is 0 in this scan: an empty band.
        ac_first(&[Sparse::entry(2, -1)], (1, 5, 1), &mut eob, &mut out);
        // -5 >> 1 at position 20: run 17 from position 3 (one ZRL, then run 1); 6 >> 1 at 63
        // after 42 zeros (two ZRLs, run 10) ends the band: no end of band after it.
        let entries = [Sparse::entry(20, -5), Sparse::entry(63, 6)];
        ac_first(&entries, (3, 63, 1), &mut eob, &mut out);
        eob.flush(&mut out);
        assert_eq!(
            decoded(&out),
            [
                (Some(0x10), 0, 1),
                (Some(0xF0), 0, 0),
                (Some(0x12), 0b01, 2),
                (Some(0xF0), 0, 0),
                (Some(0xF0), 0, 0),
                (Some(0xA2), 0b11, 2),
            ]
        );
    }

    #[test]
    fn correction_bits_follow_the_next_symbol_or_the_end_of_band() {
        let mut out = ScanTokens::default();
        let mut eob = EobRun::default();
        // Refinement of bit 0: 3 was sent as 1 (its correction bit is 1), -1 is new at 5
        // (after three zeros: symbol 0x31, sign bit 0, then the held correction bit).
        let block = [Sparse::entry(1, 3), Sparse::entry(5, -1)];
        ac_refine(&block, (1, 63, 0), &mut eob, &mut out);
        // Nothing new, one correction bit (2 → 0): held with the end-of-band run.
        ac_refine(&[Sparse::entry(7, 2)], (1, 63, 0), &mut eob, &mut out);
        eob.flush(&mut out);
        assert_eq!(
            decoded(&out),
            [
                (Some(0x31), 0, 0),
                (None, 0, 1),
                (None, 1, 1),
                (Some(0x10), 0, 1),
                (None, 0, 1),
            ]
        );
    }
}
