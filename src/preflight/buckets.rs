//! The bucket checks, for every allowed bucket: a DeleteObjects of a random key under the prefix
//! (must answer Deleted), the same one level above the prefix (should be refused), the sweeper's
//! ListObjectsV2, the lifecycle rule; then the sweeper lease, taken and released for real.
//!
//! A probe key is `image-janitor-preflight-<32 hex digits>`: 128 random bits, so it cannot name an
//! existing object, and DeleteObjects of an absent key changes nothing (on a versioned bucket it
//! leaves a delete marker for that key alone; see docs/preflight.md).

use super::{lifecycle, Check, Settings};
use crate::store::ObjectStore;
use crate::sweeper::clock::Clock;
use crate::sweeper::lease::{self, Acquired, LeaseTiming};

/// The probe keys' name, so that an operator recognises them in CloudTrail.
pub const PROBE_NAME: &str = "image-janitor-preflight-";

fn random_name() -> String {
    format!(
        "{PROBE_NAME}{:016x}{:016x}",
        fastrand::u64(..),
        fastrand::u64(..)
    )
}

/// A key under `prefix` that cannot exist.
pub fn key_under(prefix: &str) -> String {
    format!("{prefix}{}", random_name())
}

/// A key one level above `prefix` that is not under it; `None` when the prefix is empty.
/// `a/b/` → `a/NAME`; `keep-images/` or `keep-` → `NAME` (or `0-NAME` if that would still start
/// with the prefix, e.g. for the prefix `image-`).
pub fn key_above(prefix: &str) -> Option<String> {
    if prefix.is_empty() {
        return None;
    }
    let trimmed = prefix.strip_suffix('/').unwrap_or(prefix);
    let parent = match trimmed.rfind('/') {
        Some(i) => &trimmed[..=i],
        None => "",
    };
    let name = random_name();
    [format!("{parent}{name}"), format!("{parent}0-{name}")]
        .into_iter()
        .find(|k| !k.starts_with(prefix))
}

/// Every bucket check, then the lease.
pub async fn check(store: &dyn ObjectStore, s: &Settings) -> Vec<Check> {
    let mut out = Vec::new();
    let prefix = s.policy.prefix();
    for bucket in s.policy.buckets() {
        out.push(delete_under(store, bucket, prefix).await);
        out.push(delete_above(store, bucket, prefix).await);
        out.push(list(store, bucket, prefix, s.lease.is_some()).await);
        out.push(lifecycle::check(store, bucket, prefix, s.sweep_max_age).await);
    }
    out.push(lease_check(store, s).await);
    out
}

/// The result of deleting one key: `Ok(true)` deleted (or absent), `Ok(false)` refused per key
/// or as a whole with AccessDenied, `Err` anything else.
async fn probe_delete(store: &dyn ObjectStore, bucket: &str, key: &str) -> Result<bool, String> {
    match store.delete_objects(bucket, &[key.to_owned()]).await {
        Ok(outcomes) => match outcomes.into_iter().find(|o| o.key == key) {
            Some(o) => match o.result {
                Ok(()) => Ok(true),
                Err(e) if e.code == "AccessDenied" => Ok(false),
                Err(e) => Err(e.to_string()),
            },
            None => Err("DeleteObjects did not report the key".into()),
        },
        Err(e) if e.code == "AccessDenied" => Ok(false),
        Err(e) => Err(e.to_string()),
    }
}

async fn delete_under(store: &dyn ObjectStore, bucket: &str, prefix: &str) -> Check {
    const NAME: &str = "delete_under_prefix";
    let key = key_under(prefix);
    let fix = format!(
        "grant the role s3:DeleteObject on arn:aws:s3:::{bucket}/{prefix}* (the Terraform module's \
         DeleteTemporaryImages statement), and check bucket policies and SCPs"
    );
    match probe_delete(store, bucket, &key).await {
        Ok(true) => Check::ok(
            NAME,
            bucket,
            format!("DeleteObjects of {key:?} (cannot exist) answered Deleted"),
        ),
        Ok(false) => Check::fail(
            NAME,
            bucket,
            format!("DeleteObjects of {key:?} was refused: AccessDenied"),
            fix,
        ),
        Err(e) => Check::fail(NAME, bucket, format!("DeleteObjects of {key:?}: {e}"), fix),
    }
}

async fn delete_above(store: &dyn ObjectStore, bucket: &str, prefix: &str) -> Check {
    const NAME: &str = "delete_outside_prefix";
    let Some(key) = key_above(prefix) else {
        return Check::skip(
            NAME,
            bucket,
            "does not apply: JANITOR_PREFIX is empty, every key of the bucket is allowed",
        );
    };
    match probe_delete(store, bucket, &key).await {
        Ok(false) => Check::ok(
            NAME,
            bucket,
            format!("DeleteObjects of {key:?} (outside the prefix) was refused, as it should be"),
        ),
        Ok(true) => Check::warn(
            NAME,
            bucket,
            format!(
                "DeleteObjects of {key:?}, outside JANITOR_PREFIX, answered Deleted: the role may \
                 delete more than it needs (the janitor itself never does)"
            ),
            format!("scope s3:DeleteObject to arn:aws:s3:::{bucket}/{prefix}*"),
        ),
        Err(e) => Check::warn(
            NAME,
            bucket,
            format!("could not tell: DeleteObjects of {key:?}: {e}"),
            "run preflight again; if it persists, check the bucket's policy",
        ),
    }
}

async fn list(store: &dyn ObjectStore, bucket: &str, prefix: &str, sweeper: bool) -> Check {
    const NAME: &str = "list_under_prefix";
    if !sweeper {
        return Check::skip(
            NAME,
            bucket,
            "the sweeper timer is off (JANITOR_SWEEP_INTERVAL=0): `run` does not list",
        );
    }
    match store.probe_list(bucket, prefix).await {
        Ok(()) => Check::ok(
            NAME,
            bucket,
            format!("ListObjectsV2 under {prefix:?} allowed"),
        ),
        Err(e) => Check::fail(
            NAME,
            bucket,
            format!("ListObjectsV2 under {prefix:?} failed: {e}"),
            format!(
                "grant the role s3:ListBucket on arn:aws:s3:::{bucket} with the condition \
                 s3:prefix = {prefix}* (the Terraform module's ListUnderPrefix statement)"
            ),
        ),
    }
}

/// Take the sweeper lease and release it at once, like a sweep does (the holder id says
/// `preflight`); `last_completed_at` is kept, so the sweep schedule does not move.
async fn lease_check(store: &dyn ObjectStore, s: &Settings) -> Check {
    const NAME: &str = "lease";
    let Some(loc) = &s.lease else {
        return Check::skip(
            NAME,
            "",
            "the sweeper timer is off (JANITOR_SWEEP_INTERVAL=0): `run` takes no lease",
        );
    };
    let target = format!("s3://{}/{}", loc.bucket, loc.key);
    let fix = format!(
        "grant the role s3:GetObject and s3:PutObject on arn:aws:s3:::{}/{} (the Terraform \
         module's SweeperLease statement)",
        loc.bucket, loc.key
    );
    let holder = format!("preflight-{}", lease::holder_id());
    let acquired = lease::acquire(
        store,
        loc,
        &holder,
        LeaseTiming::default(),
        None,
        Clock::System,
    )
    .await;
    match acquired {
        Ok(Acquired::Held(held)) => match held.release(store, false).await {
            Ok(()) => Check::ok(NAME, target, "taken and released (GetObject, PutObject)"),
            Err(e) => Check::fail(NAME, target, format!("taken, but not released: {e}"), fix),
        },
        Ok(Acquired::Skipped(why)) => Check::warn(
            NAME,
            target,
            format!("read, but not written: {why} (PutObject is not proven)"),
            "run preflight again once the sweep is over",
        ),
        Err(e) => Check::fail(NAME, target, e.to_string(), fix),
    }
}
