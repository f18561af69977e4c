use super::*;

fn picture(width: usize, height: usize, f: impl Fn(usize, usize, usize) -> u8) -> Rgb {
    let mut pixels = Vec::with_capacity(width * height * 3);
    for y in 0..height {
        for x in 0..width {
            for c in 0..3 {
                pixels.push(f(x, y, c));
            }
        }
    }
    Rgb {
        width,
        height,
        pixels,
    }
}

fn crate_score(a: &Rgb, b: &Rgb) -> f64 {
    let rgb = |p: &Rgb| {
        ssimulacra2::Rgb::new(
            p.pixels
                .chunks_exact(3)
                .map(|v| [v[0], v[1], v[2]].map(|c| f32::from(c) / 255.0))
                .collect(),
            p.width,
            p.height,
            ssimulacra2::TransferCharacteristic::SRGB,
            ssimulacra2::ColorPrimaries::BT709,
        )
        .unwrap_or_else(|e| panic!("{e:?}"))
    };
    ssimulacra2::compute_frame_ssimulacra2(rgb(a), rgb(b)).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn agrees_with_the_reference_crate_on_synthetic_pictures() {
    let noise = |x: usize, y: usize, c: usize| ((x * 7919 + y * 104_729 + c * 31) % 251) as u8;
    for (w, h) in [(8, 8), (9, 13), (40, 33), (64, 64), (130, 70), (257, 129)] {
        let a = picture(w, h, |x, y, c| ((x * 3 + y * 5 + c * 60) % 256) as u8);
        let b = picture(w, h, |x, y, c| {
            let v = ((x * 3 + y * 5 + c * 60) % 256) as u8;
            v.saturating_add(noise(x, y, c) % 23)
        });
        let ours = ssimulacra2(&a, &b).unwrap_or_else(|e| panic!("{e}"));
        let theirs = crate_score(&a, &b);
        assert!(
            (ours - theirs).abs() < 1e-4,
            "{w}x{h}: ours {ours}, crate {theirs}"
        );
        assert_eq!(ssimulacra2(&a, &a).ok(), Some(100.0), "{w}x{h}");
    }
}

/// `data` decoded by libjpeg-turbo (through mozjpeg, as `pixel::decode_rgb` does; the metric
/// itself decodes nothing).
fn decode(data: &[u8]) -> Rgb {
    let mut d = mozjpeg::Decompress::new_mem(data)
        .and_then(|d| d.rgb())
        .unwrap_or_else(|e| panic!("{e}"));
    let (width, height) = (d.width(), d.height());
    let pixels: Vec<u8> = d.read_scanlines().unwrap_or_else(|e| panic!("{e}"));
    Rgb {
        width,
        height,
        pixels,
    }
}

/// A crop of a shipped photo, decoded by libjpeg-turbo.
fn photo(name: &str, x: usize, y: usize, width: usize, height: usize) -> Rgb {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("IMAGES")
        .join(name);
    let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let full = decode(&data);
    let mut pixels = Vec::with_capacity(width * height * 3);
    for row in y..y + height {
        pixels.extend_from_slice(&full.pixels[(row * full.width + x) * 3..][..width * 3]);
    }
    Rgb {
        width,
        height,
        pixels,
    }
}

/// The picture as gray (three equal channels, BT.601 luma).
fn gray(p: &Rgb) -> Rgb {
    let pixels = p
        .pixels
        .chunks_exact(3)
        .flat_map(|c| {
            let y = (0.299 * f32::from(c[0]) + 0.587 * f32::from(c[1]) + 0.114 * f32::from(c[2]))
                .round() as u8;
            [y, y, y]
        })
        .collect();
    Rgb { pixels, ..*p }
}

/// The picture encoded by mozjpeg at `quality` (4:4:4 when `full_chroma`, else 4:2:0;
/// grayscale when `gray`), then decoded as the metric decodes.
fn jpeg(p: &Rgb, quality: f32, full_chroma: bool, gray: bool) -> Rgb {
    let mut c = if gray {
        mozjpeg::Compress::new(mozjpeg::ColorSpace::JCS_GRAYSCALE)
    } else {
        mozjpeg::Compress::new(mozjpeg::ColorSpace::JCS_RGB)
    };
    c.set_size(p.width, p.height);
    c.set_quality(quality);
    if full_chroma && !gray {
        for comp in c.components_mut() {
            comp.h_samp_factor = 1;
            comp.v_samp_factor = 1;
        }
    }
    let mut started = c
        .start_compress(Vec::new())
        .unwrap_or_else(|e| panic!("{e}"));
    let samples: Vec<u8> = if gray {
        p.pixels.iter().step_by(3).copied().collect()
    } else {
        p.pixels.clone()
    };
    started
        .write_scanlines(&samples)
        .unwrap_or_else(|e| panic!("{e}"));
    let data = started.finish().unwrap_or_else(|e| panic!("{e}"));
    decode(&data)
}

/// A 3x3 box blur (edges clamped): a distortion of another kind than a codec's.
fn blur(p: &Rgb) -> Rgb {
    let (w, h) = (p.width as isize, p.height as isize);
    let mut pixels = Vec::with_capacity(p.pixels.len());
    for y in 0..h {
        for x in 0..w {
            for c in 0..3 {
                let mut sum = 0u32;
                for dy in -1..=1 {
                    for dx in -1..=1 {
                        let (sx, sy) = ((x + dx).clamp(0, w - 1), (y + dy).clamp(0, h - 1));
                        sum += u32::from(p.pixels[((sy * w + sx) * 3 + c) as usize]);
                    }
                }
                pixels.push(((sum + 4) / 9) as u8);
            }
        }
    }
    Rgb { pixels, ..*p }
}

/// Pairs like the ones a search scores (photo crops at several qualities, gray, 4:4:4, odd
/// sizes, small pictures, a blur), with their scores by the `ssimulacra2` crate's
/// `compute_frame_ssimulacra2` (the reference implementation), computed once and pinned.
#[test]
fn agrees_with_pinned_reference_scores() {
    let dogs = photo("dogs.jpg", 800, 1200, 384, 256);
    let leaf = photo("leaf.jpg", 600, 400, 320, 240);
    let mountains = gray(&photo("mountains.jpg", 1400, 700, 256, 192));
    let fig = photo("fig.jpg", 1000, 700, 333, 217);
    let big = photo("mountains.jpg", 1000, 900, 512, 384);
    let small = photo("fig.jpg", 1200, 800, 16, 16);
    let tiny = photo("leaf.jpg", 700, 500, 9, 8);
    let pairs: [(&str, &Rgb, Rgb, f64); 13] = [
        (
            "dogs q20",
            &dogs,
            jpeg(&dogs, 20.0, false, false),
            PINNED[0],
        ),
        (
            "dogs q40",
            &dogs,
            jpeg(&dogs, 40.0, false, false),
            PINNED[1],
        ),
        (
            "dogs q60",
            &dogs,
            jpeg(&dogs, 60.0, false, false),
            PINNED[2],
        ),
        (
            "dogs q85",
            &dogs,
            jpeg(&dogs, 85.0, false, false),
            PINNED[3],
        ),
        (
            "leaf 4:4:4 q30",
            &leaf,
            jpeg(&leaf, 30.0, true, false),
            PINNED[4],
        ),
        (
            "leaf 4:4:4 q75",
            &leaf,
            jpeg(&leaf, 75.0, true, false),
            PINNED[5],
        ),
        (
            "gray q50",
            &mountains,
            jpeg(&mountains, 50.0, false, true),
            PINNED[6],
        ),
        (
            "gray q90",
            &mountains,
            jpeg(&mountains, 90.0, false, true),
            PINNED[7],
        ),
        (
            "fig 333x217 q45",
            &fig,
            jpeg(&fig, 45.0, false, false),
            PINNED[8],
        ),
        (
            "16x16 q50",
            &small,
            jpeg(&small, 50.0, false, false),
            PINNED[9],
        ),
        (
            "9x8 q70",
            &tiny,
            jpeg(&tiny, 70.0, false, false),
            PINNED[10],
        ),
        (
            "512x384 q35",
            &big,
            jpeg(&big, 35.0, false, false),
            PINNED[11],
        ),
        ("512x384 blur", &big, blur(&big), PINNED[12]),
    ];
    let mut measured = Vec::new();
    for (what, source, distorted, pinned) in &pairs {
        let ours = ssimulacra2(source, distorted).unwrap_or_else(|e| panic!("{what}: {e}"));
        let live = crate_score(source, distorted);
        measured.push(format!("{live:.4}"));
        assert!(
            (ours - pinned).abs() <= 0.1,
            "{what}: ours {ours}, pinned {pinned}"
        );
        // Closer still: the same operations as the reference, to rounding.
        assert!(
            (ours - live).abs() < 1e-3,
            "{what}: ours {ours}, the crate now {live}"
        );
    }
    eprintln!("scores: {}", measured.join(", "));
}

/// `compute_frame_ssimulacra2` of the pairs above (ssimulacra2 0.5.1, mozjpeg 0.10.13).
#[rustfmt::skip]
const PINNED: [f64; 13] = [
    35.3495, 62.1338, 72.7668, 91.4296, 50.2580, 79.1806, 68.9090, 92.0189, 60.7503, 94.5937,
    95.8922, 42.2883, 74.4926,
];

/// The first scale's shortcut (`terms::First`: eight quantities, the reference's a.y²
/// blurred once) gives the very score of the full set of quantities, to the bit: it only
/// leaves out terms the weights do not read.
#[test]
fn the_first_scale_shortcut_changes_no_score() {
    let dogs = photo("dogs.jpg", 800, 1200, 384, 256);
    let odd = photo("fig.jpg", 1000, 700, 333, 217);
    let gray = gray(&photo("mountains.jpg", 1400, 700, 256, 192));
    for (what, source, distorted) in [
        ("dogs q40", &dogs, jpeg(&dogs, 40.0, false, false)),
        ("333x217 q45", &odd, jpeg(&odd, 45.0, false, false)),
        ("gray q60", &gray, jpeg(&gray, 60.0, false, true)),
    ] {
        let reference = Reference::prepare(source).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(
            !reference.scales[0].sigma.is_empty(),
            "{what}: the shortcut is taken"
        );
        let fast = reference
            .score(&distorted)
            .unwrap_or_else(|e| panic!("{e}"));
        let mut full = reference;
        full.scales[0].sigma = Vec::new();
        let slow = full.score(&distorted).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            fast.to_bits(),
            slow.to_bits(),
            "{what}: {fast} against {slow}"
        );
        assert!(fast < 100.0, "{what}: {fast}");
    }
    // A picture too small for six scales takes the full set.
    let small = photo("fig.jpg", 1200, 800, 100, 100);
    let reference = Reference::prepare(&small).unwrap_or_else(|e| panic!("{e}"));
    assert!(reference.scales[0].sigma.is_empty());
}
