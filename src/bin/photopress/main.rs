//! The photopress command: parse the arguments, then scan → batch → report (or one of the
//! array-job sub-commands, `plan` and `report`).
mod cli;
mod commands;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use photopress::progress::Progress;
use photopress::{batch, batch::setup, logging, report};

fn main() -> ExitCode {
    ignore_file_size_signal();
    photopress::memory::keep_freed_memory();
    photopress::interrupt::install_handler();
    let cli = cli::Cli::parse();
    let mut progress = Progress::new(cli.progress_mode());
    if cli.json_lines {
        progress = progress.with_json_lines();
    }
    logging::init(cli.log_level(), progress.bar());
    match &cli.command {
        Some(cli::Command::Plan(args)) => return commands::plan(args, cli.options()),
        Some(cli::Command::Report(args)) => return commands::report(args),
        Some(cli::Command::Completions { shell }) => return commands::completions(*shell),
        Some(cli::Command::Man) => return commands::man(),
        None => {}
    }
    if commands::wants_stream(&cli) {
        return commands::stream(&cli, &cli.options());
    }
    let (options, inputs) = match commands::places(&cli) {
        Ok(found) => found,
        Err(message) => {
            eprintln!("photopress: error: {message}");
            return ExitCode::from(2);
        }
    };
    if cli.inputs.is_empty() && !std::path::Path::new(photopress::options::DEFAULT_INPUT).exists() {
        // The user typed no input: the default's absence is not their mistake.
        eprintln!(
            "photopress: error: no {} folder here; give the folders or files to compress: photopress DIR... (see --help)",
            photopress::options::DEFAULT_INPUT
        );
        return ExitCode::from(2);
    }
    if cli.dry_run {
        return commands::dry_run(&cli, &inputs, &options);
    }
    let keys_from = cli.keys_from.as_deref();
    let result = setup::prepare(&inputs, keys_from, &options).and_then(|prepared| {
        progress.start(&prepared.jobs);
        let jobs = &prepared.jobs;
        batch::run_with(
            jobs,
            &prepared.names,
            &options,
            &progress,
            &prepared.storage,
        )
    });
    progress.finish();
    let result = match result {
        Ok(result) => result,
        Err(err) => {
            eprintln!("photopress: error: {err}");
            return ExitCode::from(2);
        }
    };
    let text = if cli.json_lines {
        progress.json_lines_rest(&result)
    } else if cli.json {
        report::json(&result) + "\n"
    } else {
        report::text(&result)
    };
    // A closed stdout (`| head`) must not turn a finished batch into a panic.
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    if photopress::interrupt::stop_requested() {
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

/// Past a file-size limit (`ulimit -f`) the kernel sends SIGXFSZ, which would kill the whole
/// batch mid-write; ignored, the write fails with EFBIG and only that image fails.
fn ignore_file_size_signal() {
    #[cfg(unix)]
    // SAFETY: setting a signal's disposition to SIG_IGN installs no handler code.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
}
