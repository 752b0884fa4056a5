//! Exercise 03 · worker pool: shutdown drains, cancel loses no job.
//! (A solution: yours may differ and be just as right.)
//!
//! Lesson 03 (`chanlab show 3`) is a pool of workers sharing one bounded
//! queue. Most of the pool is written below; `cancel` is not done. The
//! check calls your pool through the trait `Pool`:
//!
//! - part 1: its `client` submits jobs, then calls `shutdown`: every job
//!   must run, at most `workers` at once, and with two workers or more
//!   they must overlap;
//! - part 2: its `client` submits jobs while `main` calls `cancel` (the
//!   queue is full by then and the client waits inside `submit`): every
//!   job `submit` accepted must either run or come back from `cancel`, and
//!   no job may start after `cancel` returned.

use std::sync::{Mutex, MutexGuard, PoisonError};

use chanlab::lab::{JoinHandle, Lab, Receiver, Sender};
use chanlab::select_biased;
use chanlab::workbook::kit::pool::{Job, Pool};

/// A pool of workers sharing one bounded queue, `jobs`.
pub struct WorkerPool {
    /// The pool's Sender on `jobs`; `None` once the pool is closed.
    jobs: Mutex<Option<Sender<u64>>>,
    /// The pool's own Receiver on `jobs`.
    queue: Receiver<u64>,
    /// The only Sender on `done`: dropping it tells every worker to stop.
    done: Mutex<Option<Sender<()>>>,
    workers: Mutex<Vec<JoinHandle<()>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Pool for WorkerPool {
    fn start(lab: &Lab, workers: usize, capacity: usize, job: Job) -> Self {
        let (jobs, queue) = lab.bounded("jobs", capacity);
        let (done_tx, done) = lab.bounded::<()>("done", 0);
        let handles = (1..=workers)
            .map(|i| {
                let (queue, done, job) = (queue.clone(), done.clone(), job.clone());
                lab.go(format!("worker#{i}"), move || {
                    // Take jobs until the queue is closed and empty, or `done`
                    // closes. Biased: when both are ready, `done` wins.
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
            jobs: Mutex::new(Some(jobs)),
            queue,
            done: Mutex::new(Some(done_tx)),
            workers: Mutex::new(handles),
        }
    }

    fn submit(&self, n: u64) -> Result<(), u64> {
        // A clone, so the lock is not held while `send` waits for room.
        let Some(jobs) = lock(&self.jobs).clone() else {
            return Err(n); // closed: the job comes back
        };
        jobs.send(n).map_err(|refused| refused.0)
    }

    fn cancel(&self) -> Vec<u64> {
        drop(lock(&self.jobs).take()); // no new submit (one already waiting holds a clone)
        drop(lock(&self.done).take()); // workers take no new job
        // Drain until `jobs` is disconnected, not until it looks empty: a
        // submit waiting for room holds a Sender clone and lands its job as
        // soon as this makes room. Once closed no new clone can be taken, so
        // when the drain ends every accepted job has run or is in here.
        self.queue.iter().collect()
    }

    fn shutdown(&self) {
        drop(lock(&self.jobs).take()); // no more submits: `jobs` closes
        let workers = std::mem::take(&mut *lock(&self.workers));
        for worker in workers {
            let _ = worker.join();
        }
    }
}
