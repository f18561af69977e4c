//! The command line's places and sub-commands: the parsed arguments turned into library calls,
//! and their results into output and exit codes.
use std::io::Write;
use std::process::ExitCode;

use clap::CommandFactory;
use photopress::Options;
use photopress::shard::Shard;
use photopress::storage::location::Location;
use photopress::{
    batch::dryrun, batch::setup, fleet::journal, fleet::plan, photo::stream, report, report::job,
    storage,
};

use super::cli::{Cli, PlanArgs, ReportArgs};

/// The run's options with its output place and shard, and its input places.
pub fn places(cli: &Cli) -> Result<(Options, Vec<Location>), String> {
    let mut options = cli.options();
    let inputs = cli
        .inputs()
        .iter()
        .map(|i| Location::parse(i).map_err(|e| e.to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    options.set_output(Location::parse(&cli.output).map_err(|e| e.to_string())?);
    if let Some(count) = cli.shard_count {
        options.shard = Shard::from_args(cli.shard_index, count, |name| std::env::var(name).ok())
            .map_err(|e| e.to_string())?;
        options.manifest = true;
    }
    Ok((options, inputs))
}

/// `--dry-run`: the jobs listed as a run would find them, nothing written; exit 3 when there
/// are none (as a run would), 2 on a usage error.
pub fn dry_run(cli: &Cli, inputs: &[Location], options: &Options) -> ExitCode {
    let prepared = match setup::prepare(inputs, cli.keys_from.as_deref(), options) {
        Ok(prepared) => prepared,
        Err(err) => return usage(&err.to_string()),
    };
    let (planned, totals) = dryrun::plan(&prepared.jobs, options);
    let text = if cli.json {
        dryrun::json(&planned, &totals) + "\n"
    } else {
        dryrun::text(&planned, &totals)
    };
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    if planned.is_empty() && options.shard.count == 1 && cli.keys_from.is_none() {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    }
}

/// True when the inputs ask for a stream: `-` among them.
pub fn wants_stream(cli: &Cli) -> bool {
    cli.inputs.iter().any(|i| i == "-")
}

/// `photopress -`: one JPEG from stdin to stdout. The per-file line (or JSON line) goes to
/// stderr with the log; exit 0, 1 when the image failed (nothing written), 2 on a usage error.
pub fn stream(cli: &Cli, options: &Options) -> ExitCode {
    use std::io::IsTerminal;
    if cli.inputs.len() > 1 {
        return usage("'-' reads one image from stdin and writes it to stdout: give it alone");
    }
    let not_for_streams = [
        (cli.output != photopress::options::DEFAULT_OUTPUT, "-o"),
        (cli.shard_count.is_some(), "--shard-count"),
        (cli.keys_from.is_some(), "--keys-from"),
        (cli.dry_run, "--dry-run"),
        (cli.skip_existing, "--skip-existing"),
        (cli.recursive, "-r"),
    ];
    if let Some((_, flag)) = not_for_streams.iter().find(|(given, _)| *given) {
        return usage(&format!(
            "{flag} does not apply to '-' (stdin to stdout: the output is stdout)"
        ));
    }
    let stdout = std::io::stdout();
    if stdout.is_terminal() {
        return usage(
            "refusing to write JPEG data to a terminal: redirect stdout (photopress - < in.jpg > out.jpg)",
        );
    }
    let outcome = stream::compress_stream(std::io::stdin().lock(), &mut stdout.lock(), options);
    if cli.json || cli.json_lines {
        eprintln!("{}", report::json_line(&outcome));
    }
    match &outcome.status {
        photopress::Status::Failed(err) => {
            tracing::error!(target: "CompressOneImage", "Failed to {} image {}: {err}", options.operation.as_str(), stream::STDIN_NAME);
            ExitCode::from(1)
        }
        status => {
            tracing::info!(
                target: "CompressOneImage",
                "{} -> {}: {} ({})",
                stream::STDIN_NAME,
                stream::STDOUT_NAME,
                photopress::human::sizes(outcome.input_bytes, outcome.output_bytes),
                status.as_str()
            );
            ExitCode::SUCCESS
        }
    }
}

/// `photopress completions SHELL`: the completion script, from the clap definition.
pub fn completions(shell: clap_complete::Shell) -> ExitCode {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "photopress", &mut script);
    let _ = std::io::stdout().lock().write_all(&script);
    ExitCode::SUCCESS
}

/// `photopress man`: the man page (roff), from the clap definition.
pub fn man() -> ExitCode {
    let mut page = Vec::new();
    if let Err(err) = clap_mangen::Man::new(Cli::command())
        .title("PHOTOPRESS")
        .render(&mut page)
    {
        eprintln!("photopress: error: cannot render the man page: {err}");
        return ExitCode::from(1);
    }
    let _ = std::io::stdout().lock().write_all(&page);
    ExitCode::SUCCESS
}

/// `photopress plan`.
pub fn plan(args: &PlanArgs, mut options: Options) -> ExitCode {
    options.recursive = args.recursive;
    if args.archives {
        options.operation = photopress::options::Operation::Restore;
    }
    let places = Location::parse(&args.input).and_then(|i| Ok((i, Location::parse(&args.to)?)));
    let (input, to) = match places {
        Ok(places) => places,
        Err(err) => return usage(&err.to_string()),
    };
    match plan::plan(&input, args.shard_count, &to, &options) {
        Ok(done) => {
            let text = if args.json {
                serde_json::to_string_pretty(&done).unwrap_or_default() + "\n"
            } else {
                plan_text(&done, &to)
            };
            let _ = std::io::stdout().lock().write_all(text.as_bytes());
            // A plan was written: the array it feeds goes ahead (`afterok`); the keys left out
            // are in its output and plan.json.
            ExitCode::SUCCESS
        }
        Err(err) => usage(&err.to_string()),
    }
}

/// The plan's summary in a few lines: keys, shards, the smallest, median and largest list,
/// where the lists went, and the first keys left out (`--json` has every count and key).
fn plan_text(done: &plan::PlanSummary, to: &Location) -> String {
    let mut text = format!(
        "Planned {} keys of {} into {} shards\n",
        done.keys, done.input, done.shard_count
    );
    let mut sizes: Vec<(usize, usize)> = done
        .per_shard
        .iter()
        .enumerate()
        .map(|(shard, &keys)| (keys, shard))
        .collect();
    sizes.sort_unstable();
    if let (Some((least, least_at)), Some((most, most_at))) = (sizes.first(), sizes.last()) {
        // The lower middle for an even count.
        let median = sizes.get((sizes.len() - 1) / 2).map_or(0, |m| m.0);
        text.push_str(&format!(
            "Keys a shard: smallest {least} (shard {least_at}), median {median}, largest {most} (shard {most_at})\n"
        ));
    }
    let place = |name: &str| {
        to.join(name)
            .map_or_else(|_| format!("{to}/{name}"), |p| p.to_string())
    };
    let first = place(&plan::keys_name(0));
    let lists = match done.shard_count {
        1 => first,
        n => format!("{first} ... {}", place(&plan::keys_name(n - 1))),
    };
    text.push_str(&format!("Wrote {lists} and {}\n", place("plan.json")));
    const SHOWN: usize = 50;
    if !done.invalid.is_empty() {
        text.push_str(&format!("Left out {} keys:\n", done.invalid.len()));
    }
    for (key, why) in done.invalid.iter().take(SHOWN) {
        text.push_str(&format!("  {key:?}: {why}\n"));
    }
    if done.invalid.len() > SHOWN {
        text.push_str(&format!(
            "  ... and {} more (--json lists all)\n",
            done.invalid.len() - SHOWN
        ));
    }
    text
}

/// `photopress report`: exit 0 when every key of the job is done once with one setting, 1
/// when a key failed, is missing or was done twice, 2 when the manifests cannot be read.
pub fn report(args: &ReportArgs) -> ExitCode {
    let root = match Location::parse(&args.manifests) {
        Ok(root) => root,
        Err(err) => return usage(&err.to_string()),
    };
    let bucket;
    let reader = match &root {
        Location::Local(path) => journal::Root::Local(path),
        Location::Object(url) => match storage::Bucket::connect(url) {
            Ok(b) => {
                bucket = b;
                journal::Root::Object(&bucket)
            }
            Err(err) => return usage(&err.to_string()),
        },
    };
    // Every part, one at a time, into the merge (bounded memory: see report::job).
    let mut merge = job::JobMerge::new();
    if args.verify {
        merge = merge.verifying();
    }
    let mut parts = 0usize;
    let read = reader.each_part("", &mut |name, bytes| {
        parts += 1;
        // The shard a part is from, by its folder (`…/shard-3/part-….ndjson`).
        let shard = name
            .rsplit('/')
            .nth(1)
            .and_then(|d| d.strip_prefix("shard-"));
        if let Some(shard) = shard.and_then(|k| k.parse().ok()) {
            merge.saw_shard(shard);
        }
        let (records, warnings) = photopress::fleet::manifest::parse_part(name, &bytes);
        for w in &warnings {
            tracing::warn!(target: "ProcessImages", "{w}");
        }
        for record in &records {
            merge.add(record).map_err(|e| merge_error(&e))?;
        }
        Ok(())
    });
    if let Err(err) = read {
        return usage(&format!("cannot read the manifests: {err}"));
    }
    if parts == 0 {
        // An empty report would read as a job that did nothing; say what is missing instead.
        return usage(&format!(
            "no manifests under {root}: a sharded job writes them in \
             OUT/_photopress/n<N>/shard-<K>/part-*.ndjson; give that job's OUT/_photopress/n<N> folder"
        ));
    }
    // The shard count: the folder's name (`n4`), else the records'.
    let count = root
        .to_string()
        .rsplit('/')
        .next()
        .and_then(|n| n.strip_prefix('n'))
        .and_then(|n| n.parse().ok())
        .or_else(|| merge.max_shards())
        .unwrap_or(1);
    if let Some(place) = &args.plan {
        let place = match Location::parse(place) {
            Ok(p) => p,
            Err(err) => return usage(&err.to_string()),
        };
        let read = plan::each_key(&place, count, &mut |key| {
            merge.add_plan_key(key).map_err(|e| merge_error(&e))
        });
        if let Err(err) = read {
            return usage(&format!("cannot read the plan: {err}"));
        }
        // The keys the plan could not use are the job's failures.
        match plan::left_out(&place) {
            Ok(left_out) => {
                for (key, why) in left_out {
                    merge.add_left_out(key, why);
                }
            }
            Err(err) => return usage(&format!("cannot read the plan: {err}")),
        }
    }
    let mut job = match merge.finish(count, args.plan.is_some()) {
        Ok(job) => job,
        Err(err) => return usage(&merge_error(&err)),
    };
    if let Err(err) = job::verify_outputs(&mut job) {
        return usage(&merge_error(&err));
    }
    let mut stdout = std::io::stdout().lock();
    let written = if args.json {
        job::write_json(&job, &mut stdout).and_then(|()| stdout.write_all(b"\n"))
    } else {
        stdout.write_all(job::text(&job).as_bytes())
    };
    // As before: a closed stdout is not the job's failure.
    drop(written);
    if job::complete(&job) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// The merge's own trouble: a temporary file it could not write or read back.
fn merge_error(err: &std::io::Error) -> String {
    format!("cannot merge the manifests (a temporary file, in $TMPDIR): {err}")
}

fn usage(message: &str) -> ExitCode {
    eprintln!("photopress: error: {message}");
    ExitCode::from(2)
}
