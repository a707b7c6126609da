//! The `ObjectStore` seam: what the worker and the sweeper need from S3, in domain types.

pub mod s3;

use std::time::SystemTime;

use async_trait::async_trait;

use crate::aws_error::AwsError;

/// S3 refuses DeleteObjects requests with more keys than this (moto does not: we enforce it).
pub const MAX_KEYS_PER_DELETE: usize = 1000;

/// One listed object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub key: String,
    /// `None` when S3 did not say (or said something unreadable): such an object's age is
    /// unknown and the sweeper never treats it as stale.
    pub last_modified: Option<SystemTime>,
    pub size: u64,
}

/// One page of ListObjectsV2.
#[derive(Debug, Clone, Default)]
pub struct ListPage {
    pub objects: Vec<Listed>,
    /// Continuation token for the next page; `None` on the last page.
    pub next: Option<String>,
}

/// Per-key outcome of DeleteObjects, in no particular order; every requested key appears once.
#[derive(Debug, Clone)]
pub struct KeyOutcome {
    pub key: String,
    /// `Ok` when deleted or already absent (`NoSuchKey` counts as deleted).
    pub result: Result<(), AwsError>,
}

/// A small object read together with its ETag (for conditional writes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Versioned {
    pub body: Vec<u8>,
    pub etag: String,
}

/// Outcome of a conditional write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CondPut {
    /// Written; the new ETag.
    Written(String),
    /// The precondition failed (412, or 409 for a concurrent conditional write).
    PreconditionFailed,
}

/// One rule of a bucket's lifecycle configuration, reduced to what `preflight` checks: whom it
/// applies to and when it expires current objects.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LifecycleRule {
    pub id: String,
    pub enabled: bool,
    /// The rule's key prefix (`""` = every key: an empty filter, or none).
    pub prefix: String,
    /// The filter also has a tag or object-size condition, so it covers only some keys.
    pub narrowed: bool,
    /// `Expiration.Days`.
    pub expiration_days: Option<u32>,
    /// The rule expires objects on a fixed date rather than after some days.
    pub expiration_date: bool,
}

#[async_trait]
pub trait ObjectStore: Send + Sync + 'static {
    /// DeleteObjects for up to [`MAX_KEYS_PER_DELETE`] keys of one bucket (quiet mode).
    /// `Err` = the whole request failed; `Ok` = one outcome per requested key.
    async fn delete_objects(
        &self,
        bucket: &str,
        keys: &[String],
    ) -> Result<Vec<KeyOutcome>, AwsError>;

    /// One page of ListObjectsV2 under `prefix`.
    async fn list_page(
        &self,
        bucket: &str,
        prefix: &str,
        continuation: Option<String>,
    ) -> Result<ListPage, AwsError>;

    /// GetObject of a small object; `None` if absent.
    async fn get_versioned(&self, bucket: &str, key: &str) -> Result<Option<Versioned>, AwsError>;

    /// PutObject with `If-None-Match: *` (when `if_match` is `None`) or `If-Match: <etag>`.
    async fn put_conditional(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        if_match: Option<&str>,
    ) -> Result<CondPut, AwsError>;

    /// DeleteObject of one key, used to release a lease.
    async fn delete_one(&self, bucket: &str, key: &str) -> Result<(), AwsError>;

    /// Whether ListObjectsV2 under `prefix` is allowed, at the least cost (one key).
    async fn probe_list(&self, bucket: &str, prefix: &str) -> Result<(), AwsError> {
        self.list_page(bucket, prefix, None).await.map(|_| ())
    }

    /// The bucket's lifecycle rules (GetBucketLifecycleConfiguration); empty when it has none.
    /// Stores that cannot read them answer a permanent `NotImplemented` error.
    async fn lifecycle_rules(&self, bucket: &str) -> Result<Vec<LifecycleRule>, AwsError> {
        Err(AwsError {
            service: "s3",
            operation: "GetBucketLifecycleConfiguration",
            code: "NotImplemented".into(),
            message: format!("this store cannot read the lifecycle configuration of {bucket}"),
            class: crate::aws_error::ErrorClass::Permanent,
            request_id: None,
        })
    }
}
