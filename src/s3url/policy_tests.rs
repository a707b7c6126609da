//! Where deletion is allowed: buckets, prefix, the excluded lease.

use super::*;

#[test]
fn location_policy() {
    let policy = LocationPolicy::new(
        ["b2".to_string(), "keep-images".to_string()],
        "keep-images/",
    );
    assert_eq!(policy.buckets().collect::<Vec<_>>(), ["b2", "keep-images"]);
    assert_eq!(policy.prefix(), "keep-images/");
    let rows: &[(&str, &str, Option<&str>)] = &[
        ("keep-images", "keep-images/a.jpg", None),
        ("b2", "keep-images/x/y", None),
        ("keep-images", "keep-images/", None),
        (
            "other",
            "keep-images/a.jpg",
            Some("bucket \"other\" is not in JANITOR_BUCKETS (b2,keep-images)"),
        ),
        (
            "keep-images",
            "keep-imagesX/a.jpg",
            Some("does not start with JANITOR_PREFIX \"keep-images/\""),
        ),
        ("keep-images", "Keep-images/a.jpg", Some("JANITOR_PREFIX")),
        ("keep-images", "a.jpg", Some("JANITOR_PREFIX")),
        ("KEEP-IMAGES", "keep-images/a.jpg", Some("JANITOR_BUCKETS")),
    ];
    for (bucket, key, want) in rows {
        let obj = ObjectRef::new(*bucket, *key);
        let got = policy.check(&obj);
        assert_eq!(policy.allows(&obj), got.is_ok(), "{obj}");
        match want {
            None => assert_eq!(got, Ok(()), "{obj}"),
            Some(frag) => assert!(
                got.as_ref().is_err_and(|e| e.contains(frag)),
                "{obj}: {got:?}"
            ),
        }
    }
    let open = LocationPolicy::new(["b".to_string()], "");
    assert!(open.allows(&ObjectRef::new("b", "anything/at/all")));
    assert!(!open.allows(&ObjectRef::new("c", "anything")));
    let none = LocationPolicy::new(Vec::new(), "");
    assert!(!none.allows(&ObjectRef::new("b", "k")));
}

#[test]
fn an_excluded_object_is_refused_even_with_an_empty_prefix() {
    let lease = ObjectRef::new("bkt", "image-janitor/sweeper.lease");
    let policy = LocationPolicy::new(["bkt".to_string()], "").excluding(lease.clone());
    assert!(!policy.allows(&lease));
    let err = policy.check(&lease).expect_err("lease");
    assert!(err.contains("lease"), "{err}");
    assert!(policy.allows(&ObjectRef::new("bkt", "image-janitor/other")));
}
