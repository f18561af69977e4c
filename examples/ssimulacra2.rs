//! `cargo run --release --example ssimulacra2 -- SOURCE.jpg DISTORTED.jpg [...]`: prints the
//! SSIMULACRA 2 score of each DISTORTED against SOURCE (pairs), decoded by libjpeg-turbo
//! (through mozjpeg), scored by the `ssimulacra2` crate's own entry point. The scorer of
//! `bench/targets.sh`: independent of photopress's decoder (zune-jpeg) and of its code path.
use std::process::ExitCode;

fn rgb(path: &str) -> Result<ssimulacra2::Rgb, String> {
    let data = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
    let d = mozjpeg::Decompress::new_mem(&data).map_err(|e| format!("{path}: {e}"))?;
    let mut d = d.rgb().map_err(|e| format!("{path}: {e}"))?;
    let (w, h) = (d.width(), d.height());
    let pixels: Vec<u8> = d.read_scanlines().map_err(|e| format!("{path}: {e}"))?;
    let data: Vec<[f32; 3]> = pixels
        .chunks_exact(3)
        .map(|p| [p[0], p[1], p[2]].map(|v| f32::from(v) / 255.0))
        .collect();
    ssimulacra2::Rgb::new(
        data,
        w,
        h,
        ssimulacra2::TransferCharacteristic::SRGB,
        ssimulacra2::ColorPrimaries::BT709,
    )
    .map_err(|e| format!("{path}: {e:?}"))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() || !args.len().is_multiple_of(2) {
        eprintln!("usage: ssimulacra2 SOURCE DISTORTED [SOURCE DISTORTED]...");
        return ExitCode::from(2);
    }
    for pair in args.chunks(2) {
        let score = rgb(&pair[0]).and_then(|a| {
            rgb(&pair[1]).and_then(|b| {
                ssimulacra2::compute_frame_ssimulacra2(a, b).map_err(|e| e.to_string())
            })
        });
        match score {
            Ok(score) => println!("{score:.3}\t{}", pair[1]),
            Err(err) => {
                eprintln!("ssimulacra2: {err}");
                return ExitCode::from(1);
            }
        }
    }
    ExitCode::SUCCESS
}
