//! Requantized coefficients of one component, kept sparse: a block's DC value, and its
//! non-zero AC coefficients with their zigzag positions. At the qualities photopress writes,
//! most coefficients requantize to zero, so this is a few bytes a block where the dense
//! form is 128.
use super::refusal::Refusal;

pub struct Sparse {
    /// DC value of each block (row-major over the component's block grid).
    pub dc: Vec<i16>,
    /// Index of each block's first entry in `ac`.
    pub start: Vec<u32>,
    /// Number of entries of each block.
    pub len: Vec<u8>,
    /// `(zigzag position << 16) | value as u16`, ascending positions within a block.
    pub ac: Vec<u32>,
}

/// `n` default (zero) values, their room reserved first: an error instead of an abort when
/// memory runs out.
pub fn zeroed<T: Clone + Default>(n: usize) -> Result<Vec<T>, Refusal> {
    let mut v = Vec::new();
    v.try_reserve_exact(n).map_err(|_| Refusal::no_memory())?;
    v.resize(n, T::default());
    Ok(v)
}

/// A copy of `values`, its room reserved first (as [`zeroed`]).
fn copied<T: Copy>(values: &[T]) -> Result<Vec<T>, Refusal> {
    let mut v = Vec::new();
    v.try_reserve_exact(values.len())
        .map_err(|_| Refusal::no_memory())?;
    v.extend_from_slice(values);
    Ok(v)
}

impl Sparse {
    pub fn new(blocks: usize) -> Result<Self, Refusal> {
        let mut ac = Vec::new();
        ac.try_reserve(blocks * 4)
            .map_err(|_| Refusal::no_memory())?;
        Ok(Sparse {
            dc: zeroed(blocks)?,
            start: zeroed(blocks)?,
            len: zeroed(blocks)?,
            ac,
        })
    }

    /// Bytes its values hold.
    pub fn bytes(&self) -> u64 {
        (self.dc.len() * 2 + self.start.len() * 4 + self.len.len() + self.ac.len() * 4) as u64
    }

    /// A copy, its room reserved first (as [`Sparse::new`]).
    pub fn try_clone(&self) -> Result<Self, Refusal> {
        Ok(Sparse {
            dc: copied(&self.dc)?,
            start: copied(&self.start)?,
            len: copied(&self.len)?,
            ac: copied(&self.ac)?,
        })
    }

    /// Starts (or restarts) block `b`: its entries are those pushed until the next `begin`.
    #[inline(always)]
    pub fn begin(&mut self, b: usize, dc: i32) {
        self.dc[b] = dc as i16;
        self.start[b] = self.ac.len() as u32;
    }

    /// The entry for `value` at zigzag position `k`.
    #[inline(always)]
    pub fn entry(k: usize, value: i32) -> u32 {
        ((k as u32) << 16) | u32::from(value as u16)
    }

    /// Ends block `b`.
    #[inline(always)]
    pub fn end(&mut self, b: usize) {
        self.len[b] = (self.ac.len() as u32 - self.start[b]) as u8;
    }

    /// The AC entries of block `b`.
    #[inline(always)]
    pub fn entries(&self, b: usize) -> &[u32] {
        let start = self.start[b] as usize;
        &self.ac[start..start + usize::from(self.len[b])]
    }
}

/// The zigzag position of an entry.
#[inline(always)]
pub fn position(entry: u32) -> u32 {
    entry >> 16
}

/// The value of an entry.
#[inline(always)]
pub fn value(entry: u32) -> i32 {
    i32::from(entry as u16 as i16)
}
