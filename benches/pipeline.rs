//! The batch through the rayon pool (1, 2, all cores) against the sequential run, the
//! stages of one image (decode, encode, decode+encode as photopress does it, atomic write),
//! and the two re-encoding methods (`method`: the pixel path `pixel::recompress` against the
//! DCT-domain `dct::recompress`) on the 4:2:0 images, as throughput.
//!
//! Images: `IMAGES/` by default, or the folder named by `PHOTOPRESS_BENCH_DIR` (for instance
//! the corpus built by `../shared/bench/make_corpus.sh`, whose photos are in `photos/`).
// A benchmark or example program: a failed setup step may panic with its reason.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use criterion::{
    BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use photopress::cancel::Cancel;
use photopress::jpeg::pixel::{self, EncodeSettings};
use photopress::{Options, batch, inputs::walk, jpeg::dct, jpeg::header, photo::output};

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
    let jobs = walk::scan(&inputs, &base).expect("scan the bench folder");
    assert!(!jobs.is_empty(), "no JPEG in {}", inputs[0].display());
    let bytes: u64 = jobs
        .iter()
        .filter_map(|j| std::fs::metadata(&j.input).ok())
        .map(|m| m.len())
        .sum();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let cancel = Cancel::new();

    let mut group = c.benchmark_group(format!("pipeline/{}_images", jobs.len()));
    group.throughput(Throughput::Bytes(bytes));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    let sequential = Options {
        sequential: true,
        ..base.clone()
    };
    group.bench_function("sequential", |b| {
        b.iter(|| batch::run(&jobs, &inputs, &sequential, &batch::Silent, &cancel).expect("batch"))
    });
    let mut counts = vec![1, 2, cores];
    counts.dedup();
    for threads in counts {
        let parallel = Options {
            jobs: threads,
            ..base.clone()
        };
        group.bench_with_input(BenchmarkId::new("rayon", threads), &parallel, |b, opts| {
            b.iter(|| batch::run(&jobs, &inputs, opts, &batch::Silent, &cancel).expect("batch"))
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
    let encoded = pixel::recompress(&data, &settings).expect("recompress");
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
        b.iter(|| pixel::recompress(&data, &settings).expect("recompress"))
    });
    let dest = out.path().join("stage.jpg");
    stages.bench_function("atomic_write", |b| {
        b.iter(|| {
            output::write_atomic(&dest, &encoded, output::WriteOptions::default()).expect("write")
        })
    });
    stages.finish();
}

/// The pixel path against the DCT-domain transcoder, on the same images, read into memory
/// first: the YCbCr 4:2:0 ones, baseline and progressive apart, since the transcoder's cost
/// differs (a progressive input is gathered whole before it is requantized), and the 4:4:4,
/// 4:2:2 and 4:4:0 ones, whose chroma the transcoder downsamples to 4:2:0 as `--method auto`
/// does. Each iteration re-encodes every image of its set in turn on this one thread, at the
/// default settings (quality 30, metadata kept), as `photopress --sequential --method
/// pixel|auto` does. IDs: `method/pixel/baseline`, `method/dct/baseline`,
/// `method/pixel/progressive`, `method/dct/progressive`, `method/pixel/downsampled`,
/// `method/dct/downsampled` (a set with no image is left out).
fn methods(c: &mut Criterion) {
    photopress::memory::keep_freed_memory();
    let inputs = [bench_dir()];
    let base = Options::default();
    let jobs = walk::scan(&inputs, &base).expect("scan the bench folder");
    let settings = EncodeSettings::default();
    let (mut baseline, mut progressive, mut downsampled) = (Vec::new(), Vec::new(), Vec::new());
    let mut others = 0;
    for job in &jobs {
        let data = std::fs::read(&job.input).expect("read");
        // The transcoder must take it (it refuses arithmetic coding, for one).
        let frame = header::read_frame(&data);
        match frame {
            _ if dct::recompress(&data, &settings, false).is_err() => others += 1,
            Ok(frame) if frame.components.len() == 3 && !frame.is_420() => downsampled.push(data),
            Ok(frame) if !frame.is_420() => others += 1,
            Ok(frame) if frame.progressive() => progressive.push(data),
            Ok(_) => baseline.push(data),
            Err(_) => others += 1,
        }
    }
    eprintln!(
        "method: {} baseline and {} progressive 4:2:0 images, {} to downsample, {others} others left out, from {}",
        baseline.len(),
        progressive.len(),
        downsampled.len(),
        inputs[0].display()
    );

    let mut group = c.benchmark_group("method");
    group.sample_size(10);
    // One iteration is a whole set (seconds on a big corpus): the same number of iterations in
    // every sample. The measurement time is criterion's (5 s, or `--measurement-time`).
    group.sampling_mode(SamplingMode::Flat);
    for (coding, set) in [
        ("baseline", &baseline),
        ("progressive", &progressive),
        ("downsampled", &downsampled),
    ] {
        if set.is_empty() {
            continue;
        }
        group.throughput(Throughput::Bytes(set.iter().map(|d| d.len() as u64).sum()));
        group.bench_with_input(BenchmarkId::new("pixel", coding), set, |b, set| {
            b.iter(|| {
                for data in set.iter() {
                    black_box(pixel::recompress(data, &settings).expect("pixel path"));
                }
            })
        });
        group.bench_with_input(BenchmarkId::new("dct", coding), set, |b, set| {
            b.iter(|| {
                for data in set.iter() {
                    let out = dct::recompress(data, &settings, false);
                    black_box(out.unwrap_or_else(|err| panic!("transcoder: {err}")));
                }
            })
        });
    }
    group.finish();
}

criterion_group!(benches, pipeline, methods);
criterion_main!(benches);
