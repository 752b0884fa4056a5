#![doc = include_str!("README.md")]

use std::fmt::{self, Write as _};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::lab::{Event, Lab, Receiver, Sender, Snapshot};
use crate::lessons::{
    Challenge, Expect, KnobRanges, Knobs, Lesson, Outcome, Variant, VariantKind, trail,
};
use crate::select;

/// The lesson in the catalog.
pub static LESSON: Lesson = Lesson {
    number: 4,
    slug: "rate-limiter",
    title: "Rate limiter",
    summary: "a token bucket (burst b, r per second) in front of a stage; tokens follow from the clock",
    readme: concat!(
        include_str!("README.md"),
        "\n",
        include_str!("../LAB_CHANNELS.md")
    ),
    variants: &VARIANTS,
    defaults: Knobs {
        items: 300,
        buffer: 10,
        workers: 2,
        seed: 1,
    },
    ranges: KnobRanges {
        items: 1..=10_000,
        buffer: 1..=1000,
        workers: 1..=16,
    },
    main,
    hidden_by,
    challenges: &[Challenge {
        title: "let the whole burst through before the server has taken one: `sent` full (3/3)",
        hint: "the bucket starts full, with 3 tokens, so the limiter passes 3 requests at \
               once without waiting for the clock: keep picking the clients and the \
               limiter, never the server, until `sent` shows 3/3",
        variant: "correct",
        knobs: Knobs {
            items: 6,
            buffer: 3,
            workers: 2,
            seed: 1,
        },
        reached: burst_in_sent,
    }],
};

/// The challenge: `sent` is full and the server has not taken anything.
fn burst_in_sent(snapshot: &Snapshot, _: &[Event]) -> bool {
    trail::channel(snapshot, "sent").is_some_and(|sent| {
        sent.capacity.is_some_and(|cap| cap > 0 && sent.len >= cap) && sent.received == 0
    })
}

static VARIANTS: [Variant; 5] = [
    Variant {
        name: "correct",
        kind: VariantKind::Correct,
        summary: "tokens are computed from elapsed time; `wait` sleeps until the next one is due, or until `done` closes",
        explains: "no refill thread to leak and no spinning: the bucket says exactly how long to wait, and the stage sleeps that long",
        fixed_by: None,
        expect: Expect::Clean,
    },
    Variant {
        name: "refill-never-stopped",
        kind: VariantKind::Trap,
        summary: "tokens live in a channel, topped up by a `refill` worker on a ticker that holds the limiter",
        explains: "nothing stops the ticker, and `refill` holds the limiter (so `tokens` never disconnects): it is left blocked on the full bucket when main returns: leak",
        fixed_by: Some("correct"),
        expect: Expect::Verdict("leak"),
    },
    Variant {
        name: "busy-wait",
        kind: VariantKind::Trap,
        summary: "the limiter asks for a token again and again until one is there, instead of sleeping",
        explains: "every request still passes at the right rate, but the limiter burns a core polling: the outcome counts the wasted polls",
        fixed_by: Some("correct"),
        expect: Expect::Broken,
    },
    Variant {
        name: "burst-too-large",
        kind: VariantKind::Trap,
        summary: "a channel-bucket limiter waits until the bucket holds n tokens; one request asks for 2×burst",
        explains: "the bucket never holds more than b tokens: the limiter waits for a refill that waits for room: deadlock",
        fixed_by: Some("reject-oversized"),
        expect: Expect::Verdict("deadlock"),
    },
    Variant {
        name: "reject-oversized",
        kind: VariantKind::Fix,
        summary: "the same oversized request meets the `correct` limiter: n > b fails at once with `ExceedsBurst`",
        explains: "like x/time/rate's `WaitN`: a request that can never fit is refused at once, counted, and the stage goes on",
        fixed_by: None,
        expect: Expect::Clean,
    },
];

/// The limiter's rate, in tokens per second (`rate.NewLimiter(20, b)`):
/// slow enough that the live view at 1× shows each request pass.
pub const RATE: u32 = 20;

// ---- time -------------------------------------------------------------

/// Where the limiter reads the time: the time since the clock started.
/// Injected, so tests drive it by hand ([`FakeClock`]).
pub trait Clock: Send + Sync {
    /// Time since the clock started.
    fn now(&self) -> Duration;
}

/// The lab's clock, in *lesson time* ([`Lab::now`]): it runs at the run's
/// speed factor and stands still while the run is paused, so a 20/s
/// limiter runs at 20/s of lesson time, in step with [`Lab::work`] and the
/// lab's timers, and a pause does not count as time in which tokens were
/// earned or requests passed.
pub struct LabClock {
    lab: Lab,
    /// Lesson time when the clock started.
    start: Duration,
}

impl LabClock {
    /// A clock reading zero now.
    #[must_use]
    pub fn new(lab: &Lab) -> Self {
        Self {
            lab: lab.clone(),
            start: lab.now(),
        }
    }
}

impl Clock for LabClock {
    fn now(&self) -> Duration {
        self.lab.now().saturating_sub(self.start)
    }
}

/// A clock that moves only when told: tests advance it by exact amounts.
/// Clones share the same time.
#[derive(Debug, Clone, Default)]
pub struct FakeClock {
    nanos: Arc<AtomicU64>,
}

impl FakeClock {
    /// A clock reading zero.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Moves the clock forward by `d`.
    pub fn advance(&self, d: Duration) {
        self.nanos.fetch_add(d.as_nanos() as u64, Ordering::SeqCst);
    }
}

impl Clock for FakeClock {
    fn now(&self) -> Duration {
        Duration::from_nanos(self.nanos.load(Ordering::SeqCst))
    }
}

// ---- the token bucket -------------------------------------------------

/// A request for more tokens than the bucket can ever hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExceedsBurst {
    /// Tokens asked for.
    pub n: u32,
    /// The bucket's size.
    pub burst: u32,
}

impl fmt::Display for ExceedsBurst {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "asked for {} tokens, the burst is {}",
            self.n, self.burst
        )
    }
}

impl std::error::Error for ExceedsBurst {}

/// Why [`Limiter::wait_n`] let nobody through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitError {
    /// n > burst: refused at once, without waiting.
    ExceedsBurst(ExceedsBurst),
    /// `done` closed (or the run aborted) before the tokens were due; the
    /// reserved tokens were given back.
    Cancelled,
}

impl fmt::Display for WaitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ExceedsBurst(e) => e.fmt(f),
            Self::Cancelled => f.write_str("cancelled before the tokens were due"),
        }
    }
}

impl std::error::Error for WaitError {}

/// Tokens are counted in billionths, so that time in nanoseconds times a
/// rate in tokens per second is exact: no float drift, exact tests.
const UNIT: i128 = 1_000_000_000;

/// A token bucket computed lazily from elapsed time, like
/// `golang.org/x/time/rate`: burst b, refilled at r tokens per second,
/// starting full. No thread refills it: every call first adds what the
/// elapsed time has earned.
pub struct Limiter<C: Clock> {
    rate: u32,
    burst: u32,
    /// In billionths of a token. Below zero: owed by reservations not yet due.
    tokens: i128,
    last: Duration,
    clock: C,
}

impl<C: Clock> Limiter<C> {
    /// A full bucket of `burst` tokens refilled at `rate` per second.
    pub fn new(rate: u32, burst: u32, clock: C) -> Self {
        let last = clock.now();
        Self {
            rate,
            burst,
            tokens: i128::from(burst) * UNIT,
            last,
            clock,
        }
    }

    /// The injected clock.
    pub fn clock(&self) -> &C {
        &self.clock
    }

    /// The bucket's size.
    #[must_use]
    pub fn burst(&self) -> u32 {
        self.burst
    }

    fn units_at(&self, now: Duration) -> i128 {
        // tokens(now) = min(b, tokens(last) + (now - last) * r)
        let elapsed = i128::try_from(now.saturating_sub(self.last).as_nanos()).unwrap_or(i128::MAX);
        let earned = elapsed.saturating_mul(i128::from(self.rate));
        self.tokens
            .saturating_add(earned)
            .min(i128::from(self.burst) * UNIT)
    }

    /// Tokens in the bucket at `now` (negative while reservations are owed).
    #[must_use]
    pub fn tokens_at(&self, now: Duration) -> f64 {
        self.units_at(now) as f64 / UNIT as f64
    }

    fn advance(&mut self, now: Duration) {
        self.tokens = self.units_at(now);
        self.last = self.last.max(now);
    }

    /// Takes one token if there is one at `now` (`AllowN(now, 1)`).
    pub fn allow_at(&mut self, now: Duration) -> bool {
        self.allow_n_at(now, 1)
    }

    /// Takes `n` tokens if they are all there at `now`; otherwise takes none.
    pub fn allow_n_at(&mut self, now: Duration, n: u32) -> bool {
        self.advance(now);
        let want = i128::from(n) * UNIT;
        if self.tokens >= want {
            self.tokens -= want;
            true
        } else {
            false
        }
    }

    /// Reserves `n` tokens at `now` and says how long to wait before acting
    /// on them (zero: go now). n > burst can never fit: refused at once.
    pub fn reserve_at(&mut self, now: Duration, n: u32) -> Result<Duration, ExceedsBurst> {
        if n > self.burst {
            return Err(ExceedsBurst {
                n,
                burst: self.burst,
            });
        }
        self.advance(now);
        self.tokens -= i128::from(n) * UNIT;
        let owed = (-self.tokens).max(0).unsigned_abs();
        if self.rate == 0 {
            return Ok(if owed == 0 {
                Duration::ZERO
            } else {
                Duration::MAX
            });
        }
        // Round up: after sleeping this long the tokens are really there.
        let nanos = owed.div_ceil(u128::from(self.rate));
        Ok(u64::try_from(nanos).map_or(Duration::MAX, Duration::from_nanos))
    }

    /// Gives back the `n` tokens of a reservation that will not be used (the
    /// last one made; x/time/rate's `CancelAt` also handles later ones).
    pub fn cancel_at(&mut self, now: Duration, n: u32) {
        self.advance(now);
        self.tokens = (self.tokens + i128::from(n) * UNIT).min(i128::from(self.burst) * UNIT);
    }

    /// [`allow_at`](Self::allow_at) now.
    pub fn allow(&mut self) -> bool {
        let now = self.clock.now();
        self.allow_at(now)
    }

    /// [`allow_n_at`](Self::allow_n_at) now.
    pub fn allow_n(&mut self, n: u32) -> bool {
        let now = self.clock.now();
        self.allow_n_at(now, n)
    }

    /// [`reserve_at`](Self::reserve_at) now.
    pub fn reserve(&mut self, n: u32) -> Result<Duration, ExceedsBurst> {
        let now = self.clock.now();
        self.reserve_at(now, n)
    }

    /// Blocks until one token is due ([`wait_n`](Self::wait_n) with n = 1).
    pub fn wait(&mut self, lab: &Lab, done: &Receiver<()>) -> Result<(), WaitError> {
        self.wait_n(lab, done, 1)
    }

    /// Blocks until `n` tokens are due, like x/time/rate's `WaitN(ctx, n)`:
    /// n > burst fails at once; a closed `done` (Go: a cancelled ctx) fails
    /// at once or wakes the wait, and the reservation is given back.
    pub fn wait_n(&mut self, lab: &Lab, done: &Receiver<()>, n: u32) -> Result<(), WaitError> {
        if n > self.burst {
            return Err(WaitError::ExceedsBurst(ExceedsBurst {
                n,
                burst: self.burst,
            }));
        }
        if cancelled(done) {
            return Err(WaitError::Cancelled);
        }
        let delay = self.reserve(n).map_err(WaitError::ExceedsBurst)?;
        if delay.is_zero() {
            return Ok(());
        }
        // A wait that would outlast any run (rate 0) is a timer that never fires.
        let timer = if delay > NEVER_DUE {
            lab.never()
        } else {
            lab.after(delay)
        };
        let due = select! {
            recv(timer) -> fired => fired.is_ok(),
            recv(done) -> _ => false,
        };
        if due {
            Ok(())
        } else {
            self.cancel_at(self.clock.now(), n);
            Err(WaitError::Cancelled)
        }
    }
}

/// Longer than any run: such a wait gets `lab.never()` instead of a timer.
const NEVER_DUE: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// Go's `select { case <-ctx.Done(): ... default: }`: closed, or a message
/// on it, means stop.
fn cancelled(done: &Receiver<()>) -> bool {
    !matches!(done.try_recv(), Err(crate::lab::TryRecvError::Empty))
}

// ---- the trap limiter: tokens in a channel, a refill thread -----------

/// The naive limiter of the traps: the bucket is a bounded channel of
/// tokens, topped up by a `refill` worker on a ticker. The worker holds the
/// limiter (Go: the goroutine captures `l`), so `tokens` never disconnects.
pub struct ChannelLimiter {
    tokens_tx: Sender<()>,
    tokens: Receiver<()>,
    refilled_tx: Sender<()>,
    refilled: Receiver<()>,
}

impl ChannelLimiter {
    /// A full bucket of `burst` tokens and a `refill` worker adding one
    /// every 1/`rate` seconds, forever.
    #[must_use]
    pub fn start(lab: &Lab, rate: u32, burst: usize) -> Arc<Self> {
        let (tokens_tx, tokens) = lab.bounded("tokens", burst);
        let (refilled_tx, refilled) = lab.bounded("refilled", 1);
        for _ in 0..burst {
            let _ = tokens_tx.try_send(());
        }
        let limiter = Arc::new(Self {
            tokens_tx,
            tokens,
            refilled_tx,
            refilled,
        });
        let me = Arc::clone(&limiter);
        let ticker = lab.tick(Duration::from_secs(1) / rate.max(1));
        lab.go("refill", move || {
            for _ in &ticker {
                // Blocks while the bucket is full. It can fail only when
                // the run aborts: `me` holds a Receiver of `tokens`.
                if me.tokens_tx.send(()).is_err() {
                    return;
                }
                let _ = me.refilled_tx.try_send(()); // ring: a token was added
            }
        });
        limiter
    }

    /// Takes one token, waiting for the refill if the bucket is empty.
    #[must_use]
    pub fn acquire(&self) -> bool {
        self.tokens.recv().is_ok()
    }

    /// Takes `n` tokens at once, or none: waits until the bucket holds `n`.
    /// With n > burst the bucket never gets there.
    #[must_use]
    pub fn acquire_n(&self, n: usize) -> bool {
        while self.tokens.len() < n {
            if self.refilled.recv().is_err() {
                return false; // the run aborted
            }
        }
        (0..n).all(|_| self.tokens.recv().is_ok())
    }
}

// ---- the pipeline -----------------------------------------------------

/// One request: an id and the tokens it costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request {
    /// 0, 1, ... in the order the clients were given them.
    pub id: u64,
    /// Tokens this request needs (1, or 2×burst for the oversized one).
    pub cost: u32,
}

/// A request the limiter let through, and when (the limiter's clock).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pass {
    /// The request's id.
    pub id: u64,
    /// Lesson time since the limiter started.
    pub at: Duration,
}

/// What the stage did with the requests.
#[derive(Debug, Clone, Default)]
pub struct Served {
    /// What reached the server, in order.
    pub passed: Vec<Pass>,
    /// Requests refused with `ExceedsBurst`.
    pub refused: Vec<Request>,
    /// Times the busy-wait limiter asked for a token and got none.
    pub polls: u64,
    /// True when a verdict aborted the run before the stage finished: the
    /// counts are what happened up to then.
    pub aborted: bool,
}

/// What the limiter and the server record as they go. It lives outside
/// the workers' return values because a verdict aborts the run and fails
/// every join: what happened before it must still be counted.
#[derive(Debug, Default)]
struct Tally {
    /// Written by the server: every request that reached it.
    passed: Mutex<Vec<Pass>>,
    /// Written by the limiter: requests refused with `ExceedsBurst`.
    refused: Mutex<Vec<Request>>,
    /// Written by the busy-wait limiter: polls that found no token.
    polls: AtomicU64,
}

fn locked<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Which request is oversized in `burst-too-large` and `reject-oversized`.
fn oversized_id(items: u64) -> u64 {
    items / 2
}

/// `client#1..N` share out the requests (client w takes ids w-1, w-1+N, ...)
/// and send them on `requests` as fast as the channel takes them: the limiter
/// always has work waiting, so every request after the first `burst` waits for
/// its token.
fn clients(lab: &Lab, requests_tx: &Sender<Request>, knobs: &Knobs, oversized: Option<u32>) {
    let n = knobs.workers.max(1) as u64;
    for w in 1..=n {
        let out = requests_tx.clone();
        let items = knobs.items;
        lab.go(format!("client#{w}"), move || {
            for id in (w - 1..items).step_by(n as usize) {
                let cost = match oversized {
                    Some(big) if id == oversized_id(items) => big,
                    _ => 1,
                };
                if out.send(Request { id, cost }).is_err() {
                    return;
                }
            }
        });
    }
}

/// Runs the stage for `variant` and reports what passed, when.
#[must_use]
pub fn serve(lab: &Lab, variant: &str, knobs: &Knobs) -> Served {
    let burst = knobs.buffer.max(1);
    let burst_u32 = u32::try_from(burst).unwrap_or(u32::MAX);
    let oversized =
        matches!(variant, "burst-too-large" | "reject-oversized").then_some(2 * burst_u32);
    // Go: ctx, cancel := context.WithCancel(...); defer cancel()
    let (done_tx, done) = lab.bounded::<()>("done", 0);
    let (requests_tx, requests) = lab.bounded::<Request>("requests", burst);
    clients(lab, &requests_tx, knobs, oversized);
    drop(requests_tx);

    let limiter = match variant {
        "refill-never-stopped" => Stage::Channel(ChannelLimiter::start(lab, RATE, burst)),
        "burst-too-large" => Stage::ChannelN(ChannelLimiter::start(lab, RATE, burst)),
        "busy-wait" => Stage::Spin(Limiter::new(RATE, burst_u32, LabClock::new(lab))),
        _ => Stage::Lazy(Limiter::new(RATE, burst_u32, LabClock::new(lab))),
    };
    let tally = Arc::new(Tally::default());
    let (sent_tx, sent) = lab.bounded::<Pass>("sent", burst);
    let (stage_lab, stage_tally) = (lab.clone(), Arc::clone(&tally));
    let limiter = lab.go("limiter", move || {
        limiter.run(&stage_lab, &requests, &sent_tx, &done, &stage_tally);
    });
    let server_tally = Arc::clone(&tally);
    let server = lab.go("server", move || {
        for pass in &sent {
            locked(&server_tally.passed).push(pass);
        }
    });

    // A verdict (burst-too-large's deadlock) fails both joins; the tally
    // still holds what the workers did before it.
    let limiter_finished = limiter.join().is_ok();
    let server_finished = server.join().is_ok();
    drop(done_tx); // Go: cancel()
    Served {
        passed: std::mem::take(&mut *locked(&tally.passed)),
        refused: std::mem::take(&mut *locked(&tally.refused)),
        polls: tally.polls.load(Ordering::SeqCst),
        aborted: !(limiter_finished && server_finished) || lab.is_aborted(),
    }
}

/// The limiter worker, in its four versions.
enum Stage {
    /// `correct`, `reject-oversized`: tokens from the clock, sleep until due.
    Lazy(Limiter<LabClock>),
    /// `busy-wait`: tokens from the clock, but polled in a loop.
    Spin(Limiter<LabClock>),
    /// `refill-never-stopped`: tokens from a channel and a refill thread.
    Channel(Arc<ChannelLimiter>),
    /// `burst-too-large`: the same, taking n tokens at once.
    ChannelN(Arc<ChannelLimiter>),
}

impl Stage {
    fn run(
        self,
        lab: &Lab,
        requests: &Receiver<Request>,
        out: &Sender<Pass>,
        done: &Receiver<()>,
        tally: &Tally,
    ) {
        let clock = LabClock::new(lab);
        match self {
            Self::Lazy(mut lim) => {
                for req in requests {
                    match lim.wait_n(lab, done, req.cost) {
                        Ok(()) => {}
                        Err(WaitError::ExceedsBurst(_)) => {
                            locked(&tally.refused).push(req);
                            continue;
                        }
                        Err(WaitError::Cancelled) => break,
                    }
                    if out
                        .send(Pass {
                            id: req.id,
                            at: lim.clock().now(),
                        })
                        .is_err()
                    {
                        break;
                    }
                }
            }
            Self::Spin(mut lim) => {
                'requests: for req in requests {
                    while !lim.allow_n(req.cost) {
                        // No sleep: spins a core until the next token,
                        // checking `done` each time round (Go: `select {
                        // case <-ctx.Done(): return; default: }`), which is
                        // also what a paused run holds it at.
                        if cancelled(done) {
                            break 'requests;
                        }
                        tally.polls.fetch_add(1, Ordering::Relaxed);
                    }
                    if out
                        .send(Pass {
                            id: req.id,
                            at: lim.clock().now(),
                        })
                        .is_err()
                    {
                        break;
                    }
                }
            }
            Self::Channel(lim) => {
                for req in requests {
                    if !lim.acquire()
                        || out
                            .send(Pass {
                                id: req.id,
                                at: clock.now(),
                            })
                            .is_err()
                    {
                        break;
                    }
                }
            }
            Self::ChannelN(lim) => {
                for req in requests {
                    if !lim.acquire_n(req.cost as usize)
                        || out
                            .send(Pass {
                                id: req.id,
                                at: clock.now(),
                            })
                            .is_err()
                    {
                        break;
                    }
                }
            }
        }
    }
}

fn main(lab: &Lab, variant: &Variant, knobs: &Knobs) -> Outcome {
    let served = serve(lab, variant.name, knobs);
    outcome(variant.name, knobs, &served)
}

/// Which knobs hide which trap. `refill-never-stopped` shows with every
/// value (its ticker never ends, so `refill` outlives main whatever the
/// count), and so does `burst-too-large` (the bucket holds at most b, the
/// batch asks for 2b). `busy-wait` needs a request that waits for a token:
/// with no more requests than the burst, the full bucket serves them all.
fn hidden_by(variant: &Variant, knobs: &Knobs) -> Option<String> {
    let burst = knobs.buffer.max(1) as u64;
    match variant.name {
        "busy-wait" if knobs.items <= burst => {
            let mut why = format!(
                "hidden by these knobs: with --items {} ≤ --buffer {burst} the full bucket lets \
                 every request through at once, so the limiter never waits and has nothing to \
                 spin on; try --items {}",
                knobs.items,
                burst + 1
            );
            if knobs.items >= 2 {
                let _ = write!(why, " or --buffer {}", knobs.items - 1);
            }
            Some(why)
        }
        _ => None,
    }
}

fn outcome(variant: &str, knobs: &Knobs, served: &Served) -> Outcome {
    let items = knobs.items;
    let passed = served.passed.len() as u64;
    let refused = served.refused.len() as u64;
    let burst = knobs.buffer.max(1);
    let mut outcome = Outcome {
        items_in: items,
        items_out: passed,
        lost: items.saturating_sub(passed + refused),
        dropped: refused,
        ..Outcome::default()
    };
    if let Some(last) = served.passed.last() {
        let secs = last.at.as_secs_f64();
        let after_burst = passed.saturating_sub(burst as u64);
        let passed_n = crate::lessons::count(passed, "request", "requests");
        let mut note = format!("{passed_n} passed in {secs:.2} s of lesson time");
        if after_burst > 0 && secs > 0.0 {
            let rate = after_burst as f64 / secs;
            let _ = write!(
                note,
                ": {burst} on the full bucket, then {rate:.1}/s (limit {RATE}/s: at most \
                 {burst} + {RATE}·t by time t)"
            );
        }
        outcome.notes.push(note);
    }
    for req in &served.refused {
        outcome.by_design.push(format!(
            "request #{} refused by design: it asked for {} tokens and the burst is {burst}, \
             so it could never fit (`ExceedsBurst`, at once, without waiting)",
            req.id, req.cost
        ));
    }
    let never = items.saturating_sub(passed + refused);
    if served.aborted {
        outcome.notes.push(format!(
            "the run was aborted by the verdict after {passed} of {items} requests had reached \
             the server"
        ));
    } else if never > 0 {
        outcome
            .problems
            .push(format!("{never} of {items} requests never passed"));
    }
    if variant == "busy-wait" || served.polls > 0 {
        outcome.notes.push(format!(
            "{} of the limiter's asks for a token found none",
            served.polls
        ));
        if served.polls > 0 {
            outcome.problems.push(format!(
                "CPU burned: the limiter polled {} times for {items} requests instead of \
                 sleeping; the bucket knew when the next token was due",
                served.polls
            ));
        }
    }
    outcome
}
