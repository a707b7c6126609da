//! Per-key `AccessDenied` inside a 200 DeleteObjects response, as S3 answers under an IAM
//! prefix deny: split the request's keys into allowed and denied, let the caller forward a
//! rewritten request with only the allowed keys, then merge the denied keys into the result.

use serde::{Deserialize, Serialize};

const S3_NS: &str = "http://s3.amazonaws.com/doc/2006-03-01/";

/// The DeleteObjects request body.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename = "Delete")]
pub struct Delete {
    #[serde(rename = "@xmlns", default, skip_serializing_if = "Option::is_none")]
    xmlns: Option<String>,
    #[serde(rename = "Object", default)]
    pub objects: Vec<Object>,
    #[serde(rename = "Quiet", default, skip_serializing_if = "Option::is_none")]
    pub quiet: Option<bool>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Object {
    #[serde(rename = "Key")]
    pub key: String,
    #[serde(rename = "VersionId", default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
}

/// The DeleteObjects response body.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename = "DeleteResult")]
pub struct DeleteResult {
    #[serde(rename = "@xmlns", default, skip_serializing_if = "Option::is_none")]
    xmlns: Option<String>,
    #[serde(rename = "Deleted", default)]
    pub deleted: Vec<Deleted>,
    #[serde(rename = "Error", default)]
    pub errors: Vec<KeyError>,
}

#[derive(Debug, Deserialize, Serialize)]
pub struct Deleted {
    #[serde(rename = "Key")]
    pub key: String,
}

#[derive(Debug, Deserialize, Serialize)]
pub struct KeyError {
    #[serde(rename = "Key")]
    pub key: String,
    #[serde(rename = "Code")]
    pub code: String,
    #[serde(rename = "Message")]
    pub message: String,
}

/// A DeleteObjects request split by a deny rule.
pub struct Split {
    /// The rewritten request body with only the allowed keys, or None when every key is denied
    /// (S3 — and moto — reject an empty `<Delete>`, so nothing is forwarded then).
    pub forward: Option<String>,
    pub allowed: Vec<String>,
    pub denied: Vec<String>,
}

/// Parse the request body and split its keys: a key for which `denied` is true is denied.
pub fn split(body: &[u8], denied: impl Fn(&str) -> bool) -> Result<Split, String> {
    let text = std::str::from_utf8(body).map_err(|e| e.to_string())?;
    let mut delete: Delete = quick_xml::de::from_str(text).map_err(|e| e.to_string())?;
    let (denied, allowed): (Vec<Object>, Vec<Object>) =
        delete.objects.drain(..).partition(|o| denied(&o.key));
    let allowed_keys = allowed.iter().map(|o| o.key.clone()).collect();
    let forward = if allowed.is_empty() {
        None
    } else {
        delete.objects = allowed;
        delete.xmlns = Some(S3_NS.to_owned());
        Some(to_xml(&delete)?)
    };
    Ok(Split {
        forward,
        allowed: allowed_keys,
        denied: denied.into_iter().map(|o| o.key).collect(),
    })
}

/// The response to send back: upstream's result (if anything was forwarded) plus one
/// `AccessDenied` error per denied key.
pub fn merge(upstream: Option<&[u8]>, denied: &[String]) -> Result<String, String> {
    let mut result = match upstream {
        Some(body) => {
            let text = std::str::from_utf8(body).map_err(|e| e.to_string())?;
            quick_xml::de::from_str::<DeleteResult>(text).map_err(|e| e.to_string())?
        }
        None => DeleteResult::default(),
    };
    result.xmlns = Some(S3_NS.to_owned());
    result.errors.extend(denied.iter().map(|key| KeyError {
        key: key.clone(),
        code: "AccessDenied".into(),
        message: "Access Denied".into(),
    }));
    to_xml(&result)
}

fn to_xml<T: Serialize>(value: &T) -> Result<String, String> {
    let body = quick_xml::se::to_string(value).map_err(|e| e.to_string())?;
    Ok(format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{body}"
    ))
}
