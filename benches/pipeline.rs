//! The batch through the rayon pool (1, 2, all cores) against the sequential run, and the
//! stages of one image (decode, encode, decode+encode as photopress does it, atomic write),
//! as throughput.
//!
//! Images: `IMAGES/` by default, or the folder named by `PHOTOPRESS_BENCH_DIR` (for instance
//! the corpus built by `../shared/bench/make_corpus.sh`, whose photos are in `photos/`).
use std::path::PathBuf;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use photopress::codec::{self, EncodeSettings};
use photopress::progress::Progress;
use photopress::{Options, batch, output, scan};

fn bench_dir() -> PathBuf {
    std::env::var_os("PHOTOPRESS_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("IMAGES"))
}

fn pipeline(c: &mut Criterion) {
    // As the photopress command does.
    photopress::memory::keep_freed_memory();
    let inputs = [bench_dir()];
    let out = tempfile::tempdir().expect("temp dir");
    let base = Options {
        output_dir: out.path().to_path_buf(),
        ..Options::default()
    };
    let jobs = scan::scan(&inputs, &base).expect("scan the bench folder");
    assert!(!jobs.is_empty(), "no JPEG in {}", inputs[0].display());
    let bytes: u64 = jobs
        .iter()
        .filter_map(|j| std::fs::metadata(&j.input).ok())
        .map(|m| m.len())
        .sum();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let progress = Progress::hidden();

    let mut group = c.benchmark_group(format!("pipeline/{}_images", jobs.len()));
    group.throughput(Throughput::Bytes(bytes));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    let sequential = Options {
        sequential: true,
        ..base.clone()
    };
    group.bench_function("sequential", |b| {
        b.iter(|| batch::run(&jobs, &inputs, &sequential, &progress).expect("batch"))
    });
    let mut counts = vec![1, 2, cores];
    counts.dedup();
    for threads in counts {
        let parallel = Options {
            jobs: threads,
            ..base.clone()
        };
        group.bench_with_input(BenchmarkId::new("rayon", threads), &parallel, |b, opts| {
            b.iter(|| batch::run(&jobs, &inputs, opts, &progress).expect("batch"))
        });
    }
    group.finish();

    // Stages, on the largest image of the set.
    let largest = jobs
        .iter()
        .max_by_key(|j| std::fs::metadata(&j.input).map_or(0, |m| m.len()))
        .expect("one job");
    let data = std::fs::read(&largest.input).expect("read");
    let settings = EncodeSettings::default();
    let encoded = codec::recompress(&data, &settings).expect("recompress");
    let mut stages = c.benchmark_group("stages");
    stages.throughput(Throughput::Bytes(data.len() as u64));
    stages.sample_size(20);
    stages.bench_function("decode", |b| {
        b.iter(|| {
            let d = mozjpeg::Decompress::new_mem(&data).expect("header");
            let mut d = d.rgb().expect("start");
            let pixels: Vec<u8> = d.read_scanlines().expect("decode");
            d.finish().expect("finish");
            pixels
        })
    });
    let (pixels, width, height) = {
        let d = mozjpeg::Decompress::new_mem(&data).expect("header");
        let mut d = d.rgb().expect("start");
        let (w, h) = (d.width(), d.height());
        let pixels: Vec<u8> = d.read_scanlines().expect("decode");
        d.finish().expect("finish");
        (pixels, w, h)
    };
    // The pixel path's encoder alone (quality 30, 4:2:0, optimized Huffman), from RGB.
    stages.bench_function("encode", |b| {
        b.iter(|| {
            let mut c = mozjpeg::Compress::new(mozjpeg::ColorSpace::JCS_RGB);
            c.set_fastest_defaults();
            c.set_size(width, height);
            c.set_quality(30.0);
            c.set_optimize_coding(true);
            c.set_chroma_sampling_pixel_sizes((2, 2), (2, 2));
            let mut c = c.start_compress(Vec::new()).expect("start");
            c.write_scanlines(&pixels).expect("encode");
            c.finish().expect("finish")
        })
    });
    stages.bench_function("decode+encode", |b| {
        b.iter(|| codec::recompress(&data, &settings).expect("recompress"))
    });
    let dest = out.path().join("stage.jpg");
    stages.bench_function("atomic_write", |b| {
        b.iter(|| output::write_atomic(&dest, &encoded, false).expect("write"))
    });
    stages.finish();
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
