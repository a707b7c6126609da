//! Unit tests of `FakeStore` itself: conditional writes as S3 answers them, scripted lease failures.

use std::time::SystemTime;

use super::{permanent, transient, FakeStore};
use crate::aws_error::AwsError;
use crate::store::{CondPut, ObjectStore};

fn code<T: std::fmt::Debug>(r: Result<T, AwsError>) -> String {
    match r {
        Err(e) => e.code,
        Ok(v) => panic!("expected an error, got {v:?}"),
    }
}

#[tokio::test]
async fn conditional_writes_answer_as_s3_does() {
    let s = FakeStore::new(&["b"]);
    // If-Match on a missing object: 404 NoSuchKey, not a failed precondition.
    let missing = s
        .put_conditional("b", "k", b"1".to_vec(), Some("\"e1\""))
        .await;
    assert_eq!(code(missing), "NoSuchKey");
    assert!(!s.exists("b", "k"));
    let CondPut::Written(etag) = s
        .put_conditional("b", "k", b"1".to_vec(), None)
        .await
        .expect("create")
    else {
        panic!("If-None-Match on a missing key writes");
    };
    let again = s
        .put_conditional("b", "k", b"2".to_vec(), None)
        .await
        .expect("call");
    assert_eq!(
        again,
        CondPut::PreconditionFailed,
        "If-None-Match on a present key"
    );
    let wrong = s
        .put_conditional("b", "k", b"2".to_vec(), Some("\"other\""))
        .await;
    assert_eq!(wrong.expect("call"), CondPut::PreconditionFailed);
    let right = s
        .put_conditional("b", "k", b"3".to_vec(), Some(&etag))
        .await
        .expect("call");
    assert!(
        matches!(right, CondPut::Written(ref e) if *e != etag),
        "{right:?}"
    );
    assert_eq!(s.body("b", "k"), Some(b"3".to_vec()));
    assert_eq!(s.put_requests().len(), 5);
    assert_eq!(s.put_requests()[4], ("k".to_owned(), Some(etag)));
}

#[tokio::test]
async fn scripted_lease_failures_come_once_each_in_order() {
    let s = FakeStore::new(&["b"]);
    s.put("b", "k", SystemTime::UNIX_EPOCH);
    s.fail_next_get(transient("s3", "GetObject", "SlowDown"));
    s.fail_next_get(permanent("s3", "GetObject", "AccessDenied"));
    assert_eq!(code(s.get_versioned("b", "k").await), "SlowDown");
    assert_eq!(code(s.get_versioned("b", "k").await), "AccessDenied");
    assert!(s.get_versioned("b", "k").await.expect("third").is_some());
    s.fail_next_put(transient("s3", "PutObject", "InternalError"));
    let failed = s.put_conditional("b", "new", b"x".to_vec(), None).await;
    assert_eq!(code(failed), "InternalError");
    assert!(!s.exists("b", "new"), "a failed put writes nothing");
    let ok = s.put_conditional("b", "new", b"x".to_vec(), None).await;
    assert!(matches!(ok, Ok(CondPut::Written(_))), "{ok:?}");
}

#[tokio::test]
async fn an_unknown_bucket_is_no_such_bucket_for_every_call() {
    let s = FakeStore::new(&["b"]);
    assert_eq!(code(s.get_versioned("nope", "k").await), "NoSuchBucket");
    assert_eq!(
        code(s.put_conditional("nope", "k", vec![], None).await),
        "NoSuchBucket"
    );
    assert_eq!(code(s.delete_one("nope", "k").await), "NoSuchBucket");
    assert_eq!(
        code(s.delete_objects("nope", &["k".into()]).await),
        "NoSuchBucket"
    );
    assert_eq!(code(s.list_page("nope", "", None).await), "NoSuchBucket");
    // A missing key in a known bucket: absent, and deleting it succeeds.
    assert_eq!(s.get_versioned("b", "k").await.expect("get"), None);
    s.delete_one("b", "k")
        .await
        .expect("S3 deletes a missing key with 204");
}

#[tokio::test]
async fn an_empty_delete_makes_no_request() {
    let s = FakeStore::new(&["b"]);
    assert!(s.delete_objects("b", &[]).await.expect("empty").is_empty());
    assert!(s.delete_requests().is_empty());
    let keys: Vec<String> = (0..1001).map(|i| format!("k{i}")).collect();
    assert_eq!(code(s.delete_objects("b", &keys).await), "MalformedXML");
}
