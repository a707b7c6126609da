//! The lifecycle check: some enabled rule of the bucket expires every object under the prefix,
//! within the documented window: no sooner than `JANITOR_SWEEP_MAX_AGE` (in whole days, rounded
//! up) and at most [`SLACK_DAYS`] later. A role that may not read the configuration is a WARN:
//! `s3:GetLifecycleConfiguration` is optional (docs/preflight.md).

use std::time::Duration;

use super::Check;
use crate::store::{LifecycleRule, ObjectStore};

const NAME: &str = "lifecycle";

/// How many days past the sweeper's max age the backstop may wait.
pub const SLACK_DAYS: u32 = 7;

/// The window `[shortest, longest]` of `Expiration.Days`, for the sweeper's max age.
pub fn window(max_age: Duration) -> (u32, u32) {
    let days = max_age.as_secs().div_ceil(86_400).max(1);
    let shortest = u32::try_from(days).unwrap_or(u32::MAX);
    (shortest, shortest.saturating_add(SLACK_DAYS))
}

/// Read the bucket's rules and judge them.
pub async fn check(
    store: &dyn ObjectStore,
    bucket: &str,
    prefix: &str,
    max_age: Duration,
) -> Check {
    match store.lifecycle_rules(bucket).await {
        Ok(rules) => judge(&rules, bucket, prefix, max_age),
        Err(e) if e.code == "AccessDenied" => Check::warn(
            NAME,
            bucket,
            "not checked: the role may not read the bucket's lifecycle configuration",
            format!(
                "optionally grant s3:GetLifecycleConfiguration on arn:aws:s3:::{bucket}, or check \
                 by hand that a rule expires {prefix}* (the Terraform module creates one)"
            ),
        ),
        Err(e) => Check::warn(
            NAME,
            bucket,
            format!("not checked: GetBucketLifecycleConfiguration failed: {e}"),
            "check by hand that a lifecycle rule expires the prefix",
        ),
    }
}

/// Does `rule` expire every key under `prefix`?
fn covers(rule: &LifecycleRule, prefix: &str) -> bool {
    rule.enabled && !rule.narrowed && prefix.starts_with(&rule.prefix)
}

/// The verdict on a bucket's rules (pure).
pub fn judge(rules: &[LifecycleRule], bucket: &str, prefix: &str, max_age: Duration) -> Check {
    let (shortest, longest) = window(max_age);
    let add = format!(
        "add an enabled lifecycle rule on {bucket} for the prefix {prefix:?} expiring objects after \
         {shortest} days (Terraform: expiration_days; manage_existing_bucket_lifecycle for a bucket \
         it does not create)"
    );
    let best = rules
        .iter()
        .filter(|r| covers(r, prefix))
        .filter_map(|r| r.expiration_days.map(|d| (d, r)))
        .min_by_key(|(d, _)| *d);
    let Some((days, rule)) = best else {
        let near = rules
            .iter()
            .find(|r| prefix.starts_with(&r.prefix) || r.prefix.starts_with(prefix));
        let detail = match near {
            Some(r) if !r.enabled => format!("rule {:?} for {:?} is disabled", r.id, r.prefix),
            Some(r) if r.narrowed => format!(
                "rule {:?} also filters on tags or size: it does not expire every object under the prefix",
                r.id
            ),
            Some(r) if r.expiration_date => format!(
                "rule {:?} expires on a fixed date, not after some days",
                r.id
            ),
            Some(r) if !prefix.starts_with(&r.prefix) => format!(
                "rule {:?} covers only {:?}, part of the prefix",
                r.id, r.prefix
            ),
            Some(r) => format!("rule {:?} does not expire current objects", r.id),
            None => format!("no lifecycle rule expires objects under {prefix:?}"),
        };
        return Check::warn(
            NAME,
            bucket,
            format!("{detail}: no backstop when the janitor is down"),
            add,
        );
    };
    let id = &rule.id;
    if days < shortest {
        Check::warn(
            NAME,
            bucket,
            format!(
                "rule {id:?} expires objects after {days} days, sooner than JANITOR_SWEEP_MAX_AGE \
                 ({shortest} days): it may delete images still waiting for their page.created message"
            ),
            format!("set the rule's Days to {shortest}..={longest}"),
        )
    } else if days > longest {
        Check::warn(
            NAME,
            bucket,
            format!(
                "rule {id:?} expires objects only after {days} days, more than {SLACK_DAYS} days \
                 past JANITOR_SWEEP_MAX_AGE ({shortest} days)"
            ),
            format!("set the rule's Days to {shortest}..={longest}"),
        )
    } else {
        Check::ok(
            NAME,
            bucket,
            format!(
                "rule {id:?} expires objects under {:?} after {days} days (window {shortest}..={longest})",
                rule.prefix
            ),
        )
    }
}
