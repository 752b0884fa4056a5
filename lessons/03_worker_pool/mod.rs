#![doc = include_str!("README.md")]

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::lab::{Event, JoinError, JoinHandle, Lab, Receiver, Sender, Snapshot};
use crate::lessons::{
    Challenge, Expect, KnobRanges, Knobs, Lesson, Outcome, Variant, VariantKind, trail,
};
use crate::select_biased;

/// The lesson in the catalog.
pub static LESSON: Lesson = Lesson {
    number: 3,
    slug: "worker-pool",
    title: "Worker pool",
    summary: "a persistent pool: submit jobs, close, read results until they close; cancel hands jobs back",
    readme: concat!(
        include_str!("README.md"),
        "\n",
        include_str!("../LAB_CHANNELS.md")
    ),
    variants: &VARIANTS,
    defaults: Knobs {
        items: 24,
        buffer: 4,
        workers: 3,
        seed: 1,
    },
    ranges: KnobRanges {
        items: 2..=10_000,
        buffer: 1..=256,
        workers: 1..=64,
    },
    main,
    hidden_by,
    challenges: &[Challenge {
        title: "make the pool return its results in job order: 1, then 2, then 3",
        hint: "a pool answers in the order the work ends, not the order of the jobs. The \
               three jobs go out at once, one to each worker, and each works its own time \
               (`work until …` in the list says how long; undo and try another): give job 1 \
               to the quickest worker and job 3 to the slowest",
        variant: "correct",
        knobs: Knobs {
            items: 3,
            buffer: 3,
            workers: 3,
            seed: 1,
        },
        reached: results_in_job_order,
    }],
};

/// The challenge: every job submitted (`jobs` closed), and the results of
/// jobs 1, 2, 3, … went into `results` in that order. Job `j` is the `j`-th
/// message of `jobs` (one client submits them in order).
fn results_in_job_order(snapshot: &Snapshot, events: &[Event]) -> bool {
    let Some(jobs) = trail::channel(snapshot, "jobs").filter(|j| j.senders == 0) else {
        return false;
    };
    let mut last = 0;
    for job in 1..=jobs.sent {
        match trail::forwarded(events, "jobs", job, |_| "results".to_owned()) {
            Some((_, r)) if r > last => last = r,
            _ => return false,
        }
    }
    jobs.sent > 0
}

static VARIANTS: [Variant; 6] = [
    Variant {
        name: "correct",
        kind: VariantKind::Correct,
        summary: "the client submits every job and closes the pool; main reads `results` until it closes, then joins",
        explains: "`results` closes when the last worker drops its Sender, so main's loop ends and the join never waits",
        fixed_by: None,
        expect: Expect::Clean,
    },
    Variant {
        name: "join-before-drain",
        kind: VariantKind::Trap,
        summary: "main joins the workers first and means to read `results` afterwards",
        explains: "the workers wait for room in `results`, main waits for the workers: deadlock",
        fixed_by: Some("drain-before-join"),
        expect: Expect::Verdict("deadlock"),
    },
    Variant {
        name: "submit-after-close",
        kind: VariantKind::Trap,
        summary: "the client closes the pool, then submits one more job",
        explains: "`submit` refuses it with `PoolClosed(job)` (no panic): that job never runs",
        fixed_by: Some("correct"),
        expect: Expect::Broken,
    },
    Variant {
        name: "cancel-drops-jobs",
        kind: VariantKind::Trap,
        summary: "main cancels with jobs still queued; the workers take no new job and return, and the queue goes down with the pool",
        explains: "nobody owns the queued jobs at shutdown: they are silently lost",
        fixed_by: Some("hand-back"),
        expect: Expect::Broken,
    },
    Variant {
        name: "drain-before-join",
        kind: VariantKind::Fix,
        summary: "main reads `results` until it closes, then joins the workers",
        explains: "while main reads, no worker waits for room; when `results` closes every worker has ended",
        fixed_by: None,
        expect: Expect::Clean,
    },
    Variant {
        name: "hand-back",
        kind: VariantKind::Fix,
        summary: "cancel stops the pool and returns every queued, unstarted job to the caller",
        explains: "cancel drains until `jobs` disconnects, so every job whose submit returned Ok is received once, by a worker (done) or by `cancel` (handed back): none is lost",
        fixed_by: None,
        expect: Expect::Clean,
    },
];

/// Simulated work per job, in lesson time (milliseconds).
const JOB_MS: (u64, u64) = (750, 1750);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// `submit` after `close` (or `cancel`): the job comes back, as a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolClosed<J>(pub J);

impl<J> fmt::Display for PoolClosed<J> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the pool is closed; the job was handed back")
    }
}

impl<J: fmt::Debug> std::error::Error for PoolClosed<J> {}

/// A persistent worker pool: `size` workers share one bounded `jobs` queue
/// and one bounded `results` channel. Every method takes `&self`, so an
/// `Arc<Pool>` can be shared by the thread that submits and the thread that
/// reads results.
pub struct Pool<J, R> {
    /// The pool's Sender on `jobs`; `None` once closed (`submit` refuses).
    jobs: Mutex<Option<Sender<J>>>,
    /// The pool's own Receiver on `jobs`: `cancel` takes the unstarted jobs
    /// back through it.
    queue: Receiver<J>,
    /// The only Sender on `done`; dropping it is the cancel broadcast.
    done: Mutex<Option<Sender<()>>>,
    results: Receiver<R>,
    workers: Mutex<Vec<JoinHandle<()>>>,
}

impl<J: Send + 'static, R: Send + 'static> Pool<J, R> {
    /// Starts `size` workers (`worker#1..`); `capacity` bounds both `jobs`
    /// and `results`. `make_worker(i)` gives worker `i` its job function.
    pub fn new<W, F>(lab: &Lab, size: usize, capacity: usize, mut make_worker: W) -> Self
    where
        W: FnMut(usize) -> F,
        F: FnMut(J) -> R + Send + 'static,
    {
        let (jobs, queue) = lab.bounded("jobs", capacity);
        let (results_tx, results) = lab.bounded("results", capacity);
        let (done_tx, done) = lab.bounded::<()>("done", 0);
        let workers = (1..=size)
            .map(|i| {
                let (queue, results, done) = (queue.clone(), results_tx.clone(), done.clone());
                let run = make_worker(i);
                lab.go(format!("worker#{i}"), move || {
                    work(&queue, &results, &done, run);
                })
            })
            .collect();
        // `results_tx` drops here: only the workers' clones keep `results` open.
        Self {
            jobs: Mutex::new(Some(jobs)),
            queue,
            done: Mutex::new(Some(done_tx)),
            results,
            workers: Mutex::new(workers),
        }
    }

    /// Queues `job`, waiting while the queue is full (backpressure). After
    /// `close` or `cancel` the job comes back as `Err(PoolClosed(job))`.
    pub fn submit(&self, job: J) -> Result<(), PoolClosed<J>> {
        let Some(jobs) = self.sender() else {
            return Err(PoolClosed(job)); // closed: the job comes back, no panic
        };
        jobs.send(job).map_err(|e| PoolClosed(e.0))
    }

    /// A Sender for one submit, or `None` once closed. A clone, so the lock
    /// is not held while `send` waits for room; while it lives, `jobs` stays
    /// connected.
    fn sender(&self) -> Option<Sender<J>> {
        lock(&self.jobs).clone()
    }

    /// Staging for tests: `submit`, held between taking its Sender and
    /// sending until `hold` closes: a submit caught in flight.
    #[doc(hidden)]
    pub fn submit_held(&self, job: J, hold: &Receiver<()>) -> Result<(), PoolClosed<J>> {
        let Some(jobs) = self.sender() else {
            return Err(PoolClosed(job));
        };
        let _ = hold.recv();
        jobs.send(job).map_err(|e| PoolClosed(e.0))
    }

    /// No more submits. Workers finish the queue and return; `results`
    /// closes when the last one is done (graceful shutdown).
    pub fn close(&self) {
        drop(lock(&self.jobs).take()); // Go: close(jobs)
    }

    /// The results, in completion order; the iterator ends when `results`
    /// closes (every worker returned).
    #[must_use]
    pub fn results(&self) -> Receiver<R> {
        self.results.clone()
    }

    /// Waits for every worker; returns how many ended normally.
    pub fn join(&self) -> usize {
        let workers = std::mem::take(&mut *lock(&self.workers));
        workers.into_iter().filter_map(|w| w.join().ok()).count()
    }

    /// The fix `hand-back`: stop accepting, tell the workers to take no new
    /// job, and return every job that got into the queue and that no worker
    /// took. Jobs in hand still finish and send their results.
    ///
    /// It drains until `jobs` is disconnected, not until it looks empty: a
    /// submit in flight holds a Sender clone and can land its job after a
    /// first look (a submit blocked on a full queue lands as soon as the
    /// drain makes room). `jobs` disconnects only when the last clone is
    /// gone, and after `close` no new one can be taken, so when the drain
    /// ends no send can land any more: every `Ok` job was taken by a worker
    /// or is in the returned Vec.
    pub fn cancel(&self) -> Vec<J> {
        self.close(); // stop accepting: later submits are refused
        drop(lock(&self.done).take()); // Go: close(done): workers take no new job
        self.queue.iter().collect() // until disconnected: every submit in flight has landed
    }

    /// The trap `cancel-drops-jobs`: the same stop, but the queued jobs stay
    /// in `jobs`, where no worker will ever take them.
    pub fn cancel_dropping_jobs(&self) {
        self.close();
        drop(lock(&self.done).take());
    }
}

/// A worker: take a job, run it, send its result; until the queue is closed
/// and drained, or the pool is canceled.
fn work<J, R>(
    queue: &Receiver<J>,
    results: &Sender<R>,
    done: &Receiver<()>,
    mut run: impl FnMut(J) -> R,
) {
    while let Some(job) = next_job(queue, done) {
        if results.send(run(job)).is_err() {
            return; // nobody can read results any more
        }
    }
}

/// The next job, or `None` once the queue is closed and empty, or `done`
/// is closed. `select_biased!` tries its arms in order: when it finds
/// `done` closed and a job queued, `done` wins, so a canceled worker takes
/// no new job. (A job it received before `done` closed is in its hand, and
/// it finishes that one.)
fn next_job<J>(queue: &Receiver<J>, done: &Receiver<()>) -> Option<J> {
    select_biased! {
        recv(done) -> _ => None,
        recv(queue) -> job => job.ok(),
    }
}

/// One finished job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Done {
    /// The job's number.
    pub job: u64,
    /// The worker that ran it (`worker#by`).
    pub by: usize,
}

/// Staging for the cancel variants: a job numbered above `after` tells
/// main it is in a worker's hand (on `in_hand`), then waits for `open` to
/// close before it starts. Main cancels once every worker that can hold a
/// job holds one, so cancel always finds the same picture.
///
/// A scheduled run has no `open` gate: the schedule decides how far the
/// jobs in hand get before cancel, and a hunt over seeds finds the loss by
/// itself. It keeps the `in_hand` count, which is what `hidden_by`
/// promises: cancel comes only once every worker that can hold a job holds
/// one (without it, a cancel in the instant between a worker's result and
/// its next take would leave that job queued, even with `--items` at most
/// `--workers`).
#[derive(Clone)]
struct Gate {
    after: u64,
    in_hand: Sender<()>,
    open: Option<Receiver<()>>,
}

/// The lesson's pool: jobs are numbers, a result says who ran which job.
fn start_pool(lab: &Lab, knobs: &Knobs, gate: Option<Gate>) -> Arc<Pool<u64, Done>> {
    let pool = Pool::new(lab, knobs.workers, knobs.buffer, |w| {
        let (lab, gate) = (lab.clone(), gate.clone());
        let mut rng = fastrand::Rng::with_seed(knobs.seed.wrapping_add(w as u64));
        move |job| {
            if let Some(gate) = &gate
                && job > gate.after
            {
                let _ = gate.in_hand.send(()); // staging: "I hold a job" (fails once main stops counting)
                if let Some(open) = &gate.open {
                    let _ = open.recv(); // staging: wait until main opens the gate
                }
            }
            lab.work(Duration::from_millis(rng.u64(JOB_MS.0..=JOB_MS.1)));
            Done { job, by: w }
        }
    });
    Arc::new(pool)
}

/// The client: submits jobs `1..=n`, then closes the pool; with `late`,
/// submits one more job after closing (the trap). Returns what `submit`
/// refused.
fn client(
    lab: &Lab,
    pool: &Arc<Pool<u64, Done>>,
    n: u64,
    late: Option<u64>,
) -> JoinHandle<Vec<PoolClosed<u64>>> {
    let pool = Arc::clone(pool);
    lab.go("client", move || {
        let mut refused = Vec::new();
        for job in 1..=n {
            if let Err(e) = pool.submit(job) {
                refused.push(e);
            }
        }
        pool.close();
        if let Some(job) = late
            && let Err(e) = pool.submit(job)
        {
            refused.push(e); // the job is ours again; here it is only reported
        }
        refused
    })
}

fn main(lab: &Lab, variant: &Variant, knobs: &Knobs) -> Outcome {
    match variant.name {
        "join-before-drain" => join_before_drain(lab, knobs),
        "submit-after-close" => submit_after_close(lab, knobs),
        "cancel-drops-jobs" => cancel(lab, knobs, false),
        "hand-back" => cancel(lab, knobs, true),
        // `drain-before-join` is the correct order.
        _ => correct(lab, knobs),
    }
}

/// Which knobs make a trap impossible (see [`crate::lessons::HiddenBy`]).
fn hidden_by(variant: &Variant, knobs: &Knobs) -> Option<String> {
    let (items, buffer, workers) = (knobs.items, knobs.buffer as u64, knobs.workers as u64);
    match variant.name {
        "join-before-drain" if items <= buffer => Some(format!(
            "hidden by these knobs: with --buffer {buffer} ≥ --items {items} every result fits \
             in `results`, so no worker waits for a reader and the join returns; try --items {}",
            buffer + 1
        )),
        "cancel-drops-jobs" if items <= workers => Some(format!(
            "hidden by these knobs: with --items {items} ≤ --workers {workers} every job is in a \
             worker's hand when cancel comes and none is queued, so there is nothing to drop; \
             try --items {}",
            workers + 1
        )),
        _ => None,
    }
}

fn correct(lab: &Lab, knobs: &Knobs) -> Outcome {
    let pool = start_pool(lab, knobs, None);
    let client = client(lab, &pool, knobs.items, None);
    let done: Vec<Done> = pool.results().iter().collect(); // ends when the last worker returns
    pool.join(); // every worker has ended: returns at once
    let Some(refused) = unless_aborted(lab, client.join()) else {
        return aborted(lab, knobs.items);
    };
    let mut outcome = tally(knobs.items, &done, &[]);
    note_refused(&mut outcome, &refused);
    outcome
}

fn join_before_drain(lab: &Lab, knobs: &Knobs) -> Outcome {
    let pool = start_pool(lab, knobs, None);
    let client = client(lab, &pool, knobs.items, None);
    // The trap: wait for the workers first...
    pool.join();
    // ...and read their results afterwards.
    let done: Vec<Done> = pool.results().iter().collect();
    let Some(refused) = unless_aborted(lab, client.join()) else {
        return aborted(lab, knobs.items);
    };
    let mut outcome = tally(knobs.items, &done, &[]);
    note_refused(&mut outcome, &refused);
    outcome
}

fn submit_after_close(lab: &Lab, knobs: &Knobs) -> Outcome {
    let late = knobs.items + 1;
    let pool = start_pool(lab, knobs, None);
    let client = client(lab, &pool, knobs.items, Some(late));
    let done: Vec<Done> = pool.results().iter().collect();
    pool.join();
    let Some(refused) = unless_aborted(lab, client.join()) else {
        return aborted(lab, late);
    };
    // Every job the client meant to run, the late one included.
    let mut outcome = tally(late, &done, &[]);
    for PoolClosed(job) in &refused {
        outcome.notes.push(format!(
            "submit(job {job}) returned Err(PoolClosed({job})): no panic, the job came back"
        ));
    }
    if !outcome.problems.is_empty() {
        outcome.problems = vec![format!(
            "{} job(s) submitted after close were refused and never ran",
            outcome.lost
        )];
    }
    outcome
}

/// The cancel variants: the client submits everything; jobs `1..=k` run,
/// the rest wait at the gate (one in each worker's hand) or in the queue;
/// main cancels, then opens the gate.
fn cancel(lab: &Lab, knobs: &Knobs, hand_back: bool) -> Outcome {
    let n = knobs.items;
    let k = n.saturating_sub((knobs.workers + knobs.buffer) as u64);
    let holding = (n - k).min(knobs.workers as u64);
    let (in_hand, held) = lab.bounded::<()>("in_hand", knobs.workers);
    // Free-running only (see `Gate`).
    let (gate_tx, open) = lab
        .schedule()
        .is_none()
        .then(|| lab.bounded::<()>("gate", 0))
        .unzip();
    let pool = start_pool(
        lab,
        knobs,
        Some(Gate {
            after: k,
            in_hand,
            open,
        }),
    );
    let client = client(lab, &pool, n, None);
    let results = pool.results();
    let mut done: Vec<Done> = results.iter().take(k as usize).collect();
    let _ = held.iter().take(holding as usize).count(); // every worker that can hold a job holds one
    drop(held); // staging: stop counting
    let refused = client.join(); // all submitted: the rest are queued
    let queued = pool.queue.len();
    // Without the gate, jobs in hand may have finished by now: count them.
    let in_hand_now = gate_tx.is_none().then(|| jobs_in_hand(lab));
    let back = if hand_back {
        pool.cancel()
    } else {
        pool.cancel_dropping_jobs();
        Vec::new()
    };
    drop(gate_tx); // staging over: jobs in hand may start
    done.extend(results.iter()); // the jobs in hand finish
    pool.join();
    let Some(refused) = unless_aborted(lab, refused) else {
        return aborted(lab, n);
    };
    let mut outcome = tally(n, &done, &back);
    note_refused(&mut outcome, &refused);
    let picture = match in_hand_now {
        None => format!(
            "cancel came after {k} jobs were done, with {holding} in workers' hands and {queued} queued"
        ),
        Some(in_hand) => format!(
            "cancel came after main had read {k} results, with {in_hand} in workers' hands and \
             {queued} queued"
        ),
    };
    outcome.notes.insert(0, picture);
    if hand_back && !back.is_empty() {
        outcome.by_design.push(format!(
            "{} queued job(s) handed back to the caller, unrun: cancel stops the pool and returns \
             every job no worker had taken",
            back.len()
        ));
    }
    if !hand_back && outcome.lost > 0 {
        outcome.problems = vec![format!(
            "{} queued job(s) were dropped at cancel: never run, never handed back",
            outcome.lost
        )];
    }
    outcome
}

/// Jobs the workers have taken and not yet sent a result for, as the lab
/// counts them now.
fn jobs_in_hand(lab: &Lab) -> u64 {
    let channels = lab.snapshot().channels;
    let count = |name: &str, f: fn(&crate::lab::ChannelSnapshot) -> u64| {
        channels.iter().find(|c| c.name == name).map_or(0, f)
    };
    count("jobs", |c| c.received).saturating_sub(count("results", |c| c.sent))
}

/// What a joined worker returned, or `None` when the lab aborted the run
/// (a verdict): then main's reads came back short, and only the lab's
/// counters tell how far the run got (see [`aborted`]).
fn unless_aborted<T>(lab: &Lab, joined: Result<T, JoinError>) -> Option<T> {
    joined.ok().filter(|_| !lab.is_aborted())
}

/// The outcome of a run the lab aborted (after a verdict): main's reads
/// came back empty, so the counts are the lab's own, for `jobs` and
/// `results`.
fn aborted(lab: &Lab, n: u64) -> Outcome {
    let channels = lab.snapshot().channels;
    let counts = |name: &str| {
        channels
            .iter()
            .find(|c| c.name == name)
            .map_or((0, 0, 0), |c| (c.sent, c.received, c.len))
    };
    let (submitted, taken, _) = counts("jobs");
    let (sent, read, waiting) = counts("results");
    Outcome {
        items_in: n,
        items_out: read,
        lost: n.saturating_sub(read),
        problems: vec![format!(
            "the run never finished: the client got {submitted} of {n} jobs into the pool, the \
             workers took {taken} and got {sent} results into `results` ({waiting} still there), \
             and main read {read}"
        )],
        ..Outcome::default()
    }
}

/// Every job `1..=n` must be done exactly once or handed back.
fn tally(n: u64, done: &[Done], back: &[u64]) -> Outcome {
    let mut seen: BTreeMap<u64, u32> = BTreeMap::new();
    for job in done.iter().map(|d| d.job).chain(back.iter().copied()) {
        *seen.entry(job).or_default() += 1;
    }
    let missing: Vec<u64> = (1..=n).filter(|j| !seen.contains_key(j)).collect();
    let twice: Vec<u64> = seen
        .iter()
        .filter(|&(_, &c)| c > 1)
        .map(|(&j, _)| j)
        .collect();
    let mut outcome = Outcome {
        items_in: n,
        items_out: done.len() as u64,
        lost: missing.len() as u64,
        ..Outcome::default()
    };
    let mut by_worker: BTreeMap<usize, u64> = BTreeMap::new();
    for d in done {
        *by_worker.entry(d.by).or_default() += 1;
    }
    let shares: Vec<String> = by_worker
        .iter()
        .map(|(w, c)| format!("worker#{w}: {c}"))
        .collect();
    let shares = if shares.is_empty() {
        String::new()
    } else {
        format!(" ({})", shares.join(", "))
    };
    outcome.notes.push(format!(
        "{} done{shares}, {} handed back",
        done.len(),
        back.len()
    ));
    if !missing.is_empty() {
        outcome.problems.push(format!(
            "{} job(s) neither done nor handed back: {}",
            missing.len(),
            short_list(&missing)
        ));
    }
    if !twice.is_empty() {
        outcome
            .problems
            .push(format!("jobs accounted for twice: {twice:?}"));
    }
    outcome
}

/// `[1, 2, 3]`, or `[1, 2, 3, ... 24]` for a long list.
fn short_list(jobs: &[u64]) -> String {
    match jobs {
        [a, b, c, .., last] if jobs.len() > 5 => format!("[{a}, {b}, {c}, ... {last}]"),
        _ => format!("{jobs:?}"),
    }
}

fn note_refused(outcome: &mut Outcome, refused: &[PoolClosed<u64>]) {
    if !refused.is_empty() {
        let jobs: Vec<u64> = refused.iter().map(|e| e.0).collect();
        outcome
            .notes
            .push(format!("the client got back refused jobs {jobs:?}"));
    }
}
