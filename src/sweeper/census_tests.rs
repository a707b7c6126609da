//! Unit tests of `sweeper::census`.

use super::*;

fn t(secs: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
}

#[test]
fn heaps_count_sum_and_keep_the_oldest_dated_member() {
    let mut a = Heap::default();
    a.add(10, Some(t(500)));
    a.add(5, None);
    a.add(1, Some(t(300)));
    assert_eq!((a.objects, a.bytes, a.oldest), (3, 16, Some(t(300))));
    let mut b = Heap::default();
    b.add(7, None);
    assert_eq!(b.oldest, None, "an undated object has no age");
    b.merge(&a);
    assert_eq!((b.objects, b.bytes, b.oldest), (4, 23, Some(t(300))));
    let mut c = Heap::default();
    c.add(1, Some(t(100)));
    b.merge(&c);
    assert_eq!(b.oldest, Some(t(100)));
}

#[test]
fn oldest_age_is_zero_for_an_empty_prefix_or_a_clock_behind_the_object() {
    let mut c = Census {
        listed_at: Some(t(1000)),
        ..Census::default()
    };
    assert_eq!(c.oldest_age(), Duration::ZERO);
    c.remaining.add(1, Some(t(400)));
    assert_eq!(c.oldest_age(), Duration::from_secs(600));
    c.listed_at = Some(t(100));
    assert_eq!(c.oldest_age(), Duration::ZERO);
}

#[test]
fn summary_line_names_the_location_and_every_figure() {
    let mut census = Census {
        listed_at: Some(t(10_000)),
        stale_remaining: 2,
        ..Census::default()
    };
    census.remaining.add(40, Some(t(10_000 - 7530)));
    census.remaining.add(8, Some(t(9_999)));
    let b = BucketCensus {
        bucket: "imgs".into(),
        census,
    };
    assert_eq!(
        b.summary_line("keep-images/"),
        "s3://imgs/keep-images/: 2 objects, 48 bytes remain; oldest 2h 5m 30s; 2 stale not deleted"
    );
    let mut undated = b.clone();
    undated.census.undated = 1;
    assert!(undated
        .summary_line("p/")
        .ends_with("; 1 without LastModified skipped"));
}
