//! [`Bucket`]: a blocking handle on one `s3://bucket/prefix`, for the rayon workers.
//!
//! `object_store` is async; the pipeline is not and should not become so. A `Bucket` owns a
//! small multi-thread tokio runtime (its I/O driver and timers run on the runtime's threads) and
//! each blocking call drives its request with `Runtime::block_on` on the calling thread, so any
//! number of rayon workers can call it at once. Background work (prefetch, uploads) is spawned
//! onto the same runtime. Tasks hold the store, never the runtime, so the runtime is dropped by
//! a blocking thread (dropping it inside one of its own tasks would panic).
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::azure::{AzureConfigKey, MicrosoftAzureBuilder};
use object_store::gcp::{GoogleCloudStorageBuilder, GoogleConfigKey};
use object_store::path::Path;
use object_store::{
    BackoffConfig, ClientConfigKey, GetOptions, GetResult, ObjectMeta, ObjectStore as _,
    ObjectStoreExt as _, PutPayload, RetryConfig, WriteMultipart,
};
use tokio::runtime::Runtime;

use super::error::StorageError;
use super::gate::UploadGate;
use super::url::{ObjectUrl, Scheme};

/// Access keys given in code rather than the environment (tests, or a caller with its own
/// secret store). Its `Debug` shows no secret.
#[derive(Clone)]
pub struct Credentials {
    /// The access key id (as `AWS_ACCESS_KEY_ID`).
    pub access_key_id: String,
    /// The secret access key (as `AWS_SECRET_ACCESS_KEY`).
    pub secret_access_key: String,
    /// The session token of temporary credentials (as `AWS_SESSION_TOKEN`); `None` for
    /// long-term keys.
    pub session_token: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Credentials { .. }")
    }
}

/// How a [`Bucket`] connects and retries. The `AWS_*` environment variables are read first
/// (`AWS_ENDPOINT_URL`, `AWS_ALLOW_HTTP`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
/// `AWS_SESSION_TOKEN`, `AWS_REGION`/`AWS_DEFAULT_REGION`, …); a field set here wins.
#[derive(Debug, Clone)]
pub struct BucketOptions {
    /// Endpoint such as `http://127.0.0.1:9000`. Default: `AWS_ENDPOINT_URL`, else AWS.
    /// Requests are path-style (`endpoint/bucket/key`) unless
    /// `AWS_VIRTUAL_HOSTED_STYLE_REQUEST=true`.
    pub endpoint: Option<String>,
    /// Allow plain `http://` endpoints. Default: `AWS_ALLOW_HTTP`, else false.
    pub allow_http: Option<bool>,
    /// Default: `AWS_REGION`/`AWS_DEFAULT_REGION`, else `us-east-1`.
    pub region: Option<String>,
    /// Default: from the environment, the container or the instance metadata.
    pub credentials: Option<Credentials>,
    /// Retries of one request after a transient error. Default 8.
    pub max_retries: usize,
    /// No retry starts later than this after the first try. Default 60 s.
    pub retry_timeout: Duration,
    /// First backoff; it doubles (with jitter) up to `max_backoff`. Default 100 ms.
    pub initial_backoff: Duration,
    /// Default 5 s.
    pub max_backoff: Duration,
    /// One request, body included. Default 120 s.
    pub request_timeout: Duration,
    /// Default 5 s.
    pub connect_timeout: Duration,
    /// Threads of the internal runtime (network I/O only, no compute). Default 2.
    pub runtime_threads: usize,
    /// Uploads of [`Bucket::put_background`] in flight at once. Default 8.
    pub max_uploads_in_flight: usize,
    /// Objects larger than this are uploaded in parts. Default 8 MiB.
    pub multipart_threshold: usize,
    /// Part size of multipart uploads (S3's minimum is 5 MiB). Default 8 MiB.
    pub part_size: usize,
}

impl Default for BucketOptions {
    fn default() -> Self {
        BucketOptions {
            endpoint: None,
            allow_http: None,
            region: None,
            credentials: None,
            max_retries: 8,
            retry_timeout: Duration::from_secs(60),
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
            request_timeout: Duration::from_secs(120),
            connect_timeout: Duration::from_secs(5),
            runtime_threads: 2,
            max_uploads_in_flight: 8,
            multipart_threshold: 8 << 20,
            part_size: 8 << 20,
        }
    }
}

/// One object of a listing. `key_rel` is relative to the bucket's prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    /// The key below the bucket handle's prefix (`sub/photo.jpg`).
    pub key_rel: String,
    /// The object's size in bytes.
    pub size: u64,
    /// The ETag as the server sent it, quotes included (`"9b2c…"`).
    pub etag: Option<String>,
    /// When the object was last written, as the server says.
    pub last_modified: SystemTime,
}

/// A downloaded object.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The object's whole body.
    pub bytes: Bytes,
    /// The ETag of the version downloaded, as the server sent it (quotes included); `None`
    /// when it sent none.
    pub etag: Option<String>,
    /// The body's length in bytes (`bytes.len()`).
    pub size: u64,
}

/// What the background tasks need: the store and where keys live. Cheap to clone; holds no
/// runtime.
#[derive(Clone)]
pub(crate) struct ObjectStore {
    pub(crate) store: Arc<dyn object_store::ObjectStore>,
    /// The same store, for its paginated listing (every backend in use has one).
    pub(crate) lister: Arc<dyn object_store::list::PaginatedListStore>,
    pub(crate) url: Arc<ObjectUrl>,
    multipart_threshold: usize,
    part_size: usize,
}

impl std::fmt::Debug for ObjectStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectStore")
            .field("store", &self.store)
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// A blocking handle on `s3://bucket/prefix` (`gs://`, `az://`); clones share the connection
/// pool and runtime.
#[derive(Debug, Clone)]
pub struct Bucket {
    pub(crate) inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) runtime: Runtime,
    pub(crate) remote: ObjectStore,
    pub(crate) uploads: Arc<UploadGate>,
}

/// The S3 client's settings: the environment's, then `options`' (endpoint, credentials...).
fn s3_builder(
    url: &ObjectUrl,
    options: &BucketOptions,
    retry: &RetryConfig,
    timeouts: [(ClientConfigKey, String); 2],
) -> AmazonS3Builder {
    let mut builder = AmazonS3Builder::from_env()
        .with_bucket_name(url.bucket())
        .with_retry(retry.clone());
    for (key, value) in timeouts {
        builder = builder.with_config(AmazonS3ConfigKey::Client(key), value);
    }
    if let Some(endpoint) = &options.endpoint {
        builder = builder.with_endpoint(endpoint);
    }
    if let Some(allow) = options.allow_http {
        builder = builder.with_allow_http(allow);
    }
    if let Some(region) = &options.region {
        builder = builder.with_region(region);
    }
    if let Some(keys) = &options.credentials {
        builder = builder
            .with_access_key_id(&keys.access_key_id)
            .with_secret_access_key(&keys.secret_access_key);
        if let Some(token) = &keys.session_token {
            builder = builder.with_token(token);
        }
    }
    builder
}

impl Bucket {
    /// Connects with the environment's settings and the default retries.
    pub fn connect(url: &ObjectUrl) -> Result<Bucket, StorageError> {
        Bucket::connect_with(url, &BucketOptions::default())
    }

    /// Connects with `options` over the environment's settings. Sends no request: a wrong
    /// endpoint or credentials show at the first operation.
    pub fn connect_with(url: &ObjectUrl, options: &BucketOptions) -> Result<Bucket, StorageError> {
        let setup = |message: String| StorageError::Other {
            url: url.to_string(),
            message,
        };
        let retry = RetryConfig {
            backoff: BackoffConfig {
                init_backoff: options.initial_backoff,
                max_backoff: options.max_backoff,
                base: 2.0,
            },
            max_retries: options.max_retries,
            retry_timeout: options.retry_timeout,
        };
        // Through `with_config`, so the client options read from the environment (allow-http,
        // proxies) are kept; `with_client_options` would replace them.
        let timeouts = [
            (
                ClientConfigKey::Timeout,
                format!("{}ms", options.request_timeout.as_millis()),
            ),
            (
                ClientConfigKey::ConnectTimeout,
                format!("{}ms", options.connect_timeout.as_millis()),
            ),
        ];
        // object_store's configuration errors name the setting, never its value.
        fn both<T: object_store::ObjectStore + object_store::list::PaginatedListStore>(
            store: T,
        ) -> Stores {
            let store = Arc::new(store);
            (store.clone(), store)
        }
        type Stores = (
            Arc<dyn object_store::ObjectStore>,
            Arc<dyn object_store::list::PaginatedListStore>,
        );
        let (store, lister): Stores = match url.scheme() {
            Scheme::S3 => both(
                s3_builder(url, options, &retry, timeouts)
                    .build()
                    .map_err(|e| setup(format!("cannot configure S3 access: {e}")))?,
            ),
            Scheme::Gcs => {
                let mut builder = GoogleCloudStorageBuilder::from_env()
                    .with_bucket_name(url.bucket())
                    .with_retry(retry.clone());
                for (key, value) in timeouts {
                    builder = builder.with_config(GoogleConfigKey::Client(key), value);
                }
                both(builder.build().map_err(|e| {
                    setup(format!("cannot configure Google Cloud Storage access: {e}"))
                })?)
            }
            Scheme::Azure => {
                let mut builder = MicrosoftAzureBuilder::from_env()
                    .with_container_name(url.bucket())
                    .with_retry(retry.clone());
                if let Some(account) = url.account() {
                    builder = builder.with_account(account);
                }
                for (key, value) in timeouts {
                    builder = builder.with_config(AzureConfigKey::Client(key), value);
                }
                both(builder.build().map_err(|e| {
                    setup(format!("cannot configure Azure Blob Storage access: {e}"))
                })?)
            }
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(options.runtime_threads.max(1))
            .thread_name("photopress-s3")
            .enable_io()
            .enable_time()
            .build()
            .map_err(|e| setup(format!("cannot start the I/O runtime: {e}")))?;
        Ok(Bucket {
            inner: Arc::new(Inner {
                runtime,
                remote: ObjectStore {
                    store,
                    lister,
                    url: Arc::new(url.clone()),
                    multipart_threshold: options.multipart_threshold,
                    part_size: options.part_size.max(5 << 20),
                },
                uploads: Arc::new(UploadGate::new(options.max_uploads_in_flight)),
            }),
        })
    }

    /// The address this bucket handle reads and writes below.
    pub fn url(&self) -> &ObjectUrl {
        &self.inner.remote.url
    }

    /// Downloads one object whole, refusing it before its body is read when it is larger than
    /// `max_bytes`.
    pub fn get(&self, key_rel: &str, max_bytes: u64) -> Result<Fetched, StorageError> {
        let remote = &self.inner.remote;
        self.inner.runtime.block_on(async {
            let opened = remote.open(key_rel, max_bytes).await?;
            remote.read(key_rel, opened).await
        })
    }

    /// The object's size, ETag and time, without its body.
    pub fn head(&self, key_rel: &str) -> Result<ObjectInfo, StorageError> {
        let remote = &self.inner.remote;
        self.inner.runtime.block_on(remote.head(key_rel))
    }

    /// Writes one whole object (in parts above the multipart threshold); the key holds either
    /// its old content or all of `bytes`, never a part. Returns the new ETag when the server
    /// sent one.
    pub fn put(&self, key_rel: &str, bytes: Bytes) -> Result<Option<String>, StorageError> {
        let remote = &self.inner.remote;
        self.inner.runtime.block_on(remote.put(key_rel, bytes))
    }

    /// Deletes one object (S3 answers success for a key that does not exist).
    pub fn delete(&self, key_rel: &str) -> Result<(), StorageError> {
        let remote = &self.inner.remote;
        self.inner.runtime.block_on(remote.delete(key_rel))
    }
}

impl ObjectStore {
    /// The store path of a relative key, checked, with the address for messages.
    pub(crate) fn path(&self, key_rel: &str) -> Result<(Path, String), StorageError> {
        let url = self.url.object_url(key_rel);
        let key = self
            .url
            .key(key_rel)
            .map_err(|reason| StorageError::invalid_key(url.clone(), &reason))?;
        // `Path::parse` keeps the key as it is (`Path::from` would percent-encode it); our
        // check is stricter, so this fails only if the two ever disagree.
        let path = Path::parse(&key).map_err(|e| StorageError::InvalidKey {
            url: url.clone(),
            reason: e.to_string(),
        })?;
        Ok((path, url))
    }

    /// Starts a download: the response's headers are in, the body is not read yet.
    pub(crate) async fn open(
        &self,
        key_rel: &str,
        max_bytes: u64,
    ) -> Result<GetResult, StorageError> {
        let (path, url) = self.path(key_rel)?;
        let opened = self
            .store
            .get_opts(&path, GetOptions::default())
            .await
            .map_err(|e| StorageError::from_store(url.clone(), e))?;
        let size = opened.meta.size;
        if size > max_bytes {
            // Dropping the response closes the connection with the body unread.
            return Err(StorageError::TooLarge {
                url,
                size,
                limit: max_bytes,
            });
        }
        Ok(opened)
    }

    /// Reads the body of an opened download.
    pub(crate) async fn read(
        &self,
        key_rel: &str,
        opened: GetResult,
    ) -> Result<Fetched, StorageError> {
        let etag = opened.meta.e_tag.clone().map(quoted);
        let bytes = opened
            .bytes()
            .await
            .map_err(|e| StorageError::from_store(self.url.object_url(key_rel), e))?;
        Ok(Fetched {
            size: bytes.len() as u64,
            bytes,
            etag,
        })
    }

    async fn head(&self, key_rel: &str) -> Result<ObjectInfo, StorageError> {
        let (path, url) = self.path(key_rel)?;
        let meta = self
            .store
            .head(&path)
            .await
            .map_err(|e| StorageError::from_store(url, e))?;
        Ok(object_info(key_rel.to_string(), meta))
    }

    pub(crate) async fn put(
        &self,
        key_rel: &str,
        bytes: Bytes,
    ) -> Result<Option<String>, StorageError> {
        let (path, url) = self.path(key_rel)?;
        let fail = |e| StorageError::from_store(url.clone(), e);
        if bytes.len() <= self.multipart_threshold {
            let done = self
                .store
                .put(&path, PutPayload::from(bytes))
                .await
                .map_err(fail)?;
            return Ok(done.e_tag.map(quoted));
        }
        // S3 shows a multipart object only once it is completed; `finish` aborts the upload
        // (deleting its parts) when a part or the completion fails.
        let upload = self.store.put_multipart(&path).await.map_err(fail)?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, self.part_size);
        writer.put(bytes);
        let done = writer.finish().await.map_err(fail)?;
        Ok(done.e_tag.map(quoted))
    }

    async fn delete(&self, key_rel: &str) -> Result<(), StorageError> {
        let (path, url) = self.path(key_rel)?;
        self.store
            .delete(&path)
            .await
            .map_err(|e| StorageError::from_store(url, e))
    }
}

pub(crate) fn object_info(key_rel: String, meta: ObjectMeta) -> ObjectInfo {
    ObjectInfo {
        key_rel,
        size: meta.size,
        etag: meta.e_tag.map(quoted),
        last_modified: SystemTime::from(meta.last_modified),
    }
}

/// An ETag with its quotes, whatever the server sent: Azure lists ETags without quotes and
/// answers GETs with them, so a version recorded from one must match the other (resume); so
/// do event notifications (S3's `eTag`, EventBridge's `etag`).
pub fn quoted(etag: String) -> String {
    if etag.starts_with('"') || etag.starts_with("W/") {
        etag
    } else {
        format!("\"{etag}\"")
    }
}
