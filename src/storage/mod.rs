//! Object storage (`s3://bucket/prefix`) behind a blocking interface, for inputs and outputs
//! that live in a bucket.
//!
//! The rayon pipeline stays the compute core and stays synchronous: a [`Bucket`] owns a small
//! tokio runtime and `object_store`'s S3 client, and offers blocking calls (list, get, head,
//! put, delete) that any number of worker threads may make at once, plus the two ways to keep
//! the network busy while the workers compute: [`Bucket::prefetch`] (downloads ahead, bounded in
//! objects and bytes) and [`Bucket::put_background`] (bounded uploads in flight).
//!
//! Settings come from the standard `AWS_*` variables (`AWS_ENDPOINT_URL`, `AWS_ALLOW_HTTP`,
//! credentials, region), see [`BucketOptions`]. Keys are checked by us ([`validate_key_rel`])
//! before they are joined below a prefix, and the listing goes on past keys `object_store`
//! cannot represent ([`Listing::invalid`]).
mod error;
mod gate;
mod listing;
pub mod location;
mod object;
mod prefetch;
mod upload;
mod url;

pub use bytes::Bytes;
pub use error::{CREDENTIAL_VARIABLES, StorageError, credential_variables};
pub use listing::{InvalidEntry, Listing};
pub use object::{Bucket, BucketOptions, Credentials, Fetched, ObjectInfo, quoted as quoted_etag};
pub use prefetch::Prefetcher;
pub use upload::PendingPut;
pub use url::{
    KeyError, ObjectUrl, Scheme, UrlError, check_scheme, is_object_url, validate_key_rel,
};
