//! The scheduled mode: one worker at a time, the interleaving chosen by a
//! seeded strategy (or by the learner), time virtual.
//!
//! Every worker is still an OS thread, but only the one holding the *turn*
//! runs. At each lab operation the running worker says what it wants to do
//! next ([`Want`]) and hands the turn back; the scheduler lists the
//! operations that can complete now (the *candidates*: a worker and, for a
//! select, the arm) and a [`Strategy`] picks one. A blocking operation
//! never parks on crossbeam: it stays a want until it can complete, so the
//! scheduler always knows who could move.
//!
//! - Time is virtual: when nobody can move but someone sleeps (`work`, a
//!   timer, a timeout, a polling loop), the clock jumps to the earliest wake.
//!   With `Config::realtime` the jump is paced to wall time by the speed
//!   factor, so a live view stays watchable.
//! - The verdicts are exact: nobody can move and nobody sleeps is a
//!   deadlock (or, after main returned, a leak).
//! - The list of picks is the run's [`Choice`]s: the same choices replayed
//!   give the same run, so a run can be recorded, replayed and rewound.
//!
//! A rendezvous (capacity 0) needs a partner. A send that finds a receiver
//! waiting (the one that has waited longest, as crossbeam serves them)
//! hands the message straight to it and returns; the receiver is then
//! *reserved*: its next pick is that channel. With nobody waiting, a plain
//! `send` *offers* its message and waits until a receiver takes it, while a
//! select's send arm is a candidate only while a receiver waits.

use std::sync::atomic::{AtomicU64, Ordering};

use crossbeam_channel as cb;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::stats::{ChannelKind, ChannelStats, End};

/// How long a polling loop waits, in lesson time, before it polls again
/// when nothing in the lab has changed (a `try_recv` spin would otherwise
/// keep the turn forever while time stands still).
pub(crate) const POLL_QUANTUM: Duration = Duration::from_millis(1);

/// The arm index a choice uses for "the timeout fired".
pub const TIMEOUT_ARM: u32 = u32::MAX;

/// One pick of the scheduler: which worker goes next and, for a select,
/// which of its arms completes ([`TIMEOUT_ARM`] for its timeout).
///
/// Workers are numbered in the order they were spawned (main is 0), which
/// the scheduled mode makes the same on every run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Choice {
    /// The worker's number (its index in the snapshot).
    pub worker: u32,
    /// The select arm, 0 for a plain operation, [`TIMEOUT_ARM`] for a timeout.
    pub arm: u32,
}

impl Choice {
    /// A choice of a plain operation (arm 0).
    #[must_use]
    pub fn worker(worker: u32) -> Self {
        Self { worker, arm: 0 }
    }
}

impl std::fmt::Display for Choice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.arm {
            0 => write!(f, "{}", self.worker),
            TIMEOUT_ARM => write!(f, "{}.t", self.worker),
            arm => write!(f, "{}.{arm}", self.worker),
        }
    }
}

impl std::str::FromStr for Choice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("`{s}` is not a step (a worker number, optionally `.arm` or `.t`)");
        let (w, arm) = s.split_once('.').unwrap_or((s, "0"));
        let worker = w.parse().map_err(|_| bad())?;
        let arm = match arm {
            "t" => TIMEOUT_ARM,
            a => a
                .parse()
                .ok()
                .filter(|&a| a != TIMEOUT_ARM)
                .ok_or_else(bad)?,
        };
        Ok(Self { worker, arm })
    }
}

/// How the scheduler picks among the operations that can complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// Uniformly at random (seeded).
    Random,
    /// Probabilistic concurrency testing (Burckhardt et al., 2010; as in
    /// shuttle and Fray): workers get random priorities, the highest
    /// ready one runs, and at `depth - 1` random steps the running worker
    /// drops to the lowest priority. Finds bugs of depth `depth` with a
    /// known probability.
    Pct {
        /// The bug depth aimed at (at least 1).
        depth: u32,
    },
    /// The learner picks (play the scheduler): when more than one
    /// operation can complete the run waits for [`Lab::choose`](super::Lab::choose).
    Manual,
}

impl Strategy {
    /// `random`, `pct`, `manual`.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Self::Random => "random",
            Self::Pct { .. } => "pct",
            Self::Manual => "manual",
        }
    }
}

/// A scheduled run's plan: a strategy with its seed, and choices to make
/// first (a replay, or a rewind to a step).
///
/// ```
/// use chanlab::lab::{Config, Lab, Schedule};
///
/// let run = || Lab::run(Config { schedule: Some(Schedule::random(17)), ..Config::default() }, |lab| {
///     let (tx, rx) = lab.bounded::<u32>("numbers", 1);
///     let producer = lab.go("producer", move || for i in 0..3 { tx.send(i).unwrap(); });
///     let got: Vec<u32> = rx.iter().collect();
///     producer.join().unwrap();
///     got
/// });
/// let (a, b) = (run(), run());
/// assert_eq!(a.outcome, Some(vec![0, 1, 2]));
/// assert_eq!(a.trace.unwrap().choices, b.trace.unwrap().choices, "same seed, same schedule");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    /// How to pick once `prefix` is used up.
    pub strategy: Strategy,
    /// The strategy's seed.
    pub seed: u64,
    /// Choices to make first, in order (a recorded run's, for a replay).
    pub prefix: Vec<Choice>,
    /// Pause the run after this many steps (the live view's rewind).
    pub pause_at: Option<u64>,
}

impl Schedule {
    /// Uniformly random picks from `seed`.
    #[must_use]
    pub fn random(seed: u64) -> Self {
        Self::new(Strategy::Random, seed)
    }

    /// PCT with depth 3 from `seed`.
    #[must_use]
    pub fn pct(seed: u64) -> Self {
        Self::new(Strategy::Pct { depth: 3 }, seed)
    }

    /// The learner picks.
    #[must_use]
    pub fn manual() -> Self {
        Self::new(Strategy::Manual, 0)
    }

    /// A schedule with `strategy` and `seed`, no prefix.
    #[must_use]
    pub fn new(strategy: Strategy, seed: u64) -> Self {
        Self {
            strategy,
            seed,
            prefix: Vec::new(),
            pause_at: None,
        }
    }

    /// The same schedule, making `choices` first.
    #[must_use]
    pub fn with_prefix(mut self, choices: Vec<Choice>) -> Self {
        self.prefix = choices;
        self
    }

    /// The same schedule, pausing after `steps` steps.
    #[must_use]
    pub fn paused_at(mut self, steps: u64) -> Self {
        self.pause_at = Some(steps);
        self
    }

    /// "random seed 17", "pct seed 4", "manual".
    #[must_use]
    pub fn describe(&self) -> String {
        match self.strategy {
            Strategy::Manual => "manual (you pick)".to_owned(),
            s => format!("{} seed {}", s.name(), self.seed),
        }
    }
}

/// What a scheduled run did: its choices, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trace {
    /// Every pick, in order: replaying them gives the same run.
    pub choices: Vec<Choice>,
    /// Set when a prefix choice could not be made (the recorded schedule
    /// does not fit this lesson, variant or knobs): at which step, and why.
    pub diverged: Option<String>,
    /// With `Config::describe_steps`: each step in words, as the scheduler
    /// saw it just before the pick ("square#2: send item 3 on `squares`
    /// (1/4)"). Empty otherwise (words cost time a hunt does not spend).
    pub steps: Vec<String>,
}

/// One operation the learner can pick (or that waits), for the
/// play-the-scheduler list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextOp {
    /// The pick that runs it; `None` when it cannot complete now.
    pub choice: Option<Choice>,
    /// The worker's name.
    pub worker: String,
    /// The operation in words: "send item 3 on `squares` (2/4)".
    pub words: String,
}

/// What a worker wants to do next.
#[derive(Clone)]
pub(crate) enum Want {
    /// Can always go: a start, a spawn, a timer made, a finished check.
    Go,
    /// A plain blocking send.
    Send {
        ch: Arc<ChannelStats>,
        deadline: Option<Duration>,
    },
    /// A rendezvous send whose message waits in the slot for a receiver.
    Offered {
        ch: Arc<ChannelStats>,
        deadline: Option<Duration>,
    },
    /// A plain blocking receive.
    Recv {
        ch: Arc<ChannelStats>,
        deadline: Option<Duration>,
    },
    /// A select; `try_*` operations are selects whose deadline is now.
    Select {
        arms: Vec<(End, Arc<ChannelStats>)>,
        biased: bool,
        deadline: Option<Duration>,
        /// A polling loop: not a candidate until something changed since
        /// this version, or lesson time reached the second field.
        poll: Option<(u64, Duration)>,
    },
    /// Waiting for a worker to finish.
    Join { target: usize },
    /// Simulated work until this lesson time.
    Sleep { until: Duration },
}

/// What the turn came back with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Grant {
    /// Go: for a select, the arm picked; `None` for the timeout.
    Run(Option<usize>),
    /// The run aborted: fail as if disconnected.
    Aborted,
}

enum Turn {
    Run(Grant),
    /// Keep the clock: pace it to `until`, then pick.
    Advance(Duration),
}

struct Worker {
    name: Arc<str>,
    live: bool,
    want: Option<Want>,
    turn: Option<Turn>,
    cv: Arc<Condvar>,
    /// The rendezvous channel a sender handed this worker a message on.
    reserved: Option<usize>,
    /// Polls in a row that found nothing.
    failed_polls: u32,
    /// The version when the last poll found nothing.
    poll_version: u64,
    /// When it began to want what it wants (an arrival number): waiting
    /// receivers are served first come, first served, as crossbeam's are.
    since: u64,
}

/// Per rendezvous channel: who fills its one-message slot.
#[derive(Default, Clone, Copy)]
struct Slot {
    /// A plain send's message waits here for any receiver.
    offered_by: Option<usize>,
    /// A message handed to this waiting receiver.
    reserved_for: Option<usize>,
}

impl Slot {
    fn empty(self) -> bool {
        self.offered_by.is_none() && self.reserved_for.is_none()
    }
}

struct Timer {
    ch: Arc<ChannelStats>,
    due: Duration,
    period: Option<Duration>,
    fire: Box<dyn Fn() -> bool + Send>,
    spent: bool,
    /// Messages it got into its channel.
    delivered: u64,
}

/// Why a scheduled run could not go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stuck {
    /// Nobody can move, nobody sleeps, main has not returned.
    Deadlock,
    /// Main returned and the rest cannot (or did not in time) finish.
    Leak,
    /// The step or virtual-time limit ran out.
    Runaway,
    /// A recorded choice could not be made.
    Diverged,
}

enum Strat {
    Random(fastrand::Rng),
    Pct {
        rng: fastrand::Rng,
        priorities: Vec<u64>,
        change_points: Vec<u64>,
        next_low: u64,
    },
    Manual,
}

struct State {
    workers: Vec<Worker>,
    running: Option<usize>,
    now: Duration,
    step: u64,
    version: u64,
    trace: Vec<Choice>,
    prefix: Vec<Choice>,
    strat: Strat,
    paused: bool,
    steps_allowed: u64,
    pause_at: Option<u64>,
    slots: Vec<Slot>,
    timers: Vec<Timer>,
    aborted: bool,
    diverged: Option<String>,
    main_returned_at: Option<Duration>,
    /// Manual: the run waits for the learner's pick.
    awaiting: bool,
    ended: Option<Stuck>,
    /// Pace virtual time to the wall clock now (off while a rewind runs
    /// to its step).
    paced: bool,
    /// Each step in words (`Limits::describe`).
    words: Vec<String>,
    /// Wants made so far (see `Worker::since`).
    arrivals: u64,
    /// Turns handed out and not yet told: notified once the lock is let
    /// go (see `Scheduler::tell`), so the woken worker does not wake only
    /// to wait for the lock its waker still holds.
    wakes: Vec<Arc<Condvar>>,
}

/// The limits and pacing a scheduler runs under.
pub(crate) struct Limits {
    pub(crate) realtime: bool,
    pub(crate) speed: f64,
    pub(crate) leak_grace: Duration,
    pub(crate) step_limit: u64,
    pub(crate) time_limit: Duration,
    pub(crate) describe: bool,
}

/// The scheduler of one scheduled run.
pub(crate) struct Scheduler {
    state: Mutex<State>,
    pub(crate) schedule: Schedule,
    /// Virtual lesson time in nanoseconds, readable without the lock (every
    /// event is stamped with it).
    now_nanos: AtomicU64,
    speed_bits: AtomicU64,
    limits: Limits,
    /// Rung when the run is stuck or every worker is done.
    signal_tx: cb::Sender<()>,
    pub(crate) signal: cb::Receiver<()>,
    /// Notified when the run comes to stand still (see [`Self::wait_still`]).
    still: Condvar,
    /// The watchdog's last look: (step, clock) and when it last changed.
    watch: Mutex<Option<((u64, Duration), Instant)>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn len_of(ch: &ChannelStats) -> usize {
    if ch.capacity == Some(0) {
        return 0;
    }
    ch.len_from(ch.totals())
}

fn slot_of(st: &State, ch: &ChannelStats) -> Slot {
    st.slots.get(ch.id).copied().unwrap_or_default()
}

fn wants_recv_on(want: Option<&Want>, id: usize) -> bool {
    match want {
        Some(Want::Recv { ch, .. }) => ch.id == id,
        Some(Want::Select { arms, .. }) => arms.iter().any(|(e, c)| *e == End::Recv && c.id == id),
        _ => false,
    }
}

/// The worker (not `not`) that has waited longest to receive on rendezvous
/// `ch` and is free to be handed a message: first come, first served, as
/// crossbeam serves its waiting receivers. Only a receiver that really
/// waits counts: a poll (`try_recv`, a select whose other arm is ready or
/// whose timeout passed) does not pair with a send, in crossbeam either.
fn waiting_receiver(st: &State, ch: &ChannelStats, not: usize) -> Option<usize> {
    st.workers
        .iter()
        .enumerate()
        .filter(|(r, w)| {
            *r != not
                && w.live
                && w.turn.is_none()
                && w.reserved.is_none()
                && wants_recv_on(w.want.as_ref(), ch.id)
                && w.want.as_ref().is_some_and(|want| blocks(st, *r, want))
        })
        .min_by_key(|(_, w)| w.since)
        .map(|(r, _)| r)
}

/// Would worker `r`'s receive (or select) wait if it were picked now? A
/// send arm on a rendezvous counts as not ready here (asking would ask
/// for another waiting receiver, and so on).
fn blocks(st: &State, r: usize, want: &Want) -> bool {
    let passed = |d: &Option<Duration>| d.is_some_and(|d| st.now >= d);
    match want {
        Want::Recv { ch, deadline } => !passed(deadline) && !arm_ready(st, r, End::Recv, ch, true),
        Want::Select { arms, deadline, .. } => {
            !passed(deadline)
                && !arms.iter().any(|(end, ch)| match end {
                    End::Recv => arm_ready(st, r, End::Recv, ch, true),
                    End::Send => {
                        ch.receivers.load(Ordering::SeqCst) == 0
                            || (ch.capacity != Some(0) && arm_ready(st, r, End::Send, ch, false))
                    }
                })
        }
        _ => false,
    }
}

fn timer_of<'a>(st: &'a State, ch: &ChannelStats) -> Option<&'a Timer> {
    st.timers.iter().find(|t| t.ch.id == ch.id)
}

/// Could worker `me`'s operation on one end of `ch` complete now? A plain
/// send on a rendezvous can always *offer* into an empty slot; a select's
/// send arm needs a receiver waiting.
fn arm_ready(st: &State, me: usize, end: End, ch: &ChannelStats, plain: bool) -> bool {
    match end {
        End::Send => {
            if ch.receivers.load(Ordering::SeqCst) == 0 {
                return true;
            }
            match ch.capacity {
                None => true,
                Some(0) => {
                    let slot = slot_of(st, ch);
                    slot.empty() && (plain || waiting_receiver(st, ch, me).is_some())
                }
                Some(cap) => len_of(ch) < cap,
            }
        }
        End::Recv => match ch.kind {
            ChannelKind::Timer { .. } => {
                timer_of(st, ch).is_some_and(|t| t.delivered > ch.totals().received)
            }
            ChannelKind::Never => false,
            ChannelKind::Normal if ch.capacity == Some(0) => {
                let slot = slot_of(st, ch);
                slot.reserved_for == Some(me)
                    || (slot.reserved_for.is_none() && slot.offered_by.is_some_and(|o| o != me))
                    || (slot.empty() && ch.senders.load(Ordering::SeqCst) == 0)
            }
            ChannelKind::Normal => len_of(ch) > 0 || ch.senders.load(Ordering::SeqCst) == 0,
        },
    }
}

/// The arms of `want` that can be picked now (`TIMEOUT_ARM` for a timeout
/// that has passed with nothing ready); empty: it waits.
fn candidates_of(st: &State, me: usize, want: &Want) -> Vec<u32> {
    let now = st.now;
    let passed = |d: &Option<Duration>| d.is_some_and(|d| now >= d);
    let one = |ready: bool, deadline: &Option<Duration>| {
        if ready {
            vec![0]
        } else if passed(deadline) {
            vec![TIMEOUT_ARM]
        } else {
            Vec::new()
        }
    };
    match want {
        Want::Go => vec![0],
        Want::Send { ch, deadline } => one(arm_ready(st, me, End::Send, ch, true), deadline),
        Want::Offered { ch, deadline } => {
            let taken = slot_of(st, ch).offered_by != Some(me);
            let gone = ch.receivers.load(Ordering::SeqCst) == 0;
            if taken || gone || passed(deadline) {
                vec![0]
            } else {
                Vec::new()
            }
        }
        Want::Recv { ch, deadline } => one(arm_ready(st, me, End::Recv, ch, true), deadline),
        Want::Select {
            arms,
            biased,
            deadline,
            poll,
        } => {
            if let Some((since, wake)) = poll
                && st.version == *since
                && now < *wake
            {
                return Vec::new();
            }
            if let Some(reserved) = st.workers[me].reserved {
                // Handed a message: that arm, and nothing else.
                return arms
                    .iter()
                    .position(|(e, c)| *e == End::Recv && c.id == reserved)
                    .map(|i| vec![i as u32])
                    .unwrap_or_default();
            }
            let mut ready: Vec<u32> = arms
                .iter()
                .enumerate()
                .filter(|(_, (end, ch))| arm_ready(st, me, *end, ch, false))
                .map(|(i, _)| i as u32)
                .collect();
            if *biased {
                ready.truncate(1);
            }
            if ready.is_empty() && passed(deadline) {
                ready.push(TIMEOUT_ARM);
            }
            ready
        }
        Want::Join { target } => {
            if st.workers.get(*target).is_none_or(|t| !t.live) {
                vec![0]
            } else {
                Vec::new()
            }
        }
        Want::Sleep { until } => {
            if now >= *until {
                vec![0]
            } else {
                Vec::new()
            }
        }
    }
}

/// When `want` wakes by itself, if it does.
fn wake_of(st: &State, want: &Want) -> Option<Duration> {
    let timer_due = |ch: &ChannelStats| timer_of(st, ch).filter(|t| !t.spent).map(|t| t.due);
    let earliest = |a: Option<Duration>, b: Option<Duration>| match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    match want {
        Want::Go | Want::Join { .. } => None,
        Want::Sleep { until } => Some(*until),
        Want::Send { deadline, .. } | Want::Offered { deadline, .. } => *deadline,
        Want::Recv { ch, deadline } => earliest(*deadline, timer_due(ch)),
        Want::Select {
            arms,
            deadline,
            poll,
            ..
        } => {
            let timers = arms
                .iter()
                .filter(|(e, _)| *e == End::Recv)
                .filter_map(|(_, ch)| timer_due(ch))
                .min();
            match poll {
                // A poll waits for its quantum, not for its (passed) deadline.
                Some((_, wake)) => earliest(timers, Some(*wake)),
                None => earliest(*deadline, timers),
            }
        }
    }
}

/// A try operation: a select whose deadline is already here.
fn is_try(want: &Want, now: Duration) -> bool {
    matches!(want, Want::Select { deadline: Some(d), .. } if *d <= now)
}

impl Scheduler {
    pub(crate) fn new(schedule: Schedule, limits: Limits, start_paused: bool) -> Self {
        let strat = match schedule.strategy {
            Strategy::Random => Strat::Random(fastrand::Rng::with_seed(schedule.seed)),
            Strategy::Pct { depth } => {
                let mut rng = fastrand::Rng::with_seed(schedule.seed);
                // PCT wants its change points spread over the run's steps,
                // but a seeded run must not depend on other runs to learn
                // its length: each change point is drawn within a horizon
                // itself drawn between 16 and 4 096 steps, log-uniformly,
                // so runs of any length get change points inside them.
                let change_points = (1..depth.max(1))
                    .map(|_| {
                        let horizon = 1_u64 << rng.u32(4..=12);
                        rng.u64(1..=horizon)
                    })
                    .collect();
                Strat::Pct {
                    rng,
                    priorities: Vec::new(),
                    change_points,
                    next_low: u64::from(depth.max(1)),
                }
            }
            Strategy::Manual => Strat::Manual,
        };
        let (signal_tx, signal) = cb::bounded(1);
        Self {
            state: Mutex::new(State {
                workers: Vec::new(),
                running: None,
                now: Duration::ZERO,
                step: 0,
                version: 0,
                trace: Vec::new(),
                prefix: schedule.prefix.clone(),
                strat,
                paused: start_paused || schedule.pause_at == Some(0),
                steps_allowed: 0,
                pause_at: schedule.pause_at.filter(|&k| k > 0),
                slots: Vec::new(),
                timers: Vec::new(),
                aborted: false,
                diverged: None,
                main_returned_at: None,
                awaiting: false,
                ended: None,
                paced: limits.realtime && schedule.pause_at.is_none_or(|k| k == 0),
                words: Vec::new(),
                arrivals: 0,
                wakes: Vec::new(),
            }),
            still: Condvar::new(),
            watch: Mutex::new(None),
            schedule,
            now_nanos: AtomicU64::new(0),
            speed_bits: AtomicU64::new(limits.speed.to_bits()),
            limits,
            signal_tx,
            signal,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// Lets go of the lock, tells the workers handed a turn, and locks
    /// again.
    fn tell<'a>(&'a self, mut st: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        if st.wakes.is_empty() {
            return st;
        }
        let wakes = std::mem::take(&mut st.wakes);
        drop(st);
        for cv in wakes {
            cv.notify_one();
        }
        self.lock()
    }

    /// Like [`Self::tell`], at the end of a call that keeps no lock.
    fn tell_and_go(mut st: MutexGuard<'_, State>) {
        let wakes = std::mem::take(&mut st.wakes);
        drop(st);
        for cv in wakes {
            cv.notify_one();
        }
    }

    /// Virtual lesson time (no lock: every event is stamped with it).
    pub(crate) fn now(&self) -> Duration {
        Duration::from_nanos(self.now_nanos.load(Ordering::Acquire))
    }

    fn set_now(&self, st: &mut State, t: Duration) {
        st.now = t;
        let nanos = u64::try_from(t.as_nanos()).unwrap_or(u64::MAX);
        self.now_nanos.store(nanos, Ordering::Release);
    }

    pub(crate) fn set_speed(&self, speed: f64) {
        self.speed_bits.store(speed.to_bits(), Ordering::Relaxed);
        self.wake_running();
    }

    pub(crate) fn step_count(&self) -> u64 {
        self.lock().step
    }

    pub(crate) fn trace(&self) -> Trace {
        let st = self.lock();
        Trace {
            choices: st.trace.clone(),
            diverged: st.diverged.clone(),
            steps: st.words.clone(),
        }
    }

    pub(crate) fn is_paused(&self) -> bool {
        self.lock().paused
    }

    pub(crate) fn awaiting_choice(&self) -> bool {
        self.lock().awaiting
    }

    pub(crate) fn ended(&self) -> Option<Stuck> {
        self.lock().ended
    }

    /// The worker holding the turn, and for how long (wall time) neither
    /// the step count nor the clock has moved while it held it — `None`
    /// when nobody holds it, or the run is paused, waiting for a pick,
    /// stuck or over.
    pub(crate) fn held_without_progress(&self) -> Option<(usize, Duration)> {
        let st = self.lock();
        let mut seen = lock(&self.watch);
        let mark = (st.step, st.now);
        let idle = st.paused || st.awaiting || st.aborted || st.ended.is_some();
        let Some(holder) = st.running.filter(|_| !idle) else {
            *seen = None;
            return None;
        };
        let Some((old, since)) = *seen else {
            *seen = Some((mark, Instant::now()));
            return None;
        };
        if old != mark {
            *seen = Some((mark, Instant::now()));
            return None;
        }
        Some((holder, since.elapsed()))
    }

    pub(crate) fn all_done(&self) -> bool {
        self.lock().workers.iter().all(|w| !w.live)
    }

    // ---- workers come and go --------------------------------------------

    /// A new worker, in spawn order (its number is its index). It is a
    /// candidate at once (its start); its thread waits in [`Self::start`].
    /// The first one (main) is picked here: nobody holds the turn yet.
    pub(crate) fn register(&self, id: usize, name: Arc<str>) {
        let mut st = self.lock();
        debug_assert_eq!(id, st.workers.len(), "workers register in spawn order");
        if let Strat::Pct {
            rng, priorities, ..
        } = &mut st.strat
        {
            // A random place in the priority order, as shuttle's PCT does.
            let p = rng.u64(1_000..u64::MAX);
            priorities.push(p);
        }
        st.workers.push(Worker {
            name,
            live: true,
            want: Some(Want::Go),
            turn: None,
            cv: Arc::new(Condvar::new()),
            reserved: None,
            failed_polls: 0,
            poll_version: 0,
            since: 0,
        });
        st.version += 1;
        self.pick(&mut st);
        Self::tell_and_go(st);
    }

    /// A worker's thread starts: wait for its first turn.
    pub(crate) fn start(&self, me: usize) -> Grant {
        let st = self.lock();
        self.wait_turn(st, me)
    }

    /// Hands the turn back wanting `want` and waits until it is this
    /// worker's again.
    pub(crate) fn yield_turn(&self, me: usize, mut want: Want) -> Grant {
        let mut st = self.lock();
        if st.aborted {
            return Grant::Aborted;
        }
        if is_try(&want, st.now) && st.workers[me].failed_polls >= 2 {
            // Polling in a loop: wait for a change, or a quantum of time.
            if let Want::Select { poll, .. } = &mut want {
                *poll = Some((st.workers[me].poll_version, st.now + POLL_QUANTUM));
            }
        }
        st.workers[me].want = Some(want);
        st.arrivals += 1;
        st.workers[me].since = st.arrivals;
        if st.running == Some(me) {
            st.running = None;
        }
        self.pick(&mut st);
        self.wait_turn(st, me)
    }

    /// Would `want` wait if worker `me` handed the turn back now?
    pub(crate) fn would_wait(&self, me: usize, want: &Want) -> bool {
        let st = self.lock();
        candidates_of(&st, me, want).is_empty()
    }

    /// A worker returned or panicked: it leaves and the next one is picked.
    pub(crate) fn finish(&self, me: usize, main: bool) {
        let mut st = self.lock();
        if me >= st.workers.len() {
            return;
        }
        st.workers[me].live = false;
        st.workers[me].want = None;
        st.workers[me].turn = None;
        st.version += 1;
        if main {
            st.main_returned_at = Some(st.now);
        }
        if st.running == Some(me) {
            st.running = None;
        }
        self.pick(&mut st);
        if st.workers.iter().all(|w| !w.live) {
            let _ = self.signal_tx.try_send(());
        }
        Self::tell_and_go(st);
    }

    fn wait_turn<'a>(&'a self, mut st: MutexGuard<'a, State>, me: usize) -> Grant {
        loop {
            if st.aborted {
                st.workers[me].want = None;
                return Grant::Aborted;
            }
            match st.workers[me].turn.take() {
                Some(Turn::Run(grant)) => {
                    st.workers[me].want = None;
                    return grant;
                }
                Some(Turn::Advance(until)) => {
                    st = self.pace(st, me, until);
                    if st.running == Some(me) {
                        st.running = None;
                    }
                    self.pick(&mut st);
                }
                None if !st.wakes.is_empty() => st = self.tell(st),
                None => {
                    let cv = Arc::clone(&st.workers[me].cv);
                    st = cv.wait(st).unwrap_or_else(PoisonError::into_inner);
                }
            }
        }
    }

    /// The keeper of the clock paces lesson time to `until` on the wall
    /// clock, at the speed factor, standing still while paused.
    fn pace<'a>(
        &'a self,
        mut st: MutexGuard<'a, State>,
        me: usize,
        until: Duration,
    ) -> MutexGuard<'a, State> {
        let cv = Arc::clone(&st.workers[me].cv);
        loop {
            if st.aborted {
                return st;
            }
            if st.now >= until {
                self.advance_to(&mut st, until);
                return st;
            }
            // Paused, time stands still; a step lets it run to the pick.
            if st.paused && st.steps_allowed == 0 {
                st = cv.wait(st).unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            let speed = f64::from_bits(self.speed_bits.load(Ordering::Relaxed)).max(0.01);
            let left = until.saturating_sub(st.now).as_secs_f64() / speed;
            let slice = Duration::from_secs_f64(left.min(0.02)).max(Duration::from_micros(50));
            let started = Instant::now();
            st = cv
                .wait_timeout(st, slice)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
            if !st.paused || st.steps_allowed > 0 {
                let passed = Duration::try_from_secs_f64(started.elapsed().as_secs_f64() * speed)
                    .unwrap_or(Duration::MAX);
                let t = st.now.saturating_add(passed).min(until);
                self.set_now(&mut st, t);
            }
        }
    }

    /// Moves virtual time to `t` and fires the timers due by then.
    fn advance_to(&self, st: &mut State, t: Duration) {
        self.set_now(st, t);
        st.version += 1;
        for timer in st.timers.iter_mut().filter(|x| !x.spent && x.due <= t) {
            let delivered = (timer.fire)();
            if delivered {
                timer.delivered += 1;
            }
            match timer.period {
                // As crossbeam's: a tick nobody took is skipped, and the
                // next comes a whole period later.
                Some(p) if !delivered => timer.due = t + p,
                Some(p) => {
                    timer.due += p;
                    if timer.due <= t {
                        timer.due = t + p;
                    }
                }
                None => timer.spent = true,
            }
        }
        st.timers
            .retain(|x| x.ch.receivers.load(Ordering::SeqCst) > 0);
    }

    // ---- the pick ---------------------------------------------------------

    fn all_candidates(st: &State) -> Vec<Choice> {
        let mut out = Vec::new();
        for (w, worker) in st.workers.iter().enumerate() {
            if !worker.live || worker.turn.is_some() {
                continue;
            }
            if let Some(want) = &worker.want {
                for arm in candidates_of(st, w, want) {
                    out.push(Choice {
                        worker: w as u32,
                        arm,
                    });
                }
            }
        }
        out
    }

    /// Picks who goes next, if nobody holds the turn: a candidate by the
    /// strategy (or the prefix); else moves time on; else the run is stuck.
    fn pick(&self, st: &mut State) {
        loop {
            if st.running.is_some() || st.ended.is_some() || st.aborted || st.awaiting {
                return;
            }
            if st.paused && st.steps_allowed == 0 {
                self.still.notify_all();
                return;
            }
            let candidates = Self::all_candidates(st);
            if !candidates.is_empty() {
                if st.step >= self.limits.step_limit {
                    return self.end(st, Stuck::Runaway);
                }
                match Self::choose(st, &candidates) {
                    Pick::Take(choice) => self.grant(st, choice),
                    Pick::Wait => {
                        st.awaiting = true;
                        self.still.notify_all();
                    }
                    Pick::Diverged => self.end(st, Stuck::Diverged),
                }
                return;
            }
            let wake = st
                .workers
                .iter()
                .filter(|w| w.live)
                .filter_map(|w| w.want.as_ref().and_then(|want| wake_of(st, want)))
                .min();
            let Some(t) = wake else {
                if st.workers.iter().any(|w| w.live) {
                    let stuck = if st.main_returned_at.is_some() {
                        Stuck::Leak
                    } else {
                        Stuck::Deadlock
                    };
                    self.end(st, stuck);
                }
                return;
            };
            if t > self.limits.time_limit {
                return self.end(st, Stuck::Runaway);
            }
            if let Some(returned) = st.main_returned_at
                && t > returned.saturating_add(self.limits.leak_grace)
            {
                return self.end(st, Stuck::Leak);
            }
            if st.paced {
                // A worker thread keeps the clock: whoever calls this may
                // be the live view, which must never wait.
                let keeper = st
                    .workers
                    .iter()
                    .position(|w| {
                        w.live && w.want.as_ref().and_then(|want| wake_of(st, want)) == Some(t)
                    })
                    .expect("the earliest wake is some live worker's");
                st.running = Some(keeper);
                st.workers[keeper].turn = Some(Turn::Advance(t));
                let cv = Arc::clone(&st.workers[keeper].cv);
                st.wakes.push(cv);
                return;
            }
            self.advance_to(st, t);
        }
    }

    fn end(&self, st: &mut State, stuck: Stuck) {
        st.ended = Some(stuck);
        let _ = self.signal_tx.try_send(());
        self.still.notify_all();
    }

    /// Waits (at most `timeout`) until the run stands still: paused,
    /// waiting for the learner's pick, stuck, aborted or over. True if so.
    pub(crate) fn wait_still(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut st = self.lock();
        loop {
            let still = (st.paused && st.running.is_none())
                || st.awaiting
                || st.ended.is_some()
                || st.aborted
                || st.workers.iter().all(|w| !w.live);
            if still {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            st = self
                .still
                .wait_timeout(st, (deadline - now).min(Duration::from_millis(20)))
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    fn grant(&self, st: &mut State, choice: Choice) {
        let w = choice.worker as usize;
        let was_try = st.workers[w]
            .want
            .as_ref()
            .is_some_and(|want| is_try(want, st.now));
        if choice.arm == TIMEOUT_ARM {
            if was_try {
                st.workers[w].failed_polls += 1;
                st.workers[w].poll_version = st.version;
            }
        } else {
            st.workers[w].failed_polls = 0;
            st.version += 1;
        }
        if self.limits.describe
            && let Some(want) = &st.workers[w].want
        {
            let words = format!(
                "{}: {}",
                st.workers[w].name,
                words_of(st, want, Some(choice.arm))
            );
            st.words.push(words);
        }
        st.awaiting = false;
        st.trace.push(choice);
        st.step += 1;
        if st.paused && st.steps_allowed > 0 {
            st.steps_allowed -= 1;
        }
        if st.pause_at == Some(st.step) {
            st.paused = true;
            st.pause_at = None;
            st.paced = self.limits.realtime;
            self.still.notify_all();
        }
        let arm = (choice.arm != TIMEOUT_ARM).then_some(choice.arm as usize);
        st.running = Some(w);
        st.workers[w].turn = Some(Turn::Run(Grant::Run(arm)));
        let cv = Arc::clone(&st.workers[w].cv);
        st.wakes.push(cv);
    }

    fn choose(st: &mut State, candidates: &[Choice]) -> Pick {
        let at = st.trace.len();
        if at < st.prefix.len() {
            let recorded = st.prefix[at];
            // Keep the strategy's state in step with the original run, so
            // that after the prefix it picks as that run did.
            let _ = Self::strategy_pick(st, candidates);
            if candidates.contains(&recorded) {
                return Pick::Take(recorded);
            }
            let could: Vec<String> = candidates.iter().map(ToString::to_string).collect();
            st.diverged = Some(format!(
                "at step {}: the recorded pick {recorded} cannot run here (could run: {})",
                at + 1,
                could.join(", ")
            ));
            return Pick::Diverged;
        }
        if matches!(st.strat, Strat::Manual) {
            return match candidates {
                [only] => Pick::Take(*only),
                _ => Pick::Wait,
            };
        }
        Pick::Take(Self::strategy_pick(st, candidates))
    }

    fn strategy_pick(st: &mut State, candidates: &[Choice]) -> Choice {
        let step = st.step + 1;
        match &mut st.strat {
            Strat::Random(rng) => candidates[rng.usize(..candidates.len())],
            Strat::Manual => candidates[0],
            Strat::Pct {
                rng,
                priorities,
                change_points,
                next_low,
            } => {
                let best = |priorities: &[u64]| {
                    candidates
                        .iter()
                        .map(|c| c.worker as usize)
                        .max_by_key(|&w| priorities[w])
                        .expect("candidates are not empty")
                };
                if change_points.contains(&step) {
                    // A change point: the worker about to run drops to
                    // the lowest priority so far.
                    let w = best(priorities);
                    priorities[w] = *next_low;
                    *next_low = next_low.saturating_sub(1);
                }
                let w = best(priorities) as u32;
                let arms: Vec<&Choice> = candidates.iter().filter(|c| c.worker == w).collect();
                *arms[rng.usize(..arms.len())]
            }
        }
    }

    // ---- control from outside (the live view) -----------------------------

    pub(crate) fn set_paused(&self, paused: bool) {
        let mut st = self.lock();
        st.paused = paused;
        st.steps_allowed = 0;
        if let Some(r) = st.running {
            st.workers[r].cv.notify_one();
        }
        if !paused {
            self.pick(&mut st);
        }
        Self::tell_and_go(st);
    }

    /// One more pick while paused.
    pub(crate) fn step(&self) {
        let mut st = self.lock();
        if st.paused && !st.awaiting {
            st.steps_allowed += 1;
            if let Some(r) = st.running {
                st.workers[r].cv.notify_one(); // a keeper of the clock, held by the pause
            }
            self.pick(&mut st);
        }
        Self::tell_and_go(st);
    }

    fn wake_running(&self) {
        let st = self.lock();
        if let Some(r) = st.running {
            st.workers[r].cv.notify_one();
        }
    }

    /// The learner's pick (play the scheduler).
    pub(crate) fn choose_now(&self, choice: Choice) -> Result<(), String> {
        let mut st = self.lock();
        if !st.awaiting {
            return Err("the run is not waiting for a pick".to_owned());
        }
        let candidates = Self::all_candidates(&st);
        if !candidates.contains(&choice) {
            let name = st.workers.get(choice.worker as usize).map_or_else(
                || format!("worker {}", choice.worker),
                |w| w.name.to_string(),
            );
            return Err(format!("{name} cannot run that step now"));
        }
        self.grant(&mut st, choice);
        Self::tell_and_go(st);
        Ok(())
    }

    /// Every live worker's next operation, in words, with the pick that
    /// runs it (none: it would wait).
    pub(crate) fn next_ops(&self) -> Vec<NextOp> {
        let st = self.lock();
        let mut out = Vec::new();
        for (w, worker) in st.workers.iter().enumerate() {
            if !worker.live {
                continue;
            }
            let Some(want) = &worker.want else {
                out.push(NextOp {
                    choice: None,
                    worker: worker.name.to_string(),
                    words: "is running".to_owned(),
                });
                continue;
            };
            let arms = candidates_of(&st, w, want);
            if arms.is_empty() {
                out.push(NextOp {
                    choice: None,
                    worker: worker.name.to_string(),
                    words: format!("{} (would wait)", words_of(&st, want, None)),
                });
            }
            for arm in arms {
                out.push(NextOp {
                    choice: Some(Choice {
                        worker: w as u32,
                        arm,
                    }),
                    worker: worker.name.to_string(),
                    words: words_of(&st, want, Some(arm)),
                });
            }
        }
        out
    }

    /// The run aborted: every worker's next turn fails, all at once (the
    /// teardown runs free; the run up to the verdict was scheduled).
    pub(crate) fn abort(&self) {
        let mut st = self.lock();
        st.aborted = true;
        st.awaiting = false;
        for w in &st.workers {
            w.cv.notify_all();
        }
        let _ = self.signal_tx.try_send(());
    }

    // ---- channels and timers ----------------------------------------------

    fn slot_mut(st: &mut State, id: usize) -> &mut Slot {
        if st.slots.len() <= id {
            st.slots.resize(id + 1, Slot::default());
        }
        &mut st.slots[id]
    }

    /// A send on rendezvous `ch` by `me`, which holds the turn: hand the
    /// message to a waiting receiver (`Some(receiver)`), or offer it
    /// (`None`: wait in [`Want::Offered`]). The caller fills the slot.
    pub(crate) fn rendezvous_send(
        &self,
        ch: &ChannelStats,
        me: usize,
        offer: bool,
    ) -> Option<usize> {
        let mut st = self.lock();
        if let Some(r) = waiting_receiver(&st, ch, me) {
            st.workers[r].reserved = Some(ch.id);
            Self::slot_mut(&mut st, ch.id).reserved_for = Some(r);
            return Some(r);
        }
        if offer {
            Self::slot_mut(&mut st, ch.id).offered_by = Some(me);
        }
        None
    }

    /// Has `me`'s offer on `ch` been taken? If not, withdraw it when
    /// `withdraw` (a timeout, a disconnect, an abort): `true` = taken.
    pub(crate) fn offer_taken(&self, ch: &ChannelStats, me: usize, withdraw: bool) -> bool {
        let mut st = self.lock();
        let slot = Self::slot_mut(&mut st, ch.id);
        if slot.offered_by != Some(me) {
            return true;
        }
        if withdraw {
            slot.offered_by = None;
        }
        false
    }

    /// A receive on rendezvous `ch` by `me`: `Some(true)` take the slot's
    /// message, `Some(false)` the channel is closed, `None` nothing yet.
    pub(crate) fn rendezvous_take(&self, ch: &ChannelStats, me: usize) -> Option<bool> {
        let mut st = self.lock();
        let slot = slot_of(&st, ch);
        if slot.reserved_for == Some(me) {
            Self::slot_mut(&mut st, ch.id).reserved_for = None;
            st.workers[me].reserved = None;
            return Some(true);
        }
        if slot.reserved_for.is_none() && slot.offered_by.is_some_and(|o| o != me) {
            Self::slot_mut(&mut st, ch.id).offered_by = None;
            return Some(true);
        }
        (slot.empty() && ch.senders.load(Ordering::SeqCst) == 0).then_some(false)
    }

    /// An `after` or `tick` timer on virtual time.
    pub(crate) fn add_timer(
        &self,
        ch: Arc<ChannelStats>,
        period: Duration,
        repeat: bool,
        fire: Box<dyn Fn() -> bool + Send>,
    ) {
        let mut st = self.lock();
        let due = st.now.saturating_add(period);
        st.timers.push(Timer {
            ch,
            due,
            period: repeat.then_some(period.max(Duration::from_nanos(1))),
            fire,
            spent: false,
            delivered: 0,
        });
    }
}

enum Pick {
    Take(Choice),
    Wait,
    Diverged,
}

/// A want in words, for the play-the-scheduler list.
fn words_of(st: &State, want: &Want, arm: Option<u32>) -> String {
    let detail = |ch: &ChannelStats| match ch.capacity {
        None => format!("{} queued", len_of(ch)),
        Some(0) => "rendezvous".to_owned(),
        Some(cap) if len_of(ch) >= cap => format!("{}/{cap} full", len_of(ch)),
        Some(cap) => format!("{}/{cap}", len_of(ch)),
    };
    let send = |ch: &ChannelStats| {
        if ch.receivers.load(Ordering::SeqCst) == 0 {
            return format!("send on `{}` (no receiver left: fails)", ch.name);
        }
        let t = ch.totals();
        format!("send item {} on `{}` ({})", t.sent + 1, ch.name, detail(ch))
    };
    let recv = |ch: &ChannelStats| {
        if ch.kind != ChannelKind::Normal {
            return format!("wait for its {}", ch.name);
        }
        if len_of(ch) == 0 && slot_of(st, ch).empty() && ch.senders.load(Ordering::SeqCst) == 0 {
            return format!("receive on `{}` (closed: ends)", ch.name);
        }
        let t = ch.totals();
        format!(
            "receive item {} from `{}` ({})",
            t.received + 1,
            ch.name,
            detail(ch)
        )
    };
    let timeout = " — its timeout fires";
    match (want, arm) {
        (Want::Go, _) => "start its next step".to_owned(),
        (Want::Send { .. } | Want::Recv { .. } | Want::Offered { .. }, Some(TIMEOUT_ARM)) => {
            format!("{}{timeout}", words_of(st, want, None))
        }
        (Want::Send { ch, .. }, _) => send(ch),
        (Want::Offered { ch, .. }, _) => format!("finish its send on `{}`", ch.name),
        (Want::Recv { ch, .. }, _) => recv(ch),
        (Want::Select { arms, .. }, Some(TIMEOUT_ARM)) if arms.is_empty() => {
            "its timeout fires".to_owned()
        }
        (Want::Select { arms, deadline, .. }, Some(TIMEOUT_ARM)) => {
            let nothing = if deadline.is_some_and(|d| d <= st.now) {
                "finds nothing ready"
            } else {
                "times out"
            };
            let names: Vec<String> = arms.iter().map(|(_, c)| format!("`{}`", c.name)).collect();
            format!("select on {}: {nothing}", names.join(", "))
        }
        (Want::Select { arms, .. }, Some(i)) => match arms.get(i as usize) {
            Some((End::Send, ch)) => format!("select: {}", send(ch)),
            Some((End::Recv, ch)) => format!("select: {}", recv(ch)),
            None => "select".to_owned(),
        },
        (Want::Select { arms, .. }, None) => {
            let names: Vec<String> = arms
                .iter()
                .map(|(e, c)| {
                    let dir = if *e == End::Send { "send" } else { "recv" };
                    format!("{dir} `{}`", c.name)
                })
                .collect();
            format!("select on {}", names.join(", "))
        }
        (Want::Join { target }, _) => format!(
            "join `{}`",
            st.workers.get(*target).map_or("?", |w| &*w.name)
        ),
        (Want::Sleep { until }, _) => format!("work until {}", super::in_words(*until)),
    }
}
