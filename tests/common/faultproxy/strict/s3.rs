//! Strict mode for S3 (path-style REST): which IAM action, resource ARN and condition keys a
//! request needs, and the limits S3 enforces that moto does not (DeleteObjects ≤ 1,000 keys,
//! keys XML 1.0 can carry).

use std::collections::HashMap;

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Method, Response, StatusCode};

use super::evaluator::Check;
use crate::common::faultproxy::rules::{s3_error, Op};
use crate::common::faultproxy::s3_deny::Delete;

/// S3's DeleteObjects limit.
pub const MAX_DELETE_KEYS: usize = 1000;

/// What a request needs, or the error S3 answers before any authorisation.
pub enum S3Need {
    /// Every check must be allowed.
    All(Vec<Check>),
    /// DeleteObjects: `s3:DeleteObject` per key (same order as `keys`); denied keys come back
    /// as per-key AccessDenied inside the 200.
    PerKey {
        keys: Vec<String>,
        checks: Vec<Check>,
    },
    /// Get/HeadObject: like `All`, and a 404 turns into 403 unless `list` (ListBucket without
    /// `s3:prefix`) is allowed.
    Object { checks: Vec<Check>, list: Check },
    /// Refused outright (limits, malformed XML).
    Refuse(Response<Full<Bytes>>),
}

fn bucket_arn(bucket: &str) -> String {
    format!("arn:aws:s3:::{bucket}")
}

fn object_arn(bucket: &str, key: &str) -> String {
    format!("arn:aws:s3:::{bucket}/{key}")
}

/// A character XML 1.0 can carry (the `Char` production).
pub fn xml_char(c: char) -> bool {
    matches!(c as u32,
        0x9 | 0xA | 0xD | 0x20..=0xD7FF | 0xE000..=0xFFFD | 0x10000..=0x10FFFF)
}

pub fn malformed_xml() -> Response<Full<Bytes>> {
    s3_error(
        StatusCode::BAD_REQUEST,
        "MalformedXML",
        "The XML you provided was not well-formed or did not validate against our published schema",
        &format!("STRICT{:016X}", fastrand::u64(..)),
    )
}

pub fn access_denied(method: &Method) -> Response<Full<Bytes>> {
    let mut resp = s3_error(
        StatusCode::FORBIDDEN,
        "AccessDenied",
        "Access Denied",
        &format!("STRICT{:016X}", fastrand::u64(..)),
    );
    if method == Method::HEAD {
        // HEAD responses carry no body; the SDK reads the status alone.
        *resp.body_mut() = Full::new(Bytes::new());
    }
    resp
}

/// `s3:GetBucketLocation` & co.: bucket sub-resources a client may read.
const BUCKET_SUBRESOURCES: &[(&str, &str)] = &[
    ("location", "s3:GetBucketLocation"),
    ("versioning", "s3:GetBucketVersioning"),
    ("lifecycle", "s3:GetLifecycleConfiguration"),
    ("policy", "s3:GetBucketPolicy"),
    ("encryption", "s3:GetEncryptionConfiguration"),
    ("tagging", "s3:GetBucketTagging"),
    ("acl", "s3:GetBucketAcl"),
    ("versions", "s3:ListBucketVersions"),
    ("uploads", "s3:ListBucketMultipartUploads"),
];

/// Derive what a path-style S3 request needs.
pub fn need(
    op: &Op,
    method: &Method,
    path: &str,
    query: &HashMap<String, String>,
    body: &[u8],
) -> S3Need {
    let path = path.trim_start_matches('/');
    let (bucket, raw_key) = path.split_once('/').unwrap_or((path, ""));
    let key = percent_encoding::percent_decode_str(raw_key)
        .decode_utf8_lossy()
        .into_owned();
    let bucket = bucket.to_owned();
    let one = |action: &str, resource: String| S3Need::All(vec![Check::new(action, &resource)]);
    if key.is_empty() {
        if method == Method::GET {
            if let Some((_, action)) = BUCKET_SUBRESOURCES
                .iter()
                .find(|(q, _)| query.contains_key(*q))
            {
                return one(action, bucket_arn(&bucket));
            }
        }
        return match op.name.as_str() {
            "DeleteObjects" => delete_objects(&bucket, body),
            "ListObjectsV2" | "ListObjects" => {
                let mut check = Check::new("s3:ListBucket", &bucket_arn(&bucket));
                if let Some(prefix) = query.get("prefix") {
                    check = check.with("s3:prefix", prefix);
                }
                S3Need::All(vec![check])
            }
            "HeadBucket" => one("s3:ListBucket", bucket_arn(&bucket)),
            "CreateBucket" => one("s3:CreateBucket", bucket_arn(&bucket)),
            // Unmapped: an action no shipped policy grants, so the evaluator denies it.
            other => one(&format!("s3:Unmapped{other}"), bucket_arn(&bucket)),
        };
    }
    let arn = object_arn(&bucket, &key);
    match op.name.as_str() {
        "GetObject" | "HeadObject" => S3Need::Object {
            checks: vec![Check::new("s3:GetObject", &arn)],
            list: Check::new("s3:ListBucket", &bucket_arn(&bucket)),
        },
        // Multipart parts and completion are s3:PutObject too.
        "PutObject" => one("s3:PutObject", arn),
        "DeleteObject" => one("s3:DeleteObject", arn),
        _ if method == Method::POST => one("s3:PutObject", arn),
        other => one(&format!("s3:Unmapped{other}"), arn),
    }
}

fn delete_objects(bucket: &str, body: &[u8]) -> S3Need {
    let Ok(text) = std::str::from_utf8(body) else {
        return S3Need::Refuse(malformed_xml());
    };
    let Ok(delete) = quick_xml::de::from_str::<Delete>(text) else {
        return S3Need::Refuse(malformed_xml());
    };
    if delete.objects.is_empty() || delete.objects.len() > MAX_DELETE_KEYS {
        return S3Need::Refuse(malformed_xml());
    }
    if delete.objects.iter().any(|o| !o.key.chars().all(xml_char)) {
        return S3Need::Refuse(malformed_xml());
    }
    let keys: Vec<String> = delete.objects.into_iter().map(|o| o.key).collect();
    let checks = keys
        .iter()
        .map(|k| Check::new("s3:DeleteObject", &object_arn(bucket, k)))
        .collect();
    S3Need::PerKey { keys, checks }
}
