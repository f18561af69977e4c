//! Rate-aware zeroing of ties. A requantized AC coefficient exactly halfway between 0 and ±1
//! has the same squared error against the input either way; 0 saves its symbol, but the
//! saving differs from block to block: a lone ±1 after a long run of zeros costs a long
//! run/size symbol and splits a run that would otherwise be coded once, while one among other
//! non-zero coefficients costs a short symbol. Such ties are common in a transcoder, unlike
//! in an encoder working from pixels: the input's values are multiples of its steps, and an
//! output step that is an even multiple of an input step puts half of them on the boundary.
//!
//! Measured on the bench corpus at quality 30 (43 photos, `--strip --strip-icc`, mean dssim;
//! the table in `docs/how-it-works.md`): rounding every tie away from zero gives 10,646,820
//! bytes at 0.00544018, zeroing every tie 10,437,879 bytes at 0.00544981, and zeroing the
//! ties that save at least 5 bits (zigzag 1 to 5) or 6 bits (further out) 10,535,853 bytes
//! at 0.00544408: below the Pillow program's 10,540,474 bytes and 0.00544431 on both counts.
//! The thresholds were chosen on that corpus.
//!
//! The rate is the code length in the JPEG Annex K example tables (luminance and
//! chrominance AC), a fair model of the optimized tables the output gets.
use super::huffman::category;
use super::store::{position, value};

/// Bits a tie must save to become 0: [`MIN_SAVING_LOW`] at the zigzag positions below
/// [`LOW`], [`MIN_SAVING`] from there on.
pub const MIN_SAVING: i32 = 6;
pub const MIN_SAVING_LOW: i32 = 5;
pub const LOW: u32 = 6;

const LUMA_BITS: [u8; 16] = [0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d];
const LUMA_VALS: [u8; 162] = [
    0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07,
    0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xa1, 0x08, 0x23, 0x42, 0xb1, 0xc1, 0x15, 0x52, 0xd1, 0xf0,
    0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0a, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x25, 0x26, 0x27, 0x28,
    0x29, 0x2a, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49,
    0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69,
    0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89,
    0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
    0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5,
    0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe1, 0xe2,
    0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8,
    0xf9, 0xfa,
];
const CHROMA_BITS: [u8; 16] = [0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77];
const CHROMA_VALS: [u8; 162] = [
    0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61, 0x71,
    0x13, 0x22, 0x32, 0x81, 0x08, 0x14, 0x42, 0x91, 0xa1, 0xb1, 0xc1, 0x09, 0x23, 0x33, 0x52, 0xf0,
    0x15, 0x62, 0x72, 0xd1, 0x0a, 0x16, 0x24, 0x34, 0xe1, 0x25, 0xf1, 0x17, 0x18, 0x19, 0x1a, 0x26,
    0x27, 0x28, 0x29, 0x2a, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48,
    0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68,
    0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87,
    0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5,
    0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3,
    0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda,
    0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8,
    0xf9, 0xfa,
];

/// Code length of each symbol of a table given as counts per length (1..=16) and symbols.
const fn lengths(bits: &[u8; 16], vals: &[u8; 162]) -> [u8; 256] {
    let mut len = [16u8; 256];
    let (mut l, mut i) = (0, 0);
    while l < 16 {
        let mut c = 0;
        while c < bits[l] {
            len[vals[i] as usize] = l as u8 + 1;
            i += 1;
            c += 1;
        }
        l += 1;
    }
    len
}

/// AC code lengths, luminance and chrominance.
const LENGTHS: [[u8; 256]; 2] = [
    lengths(&LUMA_BITS, &LUMA_VALS),
    lengths(&CHROMA_BITS, &CHROMA_VALS),
];

/// The AC code lengths of table class `class` (0 luminance, 1 chrominance).
pub fn ac_lengths(class: usize) -> &'static [u8; 256] {
    &LENGTHS[class & 1]
}

/// Bits of a run of `run` zeros followed by a value of `size` bits (ZRL symbols included).
#[inline(always)]
fn coded(len: &[u8; 256], run: u32, size: u32) -> i32 {
    i32::from(len[0xF0]) * (run / 16) as i32
        + i32::from(len[(((run % 16) << 4) | size) as usize])
        + size as i32
}

/// Zeroes the ties (`ties`: a mask of zigzag positions, each an entry of ±1) among a block's
/// `entries` (ascending positions) that save at least [`min_saving`] bits, last first;
/// returns the number of entries kept. `class`: 0 luminance, 1 chrominance.
pub fn prune(entries: &mut [u32], mut n: usize, mut ties: u64, class: usize) -> usize {
    let len = &LENGTHS[class & 1];
    let eob = i32::from(len[0]);
    let mut i = n;
    while i > 0 && ties != 0 {
        i -= 1;
        let k = position(entries[i]);
        if ties & (1u64 << k) == 0 {
            continue;
        }
        ties &= !(1u64 << k);
        let before = if i > 0 { position(entries[i - 1]) } else { 0 };
        let r1 = k - before - 1;
        let (with, without) = if i + 1 < n {
            let next = position(entries[i + 1]);
            let size = category(value(entries[i + 1]));
            let r2 = next - k - 1;
            (
                coded(len, r1, 1) + coded(len, r2, size),
                coded(len, r1 + r2 + 1, size),
            )
        } else {
            let end = if k < 63 { eob } else { 0 };
            (coded(len, r1, 1) + end, eob)
        };
        let min = if k < LOW { MIN_SAVING_LOW } else { MIN_SAVING };
        if with - without >= min {
            entries.copy_within(i + 1..n, i);
            n -= 1;
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jpeg::dct::store::Sparse;

    fn block(values: &[(usize, i32)]) -> Vec<u32> {
        values.iter().map(|&(k, v)| Sparse::entry(k, v)).collect()
    }

    #[test]
    fn a_lone_tie_after_a_long_run_becomes_zero() {
        // A ±1 at zigzag 40 after a 2 at 3: a run of 36 zeros (two ZRLs) and a symbol.
        let mut b = block(&[(3, 2), (40, -1)]);
        let n = prune(&mut b, 2, 1 << 40, 0);
        assert_eq!(&b[..n], &block(&[(3, 2)])[..]);
    }

    #[test]
    fn a_tie_among_others_stays() {
        // Zigzag 2 between 1 and 3: zeroing it saves the short symbol (0, 1) and its bit,
        // but the next one's symbol becomes (1, 1): fewer than 5 bits.
        let values = [(1, 3), (2, 1), (3, 2)];
        let mut b = block(&values);
        let n = prune(&mut b, 3, 1 << 2, 0);
        assert_eq!(&b[..n], &block(&values)[..]);
    }

    #[test]
    fn only_the_marked_ties_are_considered() {
        // The same lone ±1 as above, not marked as a tie (it was nearer 1 than 0): kept.
        let values = [(3, 2), (40, -1)];
        let mut b = block(&values);
        assert_eq!(prune(&mut b, 2, 0, 0), 2);
        assert_eq!(&b[..], &block(&values)[..]);
    }

    #[test]
    fn ties_are_weighed_last_first() {
        // Two lone ties at the end: the last goes first; then the one before it is the last
        // non-zero coefficient and goes too.
        let mut b = block(&[(1, 5), (30, 1), (50, -1)]);
        let n = prune(&mut b, 3, (1 << 30) | (1 << 50), 1);
        assert_eq!(&b[..n], &block(&[(1, 5)])[..]);
    }

    #[test]
    fn code_lengths_are_annex_k() {
        // Luminance: EOB 4 bits, (0, 1) 2 bits, ZRL 11 bits; chrominance: EOB 2 bits.
        assert_eq!(LENGTHS[0][0x00], 4);
        assert_eq!(LENGTHS[0][0x01], 2);
        assert_eq!(LENGTHS[0][0xF0], 11);
        assert_eq!(LENGTHS[1][0x00], 2);
        assert_eq!(LENGTHS[1][0xFA], 16);
    }
}
