//! Quoting: the cut at 200 characters, and the "..." only when something was cut.

use super::*;

#[test]
fn quote_marks_a_cut_and_only_a_cut() {
    assert_eq!(quote("abc"), "\"abc\"");
    assert_eq!(quote(""), "\"\"");
    assert_eq!(quote("a\nb"), "\"a\\nb\"");
    // Exactly 200 characters: nothing cut, no "...".
    let full = "日".repeat(200);
    assert_eq!(quote(&full), format!("\"{full}\""));
    // 201: the first 200 are kept, and the cut is marked.
    assert_eq!(quote(&format!("{full}x")), format!("\"{full}\"..."));
    assert_eq!(truncate(&format!("{full}x")), full);
}
