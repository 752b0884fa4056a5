//! Select over several lab channels, as crossbeam's `Select` and `select!`.
//!
//! Ready operations are tried first (crossbeam picks at random among ready
//! ones); only when none is ready does the worker show as *selecting* and
//! wait — with the run's abort switch as a hidden extra arm, so a dead run
//! wakes it. After an abort the operation returned is the first arm's, and
//! completing it fails as if the channel were disconnected; a `select!` with
//! no arm at all (`select! {}`, a lone `default(d)`) unwinds its worker
//! quietly instead, as the lab stops a worker that spins on a dead run.
//!
//! ```
//! use chanlab::lab::{Config, Lab};
//! use chanlab::select;
//!
//! let report = Lab::run(Config::default(), |lab| {
//!     let (tx, rx) = lab.bounded::<u32>("work", 1);
//!     let (done_tx, done) = lab.bounded::<()>("done", 0);
//!     drop(done_tx); // a closed `done` is ready at once, for every receiver
//!     tx.send(7).unwrap();
//!     select! {
//!         recv(done) -> _ => "cancelled",
//!         recv(rx) -> v => if v == Ok(7) { "got 7" } else { "?" },
//!     }
//! });
//! assert!(matches!(report.outcome, Some("cancelled" | "got 7")));
//! ```

use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel as cb;
use crossbeam_utils::Backoff;

pub use crossbeam_channel::{SelectTimeoutError, TrySelectError};

use super::channel::{Receiver, RecvError, SendError, Sender};
use super::clock::Left;
use super::runtime::{Core, Gate, Wait};
use super::stats::{ChannelStats, End};
use super::thread_ctx;
use super::turns::{self, Selected};

/// A set of send and receive operations to wait on; see the module docs.
pub struct Select<'a> {
    inner: cb::Select<'a>,
    /// Borrowed, not cloned: building a select must not touch the
    /// channels' shared reference counts (a `done` every worker selects on).
    arms: Vec<(End, &'a Arc<ChannelStats>)>,
    core: Option<&'a Arc<Core>>,
    abort_index: Option<usize>,
    biased: bool,
}

impl Default for Select<'_> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'a> Select<'a> {
    /// An empty select.
    #[must_use]
    pub fn new() -> Self {
        Self {
            inner: cb::Select::new(),
            arms: Vec::new(),
            core: None,
            abort_index: None,
            biased: false,
        }
    }

    /// An empty select that, when several operations are ready, picks the
    /// first one added (crossbeam's `Select::new_biased`): for "check
    /// `done` first" loops.
    #[must_use]
    pub fn new_biased() -> Self {
        Self {
            inner: cb::Select::new_biased(),
            arms: Vec::new(),
            core: None,
            abort_index: None,
            biased: true,
        }
    }

    /// Adds a send arm; returns its index.
    pub fn send<T>(&mut self, s: &'a Sender<T>) -> usize {
        self.inner.send(&s.inner);
        self.add(End::Send, &s.stats, &s.core)
    }

    /// Adds a receive arm; returns its index.
    pub fn recv<T>(&mut self, r: &'a Receiver<T>) -> usize {
        self.inner.recv(&r.inner);
        self.add(End::Recv, &r.stats, &r.core)
    }

    fn add(&mut self, end: End, stats: &'a Arc<ChannelStats>, core: &'a Arc<Core>) -> usize {
        self.core.get_or_insert(core);
        self.arms.push((end, stats));
        self.arms.len() - 1
    }

    /// crossbeam's index to ours; `None` for the hidden abort arm.
    fn user_index(&self, raw: usize) -> Option<usize> {
        match self.abort_index {
            Some(a) if raw == a => None,
            Some(a) if raw > a => Some(raw - 1),
            _ => Some(raw),
        }
    }

    fn wrap(&self, op: cb::SelectedOperation<'a>, core: &'a Arc<Core>) -> SelectedOperation<'a> {
        if let Some(index) = self.user_index(op.index()) {
            SelectedOperation {
                inner: Some(op),
                index,
                scheduled: None,
            }
        } else {
            let _ = op.recv(&core.abort_rx);
            SelectedOperation::aborted()
        }
    }

    /// Picks a ready operation without blocking.
    pub fn try_select(&mut self) -> Result<SelectedOperation<'a>, TrySelectError> {
        let Some(core) = self.core else {
            return Err(TrySelectError);
        };
        match core.gate() {
            Gate::Open => {}
            Gate::Closed => return Ok(SelectedOperation::aborted()),
            Gate::Scheduled => {
                let now = core.elapsed();
                return match turns::select(core, &self.arms, self.biased, Some(now)) {
                    Selected::Arm(index, me) => Ok(SelectedOperation::scheduled(index, me)),
                    Selected::TimedOut => Err(TrySelectError),
                    Selected::Aborted => Ok(SelectedOperation::aborted()),
                };
            }
        }
        let op = self.inner.try_select()?;
        Ok(self.wrap(op, core))
    }

    /// Blocks until one operation is ready and picks it.
    ///
    /// With no arm at all it waits until the run aborts.
    pub fn select(&mut self) -> SelectedOperation<'a> {
        match self.select_until(None) {
            Ok(op) => op,
            Err(SelectTimeoutError) => unreachable!("no deadline, no timeout"),
        }
    }

    /// Blocks for at most `timeout` (lesson time).
    pub fn select_timeout(
        &mut self,
        timeout: Duration,
    ) -> Result<SelectedOperation<'a>, SelectTimeoutError> {
        let core = self.core.cloned().or_else(thread_ctx::current_core);
        match core.as_ref().map(|c| c.deadline_after(timeout)) {
            Some(None) => Ok(self.select()), // too far to represent: forever
            Some(Some(deadline)) => self.select_until(Some(deadline)),
            None => {
                // No lab in sight: wall time, as crossbeam's.
                let deadline = Instant::now().checked_add(timeout);
                match (self.core, deadline) {
                    (None, Some(d)) => {
                        std::thread::sleep(d.saturating_duration_since(Instant::now()));
                        Err(SelectTimeoutError)
                    }
                    _ => Ok(self.select()),
                }
            }
        }
    }

    /// `deadline` is lesson time.
    fn select_until(
        &mut self,
        deadline: Option<Duration>,
    ) -> Result<SelectedOperation<'a>, SelectTimeoutError> {
        let Some(core) = self.core else {
            return select_nothing(deadline);
        };
        match core.gate() {
            Gate::Open => {}
            Gate::Closed => return Ok(SelectedOperation::aborted()),
            Gate::Scheduled => {
                return match turns::select(core, &self.arms, self.biased, deadline) {
                    Selected::Arm(index, me) => Ok(SelectedOperation::scheduled(index, me)),
                    Selected::TimedOut => Err(SelectTimeoutError),
                    Selected::Aborted => Ok(SelectedOperation::aborted()),
                };
            }
        }
        let backoff = Backoff::new();
        loop {
            if let Ok(op) = self.inner.try_select() {
                return Ok(self.wrap(op, core));
            }
            if backoff.is_completed() {
                break;
            }
            backoff.snooze();
        }
        if self.abort_index.is_none() {
            self.abort_index = Some(self.inner.recv(&core.abort_rx));
        }
        let worker = core.current_worker();
        let arms = self.arms.iter().map(|(end, ch)| (*end, Arc::clone(ch)));
        core.begin_wait(worker, Wait::Select(arms.collect()), deadline);
        let picked = match deadline {
            None => Ok(self.inner.select()),
            // The arms are the caller's, so no pace arm can join them: wait
            // in bounded slices of wall time and look at lesson time again
            // after each, so a pause or a new speed is felt within a slice.
            Some(deadline) => loop {
                let slice = match core.clock.left(deadline) {
                    Left::Reached => break Err(SelectTimeoutError),
                    Left::Wall(w) => w.min(PACE_SLICE),
                    Left::Paused => PACE_SLICE,
                };
                if let Ok(op) = self.inner.select_timeout(slice) {
                    break Ok(op);
                }
            },
        };
        core.end_wait(worker);
        picked.map(|op| self.wrap(op, core))
    }
}

/// How long a select with a timeout waits before it looks at lesson time
/// again (a pause or a change of speed is felt within this).
const PACE_SLICE: Duration = Duration::from_millis(50);

/// A select with no arm: it can never complete. On a lab worker it shows
/// as selecting on nothing (part of the deadlock picture) and wakes when the
/// run aborts (or its lesson-time deadline passes); elsewhere it waits
/// forever, as crossbeam's does.
fn select_nothing<'a>(
    deadline: Option<Duration>,
) -> Result<SelectedOperation<'a>, SelectTimeoutError> {
    let Some(core) = thread_ctx::current_core() else {
        loop {
            std::thread::park();
        }
    };
    match core.gate() {
        Gate::Open => {}
        Gate::Closed => return Ok(SelectedOperation::aborted()),
        Gate::Scheduled => {
            return match turns::select(&core, &[], false, deadline) {
                Selected::TimedOut => Err(SelectTimeoutError),
                Selected::Arm(..) | Selected::Aborted => Ok(SelectedOperation::aborted()),
            };
        }
    }
    let worker = core.current_worker();
    core.begin_wait(worker, Wait::Select(Vec::new()), deadline);
    let timed_out = core.clock.sleep_until(deadline, &core.abort_rx);
    core.end_wait(worker);
    if timed_out && deadline.is_some() {
        Err(SelectTimeoutError)
    } else {
        Ok(SelectedOperation::aborted())
    }
}

/// The operation a [`Select`] picked: complete it with [`send`](Self::send)
/// or [`recv`](Self::recv) on the same handle that was added at
/// [`index`](Self::index), as with crossbeam.
#[must_use = "a selected operation must be completed"]
pub struct SelectedOperation<'a> {
    inner: Option<cb::SelectedOperation<'a>>,
    index: usize,
    /// Scheduled: the worker the pick was for (it completes without waiting).
    scheduled: Option<usize>,
}

impl SelectedOperation<'_> {
    fn aborted() -> Self {
        Self {
            inner: None,
            index: 0,
            scheduled: None,
        }
    }

    fn scheduled(index: usize, me: usize) -> Self {
        Self {
            inner: None,
            index,
            scheduled: Some(me),
        }
    }

    /// Which arm was picked (the order arms were added, from 0).
    #[must_use]
    pub fn index(&self) -> usize {
        self.index
    }

    /// Completes a send arm.
    pub fn send<T>(mut self, s: &Sender<T>, msg: T) -> Result<(), SendError<T>> {
        if let Some(me) = self.scheduled {
            return turns::complete_send(s, me, msg).map_err(|e| SendError(e.into_inner()));
        }
        let Some(op) = self.inner.take() else {
            return Err(SendError(msg));
        };
        let mine = s.counter.claim(&s.core);
        op.send(&s.inner, msg)?;
        s.stats.bump(End::Send, &s.counter, &s.core, mine);
        Ok(())
    }

    /// Completes a receive arm.
    pub fn recv<T>(mut self, r: &Receiver<T>) -> Result<T, RecvError> {
        if let Some(me) = self.scheduled {
            return turns::complete_recv(r, me).unwrap_or(Err(RecvError));
        }
        let Some(op) = self.inner.take() else {
            return Err(RecvError);
        };
        let msg = op.recv(&r.inner)?;
        r.stats.bump_received(&r.counter, &r.core);
        Ok(msg)
    }
}

/// crossbeam's `select!` over lab channels.
///
/// The same grammar as crossbeam's: arms `recv(rx) -> res => body`,
/// `send(tx, msg) -> res => body`, and at most one `default => body`,
/// `default() => body` or `default(timeout) => body` (lesson time), in any
/// order. As in a `match`, the comma after a `{ ... }` body may be left out;
/// after any other body it is needed, except after the last arm. Each
/// channel expression is evaluated once; the message of a send arm only if
/// that arm is picked.
///
/// ```
/// use chanlab::lab::{Config, Lab};
/// use chanlab::select;
///
/// let report = Lab::run(Config::default(), |lab| {
///     let (tx, rx) = lab.bounded::<u32>("jobs", 1);
///     tx.send(1).unwrap();
///     let mut seen = Vec::new();
///     loop {
///         select! {
///             recv(rx) -> job => { seen.push(job.unwrap()); }
///             default => break,
///         }
///     }
///     seen
/// });
/// assert_eq!(report.outcome, Some(vec![1]));
/// ```
#[macro_export]
macro_rules! select {
    ($($tokens:tt)*) => {
        $crate::__lab_select!(@norm new [] $($tokens)*)
    };
}

/// crossbeam's `select_biased!` over lab channels: like [`select!`], but
/// when several arms are ready the first one listed wins.
#[macro_export]
macro_rules! select_biased {
    ($($tokens:tt)*) => {
        $crate::__lab_select!(@norm new_biased [] $($tokens)*)
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __lab_select {
    // ---- normalize every arm to `case (args) (res) (body)`, as crossbeam's
    // `@list` does: a `{ ... }` body needs no comma, any other body does ----
    (@norm $new:ident [$($cases:tt)*]) => {
        $crate::__lab_select!(@parse $new (0usize) [] () $($cases)*)
    };
    (@norm $new:ident [$($cases:tt)*] default => $($tail:tt)*) => {
        $crate::__lab_select!(@norm $new [$($cases)*] default() => $($tail)*)
    };
    (@norm $new:ident [$($cases:tt)*] $case:ident $args:tt $(-> $res:pat)? => { $($body:tt)* }, $($tail:tt)*) => {
        $crate::__lab_select!(@norm $new [$($cases)* $case $args ($($res)?) ({ $($body)* })] $($tail)*)
    };
    (@norm $new:ident [$($cases:tt)*] $case:ident $args:tt $(-> $res:pat)? => $body:expr, $($tail:tt)*) => {
        $crate::__lab_select!(@norm $new [$($cases)* $case $args ($($res)?) ($body)] $($tail)*)
    };
    (@norm $new:ident [$($cases:tt)*] $case:ident $args:tt $(-> $res:pat)? => { $($body:tt)* } $(,)?) => {
        $crate::__lab_select!(@norm $new [$($cases)* $case $args ($($res)?) ({ $($body)* })])
    };
    (@norm $new:ident [$($cases:tt)*] $case:ident $args:tt $(-> $res:pat)? => $body:expr) => {
        $crate::__lab_select!(@norm $new [$($cases)* $case $args ($($res)?) ($body)])
    };
    // Last: a block with no comma after it. Tried after the expression
    // rules, so `{ v }.unwrap(),` is one expression, as in crossbeam's.
    (@norm $new:ident [$($cases:tt)*] $case:ident $args:tt $(-> $res:pat)? => { $($body:tt)* } $($tail:tt)*) => {
        $crate::__lab_select!(@norm $new [$($cases)* $case $args ($($res)?) ({ $($body)* })] $($tail)*)
    };
    // ---- parse arms into [((index) recv ch res body) ((index) send ch msg res body)] ----
    (@parse $new:ident ($i:expr) [$($arms:tt)*] ($($default:tt)*) recv($r:expr $(,)?) ($res:pat) ($body:expr) $($rest:tt)*) => {{
        let __channel = &$r;
        $crate::__lab_select!(@parse $new ($i + 1) [$($arms)* (($i) recv __channel ($res) ($body))] ($($default)*) $($rest)*)
    }};
    (@parse $new:ident ($i:expr) [$($arms:tt)*] ($($default:tt)*) send($s:expr, $m:expr $(,)?) ($res:pat) ($body:expr) $($rest:tt)*) => {{
        let __channel = &$s;
        $crate::__lab_select!(@parse $new ($i + 1) [$($arms)* (($i) send __channel ($m) ($res) ($body))] ($($default)*) $($rest)*)
    }};
    (@parse $new:ident ($i:expr) [$($arms:tt)*] () default() () ($body:expr) $($rest:tt)*) => {
        $crate::__lab_select!(@parse $new ($i) [$($arms)*] (now ($body)) $($rest)*)
    };
    (@parse $new:ident ($i:expr) [$($arms:tt)*] () default($t:expr $(,)?) () ($body:expr) $($rest:tt)*) => {
        $crate::__lab_select!(@parse $new ($i) [$($arms)*] (timeout ($t) ($body)) $($rest)*)
    };
    (@parse $new:ident ($i:expr) [$($arms:tt)*] ($($default:tt)+) default $($rest:tt)*) => {
        compile_error!("there can be only one `default` case in a `select!` block")
    };
    // ---- all parsed: build the Select, wait, dispatch on the picked index ----
    (@parse $new:ident ($i:expr) [$($arm:tt)*] ($($default:tt)*)) => {{
        let mut __sel = $crate::lab::Select::$new();
        $( $crate::__lab_select!(@add __sel $arm); )*
        $crate::__lab_select!(@wait __sel [$($arm)*] ($($default)*))
    }};
    (@add $sel:ident (($i:expr) recv $ch:ident $($x:tt)*)) => { $sel.recv($ch) };
    (@add $sel:ident (($i:expr) send $ch:ident $($x:tt)*)) => { $sel.send($ch) };
    (@wait $sel:ident [$($arm:tt)*] ()) => {{
        let __op = $sel.select();
        $crate::__lab_select!(@dispatch __op [$($arm)*])
    }};
    (@wait $sel:ident [$($arm:tt)*] (now ($body:expr))) => {
        $crate::__lab_select!(@or_default ($sel.try_select().ok()) [$($arm)*] ($body))
    };
    (@wait $sel:ident [$($arm:tt)*] (timeout ($t:expr) ($body:expr))) => {
        $crate::__lab_select!(@or_default ($sel.select_timeout($t).ok()) [$($arm)*] ($body))
    };
    // Not a `match` on the pick: its temporary would borrow the channels
    // through the default body, and crossbeam's idiom of switching an arm
    // off (`rx = never()`) in a body would not compile.
    (@or_default ($picked:expr) [$($arm:tt)*] ($body:expr)) => {{
        let __picked = $picked;
        if __picked.is_none() {
            ::core::mem::drop(__picked);
            $body
        } else {
            // Moved out whole (a method taking it by value), so no drop of
            // it is left to outlive the arm's body.
            #[allow(clippy::unnecessary_unwrap)]
            let __op = __picked.unwrap();
            $crate::__lab_select!(@dispatch __op [$($arm)*])
        }
    }};
    // One `match` on the picked index: an arm that returns or breaks reads
    // as it would in crossbeam's `select!`.
    (@dispatch $op:ident [$((($i:expr) $($arm:tt)*))*]) => {
        match $op.index() {
            $( __index if __index == $i => $crate::__lab_select!(@complete $op $($arm)*), )*
            // Only a select with no arm at all gets here: the run aborted.
            _ => $crate::lab::select_aborted(),
        }
    };
    (@complete $op:ident recv $ch:ident ($res:pat) ($body:expr)) => {{
        let $res = $op.recv($ch);
        $body
    }};
    (@complete $op:ident send $ch:ident ($m:expr) ($res:pat) ($body:expr)) => {{
        let $res = $op.send($ch, $m);
        $body
    }};
}
