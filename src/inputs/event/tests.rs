use super::*;

fn created(payload: &str) -> Vec<(String, String, Option<String>, Option<u64>)> {
    let events = parse(payload.as_bytes()).unwrap_or_else(|e| panic!("{e}: {payload}"));
    events
        .created
        .into_iter()
        .map(|c| (c.bucket.to_string(), c.key, c.etag, c.size))
        .collect()
}

/// As S3 sends it to Lambda (trimmed of fields photopress does not read).
const S3_PUT: &str = r#"{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1",
 "eventTime":"2026-12-05T09:00:00.000Z","eventName":"ObjectCreated:Put",
 "s3":{"s3SchemaVersion":"1.0","configurationId":"photos","bucket":{"name":"photos","arn":"arn:aws:s3:::photos"},
 "object":{"key":"uploads/Holiday+2024/caf%C3%A9+%281%29.jpg","size":1024,"eTag":"d41d8cd98f00b204e9800998ecf8427e","sequencer":"0A1B2C3D4E5F678901"}}},
 {"eventVersion":"2.1","eventSource":"aws:s3","eventName":"ObjectRemoved:Delete",
 "s3":{"bucket":{"name":"photos"},"object":{"key":"uploads/old.jpg","sequencer":"0A1B2C3D4E5F678902"}}}]}"#;

#[test]
fn s3_notifications_decode_their_keys_and_skip_removals() {
    assert_eq!(
        created(S3_PUT),
        [(
            "s3://photos".to_string(),
            "uploads/Holiday 2024/café (1).jpg".to_string(),
            Some("d41d8cd98f00b204e9800998ecf8427e".to_string()),
            Some(1024)
        )]
    );
    let events = parse(S3_PUT.as_bytes()).unwrap();
    assert_eq!(
        events.ignored,
        ["ObjectRemoved:Delete s3://photos/uploads/old.jpg"]
    );
}

#[test]
fn sqs_sns_and_eventbridge_envelopes_are_opened() {
    let sqs = serde_json::json!({"Records": [{"messageId": "1", "eventSource": "aws:sqs", "body": S3_PUT}]})
        .to_string();
    assert_eq!(created(&sqs).len(), 1);
    let sns_envelope =
        serde_json::json!({"Type": "Notification", "MessageId": "x", "Message": S3_PUT})
            .to_string();
    let sqs_of_sns =
        serde_json::json!({"Records": [{"eventSource": "aws:sqs", "body": sns_envelope}]})
            .to_string();
    assert_eq!(
        created(&sqs_of_sns)[0].1,
        "uploads/Holiday 2024/café (1).jpg"
    );
    let sns =
        serde_json::json!({"Records": [{"EventSource": "aws:sns", "Sns": {"Message": S3_PUT}}]})
            .to_string();
    assert_eq!(created(&sns).len(), 1);
    let eventbridge = r#"{"version":"0","id":"17793124","detail-type":"Object Created","source":"aws.s3",
      "account":"111122223333","time":"2026-12-05T09:00:00Z","region":"ca-central-1","resources":["arn:aws:s3:::photos"],
      "detail":{"version":"0","bucket":{"name":"photos"},"object":{"key":"uploads/a b.jpg","size":5,
      "etag":"b1946ac92492d2347c6235b4d2611184","sequencer":"617f08299329d189"},"reason":"PutObject"}}"#;
    assert_eq!(
        created(eventbridge),
        [(
            "s3://photos".into(),
            "uploads/a b.jpg".into(),
            Some("b1946ac92492d2347c6235b4d2611184".into()),
            Some(5)
        )]
    );
    let test_event = r#"{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2026-12-05T09:00:00Z","Bucket":"photos"}"#;
    assert!(parse(test_event.as_bytes()).unwrap().created.is_empty());
}

#[test]
fn google_and_azure_events_name_their_objects() {
    let pubsub = r#"{"message":{"attributes":{"bucketId":"shots","objectId":"in/x.jpg","eventType":"OBJECT_FINALIZE",
      "notificationConfig":"projects/_/buckets/shots/notificationConfigs/1","objectGeneration":"1733389200000000"},
      "data":"e30=","messageId":"1"},"subscription":"projects/p/subscriptions/s"}"#;
    assert_eq!(
        created(pubsub),
        [("gs://shots".into(), "in/x.jpg".into(), None, None)]
    );
    let cloudevent = r#"{"specversion":"1.0","type":"google.cloud.storage.object.v1.finalized",
      "source":"//storage.googleapis.com/projects/_/buckets/shots","subject":"objects/in/y.jpg","id":"1",
      "data":{"kind":"storage#object","bucket":"shots","name":"in/y.jpg","size":"2048","etag":"CJ+x"}}"#;
    assert_eq!(
        created(cloudevent),
        [(
            "gs://shots".into(),
            "in/y.jpg".into(),
            Some("CJ+x".into()),
            Some(2048)
        )]
    );
    let deleted = r#"{"message":{"attributes":{"bucketId":"shots","objectId":"in/x.jpg","eventType":"OBJECT_DELETE"}}}"#;
    assert_eq!(
        parse(deleted.as_bytes()).unwrap().ignored,
        ["OBJECT_DELETE gs://shots/in/x.jpg"]
    );
    let grid = r#"[{"topic":"/subscriptions/s/resourceGroups/g/providers/Microsoft.Storage/storageAccounts/acct",
      "subject":"/blobServices/default/containers/box/blobs/in/z%20z.jpg","eventType":"Microsoft.Storage.BlobCreated",
      "eventTime":"2026-12-05T09:00:00Z","id":"1","data":{"api":"PutBlob","eTag":"0x8DBF1","contentType":"image/jpeg",
      "contentLength":4096,"blobType":"BlockBlob","url":"https://acct.blob.core.windows.net/box/in/z%20z.jpg"},
      "dataVersion":"","metadataVersion":"1"},
      {"eventType":"Microsoft.Storage.BlobDeleted","data":{"url":"https://acct.blob.core.windows.net/box/in/old.jpg"}}]"#;
    let events = parse(grid.as_bytes()).unwrap();
    assert_eq!(events.created.len(), 1);
    let blob = &events.created[0];
    assert_eq!(
        blob.bucket.to_string(),
        "https://acct.blob.core.windows.net/box"
    );
    assert_eq!((blob.key.as_str(), blob.size), ("in/z z.jpg", Some(4096)));
    assert_eq!(events.ignored, ["Microsoft.Storage.BlobDeleted"]);
}

#[test]
fn other_payloads_are_errors_in_words() {
    assert!(matches!(parse(b"not json"), Err(EventError::NotJson(_))));
    assert!(matches!(
        parse(br#"{"hello":1}"#),
        Err(EventError::Unknown(_))
    ));
    let no_key = r#"{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{}}}]}"#;
    assert_eq!(
        parse(no_key.as_bytes()),
        Err(EventError::Incomplete {
            kind: "S3",
            what: "an object key"
        })
    );
    let bad_escape = r#"{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"a%zz"}}}]}"#;
    assert!(parse(bad_escape.as_bytes()).is_err());
    // Envelopes cannot nest without end.
    let mut deep = S3_PUT.to_string();
    for _ in 0..6 {
        deep = serde_json::json!({"Type": "Notification", "Message": deep}).to_string();
    }
    assert!(matches!(
        parse(deep.as_bytes()),
        Err(EventError::Unknown(_))
    ));
}
