//! The independent SSIMULACRA 2 scorer of the tests' and benches' checks: prints the score of
//! each DISTORTED against its SOURCE (pairs), one line each (`SCORE<TAB>DISTORTED`), scored by
//! the `ssimulacra2` crate's own entry point (rust-av's port of libjxl's tool), not by
//! photopress's `metric`.
//!
//! ```text
//! cargo run --release --example ssimulacra2 -- [--djpeg | --ppm] SOURCE DISTORTED [SOURCE DISTORTED]...
//! ```
//!
//! - default: JPEG files, decoded by libjpeg-turbo through the `mozjpeg` crate (as they are
//!   stored: no EXIF orientation applied); scores printed to 3 decimals;
//! - `--djpeg`: JPEG files, each decoded by the system's `djpeg -ppm` (libjpeg-turbo's own
//!   tool; `DJPEG=/path/to/djpeg` to choose another), then turned upright by its own EXIF
//!   orientation, as a viewer shows it (an output written under `--strip` is already upright
//!   and untagged, an output that kept the tag is turned like its input); scores to 4
//!   decimals. The decode is then neither photopress's code nor its build of the codec:
//!   what `bench/targets.sh` checks the `--json` scores against;
//! - `--ppm`: binary PNM files (P6 colour or P5 grey, 8 bits), taken as they are (decoded
//!   beforehand by any tool); scores to 4 decimals.
// A benchmark or example program: a failed setup step may panic with its reason.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use std::process::{Command, ExitCode, Stdio};

/// An 8-bit sRGB picture, 3 bytes a pixel.
struct Picture {
    width: usize,
    height: usize,
    pixels: Vec<u8>,
}

/// A JPEG decoded by libjpeg-turbo through the `mozjpeg` crate.
fn mozjpeg_decode(path: &str) -> Result<Picture, String> {
    let data = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
    let d = mozjpeg::Decompress::new_mem(&data).map_err(|e| format!("{path}: {e}"))?;
    let mut d = d.rgb().map_err(|e| format!("{path}: {e}"))?;
    let (width, height) = (d.width(), d.height());
    let pixels: Vec<u8> = d.read_scanlines().map_err(|e| format!("{path}: {e}"))?;
    Ok(Picture {
        width,
        height,
        pixels,
    })
}

/// A binary PNM (P6, or P5 whose grey is copied to the three channels), maxval at most 255.
fn parse_pnm(data: &[u8], what: &str) -> Result<Picture, String> {
    let mut pos = 0;
    // The header: magic, width, height, maxval, separated by whitespace and `#` comments,
    // then exactly one whitespace byte before the samples.
    let mut token = || -> Result<&[u8], String> {
        loop {
            match data.get(pos) {
                Some(b'#') => {
                    while data.get(pos).is_some_and(|&c| c != b'\n') {
                        pos += 1;
                    }
                }
                Some(c) if c.is_ascii_whitespace() => pos += 1,
                Some(_) => break,
                None => return Err(format!("{what}: truncated PNM header")),
            }
        }
        let start = pos;
        while data.get(pos).is_some_and(|c| !c.is_ascii_whitespace()) {
            pos += 1;
        }
        Ok(&data[start..pos])
    };
    let channels = match token()? {
        b"P6" => 3,
        b"P5" => 1,
        magic => {
            return Err(format!(
                "{what}: not a binary PPM/PGM (magic {:?})",
                String::from_utf8_lossy(magic)
            ));
        }
    };
    let mut number = |name: &str| -> Result<usize, String> {
        let t = token()?;
        std::str::from_utf8(t)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("{what}: bad PNM {name} {:?}", String::from_utf8_lossy(t)))
    };
    let width = number("width")?;
    let height = number("height")?;
    let maxval = number("maxval")?;
    if !(1..=255).contains(&maxval) {
        return Err(format!("{what}: PNM maxval {maxval} (only 8-bit samples)"));
    }
    let start = pos + 1;
    let len = width * height * channels;
    let samples = data
        .get(start..start + len)
        .ok_or_else(|| format!("{what}: PNM data shorter than {width}x{height}"))?;
    let scale = |v: u8| (u32::from(v) * 255 / maxval as u32) as u8;
    let pixels = if channels == 3 {
        samples.iter().map(|&v| scale(v)).collect()
    } else {
        samples.iter().flat_map(|&v| [scale(v); 3]).collect()
    };
    Ok(Picture {
        width,
        height,
        pixels,
    })
}

fn read_pnm(path: &str) -> Result<Picture, String> {
    let data = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
    parse_pnm(&data, path)
}

/// A JPEG decoded by the system's `djpeg -ppm` (`$DJPEG`), turned by its EXIF orientation.
fn djpeg_decode(path: &str) -> Result<Picture, String> {
    let djpeg = std::env::var("DJPEG").unwrap_or_else(|_| "djpeg".into());
    let output = Command::new(&djpeg)
        .args(["-ppm", path])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{djpeg}: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "{djpeg} -ppm {path}: {}: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let ppm = output.stdout;
    let picture = parse_pnm(&ppm, path)?;
    upright(picture, path)
}

/// The picture as a viewer shows it: turned by the EXIF orientation of the JPEG at `path`
/// (read by the `image` crate's EXIF parser; none when it has no tag).
fn upright(picture: Picture, path: &str) -> Result<Picture, String> {
    use image::ImageDecoder;
    let orientation = image::ImageReader::open(path)
        .and_then(|r| r.with_guessed_format())
        .map_err(|e| format!("{path}: {e}"))?
        .into_decoder()
        .and_then(|mut d| d.orientation())
        .map_err(|e| format!("{path}: EXIF orientation: {e}"))?;
    if orientation == image::metadata::Orientation::NoTransforms {
        return Ok(picture);
    }
    let buffer =
        image::RgbImage::from_raw(picture.width as u32, picture.height as u32, picture.pixels)
            .ok_or_else(|| format!("{path}: pixel count does not match the size"))?;
    let mut turned = image::DynamicImage::ImageRgb8(buffer);
    turned.apply_orientation(orientation);
    let turned = turned.into_rgb8();
    Ok(Picture {
        width: turned.width() as usize,
        height: turned.height() as usize,
        pixels: turned.into_raw(),
    })
}

fn crate_rgb(picture: Picture, what: &str) -> Result<ssimulacra2::Rgb, String> {
    let data: Vec<[f32; 3]> = picture
        .pixels
        .chunks_exact(3)
        .map(|p| [p[0], p[1], p[2]].map(|v| f32::from(v) / 255.0))
        .collect();
    ssimulacra2::Rgb::new(
        data,
        picture.width,
        picture.height,
        ssimulacra2::TransferCharacteristic::SRGB,
        ssimulacra2::ColorPrimaries::BT709,
    )
    .map_err(|e| format!("{what}: {e:?}"))
}

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    type Decode = fn(&str) -> Result<Picture, String>;
    let (decode, decimals): (Decode, usize) = match args.first().map(String::as_str) {
        Some("--djpeg") => (djpeg_decode, 4),
        Some("--ppm") => (read_pnm, 4),
        _ => (mozjpeg_decode, 3),
    };
    if args.first().is_some_and(|a| a == "--djpeg" || a == "--ppm") {
        args.remove(0);
    }
    if args.is_empty() || !args.len().is_multiple_of(2) {
        eprintln!("usage: ssimulacra2 [--djpeg | --ppm] SOURCE DISTORTED [SOURCE DISTORTED]...");
        return ExitCode::from(2);
    }
    for pair in args.chunks(2) {
        let score = decode(&pair[0])
            .and_then(|a| crate_rgb(a, &pair[0]))
            .and_then(|a| {
                decode(&pair[1])
                    .and_then(|b| crate_rgb(b, &pair[1]))
                    .and_then(|b| {
                        ssimulacra2::compute_frame_ssimulacra2(a, b)
                            .map_err(|e| format!("{} against {}: {e}", pair[1], pair[0]))
                    })
            });
        match score {
            Ok(score) => println!("{score:.decimals$}\t{}", pair[1]),
            Err(err) => {
                eprintln!("ssimulacra2: {err}");
                return ExitCode::from(1);
            }
        }
    }
    ExitCode::SUCCESS
}
