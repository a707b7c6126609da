//! Unit tests of `preflight::render`.

use super::*;

#[test]
fn a_failed_check_is_one_line_with_its_fix() {
    let c = Check::fail(
        "dlq",
        "https://q",
        "GetQueueAttributes failed:\nAccessDenied",
        "grant it",
    );
    let line = text(&c);
    assert!(line.starts_with("FAIL dlq "), "{line}");
    assert!(line.contains("https://q: GetQueueAttributes failed: AccessDenied — fix: grant it"));
    assert!(!line.contains('\n'));
}

#[test]
fn json_has_every_field_and_no_newline() {
    let c = Check::skip("lease", "", "timer off");
    let v: serde_json::Value = serde_json::from_str(&json(&c)).expect("json");
    assert_eq!(v["check"], "lease");
    assert_eq!(v["status"], "skip");
    assert_eq!(v["target"], "");
    assert_eq!(v["detail"], "timer off");
    assert!(v["fix"].is_null());
    let s = summary(&[c, Check::ok("x", "t", "d")]);
    assert_eq!(s, "preflight: 1 ok, 0 WARN, 0 FAIL, 1 skipped");
}
