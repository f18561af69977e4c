//! Object-created events (`photopress event`): the objects an event notification names, from
//! the payloads the clouds send —
//! - Amazon S3 notifications (`{"Records":[{"eventSource":"aws:s3",...}]}`, as Lambda gets them;
//!   keys URL-encoded, `+` for a space), the same inside SQS messages (`body`) and SNS
//!   notifications (`Sns.Message`, or an SNS envelope in an SQS body), and EventBridge's
//!   `Object Created` events (`detail.bucket.name`, `detail.object.key`, taken as written);
//! - Google Cloud Storage: Pub/Sub notifications (`message.attributes`: `eventType`
//!   `OBJECT_FINALIZE`, `bucketId`, `objectId`), CloudEvents `google.cloud.storage.object.v1.finalized`,
//!   and the bare object resource (`"kind":"storage#object"`) that background functions get;
//! - Azure Event Grid `Microsoft.Storage.BlobCreated` events, in the Event Grid and the
//!   CloudEvents schemas (`data.url`: `https://ACCOUNT.blob.core.windows.net/container/blob`).
//!
//! Events of other kinds (removals, tagging...) are listed as ignored, never an error; a payload
//! of none of these shapes is an error. Keys are untrusted: each is checked as a listing's key
//! is, by the caller.
use serde_json::Value;

use crate::inputs::keylist::KeyEntry;
use crate::inputs::objects::{KeyFilter, LeftOut};
use crate::options::Options;
use crate::storage::{ObjectUrl, validate_key_rel};

/// An object an event says was created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    /// The bucket (container) it is in: an address with no prefix.
    pub bucket: ObjectUrl,
    /// Its full key in the bucket.
    pub key: String,
    /// Its ETag as the event gives it (quotes as sent), when it does.
    pub etag: Option<String>,
    /// Its size in bytes, when the event gives it.
    pub size: Option<u64>,
}

/// What a payload names.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Events {
    /// The objects created, in the payload's order.
    pub created: Vec<Created>,
    /// The other events, in words (`ObjectRemoved:Delete s3://b/k`).
    pub ignored: Vec<String>,
}

/// Why a payload could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EventError {
    /// Not JSON.
    #[error("the event is not JSON: {0}")]
    NotJson(String),
    /// JSON of no known event shape.
    #[error(
        "not an event photopress reads (S3, SQS, SNS, EventBridge, Google Cloud Storage or Azure Event Grid): {0}"
    )]
    Unknown(String),
    /// A known shape with a field missing or wrong.
    #[error("a {kind} event without {what}")]
    Incomplete {
        /// The event's kind.
        kind: &'static str,
        /// What it lacks.
        what: &'static str,
    },
}

/// Envelopes inside envelopes (SNS in SQS in...): no deeper than this.
const MAX_DEPTH: usize = 4;

/// Reads an event payload.
pub fn parse(payload: &[u8]) -> Result<Events, EventError> {
    let value: Value =
        serde_json::from_slice(payload).map_err(|e| EventError::NotJson(e.to_string()))?;
    let mut events = Events::default();
    read(&value, 0, &mut events)?;
    Ok(events)
}

fn read(value: &Value, depth: usize, out: &mut Events) -> Result<(), EventError> {
    if depth > MAX_DEPTH {
        return Err(EventError::Unknown("envelopes nested too deep".into()));
    }
    // Event Grid delivers arrays of events.
    if let Some(items) = value.as_array() {
        for item in items {
            read(item, depth + 1, out)?;
        }
        return Ok(());
    }
    let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_string);
    if let Some(records) = value.get("Records").and_then(Value::as_array) {
        for record in records {
            match (text(record, "eventSource"), text(record, "EventSource")) {
                (Some(s), _) if s == "aws:s3" => s3_record(record, out)?,
                (Some(s), _) if s == "aws:sqs" => {
                    let body = text(record, "body").ok_or(EventError::Incomplete {
                        kind: "SQS",
                        what: "a body",
                    })?;
                    read_text(&body, depth, out)?;
                }
                (_, Some(s)) if s == "aws:sns" => {
                    let message = record
                        .get("Sns")
                        .and_then(|sns| text(sns, "Message"))
                        .ok_or(EventError::Incomplete {
                            kind: "SNS",
                            what: "a message",
                        })?;
                    read_text(&message, depth, out)?;
                }
                _ => out.ignored.push(format!(
                    "a record from {}",
                    text(record, "eventSource").unwrap_or_else(|| "an unknown source".into())
                )),
            }
        }
        return Ok(());
    }
    // An SNS envelope (in an SQS body, or delivered over HTTP).
    if text(value, "Type").as_deref() == Some("Notification")
        && let Some(message) = text(value, "Message")
    {
        return read_text(&message, depth, out);
    }
    // S3 test events (sent when a notification is configured) name no object.
    if text(value, "Event").as_deref() == Some("s3:TestEvent") {
        out.ignored.push("an S3 test event".into());
        return Ok(());
    }
    if text(value, "source").as_deref() == Some("aws.s3") {
        return eventbridge(value, out);
    }
    if let Some(message) = value
        .get("message")
        .filter(|m| m.get("attributes").is_some())
    {
        return gcs_pubsub(message, out);
    }
    if text(value, "kind").as_deref() == Some("storage#object") {
        return gcs_object(value, out);
    }
    let kind = text(value, "type").or_else(|| text(value, "eventType"));
    match kind.as_deref() {
        Some("google.cloud.storage.object.v1.finalized") => {
            let data = value.get("data").ok_or(EventError::Incomplete {
                kind: "CloudEvents",
                what: "data",
            })?;
            gcs_object(data, out)
        }
        Some(t) if t.starts_with("google.cloud.storage.") => {
            out.ignored.push(t.to_string());
            Ok(())
        }
        Some("Microsoft.Storage.BlobCreated") => azure(value, out),
        Some(t) if t.starts_with("Microsoft.") => {
            out.ignored.push(t.to_string());
            Ok(())
        }
        _ => Err(EventError::Unknown(shape(value))),
    }
}

fn read_text(inner: &str, depth: usize, out: &mut Events) -> Result<(), EventError> {
    let value: Value = serde_json::from_str(inner)
        .map_err(|e| EventError::NotJson(format!("an envelope's message: {e}")))?;
    read(&value, depth + 1, out)
}

fn s3_record(record: &Value, out: &mut Events) -> Result<(), EventError> {
    let incomplete = |what| EventError::Incomplete { kind: "S3", what };
    let name = record
        .get("eventName")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let s3 = record.get("s3").ok_or(incomplete("s3"))?;
    let bucket = s3
        .pointer("/bucket/name")
        .and_then(Value::as_str)
        .ok_or(incomplete("a bucket name"))?;
    let raw_key = s3
        .pointer("/object/key")
        .and_then(Value::as_str)
        .ok_or(incomplete("an object key"))?;
    let key = form_decode(raw_key).ok_or(incomplete("a well-encoded key"))?;
    if !name.starts_with("ObjectCreated:") {
        out.ignored.push(format!("{name} s3://{bucket}/{key}"));
        return Ok(());
    }
    let object = s3.get("object");
    out.created.push(Created {
        bucket: root("s3", bucket)?,
        key,
        etag: object
            .and_then(|o| o.get("eTag"))
            .and_then(Value::as_str)
            .map(str::to_string),
        size: object.and_then(|o| o.get("size")).and_then(number),
    });
    Ok(())
}

fn eventbridge(value: &Value, out: &mut Events) -> Result<(), EventError> {
    let incomplete = |what| EventError::Incomplete {
        kind: "EventBridge",
        what,
    };
    let kind = value
        .get("detail-type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let detail = value.get("detail").ok_or(incomplete("detail"))?;
    let bucket = detail
        .pointer("/bucket/name")
        .and_then(Value::as_str)
        .ok_or(incomplete("a bucket name"))?;
    let key = detail
        .pointer("/object/key")
        .and_then(Value::as_str)
        .ok_or(incomplete("an object key"))?;
    if kind != "Object Created" {
        out.ignored.push(format!("{kind} s3://{bucket}/{key}"));
        return Ok(());
    }
    out.created.push(Created {
        bucket: root("s3", bucket)?,
        key: key.to_string(),
        etag: detail
            .pointer("/object/etag")
            .and_then(Value::as_str)
            .map(str::to_string),
        size: detail.pointer("/object/size").and_then(number),
    });
    Ok(())
}

fn gcs_pubsub(message: &Value, out: &mut Events) -> Result<(), EventError> {
    let incomplete = |what| EventError::Incomplete {
        kind: "Pub/Sub",
        what,
    };
    let attributes = message.get("attributes").ok_or(incomplete("attributes"))?;
    let get = |key| attributes.get(key).and_then(Value::as_str);
    let kind = get("eventType").ok_or(incomplete("an eventType"))?;
    let bucket = get("bucketId").ok_or(incomplete("a bucketId"))?;
    let key = get("objectId").ok_or(incomplete("an objectId"))?;
    if kind != "OBJECT_FINALIZE" {
        out.ignored.push(format!("{kind} gs://{bucket}/{key}"));
        return Ok(());
    }
    out.created.push(Created {
        bucket: root("gs", bucket)?,
        key: key.to_string(),
        etag: None,
        size: None,
    });
    Ok(())
}

fn gcs_object(object: &Value, out: &mut Events) -> Result<(), EventError> {
    let incomplete = |what| EventError::Incomplete {
        kind: "Google Cloud Storage",
        what,
    };
    let bucket = object
        .get("bucket")
        .and_then(Value::as_str)
        .ok_or(incomplete("a bucket"))?;
    let key = object
        .get("name")
        .and_then(Value::as_str)
        .ok_or(incomplete("an object name"))?;
    out.created.push(Created {
        bucket: root("gs", bucket)?,
        key: key.to_string(),
        etag: object
            .get("etag")
            .and_then(Value::as_str)
            .map(str::to_string),
        size: object.get("size").and_then(number),
    });
    Ok(())
}

fn azure(event: &Value, out: &mut Events) -> Result<(), EventError> {
    let incomplete = |what| EventError::Incomplete {
        kind: "Event Grid",
        what,
    };
    let data = event.get("data").ok_or(incomplete("data"))?;
    let url = data
        .get("url")
        .and_then(Value::as_str)
        .ok_or(incomplete("a blob url"))?;
    let parsed = ObjectUrl::parse(url).map_err(|_| incomplete("a blob url of Azure's form"))?;
    let key = percent_decode(parsed.prefix()).ok_or(incomplete("a well-encoded blob url"))?;
    out.created.push(Created {
        bucket: parsed.root(),
        key,
        etag: data.get("eTag").and_then(Value::as_str).map(str::to_string),
        size: data.get("contentLength").and_then(number),
    });
    Ok(())
}

/// The keys, relative to `input` (the bucket prefix the events are about), of the objects
/// `events` says were created, as a key list's entries (ETags quoted as listings give them),
/// each through a listing's rules (`KeyFilter`: JPEG names, no hidden or system entries,
/// nothing under the output prefix — photopress's own outputs, which trigger events too);
/// what is left out, in words. A key no object could have is left out with its reason.
pub fn keys(events: &Events, input: &ObjectUrl, opts: &Options) -> (Vec<KeyEntry>, Vec<String>) {
    let filter = KeyFilter::new(input, opts);
    let mut entries: Vec<KeyEntry> = Vec::new();
    let mut left_out = Vec::new();
    for created in &events.created {
        let address = created.bucket.object_url(&created.key);
        if !same_bucket(&created.bucket, input) {
            left_out.push(format!("{address}: not in {}", input.root()));
            continue;
        }
        let Some(key_rel) = input.relative(&created.key) else {
            left_out.push(format!("{address}: not below {input}"));
            continue;
        };
        if let Err(reason) = validate_key_rel(key_rel) {
            left_out.push(format!("{address}: {reason}"));
            continue;
        }
        match filter.leaves_out(key_rel) {
            Some(LeftOut::InOutput) => {
                left_out.push(format!(
                    "{address}: an output of photopress (below the output prefix)"
                ));
                continue;
            }
            Some(LeftOut::HiddenOrSystem) => {
                left_out.push(format!("{address}: a hidden or system entry"));
                continue;
            }
            Some(LeftOut::NotJpeg) => {
                left_out.push(format!(
                    "{address}: not an input name (.jpg, .jpeg, .jfif, .jpe; .lep to restore)"
                ));
                continue;
            }
            None => {}
        }
        if entries.iter().any(|e| e.key == key_rel) {
            continue;
        }
        entries.push(KeyEntry {
            key: key_rel.to_string(),
            size: created.size,
            etag: created.etag.clone().map(crate::storage::quoted_etag),
        });
    }
    (entries, left_out)
}

/// Whether an event's bucket is the input's: same store and name; an Azure account counts only
/// when both name one (`az://c` takes the account from the environment, Event Grid's URLs
/// always name it).
fn same_bucket(event: &ObjectUrl, input: &ObjectUrl) -> bool {
    event.scheme() == input.scheme()
        && event.bucket() == input.bucket()
        && match (event.account(), input.account()) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        }
}

/// A bucket's address: `SCHEME://bucket` (a name that is no valid bucket is the event's fault).
fn root(scheme: &str, bucket: &str) -> Result<ObjectUrl, EventError> {
    ObjectUrl::parse(&format!("{scheme}://{bucket}")).map_err(|_| EventError::Incomplete {
        kind: "storage",
        what: "a valid bucket name",
    })
}

/// A size given as a number or as text (S3 has sent both, GCS sends text).
fn number(value: &Value) -> Option<u64> {
    value
        .as_u64()
        .or_else(|| value.as_str().and_then(|s| s.parse().ok()))
}

/// `application/x-www-form-urlencoded` decoding, as S3 notifications encode keys.
fn form_decode(text: &str) -> Option<String> {
    percent_decode(&text.replace('+', " "))
}

/// `%XX` decoding; `None` for a bad escape or bytes that are not UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The top-level keys of an unknown payload, for the error.
fn shape(value: &Value) -> String {
    match value.as_object() {
        Some(map) => {
            let keys: Vec<&str> = map.keys().map(String::as_str).take(8).collect();
            format!("an object with keys {}", keys.join(", "))
        }
        None => "not an object".into(),
    }
}

#[cfg(test)]
mod tests;
