//! The bit reader of entropy-coded data: bytes in, bits out, with JPEG's byte stuffing
//! (`FF 00` is a data byte `FF`) and markers (`FF xx`) ending a segment. Past the end of a
//! segment it reads zero bits, as libjpeg does, and counts them so that a caller can tell
//! whether the data it decoded was all there.
use super::huffman::{Decoder, LOOKAHEAD};
use super::refusal::Refusal;

pub struct BitReader<'a> {
    data: &'a [u8],
    pos: usize,
    /// Valid bits, most significant first.
    buf: u64,
    count: u32,
    /// Zero bits put into `buf` that the data does not have (past a marker or the end).
    fake: u32,
    /// The segment has ended (at a marker or at the end of the file).
    stopped: bool,
    /// Treat a bad Huffman code as an error (else it decodes as symbol 0, as libjpeg does).
    strict: bool,
}

/// True when one of the eight bytes of `x` is `FF`.
#[inline(always)]
fn has_ff_byte(x: u64) -> bool {
    let y = !x;
    (y.wrapping_sub(0x0101_0101_0101_0101) & !y & 0x8080_8080_8080_8080) != 0
}

impl<'a> BitReader<'a> {
    pub fn new(data: &'a [u8], pos: usize, strict: bool) -> Self {
        BitReader {
            data,
            pos,
            buf: 0,
            count: 0,
            fake: 0,
            stopped: false,
            strict,
        }
    }

    /// Whether corrupt data is an error.
    pub fn is_strict(&self) -> bool {
        self.strict
    }

    /// Tops the buffer up to at least 57 bits.
    #[inline(always)]
    fn refill(&mut self) {
        if self.pos + 8 <= self.data.len() {
            let mut word = [0u8; 8];
            word.copy_from_slice(&self.data[self.pos..self.pos + 8]);
            let x = u64::from_be_bytes(word);
            if !has_ff_byte(x) {
                let k = (64 - self.count) / 8;
                self.buf |= (x >> (64 - 8 * k)) << (64 - 8 * k - self.count);
                self.pos += k as usize;
                self.count += 8 * k;
                return;
            }
        }
        self.refill_slow();
    }

    #[inline(never)]
    fn refill_slow(&mut self) {
        while self.count <= 56 {
            let byte = if self.stopped {
                None
            } else {
                match self.data.get(self.pos) {
                    None => None,
                    Some(&0xFF) => {
                        // Fill bytes (FF FF ...) may come before a marker or a stuffed zero.
                        let mut next = self.pos + 1;
                        while self.data.get(next) == Some(&0xFF) {
                            next += 1;
                        }
                        match self.data.get(next) {
                            Some(0) => {
                                self.pos = next + 1;
                                Some(0xFF)
                            }
                            _ => None,
                        }
                    }
                    Some(&b) => {
                        self.pos += 1;
                        Some(b)
                    }
                }
            };
            let byte = byte.unwrap_or_else(|| {
                self.stopped = true;
                self.fake += 8;
                0
            });
            self.buf |= u64::from(byte) << (56 - self.count);
            self.count += 8;
        }
    }

    /// Makes sure at least `n` (≤ 57) bits are buffered.
    #[inline(always)]
    pub fn ensure(&mut self, n: u32) {
        if self.count < n {
            self.refill();
        }
    }

    /// The next `n` (1..=32) bits, not consumed; needs `ensure(n)` first.
    #[inline(always)]
    pub fn peek(&self, n: u32) -> u32 {
        (self.buf >> (64 - n)) as u32
    }

    /// Drops `n` bits; needs `ensure(n)` first.
    #[inline(always)]
    pub fn consume(&mut self, n: u32) {
        self.buf <<= n;
        self.count -= n;
    }

    /// The next `n` (0..=16) bits, consumed.
    #[inline(always)]
    pub fn bits(&mut self, n: u32) -> u32 {
        if n == 0 {
            return 0;
        }
        self.ensure(n);
        let v = self.peek(n);
        self.consume(n);
        v
    }

    /// One bit.
    #[inline(always)]
    pub fn bit(&mut self) -> bool {
        self.ensure(1);
        let v = self.buf >> 63;
        self.consume(1);
        v != 0
    }

    /// Decodes one Huffman symbol.
    #[inline(always)]
    pub fn symbol(&mut self, table: &Decoder) -> Result<u8, Refusal> {
        self.ensure(16);
        let entry = table.fast(self.peek(LOOKAHEAD));
        if entry != 0 {
            self.consume(u32::from(entry >> 8));
            return Ok(entry as u8);
        }
        self.symbol_slow(table)
    }

    #[inline(never)]
    fn symbol_slow(&mut self, table: &Decoder) -> Result<u8, Refusal> {
        match table.slow(self.peek(16)) {
            Some((len, symbol)) => {
                self.consume(len);
                Ok(symbol)
            }
            None => {
                Refusal::unless_lenient(self.strict, "Corrupt JPEG data: bad Huffman code".into())?;
                Ok(0)
            }
        }
    }

    /// Decodes one AC run/size symbol with its value. Returns (run, value); a value of 0 (no
    /// coefficient is coded as zero) is an end of block (run < 15) or a run of 16 zeros (15).
    #[inline(always)]
    pub fn ac(&mut self, table: &Decoder) -> Result<(u32, i32), Refusal> {
        self.ensure(32);
        let fast = table.ac_fast(self.peek(LOOKAHEAD));
        if fast != 0 {
            self.consume((fast & 15) as u32);
            return Ok((((fast >> 4) & 15) as u32, fast >> 8));
        }
        let symbol = self.symbol(table)?;
        let run = u32::from(symbol >> 4);
        let size = u32::from(symbol & 15);
        if size == 0 {
            return Ok((run, 0));
        }
        let raw = self.peek(size);
        self.consume(size);
        Ok((run, super::huffman::extend(raw, size)))
    }

    /// True when the decoder has used bits the data does not have: the segment ended early.
    pub fn overran(&self) -> bool {
        self.fake > self.count
    }

    /// The error for data that ended early, in libjpeg's words.
    pub fn overrun_error(&self) -> Refusal {
        if self.pos >= self.data.len() {
            Refusal::corrupt("Premature end of JPEG file")
        } else {
            Refusal::corrupt("Corrupt JPEG data: premature end of data segment")
        }
    }

    /// Ends the entropy-coded segment: checks that its data was all there (when strict),
    /// then finds the next marker. Returns the marker's code and the position after it, or
    /// `None` at the end of the file.
    pub fn finish(&mut self) -> Result<Option<(u8, usize)>, Refusal> {
        self.check_complete()?;
        Ok(self.next_marker().0)
    }

    /// Data that ended early: an error when strict, else noted.
    fn check_complete(&self) -> Result<(), Refusal> {
        if self.overran() {
            if self.strict {
                return Err(self.overrun_error());
            }
            crate::jpeg::corruption::note(self.overrun_error().to_string());
        }
        Ok(())
    }

    /// The next marker from where the reader stands, and how many bytes that are not a marker
    /// (nor fill bytes) come before it. Buffered bytes that were not used are padding; bytes
    /// never buffered are extraneous, as libjpeg counts them.
    fn next_marker(&self) -> (Option<(u8, usize)>, usize) {
        let (mut pos, mut skipped) = (self.pos, 0);
        loop {
            match self.data.get(pos) {
                None => return (None, skipped),
                Some(&0xFF) => match self.data.get(pos + 1) {
                    None => return (None, skipped),
                    Some(0xFF) => pos += 1,
                    Some(0) => {
                        pos += 2;
                        skipped += 2;
                    }
                    Some(&code) => return (Some((code, pos + 2)), skipped),
                },
                Some(_) => {
                    pos += 1;
                    skipped += 1;
                }
            }
        }
    }

    /// Crosses a restart marker: the segment so far must be complete (when strict), and the
    /// next marker must be `RSTn` with `n` = `expected`.
    pub fn restart(&mut self, expected: u8) -> Result<(), Refusal> {
        // Whole bytes read ahead but not used, and bytes not read before the marker: none in
        // a sound interval, whose last byte holds its padding bits.
        self.check_complete()?;
        let (found, not_read) = self.next_marker();
        let skipped = ((self.count.saturating_sub(self.fake)) / 8) as usize + not_read;
        match found {
            Some((code, after)) if code == 0xD0 + expected => {
                if skipped > 0 {
                    // Inside the entropy-coded data: corrupt (libjpeg's warning).
                    Refusal::unless_lenient(
                        self.strict,
                        format!(
                            "Corrupt JPEG data: {skipped} extraneous bytes before marker 0x{code:02x}"
                        ),
                    )?;
                }
                *self = BitReader::new(self.data, after, self.strict);
                Ok(())
            }
            Some((code, _)) => Err(Refusal::corrupt(format!(
                "Corrupt JPEG data: found marker 0x{code:02x} instead of RST{expected}"
            ))),
            None => Err(Refusal::corrupt("Premature end of JPEG file")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stuffed_bytes_and_markers() {
        let data = [0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD9];
        let mut r = BitReader::new(&data, 0, true);
        assert_eq!(r.bits(8), 0x12);
        assert_eq!(r.bits(8), 0xFF);
        assert_eq!(r.bits(4), 0x3);
        assert_eq!(r.bits(4), 0x4);
        assert!(!r.overran());
        assert_eq!(r.bits(8), 0);
        assert!(r.overran());
        let mut r = BitReader::new(&data, 0, false);
        r.bits(16);
        assert_eq!(r.finish().ok().flatten(), Some((0xD9, 6)));
    }

    #[test]
    fn fast_refill_matches_byte_by_byte() {
        let data: Vec<u8> = (0..200u32).map(|i| (i * 37 % 251) as u8).collect();
        let mut r = BitReader::new(&data, 0, true);
        for (i, &b) in data.iter().enumerate() {
            assert_eq!(r.bits(8), u32::from(b), "byte {i}");
        }
    }
}
