//! The logging setup: one line per event on stderr,
//! `HH:MM:SS.mmm <component> <thread> <LEVEL> <message>`.
//! The component is the event's target (`ProcessImages`, `CompressOneImage`); the thread is the
//! worker's name (`Thread-1`...) or `main`.
use std::fmt;
use std::io::{self, Write};

use indicatif::ProgressBar;
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, MakeWriter};
use tracing_subscriber::registry::LookupSpan;

/// Installs the global logger at `level`; `RUST_LOG`, when set, overrides it.
/// Log lines are printed with the progress bar `bar` out of the way.
pub fn init(level: Level, bar: ProgressBar) {
    let filter = match std::env::var("RUST_LOG") {
        Ok(spec) if !spec.is_empty() => EnvFilter::new(spec),
        _ => EnvFilter::new(level.as_str()),
    };
    // A second init (tests, library users with their own subscriber) keeps the first.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .event_format(LineFormat)
        .with_writer(BarWriter { bar })
        .try_init();
}

/// The line format.
pub struct LineFormat;

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
        write!(
            writer,
            "{} {} {} {} ",
            chrono::Local::now().format("%H:%M:%S%.3f"),
            meta.target(),
            thread.name().unwrap_or("unnamed"),
            meta.level()
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
