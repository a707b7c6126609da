//! The IAM evaluator: one long-lived `node tests/iam-sim/server.mjs` per test binary
//! (`@cloud-copilot/iam-simulate`, pinned in tests/iam-sim/package-lock.json), spoken to over a
//! line-oriented JSON protocol on its stdin/stdout (documented in server.mjs).
//!
//! Missing node or a missing `npm ci` is a loud failure, never a skip.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Mutex, OnceLock};

use serde_json::{json, Value};

/// One authorisation question: may the principal do `action` on `resource` with `context`?
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub action: String,
    pub resource: String,
    /// Condition keys of the request, e.g. `s3:prefix`.
    pub context: serde_json::Map<String, Value>,
}

impl Check {
    pub fn new(action: &str, resource: &str) -> Check {
        Check {
            action: action.to_owned(),
            resource: resource.to_owned(),
            context: serde_json::Map::new(),
        }
    }

    pub fn with(mut self, key: &str, value: &str) -> Check {
        self.context
            .insert(key.to_owned(), Value::String(value.to_owned()));
        self
    }
}

/// The evaluator's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allowed,
    /// Implicitly or explicitly denied.
    Denied,
    /// The evaluator could not evaluate the request (unknown action, bad ARN, ...).
    Error(String),
}

struct Proc {
    _child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    next_id: u64,
}

/// Handle to the shared evaluator process.
pub struct Evaluator(Mutex<Proc>);

fn sim_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/iam-sim")
}

/// The evaluator of this test binary, started on first use.
pub fn shared() -> &'static Evaluator {
    static EVALUATOR: OnceLock<Evaluator> = OnceLock::new();
    EVALUATOR.get_or_init(Evaluator::start)
}

impl Evaluator {
    fn start() -> Evaluator {
        let dir = sim_dir();
        let installed = dir.join("node_modules/@cloud-copilot/iam-simulate/package.json");
        assert!(
            installed.exists(),
            "the IAM evaluator is not installed ({} is missing): run `npm ci --prefix tests/iam-sim` \
             (scripts/test.sh does it); strict-mode tests never skip",
            installed.display()
        );
        let mut child = Command::new("node")
            .arg("server.mjs")
            .current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("start the IAM evaluator (node, in {}): {e}", dir.display())
            });
        let stdin = child.stdin.take().expect("evaluator stdin");
        let mut stdout = BufReader::new(child.stdout.take().expect("evaluator stdout"));
        let mut ready = String::new();
        stdout.read_line(&mut ready).expect("evaluator ready line");
        assert!(
            ready.contains("\"ready\":true"),
            "the IAM evaluator did not start: {ready:?}"
        );
        // When the test binary exits, stdin closes and the node process ends by itself.
        Evaluator(Mutex::new(Proc {
            _child: child,
            stdin,
            stdout,
            next_id: 0,
        }))
    }

    /// Evaluate `checks` against an identity policy; one decision per check, in order. Blocking
    /// (call it from `spawn_blocking` in async code).
    pub fn evaluate(&self, principal_arn: &str, policy: &Value, checks: &[Check]) -> Vec<Decision> {
        if checks.is_empty() {
            return Vec::new();
        }
        let mut p = self.0.lock().unwrap_or_else(|e| e.into_inner());
        p.next_id += 1;
        let id = p.next_id;
        let request = json!({
            "id": id,
            "account": super::policy::ACCOUNT,
            "principal": principal_arn,
            "policy": policy,
            "checks": checks.iter().map(|c| json!({
                "action": c.action,
                "resource": c.resource,
                "context": c.context,
            })).collect::<Vec<_>>(),
        });
        let mut line = request.to_string();
        line.push('\n');
        p.stdin
            .write_all(line.as_bytes())
            .and_then(|()| p.stdin.flush())
            .expect("write to the IAM evaluator (did node exit?)");
        let mut answer = String::new();
        let n = p
            .stdout
            .read_line(&mut answer)
            .expect("read from the IAM evaluator");
        assert!(n > 0, "the IAM evaluator exited");
        let answer: Value = serde_json::from_str(&answer)
            .unwrap_or_else(|e| panic!("IAM evaluator answer is not JSON ({e}): {answer}"));
        assert_eq!(
            answer["id"],
            json!(id),
            "IAM evaluator answer out of order: {answer}"
        );
        let results = answer["results"]
            .as_array()
            .unwrap_or_else(|| panic!("IAM evaluator error: {answer}"));
        assert_eq!(results.len(), checks.len(), "{answer}");
        results
            .iter()
            .map(|r| match r.as_str().unwrap_or_default() {
                "Allowed" => Decision::Allowed,
                "ImplicitlyDenied" | "ExplicitlyDenied" => Decision::Denied,
                other => Decision::Error(other.to_owned()),
            })
            .collect()
    }
}
