//! One image's target search (issue 10) on the biggest photo of the bench folder: what one
//! candidate costs (a DCT-domain encode), what the reference costs (the input decoded once),
//! whole searches for `--target-quality ssimulacra2:70` and `--target-size 25%`, whose
//! candidate counts are printed first, and `metric/one score of a prepared reference`: the
//! scorer alone (SSIMULACRA 2 of a q60 candidate against the reference built once, outside
//! the timed loop), with its throughput in megapixels per second (criterion's Melem/s).
//!
//! Images: `IMAGES/` by default, or the folder named by `PHOTOPRESS_BENCH_DIR` (for instance
//! `bench/corpus/photos`, built by `../shared/bench/make_corpus.sh bench/corpus`).
// A benchmark or example program: a failed setup step may panic with its reason.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use std::hint::black_box;
use std::path::{Path, PathBuf};

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use photopress::jpeg::pixel::EncodeSettings;
use photopress::jpeg::pixel::decode_rgb;
use photopress::options::target::{self, QualityTarget, SizeLimit};
use photopress::photo::metric::Reference;
use photopress::photo::search;
use photopress::{Options, inputs::walk, jpeg::dct};

fn bench_dir() -> PathBuf {
    std::env::var_os("PHOTOPRESS_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("IMAGES"))
}

fn encode_at(data: &[u8], q: u8) -> Result<Vec<u8>, photopress::ImageError> {
    let settings = EncodeSettings {
        quality: q,
        ..EncodeSettings::default()
    };
    dct::recompress(data, &settings, true)
        .map_err(|e| photopress::ImageError::Encode(e.to_string()))
}

fn search(c: &mut Criterion) {
    let jobs = walk::scan(&[bench_dir()], &Options::default()).expect("scan the bench folder");
    // The biggest photo the transcoder takes.
    let Some((path, data)) = jobs
        .iter()
        .filter_map(|job| {
            std::fs::read(&job.input)
                .ok()
                .map(|d| (job.input.clone(), d))
        })
        .filter(|(_, d)| encode_at(d, 60).is_ok())
        .max_by_key(|(_, d)| d.len())
    else {
        eprintln!(
            "target: no photo the transcoder takes in {}",
            bench_dir().display()
        );
        return;
    };
    let frame = photopress::jpeg::header::read_frame(&data).expect("header");
    eprintln!(
        "target: {} ({}x{}, {} bytes)",
        path.display(),
        frame.width,
        frame.height,
        data.len()
    );
    let quality = Options {
        quality: 95,
        target_quality: Some(QualityTarget {
            metric: target::Metric::Ssimulacra2,
            score: 70.0,
        }),
        ..Options::default()
    };
    let size = Options {
        quality: 95,
        target_size: Some(SizeLimit::Percent(25.0)),
        ..Options::default()
    };
    for (what, options) in [("quality ssimulacra2:70", &quality), ("size 25%", &size)] {
        let mut steps = 0;
        let chosen = search::encode_to_target(&data, options, Path::new("bench"), |q| {
            steps += 1;
            encode_at(&data, q)
        })
        .expect("search");
        eprintln!(
            "target: {what}: quality {} in {steps} candidates ({} bytes)",
            chosen.quality,
            chosen.encoded.len()
        );
    }

    let mut group = c.benchmark_group("target");
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    let candidate = encode_at(&data, 60).expect("candidate");
    let prepare = || decode_rgb(&data, false).and_then(Reference::new);
    let reference = prepare().expect("reference");
    group.bench_function("candidate_q60", |b| {
        b.iter(|| black_box(encode_at(&data, 60)))
    });
    group.bench_function("reference", |b| b.iter(|| black_box(prepare().map(drop))));
    group.bench_function("search_quality_70", |b| {
        b.iter(|| {
            black_box(
                search::encode_to_target(&data, &quality, Path::new("bench"), |q| {
                    encode_at(&data, q)
                })
                .map(|c| c.quality),
            )
        })
    });
    group.bench_function("search_size_25pct", |b| {
        b.iter(|| {
            black_box(
                search::encode_to_target(&data, &size, Path::new("bench"), |q| encode_at(&data, q))
                    .map(|c| c.quality),
            )
        })
    });
    group.finish();

    // The scorer alone: one score of a prepared reference (decoded once, outside the timed
    // loop), the candidate's decode included, as a search pays it per candidate. Throughput
    // in pixels: criterion's Melem/s are megapixels per second (one thread).
    let (width, height) = reference.size();
    let mut group = c.benchmark_group("metric");
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    group.throughput(Throughput::Elements((width * height) as u64));
    group.bench_function("one score of a prepared reference", |b| {
        b.iter(|| {
            black_box(decode_rgb(black_box(&candidate), false).and_then(|c| reference.score(&c)))
        })
    });
    group.finish();
}

criterion_group!(benches, search);
criterion_main!(benches);
