//! Goroutine-like workers: named OS threads the lab watches.

use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::thread;

use crossbeam_channel as cb;

use super::runtime::{Core, Gate, StoppedByLab, Wait, payload_message};
use super::thread_ctx;
use super::turns;

/// Why [`JoinHandle::join`] got no value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JoinError {
    /// The worker panicked with this message.
    Panicked(String),
    /// The run aborted (a verdict, or a stop) before the worker finished.
    Aborted,
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Panicked(m) => write!(f, "worker panicked: {m}"),
            Self::Aborted => f.write_str("the run aborted before the worker finished"),
        }
    }
}

impl std::error::Error for JoinError {}

/// Waits for a worker's result, like `std::thread::JoinHandle`; waiting is a
/// lab operation (shown as *joining*, part of the deadlock picture).
pub struct JoinHandle<T> {
    pub(crate) core: Arc<Core>,
    pub(crate) worker: usize,
    pub(crate) name: Arc<str>,
    pub(crate) result: cb::Receiver<thread::Result<T>>,
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

fn convert<T>(r: thread::Result<T>) -> Result<T, JoinError> {
    r.map_err(|payload| JoinError::Panicked(payload_message(payload.as_ref())))
}

impl<T> JoinHandle<T> {
    /// The worker's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// True once the worker has returned or panicked.
    #[must_use]
    pub fn is_finished(&self) -> bool {
        self.core.worker_finished(self.worker)
    }

    /// Waits for the worker to finish and returns its value.
    pub fn join(self) -> Result<T, JoinError> {
        match self.core.gate() {
            Gate::Open => {}
            Gate::Closed => return Err(JoinError::Aborted),
            Gate::Scheduled => {
                return match turns::join(&self.core, self.worker, &self.result) {
                    Some(r) if !self.core.is_aborted() => convert(r),
                    _ => Err(JoinError::Aborted),
                };
            }
        }
        match self.result.try_recv() {
            Ok(r) => return convert(r),
            Err(cb::TryRecvError::Disconnected) => return Err(JoinError::Aborted),
            Err(cb::TryRecvError::Empty) => {}
        }
        let me = self.core.current_worker();
        self.core.begin_wait(me, Wait::Join(self.worker), None);
        let got = cb::select! {
            recv(self.result) -> r => r.ok(),
            recv(self.core.abort_rx) -> _ => None,
        };
        self.core.end_wait(me);
        // A join that was waiting when the run aborted fails, whichever arm
        // won: the worker may have finished in the meantime (woken by the
        // same abort), and taking its value then would make the outcome
        // depend on a race.
        match got {
            Some(r) if !self.core.is_aborted() => convert(r),
            _ => Err(JoinError::Aborted),
        }
    }
}

pub(crate) fn spawn<T, F>(core: &Arc<Core>, name: String, main: bool, f: F) -> JoinHandle<T>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let name: Arc<str> = name.into();
    let (tx, rx) = cb::bounded(1);
    let (id, foreign_ops) = core.register(Arc::clone(&name), false, 0, main);
    let handle = JoinHandle {
        core: Arc::clone(core),
        worker: id,
        name: Arc::clone(&name),
        result: rx,
    };
    if core.is_aborted() {
        core.finish(id, Ok(()));
        return handle;
    }
    let thread_core = Arc::clone(core);
    let spawned = thread::Builder::new()
        .name(name.to_string())
        .spawn(move || {
            let core = thread_core;
            let _voucher = super::threads::vouch_for_this_thread();
            thread_ctx::join(&core, id, false, foreign_ops);
            core.set_thread(id, thread_ctx::thread_number());
            if let Some(s) = &core.sched {
                let _ = s.start(id); // scheduled: wait for the first turn
            }
            let result = panic::catch_unwind(AssertUnwindSafe(f));
            let outcome = match &result {
                Ok(_) => Ok(()),
                // Unwound by the lab after the run aborted: stopped, not a bug.
                Err(payload) if payload.is::<StoppedByLab>() => Ok(()),
                Err(payload) => Err(thread_ctx::take_panic_note()
                    .unwrap_or_else(|| payload_message(payload.as_ref()))),
            };
            thread_ctx::leave(core.id);
            // Hand the value over (or drop it, if nobody can join) *before*
            // finishing: a Sender inside it must be gone by the time the
            // deadlock check runs, or a receiver it would close looks stuck.
            if let Err(unjoinable) = tx.send(result) {
                drop(unjoinable.into_inner());
            }
            // And let go of the channel: if the handle is gone by now, the
            // value in it goes with the channel, here; crossbeam keeps a
            // message until both ends are dropped, and a worker that
            // counted as finished while its closure still held this end
            // could leave a Sender alive behind a deadlock verdict.
            drop(tx);
            core.finish(id, outcome);
        });
    match spawned {
        Ok(os) => core.keep_thread(id, os),
        Err(e) => core.finish(id, Err(format!("could not start an OS thread: {e}"))),
    }
    handle
}
