//! Which OS threads of the process the lab can vouch for.
//!
//! A deadlock is proven only in a closed world: every thread that might hold
//! a Sender must be one the lab watches. A thread the lab did not start
//! (`std::thread::spawn`, `thread::scope`) is invisible until it makes its
//! first lab operation — yet it may hold the only Sender and be about to
//! send. So before the lab declares a deadlock it lists the process's
//! threads (`/proc/self/task` on Linux) and looks for any that is neither
//!
//! - one the lab vouches for: a lab worker, a run's supervisor or timer
//!   thread, or a thread that hosts runs (it called `Lab::run`/`Lab::start`);
//! - nor one that already existed when the lab was made (the test harness,
//!   the TUI's own thread: they can only be handed a Sender through the lab's
//!   channels, and then the lab sees them).
//!
//! Any other thread makes the run a *stall candidate*: the lab waits, and
//! if nothing moves for `stall_after` it says "stall", naming the threads it
//! could not vouch for — never a deadlock it cannot prove. Where the process's
//! threads cannot be listed (not Linux), this check has nothing to go on
//! and the lab falls back to seeing threads from their first operation.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// Threads vouched for, by kernel thread id, with how many vouchers each
/// has (a thread can host several runs).
static VOUCHED: Mutex<BTreeMap<i32, usize>> = Mutex::new(BTreeMap::new());

fn vouched() -> MutexGuard<'static, BTreeMap<i32, usize>> {
    VOUCHED.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The kernel's id of the calling thread, where it can be read.
fn current_tid() -> Option<i32> {
    let link = std::fs::read_link("/proc/thread-self").ok()?;
    link.file_name()?.to_str()?.parse().ok()
}

/// Every thread of this process now; `None` where they cannot be listed.
///
/// Listing `/proc/self/task` while other threads exit can skip a thread
/// that stays alive (the kernel walks the list by position), so a listing
/// counts only when the kernel's own thread count (`Threads:` in
/// `/proc/self/status`) is the same before and after it and equals its
/// length. After a few inconsistent tries the answer is `Err`: "could not
/// tell", which the deadlock check treats as a thread it cannot vouch for.
pub(crate) fn process_threads() -> Option<BTreeSet<i32>> {
    consistent_threads().ok()
}

fn thread_count() -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))?
        .trim()
        .parse()
        .ok()
}

fn list_threads() -> Option<BTreeSet<i32>> {
    let dir = std::fs::read_dir("/proc/self/task").ok()?;
    Some(
        dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
            .collect(),
    )
}

/// `Err(true)`: threads exist but no consistent listing was had;
/// `Err(false)`: threads cannot be listed here at all.
fn consistent_threads() -> Result<BTreeSet<i32>, bool> {
    for _ in 0..8 {
        let before = thread_count().ok_or(false)?;
        let listed = list_threads().ok_or(false)?;
        let after = thread_count().ok_or(false)?;
        if before == after && after == listed.len() {
            return Ok(listed);
        }
        std::thread::yield_now();
    }
    Err(true)
}

/// Vouches for the calling thread until the guard drops (a lab thread
/// ending). Dropping it at the very end of the thread leaves a moment in
/// which the thread still exists unvouched: a check then only waits a tick.
#[must_use = "the thread is vouched for only while the guard lives"]
pub(crate) struct Voucher(Option<i32>);

impl Drop for Voucher {
    fn drop(&mut self) {
        if let Some(tid) = self.0 {
            let mut vouched = vouched();
            if let Some(n) = vouched.get_mut(&tid) {
                *n -= 1;
                if *n == 0 {
                    vouched.remove(&tid);
                }
            }
        }
    }
}

/// Vouches for the calling thread while the returned guard lives.
pub(crate) fn vouch_for_this_thread() -> Voucher {
    let tid = current_tid();
    if let Some(tid) = tid {
        *vouched().entry(tid).or_insert(0) += 1;
    }
    Voucher(tid)
}

thread_local! {
    static HOSTING: RefCell<Option<Voucher>> = const { RefCell::new(None) };
}

/// Vouches for the calling thread for the rest of its life: it hosts runs
/// (started, stopped or waited for one). Cheap after the first call.
pub(crate) fn vouch_for_host() {
    let _ = HOSTING.try_with(|h| {
        let mut h = h.borrow_mut();
        if h.is_none() {
            *h = Some(vouch_for_this_thread());
        }
    });
}

/// The threads alive now that are neither vouched for nor in `baseline`,
/// each named as the kernel knows it (`worker (tid 4242)`). Empty where
/// the process's threads cannot be listed.
pub(crate) fn unknown_threads(baseline: &BTreeSet<i32>) -> Vec<String> {
    let now = match consistent_threads() {
        Ok(now) => now,
        Err(true) => return vec!["a thread the lab could not list".to_owned()],
        Err(false) => return Vec::new(),
    };
    let vouched = vouched();
    let unknown: Vec<i32> = now
        .into_iter()
        .filter(|tid| !baseline.contains(tid) && !vouched.contains_key(tid))
        .collect();
    drop(vouched);
    unknown
        .into_iter()
        .filter_map(|tid| {
            // A thread that ended since the listing is gone: not a suspect.
            let comm = std::fs::read_to_string(format!("/proc/self/task/{tid}/comm")).ok()?;
            Some(format!("{} (tid {tid})", comm.trim_end()))
        })
        .collect()
}
