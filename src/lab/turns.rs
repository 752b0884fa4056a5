//! Every lab operation in the scheduled mode: hand the turn back with what
//! the worker wants, wait until the scheduler picks it, then complete the
//! operation, which the pick guarantees can complete without waiting.
//!
//! The free-running code in `channel`, `select` and `worker` calls in here
//! when the gate says the run is scheduled, so its own fast path is what
//! it was.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crossbeam_channel as cb;

use super::channel::{
    Receiver, RecvError, RecvTimeoutError, SendTimeoutError, Sender, TryRecvError, TrySendError,
};
use super::runtime::{Core, Wait};
use super::sched::{Grant, Scheduler, Want};
use super::snapshot::SleepReason;
use super::stats::{ChannelStats, End};

/// The message slot of a rendezvous in the scheduled mode (see `sched`).
pub(crate) type Slot<T> = Arc<Mutex<Option<T>>>;

fn sched(core: &Core) -> &Scheduler {
    core.sched
        .as_ref()
        .expect("a scheduled operation on a scheduled run")
}

/// The calling worker, or `None` (and a verdict) for a thread the lab did
/// not start: the scheduled mode runs only its own workers.
pub(crate) fn me(core: &Arc<Core>) -> Option<usize> {
    core.scheduled_worker()
}

/// Hands the turn back wanting `want`; shown as waiting on `shown_as`
/// (and logged as blocked) only if the want cannot be picked right now.
fn turn(
    core: &Core,
    me: usize,
    want: Want,
    shown_as: Option<Wait>,
    deadline: Option<Duration>,
) -> Grant {
    let s = sched(core);
    let blocked = shown_as.is_some() && s.would_wait(me, &want);
    if blocked && let Some(shown_as) = shown_as {
        core.begin_wait(me, shown_as, deadline);
    }
    let grant = s.yield_turn(me, want);
    if blocked {
        core.end_wait(me);
    }
    grant
}

fn lock<T>(slot: &Mutex<Option<T>>) -> std::sync::MutexGuard<'_, Option<T>> {
    slot.lock().unwrap_or_else(PoisonError::into_inner)
}

// ---- send ------------------------------------------------------------------

/// `send` / `send_timeout` (`deadline` is lesson time).
pub(crate) fn send<T>(
    tx: &Sender<T>,
    msg: T,
    deadline: Option<Duration>,
) -> Result<(), SendTimeoutError<T>> {
    let core = &tx.core;
    let Some(me) = me(core) else {
        return Err(SendTimeoutError::Disconnected(msg));
    };
    let mine = tx.counter.claim(core);
    let ch = &tx.stats;
    let want = Want::Send {
        ch: Arc::clone(ch),
        deadline,
    };
    match turn(core, me, want, Some(Wait::Send(Arc::clone(ch))), deadline) {
        Grant::Aborted => return Err(SendTimeoutError::Disconnected(msg)),
        Grant::Run(None) => return Err(SendTimeoutError::Timeout(msg)),
        Grant::Run(Some(_)) => {}
    }
    if ch.receivers.load(std::sync::atomic::Ordering::SeqCst) == 0 {
        return Err(SendTimeoutError::Disconnected(msg));
    }
    let Some(slot) = &tx.slot else {
        return match tx.inner.try_send(msg) {
            Ok(()) => {
                ch.bump(End::Send, &tx.counter, core, mine);
                Ok(())
            }
            Err(TrySendError::Full(m) | TrySendError::Disconnected(m)) => {
                Err(SendTimeoutError::Disconnected(m))
            }
        };
    };
    // A rendezvous: straight to a waiting receiver, or offer and wait.
    let handed = sched(core).rendezvous_send(ch, me, true).is_some();
    *lock(slot) = Some(msg);
    if handed {
        ch.bump(End::Send, &tx.counter, core, mine);
        return Ok(());
    }
    let want = Want::Offered {
        ch: Arc::clone(ch),
        deadline,
    };
    let grant = turn(core, me, want, Some(Wait::Send(Arc::clone(ch))), deadline);
    if sched(core).offer_taken(ch, me, true) {
        ch.bump(End::Send, &tx.counter, core, mine);
        return Ok(());
    }
    // Withdrawn: a timeout, the receivers gone, or the run aborted.
    let msg = lock(slot)
        .take()
        .expect("an offer not taken is still in the slot");
    let gone = ch.receivers.load(std::sync::atomic::Ordering::SeqCst) == 0;
    if gone || grant == Grant::Aborted {
        Err(SendTimeoutError::Disconnected(msg))
    } else {
        Err(SendTimeoutError::Timeout(msg))
    }
}

/// Completes a send the scheduler picked (a select's send arm, a
/// `try_send` that can go): it does not wait.
pub(crate) fn complete_send<T>(tx: &Sender<T>, me: usize, msg: T) -> Result<(), TrySendError<T>> {
    let core = &tx.core;
    let ch = &tx.stats;
    if ch.receivers.load(std::sync::atomic::Ordering::SeqCst) == 0 {
        return Err(TrySendError::Disconnected(msg));
    }
    let mine = tx.counter.claim(core);
    match &tx.slot {
        None => tx.inner.try_send(msg)?,
        Some(slot) => {
            if sched(core).rendezvous_send(ch, me, false).is_none() {
                return Err(TrySendError::Full(msg));
            }
            *lock(slot) = Some(msg);
        }
    }
    ch.bump(End::Send, &tx.counter, core, mine);
    Ok(())
}

/// `try_send`: a select with one send arm and no time to wait.
pub(crate) fn try_send<T>(tx: &Sender<T>, msg: T) -> Result<(), TrySendError<T>> {
    let core = &tx.core;
    let Some(me) = me(core) else {
        return Err(TrySendError::Disconnected(msg));
    };
    match try_turn(core, me, &[(End::Send, &tx.stats)]) {
        Grant::Aborted => Err(TrySendError::Disconnected(msg)),
        Grant::Run(None) => Err(TrySendError::Full(msg)),
        Grant::Run(Some(_)) => complete_send(tx, me, msg),
    }
}

fn try_turn(core: &Core, me: usize, arms: &[(End, &Arc<ChannelStats>)]) -> Grant {
    let want = Want::Select {
        arms: arms.iter().map(|(e, c)| (*e, Arc::clone(c))).collect(),
        biased: true,
        deadline: Some(sched(core).now()),
        poll: None,
    };
    turn(core, me, want, None, None)
}

// ---- receive ---------------------------------------------------------------

/// `recv` / `recv_timeout` (`deadline` is lesson time).
pub(crate) fn recv<T>(rx: &Receiver<T>, deadline: Option<Duration>) -> Result<T, RecvTimeoutError> {
    let core = &rx.core;
    let Some(me) = me(core) else {
        return Err(RecvTimeoutError::Disconnected);
    };
    loop {
        let want = Want::Recv {
            ch: Arc::clone(&rx.stats),
            deadline,
        };
        match turn(
            core,
            me,
            want,
            Some(Wait::Recv(Arc::clone(&rx.stats))),
            deadline,
        ) {
            Grant::Aborted => return Err(RecvTimeoutError::Disconnected),
            Grant::Run(None) => return Err(RecvTimeoutError::Timeout),
            Grant::Run(Some(_)) => {}
        }
        match complete_recv(rx, me) {
            Some(Ok(msg)) => return Ok(msg),
            Some(Err(RecvError)) => return Err(RecvTimeoutError::Disconnected),
            // Picked but not there (cannot happen when the pick is right):
            // wait again rather than fail.
            None => {}
        }
    }
}

/// Completes a receive the scheduler picked: the message, the channel
/// closed, or `None` if there was nothing after all.
pub(crate) fn complete_recv<T>(rx: &Receiver<T>, me: usize) -> Option<Result<T, RecvError>> {
    let core = &rx.core;
    let got = match &rx.slot {
        None => match rx.inner.try_recv() {
            Ok(msg) => Ok(msg),
            Err(TryRecvError::Disconnected) => Err(RecvError),
            Err(TryRecvError::Empty) => return None,
        },
        Some(slot) => match sched(core).rendezvous_take(&rx.stats, me) {
            Some(true) => Ok(lock(slot).take().expect("a taken slot holds the message")),
            Some(false) => Err(RecvError),
            None => return None,
        },
    };
    if got.is_ok() {
        rx.stats.bump_received(&rx.counter, core);
    }
    Some(got)
}

/// `try_recv`.
pub(crate) fn try_recv<T>(rx: &Receiver<T>) -> Result<T, TryRecvError> {
    let core = &rx.core;
    let Some(me) = me(core) else {
        return Err(TryRecvError::Disconnected);
    };
    match try_turn(core, me, &[(End::Recv, &rx.stats)]) {
        Grant::Aborted => Err(TryRecvError::Disconnected),
        Grant::Run(None) => Err(TryRecvError::Empty),
        Grant::Run(Some(_)) => match complete_recv(rx, me) {
            Some(Ok(msg)) => Ok(msg),
            Some(Err(RecvError)) => Err(TryRecvError::Disconnected),
            None => Err(TryRecvError::Empty),
        },
    }
}

// ---- select, join, work, spawn, timers -----------------------------------------

/// What a scheduled select got.
pub(crate) enum Selected {
    /// This arm can complete now, by this worker.
    Arm(usize, usize),
    TimedOut,
    Aborted,
}

/// A select over `arms`; `deadline` `Some(now)` for `try_select`.
pub(crate) fn select(
    core: &Arc<Core>,
    arms: &[(End, &Arc<ChannelStats>)],
    biased: bool,
    deadline: Option<Duration>,
) -> Selected {
    let Some(me) = me(core) else {
        return Selected::Aborted;
    };
    let owned: Vec<(End, Arc<ChannelStats>)> =
        arms.iter().map(|(e, c)| (*e, Arc::clone(c))).collect();
    let is_try = deadline.is_some_and(|d| d <= sched(core).now());
    let want = Want::Select {
        arms: owned.clone(),
        biased,
        deadline,
        poll: None,
    };
    let shown_as = (!is_try).then_some(Wait::Select(owned));
    match turn(core, me, want, shown_as, deadline) {
        Grant::Aborted => Selected::Aborted,
        Grant::Run(None) => Selected::TimedOut,
        Grant::Run(Some(arm)) => Selected::Arm(arm, me),
    }
}

/// `JoinHandle::join`: waits until `target` finished.
pub(crate) fn join<T>(
    core: &Arc<Core>,
    target: usize,
    result: &cb::Receiver<std::thread::Result<T>>,
) -> Option<std::thread::Result<T>> {
    let me = me(core)?;
    let want = Want::Join { target };
    match turn(core, me, want, Some(Wait::Join(target)), None) {
        Grant::Run(_) => result.try_recv().ok(),
        Grant::Aborted => None,
    }
}

/// `Lab::work`: sleep `d` of virtual time.
pub(crate) fn work(core: &Arc<Core>, d: Duration) {
    let Some(me) = me(core) else { return };
    let until = core.deadline_after(d).unwrap_or(Duration::MAX);
    core.set_sleeping(me, Some(SleepReason::Work));
    let _ = turn(core, me, Want::Sleep { until }, None, None);
    core.set_sleeping(me, None);
}

/// A plain step that can always go (a spawn, a timer made): the turn is
/// handed back so others may run first. From a thread the lab did not
/// start it is an outside thread's verdict, as any other operation.
pub(crate) fn step(core: &Arc<Core>) -> bool {
    let Some(me) = me(core) else {
        return false;
    };
    !matches!(turn(core, me, Want::Go, None, None), Grant::Aborted)
}

/// `after` / `tick` on virtual time: fires into `tx` from the scheduler.
pub(crate) fn timer(
    core: &Arc<Core>,
    stats: Arc<ChannelStats>,
    period: Duration,
    repeat: bool,
    tx: cb::Sender<Instant>,
) {
    let fire = Box::new(move || tx.try_send(Instant::now()).is_ok());
    sched(core).add_timer(stats, period, repeat, fire);
}
