//! The output's entropy-coding symbols, as the reader can make them while it decodes and the
//! writer counts and writes them: the block sink both sides share.
use super::huffman::category;
use super::store::{position, value};

/// Where symbols go: counted, or written.
pub trait Sink {
    /// A symbol of table `table` (0, 1: DC; 2, 3: AC) followed by `size` raw bits.
    fn put(&mut self, table: usize, symbol: u8, raw: u32, size: u32);
}

/// Symbol counts per table (0, 1: DC luminance, chrominance; 2, 3: AC).
pub struct SymbolCounts(pub [[u32; 256]; 4]);

impl Default for SymbolCounts {
    fn default() -> Self {
        SymbolCounts([[0; 256]; 4])
    }
}

impl Sink for SymbolCounts {
    #[inline(always)]
    fn put(&mut self, table: usize, symbol: u8, _raw: u32, _size: u32) {
        self.0[table][usize::from(symbol)] += 1;
    }
}

/// The output's symbols, in order, with their counts: what a statistics pass would count and
/// an encoding pass would write, made once. A token is `symbol | table << 8 | size << 10 |
/// raw << 16`.
pub struct Tokens {
    pub counts: SymbolCounts,
    pub tokens: Vec<u32>,
}

impl Tokens {
    pub fn with_capacity(n: usize) -> Result<Self, super::refusal::Refusal> {
        let mut tokens = Vec::new();
        tokens
            .try_reserve(n)
            .map_err(|_| super::refusal::Refusal::no_memory())?;
        Ok(Tokens {
            counts: SymbolCounts::default(),
            tokens,
        })
    }
}

impl Sink for Tokens {
    #[inline(always)]
    fn put(&mut self, table: usize, symbol: u8, raw: u32, size: u32) {
        self.counts.put(table, symbol, raw, size);
        self.tokens
            .push(u32::from(symbol) | (table as u32) << 8 | size << 10 | raw << 16);
    }
}

/// The bits of a value of `size` bits as JPEG codes it (negative values minus one).
#[inline(always)]
pub fn raw_bits(v: i32, size: u32) -> u32 {
    (if v < 0 { v - 1 } else { v }) as u32 & ((1u32 << size) - 1)
}

/// One block's symbols: its DC difference and its AC entries, with table set `t` (0: luminance,
/// 1: chrominance).
#[inline(always)]
pub fn encode_block(sink: &mut impl Sink, t: usize, diff: i32, entries: &[u32]) {
    let size = category(diff);
    sink.put(t, size as u8, raw_bits(diff, size), size);
    let mut last = 0;
    for &e in entries {
        let pos = position(e);
        let v = value(e);
        let mut run = pos - last - 1;
        while run > 15 {
            sink.put(2 + t, 0xF0, 0, 0);
            run -= 16;
        }
        let size = category(v);
        sink.put(2 + t, ((run << 4) | size) as u8, raw_bits(v, size), size);
        last = pos;
    }
    if last < 63 {
        sink.put(2 + t, 0x00, 0, 0);
    }
}
