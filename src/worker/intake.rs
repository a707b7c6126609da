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
//! woken by another's receive too), and every probe out holds the batch open: what it brings
//! joins the batch it was meant for, instead of arriving just after that batch closed because
//! another loop's probe came back partial. Long polls on an empty queue return only when new
//! messages arrive; waiting for them buys nothing, so they never hold a batch open.
//!
//! A batch is *quiet* (may close) when every message in hand has handed its keys over and no
//! probe is out — or a receive loop is blocked on the in-hand cap and every message in hand is
//! in the open batch, in which case nothing can join until the batch closes and messages finish.
//! While some messages in hand are elsewhere (their DeleteObjects in flight, their
//! acknowledgement under way, a retry), they will free permits on their own and the loops'
//! next receives can still join: closing at every such receive sent one small DeleteObjects per
//! receive under a backlog (24 messages a batch on average where the cap allows 80).
//!
//! "Blocked" means no permits are free: the messages in hand and the receives out hold them
//! all. A loop whose permits have just come back is not blocked, though it still says it is
//! waiting for a scheduler turn; closing then sent half-full batches under a backlog. But the
//! permits a receive holds are not free either: waiting for the receives out to fill the cap
//! kept batches open past the linger where receives are slow (moto's take 300–400 ms).

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
    /// Messages received and not finished (see [`Intake::holding`]).
    pub in_hand: usize,
    /// Permits held by receives out (see [`Intake::reserving`]).
    pub reserved: usize,
    /// The most permits in use at which a waiting loop gets its permits (the in-hand cap less
    /// one receive), once the worker has said ([`Intake::set_receive_room`]).
    pub receive_room: Option<usize>,
}

impl Snapshot {
    /// Nothing more can join a batch soon: close it now (as if every message in hand were in
    /// the open batch and no DeleteObjects in flight).
    pub fn quiet(&self) -> bool {
        self.close_reason(false, usize::MAX).is_some()
    }

    /// Why a batch holding `open_messages` messages may close now, if it may. A loop blocked on
    /// the in-hand cap closes it only when no DeleteObjects is in flight and no message in hand
    /// is outside the batch: those will free permits on their own.
    pub fn close_reason(
        &self,
        deletes_in_flight: bool,
        open_messages: usize,
    ) -> Option<BatchClose> {
        if self.handing_over > 0 {
            None
        } else if self.probes == 0 {
            Some(BatchClose::Quiet)
        } else if self.starved > 0
            && !deletes_in_flight
            && self.in_hand <= open_messages
            && self
                .receive_room
                .is_none_or(|room| self.in_hand + self.reserved > room)
        {
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

    /// `count` messages are in hand until their guards drop (when each message finishes).
    /// Call before [`Self::received`], so the batcher never sees them handed over but not held.
    pub fn holding(self: &std::sync::Arc<Self>, count: usize) -> Vec<Holding> {
        (0..count).map(|_| self.count(in_hand, 1)).collect()
    }

    /// A receive holding `permits` is out until the guard drops (once its messages are
    /// [held](Self::holding)).
    pub fn reserving(self: &std::sync::Arc<Self>, permits: usize) -> Reserved {
        self.count(reserved, permits)
    }

    /// A loop waiting for permits gets them once no more than `room` are in use (in hand or
    /// reserved): until then it is blocked. (Its `starving` guard outlives the permits' return
    /// by a scheduler turn; without this, the batch closed in that turn, half full.)
    pub fn set_receive_room(&self, room: usize) {
        self.tx.send_modify(|s| s.receive_room = Some(room));
    }

    /// A loop woken by another loop's receive that brought messages: its next receive is a
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
        self.count(starved, 1)
    }

    /// Add `n` to one of the counts until the guard drops.
    fn count(self: &std::sync::Arc<Self>, field: Field, n: usize) -> Counted {
        self.tx.send_modify(|s| *field(s) += n);
        Counted {
            intake: self.clone(),
            field,
            n,
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

/// One of the snapshot's counts.
type Field = fn(&mut Snapshot) -> &mut usize;

fn in_hand(s: &mut Snapshot) -> &mut usize {
    &mut s.in_hand
}

fn reserved(s: &mut Snapshot) -> &mut usize {
    &mut s.reserved
}

fn starved(s: &mut Snapshot) -> &mut usize {
    &mut s.starved
}

/// `n` added to one of the snapshot's counts, taken off again on drop.
#[derive(Debug)]
pub struct Counted {
    intake: std::sync::Arc<Intake>,
    field: Field,
    n: usize,
}

impl Drop for Counted {
    fn drop(&mut self) {
        let (field, n) = (self.field, self.n);
        self.intake
            .tx
            .send_modify(|s| *field(s) = field(s).saturating_sub(n));
    }
}

/// One message in hand (see [`Intake::holding`]).
pub type Holding = Counted;

/// Permits held by a receive out (see [`Intake::reserving`]).
pub type Reserved = Counted;

/// A receive loop waiting for in-hand permits (see [`Intake::starving`]).
pub type Starving = Counted;

#[cfg(test)]
#[path = "intake_tests.rs"]
mod tests;
