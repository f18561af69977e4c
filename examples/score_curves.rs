//! Score curves for designing `--target-quality`'s search: for each JPEG given, its
//! SSIMULACRA 2 score (photopress's metric, the search's own) at every quality of a range,
//! with its bytes: each candidate is what `photopress -q Q --strip` writes
//! ([`photopress::compress_bytes`], the pipeline the search's candidates go through), the
//! reference the input turned upright, as under `--strip`. One line per photo and quality, tab-separated:
//! `photo`, `quality`, `score`, `bytes`. Photos run in parallel (rayon), lines in any order.
//!
//! ```text
//! cargo run --release --example score_curves -- [--from Q] [--to Q] PHOTO...
//! ```
//!
//! Replaying a search over these curves (without scoring again) is how its rules are tuned:
//! `bench/search_replay.py` does it.
// A benchmark or example program: a failed setup step may panic with its reason.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use std::process::ExitCode;

use photopress::jpeg::pixel::decode_rgb;
use photopress::photo::metric::Reference;
use photopress::{Options, compress_bytes};
use rayon::prelude::*;

fn curve(path: &str, from: u8, to: u8) -> Result<Vec<String>, String> {
    let data = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
    let reference = decode_rgb(&data, true)
        .and_then(Reference::new)
        .map_err(|e| format!("{path}: {e}"))?;
    let name = std::path::Path::new(path)
        .file_name()
        .map_or(path.to_string(), |n| n.to_string_lossy().into_owned());
    let mut lines = Vec::new();
    for q in from..=to {
        let options = Options {
            quality: q,
            strip: true,
            ..Options::default()
        };
        let candidate = compress_bytes(&data, &options)
            .map_err(|e| format!("{path}: q{q}: {e}"))?
            .data;
        let score = decode_rgb(&candidate, false)
            .and_then(|c| reference.score(&c))
            .map_err(|e| format!("{path}: q{q}: {e}"))?;
        lines.push(format!("{name}\t{q}\t{score:.4}\t{}", candidate.len()));
    }
    Ok(lines)
}

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let (mut from, mut to) = (20u8, 80u8);
    while let Some(flag) = args.first().cloned() {
        let value = args.get(1).and_then(|v| v.parse::<u8>().ok());
        match (flag.as_str(), value) {
            ("--from", Some(v)) => from = v,
            ("--to", Some(v)) => to = v,
            _ => break,
        }
        args.drain(..2);
    }
    if args.is_empty() || from == 0 || from > to || to > 100 {
        eprintln!("usage: score_curves [--from Q] [--to Q] PHOTO...  (1 <= from <= to <= 100)");
        return ExitCode::from(2);
    }
    let results: Vec<Result<Vec<String>, String>> =
        args.par_iter().map(|p| curve(p, from, to)).collect();
    let mut failed = false;
    for r in results {
        match r {
            Ok(lines) => lines.iter().for_each(|l| println!("{l}")),
            Err(e) => {
                eprintln!("score_curves: {e}");
                failed = true;
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
