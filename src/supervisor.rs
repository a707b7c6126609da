//! The supervisor: every long-lived task of `run` in one `JoinSet`, so that the first one to end
//! (returning, failing or panicking) is noticed at once, whichever it is.
//!
//! Why one set rather than handles awaited one by one: a handle nobody awaits (`let _ = spawn`)
//! hides a panicking batcher while the receive loops keep taking messages that can never finish,
//! and handles awaited in order surface a failure of task 2 only once task 1 has ended. Before
//! shutdown a long-lived task never ends on its own, so any end is a failure; short-lived work
//! (message tasks) reports its panics through [`Faults`].

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::{Id, JoinError, JoinSet};

use crate::telemetry::events::TaskFailed;

/// Re-raise, in the long-lived task that awaits it, a panic of one of its own spawned requests
/// (a DeleteObjects of the batcher, a DeleteMessageBatch of the acker). Without this the panic
/// ends only that request, the task carries on, and the supervisor never learns of it. An
/// aborted request is not a failure and is passed over.
pub fn reraise_panic<T>(joined: Result<T, JoinError>) {
    if let Err(e) = joined {
        if e.is_panic() {
            std::panic::resume_unwind(e.into_panic());
        }
    }
}

/// The long-lived tasks of `run` (and the message tasks, which report through [`Faults`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Task {
    Batcher,
    Acker,
    ReceiveLoop(usize),
    Message,
    Http,
    SweeperTimer,
    DepthPoller,
}

impl Task {
    /// The `task` field of the log line: bounded, one word per kind.
    pub fn name(self) -> &'static str {
        match self {
            Task::Batcher => "delete_batcher",
            Task::Acker => "acker",
            Task::ReceiveLoop(_) => "receive_loop",
            Task::Message => "message_task",
            Task::Http => "http_server",
            Task::SweeperTimer => "sweeper_timer",
            Task::DepthPoller => "queue_depth_poller",
        }
    }
}

impl fmt::Display for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Task::ReceiveLoop(n) => write!(f, "receive_loop {n}"),
            other => f.write_str(other.name()),
        }
    }
}

/// How a task ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// Returned normally (before shutdown, that is a failure too: nothing does the work now).
    Returned,
    Failed(String),
    Panicked(String),
    /// Did not stop within the time it was given after shutdown; aborted.
    Overran,
}

impl fmt::Display for Ended {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ended::Returned => f.write_str("ended unexpectedly"),
            Ended::Failed(e) => write!(f, "failed: {e}"),
            Ended::Panicked(p) => write!(f, "panicked: {p}"),
            Ended::Overran => f.write_str("did not stop in time"),
        }
    }
}

/// One task's end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exit {
    pub task: Task,
    pub ended: Ended,
}

impl Exit {
    /// Write the one log line naming the task (and count it).
    pub fn report(&self) {
        TaskFailed {
            task: self.task.name(),
            detail: &format!("{} {}", self.task, self.ended),
            overran: self.ended == Ended::Overran,
        }
        .emit();
    }
}

impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "task {} {}", self.task, self.ended)
    }
}

/// What a supervised future may return: `()` or `Result<(), E>`.
pub trait TaskOutput: Send + 'static {
    fn into_result(self) -> Result<(), String>;
}

impl TaskOutput for () {
    fn into_result(self) -> Result<(), String> {
        Ok(())
    }
}

impl<E: fmt::Display + Send + 'static> TaskOutput for Result<(), E> {
    fn into_result(self) -> Result<(), String> {
        self.map_err(|e| e.to_string())
    }
}

/// A boxed task, as a fault-injection hook sees it.
pub type TaskFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

/// Wraps every task as it is spawned (tests make one panic or return early).
pub type Hook = Box<dyn Fn(Task, TaskFuture) -> TaskFuture + Send + Sync>;

/// Reports the failure of short-lived work (a message task's panic) to the supervisor.
#[derive(Clone, Debug)]
pub struct Faults(mpsc::UnboundedSender<Exit>);

impl Faults {
    pub fn report(&self, task: Task, ended: Ended) {
        let _ = self.0.send(Exit { task, ended });
    }
}

pub struct Supervisor {
    set: JoinSet<Result<(), String>>,
    names: HashMap<Id, Task>,
    faults_tx: mpsc::UnboundedSender<Exit>,
    faults: mpsc::UnboundedReceiver<Exit>,
    hook: Option<Hook>,
}

impl Default for Supervisor {
    fn default() -> Self {
        Self::new()
    }
}

impl Supervisor {
    pub fn new() -> Self {
        let (faults_tx, faults) = mpsc::unbounded_channel();
        Supervisor {
            set: JoinSet::new(),
            names: HashMap::new(),
            faults_tx,
            faults,
            hook: None,
        }
    }

    /// A supervisor whose tasks all pass through `hook` when spawned (fault injection).
    pub fn with_hook(hook: Hook) -> Self {
        Supervisor {
            hook: Some(hook),
            ..Self::new()
        }
    }

    /// Where short-lived work reports a failure.
    pub fn faults(&self) -> Faults {
        Faults(self.faults_tx.clone())
    }

    /// Start `fut` as the long-lived task `task`.
    pub fn spawn<F>(&mut self, task: Task, fut: F)
    where
        F: Future + Send + 'static,
        F::Output: TaskOutput,
    {
        let mut boxed: TaskFuture = Box::pin(async move { fut.await.into_result() });
        if let Some(hook) = &self.hook {
            boxed = hook(task, boxed);
        }
        let id = self.set.spawn(boxed).id();
        self.names.insert(id, task);
    }

    /// The first task to end or fault to be reported. Pending forever when there is nothing
    /// to watch.
    pub async fn first_exit(&mut self) -> Exit {
        tokio::select! {
            Some(exit) = self.faults.recv() => exit,
            Some(joined) = self.set.join_next_with_id(), if !self.set.is_empty() => {
                self.exit_of(joined)
            }
        }
    }

    /// After shutdown: wait up to `limit` for every task to end; those that failed, panicked or
    /// overran (aborted at `limit`), and any fault reported meanwhile, are returned.
    pub async fn finish(mut self, limit: Duration) -> Vec<Exit> {
        let mut bad = Vec::new();
        let all = async {
            while let Some(joined) = self.set.join_next_with_id().await {
                let exit = self.exit_of(joined);
                if exit.ended != Ended::Returned {
                    bad.push(exit);
                }
            }
        };
        let in_time = tokio::time::timeout(limit, all).await.is_ok();
        if !in_time {
            self.set.abort_all();
            while let Some(joined) = self.set.join_next_with_id().await {
                if let Err(e) = joined {
                    let task = self.task_of(e.id());
                    bad.push(Exit {
                        task,
                        ended: Ended::Overran,
                    });
                }
            }
        }
        while let Ok(exit) = self.faults.try_recv() {
            bad.push(exit);
        }
        bad
    }

    fn task_of(&mut self, id: Id) -> Task {
        self.names.remove(&id).unwrap_or(Task::Message)
    }

    fn exit_of(&mut self, joined: Result<(Id, Result<(), String>), JoinError>) -> Exit {
        match joined {
            Ok((id, result)) => Exit {
                task: self.task_of(id),
                ended: match result {
                    Ok(()) => Ended::Returned,
                    Err(e) => Ended::Failed(e),
                },
            },
            Err(e) => {
                let task = self.task_of(e.id());
                let ended = if e.is_panic() {
                    Ended::Panicked(panic_message(e.into_panic()))
                } else {
                    Ended::Overran
                };
                Exit { task, ended }
            }
        }
    }
}

/// The text of a panic payload (`panic!("...")` gives `&str` or `String`).
pub fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    match payload.downcast::<String>() {
        Ok(s) => *s,
        Err(payload) => match payload.downcast::<&'static str>() {
            Ok(s) => (*s).to_owned(),
            Err(_) => "a non-string panic payload".to_owned(),
        },
    }
}

#[cfg(test)]
#[path = "supervisor_tests.rs"]
mod tests;
