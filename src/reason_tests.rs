//! Unit tests of `reason`.

use super::*;

#[test]
fn names_round_trip() {
    for r in Reason::ALL {
        assert_eq!(Reason::parse(r.as_str()), Some(r));
    }
    assert_eq!(Reason::parse("nope"), None);
}

const SECRET: &str = "9f8e7d6c5b4a39281706f5e4d3c2b1a0ffeeddccbbaa99887766554433221100";

/// No window of 6 characters of the secret survives.
fn holds_part_of_secret(s: &str) -> bool {
    SECRET
        .as_bytes()
        .windows(6)
        .any(|w| s.contains(std::str::from_utf8(w).unwrap_or("?")))
}

#[test]
fn details_are_redacted_before_they_are_cut() {
    let url = |pad: usize| {
        format!(
            "images[0]: invalid percent-encoding: \"https://b.s3.amazonaws.com/{}%zz?X-Amz-Security-Token={SECRET}&X-Amz-Signature={SECRET}\"",
            "k".repeat(pad)
        )
    };
    // Every position of the cut relative to the query: before it, inside the marker, inside
    // either secret (a cut-then-redact would leave a prefix of the token there), after it.
    let mut cuts_in_query = 0;
    let mut cut_first_too_long = 0;
    for pad in 850..1010 {
        let raw = url(pad);
        let r = Rejection::new(Reason::InvalidUrl, raw.clone());
        assert!(
            r.detail.len() <= MAX_DETAIL_BYTES,
            "{pad}: {}",
            r.detail.len()
        );
        assert!(!holds_part_of_secret(&r.detail), "{pad}: {}", r.detail);
        let query_at = raw.find('?').unwrap_or(raw.len());
        if (query_at + 1..raw.len()).contains(&(MAX_DETAIL_BYTES - 3)) {
            // A cut of the raw detail would fall inside the query.
            cuts_in_query += 1;
        }
        if query_at + 2 < MAX_DETAIL_BYTES - 3 {
            // The marker (or the cut part of it) shows where the query was.
            assert!(r.detail.contains("?<"), "{pad}: {}", r.detail);
        }
        // Cut first, then redacted: a short cut query grows into the marker, past 1 KiB.
        if crate::redact::text(&clamp(&raw)).len() > MAX_DETAIL_BYTES {
            cut_first_too_long += 1;
        }
    }
    assert!(
        cuts_in_query > 100,
        "the table must put the cut inside the secrets"
    );
    assert!(cut_first_too_long > 0);
    let r = Rejection::new(Reason::InvalidUrl, url(10));
    assert!(r.detail.ends_with("%zz?<redacted>\""), "{}", r.detail);
}

#[test]
fn details_are_one_line_and_bounded() {
    let r = Rejection::new(
        Reason::DeleteRejected,
        format!("a\nb\r{}", "日".repeat(1000)),
    );
    assert!(r.detail.starts_with("a b "), "{}", r.detail);
    assert!(r.detail.ends_with("...") && r.detail.len() <= MAX_DETAIL_BYTES);
    let short = Rejection::new(Reason::DeleteRejected, "s3://b/k: AccessDenied");
    assert_eq!(short.detail, "s3://b/k: AccessDenied");
}

#[test]
fn names_are_the_contracts() {
    let names: Vec<String> = Reason::ALL.iter().map(ToString::to_string).collect();
    assert_eq!(
        names,
        [
            "invalid_json",
            "invalid_message",
            "unsupported_version",
            "invalid_url",
            "forbidden_location",
            "delete_rejected",
            "retries_exhausted",
        ]
    );
}

#[test]
fn one_line_cuts_only_past_max_and_on_a_character_boundary() {
    assert_eq!(one_line("abcdef", 6), "abcdef", "exactly max: kept");
    assert_eq!(one_line("abcdefg", 6), "abc...");
    // "日" is 3 bytes: a cut at byte 4 backs up to the boundary at 3.
    assert_eq!(one_line("日日日", 7), "日...");
    assert_eq!(one_line("a\tb", 10), "a b");
}
