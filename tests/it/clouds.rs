//! Google Cloud Storage and Azure Blob Storage through the real binary, against local
//! stand-ins on loopback (Azurite for Azure: `tests/azurite`; a GCS XML-API stand-in, since no
//! emulator serves object_store's GCS client: `tests/gcs/server.py`), the same checks for both: the checks the S3 tests make — outputs byte-identical to a local run, exactly
//! once across shards, resume without recompressing, the job's report with `--verify`, a
//! missing bucket one clear error, a key that vanishes failing alone.

use std::collections::BTreeMap;
use std::path::Path;

use crate::azurite::Azurite;
use crate::common::*;
use crate::gcs::Gcs;

/// The test tree: keys and the demo photo each holds.
const TREE: [(&str, &str); 4] = [
    ("leaf.jpg", "leaf.jpg"),
    ("fig.jpg", "fig.jpg"),
    ("a/dogs.jpg", "dogs.jpg"),
    ("a/b/mountains.jpg", "mountains.jpg"),
];

/// Runs photopress in `cwd` with `env` (and no cloud variables of the machine's own).
fn run_with(cwd: &Path, env: &[(String, String)], args: &[&str]) -> Run {
    let mut cmd = command(cwd);
    for (key, _) in std::env::vars() {
        if key.starts_with("AZURE_") || key.starts_with("GOOGLE_") || key.starts_with("AWS_") {
            cmd.env_remove(key);
        }
    }
    cmd.envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let output = cmd.args(args).output().expect("run photopress");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// The outputs of a local run of the same tree with the same options, by relative key.
fn local_outputs(dir: &Path, extra: &[&str]) -> BTreeMap<String, Vec<u8>> {
    for (key, name) in TREE {
        let path = dir.join("IMAGES").join(key);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::copy(photo(name), path).unwrap();
    }
    let mut args = vec!["IMAGES", "-r", "-o", "local"];
    args.extend_from_slice(extra);
    let local = run(dir, &args);
    assert_eq!(local.code, 0, "{}", local.stderr);
    files_below(&dir.join("local"))
}

#[test]
fn azure_containers_work_as_s3_buckets_do() {
    let azurite = Azurite::start();
    works_as_s3_does(&azurite, "az");
    // An Event Grid BlobCreated event (its URL names the account).
    let grid = serde_json::json!([{
        "topic": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Storage/storageAccounts/devstoreaccount1",
        "subject": "/blobServices/default/containers/photos/blobs/in/leaf.jpg",
        "eventType": "Microsoft.Storage.BlobCreated", "id": "1", "eventTime": "2026-12-05T09:00:00Z",
        "data": {"api": "PutBlob", "contentLength": 1, "blobType": "BlockBlob",
                 "url": "https://devstoreaccount1.blob.core.windows.net/photos/in/leaf.jpg"}
    }]);
    events_once(&azurite, "az", &grid.to_string());
}

#[test]
fn google_buckets_work_as_s3_buckets_do() {
    let gcs = Gcs::start();
    works_as_s3_does(&gcs, "gs");
    // A Pub/Sub notification (no ETag: photopress asks the object).
    let pubsub = serde_json::json!({
        "message": {"attributes": {"bucketId": "photos", "objectId": "in/leaf.jpg",
                                   "eventType": "OBJECT_FINALIZE", "objectGeneration": "1"},
                    "data": "e30=", "messageId": "1"},
        "subscription": "projects/p/subscriptions/s"
    });
    events_once(&gcs, "gs", &pubsub.to_string());
}

/// `photopress event` on `payload` (naming `photos/in/leaf.jpg`): compressed once, skipped when
/// the event comes again.
fn events_once(store: &dyn Store, scheme: &str, payload: &str) {
    let tmp = tempdir();
    let payload_file = tmp.path().join("event.json");
    std::fs::write(&payload_file, payload).unwrap();
    let input = format!("{scheme}://photos/in");
    let output = format!("{scheme}://small/ev");
    let args = [
        "event",
        input.as_str(),
        "-o",
        output.as_str(),
        "--payload",
        payload_file.to_str().unwrap(),
        "--json",
    ];
    let first = run_with(tmp.path(), &store.env(), &args);
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert_eq!(
        totals(&first, "compressed"),
        1,
        "{}{}",
        first.stdout,
        first.stderr
    );
    assert!(store.get("small", "ev/compressed_leaf.jpg").is_some());
    let again = run_with(tmp.path(), &store.env(), &args);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(
        (totals(&again, "skipped"), totals(&again, "compressed")),
        (1, 0),
        "{}",
        again.stdout
    );
    // To a local folder: the output and its mark there.
    let local = [
        "event",
        input.as_str(),
        "-o",
        "ev",
        "--payload",
        payload_file.to_str().unwrap(),
        "--json",
    ];
    let first = run_with(tmp.path(), &store.env(), &local);
    assert_eq!(
        totals(&first, "compressed"),
        1,
        "{}{}",
        first.stdout,
        first.stderr
    );
    decode(&tmp.path().join("ev/compressed_leaf.jpg"));
    assert!(
        tmp.path()
            .join("ev/_photopress/events/leaf.jpg.json")
            .is_file()
    );
    let again = run_with(tmp.path(), &store.env(), &local);
    assert_eq!(totals(&again, "skipped"), 1, "{}", again.stdout);
}

fn works_as_s3_does(store: &dyn Store, scheme: &str) {
    let env = store.env();
    let url = |rest: &str| format!("{scheme}://{rest}");
    store.create("photos");
    store.create("small");
    for (key, name) in TREE {
        store.put(
            "photos",
            &format!("in/{key}"),
            &std::fs::read(photo(name)).unwrap(),
        );
    }
    let tmp = tempdir();
    let dir = tmp.path();
    let local = local_outputs(dir, &[]);

    // Container to container: the bytes of a local run, the keys mirrored.
    let up = run_with(
        dir,
        &env,
        &[&url("photos/in"), "-r", "-o", &url("small/out"), "--json"],
    );
    assert_eq!(up.code, 0, "{}", up.stderr);
    assert_eq!(totals(&up, "compressed"), 4, "{}", up.stdout);
    let listed: Vec<String> = store
        .list("small", "out/")
        .into_iter()
        .map(|(k, _)| k)
        .filter(|k| !k.starts_with("out/_photopress/"))
        .collect();
    let expected: Vec<String> = local.keys().map(|k| format!("out/{k}")).collect();
    assert_eq!(listed, expected);
    for (key, bytes) in &local {
        assert!(
            store.get("small", &format!("out/{key}")).unwrap() == *bytes,
            "{key}"
        );
    }
    // Container to folder.
    let down = run_with(dir, &env, &[&url("photos/in"), "-r", "-o", "down"]);
    assert_eq!(down.code, 0, "{}", down.stderr);
    assert_eq!(files_below(&dir.join("down")), local);

    // Two shards: each key once; a rerun resumes and recompresses nothing; the job's report
    // checks every output object.
    let (input, sharded) = (url("photos/in"), url("small/sharded"));
    let shard = |k: &str| {
        let args = [
            &input,
            "-r",
            "-o",
            &sharded,
            "--shard-count",
            "2",
            "--shard-index",
            k,
            "--json",
        ];
        run_with(dir, &env, &args)
    };
    let mut done = BTreeMap::new();
    for k in ["0", "1"] {
        let run = shard(k);
        assert_eq!(run.code, 0, "{}", run.stderr);
        for f in json(&run)["files"].as_array().unwrap() {
            *done
                .entry(f["input"].as_str().unwrap().to_string())
                .or_insert(0) += 1;
        }
    }
    assert_eq!(done.len(), 4, "{done:?}");
    assert!(done.values().all(|&n| n == 1), "{done:?}");
    let again = shard("0");
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(again.stderr.contains("Resuming"), "{}", again.stderr);
    assert_eq!(totals(&again, "compressed"), 0, "{}", again.stdout);
    let report = run_with(
        dir,
        &env,
        &["report", &url("small/sharded/_photopress/n2"), "--verify"],
    );
    assert_eq!(report.code, 0, "{}{}", report.stdout, report.stderr);
    assert!(
        report
            .stdout
            .contains("Outputs checked: 4, missing or not as recorded: 0"),
        "{}",
        report.stdout
    );
    store.delete("small", "sharded/compressed_fig.jpg");
    let report = run_with(
        dir,
        &env,
        &["report", &url("small/sharded/_photopress/n2"), "--verify"],
    );
    assert_eq!(report.code, 1, "{}", report.stdout);
    assert!(
        report.stdout.contains(&format!(
            "fig.jpg: {} (missing)",
            url("small/sharded/compressed_fig.jpg")
        )),
        "{}",
        report.stdout
    );

    // A container that does not exist: one clear error before any work.
    let missing = run_with(dir, &env, &[&url("nosuch/in"), "-o", "x"]);
    assert_eq!(missing.code, 2, "{}", missing.stderr);
    assert!(
        missing.stderr.contains("does not exist"),
        "{}",
        missing.stderr
    );
    let missing_out = run_with(dir, &env, &["IMAGES", "-r", "-o", &url("nosuch/out")]);
    assert_eq!(missing_out.code, 2, "{}", missing_out.stderr);
    assert!(
        missing_out.stderr.contains("does not exist"),
        "{}",
        missing_out.stderr
    );

    // A key listed but gone by the time its task reads it fails alone.
    std::fs::write(dir.join("keys.txt"), "leaf.jpg\ngone.jpg\n").unwrap();
    let gone = run_with(
        dir,
        &env,
        &[
            &url("photos/in"),
            "--keys-from",
            "keys.txt",
            "-o",
            "gone",
            "--json",
        ],
    );
    assert_eq!(gone.code, 1, "{}", gone.stderr);
    assert_eq!(
        (totals(&gone, "compressed"), totals(&gone, "failed")),
        (1, 1),
        "{}",
        gone.stdout
    );
    assert!(
        gone.stderr.contains(&url("photos/in/gone.jpg")),
        "{}",
        gone.stderr
    );
}
