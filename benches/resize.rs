//! The resizing path (`--long-edge`): libjpeg's DCT scaling while decoding, then Lanczos3 to
//! the exact size, against decoding at full size then Lanczos3 (the same code with the DCT
//! scaling off), both encoded alike (quality 30, 4:2:0, metadata kept), on one thread.
//!
//! IDs: `resize_largest/{dct_scaled,full_decode}/{2048,1024}` (the largest photo of the set),
//! `resize_set/{dct_scaled,full_decode}/{2048,1024}` (every photo of the set larger than the
//! limit, one after another).
//!
//! Images: `IMAGES/` by default, or the folder named by `PHOTOPRESS_BENCH_DIR` (for instance
//! the corpus built by `../shared/bench/make_corpus.sh`, whose photos are in `photos/`).
// A benchmark or example program: a failed setup step may panic with its reason.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use std::hint::black_box;
use std::path::PathBuf;

use criterion::{BenchmarkId, Criterion, SamplingMode, criterion_group, criterion_main};
use photopress::jpeg::pixel::{self, EncodeSettings};
use photopress::jpeg::resize::{self, Plan, Resize};
use photopress::{Options, inputs::walk, jpeg::header};

fn bench_dir() -> PathBuf {
    std::env::var_os("PHOTOPRESS_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("IMAGES"))
}

/// Each photo's bytes with its resize plan at `edge`: the DCT-scaled one and the full-size one.
fn plans(photos: &[Vec<u8>], edge: u32) -> Vec<(&[u8], Plan, Plan)> {
    let limits = Resize {
        long_edge: Some(edge),
        ..Resize::default()
    };
    photos
        .iter()
        .filter_map(|data| {
            let frame = header::read_frame(data).ok()?;
            let plan = resize::plan(data, &frame, &limits)?;
            let full = Plan {
                eighths: 8,
                scaled: (frame.width, frame.height),
                ..plan
            };
            Some((data.as_slice(), plan, full))
        })
        .collect()
}

fn resizing(c: &mut Criterion) {
    photopress::memory::keep_freed_memory();
    let inputs = [bench_dir()];
    let jobs = walk::scan(&inputs, &Options::default()).expect("scan the bench folder");
    let mut photos: Vec<Vec<u8>> = jobs
        .iter()
        .map(|j| std::fs::read(&j.input).expect("read"))
        .collect();
    photos.sort_by_key(|d| std::cmp::Reverse(d.len()));
    let settings = EncodeSettings::default();
    let run = |set: &[(&[u8], Plan, Plan)], full: bool| {
        for (data, plan, full_plan) in set {
            let plan = if full { full_plan } else { plan };
            black_box(pixel::recompress_resized(data, &settings, plan).expect("resize"));
        }
    };

    let mut largest = c.benchmark_group("resize_largest");
    largest.sample_size(10);
    for edge in [2048u32, 1024] {
        let set = plans(&photos[..1], edge);
        if let Some((_, plan, _)) = set.first() {
            eprintln!(
                "resize_largest/{edge}: decoded at {}/8 ({}x{}), resized to {}x{}",
                plan.eighths, plan.scaled.0, plan.scaled.1, plan.target.0, plan.target.1
            );
        }
        largest.bench_with_input(BenchmarkId::new("dct_scaled", edge), &set, |b, s| {
            b.iter(|| run(s, false))
        });
        largest.bench_with_input(BenchmarkId::new("full_decode", edge), &set, |b, s| {
            b.iter(|| run(s, true))
        });
    }
    largest.finish();

    let mut whole = c.benchmark_group("resize_set");
    whole.sample_size(10);
    // One iteration is a whole set (seconds on the corpus).
    whole.sampling_mode(SamplingMode::Flat);
    for edge in [2048u32, 1024] {
        let set = plans(&photos, edge);
        eprintln!(
            "resize_set/{edge}: {} of {} photos larger than {edge}, from {}",
            set.len(),
            photos.len(),
            inputs[0].display()
        );
        whole.bench_with_input(BenchmarkId::new("dct_scaled", edge), &set, |b, s| {
            b.iter(|| run(s, false))
        });
        whole.bench_with_input(BenchmarkId::new("full_decode", edge), &set, |b, s| {
            b.iter(|| run(s, true))
        });
    }
    whole.finish();
}

criterion_group!(benches, resizing);
criterion_main!(benches);
