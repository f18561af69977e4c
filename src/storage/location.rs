//! Where inputs, outputs, key lists and manifests live: a local path, or an object-storage
//! prefix (`s3://bucket/prefix`). Local paths keep everything they do; an argument is an
//! object address only when it starts with `s3://`.
use std::ffi::OsStr;
use std::fmt;
use std::path::PathBuf;

use crate::storage::{Bucket, ObjectUrl, StorageError, UrlError, check_scheme, is_object_url};

/// A place: a local path or a bucket prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A local file or folder.
    Local(PathBuf),
    /// An `s3://bucket/prefix` address.
    Object(ObjectUrl),
}

impl Location {
    /// `s3://bucket/prefix` is an object prefix; a mistyped one (`S3://`, `s3:/`, `s3:b`) or
    /// another scheme's address (`http://...`) is refused; anything else is a local path.
    pub fn parse(arg: &OsStr) -> Result<Location, UrlError> {
        match arg.to_str() {
            Some(text) if is_object_url(text) => Ok(Location::Object(ObjectUrl::parse(text)?)),
            Some(text) => {
                check_scheme(text)?;
                Ok(Location::Local(PathBuf::from(arg)))
            }
            None => Ok(Location::Local(PathBuf::from(arg))),
        }
    }

    /// True for a bucket prefix.
    pub fn is_object(&self) -> bool {
        matches!(self, Location::Object(_))
    }

    /// A place below this one (`name` a relative key, `/`-separated).
    pub fn join(&self, name: &str) -> Result<Location, StorageError> {
        match self {
            Location::Local(path) => Ok(Location::Local(path.join(name))),
            Location::Object(url) => {
                url.child(name)
                    .map(Location::Object)
                    .map_err(|reason| StorageError::InvalidKey {
                        url: url.object_url(name),
                        reason: reason.to_string(),
                    })
            }
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Local(path) => write!(f, "{}", path.display()),
            Location::Object(url) => write!(f, "{url}"),
        }
    }
}

/// Reads a whole small file (a key list, a manifest part) from a local path or an object
/// address (`s3://bucket/key`).
pub fn read_small(place: &OsStr, max_bytes: u64) -> Result<Vec<u8>, String> {
    match Location::parse(place).map_err(|e| e.to_string())? {
        Location::Local(path) => {
            let meta = std::fs::metadata(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            if !meta.is_file() {
                return Err(format!("{}: not a regular file", path.display()));
            }
            if meta.len() > max_bytes {
                return Err(format!(
                    "{}: {} bytes, more than {max_bytes}",
                    path.display(),
                    meta.len()
                ));
            }
            std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))
        }
        Location::Object(url) => {
            // The address names one object: its parent prefix is the bucket handle's.
            let (parent, name) = match url.prefix().rsplit_once('/') {
                Some((parent, name)) => (parent.to_string(), name.to_string()),
                None => (String::new(), url.prefix().to_string()),
            };
            let parent_url = if parent.is_empty() {
                url.root()
            } else {
                url.root().child(&parent).map_err(|e| e.to_string())?
            };
            let bucket = Bucket::connect(&parent_url).map_err(|e| e.to_string())?;
            let fetched = bucket.get(&name, max_bytes).map_err(|e| e.to_string())?;
            Ok(fetched.bytes.to_vec())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_addresses_and_paths() {
        let object = Location::parse(OsStr::new("s3://in/photos/")).expect("parse");
        assert_eq!(object.to_string(), "s3://in/photos");
        assert!(object.is_object());
        let local = Location::parse(OsStr::new("IMAGES")).expect("parse");
        assert_eq!(local, Location::Local(PathBuf::from("IMAGES")));
        assert!(Location::parse(OsStr::new("s3://")).is_err());
        for typo in [
            "S3://out/x",
            "s3:/out/x",
            "s3:out",
            "S3:",
            "http://host/x",
            "GS://b/p",
            "file:///tmp/x",
        ] {
            assert!(Location::parse(OsStr::new(typo)).is_err(), "{typo}");
        }
        for path in [
            "IMAGES",
            "./s3",
            "s3",
            "my:folder",
            "a/b://c",
            "123://x",
            "-",
        ] {
            assert!(
                matches!(Location::parse(OsStr::new(path)), Ok(Location::Local(_))),
                "{path}"
            );
        }
        assert!(object.join("../x").is_err());
        assert_eq!(
            object.join("a/b").expect("join").to_string(),
            "s3://in/photos/a/b"
        );
    }
}
