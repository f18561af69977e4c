//! The order in which the pool takes the jobs: the longest first, dealt so that every worker
//! starts with one of them, and the order in which the workers will reach them (which the
//! downloads of object inputs follow).
//!
//! A job's expected work: file size alone is a poor guide. On the benchmark corpus a
//! progressive photo takes about twice as long per input byte as a baseline one (its refinement
//! scans are decoded coefficient by coefficient), and the slowest progressive photo is only the
//! tenth biggest file. A photo's frame header says what it is: its pixel count, whether it is
//! progressive, whether its chroma is already 4:2:0. It is read from a few small windows of the
//! file (the walk jumps over EXIF and ICC segments without reading them), a few kilobytes per
//! file, which the image's own read then finds in the page cache. The weights were fitted
//! (least squares) on the time each of the corpus's 43 photos took on one thread (median error
//! 7 %); they only rank jobs, so the unit is arbitrary.
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use rayon::prelude::*;

use crate::inputs::walk::{Job, Source};
use crate::jpeg::header::{self, FrameHeader, Walk};

/// Bytes read at each offset the header walk asks for.
const WINDOW: usize = 4096;
/// Windows read at most per file: a file whose frame lies beyond them is ranked by its size.
const MAX_WINDOWS: usize = 16;

/// The expected work of compressing a file of `bytes` bytes whose frame header is `frame`
/// (`None`: unknown, ranked as a baseline photo of that size).
pub fn estimate(bytes: u64, frame: Option<&FrameHeader>) -> u64 {
    let Some(frame) = frame else {
        return bytes.saturating_mul(200);
    };
    let pixels = (frame.width as u64).saturating_mul(frame.height as u64);
    // Per input byte: entropy decoding and token writing. Per pixel: the block work, more
    // for progressive stores and for chroma to downsample.
    let (per_byte, mut per_pixel) = if frame.progressive() {
        (421, 15)
    } else {
        (200, 5)
    };
    if frame.components.len() == 3 && !frame.is_420() {
        per_pixel += 13;
    }
    bytes
        .saturating_mul(per_byte)
        .saturating_add(pixels.saturating_mul(per_pixel))
}

/// The expected work of compressing (or restoring) the file at `path`: from its size and its frame header (or its archive header)
/// when one is found in the first `MAX_WINDOWS` windows the walk reads. `None` when it cannot
/// be opened as the batch opens its inputs (a FIFO or a device is never opened for reading).
pub fn of_file(path: &Path) -> Option<u64> {
    let (mut file, meta) = crate::photo::input::open_regular(path).ok()?;
    Some(match head_of(&mut file) {
        Head::Archive(header) => archive_work(&header),
        Head::Frame(frame) => estimate(meta.len(), Some(&frame)),
        Head::Unknown => estimate(meta.len(), None),
    })
}

/// The expected work of restoring the archive `header` heads: Lepton's decoding goes by the
/// coefficients more than by the bytes (on `IMAGES/`, one 6.35 MP photo of 575 KB restores in
/// 164 ms, a 2.3 MP one of 1.16 MB in 111 ms); a stored body (no picture) is a copy.
fn archive_work(header: &crate::archive::Header) -> u64 {
    let pixels = u64::from(header.width) * u64::from(header.height);
    pixels
        .saturating_mul(10 * u64::from(header.components.max(1)) / 3)
        .saturating_add(header.len.saturating_mul(50))
}

/// What a file's first bytes say it is.
enum Head {
    /// A JPEG, with its frame header.
    Frame(FrameHeader),
    /// A photopress archive (`restore`'s input), with its header.
    Archive(crate::archive::Header),
    /// Neither, or a frame hidden too far in.
    Unknown,
}

/// The frame header of an open file, read window by window (the first window also tells an
/// archive by its header).
fn head_of(file: &mut std::fs::File) -> Head {
    let mut window = Vec::with_capacity(WINDOW);
    let (mut offset, mut pos) = (0u64, 2usize);
    for n in 0..MAX_WINDOWS {
        window.clear();
        let read = file
            .seek(SeekFrom::Start(offset))
            .and_then(|_| (&mut *file).take(WINDOW as u64).read_to_end(&mut window));
        if read.is_err() {
            return Head::Unknown;
        }
        let walked = if n == 0 {
            if let Ok(archive) = crate::archive::Header::read(&window) {
                return Head::Archive(archive);
            }
            header::walk_from_start(&window)
        } else {
            header::walk(&window, 0)
        };
        match walked {
            Ok(Walk::Frame(frame)) => return Head::Frame(frame),
            Ok(Walk::From(at)) if at > pos => {
                let Some(next) = offset.checked_add(at as u64) else {
                    return Head::Unknown;
                };
                offset = next;
                pos = 0;
            }
            // Not a JPEG, or the window cannot hold what the walk needs (the file ends there).
            _ => return Head::Unknown,
        }
    }
    Head::Unknown
}

/// Job indices arranged so that every worker starts with the longest jobs: the pool then
/// starts the long images early, and the batch does not end with one worker finishing a big
/// photo while the others idle. rayon splits the vector in halves, recursively, one split
/// level per doubling of the workers (a second worker takes the right half, a third and a
/// fourth the right halves of those, and so on), and each worker goes left to right through
/// its part: at each of those levels, ranks by expected work are dealt to the left and right
/// halves in a snake (left, right, right, left, ...), so that every worker's part starts with
/// one of the longest and descends, and the halves' sums stay close.
///
/// A job's expected work is its size, or, for files when the batch is short enough against
/// the pool for its end to matter (up to `ESTIMATED_PER_THREAD` jobs a thread), the
/// estimate from its frame header ([`estimate`]), read on `peek`: the pool, or `None` when no
/// input may be read ahead (under `--preserve`, since a read can change the access time that
/// the output is to keep).
pub fn longest_first(
    jobs: &[Job],
    todo: &[usize],
    threads: usize,
    peek: Option<&rayon::ThreadPool>,
) -> Vec<usize> {
    let size = |job: &Job| match &job.source {
        Source::Object { size, .. } => size.unwrap_or(0),
        Source::File => std::fs::metadata(&job.input).map_or(0, |m| m.len()),
    };
    // Files: one open, whose metadata gives the size too; else ranked as a baseline photo.
    let work = |i: usize| {
        let job = &jobs[i];
        let file = match job.source {
            Source::File => of_file(&job.input),
            Source::Object { .. } => None,
        };
        file.unwrap_or_else(|| estimate(size(job), None))
    };
    let mut ranked: Vec<(u64, usize)> = match peek {
        Some(pool) if threads > 1 && todo.len() <= ESTIMATED_PER_THREAD * threads => {
            pool.install(|| todo.par_iter().map(|&i| (work(i), i)).collect())
        }
        _ => todo.iter().map(|&i| (size(&jobs[i]), i)).collect(),
    };
    // Longest first; equal ones in job order, so that the order is the same on every run.
    ranked.sort_by_key(|&(work, i)| (std::cmp::Reverse(work), i));
    deal(ranked.into_iter().map(|(_, i)| i).collect(), threads)
}

/// Jobs a thread up to which [`longest_first`] reads headers: past that, a batch's end is a
/// small part of it, and a first pass over every file would delay the start for little.
const ESTIMATED_PER_THREAD: usize = 32;

/// `ranked` (biggest first) laid out for `workers` workers of rayon's halving splits.
fn deal(ranked: Vec<usize>, workers: usize) -> Vec<usize> {
    if workers <= 1 || ranked.len() <= 2 {
        return ranked;
    }
    // rayon's split point is len / 2: the left half gets the first len / 2 ranks dealt.
    let left_len = ranked.len() / 2;
    let mut left = Vec::with_capacity(left_len);
    let mut right = Vec::with_capacity(ranked.len() - left_len);
    // In a snake (ranks 0, 3, 4, 7, 8... to the left, 1, 2, 5, 6... to the right): each pair
    // of ranks evens out the one before, where taking every other rank would give the left
    // half the bigger of every pair (4 photos on 2 workers: the 1st and 3rd biggest together).
    for (rank, &index) in ranked.iter().enumerate() {
        if matches!(rank % 4, 0 | 3) && left.len() < left_len {
            left.push(index);
        } else {
            right.push(index);
        }
    }
    let half = workers.div_ceil(2);
    let mut order = deal(left, half);
    order.extend(deal(right, half));
    order
}

/// The order in which `threads` workers are expected to reach the jobs of `order` (each
/// takes its own stretch of it, as rayon splits the work): the stretches' heads interleaved.
/// Downloads follow it, so that every worker finds its next input already there.
pub fn consumption_order(order: &[usize], threads: usize) -> Vec<usize> {
    let stretch = order.len().div_ceil(threads.max(1)).max(1);
    let chunks: Vec<&[usize]> = order.chunks(stretch).collect();
    (0..stretch)
        .flat_map(|i| chunks.iter().filter_map(move |c| c.get(i).copied()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    /// The frame header of the file at `path`, as [`of_file`] reads it.
    fn frame_at(path: &Path) -> Option<FrameHeader> {
        let (mut file, _) = crate::photo::input::open_regular(path).ok()?;
        match head_of(&mut file) {
            Head::Frame(frame) => Some(frame),
            _ => None,
        }
    }

    fn demo(name: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("IMAGES")
            .join(name)
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_among_the_inputs_is_ranked_by_size_without_being_opened_for_reading() {
        let dir = tempfile::tempdir().expect("tempdir");
        let fifo = dir.path().join("pipe.jpg");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.is_ok_and(|s| s.success()), "mkfifo");
        let jobs = vec![Job::file(
            fifo.clone(),
            PathBuf::from("o.jpg"),
            "pipe.jpg".into(),
            None,
        )];
        // A blocking open of a FIFO waits for a writer that never comes: run it aside.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build();
            let order = pool.map(|pool| longest_first(&jobs, &[0], 2, Some(&pool)));
            let _ = tx.send((of_file(&jobs[0].input), order.ok()));
        });
        let got = rx.recv_timeout(std::time::Duration::from_secs(20));
        assert_eq!(got, Ok((None, Some(vec![0]))), "the FIFO hung the ordering");
    }

    #[test]
    fn the_frame_is_found_past_a_segment_bigger_than_the_window() {
        let dir = tempfile::tempdir().expect("tempdir");
        let leaf = std::fs::read(demo("leaf.jpg")).expect("leaf.jpg");
        let expected = header::read_frame(&leaf).expect("header");
        // SOI, a 60 000-byte APP1 segment, then the rest of leaf.jpg.
        let mut big = vec![0xFF, 0xD8, 0xFF, 0xE1];
        big.extend_from_slice(&60_000u16.to_be_bytes());
        big.extend(std::iter::repeat_n(0xFFu8, 60_000 - 2));
        big.extend_from_slice(&leaf[2..]);
        let path = dir.path().join("big-exif.jpg");
        std::fs::write(&path, &big).expect("write");
        assert_eq!(frame_at(&path), Some(expected));

        // Not a JPEG, an empty file, a file cut inside its frame segment, a missing file.
        let png = dir.path().join("x.png");
        std::fs::write(&png, b"\x89PNG\r\n\x1a\n").expect("write");
        assert_eq!(frame_at(&png), None);
        let empty = dir.path().join("empty.jpg");
        std::fs::write(&empty, b"").expect("write");
        assert_eq!(frame_at(&empty), None);
        let cut = dir.path().join("cut.jpg");
        let sof = leaf
            .windows(2)
            .position(|w| w == [0xFF, 0xC0])
            .expect("baseline SOF");
        std::fs::write(&cut, &leaf[..sof + 6]).expect("write");
        assert_eq!(frame_at(&cut), None);
        assert_eq!(frame_at(&dir.path().join("missing.jpg")), None);
    }

    #[test]
    fn a_progressive_photo_ranks_above_a_bigger_baseline_file() {
        // dogs.jpg is progressive 4:2:0, leaf.jpg baseline: per byte, the progressive one is
        // the more work; a photo whose header cannot be read ranks by its size alone.
        let dogs = header::read_frame(&std::fs::read(demo("dogs.jpg")).expect("dogs"));
        let dogs = dogs.expect("header");
        let leaf = header::read_frame(&std::fs::read(demo("leaf.jpg")).expect("leaf"));
        let leaf = leaf.expect("header");
        assert!(dogs.progressive() && !leaf.progressive());
        let mb = 1_000_000;
        assert!(estimate(mb, Some(&dogs)) > estimate(2 * mb, Some(&leaf)));
        assert_eq!(estimate(mb, None), 200 * mb);
        let dogs_bytes = std::fs::metadata(demo("dogs.jpg")).map_or(0, |m| m.len());
        assert_eq!(
            of_file(&demo("dogs.jpg")),
            Some(estimate(dogs_bytes, Some(&dogs)))
        );
    }

    #[test]
    fn with_a_pool_a_progressive_photo_goes_before_a_bigger_baseline_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let images = Path::new(env!("CARGO_MANIFEST_DIR")).join("IMAGES");
        let dogs = std::fs::read(images.join("dogs.jpg")).expect("dogs.jpg");
        let leaf = std::fs::read(images.join("leaf.jpg")).expect("leaf.jpg");
        // leaf.jpg (baseline, 2.3 MP) is twice the size of dogs.jpg (progressive, 6.3 MP): the
        // bigger file, but the smaller job. Two 64 KiB APP15 segments in front of its frame
        // make the header walk jump.
        assert!(leaf.len() > 2 * dogs.len());
        let mut padded = leaf[..2].to_vec();
        for _ in 0..2 {
            padded.extend_from_slice(&[0xFF, 0xEF, 0xFF, 0xFF]);
            padded.extend(std::iter::repeat_n(0u8, 0xFFFF - 2));
        }
        padded.extend_from_slice(&leaf[2..]);
        let jobs: Vec<Job> = [("leaf", &padded), ("dogs", &dogs)]
            .iter()
            .map(|(name, data)| {
                let input = dir.path().join(format!("{name}.jpg"));
                std::fs::write(&input, data).expect("write");
                Job::file(input, PathBuf::from("out.jpg"), format!("{name}.jpg"), None)
            })
            .collect();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .expect("pool");
        assert_eq!(longest_first(&jobs, &[0, 1], 2, Some(&pool)), [1, 0]);
        // Without a pool (and so on one thread), by size.
        assert_eq!(longest_first(&jobs, &[0, 1], 2, None), [0, 1]);
    }

    #[test]
    fn each_half_of_the_order_starts_with_the_biggest_inputs() {
        let dir = tempfile::tempdir().expect("tempdir");
        // Sizes 0, 10, ..., 60 bytes, in a shuffled job order.
        let jobs: Vec<Job> = [3usize, 6, 0, 5, 1, 4, 2]
            .iter()
            .map(|&tens| {
                let input = dir.path().join(format!("{tens}.jpg"));
                std::fs::write(&input, vec![0u8; tens * 10]).expect("write");
                Job::file(input, PathBuf::from("out.jpg"), format!("{tens}.jpg"), None)
            })
            .collect();
        let tens = |i: &usize| {
            jobs[*i]
                .input
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
        };
        let all: Vec<usize> = (0..jobs.len()).collect();
        let order = |threads| -> Vec<String> {
            longest_first(&jobs, &all, threads, None)
                .iter()
                .filter_map(tens)
                .collect()
        };
        // Ranks 0, 3, 4 to the left half (len / 2 = 3), the rest to the right, each descending:
        // 6 + 3 + 2 against 5 + 4 + 1 + 0.
        assert_eq!(order(2), ["6", "3", "2", "5", "4", "1", "0"]);
        // Four workers: the halves are dealt again: [6] [3 2] | [5 0] [4 1], so that the
        // four parts rayon makes (split at 3, then 1 and 2) start with ranks 0, 3, 1 and 2.
        assert_eq!(order(4), ["6", "3", "2", "5", "0", "4", "1"]);
        assert_eq!(order(1), ["6", "5", "4", "3", "2", "1", "0"]);
    }

    #[test]
    fn an_archive_is_ranked_by_its_picture_more_than_by_its_bytes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let lep = |name: &str| {
            let original = std::fs::read(demo(name)).expect("read");
            let frame = crate::jpeg::header::read_frame(&original).expect("frame");
            let path = dir.path().join(format!("{name}.lep"));
            let archived = crate::archive::archive(&original, &frame);
            std::fs::write(&path, &archived.bytes).expect("write");
            (path, archived.bytes.len())
        };
        // dogs.jpg: 6.35 MP in 575 KB; leaf.jpg: 2.3 MP in 1.16 MB (restored in 164 against
        // 111 ms on IMAGES/).
        let (dogs, dogs_len) = lep("dogs.jpg");
        let (leaf, leaf_len) = lep("leaf.jpg");
        assert!(leaf_len > dogs_len);
        assert!(of_file(&dogs) > of_file(&leaf));
    }
}
