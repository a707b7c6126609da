//! Unit tests of `queue`.

use super::*;

fn out(bytes: usize) -> Outgoing {
    Outgoing {
        body: "x".repeat(bytes),
        attributes: Attributes::new(),
    }
}

#[test]
fn batches_respect_ten_entries_and_one_mib() {
    let small: Vec<Outgoing> = (0..25).map(|_| out(100)).collect();
    assert_eq!(size_batches(&small), vec![0..10, 10..20, 20..25]);
    // Ten ~115 KiB messages (a 1,000-image message each) do not fit one 1 MiB batch.
    let large: Vec<Outgoing> = (0..10).map(|_| out(115 * 1024)).collect();
    let batches = size_batches(&large);
    assert_eq!(batches, vec![0..8, 8..10]);
    for r in &batches {
        let total: usize = large[r.clone()].iter().map(Outgoing::size).sum();
        assert!(total <= MAX_BATCH_BYTES, "{r:?}: {total}");
    }
    // A message of nearly 1 MiB goes alone, wherever it is.
    let mixed = vec![out(10), out(MAX_BATCH_BYTES - 5), out(10), out(10)];
    assert_eq!(size_batches(&mixed), vec![0..1, 1..2, 2..4]);
    assert!(size_batches(&[]).is_empty());
}

#[test]
fn attribute_size_counts_name_type_and_value() {
    let mut m = out(10);
    m.attributes
        .insert("trace".into(), Attribute::string("abc"));
    assert_eq!(m.size(), 10 + 5 + 6 + 3);
}

#[test]
fn queue_identity_ignores_spelling() {
    let same = [
        (
            "https://sqs.us-east-1.amazonaws.com/123456789012/q",
            "https://SQS.us-east-1.amazonaws.com/123456789012/q/",
        ),
        (
            "https://sqs.us-east-1.amazonaws.com/123456789012/q",
            "https://queue.amazonaws.com/123456789012/q",
        ),
        (
            "http://127.0.0.1:4566/123456789012/q",
            "http://localhost:4566/123456789012/q",
        ),
        (
            "https://us-east-1.queue.amazonaws.com/123456789012/q",
            "https://sqs.us-east-1.amazonaws.com/123456789012/q",
        ),
    ];
    for (a, b) in same {
        assert!(QueueId::same_url(a, b), "{a} vs {b}");
    }
    let different = [
        (
            "https://sqs.us-east-1.amazonaws.com/123456789012/q",
            "https://sqs.us-east-1.amazonaws.com/123456789012/q-dlq",
        ),
        (
            "https://sqs.us-east-1.amazonaws.com/123456789012/q",
            "https://sqs.us-east-1.amazonaws.com/210987654321/q",
        ),
        (
            "https://sqs.us-east-1.amazonaws.com/123456789012/q",
            "https://sqs.eu-west-1.amazonaws.com/123456789012/q",
        ),
    ];
    for (a, b) in different {
        assert!(!QueueId::same_url(a, b), "{a} vs {b}");
    }
    assert_eq!(
        QueueId::from_url("https://sqs.eu-west-1.amazonaws.com/123456789012/q")
            .and_then(|q| q.region),
        Some("eu-west-1".to_string())
    );
    assert!(QueueId::from_url("https://sqs.us-east-1.amazonaws.com/q").is_none());
}
