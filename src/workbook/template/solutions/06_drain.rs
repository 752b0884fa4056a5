//! Exercise 06 · drain: finish the work in flight, return the first error.
//! (A solution: yours may differ and be just as right.)

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chanlab::lab::{Lab, Receiver, Sender};
use chanlab::select_biased;
use chanlab::workbook::kit::drain::{Job, JobError};

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// An errgroup: the first error is kept, closes `stop` (every worker
/// selects on it and takes no new job) and drops `cancel` (the producer
/// stops); a shutdown just closes `jobs`, and the workers drain it.
pub fn run_jobs(
    lab: &Lab,
    jobs: Receiver<u64>,
    cancel: Sender<()>,
    workers: usize,
    job: Job,
) -> Result<u64, JobError> {
    let first: Arc<Mutex<Option<JobError>>> = Arc::default();
    // Nobody sends on `stop`: it closes when its only Sender is dropped.
    let (stop_tx, stop) = lab.bounded::<()>("stop", 0);
    let stoppers = Arc::new(Mutex::new(Some((stop_tx, cancel))));
    let handles: Vec<_> = (1..=workers)
        .map(|w| {
            let (jobs, stop, job) = (jobs.clone(), stop.clone(), job.clone());
            let (first, stoppers) = (Arc::clone(&first), Arc::clone(&stoppers));
            lab.go(format!("worker#{w}"), move || {
                let mut ran = 0;
                loop {
                    // Biased: once `stop` is closed it wins over a queued job.
                    let next = select_biased! {
                        recv(stop) -> _ => None,
                        recv(jobs) -> n => n.ok(),
                    };
                    let Some(n) = next else { return ran };
                    match job.run(n) {
                        Ok(()) => ran += 1,
                        Err(e) => {
                            lock(&first).get_or_insert(e); // the first error wins
                            drop(lock(&stoppers).take()); // stop everyone, once
                            return ran;
                        }
                    }
                }
            })
        })
        .collect();
    let total = handles.into_iter().map(|h| h.join().unwrap_or(0)).sum();
    match lock(&first).take() {
        Some(e) => Err(e),
        None => Ok(total),
    }
}
