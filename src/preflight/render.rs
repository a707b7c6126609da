//! How a check is printed: one text line (`ok   name  target: detail — fix: …`) or one JSON
//! object per line for `--json`.

use super::{Check, Status};

/// `FAIL max_receive_count  https://…/q: maxReceiveCount 3 is not above … — fix: raise …`
pub fn text(c: &Check) -> String {
    let mut line = format!("{:<4} {:<21}", c.status.label(), c.name);
    if !c.target.is_empty() {
        line.push(' ');
        line.push_str(&c.target);
        line.push(':');
    }
    line.push(' ');
    line.push_str(&c.detail);
    if let Some(fix) = &c.fix {
        line.push_str(" — fix: ");
        line.push_str(fix);
    }
    line.replace('\n', " ")
}

/// `{"check":"…","status":"ok|warn|fail|skip","target":"…","detail":"…","fix":"…"|null}`
pub fn json(c: &Check) -> String {
    serde_json::json!({
        "check": c.name,
        "status": c.status.as_str(),
        "target": c.target,
        "detail": c.detail,
        "fix": c.fix,
    })
    .to_string()
}

/// The last text line: `preflight: 12 ok, 2 WARN, 0 FAIL, 1 skipped`.
pub fn summary(checks: &[Check]) -> String {
    let n = |s: Status| checks.iter().filter(|c| c.status == s).count();
    format!(
        "preflight: {} ok, {} WARN, {} FAIL, {} skipped",
        n(Status::Ok),
        n(Status::Warn),
        n(Status::Fail),
        n(Status::Skip)
    )
}

#[cfg(test)]
#[path = "render_tests.rs"]
mod tests;
