//! The progress bar: files done out of the total, failures, bytes in and out, throughput and
//! an ETA by input bytes (the pool takes the biggest files first, so counting files would
//! make the ETA several times too long at the start). Drawn on stderr only when it is a
//! terminal (or when forced), as wide as the terminal; log lines go through [`Progress::bar`]
//! so the two never garble each other. A Ctrl-C is acknowledged at once, and the bar cleared.
use std::collections::HashMap;
use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle, TermLike};

use photopress::batch::Observer;
use photopress::human;
use photopress::inputs::job::{Job, Source};
use photopress::outcome::{Outcome, Status};

use super::signals;

/// When to draw the bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProgressMode {
    /// Only when stderr is a terminal.
    #[default]
    Auto,
    /// Always, even into a pipe or a file.
    Always,
    /// Never.
    Never,
}

/// The bar, and the counts it shows. These counters are for display only: the report's
/// totals come from the batch's reduction, never from here.
pub struct Progress {
    bar: ProgressBar,
    /// Each input's size at the start: the bar's position advances by it when the image is
    /// done, whatever its outcome.
    sizes: OnceLock<HashMap<PathBuf, u64>>,
    counts: Arc<Counts>,
}

#[derive(Default)]
struct Counts {
    files: AtomicU64,
    started: AtomicU64,
    done: AtomicU64,
    failed: AtomicU64,
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
    /// Set when the batch is over: the interrupt watcher ends.
    over: AtomicBool,
    /// Set by whoever acknowledged the interrupt (the watcher, or `finish` when the batch
    /// ended before the watcher woke up): said once.
    acknowledged: AtomicBool,
}

impl Progress {
    pub fn new(mode: ProgressMode) -> Self {
        let draw = match mode {
            ProgressMode::Auto => io::stderr().is_terminal(),
            ProgressMode::Always => true,
            ProgressMode::Never => false,
        };
        let target = if draw {
            ProgressDrawTarget::term_like_with_hz(Box::new(Stderr), 20)
        } else {
            ProgressDrawTarget::hidden()
        };
        let bar = ProgressBar::with_draw_target(None, target);
        bar.set_style(style(terminal_width()));
        Progress {
            bar,
            sizes: OnceLock::new(),
            counts: Arc::default(),
        }
    }

    /// The bar itself, for the log writer to suspend while it prints.
    pub fn bar(&self) -> ProgressBar {
        self.bar.clone()
    }

    /// Starts showing progress over `jobs`, and watching for a Ctrl-C to acknowledge.
    pub fn start(&self, jobs: &[Job]) {
        let sizes: HashMap<PathBuf, u64> = jobs
            .iter()
            .map(|job| {
                let size = match &job.source {
                    Source::Object { size, .. } => size.unwrap_or(0),
                    Source::File => std::fs::metadata(&job.input).map_or(0, |m| m.len()),
                };
                (job.input.clone(), size)
            })
            .collect();
        self.bar.set_length(sizes.values().sum());
        let _ = self.sizes.set(sizes);
        self.counts
            .files
            .store(jobs.len() as u64, Ordering::Relaxed);
        self.show();
        self.bar.enable_steady_tick(Duration::from_millis(200));
        self.watch_interrupt();
    }

    fn show(&self) {
        let c = &self.counts;
        let failed = match c.failed.load(Ordering::Relaxed) {
            0 => String::new(),
            n => format!("  {n} failed"),
        };
        self.bar.set_message(format!(
            "{}/{} files  {} -> {}{failed}",
            c.done.load(Ordering::Relaxed),
            c.files.load(Ordering::Relaxed),
            human::size(c.bytes_in.load(Ordering::Relaxed)),
            human::size(c.bytes_out.load(Ordering::Relaxed)),
        ));
    }

    pub fn finish(&self) {
        self.counts.over.store(true, Ordering::Relaxed);
        self.bar.finish_and_clear();
        if signals::stop_requested() {
            acknowledge(&self.counts);
        }
    }

    /// A thread that, at the first Ctrl-C (or SIGTERM), clears the bar for good and says what
    /// happens now (a signal handler itself can only set a flag).
    fn watch_interrupt(&self) {
        let counts = Arc::clone(&self.counts);
        let bar = self.bar.clone();
        let watch = move || {
            while !counts.over.load(Ordering::Relaxed) {
                if signals::stop_requested() {
                    bar.finish_and_clear();
                    bar.set_draw_target(ProgressDrawTarget::hidden());
                    acknowledge(&counts);
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        };
        // Without the thread (none could be started) a Ctrl-C still works, unacknowledged.
        let _ = std::thread::Builder::new()
            .name("interrupt".into())
            .spawn(watch);
    }
}

/// The bar's layout for a terminal `width` columns wide: the bar itself takes what the rest
/// leaves (`wide_bar`, measured at each draw), and parts are dropped on narrow terminals so
/// that the line never wraps.
impl Observer for Progress {
    /// An image is about to be compressed (for the count of those in progress).
    fn image_started(&self, _job: &Job) {
        self.counts.started.fetch_add(1, Ordering::Relaxed);
    }

    fn image_done(&self, outcome: &Outcome) {
        let c = &self.counts;
        c.done.fetch_add(1, Ordering::Relaxed);
        if matches!(outcome.status, Status::Failed(_)) {
            c.failed.fetch_add(1, Ordering::Relaxed);
        }
        c.bytes_in.fetch_add(outcome.input_bytes, Ordering::Relaxed);
        c.bytes_out
            .fetch_add(outcome.output_bytes, Ordering::Relaxed);
        let size = self
            .sizes
            .get()
            .and_then(|sizes| sizes.get(&outcome.input))
            .copied()
            .unwrap_or(outcome.input_bytes);
        self.show();
        self.bar.inc(size);
    }
}

fn style(width: u16) -> ProgressStyle {
    let template = match width {
        100.. => {
            "{spinner} {elapsed_precise} [{wide_bar}] {msg}  {binary_bytes_per_sec}  ETA {eta}"
        }
        72.. => "{spinner} {elapsed_precise} [{wide_bar}] {msg}  ETA {eta}",
        _ => "{spinner} {wide_msg} ETA {eta}",
    };
    ProgressStyle::with_template(template)
        .map(|style| style.progress_chars("=> "))
        .unwrap_or_else(|_| ProgressStyle::default_bar())
}

/// The width of the terminal on stderr; when stderr is not one (`--progress always` into a
/// file), `$COLUMNS` or 80.
fn terminal_width() -> u16 {
    console::Term::stderr()
        .size_checked()
        .map(|(_, cols)| cols)
        .filter(|&cols| cols > 0)
        .or_else(|| std::env::var("COLUMNS").ok()?.trim().parse().ok())
        .unwrap_or(80)
}

/// stderr as a terminal, whatever it really is (for `--progress always`), as wide as the
/// terminal (or `$COLUMNS`) less two columns.
#[derive(Debug)]
struct Stderr;

impl Stderr {
    fn put(&self, text: &str) -> io::Result<()> {
        io::stderr().lock().write_all(text.as_bytes())
    }

    /// Moves the cursor `n` places in `direction` (the ANSI letter: A up, B down, C right,
    /// D left); nothing for 0 (the sequence would move it one place).
    fn cursor(&self, n: usize, direction: char) -> io::Result<()> {
        if n > 0 {
            self.put(&format!("\x1b[{n}{direction}"))
        } else {
            Ok(())
        }
    }
}

impl TermLike for Stderr {
    fn width(&self) -> u16 {
        // Two columns to spare: a line that fills the terminal would wrap when the terminal
        // echoes "^C" after it, and the clear would then miss the bar, left stale above.
        terminal_width().saturating_sub(2).max(20)
    }
    fn move_cursor_up(&self, n: usize) -> io::Result<()> {
        self.cursor(n, 'A')
    }
    fn move_cursor_down(&self, n: usize) -> io::Result<()> {
        self.cursor(n, 'B')
    }
    fn move_cursor_right(&self, n: usize) -> io::Result<()> {
        self.cursor(n, 'C')
    }
    fn move_cursor_left(&self, n: usize) -> io::Result<()> {
        self.cursor(n, 'D')
    }
    fn write_line(&self, s: &str) -> io::Result<()> {
        self.put(&format!("{s}\n"))
    }
    fn write_str(&self, s: &str) -> io::Result<()> {
        self.put(s)
    }
    fn clear_line(&self) -> io::Result<()> {
        self.put("\r\x1b[2K")
    }
    fn flush(&self) -> io::Result<()> {
        io::stderr().flush()
    }
}

/// Says, once, what an interrupt does now.
fn acknowledge(counts: &Counts) {
    if counts.acknowledged.swap(true, Ordering::SeqCst) {
        return;
    }
    let in_progress = counts
        .started
        .load(Ordering::Relaxed)
        .saturating_sub(counts.done.load(Ordering::Relaxed));
    let finishing = match in_progress {
        0 => "starting no more images".to_string(),
        1 => "finishing the image in progress, starting no more".to_string(),
        n => format!("finishing the {n} images in progress, starting no more"),
    };
    tracing::warn!(
        target: "ProcessImages",
        "Interrupted: {finishing}; Ctrl-C again to stop at once"
    );
}
