//! Tests of the manifest: the line format, parts, parsing, resume decisions.
use super::*;
use chrono::TimeZone;

/// A record of `key` started `ms` milliseconds into 2024.
fn record(key: &str, status: Kind, ms: i64) -> Record {
    let start = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).single();
    Record {
        key: key.to_string(),
        input: format!("s3://in/photos/{key}"),
        version: "etag:\"9b2c\"".to_string(),
        output: format!("s3://out/x/compressed_{key}"),
        input_bytes: 1234,
        output_bytes: if status.is_done() { 456 } else { 0 },
        status,
        method: status.is_done().then(|| "dct".to_string()),
        settings: "q80".to_string(),
        started: start.unwrap_or_default() + chrono::Duration::milliseconds(ms),
        duration_ms: 12.5,
        error: (status == Kind::Failed).then(|| "not a valid JPEG: x".to_string()),
        shard: 0,
        shards: 1,
    }
}

#[test]
fn line_has_the_contract_fields_in_order() {
    let line = record("sub/a.jpg", Kind::KeptOriginal, 1).to_line();
    assert_eq!(
        line,
        "{\"key\":\"sub/a.jpg\",\"input\":\"s3://in/photos/sub/a.jpg\",\"version\":\"etag:\\\"9b2c\\\"\",\
         \"output\":\"s3://out/x/compressed_sub/a.jpg\",\"input_bytes\":1234,\"output_bytes\":456,\
         \"status\":\"kept-original\",\"method\":\"dct\",\"settings\":\"q80\",\
         \"started\":\"2024-01-01T00:00:00.001Z\",\"duration_ms\":12.5,\"error\":null,\
         \"shard\":0,\"shards\":1}"
    );
    let failed = record("b.jpg", Kind::Failed, 0).to_line();
    assert!(failed.contains("\"method\":null"), "{failed}");
    assert!(
        failed.contains("\"error\":\"not a valid JPEG: x\""),
        "{failed}"
    );
}

#[test]
fn status_words() {
    for (status, word) in [
        (Kind::Compressed, "compressed"),
        (Kind::KeptOriginal, "kept-original"),
        (Kind::Skipped, "skipped"),
        (Kind::Failed, "failed"),
        (Kind::NotStarted, "not-started"),
    ] {
        assert_eq!(status.as_str(), word);
        assert_eq!(
            serde_json::to_string(&status).ok(),
            Some(format!("\"{word}\""))
        );
    }
}

#[test]
fn paths_and_names() {
    assert_eq!(shard_dir(4, 2), "_photopress/n4/shard-2");
    assert_eq!(
        part_name(1_700_000_000_123, 42, 7),
        "part-1700000000123-42-7.ndjson"
    );
    assert_eq!(
        part_order("_photopress/n4/shard-2/part-1700000000123-42-10.ndjson"),
        Some((1_700_000_000_123, 42, 10))
    );
    for not_a_part in [
        "part-1-2.ndjson",
        "part-1-2-3-4.ndjson",
        "part-1-2-3.ndjson.tmp",
        ".tmpX1y2",
        "part-a-2-3.ndjson",
    ] {
        assert!(!is_part_name(not_a_part), "{not_a_part}");
    }
}

#[test]
fn writer_parts_round_trip() {
    let mut writer = ManifestWriter::new(2, 4, 1_700_000_000_000, 99);
    assert_eq!(writer.take_part(), None);
    let first = [
        record("a.jpg", Kind::Compressed, 0),
        record("ü/b c.jpg", Kind::Failed, 5),
        record("line\nbreak.jpg", Kind::NotStarted, 9),
    ];
    for r in &first {
        writer.push(r);
    }
    assert_eq!(writer.pending(), 3);
    let (name, bytes) = writer.take_part().unwrap_or_default();
    assert_eq!(
        name,
        "_photopress/n4/shard-2/part-1700000000000-99-0.ndjson"
    );
    assert_eq!(bytes.iter().filter(|&&b| b == b'\n').count(), 3);
    assert_eq!(writer.pending(), 0);
    assert_eq!(writer.take_part(), None);
    writer.push(&record("c.jpg", Kind::Skipped, 20));
    let (second_name, second_bytes) = writer.take_part().unwrap_or_default();
    assert!(second_name.ends_with("-99-1.ndjson"), "{second_name}");

    // Given in the wrong order, the parts are read in the order they were written.
    let (records, warnings) =
        parse_parts([(second_name, second_bytes), (name.clone(), bytes.clone())]);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(records[..3], first);
    assert_eq!(records[3].key, "c.jpg");
    assert_eq!(parse_part(&name, &bytes), (first.to_vec(), Vec::new()));
}

#[test]
fn flush_after_256_records_or_30_seconds() {
    let mut writer = ManifestWriter::new(0, 1, 0, 1);
    let now = Instant::now();
    let later = now + FLUSH_INTERVAL + Duration::from_millis(1);
    // Nothing waiting: never.
    assert!(!writer.should_flush_at(later));
    writer.push(&record("a.jpg", Kind::Compressed, 0));
    assert!(!writer.should_flush_at(now));
    assert!(writer.should_flush_at(later));
    for i in 1..FLUSH_RECORDS {
        assert!(!writer.should_flush_at(now), "flushed at {i}");
        writer.push(&record(&format!("{i}.jpg"), Kind::Compressed, 0));
    }
    assert!(writer.should_flush_at(now));
    assert!(writer.take_part().is_some());
    assert!(!writer.should_flush_at(Instant::now()));
}

#[test]
fn a_corrupt_line_is_skipped_with_its_part_and_line() {
    let good = record("a.jpg", Kind::Compressed, 0).to_line();
    let other = record("b.jpg", Kind::Compressed, 0).to_line();
    let bad_status = good.replace("compressed\"", "shrunk\"");
    let bytes = format!("{good}\n{{\"key\":\"x\"}}\n\n{bad_status}\nnot json\n{other}\n");
    let (records, warnings) = parse_part("shard-0/part-1-2-3.ndjson", bytes.as_bytes());
    let keys: Vec<&str> = records.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(keys, ["a.jpg", "b.jpg"]);
    assert_eq!(warnings.len(), 3, "{warnings:?}");
    assert!(warnings[0].starts_with("shard-0/part-1-2-3.ndjson line 2:"));
    assert!(warnings[1].starts_with("shard-0/part-1-2-3.ndjson line 4:"));
    assert!(warnings[2].starts_with("shard-0/part-1-2-3.ndjson line 5:"));
    // A bad timestamp is a bad line too.
    let bad_time = good.replace("2024-01-01T00:00:00.000Z", "yesterday");
    let (records, warnings) = parse_part("p", bad_time.as_bytes());
    assert!(records.is_empty());
    assert!(warnings[0].contains("yesterday"), "{warnings:?}");
}

#[test]
fn a_truncated_last_line_is_skipped() {
    let a = record("a.jpg", Kind::Compressed, 0).to_line();
    let b = record("b.jpg", Kind::Compressed, 0).to_line();
    let cut = &b[..b.len() / 2];
    let (records, warnings) = parse_part("p", format!("{a}\n{cut}").as_bytes());
    assert_eq!(records.len(), 1);
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].starts_with("p line 2:"), "{warnings:?}");
    // A whole last line without its newline is fine.
    let (records, warnings) = parse_part("p", format!("{a}\n{b}").as_bytes());
    assert_eq!((records.len(), warnings.len()), (2, 0));
    // Invalid UTF-8 in a line.
    let mut bytes = a.clone().into_bytes();
    bytes.extend_from_slice(b"\n\xff\xfe\n");
    let (records, warnings) = parse_part("p", &bytes);
    assert_eq!((records.len(), warnings.len()), (1, 1));
}

#[test]
fn resume_decisions() {
    let mut changed = record("changed.jpg", Kind::Compressed, 0);
    changed.version = "etag:\"old\"".to_string();
    let mut resettled = record("resettled.jpg", Kind::Compressed, 0);
    resettled.settings = "q70".to_string();
    let index = ResumeIndex::new([
        record("done.jpg", Kind::Compressed, 0),
        record("kept.jpg", Kind::KeptOriginal, 0),
        record("skipped.jpg", Kind::Skipped, 0),
        record("failed.jpg", Kind::Failed, 0),
        record("later.jpg", Kind::NotStarted, 0),
        changed,
        resettled,
    ]);
    let version = "etag:\"9b2c\"";
    for key in ["done.jpg", "kept.jpg", "skipped.jpg"] {
        assert_eq!(
            index.done(key, version, "q80").map(|r| r.key.as_str()),
            Some(key)
        );
    }
    for key in [
        "failed.jpg",
        "later.jpg",
        "changed.jpg",
        "resettled.jpg",
        "unknown.jpg",
    ] {
        assert!(index.done(key, version, "q80").is_none(), "{key}");
    }
    // The same key under other settings or another version is not done.
    assert!(index.done("done.jpg", version, "q70").is_none());
    assert!(index.done("done.jpg", "size:1,mtime_ns:2", "q80").is_none());
    assert_eq!(index.len(), 7);
}

#[test]
fn the_latest_record_wins() {
    // By `started`, whatever the order given...
    let index = ResumeIndex::new([
        record("a.jpg", Kind::Compressed, 50),
        record("a.jpg", Kind::Failed, 10),
        record("b.jpg", Kind::Failed, 10),
        record("b.jpg", Kind::Compressed, 50),
    ]);
    assert!(index.done("a.jpg", "etag:\"9b2c\"", "q80").is_some());
    assert!(index.done("b.jpg", "etag:\"9b2c\"", "q80").is_some());
    // ...and on equal times, the one written last.
    let index = ResumeIndex::new([
        record("c.jpg", Kind::Compressed, 10),
        record("c.jpg", Kind::Failed, 10),
    ]);
    assert_eq!(index.latest("c.jpg").map(|r| r.status), Some(Kind::Failed));
    assert!(index.done("c.jpg", "etag:\"9b2c\"", "q80").is_none());
}

#[test]
fn a_rerun_after_a_failure_resumes() {
    // Run 1 fails b, is interrupted before c; run 2 redoes both. Parts read back in order.
    let mut run1 = ManifestWriter::new(0, 1, 1000, 7);
    run1.push(&record("a.jpg", Kind::Compressed, 0));
    run1.push(&record("b.jpg", Kind::Failed, 1));
    run1.push(&record("c.jpg", Kind::NotStarted, 2));
    let mut run2 = ManifestWriter::new(0, 1, 2000, 8);
    run2.push(&record("b.jpg", Kind::Compressed, 3000));
    run2.push(&record("c.jpg", Kind::Compressed, 3001));
    let parts: Vec<(String, Vec<u8>)> = [run2.take_part(), run1.take_part()]
        .into_iter()
        .flatten()
        .collect();
    let (records, warnings) = parse_parts(parts);
    assert!(warnings.is_empty());
    let index = ResumeIndex::new(records);
    for key in ["a.jpg", "b.jpg", "c.jpg"] {
        assert!(index.done(key, "etag:\"9b2c\"", "q80").is_some(), "{key}");
    }
}

#[test]
fn non_finite_durations_stay_readable() {
    let mut r = record("a.jpg", Kind::Compressed, 0);
    r.duration_ms = f64::NAN;
    let (records, warnings) = parse_part("p", r.to_line().as_bytes());
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(records[0].duration_ms, 0.0);
}

#[test]
fn started_keeps_milliseconds_and_reads_other_offsets() {
    let r = record("a.jpg", Kind::Compressed, 1_234);
    assert_eq!(format_started(&r.started), "2024-01-01T00:00:01.234Z");
    let shifted = r
        .to_line()
        .replace("2024-01-01T00:00:01.234Z", "2024-01-01T01:00:01.234+01:00");
    let (records, _) = parse_part("p", shifted.as_bytes());
    assert_eq!(records.first().map(|x| x.started), Some(r.started));
}
