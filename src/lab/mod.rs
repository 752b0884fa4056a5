//! The lab: an instrumented runtime of channels and workers.
//!
//! Lessons are written against the lab exactly as they would be against
//! crossbeam-channel and `std::thread`; the lab watches every operation so
//! the TUI can draw it and the verdicts can say what broke:
//!
//! - [`Lab::bounded`] / [`Lab::unbounded`] make named channels with
//!   crossbeam's methods, errors and disconnect rules;
//! - [`Lab::go`] spawns a named worker thread (a goroutine, in Go's terms);
//! - [`select!`](crate::select) / [`select_biased!`](crate::select_biased) /
//!   [`Select`] wait on several channels;
//!   [`Lab::after`], [`Lab::tick`], [`Lab::never`] are timers;
//!   [`Lab::work`] is simulated work that follows the run's speed;
//! - [`Lab::run`] runs a lesson's main and returns a [`Report`] with the
//!   verdict: deadlock, stall, leak or panic.
//!
//! Exact verdicts need a closed world. The lab knows every worker it
//! spawned; a thread it did not spawn (a test harness, `std::thread::scope`)
//! is seen from its first completed lab operation on, shown as an external
//! worker, and from then on the run can no longer prove a deadlock (that
//! thread might send at any moment): it gets a *stall* after a quiet period
//! instead. Before its first operation such a thread is invisible — so
//! lessons spawn every thread with [`Lab::go`].
//!
//! ```
//! use chanlab::lab::{Config, Lab, Verdict};
//!
//! // Two workers each wait to receive from the other: Go would say
//! // "all goroutines are asleep - deadlock!", and so does the lab.
//! let report = Lab::run(Config::default(), |lab| {
//!     let (a_tx, a_rx) = lab.bounded::<u32>("a", 0);
//!     let (b_tx, b_rx) = lab.bounded::<u32>("b", 0);
//!     let left = lab.go("left", move || { let _ = a_rx.recv(); drop(b_tx); });
//!     let right = lab.go("right", move || { let _ = b_rx.recv(); drop(a_tx); });
//!     let _ = left.join();
//!     let _ = right.join();
//! });
//! assert!(matches!(report.verdict, Some(Verdict::Deadlock { .. })));
//! ```

mod channel;
mod clock;
mod events;
mod run;
mod runtime;
mod sched;
mod select;
mod snapshot;
mod stats;
mod thread_ctx;
mod threads;
mod turns;
mod verdict;
mod worker;

use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel as cb;

pub use channel::{
    IntoIter, Iter, Receiver, RecvError, RecvTimeoutError, SendError, SendTimeoutError, Sender,
    TryIter, TryRecvError, TrySendError,
};
pub use events::{Event, EventKind};
pub use run::{Report, Run};
pub use runtime::{Config, stage_of};
pub use sched::{Choice, NextOp, Schedule, Strategy, TIMEOUT_ARM, Trace};
pub use select::{Select, SelectTimeoutError, SelectedOperation, TrySelectError};
pub use snapshot::{
    ChannelKind, ChannelSnapshot, ScheduleStatus, SelectArm, SleepReason, Snapshot, Totals,
    WorkerSnapshot, WorkerState,
};
pub use thread_ctx::is_lab_worker;
pub use verdict::{StuckWorker, Verdict};
pub use worker::{JoinError, JoinHandle};

use runtime::{Core, Gate};
use stats::End;

/// Where `select!` goes when the run aborted under a select with no arm
/// (`select! {}`, a lone `default(d)`): nothing can be picked, so the
/// worker unwinds quietly, as one the lab stops.
#[doc(hidden)]
pub fn select_aborted() -> ! {
    std::panic::resume_unwind(Box::new(runtime::StoppedByLab))
}

/// A duration as a learner reads it: `9.8 ms`, `250 µs`, `1.5 s`, `2 min`.
///
/// ```
/// use std::time::Duration;
/// use chanlab::lab::in_words;
///
/// assert_eq!(in_words(Duration::from_micros(9_809)), "9.8 ms");
/// assert_eq!(in_words(Duration::from_millis(1_500)), "1.5 s");
/// assert_eq!(in_words(Duration::from_secs(3_600)), "60 min");
/// ```
#[must_use]
pub fn in_words(d: Duration) -> String {
    let s = d.as_secs_f64();
    if d == Duration::MAX || s >= 1e9 {
        "forever".to_owned()
    } else if s >= 120.0 {
        format!("{:.0} min", s / 60.0)
    } else if s >= 1.0 {
        let n = format!("{s:.3}");
        format!("{} s", n.trim_end_matches('0').trim_end_matches('.'))
    } else if s >= 1e-3 {
        format!("{:.1} ms", s * 1e3)
    } else {
        format!("{:.0} µs", s * 1e6)
    }
}

/// A handle on one run's runtime. Cheap to clone; every clone is the same lab.
#[derive(Clone)]
pub struct Lab {
    pub(crate) core: Arc<Core>,
}

impl std::fmt::Debug for Lab {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lab").field("id", &self.core.id).finish()
    }
}

/// Events read since a position; see [`Lab::events_since`].
#[derive(Debug, Clone, Default)]
pub struct EventBatch {
    /// The events, oldest first.
    pub events: Vec<Event>,
    /// How many events after the position were already overwritten.
    pub skipped: u64,
}

impl Lab {
    /// A lab without a main: channels and workers for ad-hoc use. Verdicts
    /// need a closed world; prefer [`Lab::run`] or [`Lab::start`].
    #[must_use]
    pub fn new(config: Config) -> Self {
        Self {
            core: Core::new(config),
        }
    }

    /// Runs `main` as the worker `main` and waits for the report.
    pub fn run<T, F>(config: Config, main: F) -> Report<T>
    where
        T: Send + 'static,
        F: FnOnce(&Lab) -> T + Send + 'static,
    {
        Run::start(config, main).wait()
    }

    /// Starts `main` as the worker `main` and returns at once: the caller
    /// watches, paces and finally waits for the [`Run`].
    ///
    /// ```
    /// use chanlab::lab::{Config, Lab};
    ///
    /// // A classroom run: start paused, let two operations through, look.
    /// let run = Lab::start(Config { start_paused: true, ..Config::default() }, |lab| {
    ///     let (tx, rx) = lab.unbounded::<u32>("steps");
    ///     for i in 0..3 {
    ///         tx.send(i).unwrap();
    ///     }
    ///     drop(tx);
    ///     rx.iter().count()
    /// });
    /// run.lab().step();
    /// run.lab().step();
    /// let snapshot = run.lab().snapshot();
    /// assert!(snapshot.channels.iter().all(|c| c.sent <= 2), "at most two sends went through");
    /// run.lab().set_paused(false);
    /// assert_eq!(run.wait().outcome, Some(3));
    /// ```
    pub fn start<T, F>(config: Config, main: F) -> Run<T>
    where
        T: Send + 'static,
        F: FnOnce(&Lab) -> T + Send + 'static,
    {
        Run::start(config, main)
    }

    /// A channel holding at most `cap` messages; `cap == 0` is a rendezvous
    /// (Go's unbuffered channel): each send waits for its receive.
    pub fn bounded<T>(&self, name: impl Into<String>, cap: usize) -> (Sender<T>, Receiver<T>) {
        let stats = self
            .core
            .new_channel(name.into(), Some(cap), ChannelKind::Normal);
        // Scheduled, a rendezvous hands its message over through a slot the
        // scheduler keeps (nobody may park on crossbeam there).
        let slot = (cap == 0 && self.core.sched.is_some()).then(turns::Slot::default);
        channel::pair(&self.core, stats, cb::bounded(cap), slot)
    }

    /// A channel with no limit: sends never block (and memory can grow).
    pub fn unbounded<T>(&self, name: impl Into<String>) -> (Sender<T>, Receiver<T>) {
        let stats = self
            .core
            .new_channel(name.into(), None, ChannelKind::Normal);
        channel::pair(&self.core, stats, cb::unbounded(), None)
    }

    /// Spawns a named worker (`stage#n` names group workers into a stage).
    /// A panic in it becomes a verdict, never the end of the process.
    ///
    /// ```
    /// use chanlab::lab::{Config, Lab};
    ///
    /// let report = Lab::run(Config::default(), |lab| {
    ///     let workers: Vec<_> = (1..=3)
    ///         .map(|n| lab.go(format!("square#{n}"), move || n * n))
    ///         .collect();
    ///     workers.into_iter().map(|w| w.join().unwrap()).sum::<u32>()
    /// });
    /// assert_eq!(report.outcome, Some(14));
    /// let stages: Vec<_> = report.snapshot.workers.iter().map(|w| w.stage.as_str()).collect();
    /// assert_eq!(stages, ["main", "square", "square", "square"]);
    /// ```
    pub fn go<T, F>(&self, name: impl Into<String>, f: F) -> JoinHandle<T>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let handle = worker::spawn(&self.core, name.into(), false, f);
        // Free-running, a spawn does not pass the gate (a paused run can
        // still start its workers); scheduled, it is a step.
        if self.core.sched.is_some() && !self.core.is_aborted() {
            turns::step(&self.core); // a spawn is a step: the new worker may go first
        }
        handle
    }

    fn timer(&self, name: String, period: Duration, repeat: bool) -> Receiver<Instant> {
        let fires = if repeat { None } else { Some(1) };
        let stats = self
            .core
            .new_channel(name, Some(1), ChannelKind::Timer { fires });
        stats.attach(End::Send);
        let (tx, inner) = cb::bounded(1);
        let rx = Receiver::wrap(&self.core, Arc::clone(&stats), inner);
        if self.core.sched.is_some() {
            turns::step(&self.core);
            turns::timer(&self.core, stats, period, repeat, tx);
        } else {
            clock::Timers::add(&self.core, period, repeat, stats, tx);
        }
        rx
    }

    /// A channel that delivers one message after `d` of lesson time (which
    /// stands still while the run is paused), like crossbeam's `after`.
    #[must_use]
    pub fn after(&self, d: Duration) -> Receiver<Instant> {
        self.timer(format!("{} timer", in_words(d)), d, false)
    }

    /// A channel that delivers a message every `d` of lesson time, like
    /// crossbeam's `tick` (a tick its receiver has not taken yet is skipped).
    #[must_use]
    pub fn tick(&self, d: Duration) -> Receiver<Instant> {
        self.timer(format!("{} ticker", in_words(d)), d, true)
    }

    /// A channel that never delivers and never closes, like crossbeam's
    /// `never`: a way to switch off a select arm.
    #[must_use]
    pub fn never<T>(&self) -> Receiver<T> {
        let stats = self
            .core
            .new_channel("never".to_owned(), Some(0), ChannelKind::Never);
        stats.attach(End::Send);
        Receiver::wrap(&self.core, stats, cb::never())
    }

    /// Simulated work: sleeps `d` of lesson time (wall time divided by the
    /// speed factor; it stands still while the run is paused), shown as
    /// *sleeping*. Returns early if the run aborts.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use chanlab::lab::{Config, Lab};
    ///
    /// // At speed 100, a second of lesson time is 10 ms of wall time.
    /// let report = Lab::run(Config { speed: 100.0, ..Config::default() }, |lab| {
    ///     let start = Instant::now();
    ///     lab.work(Duration::from_secs(1));
    ///     start.elapsed()
    /// });
    /// assert!(report.outcome.unwrap() < Duration::from_millis(500));
    /// ```
    pub fn work(&self, d: Duration) {
        match self.core.gate() {
            Gate::Open => {}
            Gate::Closed => return,
            Gate::Scheduled => return turns::work(&self.core, d),
        }
        let me = self.core.current_worker();
        self.core.set_sleeping(me, Some(SleepReason::Work));
        let until = self.core.clock.deadline_after(d);
        let _ = self.core.clock.sleep_until(until, &self.core.abort_rx);
        self.core.set_sleeping(me, None);
    }

    /// Lesson time since the run started: it runs at the speed factor and
    /// stands still while the run is paused, so a clock built on it (a rate
    /// limiter's, a deadline's) agrees with `work`, timers and timeouts.
    ///
    /// ```
    /// use std::time::Duration;
    /// use chanlab::lab::{Config, Lab};
    ///
    /// let lab = Lab::new(Config { start_paused: true, ..Config::default() });
    /// let before = lab.now();
    /// std::thread::sleep(Duration::from_millis(20));
    /// assert_eq!(lab.now(), before, "paused: lesson time stands still");
    /// ```
    #[must_use]
    pub fn now(&self) -> Duration {
        self.core.elapsed()
    }

    /// The lab at this instant. Never waits for a worker.
    #[must_use]
    pub fn snapshot(&self) -> Snapshot {
        self.core.snapshot()
    }

    /// Events from position `from` on (the event with `seq == from` first).
    #[must_use]
    pub fn events_since(&self, from: u64) -> EventBatch {
        let (events, skipped) = self.core.events_since(from);
        EventBatch { events, skipped }
    }

    /// Closes or opens the pacing gate: paused workers stop at their next
    /// lab operation.
    pub fn set_paused(&self, paused: bool) {
        self.core.set_paused(paused);
    }

    /// True while paused.
    #[must_use]
    pub fn is_paused(&self) -> bool {
        self.core.is_paused()
    }

    /// While paused, lets exactly one lab operation through.
    pub fn step(&self) {
        self.core.step();
    }

    /// The speed factor for simulated work, timers and timeouts.
    #[must_use]
    pub fn speed(&self) -> f64 {
        self.core.speed()
    }

    /// Changes the speed factor (clamped to 0.01–100).
    pub fn set_speed(&self, speed: f64) {
        self.core.set_speed(speed);
    }

    /// The verdict so far, if any.
    #[must_use]
    pub fn verdict(&self) -> Option<Verdict> {
        self.core.verdict()
    }

    /// A scheduled run's choices so far (`None` for a free run).
    #[must_use]
    pub fn trace(&self) -> Option<Trace> {
        self.core.sched.as_ref().map(sched::Scheduler::trace)
    }

    /// A scheduled run's schedule (`None` for a free run).
    #[must_use]
    pub fn schedule(&self) -> Option<&Schedule> {
        self.core.sched.as_ref().map(|s| &s.schedule)
    }

    /// Waits (at most `timeout`) until a scheduled run stands still:
    /// paused (a rewind reached its step, a step was taken), waiting for
    /// the learner's pick, stuck or over. False on timeout, or for a free run.
    pub fn wait_still(&self, timeout: Duration) -> bool {
        self.core
            .sched
            .as_ref()
            .is_some_and(|s| s.wait_still(timeout))
    }

    /// Play the scheduler: every live worker's next operation in words,
    /// with the [`Choice`] that runs it (`None`: it would wait). Empty for
    /// a free run.
    #[must_use]
    pub fn next_ops(&self) -> Vec<NextOp> {
        self.core
            .sched
            .as_ref()
            .map(sched::Scheduler::next_ops)
            .unwrap_or_default()
    }

    /// Play the scheduler: make `choice` the next step of a run with
    /// [`Strategy::Manual`] that waits for a pick.
    ///
    /// ```
    /// use chanlab::lab::{Config, Lab, Schedule};
    ///
    /// let run = Lab::start(Config { schedule: Some(Schedule::manual()), ..Config::default() }, |lab| {
    ///     let a = lab.go("a", || 1);
    ///     let b = lab.go("b", || 2);
    ///     a.join().unwrap() + b.join().unwrap()
    /// });
    /// // Run whatever can run until every worker's pick is ours to make.
    /// while !run.is_finished() {
    ///     if let Some(op) = run.lab().next_ops().iter().find_map(|op| op.choice) {
    ///         let _ = run.lab().choose(op);
    ///     }
    ///     std::thread::yield_now();
    /// }
    /// assert_eq!(run.wait().outcome, Some(3));
    /// ```
    pub fn choose(&self, choice: Choice) -> Result<(), String> {
        match &self.core.sched {
            Some(s) => s.choose_now(choice),
            None => Err("a free run has no scheduler to steer".to_owned()),
        }
    }

    /// True once the run aborted (verdict or stop): every operation fails.
    #[must_use]
    pub fn is_aborted(&self) -> bool {
        self.core.is_aborted()
    }
}
