//! The object-storage seam against a real S3 server (moto on loopback): listing (pages, folders,
//! invalid keys), whole-object reads and writes, errors, prefetch and background uploads, and a
//! server that dies. Each test starts its own server.

use std::collections::BTreeSet;
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use bytes::Bytes;
use photopress::storage::{BucketOptions, InvalidEntry, Prefetcher, StorageError};

use crate::moto::Moto;

/// Deterministic bytes that differ from object to object (and from part to part of a big one).
fn content(seed: u64, len: usize) -> Bytes {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..len)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 56) as u8
        })
        .collect::<Vec<u8>>()
        .into()
}

fn keys_of(listing: &photopress::storage::Listing) -> Vec<String> {
    listing.objects.iter().map(|o| o.key_rel.clone()).collect()
}

#[test]
fn listing_pages_folders_and_invalid_keys() {
    let moto = Moto::start();
    moto.create_bucket("list-test");
    let root = moto.bucket("s3://list-test");

    // 1100 keys: more than one page of 1000.
    let many: Vec<String> = (0..1100).map(|i| format!("k{i:04}.jpg")).collect();
    let pending: Vec<_> = many
        .iter()
        .map(|k| root.put_background(&format!("many/{k}"), Bytes::from(k.clone())))
        .collect();
    for put in pending {
        put.wait().unwrap_or_else(|e| panic!("{e}"));
    }
    for key in [
        "many/sub/s1.jpg",
        "many/sub/deeper/s2.jpg",
        "many/sub2/x.jpg",
        "many2/x.jpg",
    ] {
        root.put(key, Bytes::from_static(b"x"))
            .unwrap_or_else(|e| panic!("{e}"));
    }
    // A console-made folder marker, and keys object_store cannot parse, in the first page, at
    // its end and in the second page, two of them adjacent.
    moto.put_raw("list-test", "many/sub/", b"");
    let bad = [
        "many/..",
        "many/../z.jpg",
        "many/a//b.jpg",
        "many/k0700/../x.jpg",
        "many/k1050//y.jpg",
    ];
    for key in bad {
        moto.put_raw("list-test", key, b"bad");
    }

    let many_url = moto.bucket("s3://list-test/many/");
    let all = many_url.list("", true).unwrap_or_else(|e| panic!("{e}"));
    let mut expected = many.clone();
    expected.extend(["sub/deeper/s2.jpg", "sub/s1.jpg", "sub2/x.jpg"].map(String::from));
    expected.sort();
    assert_eq!(keys_of(&all), expected, "every good key, once, sorted");
    assert!(all.sub_prefixes.is_empty());
    let invalid: Vec<&str> = all.invalid.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(
        invalid,
        [
            "..",
            "../z.jpg",
            "a//b.jpg",
            "k0700/../x.jpg",
            "k1050//y.jpg"
        ]
    );
    assert_eq!(
        all.invalid[2],
        InvalidEntry {
            key: "a//b.jpg".to_string(),
            reason: "the key has an empty segment ('//' or a trailing '/')".to_string()
        }
    );
    assert!(
        all.invalid[0].reason.contains("'..'"),
        "{:?}",
        all.invalid[0]
    );
    let first = &all.objects[0];
    assert_eq!((first.key_rel.as_str(), first.size), ("k0000.jpg", 9));
    assert!(first.etag.as_deref().is_some_and(|e| e.len() > 2));

    // One level: the objects directly below, the sub-prefixes, and a bad sub-prefix ("../").
    let level = many_url.list("", false).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(keys_of(&level), many);
    assert_eq!(level.sub_prefixes, ["a", "k0700", "k1050", "sub", "sub2"]);
    let invalid: Vec<&str> = level.invalid.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(invalid, ["..", "../"]);

    // Below a sub-prefix, keys stay relative to the handle's prefix; "many2" is not "many".
    let sub = many_url
        .list("sub", false)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(keys_of(&sub), ["sub/s1.jpg"]);
    assert_eq!(sub.sub_prefixes, ["sub/deeper"]);
    let whole = root.list("", false).unwrap_or_else(|e| panic!("{e}"));
    assert!(whole.objects.is_empty());
    assert_eq!(whole.sub_prefixes, ["many", "many2"]);
    let err = many_url.list("a//b", true).err();
    assert!(
        matches!(err, Some(StorageError::InvalidKey { .. })),
        "{err:?}"
    );

    // Keys that `Path::parse` changes: a leading '/' (at the root) and a trailing one.
    moto.create_bucket("edge-test");
    let edge = moto.bucket("s3://edge-test");
    moto.put_raw("edge-test", "%2Flead.jpg", b"slash-lead");
    moto.put_raw("edge-test", "trail.jpg/", b"");
    edge.put("lead.jpg", Bytes::from_static(b"real"))
        .unwrap_or_else(|e| panic!("{e}"));
    edge.put("trail.jpg", Bytes::from_static(b"real"))
        .unwrap_or_else(|e| panic!("{e}"));
    let listed = edge.list("", true).unwrap_or_else(|e| panic!("{e}"));
    let found: Vec<(&str, u64)> = listed
        .objects
        .iter()
        .map(|o| (o.key_rel.as_str(), o.size))
        .collect();
    assert_eq!(found, [("lead.jpg", 4), ("trail.jpg", 4)]);
    let twice: Vec<&str> = listed.invalid.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(twice, ["lead.jpg", "trail.jpg"], "{:?}", listed.invalid);

    // Why listing.rs pages by hand: object_store's own listing fails as a whole.
    let store = object_store::aws::AmazonS3Builder::new()
        .with_bucket_name("list-test")
        .with_endpoint(moto.endpoint())
        .with_allow_http(true)
        .with_access_key_id("testing")
        .with_secret_access_key("testing")
        .with_region("us-east-1")
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let prefix = object_store::path::Path::parse("many").unwrap_or_else(|e| panic!("{e}"));
    let plain = runtime.block_on(object_store::ObjectStore::list_with_delimiter(
        &store,
        Some(&prefix),
    ));
    assert!(
        matches!(plain, Err(object_store::Error::InvalidPath { .. })),
        "object_store now lists past invalid keys; listing.rs could be simpler: {plain:?}"
    );
}

#[test]
fn objects_round_trip_and_fail_alone() {
    let moto = Moto::start();
    moto.create_bucket("obj-test");
    let bucket = moto.bucket("s3://obj-test/out");

    let small = content(1, 1000);
    let etag = bucket
        .put("dir/a.jpg", small.clone())
        .unwrap_or_else(|e| panic!("{e}"));
    let got = bucket
        .get("dir/a.jpg", 1 << 20)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(got.bytes, small);
    assert_eq!(got.size, 1000);
    assert!(etag.is_some());
    assert_eq!(got.etag, etag);
    let head = bucket.head("dir/a.jpg").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((head.size, head.etag), (1000, etag));

    // Keys are taken literally: no percent-encoding on the way in or out.
    let odd = "caf\u{e9} %20+x.jpg";
    bucket
        .put(odd, Bytes::from_static(b"odd"))
        .unwrap_or_else(|e| panic!("{e}"));
    let listed = bucket.list("", false).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(keys_of(&listed), [odd]);
    assert_eq!(
        bucket.get(odd, 10).map(|f| f.bytes).ok(),
        Some(Bytes::from_static(b"odd"))
    );

    // 20 MiB goes in parts; the object is whole and its ETag is a multipart one ("…-3").
    let big = content(2, 20 << 20);
    let etag = bucket
        .put("big.bin", big.clone())
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        etag.as_deref().is_some_and(|e| e.ends_with("-3\"")),
        "{etag:?}"
    );
    let got = bucket
        .get("big.bin", 64 << 20)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(got.bytes == big, "20 MiB round trip differs");

    match bucket.get("missing/x.jpg", 1 << 20) {
        Err(e @ StorageError::NotFound { .. }) => {
            assert_eq!(e.to_string(), "s3://obj-test/out/missing/x.jpg: not found");
        }
        other => panic!("expected NotFound, got {other:?}"),
    }
    match bucket.get("dir/a.jpg", 999) {
        Err(StorageError::TooLarge { url, size, limit }) => {
            assert_eq!(
                (url.as_str(), size, limit),
                ("s3://obj-test/out/dir/a.jpg", 1000, 999)
            );
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
    for key in ["a//b.jpg", "../x.jpg", "/abs.jpg", "x\u{1}.jpg"] {
        let err = bucket.put(key, Bytes::from_static(b"no")).err();
        assert!(
            matches!(err, Some(StorageError::InvalidKey { .. })),
            "{key:?}: {err:?}"
        );
    }
    // The refused keys were never sent: still only what we wrote.
    let everything = moto
        .bucket("s3://obj-test")
        .list("", true)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        keys_of(&everything),
        ["out/big.bin", "out/caf\u{e9} %20+x.jpg", "out/dir/a.jpg"]
    );

    // Blocking calls from many threads at once share the handle.
    std::thread::scope(|scope| {
        for t in 0..8 {
            let bucket = &bucket;
            let small = &small;
            scope.spawn(move || {
                for _ in 0..5 {
                    let got = bucket.get("dir/a.jpg", 1 << 20);
                    assert_eq!(
                        got.map(|f| f.bytes).ok().as_ref(),
                        Some(small),
                        "thread {t}"
                    );
                }
            });
        }
    });

    bucket.delete("dir/a.jpg").unwrap_or_else(|e| panic!("{e}"));
    assert!(matches!(
        bucket.get("dir/a.jpg", 1 << 20),
        Err(StorageError::NotFound { .. })
    ));
}

type Taken = (usize, Result<Bytes, StorageError>);

/// Takes `order` from another thread, reporting each take. Detached, so that a deadlock fails
/// the test (see [`collect_takes`]) instead of hanging it.
fn take_all(prefetch: &Arc<Prefetcher>, order: Vec<usize>, sender: mpsc::Sender<Taken>) {
    let prefetch = Arc::clone(prefetch);
    std::thread::spawn(move || {
        for i in order {
            let _ = sender.send((i, prefetch.take(i).map(|f| f.bytes)));
        }
    });
}

/// Checks `count` takes against `expected`, failing when none arrives for a minute.
fn collect_takes(
    done: mpsc::Receiver<Taken>,
    count: usize,
    expected: impl Fn(usize) -> Bytes,
) -> usize {
    let mut taken = BTreeSet::new();
    while taken.len() < count {
        match done.recv_timeout(Duration::from_secs(60)) {
            Ok((i, bytes)) => {
                let bytes = bytes.unwrap_or_else(|e| panic!("index {i}: {e}"));
                assert!(bytes == expected(i), "index {i}: other bytes");
                assert!(taken.insert(i), "index {i} twice");
            }
            Err(e) => panic!(
                "takes stuck after {} of {count} ({e}): deadlock",
                taken.len()
            ),
        }
    }
    taken.len()
}

#[test]
fn prefetch_in_any_order_and_background_uploads() {
    let moto = Moto::start();
    moto.create_bucket("pre-test");
    let options = BucketOptions {
        max_uploads_in_flight: 2,
        ..moto.options()
    };
    let bucket = moto.bucket_with("s3://pre-test/in", &options);
    let pending: Vec<_> = (0..40)
        .map(|i| bucket.put_background(&format!("p{i:02}.jpg"), content(i as u64, 1000 + 37 * i)))
        .collect();
    for put in pending {
        assert!(put.wait().unwrap_or_else(|e| panic!("{e}")).is_some());
    }
    assert_eq!(
        bucket.list("", true).map(|l| l.objects.len()).ok(),
        Some(40)
    );

    let keys_40 = || (0..40).map(|i| format!("p{i:02}.jpg")).collect::<Vec<_>>();
    let mut keys = keys_40();
    keys.push("p-missing.jpg".to_string());
    keys.push("p00.jpg".to_string());
    let expected = move |index: usize| {
        let i = if index == 41 { 0 } else { index };
        content(i as u64, 1000 + 37 * i)
    };

    // Window 3 and a budget of about two objects; the first take is the last index (not
    // started), then blocks of four taken backwards.
    let prefetch = Arc::new(bucket.prefetch(keys.clone(), 3, 2500, 1 << 20));
    let mut order = vec![41];
    for block in (0..40).collect::<Vec<_>>().chunks(4) {
        order.extend(block.iter().rev());
    }
    let (sender, done) = mpsc::channel();
    take_all(&prefetch, order, sender);
    assert_eq!(collect_takes(done, 41, expected), 41);
    assert!(matches!(
        prefetch.take(40),
        Err(StorageError::NotFound { .. })
    ));
    assert!(
        matches!(prefetch.take(3), Err(StorageError::Other { .. })),
        "taken twice"
    );
    assert!(
        matches!(prefetch.take(42), Err(StorageError::Other { .. })),
        "out of range"
    );

    // Four threads at once, each taking its own indices from the end, and a budget of one byte.
    let prefetch = Arc::new(bucket.prefetch(keys, 2, 1, 1 << 20));
    let (sender, done) = mpsc::channel();
    for t in 0..4 {
        take_all(
            &prefetch,
            (0..40).rev().filter(|i| i % 4 == t).collect(),
            sender.clone(),
        );
    }
    drop(sender);
    assert_eq!(collect_takes(done, 40, expected), 40);

    // Three workers pulling in key order until none is left: each index once.
    let prefetch = Arc::new(bucket.prefetch(keys_40(), 4, 1 << 20, 1 << 20));
    let (sender, done) = mpsc::channel();
    for _ in 0..3 {
        let prefetch = Arc::clone(&prefetch);
        let sender = sender.clone();
        std::thread::spawn(move || {
            while let Some((i, fetched)) = prefetch.next() {
                let _ = sender.send((i, fetched.map(|f| f.bytes)));
            }
        });
    }
    drop(sender);
    assert_eq!(collect_takes(done, 40, expected), 40);
    assert!(prefetch.next().is_none());

    // Too large for the per-object limit: refused, the others go on.
    let prefetch = bucket.prefetch(vec!["p39.jpg".into(), "p00.jpg".into()], 2, 1 << 20, 1500);
    assert!(matches!(
        prefetch.take(0),
        Err(StorageError::TooLarge { .. })
    ));
    assert_eq!(prefetch.take(1).map(|f| f.bytes).ok(), Some(expected(0)));
}

#[test]
fn a_server_that_dies_gives_an_error_after_bounded_retries() {
    let mut moto = Moto::start();
    moto.create_bucket("dies");
    let options = BucketOptions {
        max_retries: 3,
        retry_timeout: Duration::from_secs(3),
        initial_backoff: Duration::from_millis(50),
        max_backoff: Duration::from_millis(500),
        connect_timeout: Duration::from_secs(1),
        request_timeout: Duration::from_secs(3),
        ..moto.options()
    };
    let bucket = moto.bucket_with("s3://dies/x", &options);
    bucket
        .put("a.jpg", Bytes::from_static(b"a"))
        .unwrap_or_else(|e| panic!("{e}"));
    moto.kill();

    let started = Instant::now();
    let err = bucket.get("a.jpg", 1 << 20).err();
    let elapsed = started.elapsed();
    match &err {
        Some(StorageError::Transient { url, message }) => {
            assert_eq!(url, "s3://dies/x/a.jpg");
            assert!(message.contains("retries"), "{message}");
            assert!(
                !message.contains("testing"),
                "no credentials in messages: {message}"
            );
        }
        other => panic!("expected Transient, got {other:?}"),
    }
    assert!(elapsed < Duration::from_secs(15), "took {elapsed:?}");
    let listing = bucket.list("", true).err();
    assert!(
        matches!(listing, Some(StorageError::Transient { .. })),
        "{listing:?}"
    );
    let put = bucket
        .put_background("b.jpg", Bytes::from_static(b"b"))
        .wait()
        .err();
    assert!(
        matches!(put, Some(StorageError::Transient { .. })),
        "{put:?}"
    );
    let prefetch = bucket.prefetch(vec!["a.jpg".into()], 1, 1 << 20, 1 << 20);
    assert!(matches!(
        prefetch.take(0),
        Err(StorageError::Transient { .. })
    ));
}
