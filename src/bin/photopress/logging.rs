//! The logging setup: one line per event on stderr,
//! `HH:MM:SS.mmm <component> <thread> <LEVEL> <message>`.
//! The component is the event's target (`ProcessImages`, `CompressOneImage`); the thread is the
//! worker's name (`Thread-1`...) or `main`. On a terminal, `WARN` is yellow and `ERROR` red,
//! unless `NO_COLOR` is set to anything but the empty string (<https://no-color.org>).
use std::fmt;
use std::io::{self, Write};

use indicatif::ProgressBar;
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, MakeWriter};
use tracing_subscriber::registry::LookupSpan;

/// The thread that called [`init`]: the command's.
static COMMAND_THREAD: std::sync::OnceLock<std::thread::ThreadId> = std::sync::OnceLock::new();

/// Installs the global logger at `level`; `RUST_LOG`, when set, overrides it.
/// Log lines are printed with the progress bar `bar` out of the way.
pub fn init(level: Level, bar: ProgressBar) {
    // The thread that runs the command is `main` in the lines, as in the binary, also when
    // it is a host's thread with no Rust name (the Python package's command).
    let _ = COMMAND_THREAD.set(std::thread::current().id());
    let filter = match std::env::var("RUST_LOG") {
        Ok(spec) if !spec.is_empty() => EnvFilter::new(spec),
        // The S3 client's own chatter (a line per retry, per connection) and Lepton's (its
        // threads, its timings) stay below the photo-by-photo log unless asked for with
        // RUST_LOG.
        _ => EnvFilter::new(format!(
            "{},object_store=warn,reqwest=warn,hyper=warn,hyper_util=warn,rustls=warn,lepton_jpeg=warn",
            level.as_str()
        )),
    };
    // A second init (tests, library users with their own subscriber) keeps the first.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .event_format(LineFormat {
            color: color_wanted(),
        })
        .with_writer(BarWriter { bar })
        .try_init();
}

/// Whether log levels are coloured: stderr is a terminal and `NO_COLOR` is unset or empty.
pub fn color_wanted() -> bool {
    use std::io::IsTerminal;
    io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// The line format; `color`: the level of warnings and errors in colour (ANSI escapes).
pub struct LineFormat {
    pub color: bool,
}

impl<S, N> FormatEvent<S, N> for LineFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        let thread = std::thread::current();
        let level = *meta.level();
        let (start, end) = match level {
            Level::ERROR if self.color => ("\x1b[1;31m", "\x1b[0m"),
            Level::WARN if self.color => ("\x1b[33m", "\x1b[0m"),
            _ => ("", ""),
        };
        write!(
            writer,
            "{} {} {} {start}{level}{end} ",
            chrono::Local::now().format("%H:%M:%S%.3f"),
            meta.target(),
            thread
                .name()
                .unwrap_or(if COMMAND_THREAD.get() == Some(&thread.id()) {
                    "main"
                } else {
                    "unnamed"
                }),
        )?;
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

/// Writes each formatted line to stderr in one piece, with the progress bar hidden meanwhile.
struct BarWriter {
    bar: ProgressBar,
}

struct BarLine<'a> {
    bar: &'a ProgressBar,
}

impl<'a> MakeWriter<'a> for BarWriter {
    type Writer = BarLine<'a>;
    fn make_writer(&'a self) -> Self::Writer {
        BarLine { bar: &self.bar }
    }
}

impl Write for BarLine<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.bar.suspend(|| io::stderr().lock().write_all(buf))?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        io::stderr().flush()
    }
}
