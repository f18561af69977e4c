//! The speed of photopress's SSIMULACRA 2 scorer alone (`--target-quality`'s `metric`), one
//! thread: for each pair, the SOURCE JPEG decoded once into a [`Reference`], then CANDIDATE
//! scored RUNS times (`reference.score(candidate)`: the candidate's decode and the score, what
//! a search pays per candidate); prints the median time and the megapixels per second.
//!
//! ```text
//! cargo run --release --example score_speed -- [--runs N] SOURCE CANDIDATE [SOURCE CANDIDATE]...
//! ```
//!
//! One line per pair (tab-separated: `pixels`, `MP`, `reference_s`, `score_s` (median),
//! `MP/s`, `score`, `CANDIDATE`), then `total` with the megapixels of all pairs over the sum
//! of their medians. The candidates are meant to be outputs written under `--strip` (upright):
//! the reference is turned upright by the source's EXIF orientation, unless that makes its
//! size differ from the candidate's (an output that kept the tag).
// A benchmark or example program: a failed setup step may panic with its reason.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use std::process::ExitCode;
use std::time::Instant;

use photopress::jpeg::pixel::decode_rgb;
use photopress::photo::metric::Reference;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn run(runs: usize, pairs: &[String]) -> Result<(), String> {
    println!("pixels\tMP\treference_s\tscore_s\tMP/s\tscore\tcandidate");
    let (mut total_mp, mut total_s) = (0.0, 0.0);
    for pair in pairs.chunks(2) {
        let (source, candidate) = (&pair[0], &pair[1]);
        let src = std::fs::read(source).map_err(|e| format!("{source}: {e}"))?;
        let cand = std::fs::read(candidate).map_err(|e| format!("{candidate}: {e}"))?;
        let frame =
            photopress::jpeg::header::read_frame(&cand).map_err(|e| format!("{candidate}: {e}"))?;
        let t0 = Instant::now();
        let prepare = |upright| {
            decode_rgb(&src, upright)
                .and_then(Reference::new)
                .map_err(|e| format!("{source}: {e}"))
        };
        let mut reference = prepare(true)?;
        if reference.size() != (frame.width, frame.height) {
            reference = prepare(false)?;
        }
        let reference_s = t0.elapsed().as_secs_f64();
        let mut times = Vec::with_capacity(runs);
        let mut score = 0.0;
        for _ in 0..runs {
            let t = Instant::now();
            score = std::hint::black_box(
                decode_rgb(std::hint::black_box(&cand), false).and_then(|c| reference.score(&c)),
            )
            .map_err(|e| format!("{candidate} against {source}: {e}"))?;
            times.push(t.elapsed().as_secs_f64());
        }
        let s = median(times);
        let (w, h) = reference.size();
        let mp = (w * h) as f64 / 1e6;
        total_mp += mp;
        total_s += s;
        println!(
            "{}\t{mp:.2}\t{reference_s:.3}\t{s:.3}\t{:.2}\t{score}\t{candidate}",
            w * h,
            mp / s
        );
    }
    println!(
        "total\t{total_mp:.2}\t\t{total_s:.3}\t{:.2}\t\t",
        total_mp / total_s
    );
    Ok(())
}

fn main() -> ExitCode {
    // As the command does: freed buffers stay in the heap for the next score.
    photopress::memory::keep_freed_memory();
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut runs = 3;
    if args.first().is_some_and(|a| a == "--runs") {
        match args.get(1).and_then(|n| n.parse::<usize>().ok()) {
            Some(n) if n > 0 => runs = n,
            _ => {
                eprintln!("score_speed: --runs needs a positive number");
                return ExitCode::from(2);
            }
        }
        args.drain(..2);
    }
    if args.is_empty() || !args.len().is_multiple_of(2) {
        eprintln!("usage: score_speed [--runs N] SOURCE CANDIDATE [SOURCE CANDIDATE]...");
        return ExitCode::from(2);
    }
    match run(runs, &args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("score_speed: {err}");
            ExitCode::from(1)
        }
    }
}
