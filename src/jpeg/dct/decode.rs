//! Reading the input: its segments (tables, frame, metadata) and its scans, entropy-decoded
//! and requantized to the output's tables. A baseline scan of every component in frame order
//! (the usual file) has the output's block order, so its blocks become the output's symbols
//! at once ([`Tokens`]); other baseline scans fill a [`Sparse`] store per component.
//! Progressive scans need every scan of a coefficient before it is known, so they are only
//! located here, and decoded together at the end (see [`progressive`]).
//!
//! Every length, index, table and position comes from an untrusted file and is checked; the
//! memory used is bounded by the frame's declared size, which is checked first.
use super::bits::BitReader;
use super::chroma;
use super::decode_progressive::{self, Deferred};
use super::frame::{Decoded, Frame, FrameCheck, colour_check};
use super::huffman::{Decoder, Spec};
use super::quant::BlockEntries;
use super::refusal::Refusal;
use super::scan::{BaselineScan, Layout, Predictions, Scan, requant_for};
use super::store::{Sparse, position, value};
use super::tokens::Tokens;
use crate::jpeg::header::next_marker;

/// Most scans accepted in one file (each one is a pass over the image; a typical progressive
/// JPEG has 10).
const MAX_SCANS: usize = 300;

struct Reader<'a, 't> {
    input: &'a [u8],
    strict: bool,
    data_only: bool,
    outputs: &'t [[u16; 64]; 2],
    /// AC coefficients chosen by trellis quantization (see [`FrameCheck::trellis`]).
    trellis: bool,
    qtables: [Option<[u16; 64]>; 4],
    dc_tables: [Option<Decoder>; 4],
    ac_tables: [Option<Decoder>; 4],
    restart_interval: usize,
    frame: Option<Frame>,
    sparse: Vec<Sparse>,
    /// The progressive scans, decoded at the end.
    deferred: Vec<Deferred<'a>>,
    segments: Vec<(u8, &'a [u8])>,
    adobe_transform: Option<u8>,
    jfif: bool,
    density: Option<(u8, u16, u16)>,
    scans: usize,
    tokens: Option<Box<Tokens>>,
    /// The chroma downsampling the output needs (see [`FrameCheck::to_420`]).
    merge: Option<chroma::Merge>,
    /// Per component, the point transform each coefficient was last refined to (-1: not
    /// seen yet), to check the progression as libjpeg does.
    progression: Vec<[i8; 64]>,
}

/// The position of the marker that ends entropy-coded data starting at `pos`: the first one
/// that is not a restart marker (the end of the input when there is none).
fn end_of_entropy_data(input: &[u8], mut pos: usize) -> usize {
    while let Some((code, after)) = next_marker(input, pos) {
        if !(0xD0..=0xD7).contains(&code) {
            return after - 2;
        }
        pos = after;
    }
    input.len()
}

/// libjpeg's checks of a scan's parameters that it only warns about (and photopress takes for
/// corrupt data): a sequential frame's scan covers all 64 coefficients at full precision; a
/// progressive scan refines each coefficient from the point its last scan left it at, and
/// an AC scan comes after its component's DC one.
fn check_parameters(
    frame: &Frame,
    scan: &Scan,
    progression: &mut Vec<[i8; 64]>,
    strict: bool,
) -> Result<(), Refusal> {
    if !frame.progressive {
        if (scan.ss, scan.se, scan.ah, scan.al) != (0, 63, 0, 0) {
            Refusal::unless_lenient(strict, "Invalid SOS parameters for sequential JPEG".into())?;
        }
        return Ok(());
    }
    if progression.len() != frame.components.len() {
        *progression = vec![[-1; 64]; frame.components.len()];
    }
    for &(ci, _, _) in &scan.components {
        let bits = &mut progression[ci];
        let mut bogus = (scan.ss > 0 && bits[0] < 0).then_some(0);
        let band = scan.ss.min(63)..=scan.se.min(63);
        for (k, bit) in bits
            .iter_mut()
            .enumerate()
            .take(*band.end() + 1)
            .skip(*band.start())
        {
            let expected = u32::try_from(*bit).unwrap_or(0);
            if scan.ah != expected {
                bogus = bogus.or(Some(k));
            }
            *bit = i8::try_from(scan.al).unwrap_or(i8::MAX);
        }
        if let Some(k) = bogus {
            Refusal::unless_lenient(
                strict,
                format!("Inconsistent progression sequence for component {ci} coefficient {k}"),
            )?;
        }
    }
    Ok(())
}

fn be16(data: &[u8], at: usize) -> usize {
    usize::from(data[at]) << 8 | usize::from(data[at + 1])
}

/// Reads the whole input. `outputs` are the output's luminance and chrominance tables.
pub fn read<'a>(
    input: &'a [u8],
    strict: bool,
    outputs: &[[u16; 64]; 2],
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
        trellis: check.trellis(),
        qtables: [None; 4],
        dc_tables: Default::default(),
        ac_tables: Default::default(),
        restart_interval: 0,
        frame: None,
        sparse: Vec::new(),
        deferred: Vec::new(),
        segments: Vec::new(),
        adobe_transform: None,
        jfif: false,
        density: None,
        scans: 0,
        tokens: None,
        merge: None,
        progression: Vec::new(),
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
            // Reserved codes, JPG and JPGn: libjpeg refuses them (and so does the pixel path),
            // rather than skipping them as segments.
            0x02..=0xBF | 0xC8 | 0xF0..=0xFD => {
                return Err(Refusal::corrupt(format!(
                    "Unsupported marker type 0x{code:02x}"
                )));
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
                // libjpeg takes a DRI segment of exactly 4 bytes (its length field and the
                // interval), and refuses any other length.
                if body.len() != 2 {
                    return Err(Refusal::corrupt("Bogus marker length"));
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
    if !ended {
        Refusal::unless_lenient(strict, "Premature end of JPEG file".into())?;
    }
    r.finish()
}
impl<'a> Reader<'a, '_> {
    fn frame(&mut self, code: u8, body: &[u8]) -> Result<(), Refusal> {
        if self.frame.is_some() {
            return Err(Refusal::corrupt(
                "Invalid JPEG file structure: two SOF markers",
            ));
        }
        self.frame = Some(Frame::parse(code, body, self.input.len(), self.data_only)?);
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
            if check.to_420() && !self.data_only {
                self.merge = plan_downsampling(frame);
            }
        }
        let scan = Scan::parse(
            body,
            frame,
            &self.qtables,
            (!check.keep_tables()).then_some(self.outputs),
            check.trellis(),
            &self.dc_tables,
            &self.ac_tables,
        )?;
        check_parameters(frame, &scan, &mut self.progression, self.strict)?;
        let mut bits = BitReader::new(self.input, pos, self.strict);
        let frame = &*frame;
        if frame.progressive {
            self.deferred.push(Deferred::new(
                frame,
                scan,
                self.restart_interval,
                bits,
                &self.dc_tables,
                &self.ac_tables,
            ));
            return Ok(end_of_entropy_data(self.input, pos));
        }
        // A first baseline scan of every component in frame order has the output's block
        // order: its blocks go straight to the output's symbols, with no store in between (and
        // no other baseline scan can follow it: each component has one).
        let in_output_order = !check.coefficients()
            && self.scans == 1
            && self.merge.is_none()
            && scan.components.len() == frame.components.len()
            && scan.components.iter().enumerate().all(|(i, c)| c.0 == i);
        if self.scans == 1 && !in_output_order && !self.data_only {
            // (A check of the data only keeps no baseline coefficients.)
            for c in &frame.components {
                self.sparse.push(Sparse::new(c.blocks_w * c.blocks_h)?);
            }
        }
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
                entries: Default::default(),
            },
            Predictions([0; 4]),
        );
        Layout::new(frame, &scan, self.restart_interval).run(&mut bits, &mut state)?;
        self.tokens = state.0.fused;
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
        if frame.components.iter().any(|c| !c.scanned) {
            Refusal::unless_lenient(self.strict, "Premature end of JPEG file".into())?;
        }
        // Baseline: the stores its scans filled (none when they became tokens).
        let mut coefficients = self.sparse;
        // A check of the data only needs no output coefficients.
        // Progressive: its scans, decoded now.
        if !self.deferred.is_empty() {
            coefficients.extend(decode_progressive::decode(
                &frame,
                &mut self.deferred,
                self.data_only,
            )?);
        }
        let (frame, coefficients) = match self.merge {
            Some(merge) if !self.data_only => {
                downsample(frame, coefficients, merge, self.outputs, self.trellis)?
            }
            _ => (frame, coefficients),
        };
        Ok(Decoded {
            frame,
            coefficients,
            segments: self.segments,
            density: self.density,
            tokens: self.tokens,
        })
    }
}

/// The chroma downsampling a frame needs for a 4:2:0 output (none when it is 4:2:0, gray, or
/// a layout [`chroma::merge`] cannot map); its chroma components are then kept as the input
/// has them, for the map.
fn plan_downsampling(frame: &mut Frame) -> Option<chroma::Merge> {
    if chroma::is_420(frame) {
        return None;
    }
    let merge = chroma::merge(frame)?;
    for c in &mut frame.components[1..] {
        c.raw = true;
    }
    Some(merge)
}

/// Chroma to downsample: the luma moves to the 4:2:0 grid, the chroma (kept as the input has
/// it) is mapped to the output's chrominance table.
fn downsample(
    frame: Frame,
    coefficients: Vec<Sparse>,
    merge: chroma::Merge,
    outputs: &[[u16; 64]; 2],
    trellis: bool,
) -> Result<(Frame, Vec<Sparse>), Refusal> {
    let map = |i: usize| chroma::Map::new(merge, &frame.components[i].table, &outputs[1], trellis);
    let maps = [map(1), map(2)];
    chroma::to_420(frame, coefficients, &maps)
}

/// Requantizes coefficients held as the input has them (`raw`, one store per component of
/// `frame`, whose tables are latched) to `outputs`, as reading them from a file would have
/// (see [`read`]): with `trellis`, and downsampled to 4:2:0 when `to_420` asks.
pub fn requantize(
    frame: &Frame,
    raw: &[Sparse],
    outputs: &[[u16; 64]; 2],
    trellis: bool,
    to_420: bool,
) -> Result<(Frame, Vec<Sparse>), Refusal> {
    let mut frame = frame.clone();
    let merge = if to_420 {
        plan_downsampling(&mut frame)
    } else {
        None
    };
    let mut coefficients = Vec::with_capacity(raw.len());
    let mut entries = BlockEntries::default();
    let count = frame.components.len();
    for (index, store) in raw.iter().enumerate().take(count) {
        let requant = requant_for(&frame, index, Some(outputs), trellis);
        if frame.components[index].raw {
            // Kept as it is, for the downsampling.
            coefficients.push(store.try_clone()?);
        } else {
            let mut out = Sparse::new(store.dc.len())?;
            let class = usize::from(index > 0);
            for (b, &dc) in store.dc.iter().enumerate() {
                let values = store
                    .entries(b)
                    .iter()
                    .map(|&e| (position(e) as usize, value(e)));
                entries.requantize_into(&requant, class, (i32::from(dc), values), &mut out, b);
            }
            coefficients.push(out);
        }
        frame.components[index].requant = Some(requant);
    }
    match merge {
        Some(merge) => downsample(frame, coefficients, merge, outputs, trellis),
        None => Ok((frame, coefficients)),
    }
}
