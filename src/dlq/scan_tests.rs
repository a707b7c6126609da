//! Unit tests of `dlq::scan`.

use super::*;
use crate::fakes::FakeQueue;

/// Slow work between receives (a loaded proxy, a paced replay) is not idleness.
#[tokio::test(start_paused = true)]
async fn time_spent_between_calls_does_not_count_as_idle() {
    let q = FakeQueue::new("dlq");
    for i in 0..25 {
        q.push(&format!("m{i}"), Default::default());
    }
    let mut scanner = Scanner::new(&q, Duration::from_secs(30), Duration::from_secs(1));
    let mut got = 0;
    while let Some(batch) = scanner.next_new(10).await.expect("receive") {
        got += batch.len();
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    assert_eq!(got, 25);
}
