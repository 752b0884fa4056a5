//! Lesson time: the clock that `work`, timers, timeouts and `Lab::now`
//! share. It runs at the speed factor and stands still while the run is
//! paused, so pausing a run freezes everything that waits on time, not
//! only the channel operations at the gate.
//!
//! Waiting on lesson time means waiting on wall time that can change under
//! the waiter: a change of pace (pause, resume, a new speed) closes the
//! current *pace* channel, which wakes every waiter at once to convert its
//! lesson deadline to wall time again.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::thread::JoinHandle as OsJoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel as cb;

use super::runtime::Core;
use super::stats::ChannelStats;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Lesson time as of the last change of pace.
#[derive(Debug, Clone, Copy)]
struct Reading {
    /// Lesson time at `wall`.
    lesson: Duration,
    /// The wall-clock instant of the last change of pace.
    wall: Instant,
    speed: f64,
    paused: bool,
}

impl Reading {
    fn at(&self, now: Instant) -> Duration {
        if self.paused {
            return self.lesson;
        }
        let wall = now.saturating_duration_since(self.wall).as_secs_f64();
        let run = Duration::try_from_secs_f64(wall * self.speed).unwrap_or(Duration::MAX);
        self.lesson.saturating_add(run)
    }
}

/// How far a lesson deadline is, in the terms a waiter can wait on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Left {
    /// Lesson time has reached the deadline.
    Reached,
    /// This much wall time, at the current speed.
    Wall(Duration),
    /// The run is paused: lesson time stands still until the pace changes.
    Paused,
}

/// Waits in `sel` for as long as `left` allows (`None`: no deadline, wait
/// for an arm). `None` back means the wall time ran out first, or the
/// deadline had been reached: read lesson time again, it may have moved.
pub(crate) fn pick<'a>(
    sel: &mut cb::Select<'a>,
    left: Option<Left>,
) -> Option<cb::SelectedOperation<'a>> {
    match left {
        Some(Left::Reached) => None,
        Some(Left::Wall(w)) => sel.select_timeout(w).ok(),
        Some(Left::Paused) | None => Some(sel.select()),
    }
}

/// The run's lesson clock and the broadcast that tells waiters it changed.
pub(crate) struct LessonClock {
    reading: Mutex<Reading>,
    /// Closed (its Sender dropped) and replaced on every change of pace.
    pace: Mutex<(cb::Sender<()>, cb::Receiver<()>)>,
}

impl LessonClock {
    pub(crate) fn new(speed: f64, paused: bool) -> Self {
        Self {
            reading: Mutex::new(Reading {
                lesson: Duration::ZERO,
                wall: Instant::now(),
                speed,
                paused,
            }),
            pace: Mutex::new(cb::bounded(0)),
        }
    }

    /// Lesson time since the run started.
    pub(crate) fn now(&self) -> Duration {
        lock(&self.reading).at(Instant::now())
    }

    /// The lesson deadline `d` from now; `None` when it is too far to
    /// represent on the wall clock at this speed (a wait that never times
    /// out, and so part of the deadlock picture like a plain blocking one).
    pub(crate) fn deadline_after(&self, d: Duration) -> Option<Duration> {
        let reading = *lock(&self.reading);
        let wall = Duration::try_from_secs_f64(d.as_secs_f64() / reading.speed).ok()?;
        Instant::now().checked_add(wall)?;
        reading.at(Instant::now()).checked_add(d)
    }

    /// Records a change of pace and wakes every waiter on lesson time.
    pub(crate) fn repace(&self, speed: Option<f64>, paused: Option<bool>) {
        {
            let mut reading = lock(&self.reading);
            let now = Instant::now();
            reading.lesson = reading.at(now);
            reading.wall = now;
            if let Some(speed) = speed {
                reading.speed = speed;
            }
            if let Some(paused) = paused {
                reading.paused = paused;
            }
        }
        // Dropping the old pair's Sender disconnects every watcher's clone.
        *lock(&self.pace) = cb::bounded(0);
    }

    /// A receiver that becomes ready at the next change of pace. Take it
    /// *before* reading [`left`](Self::left), so a change in between wakes.
    pub(crate) fn watch(&self) -> cb::Receiver<()> {
        lock(&self.pace).1.clone()
    }

    /// How far `deadline` (lesson time) is.
    pub(crate) fn left(&self, deadline: Duration) -> Left {
        let reading = lock(&self.reading);
        let now = reading.at(Instant::now());
        if now >= deadline {
            Left::Reached
        } else if reading.paused {
            Left::Paused
        } else {
            let wall = deadline.saturating_sub(now).as_secs_f64() / reading.speed;
            // Never a zero wait for a deadline not yet reached: round up.
            let wall = Duration::try_from_secs_f64(wall).unwrap_or(Duration::MAX);
            Left::Wall(wall.max(Duration::from_micros(1)))
        }
    }

    /// Sleeps until lesson time reaches `deadline` (`None`: forever), or
    /// until `abort` fires. False when it was the abort.
    pub(crate) fn sleep_until(&self, deadline: Option<Duration>, abort: &cb::Receiver<()>) -> bool {
        loop {
            let pace = self.watch();
            let left = deadline.map(|d| self.left(d));
            if left == Some(Left::Reached) {
                return true;
            }
            let mut sel = cb::Select::new();
            let aborted = sel.recv(abort);
            sel.recv(&pace);
            let Some(op) = pick(&mut sel, left) else {
                continue;
            };
            if op.index() == aborted {
                let _ = op.recv(abort);
                return false;
            }
            let _ = op.recv(&pace);
        }
    }
}

/// One `after` or `tick` timer: fires into its channel on lesson time.
struct Timer {
    due: Duration,
    period: Option<Duration>,
    tx: cb::Sender<Instant>,
    /// Its receivers' count: once they are all gone the timer is dropped.
    stats: Arc<ChannelStats>,
    spent: bool,
}

/// The run's timers and the thread that fires them.
#[derive(Default)]
pub(crate) struct Timers {
    queue: Mutex<Queue>,
}

#[derive(Default)]
struct Queue {
    timers: Vec<Timer>,
    /// Wakes the timer thread for a new timer; dropped to stop it.
    wake: Option<cb::Sender<()>>,
    thread: Option<OsJoinHandle<()>>,
    stopped: bool,
}

impl Timers {
    /// A timer channel that fires `period` after now (lesson time), once
    /// (`repeat == false`, crossbeam's `after`) or every `period` (`tick`).
    /// Like crossbeam's, it holds one message and never disconnects; a tick
    /// whose receiver has not taken the last one is skipped, and the next
    /// comes a period later (close to crossbeam's, whose ticks are counted
    /// from when a late one is taken).
    ///
    /// `tx` is the sending half of a `bounded(1)` channel whose Receiver is
    /// already counted in `stats`: a timer whose receivers are all gone is
    /// dropped, so counting them first keeps a new timer from looking dead.
    pub(crate) fn add(
        core: &Arc<Core>,
        period: Duration,
        repeat: bool,
        stats: Arc<ChannelStats>,
        tx: cb::Sender<Instant>,
    ) {
        let due = core.clock.now().saturating_add(period);
        let mut queue = lock(&core.timers.queue);
        if queue.stopped {
            return; // the run is over: the timer never fires
        }
        queue.timers.push(Timer {
            due,
            period: repeat.then_some(period.max(Duration::from_nanos(1))),
            tx,
            stats,
            spent: false,
        });
        if queue.wake.is_none() {
            let (wake, woken) = cb::bounded(1);
            let weak = Arc::downgrade(core);
            let abort = core.abort_rx.clone();
            let spawned = std::thread::Builder::new()
                .name("chanlab-timers".to_owned())
                .spawn(move || fire_timers(&weak, &abort, &woken));
            match spawned {
                Ok(thread) => {
                    queue.thread = Some(thread);
                    queue.wake = Some(wake);
                }
                // No thread, no timers: the run's verdicts still hold (a
                // worker on a timer that never fires is sleeping, not stuck).
                Err(_) => queue.stopped = true,
            }
        } else if let Some(wake) = &queue.wake {
            let _ = wake.try_send(());
        }
    }

    /// Stops the timer thread and waits for it (the end of a run).
    pub(crate) fn stop(&self) {
        let thread = {
            let mut queue = lock(&self.queue);
            queue.stopped = true;
            queue.wake = None;
            queue.timers.clear();
            queue.thread.take()
        };
        if let Some(thread) = thread {
            let _ = thread.join();
        }
    }
}

/// The timer thread: fires what is due, then waits for the next due time,
/// a new timer, a change of pace, the abort or the stop. It holds the
/// lab only weakly between rounds, so a dropped lab ends it too.
fn fire_timers(core: &Weak<Core>, abort: &cb::Receiver<()>, woken: &cb::Receiver<()>) {
    let _voucher = super::threads::vouch_for_this_thread();
    loop {
        let Some(lab) = core.upgrade() else { return };
        if lab.is_aborted() {
            return;
        }
        let pace = lab.clock.watch();
        let now = lab.clock.now();
        let next = {
            let mut queue = lock(&lab.timers.queue);
            if queue.stopped {
                return;
            }
            for timer in queue.timers.iter_mut().filter(|t| !t.spent && t.due <= now) {
                let delivered = timer.tx.try_send(Instant::now()).is_ok();
                match timer.period {
                    // A tick nobody took yet: as crossbeam's, the next one
                    // comes a whole period after this one, not on a fixed grid.
                    Some(p) if !delivered => timer.due = now.saturating_add(p),
                    Some(p) => {
                        timer.due = timer.due.saturating_add(p);
                        if timer.due <= now {
                            timer.due = now.saturating_add(p); // skipped ticks
                        }
                    }
                    None => timer.spent = true,
                }
            }
            queue
                .timers
                .retain(|t| t.stats.receivers.load(std::sync::atomic::Ordering::SeqCst) > 0);
            queue
                .timers
                .iter()
                .filter(|t| !t.spent)
                .map(|t| t.due)
                .min()
        };
        let left = next.map(|d| lab.clock.left(d));
        drop(lab);
        let mut sel = cb::Select::new();
        let aborted = sel.recv(abort);
        let new_timer = sel.recv(woken);
        let repaced = sel.recv(&pace);
        let Some(op) = pick(&mut sel, left) else {
            continue; // due now, or the wall time ran out: fire what is due
        };
        match op.index() {
            i if i == aborted => {
                let _ = op.recv(abort);
                return;
            }
            i if i == new_timer => {
                if op.recv(woken).is_err() {
                    return; // stopped
                }
            }
            i if i == repaced => {
                let _ = op.recv(&pace);
            }
            _ => unreachable!("three arms"),
        }
    }
}
