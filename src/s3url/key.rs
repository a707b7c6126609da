//! Key rules (CONTRACT §2/§3: length, `.`/`..` segments, control characters, noncharacters)
//! and the one percent-decoding of an http(s) path.

use percent_encoding::percent_decode_str;

use super::MAX_KEY_BYTES;

/// Key rules: 1..=1024 bytes, no `.` or `..` segment (split on `/`), no control character, no
/// Unicode noncharacter (U+FFFE, U+FFFF, U+FDD0–U+FDEF, and the last two of every plane): XML 1.0
/// cannot carry U+FFFE/U+FFFF at all, so a DeleteObjects naming one is refused as MalformedXML for
/// every key in the request, and S3 advises against the rest.
pub fn validate_key(key: &str) -> Result<(), String> {
    if key.is_empty() {
        return Err("empty key".to_string());
    }
    if key.len() > MAX_KEY_BYTES {
        return Err(format!(
            "key is {} bytes, longer than {MAX_KEY_BYTES}",
            key.len()
        ));
    }
    if let Some(c) = key.chars().find(|c| c.is_control()) {
        return Err(format!(
            "key contains control character U+{:04X}",
            u32::from(c)
        ));
    }
    if let Some(c) = key.chars().find(|&c| is_noncharacter(c)) {
        return Err(format!(
            "key contains Unicode noncharacter U+{:04X}, which S3's XML requests cannot carry",
            u32::from(c)
        ));
    }
    if key.split('/').any(|seg| seg == "." || seg == "..") {
        return Err("key has a \".\" or \"..\" path segment".to_string());
    }
    Ok(())
}

fn is_noncharacter(c: char) -> bool {
    let n = u32::from(c);
    (0xFDD0..=0xFDEF).contains(&n) || (n & 0xFFFE) == 0xFFFE
}

/// Percent-decode a path once; every `%` must start a `%XX` escape and the result must be UTF-8.
pub(super) fn decode_key(raw: &str) -> Result<String, String> {
    for (i, _) in raw.match_indices('%') {
        let hex = raw.get(i + 1..i + 3);
        if !hex.is_some_and(|h| h.bytes().all(|b| b.is_ascii_hexdigit())) {
            return Err(format!("invalid percent-encoding at byte {i} of the key"));
        }
    }
    percent_decode_str(raw)
        .decode_utf8()
        .map(|k| k.into_owned())
        .map_err(|_| "percent-decoded key is not valid UTF-8".to_string())
}

#[cfg(test)]
#[path = "key_tests.rs"]
mod tests;
