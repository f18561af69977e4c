//! The memory budget: an image's working memory is estimated from its header before it is
//! decoded, and an image waits while the images in progress already use the budget, so a
//! folder of huge photos on many threads cannot run the machine out of memory. (This is
//! admission control, not accounting: the report's totals never pass through here.)
// The one other library module allowed `unsafe`: glibc's allocator settings (mallopt).
#![allow(unsafe_code)]
use std::sync::{Condvar, Mutex, PoisonError};

use crate::jpeg::header::FrameHeader;

/// Bytes the codec needs for the image `header` declares. Measured: a 42.8 MP baseline 4:2:0
/// photo peaks at about 7.7 bytes a pixel. The encoder keeps two whole-image coefficient
/// buffers (quantized and, in mozjpeg, unquantized), 2 bytes a sample of its 4:2:0 (or gray,
/// or YCCK) output; the decoded planes take 1.5 bytes a pixel; a progressive input adds the
/// decoder's own coefficient buffer, 2 bytes a sample of the input (4:4:4 at worst).
pub fn working_memory(header: &FrameHeader) -> u64 {
    let pixels = header.width as u64 * header.height.max(1) as u64;
    let components = header.components.len() as u64;
    // Output samples a pixel, times two: gray 1, YCbCr 4:2:0 1.5, YCCK 4:2:0 2.5.
    let half_samples_out: u64 = match components {
        1 => 2,
        4 => 5,
        _ => 3,
    };
    let mut bytes = pixels * half_samples_out * 2; // 2 buffers x 2 bytes x samples
    bytes += pixels * 3 / 2; // planes
    if header.progressive() {
        bytes += pixels * 2 * components.max(1);
    }
    bytes + (1 << 20)
}

/// Bytes the resizing path needs for the image `header` declares, decoded at `scaled` and
/// resized to `target` (see [`crate::jpeg::pixel::recompress_resized`]): the scaled picture and the
/// resized one, interleaved (gray 1, RGB 3, CMYK 4 bytes a pixel), the filter's intermediate
/// (target width x scaled height), the turned copy under `--strip`, the encoder's two
/// coefficient buffers at the target size, and a progressive input's own coefficient buffer
/// (at full size: libjpeg keeps every coefficient whatever the scaling).
pub fn working_memory_resized(
    header: &FrameHeader,
    scaled: (usize, usize),
    target: (usize, usize),
) -> u64 {
    let components = header.components.len().max(1) as u64;
    let channels = if components == 1 {
        1
    } else {
        components.max(3)
    };
    let half_samples_out: u64 = match components {
        1 => 2,
        4 => 5,
        _ => 3,
    };
    let scaled_px = scaled.0 as u64 * scaled.1 as u64;
    let target_px = target.0 as u64 * target.1 as u64;
    let mut bytes = scaled_px * channels;
    bytes += target.0 as u64 * scaled.1 as u64 * channels;
    bytes += target_px * channels * 2;
    bytes += target_px * half_samples_out * 2;
    if header.progressive() {
        bytes += header.width as u64 * header.height.max(1) as u64 * 2 * components;
    }
    bytes + (1 << 20)
}

/// Bytes the transcoder keeps while a target search re-encodes one image many times (see
/// `jpeg::dct::prepare`): the input's coefficients as the file holds them, kept sparse (7
/// bytes a block, 4 an AC coefficient that is not zero), plus one candidate's requantized
/// copy, which holds no more. Bounded two ways, the smaller taken: every AC coefficient of
/// every block, or one per two bits of the input (where a coefficient becomes non-zero, in
/// any scan, it costs a Huffman code and a magnitude or sign bit: two bits at least).
pub fn prepared_coefficients(header: &FrameHeader, input_len: usize) -> u64 {
    let (hmax, vmax) = header.components.iter().fold((1u64, 1u64), |(h, v), c| {
        (h.max(u64::from(c.h)), v.max(u64::from(c.v)))
    });
    let pixels = header.width as u64 * header.height.max(1) as u64;
    let blocks: u64 = header
        .components
        .iter()
        .map(|c| pixels * u64::from(c.h) * u64::from(c.v) / (hmax * vmax) / 64 + 1)
        .sum();
    let entries = (blocks * 63).min(input_len as u64 * 4);
    2 * (blocks * 7 + entries * 4)
}

/// Each image needs a few large buffers (the codec's coefficient arrays, the planes), freed at
/// its end. glibc hands such blocks back to the kernel and maps fresh ones for the next image,
/// and faulting those pages in cost a quarter of the run's time (measured: 0.49 s of system
/// time in 1.48 s of CPU on 20 photos). One heap that is never trimmed lets the next image reuse
/// the same pages; the price is that memory stays at its peak until the process ends.
///
/// This changes the allocator of the whole process: it is for programs (the photopress
/// command, the benchmarks) to call first thing in `main`, before any thread starts, not for
/// the library to do behind its users' backs. Does nothing outside Linux with glibc.
pub fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes glibc's allocation policy.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
        libc::mallopt(libc::M_MMAP_MAX, 0);
        libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX);
    }
}

/// A budget of bytes shared by the workers of a batch.
pub struct Budget {
    limit: u64,
    in_use: Mutex<u64>,
    freed: Condvar,
}

/// Memory held by one image; given back when dropped.
pub struct Reservation<'a> {
    budget: &'a Budget,
    bytes: u64,
}

impl Budget {
    /// `limit` bytes; 0 means no limit.
    pub fn new(limit: u64) -> Self {
        Budget {
            limit,
            in_use: Mutex::new(0),
            freed: Condvar::new(),
        }
    }

    /// Waits until `bytes` fit in the budget, then takes them. `None` when `bytes` exceed the
    /// whole budget: that image can never run within it.
    pub fn reserve(&self, bytes: u64) -> Option<Reservation<'_>> {
        if self.limit == 0 {
            return Some(Reservation {
                budget: self,
                bytes: 0,
            });
        }
        if bytes > self.limit {
            return None;
        }
        let mut in_use = self.in_use.lock().unwrap_or_else(PoisonError::into_inner);
        while *in_use + bytes > self.limit {
            in_use = self
                .freed
                .wait(in_use)
                .unwrap_or_else(PoisonError::into_inner);
        }
        *in_use += bytes;
        Some(Reservation {
            budget: self,
            bytes,
        })
    }

    /// The budget in bytes (0: none).
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// Bytes reserved now.
    pub fn in_use(&self) -> u64 {
        *self.in_use.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        if self.bytes == 0 {
            return;
        }
        let mut in_use = self
            .budget
            .in_use
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        *in_use -= self.bytes;
        self.budget.freed.notify_all();
    }
}

/// The default budget: half the memory available when the batch starts (Linux), else none.
pub fn default_limit() -> u64 {
    let Ok(meminfo) = std::fs::read_to_string("/proc/meminfo") else {
        return 0;
    };
    meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemAvailable:"))
        .and_then(|v| v.trim().strip_suffix("kB"))
        .and_then(|kb| kb.trim().parse::<u64>().ok())
        .map_or(0, |kb| (kb * 1024 / 2).max(256 << 20))
}

/// Parses a size such as `512M`, `2G`, `1500000` (bytes), `0` (no limit).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("'{text}' is not a size (e.g. 512M, 4G)"))?;
    let scale: u64 = match unit.to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "K" | "KB" | "KIB" => 1 << 10,
        "M" | "MB" | "MIB" => 1 << 20,
        "G" | "GB" | "GIB" => 1 << 30,
        _ => return Err(format!("'{text}': unknown unit '{unit}' (use K, M or G)")),
    };
    n.checked_mul(scale)
        .ok_or_else(|| format!("'{text}' is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn working_memory_grows_with_pixels_and_progressive_coding() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("IMAGES");
        let read = |n: &str| std::fs::read(root.join(n)).unwrap_or_default();
        let dogs = crate::jpeg::header::read_frame(&read("dogs.jpg")).expect("header");
        let leaf = crate::jpeg::header::read_frame(&read("leaf.jpg")).expect("header");
        // dogs: 2056x3088 progressive, 3 components: 6.35 MP x (6 + 1.5 + 6) bytes + 1 MiB.
        let pixels = 2056u64 * 3088;
        assert_eq!(
            working_memory(&dogs),
            pixels * 6 + pixels * 3 / 2 + pixels * 6 + (1 << 20)
        );
        let pixels = 1920u64 * 1200;
        assert_eq!(
            working_memory(&leaf),
            pixels * 6 + pixels * 3 / 2 + (1 << 20)
        );
    }

    #[test]
    fn resizing_needs_less_than_a_full_decode_of_a_baseline_photo() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("IMAGES");
        let leaf = crate::jpeg::header::read_frame(
            &std::fs::read(root.join("leaf.jpg")).unwrap_or_default(),
        )
        .expect("header");
        // leaf: 1920x1200 baseline; to 800x500 through the 1/2 scaling (960x600).
        let (scaled, target) = ((960u64, 600u64), (800u64, 500u64));
        assert_eq!(
            working_memory_resized(&leaf, (960, 600), (800, 500)),
            scaled.0 * scaled.1 * 3
                + target.0 * scaled.1 * 3
                + target.0 * target.1 * 6
                + target.0 * target.1 * 6
                + (1 << 20)
        );
        assert!(working_memory_resized(&leaf, (960, 600), (800, 500)) < working_memory(&leaf));
        // A progressive input keeps its full-size coefficients whatever the scaling.
        let dogs = crate::jpeg::header::read_frame(
            &std::fs::read(root.join("dogs.jpg")).unwrap_or_default(),
        )
        .expect("header");
        assert!(working_memory_resized(&dogs, (257, 386), (200, 300)) > 2056 * 3088 * 6);
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("512M"), Ok(512 << 20));
        assert_eq!(parse_size("2g"), Ok(2 << 30));
        assert_eq!(parse_size("1000"), Ok(1000));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("5T").is_err());
    }

    #[test]
    fn a_reservation_waits_for_room() {
        let budget = Budget::new(100);
        let first = budget.reserve(60).expect("fits");
        let waited = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|s| {
            s.spawn(|| {
                let _second = budget.reserve(60).expect("fits");
                assert!(
                    waited.load(std::sync::atomic::Ordering::SeqCst),
                    "got in before room was made"
                );
            });
            std::thread::sleep(std::time::Duration::from_millis(50));
            waited.store(true, std::sync::atomic::Ordering::SeqCst);
            drop(first);
        });
        // Larger than the whole budget: refused, never waits forever.
        assert!(budget.reserve(1000).is_none());
        assert!(
            Budget::new(0).reserve(u64::MAX).is_some(),
            "no budget, no limit"
        );
    }
}
