//! Tests of the job summary, on hand-built records, and against the report as it was before
//! its memory was bounded (`reference`).
use super::*;
use chrono::{TimeZone, Utc};

mod reference;

/// The bounded merge's report, with its lists read back whole (what the tests compare).
struct Summary {
    report: JobReport,
    records: u64,
    totals: JobTotals,
    wall_ms: f64,
    summed_ms: f64,
    failed: Vec<FailedKey>,
    shards_without_records: Vec<u64>,
    done_twice: Vec<DoneTwice>,
    settings: Option<String>,
    other_settings: Vec<OtherSettings>,
    missing: Option<Vec<String>>,
}

/// Buffers: the sort's bytes, the lists' items in memory, the missing keys' sort's bytes.
type Buffers = (usize, usize, usize);

const REAL: Buffers = (SORT_BUFFER_BYTES, list::IN_MEMORY, MISSING_BUFFER_BYTES);

fn merge(
    records: impl IntoIterator<Item = Record>,
    shard_count: u64,
    plan: Option<&[String]>,
    (sort, in_memory, missing): Buffers,
) -> JobReport {
    let mut merge = JobMerge::with_buffers(sort, in_memory, missing);
    for record in records {
        merge.add(&record).unwrap();
    }
    for key in plan.into_iter().flatten() {
        merge.add_plan_key(key).unwrap();
    }
    merge.finish(shard_count, plan.is_some()).unwrap()
}

fn summarize(
    records: impl IntoIterator<Item = Record>,
    shard_count: u64,
    plan: Option<&[String]>,
) -> Summary {
    let report = merge(records, shard_count, plan, REAL);
    assert_eq!(report.shard_count, shard_count);
    Summary {
        records: report.records,
        totals: report.totals,
        wall_ms: report.wall_ms,
        summed_ms: report.summed_ms,
        failed: report.failed.to_vec().unwrap(),
        shards_without_records: report.shards_without_records.clone(),
        done_twice: report.done_twice.to_vec().unwrap(),
        settings: report.settings.clone(),
        other_settings: report.other_settings.to_vec().unwrap(),
        missing: report.missing.as_ref().map(|m| m.to_vec().unwrap()),
        report,
    }
}

fn text(summary: &Summary) -> String {
    super::text(&summary.report)
}

fn json(summary: &Summary) -> String {
    super::json(&summary.report).unwrap()
}

/// A record of `key` by `shard` (of 4), started `ms` milliseconds into 2024, taking 100 ms.
fn rec(key: &str, shard: u64, status: Kind, ms: i64) -> Record {
    let start = Utc
        .with_ymd_and_hms(2024, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or_default();
    let done = status.is_done();
    Record {
        key: key.to_string(),
        input: format!("s3://in/{key}"),
        version: "etag:\"1\"".to_string(),
        output: format!("s3://out/{key}"),
        input_bytes: 1000,
        output_bytes: match status {
            Kind::Compressed => 400,
            Kind::KeptOriginal | Kind::Skipped => 1000,
            // Sizes a failed record may carry (what was read) must not count.
            _ => 7,
        },
        status,
        method: matches!(status, Kind::Compressed | Kind::KeptOriginal).then(|| "dct".to_string()),
        settings: "q80".to_string(),
        started: start + chrono::Duration::milliseconds(ms),
        duration_ms: if done || status == Kind::Failed {
            100.0
        } else {
            0.0
        },
        error: (status == Kind::Failed).then(|| "not a valid JPEG: bad".to_string()),
        shard,
        shards: 4,
    }
}

fn keys(list: &[&str]) -> Vec<String> {
    list.iter().map(|k| k.to_string()).collect()
}

#[test]
fn totals_count_each_status_and_bytes_of_outputs_only() {
    let mut pixel = rec("p.jpg", 1, Kind::Compressed, 0);
    pixel.method = Some("pixel".to_string());
    let summary = summarize(
        [
            rec("a.jpg", 0, Kind::Compressed, 0),
            pixel,
            rec("k.jpg", 2, Kind::KeptOriginal, 0),
            rec("s.jpg", 3, Kind::Skipped, 0),
            rec("f.jpg", 0, Kind::Failed, 0),
            rec("n.jpg", 1, Kind::NotStarted, 0),
        ],
        4,
        None,
    );
    let t = summary.totals;
    assert_eq!(
        t,
        JobTotals {
            files: 6,
            compressed: 2,
            kept_original: 1,
            skipped: 1,
            failed: 1,
            not_started: 1,
            input_bytes: 4000,
            output_bytes: 2800,
            // The kept original counts in neither method.
            dct: 1,
            pixel: 1,
        }
    );
    assert!((t.rate() - 0.7).abs() < 1e-12);
    assert_eq!(summary.records, 6);
    assert_eq!(
        summary.failed,
        [FailedKey {
            key: "f.jpg".to_string(),
            shard: 0,
            error: "not a valid JPEG: bad".to_string()
        }]
    );
    assert!(summary.shards_without_records.is_empty());
    assert!(summary.done_twice.is_empty());
    assert!(summary.other_settings.is_empty());
    assert_eq!(summary.settings.as_deref(), Some("q80"));
    assert_eq!(summary.missing, None);
}

#[test]
fn text_starts_with_the_batch_reports_four_lines() {
    // Two shards work in parallel: 0..100 ms and 50..150 ms, then one at 1000..1100 ms.
    let summary = summarize(
        [
            rec("a.jpg", 0, Kind::Compressed, 0),
            rec("b.jpg", 1, Kind::Compressed, 50),
            rec("c.jpg", 1, Kind::KeptOriginal, 1000),
            rec("d.jpg", 2, Kind::Failed, 20),
            // Not started: its time is not the job's.
            rec("e.jpg", 2, Kind::NotStarted, 5000),
        ],
        4,
        Some(&keys(&[
            "a.jpg", "b.jpg", "c.jpg", "d.jpg", "e.jpg", "z.jpg",
        ])),
    );
    assert_eq!(summary.wall_ms, 1100.0);
    assert_eq!(summary.summed_ms, 400.0);
    let text = text(&summary);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[..4],
        [
            "Total files size 3000",
            "Total compressed files size 1800",
            "Compression rate 0.60",
            "Processing duration (ms) 1100.0",
        ]
    );
    assert_eq!(lines[4], "Summed image duration (ms) 400.0");
    assert_eq!(lines[5], "Methods dct 2, pixel 0");
    assert_eq!(
        lines[6],
        "Files 5: compressed 2, kept original 1, failed 1, not started 1"
    );
    assert!(text.contains("Failed files (1):\n  d.jpg: not a valid JPEG: bad\n"));
    assert!(
        text.contains("Shards without records (1):\n  3\n"),
        "{text}"
    );
    assert!(
        text.contains("Plan keys with no record (1):\n  z.jpg\n"),
        "{text}"
    );
    assert!(!text.contains("more than one shard"), "{text}");
}

#[test]
fn nothing_recorded() {
    let summary = summarize(Vec::new(), 2, Some(&keys(&["a.jpg"])));
    assert_eq!(summary.totals, JobTotals::default());
    assert_eq!(summary.wall_ms, 0.0);
    assert_eq!(summary.shards_without_records, [0, 1]);
    assert_eq!(summary.missing, Some(keys(&["a.jpg"])));
    assert_eq!(summary.settings, None);
    let text = text(&summary);
    assert!(text.starts_with(
        "Total files size 0\nTotal compressed files size 0\nCompression rate 0.00\n\
         Processing duration (ms) 0.0\n"
    ));
}

#[test]
fn a_shards_latest_record_stands_for_it() {
    // Shard 0 failed a.jpg, then a rerun compressed it; b.jpg's rerun failed after a success.
    let summary = summarize(
        [
            rec("a.jpg", 0, Kind::Failed, 0),
            rec("b.jpg", 0, Kind::Compressed, 0),
            rec("a.jpg", 0, Kind::Compressed, 500),
            rec("b.jpg", 0, Kind::Failed, 500),
            // Same time: the one written last.
            rec("c.jpg", 0, Kind::Failed, 0),
            rec("c.jpg", 0, Kind::Skipped, 0),
        ],
        1,
        None,
    );
    let t = summary.totals;
    assert_eq!((t.files, t.compressed, t.skipped, t.failed), (3, 1, 1, 1));
    assert_eq!(summary.failed.len(), 1);
    assert_eq!(summary.failed[0].key, "b.jpg");
    assert_eq!(summary.records, 6);
    assert!(summary.done_twice.is_empty());
}

#[test]
fn keys_done_by_two_shards_count_once_and_are_reported() {
    let summary = summarize(
        [
            rec("x.jpg", 0, Kind::Compressed, 0),
            rec("x.jpg", 3, Kind::Compressed, 10),
            // Failed in one shard, done in another: counted by its latest, not done twice.
            rec("y.jpg", 1, Kind::Compressed, 0),
            rec("y.jpg", 2, Kind::Failed, 10),
        ],
        4,
        None,
    );
    assert_eq!(
        summary.done_twice,
        [DoneTwice {
            key: "x.jpg".to_string(),
            shards: vec![0, 3]
        }]
    );
    assert_eq!(summary.totals.files, 2);
    assert_eq!(summary.totals.compressed, 1);
    assert_eq!(summary.totals.failed, 1);
    assert_eq!(summary.totals.input_bytes, 1000);
    assert!(
        text(&summary).contains("Keys done by more than one shard (1):\n  x.jpg (shards 0, 3)\n")
    );
}

#[test]
fn keys_done_with_minority_settings() {
    let mut odd = rec("odd.jpg", 1, Kind::Compressed, 0);
    odd.settings = "q70".to_string();
    let mut failed_odd = rec("f.jpg", 1, Kind::Failed, 0);
    failed_odd.settings = "q60".to_string();
    let summary = summarize(
        [
            rec("a.jpg", 0, Kind::Compressed, 0),
            rec("b.jpg", 1, Kind::Skipped, 0),
            odd,
            failed_odd,
        ],
        2,
        None,
    );
    assert_eq!(summary.settings.as_deref(), Some("q80"));
    assert_eq!(
        summary.other_settings,
        [OtherSettings {
            key: "odd.jpg".to_string(),
            settings: "q70".to_string()
        }]
    );
    let text = text(&summary);
    assert!(text.contains("Most common settings: q80\n"), "{text}");
    assert!(text.contains("Keys done with other settings (1):\n  odd.jpg: q70\n"));
    // A tie goes to the first by text, whichever came first.
    let mut b = rec("b.jpg", 0, Kind::Compressed, 0);
    b.settings = "a-first".to_string();
    let tie = summarize([rec("a.jpg", 0, Kind::Compressed, 0), b], 1, None);
    assert_eq!(tie.settings.as_deref(), Some("a-first"));
    assert_eq!(tie.other_settings[0].key, "a.jpg");
}

#[test]
fn missing_plan_keys_in_plan_order() {
    let plan = keys(&["c.jpg", "a.jpg", "b.jpg", "c.jpg", "d.jpg"]);
    let summary = summarize(
        [
            rec("b.jpg", 0, Kind::Failed, 0),
            // Not started is recorded, so not missing; a key outside the plan still counts.
            rec("d.jpg", 0, Kind::NotStarted, 0),
            rec("extra.jpg", 0, Kind::Compressed, 0),
        ],
        1,
        Some(&plan),
    );
    assert_eq!(summary.missing, Some(keys(&["c.jpg", "a.jpg"])));
    assert_eq!(summary.totals.files, 3);
}

#[test]
fn long_lists_are_cut_in_text_only() {
    let records: Vec<Record> = (0..TEXT_LIST_LIMIT + 5)
        .map(|i| rec(&format!("{i:03}.jpg"), 0, Kind::Failed, 0))
        .collect();
    let summary = summarize(records, 1, None);
    let text = text(&summary);
    assert!(text.contains(&format!("Failed files ({}):", TEXT_LIST_LIMIT + 5)));
    assert!(
        text.contains("  ... and 5 more (the JSON report lists all)\n"),
        "{text}"
    );
    assert!(!text.contains("  050.jpg"));
    let value: serde_json::Value = serde_json::from_str(&json(&summary)).unwrap_or_default();
    assert_eq!(
        value["failed"].as_array().map(Vec::len),
        Some(TEXT_LIST_LIMIT + 5)
    );
}

#[test]
fn json_has_every_figure() {
    let summary = summarize(
        [
            rec("a.jpg", 0, Kind::Compressed, 0),
            rec("f.jpg", 1, Kind::Failed, 0),
        ],
        3,
        Some(&keys(&["a.jpg", "m.jpg"])),
    );
    let value: serde_json::Value = serde_json::from_str(&json(&summary)).unwrap_or_default();
    assert_eq!(value["shard_count"], 3);
    assert_eq!(value["records"], 2);
    assert_eq!(value["totals"]["files"], 2);
    assert_eq!(value["totals"]["failed"], 1);
    assert_eq!(value["totals"]["not_started"], 0);
    assert_eq!(value["totals"]["input_bytes"], 1000);
    assert_eq!(value["totals"]["output_bytes"], 400);
    assert_eq!(value["rate"], 0.4);
    assert_eq!(value["wall_ms"], 100.0);
    assert_eq!(value["summed_ms"], 200.0);
    assert_eq!(value["failed"][0]["key"], "f.jpg");
    assert_eq!(value["failed"][0]["error"], "not a valid JPEG: bad");
    assert_eq!(value["shards_without_records"], serde_json::json!([2]));
    assert_eq!(value["done_twice"], serde_json::json!([]));
    assert_eq!(value["settings"], "q80");
    assert_eq!(value["missing"], serde_json::json!(["m.jpg"]));
}

#[test]
fn merged_shards_equal_one_unsharded_run() {
    // Property: however the keys are sharded, the job's totals are those of one run over
    // all keys (the end-to-end test's "merged report equals the local run's", in small).
    let statuses = [
        Kind::Compressed,
        Kind::KeptOriginal,
        Kind::Skipped,
        Kind::Failed,
    ];
    let all: Vec<(String, Kind)> = (0..400)
        .map(|i| (format!("d{}/{i}.jpg", i % 9), statuses[i * 7 % 4]))
        .collect();
    let one = summarize(all.iter().map(|(k, s)| rec(k, 0, *s, 0)), 1, None);
    for count in [2u64, 3, 8] {
        let sharded = summarize(
            all.iter()
                .map(|(k, s)| rec(k, crate::shard::shard_of(k.as_bytes(), count), *s, 0)),
            count,
            None,
        );
        assert_eq!(sharded.totals, one.totals, "{count} shards");
        assert_eq!(sharded.failed, {
            let mut f = one.failed.clone();
            for x in &mut f {
                x.shard = crate::shard::shard_of(x.key.as_bytes(), count);
            }
            f
        });
        assert!(sharded.done_twice.is_empty());
        assert!(sharded.shards_without_records.is_empty());
    }
}

/// A job as retries, crashes and mistakes leave it: `keys` keys with nested prefixes and odd
/// names over 8 shards, each recorded once to four times (retries of the same shard, earlier,
/// later or at the same start; a key done again by another shard), every status, three
/// settings, errors; the records in a shuffled order; and a plan with keys no record has
/// (some twice), in no sorted order. Durations are quarters of a millisecond, so that their
/// sum is exact in any order (the reference adds them in a hash table's order).
fn messy_job(keys: usize) -> (Vec<Record>, Vec<String>) {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let statuses = [
        Kind::Compressed,
        Kind::Compressed,
        Kind::Compressed,
        Kind::KeptOriginal,
        Kind::Skipped,
        Kind::Failed,
        Kind::NotStarted,
    ];
    let name = |i: usize| match i % 6 {
        0 => format!("2023/{:02}/IMG_{i:05}.jpg", i % 12 + 1),
        1 => format!("trips/été 2021/DSC {i}.JPG"),
        2 => format!("a/b/c/d/{}/{i}.jpeg", i % 7),
        3 => format!("odd/\"quoted\" & $x/#{i}.jpg"),
        4 => format!("p{i}.jpg"),
        _ => format!("日本/{i}\\back.jpg"),
    };
    let mut records = Vec::new();
    for i in 0..keys {
        let key = name(i);
        let home = crate::shard::shard_of(key.as_bytes(), 8);
        for _ in 0..=next(4) {
            let shard = if next(20) == 0 { next(8) } else { home };
            let status = statuses[next(statuses.len() as u64) as usize];
            // Few distinct starts: retries that start at the same millisecond are common.
            let mut r = rec(&key, shard, status, next(6) as i64 * 100);
            r.shards = 8;
            r.duration_ms = next(4000) as f64 / 4.0;
            r.input_bytes = 1000 + next(5000);
            r.output_bytes = next(6000);
            r.method = match next(3) {
                0 => None,
                1 => Some("dct".into()),
                _ => Some("pixel".into()),
            };
            r.settings = ["q80", "q80", "q80", "q80", "q70", "q60 x"][next(6) as usize].into();
            if status == Kind::Failed {
                r.error = (next(5) > 0).then(|| format!("failure {} of {key}", next(3)));
            }
            records.push(r);
        }
    }
    // The order written: shuffled (a key's own records keep no particular order either).
    for i in (1..records.len()).rev() {
        records.swap(i, next(i as u64 + 1) as usize);
    }
    let mut plan: Vec<String> = (0..keys + keys / 10)
        .map(|i| name(i * 7 % (keys + keys / 10)))
        .collect();
    plan.extend((0..20).map(|i| name(keys + i)));
    (records, plan)
}

#[test]
fn same_as_the_reference() {
    let (records, plan) = messy_job(3000);
    let reference = reference::summarize(records.clone(), 8, Some(&plan));
    assert!(reference.failed.len() > TEXT_LIST_LIMIT);
    assert!(!reference.done_twice.is_empty());
    assert!(!reference.other_settings.is_empty());
    assert!(reference.missing.as_ref().is_some_and(|m| !m.is_empty()));
    assert!(reference.totals.kept_original > 0 && reference.totals.not_started > 0);
    // In memory; a sort in many runs with lists mostly on disk; and runs of one or two entries.
    for buffers in [REAL, (64 << 10, 50, 1000), (100, 50, 30)] {
        for plan in [Some(&plan[..]), None] {
            let want = reference::summarize(records.clone(), 8, plan);
            let new = merge(records.clone(), 8, plan, buffers);
            let context = format!("buffers {buffers:?}, plan {}", plan.is_some());
            assert_eq!(super::text(&new), reference::text(&want), "{context}");
            // Not assert_eq: the documents are long.
            assert!(
                super::json(&new).unwrap() == reference::json(&want),
                "{context}"
            );
            assert_eq!(complete(&new), reference::complete(&want), "{context}");
        }
    }
    // A complete job, too.
    let clean: Vec<Record> = (0..500)
        .map(|i| rec(&format!("k/{i}.jpg"), 0, Kind::Compressed, i))
        .collect();
    let new = merge(clean.clone(), 1, None, (1000, 50, 1000));
    let old = reference::summarize(clean, 1, None);
    assert!(complete(&new) && reference::complete(&old));
    assert_eq!(super::json(&new).unwrap(), reference::json(&old));
}
