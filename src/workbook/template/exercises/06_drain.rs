//! Exercise 06 · drain: finish the work in flight, return the first error.
//!
//! Lesson 06 (`chanlab show 6`) shuts a pipeline down gracefully and
//! carries errors up. The check's `producer` offers jobs 1, 2, 3, ... on
//! `jobs`; it stops, and `jobs` closes, when the check shuts it down or
//! when `cancel` closes (you hold its only Sender: drop it, as Go calls
//! `cancel()`).
//!
//! - part 1, shutdown: every job that got into `jobs` must still run;
//!   `run_jobs` returns `Ok(count)` once every worker is done;
//! - part 2, an error: job 4 fails. Return that error; at the first error
//!   every worker finishes the job in its hand and takes no new one, and
//!   the producer is told to stop;
//! - part 3, two errors: jobs 1 and 2 fail, job 2 sooner. Return the error
//!   that happened first.

use chanlab::lab::{Lab, Receiver, Sender};
// You may want `chanlab::select_biased` and `std::sync::{Arc, Mutex}`.
use chanlab::workbook::kit::drain::{Job, JobError};

/// Runs every job from `jobs` on `workers` workers (`worker#1`, ...;
/// `job.run(n)` runs job `n`), until `jobs` closes or a job fails; returns
/// how many jobs ran, or the first error, once every worker has finished.
pub fn run_jobs(
    lab: &Lab,
    jobs: Receiver<u64>,
    cancel: Sender<()>,
    workers: usize,
    job: Job,
) -> Result<u64, JobError> {
    // A first draft: every worker runs every job it gets, and a failing
    // job is... ignored.
    let handles: Vec<_> = (1..=workers)
        .map(|w| {
            let (jobs, job) = (jobs.clone(), job.clone());
            lab.go(format!("worker#{w}"), move || {
                let mut ran = 0;
                for n in &jobs {
                    let _ = job.run(n);
                    ran += 1;
                }
                ran
            })
        })
        .collect();
    let _ = cancel;
    let mut total = 0;
    for handle in handles {
        total += handle.join().unwrap_or(0);
    }
    Ok(total)
}
