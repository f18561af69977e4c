//! The progress bar: files done out of the total, bytes in and out, elapsed time and ETA.
//! Drawn on stderr only when it is a terminal (or when forced); log lines go through
//! [`Progress::bar`] so the two never garble each other.
use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle, TermLike};

use crate::compress::Outcome;

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

/// The bar, and the byte counts it shows. These counters are for display only: the report's
/// totals come from the batch's reduction, never from here.
pub struct Progress {
    bar: ProgressBar,
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
}

impl Progress {
    pub fn new(mode: ProgressMode) -> Self {
        let target = match mode {
            ProgressMode::Auto => ProgressDrawTarget::stderr(),
            ProgressMode::Always => ProgressDrawTarget::term_like(Box::new(Stderr)),
            ProgressMode::Never => ProgressDrawTarget::hidden(),
        };
        let bar = ProgressBar::with_draw_target(None, target);
        let style = ProgressStyle::with_template(
            "{spinner} {elapsed_precise} [{bar:30}] {pos}/{len} files  {msg}  ETA {eta}",
        )
        .map(|style| style.progress_chars("=> "))
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        Progress {
            bar,
            bytes_in: AtomicU64::new(0),
            bytes_out: AtomicU64::new(0),
        }
    }

    /// A bar that never draws (library use, benchmarks).
    pub fn hidden() -> Self {
        Progress::new(ProgressMode::Never)
    }

    /// The bar itself, for the log writer to suspend while it prints.
    pub fn bar(&self) -> ProgressBar {
        self.bar.clone()
    }

    /// Starts showing progress over `total` images.
    pub fn start(&self, total: usize) {
        self.bar.set_length(total as u64);
        self.bar.enable_steady_tick(Duration::from_millis(200));
    }

    pub fn image_done(&self, outcome: &Outcome) {
        let bytes_in = self
            .bytes_in
            .fetch_add(outcome.input_bytes, Ordering::Relaxed)
            + outcome.input_bytes;
        let bytes_out = self
            .bytes_out
            .fetch_add(outcome.output_bytes, Ordering::Relaxed)
            + outcome.output_bytes;
        self.bar.set_message(format!(
            "{} -> {}",
            indicatif::HumanBytes(bytes_in),
            indicatif::HumanBytes(bytes_out)
        ));
        self.bar.inc(1);
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// stderr as a terminal, whatever it really is (for `--progress always`).
#[derive(Debug)]
struct Stderr;

impl Stderr {
    fn put(&self, text: &str) -> io::Result<()> {
        io::stderr().lock().write_all(text.as_bytes())
    }
}

impl TermLike for Stderr {
    fn width(&self) -> u16 {
        100
    }
    fn move_cursor_up(&self, n: usize) -> io::Result<()> {
        if n > 0 {
            self.put(&format!("\x1b[{n}A"))
        } else {
            Ok(())
        }
    }
    fn move_cursor_down(&self, n: usize) -> io::Result<()> {
        if n > 0 {
            self.put(&format!("\x1b[{n}B"))
        } else {
            Ok(())
        }
    }
    fn move_cursor_right(&self, n: usize) -> io::Result<()> {
        if n > 0 {
            self.put(&format!("\x1b[{n}C"))
        } else {
            Ok(())
        }
    }
    fn move_cursor_left(&self, n: usize) -> io::Result<()> {
        if n > 0 {
            self.put(&format!("\x1b[{n}D"))
        } else {
            Ok(())
        }
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
