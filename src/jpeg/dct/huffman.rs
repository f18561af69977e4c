//! Huffman tables: the decoder's lookup tables built from a DHT segment, and optimal code
//! lengths for the encoder built from symbol counts (the algorithm of JPEG Annex K.2, as
//! libjpeg's `jpeg_gen_optimal_table`).
use super::refusal::Refusal;

/// Bits looked up at once when decoding; longer codes take the slow path.
pub const LOOKAHEAD: u32 = 10;

/// A Huffman table as a DHT segment gives it: how many codes of each length 1..=16, and the
/// symbols in code order.
#[derive(Clone, Debug)]
pub struct Spec {
    pub counts: [u8; 16],
    pub symbols: Vec<u8>,
}

/// Decoding tables for one Huffman table.
#[derive(Clone, Debug)]
pub struct Decoder {
    /// Indexed by the next [`LOOKAHEAD`] bits: `(length << 8) | symbol`, or 0 when the code is
    /// longer (or the bits are no code).
    fast: Vec<u16>,
    /// For AC tables: indexed like `fast`, the whole run/size symbol *and* its value bits when
    /// both fit in the lookahead: `value << 8 | run << 4 | total length`, or 0.
    ac_fast: Vec<i32>,
    /// Largest code of each length (`-1` when none), for the slow path; `maxcode[17]` ends it.
    maxcode: [i32; 18],
    /// Index of a length's first symbol, minus its first code.
    valoffset: [i32; 18],
    symbols: Vec<u8>,
}

impl Decoder {
    /// Builds the tables, checking that the counts describe a prefix code and that a DC table's
    /// symbols are valid difference sizes.
    pub fn new(spec: &Spec, is_dc: bool) -> Result<Self, Refusal> {
        let total: usize = spec.counts.iter().map(|&c| usize::from(c)).sum();
        if total > 256 || total != spec.symbols.len() {
            return Err(Refusal::corrupt("Bogus Huffman table definition"));
        }
        if is_dc && spec.symbols.iter().any(|&s| s > 15) {
            return Err(Refusal::corrupt("Bogus Huffman table definition"));
        }
        let mut fast = vec![0u16; 1 << LOOKAHEAD];
        let mut maxcode = [-1i32; 18];
        let mut valoffset = [0i32; 18];
        let mut code: u32 = 0;
        let mut index: usize = 0;
        for len in 1..=16u32 {
            let count = u32::from(spec.counts[len as usize - 1]);
            // The codes of each length must fit in that many bits, and none may be all ones.
            if count > 0 && code + count >= (1 << len) {
                return Err(Refusal::corrupt("Bogus Huffman table definition"));
            }
            if count > 0 {
                valoffset[len as usize] = index as i32 - code as i32;
                for _ in 0..count {
                    if len <= LOOKAHEAD {
                        let shift = LOOKAHEAD - len;
                        let first = (code << shift) as usize;
                        let entry = ((len as u16) << 8) | u16::from(spec.symbols[index]);
                        fast[first..first + (1 << shift)].fill(entry);
                    }
                    code += 1;
                    index += 1;
                }
                maxcode[len as usize] = code as i32 - 1;
            }
            code <<= 1;
        }
        maxcode[17] = i32::MAX;
        let mut ac_fast = Vec::new();
        if !is_dc {
            ac_fast = vec![0i32; 1 << LOOKAHEAD];
            for (bits, slot) in ac_fast.iter_mut().enumerate() {
                let entry = fast[bits];
                if entry == 0 {
                    continue;
                }
                let len = u32::from(entry >> 8);
                let symbol = entry as u8;
                let run = u32::from(symbol >> 4);
                let size = u32::from(symbol & 15);
                if size == 0 || len + size > LOOKAHEAD {
                    continue;
                }
                let raw = ((bits as u32) >> (LOOKAHEAD - len - size)) & ((1 << size) - 1);
                let value = extend(raw, size);
                *slot = (value << 8) | ((run << 4) | (len + size)) as i32;
            }
        }
        Ok(Decoder {
            fast,
            ac_fast,
            maxcode,
            valoffset,
            symbols: spec.symbols.clone(),
        })
    }

    /// The fast-table entry for the next [`LOOKAHEAD`] bits.
    #[inline(always)]
    pub fn fast(&self, peek: u32) -> u16 {
        self.fast[peek as usize & ((1 << LOOKAHEAD) - 1)]
    }

    /// The AC fast-table entry for the next [`LOOKAHEAD`] bits.
    #[inline(always)]
    pub fn ac_fast(&self, peek: u32) -> i32 {
        self.ac_fast[peek as usize & ((1 << LOOKAHEAD) - 1)]
    }

    /// The slow path: `peek16` holds the next 16 bits. Returns (length, symbol), or `None`
    /// when the bits are no code.
    #[inline(never)]
    pub fn slow(&self, peek16: u32) -> Option<(u32, u8)> {
        for len in (LOOKAHEAD + 1)..=16 {
            let code = (peek16 >> (16 - len)) as i32;
            if code <= self.maxcode[len as usize] {
                let index = code + self.valoffset[len as usize];
                return self.symbols.get(index as usize).map(|&s| (len, s));
            }
        }
        // Shorter codes are all in the fast table; a miss there with no long code is garbage.
        None
    }
}

/// The signed value of `size` raw bits (JPEG's EXTEND).
#[inline(always)]
pub fn extend(raw: u32, size: u32) -> i32 {
    if size == 0 {
        0
    } else if raw < (1 << (size - 1)) {
        raw as i32 - (1 << size) + 1
    } else {
        raw as i32
    }
}

/// The number of bits of `|value|` (JPEG's magnitude category).
#[inline(always)]
pub fn category(value: i32) -> u32 {
    32 - value.unsigned_abs().leading_zeros()
}

/// An optimal table for the given symbol counts (at most 16 bits a code, no code of all ones),
/// as libjpeg's `jpeg_gen_optimal_table` builds it (same ties, so the same tables).
pub fn optimal(freq: &[u32; 256]) -> Spec {
    let mut freq: Vec<u64> = freq.iter().map(|&f| u64::from(f)).collect();
    // A pseudo-symbol 256 with count 1 guarantees no code is all ones.
    freq.push(1);
    let mut codesize = [0usize; 257];
    let mut others = [usize::MAX; 257];
    // The symbols still to merge (non-zero counts), in index order.
    let mut live: Vec<usize> = (0..257).filter(|&i| freq[i] != 0).collect();
    loop {
        // The least frequent symbol, then the next; on ties the larger index.
        let smallest = |exclude: usize| {
            let mut best: Option<usize> = None;
            for &i in &live {
                if i != exclude && best.is_none_or(|b| freq[i] <= freq[b]) {
                    best = Some(i);
                }
            }
            best
        };
        let Some(c1) = smallest(usize::MAX) else {
            break;
        };
        let Some(c2) = smallest(c1) else {
            break;
        };
        freq[c1] += freq[c2];
        freq[c2] = 0;
        live.retain(|&i| i != c2);
        let mut c = c1;
        codesize[c] += 1;
        while others[c] != usize::MAX {
            c = others[c];
            codesize[c] += 1;
        }
        others[c] = c2;
        let mut c = c2;
        codesize[c] += 1;
        while others[c] != usize::MAX {
            c = others[c];
            codesize[c] += 1;
        }
    }
    // Codes can be up to 256 bits long before the limiting below.
    let mut bits = [0u32; 258];
    for &size in &codesize {
        if size > 0 {
            bits[size] += 1;
        }
    }
    // Limit code lengths to 16 bits (JPEG Annex K.3).
    let mut i = 257;
    while i > 16 {
        while bits[i] > 0 {
            let mut j = i - 2;
            while bits[j] == 0 {
                j -= 1;
            }
            bits[i] -= 2;
            bits[i - 1] += 1;
            bits[j + 1] += 2;
            bits[j] -= 1;
        }
        i -= 1;
    }
    // Remove the pseudo-symbol's code (one of the longest).
    while i > 0 && bits[i] == 0 {
        i -= 1;
    }
    if i > 0 {
        bits[i] -= 1;
    }
    let mut counts = [0u8; 16];
    for (len, count) in counts.iter_mut().enumerate() {
        *count = bits[len + 1] as u8;
    }
    let mut sized: Vec<(usize, u8)> = codesize[..256]
        .iter()
        .enumerate()
        .filter(|&(_, &size)| size > 0)
        .map(|(symbol, &size)| (size, symbol as u8))
        .collect();
    sized.sort_unstable();
    Spec {
        counts,
        symbols: sized.into_iter().map(|(_, symbol)| symbol).collect(),
    }
}

/// Encoding tables: each symbol's code and its length (0 for symbols with no code).
pub struct Encoder {
    pub code: [u16; 256],
    pub len: [u8; 256],
}

impl Encoder {
    pub fn new(spec: &Spec) -> Self {
        let mut code = [0u16; 256];
        let mut len = [0u8; 256];
        let mut next: u32 = 0;
        let mut index = 0;
        for l in 1..=16u8 {
            for _ in 0..spec.counts[usize::from(l) - 1] {
                let symbol = usize::from(spec.symbols[index]);
                code[symbol] = next as u16;
                len[symbol] = l;
                next += 1;
                index += 1;
            }
            next <<= 1;
        }
        Encoder { code, len }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn optimal_codes_are_a_prefix_code_within_16_bits() {
        // A skewed distribution that would want codes longer than 16 bits.
        let mut freq = [0u32; 256];
        let mut f = 1u32;
        for slot in freq.iter_mut().take(40) {
            *slot = f;
            f = f.saturating_mul(2).min(1 << 30);
        }
        let spec = optimal(&freq);
        assert_eq!(spec.symbols.len(), 40);
        // Kraft sum strictly below 1 (no all-ones code).
        let kraft: f64 = spec
            .counts
            .iter()
            .enumerate()
            .map(|(i, &c)| f64::from(c) / f64::from(1u32 << (i + 1)))
            .sum();
        assert!(kraft < 1.0, "{kraft}");
        let decoder = Decoder::new(&spec, false).expect("valid table");
        let encoder = Encoder::new(&spec);
        for &symbol in &spec.symbols {
            let (code, len) = (
                u32::from(encoder.code[usize::from(symbol)]),
                u32::from(encoder.len[usize::from(symbol)]),
            );
            let peek16 = code << (16 - len);
            let decoded = if len <= LOOKAHEAD {
                let e = decoder.fast(peek16 >> (16 - LOOKAHEAD));
                (u32::from(e >> 8), e as u8)
            } else {
                decoder.slow(peek16).expect("a code")
            };
            assert_eq!(decoded, (len, symbol));
        }
    }

    #[test]
    fn overfull_tables_are_refused() {
        // Three codes of one bit; then a table whose last code would be all ones.
        for counts in [[3u8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], {
            let mut c = [0u8; 16];
            c[1] = 4;
            c
        }] {
            let n: usize = counts.iter().map(|&c| usize::from(c)).sum();
            let spec = Spec {
                counts,
                symbols: (0..n as u8).collect(),
            };
            assert!(Decoder::new(&spec, false).is_err(), "{counts:?}");
        }
    }

    #[test]
    fn extend_and_category_agree() {
        for v in -1023..=1023 {
            let size = category(v);
            let raw = if v < 0 {
                (v - 1) as u32 & ((1 << size) - 1)
            } else {
                v as u32
            };
            assert_eq!(extend(raw, size), v, "value {v}");
        }
    }
}
