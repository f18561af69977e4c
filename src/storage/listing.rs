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

use object_store::ListResult;
use object_store::list::PaginatedListOptions;

use super::error::StorageError;
use super::object::{Bucket, ObjectInfo, ObjectStore, object_info};
use super::url::validate_key_rel;

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

impl Bucket {
    /// Lists the objects below `prefix_rel` (relative to the handle's prefix; "" for all of it):
    /// with `recursive`, every object at any depth; without, only those directly below it, and
    /// its sub-prefixes in [`Listing::sub_prefixes`].
    pub fn list(&self, prefix_rel: &str, recursive: bool) -> Result<Listing, StorageError> {
        let remote = &self.inner.remote;
        self.inner
            .runtime
            .block_on(remote.list(prefix_rel, recursive))
    }
}

/// Where the next page starts.
enum PageCursor {
    Start,
    Token(String),
    After(String),
}

impl ObjectStore {
    async fn list(&self, prefix_rel: &str, recursive: bool) -> Result<Listing, StorageError> {
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

        let mut found = Pages::default();
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
                    found.absorb(self, page.result);
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
        Ok(found.finish())
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

/// The pages read so far.
#[derive(Default)]
struct Pages {
    objects: Vec<ObjectInfo>,
    sub_prefixes: BTreeSet<String>,
    invalid: Vec<InvalidEntry>,
}

impl Pages {
    fn absorb(&mut self, remote: &ObjectStore, page: ListResult) {
        for meta in page.objects {
            let full = meta.location.as_ref().to_string();
            match remote.url.relative(&full) {
                Some(rel) if !rel.is_empty() && validate_key_rel(rel).is_ok() => {
                    let rel = rel.to_string();
                    self.objects.push(object_info(rel, meta));
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
    }

    fn finish(mut self) -> Listing {
        self.objects.sort_by(|a, b| a.key_rel.cmp(&b.key_rel));
        // A folder marker "sub/" comes back as an empty object "sub" (see `absorb`); it is one
        // when something lies below "sub/".
        let mut folders: HashSet<&str> = self.sub_prefixes.iter().map(String::as_str).collect();
        for object in &self.objects {
            let mut key = object.key_rel.as_str();
            while let Some((parent, _)) = key.rsplit_once('/') {
                folders.insert(parent);
                key = parent;
            }
        }
        let markers: HashSet<String> = self
            .objects
            .iter()
            .filter(|o| o.size == 0 && folders.contains(o.key_rel.as_str()))
            .map(|o| o.key_rel.clone())
            .collect();
        self.objects
            .retain(|o| !(o.size == 0 && markers.contains(&o.key_rel)));
        // Two objects under one name: `Path::parse` also drops a leading `/` ("/a.jpg" comes
        // back as "a.jpg", at the root of a bucket) and a trailing one ("a.jpg/"). A key is
        // listed once, with the data of the object that has that exact name: the later one in
        // S3's order for a leading `/`, the non-empty one for a trailing `/`.
        let mut objects: Vec<ObjectInfo> = Vec::with_capacity(self.objects.len());
        for object in self.objects {
            match objects.last_mut() {
                Some(kept) if kept.key_rel == object.key_rel => {
                    self.invalid.push(InvalidEntry {
                        key: object.key_rel.clone(),
                        reason: "listed twice: another key differs from it only by a leading \
                                 or trailing '/'"
                            .to_string(),
                    });
                    if object.size > 0 || kept.size == 0 {
                        *kept = object;
                    }
                }
                _ => objects.push(object),
            }
        }
        Listing {
            objects,
            sub_prefixes: self.sub_prefixes.into_iter().collect(),
            invalid: self.invalid,
        }
    }
}
