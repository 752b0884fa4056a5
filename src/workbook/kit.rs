//! What the exercises have in reach besides the lab: the slow work they
//! hand out, and the traits through which the check calls a learner's
//! type. Everything here is the check's side: it counts what the
//! learner's code does (who ran which job, how many at once, when), so
//! the check can say "4 jobs ran at once" and name the workers.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::lab::Lab;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The name of the worker calling (its OS thread's name, which the lab
/// gives every `lab.go` worker), or `main`'s.
fn who() -> String {
    std::thread::current()
        .name()
        .unwrap_or("a thread with no name")
        .to_owned()
}

/// How long [`slow_square`] takes, in lesson time.
pub const SQUARE_TIME: Duration = Duration::from_millis(100);

/// Squares `n` slowly: 100 ms of simulated work, then `n * n` (exercise 01).
pub fn slow_square(lab: &Lab, n: u64) -> u64 {
    lab.work(SQUARE_TIME);
    n * n
}

/// One start or end of a job, as the check's job counted it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Mark {
    /// Position among every mark of the run (the order they happened).
    pub seq: u64,
    /// The job.
    pub job: u64,
    /// The worker that ran it.
    pub by: String,
    /// Lesson time.
    pub at: Duration,
    /// False for a start, true for an end.
    pub end: bool,
    /// For an end: the job failed.
    pub failed: bool,
    /// For a start: the check had marked the pool canceled before it.
    pub after_cancel: bool,
}

/// The check's count of one run's jobs.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    pub marks: Vec<Mark>,
    pub busy: usize,
    pub peak: usize,
    /// Who was busy when the peak was reached.
    pub peak_jobs: Vec<(u64, String)>,
    pub running: Vec<(u64, String)>,
    pub canceled: bool,
}

impl Tally {
    fn start(&mut self, job: u64, at: Duration) {
        let by = who();
        let seq = self.marks.len() as u64;
        self.marks.push(Mark {
            seq,
            job,
            by: by.clone(),
            at,
            end: false,
            failed: false,
            after_cancel: self.canceled,
        });
        self.busy += 1;
        self.running.push((job, by));
        if self.busy > self.peak {
            self.peak = self.busy;
            self.peak_jobs.clone_from(&self.running);
        }
    }

    fn end(&mut self, job: u64, at: Duration, failed: bool) {
        let by = who();
        let seq = self.marks.len() as u64;
        self.marks.push(Mark {
            seq,
            job,
            by,
            at,
            end: true,
            failed,
            after_cancel: self.canceled,
        });
        self.busy = self.busy.saturating_sub(1);
        if let Some(i) = self.running.iter().position(|(j, _)| *j == job) {
            self.running.remove(i);
        }
    }

    pub(crate) fn starts(&self) -> impl Iterator<Item = &Mark> {
        self.marks.iter().filter(|m| !m.end)
    }

    pub(crate) fn ends(&self) -> impl Iterator<Item = &Mark> {
        self.marks.iter().filter(|m| m.end)
    }
}

/// Exercise 03: the worker pool.
pub mod pool {
    use super::{Arc, Duration, Lab, Mutex, Tally, lock};

    /// How long one job takes, in lesson time.
    pub const JOB_TIME: Duration = Duration::from_millis(100);

    /// The work a pool's worker runs for each job: 100 ms of simulated
    /// work. Cheap to clone; every clone counts into the same tally.
    #[derive(Clone)]
    pub struct Job {
        lab: Lab,
        pub(crate) tally: Arc<Mutex<Tally>>,
    }

    impl Job {
        /// A job for a run of `lab`.
        #[must_use]
        pub fn new(lab: &Lab) -> Self {
            Self {
                lab: lab.clone(),
                tally: Arc::default(),
            }
        }

        /// Runs job `n` (call it from one of your pool's workers).
        pub fn run(&self, n: u64) {
            lock(&self.tally).start(n, self.lab.now());
            self.lab.work(JOB_TIME);
            lock(&self.tally).end(n, self.lab.now(), false);
        }

        /// The check marks the pool canceled: a job started after this
        /// started after `cancel` returned.
        pub(crate) fn mark_canceled(&self) {
            lock(&self.tally).canceled = true;
        }
    }

    /// What the check calls on your pool. Every method takes `&self`: the
    /// check shares the pool (in an `Arc`) between the worker that submits
    /// and the one that cancels or shuts down.
    pub trait Pool: Send + Sync + 'static {
        /// Starts `workers` workers that run jobs with `job.run(n)`; the
        /// queue of jobs waiting for a worker holds at most `capacity`.
        fn start(lab: &Lab, workers: usize, capacity: usize, job: Job) -> Self
        where
            Self: Sized;

        /// Queues job `n`, waiting while the queue is full. After `cancel`
        /// or `shutdown` it refuses: `Err(n)` gives the job back.
        fn submit(&self, n: u64) -> Result<(), u64>;

        /// Stop now: refuse new jobs, let no worker start another job
        /// (a job already running finishes), and hand back every job that
        /// was accepted but not started.
        fn cancel(&self) -> Vec<u64>;

        /// Stop gracefully: refuse new jobs, run every queued job, and
        /// return once every worker has finished.
        fn shutdown(&self);
    }
}

/// Exercise 04: the token bucket.
pub mod limiter {
    pub use crate::lessons::rate_limiter::{Clock, FakeClock, LabClock};

    use super::Lab;
    use crate::lab::Receiver;
    use std::sync::Arc;

    /// `wait` gave up: `done` closed before a token was due.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Cancelled;

    impl std::fmt::Display for Cancelled {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("cancelled before a token was due")
        }
    }

    impl std::error::Error for Cancelled {}

    /// What the check calls on your token bucket.
    pub trait RateLimiter: Send + 'static {
        /// A full bucket of `burst` tokens, refilled at `rate` tokens per
        /// second of `clock`'s time.
        fn new(rate: u32, burst: u32, clock: Arc<dyn Clock>) -> Self
        where
            Self: Sized;

        /// Takes a token if there is one now; never waits.
        fn allow(&mut self) -> bool;

        /// Waits until a token is due and takes it; `Err(Cancelled)` at
        /// once if `done` closes first (Go: a cancelled context).
        fn wait(&mut self, lab: &Lab, done: &Receiver<()>) -> Result<(), Cancelled>;
    }
}

/// Exercise 05: the broadcast.
pub mod broadcast {
    use super::Lab;

    /// Why a subscriber got no message (tokio's `broadcast::RecvError`).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum RecvError {
        /// It fell behind: this many messages were dropped for it since
        /// it was last told.
        Lagged(u64),
        /// The broadcaster is gone and nothing is left to read.
        Closed,
    }

    /// A subscriber's end, as the check reads it.
    pub trait Subscriber: Send + 'static {
        /// The next message, or `Lagged(n)` once after n were dropped, or
        /// `Closed` at the end.
        fn recv(&self) -> Result<u64, RecvError>;
    }

    /// What the check calls on your broadcaster.
    pub trait Broadcast: Send + 'static {
        /// The subscriber's end.
        type Subscription: Subscriber;

        /// A broadcaster whose subscribers each get a buffer of `capacity`.
        fn new(lab: &Lab, capacity: usize) -> Self
        where
            Self: Sized;

        /// Adds subscriber `name`.
        fn subscribe(&mut self, name: &str) -> Self::Subscription;

        /// Sends `msg` to every subscriber; never waits.
        fn send(&mut self, msg: u64);
    }
}

/// Exercise 06: the drain.
pub mod drain {
    use std::fmt;

    use super::{Arc, Duration, Lab, Mutex, Tally, lock};

    /// How long a job takes, in lesson time (unless the check says otherwise).
    pub const JOB_TIME: Duration = Duration::from_millis(100);

    /// A job that failed.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct JobError {
        /// The job's number.
        pub job: u64,
    }

    impl fmt::Display for JobError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "job {} failed", self.job)
        }
    }

    impl std::error::Error for JobError {}

    /// The work for each job: simulated work that may fail. Cheap to
    /// clone; every clone counts into the same tally.
    #[derive(Clone)]
    pub struct Job {
        lab: Lab,
        /// Jobs that fail, and how long each takes before it does.
        failing: Vec<(u64, Duration)>,
        pub(crate) tally: Arc<Mutex<Tally>>,
    }

    impl Job {
        /// Jobs for a run of `lab`; the jobs in `failing` fail after the
        /// time given with each.
        #[must_use]
        pub fn new(lab: &Lab, failing: &[(u64, Duration)]) -> Self {
            Self {
                lab: lab.clone(),
                failing: failing.to_vec(),
                tally: Arc::default(),
            }
        }

        /// Runs job `n` (call it from one of your workers).
        pub fn run(&self, n: u64) -> Result<(), JobError> {
            lock(&self.tally).start(n, self.lab.now());
            let fails = self.failing.iter().find(|(job, _)| *job == n);
            self.lab.work(fails.map_or(JOB_TIME, |(_, d)| *d));
            lock(&self.tally).end(n, self.lab.now(), fails.is_some());
            match fails {
                Some(_) => Err(JobError { job: n }),
                None => Ok(()),
            }
        }
    }
}
