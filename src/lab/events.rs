//! A bounded ring of recent events: the history behind the event pane and
//! the headless timeline. Only slow-path transitions are logged, so the
//! hot send/recv path never touches it.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use super::snapshot::WorkerState;

/// Something notable that happened in a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    /// A worker was spawned (or a foreign thread first seen).
    Spawned {
        /// Its name.
        worker: String,
        /// True for a thread the lab did not spawn.
        external: bool,
    },
    /// A worker started waiting.
    Blocked {
        /// Its name.
        worker: String,
        /// On what: its state as it started waiting.
        state: WorkerState,
    },
    /// A worker sent an item (with `Config::log_items`).
    Sent {
        /// Who sent it.
        worker: String,
        /// On which channel.
        channel: String,
        /// Which one: the channel's n-th message, from 1.
        item: u64,
    },
    /// A worker received an item (with `Config::log_items`).
    Received {
        /// Who received it.
        worker: String,
        /// From which channel.
        channel: String,
        /// Which one: the n-th message taken from the channel, from 1.
        item: u64,
    },
    /// A worker returned.
    Finished {
        /// Its name.
        worker: String,
    },
    /// A worker panicked.
    Panicked {
        /// Its name.
        worker: String,
        /// The panic message.
        message: String,
    },
    /// A channel lost its last Sender (closed) or its last Receiver.
    Closed {
        /// The channel's name.
        channel: String,
        /// True when the last Sender went (the Go `close`), false when the
        /// last Receiver went.
        by_sender: bool,
    },
    /// The run was paused, resumed, stepped, or its speed changed.
    Control {
        /// What changed, in words.
        what: String,
    },
    /// The lab took a verdict.
    Verdict {
        /// The verdict's headline.
        headline: String,
    },
    /// The run stopped on request (restart, quit).
    Stopped,
}

/// One logged event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Position in the run's history, from 0, without gaps.
    pub seq: u64,
    /// When, since the run started.
    pub at: Duration,
    /// What.
    pub kind: EventKind,
    /// True for events after the run aborted (a verdict or a stop): the
    /// teardown — woken workers finishing, channels closing as their handles
    /// drop — not something the lesson did.
    pub cleanup: bool,
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Spawned {
                worker,
                external: false,
            } => write!(f, "{worker} started"),
            Self::Spawned {
                worker,
                external: true,
            } => {
                write!(f, "{worker} (a thread outside the lab) joined")
            }
            Self::Blocked { worker, state } => write!(f, "{worker} {state}"),
            Self::Sent {
                worker,
                channel,
                item,
            } => write!(f, "{worker} sent item {item} on `{channel}`"),
            Self::Received {
                worker,
                channel,
                item,
            } => write!(f, "{worker} received item {item} from `{channel}`"),
            Self::Finished { worker } => write!(f, "{worker} finished"),
            Self::Panicked { worker, message } => write!(f, "{worker} panicked: {message}"),
            Self::Closed {
                channel,
                by_sender: true,
            } => {
                write!(f, "`{channel}` closed (last sender dropped)")
            }
            Self::Closed {
                channel,
                by_sender: false,
            } => {
                write!(
                    f,
                    "`{channel}` has no receiver left (last receiver dropped)"
                )
            }
            Self::Control { what } => f.write_str(what),
            Self::Verdict { headline } => f.write_str(headline),
            Self::Stopped => f.write_str("run stopped"),
        }
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cleanup = if self.cleanup { "cleanup: " } else { "" };
        write!(f, "{:>8.3}s  {cleanup}{}", self.at.as_secs_f64(), self.kind)
    }
}

pub(crate) struct EventLog {
    ring: Mutex<Ring>,
    capacity: usize,
}

struct Ring {
    events: VecDeque<Event>,
    next_seq: u64,
}

impl EventLog {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            ring: Mutex::new(Ring {
                events: VecDeque::with_capacity(capacity.min(4096)),
                next_seq: 0,
            }),
            capacity: capacity.max(1),
        }
    }

    pub(crate) fn push(&self, at: Duration, kind: EventKind, cleanup: bool) {
        let mut ring = self.ring.lock().unwrap_or_else(PoisonError::into_inner);
        let seq = ring.next_seq;
        ring.next_seq += 1;
        if ring.events.len() == self.capacity {
            ring.events.pop_front();
        }
        ring.events.push_back(Event {
            seq,
            at,
            kind,
            cleanup,
        });
    }

    /// Events with `seq >= from` still held, and how many before them were
    /// already overwritten.
    pub(crate) fn since(&self, from: u64) -> (Vec<Event>, u64) {
        let ring = self.ring.lock().unwrap_or_else(PoisonError::into_inner);
        let oldest = ring.events.front().map_or(ring.next_seq, |e| e.seq);
        let skipped = oldest.saturating_sub(from);
        // Sequence numbers have no gaps: index straight to `from`.
        let start = usize::try_from(from.saturating_sub(oldest)).unwrap_or(usize::MAX);
        let events = ring
            .events
            .range(start.min(ring.events.len())..)
            .cloned()
            .collect();
        (events, skipped)
    }
}
