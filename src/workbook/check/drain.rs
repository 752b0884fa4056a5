//! Exercise 06: a drain that finishes in-flight work on shutdown and
//! returns the first error.
//!
//! The check's `producer` offers jobs `1..=n` on `jobs` and stops when
//! `cancel` closes (the learner holds its only Sender) or when the check
//! shuts it down; then `jobs` closes.
//!
//! Part 1, shutdown: the check's `operator` shuts the producer down at
//! 250 ms. Every job that got into `jobs` must still run, and
//! `run_jobs` returns `Ok(count)` once every worker is done.
//! Part 2, an error: job 4 fails. `run_jobs` returns that error; no
//! worker starts a new job after it (one in hand finishes), and the
//! producer is told to stop.
//! Part 3, two errors: jobs 1 and 2 fail, job 2 sooner (50 ms against
//! 100 ms): the error returned is the first to happen.

use std::sync::Arc;
use std::time::Duration;

use super::{Budget, Case, Part, Problem, Subject, names, short_list, standard_cases};
use crate::lab::{Lab, Receiver, Sender, in_words};
use crate::select_biased;
use crate::workbook::kit::Mark;
use crate::workbook::kit::drain::{JOB_TIME, Job, JobError};

/// The learner's function: `run_jobs(lab, jobs, cancel, workers, job)`.
pub type RunJobs = fn(&Lab, Receiver<u64>, Sender<()>, usize, Job) -> Result<u64, JobError>;

static PARTS: [Part; 3] = [
    Part {
        rule: "on shutdown every job already in `jobs` still runs, and `run_jobs` returns Ok(count) after the last",
    },
    Part {
        rule: "the first error stops the run: no new job starts, the producer is told (drop `cancel`), the error is returned",
    },
    Part {
        rule: "with two failing jobs, `run_jobs` returns the error that happened first",
    },
];

/// The check's own workers.
const OURS: &[&str] = &["main", "producer", "operator"];

/// When the check shuts the producer down in part 1.
const SHUTDOWN_AT: Duration = Duration::from_millis(250);

/// The check of exercise 06 with the learner's `run_jobs`.
#[must_use]
pub fn subject(run_jobs: RunJobs) -> Subject {
    let cases = standard_cases(&[1, 2, 3], &[(3, 2, 24), (2, 0, 16), (1, 1, 8), (4, 1, 24)]);
    Subject::new(
        6,
        &PARTS,
        cases,
        |_| Budget::default(),
        Arc::new(move |lab, case| scenario(lab, run_jobs, case)),
    )
}

fn failing(part: u8) -> Vec<(u64, Duration)> {
    match part {
        1 => Vec::new(),
        2 => vec![(4, JOB_TIME)],
        _ => vec![(1, JOB_TIME), (2, JOB_TIME / 2)],
    }
}

fn scenario(lab: &Lab, run_jobs: RunJobs, case: Case) -> Vec<Problem> {
    let n = case.items;
    let job = Job::new(lab, &failing(case.part));
    let (jobs_tx, jobs) = lab.bounded::<u64>("jobs", case.buffer);
    let (cancel_tx, cancel) = lab.bounded::<()>("cancel", 0);
    let (shutdown_tx, shutdown) = lab.bounded::<()>("shutdown", 0);
    let producer = {
        let lab2 = lab.clone();
        lab.go("producer", move || {
            let mut accepted = Vec::new();
            for j in 1..=n {
                let sent = select_biased! {
                    recv(cancel) -> _ => false,
                    recv(shutdown) -> _ => false,
                    send(jobs_tx, j) -> sent => sent.is_ok(),
                };
                if !sent {
                    break;
                }
                accepted.push((j, lab2.now()));
            }
            accepted
        })
    };
    // Parts 2 and 3 keep `shutdown` open to the end: only `cancel` stops
    // the producer there.
    let (operator, _open) = if case.part == 1 {
        let lab2 = lab.clone();
        let operator = lab.go("operator", move || {
            lab2.work(SHUTDOWN_AT);
            drop(shutdown_tx); // the check's shutdown: the producer stops
        });
        (Some(operator), None)
    } else {
        (None, Some(shutdown_tx))
    };
    let result = run_jobs(lab, jobs, cancel_tx, case.workers, job.clone());
    // `run_jobs` returns after its workers: any still alive now is left
    // behind. (Scheduled only: free-running, a joined worker is marked
    // finished a moment after its join returns.)
    let alive: Vec<String> = lab
        .snapshot()
        .workers
        .into_iter()
        .filter(|_| case.mode.is_scheduled())
        .filter(|w| !w.state.is_finished() && !OURS.contains(&w.name.as_str()))
        .map(|w| format!("{} {}", w.name, w.state))
        .collect();
    let accepted = producer.join();
    if let Some(operator) = operator {
        let _ = operator.join();
    }
    let Ok(accepted) = accepted else {
        return Vec::new();
    };
    if lab.is_aborted() {
        return Vec::new();
    }
    if !alive.is_empty() {
        return vec![
            Problem::new(
                "leak",
                format!(
                    "`run_jobs` returned while {} still alive: join every worker before you \
                     return",
                    crate::lessons::count(
                        alive.len() as u64,
                        "of its workers was",
                        "of its workers were"
                    )
                ),
            )
            .with(alive),
        ];
    }
    let tally = job
        .tally
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    match case.part {
        1 => shutdown_problems(case, &result, &accepted, &tally),
        2 => first_error_problems(case, &result, &accepted, &tally),
        _ => two_errors_problems(case.mode.is_scheduled(), &result, &tally),
    }
}

fn ran_by(marks: &[&Mark]) -> String {
    let mut by: Vec<String> = marks.iter().map(|m| m.by.clone()).collect();
    by.sort();
    by.dedup();
    names(&by)
}

fn shutdown_problems(
    case: Case,
    result: &Result<u64, JobError>,
    accepted: &[(u64, Duration)],
    tally: &crate::workbook::kit::Tally,
) -> Vec<Problem> {
    let ended: Vec<u64> = tally.ends().map(|m| m.job).collect();
    let lost: Vec<u64> = accepted
        .iter()
        .map(|(j, _)| *j)
        .filter(|j| !ended.contains(j))
        .collect();
    if !lost.is_empty() {
        return vec![Problem::new(
            "lost",
            format!(
                "{} got into `jobs` and never ran (jobs {}): on shutdown, drain what is \
                 queued until `jobs` closes",
                crate::lessons::count(lost.len() as u64, "job", "jobs"),
                short_list(&lost)
            ),
        )];
    }
    match result {
        Err(e) => {
            return vec![Problem::new(
                "wrong error",
                format!("`run_jobs` returned Err({e}), but no job failed"),
            )];
        }
        Ok(count) if *count != ended.len() as u64 => {
            return vec![Problem::new(
                "count",
                format!(
                    "`run_jobs` returned Ok({count}), but {} jobs ran",
                    ended.len()
                ),
            )];
        }
        Ok(_) => {}
    }
    if case.mode.is_scheduled()
        && case.workers >= 2
        && accepted.len() >= 2 * case.workers
        && tally.peak < 2
    {
        let starts: Vec<&Mark> = tally.starts().collect();
        return vec![Problem::new(
            "sequential",
            format!(
                "never more than one job ran at once, though `run_jobs` was given {} workers \
                 (jobs ran on {})",
                case.workers,
                ran_by(&starts)
            ),
        )];
    }
    Vec::new()
}

fn first_error_problems(
    case: Case,
    result: &Result<u64, JobError>,
    accepted: &[(u64, Duration)],
    tally: &crate::workbook::kit::Tally,
) -> Vec<Problem> {
    let Some(failure) = tally.ends().find(|m| m.failed).cloned() else {
        return Vec::new(); // the failing job never got in (a tiny run): nothing to judge
    };
    match result {
        Ok(count) => {
            return vec![Problem::new(
                "swallowed error",
                format!(
                    "job {} failed on `{}`, yet `run_jobs` returned Ok({count}): the error was \
                     swallowed",
                    failure.job, failure.by
                ),
            )];
        }
        Err(e) if e.job != failure.job => {
            return vec![Problem::new(
                "wrong error",
                format!(
                    "`run_jobs` returned Err({e}), but the job that failed was job {}",
                    failure.job
                ),
            )];
        }
        Err(_) => {}
    }
    if !case.mode.is_scheduled() {
        return Vec::new();
    }
    let late: Vec<&Mark> = tally.starts().filter(|m| m.seq > failure.seq).collect();
    if late.len() >= case.workers.max(1) {
        let jobs: Vec<u64> = late.iter().map(|m| m.job).collect();
        return vec![Problem::new(
            "late stop",
            format!(
                "after job {} failed on `{}` at {}, {} more started (jobs {} on {}): at the \
                 first error every worker finishes the job in its hand and takes no new one",
                failure.job,
                failure.by,
                in_words(failure.at),
                crate::lessons::count(late.len() as u64, "job", "jobs"),
                short_list(&jobs),
                ran_by(&late)
            ),
        )];
    }
    let after = accepted.iter().filter(|(_, at)| *at > failure.at).count();
    if after > case.workers + case.buffer + 1 {
        return vec![Problem::new(
            "late stop",
            format!(
                "the `producer` got {after} more jobs into `jobs` after job {} failed: drop \
                 `cancel` at the first error, so the producer stops",
                failure.job
            ),
        )];
    }
    Vec::new()
}

fn two_errors_problems(
    scheduled: bool,
    result: &Result<u64, JobError>,
    tally: &crate::workbook::kit::Tally,
) -> Vec<Problem> {
    let failures: Vec<&Mark> = tally.ends().filter(|m| m.failed).collect();
    let Some(first_at) = failures.iter().map(|m| m.at).min() else {
        return Vec::new();
    };
    // Free-running, two failures close in lesson time may come in either
    // order: any of them is the first.
    let firsts: Vec<&&Mark> = failures
        .iter()
        .filter(|m| !scheduled || m.at == first_at)
        .collect();
    match result {
        Ok(count) => vec![Problem::new(
            "swallowed error",
            format!(
                "{} failed, yet `run_jobs` returned Ok({count})",
                crate::lessons::count(failures.len() as u64, "job", "jobs")
            ),
        )],
        Err(e) if !firsts.iter().any(|m| m.job == e.job) => {
            let when = failures
                .iter()
                .find(|m| m.job == e.job)
                .map_or_else(String::new, |m| {
                    format!(" (it failed at {})", in_words(m.at))
                });
            vec![Problem::new(
                "wrong error",
                format!(
                    "`run_jobs` returned Err({e}){when}, but job {} failed first, at {}: \
                     return the first error, not the last",
                    firsts[0].job,
                    in_words(first_at)
                ),
            )]
        }
        Err(_) => Vec::new(),
    }
}
