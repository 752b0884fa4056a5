//! Verdicts: what went wrong, in words a learner can act on.

use std::fmt;
use std::time::Duration;

use super::snapshot::WorkerState;

/// One worker that cannot move, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StuckWorker {
    /// The worker's name.
    pub worker: String,
    /// The state it was in when the verdict was taken.
    pub state: WorkerState,
    /// The wait in words, with the channel's numbers:
    /// "waits to send on `squares` (4/4 full)".
    pub detail: String,
}

impl fmt::Display for StuckWorker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.worker, self.detail)
    }
}

/// What broke a run. The lab aborts the run right after taking one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every live worker waits on a lab operation that nobody can complete.
    Deadlock {
        /// Each worker and what it waits on.
        stuck: Vec<StuckWorker>,
    },
    /// A thread outside the lab touched the run's channels, or is alive
    /// and might hold one of its handles, so a deadlock cannot be proven;
    /// nothing moved for `quiet`.
    Stall {
        /// Each lab worker and what it waits on.
        stuck: Vec<StuckWorker>,
        /// How long nothing moved.
        quiet: Duration,
        /// The threads outside the lab still alive, as far as it can name
        /// them (`worker (external)`, `helper (tid 4242)`).
        outside: Vec<String>,
    },
    /// The lesson's main returned while these workers were still alive.
    Leak {
        /// Each leaked worker and where it is stuck.
        leaked: Vec<StuckWorker>,
    },
    /// A scheduled run went past its step or virtual-time limit: a
    /// livelock, or a loop that never ends.
    Runaway {
        /// Steps taken.
        steps: u64,
        /// Virtual time passed.
        elapsed: Duration,
        /// The workers still alive, and what they were doing.
        busy: Vec<StuckWorker>,
    },
    /// A thread the lab did not start used a scheduled run's channels: the
    /// scheduler can only run workers started with `lab.go`.
    Outside {
        /// The thread's name.
        thread: String,
    },
    /// A worker panicked.
    Panicked {
        /// The worker's name.
        worker: String,
        /// The panic message.
        message: String,
    },
}

impl Verdict {
    /// A short name: `deadlock`, `stall`, `leak`, `panic`, `runaway`,
    /// `outside thread`.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Deadlock { .. } => "deadlock",
            Self::Stall { .. } => "stall",
            Self::Leak { .. } => "leak",
            Self::Panicked { .. } => "panic",
            Self::Runaway { .. } => "runaway",
            Self::Outside { .. } => "outside thread",
        }
    }

    /// The workers the verdict names.
    #[must_use]
    pub fn stuck(&self) -> &[StuckWorker] {
        match self {
            Self::Deadlock { stuck } | Self::Stall { stuck, .. } => stuck,
            Self::Leak { leaked } => leaked,
            Self::Runaway { busy, .. } => busy,
            Self::Panicked { .. } | Self::Outside { .. } => &[],
        }
    }

    /// The verdict's first line, without the per-worker dump.
    #[must_use]
    pub fn headline(&self) -> String {
        match self {
            Self::Deadlock { .. } => "deadlock: all workers are asleep".to_owned(),
            Self::Stall { quiet, outside, .. } => {
                let who = if outside.is_empty() {
                    "a thread outside the lab touched these channels".to_owned()
                } else {
                    format!(
                        "threads the lab did not start are alive ({}) and might hold a \
                         Sender",
                        outside.join(", ")
                    )
                };
                format!(
                    "stall: no progress for {:.1}s ({who}, so a deadlock cannot be proven)",
                    quiet.as_secs_f64()
                )
            }
            Self::Leak { leaked } => {
                let n = leaked.len();
                let s = if n == 1 { "" } else { "s" };
                format!("leak: main returned while {n} worker{s} still alive")
            }
            Self::Panicked { worker, .. } => format!("panic: worker `{worker}` panicked"),
            Self::Runaway { steps, elapsed, .. } => format!(
                "runaway: {steps} steps and {} of lesson time without an end (a livelock, or a loop that never stops)",
                super::in_words(*elapsed)
            ),
            Self::Outside { thread } => format!(
                "outside thread: `{thread}` used the lab's channels, but a scheduled run can only run workers started with `lab.go`"
            ),
        }
    }

    /// The per-worker lines of the dump ("sink waits to receive on ...").
    #[must_use]
    pub fn dump(&self) -> Vec<String> {
        match self {
            Self::Panicked { worker, message } => vec![format!("{worker}: {message}")],
            other => other.stuck().iter().map(ToString::to_string).collect(),
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} — {}", self.headline(), self.dump().join("; "))
    }
}
