//! The shipped IAM policies, rendered for a test's queues, buckets and prefix from the same
//! template files Terraform reads (`infra/terraform/modules/image-janitor/policies/*.json.tftpl`).
//!
//! The templates keep to a subset of Terraform's template language small enough to render here
//! obviously faithfully: `${jsonencode(NAME)}` (a string or a list of strings) and
//! `%{ if NAME != "" }` … `%{ endif }` (no nesting, no `~` strip markers). Anything else in a
//! template is an error, so a template change Terraform would accept but this renderer would
//! misread fails the tests instead of silently enforcing a different policy.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::Value;

/// The partition and account moto uses; the ARNs below are what `aws_sqs_queue.*.arn` and
/// `local.bucket_arns` would be for the same names.
pub const ACCOUNT: &str = "123456789012";
pub const PARTITION: &str = "aws";
/// `var.lease_key`'s default (the lease object, outside the prefix, in the first bucket).
pub const LEASE_KEY: &str = "image-janitor/sweeper.lease";

/// The module's `local.policy_vars`, computed the way iam.tf/main.tf compute them.
#[derive(Debug, Clone)]
pub struct PolicyVars(BTreeMap<&'static str, Value>);

/// `arn:aws:sqs:REGION:ACCOUNT:NAME` of a queue URL `http://host/ACCOUNT/NAME`.
pub fn queue_arn(queue_url: &str, region: &str) -> String {
    let path = queue_url
        .split_once("://")
        .map(|(_, rest)| rest)
        .unwrap_or(queue_url);
    let mut segments = path.split('/').skip(1).filter(|s| !s.is_empty());
    let account = segments.next().unwrap_or(ACCOUNT);
    let name = segments.next().unwrap_or_default();
    format!("arn:{PARTITION}:sqs:{region}:{account}:{name}")
}

impl PolicyVars {
    /// A deployment of the module: `bucket_name` = `buckets[0]`, `additional_bucket_names` =
    /// the rest, `prefix` = JANITOR_PREFIX, default lease key, no KMS key.
    pub fn deployment(queue_url: &str, dlq_url: &str, buckets: &[String], prefix: &str) -> Self {
        let region = crate::common::REGION;
        let bucket_arns: Vec<String> = buckets
            .iter()
            .map(|b| format!("arn:{PARTITION}:s3:::{b}"))
            .collect();
        // local.prefix_pattern = "${var.prefix}*"
        let prefix_pattern = format!("{prefix}*");
        let object_arns: Vec<Value> = bucket_arns
            .iter()
            .map(|arn| Value::String(format!("{arn}/{prefix_pattern}")))
            .collect();
        let first = buckets.first().map(String::as_str).unwrap_or_default();
        let vars = BTreeMap::from([
            (
                "main_queue_arn",
                Value::String(queue_arn(queue_url, region)),
            ),
            ("dlq_arn", Value::String(queue_arn(dlq_url, region))),
            (
                "bucket_arns",
                Value::Array(bucket_arns.into_iter().map(Value::String).collect()),
            ),
            ("object_arns", Value::Array(object_arns)),
            ("prefix", Value::String(prefix.to_owned())),
            ("prefix_pattern", Value::String(prefix_pattern)),
            (
                "lease_object_arn",
                Value::String(format!("arn:{PARTITION}:s3:::{first}/{LEASE_KEY}")),
            ),
            ("kms_key_arn", Value::String(String::new())),
        ]);
        PolicyVars(vars)
    }

    /// Use a customer-managed KMS key (`var.kms_key_arn`).
    pub fn with_kms(mut self, arn: &str) -> Self {
        self.0.insert("kms_key_arn", Value::String(arn.to_owned()));
        self
    }
}

/// Which of the module's identity policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// `aws_iam_policy.worker`: the `run` and `sweep` processes.
    Worker,
    /// `aws_iam_policy.operator`: `dlq peek` / `dlq replay`.
    Operator,
    /// `aws_iam_policy.notion_writer`: `publish`.
    NotionWriter,
}

impl Role {
    fn template(self) -> &'static str {
        match self {
            Role::Worker => "worker.json.tftpl",
            Role::Operator => "operator.json.tftpl",
            Role::NotionWriter => "notion-writer.json.tftpl",
        }
    }
}

fn template_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("infra/terraform/modules/image-janitor/policies")
}

/// The role's policy document for `vars`, parsed (panics, naming the file, if it does not render).
pub fn policy(role: Role, vars: &PolicyVars) -> Value {
    let path = template_dir().join(role.template());
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("read policy template {}: {e}", path.display()));
    let json = render(&text, vars).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&json)
        .unwrap_or_else(|e| panic!("{} rendered to invalid JSON ({e}):\n{json}", path.display()))
}

/// Render a template with the supported subset (see the module docs).
pub fn render(template: &str, vars: &PolicyVars) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = template;
    // Some(false) while inside an if whose condition is false.
    let mut in_if: Option<bool> = None;
    loop {
        let next = [rest.find("${"), rest.find("%{")]
            .into_iter()
            .flatten()
            .min();
        let Some(at) = next else {
            if in_if.is_some() {
                return Err("unterminated %{ if }".into());
            }
            out.push_str(rest);
            return Ok(out);
        };
        if in_if != Some(false) {
            out.push_str(&rest[..at]);
        }
        let close = rest[at..].find('}').ok_or("unterminated ${ or %{")?;
        let inner = rest[at + 2..at + close].trim();
        let is_directive = rest[at..].starts_with("%{");
        rest = &rest[at + close + 1..];
        if is_directive {
            if inner == "endif" {
                in_if.take().ok_or("%{ endif } without %{ if }")?;
            } else if let Some(cond) = inner.strip_prefix("if ") {
                if in_if.is_some() {
                    return Err("nested %{ if } is not supported".into());
                }
                let name = cond
                    .trim()
                    .strip_suffix("!= \"\"")
                    .ok_or_else(|| format!("unsupported condition `{cond}` (only NAME != \"\")"))?
                    .trim();
                let value = vars
                    .0
                    .get(name)
                    .ok_or_else(|| format!("unknown variable {name}"))?;
                let set = !value
                    .as_str()
                    .ok_or_else(|| format!("{name} is not a string"))?
                    .is_empty();
                in_if = Some(set);
            } else {
                return Err(format!("unsupported directive %{{ {inner} }}"));
            }
        } else {
            let name = inner
                .strip_prefix("jsonencode(")
                .and_then(|s| s.strip_suffix(')'))
                .ok_or_else(|| {
                    format!("unsupported interpolation ${{{inner}}} (only jsonencode(NAME))")
                })?
                .trim();
            let value = vars
                .0
                .get(name)
                .ok_or_else(|| format!("unknown variable {name}"))?;
            if in_if != Some(false) {
                out.push_str(&value.to_string());
            }
        }
    }
}
