//! Listing a prefix, past the keys `object_store` refuses.
//!
//! `object_store` turns each listed key into a `Path` with `Path::parse`; a key with an empty
//! segment (`a//b.jpg`), a `.`/`..` segment or an ASCII control character fails that, and the
//! failure takes the whole page (up to 1000 keys) with it. Its `list()` stream then yields the
//! error and ends. We list page by page instead (`PaginatedListStore`, where the cursor is a
//! plain string) and, when a page fails, narrow it down: the same cursor with half as many keys
//! per page, until the good keys before the bad one have been read and a one-key page holds
//! only the bad key. That key goes to [`Listing::invalid`] and the listing goes on with S3's
//! `start-after` set to the bad key's raw text (which `object_store` passes through unparsed).
//! Each bad key costs about 2·log2(1000) ≈ 20 extra requests; a listing without bad keys costs
//! nothing extra.
use std::collections::{BTreeSet, HashSet};
use std::time::SystemTime;

use object_store::ListResult;
use object_store::list::PaginatedListOptions;

use super::error::StorageError;
use super::object::{Bucket, ObjectInfo, ObjectStore, object_info};
use super::url::validate_key_rel;
use crate::extsort::Sorter;

/// S3's page size; the first narrowed page is half of it.
const PAGE: usize = 1000;

/// What a listing found. All keys are relative to the bucket handle's prefix.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    /// The objects, sorted by key. Folder markers (empty objects named like a folder that has
    /// keys below it, as consoles create them) are left out.
    pub objects: Vec<ObjectInfo>,
    /// Without `recursive`: the sub-prefixes (`sub`, no trailing `/`), sorted; with it: empty.
    pub sub_prefixes: Vec<String>,
    /// Keys that were listed but cannot be read through `object_store`, each failing alone.
    pub invalid: Vec<InvalidEntry>,
}

/// A listed key that is not valid. `key` is the raw text (relative to the prefix when below
/// it); a sub-prefix keeps its trailing `/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidEntry {
    /// The key's raw text.
    pub key: String,
    /// Which key rule it breaks, or `object_store`'s error when it breaks none of ours.
    pub reason: String,
}

/// What a listing found besides the objects handed over one by one
/// ([`Bucket::list_each`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rest {
    /// As [`Listing::sub_prefixes`].
    pub sub_prefixes: Vec<String>,
    /// As [`Listing::invalid`].
    pub invalid: Vec<InvalidEntry>,
}

/// Bytes of listed objects held in memory before they go to a temporary file, sorted: about
/// 300,000 objects; a listing of 10^7 keys holds this, not the keys.
const SORT_BYTES: usize = 32 << 20;

impl Bucket {
    /// Lists the objects below `prefix_rel` (relative to the handle's prefix; "" for all of it):
    /// with `recursive`, every object at any depth; without, only those directly below it, and
    /// its sub-prefixes in [`Listing::sub_prefixes`].
    pub fn list(&self, prefix_rel: &str, recursive: bool) -> Result<Listing, StorageError> {
        let mut objects = Vec::new();
        let rest = self.list_each(prefix_rel, recursive, &mut |object| {
            objects.push(object);
            Ok::<(), StorageError>(())
        })?;
        Ok(Listing {
            objects,
            sub_prefixes: rest.sub_prefixes,
            invalid: rest.invalid,
        })
    }

    /// [`list`](Self::list) in bounded memory: each object is handed to `each` in key order
    /// (the order of [`Listing::objects`]); the pages are gathered in an external sort, so a
    /// listing of any size holds about [`SORT_BYTES`] (the rest in anonymous temporary files),
    /// plus its empty objects' keys.
    pub fn list_each<E: From<StorageError>>(
        &self,
        prefix_rel: &str,
        recursive: bool,
        each: &mut dyn FnMut(ObjectInfo) -> Result<(), E>,
    ) -> Result<Rest, E> {
        let remote = &self.inner.remote;
        let (pages, list_url) = self
            .inner
            .runtime
            .block_on(remote.list(prefix_rel, recursive))?;
        pages.finish(each, &list_url)
    }
}

/// Where the next page starts.
enum PageCursor {
    Start,
    Token(String),
    After(String),
}

impl ObjectStore {
    /// The pages below `prefix_rel`, and the listed address (for messages).
    async fn list(
        &self,
        prefix_rel: &str,
        recursive: bool,
    ) -> Result<(Pages, String), StorageError> {
        let list_url = if prefix_rel.is_empty() {
            self.url.to_string()
        } else {
            self.url.object_url(prefix_rel)
        };
        let list_prefix = if prefix_rel.is_empty() {
            self.url.prefix().to_string()
        } else {
            self.url
                .key(prefix_rel)
                .map_err(|reason| StorageError::invalid_key(list_url.clone(), &reason))?
        };
        // S3 prefixes are plain text: "photos/" so that "photos2/x" is not below "photos".
        let list_prefix = (!list_prefix.is_empty()).then(|| format!("{list_prefix}/"));

        let mut found = Pages::new(SORT_BYTES);
        let mut cursor = PageCursor::Start;
        let mut page_size: Option<usize> = None;
        let mut last_bad: Option<String> = None;
        loop {
            let (page_token, offset) = match &cursor {
                PageCursor::Start => (None, None),
                PageCursor::Token(token) => (Some(token.clone()), None),
                PageCursor::After(key) => (None, Some(key.clone())),
            };
            let options = PaginatedListOptions {
                offset,
                page_token,
                max_keys: page_size,
                delimiter: (!recursive).then(|| "/".into()),
                ..Default::default()
            };
            match self
                .lister
                .list_paginated(list_prefix.as_deref(), options)
                .await
            {
                Ok(page) => {
                    found
                        .absorb(self, page.result)
                        .map_err(|e| sort_failed(&list_url, e))?;
                    match page.page_token {
                        Some(token) => cursor = PageCursor::Token(token),
                        None => break,
                    }
                    // While narrowing, fewer than `page_size` good keys are left before the
                    // bad one (the last page of twice the size failed), so halve again.
                    page_size = page_size.map(half);
                }
                Err(error) => {
                    let Some(bad) = refused_key(&error) else {
                        return Err(StorageError::from_store(list_url, error));
                    };
                    if page_size != Some(1) {
                        page_size = Some(half(page_size.unwrap_or(PAGE)));
                        continue;
                    }
                    // A one-key page failed: the key after the cursor is the bad one.
                    if last_bad.as_deref() == Some(bad.as_str()) {
                        return Err(StorageError::Other {
                            url: list_url,
                            message: format!("listing does not get past the invalid key {bad:?}"),
                        });
                    }
                    found.invalid.push(self.invalid_entry(&bad, &error));
                    cursor = PageCursor::After(skip_past(&bad, recursive));
                    last_bad = Some(bad);
                    page_size = None;
                }
            }
        }
        Ok((found, list_url))
    }

    fn invalid_entry(&self, raw: &str, error: &object_store::Error) -> InvalidEntry {
        let key = self.url.relative(raw).unwrap_or(raw).to_string();
        let reason = match validate_key_rel(raw.strip_suffix('/').unwrap_or(raw)) {
            Err(reason) => reason.to_string(),
            Ok(()) => error.to_string(),
        };
        InvalidEntry { key, reason }
    }
}

fn half(size: usize) -> usize {
    size.div_ceil(2).max(1)
}

/// The raw key `Path::parse` refused, when that is what failed the page.
fn refused_key(error: &object_store::Error) -> Option<String> {
    use object_store::path::Error as PathError;
    match error {
        object_store::Error::InvalidPath {
            source: PathError::EmptySegment { path } | PathError::BadSegment { path, .. },
        } => Some(path.clone()),
        _ => None,
    }
}

/// The `start-after` that skips a bad key. A bad sub-prefix (`a/../`, listed with a delimiter)
/// stands for every key that starts with it, and S3 would group those into the same prefix
/// again, so skip past all of them: U+10FFFF sorts after every character a key can continue with.
fn skip_past(bad: &str, recursive: bool) -> String {
    if !recursive && bad.ends_with('/') {
        format!("{bad}\u{10FFFF}")
    } else {
        bad.to_string()
    }
}

/// The pages read so far: the objects in an external sort, by key and then by the order they
/// were listed in.
struct Pages {
    sorter: Sorter,
    /// Objects listed so far: each entry's arrival number.
    listed: u64,
    /// The keys of the empty objects (folder markers are among them).
    empty: HashSet<String>,
    sub_prefixes: BTreeSet<String>,
    invalid: Vec<InvalidEntry>,
}

impl Pages {
    fn new(sort_bytes: usize) -> Self {
        Pages {
            sorter: Sorter::new(sort_bytes),
            listed: 0,
            empty: HashSet::new(),
            sub_prefixes: BTreeSet::new(),
            invalid: Vec::new(),
        }
    }

    fn absorb(&mut self, remote: &ObjectStore, page: ListResult) -> std::io::Result<()> {
        for meta in page.objects {
            let full = meta.location.as_ref().to_string();
            match remote.url.relative(&full) {
                Some(rel) if !rel.is_empty() && validate_key_rel(rel).is_ok() => {
                    self.add(object_info(rel.to_string(), meta))?;
                }
                // `Path::parse` drops a trailing `/`: "photos/" listed under "photos/" comes
                // back as "photos", outside the prefix. It is the folder's own marker.
                _ if meta.size == 0 => {}
                _ => self.invalid.push(InvalidEntry {
                    key: full,
                    reason: "listed, but not below the listed prefix".to_string(),
                }),
            }
        }
        for prefix in page.common_prefixes {
            if let Some(rel) = remote.url.relative(prefix.as_ref()) {
                self.sub_prefixes.insert(rel.to_string());
            }
        }
        Ok(())
    }

    /// One listed object, into the sort.
    fn add(&mut self, object: ObjectInfo) -> std::io::Result<()> {
        if object.size == 0 {
            self.empty.insert(object.key_rel.clone());
        }
        self.sorter
            .push(object.key_rel.as_bytes(), &payload(self.listed, &object))?;
        self.listed += 1;
        Ok(())
    }

    /// Hands every object to `each` in key order, less the folder markers and with one object
    /// a name; returns the rest of the listing.
    fn finish<E: From<StorageError>>(
        mut self,
        each: &mut dyn FnMut(ObjectInfo) -> Result<(), E>,
        list_url: &str,
    ) -> Result<Rest, E> {
        let sorted = self.sorter.finish().map_err(|e| sort_failed(list_url, e))?;
        // A folder marker "sub/" comes back as an empty object "sub" (see `absorb`); it is one
        // when something lies below "sub/". Only empty objects can be markers: the first pass
        // over the sorted keys is made only when there are some.
        let mut markers: HashSet<String> = self
            .empty
            .iter()
            .filter(|key| self.sub_prefixes.contains(*key))
            .cloned()
            .collect();
        if !self.empty.is_empty() {
            sorted
                .for_each(|key, _| {
                    let key = String::from_utf8_lossy(key);
                    let mut rest: &str = &key;
                    while let Some((parent, _)) = rest.rsplit_once('/') {
                        if self.empty.contains(parent) {
                            markers.insert(parent.to_string());
                        }
                        rest = parent;
                    }
                    Ok(())
                })
                .map_err(|e| sort_failed(list_url, e))?;
        }
        // Two objects under one name: `Path::parse` also drops a leading `/` ("/a.jpg" comes
        // back as "a.jpg", at the root of a bucket) and a trailing one ("a.jpg/"). A key is
        // listed once, with the data of the object that has that exact name: the later one in
        // S3's order for a leading `/`, the non-empty one for a trailing `/`.
        let mut kept: Option<ObjectInfo> = None;
        let mut failed: Option<E> = None;
        let invalid = &mut self.invalid;
        sorted
            .for_each(|key, payload| {
                let Some(object) = decode(key, payload) else {
                    return Err(std::io::Error::other(
                        "a corrupt entry in the listing's sort",
                    ));
                };
                if object.size == 0 && markers.contains(&object.key_rel) {
                    return Ok(());
                }
                match &mut kept {
                    Some(previous) if previous.key_rel == object.key_rel => {
                        invalid.push(InvalidEntry {
                            key: object.key_rel.clone(),
                            reason: "listed twice: another key differs from it only by a \
                                     leading or trailing '/'"
                                .to_string(),
                        });
                        if object.size > 0 || previous.size == 0 {
                            *previous = object;
                        }
                    }
                    _ => {
                        if let Some(done) = kept.replace(object)
                            && let Err(err) = each(done)
                        {
                            failed = Some(err);
                            return Err(std::io::Error::other("stopped"));
                        }
                    }
                }
                Ok(())
            })
            .or_else(|e| match failed.take() {
                Some(_) => Ok(()),
                None => Err(sort_failed(list_url, e)),
            })?;
        if let Some(err) = failed {
            return Err(err);
        }
        if let Some(last) = kept {
            each(last)?;
        }
        Ok(Rest {
            sub_prefixes: self.sub_prefixes.into_iter().collect(),
            invalid: self.invalid,
        })
    }
}

/// The listing of `list_url` could not go through its sort's temporary files.
fn sort_failed(list_url: &str, e: std::io::Error) -> StorageError {
    StorageError::Other {
        url: list_url.to_string(),
        message: format!("cannot sort the listing in a temporary file: {e}"),
    }
}

/// An object's sort payload: its arrival number (big-endian, so that equal keys sort in the
/// order they were listed), size, modification time and ETag.
fn payload(listed: u64, object: &ObjectInfo) -> Vec<u8> {
    let since = object
        .last_modified
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    let mut out = Vec::with_capacity(28 + object.etag.as_ref().map_or(0, String::len));
    out.extend_from_slice(&listed.to_be_bytes());
    out.extend_from_slice(&object.size.to_le_bytes());
    out.extend_from_slice(&since.as_secs().to_le_bytes());
    out.extend_from_slice(&since.subsec_nanos().to_le_bytes());
    if let Some(etag) = &object.etag {
        out.extend_from_slice(etag.as_bytes());
    }
    out
}

/// The object a sort entry holds (see [`payload`]); a key of empty ETag has none.
fn decode(key: &[u8], payload: &[u8]) -> Option<ObjectInfo> {
    let word = |at: usize| -> Option<u64> {
        Some(u64::from_le_bytes(
            payload.get(at..at + 8)?.try_into().ok()?,
        ))
    };
    let nanos = u32::from_le_bytes(payload.get(24..28)?.try_into().ok()?);
    let etag = std::str::from_utf8(payload.get(28..)?).ok()?;
    Some(ObjectInfo {
        key_rel: std::str::from_utf8(key).ok()?.to_string(),
        size: word(8)?,
        etag: (!etag.is_empty()).then(|| etag.to_string()),
        last_modified: SystemTime::UNIX_EPOCH + std::time::Duration::new(word(16)?, nanos),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(key: &str, size: u64, etag: Option<&str>, secs: u64) -> ObjectInfo {
        ObjectInfo {
            key_rel: key.to_string(),
            size,
            etag: etag.map(str::to_string),
            last_modified: SystemTime::UNIX_EPOCH + std::time::Duration::new(secs, 7),
        }
    }

    /// What `finish` hands over from `objects` listed in this order, with a sort of
    /// `sort_bytes`.
    fn listed(
        objects: &[ObjectInfo],
        sub_prefixes: &[&str],
        sort_bytes: usize,
    ) -> (Vec<ObjectInfo>, Rest) {
        let mut pages = Pages::new(sort_bytes);
        for o in objects {
            pages.add(o.clone()).expect("add");
        }
        pages.sub_prefixes = sub_prefixes.iter().map(|p| p.to_string()).collect();
        let mut out = Vec::new();
        let rest = pages
            .finish(
                &mut |o| {
                    out.push(o);
                    Ok::<(), StorageError>(())
                },
                "s3://b",
            )
            .expect("finish");
        (out, rest)
    }

    #[test]
    fn sorted_in_memory_or_on_disk_without_markers_and_with_one_object_a_name() {
        let objects = vec![
            object("b/2.jpg", 20, Some("\"e2\""), 2),
            object("a.jpg", 0, None, 3), // "/a.jpg" (leading '/'), empty
            object("b", 0, Some("\"m\""), 4), // the marker "b/"
            object("a.jpg", 10, Some("\"e1\""), 5),
            object("b/1.jpg", 30, None, 6),
            object("c", 0, None, 7), // an empty object, no folder below it
            object("d", 0, None, 8), // a marker of a sub-prefix
            object("b/1.jpg", 31, Some("\"x\""), 9), // the same name again: the later wins
        ];
        let (in_memory, rest) = listed(&objects, &["d"], SORT_BYTES);
        let (on_disk, rest_on_disk) = listed(&objects, &["d"], 64);
        assert_eq!(in_memory, on_disk);
        assert_eq!(rest, rest_on_disk);
        let keys: Vec<(&str, u64)> = in_memory
            .iter()
            .map(|o| (o.key_rel.as_str(), o.size))
            .collect();
        assert_eq!(
            keys,
            [("a.jpg", 10), ("b/1.jpg", 31), ("b/2.jpg", 20), ("c", 0)]
        );
        assert_eq!(in_memory[0], objects[3]);
        assert_eq!(in_memory[1], objects[7]);
        assert_eq!(
            rest.invalid
                .iter()
                .map(|i| i.key.as_str())
                .collect::<Vec<_>>(),
            ["a.jpg", "b/1.jpg"]
        );
        assert!(rest.invalid[0].reason.contains("listed twice"));
        assert_eq!(rest.sub_prefixes, ["d"]);
    }

    #[test]
    fn many_keys_spill_and_come_back_in_order() {
        let objects: Vec<ObjectInfo> = (0..5000u64)
            .rev()
            .map(|i| object(&format!("k/{i:05}.jpg"), i + 1, Some("\"e\""), i))
            .collect();
        let (out, _) = listed(&objects, &[], 4096);
        assert_eq!(out.len(), 5000);
        assert!(out.windows(2).all(|w| w[0].key_rel < w[1].key_rel));
        assert_eq!(out[0], objects[4999]);
    }
}
