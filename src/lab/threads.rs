//! Which OS threads of the process the lab can vouch for.
//!
//! A deadlock is proven only in a closed world: every thread that might hold
//! a Sender must be one the lab watches. A thread the lab did not start
//! (`std::thread::spawn`, `thread::scope`, a pool's thread) is invisible
//! until it makes its first lab operation — yet it may hold the only Sender
//! and be about to send. So before the lab declares a deadlock it lists the
//! process's threads (`/proc/self/task` on Linux) and looks for any that is
//! neither
//!
//! - one the lab vouches for: a lab worker, a run's supervisor or timer
//!   thread, or a thread blocked in [`Run::wait`](super::Run::wait) or
//!   [`Lab::run`](super::Lab::run) (it cannot send while it waits there);
//! - nor one of the threads that were alive when the process made its
//!   first lab (the binary's own main thread, a test harness's first
//!   threads): a thread older than every lab cannot have been *given* a
//!   handle when it was spawned; it could still be handed one later through
//!   a std channel or shared memory — the one blind spot left, and why a
//!   program that hands lab handles to threads it made before any lab
//!   should not expect an exact verdict.
//!
//! Any other thread makes the run a *stall candidate*: the lab waits, and
//! if nothing moves for `stall_after` it says "stall", naming the threads it
//! could not vouch for — not a deadlock. Threads are keyed by kernel id
//! *and* start time, so an id the kernel hands out again after a thread
//! ended is not mistaken for the old thread. Where the process's threads
//! cannot be listed (not Linux), this check has nothing to go on and the
//! lab falls back to seeing threads from their first operation.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};

/// A thread as the kernel knows it: its id and its start time (clock ticks
/// since boot), which together never name two threads.
pub(crate) type ThreadKey = (i32, u64);

/// Threads vouched for, with how many vouchers each has.
static VOUCHED: Mutex<BTreeMap<ThreadKey, usize>> = Mutex::new(BTreeMap::new());

/// The threads alive when the process made its first lab.
static OLDER_THAN_EVERY_LAB: OnceLock<BTreeSet<ThreadKey>> = OnceLock::new();

fn vouched() -> MutexGuard<'static, BTreeMap<ThreadKey, usize>> {
    VOUCHED.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The start time in a `/proc/…/stat` line: field 22, counted after the
/// command name (which may hold spaces and parentheses).
fn start_time(stat: &str) -> Option<u64> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(19)?.parse().ok()
}

fn key_of(tid: i32, stat_path: &str) -> Option<ThreadKey> {
    let stat = std::fs::read_to_string(stat_path).ok()?;
    Some((tid, start_time(&stat)?))
}

/// The calling thread's key, where it can be read.
fn current_key() -> Option<ThreadKey> {
    let link = std::fs::read_link("/proc/thread-self").ok()?;
    let tid = link.file_name()?.to_str()?.parse().ok()?;
    key_of(tid, "/proc/thread-self/stat")
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

fn list_tids() -> Option<BTreeSet<i32>> {
    let dir = std::fs::read_dir("/proc/self/task").ok()?;
    Some(
        dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
            .collect(),
    )
}

/// Every thread of the process now.
///
/// Listing `/proc/self/task` while other threads exit can skip a thread
/// that stays alive (the kernel walks the list by position), so a listing
/// counts only when the kernel's own thread count (`Threads:` in
/// `/proc/self/status`) is the same before and after it and equals its
/// length. `Err(true)`: no consistent listing was had in a few tries
/// ("could not tell"); `Err(false)`: threads cannot be listed here at all.
fn process_threads() -> Result<BTreeSet<ThreadKey>, bool> {
    for _ in 0..8 {
        let before = thread_count().ok_or(false)?;
        let tids = list_tids().ok_or(false)?;
        let after = thread_count().ok_or(false)?;
        if before == after && after == tids.len() {
            // A thread that ended since the listing has no stat: gone, fine.
            return Ok(tids
                .into_iter()
                .filter_map(|tid| key_of(tid, &format!("/proc/self/task/{tid}/stat")))
                .collect());
        }
        std::thread::yield_now();
    }
    Err(true)
}

/// Notes the threads older than every lab, the first time a lab is made.
pub(crate) fn note_first_lab() {
    OLDER_THAN_EVERY_LAB.get_or_init(|| process_threads().unwrap_or_default());
}

/// Vouches for the calling thread until the guard drops.
#[must_use = "the thread is vouched for only while the guard lives"]
pub(crate) struct Voucher(Option<ThreadKey>);

impl Drop for Voucher {
    fn drop(&mut self) {
        if let Some(key) = self.0 {
            let mut vouched = vouched();
            if let Some(n) = vouched.get_mut(&key) {
                *n -= 1;
                if *n == 0 {
                    vouched.remove(&key);
                }
            }
        }
    }
}

/// Vouches for the calling thread while the returned guard lives: a lab
/// thread for its whole life, a host while it is blocked waiting for a run.
/// Dropped at the very end, it leaves a moment in which the thread still
/// exists unvouched: a check then only waits for the supervisor's next look.
pub(crate) fn vouch_for_this_thread() -> Voucher {
    let key = current_key();
    if let Some(key) = key {
        *vouched().entry(key).or_insert(0) += 1;
    }
    Voucher(key)
}

/// The threads alive now that the lab cannot vouch for, each named as the
/// kernel knows it (`worker (tid 4242)`). Empty where the process's
/// threads cannot be listed.
pub(crate) fn unknown_threads() -> Vec<String> {
    let now = match process_threads() {
        Ok(now) => now,
        Err(true) => return vec!["a thread the lab could not list".to_owned()],
        Err(false) => return Vec::new(),
    };
    let older = OLDER_THAN_EVERY_LAB.get();
    let vouched = vouched();
    let unknown: Vec<i32> = now
        .into_iter()
        .filter(|key| !vouched.contains_key(key) && older.is_none_or(|o| !o.contains(key)))
        .map(|(tid, _)| tid)
        .collect();
    drop(vouched);
    unknown
        .into_iter()
        .filter_map(|tid| {
            let comm = std::fs::read_to_string(format!("/proc/self/task/{tid}/comm")).ok()?;
            Some(format!("{} (tid {tid})", comm.trim_end()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::start_time;

    #[test]
    fn the_start_time_is_field_22_even_with_spaces_and_parens_in_the_name() {
        let stat = "4242 (a (weird) name) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 987654 20";
        assert_eq!(start_time(stat), Some(987_654));
    }
}
