//! The workbook: every exercise's first version fails its check with the
//! expected verdict, every shipped solution passes, and plausible wrong
//! solutions a learner would write fail with the right verdict, naming the
//! learner's own worker and channel. These run in-process, straight
//! through the check API (no cargo). One test at the end goes through it
//! all as a learner would, in a temporary workbook: `init`, `verify`,
//! fix, `verify 1`, and `watch` in tmux for one cycle.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use chanlab::lab::{JoinHandle, Lab, Receiver, Select, Sender, TryRecvError, TrySendError};
use chanlab::workbook::check::{self, Failure, Subject};
use chanlab::workbook::exercises;
use chanlab::workbook::kit::slow_square;
use chanlab::{select, select_biased};

// The exercises as `chanlab init` writes them, and the shipped solutions,
// compiled here as a workbook would compile them.
#[allow(dead_code, unused, clippy::pedantic)]
#[path = "../src/workbook/template/exercises/01_pipeline.rs"]
mod first01;
#[allow(dead_code, unused, clippy::pedantic)]
#[path = "../src/workbook/template/exercises/02_merge.rs"]
mod first02;
#[allow(dead_code, unused, clippy::pedantic)]
#[path = "../src/workbook/template/exercises/03_pool.rs"]
mod first03;
#[allow(dead_code, unused, clippy::pedantic)]
#[path = "../src/workbook/template/exercises/04_limiter.rs"]
mod first04;
#[allow(dead_code, unused, clippy::pedantic)]
#[path = "../src/workbook/template/exercises/05_broadcast.rs"]
mod first05;
#[allow(dead_code, unused, clippy::pedantic)]
#[path = "../src/workbook/template/exercises/06_drain.rs"]
mod first06;
#[path = "../src/workbook/template/solutions/01_pipeline.rs"]
mod solved01;
#[path = "../src/workbook/template/solutions/02_merge.rs"]
mod solved02;
#[path = "../src/workbook/template/solutions/03_pool.rs"]
mod solved03;
#[path = "../src/workbook/template/solutions/04_limiter.rs"]
mod solved04;
#[path = "../src/workbook/template/solutions/05_broadcast.rs"]
mod solved05;
#[path = "../src/workbook/template/solutions/06_drain.rs"]
mod solved06;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The check's failure, or a panic saying the wrong code passed.
fn fails(subject: &Subject, what: &str) -> Box<Failure> {
    match subject.check() {
        Ok(passed) => panic!("{what} passed ({} runs), but it is wrong", passed.runs),
        Err(failure) => failure,
    }
}

/// `failure` has `kind` and its message names each of `names`.
fn assert_failure(failure: &Failure, kind: &str, names: &[&str]) {
    let message = failure.to_string();
    assert_eq!(failure.kind, kind, "the wrong kind of failure:\n{message}");
    for name in names {
        assert!(
            message.contains(name),
            "the message does not name `{name}`:\n{message}"
        );
    }
    assert!(
        !failure.case.mode.is_scheduled() || message.contains("chanlab verify"),
        "a scheduled failure says how to replay it:\n{message}"
    );
}

fn passes(subject: &Subject, what: &str) {
    if let Err(failure) = subject.check() {
        panic!("{what} should pass, but:\n{failure}");
    }
}

fn first_version_kind(n: u8) -> &'static str {
    exercises::find(n).unwrap().first_version_fails_with
}

#[test]
fn smoke() {
    assert_eq!(
        exercises::catalog().len(),
        6,
        "one exercise per landed lesson"
    );
    let case = check::pipeline::subject(solved01::square).cases()[0];
    check::pipeline::subject(solved01::square)
        .check_case(case)
        .expect("the solution of exercise 01 holds its first case");
}

#[test]
fn every_exercise_has_a_hint_a_solution_and_its_own_file() {
    for exercise in exercises::catalog() {
        assert!(
            exercise.hint.len() > 80,
            "{}: a real hint",
            exercise.label()
        );
        assert_ne!(exercise.template, exercise.solution, "{}", exercise.label());
        assert!(
            !exercise.template.contains("todo!") && !exercise.template.contains("unimplemented!"),
            "{}: the first version compiles and runs, wrong",
            exercise.label()
        );
        assert!(
            exercise.subject.contains("exercise::"),
            "{}",
            exercise.label()
        );
    }
}

// ---- 01 pipeline ----------------------------------------------------------

/// One worker does every number (the task wants `workers`).
fn square_one_worker(lab: &Lab, numbers: Receiver<u64>, _: usize, buffer: usize) -> Receiver<u64> {
    let (tx, squares) = lab.bounded("squares", buffer);
    let lab2 = lab.clone();
    lab.go("square#1", move || {
        for n in &numbers {
            if tx.send(slow_square(&lab2, n)).is_err() {
                return;
            }
        }
    });
    squares
}

/// `try_recv` ends the loop as soon as `numbers` looks empty, not when it closes.
fn square_try_recv(
    lab: &Lab,
    numbers: Receiver<u64>,
    workers: usize,
    buffer: usize,
) -> Receiver<u64> {
    let (tx, squares) = lab.bounded("squares", buffer);
    for w in 1..=workers {
        let (numbers, tx, lab2) = (numbers.clone(), tx.clone(), lab.clone());
        lab.go(format!("square#{w}"), move || {
            while let Ok(n) = numbers.try_recv() {
                let _ = tx.send(slow_square(&lab2, n));
            }
        });
    }
    squares
}

/// A Sender kept "for retries" that nobody ever drops.
fn square_spare_sender(
    lab: &Lab,
    numbers: Receiver<u64>,
    workers: usize,
    buffer: usize,
) -> Receiver<u64> {
    let (tx, squares) = lab.bounded("squares", buffer);
    for w in 1..=workers {
        let (numbers, tx, lab2) = (numbers.clone(), tx.clone(), lab.clone());
        lab.go(format!("square#{w}"), move || {
            for n in &numbers {
                let _ = tx.send(slow_square(&lab2, n));
            }
        });
    }
    std::mem::forget(tx); // "for retries"
    squares
}

/// An error on `recv` is ignored: once `numbers` closes the loop spins.
fn square_ignores_the_close(
    lab: &Lab,
    numbers: Receiver<u64>,
    workers: usize,
    buffer: usize,
) -> Receiver<u64> {
    let (tx, squares) = lab.bounded("squares", buffer);
    for w in 1..=workers {
        let (numbers, tx, lab2) = (numbers.clone(), tx.clone(), lab.clone());
        lab.go(format!("square#{w}"), move || {
            loop {
                let Ok(n) = numbers.recv() else { continue };
                let _ = tx.send(slow_square(&lab2, n));
            }
        });
    }
    squares
}

/// A std thread where `lab.go` belongs. (Scoped, so it touches the
/// channels before `square` returns: a detached `std::thread::spawn` races
/// the scheduler's deadlock check, which does not wait for threads it
/// cannot see; see the report of the workbook change.)
fn square_std_thread(lab: &Lab, numbers: Receiver<u64>, _: usize, buffer: usize) -> Receiver<u64> {
    let (tx, squares) = lab.bounded("squares", buffer);
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("my-squarer".to_owned())
            .spawn_scoped(scope, || {
                for n in &numbers {
                    let _ = tx.send(n * n);
                }
            })
            .unwrap();
    });
    squares
}

#[test]
fn exercise_01_first_version_fails_solution_passes() {
    let failure = fails(
        &check::pipeline::subject(first01::square),
        "the first version",
    );
    assert_failure(&failure, first_version_kind(1), &["main", "`squares`"]);
    passes(&check::pipeline::subject(solved01::square), "the solution");
}

#[test]
fn exercise_01_wrong_solutions_fail_naming_the_learners_worker_and_channel() {
    let cases: [(check::pipeline::Square, &str, &[&str]); 5] = [
        (square_one_worker, "sequential", &["square#1", "`squares`"]),
        // Its workers quit when `numbers` looks empty: one is left, alone.
        (square_try_recv, "sequential", &["square#", "`squares`"]),
        (
            square_spare_sender,
            "deadlock",
            &["sink", "`squares` never closed"],
        ),
        (
            square_ignores_the_close,
            "runaway",
            &["square#", "`squares`"],
        ),
        (
            square_std_thread,
            "outside thread",
            &["my-squarer", "lab.go"],
        ),
    ];
    for (square, kind, names) in cases {
        let failure = fails(&check::pipeline::subject(square), kind);
        assert_failure(&failure, kind, names);
    }
}

// ---- 02 fan-in ---------------------------------------------------------------

/// One worker selects over every input and stops at the first that closes.
fn merge_until_first_close(lab: &Lab, inputs: Vec<Receiver<u64>>, buffer: usize) -> Receiver<u64> {
    let (tx, merged) = lab.bounded("merged", buffer);
    lab.go("merge", move || {
        loop {
            let mut sel = Select::new();
            for input in &inputs {
                sel.recv(input);
            }
            let op = sel.select();
            let i = op.index();
            match op.recv(&inputs[i]) {
                Ok(item) => {
                    let _ = tx.send(item);
                }
                Err(_) => return, // "the inputs are done"
            }
        }
    });
    merged
}

/// Forwarders that forward one item each (`if let` where `while let` belongs).
fn merge_one_each(lab: &Lab, inputs: Vec<Receiver<u64>>, buffer: usize) -> Receiver<u64> {
    let (tx, merged) = lab.bounded("merged", buffer);
    for (i, input) in inputs.into_iter().enumerate() {
        let tx = tx.clone();
        lab.go(format!("merge#{}", i + 1), move || {
            if let Ok(item) = input.recv() {
                let _ = tx.send(item);
            }
        });
    }
    merged
}

/// Forwarders that stop when their input looks empty.
fn merge_try_recv(lab: &Lab, inputs: Vec<Receiver<u64>>, buffer: usize) -> Receiver<u64> {
    let (tx, merged) = lab.bounded("merged", buffer);
    for (i, input) in inputs.into_iter().enumerate() {
        let tx = tx.clone();
        lab.go(format!("merge#{}", i + 1), move || {
            while let Ok(item) = input.try_recv() {
                let _ = tx.send(item);
            }
        });
    }
    merged
}

/// Takes everything in, sorts it, sends it: in order, and unbounded.
fn in_order_sort_all(lab: &Lab, inputs: Vec<Receiver<u64>>, buffer: usize) -> Receiver<u64> {
    let merged = solved02::merge(lab, inputs, buffer);
    let (tx, sorted) = lab.bounded("sorted", buffer);
    lab.go("sorter", move || {
        let mut all: Vec<u64> = merged.iter().collect();
        all.sort_unstable();
        for item in all {
            let _ = tx.send(item);
        }
    });
    sorted
}

/// A k-way merge that stops when the first input runs dry.
fn in_order_stops_early(lab: &Lab, inputs: Vec<Receiver<u64>>, buffer: usize) -> Receiver<u64> {
    let (tx, out) = lab.bounded("in_order", buffer);
    lab.go("merge_in_order", move || {
        let mut heads: Vec<Option<u64>> = inputs.iter().map(|i| i.recv().ok()).collect();
        loop {
            if heads.iter().any(Option::is_none) {
                return; // "an input is done, so we are done"
            }
            let (from, item) = heads
                .iter()
                .enumerate()
                .filter_map(|(i, h)| h.map(|v| (i, v)))
                .min_by_key(|&(_, v)| v)
                .unwrap();
            let _ = tx.send(item);
            heads[from] = inputs[from].recv().ok();
        }
    });
    out
}

#[test]
fn exercise_02_first_version_fails_solution_passes() {
    let first = check::merge::subject(first02::merge, first02::merge_in_order);
    let failure = fails(&first, "the first version");
    assert_failure(&failure, first_version_kind(2), &["merge", "`in#"]);
    // What the first version of part 2 does (a plain merge), after a
    // right part 1.
    let part2 = check::merge::subject(solved02::merge, solved02::merge);
    assert_failure(
        &fails(&part2, "a plain merge in part 2"),
        "order",
        &["merge#", "`merged`"],
    );
    passes(
        &check::merge::subject(solved02::merge, solved02::merge_in_order),
        "the solution",
    );
}

#[test]
fn exercise_02_wrong_solutions_fail_naming_the_learners_worker_and_channel() {
    let part1: [(check::merge::Merge, &str, &[&str]); 3] = [
        (merge_until_first_close, "lost", &["merge", "`merged`"]),
        (merge_one_each, "lost", &["merge#", "`merged`"]),
        (merge_try_recv, "lost", &["merge#", "`merged`"]),
    ];
    for (merge, kind, names) in part1 {
        let failure = fails(
            &check::merge::subject(merge, solved02::merge_in_order),
            kind,
        );
        assert_failure(&failure, kind, names);
    }
    let part2: [(check::merge::Merge, &str, &[&str]); 2] = [
        (in_order_sort_all, "unbounded", &["sorter", "`sorted`"]),
        (
            in_order_stops_early,
            "lost",
            &["merge_in_order", "`in_order`"],
        ),
    ];
    for (merge_in_order, kind, names) in part2 {
        let failure = fails(
            &check::merge::subject(solved02::merge, merge_in_order),
            kind,
        );
        assert_failure(&failure, kind, names);
    }
}

// ---- 03 worker pool -------------------------------------------------------------

use chanlab::workbook::kit::pool::{Job, Pool};

/// The pool's plausible bugs, one per number.
const TRY_ITER_CANCEL: u8 = 1;
const THREAD_PER_JOB: u8 = 2;
const JOIN_BEFORE_CLOSE: u8 = 3;

/// The pool of the solution, with bug `BUG` in it.
struct BuggyPool<const BUG: u8> {
    lab: Lab,
    job: Job,
    jobs: Mutex<Option<Sender<u64>>>,
    queue: Receiver<u64>,
    done: Mutex<Option<Sender<()>>>,
    workers: Mutex<Vec<JoinHandle<()>>>,
    spawned: AtomicU64,
}

impl<const BUG: u8> Pool for BuggyPool<BUG> {
    fn start(lab: &Lab, workers: usize, capacity: usize, job: Job) -> Self {
        let (jobs, queue) = lab.bounded("jobs", capacity);
        let (done_tx, done) = lab.bounded::<()>("done", 0);
        let handles = (1..=workers)
            .filter(|_| BUG != THREAD_PER_JOB)
            .map(|i| {
                let (queue, done, job) = (queue.clone(), done.clone(), job.clone());
                lab.go(format!("worker#{i}"), move || {
                    loop {
                        let next = select_biased! {
                            recv(done) -> _ => None,
                            recv(queue) -> n => n.ok(),
                        };
                        let Some(n) = next else { return };
                        job.run(n);
                    }
                })
            })
            .collect();
        Self {
            lab: lab.clone(),
            job,
            jobs: Mutex::new(Some(jobs)),
            queue,
            done: Mutex::new(Some(done_tx)),
            workers: Mutex::new(handles),
            spawned: AtomicU64::new(0),
        }
    }

    fn submit(&self, n: u64) -> Result<(), u64> {
        if BUG == THREAD_PER_JOB {
            if lock(&self.jobs).is_none() {
                return Err(n);
            }
            let k = self.spawned.fetch_add(1, Ordering::SeqCst) + 1;
            let job = self.job.clone();
            let handle = self.lab.go(format!("job#{k}"), move || job.run(n));
            lock(&self.workers).push(handle);
            return Ok(());
        }
        let Some(jobs) = lock(&self.jobs).clone() else {
            return Err(n);
        };
        jobs.send(n).map_err(|e| e.0)
    }

    fn cancel(&self) -> Vec<u64> {
        drop(lock(&self.jobs).take());
        drop(lock(&self.done).take());
        if BUG == TRY_ITER_CANCEL {
            return self.queue.try_iter().collect();
        }
        self.queue.iter().collect()
    }

    fn shutdown(&self) {
        if BUG != JOIN_BEFORE_CLOSE {
            drop(lock(&self.jobs).take());
        }
        let workers = std::mem::take(&mut *lock(&self.workers));
        for worker in workers {
            let _ = worker.join();
        }
        drop(lock(&self.jobs).take());
    }
}

#[test]
fn exercise_03_first_version_fails_solution_passes() {
    let failure = fails(
        &check::pool::subject::<first03::WorkerPool>(),
        "the first version",
    );
    assert_failure(&failure, first_version_kind(3), &["client", "`jobs`"]);
    passes(
        &check::pool::subject::<solved03::WorkerPool>(),
        "the solution",
    );
}

#[test]
fn exercise_03_wrong_solutions_fail_naming_the_learners_worker_and_channel() {
    let runs: [(Subject, &str, &[&str]); 3] = [
        (
            check::pool::subject::<BuggyPool<TRY_ITER_CANCEL>>(),
            "lost",
            &["`cancel`", "until the queue is disconnected"],
        ),
        (
            check::pool::subject::<BuggyPool<THREAD_PER_JOB>>(),
            "busy",
            &["`job#", "more than the pool's"],
        ),
        (
            check::pool::subject::<BuggyPool<JOIN_BEFORE_CLOSE>>(),
            "deadlock",
            &["worker#1", "`jobs`"],
        ),
    ];
    for (subject, kind, names) in runs {
        let failure = fails(&subject, kind);
        assert_failure(&failure, kind, names);
    }
}

// ---- 04 rate limiter --------------------------------------------------------------

use chanlab::workbook::kit::limiter::{Cancelled, Clock, RateLimiter};

const NO_CAP: u8 = 1;
const WHOLE_SECONDS: u8 = 2;
const BUSY_WAIT: u8 = 3;
const SLEEP_IGNORES_DONE: u8 = 4;

const UNIT: u128 = 1_000_000_000;

/// The solution's bucket, with bug `BUG` in it.
struct BuggyBucket<const BUG: u8> {
    rate: u32,
    burst: u32,
    clock: Arc<dyn Clock>,
    tokens: u128,
    last: Duration,
}

impl<const BUG: u8> BuggyBucket<BUG> {
    fn refill(&mut self) {
        let now = self.clock.now();
        let elapsed = now.saturating_sub(self.last);
        if BUG == WHOLE_SECONDS {
            // Whole seconds only, and the rest of the time forgotten.
            self.tokens += u128::from(elapsed.as_secs()) * u128::from(self.rate) * UNIT;
        } else {
            self.tokens += elapsed.as_nanos() * u128::from(self.rate);
        }
        if BUG != NO_CAP {
            self.tokens = self.tokens.min(u128::from(self.burst) * UNIT);
        }
        self.last = now;
    }
}

impl<const BUG: u8> RateLimiter for BuggyBucket<BUG> {
    fn new(rate: u32, burst: u32, clock: Arc<dyn Clock>) -> Self {
        let last = clock.now();
        Self {
            rate,
            burst,
            clock,
            tokens: u128::from(burst) * UNIT,
            last,
        }
    }

    fn allow(&mut self) -> bool {
        self.refill();
        if self.tokens >= UNIT {
            self.tokens -= UNIT;
            true
        } else {
            false
        }
    }

    fn wait(&mut self, lab: &Lab, done: &Receiver<()>) -> Result<(), Cancelled> {
        loop {
            if self.allow() {
                return Ok(());
            }
            if BUG == BUSY_WAIT {
                // Poll: is it cancelled? is there a token yet?
                if !matches!(done.try_recv(), Err(TryRecvError::Empty)) {
                    return Err(Cancelled);
                }
                continue;
            }
            let nanos = (UNIT - self.tokens).div_ceil(u128::from(self.rate));
            let due = Duration::from_nanos(u64::try_from(nanos).unwrap());
            if BUG == SLEEP_IGNORES_DONE {
                lab.work(due);
                continue;
            }
            let timer = lab.after(due);
            select! {
                recv(timer) -> _ => {}
                recv(done) -> _ => return Err(Cancelled),
            }
        }
    }
}

#[test]
fn exercise_04_first_version_fails_solution_passes() {
    let failure = fails(
        &check::limiter::subject::<first04::TokenBucket>(),
        "the first version",
    );
    assert_failure(&failure, first_version_kind(4), &["burst 5"]);
    passes(
        &check::limiter::subject::<solved04::TokenBucket>(),
        "the solution",
    );
}

#[test]
fn exercise_04_wrong_solutions_fail_naming_the_worker_and_channel() {
    // The bucket is the learner's; the worker that calls it and `done` are
    // the check's, and those are what the messages can name.
    let runs: [(Subject, &str, &[&str]); 4] = [
        (
            check::limiter::subject::<BuggyBucket<NO_CAP>>(),
            "burst",
            &["after 10 s idle"],
        ),
        (
            check::limiter::subject::<BuggyBucket<WHOLE_SECONDS>>(),
            "refill",
            &["100 ms"],
        ),
        (
            check::limiter::subject::<BuggyBucket<BUSY_WAIT>>(),
            "runaway",
            &["`server`", "polls"],
        ),
        (
            check::limiter::subject::<BuggyBucket<SLEEP_IGNORES_DONE>>(),
            "cancel ignored",
            &["`server`", "`done`"],
        ),
    ];
    for (subject, kind, names) in runs {
        let failure = fails(&subject, kind);
        assert_failure(&failure, kind, names);
    }
}

// ---- 05 broadcast ----------------------------------------------------------------

use chanlab::workbook::kit::broadcast::{Broadcast, RecvError, Subscriber};

const SKIP_ON_FULL: u8 = 1;
const DROP_NEWEST: u8 = 2;
const UNCOUNTED: u8 = 3;

struct BuggySub {
    tx: Sender<u64>,
    oldest: Receiver<u64>,
    lagged: Arc<AtomicU64>,
}

/// The exercise's broadcaster, with a wrong `send`.
struct BuggyBroadcaster<const BUG: u8> {
    lab: Lab,
    capacity: usize,
    subs: Vec<BuggySub>,
}

struct BuggySubscription {
    rx: Receiver<u64>,
    lagged: Arc<AtomicU64>,
}

impl Subscriber for BuggySubscription {
    fn recv(&self) -> Result<u64, RecvError> {
        match self.lagged.swap(0, Ordering::SeqCst) {
            0 => {}
            n => return Err(RecvError::Lagged(n)),
        }
        self.rx
            .recv()
            .map_err(|_| match self.lagged.swap(0, Ordering::SeqCst) {
                0 => RecvError::Closed,
                n => RecvError::Lagged(n),
            })
    }
}

impl<const BUG: u8> Broadcast for BuggyBroadcaster<BUG> {
    type Subscription = BuggySubscription;

    fn new(lab: &Lab, capacity: usize) -> Self {
        Self {
            lab: lab.clone(),
            capacity,
            subs: Vec::new(),
        }
    }

    fn subscribe(&mut self, name: &str) -> BuggySubscription {
        let (tx, rx) = self.lab.bounded(format!("to-{name}"), self.capacity);
        let lagged = Arc::new(AtomicU64::new(0));
        self.subs.push(BuggySub {
            tx,
            oldest: rx.clone(),
            lagged: Arc::clone(&lagged),
        });
        BuggySubscription { rx, lagged }
    }

    fn send(&mut self, msg: u64) {
        for sub in &self.subs {
            let Err(TrySendError::Full(msg)) = sub.tx.try_send(msg) else {
                continue;
            };
            match BUG {
                SKIP_ON_FULL => return, // the rest miss it too
                DROP_NEWEST => {
                    sub.lagged.fetch_add(1, Ordering::SeqCst);
                }
                _ => {
                    // UNCOUNTED: drop the oldest, say nothing.
                    let _ = sub.oldest.try_recv();
                    let _ = sub.tx.try_send(msg);
                }
            }
        }
    }
}

#[test]
fn exercise_05_first_version_fails_solution_passes() {
    let failure = fails(
        &check::broadcast::subject::<first05::Broadcaster>(),
        "the first version",
    );
    assert_failure(
        &failure,
        first_version_kind(5),
        &["publisher", "`to-sub#1`"],
    );
    passes(
        &check::broadcast::subject::<solved05::Broadcaster>(),
        "the solution",
    );
}

#[test]
fn exercise_05_wrong_solutions_fail_naming_the_worker_and_channel() {
    let runs: [(Subject, &str, &[&str]); 3] = [
        (
            check::broadcast::subject::<BuggyBroadcaster<SKIP_ON_FULL>>(),
            "lost",
            &["`sub#", "`to-sub#"],
        ),
        (
            check::broadcast::subject::<BuggyBroadcaster<DROP_NEWEST>>(),
            "kept old",
            &["`sub#1`", "the newest"],
        ),
        (
            check::broadcast::subject::<BuggyBroadcaster<UNCOUNTED>>(),
            "lost",
            &["`sub#1`", "`to-sub#1`"],
        ),
    ];
    for (subject, kind, names) in runs {
        let failure = fails(&subject, kind);
        assert_failure(&failure, kind, names);
    }
}

// ---- 06 drain --------------------------------------------------------------------

use chanlab::workbook::kit::drain::{Job as DrainJob, JobError};

/// The failing worker stops; the others go on, and nobody tells the producer.
fn drain_stops_alone(
    lab: &Lab,
    jobs: Receiver<u64>,
    cancel: Sender<()>,
    workers: usize,
    job: DrainJob,
) -> Result<u64, JobError> {
    let handles: Vec<JoinHandle<Result<u64, JobError>>> = (1..=workers)
        .map(|w| {
            let (jobs, job) = (jobs.clone(), job.clone());
            lab.go(format!("worker#{w}"), move || {
                let mut ran = 0;
                for n in &jobs {
                    job.run(n)?;
                    ran += 1;
                }
                Ok(ran)
            })
        })
        .collect();
    let mut total = 0;
    let mut first = None;
    for handle in handles {
        match handle.join() {
            Ok(Ok(ran)) => total += ran,
            Ok(Err(e)) => {
                first.get_or_insert(e);
            }
            Err(_) => {}
        }
    }
    drop(cancel);
    first.map_or(Ok(total), Err)
}

/// The right errgroup, but each error overwrites the one before.
fn drain_last_error_wins(
    lab: &Lab,
    jobs: Receiver<u64>,
    cancel: Sender<()>,
    workers: usize,
    job: DrainJob,
) -> Result<u64, JobError> {
    let last: Arc<Mutex<Option<JobError>>> = Arc::default();
    let (stop_tx, stop) = lab.bounded::<()>("stop", 0);
    let stoppers = Arc::new(Mutex::new(Some((stop_tx, cancel))));
    let handles: Vec<_> = (1..=workers)
        .map(|w| {
            let (jobs, stop, job) = (jobs.clone(), stop.clone(), job.clone());
            let (last, stoppers) = (Arc::clone(&last), Arc::clone(&stoppers));
            lab.go(format!("worker#{w}"), move || {
                let mut ran = 0;
                loop {
                    let next = select_biased! {
                        recv(stop) -> _ => None,
                        recv(jobs) -> n => n.ok(),
                    };
                    let Some(n) = next else { return ran };
                    match job.run(n) {
                        Ok(()) => ran += 1,
                        Err(e) => {
                            *lock(&last) = Some(e); // overwrites
                            drop(lock(&stoppers).take());
                            return ran;
                        }
                    }
                }
            })
        })
        .collect();
    let total = handles.into_iter().map(|h| h.join().unwrap_or(0)).sum();
    lock(&last).take().map_or(Ok(total), Err)
}

/// Returns at the first error it hears of, without waiting for the workers.
fn drain_no_join(
    lab: &Lab,
    jobs: Receiver<u64>,
    cancel: Sender<()>,
    workers: usize,
    job: DrainJob,
) -> Result<u64, JobError> {
    let (errors_tx, errors) = lab.unbounded::<JobError>("errors");
    let (ran_tx, ran) = lab.unbounded::<()>("ran");
    for w in 1..=workers {
        let (jobs, job, errors_tx, ran_tx) =
            (jobs.clone(), job.clone(), errors_tx.clone(), ran_tx.clone());
        lab.go(format!("worker#{w}"), move || {
            for n in &jobs {
                match job.run(n) {
                    Ok(()) => {
                        let _ = ran_tx.send(());
                    }
                    Err(e) => {
                        let _ = errors_tx.send(e);
                    }
                }
            }
        });
    }
    drop((errors_tx, ran_tx));
    let first = errors.recv();
    drop(cancel);
    match first {
        Ok(e) => Err(e),
        Err(_) => Ok(ran.try_iter().count() as u64),
    }
}

/// Workers that stop when `jobs` looks empty, not when it closes.
#[allow(clippy::unnecessary_wraps)] // the signature is the exercise's
fn drain_try_recv(
    lab: &Lab,
    jobs: Receiver<u64>,
    cancel: Sender<()>,
    workers: usize,
    job: DrainJob,
) -> Result<u64, JobError> {
    let handles: Vec<_> = (1..=workers)
        .map(|w| {
            let (jobs, job) = (jobs.clone(), job.clone());
            lab.go(format!("worker#{w}"), move || {
                let mut ran = 0;
                while let Ok(n) = jobs.try_recv() {
                    if job.run(n).is_ok() {
                        ran += 1;
                    }
                }
                ran
            })
        })
        .collect();
    let total = handles.into_iter().map(|h| h.join().unwrap_or(0)).sum();
    drop(cancel);
    Ok(total)
}

#[test]
fn exercise_06_first_version_fails_solution_passes() {
    let failure = fails(
        &check::drain::subject(first06::run_jobs),
        "the first version",
    );
    assert_failure(&failure, first_version_kind(6), &["worker#", "swallowed"]);
    passes(&check::drain::subject(solved06::run_jobs), "the solution");
}

#[test]
fn exercise_06_wrong_solutions_fail_naming_the_learners_worker_and_channel() {
    let runs: [(check::drain::RunJobs, &str, &[&str]); 4] = [
        (drain_stops_alone, "late stop", &["worker#", "`cancel`"]),
        (
            drain_last_error_wins,
            "wrong error",
            &["job 2 failed first"],
        ),
        (drain_no_join, "leak", &["worker#", "join every worker"]),
        (drain_try_recv, "lost", &["`jobs`", "never ran"]),
    ];
    for (run_jobs, kind, names) in runs {
        let failure = fails(&check::drain::subject(run_jobs), kind);
        assert_failure(&failure, kind, names);
    }
}

// ---- end to end, as a learner: a real workbook, cargo, and watch in tmux ------

mod end_to_end {
    use std::path::{Path, PathBuf};
    use std::process::{Command, Output};
    use std::time::{Duration, Instant};

    const CHANLAB: &str = env!("CARGO_BIN_EXE_chanlab");
    const SOLUTION_01: &str = include_str!("../src/workbook/template/solutions/01_pipeline.rs");
    /// How long one expected screen may take (a check builds the exercise first).
    const PATIENCE: Duration = Duration::from_secs(120);
    const POLL: Duration = Duration::from_millis(200);

    /// One target directory for every run of this test, under target/: the
    /// workbook builds chanlab once, not on every run.
    fn target_dir() -> PathBuf {
        Path::new(env!("CARGO_TARGET_TMPDIR")).join("workbook-e2e")
    }

    fn chanlab(dir: &Path, args: &[&str]) -> Output {
        Command::new(CHANLAB)
            .current_dir(dir)
            .args(args)
            .env("CARGO_TARGET_DIR", target_dir())
            .output()
            .expect("chanlab runs")
    }

    fn text(out: &Output) -> String {
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    }

    fn progress(workbook: &Path) -> String {
        std::fs::read_to_string(workbook.join("progress.toml")).unwrap()
    }

    /// A tmux server of our own, killed when dropped.
    struct Tmux(String);

    impl Tmux {
        fn start(dir: &Path, command: &str) -> Option<Self> {
            if Command::new("tmux").arg("-V").output().is_err() {
                println!("SKIPPED: tmux is not installed, so `chanlab watch` was not driven");
                return None;
            }
            let tmux = Self(format!("chanlab-workbook-test-{}", std::process::id()));
            let out = tmux.run(&[
                "new-session",
                "-d",
                "-s",
                "wb",
                "-x",
                "120",
                "-y",
                "50",
                "-c",
                &dir.display().to_string(),
                command,
            ]);
            assert!(out.status.success(), "tmux new-session: {out:?}");
            let _ = tmux.run(&["set-option", "-t", "wb", "remain-on-exit", "on"]);
            Some(tmux)
        }

        fn run(&self, args: &[&str]) -> Output {
            Command::new("tmux")
                .args(["-L", &self.0, "-f", "/dev/null"])
                .args(args)
                .output()
                .expect("tmux runs")
        }

        /// The screen and its scrollback.
        fn screen(&self) -> String {
            String::from_utf8_lossy(
                &self
                    .run(&["capture-pane", "-p", "-J", "-S", "-500", "-t", "wb"])
                    .stdout,
            )
            .into_owned()
        }

        fn wait_for(&self, what: &str) -> String {
            let start = Instant::now();
            loop {
                let screen = self.screen();
                if screen.contains(what) {
                    return screen;
                }
                assert!(
                    start.elapsed() < PATIENCE,
                    "`{what}` did not show up in {PATIENCE:?}; the screen:\n{screen}"
                );
                std::thread::sleep(POLL);
            }
        }

        fn send(&self, keys: &str) {
            let out = self.run(&["send-keys", "-t", "wb", keys]);
            assert!(out.status.success(), "send-keys: {out:?}");
        }
    }

    impl Drop for Tmux {
        fn drop(&mut self) {
            let _ = self.run(&["kill-server"]);
        }
    }

    /// Everything a learner can get wrong without cargo: a message that
    /// says what would be right, and exit code 2.
    #[test]
    fn bad_input_gets_a_message_and_exit_code_2() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("notes.txt"), "mine").unwrap();
        let cases: [(&[&str], &str); 8] = [
            (&["verify"], "not inside a chanlab workbook"),
            (&["progress"], "chanlab init"),
            (&["watch"], "not inside a chanlab workbook"),
            (&["hint", "9"], "01 pipeline, 02 merge"),
            (&["hint", "pipelin"], "by number or name"),
            (&["init", "."], "not empty"),
            (&["solution", "1"], "not inside a chanlab workbook"),
            (&["reset", "1", "--yes"], "not inside a chanlab workbook"),
        ];
        for (args, says) in cases {
            let out = chanlab(tmp.path(), args);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
            assert!(text(&out).contains(says), "{args:?}: {}", text(&out));
        }
        let hint = chanlab(tmp.path(), &["hint", "01"]);
        assert!(
            hint.status.success() && text(&hint).contains("lab.go"),
            "{}",
            text(&hint)
        );
    }

    /// `init`, `verify` fails on exercise 1, copy in the solution, `verify 1`
    /// passes and the progress file says so; then `watch` in tmux for one
    /// cycle: it fails, the hint shows, the fix passes, and it moves on.
    #[test]
    fn init_verify_fix_verify_then_watch_one_cycle() {
        let tmp = tempfile::tempdir().unwrap();
        let workbook = tmp.path().join("wb");
        let wb = workbook.display().to_string();

        let out = chanlab(tmp.path(), &["init", &wb]);
        assert!(out.status.success(), "{}", text(&out));
        for exercise in chanlab::workbook::exercises::catalog() {
            assert!(
                workbook.join(exercise.path()).is_file(),
                "{}",
                exercise.path()
            );
        }
        let again = chanlab(tmp.path(), &["init", &wb]);
        assert_eq!(again.status.code(), Some(2), "{}", text(&again));
        assert!(text(&again).contains("--force"), "{}", text(&again));

        // Slow the first time: it builds chanlab into the workbook's target.
        let all = chanlab(&workbook, &["verify"]);
        let said = text(&all);
        assert_eq!(all.status.code(), Some(1), "{said}");
        assert!(said.contains("✗ check failed: `square`"), "{said}");
        assert!(said.contains("0 of 6 exercises pass"), "{said}");
        assert!(said.contains("chanlab verify 1 --case"), "{said}");

        let locked = chanlab(&workbook, &["solution", "1"]);
        assert_eq!(locked.status.code(), Some(2), "{}", text(&locked));

        std::fs::write(workbook.join("exercises/01_pipeline.rs"), SOLUTION_01).unwrap();
        let one = chanlab(&workbook, &["verify", "1"]);
        assert!(one.status.success(), "{}", text(&one));
        assert!(text(&one).contains("✓ passed"), "{}", text(&one));
        assert!(
            progress(&workbook).contains("01_pipeline = \"passed\""),
            "{}",
            progress(&workbook)
        );
        let solution = chanlab(&workbook, &["solution", "1"]);
        assert!(solution.status.success() && text(&solution).contains("pub fn square"));

        // Back to the first version, for watch.
        let reset = chanlab(&workbook, &["reset", "1", "--yes"]);
        assert!(reset.status.success(), "{}", text(&reset));
        assert!(progress(&workbook).contains("01_pipeline = \"pending\""));

        let command = format!(
            "env CARGO_TARGET_DIR='{}' '{CHANLAB}' watch",
            target_dir().display()
        );
        let Some(tmux) = Tmux::start(&workbook, &command) else {
            return;
        };
        tmux.wait_for("✗ check failed: `square`");
        tmux.wait_for("q quit");
        tmux.send("h");
        tmux.wait_for("hint (01 pipeline)");
        std::fs::write(workbook.join("exercises/01_pipeline.rs"), SOLUTION_01).unwrap();
        tmux.wait_for("✓ exercise 01 pipeline passed: on to 02 merge");
        let screen = tmux.wait_for("✗ check failed: `merge`");
        assert!(screen.contains("exercise 2 of 6"), "{screen}");
        tmux.send("q");
        let start = Instant::now();
        while !progress(&workbook).contains("current = 2") {
            assert!(start.elapsed() < PATIENCE, "{}", progress(&workbook));
            std::thread::sleep(POLL);
        }
        assert!(progress(&workbook).contains("01_pipeline = \"passed\""));
    }
}
