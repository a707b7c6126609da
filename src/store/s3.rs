//! The S3 implementation of [`ObjectStore`]: the only module that uses `aws_sdk_s3`.

use std::time::SystemTime;

use async_trait::async_trait;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{Delete, ExpirationStatus, ObjectIdentifier};
use aws_sdk_s3::Client;

use super::{
    CondPut, KeyOutcome, LifecycleRule, ListPage, Listed, ObjectStore, Versioned,
    MAX_KEYS_PER_DELETE,
};
use crate::aws::{build_error, classify, entry_error, observe};
use crate::aws_error::{classify_code, AwsError, ErrorClass};
use crate::telemetry::events::AwsRequest;

const SERVICE: &str = "s3";

#[derive(Clone, Debug)]
pub struct S3Store {
    client: Client,
}

impl S3Store {
    /// `force_path_style` is `JANITOR_S3_FORCE_PATH_STYLE` (emulators).
    pub fn from_conf(conf: &aws_config::SdkConfig, force_path_style: bool) -> Self {
        let s3_conf = aws_sdk_s3::config::Builder::from(conf)
            .force_path_style(force_path_style)
            .build();
        S3Store {
            client: Client::from_conf(s3_conf),
        }
    }
}

#[async_trait]
impl ObjectStore for S3Store {
    async fn delete_objects(
        &self,
        bucket: &str,
        keys: &[String],
    ) -> Result<Vec<KeyOutcome>, AwsError> {
        const OP: &str = "DeleteObjects";
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        if keys.len() > MAX_KEYS_PER_DELETE {
            return Err(entry_error(
                SERVICE,
                OP,
                "TooManyKeys",
                format!("{} keys > {MAX_KEYS_PER_DELETE}", keys.len()),
                ErrorClass::Permanent,
            ));
        }
        let objects = keys
            .iter()
            .map(|k| ObjectIdentifier::builder().key(k).build())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| build_error(SERVICE, OP, e))?;
        let delete = Delete::builder()
            .set_objects(Some(objects))
            .quiet(true)
            .build()
            .map_err(|e| build_error(SERVICE, OP, e))?;
        let out = observe(
            SERVICE,
            OP,
            self.client
                .delete_objects()
                .bucket(bucket)
                .delete(delete)
                .send()
                .await,
        )?;
        let errors = out.errors().iter().map(|e| DeleteError {
            key: e.key(),
            code: e.code().unwrap_or("Unknown"),
            message: e.message().unwrap_or_default(),
        });
        Ok(delete_outcomes(keys, errors))
    }

    async fn list_page(
        &self,
        bucket: &str,
        prefix: &str,
        continuation: Option<String>,
    ) -> Result<ListPage, AwsError> {
        let out = observe(
            SERVICE,
            "ListObjectsV2",
            self.client
                .list_objects_v2()
                .bucket(bucket)
                .prefix(prefix)
                .set_continuation_token(continuation)
                .send()
                .await,
        )?;
        let objects = out
            .contents()
            .iter()
            .filter_map(|o| {
                Some(Listed {
                    key: o.key()?.to_owned(),
                    // No default: an unknown age must never look old (issue 10, item 9).
                    last_modified: o
                        .last_modified()
                        .and_then(|t| SystemTime::try_from(*t).ok()),
                    size: o.size().and_then(|s| u64::try_from(s).ok()).unwrap_or(0),
                })
            })
            .collect();
        let next = if out.is_truncated() == Some(true) {
            out.next_continuation_token().map(str::to_owned)
        } else {
            None
        };
        Ok(ListPage { objects, next })
    }

    async fn get_versioned(&self, bucket: &str, key: &str) -> Result<Option<Versioned>, AwsError> {
        const OP: &str = "GetObject";
        AwsRequest {
            service: SERVICE,
            operation: OP,
        }
        .emit();
        let out = match self
            .client
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => out,
            Err(err) if err.as_service_error().is_some_and(|e| e.is_no_such_key()) => {
                return Ok(None)
            }
            Err(err) => return Err(classify(SERVICE, OP, err)),
        };
        let etag = out.e_tag().unwrap_or_default().to_owned();
        let body = out
            .body
            .collect()
            .await
            .map_err(|e| {
                entry_error(
                    SERVICE,
                    OP,
                    "ReadBody",
                    e.to_string(),
                    ErrorClass::Transient,
                )
            })?
            .into_bytes()
            .to_vec();
        Ok(Some(Versioned { body, etag }))
    }

    async fn put_conditional(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        if_match: Option<&str>,
    ) -> Result<CondPut, AwsError> {
        const OP: &str = "PutObject";
        AwsRequest {
            service: SERVICE,
            operation: OP,
        }
        .emit();
        let req = self
            .client
            .put_object()
            .bucket(bucket)
            .key(key)
            .body(ByteStream::from(body));
        let req = match if_match {
            Some(etag) => req.if_match(etag),
            None => req.if_none_match("*"),
        };
        match req.send().await {
            Ok(out) => Ok(CondPut::Written(out.e_tag().unwrap_or_default().to_owned())),
            Err(err) => {
                let status = err.raw_response().map(|r| r.status().as_u16());
                if matches!(status, Some(412) | Some(409)) {
                    Ok(CondPut::PreconditionFailed)
                } else {
                    Err(classify(SERVICE, OP, err))
                }
            }
        }
    }

    async fn delete_one(&self, bucket: &str, key: &str) -> Result<(), AwsError> {
        observe(
            SERVICE,
            "DeleteObject",
            self.client
                .delete_object()
                .bucket(bucket)
                .key(key)
                .send()
                .await,
        )?;
        Ok(())
    }

    async fn probe_list(&self, bucket: &str, prefix: &str) -> Result<(), AwsError> {
        observe(
            SERVICE,
            "ListObjectsV2",
            self.client
                .list_objects_v2()
                .bucket(bucket)
                .prefix(prefix)
                .max_keys(1)
                .send()
                .await,
        )?;
        Ok(())
    }

    async fn lifecycle_rules(&self, bucket: &str) -> Result<Vec<LifecycleRule>, AwsError> {
        let out = match observe(
            SERVICE,
            "GetBucketLifecycleConfiguration",
            self.client
                .get_bucket_lifecycle_configuration()
                .bucket(bucket)
                .send()
                .await,
        ) {
            Ok(out) => out,
            Err(e) if e.code == "NoSuchLifecycleConfiguration" => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        Ok(out.rules().iter().map(to_rule).collect())
    }
}

/// An SDK lifecycle rule → the domain [`LifecycleRule`] (the deprecated top-level `Prefix` is
/// still honoured: old configurations use it instead of `Filter`).
#[allow(deprecated)]
fn to_rule(r: &aws_sdk_s3::types::LifecycleRule) -> LifecycleRule {
    let (prefix, narrowed) = match r.filter() {
        Some(f) => match f.and() {
            Some(and) => (
                and.prefix().unwrap_or_default().to_owned(),
                !and.tags().is_empty()
                    || and.object_size_greater_than().is_some()
                    || and.object_size_less_than().is_some(),
            ),
            None => (
                f.prefix().unwrap_or_default().to_owned(),
                f.tag().is_some()
                    || f.object_size_greater_than().is_some()
                    || f.object_size_less_than().is_some(),
            ),
        },
        None => (r.prefix().unwrap_or_default().to_owned(), false),
    };
    let expiration = r.expiration();
    LifecycleRule {
        id: r.id().unwrap_or_default().to_owned(),
        enabled: r.status() == &ExpirationStatus::Enabled,
        prefix,
        narrowed,
        expiration_days: expiration
            .and_then(|e| e.days())
            .and_then(|d| u32::try_from(d).ok()),
        expiration_date: expiration.and_then(|e| e.date()).is_some(),
    }
}

/// One `<Error>` entry of a DeleteObjects response.
struct DeleteError<'a> {
    key: Option<&'a str>,
    code: &'a str,
    message: &'a str,
}

/// Quiet mode lists only failures: a key absent from Errors was deleted (or already absent),
/// and `NoSuchKey` counts as deleted. An entry without a Key cannot be attributed, so it leaves
/// every key not otherwise reported unconfirmed: transient, never success.
fn delete_outcomes<'a>(
    keys: &[String],
    errors: impl Iterator<Item = DeleteError<'a>>,
) -> Vec<KeyOutcome> {
    let mut failed = std::collections::HashMap::new();
    let mut unattributed: Option<AwsError> = None;
    for e in errors {
        if e.code == "NoSuchKey" {
            continue;
        }
        let Some(key) = e.key else {
            unattributed.get_or_insert_with(|| {
                entry_error(
                    SERVICE,
                    "DeleteObjects",
                    "UnattributedError",
                    format!(
                        "an error entry without a key ({}: {}); the keys of this request are unconfirmed",
                        e.code, e.message
                    ),
                    ErrorClass::Transient,
                )
            });
            continue;
        };
        let err = entry_error(
            SERVICE,
            "DeleteObjects",
            e.code,
            e.message,
            classify_code(e.code, None),
        );
        failed.insert(key.to_owned(), err);
    }
    keys.iter()
        .map(|k| KeyOutcome {
            key: k.clone(),
            result: match (failed.remove(k), &unattributed) {
                (Some(err), _) => Err(err),
                (None, Some(err)) => Err(err.clone()),
                (None, None) => Ok(()),
            },
        })
        .collect()
}

#[cfg(test)]
#[path = "s3_tests.rs"]
mod tests;
