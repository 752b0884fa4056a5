#![doc = include_str!("README.md")]

use std::time::Duration;

use crate::lab::{Event, EventKind, Lab, Receiver, RecvError, Sender, Snapshot, in_words};
use crate::lessons::{
    Challenge, Expect, KnobRanges, Knobs, Lesson, Outcome, Variant, VariantKind, count,
};
use crate::{select, select_biased};

/// The lesson in the catalog.
pub static LESSON: Lesson = Lesson {
    number: 7,
    slug: "select-timeouts",
    title: "Select, timeouts and heartbeats",
    summary: "wait for answers until a deadline, then move on; one timer for the whole wait; heartbeats tell a quiet worker from a stuck one",
    readme: concat!(
        include_str!("README.md"),
        "\n",
        include_str!("../LAB_CHANNELS.md")
    ),
    variants: &VARIANTS,
    defaults: Knobs {
        items: 12,
        buffer: 1,
        workers: 3,
        seed: 1,
    },
    ranges: KnobRanges {
        items: 2..=100,
        buffer: 1..=16,
        workers: 1..=16,
    },
    main,
    hidden_by,
    challenges: &[Challenge {
        title: "make main hear replica#2 before replica#1 in query 1",
        hint: "with seed 17 both replicas of query 1 answer after exactly 300 ms: at that instant \
               both sends can go, and which one lands first in `answers#1` is your pick, not \
               the replicas' numbers",
        variant: "correct",
        knobs: Knobs {
            items: 2,
            buffer: 1,
            workers: 3,
            seed: 17,
        },
        reached: replica_2_answers_query_1_first,
    }],
};

/// The challenge: the first answer sent on `answers#1` is replica#2's.
fn replica_2_answers_query_1_first(_: &Snapshot, events: &[Event]) -> bool {
    events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::Sent {
                worker, channel, ..
            } if channel == "answers#1" => Some(worker == "replica#2"),
            _ => None,
        })
        .unwrap_or(false)
}

static VARIANTS: [Variant; 7] = [
    Variant {
        name: "correct",
        kind: VariantKind::Correct,
        summary: "each query waits for its replicas until one 1 s deadline; the session has one 9.5 s timer; the feed's heartbeat is watched",
        explains: "a blocking select on the answers and one deadline per query; `answers` has a slot for every replica, so a late one sends and goes; one timer for the whole session; silence from the feed gets noticed",
        fixed_by: None,
        expect: Expect::Clean,
    },
    Variant {
        name: "timeout-leaks-worker",
        kind: VariantKind::Trap,
        summary: "Go ported line by line: every replica holds the query's channel (both ends, as a Go closure holds `c`), and it is a rendezvous",
        explains: "main moves on at the deadline; the slow replica's send on a rendezvous nobody will ever receive from waits forever: one leaked worker per query",
        fixed_by: Some("buffered-reply"),
        expect: Expect::Verdict("leak"),
    },
    Variant {
        name: "buffered-reply",
        kind: VariantKind::Fix,
        summary: "the same port, but `answers` has room for every replica (the Go blog's \"space for 1 value\", per sender)",
        explains: "a late replica's send lands in the buffer and it returns; nobody needs to read it (Go: \"the goroutine doesn't know (or care) whether the value is received\")",
        fixed_by: None,
        expect: Expect::Clean,
    },
    Variant {
        name: "busy-default",
        kind: VariantKind::Trap,
        summary: "main waits for answers with `select! { recv(answers) .., default => .. }` in a loop, checking the clock itself",
        explains: "every answer and every deadline is still met, but main spins instead of sleeping: the outcome counts the polls that found nothing",
        fixed_by: Some("correct"),
        expect: Expect::Broken,
    },
    Variant {
        name: "deadline-reset-per-message",
        kind: VariantKind::Trap,
        summary: "the session's 9.5 s timer is made inside the loop: `recv(lab.after(SESSION))`",
        explains: "a new timer starts on every pass of the loop, that is with every message main takes (a query, or a heartbeat that finds it idle): while they trickle in, it never fires and the session runs over",
        fixed_by: Some("correct"),
        expect: Expect::Broken,
    },
    Variant {
        name: "silent-hang",
        kind: VariantKind::Trap,
        summary: "the feed gets stuck on a call that never answers; it sends no heartbeat and main watches for none",
        explains: "nothing fails and nothing deadlocks: main just waits out its session, and nobody says which worker stopped or why",
        fixed_by: Some("watchdog"),
        expect: Expect::Broken,
    },
    Variant {
        name: "watchdog",
        kind: VariantKind::Fix,
        summary: "the same stuck feed, but it beats on a 0.5 s `tick` while healthy, and main names it after 1.5 s of silence",
        explains: "a stuck feed stops beating; 1.5 s after main last heard from it (a query taken, a beat), main's `default` arm fires, names `feed` and cancels it, seconds after the hang instead of never",
        fixed_by: None,
        expect: Expect::Clean,
    },
];

/// How long main waits for the answers to one query: one deadline for all of them.
pub const DEADLINE: Duration = Duration::from_secs(1);
/// The session takes no new query after this much lesson time.
pub const SESSION: Duration = Duration::from_millis(9_500);
/// The feed's heartbeat period.
pub const PULSE: Duration = Duration::from_millis(500);
/// Main names the feed after this long without a query or a heartbeat
/// (three missed beats).
pub const SILENCE: Duration = Duration::from_millis(1_500);
/// A query taken within this of the session's end is its timer firing a
/// little late in a free-running run (timers there are real threads), not a
/// run-over: queries come a second apart, so a run-over is far later.
pub const TIMER_LAG: Duration = Duration::from_millis(250);
/// How long the slow replica (the last one) takes: past the deadline.
pub const SLOW: Duration = Duration::from_millis(1_500);

/// The queries that come before the session's time is up: every query
/// waits out its deadline (the slow replica never makes it), so query q
/// is taken at (q - 1) s, and those taken before 9.5 s are the first 10.
#[must_use]
pub fn queries_in_a_session() -> u64 {
    let (session, deadline) = (SESSION.as_millis(), DEADLINE.as_millis());
    session.div_ceil(deadline) as u64
}

/// How long replica `b` takes to answer query `q`: the last replica is
/// the slow one; the others take 200, 300, 400 or 500 ms (from the seed).
/// Replicas on the same 100 ms step answer at the same instant.
#[must_use]
pub fn answer_time(knobs: &Knobs, query: u64, replica: usize) -> Duration {
    if replica == knobs.workers {
        return SLOW;
    }
    let mut rng = fastrand::Rng::with_seed(
        knobs
            .seed
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .wrapping_add(query * 1_000 + replica as u64),
    );
    Duration::from_millis(200 + 100 * rng.u64(0..=3))
}

/// In the hang variants, the feed sends this many queries, then gets stuck.
#[must_use]
pub fn hang_after(items: u64) -> u64 {
    (items / 3).clamp(1, 5)
}

/// One replica's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answer {
    /// The query it answers.
    pub query: u64,
    /// The replica (`replica#n`).
    pub replica: usize,
}

/// One query as main served it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Served {
    /// The query's number.
    pub query: u64,
    /// When main took it from the feed (lesson time).
    pub taken_at: Duration,
    /// The replicas whose answers came before the deadline, in arrival order.
    pub answers: Vec<usize>,
    /// Polls that found nothing (`busy-default` only).
    pub polls: u64,
    /// The newest heartbeat main heard while it waited for the answers:
    /// when the feed last said "still here".
    pub last_beat: Option<Duration>,
}

/// Why main's session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEnd {
    /// The feed sent every query and closed `queries`.
    FeedDone,
    /// The session's timer fired.
    TimeUp,
    /// No query and no heartbeat for [`SILENCE`]: main named the feed.
    FeedSilent {
        /// When main last heard from the feed: a heartbeat's time, or when main took the last query.
        last_sign: Duration,
        /// When main named it.
        named_at: Duration,
    },
}

/// How the feed ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedEnd {
    /// It sent every query.
    AllSent,
    /// `done` closed while it was offering query `sent + 1`.
    Canceled {
        /// Queries it had sent.
        sent: u64,
    },
    /// It got stuck after sending `sent` queries (it left when `done` closed).
    Hung {
        /// Queries it had sent.
        sent: u64,
        /// When it got stuck.
        since: Duration,
    },
}

/// What a session did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Queries the feed had to send.
    pub offered: u64,
    /// The queries main served, in order.
    pub served: Vec<Served>,
    /// Why the session ended.
    pub end: SessionEnd,
    /// When main's session loop started (lesson time).
    pub started_at: Duration,
    /// When it ended.
    pub ended_at: Duration,
    /// How the feed ended (`None` if the run was aborted first).
    pub feed: Option<FeedEnd>,
    /// Replicas per query.
    pub replicas: usize,
}

/// How a query's replicas are given the channel they answer on.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Reply {
    /// Rust's shape: each replica gets a Sender; a slot per replica.
    Sender,
    /// Go's shape, ported line by line: each replica holds the channel
    /// value (both ends), as a Go closure holds `c`; `room` slots.
    GoChannel { room: bool },
}

/// How main waits for one query's answers.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Wait {
    /// A blocking select on the answers and one deadline.
    Select,
    /// A select with a default, in a loop, checking the clock.
    Poll,
}

/// How main runs its session.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Loop {
    /// One session timer, the heartbeat watched.
    Watched,
    /// The session timer made inside the loop (the heartbeat watched).
    TimerPerMessage,
    /// One session timer, no heartbeat, no watching.
    Unwatched,
}

/// One variant's shape: the reply channel, the wait, the loop, and
/// whether the feed gets stuck.
#[derive(Clone, Copy)]
struct Shape {
    reply: Reply,
    wait: Wait,
    session: Loop,
    hang: bool,
}

const CORRECT: Shape = Shape {
    reply: Reply::Sender,
    wait: Wait::Select,
    session: Loop::Watched,
    hang: false,
};

/// A Go channel, ported: one value with both ends, cloned into every
/// worker that uses it, as a Go closure captures `c`. While any clone
/// lives the channel has a Receiver, so, as in Go, a send that nobody
/// will ever receive waits forever. (Rust's own shape hands a worker only
/// the Sender: see `ask_replicas`.)
#[derive(Clone)]
pub struct GoChan<T> {
    tx: Sender<T>,
    rx: Receiver<T>,
}

impl<T> GoChan<T> {
    /// Go: `make(chan T, cap)`.
    pub fn new(lab: &Lab, name: impl Into<String>, cap: usize) -> Self {
        let (tx, rx) = lab.bounded(name, cap);
        Self { tx, rx }
    }

    /// Go: `c <- v`.
    pub fn send(&self, v: T) -> Result<(), crate::lab::SendError<T>> {
        self.tx.send(v)
    }

    /// The receiving end, for a select (Go: `case v := <-c`).
    #[must_use]
    pub fn receiver(&self) -> &Receiver<T> {
        &self.rx
    }
}

/// Asks every replica for query `q`; returns where their answers come.
fn ask_replicas(lab: &Lab, knobs: &Knobs, q: u64, reply: Reply) -> Receiver<Answer> {
    let name = format!("answers#{q}");
    let go_chan = match reply {
        Reply::Sender => None,
        Reply::GoChannel { room: true } => Some(GoChan::new(lab, name.clone(), knobs.workers)),
        Reply::GoChannel { room: false } => Some(GoChan::new(lab, name.clone(), 0)), // make(chan Answer)
    };
    let (tx, answers) = if let Some(c) = &go_chan {
        (None, c.receiver().clone())
    } else {
        let (tx, rx) = lab.bounded::<Answer>(name, knobs.workers); // a slot per replica
        (Some(tx), rx)
    };
    for b in 1..=knobs.workers {
        let took = answer_time(knobs, q, b);
        let answer = Answer {
            query: q,
            replica: b,
        };
        let worker_lab = lab.clone();
        if let Some(tx) = &tx {
            let tx = tx.clone(); // Rust's shape: this worker can only send
            lab.go(format!("replica#{b}"), move || {
                worker_lab.work(took);
                let _ = tx.send(answer); // fails at once if main has moved on
            });
        } else if let Some(c) = &go_chan {
            let c = c.clone(); // Go's shape: `go func() { c <- search(q) }()`
            lab.go(format!("replica#{b}"), move || {
                worker_lab.work(took);
                let _ = c.send(answer); // on a rendezvous: waits for a receive
            });
        }
    }
    answers
}

/// What main heard while it waited for one query's answers.
#[derive(Default)]
struct Heard {
    answers: Vec<usize>,
    polls: u64,
    last_beat: Option<Duration>,
}

impl Heard {
    /// What a receive on `beats` brought: a heartbeat (the feed was alive
    /// then), or the feed is gone, and `beats`, closed, would be ready on
    /// every pass: stop listening, crossbeam's way (`never()`).
    fn beat(
        &mut self,
        lab: &Lab,
        beat: Result<Duration, RecvError>,
        beats: &mut Receiver<Duration>,
    ) {
        match beat {
            Ok(at) => self.last_beat = self.last_beat.max(Some(at)),
            Err(RecvError) => *beats = lab.never(),
        }
    }
}

/// Waits for `n` answers until one deadline, then moves on; hears the
/// feed's heartbeats meanwhile (main's watch goes on while it waits).
fn gather(lab: &Lab, answers: &Receiver<Answer>, n: usize, beats: &Receiver<Duration>) -> Heard {
    let deadline = lab.after(DEADLINE); // one timer for every answer of this query
    let mut heard = Heard::default();
    let mut beats = beats.clone();
    while heard.answers.len() < n {
        select! {
            recv(answers) -> a => match a {
                Ok(a) => heard.answers.push(a.replica),
                Err(_) => break,
            },
            recv(beats) -> beat => heard.beat(lab, beat, &mut beats), // "still here"
            recv(deadline) -> _ => break, // moving on: the rest are late
        }
    }
    heard
}

/// The trap `busy-default`: the same wait as a poll loop.
fn gather_polling(
    lab: &Lab,
    answers: &Receiver<Answer>,
    n: usize,
    beats: &Receiver<Duration>,
) -> Heard {
    let until = lab.now() + DEADLINE;
    let mut heard = Heard::default();
    let mut beats = beats.clone();
    while heard.answers.len() < n {
        select! {
            recv(answers) -> a => match a {
                Ok(a) => heard.answers.push(a.replica),
                Err(_) => break,
            },
            recv(beats) -> beat => heard.beat(lab, beat, &mut beats),
            default => {
                if lab.now() >= until {
                    break;
                }
                heard.polls += 1; // nothing there: ask again at once
            }
        }
    }
    heard
}

/// One query: ask, wait (hearing the feed's heartbeats), move on.
fn serve_query(
    lab: &Lab,
    knobs: &Knobs,
    q: u64,
    shape: Shape,
    beats: &Receiver<Duration>,
) -> Served {
    let taken_at = lab.now();
    let answers = ask_replicas(lab, knobs, q, shape.reply);
    let heard = match shape.wait {
        Wait::Select => gather(lab, &answers, knobs.workers, beats),
        Wait::Poll => gather_polling(lab, &answers, knobs.workers, beats),
    };
    Served {
        query: q,
        taken_at,
        answers: heard.answers,
        polls: heard.polls,
        last_beat: heard.last_beat,
    }
}

/// The feed's channels.
struct FeedEnds {
    queries: Sender<u64>,
    /// `None`: the feed sends no heartbeat.
    beats: Option<Sender<Duration>>,
    done: Receiver<()>,
    /// Where the stuck feed waits: a call that never answers.
    upstream: Option<Receiver<u64>>,
}

/// The feed: sends queries `1..=n`, beating on its own ticker while it
/// waits for main to take one. With `upstream` it gets stuck after
/// [`hang_after`] queries, in a call that is outside its heartbeat loop.
fn feed(lab: &Lab, n: u64, ends: &FeedEnds) -> FeedEnd {
    // No heartbeat: an arm that never fires, crossbeam's way to switch one off.
    let pulse = match ends.beats {
        Some(_) => lab.tick(PULSE),
        None => lab.never(),
    };
    for q in 1..=n {
        if let Some(upstream) = &ends.upstream
            && q - 1 == hang_after(n)
        {
            let since = lab.now();
            // Stuck: the call never returns, and no heartbeat goes out in here.
            select! {
                recv(upstream) -> _ => {},
                recv(ends.done) -> _ => {},
            }
            return FeedEnd::Hung { sent: q - 1, since };
        }
        loop {
            select! {
                recv(ends.done) -> _ => return FeedEnd::Canceled { sent: q - 1 },
                send(ends.queries, q) -> sent => {
                    if sent.is_err() {
                        return FeedEnd::Canceled { sent: q - 1 };
                    }
                    break;
                }
                recv(pulse) -> _ => {
                    if let Some(beats) = &ends.beats {
                        // Never waits: a full `beats` still holds a beat main has
                        // not taken, and this newer one is dropped.
                        let _ = beats.try_send(lab.now());
                    }
                }
            }
        }
    }
    FeedEnd::AllSent
}

/// Main's loop with one timer for the whole session and the heartbeat
/// watched: a query, a beat, the session's end, or silence.
// `select_biased!` expands a `default` arm to an if/else; a `break` in it
// trips clippy's redundant_else inside the macro.
#[allow(clippy::redundant_else)]
fn watched(
    lab: &Lab,
    queries: &Receiver<u64>,
    beats: &Receiver<Duration>,
    mut serve: impl FnMut(u64) -> Served,
) -> (Vec<Served>, SessionEnd) {
    let time_up = lab.after(SESSION); // made once: the whole session's budget
    let mut last_sign = lab.now();
    let mut served = Vec::new();
    let end = loop {
        // Biased: once the session is over, that wins over a waiting query.
        select_biased! {
            recv(time_up) -> _ => break SessionEnd::TimeUp,
            recv(queries) -> q => match q {
                Ok(q) => {
                    last_sign = lab.now();
                    let query = serve(q);
                    last_sign = last_sign.max(query.last_beat.unwrap_or_default());
                    served.push(query);
                }
                Err(_) => break SessionEnd::FeedDone,
            },
            recv(beats) -> beat => {
                if let Ok(at) = beat {
                    last_sign = last_sign.max(at); // alive, just nothing to send
                }
            }
            // A timer per pass on purpose: it measures silence, what is left
            // of it since main last heard from the feed (a query taken, or a
            // beat, in `gather` too).
            default(silence_left(lab, last_sign)) => {
                break SessionEnd::FeedSilent { last_sign, named_at: lab.now() }
            }
        }
    };
    (served, end)
}

/// How much longer main may hear nothing before it names the feed: the
/// rest of [`SILENCE`] since `last_sign`, when main last heard from it.
fn silence_left(lab: &Lab, last_sign: Duration) -> Duration {
    SILENCE.saturating_sub(lab.now().saturating_sub(last_sign))
}

/// The trap `deadline-reset-per-message`: the session's timer is made in
/// the loop, so every message starts a new one.
// `select_biased!` expands a `default` arm to an if/else; a `break` in it
// trips clippy's redundant_else inside the macro.
#[allow(clippy::redundant_else)]
fn timer_per_message(
    lab: &Lab,
    queries: &Receiver<u64>,
    beats: &Receiver<Duration>,
    mut serve: impl FnMut(u64) -> Served,
) -> (Vec<Served>, SessionEnd) {
    let mut last_sign = lab.now();
    let mut served = Vec::new();
    let end = loop {
        select_biased! {
            recv(lab.after(SESSION)) -> _ => break SessionEnd::TimeUp, // a new 9.5 s every pass
            recv(queries) -> q => match q {
                Ok(q) => {
                    last_sign = lab.now();
                    let query = serve(q);
                    last_sign = last_sign.max(query.last_beat.unwrap_or_default());
                    served.push(query);
                }
                Err(_) => break SessionEnd::FeedDone,
            },
            recv(beats) -> beat => {
                if let Ok(at) = beat {
                    last_sign = last_sign.max(at);
                }
            }
            default(silence_left(lab, last_sign)) => {
                break SessionEnd::FeedSilent { last_sign, named_at: lab.now() }
            }
        }
    };
    (served, end)
}

/// The trap `silent-hang`: one session timer, and nothing else to hear.
fn unwatched(
    lab: &Lab,
    queries: &Receiver<u64>,
    mut serve: impl FnMut(u64) -> Served,
) -> (Vec<Served>, SessionEnd) {
    let time_up = lab.after(SESSION);
    let mut served = Vec::new();
    let end = loop {
        select_biased! {
            recv(time_up) -> _ => break SessionEnd::TimeUp,
            recv(queries) -> q => match q {
                Ok(q) => served.push(serve(q)),
                Err(_) => break SessionEnd::FeedDone,
            },
        }
    };
    (served, end)
}

/// A whole session: start the feed, take queries until the session ends,
/// cancel the feed, wait for it.
fn session(lab: &Lab, knobs: &Knobs, shape: Shape) -> Session {
    let n = knobs.items;
    let (queries_tx, queries) = lab.bounded::<u64>("queries", knobs.buffer);
    let (done_tx, done) = lab.bounded::<()>("done", 0); // nobody sends: dropping it is the cancel
    let heartbeat = shape.session != Loop::Unwatched;
    let (beats_tx, beats) = if heartbeat {
        let (tx, rx) = lab.bounded::<Duration>("beats", 1);
        (Some(tx), rx)
    } else {
        (None, lab.never()) // no heartbeat: nothing to hear
    };
    // The call the stuck feed waits on: main holds its only Sender and never sends.
    let (stalled, upstream) = if shape.hang {
        let (tx, rx) = lab.bounded::<u64>("upstream", 0);
        (Some(tx), Some(rx))
    } else {
        (None, None)
    };
    let ends = FeedEnds {
        queries: queries_tx,
        beats: beats_tx,
        done,
        upstream,
    };
    let feed_lab = lab.clone();
    let feeder = lab.go("feed", move || feed(&feed_lab, n, &ends));

    let serve = |q| serve_query(lab, knobs, q, shape, &beats);
    let started_at = lab.now();
    let (served, end) = match shape.session {
        Loop::Watched => watched(lab, &queries, &beats, serve),
        Loop::TimerPerMessage => timer_per_message(lab, &queries, &beats, serve),
        Loop::Unwatched => unwatched(lab, &queries, serve),
    };
    let ended_at = lab.now();
    drop(done_tx); // Go: cancel(): the feed's `done` arm fires
    let feed_end = feeder.join().ok();
    drop(stalled);
    Session {
        offered: n,
        served,
        end,
        started_at,
        ended_at,
        feed: feed_end,
        replicas: knobs.workers,
    }
}

/// The variant `correct`.
pub fn correct(lab: &Lab, knobs: &Knobs) -> Session {
    session(lab, knobs, CORRECT)
}

/// The trap `timeout-leaks-worker`.
pub fn timeout_leaks_worker(lab: &Lab, knobs: &Knobs) -> Session {
    let reply = Reply::GoChannel { room: false };
    session(lab, knobs, Shape { reply, ..CORRECT })
}

/// The fix `buffered-reply`.
pub fn buffered_reply(lab: &Lab, knobs: &Knobs) -> Session {
    let reply = Reply::GoChannel { room: true };
    session(lab, knobs, Shape { reply, ..CORRECT })
}

/// The trap `busy-default`.
pub fn busy_default(lab: &Lab, knobs: &Knobs) -> Session {
    let wait = Wait::Poll;
    session(lab, knobs, Shape { wait, ..CORRECT })
}

/// The trap `deadline-reset-per-message`.
pub fn deadline_reset_per_message(lab: &Lab, knobs: &Knobs) -> Session {
    let session_loop = Loop::TimerPerMessage;
    session(
        lab,
        knobs,
        Shape {
            session: session_loop,
            ..CORRECT
        },
    )
}

/// The trap `silent-hang`.
pub fn silent_hang(lab: &Lab, knobs: &Knobs) -> Session {
    let shape = Shape {
        session: Loop::Unwatched,
        hang: true,
        ..CORRECT
    };
    session(lab, knobs, shape)
}

/// The fix `watchdog`.
pub fn watchdog(lab: &Lab, knobs: &Knobs) -> Session {
    session(
        lab,
        knobs,
        Shape {
            hang: true,
            ..CORRECT
        },
    )
}

fn main(lab: &Lab, variant: &Variant, knobs: &Knobs) -> Outcome {
    let s = match variant.name {
        "timeout-leaks-worker" => timeout_leaks_worker(lab, knobs),
        "buffered-reply" => buffered_reply(lab, knobs),
        "busy-default" => busy_default(lab, knobs),
        "deadline-reset-per-message" => deadline_reset_per_message(lab, knobs),
        "silent-hang" => silent_hang(lab, knobs),
        "watchdog" => watchdog(lab, knobs),
        _ => correct(lab, knobs),
    };
    outcome(&s, lab.schedule().is_some())
}

/// Which knobs hide which trap (see [`crate::lessons::HiddenBy`]). Only
/// `deadline-reset-per-message` can hide: when every query comes before
/// the session's time is up, a timer that restarts ends it no later. The
/// slow replica is late in every query and the feed hangs early in every
/// run, whatever the knobs; every poll loop polls.
fn hidden_by(variant: &Variant, knobs: &Knobs) -> Option<String> {
    let fits = queries_in_a_session();
    match variant.name {
        "deadline-reset-per-message" if knobs.items <= fits => Some(format!(
            "hidden by these knobs: with --items {} ≤ {fits} every query comes before the \
             session's {} are up (one a second), so a timer that restarts with every message \
             ends the session no later than one made once; try --items {}",
            knobs.items,
            in_words(SESSION),
            fits + 1
        )),
        _ => None,
    }
}

/// The watchdog's words when it names the silent feed.
fn named(last_sign: Duration, named_at: Duration, unsent: u64) -> String {
    format!(
        "main named `feed`: it had taken no query and heard no heartbeat since {}, and at {}, \
         after {} of silence on its watch, it canceled it; the {} it never sent are left for \
         the next session",
        secs(last_sign),
        secs(named_at),
        in_words(SILENCE),
        count(unsent, "query", "queries")
    )
}

/// The outcome of a session. `scheduled`: the run is on the scheduler,
/// where a poll that finds nothing waits 1 ms of lesson time.
fn outcome(s: &Session, scheduled: bool) -> Outcome {
    let served = s.served.len() as u64;
    let mut o = Outcome {
        items_in: s.offered,
        items_out: served,
        ..Outcome::default()
    };
    let in_time: usize = s.served.iter().map(|q| q.answers.len()).sum();
    let asked = s.served.len() * s.replicas;
    o.notes.push(format!(
        "each query waited at most {} for its {}: {} in time, {} left behind",
        in_words(DEADLINE),
        count(s.replicas as u64, "replica", "replicas"),
        count(in_time as u64, "answer", "answers"),
        asked - in_time
    ));
    let unsent = s.offered - served;
    let hung = match s.feed {
        Some(FeedEnd::Hung { sent, since }) => Some((sent, since)),
        _ => None,
    };
    match (s.end, hung) {
        (SessionEnd::FeedDone, _) => o
            .notes
            .push(format!("the feed sent all {} queries", s.offered)),
        (
            SessionEnd::FeedSilent {
                last_sign,
                named_at,
            },
            _,
        ) => {
            o.dropped = unsent;
            o.by_design.push(named(last_sign, named_at, unsent));
        }
        (SessionEnd::TimeUp, Some((sent, since))) => {
            let last = s.served.last().map_or(s.started_at, |q| q.taken_at);
            o.problems.push(format!(
                "`feed` hung at {}, after sending query {sent}, and nothing noticed: main took \
                 its last query at {}, then waited out its session to {} and ended it with {} \
                 never sent, without a word on who stopped or why",
                secs(since),
                secs(last),
                secs(s.ended_at),
                count(unsent, "query", "queries")
            ));
        }
        (SessionEnd::TimeUp, None) => {
            o.dropped = unsent;
            o.by_design.push(format!(
                "the session takes no new query after {} (one timer for the whole session): \
                 {served} of {} queries served, {} left for the next session",
                in_words(SESSION),
                s.offered,
                unsent
            ));
        }
    }
    let into = |q: &Served| q.taken_at.saturating_sub(s.started_at);
    let late: Vec<&Served> = s
        .served
        .iter()
        .filter(|q| into(q) > SESSION + TIMER_LAG)
        .collect();
    if let Some(last) = late.last() {
        o.problems.push(format!(
            "the session ran over: it was to take no new query after {}, but its timer was \
             made inside the loop and restarted with every message it took: \
             it took {} after that, the last {} into the session",
            in_words(SESSION),
            count(late.len() as u64, "query", "queries"),
            secs(into(last))
        ));
    }
    let polls: u64 = s.served.iter().map(|q| q.polls).sum();
    if polls > 0 {
        o.problems.push(format!(
            "CPU burned: main polled its answers {polls} times and found nothing, where a \
             select on the answers and the deadline would have slept"
        ));
        o.notes.push(if scheduled {
            "scheduled run: a poll that finds nothing waits 1 ms of lesson time before the \
             next (unless something changed), so this counts about one poll per millisecond \
             of waiting; free-running, the same loop polls as fast as a core allows"
                .to_owned()
        } else {
            "free-running: the loop polls as fast as a core allows, so the count depends on \
             the machine and the speed; a scheduled run counts about one poll per millisecond \
             of waiting instead"
                .to_owned()
        });
    }
    o
}

/// `3.0 s`: a moment of lesson time.
fn secs(t: Duration) -> String {
    format!("{:.1} s", t.as_secs_f64())
}
