//! How a detail line quotes a URL, key or bucket: bounded, one line, in double quotes.

/// How many characters of a URL or key a detail line quotes.
const QUOTE_CHARS: usize = 200;

/// A string for a detail line: at most 200 characters, in double quotes,
/// control characters escaped so the detail stays on one line.
pub(crate) fn quote(s: &str) -> String {
    let cut = truncate(s);
    if cut.len() < s.len() {
        format!("{cut:?}...")
    } else {
        format!("{cut:?}")
    }
}

pub(super) fn truncate(s: &str) -> &str {
    match s.char_indices().nth(QUOTE_CHARS) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
#[path = "quote_tests.rs"]
mod tests;
