//! Writing the output: the kept segments, the tables, the frame, and one baseline scan
//! entropy-coded from the sparse store with optimized Huffman tables (a statistics pass over
//! the same blocks first, as libjpeg's `optimize_coding`).
use super::frame::Decoded;
use super::huffman::{self, Encoder};
use super::quant::QuantTables;
use super::store::Sparse;
use super::tokens::{Sink, SymbolCounts, encode_block};

/// The output's blocks in scan order, handed to `f(component index, block index)`.
pub fn for_each_block(decoded: &Decoded, mut f: impl FnMut(usize, usize)) {
    let frame = &decoded.frame;
    if let [c] = frame.components.as_slice() {
        for b in 0..c.coded_w * c.coded_h {
            f(0, b);
        }
        return;
    }
    for my in 0..frame.mcus_y {
        for mx in 0..frame.mcus_x {
            for (ci, c) in frame.components.iter().enumerate() {
                for by in 0..c.v {
                    let row = (my * c.v + by) * c.blocks_w + mx * c.h;
                    for bx in 0..c.h {
                        f(ci, row + bx);
                    }
                }
            }
        }
    }
}

fn encode_scan(decoded: &Decoded, sink: &mut impl Sink) {
    let mut pred = [0i32; 3];
    let coefficients: &[Sparse] = &decoded.coefficients;
    for_each_block(decoded, |ci, b| {
        let store = &coefficients[ci];
        let dc = i32::from(store.dc[b]);
        let diff = dc - pred[ci];
        pred[ci] = dc;
        encode_block(sink, usize::from(ci > 0), diff, store.entries(b));
    });
}

/// The entropy coder's output: bits into bytes, `FF` stuffed with `00`.
pub struct BitWriter {
    out: Vec<u8>,
    acc: u64,
    n: u32,
    tables: [Encoder; 4],
}

impl BitWriter {
    /// A writer appending to `out`, coding symbols with `tables`.
    pub fn new(out: Vec<u8>, tables: [Encoder; 4]) -> Self {
        BitWriter {
            out,
            acc: 0,
            n: 0,
            tables,
        }
    }

    /// Writes the low `len` (at most 32) bits of `bits`.
    #[inline(always)]
    pub fn bits(&mut self, bits: u32, len: u32) {
        self.acc = (self.acc << len) | u64::from(bits);
        self.n += len;
        if self.n >= 32 {
            self.n -= 32;
            let word = (self.acc >> self.n) as u32;
            let bytes = word.to_be_bytes();
            if bytes.contains(&0xFF) {
                for b in bytes {
                    self.out.push(b);
                    if b == 0xFF {
                        self.out.push(0);
                    }
                }
            } else {
                self.out.extend_from_slice(&bytes);
            }
        }
    }

    /// Pads the last byte with one bits and writes what is left.
    pub fn finish(mut self) -> Vec<u8> {
        let pad = (8 - self.n % 8) % 8;
        self.bits((1 << pad) - 1, pad);
        while self.n >= 8 {
            self.n -= 8;
            let b = (self.acc >> self.n) as u8;
            self.out.push(b);
            if b == 0xFF {
                self.out.push(0);
            }
        }
        self.out
    }
}

impl Sink for BitWriter {
    #[inline(always)]
    fn put(&mut self, table: usize, symbol: u8, raw: u32, size: u32) {
        let t = &self.tables[table];
        let code = u32::from(t.code[usize::from(symbol)]);
        let len = u32::from(t.len[usize::from(symbol)]);
        self.bits((code << size) | raw, len + size);
    }
}

pub fn segment(out: &mut Vec<u8>, code: u8, body: &[u8]) {
    out.extend_from_slice(&[0xFF, code]);
    out.extend_from_slice(&((body.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(body);
}

/// The start of the output file, up to its frame header (`sof`, the marker code): SOI, JFIF,
/// the `kept` segments, the quantization tables.
pub fn header(decoded: &Decoded, kept: &[(u8, &[u8])], tables: &QuantTables, sof: u8) -> Vec<u8> {
    let frame = &decoded.frame;
    let gray = frame.components.len() == 1;
    let mut head = Vec::with_capacity(1024);
    head.extend_from_slice(&[0xFF, 0xD8]);
    let (units, x, y) = decoded.density.unwrap_or((0, 1, 1));
    let mut jfif = b"JFIF\0\x01\x01".to_vec();
    jfif.push(units);
    jfif.extend_from_slice(&x.to_be_bytes());
    jfif.extend_from_slice(&y.to_be_bytes());
    jfif.extend_from_slice(&[0, 0]);
    segment(&mut head, 0xE0, &jfif);
    for (code, body) in kept {
        segment(&mut head, *code, body);
    }
    for (i, table) in tables.tables.iter().enumerate() {
        let wide = table.iter().any(|&q| q > 255);
        let mut body = vec![(u8::from(wide) << 4) | i as u8];
        for &q in table {
            if wide {
                body.extend_from_slice(&q.to_be_bytes());
            } else {
                body.push(q as u8);
            }
        }
        segment(&mut head, 0xDB, &body);
    }
    let mut body = vec![8];
    body.extend_from_slice(&(frame.height as u16).to_be_bytes());
    body.extend_from_slice(&(frame.width as u16).to_be_bytes());
    body.push(frame.components.len() as u8);
    for (i, c) in frame.components.iter().enumerate() {
        let sampling = if gray { 0x11 } else { (c.h << 4 | c.v) as u8 };
        let tq = tables.of_component.get(i).copied().unwrap_or(0) as u8;
        body.extend_from_slice(&[i as u8 + 1, sampling, tq]);
    }
    segment(&mut head, sof, &body);
    head
}

/// The output file, one baseline scan. `kept` are the segments to copy; `tables` the
/// output's quantization tables.
pub fn write(decoded: &Decoded, kept: &[(u8, &[u8])], tables: &QuantTables) -> Vec<u8> {
    let tokens = decoded.tokens.as_deref();
    let mut counted = SymbolCounts::default();
    let counts = match tokens {
        Some(tokens) => &tokens.counts,
        None => {
            encode_scan(decoded, &mut counted);
            &counted
        }
    };
    let specs: Vec<huffman::Spec> = counts.0.iter().map(huffman::optimal).collect();

    let frame = &decoded.frame;
    let used = if frame.components.len() == 1 { 1 } else { 2 };
    let sof = if tables.wide() { 0xC1 } else { 0xC0 };
    let mut head = header(decoded, kept, tables, sof);
    for t in 0..used {
        for (class, spec) in [(0u8, &specs[t]), (1, &specs[2 + t])] {
            let mut body = vec![(class << 4) | t as u8];
            body.extend_from_slice(&spec.counts);
            body.extend_from_slice(&spec.symbols);
            segment(&mut head, 0xC4, &body);
        }
    }
    let mut sos = vec![frame.components.len() as u8];
    for i in 0..frame.components.len() {
        let t = u8::from(i > 0);
        sos.extend_from_slice(&[i as u8 + 1, (t << 4) | t]);
    }
    sos.extend_from_slice(&[0, 63, 0]);
    segment(&mut head, 0xDA, &sos);

    let data_estimate: usize = match tokens {
        Some(tokens) => tokens.tokens.len(),
        None => decoded
            .coefficients
            .iter()
            .map(|s| s.ac.len() * 2 + s.dc.len())
            .sum(),
    };
    head.reserve(data_estimate + 2);
    let mut writer = BitWriter::new(
        head,
        [
            Encoder::new(&specs[0]),
            Encoder::new(&specs[1]),
            Encoder::new(&specs[2]),
            Encoder::new(&specs[3]),
        ],
    );
    match tokens {
        Some(tokens) => {
            for &token in &tokens.tokens {
                writer.put(
                    ((token >> 8) & 3) as usize,
                    token as u8,
                    token >> 16,
                    (token >> 10) & 15,
                );
            }
        }
        None => encode_scan(decoded, &mut writer),
    }
    let mut out = writer.finish();
    out.extend_from_slice(&[0xFF, 0xD9]);
    out
}
