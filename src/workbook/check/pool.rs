//! Exercise 03: a worker pool whose shutdown drains and whose cancel
//! loses no job, even when a `submit` races the `cancel`.
//!
//! Part 1, shutdown: the check's `client` submits jobs `1..=n`, then calls
//! `shutdown`; every job runs once, `shutdown` returns only after the
//! last one, never more jobs run at once than the pool has workers, and
//! with two workers or more they overlap.
//!
//! Part 2, cancel: `client` submits `1..=n` while `main` waits 150 ms of
//! lesson time (the queue is full by then and the client waits in
//! `submit`), then calls `cancel`. Every job `submit` accepted has run or
//! come back from `cancel`, never both, and (scheduled) no job starts
//! after `cancel` returned.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{Budget, Case, Part, Problem, Subject, names, short_list, standard_cases};
use crate::lab::Lab;
use crate::workbook::kit::pool::{JOB_TIME, Job, Pool};

static PARTS: [Part; 2] = [
    Part {
        rule: "`shutdown` runs every queued job and returns after the last, with at most `workers` jobs at once",
    },
    Part {
        rule: "`cancel` hands back every accepted job that did not start, even while a `submit` is waiting",
    },
];

/// The check of exercise 03 with the learner's pool type.
#[must_use]
pub fn subject<P: Pool>() -> Subject {
    let cases = standard_cases(&[1, 2], &[(3, 2, 14), (2, 0, 9), (1, 1, 6), (4, 1, 18)]);
    Subject::new(
        3,
        &PARTS,
        cases,
        |_| Budget::default(),
        Arc::new(|lab, case| {
            if case.part == 1 {
                shutdown::<P>(lab, case)
            } else {
                cancel::<P>(lab, case)
            }
        }),
    )
}

/// How many times each job appears in `jobs`.
fn counts(jobs: impl IntoIterator<Item = u64>) -> BTreeMap<u64, usize> {
    let mut counts = BTreeMap::new();
    for job in jobs {
        *counts.entry(job).or_default() += 1;
    }
    counts
}

fn busy_problems(job: &Job, case: Case) -> Vec<Problem> {
    let tally = job
        .tally
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut problems = Vec::new();
    if tally.peak > case.workers {
        let jobs: Vec<String> = tally
            .peak_jobs
            .iter()
            .map(|(j, by)| format!("job {j} on `{by}`"))
            .collect();
        problems.push(
            Problem::new(
                "busy",
                format!(
                    "{} jobs ran at once, more than the pool's {} workers",
                    tally.peak, case.workers
                ),
            )
            .with([
                format!("at the peak: {}", jobs.join(", ")),
                "a pool bounds the work in flight: its workers take jobs from one queue; a \
                 worker per job does not"
                    .to_owned(),
            ]),
        );
    } else if case.mode.is_scheduled()
        && case.workers >= 2
        && case.items >= 2 * case.workers as u64
        && tally.peak < 2
    {
        let mut ran_by: Vec<String> = tally.starts().map(|m| m.by.clone()).collect();
        ran_by.sort();
        ran_by.dedup();
        problems.push(
            Problem::new(
                "sequential",
                format!(
                    "never more than one job ran at once, though the pool has {} workers",
                    case.workers
                ),
            )
            .with([format!("jobs ran on {}", names(&ran_by))]),
        );
    }
    problems
}

fn shutdown<P: Pool>(lab: &Lab, case: Case) -> Vec<Problem> {
    let job = Job::new(lab);
    let pool = Arc::new(P::start(lab, case.workers, case.buffer, job.clone()));
    let client = {
        let (pool, job) = (Arc::clone(&pool), job.clone());
        let n = case.items;
        lab.go("client", move || {
            let refused: Vec<u64> = (1..=n).filter(|&j| pool.submit(j).is_err()).collect();
            pool.shutdown();
            let done_at_return = job.tally.lock().map_or(0, |t| t.ends().count());
            (refused, done_at_return)
        })
    };
    let Ok((refused, done_at_return)) = client.join() else {
        return Vec::new();
    };
    let mut problems = Vec::new();
    if !refused.is_empty() {
        problems.push(Problem::new(
            "refused",
            format!(
                "`submit` refused {} before any shutdown (jobs {})",
                refused.len(),
                short_list(&refused)
            ),
        ));
        return problems;
    }
    let ran = {
        let tally = job
            .tally
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        counts(tally.ends().map(|m| m.job))
    };
    let missing: Vec<u64> = (1..=case.items).filter(|j| !ran.contains_key(j)).collect();
    let twice: Vec<u64> = ran
        .iter()
        .filter(|(_, c)| **c > 1)
        .map(|(j, _)| *j)
        .collect();
    if !missing.is_empty() {
        problems.push(Problem::new(
            "lost",
            format!(
                "{} never ran (jobs {}): `shutdown` must run what is queued",
                crate::lessons::count(missing.len() as u64, "accepted job", "accepted jobs"),
                short_list(&missing)
            ),
        ));
    } else if !twice.is_empty() {
        problems.push(Problem::new(
            "twice",
            format!("jobs {} ran more than once", short_list(&twice)),
        ));
    } else if done_at_return < case.items as usize {
        problems.push(Problem::new(
            "early return",
            format!(
                "`shutdown` returned when {done_at_return} of {} jobs were done: it must wait \
                 for the last worker",
                case.items
            ),
        ));
    }
    if problems.is_empty() {
        problems = busy_problems(&job, case);
    }
    problems
}

fn cancel<P: Pool>(lab: &Lab, case: Case) -> Vec<Problem> {
    let job = Job::new(lab);
    let pool = Arc::new(P::start(lab, case.workers, case.buffer, job.clone()));
    let client = {
        let pool = Arc::clone(&pool);
        let n = case.items;
        lab.go("client", move || {
            (1..=n)
                .filter(|&j| pool.submit(j).is_ok())
                .collect::<Vec<u64>>()
        })
    };
    lab.work(JOB_TIME * 3 / 2);
    let handed_back = pool.cancel();
    job.mark_canceled();
    let accepted = client.join();
    pool.shutdown();
    let Ok(accepted) = accepted else {
        return Vec::new();
    };
    if lab.is_aborted() {
        return Vec::new();
    }
    let tally = job
        .tally
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let ran = counts(tally.starts().map(|m| m.job));
    let back = counts(handed_back.iter().copied());
    let mut problems = Vec::new();
    let lost: Vec<u64> = accepted
        .iter()
        .copied()
        .filter(|j| !ran.contains_key(j) && !back.contains_key(j))
        .collect();
    let both: Vec<u64> = accepted
        .iter()
        .copied()
        .filter(|j| ran.contains_key(j) && back.contains_key(j))
        .collect();
    let not_accepted: Vec<u64> = back
        .keys()
        .copied()
        .filter(|j| !accepted.contains(j))
        .collect();
    if !lost.is_empty() {
        problems.push(
            Problem::new(
                "lost",
                format!(
                    "{} lost: accepted by `submit`, never run, and not handed back by \
                     `cancel` (jobs {})",
                    crate::lessons::count(lost.len() as u64, "job was", "jobs were"),
                    short_list(&lost)
                ),
            )
            .with([
                format!("`cancel` handed back: {}", short_list(&handed_back)),
                "a submit that was waiting for room lands after a first look at the queue: \
                 stop accepting, then drain until the queue is disconnected, not until it \
                 looks empty"
                    .to_owned(),
            ]),
        );
    } else if !both.is_empty() {
        problems.push(Problem::new(
            "twice",
            format!(
                "jobs {} both ran and came back from `cancel`",
                short_list(&both)
            ),
        ));
    } else if !not_accepted.is_empty() {
        problems.push(Problem::new(
            "twice",
            format!(
                "`cancel` handed back jobs {} that `submit` had refused",
                short_list(&not_accepted)
            ),
        ));
    } else if case.mode.is_scheduled()
        && let Some(late) = tally.starts().find(|m| m.after_cancel)
    {
        problems.push(Problem::new(
            "after cancel",
            format!(
                "`{}` started job {} after `cancel` returned: a canceled pool starts no new job \
                 (check for the cancel before taking the next job, and prefer it)",
                late.by, late.job
            ),
        ));
    }
    drop(tally);
    if problems.is_empty() {
        problems = busy_problems(&job, case);
    }
    problems
}
