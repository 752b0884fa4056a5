#![doc = include_str!("README.md")]

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::lab::{Event, EventKind, Lab, Receiver, Sender, Snapshot, in_words};
use crate::lessons::{Challenge, Expect, KnobRanges, Knobs, Lesson, Outcome, Variant, VariantKind};
use crate::select_biased;

/// The lesson in the catalog.
pub static LESSON: Lesson = Lesson {
    number: 10,
    slug: "cancellation-tree",
    title: "Cancellation trees and deadlines",
    summary: "one cancel at the root reaches every child; every wait listens for it, parents wait for children, the drain has a deadline",
    readme: concat!(
        include_str!("README.md"),
        "\n",
        include_str!("../LAB_CHANNELS.md")
    ),
    variants: &VARIANTS,
    defaults: Knobs {
        items: 12,
        buffer: 2,
        workers: 3,
        seed: 1,
    },
    ranges: KnobRanges {
        items: 1..=1000,
        buffer: 0..=64,
        workers: 1..=8,
    },
    main,
    // No knob hides a trap: the staging brings every query to the cancel
    // with a result in hand and every stream with a row in hand, whatever
    // the numbers (see the README).
    hidden_by: crate::lessons::never_hidden,
    challenges: &[Challenge {
        title: "make `stream#1` outlive `query#1`",
        hint: "after the cancel, run `query#1` through its `done` arm and out before `stream#1` \
               takes its own: a parent that does not wait for its child can finish first",
        variant: "child-outlives-parent",
        knobs: Knobs {
            items: 2,
            buffer: 0,
            workers: 1,
            seed: 3,
        },
        reached: stream_outlived_its_query,
    }],
};

static VARIANTS: [Variant; 6] = [
    Variant {
        name: "correct",
        kind: VariantKind::Correct,
        summary: "a `done` channel per query and per stream, derived from `shutdown`; every wait selects on it; each \
                  query waits for its stream; main drains with a 5 s deadline",
        explains: "canceling the root closes every `done` in the tree at once: each worker takes its `done` arm at its \
                   next wait, each parent collects its child, and the drain ends long before its deadline",
        fixed_by: None,
        expect: Expect::Clean,
    },
    Variant {
        name: "lost-cancel",
        kind: VariantKind::Trap,
        summary: "one stream makes its own `done` channel (Go: `context.Background()`) instead of using its query's",
        explains: "nothing ever closes that channel: on shutdown the stream stays blocked offering a row, its query \
                   waits for it, the drain's deadline passes and main returns without them: leak",
        fixed_by: Some("correct"),
        expect: Expect::Verdict("leak"),
    },
    Variant {
        name: "ignores-done-on-send",
        kind: VariantKind::Trap,
        summary: "queries select on `done` when they receive a row, but send their results with a plain `send`",
        explains: "after the cancel main stops reading `results`: each query blocks on the full channel and never looks \
                   at `done` again, until the grace period runs out and main cuts it off",
        fixed_by: Some("correct"),
        expect: Expect::Broken,
    },
    Variant {
        name: "child-outlives-parent",
        kind: VariantKind::Trap,
        summary: "each query cancels its stream on the way out, but returns without waiting for it",
        explains: "the query answers before its stream has stopped: nobody learns how far the stream got, and for a \
                   while the child runs on with no parent to report to",
        fixed_by: Some("correct"),
        expect: Expect::Broken,
    },
    Variant {
        name: "drain-without-deadline",
        kind: VariantKind::Trap,
        summary: "the last query is stuck in a call to a legacy backend that ignores cancellation; main waits for \
                  every worker, with no deadline",
        explains: "the stuck call never returns, so the drain never ends: main waits on `ended`, the query on \
                   `legacy`, and nobody else can move: deadlock",
        fixed_by: Some("grace-period"),
        expect: Expect::Verdict("deadlock"),
    },
    Variant {
        name: "grace-period",
        kind: VariantKind::Fix,
        summary: "the same stuck call; main drains with a 5 s deadline, then closes the call's connection and reports \
                  what it abandoned",
        explains: "like Kubernetes' SIGTERM, then SIGKILL after the grace period: the shutdown ends on time, and the \
                   outcome names the query it had to cut off",
        fixed_by: None,
        expect: Expect::Clean,
    },
];

/// Simulated time a stream takes to fetch a row, in lesson time (ms).
const FETCH_MS: (u64, u64) = (150, 450);
/// Simulated time a query takes to handle a row (ms): slower than its stream.
const HANDLE_MS: (u64, u64) = (1000, 2000);
/// How long main's drain waits for every worker after the cancel.
pub const GRACE: Duration = Duration::from_secs(5);
/// After closing what the abandoned workers wait on, how long main waits
/// for them to fall over.
pub const KILL_WAIT: Duration = Duration::from_secs(1);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

// ---- the cancellation tree ---------------------------------------------

/// One node of the tree: the only Sender on its `done` channel, and the
/// nodes derived from it.
#[derive(Debug)]
struct Node {
    cancel: Mutex<Option<Sender<()>>>,
    children: Mutex<Vec<Arc<Node>>>,
}

impl Node {
    fn new(cancel: Sender<()>) -> Arc<Self> {
        Arc::new(Self {
            cancel: Mutex::new(Some(cancel)),
            children: Mutex::new(Vec::new()),
        })
    }

    /// Closes this node's `done` (drops its Sender), then its children's.
    fn cancel(&self) {
        let sender = lock(&self.cancel).take();
        drop(sender);
        let children = std::mem::take(&mut *lock(&self.children));
        for child in children {
            child.cancel();
        }
    }

    fn is_canceled(&self) -> bool {
        lock(&self.cancel).is_none()
    }
}

/// A context, Go's `context.Context` with channels: `done()` is a
/// `Receiver<()>` on which nobody ever sends; it is closed (its only
/// Sender dropped) when this context or any of its ancestors is canceled,
/// and then a receive on it is ready in every worker that holds a clone.
#[derive(Debug, Clone)]
pub struct Ctx {
    done: Receiver<()>,
    node: Arc<Node>,
}

/// Cancels its context (and every context derived from it) when called or
/// dropped: Go's `cancel` with `defer` built in.
#[derive(Debug)]
pub struct Cancel {
    node: Arc<Node>,
}

impl Cancel {
    /// Cancels now (Go: `cancel()`); dropping does the same.
    pub fn cancel(self) {
        drop(self);
    }
}

impl Drop for Cancel {
    fn drop(&mut self) {
        self.node.cancel();
    }
}

impl Ctx {
    /// A root context and its off switch (Go:
    /// `context.WithCancel(context.Background())`).
    pub fn root(lab: &Lab, name: &str) -> (Self, Cancel) {
        let (tx, done) = lab.bounded::<()>(name, 0);
        let node = Node::new(tx);
        (
            Self {
                done,
                node: Arc::clone(&node),
            },
            Cancel { node },
        )
    }

    /// A context nobody can cancel (Go: `context.Background()`): its
    /// Sender lives in the node for as long as the context does.
    pub fn background(lab: &Lab, name: &str) -> Self {
        let (tx, done) = lab.bounded::<()>(name, 0);
        Self {
            done,
            node: Node::new(tx),
        }
    }

    /// A child context (Go: `context.WithCancel(parent)`): its `done`
    /// closes when its `Cancel` is called or dropped, or when this
    /// context's `done` closes, whichever comes first.
    pub fn with_cancel(&self, lab: &Lab, name: &str) -> (Self, Cancel) {
        let (tx, done) = lab.bounded::<()>(name, 0);
        let node = Node::new(tx);
        {
            let mut children = lock(&self.node.children);
            if self.node.is_canceled() {
                drop(children);
                node.cancel(); // the parent is gone already: born canceled
            } else {
                children.push(Arc::clone(&node));
            }
        }
        (
            Self {
                done,
                node: Arc::clone(&node),
            },
            Cancel { node },
        )
    }

    /// Closed once this context is canceled (Go: `ctx.Done()`).
    #[must_use]
    pub fn done(&self) -> &Receiver<()> {
        &self.done
    }

    /// True once this context is canceled (Go: `ctx.Err() != nil`).
    #[must_use]
    pub fn is_canceled(&self) -> bool {
        self.node.is_canceled()
    }
}

// ---- the run -------------------------------------------------------------

/// How a query ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryEnd {
    /// It took a `done` arm.
    Canceled,
    /// A send on `results` failed: main had closed it (cut off).
    CutOff,
    /// Its stuck call failed: main had closed the call's connection.
    CallClosed,
}

/// What one query did, written as it goes (readable after an abort).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryRecord {
    /// `query#i`.
    pub name: String,
    /// Rows it received from its stream.
    pub received: u64,
    /// Results it got into `results`.
    pub sent: u64,
    /// True when it held a result that never went out (canceled in hand).
    pub dropped_in_hand: bool,
    /// What its stream reported (rows delivered), when the query waited for it.
    pub stream_report: Option<u64>,
    /// True while it was in the legacy call that ignores cancellation.
    pub in_stuck_call: bool,
    /// How it ended; `None` while it runs.
    pub end: Option<QueryEnd>,
    /// When it returned (lesson time).
    pub ended_at: Option<Duration>,
    /// Its place in the order in which workers returned (from 1).
    pub ended_seq: Option<u64>,
}

/// What one stream did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamRecord {
    /// `stream#i`.
    pub name: String,
    /// Rows it delivered to its query.
    pub delivered: u64,
    /// True for the stream that made its own `done` (trap `lost-cancel`).
    pub own_done: bool,
    /// When it returned; `None` while it runs.
    pub ended_at: Option<Duration>,
    /// Its place in the order in which workers returned (from 1).
    pub ended_seq: Option<u64>,
}

/// Everything a run did, from main's side.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shutdown {
    /// Every query's record, `query#1` first.
    pub queries: Vec<QueryRecord>,
    /// Every stream's record, `stream#1` first.
    pub streams: Vec<StreamRecord>,
    /// Results main needed before it shut down (`--items`).
    pub wanted: u64,
    /// Results main read.
    pub read: u64,
    /// Results the queries made (numbered as they were made).
    pub made: u64,
    /// Results left unread in `results` at the end.
    pub unread: u64,
    /// When main canceled the root.
    pub canceled_at: Duration,
    /// When the drain ended (everyone gone, or the deadline and the kill).
    pub drained_at: Duration,
    /// True when the drain had a deadline.
    pub deadline: bool,
    /// Workers still running when the deadline passed.
    pub abandoned: Vec<String>,
    /// Workers still running after main closed what they waited on.
    pub left_running: Vec<String>,
    /// True when a verdict aborted the run.
    pub aborted: bool,
}

/// What sets each variant apart.
#[derive(Debug, Clone, Copy, Default)]
struct Flavor {
    /// The stream (number) that makes its own `done`.
    own_done: Option<usize>,
    /// Queries send results without selecting on `done`.
    plain_send: bool,
    /// Queries return without waiting for their streams.
    no_wait: bool,
    /// The query (number) stuck in a call that ignores cancellation.
    stuck: Option<usize>,
    /// Main's drain has a deadline.
    deadline: bool,
}

impl Flavor {
    fn of(variant: &str, workers: usize) -> Self {
        let plain = Self {
            deadline: true,
            ..Self::default()
        };
        match variant {
            "lost-cancel" => Self {
                own_done: Some(lost_stream(workers)),
                ..plain
            },
            "ignores-done-on-send" => Self {
                plain_send: true,
                ..plain
            },
            "child-outlives-parent" => Self {
                no_wait: true,
                ..plain
            },
            "drain-without-deadline" => Self {
                stuck: Some(workers),
                deadline: false,
                ..plain
            },
            "grace-period" => Self {
                stuck: Some(workers),
                ..plain
            },
            _ => plain,
        }
    }
}

/// The stream that makes its own `done` in `lost-cancel`: the middle one.
#[must_use]
pub fn lost_stream(workers: usize) -> usize {
    workers.div_ceil(2).max(1)
}

/// A result a query sends to main.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answer {
    /// The query that made it.
    pub query: usize,
    /// The row it came from.
    pub row: u64,
    /// Its number among all results, in the order they were made.
    pub number: u64,
}

/// What a query needs besides its number and its parent context.
struct QueryParts {
    lab: Lab,
    seed: u64,
    flavor: Flavor,
    results: Sender<Answer>,
    alive: Sender<()>,
    made: Arc<AtomicU64>,
    /// Counts workers as they return: who ended before whom.
    order: Arc<AtomicU64>,
    /// Results numbered above this are the ones in hand at the cancel.
    staged_after: u64,
    in_hand: Sender<()>,
    gate: Receiver<()>,
    legacy: Option<Receiver<()>>,
    record: Arc<Mutex<QueryRecord>>,
    stream_record: Arc<Mutex<StreamRecord>>,
}

/// A stream: fetches rows and offers each to its query, selecting on
/// `done` at every offer. With `own_done` (the trap) it listens to a
/// `done` of its own making instead of the one it was given. Returns how
/// many rows it delivered: its report to its parent.
fn stream(
    lab: &Lab,
    given: Ctx,
    own_done: bool,
    rows: &Sender<u64>,
    seed: u64,
    record: &Mutex<StreamRecord>,
) -> u64 {
    let name = lock(record).name.clone();
    // The trap: a fresh `done` nobody else knows about (Go: context.Background()).
    let ctx = if own_done {
        Ctx::background(lab, &format!("{name} own done"))
    } else {
        given
    };
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut delivered = 0;
    loop {
        lab.work(Duration::from_millis(rng.u64(FETCH_MS.0..=FETCH_MS.1)));
        let row = delivered + 1;
        let sent = select_biased! {
            recv(ctx.done()) -> _ => false,
            send(rows, row) -> res => res.is_ok(),
        };
        if !sent {
            return delivered;
        }
        delivered += 1;
        lock(record).delivered = delivered;
    }
}

/// What a send of a result came to.
enum Sent {
    Ok,
    Canceled,
    CutOff,
}

/// Sends `answer` on `results`: selecting on `done` too, or (the trap
/// `ignores-done-on-send`) with a plain `send`.
fn send_result(plain: bool, ctx: &Ctx, results: &Sender<Answer>, answer: Answer) -> Sent {
    let sent = if plain {
        // The trap: `done` is checked on receive only.
        results.send(answer).is_ok()
    } else {
        select_biased! {
            recv(ctx.done()) -> _ => return Sent::Canceled,
            send(results, answer) -> res => res.is_ok(),
        }
    };
    if sent { Sent::Ok } else { Sent::CutOff }
}

/// A query: starts its stream under a context derived from its own,
/// handles each row into a result for main; on cancel, cancels its stream
/// and (but in `child-outlives-parent`) waits for it.
fn query(i: usize, parent: &Ctx, p: QueryParts) {
    let QueryParts {
        lab,
        seed,
        flavor,
        results,
        alive,
        made,
        order,
        staged_after,
        in_hand,
        gate,
        legacy,
        record,
        stream_record,
    } = p;
    let alive = alive; // dropped as this query returns: `ended` counts it out
    let (ctx, _cancel_mine) = parent.with_cancel(&lab, &format!("query#{i} done"));
    let (stream_ctx, cancel_stream) = ctx.with_cancel(&lab, &format!("stream#{i} done"));
    let (rows_tx, rows) = lab.bounded::<u64>(format!("rows#{i}"), 0);
    let stream = {
        let (lab2, alive, order) = (lab.clone(), alive.clone(), Arc::clone(&order));
        let own_done = flavor.own_done == Some(i);
        lab.go(format!("stream#{i}"), move || {
            let delivered = stream(
                &lab2,
                stream_ctx,
                own_done,
                &rows_tx,
                seed.wrapping_mul(31),
                &stream_record,
            );
            {
                let mut record = lock(&stream_record);
                record.ended_at = Some(lab2.now());
                record.ended_seq = Some(order.fetch_add(1, Ordering::SeqCst) + 1);
            }
            drop(alive);
            delivered
        })
    };

    let mut rng = fastrand::Rng::with_seed(seed);
    let end = loop {
        let row = select_biased! {
            recv(ctx.done()) -> _ => None,
            recv(rows) -> row => row.ok(),
        };
        let Some(row) = row else {
            break QueryEnd::Canceled;
        };
        lock(&record).received += 1;
        lab.work(Duration::from_millis(rng.u64(HANDLE_MS.0..=HANDLE_MS.1)));
        let number = made.fetch_add(1, Ordering::Relaxed) + 1;
        let answer = Answer {
            query: i,
            row,
            number,
        };
        if number > staged_after {
            let _ = in_hand.send(()); // staging: "I hold a result main will not read"
            if let Some(legacy) = &legacy {
                // A call that ignores cancellation: it returns when its
                // connection closes, and only then.
                lock(&record).in_stuck_call = true;
                let _ = legacy.recv();
                lock(&record).dropped_in_hand = true;
                break QueryEnd::CallClosed;
            }
            let _ = gate.recv(); // staging: until main has canceled
        }
        let sent = send_result(flavor.plain_send, &ctx, &results, answer);
        match sent {
            Sent::Ok => lock(&record).sent += 1,
            Sent::Canceled => {
                lock(&record).dropped_in_hand = true;
                break QueryEnd::Canceled;
            }
            Sent::CutOff => {
                lock(&record).dropped_in_hand = true;
                break QueryEnd::CutOff;
            }
        }
    };
    drop(cancel_stream); // Go: defer cancel()
    let report = if flavor.no_wait {
        None // the trap: return without waiting for the child
    } else {
        stream.join().ok()
    };
    let mut record = lock(&record);
    record.stream_report = report;
    record.end = Some(end);
    record.ended_at = Some(lab.now());
    record.ended_seq = Some(order.fetch_add(1, Ordering::SeqCst) + 1);
}

/// Runs `variant`: main starts the queries, reads `--items` results, then
/// shuts down and drains.
#[must_use]
pub fn serve(lab: &Lab, variant: &str, knobs: &Knobs) -> Shutdown {
    let workers = knobs.workers.max(1);
    let flavor = Flavor::of(variant, workers);
    let (root, shutdown) = Ctx::root(lab, "shutdown");
    let (results_tx, results) = lab.bounded::<Answer>("results", knobs.buffer);
    // Every query and stream holds a Sender: `ended` closes when the last is gone.
    let (alive, ended) = lab.bounded::<()>("ended", 0);
    let (in_hand_tx, in_hand) = lab.bounded::<()>("in_hand", workers);
    let (gate_tx, gate) = lab.bounded::<()>("gate", 0);
    let (legacy_tx, legacy) = flavor.stuck.map(|_| lab.bounded::<()>("legacy", 0)).unzip();
    let made = Arc::new(AtomicU64::new(0));
    let order = Arc::new(AtomicU64::new(0));
    let mut records = Vec::new();
    let mut stream_records = Vec::new();
    for i in 1..=workers {
        let record = Arc::new(Mutex::new(QueryRecord {
            name: format!("query#{i}"),
            ..QueryRecord::default()
        }));
        let stream_record = Arc::new(Mutex::new(StreamRecord {
            name: format!("stream#{i}"),
            own_done: flavor.own_done == Some(i),
            ..StreamRecord::default()
        }));
        let parts = QueryParts {
            lab: lab.clone(),
            seed: knobs.seed.wrapping_add(i as u64),
            flavor,
            results: results_tx.clone(),
            alive: alive.clone(),
            made: Arc::clone(&made),
            order: Arc::clone(&order),
            staged_after: knobs.items + knobs.buffer as u64,
            in_hand: in_hand_tx.clone(),
            gate: gate.clone(),
            legacy: legacy.clone().filter(|_| flavor.stuck == Some(i)),
            record: Arc::clone(&record),
            stream_record: Arc::clone(&stream_record),
        };
        let root = root.clone();
        // Handles are not kept: `ended` is how main knows who is gone.
        let _ = lab.go(format!("query#{i}"), move || query(i, &root, parts));
        records.push(record);
        stream_records.push(stream_record);
    }
    drop((results_tx, alive, in_hand_tx, gate, legacy));

    let read = results.iter().take(knobs.items as usize).count() as u64;
    let _ = in_hand.iter().take(workers).count(); // staging: every query holds one more
    let canceled_at = lab.now();
    drop(shutdown); // the shutdown signal (Go: cancel()): the whole tree at once
    drop(gate_tx); // staging over
    let (mut abandoned, mut left_running) = (Vec::new(), Vec::new());
    let unread;
    if flavor.deadline {
        let grace = lab.after(GRACE);
        let all_gone = select_biased! {
            recv(ended) -> _ => true,
            recv(grace) -> _ => false,
        };
        unread = results.len() as u64;
        if !all_gone {
            abandoned = still_running(&records, &stream_records);
            // The kill: close what they wait on (`results`, the stuck call's
            // connection), as SIGKILL ends a process whatever it waits on.
            drop(results);
            drop(legacy_tx);
            let kill = lab.after(KILL_WAIT);
            select_biased! {
                recv(ended) -> _ => {},
                recv(kill) -> _ => {},
            }
            left_running = still_running(&records, &stream_records);
        }
    } else {
        let _ = ended.recv(); // the trap: however long it takes
        unread = results.len() as u64;
    }
    let drained_at = lab.now();
    Shutdown {
        queries: records.iter().map(|r| lock(r).clone()).collect(),
        streams: stream_records.iter().map(|s| lock(s).clone()).collect(),
        wanted: knobs.items,
        read,
        made: made.load(Ordering::Relaxed),
        unread,
        canceled_at,
        drained_at,
        deadline: flavor.deadline,
        abandoned,
        left_running,
        aborted: lab.is_aborted(),
    }
}

/// The workers whose records say they have not returned yet.
fn still_running(
    queries: &[Arc<Mutex<QueryRecord>>],
    streams: &[Arc<Mutex<StreamRecord>>],
) -> Vec<String> {
    let queries = queries
        .iter()
        .map(|q| lock(q))
        .filter(|q| q.end.is_none())
        .map(|q| q.name.clone());
    let streams = streams
        .iter()
        .map(|s| lock(s))
        .filter(|s| s.ended_at.is_none())
        .map(|s| s.name.clone());
    queries.chain(streams).collect()
}

fn main(lab: &Lab, variant: &Variant, knobs: &Knobs) -> Outcome {
    outcome(&serve(lab, variant.name, knobs))
}

/// The challenge: `query#1` has returned while `stream#1` still runs,
/// now (the snapshot) or at some point (the order of `Finished` events,
/// which a run that went on by itself has left behind).
fn stream_outlived_its_query(snapshot: &Snapshot, events: &[Event]) -> bool {
    let finished = |name: &str| {
        snapshot
            .workers
            .iter()
            .find(|w| w.name == name)
            .is_some_and(|w| w.state.is_finished())
    };
    if finished("query#1") && !finished("stream#1") {
        return true;
    }
    let at = |name: &str| {
        events
            .iter()
            .position(|e| matches!(&e.kind, EventKind::Finished { worker } if worker == name))
    };
    match (at("query#1"), at("stream#1")) {
        (Some(query), Some(stream)) => query < stream,
        _ => false,
    }
}

/// Every result main did not read is accounted for by the cancel; every
/// worker ended by itself after hearing it, or was a stuck call the grace
/// period had to cut off; every parent collected its child's report.
fn outcome(s: &Shutdown) -> Outcome {
    let mut outcome = Outcome {
        items_in: s.made,
        items_out: s.read,
        ..Outcome::default()
    };
    if s.aborted {
        outcome.problems.push(format!(
            "the shutdown never finished: main canceled at {} and then waited for every worker \
             with no deadline; the lab found nothing left that could move",
            in_words(s.canceled_at)
        ));
        return outcome;
    }
    chosen(s, &mut outcome);
    deaf(s, &mut outcome);
    unwaited(s, &mut outcome);
    reports(s, &mut outcome);
    outcome
}

/// The queries abandoned in a call that ignores cancellation: what the
/// grace period is for.
fn stuck_calls(s: &Shutdown) -> impl Iterator<Item = &QueryRecord> {
    s.queries
        .iter()
        .filter(|q| q.in_stuck_call && s.abandoned.contains(&q.name))
}

/// What the cancel dropped on purpose, and how long the drain took.
fn chosen(s: &Shutdown, outcome: &mut Outcome) {
    let in_hand = s.queries.iter().filter(|q| q.dropped_in_hand).count() as u64;
    outcome.dropped = s.unread + in_hand;
    outcome.by_design.push(format!(
        "main had its {} results and canceled the rest: {} made after that were left unread in \
         `results`, {in_hand} were in the queries' hands when the cancel came",
        s.read, s.unread
    ));
    for q in stuck_calls(s) {
        outcome.by_design.push(format!(
            "{} abandoned at the {} deadline: it was in a call that ignores cancellation; main \
             closed the call's connection to end it (Kubernetes: SIGKILL after the grace period)",
            q.name,
            in_words(GRACE)
        ));
    }
    let canceled = in_words(s.canceled_at);
    if s.abandoned.is_empty() {
        let took = in_words(s.drained_at.saturating_sub(s.canceled_at));
        outcome.notes.push(format!(
            "canceled at {canceled}; every worker had ended {took} later"
        ));
    } else {
        outcome.notes.push(format!(
            "canceled at {canceled}; at the {} deadline still running: {}",
            in_words(GRACE),
            s.abandoned.join(", ")
        ));
    }
    if !s.left_running.is_empty() {
        outcome.notes.push(format!(
            "main returned without: {} (closing what main held did not reach them)",
            s.left_running.join(", ")
        ));
    }
}

/// Workers still running at the deadline that were not in a stuck call:
/// they did not hear the cancel.
fn deaf(s: &Shutdown, outcome: &mut Outcome) {
    let cut_off: Vec<&str> = s
        .queries
        .iter()
        .filter(|q| q.end == Some(QueryEnd::CutOff))
        .map(|q| q.name.as_str())
        .collect();
    if !cut_off.is_empty() {
        outcome.problems.push(format!(
            "{} never heard the cancel: each was blocked sending on `results`, which nobody read \
             any more, and checked `done` only when it received; the {} grace period ran out and \
             main cut them off by closing `results`",
            cut_off.join(", "),
            in_words(GRACE)
        ));
    }
    let stuck: Vec<&str> = stuck_calls(s).map(|q| q.name.as_str()).collect();
    let others: Vec<&str> = s
        .abandoned
        .iter()
        .map(String::as_str)
        .filter(|name| !stuck.contains(name) && !cut_off.contains(name))
        .collect();
    if others.is_empty() {
        return;
    }
    let own: Vec<&str> = s
        .streams
        .iter()
        .filter(|st| st.own_done)
        .map(|st| st.name.as_str())
        .collect();
    let why = if own.is_empty() {
        String::new()
    } else {
        format!(
            " ({} listens to a `done` of its own making, which nobody ever closes)",
            own.join(", ")
        )
    };
    outcome.problems.push(format!(
        "still running at the {} deadline, deaf to the cancel: {}{why}",
        in_words(GRACE),
        others.join(", ")
    ));
}

/// Queries that returned without waiting for their streams.
fn unwaited(s: &Shutdown, outcome: &mut Outcome) {
    let unwaited: Vec<(&QueryRecord, &StreamRecord)> = s
        .queries
        .iter()
        .zip(&s.streams)
        .filter(|(q, _)| q.end.is_some() && q.stream_report.is_none() && !q.in_stuck_call)
        .collect();
    if unwaited.is_empty() {
        return;
    }
    let parents: Vec<&str> = unwaited.iter().map(|(q, _)| q.name.as_str()).collect();
    let outlived: Vec<&str> = unwaited
        .iter()
        .filter(|(q, st)| {
            q.ended_seq
                .is_some_and(|q_end| st.ended_seq.is_none_or(|st_end| st_end > q_end))
        })
        .map(|(_, st)| st.name.as_str())
        .collect();
    let whose = if parents.len() == 1 {
        "its stream"
    } else {
        "their streams"
    };
    let mut problem = format!(
        "{} returned without waiting for {whose}: what each stream got through (its report) was \
         never read, and nothing made sure it had stopped",
        parents.join(", ")
    );
    if !outlived.is_empty() {
        let _ = write!(
            problem,
            "; {} outlived its parent in this run",
            outlived.join(", ")
        );
    }
    outcome.problems.push(problem);
}

/// The streams' reports, as their queries collected them: each must match
/// what the query received.
fn reports(s: &Shutdown, outcome: &mut Outcome) {
    let mut collected = Vec::new();
    for (q, st) in s.queries.iter().zip(&s.streams) {
        let Some(report) = q.stream_report else {
            continue;
        };
        collected.push(format!("{} {report}", st.name));
        if report != q.received || report != st.delivered {
            outcome.problems.push(format!(
                "{} received {} rows but {} reports {report}",
                q.name, q.received, st.name
            ));
        }
    }
    if !collected.is_empty() {
        outcome.notes.push(format!(
            "rows delivered, as each stream reported to its query: {}",
            collected.join(", ")
        ));
    }
}
