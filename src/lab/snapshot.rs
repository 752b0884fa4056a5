//! What the lab looks like at one instant: plain data for the TUI, the
//! headless timeline and the tests.

use std::fmt;
use std::time::Duration;

pub use super::stats::ChannelKind;
use super::verdict::Verdict;

/// Why a worker sleeps: it will wake by itself, so it is never deadlocked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SleepReason {
    /// Simulated work from [`Lab::work`](super::Lab::work).
    Work,
    /// Waiting on a timer (`after`, `tick`) or an operation with a timeout.
    Timer,
}

/// One direction of a channel arm in a select.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectArm {
    /// The channel's name.
    pub channel: String,
    /// True for a send arm, false for a receive arm.
    pub send: bool,
    /// True for an `after`/`tick` timer: the worker's own alarm, worded
    /// "its 9.8 ms timer" rather than as a channel.
    pub timer: bool,
}

/// What a worker is doing, as the lab saw it last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkerState {
    /// Between lab operations (or inside one that did not block).
    Running,
    /// Held at the pacing gate: the run is paused and this worker's next
    /// lab operation waits for resume (or a step).
    Paused,
    /// Waiting for room (or a partner) to send on a channel.
    BlockedSend {
        /// The channel's name.
        channel: String,
    },
    /// Waiting for a message (or a partner) on a channel.
    BlockedRecv {
        /// The channel's name.
        channel: String,
    },
    /// Waiting in a select until one of its arms is ready.
    Selecting {
        /// Each arm, in the order it was added.
        arms: Vec<SelectArm>,
    },
    /// Waiting for another worker to finish (`JoinHandle::join`).
    Joining {
        /// The worker waited for.
        worker: String,
    },
    /// On a timer or simulated work: it will wake by itself.
    Sleeping(SleepReason),
    /// Returned normally.
    Done,
    /// Panicked; the message says why.
    Panicked {
        /// The panic message and where it happened.
        message: String,
    },
    /// Still alive when the lesson's main returned; `was` is what it was doing.
    Leaked {
        /// The state it was stuck in.
        was: Box<WorkerState>,
    },
}

impl WorkerState {
    /// True while the worker waits on a lab operation (it cannot move by itself).
    #[must_use]
    pub fn is_blocked(&self) -> bool {
        matches!(
            self,
            Self::BlockedSend { .. }
                | Self::BlockedRecv { .. }
                | Self::Selecting { .. }
                | Self::Joining { .. }
        )
    }

    /// True once the worker will never run again.
    #[must_use]
    pub fn is_finished(&self) -> bool {
        matches!(
            self,
            Self::Done | Self::Panicked { .. } | Self::Leaked { .. }
        )
    }

    /// A one-word label, the same in every view.
    #[must_use]
    pub fn label(&self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Paused => "paused",
            Self::BlockedSend { .. } => "blocked-send",
            Self::BlockedRecv { .. } => "blocked-recv",
            Self::Selecting { .. } => "selecting",
            Self::Joining { .. } => "joining",
            Self::Sleeping(_) => "sleeping",
            Self::Done => "done",
            Self::Panicked { .. } => "panicked",
            Self::Leaked { .. } => "leaked",
        }
    }
}

impl fmt::Display for WorkerState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BlockedSend { channel } => write!(f, "waits to send on `{channel}`"),
            Self::BlockedRecv { channel } => write!(f, "waits to receive on `{channel}`"),
            Self::Selecting { arms } => {
                write!(f, "waits in select on ")?;
                for (i, arm) in arms.iter().enumerate() {
                    let sep = match i {
                        0 => "",
                        _ if i + 1 == arms.len() => " or ",
                        _ => ", ",
                    };
                    if arm.timer {
                        write!(f, "{sep}its {}", arm.channel)?;
                    } else {
                        let dir = if arm.send { "send" } else { "recv" };
                        write!(f, "{sep}`{}` ({dir})", arm.channel)?;
                    }
                }
                Ok(())
            }
            Self::Joining { worker } => write!(f, "waits for `{worker}` to finish"),
            Self::Sleeping(SleepReason::Work) => write!(f, "works (simulated)"),
            Self::Sleeping(SleepReason::Timer) => write!(f, "sleeps on a timer"),
            Self::Panicked { message } => write!(f, "panicked: {message}"),
            Self::Leaked { was } => write!(f, "leaked while it {was}"),
            Self::Paused => f.write_str("is paused before its next operation"),
            Self::Running | Self::Done => f.write_str(self.label()),
        }
    }
}

/// One worker at one instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerSnapshot {
    /// Stable id within the run (spawn order).
    pub id: usize,
    /// The name given to `lab.go`, e.g. `square#2`.
    pub name: String,
    /// The part of the name before `#`: workers of one stage share it.
    pub stage: String,
    /// What it is doing.
    pub state: WorkerState,
    /// Channel operations it has completed.
    pub ops: u64,
    /// True for a thread the lab did not spawn (seen from its first operation).
    pub external: bool,
}

/// One channel at one instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelSnapshot {
    /// Stable id within the run (creation order).
    pub id: usize,
    /// The name given at creation.
    pub name: String,
    /// `None` = unbounded, `Some(0)` = rendezvous.
    pub capacity: Option<usize>,
    /// Ordinary channel, timer, or never.
    pub kind: ChannelKind,
    /// Messages waiting in the buffer.
    pub len: usize,
    /// Messages sent so far.
    pub sent: u64,
    /// Messages received so far.
    pub received: u64,
    /// Live Sender handles.
    pub senders: usize,
    /// Live Receiver handles.
    pub receivers: usize,
    /// Workers waiting to send (for a rendezvous, what there is to show).
    pub send_waiting: usize,
    /// Workers waiting to receive.
    pub recv_waiting: usize,
    /// True once every Sender or every Receiver is gone.
    pub closed: bool,
    /// Stages whose workers have sent on it, in spawn order: where the
    /// channel's items come from.
    pub sender_stages: Vec<String>,
    /// Stages whose workers have received from it: where its items go.
    pub receiver_stages: Vec<String>,
}

/// Sums over the whole run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Totals {
    /// Workers ever spawned or seen.
    pub workers: usize,
    /// Workers not yet finished.
    pub live: usize,
    /// Workers waiting on a lab operation now.
    pub blocked: usize,
    /// Messages sent over all channels.
    pub sent: u64,
    /// Messages received over all channels.
    pub received: u64,
}

/// The lab at one instant. Comparable, so the live view can tell a picture
/// that did not change (a paused run) and skip redrawing it.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// Time since the run started.
    pub elapsed: Duration,
    /// Every worker, in spawn order.
    pub workers: Vec<WorkerSnapshot>,
    /// Every channel, in creation order (data-flow order for a pipeline).
    pub channels: Vec<ChannelSnapshot>,
    /// Sums.
    pub totals: Totals,
    /// The verdict, once there is one.
    pub verdict: Option<Verdict>,
    /// True while the pacing gate holds workers.
    pub paused: bool,
    /// The speed factor for simulated work and timers.
    pub speed: f64,
    /// True once the run is over (main returned or the run aborted, and
    /// every worker has stopped).
    pub finished: bool,
    /// True when this is the world as the verdict saw it: after a verdict
    /// every snapshot is that picture, frozen, and the abort's teardown
    /// (channels closing, woken workers finishing) is not shown in it.
    pub at_verdict: bool,
    /// For a scheduled run: its schedule and where it is.
    pub schedule: Option<ScheduleStatus>,
}

/// Where a scheduled run is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleStatus {
    /// The schedule in words: "random seed 17", "pct seed 4", "manual (you pick)".
    pub schedule: String,
    /// Steps (scheduler picks) taken so far.
    pub step: u64,
    /// Play the scheduler: the run waits for the learner's pick.
    pub awaiting_choice: bool,
}
