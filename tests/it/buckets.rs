//! Object storage through the real binary: a moto S3 server on a free loopback port (see
//! tests/moto), buckets filled by the test, and photopress run with the standard `AWS_*`
//! variables pointing at it. Outputs are compared byte for byte with a local run of the same
//! photos and options, and decoded with an independent decoder (`common`).

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::time::SystemTime;

use crate::common::*;
use crate::moto::Moto;
use photopress::storage::{Bucket, Bytes};

/// A moto server, and photopress runs that reach it.
struct S3 {
    moto: Moto,
}

impl S3 {
    fn start() -> S3 {
        S3 {
            moto: Moto::start(),
        }
    }

    /// Runs photopress in `cwd` with the `AWS_*` variables set for this server (and nothing
    /// from the environment that could send it elsewhere or pick a shard).
    fn photopress(&self, cwd: &Path, args: &[&str]) -> Run {
        let output = self
            .command(cwd)
            .args(args)
            .output()
            .expect("run photopress");
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// The command [`Self::photopress`] runs, to spawn.
    fn command(&self, cwd: &Path) -> std::process::Command {
        let mut cmd = command(cwd);
        for var in [
            "AWS_PROFILE",
            "AWS_SESSION_TOKEN",
            "AWS_DEFAULT_REGION",
            "AWS_VIRTUAL_HOSTED_STYLE_REQUEST",
            "AWS_CONFIG_FILE",
            "AWS_SHARED_CREDENTIALS_FILE",
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            "AWS_WEB_IDENTITY_TOKEN_FILE",
            "SLURM_ARRAY_TASK_ID",
            "JOB_COMPLETION_INDEX",
            "AWS_BATCH_JOB_ARRAY_INDEX",
            "NO_COLOR",
        ] {
            cmd.env_remove(var);
        }
        cmd.env("AWS_ENDPOINT_URL", self.moto.endpoint())
            .env("AWS_ALLOW_HTTP", "true")
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", "us-east-1");
        cmd
    }

    fn bucket(&self, url: &str) -> Bucket {
        self.moto.bucket(url)
    }

    fn create_buckets(&self, names: &[&str]) {
        for name in names {
            self.moto.create_bucket(name);
        }
    }

    /// Writes `objects` (key relative to `url` → bytes) below `url`.
    fn upload(&self, url: &str, objects: &[(&str, Vec<u8>)]) {
        let bucket = self.bucket(url);
        for (key, bytes) in objects {
            bucket
                .put(key, Bytes::from(bytes.clone()))
                .unwrap_or_else(|e| panic!("put {url}/{key}: {e}"));
        }
    }

    /// Every object below `url` (relative key → bytes), the manifest (`_photopress/`) left out.
    fn objects(&self, url: &str) -> BTreeMap<String, Vec<u8>> {
        let bucket = self.bucket(url);
        self.listing(url)
            .into_keys()
            .map(|key| {
                let bytes = bucket
                    .get(&key, u64::MAX)
                    .unwrap_or_else(|e| panic!("get {url}/{key}: {e}"))
                    .bytes
                    .to_vec();
                (key, bytes)
            })
            .collect()
    }

    /// Every object below `url` (relative key → ETag and time), `_photopress/` left out.
    fn listing(&self, url: &str) -> BTreeMap<String, (Option<String>, SystemTime)> {
        let listing = self
            .bucket(url)
            .list("", true)
            .unwrap_or_else(|e| panic!("list {url}: {e}"));
        assert!(listing.invalid.is_empty(), "{:?}", listing.invalid);
        listing
            .objects
            .into_iter()
            .filter(|o| !o.key_rel.starts_with("_photopress/"))
            .map(|o| (o.key_rel, (o.etag, o.last_modified)))
            .collect()
    }
}

fn photo_bytes(name: &str) -> Vec<u8> {
    fs::read(photo(name)).expect("read photo")
}

/// The test tree: keys (relative, `/`-separated) and the demo photo each holds.
const TREE: [(&str, &str); 4] = [
    ("leaf.jpg", "leaf.jpg"),
    ("fig.jpg", "fig.jpg"),
    ("a/dogs.jpg", "dogs.jpg"),
    ("a/b/mountains.jpg", "mountains.jpg"),
];

fn tree_objects() -> Vec<(&'static str, Vec<u8>)> {
    TREE.iter()
        .map(|(key, name)| (*key, photo_bytes(name)))
        .collect()
}

/// Writes the same tree as files below `dir`.
fn local_tree(dir: &Path) {
    for (key, name) in TREE {
        let path = dir.join(key);
        fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        fs::copy(photo(name), path).expect("copy photo");
    }
}

/// input → (status, output, error) of a JSON report.
fn entries(
    report: &serde_json::Value,
) -> BTreeMap<String, (String, Option<String>, Option<String>)> {
    let text = |v: &serde_json::Value| v.as_str().map(str::to_string);
    report["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| {
            (
                text(&f["input"]).expect("input"),
                (
                    text(&f["status"]).expect("status"),
                    text(&f["output"]),
                    text(&f["error"]),
                ),
            )
        })
        .collect()
}

/// The keys' outputs by the prefix rule: `sub/a.jpg` → `sub/compressed_a.jpg`.
fn output_key(key: &str, prefix: &str) -> String {
    match key.rsplit_once('/') {
        Some((dir, name)) => format!("{dir}/{prefix}{name}"),
        None => format!("{prefix}{key}"),
    }
}

/// Decodes every output (written to a file for tests/common's decoder) and checks that it has
/// its input photo's size.
fn assert_decodes(tmp: &Path, outputs: &BTreeMap<String, Vec<u8>>, prefix: &str) {
    let dir = tmp.join("decoded");
    fs::create_dir_all(&dir).expect("mkdir");
    for (key, name) in TREE {
        let out_key = output_key(key, prefix);
        let Some(bytes) = outputs.get(&out_key) else {
            continue;
        };
        let path = dir.join(out_key.replace('/', "_"));
        fs::write(&path, bytes).expect("write");
        let (output, input) = (decode(&path), decode(&photo(name)));
        assert_eq!(
            (output.width(), output.height()),
            (input.width(), input.height()),
            "{out_key}"
        );
        assert!(
            mean_abs_diff(&output, &input) < 12.0,
            "{out_key} does not look like {name}"
        );
    }
}

fn assert_same_totals(a: &serde_json::Value, b: &serde_json::Value) {
    for field in [
        "files",
        "compressed",
        "kept_original",
        "skipped",
        "failed",
        "input_bytes",
        "output_bytes",
        "dct",
        "pixel",
    ] {
        assert_eq!(a["totals"][field], b["totals"][field], "{field}:\n{a}\n{b}");
    }
}

fn args(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// The log lines of a level (`ERROR`, `WARN`, ...).
fn log_lines<'a>(stderr: &'a str, level: &str) -> Vec<&'a str> {
    let tag = format!(" {level} ");
    stderr.lines().filter(|l| l.contains(&tag)).collect()
}

#[test]
fn bucket_to_bucket_mirrors_the_keys_and_matches_a_local_run() {
    let s3 = S3::start();
    s3.create_buckets(&["photos", "small"]);
    s3.upload("s3://photos/in/2024", &tree_objects());
    // Neighbours that are not below the prefix `in/2024/` (a prefix is read like a folder).
    s3.upload(
        "s3://photos/in",
        &[
            ("2024x/leaf.jpg", photo_bytes("leaf.jpg")),
            ("above.jpg", photo_bytes("fig.jpg")),
        ],
    );
    let tmp = tempdir();
    local_tree(&tmp.path().join("IMAGES"));

    let local = run(tmp.path(), &["IMAGES", "-r", "-o", "local", "--json"]);
    assert_eq!(local.code, 0, "{}", local.stderr);
    let remote = s3.photopress(
        tmp.path(),
        &[
            "s3://photos/in/2024",
            "-r",
            "-o",
            "s3://small/out/2024",
            "--json",
        ],
    );
    assert_eq!(remote.code, 0, "{}", remote.stderr);
    let (local, remote_report) = (json(&local), json(&remote));
    assert_same_totals(&local, &remote_report);
    assert_eq!(remote_report["totals"]["compressed"], 4, "{remote_report}");

    // Names mirror the keys under the output prefix, with the prefix rule.
    let expected: BTreeMap<String, (String, Option<String>, Option<String>)> = TREE
        .iter()
        .map(|(key, _)| {
            (
                format!("s3://photos/in/2024/{key}"),
                (
                    "compressed".to_string(),
                    Some(format!(
                        "s3://small/out/2024/{}",
                        output_key(key, "compressed_")
                    )),
                    None,
                ),
            )
        })
        .collect();
    assert_eq!(entries(&remote_report), expected);

    // Byte-identical to the local run, and nothing written elsewhere in the bucket.
    let outputs = s3.objects("s3://small/out/2024");
    assert_eq!(outputs, files_below(&tmp.path().join("local")));
    let everything = s3.listing("s3://small");
    assert!(
        everything.keys().all(|k| k.starts_with("out/2024/")),
        "{everything:?}"
    );
    assert_decodes(tmp.path(), &outputs, "compressed_");
    assert!(
        !remote.stderr.contains("2024x") && !remote.stderr.contains("above.jpg"),
        "{}",
        remote.stderr
    );

    // Without -r: the top level only.
    let top = s3.photopress(
        tmp.path(),
        &["s3://photos/in/2024", "-o", "s3://small/top", "--json"],
    );
    assert_eq!(top.code, 0, "{}", top.stderr);
    let top_report = json(&top);
    assert_eq!(top_report["totals"]["files"], 2, "{top_report}");
    assert_eq!(top_report["totals"]["compressed"], 2, "{top_report}");
    let top_outputs = s3.objects("s3://small/top");
    let local_top: BTreeMap<String, Vec<u8>> = files_below(&tmp.path().join("local"))
        .into_iter()
        .filter(|(k, _)| !k.contains('/'))
        .collect();
    assert_eq!(
        top_outputs.keys().collect::<Vec<_>>(),
        ["compressed_fig.jpg", "compressed_leaf.jpg"]
    );
    assert_eq!(top_outputs, local_top);
}

#[test]
fn local_to_bucket_and_bucket_to_local_give_the_bytes_of_a_local_run() {
    let s3 = S3::start();
    s3.create_buckets(&["photos", "small"]);
    s3.upload("s3://photos/in", &tree_objects());
    let tmp = tempdir();
    local_tree(&tmp.path().join("IMAGES"));
    // Other options than the defaults, the same for all three runs.
    let options = ["-r", "-q", "55", "--prefix", "s_", "--json"];
    let with = |input: &str, output: &str| -> Vec<String> {
        let mut args = vec![input.to_string(), "-o".into(), output.into()];
        args.extend(options.iter().map(|s| s.to_string()));
        args
    };

    let local = run(tmp.path(), &with("IMAGES", "local"));
    assert_eq!(local.code, 0, "{}", local.stderr);
    let local_files = files_below(&tmp.path().join("local"));
    assert_eq!(local_files.len(), 4, "{:?}", local_files.keys());

    let up = s3.photopress(tmp.path(), &args(&with("IMAGES", "s3://small/up")));
    assert_eq!(up.code, 0, "{}", up.stderr);
    assert_same_totals(&json(&local), &json(&up));
    let uploaded = s3.objects("s3://small/up");
    assert_eq!(uploaded, local_files);
    assert!(uploaded.contains_key("a/b/s_mountains.jpg"));

    let down = s3.photopress(tmp.path(), &args(&with("s3://photos/in", "down")));
    assert_eq!(down.code, 0, "{}", down.stderr);
    assert_same_totals(&json(&local), &json(&down));
    assert_eq!(files_below(&tmp.path().join("down")), local_files);
    assert_decodes(tmp.path(), &local_files, "s_");
}

#[test]
fn a_key_that_vanishes_between_plan_and_task_fails_alone() {
    let s3 = S3::start();
    s3.create_buckets(&["photos", "small", "work"]);
    s3.upload("s3://photos/in", &tree_objects());
    let tmp = tempdir();
    let plan = s3.photopress(
        tmp.path(),
        &[
            "plan",
            "s3://photos/in",
            "-r",
            "--shard-count",
            "1",
            "--to",
            "s3://work/plan",
            "--json",
        ],
    );
    assert_eq!(plan.code, 0, "{}{}", plan.stdout, plan.stderr);
    assert_eq!(json(&plan)["keys"], 4, "{}", plan.stdout);

    s3.bucket("s3://photos/in")
        .delete("a/dogs.jpg")
        .expect("delete");
    let task = s3.photopress(
        tmp.path(),
        &[
            "s3://photos/in",
            "-r",
            "-o",
            "s3://small/out",
            "--shard-count",
            "1",
            "--shard-index",
            "0",
            "--keys-from",
            "s3://work/plan/shard-0.keys",
            "--json",
        ],
    );
    assert_eq!(task.code, 1, "{}", task.stderr);
    let report = json(&task);
    assert_eq!(report["totals"]["failed"], 1, "{report}");
    assert_eq!(report["totals"]["compressed"], 3, "{report}");
    let gone = "s3://photos/in/a/dogs.jpg";
    for (input, (status, _, error)) in entries(&report) {
        if input == gone {
            assert_eq!(status, "failed");
            let error = error.expect("an error");
            assert!(error.contains("not found"), "{error}");
        } else {
            assert_eq!(status, "compressed", "{input}");
        }
    }
    let errors = log_lines(&task.stderr, "ERROR");
    assert_eq!(errors.len(), 1, "{}", task.stderr);
    assert!(
        errors[0].contains(gone) && errors[0].contains("not found"),
        "{}",
        errors[0]
    );
    assert_eq!(
        s3.objects("s3://small/out").keys().collect::<Vec<_>>(),
        [
            "a/b/compressed_mountains.jpg",
            "compressed_fig.jpg",
            "compressed_leaf.jpg"
        ]
    );
}

#[test]
fn an_output_bucket_that_does_not_exist_is_one_error_before_any_work() {
    let s3 = S3::start();
    s3.create_buckets(&["photos"]);
    s3.upload("s3://photos/in", &tree_objects());
    let tmp = tempdir();
    for input in ["s3://photos/in", "IMAGES"] {
        copy_photos(tmp.path());
        let out = s3.photopress(
            tmp.path(),
            &[input, "-r", "-o", "s3://no-such-bucket/out", "--json"],
        );
        assert_eq!(out.code, 2, "{input}: {}{}", out.stdout, out.stderr);
        assert!(
            !out.stderr.contains("Start compressing") && !out.stderr.contains("Start processing"),
            "{input}: {}",
            out.stderr
        );
        let errors: Vec<&str> = out
            .stderr
            .lines()
            .filter(|l| l.to_lowercase().contains("error"))
            .collect();
        assert_eq!(errors.len(), 1, "{input}: {}", out.stderr);
        assert!(
            errors[0].contains("s3://no-such-bucket/out")
                && errors[0].contains("bucket no-such-bucket does not exist"),
            "{input}: {}",
            errors[0]
        );
    }
}

#[test]
fn a_shard_run_again_over_a_bucket_resumes_and_redoes_nothing() {
    let s3 = S3::start();
    s3.create_buckets(&["photos", "small"]);
    s3.upload("s3://photos/in", &tree_objects());
    let tmp = tempdir();
    let shard = |k: &str| {
        s3.photopress(
            tmp.path(),
            &[
                "s3://photos/in",
                "-r",
                "-o",
                "s3://small/out",
                "--shard-count",
                "2",
                "--shard-index",
                k,
                "--json",
            ],
        )
    };
    let first = shard("0");
    assert_eq!(first.code, 0, "{}", first.stderr);
    let first_entries = entries(&json(&first));
    assert!(!first_entries.is_empty(), "shard 0 of the tree is empty");
    assert!(
        first_entries.values().all(|(s, _, _)| s == "compressed"),
        "{first_entries:?}"
    );
    let outputs = s3.listing("s3://small/out");
    assert_eq!(outputs.len(), first_entries.len(), "{outputs:?}");
    assert!(!first.stderr.contains("Resuming"), "{}", first.stderr);

    let again = shard("0");
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(again.stderr.contains("Resuming"), "{}", again.stderr);
    assert!(
        !again.stderr.contains("Start compressing"),
        "{}",
        again.stderr
    );
    let report = json(&again);
    let again_entries = entries(&report);
    assert_eq!(
        again_entries.keys().collect::<Vec<_>>(),
        first_entries.keys().collect::<Vec<_>>()
    );
    assert!(
        again_entries.values().all(|(s, _, _)| s == "skipped"),
        "{again_entries:?}"
    );
    assert_eq!(report["totals"]["skipped"], first_entries.len(), "{report}");
    assert_eq!(report["totals"]["compressed"], 0, "{report}");
    // The outputs were not written again: same ETags and times.
    assert_eq!(s3.listing("s3://small/out"), outputs);

    // The other shard does the rest; the job's report sums up all four.
    let other = shard("1");
    assert_eq!(other.code, 0, "{}", other.stderr);
    assert!(!other.stderr.contains("Resuming"), "{}", other.stderr);
    assert_eq!(
        entries(&json(&other)).len() + first_entries.len(),
        4,
        "{}",
        other.stdout
    );
    let job = s3.photopress(
        tmp.path(),
        &["report", "s3://small/out/_photopress/n2", "--json"],
    );
    assert_eq!(job.code, 0, "{}{}", job.stdout, job.stderr);
    let job = json(&job);
    assert_eq!(job["totals"]["files"], 4, "{job}");
    assert_eq!(job["totals"]["compressed"], 4, "{job}");

    // --verify: every output object is there at its recorded size; then one is deleted and
    // one replaced by other bytes, and the report says which.
    let verify = || {
        s3.photopress(
            tmp.path(),
            &[
                "report",
                "s3://small/out/_photopress/n2",
                "--verify",
                "--json",
            ],
        )
    };
    let clean = verify();
    assert_eq!(clean.code, 0, "{}{}", clean.stdout, clean.stderr);
    assert_eq!(json(&clean)["wrong_outputs"], serde_json::json!([]));
    let out = s3.bucket("s3://small/out");
    out.delete("compressed_leaf.jpg").unwrap();
    out.put(
        "a/compressed_dogs.jpg",
        Bytes::from_static(b"not the output"),
    )
    .unwrap();
    let broken = verify();
    assert_eq!(broken.code, 1, "{}{}", broken.stdout, broken.stderr);
    let wrong = json(&broken)["wrong_outputs"].clone();
    assert_eq!(wrong[0]["key"], "a/dogs.jpg", "{wrong}");
    assert_eq!(
        wrong[0]["output"], "s3://small/out/a/compressed_dogs.jpg",
        "{wrong}"
    );
    assert_eq!(wrong[0]["found_bytes"], 14, "{wrong}");
    assert_eq!(wrong[1]["key"], "leaf.jpg", "{wrong}");
    assert_eq!(wrong[1]["problem"], "missing", "{wrong}");
    assert_eq!(wrong.as_array().map(Vec::len), Some(2), "{wrong}");
}

#[test]
fn invalid_keys_fail_alone_and_the_listing_goes_on() {
    let s3 = S3::start();
    s3.create_buckets(&["photos", "small"]);
    // Raw keys that object_store cannot name, interleaved (in key order) with good ones.
    let invalid = [
        ("./z.jpg", "./z.jpg"),
        ("a//b.jpg", "a//b.jpg"),
        ("c%01d.jpg", "c\u{1}d.jpg"),
        ("x/../y.jpg", "x/../y.jpg"),
    ];
    for (raw, _) in invalid {
        s3.moto
            .put_raw("photos", &format!("in/{raw}"), &photo_bytes("leaf.jpg"));
    }
    s3.upload(
        "s3://photos/in",
        &[
            ("b/leaf.jpg", photo_bytes("leaf.jpg")),
            ("zz/fig.jpg", photo_bytes("fig.jpg")),
        ],
    );
    let tmp = tempdir();
    let out = s3.photopress(
        tmp.path(),
        &["s3://photos/in", "-r", "-o", "s3://small/out", "--json"],
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    let report = json(&out);
    let entries = entries(&report);
    for (_, key) in invalid {
        let input = format!("s3://photos/in/{key}");
        let (status, output, error) = entries
            .get(&input)
            .unwrap_or_else(|| panic!("{input:?} not reported: {report}"));
        assert_eq!(status, "failed", "{input:?}");
        assert_eq!(output, &None, "{input:?}");
        let error = error.as_deref().unwrap_or_default();
        assert!(
            error.contains("the key cannot be read"),
            "{input:?}: {error}"
        );
    }
    for key in ["b/leaf.jpg", "zz/fig.jpg"] {
        let (status, _, _) = &entries[&format!("s3://photos/in/{key}")];
        assert_eq!(status, "compressed", "{key}");
    }
    assert_eq!(report["totals"]["files"], 6, "{report}");
    assert_eq!(log_lines(&out.stderr, "ERROR").len(), 4, "{}", out.stderr);
    let outputs = s3.objects("s3://small/out");
    assert_eq!(
        outputs.keys().collect::<Vec<_>>(),
        ["b/compressed_leaf.jpg", "zz/compressed_fig.jpg"]
    );
    for (key, name) in [
        ("b/compressed_leaf.jpg", "leaf.jpg"),
        ("zz/compressed_fig.jpg", "fig.jpg"),
    ] {
        let path = tmp.path().join(key.replace('/', "_"));
        fs::write(&path, &outputs[key]).expect("write");
        assert_eq!(decode(&path).width(), decode(&photo(name)).width(), "{key}");
    }

    // The same through a key list: each bad line fails alone.
    fs::write(
        tmp.path().join("list.keys"),
        "b/leaf.jpg\na//b.jpg\n../up.jpg\nzz/fig.jpg\n",
    )
    .expect("write key list");
    let listed = s3.photopress(
        tmp.path(),
        &[
            "s3://photos/in",
            "-o",
            "s3://small/listed",
            "--keys-from",
            "list.keys",
            "--json",
        ],
    );
    assert_eq!(listed.code, 1, "{}", listed.stderr);
    let report = json(&listed);
    assert_eq!(report["totals"]["failed"], 2, "{report}");
    assert_eq!(report["totals"]["compressed"], 2, "{report}");
    assert_eq!(
        s3.objects("s3://small/listed").keys().collect::<Vec<_>>(),
        ["b/compressed_leaf.jpg", "zz/compressed_fig.jpg"]
    );
}

#[test]
fn broken_objects_fail_alone_with_their_keys_named() {
    let s3 = S3::start();
    s3.create_buckets(&["photos", "small"]);
    let png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\
\x00\x00\x00\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\
\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
        .to_vec();
    let leaf = photo_bytes("leaf.jpg");
    s3.upload(
        "s3://photos/in",
        &[
            ("broken/empty.jpg", Vec::new()),
            ("broken/png.jpg", png),
            ("broken/truncated.jpg", leaf[..leaf.len() / 3].to_vec()),
            ("fig.jpg", photo_bytes("fig.jpg")),
        ],
    );
    let tmp = tempdir();
    let out = s3.photopress(
        tmp.path(),
        &["s3://photos/in", "-r", "-o", "s3://small/out", "--json"],
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    let report = json(&out);
    let entries = entries(&report);
    let errors = log_lines(&out.stderr, "ERROR");
    for (key, what) in [
        ("broken/empty.jpg", "empty"),
        ("broken/png.jpg", "PNG"),
        ("broken/truncated.jpg", "ends early"),
    ] {
        let input = format!("s3://photos/in/{key}");
        let (status, output, error) = &entries[&input];
        assert_eq!(status, "failed", "{input}");
        assert_eq!(output, &None, "{input}");
        let error = error.as_deref().unwrap_or_default();
        assert!(error.contains(what), "{input}: {error}");
        assert!(
            errors
                .iter()
                .any(|l| l.contains(&input) && l.contains(what)),
            "no ERROR line names {input}:\n{}",
            out.stderr
        );
    }
    assert_eq!(errors.len(), 3, "{}", out.stderr);
    assert_eq!(entries["s3://photos/in/fig.jpg"].0, "compressed");
    assert_eq!(report["totals"]["failed"], 3, "{report}");
    let outputs = s3.objects("s3://small/out");
    assert_eq!(outputs.keys().collect::<Vec<_>>(), ["compressed_fig.jpg"]);
    // The same bytes as a local run of the good photo.
    fs::create_dir_all(tmp.path().join("IMAGES")).expect("mkdir");
    fs::copy(photo("fig.jpg"), tmp.path().join("IMAGES/fig.jpg")).expect("copy");
    let local = run(tmp.path(), &["IMAGES", "-o", "local"]);
    assert_eq!(local.code, 0, "{}", local.stderr);
    assert_eq!(outputs, files_below(&tmp.path().join("local")));
}

#[test]
fn bucket_listings_follow_the_folder_rules_and_a_rerun_never_takes_its_outputs() {
    let s3 = S3::start();
    s3.create_buckets(&["photos"]);
    let leaf = photo_bytes("leaf.jpg");
    s3.upload(
        "s3://photos/p",
        &[
            ("a.jpg", leaf.clone()),
            ("sub/b.jpg", leaf.clone()),
            (".thumbnails/t.jpg", leaf.clone()),
            ("sub/._b.jpg", b"AppleDouble".to_vec()),
            ("@eaDir/c.jpg", leaf.clone()),
        ],
    );
    let tmp = tempdir();
    // The output inside the input, run twice: the second run lists the first one's outputs
    // and leaves them out.
    for round in 0..2 {
        let run = s3.photopress(
            tmp.path(),
            &["s3://photos/p", "-r", "-o", "s3://photos/p/small", "--json"],
        );
        assert_eq!(run.code, 0, "round {round}: {}", run.stderr);
        let names: Vec<String> = statuses(&json(&run)).into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["a.jpg", "b.jpg"], "round {round}: {}", run.stderr);
        assert!(
            run.stderr.contains("Skipped 3 hidden or system keys"),
            "round {round}: {}",
            run.stderr
        );
    }
    let keys: Vec<String> = s3.objects("s3://photos/p/small").into_keys().collect();
    assert_eq!(
        keys,
        ["compressed_a.jpg", "sub/compressed_b.jpg"],
        "no small/small/..."
    );
    // --hidden takes the hidden ones (not the AppleDouble file, nor the NAS folder).
    let run = s3.photopress(
        tmp.path(),
        &[
            "s3://photos/p",
            "-r",
            "--hidden",
            "-o",
            "s3://photos/p/small",
            "--json",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let names: Vec<String> = statuses(&json(&run)).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["a.jpg", "b.jpg", "t.jpg"], "{}", run.stderr);
}

#[test]
fn a_missing_input_bucket_and_missing_credentials_are_said_in_words() {
    let s3 = S3::start();
    let tmp = tempdir();
    let run = s3.photopress(tmp.path(), &["s3://no-such-bucket/in", "-o", "out"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("bucket no-such-bucket does not exist")
            && !run.stderr.contains("<?xml"),
        "{}",
        run.stderr
    );
    // No credentials in the environment (and no instance role on loopback).
    let output = command(tmp.path())
        .env("AWS_ENDPOINT_URL", s3.moto.endpoint())
        .env("AWS_ALLOW_HTTP", "true")
        .env("AWS_REGION", "us-east-1")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_PROFILE")
        .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:9")
        .env("AWS_METADATA_ENDPOINT", "http://127.0.0.1:9")
        .args(["s3://no-such-bucket/in", "-o", "out"])
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"),
        "{stderr}"
    );
}

#[test]
fn a_plan_with_keys_it_cannot_use_reports_them_and_lets_the_array_go_on() {
    let s3 = S3::start();
    s3.create_buckets(&["photos"]);
    s3.moto
        .put_raw("photos", "in/a//b.jpg", &photo_bytes("leaf.jpg"));
    s3.upload(
        "s3://photos/in",
        &[
            ("b/leaf.jpg", photo_bytes("leaf.jpg")),
            (".thumbnails/t.jpg", photo_bytes("leaf.jpg")),
            ("zz/fig.jpg", photo_bytes("fig.jpg")),
        ],
    );
    let tmp = tempdir();
    let plan = s3.photopress(
        tmp.path(),
        &[
            "plan",
            "s3://photos/in",
            "-r",
            "--shard-count",
            "2",
            "--to",
            "plan",
            "--json",
        ],
    );
    // A plan was written: exit 0, so `sbatch --dependency=afterok` runs the array.
    assert_eq!(plan.code, 0, "{}{}", plan.stdout, plan.stderr);
    let summary: serde_json::Value = serde_json::from_str(&plan.stdout).expect("plan JSON");
    assert_eq!(
        summary["keys"], 2,
        "hidden keys left out as in a batch: {summary}"
    );
    let invalid = summary["invalid"].as_array().expect("invalid");
    assert_eq!(invalid.len(), 1, "{summary}");
    assert_eq!(invalid[0][0], "a//b.jpg", "{summary}");
    let text = s3.photopress(
        tmp.path(),
        &[
            "plan",
            "s3://photos/in",
            "-r",
            "--shard-count",
            "2",
            "--to",
            "plan2",
        ],
    );
    assert_eq!(text.code, 0, "{}", text.stderr);
    assert!(text.stdout.contains("Left out 1 keys"), "{}", text.stdout);
    // The array's tasks, then the job's report: the left-out key is a failed key of the job.
    for k in ["0", "1"] {
        let list = format!("plan/shard-{k}.keys");
        let task = s3.photopress(
            tmp.path(),
            &[
                "s3://photos/in",
                "-o",
                "s3://photos/out",
                "--keys-from",
                &list,
                "--shard-count",
                "2",
                "--shard-index",
                k,
            ],
        );
        assert_eq!(task.code, 0, "shard {k}: {}", task.stderr);
    }
    let report = s3.photopress(
        tmp.path(),
        &[
            "report",
            "s3://photos/out/_photopress/n2",
            "--plan",
            "plan",
            "--json",
        ],
    );
    let job: serde_json::Value = serde_json::from_str(&report.stdout).expect("report JSON");
    assert_eq!(job["totals"]["compressed"], 2, "{job}");
    assert_eq!(job["totals"]["failed"], 1, "{job}");
    assert_eq!(job["failed"][0]["key"], "a//b.jpg", "{job}");
    assert!(
        job["failed"][0]["error"]
            .as_str()
            .is_some_and(|e| e.contains("left out by the plan")),
        "{job}"
    );
    assert_ne!(report.code, 0, "a job with a failed key is not a success");
}

#[test]
fn ctrl_c_during_queued_uploads_leaves_every_object_recorded_and_every_record_an_object() {
    let s3 = S3::start();
    s3.create_buckets(&["photos", "small"]);
    let photo = small_jpeg(1280, 960);
    let objects: Vec<(String, Vec<u8>)> = (0..80)
        .map(|i| (format!("p{i:02}.jpg"), photo.clone()))
        .collect();
    let refs: Vec<(&str, Vec<u8>)> = objects
        .iter()
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect();
    s3.upload("s3://photos/in", &refs);
    let tmp = tempdir();
    let child = s3
        .command(tmp.path())
        .args([
            "s3://photos/in",
            "-o",
            "s3://small/out",
            "--shard-count",
            "1",
            "--shard-index",
            "0",
            "-j",
            "1",
            "--json",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while s3.objects("s3://small/out").is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let killed = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let result = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(130), "{stderr}");
    let report: serde_json::Value =
        serde_json::from_slice(&result.stdout).expect("the report still comes");
    let outputs = s3.objects("s3://small/out");
    let compressed = report["totals"]["compressed"].as_u64().unwrap_or(0);
    assert!(
        compressed < 80,
        "interrupted too late to tell: {compressed}"
    );
    // What the batch reports as written is exactly what is in the bucket, and the manifest
    // records the same: no record without its object, no object without its record.
    assert_eq!(outputs.len() as u64, compressed, "{stderr}");
    let job = s3.photopress(
        tmp.path(),
        &["report", "s3://small/out/_photopress/n1", "--json"],
    );
    let job: serde_json::Value = serde_json::from_str(&job.stdout).expect("job JSON");
    assert_eq!(
        job["totals"]["compressed"].as_u64(),
        Some(compressed),
        "{job}"
    );
    for (key, bytes) in &outputs {
        let path = tmp.path().join(key.replace('/', "_"));
        fs::write(&path, bytes).expect("write");
        assert_eq!(decode(&path).width(), 1280, "{key} is whole");
    }
}

#[test]
fn archives_go_to_a_bucket_and_come_back_from_it_bit_for_bit() {
    let s3 = S3::start();
    s3.create_buckets(&["photos", "cold"]);
    s3.upload("s3://photos/in", &tree_objects());
    let tmp = tempdir();
    let up = s3.photopress(
        tmp.path(),
        &[
            "--archive",
            "-r",
            "s3://photos/in",
            "-o",
            "s3://cold/arch",
            "--json",
        ],
    );
    assert_eq!(up.code, 0, "{}", up.stderr);
    assert_eq!(totals(&up, "compressed"), 4, "{}", up.stdout);
    let archives = s3.objects("s3://cold/arch");
    let keys: Vec<&str> = archives.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "a/b/compressed_mountains.jpg.lep",
            "a/compressed_dogs.jpg.lep",
            "compressed_fig.jpg.lep",
            "compressed_leaf.jpg.lep"
        ]
    );
    // From the bucket to a folder, then bucket to bucket: the originals, bit for bit.
    let down = s3.photopress(
        tmp.path(),
        &["restore", "-r", "s3://cold/arch", "-o", "back"],
    );
    assert_eq!(down.code, 0, "{}", down.stderr);
    let back = s3.photopress(
        tmp.path(),
        &[
            "restore",
            "-r",
            "s3://cold/arch",
            "-o",
            "s3://photos/back",
            "--prefix",
            "r_",
        ],
    );
    assert_eq!(back.code, 0, "{}", back.stderr);
    let in_bucket = s3.objects("s3://photos/back");
    for (key, photo_name) in TREE {
        let original = photo_bytes(photo_name);
        let local = output_key(key, "compressed_");
        assert!(
            fs::read(tmp.path().join("back").join(&local)).unwrap() == original,
            "{key}"
        );
        let remote = output_key(&local, "r_");
        assert!(in_bucket[&remote] == original, "{remote}");
    }
}

/// An S3 notification as Lambda gets it, one record per (event name, key, ETag).
fn s3_event(records: &[(&str, &str, &str)]) -> String {
    let records: Vec<serde_json::Value> = records
        .iter()
        .map(|(name, key, etag)| {
            // S3 encodes keys as form data: spaces as '+', other bytes as %XX.
            let encoded: String = key
                .bytes()
                .map(|b| match b {
                    b' ' => "+".to_string(),
                    b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'/' | b'.' | b'_' | b'-' => {
                        (b as char).to_string()
                    }
                    _ => format!("%{b:02X}"),
                })
                .collect();
            serde_json::json!({
                "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
                "eventTime": "2026-12-05T09:00:00.000Z", "eventName": name,
                "s3": {"s3SchemaVersion": "1.0", "bucket": {"name": "photos", "arn": "arn:aws:s3:::photos"},
                       "object": {"key": encoded, "size": 1, "eTag": etag, "sequencer": "0A"}}
            })
        })
        .collect();
    serde_json::json!({ "Records": records }).to_string()
}

#[test]
fn events_compress_exactly_the_objects_they_name_and_only_once() {
    let s3 = S3::start();
    s3.create_buckets(&["photos"]);
    let objects = [
        ("uploads/leaf.jpg", "leaf.jpg"),
        ("uploads/Holiday 2024/fig (1).jpg", "fig.jpg"),
        ("uploads/dogs.jpg", "dogs.jpg"),
    ];
    s3.upload("s3://photos", &objects.map(|(k, n)| (k, photo_bytes(n))));
    let etag = |key: &str| {
        let listing = s3.listing("s3://photos");
        listing[key]
            .0
            .clone()
            .unwrap()
            .trim_matches('"')
            .to_string()
    };
    let tmp = tempdir();
    let event = |payload: &str| {
        let mut cmd = s3.command(tmp.path());
        cmd.args(["event", "s3://photos", "-o", "s3://photos/small", "--json"]);
        run_piped(&mut cmd, payload.as_bytes()).0
    };
    // Two objects created, one removed, and photopress's own output (under -o, in the same
    // bucket): only the two are compressed.
    let payload = s3_event(&[
        (
            "ObjectCreated:Put",
            "uploads/leaf.jpg",
            &etag("uploads/leaf.jpg"),
        ),
        (
            "ObjectCreated:Put",
            "uploads/Holiday 2024/fig (1).jpg",
            &etag("uploads/Holiday 2024/fig (1).jpg"),
        ),
        ("ObjectRemoved:Delete", "uploads/gone.jpg", ""),
        (
            "ObjectCreated:Put",
            "small/uploads/compressed_leaf.jpg",
            "x",
        ),
    ]);
    let first = event(&payload);
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert_eq!(totals(&first, "compressed"), 2, "{}", first.stdout);
    assert_eq!(totals(&first, "files"), 2, "{}", first.stdout);
    assert!(
        first
            .stderr
            .contains("Ignoring ObjectRemoved:Delete s3://photos/uploads/gone.jpg"),
        "{}",
        first.stderr
    );
    assert!(
        first.stderr.contains("an output of photopress"),
        "{}",
        first.stderr
    );
    let small = s3.objects("s3://photos/small");
    let keys: Vec<&str> = small.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "uploads/Holiday 2024/compressed_fig (1).jpg",
            "uploads/compressed_leaf.jpg"
        ]
    );
    // The bytes of a local run of the same photo.
    let local = run(
        tmp.path(),
        &[photo("leaf.jpg").to_str().unwrap(), "-o", "local"],
    );
    assert_eq!(local.code, 0);
    assert!(
        small["uploads/compressed_leaf.jpg"]
            == std::fs::read(tmp.path().join("local/compressed_leaf.jpg")).unwrap()
    );

    // The same event again (a redelivery), and inside an SQS message: skipped, nothing redone.
    let again = event(&payload);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(
        (totals(&again, "skipped"), totals(&again, "compressed")),
        (2, 0),
        "{}",
        again.stdout
    );
    assert!(
        !again.stderr.contains("Start compressing"),
        "{}",
        again.stderr
    );
    let sqs = serde_json::json!({"Records": [{"messageId": "m1", "eventSource": "aws:sqs", "body": payload}]}).to_string();
    let via_sqs = event(&sqs);
    assert_eq!(totals(&via_sqs, "skipped"), 2, "{}", via_sqs.stdout);

    // A new version of one object: that one is redone, the other still skipped.
    s3.upload(
        "s3://photos",
        &[("uploads/leaf.jpg", photo_bytes("mountains.jpg"))],
    );
    let changed = s3_event(&[
        (
            "ObjectCreated:Put",
            "uploads/leaf.jpg",
            &etag("uploads/leaf.jpg"),
        ),
        (
            "ObjectCreated:Put",
            "uploads/Holiday 2024/fig (1).jpg",
            &etag("uploads/Holiday 2024/fig (1).jpg"),
        ),
    ]);
    let redo = event(&changed);
    assert_eq!(
        (totals(&redo, "compressed"), totals(&redo, "skipped")),
        (1, 1),
        "{}",
        redo.stdout
    );

    // EventBridge's form of the event, for the third object; and an object already gone
    // fails alone.
    let bridge = serde_json::json!({
        "version": "0", "id": "1", "detail-type": "Object Created", "source": "aws.s3",
        "account": "111122223333", "time": "2026-12-05T09:00:00Z", "region": "us-east-1",
        "resources": ["arn:aws:s3:::photos"],
        "detail": {"version": "0", "bucket": {"name": "photos"},
                   "object": {"key": "uploads/dogs.jpg", "size": 1, "etag": etag("uploads/dogs.jpg")}}
    })
    .to_string();
    assert_eq!(totals(&event(&bridge), "compressed"), 1);
    let vanished = event(&s3_event(&[(
        "ObjectCreated:Put",
        "uploads/never.jpg",
        "abc",
    )]));
    assert_eq!(vanished.code, 1, "{}", vanished.stderr);
    assert!(
        vanished.stderr.contains("s3://photos/uploads/never.jpg"),
        "{}",
        vanished.stderr
    );
    // Not an event: a usage error.
    let nonsense = event(r#"{"hello": "world"}"#);
    assert_eq!(nonsense.code, 2, "{}", nonsense.stderr);
    assert!(
        nonsense.stderr.contains("not an event photopress reads"),
        "{}",
        nonsense.stderr
    );
}

/// A stand-in for Lambda's runtime API: hands out `event` once (request id `req-1`), records
/// what the function posts back, then refuses the next poll (the bootstrap then exits).
fn fake_lambda_runtime(event: String) -> (u16, std::thread::JoinHandle<Vec<(String, String)>>) {
    use std::io::{BufRead, BufReader, Read as _, Write as _};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = std::thread::spawn(move || {
        let mut posted = Vec::new();
        let mut served = false;
        for stream in listener.incoming() {
            let mut stream = stream.unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request = String::new();
            reader.read_line(&mut request).unwrap();
            let mut length = 0;
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                if line.trim().is_empty() {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap();
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let path = request
                .split_whitespace()
                .nth(1)
                .unwrap_or_default()
                .to_string();
            if path.ends_with("/invocation/next") {
                if served {
                    // Done: the bootstrap's next poll fails and it exits.
                    return posted;
                }
                served = true;
                let head = format!(
                    "HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: req-1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    event.len()
                );
                stream.write_all(head.as_bytes()).unwrap();
                stream.write_all(event.as_bytes()).unwrap();
            } else {
                posted.push((path, String::from_utf8_lossy(&body).into_owned()));
                stream
                    .write_all(
                        b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    )
                    .unwrap();
            }
        }
        posted
    });
    (port, handle)
}

#[test]
fn the_lambda_bootstrap_runs_an_event_and_posts_the_report() {
    let s3 = S3::start();
    s3.create_buckets(&["photos"]);
    s3.upload(
        "s3://photos",
        &[("uploads/leaf.jpg", photo_bytes("leaf.jpg"))],
    );
    let etag = s3.listing("s3://photos")["uploads/leaf.jpg"]
        .0
        .clone()
        .unwrap()
        .trim_matches('"')
        .to_string();
    let event = s3_event(&[("ObjectCreated:Put", "uploads/leaf.jpg", &etag)]);
    let (port, runtime) = fake_lambda_runtime(event);
    let tmp = tempdir();
    let bootstrap = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/lambda/bootstrap");
    let output = std::process::Command::new("sh")
        .arg(&bootstrap)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_ENDPOINT_URL", s3.moto.endpoint())
        .env("AWS_ALLOW_HTTP", "true")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_LAMBDA_RUNTIME_API", format!("127.0.0.1:{port}"))
        .env("PHOTOPRESS", env!("CARGO_BIN_EXE_photopress"))
        .env("PHOTOPRESS_INPUT", "s3://photos/uploads")
        .env("PHOTOPRESS_OUTPUT", "s3://photos/small")
        .env("PHOTOPRESS_ARGS", "-q 40")
        .env("TMPDIR", tmp.path())
        .current_dir(tmp.path())
        .output()
        .expect("run the bootstrap (sh and curl)");
    let posted = runtime.join().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(posted.len(), 1, "{posted:?}\n{stderr}");
    assert_eq!(
        posted[0].0, "/2018-06-01/runtime/invocation/req-1/response",
        "{stderr}"
    );
    let report: serde_json::Value = serde_json::from_str(&posted[0].1).unwrap();
    assert_eq!(report["totals"]["compressed"], 1, "{report}");
    assert_eq!(report["files"][0]["quality"], 40, "{report}");
    let out = s3.objects("s3://photos/small");
    assert!(out.contains_key("compressed_leaf.jpg"), "{:?}", out.keys());
}
