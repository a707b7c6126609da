//! Both precisions, the round trip, and times RFC 3339 cannot carry.

use std::time::{Duration, SystemTime};

use super::*;

fn at(secs: u64, nanos: u32) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::new(secs, nanos)
}

#[test]
fn whole_seconds_drop_the_fraction() {
    assert_eq!(rfc3339(at(1_795_000_000, 0)), "2026-11-18T11:06:40Z");
    assert_eq!(
        rfc3339(at(1_795_000_000, 999_999_999)),
        "2026-11-18T11:06:40Z"
    );
    assert_eq!(rfc3339(SystemTime::UNIX_EPOCH), "1970-01-01T00:00:00Z");
}

#[test]
fn precise_keeps_the_fraction_and_round_trips() {
    let t = at(1_900_000_000, 250_000_000);
    assert_eq!(rfc3339_precise(t), "2030-03-17T17:46:40.25Z");
    assert_eq!(
        rfc3339_precise(at(1_900_000_000, 0)),
        "2030-03-17T17:46:40Z"
    );
    for t in [
        t,
        at(1_900_000_000, 1),
        at(0, 0),
        at(1_795_000_000, 999_999_999),
    ] {
        assert_eq!(parse_rfc3339(&rfc3339_precise(t)), Some(t));
    }
}

#[test]
fn parse_accepts_offsets_and_refuses_junk() {
    assert_eq!(
        parse_rfc3339("2026-11-18T12:06:40+01:00"),
        Some(at(1_795_000_000, 0))
    );
    for bad in [
        "",
        "yesterday",
        "2026-11-18 11:06:40",
        "2026-11-18T11:06:40",
    ] {
        assert_eq!(parse_rfc3339(bad), None, "{bad:?}");
    }
}

#[test]
fn unrepresentable_times_become_the_epoch_never_a_panic() {
    let far = SystemTime::UNIX_EPOCH + Duration::from_secs(400_000_000_000);
    assert_eq!(rfc3339(far), "1970-01-01T00:00:00Z");
    assert_eq!(rfc3339_precise(far), "1970-01-01T00:00:00Z");
    if let Some(before) = SystemTime::UNIX_EPOCH.checked_sub(Duration::from_secs(1)) {
        assert_eq!(rfc3339(before), "1970-01-01T00:00:00Z");
    }
}
