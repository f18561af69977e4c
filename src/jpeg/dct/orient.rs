//! Turning a photo upright in the DCT domain, for `--strip` on a photo whose EXIF orientation
//! is not 1 (the tag goes, so the pixels must turn): jpegtran's lossless transforms on the
//! input's coefficients, before they are requantized. Every orientation is a transposition or
//! not, then a mirror across, then a mirror down. On a block's coefficients (row frequency
//! `u`, column frequency `v`): a transposition swaps `u` and `v`, a mirror across negates the
//! odd columns (`v` odd), a mirror down the odd rows; on the grid of blocks, the same moves.
//!
//! A mirror is exact only when the side it reverses is a whole number of MCUs: otherwise the
//! last, partial blocks would come first, their padding in view (jpegtran trims or leaves
//! them). Such photos stay with the pixel path ([`exact`]).
use image::metadata::Orientation;

use super::frame::{Component, Frame};
use super::quant::NATURAL_ORDER;
use super::refusal::Refusal;
use super::store::{self, Sparse};

/// A transform: a transposition or not, then mirrors (across: left and right swap; down: top
/// and bottom swap).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Turn {
    pub transpose: bool,
    pub across: bool,
    pub down: bool,
}

impl Turn {
    /// What shows a photo of EXIF `orientation` upright.
    pub fn upright(orientation: Orientation) -> Turn {
        let (transpose, across, down) = match orientation {
            Orientation::NoTransforms => (false, false, false),
            Orientation::FlipHorizontal => (false, true, false),
            Orientation::Rotate180 => (false, true, true),
            Orientation::FlipVertical => (false, false, true),
            // EXIF 5, transpose: (x, y) -> (y, x).
            Orientation::Rotate90FlipH => (true, false, false),
            // EXIF 6: 90 degrees clockwise, (x, y) -> (h - 1 - y, x).
            Orientation::Rotate90 => (true, true, false),
            // EXIF 7, transverse: (x, y) -> (h - 1 - y, w - 1 - x).
            Orientation::Rotate270FlipH => (true, true, true),
            // EXIF 8: 90 degrees counter-clockwise, (x, y) -> (y, w - 1 - x).
            Orientation::Rotate270 => (true, false, true),
        };
        Turn {
            transpose,
            across,
            down,
        }
    }
}

/// Whether `turn` is exact on `frame`: every side it mirrors is a whole number of MCUs.
pub fn exact(frame: &Frame, turn: Turn) -> bool {
    let (mcu_w, mcu_h) = if frame.components.len() == 1 {
        (8, 8)
    } else {
        let hmax = frame.components.iter().map(|c| c.h).max().unwrap_or(1);
        let vmax = frame.components.iter().map(|c| c.v).max().unwrap_or(1);
        (8 * hmax, 8 * vmax)
    };
    // The input's sides that end up mirrored (a transposition swaps them first).
    let (mirrors_x, mirrors_y) = if turn.transpose {
        (turn.down, turn.across)
    } else {
        (turn.across, turn.down)
    };
    (!mirrors_x || frame.width.is_multiple_of(mcu_w))
        && (!mirrors_y || frame.height.is_multiple_of(mcu_h))
}

/// The zigzag position and sign each zigzag position moves to under `turn`.
fn coefficient_map(turn: Turn) -> [(u32, i32); 64] {
    let mut zigzag = [0u32; 64];
    for (k, &natural) in NATURAL_ORDER.iter().enumerate() {
        zigzag[natural] = k as u32;
    }
    let mut map = [(0u32, 1i32); 64];
    for (k, &natural) in NATURAL_ORDER.iter().enumerate() {
        let (u, v) = (natural / 8, natural % 8);
        let (u, v) = if turn.transpose { (v, u) } else { (u, v) };
        let odd = (turn.across && v % 2 == 1) != (turn.down && u % 2 == 1);
        map[k] = (zigzag[u * 8 + v], if odd { -1 } else { 1 });
    }
    map
}

/// Turns a frame and its input coefficients (one sparse store per component, over each
/// component's whole grid of blocks) by `turn`, which must be [`exact`] on it. The
/// components' quantization tables are transposed with their coefficients.
pub fn turn(
    frame: Frame,
    coefficients: Vec<Sparse>,
    turn: Turn,
) -> Result<(Frame, Vec<Sparse>), Refusal> {
    let map = coefficient_map(turn);
    let mut turned = Vec::with_capacity(coefficients.len());
    let mut entries: Vec<u32> = Vec::with_capacity(63);
    for (c, source) in frame.components.iter().zip(&coefficients) {
        let (w, h) = (c.blocks_w, c.blocks_h);
        let (out_w, out_h) = if turn.transpose { (h, w) } else { (w, h) };
        let mut out = Sparse::new(out_w * out_h)?;
        for oy in 0..out_h {
            for ox in 0..out_w {
                let x = if turn.across { out_w - 1 - ox } else { ox };
                let y = if turn.down { out_h - 1 - oy } else { oy };
                let (x, y) = if turn.transpose { (y, x) } else { (x, y) };
                let b = y * w + x;
                let dc = source.dc.get(b).copied().unwrap_or(0);
                entries.clear();
                for &entry in source.entries(b) {
                    let (k, sign) = map[store::position(entry) as usize & 63];
                    let value = store::value(entry).wrapping_mul(sign);
                    entries.push(Sparse::entry(k as usize, value));
                }
                // A transposition reorders the positions; the encoder wants them ascending.
                if turn.transpose {
                    entries.sort_unstable();
                }
                let o = oy * out_w + ox;
                out.begin(o, i32::from(dc));
                out.ac.extend_from_slice(&entries);
                out.end(o);
            }
        }
        turned.push(out);
    }
    Ok((turned_frame(frame, turn), turned))
}

/// The frame's geometry and tables after `turn`.
fn turned_frame(mut frame: Frame, turn: Turn) -> Frame {
    if !turn.transpose {
        return frame;
    }
    std::mem::swap(&mut frame.width, &mut frame.height);
    std::mem::swap(&mut frame.mcus_x, &mut frame.mcus_y);
    for c in &mut frame.components {
        transpose_component(c);
    }
    frame
}

fn transpose_component(c: &mut Component) {
    std::mem::swap(&mut c.h, &mut c.v);
    std::mem::swap(&mut c.blocks_w, &mut c.blocks_h);
    std::mem::swap(&mut c.coded_w, &mut c.coded_h);
    let map = coefficient_map(Turn {
        transpose: true,
        across: false,
        down: false,
    });
    let mut table = [0u16; 64];
    for (k, &q) in c.table.iter().enumerate() {
        table[map[k].0 as usize] = q;
    }
    c.table = table;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Where pixel (x, y) goes.
    type Moves = fn(usize, usize) -> (usize, usize);

    #[test]
    fn each_orientation_turns_as_exif_says() {
        // Where pixel (x, y) of a w x h picture goes, for EXIF orientations 2 to 8.
        let (w, h) = (5usize, 3usize);
        let cases: [(Orientation, Moves); 7] = [
            (Orientation::FlipHorizontal, |x, y| (4 - x, y)),
            (Orientation::Rotate180, |x, y| (4 - x, 2 - y)),
            (Orientation::FlipVertical, |x, y| (x, 2 - y)),
            (Orientation::Rotate90FlipH, |x, y| (y, x)),
            (Orientation::Rotate90, |x, y| (2 - y, x)),
            (Orientation::Rotate270FlipH, |x, y| (2 - y, 4 - x)),
            (Orientation::Rotate270, |x, y| (y, 4 - x)),
        ];
        for (orientation, expected) in cases {
            let t = Turn::upright(orientation);
            for y in 0..h {
                for x in 0..w {
                    let (tx, ty) = if t.transpose { (y, x) } else { (x, y) };
                    let (tw, th) = if t.transpose { (h, w) } else { (w, h) };
                    let tx = if t.across { tw - 1 - tx } else { tx };
                    let ty = if t.down { th - 1 - ty } else { ty };
                    assert_eq!((tx, ty), expected(x, y), "{orientation:?} at ({x}, {y})");
                }
            }
        }
    }

    #[test]
    fn coefficients_move_and_change_sign_as_the_basis_functions_do() {
        // Natural position 1 is (u 0, v 1): odd across. Transposed, it is (1, 0): zigzag 2.
        let across = coefficient_map(Turn::upright(Orientation::FlipHorizontal));
        assert_eq!(across[1], (1, -1));
        assert_eq!(across[2], (2, 1));
        let turned = coefficient_map(Turn::upright(Orientation::Rotate90));
        // Rotate90: transposed, then mirrored across: (0, 1) -> (1, 0), even column: +.
        assert_eq!(turned[1], (2, 1));
        // (1, 0) -> (0, 1), odd column: -.
        assert_eq!(turned[2], (1, -1));
        // Twice transposed is the identity.
        let t = coefficient_map(Turn::upright(Orientation::Rotate90FlipH));
        for k in 0..64 {
            assert_eq!(t[t[k].0 as usize].0, k as u32);
        }
    }
}
