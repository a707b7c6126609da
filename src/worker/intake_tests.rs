//! Unit tests of `worker::intake`.

use std::sync::Arc;

use super::*;

#[test]
fn quiet_only_once_every_message_handed_over() {
    let intake = Arc::new(Intake::default());
    assert!(intake.snapshot().quiet());
    let (guards, probe) = intake.received(3, false, false);
    assert!(
        !probe,
        "a receive that shows the queue drained starts no probe"
    );
    assert!(!intake.snapshot().quiet());
    let mut guards = guards.into_iter();
    drop(guards.next());
    drop(guards.next());
    assert!(!intake.snapshot().quiet(), "one message still handing over");
    drop(guards.next());
    assert!(intake.snapshot().quiet());
}

#[test]
fn every_probe_out_holds_the_batch_open() {
    let intake = Arc::new(Intake::default());
    let (guards, probe) = intake.received(10, true, false);
    assert!(probe);
    drop(guards);
    assert!(!intake.snapshot().quiet(), "the probe may bring more");
    // Another loop's full receive while that probe is out: it probes too.
    let (more, second) = intake.received(10, true, false);
    assert!(second);
    drop(more);
    assert_eq!(intake.snapshot().probes, 2);
    // The first probe comes back partial: the queue is drained for now, but the other
    // probe may still bring messages for this batch.
    let (last, again) = intake.received(4, false, true);
    assert!(!again);
    drop(last);
    assert!(!intake.snapshot().quiet(), "one probe still out");
    let (none, again) = intake.received(0, false, true);
    assert!(none.is_empty() && !again);
    assert_eq!(
        intake.snapshot().close_reason(false, 0),
        Some(BatchClose::Quiet)
    );
}

#[test]
fn a_woken_loop_claims_a_probe() {
    let intake = Arc::new(Intake::default());
    intake.claim_probe();
    assert!(!intake.snapshot().quiet());
    intake.drop_probe();
    assert!(intake.snapshot().quiet());
}

#[test]
fn a_probe_that_comes_back_full_probes_again() {
    let intake = Arc::new(Intake::default());
    let (_g, probe) = intake.received(10, true, false);
    assert!(probe);
    let (g2, again) = intake.received(10, true, true);
    assert!(again);
    drop(g2);
    assert!(!intake.snapshot().quiet());
}

#[test]
fn a_loop_blocked_on_the_in_hand_cap_closes_the_batch() {
    let intake = Arc::new(Intake::default());
    let (guards, _) = intake.received(10, true, false);
    drop(guards);
    assert!(!intake.snapshot().quiet());
    let starving = intake.starving();
    assert_eq!(
        intake.snapshot().close_reason(false, 0),
        Some(BatchClose::InHandCap)
    );
    assert_eq!(
        intake.snapshot().close_reason(true, 0),
        None,
        "a delete in flight will free permits"
    );
    drop(starving);
    assert!(!intake.snapshot().quiet());
    intake.drop_probe();
    assert!(intake.snapshot().quiet());
}

#[test]
fn a_detached_guard_touches_nothing() {
    let intake = Arc::new(Intake::default());
    drop(HandOver::detached());
    assert_eq!(intake.snapshot(), Snapshot::default());
}

#[test]
fn the_in_hand_cap_waits_for_messages_that_will_free_permits_on_their_own() {
    let intake = Arc::new(Intake::default());
    // 20 messages in hand: 10 awaiting their acknowledgements (their keys already deleted),
    // 10 just received and pending in the open batch; a loop waits for permits.
    let acking = intake.holding(10);
    let fresh = intake.holding(10);
    let (guards, _) = intake.received(10, true, false);
    drop(guards);
    let _starving = intake.starving();
    assert_eq!(
        intake.snapshot().close_reason(false, 10),
        None,
        "the 10 being acknowledged will free permits; a receive can still join"
    );
    drop(acking);
    assert_eq!(
        intake.snapshot().close_reason(false, 10),
        Some(BatchClose::InHandCap),
        "everything in hand is in the batch: only closing it frees permits"
    );
    drop(fresh);
    assert_eq!(intake.snapshot().in_hand, 0);
}

#[test]
fn permits_held_by_receives_out_leave_a_waiting_loop_blocked() {
    let intake = Arc::new(Intake::default());
    // A cap of 80: a waiting loop gets its 10 permits once no more than 70 are in use.
    intake.set_receive_room(70);
    let held = intake.holding(60);
    let (guards, _) = intake.received(60, true, false);
    drop(guards);
    let first = intake.reserving(10);
    let _starving = intake.starving();
    assert_eq!(
        intake.snapshot().close_reason(false, 60),
        None,
        "70 permits in use: the waiting loop is about to get its 10"
    );
    let second = intake.reserving(10);
    assert_eq!(
        intake.snapshot().close_reason(false, 60),
        Some(BatchClose::InHandCap),
        "all 80 in use, 20 by receives out: waiting for them to fill the cap costs a round trip"
    );
    drop((first, second, held));
    assert_eq!(intake.snapshot().reserved, 0);
    assert_eq!(intake.snapshot().in_hand, 0);
}
