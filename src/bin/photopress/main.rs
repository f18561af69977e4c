//! The photopress command: parse the arguments, then scan → batch → report (or one of the
//! array-job sub-commands, `plan` and `report`).
mod cli;
mod commands;
mod event;
mod jsonlines;
mod logging;
mod progress;
mod signals;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use photopress::batch::{self, Observer, setup};
use photopress::report;
use photopress::storage::location::Location;
use photopress::{BatchResult, Options};

use jsonlines::JsonLines;
use progress::Progress;

fn main() -> ExitCode {
    run(std::env::args_os())
}

/// The whole command, from its arguments (the program's name first) to its exit code; also
/// what the Python package's `photopress` command runs (python/src/cli.rs includes this file).
pub fn run(args: impl IntoIterator<Item = std::ffi::OsString>) -> ExitCode {
    // The library's messages name settings by their flags here.
    photopress::names::name_with(cli::flag);
    signals::ignore_file_size_signal();
    photopress::memory::keep_freed_memory();
    signals::install_handler();
    let cli = cli::Cli::parse_from(cli::restore_as_flag(args));
    let progress = Progress::new(cli.progress_mode());
    logging::init(cli.log_level(), progress.bar());
    match &cli.command {
        Some(cli::Command::Plan(args)) => return commands::plan(args, cli.options()),
        Some(cli::Command::Report(args)) => return commands::report(args),
        Some(cli::Command::Completions { shell }) => return commands::completions(*shell),
        Some(cli::Command::Man) => return commands::man(),
        Some(cli::Command::Restore { .. }) => {
            return usage_error("restore comes first: photopress restore IN... -o OUT [OPTIONS]");
        }
        Some(cli::Command::Event { .. }) => {
            return usage_error("event comes first: photopress event INPUT -o OUT [OPTIONS]");
        }
        None => {}
    }
    if cli.event {
        return event::event(&cli, &progress);
    }
    if cli.restore && cli.inputs.is_empty() {
        return usage_error(
            "restore needs the folders, files or bucket prefix of the .lep archives: photopress restore IN... -o OUT",
        );
    }
    if commands::wants_stream(&cli) {
        return commands::stream(&cli, &cli.options());
    }
    let (options, inputs) = match commands::places(&cli) {
        Ok(found) => found,
        Err(message) => return usage_error(&message),
    };
    if cli.inputs.is_empty() && !std::path::Path::new(photopress::options::DEFAULT_INPUT).exists() {
        // The user typed no input: the default's absence is not their mistake.
        return usage_error(&format!(
            "no {} folder here; give the folders or files to compress: photopress DIR... (see --help)",
            photopress::options::DEFAULT_INPUT
        ));
    }
    if cli.dry_run {
        return commands::dry_run(&cli, &inputs, &options);
    }
    compress(&cli, &inputs, &options, &progress)
}

pub(crate) fn usage_error(message: &str) -> ExitCode {
    eprintln!("photopress: error: {message}");
    ExitCode::from(2)
}

/// The main job: list, compress with the bar (and the JSON-lines sink) watching, print the
/// report, and say in the exit code how it went.
fn compress(
    cli: &cli::Cli,
    inputs: &[Location],
    options: &Options,
    progress: &Progress,
) -> ExitCode {
    let json_lines = JsonLines::default();
    let keys_from = cli.keys_from.as_deref();
    let result = setup::prepare(inputs, keys_from, options).and_then(|prepared| {
        progress.start(&prepared.jobs);
        let observer: &dyn Observer = if cli.json_lines {
            &(progress, &json_lines)
        } else {
            progress
        };
        batch::run_with(
            &prepared.jobs,
            &prepared.names,
            options,
            &prepared.storage,
            observer,
            &signals::cancel(),
        )
    });
    progress.finish();
    let result = match result {
        Ok(result) => result,
        Err(err) => return usage_error(&err.to_string()),
    };
    print_report(cli, &json_lines, &result);
    exit_code(cli, options, &result)
}

/// The report on stdout: text, `--json` or the rest of `--json-lines`.
pub(crate) fn print_report(cli: &cli::Cli, json_lines: &JsonLines, result: &BatchResult) {
    let text = if cli.json_lines {
        json_lines.rest(result)
    } else if cli.json {
        report::json(result) + "\n"
    } else {
        report::text(result)
    };
    // A closed stdout (`| head`) must not turn a finished batch into a panic.
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

/// 130 interrupted, 1 some image failed, 3 nothing to do, else 0.
fn exit_code(cli: &cli::Cli, options: &Options, result: &BatchResult) -> ExitCode {
    if signals::stop_requested() {
        eprintln!(
            "photopress: interrupted; images in progress were finished, {} not started (run again with --skip-existing to finish)",
            result.totals.not_started
        );
        ExitCode::from(130)
    } else if result.totals.failed > 0 {
        ExitCode::from(1)
    } else if result.totals.files == 0 && options.shard.count == 1 && cli.keys_from.is_none() {
        // Nothing to do (as oxipng's 3): a script can tell an empty folder from a success.
        // Not for an array task: a shard (or a key list) with nothing in it is done.
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    }
}
