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
