//! 8x8 transposes of floats, in registers: the metric's two changes of layout (a row's
//! quantities from planes to pixels, and the blur's output from pixels to lanes) go through
//! them. The compiler turned both, written as index loops, into scatters or into stores and
//! reloads that stall on store forwarding (a sixth of a score); AVX's shuffles do an 8x8
//! block in 24 instructions. `pulp`'s tokens make the shuffles safe to call: they are only
//! made where the processor has AVX2, and elsewhere the index loop stands in.

/// A block of 8 vectors of 8 floats.
pub type Block = [[f32; 8]; 8];

/// The transpose the processor allows; made once and copied where it is needed.
#[derive(Clone, Copy)]
pub struct Transpose {
    #[cfg(target_arch = "x86_64")]
    avx: Option<pulp::x86::V3>,
}

impl Transpose {
    pub fn new() -> Self {
        Transpose {
            #[cfg(target_arch = "x86_64")]
            avx: pulp::x86::V3::try_new(),
        }
    }

    /// `block` transposed: row `i` of the result is column `i` of `block`.
    #[inline(always)]
    pub fn block(self, block: &Block) -> Block {
        #[cfg(target_arch = "x86_64")]
        if let Some(v3) = self.avx {
            return shuffled(v3, block);
        }
        let mut out = [[0.0f32; 8]; 8];
        for (i, row) in out.iter_mut().enumerate() {
            for (j, value) in row.iter_mut().enumerate() {
                *value = block[j][i];
            }
        }
        out
    }
}

/// The transpose by AVX shuffles: pairs of rows interleaved, then pairs of pairs, then the
/// 128-bit halves exchanged.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn shuffled(v3: pulp::x86::V3, block: &Block) -> Block {
    use core::arch::x86_64::__m256;
    use pulp::bytemuck::cast;
    let avx = v3.avx;
    let r: [__m256; 8] = [
        cast(block[0]),
        cast(block[1]),
        cast(block[2]),
        cast(block[3]),
        cast(block[4]),
        cast(block[5]),
        cast(block[6]),
        cast(block[7]),
    ];
    let t = [
        avx._mm256_unpacklo_ps(r[0], r[1]),
        avx._mm256_unpackhi_ps(r[0], r[1]),
        avx._mm256_unpacklo_ps(r[2], r[3]),
        avx._mm256_unpackhi_ps(r[2], r[3]),
        avx._mm256_unpacklo_ps(r[4], r[5]),
        avx._mm256_unpackhi_ps(r[4], r[5]),
        avx._mm256_unpacklo_ps(r[6], r[7]),
        avx._mm256_unpackhi_ps(r[6], r[7]),
    ];
    // Columns 0 and 4, 1 and 5, 2 and 6, 3 and 7 of rows 0..4, then of rows 4..8.
    let s = [
        avx._mm256_shuffle_ps::<0x44>(t[0], t[2]),
        avx._mm256_shuffle_ps::<0xEE>(t[0], t[2]),
        avx._mm256_shuffle_ps::<0x44>(t[1], t[3]),
        avx._mm256_shuffle_ps::<0xEE>(t[1], t[3]),
        avx._mm256_shuffle_ps::<0x44>(t[4], t[6]),
        avx._mm256_shuffle_ps::<0xEE>(t[4], t[6]),
        avx._mm256_shuffle_ps::<0x44>(t[5], t[7]),
        avx._mm256_shuffle_ps::<0xEE>(t[5], t[7]),
    ];
    let o = [
        avx._mm256_permute2f128_ps::<0x20>(s[0], s[4]),
        avx._mm256_permute2f128_ps::<0x20>(s[1], s[5]),
        avx._mm256_permute2f128_ps::<0x20>(s[2], s[6]),
        avx._mm256_permute2f128_ps::<0x20>(s[3], s[7]),
        avx._mm256_permute2f128_ps::<0x31>(s[0], s[4]),
        avx._mm256_permute2f128_ps::<0x31>(s[1], s[5]),
        avx._mm256_permute2f128_ps::<0x31>(s[2], s[6]),
        avx._mm256_permute2f128_ps::<0x31>(s[3], s[7]),
    ];
    [
        cast(o[0]),
        cast(o[1]),
        cast(o[2]),
        cast(o[3]),
        cast(o[4]),
        cast(o[5]),
        cast(o[6]),
        cast(o[7]),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_block_is_transposed_by_either_way() {
        let block: Block = std::array::from_fn(|i| std::array::from_fn(|j| (i * 8 + j) as f32));
        let portable = Transpose {
            #[cfg(target_arch = "x86_64")]
            avx: None,
        };
        for transpose in [Transpose::new(), portable] {
            let out = transpose.block(&block);
            for i in 0..8 {
                for j in 0..8 {
                    assert_eq!(out[i][j], block[j][i], "({i}, {j})");
                }
            }
        }
    }
}
