//! Unit tests of `message`.

use super::*;

const EXAMPLE: &str = r#"{
  "type": "page.created",
  "version": 1,
  "page_id": "1f0c2a9e-8d4b-4e0e-9d5f-2b6f0f6a1c11",
  "note_id": "keep-note-123",
  "images": [
    {"s3_url": "s3://keep-notion-sync-images/keep-images/note-123/a.jpg"},
    {"s3_url": "https://keep-notion-sync-images.s3.us-east-1.amazonaws.com/keep-images/note-123/b%20c.png"}
  ],
  "published_at": "2026-11-26T03:00:00Z"
}"#;

fn policy() -> LocationPolicy {
    LocationPolicy::new(["keep-notion-sync-images".to_string()], "keep-images/")
}

fn reason_of(body: &[u8]) -> Reason {
    parse_body(body).expect_err("must be rejected").reason
}

fn sns(inner: &str) -> String {
    serde_json::json!({
        "Type": "Notification",
        "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
        "TopicArn": "arn:aws:sns:us-east-1:123456789012:page-created",
        "Message": inner,
        "Timestamp": "2026-11-26T03:00:00.000Z",
        "SignatureVersion": "1",
    })
    .to_string()
}

#[test]
fn contract_example() {
    let msg = parse_body(EXAMPLE.as_bytes()).expect("valid");
    assert_eq!(
        msg,
        PageCreated {
            page_id: Some("1f0c2a9e-8d4b-4e0e-9d5f-2b6f0f6a1c11".into()),
            note_id: Some("keep-note-123".into()),
            published_at: Some("2026-11-26T03:00:00Z".into()),
            image_urls: vec![
                "s3://keep-notion-sync-images/keep-images/note-123/a.jpg".into(),
                "https://keep-notion-sync-images.s3.us-east-1.amazonaws.com/keep-images/note-123/b%20c.png".into(),
            ],
        }
    );
    let plan = plan(EXAMPLE.as_bytes(), &policy(), None).expect("plan");
    assert_eq!(
        plan.objects,
        [
            ObjectRef::new("keep-notion-sync-images", "keep-images/note-123/a.jpg"),
            ObjectRef::new("keep-notion-sync-images", "keep-images/note-123/b c.png"),
        ]
    );
    assert_eq!(plan.message, msg);
}

#[test]
fn minimal_and_optional_fields() {
    let msg = parse_body(br#"{"type":"page.created","version":1,"images":[]}"#).expect("valid");
    assert_eq!(
        msg,
        PageCreated {
            page_id: None,
            note_id: None,
            published_at: None,
            image_urls: vec![]
        }
    );
    let plan = plan(
        br#"{"type":"page.created","version":1,"images":[]}"#,
        &policy(),
        None,
    )
    .expect("plan");
    assert!(plan.objects.is_empty());
    let nulls = br#"{"type":"page.created","version":1,"images":[],"page_id":null,"note_id":null,"published_at":null}"#;
    assert_eq!(parse_body(nulls), Ok(msg.clone()));
    let extra = br#"{"type":"page.created","version":1,"images":[{"s3_url":"s3://b/k","width":3,"alt":null}],
            "future":{"nested":[1,2]},"Type":"x","page_id":"","schema":"v1"}"#;
    let got = parse_body(extra).expect("unknown fields ignored");
    assert_eq!(
        (got.page_id.as_deref(), got.image_urls.len()),
        (Some(""), 1)
    );
    // 1.0 is an integer (JSON Schema semantics).
    assert!(parse_body(br#"{"type":"page.created","version":1.0,"images":[]}"#).is_ok());
    // Leading/trailing whitespace around the JSON is fine.
    assert!(parse_body(b" \n{\"type\":\"page.created\",\"version\":1,\"images\":[]}\n").is_ok());
}

#[test]
fn reasons() {
    use Reason::*;
    let m = |rest: &str| format!(r#"{{"type":"page.created",{rest}}}"#);
    let rows: Vec<(Vec<u8>, Reason, &str)> = vec![
        // Not UTF-8 JSON.
        (b"\xff\xfe{}".to_vec(), InvalidJson, "not UTF-8"),
        (
            b"{\"type\":\"page.created\",\"version\":1,\"images\":[],\"page_id\":\"\xc3\x28\"}"
                .to_vec(),
            InvalidJson,
            "not UTF-8",
        ),
        (b"".to_vec(), InvalidJson, "not JSON"),
        (b"not json".to_vec(), InvalidJson, "not JSON"),
        (
            b"{\"type\":\"page.created\",".to_vec(),
            InvalidJson,
            "not JSON",
        ),
        (b"{} {}".to_vec(), InvalidJson, "not JSON"),
        (b"\xef\xbb\xbf{}".to_vec(), InvalidJson, "not JSON"),
        (b"{\"version\":1e999}".to_vec(), InvalidJson, "not JSON"),
        // Not an object.
        (
            b"[]".to_vec(),
            InvalidMessage,
            "is an array, expected an object",
        ),
        (b"null".to_vec(), InvalidMessage, "is null"),
        (b"\"page.created\"".to_vec(), InvalidMessage, "is a string"),
        (b"1".to_vec(), InvalidMessage, "is a number"),
        // type.
        (
            br#"{"version":1,"images":[]}"#.to_vec(),
            InvalidMessage,
            "missing field \"type\"",
        ),
        (
            br#"{"type":"page.deleted","version":1,"images":[]}"#.to_vec(),
            InvalidMessage,
            "type is \"page.deleted\"",
        ),
        (
            br#"{"type":"Page.Created","version":1,"images":[]}"#.to_vec(),
            InvalidMessage,
            "expected \"page.created\"",
        ),
        (
            br#"{"type":null,"version":1,"images":[]}"#.to_vec(),
            InvalidMessage,
            "type is null",
        ),
        (
            br#"{"type":["page.created"],"version":1,"images":[]}"#.to_vec(),
            InvalidMessage,
            "type is an array",
        ),
        // type is checked before version.
        (
            br#"{"type":"other","version":2,"images":[]}"#.to_vec(),
            InvalidMessage,
            "type is",
        ),
        (
            br#"{"version":2}"#.to_vec(),
            InvalidMessage,
            "missing field \"type\"",
        ),
        // version.
        (
            m(r#""images":[]"#).into_bytes(),
            InvalidMessage,
            "missing field \"version\"",
        ),
        (
            m(r#""version":"1","images":[]"#).into_bytes(),
            InvalidMessage,
            "version is a string",
        ),
        (
            m(r#""version":null,"images":[]"#).into_bytes(),
            InvalidMessage,
            "version is null",
        ),
        (
            m(r#""version":true,"images":[]"#).into_bytes(),
            InvalidMessage,
            "version is a boolean",
        ),
        (
            m(r#""version":1.5,"images":[]"#).into_bytes(),
            InvalidMessage,
            "version is 1.5, expected an integer",
        ),
        (
            m(r#""version":2,"images":[]"#).into_bytes(),
            UnsupportedVersion,
            "version 2 is not supported",
        ),
        (
            m(r#""version":0,"images":[]"#).into_bytes(),
            UnsupportedVersion,
            "version 0",
        ),
        (
            m(r#""version":-1,"images":[]"#).into_bytes(),
            UnsupportedVersion,
            "version -1",
        ),
        (
            m(r#""version":2.0,"images":[]"#).into_bytes(),
            UnsupportedVersion,
            "not supported",
        ),
        (
            m(r#""version":18446744073709551617,"images":[]"#).into_bytes(),
            UnsupportedVersion,
            "not supported",
        ),
        // version is checked before images.
        (
            m(r#""version":2"#).into_bytes(),
            UnsupportedVersion,
            "version 2",
        ),
        // images.
        (
            m(r#""version":1"#).into_bytes(),
            InvalidMessage,
            "missing field \"images\"",
        ),
        (
            m(r#""version":1,"images":null"#).into_bytes(),
            InvalidMessage,
            "images is null",
        ),
        (
            m(r#""version":1,"images":{}"#).into_bytes(),
            InvalidMessage,
            "images is an object",
        ),
        (
            m(r#""version":1,"images":"s3://b/k""#).into_bytes(),
            InvalidMessage,
            "images is a string",
        ),
        (
            m(r#""version":1,"images":["s3://b/k"]"#).into_bytes(),
            InvalidMessage,
            "images[0] is a string, expected an object",
        ),
        (
            m(r#""version":1,"images":[{"s3_url":"s3://b/k"},null]"#).into_bytes(),
            InvalidMessage,
            "images[1] is null",
        ),
        (
            m(r#""version":1,"images":[{"url":"s3://b/k"}]"#).into_bytes(),
            InvalidMessage,
            "images[0] has no \"s3_url\"",
        ),
        (
            m(r#""version":1,"images":[{"s3_url":null}]"#).into_bytes(),
            InvalidMessage,
            "images[0].s3_url is null",
        ),
        (
            m(r#""version":1,"images":[{"s3_url":42}]"#).into_bytes(),
            InvalidMessage,
            "images[0].s3_url is a number",
        ),
        (
            m(r#""version":1,"images":[{"s3_url":["s3://b/k"]}]"#).into_bytes(),
            InvalidMessage,
            "s3_url is an array",
        ),
        // Optional strings.
        (
            m(r#""version":1,"images":[],"page_id":123"#).into_bytes(),
            InvalidMessage,
            "page_id is a number",
        ),
        (
            m(r#""version":1,"images":[],"note_id":{}"#).into_bytes(),
            InvalidMessage,
            "note_id is an object",
        ),
        (
            m(r#""version":1,"images":[],"published_at":1764126000"#).into_bytes(),
            InvalidMessage,
            "published_at is a number",
        ),
        (
            m(r#""version":1,"images":[],"page_id":false"#).into_bytes(),
            InvalidMessage,
            "page_id is a boolean",
        ),
    ];
    for (body, want, frag) in rows {
        let shown = String::from_utf8_lossy(&body).into_owned();
        let got = parse_body(&body).expect_err(&shown);
        assert_eq!(got.reason, want, "{shown}: {}", got.detail);
        assert!(
            got.detail.contains(frag),
            "{shown}: {:?} lacks {frag:?}",
            got.detail
        );
        assert!(
            !got.detail.contains('\n') && got.detail.len() <= MAX_DETAIL_BYTES,
            "{shown}"
        );
    }
}

#[test]
fn image_count_limit() {
    let body = |n: usize| {
        build_body(
            None,
            None,
            &vec!["s3://b/k".to_string(); n],
            "2026-11-26T03:00:00Z",
        )
    };
    assert_eq!(
        parse_body(body(MAX_IMAGES).as_bytes()).map(|m| m.image_urls.len()),
        Ok(1000)
    );
    let err = parse_body(body(MAX_IMAGES + 1).as_bytes()).expect_err("too many");
    assert_eq!(err.reason, Reason::InvalidMessage);
    assert!(
        err.detail.contains("1001 images, more than 1000"),
        "{}",
        err.detail
    );
}

#[test]
fn large_and_deep_bodies() {
    // A 1 MiB body is parsed (the queue limits size, not the parser).
    let page_id = "p".repeat(1 << 20);
    let body = build_body(Some(&page_id), None, &["s3://b/k".to_string()], "t");
    assert!(body.len() > 1 << 20);
    assert_eq!(
        parse_body(body.as_bytes()).map(|m| m.page_id.map(|p| p.len())),
        Ok(Some(1 << 20))
    );
    // Deep nesting hits serde_json's recursion limit: invalid_json, no stack overflow.
    let deep = "[".repeat(10_000);
    assert_eq!(reason_of(deep.as_bytes()), Reason::InvalidJson);
    let deep_closed = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    assert_eq!(reason_of(deep_closed.as_bytes()), Reason::InvalidJson);
    let deep_field = format!(
        r#"{{"type":"page.created","version":1,"images":[],"x":{}1{}}}"#,
        "{\"a\":".repeat(10_000),
        "}".repeat(10_000)
    );
    assert_eq!(reason_of(deep_field.as_bytes()), Reason::InvalidJson);
}

#[test]
fn sns_envelope() {
    let wrapped = sns(EXAMPLE);
    assert_eq!(
        parse_body(wrapped.as_bytes()),
        parse_body(EXAMPLE.as_bytes())
    );
    let plan = plan(wrapped.as_bytes(), &policy(), None).expect("plan");
    assert_eq!(plan.objects.len(), 2);

    let err = parse_body(sns("not json {").as_bytes()).expect_err("bad Message");
    assert_eq!(err.reason, Reason::InvalidJson);
    assert!(
        err.detail.contains("SNS envelope's Message is not JSON"),
        "{}",
        err.detail
    );
    // The inner message is validated like any other.
    assert_eq!(
        reason_of(sns(r#"{"type":"page.created","version":2,"images":[]}"#).as_bytes()),
        Reason::UnsupportedVersion
    );
    assert_eq!(reason_of(sns("[1]").as_bytes()), Reason::InvalidMessage);
    assert_eq!(reason_of(sns("").as_bytes()), Reason::InvalidJson);
    // Unwrapped once only: an envelope inside an envelope is not a page.created.
    let twice = sns(&sns(EXAMPLE));
    let err = parse_body(twice.as_bytes()).expect_err("double envelope");
    assert_eq!(
        (err.reason, err.detail.as_str()),
        (Reason::InvalidMessage, "missing field \"type\"")
    );
    // Not an envelope: other Type, or Message not a string.
    let other_type =
        serde_json::json!({"Type":"SubscriptionConfirmation","Message":EXAMPLE}).to_string();
    assert_eq!(reason_of(other_type.as_bytes()), Reason::InvalidMessage);
    let object_message =
        serde_json::json!({"Type":"Notification","Message":{"type":"page.created"}}).to_string();
    assert_eq!(reason_of(object_message.as_bytes()), Reason::InvalidMessage);
}

#[test]
fn plan_dedupes_in_first_seen_order() {
    let urls: Vec<String> = [
        "s3://keep-notion-sync-images/keep-images/b.jpg",
        "s3://keep-notion-sync-images/keep-images/a.jpg",
        "https://keep-notion-sync-images.s3.amazonaws.com/keep-images/b.jpg?X-Amz-Signature=1",
        "https://s3.eu-west-1.amazonaws.com/keep-notion-sync-images/keep-images/a.jpg",
        "s3://keep-notion-sync-images/keep-images/c.jpg",
        "s3://keep-notion-sync-images/keep-images/a.jpg",
    ]
    .map(String::from)
    .to_vec();
    let body = build_body(Some("p"), Some("n"), &urls, "2026-11-26T03:00:00Z");
    let plan = plan(body.as_bytes(), &policy(), None).expect("plan");
    let keys: Vec<&str> = plan.objects.iter().map(|o| o.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "keep-images/b.jpg",
            "keep-images/a.jpg",
            "keep-images/c.jpg"
        ]
    );
    assert_eq!(plan.message.image_urls, urls);
}

#[test]
fn plan_refuses_whole_message() {
    let ok = "s3://keep-notion-sync-images/keep-images/a.jpg";
    let rows: &[(&[&str], Reason, &str)] = &[
        (&[ok, "s3://other-bucket/keep-images/b.jpg"], Reason::ForbiddenLocation, "images[1]: bucket \"other-bucket\""),
        (&[ok, "s3://keep-notion-sync-images/elsewhere/b.jpg"], Reason::ForbiddenLocation, "images[1]: key \"elsewhere/b.jpg\""),
        (&["s3://x-bucket/k", "s3://y-bucket/k", ok], Reason::ForbiddenLocation, "images[0]: bucket \"x-bucket\" is not in JANITOR_BUCKETS (keep-notion-sync-images) (and 1 more forbidden)"),
        (&[ok, "ftp://keep-notion-sync-images/keep-images/b.jpg"], Reason::InvalidUrl, "images[1]: unsupported scheme"),
        (&[ok, ""], Reason::InvalidUrl, "images[1]: not an s3://"),
        (&[ok, "s3://keep-notion-sync-images/keep-images/../secret"], Reason::InvalidUrl, "images[1]: key has a"),
        (&[ok, "s3://keep-notion-sync-images/keep-images/a\u{1}"], Reason::InvalidUrl, "U+0001"),
        // Invalid wins over forbidden, wherever it is.
        (&["s3://other-bucket/k", ok, "http://keep-notion-sync-images.s3.amazonaws.com/keep-images/a.jpg"], Reason::InvalidUrl, "images[2]: http:// is accepted only"),
        (&["s3://AB/k", "s3://other-bucket/k", "s3://b/"], Reason::InvalidUrl, "images[0]: invalid bucket name \"AB\""),
        (&["s3://AB/k", "s3://other-bucket/k", "s3://b/"], Reason::InvalidUrl, "(and 1 more invalid)"),
    ];
    for (urls, want, frag) in rows {
        let urls: Vec<String> = urls.iter().map(|u| u.to_string()).collect();
        let body = build_body(None, None, &urls, "t");
        let err = plan(body.as_bytes(), &policy(), None).expect_err(&body);
        assert_eq!(err.reason, *want, "{urls:?}: {}", err.detail);
        assert!(
            err.detail.contains(frag),
            "{urls:?}: {:?} lacks {frag:?}",
            err.detail
        );
        assert!(!err.detail.contains('\n'));
    }
    // Message errors come before URL errors.
    let bad = r#"{"type":"page.created","version":2,"images":[{"s3_url":"nope"}]}"#;
    assert_eq!(
        plan(bad.as_bytes(), &policy(), None)
            .map(|_| ())
            .map_err(|e| e.reason),
        Err(Reason::UnsupportedVersion)
    );
}

#[test]
fn python_json_dumps_body() {
    // What Python's json.dumps (ensure_ascii) sends for the same key in both URL forms.
    let body = r#"{"type": "page.created", "version": 1, "images": [{"s3_url": "https://bkt.s3.us-east-1.amazonaws.com/keep-images/%E6%97%A5%E6%9C%AC%20a%2Bb%F0%9F%98%80.jpg"}, {"s3_url": "s3://bkt/keep-images/\u65e5\u672c a+b\ud83d\ude00.jpg"}]}"#;
    let policy = LocationPolicy::new(["bkt".to_string()], "keep-images/");
    let plan = plan(body.as_bytes(), &policy, None).expect("plan");
    assert_eq!(
        plan.objects,
        [ObjectRef::new("bkt", "keep-images/日本 a+b😀.jpg")]
    );
    let lone = r#"{"type":"page.created","version":1,"images":[],"page_id":"\ud800"}"#;
    assert_eq!(reason_of(lone.as_bytes()), Reason::InvalidJson);
}

#[test]
fn plan_with_endpoint() {
    let endpoint = S3Endpoint::parse("http://127.0.0.1:4566").expect("endpoint");
    let urls =
        vec!["http://127.0.0.1:4566/keep-notion-sync-images/keep-images/x%2By.jpg".to_string()];
    let body = build_body(None, None, &urls, "t");
    let plan_ok = plan(body.as_bytes(), &policy(), Some(&endpoint)).expect("plan");
    assert_eq!(
        plan_ok.objects,
        [ObjectRef::new(
            "keep-notion-sync-images",
            "keep-images/x+y.jpg"
        )]
    );
    let err = plan(body.as_bytes(), &policy(), None).expect_err("no endpoint");
    assert_eq!(err.reason, Reason::InvalidUrl);
}

#[test]
fn long_details_are_clamped() {
    let prefix = "p".repeat(300);
    let wide = LocationPolicy::new((0..100).map(|i| format!("bucket-{i:03}")), prefix);
    let urls = vec![format!("s3://bucket-000/{}", "日".repeat(300))];
    let err =
        plan(build_body(None, None, &urls, "t").as_bytes(), &wide, None).expect_err("forbidden");
    assert_eq!(err.reason, Reason::ForbiddenLocation);
    assert!(err.detail.len() <= MAX_DETAIL_BYTES, "{}", err.detail.len());
    let err = reject(Reason::InvalidUrl, format!("a\nb{}", "日".repeat(1000)));
    assert!(
        err.detail.starts_with("a b")
            && err.detail.ends_with("...")
            && err.detail.len() <= MAX_DETAIL_BYTES
    );
}

#[test]
fn build_body_round_trips() {
    let urls = vec![
        "s3://b/\"quoted\" \\ back\\slash\ttab.jpg".to_string(),
        "https://bkt.s3.amazonaws.com/%E6%97%A5.jpg?X-Amz-Signature=a&b=c".to_string(),
    ];
    let body = build_body(
        Some("page \"1\""),
        Some("n\u{2028}ote"),
        &urls,
        "2026-11-26T03:00:00Z",
    );
    assert!(
        body.starts_with(r#"{"type":"page.created","version":1,"page_id":"page \"1\"","note_id":"#),
        "{body}"
    );
    let msg = parse_body(body.as_bytes()).expect("round trip");
    assert_eq!(
        msg,
        PageCreated {
            page_id: Some("page \"1\"".into()),
            note_id: Some("n\u{2028}ote".into()),
            published_at: Some("2026-11-26T03:00:00Z".into()),
            image_urls: urls,
        }
    );
    let bare = build_body(None, None, &[], "2026-11-26T03:00:00Z");
    assert_eq!(
        bare,
        r#"{"type":"page.created","version":1,"images":[],"published_at":"2026-11-26T03:00:00Z"}"#
    );
    assert_eq!(parse_body(bare.as_bytes()).map(|m| m.page_id), Ok(None));
    // It is plain JSON to any other reader too.
    let v: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(
        v["images"][1]["s3_url"],
        "https://bkt.s3.amazonaws.com/%E6%97%A5.jpg?X-Amz-Signature=a&b=c"
    );
}
