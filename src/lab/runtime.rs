//! The lab's shared core: the worker registry, the pacing gate, the abort
//! switch and the verdict logic. Everything here runs on the slow path
//! (when an operation must wait), never on a send or receive that succeeds
//! at once.

use std::panic;
use std::sync::atomic::{AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Once, PoisonError};
use std::thread::JoinHandle as OsJoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel as cb;

use super::clock::{LessonClock, Timers};
use super::events::{EventKind, EventLog};
use super::sched::{Limits, Schedule, Scheduler, Stuck};
use super::snapshot::{
    ChannelSnapshot, ScheduleStatus, SelectArm, SleepReason, Snapshot, Totals, WorkerSnapshot,
    WorkerState,
};
use super::stats::{ChannelKind, ChannelStats, End};
use super::thread_ctx;
use super::threads;
use super::verdict::{StuckWorker, Verdict};

/// How a run is paced and judged.
///
/// ```
/// let config = chanlab::lab::Config { speed: 2.0, ..Default::default() };
/// assert_eq!(config.speed, 2.0);
/// ```
#[derive(Debug, Clone)]
pub struct Config {
    /// Speed factor for simulated work, timers and timeouts (0.1–10 in the UI).
    pub speed: f64,
    /// How many recent events the ring buffer keeps.
    pub events: usize,
    /// After main returns, how long workers that still run or sleep get to
    /// finish before they are named as leaked. Workers stuck on a channel
    /// nobody can serve are named at once.
    pub leak_grace: Duration,
    /// With a foreign thread in play, how long nothing may move before a stall.
    pub stall_after: Duration,
    /// After an abort, how long workers get to stop before they are named
    /// unstoppable and left behind.
    pub stop_grace: Duration,
    /// After an abort, how many more lab operations a worker may attempt
    /// (ignoring the errors) before the lab unwinds it.
    pub spin_limit: u64,
    /// Start with the pacing gate closed (a classroom starts paused).
    pub start_paused: bool,
    /// Log every item that moves (who sent or received the n-th message of
    /// which channel) in the event ring, for the live view's event log. Off
    /// by default: it costs a lock per operation, which a watched, paced
    /// run can afford and a benchmark cannot.
    pub log_items: bool,
    /// Log every wait (who blocked on what) in the event ring, for the live
    /// view's event log and its picture of who feeds whom. Off by default:
    /// on a rendezvous nearly every operation waits, and the event costs a
    /// lock and two strings on that path.
    pub log_waits: bool,
    /// Run scheduled: one worker at a time, picked by this schedule, on
    /// virtual time (see [`Schedule`]). `None` runs free on OS threads.
    pub schedule: Option<Schedule>,
    /// Scheduled runs only: pace virtual time to the wall clock at the
    /// speed factor (a live view). Off, time jumps at once (checks, hunts).
    pub realtime: bool,
    /// Scheduled runs only: at most this many steps before the run is
    /// called a runaway (a livelock, or a loop that never ends).
    pub step_limit: u64,
    /// Scheduled runs only: at most this much virtual time.
    pub time_limit: Duration,
    /// Scheduled runs only: keep each step in words in the trace
    /// ([`Trace::steps`](super::Trace::steps)), for step tables and scrub bars.
    pub describe_steps: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            speed: 1.0,
            events: 4096,
            leak_grace: Duration::from_secs(1),
            stall_after: Duration::from_secs(2),
            stop_grace: Duration::from_secs(2),
            spin_limit: 100_000,
            start_paused: false,
            log_items: false,
            log_waits: false,
            schedule: None,
            realtime: false,
            step_limit: 1_000_000,
            time_limit: Duration::from_secs(3_600),
            describe_steps: false,
        }
    }
}

const OPEN: u8 = 0;
const PAUSED: u8 = 1;
const ABORTED: u8 = 2;
/// A scheduled run (before its abort): every operation goes to the scheduler.
const SCHEDULED: u8 = 3;

/// What the gate says to an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Gate {
    /// Go ahead, free-running.
    Open,
    /// The run aborted: fail as if disconnected.
    Closed,
    /// Hand the operation to the scheduler (`turns`).
    Scheduled,
}

/// A wait longer than this (virtual time) never times out: it is part of
/// the deadlock picture, as in the free mode a deadline too far for the
/// wall clock is.
const FOREVER: Duration = Duration::from_secs(1_000_000);

/// The panic payload used to unwind a worker that spins on a dead run.
pub(crate) struct StoppedByLab;

/// What a blocked worker waits on.
#[derive(Clone)]
pub(crate) enum Wait {
    Send(Arc<ChannelStats>),
    Recv(Arc<ChannelStats>),
    Select(Vec<(End, Arc<ChannelStats>)>),
    Join(usize),
}

impl Wait {
    /// Counts this wait in (`up`) or out of its channels' "waiting to
    /// send/receive" counters, without allocating: this is the waiting path.
    fn count_waiting(&self, up: bool) {
        let bump = |c: &AtomicUsize| {
            if up {
                c.fetch_add(1, Ordering::SeqCst);
            } else {
                c.fetch_sub(1, Ordering::SeqCst);
            }
        };
        match self {
            Self::Send(ch) => bump(&ch.send_waiting),
            Self::Recv(ch) => bump(&ch.recv_waiting),
            Self::Select(arms) => {
                for (end, ch) in arms {
                    bump(match end {
                        End::Send => &ch.send_waiting,
                        End::Recv => &ch.recv_waiting,
                    });
                }
            }
            Self::Join(_) => {}
        }
    }
}

enum Activity {
    Running,
    /// Held at the pacing gate (the run is paused).
    AtGate,
    Waiting {
        wait: Wait,
        /// Lesson time at which the wait gives up, if it does.
        deadline: Option<Duration>,
    },
    Sleeping(SleepReason),
    Done,
    Panicked(String),
}

impl Activity {
    fn is_live(&self) -> bool {
        !matches!(self, Self::Done | Self::Panicked(_))
    }
}

struct WorkerEntry {
    name: Arc<str>,
    external: bool,
    thread: u64,
    activity: Activity,
    frozen: Option<WorkerState>,
    foreign_ops: Arc<AtomicU64>,
}

#[derive(Default)]
struct Registry {
    workers: Vec<WorkerEntry>,
    channels: Vec<Arc<ChannelStats>>,
    channels_made: usize,
    live: usize,
    external_seen: bool,
    verdict: Option<Verdict>,
    main: Option<usize>,
    main_returned: bool,
    stopped: bool,
    finished: bool,
    stall: Option<(u64, Instant)>,
    /// The world as the verdict saw it, taken in the same critical section
    /// as the verdict: what every view shows from then on, so the abort's
    /// teardown (channels closing as handles drop, woken workers finishing)
    /// never passes for what the lesson did.
    at_verdict: Option<Snapshot>,
    /// Threads the last deadlock check could not vouch for (see `threads`):
    /// while any is alive the world is open, and a stuck run is a stall
    /// candidate, never a proven deadlock.
    outsiders: Vec<String>,
    /// Live workers waiting with no deadline: a deadlock needs them to be
    /// all the live ones, so most waits are ruled out by one comparison.
    waiting_forever: usize,
}

impl Registry {
    /// Sets worker `w`'s activity and keeps `waiting_forever` in step.
    fn set_activity(&mut self, w: usize, activity: Activity) -> Activity {
        let forever = |a: &Activity| matches!(a, Activity::Waiting { deadline: None, .. });
        let now = forever(&activity);
        let old = std::mem::replace(&mut self.workers[w].activity, activity);
        match (forever(&old), now) {
            (false, true) => self.waiting_forever += 1,
            (true, false) => self.waiting_forever -= 1,
            _ => {}
        }
        old
    }
}

pub(crate) struct Core {
    pub(crate) id: u64,
    pub(crate) clock: LessonClock,
    pub(crate) timers: Timers,
    mode: AtomicU8,
    steps: Mutex<u64>,
    gate_cv: Condvar,
    abort_tx: Mutex<Option<cb::Sender<()>>>,
    pub(crate) abort_rx: cb::Receiver<()>,
    reg: Mutex<Registry>,
    changed: Condvar,
    events: EventLog,
    speed_bits: AtomicU64,
    pub(crate) config: Config,
    threads: Mutex<Vec<(usize, OsJoinHandle<()>)>>,
    /// The scheduler of a scheduled run.
    pub(crate) sched: Option<Scheduler>,
}

static NEXT_LAB: AtomicU64 = AtomicU64::new(1);
static QUIET_HOOK: Once = Once::new();

/// Lab workers' panics become verdicts: keep them off stderr (and off a TUI
/// screen), but leave every other thread's panic to the previous hook.
fn install_quiet_hook() {
    QUIET_HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if thread_ctx::is_lab_worker() {
                let message = payload_message(info.payload());
                let note = match info.location() {
                    Some(at) => format!("{message} (at {}:{})", at.file(), at.line()),
                    None => message,
                };
                thread_ctx::note_panic(note);
            } else {
                previous(info);
            }
        }));
    });
}

/// The text of a panic payload.
pub(crate) fn payload_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else if payload.is::<StoppedByLab>() {
        "stopped by the lab: it kept calling lab operations after the run aborted".to_owned()
    } else {
        "a panic with a non-text payload".to_owned()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Core {
    pub(crate) fn new(config: Config) -> Arc<Self> {
        install_quiet_hook();
        threads::note_first_lab();
        let (abort_tx, abort_rx) = cb::bounded(0);
        let speed = config.speed.clamp(0.01, 100.0);
        let sched = config.schedule.clone().map(|schedule| {
            let limits = Limits {
                realtime: config.realtime,
                speed,
                leak_grace: config.leak_grace,
                step_limit: config.step_limit,
                time_limit: config.time_limit,
                describe: config.describe_steps,
            };
            Scheduler::new(schedule, limits, config.start_paused)
        });
        let mode = match (&sched, config.start_paused) {
            (Some(_), _) => SCHEDULED,
            (None, true) => PAUSED,
            (None, false) => OPEN,
        };
        Arc::new(Self {
            id: NEXT_LAB.fetch_add(1, Ordering::Relaxed),
            clock: LessonClock::new(speed, config.start_paused),
            timers: Timers::default(),
            mode: AtomicU8::new(mode),
            steps: Mutex::new(0),
            gate_cv: Condvar::new(),
            abort_tx: Mutex::new(Some(abort_tx)),
            abort_rx,
            reg: Mutex::new(Registry::default()),
            changed: Condvar::new(),
            events: EventLog::new(config.events),
            speed_bits: AtomicU64::new(speed.to_bits()),
            config,
            threads: Mutex::new(Vec::new()),
            sched,
        })
    }

    fn reg(&self) -> MutexGuard<'_, Registry> {
        lock(&self.reg)
    }

    /// Lesson time since the run started: at the speed factor, and
    /// standing still while paused.
    pub(crate) fn elapsed(&self) -> Duration {
        match &self.sched {
            Some(s) => s.now(),
            None => self.clock.now(),
        }
    }

    /// The lesson deadline `d` from now; `None`: too far, never.
    pub(crate) fn deadline_after(&self, d: Duration) -> Option<Duration> {
        match &self.sched {
            Some(s) if d < FOREVER => s.now().checked_add(d),
            Some(_) => None,
            None => self.clock.deadline_after(d),
        }
    }

    /// The calling worker of a scheduled run. A thread the lab did not
    /// start cannot be scheduled: the run gets a verdict that says so.
    pub(crate) fn scheduled_worker(self: &Arc<Self>) -> Option<usize> {
        if let Some(me) = self.scheduled_worker_quiet() {
            return Some(me);
        }
        let name = std::thread::current().name().map_or_else(
            || format!("thread {}", thread_ctx::thread_number()),
            str::to_owned,
        );
        let mut reg = self.reg();
        self.declare(&mut reg, Verdict::Outside { thread: name }, &[]);
        None
    }

    /// The calling lab worker, if it is one.
    pub(crate) fn scheduled_worker_quiet(&self) -> Option<usize> {
        thread_ctx::own_worker_id(self.id)
    }

    /// Logs an event; once the run aborted it is marked as the cleanup it is.
    pub(crate) fn log(&self, kind: EventKind) {
        self.events.push(self.elapsed(), kind, self.is_aborted());
    }

    pub(crate) fn events_since(&self, from: u64) -> (Vec<super::events::Event>, u64) {
        self.events.since(from)
    }

    // ---- pacing -------------------------------------------------------

    /// The pacing gate every lab operation passes: open (free-running),
    /// closed (the run aborted: fail as if disconnected) or scheduled.
    #[inline]
    pub(crate) fn gate(&self) -> Gate {
        if self.mode.load(Ordering::Acquire) == OPEN {
            Gate::Open
        } else {
            self.gate_slow()
        }
    }

    #[cold]
    fn gate_slow(&self) -> Gate {
        if self.mode.load(Ordering::Acquire) == SCHEDULED {
            Gate::Scheduled
        } else if self.pass_slow() {
            Gate::Open
        } else {
            Gate::Closed
        }
    }

    #[cold]
    fn pass_slow(&self) -> bool {
        // A worker held here shows as paused, not running. Marked before
        // the gate's lock is taken: `declare` holds the registry while it
        // takes that lock, so the other order could deadlock.
        // A step lets lesson time run (see `Core::step`); a worker about to
        // be held stops it again, *before* it shows as held, so whoever
        // sees it held sees lesson time standing still. One step is "run
        // until the next operation is held".
        let held = {
            let steps = lock(&self.steps);
            let held = self.is_paused() && *steps == 0;
            if held {
                self.clock.repace(None, Some(true));
            }
            held
        };
        let me = thread_ctx::worker_id(self.id);
        if let Some(me) = me
            && held
        {
            let mut reg = self.reg();
            if matches!(reg.workers[me].activity, Activity::Running) {
                reg.set_activity(me, Activity::AtGate);
            }
        }
        let passed = self.wait_at_gate();
        if let Some(me) = me {
            self.leave_gate(me);
        }
        passed
    }

    fn leave_gate(&self, worker: usize) {
        let mut reg = self.reg();
        if matches!(reg.workers[worker].activity, Activity::AtGate) {
            reg.set_activity(worker, Activity::Running);
        }
    }

    /// Waits at the gate while paused, until resumed, stepped or aborted.
    fn wait_at_gate(&self) -> bool {
        let mut steps = lock(&self.steps);
        loop {
            match self.mode.load(Ordering::Acquire) {
                OPEN => return true,
                ABORTED => {
                    drop(steps);
                    if thread_ctx::spun_past(self.config.spin_limit) {
                        panic::resume_unwind(Box::new(StoppedByLab));
                    }
                    return false;
                }
                _ if *steps > 0 => {
                    *steps -= 1;
                    return true;
                }
                _ => {
                    steps = self
                        .gate_cv
                        .wait(steps)
                        .unwrap_or_else(PoisonError::into_inner);
                }
            }
        }
    }

    pub(crate) fn is_aborted(&self) -> bool {
        self.mode.load(Ordering::Acquire) == ABORTED
    }

    pub(crate) fn is_paused(&self) -> bool {
        match &self.sched {
            Some(s) => s.is_paused(),
            None => self.mode.load(Ordering::Acquire) == PAUSED,
        }
    }

    pub(crate) fn set_paused(&self, paused: bool) {
        if let Some(s) = &self.sched {
            if s.is_paused() != paused && !self.is_aborted() {
                s.set_paused(paused);
                let what = if paused { "paused" } else { "resumed" };
                self.log(EventKind::Control {
                    what: what.to_owned(),
                });
            }
            return;
        }
        let _steps = lock(&self.steps);
        let (from, to) = if paused {
            (OPEN, PAUSED)
        } else {
            (PAUSED, OPEN)
        };
        if self
            .mode
            .compare_exchange(from, to, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            self.clock.repace(None, Some(paused));
            self.gate_cv.notify_all();
            let what = if paused { "paused" } else { "resumed" };
            self.log(EventKind::Control {
                what: what.to_owned(),
            });
        }
    }

    /// Lets one more operation through the closed gate, and lets lesson
    /// time run until a worker is held at the gate again: a worker asleep
    /// in `work`, on a timer or a timeout needs time to reach its next
    /// operation, and a step that froze the clock would never get there.
    pub(crate) fn step(&self) {
        if let Some(s) = &self.sched {
            s.step();
            return;
        }
        let mut steps = lock(&self.steps);
        if self.mode.load(Ordering::Acquire) == PAUSED {
            *steps += 1;
            self.clock.repace(None, Some(false));
            self.gate_cv.notify_one();
        }
    }

    pub(crate) fn speed(&self) -> f64 {
        f64::from_bits(self.speed_bits.load(Ordering::Relaxed))
    }

    pub(crate) fn set_speed(&self, speed: f64) {
        let speed = speed.clamp(0.01, 100.0);
        self.clock.repace(Some(speed), None);
        if let Some(s) = &self.sched {
            s.set_speed(speed);
        }
        self.speed_bits.store(speed.to_bits(), Ordering::Relaxed);
        self.log(EventKind::Control {
            what: format!("speed {speed:.1}x"),
        });
    }

    /// A timer's receiver went away: it can never matter again, so it
    /// leaves the picture (a rate limiter makes one per wait).
    pub(crate) fn forget_channel(&self, id: usize) {
        self.reg().channels.retain(|c| c.id != id);
    }

    // ---- registry -----------------------------------------------------

    pub(crate) fn new_channel(
        &self,
        name: String,
        capacity: Option<usize>,
        kind: ChannelKind,
    ) -> Arc<ChannelStats> {
        let mut reg = self.reg();
        reg.channels_made += 1;
        let stats = Arc::new(ChannelStats::new(
            reg.channels_made - 1,
            name.into(),
            capacity,
            kind,
        ));
        reg.channels.push(Arc::clone(&stats));
        stats
    }

    /// Adds a worker; `main` marks the lesson's main.
    pub(crate) fn register(
        &self,
        name: Arc<str>,
        external: bool,
        thread: u64,
        main: bool,
    ) -> (usize, Arc<AtomicU64>) {
        let foreign_ops = Arc::new(AtomicU64::new(0));
        let mut reg = self.reg();
        let id = reg.workers.len();
        reg.workers.push(WorkerEntry {
            name: Arc::clone(&name),
            external,
            thread,
            activity: Activity::Running,
            frozen: None,
            foreign_ops: Arc::clone(&foreign_ops),
        });
        reg.live += 1;
        reg.external_seen |= external;
        if main {
            reg.main = Some(id);
        }
        drop(reg);
        self.log(EventKind::Spawned {
            worker: name.to_string(),
            external,
        });
        if let Some(s) = &self.sched
            && !external
        {
            s.register(id, name);
        }
        (id, foreign_ops)
    }

    pub(crate) fn set_thread(&self, worker: usize, thread: u64) {
        self.reg().workers[worker].thread = thread;
    }

    pub(crate) fn keep_thread(&self, worker: usize, handle: OsJoinHandle<()>) {
        lock(&self.threads).push((worker, handle));
    }

    /// The current thread's worker id, registering a foreign thread as an
    /// external worker the first time it is seen.
    pub(crate) fn current_worker(self: &Arc<Self>) -> usize {
        if let Some(id) = thread_ctx::worker_id(self.id) {
            return id;
        }
        let me = thread_ctx::thread_number();
        let name: Arc<str> = match std::thread::current().name() {
            Some(n) => format!("{n} (external)").into(),
            None => format!("thread-{me} (external)").into(),
        };
        let (id, ops) = self.register(name, true, me, false);
        thread_ctx::join(self, id, true, ops);
        id
    }

    /// Logs one item moving through `ch` (see `Config::log_items`).
    #[cold]
    pub(crate) fn log_item(&self, ch: &ChannelStats, end: End) {
        if ch.kind != ChannelKind::Normal {
            return; // a timer firing is not an item
        }
        let Some(me) = thread_ctx::worker_id(self.id) else {
            return;
        };
        let worker = self.reg().workers[me].name.to_string();
        let totals = ch.totals();
        let channel = ch.name.to_string();
        self.log(match end {
            End::Send => EventKind::Sent {
                worker,
                channel,
                item: totals.sent,
            },
            End::Recv => EventKind::Received {
                worker,
                channel,
                item: totals.received,
            },
        });
    }

    /// An operation through a handle owned by another thread.
    /// The thread is known by now: `HandleCounter::claim` registered it.
    pub(crate) fn count_foreign_op(self: &Arc<Self>) {
        if let Some((_, ops)) = thread_ctx::lookup(self.id) {
            ops.fetch_add(1, Ordering::Relaxed);
        }
    }

    // ---- transitions --------------------------------------------------

    pub(crate) fn begin_wait(&self, worker: usize, wait: Wait, deadline: Option<Duration>) {
        wait.count_waiting(true);
        let mut reg = self.reg();
        reg.set_activity(worker, Activity::Waiting { wait, deadline });
        if self.config.log_waits {
            let state = public_state(&reg, worker);
            let name = reg.workers[worker].name.to_string();
            self.log(EventKind::Blocked {
                worker: name,
                state,
            });
        }
        if deadline.is_none() {
            self.check_deadlock(&mut reg);
        }
    }

    pub(crate) fn end_wait(&self, worker: usize) {
        let mut reg = self.reg();
        let old = reg.set_activity(worker, Activity::Running);
        drop(reg);
        if let Activity::Waiting { wait, .. } = old {
            wait.count_waiting(false);
        }
    }

    pub(crate) fn set_sleeping(&self, worker: usize, reason: Option<SleepReason>) {
        let mut reg = self.reg();
        let activity = match reason {
            Some(reason) => Activity::Sleeping(reason),
            None => Activity::Running,
        };
        reg.set_activity(worker, activity);
    }

    /// A worker returned (`Ok`) or panicked (`Err(message)`).
    pub(crate) fn finish(&self, worker: usize, result: Result<(), String>) {
        let mut reg = self.reg();
        if !reg.workers[worker].activity.is_live() {
            return;
        }
        let name = reg.workers[worker].name.to_string();
        reg.live -= 1;
        if reg.main == Some(worker) {
            reg.main_returned = true;
        }
        match result {
            Ok(()) => {
                reg.set_activity(worker, Activity::Done);
                self.log(EventKind::Finished { worker: name });
            }
            Err(message) => {
                reg.set_activity(worker, Activity::Panicked(message.clone()));
                self.log(EventKind::Panicked {
                    worker: name.clone(),
                    message: message.clone(),
                });
                let verdict = Verdict::Panicked {
                    worker: name,
                    message,
                };
                self.declare(&mut reg, verdict, &[]);
            }
        }
        self.check_deadlock(&mut reg);
        let (main, external) = (reg.main == Some(worker), reg.workers[worker].external);
        drop(reg);
        if let Some(s) = &self.sched
            && !external
        {
            s.finish(worker, main);
        }
        self.changed.notify_all();
    }

    pub(crate) fn external_exited(&self, worker: usize) {
        self.finish(worker, Ok(()));
    }

    // ---- verdicts -----------------------------------------------------

    fn progress(reg: &Registry) -> u64 {
        reg.channels
            .iter()
            .map(|c| {
                let t = c.totals();
                t.sent + t.received
            })
            .sum()
    }

    /// True when worker `w` waits on something nobody can complete now.
    fn is_stuck(reg: &Registry, w: usize) -> bool {
        match &reg.workers[w].activity {
            Activity::Waiting {
                wait,
                deadline: None,
            } => !could_proceed(reg, wait),
            _ => false,
        }
    }

    /// Takes the deadlock verdict when every live worker is stuck, confirmed
    /// against an unchanged progress count. Called on every transition that
    /// could complete the picture, with the registry locked.
    fn check_deadlock(&self, reg: &mut Registry) {
        // Without a main (a bare `Lab::new`) the thread that made the lab is
        // unseen until its first operation: no closed world, no verdict.
        if self.sched.is_some() // the scheduler knows exactly: see `sched_verdict`
            || reg.main.is_none()
            || reg.verdict.is_some()
            || reg.stopped
            || reg.main_returned
            || reg.live == 0
        {
            return;
        }
        if reg.waiting_forever < reg.live {
            return; // someone runs, sleeps or waits with a timeout: O(1), the common case
        }
        let live = || (0..reg.workers.len()).filter(|&w| reg.workers[w].activity.is_live());
        debug_assert!(live().all(|w| matches!(
            reg.workers[w].activity,
            Activity::Waiting { deadline: None, .. }
        )));
        if reg.external_seen {
            return; // the supervisor decides on a stall: the world is not closed
        }
        let before = Self::progress(reg);
        if !live().all(|w| Self::is_stuck(reg, w)) {
            return;
        }
        if Self::progress(reg) != before {
            return;
        }
        // Last, because it reads the process's thread list: is anyone
        // alive that the lab cannot vouch for? It might hold a Sender.
        reg.outsiders = threads::unknown_threads();
        if !reg.outsiders.is_empty() {
            return; // the supervisor decides on a stall
        }
        let stuck = live().map(|w| stuck_worker(reg, w)).collect();
        self.declare(reg, Verdict::Deadlock { stuck }, &[]);
    }

    /// Records `verdict`, freezes every live worker's state as the verdict
    /// saw it, and aborts the run.
    fn declare(&self, reg: &mut Registry, verdict: Verdict, leaked: &[usize]) {
        if reg.verdict.is_some() || reg.stopped {
            return;
        }
        for w in 0..reg.workers.len() {
            if reg.workers[w].activity.is_live() && !reg.workers[w].external {
                let state = public_state(reg, w);
                reg.workers[w].frozen = Some(if leaked.contains(&w) {
                    WorkerState::Leaked {
                        was: Box::new(state),
                    }
                } else {
                    state
                });
            }
        }
        self.log(EventKind::Verdict {
            headline: verdict.headline(),
        });
        reg.verdict = Some(verdict);
        reg.at_verdict = Some(self.snapshot_of(reg));
        self.abort_now();
        self.changed.notify_all();
    }

    /// Closes the gate for good and wakes every blocked operation.
    fn abort_now(&self) {
        {
            let _steps = lock(&self.steps);
            self.mode.store(ABORTED, Ordering::Release);
            self.gate_cv.notify_all();
        }
        lock(&self.abort_tx).take();
        if let Some(s) = &self.sched {
            s.abort();
        }
    }

    /// Stops the run on request (restart, quit): no verdict.
    pub(crate) fn stop(&self) {
        let mut reg = self.reg();
        if reg.stopped || reg.verdict.is_some() || reg.finished {
            return;
        }
        reg.stopped = true;
        drop(reg);
        self.log(EventKind::Stopped);
        self.abort_now();
        self.changed.notify_all();
    }

    /// The supervisor's periodic look: a safety net for the deadlock check
    /// and, with foreign threads in play, the stall verdict.
    pub(crate) fn supervise_tick(&self) {
        if let Some(s) = &self.sched {
            // The scheduler decides; the supervisor watches for a worker
            // that holds the turn and never gives it back.
            self.sched_watchdog(s);
            return;
        }
        let mut reg = self.reg();
        reg.outsiders.clear();
        self.check_deadlock(&mut reg);
        let open_world = reg.external_seen || !reg.outsiders.is_empty();
        if !open_world || reg.verdict.is_some() || reg.stopped || reg.main_returned {
            reg.stall = None;
            return;
        }
        let lab_workers: Vec<usize> = (0..reg.workers.len())
            .filter(|&w| reg.workers[w].activity.is_live() && !reg.workers[w].external)
            .collect();
        let stuck = !lab_workers.is_empty() && lab_workers.iter().all(|&w| Self::is_stuck(&reg, w));
        let progress = Self::progress(&reg);
        let now = Instant::now();
        if self.is_paused() {
            reg.stall = None; // nothing can move while paused: not a stall
            return;
        }
        match reg.stall {
            Some((p, since)) if stuck && p == progress => {
                let quiet = now - since;
                if quiet >= self.config.stall_after {
                    let stuck = lab_workers.iter().map(|&w| stuck_worker(&reg, w)).collect();
                    let outside = outside_names(&reg);
                    self.declare(
                        &mut reg,
                        Verdict::Stall {
                            stuck,
                            quiet,
                            outside,
                        },
                        &[],
                    );
                }
            }
            _ if stuck => reg.stall = Some((progress, now)),
            _ => reg.stall = None,
        }
    }

    /// Turns what the scheduler found into the verdict: nobody can move and
    /// nobody sleeps is a deadlock (a leak once main returned); a run past
    /// its limits is a runaway; a replay that does not fit is stopped.
    pub(crate) fn sched_verdict(&self) {
        let Some(s) = &self.sched else { return };
        let Some(stuck) = s.ended() else { return };
        let mut reg = self.reg();
        let live: Vec<usize> = (0..reg.workers.len())
            .filter(|&w| reg.workers[w].activity.is_live() && !reg.workers[w].external)
            .collect();
        let named: Vec<StuckWorker> = live.iter().map(|&w| stuck_worker(&reg, w)).collect();
        // Exact among the lab's workers. A thread the lab did not start is
        // named the moment it uses the run's channels (`Verdict::Outside`);
        // one that only holds a handle and sleeps is not seen, and waiting
        // for every unknown thread of the process (as the free mode does)
        // would make a scheduled verdict depend on the machine, which a
        // seed must not. So scheduled runs start every thread with `lab.go`.
        match stuck {
            Stuck::Deadlock => self.declare(&mut reg, Verdict::Deadlock { stuck: named }, &[]),
            Stuck::Leak => self.declare(&mut reg, Verdict::Leak { leaked: named }, &live),
            Stuck::Runaway => {
                let verdict = Verdict::Runaway {
                    steps: s.step_count(),
                    elapsed: s.now(),
                    busy: named,
                };
                self.declare(&mut reg, verdict, &[]);
            }
            Stuck::Diverged => {
                drop(reg);
                self.stop();
            }
        }
    }

    /// A scheduled run's watchdog: a worker that holds the turn and never
    /// calls the lab again (a spin on `len()`, a std lock) stops every
    /// other worker with it. No step and no move of the clock for
    /// `stall_after` of wall time, while the run is neither paused nor
    /// waiting for the learner, is a runaway naming the worker.
    fn sched_watchdog(&self, s: &Scheduler) {
        let Some((holder, quiet)) = s.held_without_progress() else {
            return;
        };
        if quiet < self.config.stall_after {
            return;
        }
        let mut reg = self.reg();
        let Some(entry) = reg.workers.get(holder) else {
            return;
        };
        let busy = vec![StuckWorker {
            worker: entry.name.to_string(),
            state: WorkerState::Running,
            detail: format!(
                "has run for {:.1}s of wall time without a lab operation (a loop on \
                 `len()` or `is_empty()`, a std lock, a sleep?): nobody else can move",
                quiet.as_secs_f64()
            ),
        }];
        let verdict = Verdict::Runaway {
            steps: s.step_count(),
            elapsed: s.now(),
            busy,
        };
        self.declare(&mut reg, verdict, &[]);
    }

    /// After main returned: wait until every other lab worker has finished,
    /// or take the leak verdict — at once for workers stuck on a channel
    /// nobody can serve, after `leak_grace` for ones that still run or sleep.
    pub(crate) fn leak_phase(&self) {
        if let Some(s) = &self.sched {
            // The scheduler runs the rest to their end on virtual time,
            // with the grace in virtual time too, and says when it is stuck.
            loop {
                if self.reg().verdict.is_some() || self.was_stopped() {
                    return;
                }
                if s.ended().is_some() {
                    self.sched_verdict();
                    return;
                }
                if s.all_done() {
                    return;
                }
                let _ = s.signal.recv_timeout(Duration::from_millis(50));
            }
        }
        // The grace is lesson time: slowed down by the speed factor, and
        // stopped while the run is paused (a paused worker cannot finish).
        let until = self.elapsed().saturating_add(self.config.leak_grace);
        let mut reg = self.reg();
        loop {
            if reg.verdict.is_some() || reg.stopped {
                return;
            }
            let alive: Vec<usize> = (0..reg.workers.len())
                .filter(|&w| reg.workers[w].activity.is_live() && !reg.workers[w].external)
                .collect();
            if alive.is_empty() {
                return;
            }
            let left = until.saturating_sub(self.elapsed());
            let before = Self::progress(&reg);
            // Stuck for sure only in a closed world: with a thread outside
            // the lab alive (it might still send), they get the grace too.
            let all_stuck = alive.iter().all(|&w| Self::is_stuck(&reg, w))
                && Self::progress(&reg) == before
                && !reg
                    .workers
                    .iter()
                    .any(|w| w.external && w.activity.is_live())
                && threads::unknown_threads().is_empty();
            if all_stuck || left.is_zero() {
                let leaked = alive.iter().map(|&w| stuck_worker(&reg, w)).collect();
                self.declare(&mut reg, Verdict::Leak { leaked }, &alive);
                return;
            }
            reg = self
                .changed
                .wait_timeout(reg, Duration::from_millis(10))
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// After an abort (or a clean end): wait up to `stop_grace` for every
    /// lab worker to stop, join their threads, and name the ones that would
    /// not stop.
    pub(crate) fn wind_down(&self) -> Vec<String> {
        // No timer fires for a run that is over.
        self.timers.stop();
        // `None`: a grace too long to represent, i.e. wait as long as it takes.
        let deadline = Instant::now().checked_add(self.config.stop_grace);
        let mut reg = self.reg();
        loop {
            let alive: Vec<usize> = (0..reg.workers.len())
                .filter(|&w| reg.workers[w].activity.is_live() && !reg.workers[w].external)
                .collect();
            let now = Instant::now();
            if alive.is_empty() || deadline.is_some_and(|d| now >= d) {
                let unstoppable: Vec<String> = alive
                    .iter()
                    .map(|&w| reg.workers[w].name.to_string())
                    .collect();
                drop(reg);
                let threads = std::mem::take(&mut *lock(&self.threads));
                // A finished worker's thread is on its way out: join it, so no
                // OS thread of the run survives it. Unstoppable ones are left.
                for (worker, handle) in threads {
                    if !alive.contains(&worker) {
                        let _ = handle.join();
                    }
                }
                self.reg().finished = true;
                return unstoppable;
            }
            let wait = deadline.map_or(Duration::from_millis(20), |d| {
                (d - now).min(Duration::from_millis(20))
            });
            reg = self
                .changed
                .wait_timeout(reg, wait)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    pub(crate) fn worker_finished(&self, worker: usize) -> bool {
        !self.reg().workers[worker].activity.is_live()
    }

    pub(crate) fn verdict(&self) -> Option<Verdict> {
        self.reg().verdict.clone()
    }

    pub(crate) fn was_stopped(&self) -> bool {
        self.reg().stopped
    }

    // ---- snapshots ----------------------------------------------------

    /// The lab now; after a verdict, the world as the verdict saw it (with
    /// `finished`, `paused` and `speed` as they are now).
    pub(crate) fn snapshot(&self) -> Snapshot {
        let reg = self.reg();
        if let Some(frozen) = &reg.at_verdict {
            let mut snapshot = frozen.clone();
            snapshot.finished = reg.finished;
            snapshot.paused = self.is_paused();
            snapshot.speed = self.speed();
            if let (Some(status), Some(s)) = (&mut snapshot.schedule, &self.sched) {
                status.awaiting_choice = s.awaiting_choice();
            }
            return snapshot;
        }
        self.snapshot_of(&reg)
    }

    fn schedule_status(&self) -> Option<ScheduleStatus> {
        self.sched.as_ref().map(|s| ScheduleStatus {
            schedule: s.schedule.describe(),
            step: s.step_count(),
            awaiting_choice: s.awaiting_choice(),
        })
    }

    /// The lab as `reg` (locked by the caller) and the channels' counters
    /// show it now.
    fn snapshot_of(&self, reg: &Registry) -> Snapshot {
        let channels: Vec<Arc<ChannelStats>> = reg.channels.clone();
        let mut workers: Vec<(WorkerSnapshot, u64)> = (0..reg.workers.len())
            .map(|w| {
                let e = &reg.workers[w];
                let state = e.frozen.clone().unwrap_or_else(|| public_state(reg, w));
                let snap = WorkerSnapshot {
                    id: w,
                    name: e.name.to_string(),
                    stage: stage_of(&e.name).to_owned(),
                    state,
                    ops: e.foreign_ops.load(Ordering::Relaxed),
                    external: e.external,
                };
                (snap, e.thread)
            })
            .collect();
        let live = reg.live;
        let verdict = reg.verdict.clone();
        let finished = reg.finished;
        let frozen = reg.verdict.is_some();

        let mut totals = Totals {
            workers: workers.len(),
            live,
            ..Totals::default()
        };
        // Thread number -> worker, to credit operations and name the stages
        // on each end of a channel.
        let worker_of = |thread: u64| workers.iter().position(|(_, t)| *t == thread);
        let mut credits: Vec<(usize, u64)> = Vec::new();
        let channels = channels
            .iter()
            .map(|c| {
                let t = c.totals();
                totals.sent += t.sent;
                totals.received += t.received;
                let mut users: Vec<(usize, End)> = Vec::new();
                for (thread, end, ops) in c.ops_by_owner() {
                    if let Some(w) = worker_of(thread) {
                        credits.push((w, ops));
                        users.push((w, end));
                    }
                }
                users.sort_unstable_by_key(|(w, _)| *w);
                let stages_on = |side: End| {
                    let mut stages: Vec<String> = Vec::new();
                    for (w, end) in &users {
                        let stage = &workers[*w].0.stage;
                        if *end == side && !stages.contains(stage) {
                            stages.push(stage.clone());
                        }
                    }
                    stages
                };
                let senders = c.senders.load(Ordering::SeqCst);
                let receivers = c.receivers.load(Ordering::SeqCst);
                ChannelSnapshot {
                    id: c.id,
                    name: c.name.to_string(),
                    capacity: c.capacity,
                    kind: c.kind,
                    len: c.len_from(t),
                    sent: t.sent,
                    received: t.received,
                    senders,
                    receivers,
                    send_waiting: c.send_waiting.load(Ordering::SeqCst),
                    recv_waiting: c.recv_waiting.load(Ordering::SeqCst),
                    closed: c.kind == ChannelKind::Normal && (senders == 0 || receivers == 0),
                    sender_stages: stages_on(End::Send),
                    receiver_stages: stages_on(End::Recv),
                }
            })
            .collect();
        for (w, ops) in credits {
            workers[w].0.ops += ops;
        }
        totals.blocked = workers.iter().filter(|(w, _)| w.state.is_blocked()).count();
        Snapshot {
            elapsed: self.elapsed(),
            workers: workers.into_iter().map(|(w, _)| w).collect(),
            channels,
            totals,
            verdict,
            paused: self.is_paused(),
            speed: self.speed(),
            finished,
            at_verdict: frozen,
            schedule: self.schedule_status(),
        }
    }
}

/// The threads outside the lab that make a stuck run unprovable: the
/// external workers it has seen and the threads it could not vouch for.
fn outside_names(reg: &Registry) -> Vec<String> {
    let mut names: Vec<String> = reg
        .workers
        .iter()
        .filter(|w| w.external && w.activity.is_live())
        .map(|w| w.name.to_string())
        .collect();
    names.extend(reg.outsiders.iter().cloned());
    names
}

/// The part of a worker's name before `#`: `square#2` is in stage `square`.
#[must_use]
pub fn stage_of(name: &str) -> &str {
    let base = name.split(" (external)").next().unwrap_or(name);
    base.split('#').next().unwrap_or(base)
}

/// Could a send on `ch` complete now? `own_recv` is how many of the
/// waiting receivers are the asking worker itself (a select with both arms
/// on one rendezvous): crossbeam never pairs a select with itself.
fn send_ready(ch: &ChannelStats, own_recv: usize) -> bool {
    let t = ch.totals();
    if ch.receivers.load(Ordering::SeqCst) == 0 || t.received > t.sent {
        return true;
    }
    match ch.capacity {
        None => true,
        Some(0) => ch.recv_waiting.load(Ordering::SeqCst) > own_recv,
        Some(cap) => t.sent - t.received < cap as u64,
    }
}

/// Could a receive on `ch` complete now? `own_send` as for [`send_ready`].
fn recv_ready(ch: &ChannelStats, own_send: usize) -> bool {
    let t = ch.totals();
    match ch.kind {
        ChannelKind::Timer { fires } => fires.is_none_or(|n| t.received < n),
        ChannelKind::Never => false,
        ChannelKind::Normal => {
            ch.senders.load(Ordering::SeqCst) == 0
                || t.sent > t.received
                || (ch.capacity == Some(0) && ch.send_waiting.load(Ordering::SeqCst) > own_send)
        }
    }
}

/// Could this wait complete without anyone else doing anything more?
/// Counters lag the channel by at most one operation per thread, and every
/// lag makes an operation look *more* ready, never less: so a "no" here is
/// a real "no".
fn could_proceed(reg: &Registry, wait: &Wait) -> bool {
    match wait {
        Wait::Send(ch) => send_ready(ch, 0),
        Wait::Recv(ch) => recv_ready(ch, 0),
        Wait::Select(arms) => {
            let own = |end: End, ch: &Arc<ChannelStats>| {
                arms.iter()
                    .filter(|(e, c)| *e == end && Arc::ptr_eq(c, ch))
                    .count()
            };
            arms.iter().any(|(end, ch)| match end {
                End::Send => send_ready(ch, own(End::Recv, ch)),
                End::Recv => recv_ready(ch, own(End::Send, ch)),
            })
        }
        Wait::Join(w) => !reg.workers[*w].activity.is_live(),
    }
}

fn public_state(reg: &Registry, w: usize) -> WorkerState {
    match &reg.workers[w].activity {
        Activity::Running => WorkerState::Running,
        Activity::AtGate => WorkerState::Paused,
        Activity::Sleeping(r) => WorkerState::Sleeping(r.clone()),
        Activity::Done => WorkerState::Done,
        Activity::Panicked(m) => WorkerState::Panicked { message: m.clone() },
        Activity::Waiting { wait, .. } => match wait {
            Wait::Send(ch) => WorkerState::BlockedSend {
                channel: ch.name.to_string(),
            },
            Wait::Recv(ch) if matches!(ch.kind, ChannelKind::Timer { .. }) => {
                WorkerState::Sleeping(SleepReason::Timer)
            }
            Wait::Recv(ch) => WorkerState::BlockedRecv {
                channel: ch.name.to_string(),
            },
            Wait::Select(arms) => WorkerState::Selecting {
                arms: arms
                    .iter()
                    .map(|(end, ch)| SelectArm {
                        channel: ch.name.to_string(),
                        send: *end == End::Send,
                        timer: matches!(ch.kind, ChannelKind::Timer { .. }),
                    })
                    .collect(),
            },
            Wait::Join(target) => WorkerState::Joining {
                worker: reg.workers[*target].name.to_string(),
            },
        },
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// "`squares` (4/4 full)" — a channel's numbers, worded for one side.
fn channel_detail(ch: &ChannelStats, end: End) -> String {
    let t = ch.totals();
    let len = ch.len_from(t);
    let senders = ch.senders.load(Ordering::SeqCst);
    let receivers = ch.receivers.load(Ordering::SeqCst);
    let size = match ch.capacity {
        None => format!("{len} queued, unbounded"),
        Some(0) => "rendezvous".to_owned(),
        Some(cap) if len >= cap => format!("{len}/{cap} full"),
        Some(cap) => format!("{len}/{cap}"),
    };
    match (end, ch.kind) {
        (End::Recv, ChannelKind::Never) => format!("`{}` (never fires)", ch.name),
        (End::Recv, _) => format!(
            "`{}` ({size}, {} alive)",
            ch.name,
            plural(senders, "sender", "senders")
        ),
        (End::Send, _) => format!(
            "`{}` ({size}, {} alive)",
            ch.name,
            plural(receivers, "receiver", "receivers")
        ),
    }
}

fn stuck_worker(reg: &Registry, w: usize) -> StuckWorker {
    let e = &reg.workers[w];
    let state = public_state(reg, w);
    let detail = match &e.activity {
        Activity::Waiting { wait, deadline } => {
            let mut d = match wait {
                Wait::Send(ch) => format!("waits to send on {}", channel_detail(ch, End::Send)),
                Wait::Recv(ch) => format!("waits to receive on {}", channel_detail(ch, End::Recv)),
                Wait::Select(arms) => {
                    let parts: Vec<String> = arms
                        .iter()
                        .map(|(end, ch)| {
                            if matches!(ch.kind, ChannelKind::Timer { .. }) {
                                return format!("its {}", ch.name);
                            }
                            let dir = if *end == End::Send { "send" } else { "recv" };
                            format!("{dir} {}", channel_detail(ch, *end))
                        })
                        .collect();
                    format!("waits in select on {}", parts.join(", "))
                }
                Wait::Join(t) => format!("waits for `{}` to finish", reg.workers[*t].name),
            };
            if deadline.is_some() {
                d.push_str(" (with a timeout)");
            } else if could_proceed(reg, wait) {
                // Taken after a grace, not for being stuck: this worker was
                // woken a moment ago and has not run yet.
                d.push_str(" — woken, about to go on");
            }
            d
        }
        Activity::Running => "is still running".to_owned(),
        Activity::AtGate => "is paused before its next operation".to_owned(),
        Activity::Sleeping(SleepReason::Work) => "is still working".to_owned(),
        Activity::Sleeping(SleepReason::Timer) => "sleeps on a timer".to_owned(),
        Activity::Done => "finished".to_owned(),
        Activity::Panicked(m) => format!("panicked: {m}"),
    };
    StuckWorker {
        worker: e.name.to_string(),
        state,
        detail,
    }
}
