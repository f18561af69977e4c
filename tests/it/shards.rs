//! Array jobs on local folders: deterministic shards, the plan step and key lists, manifests,
//! resume, and the whole job's report. (The same over object storage and a real Slurm:
//! the `buckets` module and .ci/slurm-e2e.sh.)

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use crate::common::*;

/// A tree of 10 photos: the four demo photos at the top, and copies in sub-folders.
fn photo_tree(dir: &Path) -> PathBuf {
    let images = copy_photos(dir);
    for (sub, names) in [
        ("a", &["leaf.jpg", "fig.jpg"][..]),
        ("a/b", &["dogs.jpg", "mountains.jpg"][..]),
        ("c", &["leaf.jpg", "fig.jpg"][..]),
    ] {
        fs::create_dir_all(images.join(sub)).expect("mkdir");
        for name in names {
            fs::copy(photo(name), images.join(sub).join(name)).expect("copy");
        }
    }
    images
}

fn statuses(report: &serde_json::Value) -> BTreeMap<String, String> {
    report["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| {
            (
                f["input"].as_str().unwrap_or_default().to_string(),
                f["status"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[test]
fn shards_do_every_image_exactly_once_and_the_report_sums_up_the_job() {
    let tmp = tempdir();
    photo_tree(tmp.path());
    let whole = run(tmp.path(), &["IMAGES", "-r", "-o", "whole", "--json"]);
    assert_eq!(whole.code, 0, "{}", whole.stderr);
    let whole = json(&whole);
    let mut done: BTreeMap<String, usize> = BTreeMap::new();
    for k in 0..3 {
        let index = k.to_string();
        let args = [
            "IMAGES",
            "-r",
            "-o",
            "out",
            "--shard-count",
            "3",
            "--shard-index",
            &index,
            "--json",
        ];
        let shard = run(tmp.path(), &args);
        assert_eq!(shard.code, 0, "{}", shard.stderr);
        for (input, status) in statuses(&json(&shard)) {
            assert_eq!(status, "compressed", "{input}");
            *done.entry(input).or_default() += 1;
        }
    }
    // Exactly once each, and the same files as one run over everything.
    assert_eq!(done.len(), 10, "{done:?}");
    assert!(done.values().all(|&n| n == 1), "{done:?}");
    assert_eq!(
        files_below(&tmp.path().join("out")),
        files_below(&tmp.path().join("whole"))
    );
    let report = run(tmp.path(), &["report", "out/_photopress/n3", "--json"]);
    assert_eq!(report.code, 0, "{}{}", report.stdout, report.stderr);
    let report = json(&report);
    for field in [
        "input_bytes",
        "output_bytes",
        "compressed",
        "failed",
        "files",
    ] {
        assert_eq!(
            report["totals"][field], whole["totals"][field],
            "{field}: {report}"
        );
    }
    // The text report starts with the seed's four lines, the job's figures.
    let text = run(tmp.path(), &["report", "out/_photopress/n3"]);
    let (input, output, rate, _) = parse_report(&text.stdout);
    assert_eq!(Some(input), whole["totals"]["input_bytes"].as_u64());
    assert_eq!(Some(output), whole["totals"]["output_bytes"].as_u64());
    assert!((rate - output as f64 / input as f64).abs() < 0.006);
    assert!(
        text.stdout
            .lines()
            .nth(3)
            .is_some_and(|l| l.starts_with("Processing duration (ms) "))
    );
}

#[test]
fn a_plan_writes_one_key_list_per_shard_and_tasks_read_their_own() {
    let tmp = tempdir();
    photo_tree(tmp.path());
    let plan = run(
        tmp.path(),
        &[
            "plan",
            "IMAGES",
            "-r",
            "--shard-count",
            "4",
            "--to",
            "plan",
            "--json",
        ],
    );
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    assert_eq!(json(&plan)["keys"], 10);
    let mut keys = Vec::new();
    for k in 0..4 {
        let list =
            fs::read_to_string(tmp.path().join(format!("plan/shard-{k}.keys"))).expect("list");
        keys.extend(
            list.lines()
                .map(|l| l.split('\t').next().unwrap_or_default().to_string()),
        );
    }
    keys.sort();
    assert_eq!(keys.len(), 10);
    assert!(keys.contains(&"a/b/dogs.jpg".to_string()), "{keys:?}");
    for k in 0..4 {
        let list = format!("plan/shard-{k}.keys");
        let args = [
            "IMAGES",
            "-o",
            "out",
            "--shard-count",
            "4",
            "--shard-index",
            &k.to_string(),
            "--keys-from",
            &list,
        ];
        let task = run(tmp.path(), &args);
        assert_eq!(task.code, 0, "{}", task.stderr);
    }
    let whole = run(tmp.path(), &["IMAGES", "-r", "-o", "whole"]);
    assert_eq!(whole.code, 0);
    assert_eq!(
        files_below(&tmp.path().join("out")),
        files_below(&tmp.path().join("whole"))
    );
    let report = run(
        tmp.path(),
        &["report", "out/_photopress/n4", "--plan", "plan"],
    );
    assert_eq!(report.code, 0, "{}{}", report.stdout, report.stderr);
    // A shard whose manifest is gone: its keys are missing, and the report says so.
    let gone = fs::read_to_string(tmp.path().join("plan/shard-1.keys")).expect("list");
    fs::remove_dir_all(tmp.path().join("out/_photopress/n4/shard-1")).expect("rm");
    let report = run(
        tmp.path(),
        &["report", "out/_photopress/n4", "--plan", "plan", "--json"],
    );
    assert_eq!(report.code, 1, "{}", report.stdout);
    let missing = json(&report)["missing"].as_array().expect("missing").len();
    assert_eq!(missing, gone.lines().count());
}

#[test]
fn a_rerun_skips_what_its_manifest_records_and_redoes_what_changed() {
    let tmp = tempdir();
    let images = photo_tree(tmp.path());
    let args = [
        "IMAGES",
        "-r",
        "-o",
        "out",
        "--shard-count",
        "1",
        "--shard-index",
        "0",
        "--json",
    ];
    let first = run(tmp.path(), &args);
    assert_eq!(first.code, 0, "{}", first.stderr);
    // One input changes (another photo's bytes), one output is deleted: only the first is
    // redone from the manifest's point of view (the manifest says the other is done).
    fs::copy(photo("fig.jpg"), images.join("c/leaf.jpg")).expect("replace");
    let second = run(tmp.path(), &args);
    assert_eq!(second.code, 0, "{}", second.stderr);
    let second_statuses = statuses(&json(&second));
    let compressed: Vec<&String> = second_statuses
        .iter()
        .filter(|(_, s)| *s == "compressed")
        .map(|(k, _)| k)
        .collect();
    assert_eq!(compressed, ["IMAGES/c/leaf.jpg"], "{second_statuses:?}");
    assert_eq!(
        second_statuses.values().filter(|s| *s == "skipped").count(),
        9
    );
    assert!(
        second.stderr.contains("Resuming: 9 of 10"),
        "{}",
        second.stderr
    );
    // Other settings: everything is done again.
    let mut other = args.to_vec();
    other.extend(["-q", "40"]);
    let third = run(tmp.path(), &other);
    assert_eq!(third.code, 0, "{}", third.stderr);
    assert!(statuses(&json(&third)).values().all(|s| s == "compressed"));
    // The report takes each key's latest record: one setting for all.
    let report = run(tmp.path(), &["report", "out/_photopress/n1", "--json"]);
    assert_eq!(report.code, 0, "{}", report.stdout);
    assert_eq!(json(&report)["totals"]["files"], 10);
}

#[test]
fn the_shard_index_comes_from_the_array_engines_variables() {
    let tmp = tempdir();
    photo_tree(tmp.path());
    let with_env = |vars: &[(&str, &str)]| {
        let mut cmd = command(tmp.path());
        for v in [
            "SLURM_ARRAY_TASK_ID",
            "JOB_COMPLETION_INDEX",
            "AWS_BATCH_JOB_ARRAY_INDEX",
        ] {
            cmd.env_remove(v);
        }
        cmd.envs(vars.iter().copied()).args([
            "IMAGES",
            "-r",
            "-o",
            "out",
            "--shard-count",
            "3",
            "--json",
        ]);
        let out = cmd.output().expect("run");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, _, stderr) = with_env(&[]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("SLURM_ARRAY_TASK_ID") && stderr.contains("--shard-index"),
        "{stderr}"
    );
    let (code, _, stderr) = with_env(&[("JOB_COMPLETION_INDEX", "3")]);
    assert_eq!(code, Some(2), "{stderr}");
    let (code, _, stderr) = with_env(&[("AWS_BATCH_JOB_ARRAY_INDEX", "x")]);
    assert_eq!(code, Some(2), "{stderr}");
    // Slurm's variable wins over the others, and picks the same images as --shard-index.
    let (code, stdout, stderr) =
        with_env(&[("SLURM_ARRAY_TASK_ID", "1"), ("JOB_COMPLETION_INDEX", "2")]);
    assert_eq!(code, Some(0), "{stderr}");
    let by_env: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    let by_arg = run(
        tmp.path(),
        &[
            "IMAGES",
            "-r",
            "-o",
            "out2",
            "--shard-count",
            "3",
            "--shard-index",
            "1",
            "--json",
        ],
    );
    assert_eq!(
        statuses(&by_env).keys().collect::<Vec<_>>(),
        statuses(&json(&by_arg)).keys().collect::<Vec<_>>()
    );
}

#[test]
fn hostile_key_lists_fail_line_by_line_and_write_nothing_outside() {
    let tmp = tempdir();
    photo_tree(tmp.path());
    fs::write(
        tmp.path().join("keys"),
        "../IMAGES/leaf.jpg\n/etc/passwd\na//b.jpg\nc/./leaf.jpg\na/fig.jpg\nleaf.jpg\nmissing.jpg\n",
    )
    .expect("write");
    let before = files_below(&tmp.path().join("IMAGES"));
    let task = run(
        tmp.path(),
        &["IMAGES", "-o", "out", "--keys-from", "keys", "--json"],
    );
    assert_eq!(task.code, 1, "{}", task.stderr);
    let report = json(&task);
    assert_eq!(report["totals"]["compressed"], 2, "{report}");
    assert_eq!(report["totals"]["failed"], 5, "{report}");
    assert_eq!(
        files_below(&tmp.path().join("out"))
            .keys()
            .collect::<Vec<_>>(),
        ["a/compressed_fig.jpg", "compressed_leaf.jpg"]
    );
    for line in [
        "../IMAGES/leaf.jpg",
        "/etc/passwd",
        "a//b.jpg",
        "c/./leaf.jpg",
    ] {
        assert!(task.stderr.contains(line), "{line}: {}", task.stderr);
    }
    assert_eq!(files_below(&tmp.path().join("IMAGES")), before);
    let entries: Vec<String> = fs::read_dir(tmp.path())
        .expect("list")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !entries.iter().any(|e| e.contains("compressed")),
        "{entries:?}"
    );
}

#[test]
fn a_shard_with_no_keys_says_so_and_the_job_report_calls_the_job_complete() {
    let tmp = tempdir();
    copy_photos(tmp.path());
    // Four photos over twelve shards: most shards have none.
    for k in 0..12 {
        let index = k.to_string();
        let args = [
            "IMAGES",
            "-o",
            "out",
            "--shard-count",
            "12",
            "--shard-index",
            &index,
        ];
        let shard = run(tmp.path(), &args);
        assert_eq!(shard.code, 0, "shard {k}: {}", shard.stderr);
    }
    let report = run(tmp.path(), &["report", "out/_photopress/n12", "--json"]);
    assert_eq!(report.code, 0, "{}{}", report.stdout, report.stderr);
    let report = json(&report);
    assert_eq!(report["totals"]["files"], 4, "{report}");
    assert_eq!(
        report["shards_without_records"],
        serde_json::json!([]),
        "{report}"
    );
    // A shard that never ran is still missing.
    fs::remove_dir_all(tmp.path().join("out/_photopress/n12/shard-11")).expect("rm");
    let report = run(tmp.path(), &["report", "out/_photopress/n12", "--json"]);
    assert_ne!(report.code, 0, "{}", report.stdout);
    assert_eq!(
        json(&report)["shards_without_records"],
        serde_json::json!([11])
    );
}

#[test]
fn a_report_over_a_place_with_no_manifests_says_so() {
    let tmp = tempdir();
    fs::create_dir(tmp.path().join("empty")).expect("mkdir");
    for place in ["empty", "missing"] {
        let report = run(tmp.path(), &["report", place]);
        assert_eq!(report.code, 2, "{place}: {}", report.stdout);
        assert!(
            report.stdout.is_empty(),
            "{place}: no report: {}",
            report.stdout
        );
        assert!(
            report
                .stderr
                .contains(&format!("no manifests under {place}")),
            "{place}: {}",
            report.stderr
        );
    }
}

#[test]
fn an_output_missing_or_changed_since_its_record_is_redone() {
    let tmp = tempdir();
    copy_photos(tmp.path());
    let args = [
        "IMAGES",
        "-o",
        "out",
        "--shard-count",
        "1",
        "--shard-index",
        "0",
        "--json",
    ];
    let first = run(tmp.path(), &args);
    assert_eq!(first.code, 0, "{}", first.stderr);
    // One output deleted, one cut short; the other two untouched.
    fs::remove_file(tmp.path().join("out/compressed_leaf.jpg")).expect("rm");
    let dogs = tmp.path().join("out/compressed_dogs.jpg");
    let bytes = fs::read(&dogs).expect("read");
    fs::write(&dogs, &bytes[..bytes.len() / 2]).expect("cut");
    let again = run(tmp.path(), &args);
    assert_eq!(again.code, 0, "{}", again.stderr);
    let statuses = statuses(&json(&again));
    assert_eq!(
        statuses,
        [
            ("IMAGES/dogs.jpg".to_string(), "compressed".to_string()),
            ("IMAGES/fig.jpg".to_string(), "skipped".to_string()),
            ("IMAGES/leaf.jpg".to_string(), "compressed".to_string()),
            ("IMAGES/mountains.jpg".to_string(), "skipped".to_string()),
        ]
        .into()
    );
    assert!(
        again
            .stderr
            .contains("2 outputs recorded as done are missing or of another size"),
        "{}",
        again.stderr
    );
    assert_eq!(fs::read(&dogs).expect("read"), bytes, "redone whole");
    decode(&tmp.path().join("out/compressed_leaf.jpg"));
}

#[test]
fn report_verify_lists_outputs_missing_or_not_as_recorded() {
    let tmp = tempdir();
    photo_tree(tmp.path());
    for k in ["0", "1"] {
        let shard = run(
            tmp.path(),
            &[
                "IMAGES",
                "-r",
                "-o",
                "out",
                "--shard-count",
                "2",
                "--shard-index",
                k,
            ],
        );
        assert_eq!(shard.code, 0, "{}", shard.stderr);
    }
    // Untouched: complete, with or without --verify.
    let clean = run(tmp.path(), &["report", "out/_photopress/n2", "--verify"]);
    assert_eq!(clean.code, 0, "{}{}", clean.stdout, clean.stderr);
    assert!(
        clean
            .stdout
            .contains("Outputs checked: 10, missing or not as recorded: 0"),
        "{}",
        clean.stdout
    );
    // One output deleted, one cut short, one replaced by a folder.
    fs::remove_file(tmp.path().join("out/a/compressed_leaf.jpg")).unwrap();
    let dogs = tmp.path().join("out/a/b/compressed_dogs.jpg");
    let bytes = fs::read(&dogs).unwrap();
    fs::write(&dogs, &bytes[..100]).unwrap();
    fs::remove_file(tmp.path().join("out/c/compressed_fig.jpg")).unwrap();
    fs::create_dir(tmp.path().join("out/c/compressed_fig.jpg")).unwrap();

    // Without --verify the manifests alone say complete.
    let plain = run(tmp.path(), &["report", "out/_photopress/n2"]);
    assert_eq!(plain.code, 0, "{}", plain.stdout);
    let text = run(tmp.path(), &["report", "out/_photopress/n2", "--verify"]);
    assert_eq!(text.code, 1, "{}", text.stdout);
    assert!(
        text.stdout
            .contains("Outputs missing or not as recorded (3):"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout
            .contains("a/leaf.jpg: out/a/compressed_leaf.jpg (missing)"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains(&format!(
            "a/b/dogs.jpg: out/a/b/compressed_dogs.jpg (100 bytes, the record says {})",
            bytes.len()
        )),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout
            .contains("c/fig.jpg: out/c/compressed_fig.jpg (not a regular file)"),
        "{}",
        text.stdout
    );

    let report = run(
        tmp.path(),
        &["report", "out/_photopress/n2", "--verify", "--json"],
    );
    assert_eq!(report.code, 1);
    let wrong = json(&report)["wrong_outputs"].as_array().unwrap().clone();
    let keys: Vec<&str> = wrong.iter().map(|w| w["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["a/b/dogs.jpg", "a/leaf.jpg", "c/fig.jpg"]);
    assert_eq!(wrong[0]["found_bytes"], 100);
    assert_eq!(wrong[0]["recorded_bytes"], bytes.len());
    assert!(wrong[1]["found_bytes"].is_null());
    // Without --verify the JSON has no such field.
    let unchecked = run(tmp.path(), &["report", "out/_photopress/n2", "--json"]);
    assert!(json(&unchecked).get("wrong_outputs").is_none());
}
