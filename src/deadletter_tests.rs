//! The dead-lettered copy: original attributes kept, `janitor.*` added, and fitted to SQS's limits (10 attributes, 1 MiB).

use super::*;

#[test]
fn attributes_keep_originals_and_add_janitor_fields() {
    let mut orig = Attributes::new();
    orig.insert("trace".into(), Attribute::string("abc"));
    orig.insert("janitor.reason".into(), Attribute::string("stale"));
    let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000);
    let (attrs, dropped) = dead_letter_attributes(&orig, Reason::InvalidUrl, "bad\nline", 3, t);
    assert!(dropped.is_empty());
    assert_eq!(attrs["trace"], Attribute::string("abc"));
    assert_eq!(attrs[ATTR_REASON], Attribute::string("invalid_url"));
    assert_eq!(attrs[ATTR_DETAIL], Attribute::string("bad line"));
    assert_eq!(attrs[ATTR_ATTEMPTS], Attribute::string("3"));
    assert_eq!(
        attrs[ATTR_FAILED_AT],
        Attribute::string("2026-11-18T11:06:40Z")
    );
    assert_eq!(attrs.len(), 5);
}

#[test]
fn too_many_originals_are_dropped_to_fit() {
    let orig: Attributes = (0..9)
        .map(|i| (format!("a{i}"), Attribute::string("v")))
        .collect();
    let (attrs, dropped) =
        dead_letter_attributes(&orig, Reason::InvalidJson, "x", 1, SystemTime::now());
    assert_eq!(attrs.len(), MAX_ATTRIBUTES);
    assert_eq!(dropped, vec!["a8", "a7", "a6"]);
}

fn received(body: String, attributes: Attributes) -> Received {
    Received {
        message_id: "m-1".into(),
        receipt: crate::queue::Receipt("r-1".into()),
        body,
        attributes,
        receive_count: 2,
        sent_at: None,
    }
}

#[test]
fn a_small_message_keeps_every_attribute_and_the_whole_detail() {
    let mut orig = Attributes::new();
    orig.insert("trace".into(), Attribute::string("abc"));
    let msg = received("{}".into(), orig);
    let f = fit_dead_letter(&msg, Reason::InvalidUrl, "detail", SystemTime::now());
    assert!(!f.detail_shortened);
    assert!(f.dropped.is_empty());
    assert_eq!(f.outgoing.body, "{}");
    assert_eq!(f.outgoing.attributes.len(), 5);
    assert_eq!(
        f.outgoing.attributes[ATTR_DETAIL],
        Attribute::string("detail")
    );
}

#[test]
fn a_body_near_the_limit_keeps_the_reason_and_shortens_the_detail() {
    let detail = "d".repeat(1000);
    let mut orig = Attributes::new();
    orig.insert("trace".into(), Attribute::string("t".repeat(100)));
    // Leave room for the reason and a short detail, not for the whole detail.
    let body = "x".repeat(MAX_MESSAGE_BYTES - 400);
    let msg = received(body.clone(), orig);
    let f = fit_dead_letter(&msg, Reason::DeleteRejected, &detail, SystemTime::now());
    let total = f.outgoing.body.len() + attributes_size(&f.outgoing.attributes);
    assert!(total <= MAX_MESSAGE_BYTES, "{total}");
    assert_eq!(f.outgoing.body, body, "the body is never touched");
    assert!(f.detail_shortened);
    assert_eq!(
        f.outgoing.attributes[ATTR_REASON],
        Attribute::string("delete_rejected")
    );
    let d = f.outgoing.attributes[ATTR_DETAIL]
        .string_value
        .clone()
        .unwrap();
    assert!(d.len() < 1000 && d.ends_with("..."), "{}", d.len());
}

#[test]
fn a_body_at_the_limit_still_carries_the_reason() {
    let body = "x".repeat(MAX_MESSAGE_BYTES - 40);
    let mut orig = Attributes::new();
    orig.insert("trace".into(), Attribute::string("abc"));
    let msg = received(body, orig);
    let f = fit_dead_letter(&msg, Reason::RetriesExhausted, "detail", SystemTime::now());
    let total = f.outgoing.body.len() + attributes_size(&f.outgoing.attributes);
    assert!(total <= MAX_MESSAGE_BYTES, "{total}");
    assert_eq!(
        f.outgoing.attributes.get(ATTR_REASON),
        Some(&Attribute::string("retries_exhausted"))
    );
    assert_eq!(f.dropped, vec!["trace".to_string()]);
}

#[test]
fn detail_is_cut_to_one_kib_on_a_char_boundary() {
    let long = "é".repeat(2000);
    let d = one_line(&long, MAX_DETAIL_BYTES);
    assert!(d.len() <= MAX_DETAIL_BYTES);
    assert!(d.ends_with("..."));
}
