//! What the current OS thread is to each lab: a small thread-local table.
//!
//! A lab worker belongs to exactly one lab; a foreign thread (a test
//! harness, `std::thread::scope`) joins a lab the first time it needs to be
//! seen by it and leaves when the thread exits, through this table's
//! destructor.

use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};

use super::runtime::Core;

static NEXT_THREAD: AtomicU64 = AtomicU64::new(1);

struct Membership {
    lab_id: u64,
    worker: usize,
    external: bool,
    core: Weak<Core>,
    foreign_ops: Arc<AtomicU64>,
}

struct Memberships(Vec<Membership>);

impl Drop for Memberships {
    fn drop(&mut self) {
        for m in self.0.drain(..) {
            if m.external
                && let Some(core) = m.core.upgrade()
            {
                core.external_exited(m.worker);
            }
        }
    }
}

thread_local! {
    static NUMBER: Cell<u64> = const { Cell::new(0) };
    static MEMBERSHIPS: RefCell<Memberships> = const { RefCell::new(Memberships(Vec::new())) };
    static OPS_AFTER_ABORT: Cell<u64> = const { Cell::new(0) };
    static PANIC_NOTE: RefCell<Option<String>> = const { RefCell::new(None) };
    static IS_LAB_WORKER: Cell<bool> = const { Cell::new(false) };
}

/// A process-unique number for the current thread (never 0).
#[inline]
pub(crate) fn thread_number() -> u64 {
    NUMBER.with(|n| {
        let v = n.get();
        if v == 0 {
            let v = NEXT_THREAD.fetch_add(1, Ordering::Relaxed);
            n.set(v);
            v
        } else {
            v
        }
    })
}

/// The worker id of this thread in lab `lab_id`, if it has one.
pub(crate) fn worker_id(lab_id: u64) -> Option<usize> {
    MEMBERSHIPS
        .try_with(|m| {
            m.borrow()
                .0
                .iter()
                .find(|m| m.lab_id == lab_id)
                .map(|m| m.worker)
        })
        .ok()
        .flatten()
}

/// The worker id of this thread in lab `lab_id` if it is one of the lab's
/// own workers (spawned by `Lab::go`), not an external thread it has seen.
pub(crate) fn own_worker_id(lab_id: u64) -> Option<usize> {
    MEMBERSHIPS
        .try_with(|m| {
            m.borrow()
                .0
                .iter()
                .find(|m| m.lab_id == lab_id && !m.external)
                .map(|m| m.worker)
        })
        .ok()
        .flatten()
}

/// Like [`worker_id`], with the counter for operations through handles
/// this thread does not own.
pub(crate) fn lookup(lab_id: u64) -> Option<(usize, Arc<AtomicU64>)> {
    MEMBERSHIPS
        .try_with(|m| {
            m.borrow()
                .0
                .iter()
                .find(|m| m.lab_id == lab_id)
                .map(|m| (m.worker, Arc::clone(&m.foreign_ops)))
        })
        .ok()
        .flatten()
}

/// The lab this thread is a worker of (its first, for a foreign thread).
pub(crate) fn current_core() -> Option<Arc<Core>> {
    MEMBERSHIPS
        .try_with(|m| m.borrow().0.iter().find_map(|m| m.core.upgrade()))
        .ok()
        .flatten()
}

/// Records that this thread is worker `worker` of `core`.
pub(crate) fn join(core: &Arc<Core>, worker: usize, external: bool, foreign_ops: Arc<AtomicU64>) {
    let _ = MEMBERSHIPS.try_with(|m| {
        m.borrow_mut().0.push(Membership {
            lab_id: core.id,
            worker,
            external,
            core: Arc::downgrade(core),
            foreign_ops,
        });
    });
    if !external {
        IS_LAB_WORKER.with(|w| w.set(true));
    }
}

/// Forgets this thread's membership of `lab_id` (a lab worker ending).
pub(crate) fn leave(lab_id: u64) {
    let _ = MEMBERSHIPS.try_with(|m| m.borrow_mut().0.retain(|m| m.lab_id != lab_id));
    IS_LAB_WORKER.with(|w| w.set(false));
    OPS_AFTER_ABORT.with(|c| c.set(0));
}

/// True on a thread spawned by `Lab::go`: its panics are the lab's to report.
#[must_use]
pub fn is_lab_worker() -> bool {
    IS_LAB_WORKER.try_with(Cell::get).unwrap_or(false)
}

/// Counts an operation attempted after the run aborted and says whether
/// this lab worker has spun past `limit` of them.
pub(crate) fn spun_past(limit: u64) -> bool {
    if !is_lab_worker() {
        return false;
    }
    OPS_AFTER_ABORT.with(|c| {
        let n = c.get() + 1;
        c.set(n);
        n > limit
    })
}

/// Keeps the message of a panic on this thread for the worker's report.
pub(crate) fn note_panic(message: String) {
    let _ = PANIC_NOTE.try_with(|p| *p.borrow_mut() = Some(message));
}

/// Takes the message kept by [`note_panic`].
pub(crate) fn take_panic_note() -> Option<String> {
    PANIC_NOTE
        .try_with(|p| p.borrow_mut().take())
        .ok()
        .flatten()
}
