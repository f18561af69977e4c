//! What went wrong with one storage request, sorted by what a caller does about it: a missing or
//! forbidden object fails alone, a transient error has already been retried, an invalid key was
//! never sent. Every message names the object as `s3://bucket/key`.
//!
//! Credentials never reach a message: `object_store` signs requests in headers (the URLs it puts
//! in its errors carry no secrets) and we never format its configuration.
use std::error::Error as _;

use object_store::client::{HttpError, HttpErrorKind};

use super::url::KeyError;

/// One failed storage operation. `url` is the object or prefix it was about.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The object (or bucket) does not exist.
    #[error("{url}: not found")]
    NotFound {
        /// The object's address.
        url: String,
    },
    /// The bucket itself does not exist (S3's `NoSuchBucket`).
    #[error("{url}: bucket {bucket} does not exist")]
    NoBucket {
        /// The object's or prefix's address.
        url: String,
        /// The bucket's name.
        bucket: String,
    },
    /// No credentials were found: none in the environment, and no instance role answered.
    #[error(
        "{url}: no credentials: set {} (or run where an instance role provides them)",
        credential_variables(url)
    )]
    NoCredentials {
        /// The object's or prefix's address.
        url: String,
    },
    /// The server refused the request, or the credentials were not accepted.
    #[error("{url}: permission denied: {message}")]
    PermissionDenied {
        /// The object's or prefix's address.
        url: String,
        /// The server's answer, with its causes.
        message: String,
    },
    /// A network failure or server error that was still failing after the retries.
    #[error("{url}: storage unavailable after retries: {message}")]
    Transient {
        /// The object's or prefix's address.
        url: String,
        /// The last failure, with its causes.
        message: String,
    },
    /// The key breaks the rules of `storage::url` (or `object_store`'s): it was never sent.
    #[error("{url}: invalid key: {reason}")]
    InvalidKey {
        /// The address the key would have, formatted as it is.
        url: String,
        /// Which rule it breaks.
        reason: String,
    },
    /// A download was refused by its size before its body was read.
    #[error("{url}: {size} bytes, more than the {limit}-byte limit")]
    TooLarge {
        /// The object's address.
        url: String,
        /// The object's size in bytes, as the server gave it.
        size: u64,
        /// The largest object the caller accepts, in bytes.
        limit: u64,
    },
    /// Any other failure: the connection could not be configured, a listing did not get past
    /// an invalid key, an upload was cancelled, a prefetched download was stopped or taken
    /// twice, or an `object_store` error of no other kind.
    #[error("{url}: {message}")]
    Other {
        /// The object's or prefix's address.
        url: String,
        /// What failed, with its causes.
        message: String,
    },
}

impl StorageError {
    /// The address the error is about.
    pub fn url(&self) -> &str {
        match self {
            StorageError::NotFound { url }
            | StorageError::NoBucket { url, .. }
            | StorageError::NoCredentials { url }
            | StorageError::PermissionDenied { url, .. }
            | StorageError::Transient { url, .. }
            | StorageError::InvalidKey { url, .. }
            | StorageError::TooLarge { url, .. }
            | StorageError::Other { url, .. } => url,
        }
    }

    pub(crate) fn invalid_key(url: String, reason: &KeyError) -> Self {
        StorageError::InvalidKey {
            url,
            reason: reason.to_string(),
        }
    }

    /// Sorts an `object_store` error about `url`.
    pub(crate) fn from_store(url: String, error: object_store::Error) -> Self {
        use object_store::Error as E;
        let message = full_message(&error);
        // S3 names the cause in its XML answer; the message says it in words, without the XML.
        let variables = credential_variables(&url);
        match s3_code(&message) {
            // (GCS's XML API says NoSuchBucket too; Azure says ContainerNotFound.)
            Some("NoSuchBucket" | "ContainerNotFound") => {
                let bucket = bucket_of(&url);
                return StorageError::NoBucket { url, bucket };
            }
            Some(
                code @ ("InvalidAccessKeyId"
                | "SignatureDoesNotMatch"
                | "ExpiredToken"
                | "InvalidToken"
                | "TokenRefreshRequired"),
            ) => {
                let message = format!("the credentials were rejected ({code}): check {variables}");
                return StorageError::PermissionDenied { url, message };
            }
            Some(code @ ("AccessDenied" | "AuthenticationFailed" | "AuthorizationFailure")) => {
                let message = format!(
                    "access denied ({code}): the credentials ({variables}) lack the permission"
                );
                return StorageError::PermissionDenied { url, message };
            }
            _ => {}
        }
        // Without credentials in the environment, object_store asks the instance metadata
        // service (169.254.169.254, or AWS_METADATA_ENDPOINT) for a role's; its failure means
        // there were none.
        if ["169.254.169.254", "/latest/api/token", "/latest/meta-data/"]
            .iter()
            .any(|needle| message.contains(needle))
        {
            return StorageError::NoCredentials { url };
        }
        match error {
            E::NotFound { .. } => StorageError::NotFound { url },
            E::PermissionDenied { .. } | E::Unauthenticated { .. } => {
                StorageError::PermissionDenied { url, message }
            }
            E::InvalidPath { .. } => StorageError::InvalidKey {
                url,
                reason: message,
            },
            _ if is_transient(&error) => StorageError::Transient { url, message },
            _ => StorageError::Other { url, message },
        }
    }
}

/// The environment variables S3 credentials are read from.
pub const CREDENTIAL_VARIABLES: &str =
    "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary ones)";

/// The environment variables the credentials of the store `url` is in are read from.
pub fn credential_variables(url: &str) -> &'static str {
    if url.starts_with("gs://") {
        "GOOGLE_SERVICE_ACCOUNT (a service account key file) or GOOGLE_APPLICATION_CREDENTIALS"
    } else if url.starts_with("az://") || url.starts_with("https://") {
        "AZURE_STORAGE_ACCOUNT_NAME with AZURE_STORAGE_ACCOUNT_KEY (or AZURE_STORAGE_SAS_KEY, or AZURE_CLIENT_ID, AZURE_CLIENT_SECRET and AZURE_TENANT_ID)"
    } else {
        CREDENTIAL_VARIABLES
    }
}

/// The `<Code>` of an S3 error answer quoted in `message`, if any.
fn s3_code(message: &str) -> Option<&str> {
    let start = message.find("<Code>")? + "<Code>".len();
    let len = message[start..].find("</Code>")?;
    Some(&message[start..start + len])
}

/// The bucket of an `s3://bucket/...` (`gs://`, `az://`) address.
fn bucket_of(url: &str) -> String {
    let rest = ["s3://", "gs://", "az://"]
        .iter()
        .find_map(|s| url.strip_prefix(s))
        .unwrap_or(url);
    rest.split('/').next().unwrap_or(rest).to_string()
}

/// The error and its causes, one after the other (object_store's own messages often stop short
/// of the cause that says what happened, e.g. "connection refused").
fn full_message(error: &object_store::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

/// True for the errors `object_store` retries (connection failures, timeouts, 5xx, throttling):
/// when one reaches us, its retries ran out. `object_store` keeps its retry error type private,
/// so a status is recognised from its message; a connection failure from its [`HttpError`].
fn is_transient(error: &object_store::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(cause) = source {
        if let Some(http) = cause.downcast_ref::<HttpError>() {
            return matches!(
                http.kind(),
                HttpErrorKind::Connect
                    | HttpErrorKind::Request
                    | HttpErrorKind::Timeout
                    | HttpErrorKind::Interrupted
            );
        }
        source = cause.source();
    }
    let text = error.to_string();
    [
        "status code: 5",
        "status code: 429",
        "SlowDown",
        "InternalError",
    ]
    .iter()
    .any(|needle| text.contains(needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generic(text: &str) -> object_store::Error {
        object_store::Error::Generic {
            store: "S3",
            source: text.to_string().into(),
        }
    }

    #[test]
    fn s3_answers_are_said_in_words_without_their_xml() {
        let url = "s3://nobucket/photos".to_string();
        let xml = "Server returned non-2xx status code: 404 Not Found: <?xml version=\"1.0\"?><Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message></Error>";
        let err = StorageError::from_store(url.clone(), generic(xml));
        assert_eq!(
            err.to_string(),
            "s3://nobucket/photos: bucket nobucket does not exist"
        );

        let rejected = "403 Forbidden: <Error><Code>InvalidAccessKeyId</Code></Error>";
        let err = StorageError::from_store(url.clone(), generic(rejected)).to_string();
        assert!(
            err.contains("credentials were rejected (InvalidAccessKeyId)"),
            "{err}"
        );
        assert!(
            err.contains("AWS_ACCESS_KEY_ID") && !err.contains("<Error>"),
            "{err}"
        );

        let denied = "403 Forbidden: <Error><Code>AccessDenied</Code></Error>";
        let err = StorageError::from_store(url.clone(), generic(denied)).to_string();
        assert!(
            err.contains("access denied") && !err.contains("<Code>"),
            "{err}"
        );

        let none = "Error performing PUT http://169.254.169.254/latest/api/token in 1ms - 403";
        let err = StorageError::from_store(url.clone(), generic(none));
        assert!(matches!(err, StorageError::NoCredentials { .. }), "{err}");
        assert!(
            err.to_string()
                .contains("no credentials: set AWS_ACCESS_KEY_ID")
        );

        let other = StorageError::from_store(url, generic("something else"));
        assert!(matches!(other, StorageError::Other { .. }), "{other}");
    }
}
