//! The streamed plan against the plan as it was before (kept here as the reference): the same
//! lists, byte for byte, and the same `plan.json`.
use super::*;
use std::fs;

/// The plan before it streamed: the whole listing in memory, dealt into lists, each list
/// written whole.
mod reference {
    use super::*;

    type Listed = (Vec<KeyEntry>, Vec<(String, String)>);

    fn list(path: &Path, opts: &Options) -> Result<Listed, SetupError> {
        let jobs = crate::inputs::walk::list(std::slice::from_ref(&path.to_path_buf()), opts)?;
        let mut invalid = Vec::new();
        let mut entries = Vec::new();
        for job in jobs {
            match (&job.problem, crate::storage::validate_key_rel(&job.key)) {
                (None, Ok(())) => entries.push(KeyEntry {
                    size: std::fs::metadata(&job.input).ok().map(|m| m.len()),
                    key: job.key,
                    etag: None,
                }),
                (Some(problem), _) => invalid.push((job.key, problem.clone())),
                (None, Err(why)) => invalid.push((job.key, why.to_string())),
            }
        }
        Ok((entries, invalid))
    }

    /// The files the plan wrote (`shard-K.keys`..., then `plan.json`), with their bytes.
    pub fn plan(
        input: &Path,
        count: u64,
        opts: &Options,
    ) -> Result<Vec<(String, Vec<u8>)>, SetupError> {
        let (entries, invalid) = list(input, opts)?;
        let lists = shard::split_keys(entries, count);
        let summary = PlanSummary {
            input: Location::Local(input.to_path_buf()).to_string(),
            recursive: opts.recursive,
            shard_count: count,
            keys: lists.iter().map(Vec::len).sum(),
            per_shard: lists.iter().map(Vec::len).collect(),
            invalid,
        };
        let mut files: Vec<(String, Vec<u8>)> = lists
            .iter()
            .enumerate()
            .map(|(k, list)| (keys_name(k as u64), keylist::write(list).into_bytes()))
            .collect();
        let json = serde_json::to_string_pretty(&summary).unwrap_or_default();
        files.push(("plan.json".into(), json.into_bytes()));
        Ok(files)
    }
}

/// A photo library's shape, a few thousand empty or small files: nested folders, names that
/// sort around `/` (`a-b`, `a.b`, `a0`), any case, spaces, non-ASCII, shell characters, every
/// JPEG extension; hidden and system entries, files that are not JPEGs, a link to a folder
/// already walked and a loop (each folder is walked once), a dangling link (a key without a
/// size), and a name that is not a valid key (a control character).
fn library(root: &Path) -> usize {
    let folders = [
        "",
        "2023/01",
        "2023/02/raw",
        "a",
        "a-b",
        "a.b",
        "a0",
        "a/b/c/d/e/f",
        "trips/été 2021",
        "trips/été 2021/Tokyo #2",
        "Z caps",
        "odd/$HOME & 'quotes'",
        "odd/[brackets]{braces}",
        "ünïcödé/日本",
    ];
    let names = |i: usize| match i % 9 {
        0 => format!("IMG_{i:05}.jpg"),
        1 => format!("DSC {i}.JPG"),
        2 => format!("p{i}.jpeg"),
        3 => format!("scan-{i}.JFIF"),
        4 => format!("x{i}.jpe"),
        5 => format!("é{i}ü.jpg"),
        6 => format!("{i}"),
        7 => format!("b-{i}.jpg"),
        _ => format!("#{i} (copy).Jpg"),
    };
    let mut files = 0;
    for (f, folder) in folders.iter().enumerate() {
        let dir = root.join(folder);
        fs::create_dir_all(&dir).unwrap();
        for i in 0..230 {
            let name = format!("{}.jpg", names(i * 31 + f)).replace(".jpg.jpg", ".jpg");
            // Sizes vary: most files are empty, some hold a few bytes.
            fs::write(dir.join(&name), vec![0u8; (i * f) % 5]).unwrap();
            files += 1;
        }
        for skipped in [
            ".hidden.jpg",
            "._IMG.jpg",
            "Thumbs.db",
            "notes.txt",
            "a.png",
        ] {
            fs::write(dir.join(skipped), b"x").unwrap();
        }
        fs::create_dir_all(dir.join("@eaDir")).unwrap();
        fs::write(dir.join("@eaDir/thumb.jpg"), b"x").unwrap();
    }
    fs::write(root.join("bad\u{1}name.jpg"), b"").unwrap();
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(root.join("a/b"), root.join("link-to-b")).unwrap();
        std::os::unix::fs::symlink(root.join("a"), root.join("a/b/c/loop")).unwrap();
        std::os::unix::fs::symlink(root.join("gone.jpg"), root.join("dangling.jpg")).unwrap();
    }
    files
}

fn read_all(dir: &Path, names: impl Iterator<Item = String>) -> Vec<(String, Vec<u8>)> {
    names
        .map(|name| {
            let bytes = fs::read(dir.join(&name)).unwrap_or_else(|e| panic!("{name}: {e}"));
            (name, bytes)
        })
        .collect()
}

#[test]
fn streamed_lists_equal_the_whole_listing_dealt_out() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("library");
    let files = library(&input);
    assert!(files > 3000, "{files}");
    for recursive in [true, false] {
        let opts = Options {
            recursive,
            ..Options::default()
        };
        // Buffers of 1 byte (every key appended at once), a few KiB (many flushes) and the
        // real size (one flush at the end).
        for (count, buffer) in [(1, 4096), (7, 1), (64, 3000), (1000, BUFFER_BYTES)] {
            let expected = reference::plan(&input, count, &opts).unwrap();
            let to = tmp
                .path()
                .join(format!("plan-{recursive}-{count}-{buffer}"));
            let summary = plan_buffered(
                &Location::Local(input.clone()),
                count,
                &Location::Local(to.clone()),
                &opts,
                buffer,
            )
            .unwrap();
            let names = (0..count).map(keys_name).chain(["plan.json".to_string()]);
            let written = read_all(&to, names);
            assert_eq!(written.len(), expected.len());
            for ((name, bytes), (want_name, want)) in written.iter().zip(&expected) {
                assert_eq!(name, want_name);
                assert!(
                    bytes == want,
                    "{name} ({count} shards, recursive {recursive}, buffer {buffer}):\n{}\n---\n{}",
                    String::from_utf8_lossy(bytes),
                    String::from_utf8_lossy(want)
                );
            }
            if recursive {
                // Both walks saw the nested keys, the link's copy, the bad name.
                assert!(summary.keys > 3000, "{}", summary.keys);
                assert!(summary.invalid.iter().any(|(k, _)| k.contains('\u{1}')));
            }
            // Nothing else is left in the folder: the temporary one is gone.
            let mut left: Vec<String> = fs::read_dir(&to)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            left.sort();
            assert_eq!(left.len() as u64, count + 1, "{left:?}");
            assert!(left.iter().all(|n| !n.starts_with('.')), "{left:?}");
        }
    }
}

#[test]
fn a_missing_input_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let to = tmp.path().join("plan");
    let err = plan(
        &Location::Local(tmp.path().join("nothing here")),
        4,
        &Location::Local(to.clone()),
        &Options::default(),
    )
    .unwrap_err();
    assert!(matches!(err, SetupError::MissingInput(_)), "{err}");
    assert!(!to.exists());
}

#[test]
fn every_shard_has_a_list_even_an_empty_one() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    fs::create_dir_all(&input).unwrap();
    fs::write(input.join("one.jpg"), b"").unwrap();
    let to = tmp.path().join("plan");
    let summary = plan(
        &Location::Local(input),
        5,
        &Location::Local(to.clone()),
        &Options::default(),
    )
    .unwrap();
    assert_eq!(summary.keys, 1);
    assert_eq!(summary.per_shard.iter().filter(|&&n| n == 0).count(), 4);
    for k in 0..5 {
        let list = fs::read_to_string(to.join(keys_name(k))).unwrap();
        assert_eq!(list.is_empty(), summary.per_shard[k as usize] == 0);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(to.join(keys_name(0)))
            .unwrap()
            .permissions()
            .mode();
        let json_mode = fs::metadata(to.join("plan.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, json_mode & 0o777);
    }
}
