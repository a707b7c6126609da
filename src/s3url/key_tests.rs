//! Key limits and refused characters.

use super::*;
use crate::s3url::parse_url;

#[test]
fn key_limits() {
    assert!(validate_key(&"k".repeat(1024)).is_ok());
    assert!(validate_key(&"k".repeat(1025)).is_err_and(|e| e.contains("1025 bytes")));
    // Bytes, not characters: 341 * 3 bytes + 1 = 1024, one more character is 1027.
    assert!(validate_key(&format!("{}k", "日".repeat(341))).is_ok());
    assert!(validate_key(&format!("{}k", "日".repeat(342))).is_err());
    let long = format!("https://bkt.s3.amazonaws.com/{}", "k".repeat(1024));
    assert_eq!(parse_url(&long, None).map(|o| o.key.len()), Ok(1024));
    // 1024 bytes only after decoding: an encoded path may be longer than the key.
    let encoded = format!("https://bkt.s3.amazonaws.com/{}", "%41".repeat(1024));
    assert_eq!(parse_url(&encoded, None).map(|o| o.key.len()), Ok(1024));
    let too_long = format!("s3://bkt/{}", "k".repeat(1025));
    assert!(
        parse_url(&too_long, None).is_err_and(|e| e.contains("longer than 1024") && e.len() < 400)
    );
    for bad in [
        "", ".", "..", "a/./b", "../a", "a/..", "a\tb", "a\u{0}", "a\u{9f}",
    ] {
        assert!(validate_key(bad).is_err(), "{bad:?}");
    }
    for good in [
        "a",
        "a.",
        ".a",
        "...",
        "a/.../b",
        "a//b",
        "/a",
        "a/",
        " ",
        "日本/画像.jpg",
    ] {
        assert_eq!(validate_key(good), Ok(()), "{good:?}");
    }
}

#[test]
fn noncharacters_are_invalid_keys() {
    for c in [
        '\u{FFFE}',
        '\u{FFFF}',
        '\u{FDD0}',
        '\u{FDEF}',
        '\u{1FFFE}',
        '\u{10FFFF}',
    ] {
        let url = format!("s3://bkt/keep-images/a{c}b.jpg");
        let err = parse_url(&url, None).expect_err("noncharacter");
        assert!(err.contains("noncharacter"), "{err}");
    }
    // Their neighbours are ordinary characters.
    for c in ['\u{FFFD}', '\u{FDCF}', '\u{FDF0}', '\u{1F600}'] {
        let url = format!("s3://bkt/keep-images/a{c}b.jpg");
        assert!(parse_url(&url, None).is_ok(), "{c:?}");
    }
    // Percent-encoded in an https URL: decoded first, then refused.
    let err = parse_url(
        "https://bkt.s3.amazonaws.com/keep-images/a%EF%BF%BEb.jpg",
        None,
    )
    .expect_err("encoded U+FFFE");
    assert!(err.contains("U+FFFE"), "{err}");
}
