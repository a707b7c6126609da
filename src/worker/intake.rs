//! What may still join a delete batch: the receive loops report messages in hand that have not
//! yet handed their keys to the batcher, and how many receives that are expected to return soon
//! are under way; the batcher closes a batch as soon as nothing more can join it soon.
//!
//! Why not a fixed linger: a timer makes every burst pay it in full (the last keys of a wave wait
//! for it however quickly the wave was received), yet is never long enough when the queue has
//! more to give. The loops know better. A long poll that brings messages returns as soon as
//! anything is visible, so it says nothing about what follows; a full receive means more is
//! probably waiting. Either way the loop that got it asks again at once with a short poll (a
//! "probe"), whose answer arrives within one round trip: full, and it probes again; partial or
//! empty, and the queue is drained for now. Every loop that is busy with a burst probes (a loop
//! woken by another's long poll too), and every probe out holds the batch open: what it brings
//! joins the batch it was meant for, instead of arriving just after that batch closed because
//! another loop's probe came back partial. Long polls on an empty queue return only when new
//! messages arrive; waiting for them buys nothing, so they never hold a batch open.
//!
//! A batch is *quiet* (may close) when every message in hand has handed its keys over and no
//! probe is out — or a receive loop is blocked on the in-hand cap, in which case nothing can
//! join until a batch closes and messages finish.

use tokio::sync::watch;

use crate::telemetry::events::BatchClose;

/// The intake's state as the batcher sees it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Messages received whose keys have not reached the batcher (and which have not finished).
    pub handing_over: usize,
    /// Probes out or about to be (at most one per receive loop).
    pub probes: usize,
    /// Receive loops waiting for an in-hand permit.
    pub starved: usize,
}

impl Snapshot {
    /// Nothing more can join a batch soon: close it now.
    pub fn quiet(&self) -> bool {
        self.quiet_while(false)
    }

    /// [`Self::quiet`] while DeleteObjects requests may be in flight: a loop blocked on the
    /// in-hand cap then closes nothing, since those requests will free permits (closing at every
    /// receive while they are out would send one small batch per receive).
    pub fn quiet_while(&self, deletes_in_flight: bool) -> bool {
        self.close_reason(deletes_in_flight).is_some()
    }

    /// Why a batch may close now, if it may ([`Self::quiet_while`]).
    pub fn close_reason(&self, deletes_in_flight: bool) -> Option<BatchClose> {
        if self.handing_over > 0 {
            None
        } else if self.probes == 0 {
            Some(BatchClose::Quiet)
        } else if self.starved > 0 && !deletes_in_flight {
            Some(BatchClose::InHandCap)
        } else {
            None
        }
    }
}

/// Shared between the receive loops, the message tasks (through [`HandOver`]) and the batcher.
#[derive(Debug)]
pub struct Intake {
    tx: watch::Sender<Snapshot>,
}

impl Default for Intake {
    fn default() -> Self {
        Intake {
            tx: watch::Sender::new(Snapshot::default()),
        }
    }
}

impl Intake {
    pub fn snapshot(&self) -> Snapshot {
        *self.tx.borrow()
    }

    /// Subscribe to changes (the batcher's wake-up).
    pub fn subscribe(&self) -> watch::Receiver<Snapshot> {
        self.tx.subscribe()
    }

    /// A receive returned `count` messages: one [`HandOver`] per message, in one update with the
    /// probe bookkeeping so the batcher never sees the messages' keys as settled before they are.
    ///
    /// `more_may_follow`: the receive does not show the queue drained (see the module notes).
    /// `was_probe`: this receive was one of the loop's probes. Returns whether this loop now owns
    /// a probe (its next receive must be a short poll): exactly when `more_may_follow`.
    pub fn received(
        self: &std::sync::Arc<Self>,
        count: usize,
        more_may_follow: bool,
        was_probe: bool,
    ) -> (Vec<HandOver>, bool) {
        self.tx.send_modify(|s| {
            s.handing_over += count;
            if was_probe {
                s.probes = s.probes.saturating_sub(1);
            }
            if more_may_follow {
                s.probes += 1;
            }
        });
        let guards = (0..count)
            .map(|_| HandOver {
                intake: Some(self.clone()),
            })
            .collect();
        (guards, more_may_follow)
    }

    /// A loop woken by another loop's long poll that brought messages: its next receive is a
    /// probe, and holds the batch open until it returns.
    pub fn claim_probe(&self) {
        self.tx.send_modify(|s| s.probes += 1);
    }

    /// A loop that owned a probe stops without making it (shutdown, receive error).
    pub fn drop_probe(&self) {
        self.tx
            .send_modify(|s| s.probes = s.probes.saturating_sub(1));
    }

    /// A receive loop starts waiting for in-hand permits; the guard ends the wait.
    pub fn starving(self: &std::sync::Arc<Self>) -> Starving {
        self.tx.send_modify(|s| s.starved += 1);
        Starving {
            intake: self.clone(),
        }
    }

    fn handed_over(&self) {
        self.tx
            .send_modify(|s| s.handing_over = s.handing_over.saturating_sub(1));
    }
}

/// One received message that has not handed its keys to the batcher yet. Dropped (by the
/// batcher once the keys are pending, or by the message task when it will delete nothing) it
/// tells the batcher this message can no longer add to the batch.
#[derive(Debug)]
pub struct HandOver {
    intake: Option<std::sync::Arc<Intake>>,
}

impl HandOver {
    /// A guard tied to no intake (tests, tools that call the batcher directly).
    pub fn detached() -> HandOver {
        HandOver { intake: None }
    }
}

impl Drop for HandOver {
    fn drop(&mut self) {
        if let Some(intake) = self.intake.take() {
            intake.handed_over();
        }
    }
}

/// A receive loop waiting for in-hand permits (see [`Intake::starving`]).
#[derive(Debug)]
pub struct Starving {
    intake: std::sync::Arc<Intake>,
}

impl Drop for Starving {
    fn drop(&mut self) {
        self.intake
            .tx
            .send_modify(|s| s.starved = s.starved.saturating_sub(1));
    }
}

#[cfg(test)]
mod tests {
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
            intake.snapshot().close_reason(false),
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
            intake.snapshot().close_reason(false),
            Some(BatchClose::InHandCap)
        );
        assert!(
            !intake.snapshot().quiet_while(true),
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
}
