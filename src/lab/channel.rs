//! Lab channels: crossbeam-channel's API and semantics, watched.
//!
//! A [`Sender`] and [`Receiver`] wrap crossbeam's own handles, so buffering,
//! fairness, rendezvous and disconnection are crossbeam's, unchanged. The
//! lab adds three things: a per-handle counter (a plain store by the owning
//! thread), a blocked state published only when an operation would really
//! block, and an abort arm so a dead run wakes every blocked operation.
//!
//! ```
//! use chanlab::lab::{Config, Lab};
//!
//! let report = Lab::run(Config::default(), |lab| {
//!     let (tx, rx) = lab.bounded("numbers", 2);
//!     lab.go("producer", move || {
//!         for i in 0..5 {
//!             tx.send(i).unwrap();
//!         }
//!         // `tx` is dropped here: the channel closes, the loop below ends.
//!     });
//!     rx.iter().sum::<i32>()
//! });
//! assert_eq!(report.outcome, Some(10));
//! assert!(report.verdict.is_none());
//! ```

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel as cb;
use crossbeam_utils::Backoff;

pub use crossbeam_channel::{
    RecvError, RecvTimeoutError, SendError, SendTimeoutError, TryRecvError, TrySendError,
};

use super::clock::{self, Left};
use super::events::EventKind;
use super::runtime::{Core, Gate, Wait};
use super::stats::{ChannelStats, End, HandleCounter};
use super::turns::{self, Slot};

/// The sending side of a lab channel; see [`Lab::bounded`](super::Lab::bounded).
pub struct Sender<T> {
    pub(crate) inner: cb::Sender<T>,
    /// Scheduled rendezvous only: where the message is handed over.
    pub(crate) slot: Option<Slot<T>>,
    pub(crate) stats: Arc<ChannelStats>,
    pub(crate) counter: Arc<HandleCounter>,
    pub(crate) core: Arc<Core>,
}

/// The receiving side of a lab channel; see [`Lab::bounded`](super::Lab::bounded).
pub struct Receiver<T> {
    pub(crate) inner: cb::Receiver<T>,
    /// Scheduled rendezvous only: where the message is handed over.
    pub(crate) slot: Option<Slot<T>>,
    pub(crate) stats: Arc<ChannelStats>,
    pub(crate) counter: Arc<HandleCounter>,
    pub(crate) core: Arc<Core>,
}

pub(crate) fn pair<T>(
    core: &Arc<Core>,
    stats: Arc<ChannelStats>,
    (tx, rx): (cb::Sender<T>, cb::Receiver<T>),
    slot: Option<Slot<T>>,
) -> (Sender<T>, Receiver<T>) {
    let mut rx = Receiver::wrap(core, Arc::clone(&stats), rx);
    rx.slot.clone_from(&slot);
    (
        Sender {
            inner: tx,
            slot,
            counter: stats.attach(End::Send),
            stats: Arc::clone(&stats),
            core: Arc::clone(core),
        },
        rx,
    )
}

impl<T> Receiver<T> {
    pub(crate) fn wrap(core: &Arc<Core>, stats: Arc<ChannelStats>, inner: cb::Receiver<T>) -> Self {
        Self {
            inner,
            slot: None,
            counter: stats.attach(End::Recv),
            stats,
            core: Arc::clone(core),
        }
    }
}

/// How long a blocked send or receive with no deadline waits in crossbeam
/// before it looks whether the run aborted.
const ABORT_SLICE: Duration = Duration::from_millis(50);

/// Where a blocked operation ended up.
enum Waited<T> {
    Done(T),
    Disconnected,
    TimedOut,
}

impl<T> Sender<T> {
    /// Blocks until the message is sent, like crossbeam's `send`.
    ///
    /// Fails with [`SendError`] (handing the message back) when every
    /// Receiver is gone — even while blocked — or when the run aborted.
    pub fn send(&self, msg: T) -> Result<(), SendError<T>> {
        match self.send_until(msg, None) {
            Ok(()) => Ok(()),
            Err(SendTimeoutError::Disconnected(m) | SendTimeoutError::Timeout(m)) => {
                Err(SendError(m))
            }
        }
    }

    /// Sends only if it can be done at once, like crossbeam's `try_send`.
    pub fn try_send(&self, msg: T) -> Result<(), TrySendError<T>> {
        match self.core.gate() {
            Gate::Open => {}
            Gate::Closed => return Err(TrySendError::Disconnected(msg)),
            Gate::Scheduled => return turns::try_send(self, msg),
        }
        let mine = self.counter.claim(&self.core);
        self.inner.try_send(msg)?;
        self.stats.bump(End::Send, &self.counter, &self.core, mine);
        Ok(())
    }

    /// Blocks for at most `timeout` (lesson time: divided by the run's
    /// speed factor), like crossbeam's `send_timeout`.
    pub fn send_timeout(&self, msg: T, timeout: Duration) -> Result<(), SendTimeoutError<T>> {
        self.send_until(msg, self.core.deadline_after(timeout))
    }

    fn send_until(&self, msg: T, deadline: Option<Duration>) -> Result<(), SendTimeoutError<T>> {
        match self.core.gate() {
            Gate::Open => {}
            Gate::Closed => return Err(SendTimeoutError::Disconnected(msg)),
            Gate::Scheduled => return turns::send(self, msg, deadline),
        }
        let mine = self.counter.claim(&self.core);
        // Fast path first, with crossbeam's own short spin: the blocked state
        // is published only when the operation really has to wait.
        let backoff = Backoff::new();
        let mut msg = msg;
        loop {
            match self.inner.try_send(msg) {
                Ok(()) => {
                    self.stats.bump(End::Send, &self.counter, &self.core, mine);
                    return Ok(());
                }
                Err(TrySendError::Disconnected(m)) => {
                    return Err(SendTimeoutError::Disconnected(m));
                }
                Err(TrySendError::Full(m)) => msg = m,
            }
            // A rendezvous pairs only with a receiver already waiting:
            // spinning on `try_send` while the receiver spins on `try_recv`
            // never meets, it only burns both cores. Wait at once.
            if backoff.is_completed() || self.stats.capacity == Some(0) {
                break;
            }
            backoff.snooze();
        }
        self.send_blocking(msg, deadline, mine)
    }

    #[cold]
    fn send_blocking(
        &self,
        msg: T,
        deadline: Option<Duration>,
        mine: bool,
    ) -> Result<(), SendTimeoutError<T>> {
        let worker = self.core.current_worker();
        self.core
            .begin_wait(worker, Wait::Send(Arc::clone(&self.stats)), deadline);
        let mut msg = Some(msg);
        // No deadline (the common case): crossbeam's own blocking send, in
        // slices so that an abort is seen within one. Not a `Select` with an
        // abort arm: a select's send on a rendezvous writes its message only
        // after it wakes, so its partner spins waiting for it; and every
        // waiter registering on one shared abort channel is a global lock.
        if deadline.is_none() {
            let waited = loop {
                let m = msg.take().expect("an unsent message is held");
                match self.inner.send_timeout(m, ABORT_SLICE) {
                    Ok(()) => break Waited::Done(()),
                    Err(SendTimeoutError::Disconnected(m)) => {
                        msg = Some(m);
                        break Waited::Disconnected;
                    }
                    Err(SendTimeoutError::Timeout(m)) => {
                        msg = Some(m);
                        if self.core.is_aborted() {
                            break Waited::Disconnected;
                        }
                    }
                }
            };
            return self.end_send(worker, waited, msg, mine);
        }
        // A deadline is lesson time: each round converts it to wall time at
        // the current pace, and a change of pace (the `pace` arm) starts a
        // new round.
        let waited = loop {
            let pace = self.core.clock.watch();
            let left = deadline.map(|d| self.core.clock.left(d));
            if left == Some(Left::Reached) {
                break Waited::TimedOut;
            }
            let mut sel = cb::Select::new();
            let send = sel.send(&self.inner);
            let abort = sel.recv(&self.core.abort_rx);
            sel.recv(&pace);
            let Some(op) = clock::pick(&mut sel, left) else {
                continue;
            };
            match op.index() {
                i if i == send => {
                    let m = msg.take().expect("message is sent once");
                    break match op.send(&self.inner, m) {
                        Ok(()) => Waited::Done(()),
                        Err(SendError(m)) => {
                            msg = Some(m);
                            Waited::Disconnected
                        }
                    };
                }
                i if i == abort => {
                    let _ = op.recv(&self.core.abort_rx);
                    break Waited::Disconnected;
                }
                _ => {
                    let _ = op.recv(&pace);
                }
            }
        };
        self.end_send(worker, waited, msg, mine)
    }

    fn end_send(
        &self,
        worker: usize,
        waited: Waited<()>,
        msg: Option<T>,
        mine: bool,
    ) -> Result<(), SendTimeoutError<T>> {
        // Running first, counted second: a counter that lags only makes the
        // channel look more ready. The other order shows, for a moment, a
        // worker still waiting on a channel that already looks drained, and
        // a check in that moment would see a deadlock that is not there.
        self.core.end_wait(worker);
        if matches!(waited, Waited::Done(())) {
            self.stats.bump(End::Send, &self.counter, &self.core, mine);
        }
        match (waited, msg) {
            (Waited::Done(()), _) => Ok(()),
            (Waited::TimedOut, Some(m)) => Err(SendTimeoutError::Timeout(m)),
            (_, Some(m)) => Err(SendTimeoutError::Disconnected(m)),
            (_, None) => unreachable!("an unsent message is still held"),
        }
    }
}

impl<T> Receiver<T> {
    /// Blocks until a message arrives, like crossbeam's `recv`.
    ///
    /// Fails with [`RecvError`] once the channel is empty and every Sender
    /// is gone, or when the run aborted.
    pub fn recv(&self) -> Result<T, RecvError> {
        self.recv_until(None).map_err(|_| RecvError)
    }

    /// Receives only if a message is there now, like crossbeam's `try_recv`.
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        match self.core.gate() {
            Gate::Open => {}
            Gate::Closed => return Err(TryRecvError::Disconnected),
            Gate::Scheduled => return turns::try_recv(self),
        }
        let msg = self.inner.try_recv()?;
        self.stats.bump_received(&self.counter, &self.core);
        Ok(msg)
    }

    /// Blocks for at most `timeout` (lesson time), like crossbeam's
    /// `recv_timeout`.
    pub fn recv_timeout(&self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        self.recv_until(self.core.deadline_after(timeout))
    }

    fn recv_until(&self, deadline: Option<Duration>) -> Result<T, RecvTimeoutError> {
        match self.core.gate() {
            Gate::Open => {}
            Gate::Closed => return Err(RecvTimeoutError::Disconnected),
            Gate::Scheduled => return turns::recv(self, deadline),
        }
        let backoff = Backoff::new();
        loop {
            match self.inner.try_recv() {
                Ok(msg) => {
                    self.stats.bump_received(&self.counter, &self.core);
                    return Ok(msg);
                }
                Err(TryRecvError::Disconnected) => return Err(RecvTimeoutError::Disconnected),
                Err(TryRecvError::Empty) => {}
            }
            if backoff.is_completed() || self.stats.capacity == Some(0) {
                break; // see `send_until`
            }
            backoff.snooze();
        }
        self.recv_blocking(deadline)
    }

    #[cold]
    fn recv_blocking(&self, deadline: Option<Duration>) -> Result<T, RecvTimeoutError> {
        let worker = self.core.current_worker();
        self.core
            .begin_wait(worker, Wait::Recv(Arc::clone(&self.stats)), deadline);
        let waited = if deadline.is_none() {
            // As in `send_blocking`: crossbeam's own wait, in slices.
            loop {
                match self.inner.recv_timeout(ABORT_SLICE) {
                    Ok(msg) => break Waited::Done(msg),
                    Err(RecvTimeoutError::Disconnected) => break Waited::Disconnected,
                    Err(RecvTimeoutError::Timeout) if self.core.is_aborted() => {
                        break Waited::Disconnected;
                    }
                    Err(RecvTimeoutError::Timeout) => {}
                }
            }
        } else {
            self.recv_waiting_until(deadline)
        };
        self.core.end_wait(worker); // before the count: see `send_blocking`
        if matches!(waited, Waited::Done(_)) {
            self.stats.bump_received(&self.counter, &self.core);
        }
        match waited {
            Waited::Done(msg) => Ok(msg),
            Waited::TimedOut => Err(RecvTimeoutError::Timeout),
            Waited::Disconnected => Err(RecvTimeoutError::Disconnected),
        }
    }

    /// A blocked receive with a lesson-time deadline: waits in a select
    /// with the abort and a change of pace, converting the deadline again
    /// after each change.
    fn recv_waiting_until(&self, deadline: Option<Duration>) -> Waited<T> {
        loop {
            let pace = self.core.clock.watch();
            let left = deadline.map(|d| self.core.clock.left(d));
            if left == Some(Left::Reached) {
                return Waited::TimedOut;
            }
            let mut sel = cb::Select::new();
            let recv = sel.recv(&self.inner);
            let abort = sel.recv(&self.core.abort_rx);
            sel.recv(&pace);
            let Some(op) = clock::pick(&mut sel, left) else {
                continue;
            };
            match op.index() {
                i if i == recv => {
                    return match op.recv(&self.inner) {
                        Ok(msg) => Waited::Done(msg),
                        Err(RecvError) => Waited::Disconnected,
                    };
                }
                i if i == abort => {
                    let _ = op.recv(&self.core.abort_rx);
                    return Waited::Disconnected;
                }
                _ => {
                    let _ = op.recv(&pace);
                }
            }
        }
    }

    /// A blocking iterator that ends when the channel is closed and empty
    /// (Go's `for v := range ch`).
    #[must_use]
    pub fn iter(&self) -> Iter<'_, T> {
        Iter { rx: self }
    }

    /// A non-blocking iterator over the messages there now.
    #[must_use]
    pub fn try_iter(&self) -> TryIter<'_, T> {
        TryIter { rx: self }
    }
}

/// The read-only queries both ends share, as in crossbeam.
macro_rules! impl_queries {
    ($handle:ident) => {
        impl<T> $handle<T> {
            /// Messages in the channel now (always 0 for a rendezvous).
            #[must_use]
            pub fn len(&self) -> usize {
                self.inner.len()
            }

            /// True when no message is buffered.
            #[must_use]
            pub fn is_empty(&self) -> bool {
                self.inner.is_empty()
            }

            /// True when the buffer is full: a send would block (always
            /// true for a rendezvous).
            #[must_use]
            pub fn is_full(&self) -> bool {
                self.inner.is_full()
            }

            /// `None` for unbounded, `Some(0)` for a rendezvous.
            #[must_use]
            pub fn capacity(&self) -> Option<usize> {
                self.inner.capacity()
            }

            /// The channel's name in the lab.
            #[must_use]
            pub fn name(&self) -> &str {
                &self.stats.name
            }
        }
    };
}

impl_queries!(Sender);
impl_queries!(Receiver);

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            slot: self.slot.clone(),
            counter: self.stats.attach(End::Send),
            stats: Arc::clone(&self.stats),
            core: Arc::clone(&self.core),
        }
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            slot: self.slot.clone(),
            counter: self.stats.attach(End::Recv),
            stats: Arc::clone(&self.stats),
            core: Arc::clone(&self.core),
        }
    }
}

// The stats say "closed" a moment before crossbeam's handle goes: a check
// in between sees the waiting side as able to proceed, which is true a
// moment later. The other order could show a false deadlock.
impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        if self.stats.detach(End::Send, &self.counter) == 0 {
            self.core.log(EventKind::Closed {
                channel: self.stats.name.to_string(),
                by_sender: true,
            });
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        if matches!(self.stats.kind, super::ChannelKind::Timer { .. }) {
            self.stats.detach(End::Recv, &self.counter);
            if self
                .stats
                .receivers
                .load(std::sync::atomic::Ordering::SeqCst)
                == 0
            {
                self.core.forget_channel(self.stats.id);
            }
            return;
        }
        // Only news while someone could still send: then sends start failing.
        if self.stats.detach(End::Recv, &self.counter) == 0
            && self.stats.kind == super::ChannelKind::Normal
            && self.stats.senders.load(std::sync::atomic::Ordering::SeqCst) > 0
        {
            self.core.log(EventKind::Closed {
                channel: self.stats.name.to_string(),
                by_sender: false,
            });
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("channel", &self.name())
            .finish()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("channel", &self.name())
            .finish()
    }
}

/// Blocking iterator from [`Receiver::iter`].
#[derive(Debug)]
pub struct Iter<'a, T> {
    rx: &'a Receiver<T>,
}

impl<T> Iterator for Iter<'_, T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        self.rx.recv().ok()
    }
}

/// Non-blocking iterator from [`Receiver::try_iter`].
#[derive(Debug)]
pub struct TryIter<'a, T> {
    rx: &'a Receiver<T>,
}

impl<T> Iterator for TryIter<'_, T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        self.rx.try_recv().ok()
    }
}

/// Owning blocking iterator: `for v in rx`.
#[derive(Debug)]
pub struct IntoIter<T> {
    rx: Receiver<T>,
}

impl<T> Iterator for IntoIter<T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        self.rx.recv().ok()
    }
}

impl<T> IntoIterator for Receiver<T> {
    type Item = T;
    type IntoIter = IntoIter<T>;
    fn into_iter(self) -> IntoIter<T> {
        IntoIter { rx: self }
    }
}

impl<'a, T> IntoIterator for &'a Receiver<T> {
    type Item = T;
    type IntoIter = Iter<'a, T>;
    fn into_iter(self) -> Iter<'a, T> {
        self.iter()
    }
}
