#![doc = include_str!("README.md")]

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::lab::{Event, EventKind, JoinHandle, Lab, Receiver, Sender, Snapshot};
use crate::lessons::{
    Challenge, Expect, KnobRanges, Knobs, Lesson, Outcome, Variant, VariantKind, trail,
};
use crate::select_biased;

/// The lesson in the catalog.
pub static LESSON: Lesson = Lesson {
    number: 6,
    slug: "drain",
    title: "Graceful drain",
    summary: "on cancel: stop accepting, finish in-flight work, drain the queue, exit; never swallow an error",
    readme: concat!(
        include_str!("README.md"),
        "\n",
        include_str!("../LAB_CHANNELS.md")
    ),
    variants: &VARIANTS,
    defaults: Knobs {
        items: 30,
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
        title: "make cancel win the race: close `cancel` while `jobs` has a free slot and both workers hold a job",
        hint: "main cancels once it has read 5 results and counted two `in_hand` messages \
               (a worker sends one as it takes a job after the 5th). When the worker that \
               sent the 5th result has taken its next job, let main count its `in_hand` \
               before the producer refills `jobs`. Then watch the drain: every job that \
               got in is still done",
        variant: "correct",
        knobs: Knobs {
            items: 10,
            buffer: 2,
            workers: 2,
            seed: 1,
        },
        reached: cancel_won_the_race,
    }],
};

/// The challenge: when `cancel` closed, `jobs` had room (the producer lost
/// the race for that slot) and every worker had a job in hand (received
/// and not yet answered on `results`). Read from the events before the
/// cancel, so it stays reached afterwards.
fn cancel_won_the_race(snapshot: &Snapshot, events: &[Event]) -> bool {
    let Some(cancel) = events.iter().position(|e| {
        !e.cleanup
            && matches!(&e.kind, EventKind::Closed { channel, by_sender: true } if channel == "cancel")
    }) else {
        return false;
    };
    let before = &events[..cancel];
    let count = |worker: Option<&str>, channel: &str, sent: bool| {
        before
            .iter()
            .filter(|e| match &e.kind {
                EventKind::Sent {
                    worker: w,
                    channel: c,
                    ..
                } => sent && c == channel && worker.is_none_or(|x| x == w),
                EventKind::Received {
                    worker: w,
                    channel: c,
                    ..
                } => !sent && c == channel && worker.is_none_or(|x| x == w),
                _ => false,
            })
            .count()
    };
    let queued = count(None, "jobs", true).saturating_sub(count(None, "jobs", false));
    let room = trail::channel(snapshot, "jobs")
        .and_then(|jobs| jobs.capacity)
        .is_some_and(|cap| queued < cap);
    let workers: Vec<&str> = snapshot
        .workers
        .iter()
        .filter(|w| w.stage == "worker")
        .map(|w| w.name.as_str())
        .collect();
    let all_busy = !workers.is_empty()
        && workers
            .iter()
            .all(|&w| count(Some(w), "jobs", false) > count(Some(w), "results", true));
    room && all_busy
}

static VARIANTS: [Variant; 5] = [
    Variant {
        name: "correct",
        kind: VariantKind::Correct,
        summary: "on cancel the producer stops and drops `jobs`; workers finish the job in hand and drain the queue",
        explains: "closing `jobs` means \"no more\", not \"stop now\": every accepted job is still done, then the loops end",
        fixed_by: None,
        expect: Expect::Clean,
    },
    Variant {
        name: "exit-at-once",
        kind: VariantKind::Trap,
        summary: "workers select on `cancel` first and return once it closes, after the job in hand",
        explains: "the jobs still queued were accepted, and now nobody runs them: they are lost",
        fixed_by: Some("correct"),
        expect: Expect::Broken,
    },
    Variant {
        name: "drain-never-ends",
        kind: VariantKind::Trap,
        summary: "on cancel the producer stops sending, then waits for the workers while still holding `jobs`",
        explains: "`jobs` never closes, so the drained workers wait on it forever, and the producer waits for them: deadlock",
        fixed_by: Some("correct"),
        expect: Expect::Verdict("deadlock"),
    },
    Variant {
        name: "swallowed-error",
        kind: VariantKind::Trap,
        summary: "a job fails; its worker logs the error and carries on",
        explains: "nothing carries the error to anyone who could stop the run: the producer offers every job and the run \"succeeds\"",
        fixed_by: Some("errgroup"),
        expect: Expect::Broken,
    },
    Variant {
        name: "errgroup",
        kind: VariantKind::Fix,
        summary: "producer and workers run in a `Group`: the first error cancels the rest and `wait` returns it",
        explains: "the error surfaces as the run's result and cancels the group, so the producer stops early",
        fixed_by: None,
        expect: Expect::Clean,
    },
];

/// Simulated work per job, in lesson time (milliseconds).
const JOB_MS: (u64, u64) = (750, 1750);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One finished job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Done {
    /// The job's number.
    pub job: u64,
    /// The worker that ran it (`worker#by`).
    pub by: usize,
}

/// A job that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobError {
    /// The job's number.
    pub job: u64,
}

impl fmt::Display for JobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "job #{} failed: bad input", self.job)
    }
}

impl std::error::Error for JobError {}

/// A small errgroup (Go's `errgroup.WithContext`): tasks run as workers;
/// the first error is kept and cancels the group (its `cancel` channel
/// closes); `wait` waits for every task and returns that first error.
pub struct Group<E> {
    lab: Lab,
    tasks: Vec<JoinHandle<()>>,
    first: Arc<Mutex<Option<E>>>,
    /// The only Sender on `cancel`: dropped at the first error, or by `wait`.
    cancel: Arc<Mutex<Option<Sender<()>>>>,
    done: Receiver<()>,
}

impl<E: Send + 'static> Group<E> {
    /// A group with its own `cancel` channel (Go: the derived context).
    #[must_use]
    pub fn new(lab: &Lab) -> Self {
        let (cancel, done) = lab.bounded::<()>("cancel", 0);
        Self {
            lab: lab.clone(),
            tasks: Vec::new(),
            first: Arc::new(Mutex::new(None)),
            cancel: Arc::new(Mutex::new(Some(cancel))),
            done,
        }
    }

    /// Closes at the first error (Go: `ctx.Done()`). Nobody sends on it.
    #[must_use]
    pub fn done(&self) -> Receiver<()> {
        self.done.clone()
    }

    /// Runs `task` as the worker `name` (Go: `g.Go`).
    pub fn go(
        &mut self,
        name: impl Into<String>,
        task: impl FnOnce() -> Result<(), E> + Send + 'static,
    ) {
        let (first, cancel) = (Arc::clone(&self.first), Arc::clone(&self.cancel));
        self.tasks.push(self.lab.go(name, move || {
            if let Err(e) = task() {
                lock(&first).get_or_insert(e); // keep only the first
                drop(lock(&cancel).take()); // cancel everyone, once
            }
        }));
    }

    /// Waits for every task, then returns the first error (Go: `g.Wait`).
    pub fn wait(self) -> Result<(), E> {
        for task in self.tasks {
            let _ = task.join();
        }
        drop(lock(&self.cancel).take());
        lock(&self.first).take().map_or(Ok(()), Err)
    }
}

/// What a run did with its jobs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Drained {
    /// Jobs the producer had to offer.
    pub offered: u64,
    /// Jobs the producer got into `jobs` before it stopped.
    pub accepted: u64,
    /// Finished jobs, in completion order.
    pub done: Vec<Done>,
    /// What the run reports: `None` is success.
    pub error: Option<JobError>,
    /// Errors that went only to the `log` channel.
    pub logged: Vec<String>,
    /// Jobs in `jobs` when cancel came (the staged variants).
    pub queued_at_cancel: Option<usize>,
}

/// Staging: where the producer pauses. After accepting job `after` it
/// tells main (if `tell` is set), then waits until `cancel` closes.
struct Pause {
    after: u64,
    tell: Option<Sender<()>>,
}

/// Staging for the cancel variants: a job numbered above `after` tells
/// main it is in a worker's hand (on `in_hand`), then waits for `open` to
/// close before it starts. Main cancels once every worker that can hold a
/// job holds one and the producer has filled the queue, so cancel always
/// finds the same picture.
///
/// A scheduled run has neither the `open` gate nor the producer's pause:
/// the schedule decides how far the jobs in hand get and how full the
/// queue is when cancel comes, and a hunt over seeds finds the loss by
/// itself. It keeps the `in_hand` count, which is what `hidden_by`
/// promises: cancel comes only once every worker that can hold a job holds
/// one (without it, a cancel in the instant between a worker's result and
/// its next take leaves that job queued, even with knobs that hide the trap).
#[derive(Clone)]
struct Gate {
    after: u64,
    in_hand: Sender<()>,
    open: Option<Receiver<()>>,
}

/// The producer: offers jobs `1..=n` on `jobs` until `cancel` closes,
/// keeping in `accepted` how many got in (readable even after an abort).
/// With `wait_for` (the trap `drain-never-ends`) it waits on that channel
/// before dropping `jobs`.
fn produce(
    n: u64,
    jobs: Sender<u64>,
    cancel: &Receiver<()>,
    accepted: &AtomicU64,
    pause: Option<&Pause>,
    wait_for: Option<&Receiver<()>>,
) {
    for job in 1..=n {
        // Biased: when `cancel` is closed and there is room, `cancel` wins.
        let sent = select_biased! {
            recv(cancel) -> _ => false,
            send(jobs, job) -> res => res.is_ok(),
        };
        if !sent {
            break;
        }
        accepted.store(job, Ordering::Relaxed);
        if let Some(pause) = pause.filter(|p| p.after == job) {
            if let Some(tell) = &pause.tell {
                let _ = tell.send(()); // staging: "my share is in the queue"
            }
            let _ = cancel.recv(); // staging: wait for the cancel
        }
    }
    if let Some(workers_done) = wait_for {
        // The trap: stopped sending, but `jobs` is still alive in here.
        let _ = workers_done.recv();
    }
    drop(jobs); // stop accepting: `jobs` closes, the drain can end
}

/// Worker `w`'s job function: the simulated work, the staging gate, and
/// the failing job `fail_at`.
fn job_fn(
    lab: &Lab,
    knobs: &Knobs,
    w: usize,
    gate: Option<Gate>,
    fail_at: Option<u64>,
) -> impl FnMut(u64) -> Result<Done, JobError> + Send + 'static {
    let lab = lab.clone();
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
        if fail_at == Some(job) {
            return Err(JobError { job });
        }
        Ok(Done { job, by: w })
    }
}

/// The correct worker: `for job in jobs` takes what is queued even after
/// `jobs` closes, and ends when it is closed and empty.
fn drain_jobs(
    jobs: &Receiver<u64>,
    results: &Sender<Done>,
    mut run: impl FnMut(u64) -> Result<Done, JobError>,
) -> Result<(), JobError> {
    for job in jobs {
        if results.send(run(job)?).is_err() {
            break;
        }
    }
    Ok(())
}

/// A worker that takes no new job once `cancel` closes (it finishes the
/// one in hand): the trap `exit-at-once`, and the errgroup's workers
/// (there the cancel *is* the error).
fn until_canceled(
    jobs: &Receiver<u64>,
    cancel: &Receiver<()>,
    results: &Sender<Done>,
    mut run: impl FnMut(u64) -> Result<Done, JobError>,
) -> Result<(), JobError> {
    loop {
        // Biased: when `cancel` is closed and a job is queued, `cancel` wins.
        let job = select_biased! {
            recv(cancel) -> _ => None, // leave now, queue or not
            recv(jobs) -> job => job.ok(),
        };
        let Some(job) = job else {
            return Ok(());
        };
        if results.send(run(job)?).is_err() {
            return Ok(());
        }
    }
}

/// The trap `swallowed-error`: a failed job is logged, and that is all.
fn log_and_go_on(
    w: usize,
    jobs: &Receiver<u64>,
    results: &Sender<Done>,
    log: &Sender<String>,
    mut run: impl FnMut(u64) -> Result<Done, JobError>,
) {
    for job in jobs {
        match run(job) {
            Ok(done) => {
                if results.send(done).is_err() {
                    return;
                }
            }
            Err(e) => {
                let _ = log.send(format!("worker#{w}: {e}")); // logged, then dropped
            }
        }
    }
}

/// The job that fails in `swallowed-error` and `errgroup`.
#[must_use]
pub fn failing_job(knobs: &Knobs) -> u64 {
    (knobs.items / 3).max(1)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Shutdown {
    Drain,
    ExitAtOnce,
    DrainNeverEnds,
}

/// The variant `correct`.
pub fn correct(lab: &Lab, knobs: &Knobs) -> Drained {
    staged_cancel(lab, knobs, Shutdown::Drain)
}

/// The trap `exit-at-once`.
pub fn exit_at_once(lab: &Lab, knobs: &Knobs) -> Drained {
    staged_cancel(lab, knobs, Shutdown::ExitAtOnce)
}

/// The trap `drain-never-ends`.
pub fn drain_never_ends(lab: &Lab, knobs: &Knobs) -> Drained {
    staged_cancel(lab, knobs, Shutdown::DrainNeverEnds)
}

/// Jobs `1..=k` run freely (k = half the items); later ones wait at the
/// gate. Once every worker that can hold a job holds one and the producer
/// has filled the queue (or offered everything), main cancels, then opens
/// the gate.
fn staged_cancel(lab: &Lab, knobs: &Knobs, how: Shutdown) -> Drained {
    let n = knobs.items;
    let k = n / 2;
    let full = n.min(k + (knobs.workers + knobs.buffer) as u64);
    let holding = (n - k).min(knobs.workers as u64);
    let (jobs_tx, jobs) = lab.bounded::<u64>("jobs", knobs.buffer);
    let (results_tx, results) = lab.bounded::<Done>("results", knobs.buffer);
    let (cancel_tx, cancel) = lab.bounded::<()>("cancel", 0);
    // Free-running only (see `Gate`): the gate and the producer's checkpoint.
    let staged = lab.schedule().is_none();
    let (gate_tx, open) = staged.then(|| lab.bounded::<()>("gate", 0)).unzip();
    let (in_hand, held) = lab.bounded::<()>("in_hand", knobs.workers);
    let (tell, checkpoint) = staged.then(|| lab.bounded::<()>("checkpoint", 0)).unzip();
    let (finished_tx, finished) = match how {
        Shutdown::DrainNeverEnds => {
            let (tx, rx) = lab.bounded::<()>("workers_done", 0);
            (Some(tx), Some(rx))
        }
        _ => (None, None),
    };

    let workers: Vec<JoinHandle<Result<(), JobError>>> = (1..=knobs.workers)
        .map(|w| {
            let (jobs, results, cancel) = (jobs.clone(), results_tx.clone(), cancel.clone());
            let finished = finished_tx.clone(); // dropped when this worker ends
            let gate = Gate {
                after: k,
                in_hand: in_hand.clone(),
                open: open.clone(),
            };
            let run = job_fn(lab, knobs, w, Some(gate), None);
            lab.go(format!("worker#{w}"), move || {
                let _finished = finished;
                match how {
                    Shutdown::ExitAtOnce => until_canceled(&jobs, &cancel, &results, run),
                    Shutdown::Drain | Shutdown::DrainNeverEnds => drain_jobs(&jobs, &results, run),
                }
            })
        })
        .collect();
    drop((results_tx, open, in_hand, finished_tx));
    let accepted = Arc::new(AtomicU64::new(0));
    let producer = {
        let pause = tell.map(|tell| Pause {
            after: full,
            tell: Some(tell),
        });
        let (cancel, accepted) = (cancel.clone(), Arc::clone(&accepted));
        lab.go("producer", move || {
            produce(
                n,
                jobs_tx,
                &cancel,
                &accepted,
                pause.as_ref(),
                finished.as_ref(),
            );
        })
    };
    drop(cancel);

    let mut done: Vec<Done> = results.iter().take(k as usize).collect();
    let _ = held.iter().take(holding as usize).count(); // every worker that can hold a job holds one
    drop(held); // staging: stop counting
    if let Some(checkpoint) = checkpoint {
        let _ = checkpoint.recv(); // the producer has filled the queue
    }
    let queued = jobs.len();
    drop(jobs);
    drop(cancel_tx); // the shutdown signal (Go: cancel())
    drop(gate_tx); // staging over
    done.extend(results.iter()); // until every worker has returned
    let mut error = None;
    for w in workers {
        if let Ok(Err(e)) = w.join() {
            error.get_or_insert(e);
        }
    }
    let _ = producer.join();
    Drained {
        offered: n,
        accepted: accepted.load(Ordering::Relaxed),
        done,
        error,
        logged: Vec::new(),
        queued_at_cancel: Some(queued),
    }
}

/// The trap `swallowed-error`: no gate; job `failing_job` fails and is
/// only logged; nothing ever closes `cancel`.
pub fn swallowed_error(lab: &Lab, knobs: &Knobs) -> Drained {
    let n = knobs.items;
    let fail_at = failing_job(knobs);
    let (jobs_tx, jobs) = lab.bounded::<u64>("jobs", knobs.buffer);
    let (results_tx, results) = lab.bounded::<Done>("results", knobs.buffer);
    let (cancel_tx, cancel) = lab.bounded::<()>("cancel", 0);
    let (log_tx, log) = lab.unbounded::<String>("log");
    let workers: Vec<JoinHandle<()>> = (1..=knobs.workers)
        .map(|w| {
            let (jobs, results, log) = (jobs.clone(), results_tx.clone(), log_tx.clone());
            let run = job_fn(lab, knobs, w, None, Some(fail_at));
            lab.go(format!("worker#{w}"), move || {
                log_and_go_on(w, &jobs, &results, &log, run);
            })
        })
        .collect();
    drop((jobs, results_tx, log_tx));
    let accepted = Arc::new(AtomicU64::new(0));
    let producer = {
        let accepted = Arc::clone(&accepted);
        lab.go("producer", move || {
            produce(n, jobs_tx, &cancel, &accepted, None, None);
        })
    };

    let done: Vec<Done> = results.iter().collect();
    for w in workers {
        let _ = w.join();
    }
    let _ = producer.join();
    drop(cancel_tx); // never closed while it mattered: the error did not reach it
    Drained {
        offered: n,
        accepted: accepted.load(Ordering::Relaxed),
        done,
        error: None, // the run reports success
        logged: log.try_iter().collect(),
        queued_at_cancel: None,
    }
}

/// The fix `errgroup`: producer and workers are tasks of one [`Group`].
/// The producer pauses after offering the failing job until the group is
/// canceled, so the error always comes before the producer is done.
pub fn errgroup(lab: &Lab, knobs: &Knobs) -> Drained {
    let n = knobs.items;
    let fail_at = failing_job(knobs);
    let (jobs_tx, jobs) = lab.bounded::<u64>("jobs", knobs.buffer);
    let (results_tx, results) = lab.bounded::<Done>("results", knobs.buffer);
    let mut group = Group::new(lab); // makes `cancel`
    let accepted = Arc::new(AtomicU64::new(0));
    {
        let (cancel, accepted) = (group.done(), Arc::clone(&accepted));
        group.go("producer", move || {
            let pause = Pause {
                after: fail_at,
                tell: None,
            };
            produce(n, jobs_tx, &cancel, &accepted, Some(&pause), None);
            Ok(())
        });
    }
    for w in 1..=knobs.workers {
        let (jobs, cancel, results) = (jobs.clone(), group.done(), results_tx.clone());
        let run = job_fn(lab, knobs, w, None, Some(fail_at));
        group.go(format!("worker#{w}"), move || {
            until_canceled(&jobs, &cancel, &results, run)
        });
    }
    drop((jobs, results_tx));

    let done: Vec<Done> = results.iter().collect();
    let error = group.wait().err(); // the first error, after every task ended
    Drained {
        offered: n,
        accepted: accepted.load(Ordering::Relaxed),
        done,
        error,
        logged: Vec::new(),
        queued_at_cancel: None,
    }
}

fn main(lab: &Lab, variant: &Variant, knobs: &Knobs) -> Outcome {
    let drained = match variant.name {
        "exit-at-once" => exit_at_once(lab, knobs),
        "drain-never-ends" => drain_never_ends(lab, knobs),
        "swallowed-error" => swallowed_error(lab, knobs),
        "errgroup" => errgroup(lab, knobs),
        _ => correct(lab, knobs),
    };
    outcome(&drained, lab.is_aborted())
}

/// Which knobs make a trap impossible (see [`crate::lessons::HiddenBy`]).
/// `drain-never-ends` and `swallowed-error` show with every knob.
fn hidden_by(variant: &Variant, knobs: &Knobs) -> Option<String> {
    let (items, workers) = (knobs.items, knobs.workers as u64);
    // Cancel comes after the first half; the rest are in hand or queued.
    let (before, after) = (items / 2, items - items / 2);
    match variant.name {
        "exit-at-once" if after <= workers => Some(format!(
            "hidden by these knobs: cancel comes after {before} of --items {items} jobs and \
             the other {after} all fit in the hands of --workers {workers}, so none is queued \
             and leaving at once loses nothing; try --items {}",
            2 * workers + 1
        )),
        _ => None,
    }
}

/// Every accepted job must be done, or be the reported error. `aborted`:
/// the lab ended the run (a verdict) before main could wait for everyone.
fn outcome(d: &Drained, aborted: bool) -> Outcome {
    let failed = u64::from(d.error.is_some()) + d.logged.len() as u64;
    let not_run = d.accepted.saturating_sub(d.done.len() as u64 + failed);
    let mut outcome = Outcome {
        items_in: d.accepted,
        items_out: d.done.len() as u64,
        ..Outcome::default()
    };
    let never_accepted = d.offered - d.accepted;
    match (&d.error, d.logged.first()) {
        (Some(e), _) => {
            // The errgroup's policy: the first error cancels the rest.
            outcome.by_design.push(format!(
                "stopped at the first error ({e}): {} of {} jobs offered, and wait() returned \
                 that error",
                d.accepted, d.offered
            ));
            if not_run > 0 {
                outcome.dropped = not_run;
                outcome.by_design.push(format!(
                    "{not_run} accepted job(s) left unrun: the canceled workers take no new job"
                ));
            }
        }
        (None, Some(line)) => outcome.problems.push(format!(
            "an error was swallowed (only logged: \"{line}\"): the run reported success and the \
             producer went on to offer all {} jobs",
            d.offered
        )),
        (None, None) if never_accepted > 0 => outcome.notes.push(format!(
            "cancel came after {} of {} jobs were accepted: the producer offered no more \
             ({never_accepted} never accepted)",
            d.accepted, d.offered
        )),
        (None, None) => outcome
            .notes
            .push(format!("the producer offered all {} jobs", d.offered)),
    }
    if let Some(q) = d.queued_at_cancel {
        outcome.notes.push(format!(
            "at cancel: {q} queued, the rest of the unfinished jobs in workers' hands"
        ));
    }
    outcome.notes.push(format!("{} done", d.done.len()));
    if aborted {
        outcome.lost = not_run;
        outcome.problems.push(format!(
            "the run never finished: main read {} results of the {} accepted jobs, then the lab \
             aborted the run",
            d.done.len(),
            d.accepted
        ));
    } else if not_run > 0 && d.error.is_none() {
        outcome.lost = not_run;
        outcome.problems.push(format!(
            "{not_run} accepted job(s) were never run: they were queued when the workers left"
        ));
    }
    let mut jobs: Vec<u64> = d.done.iter().map(|x| x.job).collect();
    jobs.sort_unstable();
    jobs.dedup();
    if jobs.len() != d.done.len() {
        outcome.problems.push("a job was done twice".to_owned());
    }
    outcome
}
