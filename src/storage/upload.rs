//! Uploads in the background, so that a worker goes on to its next image while its output
//! travels. At most `max_uploads_in_flight` run at once per bucket handle: a worker that submits
//! one more waits, which bounds the outputs held in memory and pushes back on the compute when
//! the network is the bottleneck.
use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::oneshot;

use super::error::StorageError;
use super::object::{Bucket, Inner};

/// An upload under way; [`PendingPut::wait`] says how it ended. Dropping it does not stop the
/// upload, but its error is then lost, and an upload still running when the last handle on the
/// bucket (this one included) goes away is cancelled (S3 then holds no object at the key, or
/// the old one).
#[must_use = "an upload's error is only seen through wait()"]
#[derive(Debug)]
pub struct PendingPut {
    url: String,
    done: oneshot::Receiver<Result<Option<String>, StorageError>>,
    /// Keeps the runtime (and so the upload) alive until the caller has its answer.
    _bucket: Arc<Inner>,
}

impl PendingPut {
    /// Blocks until the upload has ended. `Ok` holds the new ETag when the server sent one.
    /// Not to be called from inside an async runtime.
    pub fn wait(self) -> Result<Option<String>, StorageError> {
        self.done.blocking_recv().unwrap_or_else(|_| {
            Err(StorageError::Other {
                url: self.url,
                message: "the upload was cancelled".to_string(),
            })
        })
    }
}

impl Bucket {
    /// Starts uploading one whole object (as [`Bucket::put`]) and returns at once, unless
    /// `max_uploads_in_flight` uploads are running: then it first waits for one to end.
    pub fn put_background(&self, key_rel: &str, bytes: Bytes) -> PendingPut {
        let url = self.inner.remote.url.object_url(key_rel);
        let slot = self.inner.uploads.enter();
        let (send, done) = oneshot::channel();
        let remote = self.inner.remote.clone();
        let key_rel = key_rel.to_string();
        self.inner.runtime.spawn(async move {
            let result = remote.put(&key_rel, bytes).await;
            drop(slot);
            // The receiver may be gone (dropped PendingPut): nobody to tell.
            let _ = send.send(result);
        });
        PendingPut {
            url,
            done,
            _bucket: Arc::clone(&self.inner),
        }
    }
}
