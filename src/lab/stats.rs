//! Counters kept beside each channel, so the observer never holds a handle.
//!
//! Every Sender and Receiver owns one cache-padded counter. The thread that
//! first uses a handle becomes its owner and bumps the counter with a plain
//! load + store (no read-modify-write, no shared cache line); any other
//! thread falls back to one shared `fetch_add`. Totals are summed only when
//! someone looks (a snapshot, a verdict check), never on the hot path.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crossbeam_utils::CachePadded;

use super::runtime::Core;
use super::thread_ctx;

/// What kind of channel the stats describe: it decides whether a blocked
/// receiver can ever be woken without another worker's help.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelKind {
    /// An ordinary channel made by `bounded` or `unbounded`.
    Normal,
    /// A timer from `after` (fires once) or `tick` (fires forever).
    Timer {
        /// How many messages it will ever deliver (`None` = unlimited).
        fires: Option<u64>,
    },
    /// `never()`: it never delivers and never disconnects.
    Never,
}

/// One handle's private counter.
pub(crate) struct HandleCounter {
    count: CachePadded<AtomicU64>,
    owner: AtomicU64,
}

impl HandleCounter {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            count: CachePadded::new(AtomicU64::new(0)),
            owner: AtomicU64::new(0),
        })
    }

    fn owner(&self) -> u64 {
        self.owner.load(Ordering::Relaxed)
    }

    fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    /// Called *before* an operation through this handle: true when the
    /// calling thread owns the handle (it then counts with a plain store).
    /// A thread's first use of a handle makes it the owner, and a thread the
    /// lab has not seen yet is registered here, before its operation can
    /// complete: once a message it sent can be received, the lab knows it.
    #[inline]
    pub(crate) fn claim(&self, core: &Arc<Core>) -> bool {
        let me = thread_ctx::thread_number();
        let owner = self.owner.load(Ordering::Relaxed);
        owner == me || self.claim_cold(core, me, owner)
    }

    #[cold]
    fn claim_cold(&self, core: &Arc<Core>, me: u64, owner: u64) -> bool {
        core.current_worker(); // registers a foreign thread on first sight
        owner == 0
            && self
                .owner
                .compare_exchange(0, me, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }
}

#[derive(Default)]
struct Handles {
    senders: Vec<Arc<HandleCounter>>,
    receivers: Vec<Arc<HandleCounter>>,
    retired_sent: u64,
    retired_received: u64,
    /// Ops per (owner thread, end) from handles already dropped.
    retired_by_owner: Vec<(u64, End, u64)>,
}

/// Which end of a channel a handle is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum End {
    Send,
    Recv,
}

/// Shared, observer-safe facts about one channel.
pub(crate) struct ChannelStats {
    pub(crate) id: usize,
    pub(crate) name: Arc<str>,
    pub(crate) capacity: Option<usize>,
    pub(crate) kind: ChannelKind,
    pub(crate) senders: AtomicUsize,
    pub(crate) receivers: AtomicUsize,
    pub(crate) send_waiting: AtomicUsize,
    pub(crate) recv_waiting: AtomicUsize,
    shared_sent: CachePadded<AtomicU64>,
    shared_received: CachePadded<AtomicU64>,
    handles: Mutex<Handles>,
}

/// Totals read at one instant.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Totals {
    pub(crate) sent: u64,
    pub(crate) received: u64,
}

impl ChannelStats {
    pub(crate) fn new(
        id: usize,
        name: Arc<str>,
        capacity: Option<usize>,
        kind: ChannelKind,
    ) -> Self {
        Self {
            id,
            name,
            capacity,
            kind,
            senders: AtomicUsize::new(0),
            receivers: AtomicUsize::new(0),
            send_waiting: AtomicUsize::new(0),
            recv_waiting: AtomicUsize::new(0),
            shared_sent: CachePadded::new(AtomicU64::new(0)),
            shared_received: CachePadded::new(AtomicU64::new(0)),
            handles: Mutex::new(Handles::default()),
        }
    }

    fn handles(&self) -> MutexGuard<'_, Handles> {
        self.handles.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A new handle on `end`: counts it live and gives it a counter.
    pub(crate) fn attach(&self, end: End) -> Arc<HandleCounter> {
        let counter = HandleCounter::new();
        let mut handles = self.handles();
        match end {
            End::Send => {
                self.senders.fetch_add(1, Ordering::SeqCst);
                handles.senders.push(Arc::clone(&counter));
            }
            End::Recv => {
                self.receivers.fetch_add(1, Ordering::SeqCst);
                handles.receivers.push(Arc::clone(&counter));
            }
        }
        counter
    }

    /// A handle goes away: fold its count into the retired totals and
    /// return how many handles of that end remain.
    pub(crate) fn detach(&self, end: End, counter: &Arc<HandleCounter>) -> usize {
        let mut guard = self.handles();
        let handles = &mut *guard;
        let count = counter.count();
        let owner = counter.owner();
        if count > 0 {
            match handles
                .retired_by_owner
                .iter_mut()
                .find(|(o, e, _)| *o == owner && *e == end)
            {
                Some((_, _, ops)) => *ops += count,
                None => handles.retired_by_owner.push((owner, end, count)),
            }
        }
        let (list, retired, live) = match end {
            End::Send => (
                &mut handles.senders,
                &mut handles.retired_sent,
                &self.senders,
            ),
            End::Recv => (
                &mut handles.receivers,
                &mut handles.retired_received,
                &self.receivers,
            ),
        };
        list.retain(|c| !Arc::ptr_eq(c, counter));
        *retired += count;
        live.fetch_sub(1, Ordering::SeqCst) - 1
    }

    /// Sent and received so far (exact once the bumping threads have moved on).
    pub(crate) fn totals(&self) -> Totals {
        let handles = self.handles();
        let sum = |list: &[Arc<HandleCounter>]| list.iter().map(|c| c.count()).sum::<u64>();
        Totals {
            sent: handles.retired_sent
                + sum(&handles.senders)
                + self.shared_sent.load(Ordering::Relaxed),
            received: handles.retired_received
                + sum(&handles.receivers)
                + self.shared_received.load(Ordering::Relaxed),
        }
    }

    /// Each thread that has used this channel, with the end it used and
    /// how many operations it completed there (dropped handles included).
    pub(crate) fn ops_by_owner(&self) -> Vec<(u64, End, u64)> {
        let handles = self.handles();
        let live = handles
            .senders
            .iter()
            .map(|c| (c.owner(), End::Send, c.count()))
            .chain(
                handles
                    .receivers
                    .iter()
                    .map(|c| (c.owner(), End::Recv, c.count())),
            );
        let mut out: Vec<(u64, End, u64)> = Vec::new();
        for (owner, end, ops) in live.chain(handles.retired_by_owner.iter().copied()) {
            if owner == 0 || ops == 0 {
                continue;
            }
            match out.iter_mut().find(|(o, e, _)| *o == owner && *e == end) {
                Some((_, _, total)) => *total += ops,
                None => out.push((owner, end, ops)),
            }
        }
        out
    }

    /// Messages that are in the channel now, as far as the counters know.
    pub(crate) fn len_from(&self, totals: Totals) -> usize {
        let len = totals.sent.saturating_sub(totals.received) as usize;
        match self.capacity {
            Some(cap) => len.min(cap),
            None => len,
        }
    }

    /// Records one completed operation on `end` through `counter`; `mine`
    /// is what [`HandleCounter::claim`] said before the operation.
    ///
    /// The hot path: the owner thread does a plain load and store on its own
    /// cache line. Anyone else pays a shared `fetch_add` and a look-up of
    /// its worker in a thread-local table.
    #[inline]
    pub(crate) fn bump(&self, end: End, counter: &HandleCounter, core: &Arc<Core>, mine: bool) {
        if mine {
            counter
                .count
                .store(counter.count.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
        } else {
            self.bump_shared(end, core);
        }
        if core.config.log_items {
            core.log_item(self, end);
        }
    }

    /// Records a completed receive. A receive needs no claim before it (the
    /// lab must know a sender before its message can be seen, not a
    /// receiver), so it claims and counts in one go, after the fact.
    #[inline]
    pub(crate) fn bump_received(&self, counter: &HandleCounter, core: &Arc<Core>) {
        let mine = counter.claim(core);
        self.bump(End::Recv, counter, core, mine);
    }

    #[cold]
    fn bump_shared(&self, end: End, core: &Arc<Core>) {
        let shared = match end {
            End::Send => &self.shared_sent,
            End::Recv => &self.shared_received,
        };
        shared.fetch_add(1, Ordering::Relaxed);
        core.count_foreign_op();
    }
}
