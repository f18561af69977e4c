//! Bucket addresses — `s3://bucket/prefix`, `gs://bucket/prefix`, `az://container/prefix`
//! (and Azure's `https://ACCOUNT.blob.core.windows.net/container/prefix`) — and relative keys.
//!
//! A prefix is read like a folder: the objects below `s3://b/photos` are `photos/<relative key>`,
//! and an empty prefix is the whole bucket. Relative keys come from listings and from key lists
//! that may be untrusted (`--keys-from`), so every one is checked here before it is joined into
//! a key: no empty segment, no `.`/`..` segment, no control character, no leading `/` — the same
//! rules as `object_store`'s `Path::parse`, checked by us so that a bad key is an error about that
//! key and never a different key (`Path::parse` silently strips a leading `/`).
use std::fmt;

/// The object stores photopress reads and writes, by the scheme of their addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// Amazon S3 and S3-compatible servers: `s3://`.
    S3,
    /// Google Cloud Storage: `gs://`.
    Gcs,
    /// Azure Blob Storage: `az://` (a container, then a prefix).
    Azure,
}

impl Scheme {
    /// The address's start: `s3://`, `gs://` or `az://`.
    pub fn prefix(self) -> &'static str {
        match self {
            Scheme::S3 => "s3://",
            Scheme::Gcs => "gs://",
            Scheme::Azure => "az://",
        }
    }

    const ALL: [Scheme; 3] = [Scheme::S3, Scheme::Gcs, Scheme::Azure];

    /// The scheme `text` starts with, if any (exact, lower case).
    fn of(text: &str) -> Option<Scheme> {
        Scheme::ALL
            .into_iter()
            .find(|s| text.starts_with(s.prefix()))
    }
}

/// Azure's own form of a container address: `https://ACCOUNT.blob.core.windows.net/...`.
const AZURE_HOST: &str = ".blob.core.windows.net";

/// Why a text is not a usable `s3://bucket/prefix` address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    /// The text (held) does not start with `s3://`, `gs://` or `az://`.
    #[error("{0:?} is not a bucket address (s3://, gs:// or az://)")]
    NotObjectUrl(String),
    /// Nothing comes between the scheme and the first `/` (the text held).
    #[error(
        "{0:?} names no bucket (expected s3://bucket/prefix, gs://bucket/prefix or az://container/prefix)"
    )]
    MissingBucket(String),
    /// The bucket name is longer than 255 bytes or has a character other than an ASCII
    /// letter, digit, `.`, `-` or `_`.
    #[error(
        "{url:?}: {bucket:?} is not a valid bucket name (letters, digits, '.', '-', '_'; at most 255)"
    )]
    InvalidBucket {
        /// The address as given.
        url: String,
        /// The bucket name in it.
        bucket: String,
    },
    /// The prefix (one trailing `/` aside) is not a valid relative key.
    #[error("{url:?}: invalid prefix: {reason}")]
    InvalidPrefix {
        /// The address as given.
        url: String,
        /// The rule the prefix breaks.
        reason: KeyError,
    },
    /// The text looks like a bucket address typed wrong (`S3://`, `s3:/`, `gs:bucket`):
    /// taken as a local path, it would make a folder named after the mistake.
    #[error(
        "{0:?} looks like a mistyped bucket address: write s3://bucket/prefix (or gs://, az://)"
    )]
    MistypedScheme(String),
    /// The text starts with another scheme (`http://`, `file://` ...), which photopress does
    /// not read or write.
    #[error(
        "{url:?}: {scheme}:// addresses are not supported (local paths, s3://, gs:// and az:// are)"
    )]
    OtherScheme {
        /// The address as given.
        url: String,
        /// Its scheme, as written.
        scheme: String,
    },
}

/// Why a relative key (or a prefix) was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The key is the empty string.
    #[error("the key is empty")]
    Empty,
    /// The key starts with `/` (`object_store` would strip it and read another key).
    #[error("the key starts with '/'")]
    LeadingSlash,
    /// Two `/` in a row, or a `/` at the end.
    #[error("the key has an empty segment ('//' or a trailing '/')")]
    EmptySegment,
    /// A segment between `/`s is `.` or `..`.
    #[error("the key has a '.' or '..' segment")]
    DotSegment,
    /// The key has a control character, ASCII or not (its code point held).
    #[error("the key has a control character (U+{0:04X})")]
    ControlChar(u32),
}

/// Checks one relative key (`sub/dir/photo.jpg`) against the rules in the module comment.
pub fn validate_key_rel(key: &str) -> Result<(), KeyError> {
    if key.is_empty() {
        return Err(KeyError::Empty);
    }
    if key.starts_with('/') {
        return Err(KeyError::LeadingSlash);
    }
    for segment in key.split('/') {
        check_segment(segment)?;
    }
    Ok(())
}

fn check_segment(segment: &str) -> Result<(), KeyError> {
    if segment.is_empty() {
        return Err(KeyError::EmptySegment);
    }
    if segment == "." || segment == ".." {
        return Err(KeyError::DotSegment);
    }
    // `object_store` refuses ASCII control characters only; other control characters (U+0080..)
    // are refused too, because a key list with them is almost surely corrupt and they would
    // garble every message that names the key.
    if let Some(c) = segment.chars().find(|c| c.is_control()) {
        return Err(KeyError::ControlChar(u32::from(c)));
    }
    Ok(())
}

/// True when `text` is meant as an object address (`s3://…`, `gs://…`, `az://…`, or Azure's
/// `https://ACCOUNT.blob.core.windows.net/…`), whether or not it is valid; a local path never
/// starts so.
pub fn is_object_url(text: &str) -> bool {
    Scheme::of(text).is_some() || azure_https(text).is_some()
}

/// The account and the rest of `https://ACCOUNT.blob.core.windows.net/REST`.
fn azure_https(text: &str) -> Option<(&str, &str)> {
    let rest = text.strip_prefix("https://")?;
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let account = host.strip_suffix(AZURE_HOST)?;
    (!account.is_empty()).then_some((account, path))
}

/// Refuses a text meant as a place that would be taken as a local path by mistake: an `s3:`
/// address typed wrong (any case, one slash or none: `S3://b`, `s3:/b`, `s3:b`) or another
/// scheme's address (`name://...`, the name a letter then letters, digits, `+`, `-`, `.`).
/// `s3://...` itself and ordinary paths pass.
pub fn check_scheme(text: &str) -> Result<(), UrlError> {
    if is_object_url(text) {
        return Ok(());
    }
    if ["s3:", "gs:", "az:"]
        .iter()
        .any(|s| text.len() >= 3 && text.is_char_boundary(3) && text[..3].eq_ignore_ascii_case(s))
    {
        return Err(UrlError::MistypedScheme(text.to_string()));
    }
    if let Some((scheme, _)) = text.split_once("://") {
        let mut chars = scheme.chars();
        let named = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
        if named {
            return Err(UrlError::OtherScheme {
                url: text.to_string(),
                scheme: scheme.to_string(),
            });
        }
    }
    Ok(())
}

/// A parsed bucket address: the prefix has no leading or trailing `/` and is empty for the
/// whole bucket (or container).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectUrl {
    scheme: Scheme,
    /// The Azure storage account an `https://ACCOUNT.blob.core.windows.net/` address names
    /// (`az://` takes `AZURE_STORAGE_ACCOUNT_NAME`'s).
    account: Option<String>,
    bucket: String,
    prefix: String,
}

impl ObjectUrl {
    /// Parses `s3://bucket`, `s3://bucket/` or `s3://bucket/some/prefix[/]`. The text after the
    /// bucket is taken literally (no percent-decoding: S3 keys may contain `%`, `?` and `#`).
    pub fn parse(url: &str) -> Result<ObjectUrl, UrlError> {
        let (scheme, account, rest) = match (Scheme::of(url), azure_https(url)) {
            (Some(scheme), _) => (scheme, None, &url[scheme.prefix().len()..]),
            (None, Some((account, rest))) => (Scheme::Azure, Some(account.to_string()), rest),
            (None, None) => return Err(UrlError::NotObjectUrl(url.to_string())),
        };
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(UrlError::MissingBucket(url.to_string()));
        }
        let bucket_ok = bucket.len() <= 255
            && bucket
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
        if !bucket_ok {
            return Err(UrlError::InvalidBucket {
                url: url.to_string(),
                bucket: bucket.to_string(),
            });
        }
        // A folder-like prefix may end with one `/`; anything else must be a valid key.
        let prefix = prefix.strip_suffix('/').unwrap_or(prefix);
        if !prefix.is_empty() {
            validate_key_rel(prefix).map_err(|reason| UrlError::InvalidPrefix {
                url: url.to_string(),
                reason,
            })?;
        }
        Ok(ObjectUrl {
            scheme,
            account,
            bucket: bucket.to_string(),
            prefix: prefix.to_string(),
        })
    }

    /// Which store the address is of.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The Azure account named in an `https://ACCOUNT.blob.core.windows.net/` address.
    pub fn account(&self) -> Option<&str> {
        self.account.as_deref()
    }

    /// The address of the whole bucket (container) this one is in.
    pub fn root(&self) -> ObjectUrl {
        ObjectUrl {
            prefix: String::new(),
            ..self.clone()
        }
    }

    /// The bucket's name.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The prefix without leading or trailing `/`; empty for the whole bucket.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The full key of a relative key below this prefix, after checking the relative key.
    pub fn key(&self, key_rel: &str) -> Result<String, KeyError> {
        validate_key_rel(key_rel)?;
        Ok(self.join_unchecked(key_rel))
    }

    /// `prefix/key_rel` for a key already known to be valid (from our own listing).
    pub(crate) fn join_unchecked(&self, key_rel: &str) -> String {
        if self.prefix.is_empty() {
            key_rel.to_string()
        } else {
            format!("{}/{}", self.prefix, key_rel)
        }
    }

    /// The relative key of a full key, when the full key lies below this prefix.
    pub(crate) fn relative<'k>(&self, full_key: &'k str) -> Option<&'k str> {
        if self.prefix.is_empty() {
            Some(full_key)
        } else {
            full_key
                .strip_prefix(self.prefix.as_str())
                .and_then(|rest| rest.strip_prefix('/'))
        }
    }

    /// The address of one object below this prefix, for messages: `s3://bucket/prefix/key`.
    /// Works for invalid keys too (it only formats).
    pub fn object_url(&self, key_rel: &str) -> String {
        format!("{}/{}", self.root(), self.join_unchecked(key_rel))
    }

    /// The address of a prefix below this one (`sub` → `s3://bucket/prefix/sub`).
    pub fn child(&self, key_rel: &str) -> Result<ObjectUrl, KeyError> {
        let prefix = self.key(key_rel)?;
        Ok(ObjectUrl {
            prefix,
            ..self.clone()
        })
    }
}

impl fmt::Display for ObjectUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.account {
            Some(account) => write!(f, "https://{account}{AZURE_HOST}/{}", self.bucket)?,
            None => write!(f, "{}{}", self.scheme.prefix(), self.bucket)?,
        }
        if !self.prefix.is_empty() {
            write!(f, "/{}", self.prefix)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(url: &str) -> ObjectUrl {
        match ObjectUrl::parse(url) {
            Ok(parsed) => parsed,
            Err(e) => panic!("{url}: {e}"),
        }
    }

    #[test]
    fn bucket_and_prefix() {
        let url = parse("s3://photos/2024/summer");
        assert_eq!((url.bucket(), url.prefix()), ("photos", "2024/summer"));
        assert_eq!(parse("s3://photos/2024/summer/"), url);
        assert_eq!(url.to_string(), "s3://photos/2024/summer");
    }

    #[test]
    fn whole_bucket() {
        for text in ["s3://photos", "s3://photos/"] {
            let url = parse(text);
            assert_eq!((url.bucket(), url.prefix()), ("photos", ""));
            assert_eq!(url.to_string(), "s3://photos");
            assert_eq!(url.key("a/b.jpg"), Ok("a/b.jpg".to_string()));
        }
    }

    #[test]
    fn prefix_text_is_literal() {
        let url = parse("s3://b/caf\u{e9}%20x?y#z");
        assert_eq!(url.prefix(), "caf\u{e9}%20x?y#z");
    }

    #[test]
    fn bad_urls() {
        assert!(matches!(
            ObjectUrl::parse("/tmp/x"),
            Err(UrlError::NotObjectUrl(_))
        ));
        assert!(matches!(
            ObjectUrl::parse("S3://b/x"),
            Err(UrlError::NotObjectUrl(_))
        ));
        assert!(matches!(
            ObjectUrl::parse("http://b/x"),
            Err(UrlError::NotObjectUrl(_))
        ));
        assert!(matches!(
            ObjectUrl::parse("https://example.com/c/x"),
            Err(UrlError::NotObjectUrl(_))
        ));
        assert!(matches!(
            ObjectUrl::parse("s3://"),
            Err(UrlError::MissingBucket(_))
        ));
        assert!(matches!(
            ObjectUrl::parse("s3:///x"),
            Err(UrlError::MissingBucket(_))
        ));
        assert!(matches!(
            ObjectUrl::parse("s3://user:pw@b/x"),
            Err(UrlError::InvalidBucket { .. })
        ));
        let bad_prefixes = [
            ("s3://b//x", KeyError::LeadingSlash),
            ("s3://b/a//x", KeyError::EmptySegment),
            ("s3://b/a//", KeyError::EmptySegment),
            ("s3://b/a/../x", KeyError::DotSegment),
            ("s3://b/./x", KeyError::DotSegment),
            ("s3://b/a\nb", KeyError::ControlChar(10)),
        ];
        for (text, reason) in bad_prefixes {
            assert_eq!(
                ObjectUrl::parse(text),
                Err(UrlError::InvalidPrefix {
                    url: text.to_string(),
                    reason
                }),
                "{text}"
            );
        }
    }

    #[test]
    fn is_object_url_is_the_scheme() {
        assert!(is_object_url("s3://b"));
        assert!(is_object_url("s3://"));
        assert!(!is_object_url("./s3://b"));
        assert!(!is_object_url("photos"));
    }

    #[test]
    fn relative_keys() {
        for good in [
            "a.jpg",
            "sub/a.jpg",
            "a b/c%20d.jpg",
            "...",
            ".hidden/x",
            "\u{fc}.jpg",
        ] {
            assert_eq!(validate_key_rel(good), Ok(()), "{good}");
        }
        let bad = [
            ("", KeyError::Empty),
            ("/a.jpg", KeyError::LeadingSlash),
            ("a//b.jpg", KeyError::EmptySegment),
            ("a/", KeyError::EmptySegment),
            ("../a.jpg", KeyError::DotSegment),
            ("a/./b.jpg", KeyError::DotSegment),
            ("a/..", KeyError::DotSegment),
            ("a\u{0}b", KeyError::ControlChar(0)),
            ("a\tb", KeyError::ControlChar(9)),
            ("a\u{7f}b", KeyError::ControlChar(0x7f)),
            ("a\u{85}b", KeyError::ControlChar(0x85)),
        ];
        for (key, reason) in bad {
            assert_eq!(validate_key_rel(key), Err(reason.clone()), "{key:?}");
            assert_eq!(parse("s3://b/out").key(key), Err(reason), "{key:?}");
        }
    }

    #[test]
    fn keys_join_below_the_prefix() {
        let url = parse("s3://b/out/x");
        assert_eq!(url.key("sub/a.jpg"), Ok("out/x/sub/a.jpg".to_string()));
        assert_eq!(url.object_url("sub/a.jpg"), "s3://b/out/x/sub/a.jpg");
        assert_eq!(url.relative("out/x/sub/a.jpg"), Some("sub/a.jpg"));
        // A sibling that merely shares the text is not below the prefix.
        assert_eq!(url.relative("out/xy/a.jpg"), None);
        assert_eq!(
            url.child("sub").map(|c| c.to_string()),
            Ok("s3://b/out/x/sub".into())
        );
    }

    #[test]
    fn every_scheme_and_azures_own_form() {
        let gs = parse("gs://photos/2024/");
        assert_eq!(
            (gs.scheme(), gs.bucket(), gs.prefix()),
            (Scheme::Gcs, "photos", "2024")
        );
        assert_eq!(gs.object_url("a.jpg"), "gs://photos/2024/a.jpg");
        let az = parse("az://box/in");
        assert_eq!((az.scheme(), az.account()), (Scheme::Azure, None));
        assert_eq!(az.to_string(), "az://box/in");
        let https = parse("https://acct.blob.core.windows.net/box/in/");
        assert_eq!(
            (
                https.scheme(),
                https.account(),
                https.bucket(),
                https.prefix()
            ),
            (Scheme::Azure, Some("acct"), "box", "in")
        );
        assert_eq!(
            https.to_string(),
            "https://acct.blob.core.windows.net/box/in"
        );
        assert_eq!(
            https.root().to_string(),
            "https://acct.blob.core.windows.net/box"
        );
        assert_ne!(parse("gs://b/x").root(), parse("s3://b/x").root());
        for typo in ["GS://b", "gs:/b", "az:b", "AZ://c"] {
            assert!(
                matches!(check_scheme(typo), Err(UrlError::MistypedScheme(_))),
                "{typo}"
            );
        }
        assert!(is_object_url("https://a.blob.core.windows.net/c"));
        assert!(!is_object_url("https://blob.core.windows.net/c"));
    }
}
