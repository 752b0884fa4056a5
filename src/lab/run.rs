//! A whole run: the lesson's main as a worker, a supervisor that takes the
//! leak and stall verdicts, and the report at the end.

use std::fmt;
use std::thread;
use std::time::Duration;

use crossbeam_channel as cb;

use super::sched::Trace;
use super::snapshot::Snapshot;
use super::verdict::Verdict;
use super::worker::JoinHandle;
use super::{Config, Lab};

/// How often the supervisor looks while main runs.
const TICK: Duration = Duration::from_millis(25);

/// What a finished run leaves.
pub struct Report<T> {
    /// What the lesson's main returned (`None` if it panicked).
    pub outcome: Option<T>,
    /// The verdict, if the run broke.
    pub verdict: Option<Verdict>,
    /// Workers that would not stop after the abort: left behind, named.
    pub unstoppable: Vec<String>,
    /// True when the run was stopped on request (no verdict taken).
    pub stopped: bool,
    /// The lab at the end of the run.
    pub snapshot: Snapshot,
    /// A scheduled run's choices: replay them to get the same run.
    pub trace: Option<Trace>,
}

impl<T: fmt::Debug> fmt::Debug for Report<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Report")
            .field("outcome", &self.outcome)
            .field("verdict", &self.verdict)
            .field("unstoppable", &self.unstoppable)
            .field("stopped", &self.stopped)
            .finish_non_exhaustive()
    }
}

/// A run in progress: look at it, pace it, stop it, wait for its report.
/// Dropping it stops the run and waits for its threads.
pub struct Run<T> {
    lab: Lab,
    supervisor: Option<thread::JoinHandle<Report<T>>>,
}

impl<T: Send + 'static> Run<T> {
    pub(crate) fn start<F>(config: Config, main: F) -> Self
    where
        F: FnOnce(&Lab) -> T + Send + 'static,
    {
        let lab = Lab::new(config);
        let main_lab = lab.clone();
        let handle =
            super::worker::spawn(&lab.core, "main".to_owned(), true, move || main(&main_lab));
        let sup_lab = lab.clone();
        let supervisor = thread::Builder::new()
            .name("chanlab-supervisor".to_owned())
            .spawn(move || {
                let _voucher = super::threads::vouch_for_this_thread();
                supervise(&sup_lab, handle)
            });
        // Without a supervisor thread nothing can end the run for us: stop
        // it at once and let `wait` report that.
        let supervisor = supervisor.map_or_else(
            |_| {
                lab.core.stop();
                None
            },
            Some,
        );
        Self { lab, supervisor }
    }
}

impl<T> Run<T> {
    /// The run's lab: snapshots, events, pause, step, speed.
    #[must_use]
    pub fn lab(&self) -> &Lab {
        &self.lab
    }

    /// True once the report is ready (`wait` will not block).
    #[must_use]
    pub fn is_finished(&self) -> bool {
        self.supervisor
            .as_ref()
            .is_none_or(thread::JoinHandle::is_finished)
    }

    /// Waits for the run to end and returns its report.
    #[must_use]
    pub fn wait(mut self) -> Report<T> {
        self.join()
    }

    /// Stops the run (no verdict) and returns its report.
    #[must_use]
    pub fn stop(self) -> Report<T> {
        self.lab.core.stop();
        self.wait()
    }

    fn join(&mut self) -> Report<T> {
        // Blocked here, the host cannot send: vouched for while it waits.
        let _waiting = super::threads::vouch_for_this_thread();
        let report = self.supervisor.take().and_then(|s| s.join().ok());
        report.unwrap_or_else(|| Report {
            outcome: None,
            verdict: self.lab.core.verdict(),
            unstoppable: Vec::new(),
            stopped: true,
            snapshot: self.lab.snapshot(),
            trace: self.lab.trace(),
        })
    }
}

impl<T> Drop for Run<T> {
    fn drop(&mut self) {
        if self.supervisor.is_some() {
            self.lab.core.stop();
            let _ = self.join();
        }
    }
}

fn supervise<T>(lab: &Lab, main: JoinHandle<T>) -> Report<T> {
    let core = &lab.core;
    let mut aborted_at: Option<std::time::Instant> = None;
    let never = cb::never();
    let signal = core.sched.as_ref().map_or(&never, |s| &s.signal);
    let result = loop {
        cb::select! {
            recv(main.result) -> r => match r {
                Ok(r) => break Some(r),
                Err(cb::RecvError) => break None,
            },
            // Scheduled: the scheduler found the run stuck.
            recv(signal) -> _ => core.sched_verdict(),
            default(TICK) => core.supervise_tick(),
        }
        // After an abort, main gets the same grace as every other worker;
        // one that never calls the lab again is named unstoppable below.
        if core.is_aborted() {
            let since = *aborted_at.get_or_insert_with(std::time::Instant::now);
            if since.elapsed() >= core.config.stop_grace {
                break None;
            }
        }
    };
    core.leak_phase();
    let unstoppable = core.wind_down();
    Report {
        outcome: result.and_then(Result::ok),
        verdict: core.verdict(),
        unstoppable,
        stopped: core.was_stopped(),
        snapshot: core.snapshot(),
        trace: lab.trace(),
    }
}
