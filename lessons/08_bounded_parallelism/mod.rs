#![doc = include_str!("README.md")]

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::lab::{Event, EventKind, Lab, Receiver, Sender, Snapshot};
use crate::lessons::drain::Group;
use crate::lessons::{
    Challenge, Expect, KnobRanges, Knobs, Lesson, Outcome, Variant, VariantKind, count,
};
use crate::select_biased;

/// The lesson in the catalog.
pub static LESSON: Lesson = Lesson {
    number: 8,
    slug: "bounded-parallelism",
    title: "Bounded parallelism",
    summary: "at most N at once: a semaphore made of a channel, errgroup's SetLimit, or a pool; permits given back on every path",
    readme: concat!(
        include_str!("README.md"),
        "\n",
        include_str!("../LAB_CHANNELS.md")
    ),
    variants: &VARIANTS,
    defaults: Knobs {
        items: 24,
        buffer: 4,
        workers: 4,
        seed: 1,
    },
    ranges: KnobRanges {
        items: 2..=10_000,
        buffer: 0..=256,
        workers: 2..=64,
    },
    main,
    hidden_by,
    challenges: &[Challenge {
        title: "two images fail at the same instant: make wait() report image #5, not image #1",
        hint: "with 5 permits images #1 to #5 start together, and #1 and #5 both turn out \
               corrupt 0.8 s later; the group keeps only the first error it is told, so let \
               resize#5 finish (give back its permit and return) before resize#1 does",
        variant: "wait-then-return",
        knobs: Knobs {
            items: 12,
            buffer: 4,
            workers: 5,
            seed: 1,
        },
        reached: image_5_fails_first,
    }],
};

/// The challenge: resize#5 finished (so told the group its error) before
/// resize#1 did.
fn image_5_fails_first(_: &Snapshot, events: &[Event]) -> bool {
    events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::Finished { worker } if worker == "resize#1" || worker == "resize#5" => {
                Some(worker == "resize#5")
            }
            _ => None,
        })
        .unwrap_or(false)
}

static VARIANTS: [Variant; 6] = [
    Variant {
        name: "correct",
        kind: VariantKind::Correct,
        summary: "main takes a permit from `permits` (capacity N) before it starts each image; the permit goes back when its worker returns, on every path",
        explains: "at most N images at once; a permit is a value that gives itself back when dropped, so no early return can keep one; a poster that asks for more permits than exist is refused at once",
        fixed_by: None,
        expect: Expect::Clean,
    },
    Variant {
        name: "spawn-per-item",
        kind: VariantKind::Trap,
        summary: "a worker per image, all started at once: no permits",
        explains: "nothing bounds them: as many workers at once as there are images (memory, file handles, the server you call all pay for it)",
        fixed_by: Some("correct"),
        expect: Expect::Broken,
    },
    Variant {
        name: "leaked-permit",
        kind: VariantKind::Trap,
        summary: "permits taken and given back by hand (Go: `sem <- struct{}{}` / `<-sem`); the path that skips a corrupt image returns before giving it back",
        explains: "each corrupt image keeps its permit for good; once N are gone, main's next acquire waits forever: deadlock",
        fixed_by: Some("correct"),
        expect: Expect::Verdict("deadlock"),
    },
    Variant {
        name: "doomed-acquire",
        kind: VariantKind::Trap,
        summary: "the poster asks for 2N permits, and the acquire waits until it has them",
        explains: "there are only N: main takes all of them and waits for one more that cannot exist, and nobody else can start: deadlock",
        fixed_by: Some("correct"),
        expect: Expect::Verdict("deadlock"),
    },
    Variant {
        name: "acquire-returns-early",
        kind: VariantKind::Trap,
        summary: "stop at the first error (errgroup + semaphore), but an Acquire error returns at once: `return err`, without waiting for the group",
        explains: "the corrupt image cancels the group, the next Acquire fails with `canceled`, and that is what comes back: the real error is lost, and the workers in flight outlive the function: leak",
        fixed_by: Some("wait-then-return"),
        expect: Expect::Verdict("leak"),
    },
    Variant {
        name: "wait-then-return",
        kind: VariantKind::Fix,
        summary: "the same, but an Acquire error breaks out of the loop, and the function returns `group.wait()`",
        explains: "wait() returns after every worker has, with the first error the group saw: the corrupt image's",
        fixed_by: None,
        expect: Expect::Clean,
    },
];

/// How long a photo takes to resize: 2.4 to 2.6 s (from the seed).
const PHOTO_MS: (u64, u64) = (2_400, 2_600);
/// A corrupt image fails this long after it starts (decoding finds it out).
pub const CORRUPT_AFTER: Duration = Duration::from_millis(800);
/// How long the poster takes, when it runs at all.
const POSTER: Duration = Duration::from_secs(5);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What an image is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Image {
    /// An ordinary photo: one permit.
    Photo,
    /// It fails to decode.
    Corrupt,
    /// A poster: it needs twice the memory of the whole pool (2N permits).
    Poster,
}

/// Image `i` of a batch: every fourth from the first (#1, #5, #9, ...) is
/// corrupt; the one in the middle is a poster (the next one, if the middle
/// would be corrupt).
#[must_use]
pub fn image(knobs: &Knobs, i: u64) -> Image {
    if i == poster(knobs) {
        Image::Poster
    } else if i % 4 == 1 {
        Image::Corrupt
    } else {
        Image::Photo
    }
}

/// The poster's number.
#[must_use]
pub fn poster(knobs: &Knobs) -> u64 {
    let middle = (knobs.items / 2).max(1);
    if middle % 4 == 1 { middle + 1 } else { middle }
}

/// How many permits image `i` asks for.
#[must_use]
pub fn weight(knobs: &Knobs, i: u64) -> usize {
    match image(knobs, i) {
        Image::Poster => 2 * knobs.workers,
        Image::Photo | Image::Corrupt => 1,
    }
}

/// How long image `i` takes (to fail, for a corrupt one).
#[must_use]
pub fn resize_time(knobs: &Knobs, i: u64) -> Duration {
    match image(knobs, i) {
        Image::Corrupt => CORRUPT_AFTER,
        Image::Poster => POSTER,
        Image::Photo => {
            let mut rng = fastrand::Rng::with_seed(knobs.seed.wrapping_mul(31).wrapping_add(i));
            Duration::from_millis(rng.u64(PHOTO_MS.0 / 50..=PHOTO_MS.1 / 50) * 50)
        }
    }
}

/// An image that could not be resized.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Corrupt {
    /// The image's number.
    pub image: u64,
}

impl fmt::Display for Corrupt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "image #{} is corrupt", self.image)
    }
}

impl std::error::Error for Corrupt {}

/// Why an acquire gave no permit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AcquireError {
    /// `done` closed first (Go: `ctx.Err()`, context canceled).
    Canceled,
    /// More permits than the semaphore has: it could never be granted.
    TooLarge {
        /// Permits asked for.
        asked: usize,
        /// Permits there are.
        size: usize,
    },
}

impl fmt::Display for AcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Canceled => f.write_str("acquire: context canceled"),
            Self::TooLarge { asked, size } => {
                write!(f, "acquire: {asked} permits asked, and there are {size}")
            }
        }
    }
}

impl std::error::Error for AcquireError {}

/// What a batch function returns as its error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchError {
    /// An image failed.
    Image(Corrupt),
    /// An acquire failed.
    Acquire(AcquireError),
}

impl fmt::Display for BatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Image(e) => e.fmt(f),
            Self::Acquire(e) => e.fmt(f),
        }
    }
}

/// A counting semaphore made of a channel: `size` slots, a token in a slot
/// per permit taken (Go: `sem := make(chan struct{}, n)`; `sem <-
/// struct{}{}` takes one, `<-sem` gives it back). A full channel is "no
/// permit left": the next take waits for a give-back.
pub struct Semaphore {
    take: Sender<()>,
    give_back: Receiver<()>,
    size: usize,
}

/// Permits held; dropping it gives them back, whatever path the holder
/// leaves by (return, `?`, panic).
pub struct Permit {
    give_back: Receiver<()>,
    n: usize,
}

impl Drop for Permit {
    fn drop(&mut self) {
        for _ in 0..self.n {
            let _ = self.give_back.recv();
        }
    }
}

/// Gives back one permit by hand (the trap `leaked-permit` holds one).
#[derive(Clone)]
pub struct GiveBack(Receiver<()>);

impl GiveBack {
    /// Go: `<-sem`.
    pub fn give_back(&self) {
        let _ = self.0.recv();
    }
}

impl Semaphore {
    /// A semaphore of `size` permits, as the channel `permits`.
    #[must_use]
    pub fn new(lab: &Lab, size: usize) -> Self {
        let (take, give_back) = lab.bounded("permits", size);
        Self {
            take,
            give_back,
            size,
        }
    }

    /// How many permits there are.
    #[must_use]
    pub fn size(&self) -> usize {
        self.size
    }

    /// Takes `n` permits, waiting for them, unless `done` closes first
    /// (checked first: a canceled group starts nothing more). More than the
    /// semaphore has is refused at once: it could never be granted.
    pub fn acquire(&self, n: usize, done: &Receiver<()>) -> Result<Permit, AcquireError> {
        if n > self.size {
            return Err(AcquireError::TooLarge {
                asked: n,
                size: self.size,
            });
        }
        self.acquire_unchecked(n, done)
    }

    /// The trap `doomed-acquire`: the same wait, without the size check.
    pub fn acquire_unchecked(&self, n: usize, done: &Receiver<()>) -> Result<Permit, AcquireError> {
        let mut taken = 0;
        while taken < n {
            select_biased! {
                recv(done) -> _ => break,
                send(self.take, ()) -> sent => {
                    if sent.is_err() {
                        break; // the run is over
                    }
                    taken += 1;
                }
            }
        }
        let permit = Permit {
            give_back: self.give_back.clone(),
            n: taken,
        };
        if taken < n {
            return Err(AcquireError::Canceled); // `permit` gives back the ones taken
        }
        Ok(permit)
    }

    /// The trap `leaked-permit`: takes one permit that must be given back
    /// by hand, with [`GiveBack`].
    pub fn take(&self, done: &Receiver<()>) -> Result<GiveBack, AcquireError> {
        let mut permit = self.acquire(1, done)?;
        permit.n = 0; // by hand from here on: Go's `sem <- struct{}{}`
        Ok(GiveBack(self.give_back.clone()))
    }
}

/// Counts the workers resizing right now, and the most at once.
#[derive(Default)]
pub struct Tally {
    live: AtomicUsize,
    peak: AtomicUsize,
    started: Mutex<Vec<u64>>,
    resized: Mutex<Vec<u64>>,
    skipped: Mutex<Vec<u64>>,
    failed: Mutex<Vec<Corrupt>>,
    leaked: Mutex<Vec<u64>>,
}

/// A worker counted as resizing until this is dropped.
struct Working<'a>(&'a Tally);

impl Tally {
    fn enter(&self, i: u64) -> Working<'_> {
        let now = self.live.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
        lock(&self.started).push(i);
        Working(self)
    }

    /// The most workers resizing at once so far.
    #[must_use]
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }
}

impl Drop for Working<'_> {
    fn drop(&mut self) {
        self.0.live.fetch_sub(1, Ordering::SeqCst);
    }
}

/// What to do with a corrupt image.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Policy {
    /// Skip it, log it, go on.
    Skip,
    /// Fail the batch: the first error cancels the group.
    StopAtFirst,
}

/// What one image's worker needs.
struct Worker {
    lab: Lab,
    knobs: Knobs,
    image: u64,
    policy: Policy,
    tally: Arc<Tally>,
    results: Sender<u64>,
}

impl Worker {
    /// Resizes the image: the simulated work, then the result (or the error).
    fn resize(&self) -> Result<u64, Corrupt> {
        let i = self.image;
        self.lab.work(resize_time(&self.knobs, i));
        match image(&self.knobs, i) {
            Image::Corrupt => Err(Corrupt { image: i }),
            Image::Photo | Image::Poster => Ok(i),
        }
    }

    /// The worker, counted while it works; its result goes to `results`.
    fn run(&self) -> Result<(), Corrupt> {
        let _working = self.tally.enter(self.image);
        match self.resize() {
            Ok(done) => {
                lock(&self.tally.resized).push(done);
                let _ = self.results.send(done);
                Ok(())
            }
            Err(e) if self.policy == Policy::Skip => {
                lock(&self.tally.skipped).push(e.image); // logged; the batch goes on
                Ok(())
            }
            Err(e) => {
                lock(&self.tally.failed).push(e);
                Err(e)
            }
        }
    }

    /// The trap `leaked-permit`: the same, giving the permit back by hand.
    fn run_by_hand(&self, permit: &GiveBack) {
        let working = self.tally.enter(self.image);
        let Ok(done) = self.resize() else {
            lock(&self.tally.skipped).push(self.image);
            lock(&self.tally.leaked).push(self.image);
            return; // skipped... and the permit is never given back
        };
        lock(&self.tally.resized).push(done);
        let _ = self.results.send(done);
        drop(working);
        permit.give_back(); // Go: <-sem
    }
}

/// Permits main holds for one image.
enum Held {
    /// Given back when dropped.
    Permit(Permit),
    /// Given back by hand, if the worker remembers.
    ByHand(GiveBack),
}

/// What a batch did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// Images offered.
    pub offered: u64,
    /// The limit (permits), or the knob's value for `spawn-per-item`.
    pub limit: usize,
    /// Images started, in order.
    pub started: Vec<u64>,
    /// Images resized (collected, or counted if the run was cut short).
    pub resized: Vec<u64>,
    /// Corrupt images skipped.
    pub skipped: Vec<u64>,
    /// Images refused at once (asked for more permits than exist).
    pub refused: Vec<u64>,
    /// Corrupt images that failed the batch, in the order they failed.
    pub failed: Vec<Corrupt>,
    /// Images that kept their permit (the trap `leaked-permit`).
    pub leaked: Vec<u64>,
    /// What the batch function returned.
    pub returned: Result<(), BatchError>,
    /// The most workers resizing at once.
    pub peak: usize,
    /// Workers still resizing when the batch function returned.
    pub running_at_return: usize,
    /// The poster's number and what it asked for.
    pub poster: (u64, usize),
    /// The image main was acquiring for when the lab ended the run.
    pub stuck_at: Option<u64>,
    /// The lab ended the run (a verdict) before the batch could finish.
    pub aborted: bool,
}

/// How a variant bounds, gives back, acquires and returns.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// A permit per image, given back by drop.
    Bounded {
        policy: Policy,
        on_acquire_error: Exit,
    },
    /// No permits at all.
    Unbounded,
    /// Permits given back by hand, forgotten on the skip path.
    ByHand,
    /// The poster's acquire waits for 2N permits.
    Doomed,
}

/// What the loop does when an acquire fails for a cancel.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Exit {
    /// `return err`: the trap.
    Return,
    /// `break`, then `return group.wait()`.
    Break,
}

fn batch(lab: &Lab, knobs: &Knobs, shape: Shape) -> Batch {
    let tally = Arc::new(Tally::default());
    let (results_tx, results) = lab.bounded::<u64>("results", knobs.buffer);
    let collector = lab.go("collect", move || results.iter().collect::<Vec<u64>>());
    let sem = Semaphore::new(lab, knobs.workers);
    let mut group: Group<Corrupt> = Group::new(lab);
    let done = group.done();
    let (policy, exit) = match shape {
        Shape::Bounded {
            policy,
            on_acquire_error,
        } => (policy, on_acquire_error),
        _ => (Policy::Skip, Exit::Break),
    };
    let mut refused = Vec::new();
    let mut returned: Result<(), BatchError> = Ok(());
    let mut early = false;
    let mut stuck_at = None;
    for i in 1..=knobs.items {
        let worker = Worker {
            lab: lab.clone(),
            knobs: *knobs,
            image: i,
            policy,
            tally: Arc::clone(&tally),
            results: results_tx.clone(),
        };
        let name = format!("resize#{i}");
        let acquired = match shape {
            Shape::Unbounded => {
                group.go(name, move || worker.run()); // no permit at all
                continue;
            }
            Shape::ByHand => sem.take(&done).map(Held::ByHand),
            Shape::Doomed => sem
                .acquire_unchecked(weight(knobs, i), &done)
                .map(Held::Permit),
            Shape::Bounded { .. } => sem.acquire(weight(knobs, i), &done).map(Held::Permit),
        };
        match acquired {
            Ok(Held::Permit(permit)) => group.go(name, move || {
                let _permit = permit; // given back when this worker returns, on every path
                worker.run()
            }),
            Ok(Held::ByHand(permit)) => group.go(name, move || {
                worker.run_by_hand(&permit);
                Ok(())
            }),
            Err(AcquireError::TooLarge { .. }) => refused.push(i), // at once: it could never fit
            Err(e @ AcquireError::Canceled) => {
                if lab.is_aborted() {
                    stuck_at = Some(i); // the lab ended the run while main waited
                }
                if exit == Exit::Return {
                    returned = Err(BatchError::Acquire(e)); // the trap: return err
                    early = true;
                }
                break; // the fix: start nothing more, then wait
            }
        }
    }
    drop(results_tx);
    let running_at_return = tally.live.load(Ordering::SeqCst);
    let collected = if early {
        None // returned without waiting: nobody waits for the group or the collector
    } else {
        if let Err(e) = group.wait() {
            returned = Err(BatchError::Image(e));
        }
        collector.join().ok()
    };
    let resized = collected.unwrap_or_else(|| lock(&tally.resized).clone());
    Batch {
        offered: knobs.items,
        limit: knobs.workers,
        started: lock(&tally.started).clone(),
        resized,
        skipped: lock(&tally.skipped).clone(),
        refused,
        failed: lock(&tally.failed).clone(),
        leaked: lock(&tally.leaked).clone(),
        returned,
        peak: tally.peak(),
        running_at_return: if early { running_at_return } else { 0 },
        poster: (poster(knobs), weight(knobs, poster(knobs))),
        stuck_at,
        aborted: lab.is_aborted(),
    }
}

const CORRECT: Shape = Shape::Bounded {
    policy: Policy::Skip,
    on_acquire_error: Exit::Break,
};

/// The variant `correct`.
pub fn correct(lab: &Lab, knobs: &Knobs) -> Batch {
    batch(lab, knobs, CORRECT)
}

/// The trap `spawn-per-item`.
pub fn spawn_per_item(lab: &Lab, knobs: &Knobs) -> Batch {
    batch(lab, knobs, Shape::Unbounded)
}

/// The trap `leaked-permit`.
pub fn leaked_permit(lab: &Lab, knobs: &Knobs) -> Batch {
    batch(lab, knobs, Shape::ByHand)
}

/// The trap `doomed-acquire`.
pub fn doomed_acquire(lab: &Lab, knobs: &Knobs) -> Batch {
    batch(lab, knobs, Shape::Doomed)
}

/// The trap `acquire-returns-early`.
pub fn acquire_returns_early(lab: &Lab, knobs: &Knobs) -> Batch {
    let shape = Shape::Bounded {
        policy: Policy::StopAtFirst,
        on_acquire_error: Exit::Return,
    };
    batch(lab, knobs, shape)
}

/// The fix `wait-then-return`.
pub fn wait_then_return(lab: &Lab, knobs: &Knobs) -> Batch {
    let shape = Shape::Bounded {
        policy: Policy::StopAtFirst,
        on_acquire_error: Exit::Break,
    };
    batch(lab, knobs, shape)
}

fn main(lab: &Lab, variant: &Variant, knobs: &Knobs) -> Outcome {
    let b = match variant.name {
        "spawn-per-item" => spawn_per_item(lab, knobs),
        "leaked-permit" => leaked_permit(lab, knobs),
        "doomed-acquire" => doomed_acquire(lab, knobs),
        "acquire-returns-early" => acquire_returns_early(lab, knobs),
        "wait-then-return" => wait_then_return(lab, knobs),
        _ => correct(lab, knobs),
    };
    outcome(&b)
}

/// The images that take the corrupt path before the last one: the
/// permits `leaked-permit` can lose while an acquire is still to come.
#[must_use]
pub fn corrupt_before_the_last(knobs: &Knobs) -> u64 {
    (1..knobs.items)
        .filter(|&i| image(knobs, i) == Image::Corrupt)
        .count() as u64
}

/// Which knobs hide which trap (see [`crate::lessons::HiddenBy`]).
/// `doomed-acquire` shows with every knob: there is always a poster.
fn hidden_by(variant: &Variant, knobs: &Knobs) -> Option<String> {
    let (items, limit) = (knobs.items, knobs.workers as u64);
    match variant.name {
        "spawn-per-item" if items <= limit => Some(format!(
            "hidden by these knobs: with --items {items} ≤ --workers {limit} a worker per \
             image is never more than the limit; try --items {}",
            limit + 1
        )),
        "leaked-permit" if corrupt_before_the_last(knobs) < limit => {
            let lost = corrupt_before_the_last(knobs);
            Some(format!(
                "hidden by these knobs: with --items {items} only {} can keep a permit before \
                 the last acquire, and there are --workers {limit}: the limit shrinks to {} but \
                 never runs out; try --items {}",
                count(lost, "corrupt image", "corrupt images"),
                limit - lost,
                // The N-th corrupt image is #4(N - 1) + 1, and one more must follow it.
                4 * limit - 2
            ))
        }
        "acquire-returns-early" if items <= limit + 1 => Some(format!(
            "hidden by these knobs: with --items {items} and --workers {limit} every image gets \
             a permit at once (the poster is refused), so no acquire is left to fail when \
             image #1 turns out corrupt, and the loop ends in wait(); try --items {}",
            limit + 2
        )),
        _ => None,
    }
}

fn sorted(images: &[u64]) -> Vec<u64> {
    let mut v = images.to_vec();
    v.sort_unstable();
    v
}

/// `#1, #5 and #9`; a long list names its first six and counts the rest.
fn list(images: &[u64]) -> String {
    const SHOWN: usize = 6;
    let names: Vec<String> = images.iter().take(SHOWN).map(|i| format!("#{i}")).collect();
    if images.len() > SHOWN {
        return format!("{} and {} more", names.join(", "), images.len() - SHOWN);
    }
    match names.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// The outcome of a batch.
fn outcome(b: &Batch) -> Outcome {
    let mut o = Outcome {
        items_in: b.offered,
        items_out: b.resized.len() as u64,
        ..Outcome::default()
    };
    o.notes.push(format!(
        "peak {} resizing at once (limit {})",
        count(b.peak as u64, "worker", "workers"),
        b.limit
    ));
    if b.peak > b.limit {
        o.problems.push(format!(
            "{} resizing at once for {} images: nothing bounded them (the limit was {})",
            b.peak, b.offered, b.limit
        ));
    }
    let (poster, asked) = b.poster;
    if b.refused.contains(&poster) {
        o.by_design.push(format!(
            "image #{poster} (a poster) refused at once: it asks for {asked} permits and there \
             are {}, so no wait could ever grant them",
            b.limit
        ));
    }
    let mut skipped: Vec<u64> = b.skipped.clone();
    skipped.sort_unstable();
    if !skipped.is_empty() {
        o.by_design.push(format!(
            "{} skipped ({}): logged, and the batch goes on",
            count(skipped.len() as u64, "corrupt image", "corrupt images"),
            list(&skipped)
        ));
    }
    o.dropped = (b.refused.len() + skipped.len()) as u64;
    if !b.leaked.is_empty() && !b.aborted {
        o.notes.push(format!(
            "{} never given back ({} returned early): the limit shrank from {} to {}",
            count(b.leaked.len() as u64, "permit was", "permits were"),
            list(&sorted(&b.leaked)),
            b.limit,
            b.limit.saturating_sub(b.leaked.len())
        ));
    }
    let first = b.failed.first();
    match (&b.returned, first) {
        (Err(BatchError::Image(e)), _) => {
            let not_started = b.offered - b.started.len() as u64;
            o.dropped += not_started;
            o.by_design.push(format!(
                "stopped at the first error ({e}): {} of {} images started, and wait() \
                 returned that error after every worker had returned",
                b.started.len(),
                b.offered
            ));
        }
        (Err(BatchError::Acquire(e)), Some(real)) => {
            o.problems.push(format!(
                "returned `{e}`, not the error that canceled the group ({real}): the real \
                 error was lost"
            ));
            if b.running_at_return > 0 {
                o.problems.push(format!(
                    "{} still resizing when it returned: nobody waited for the group, so they \
                     outlive the function",
                    count(b.running_at_return as u64, "worker was", "workers were")
                ));
            }
        }
        _ => {}
    }
    if b.aborted {
        let waiting_for = b.stuck_at.unwrap_or(b.offered);
        if b.leaked.len() >= b.limit {
            o.problems.push(format!(
                "the run never finished: {} never given back ({} skipped without releasing), \
                 so main waited forever for a permit for image #{waiting_for}",
                count(b.leaked.len() as u64, "permit was", "permits were"),
                list(&sorted(&b.leaked))
            ));
        } else if asked > b.limit && !b.refused.contains(&poster) {
            o.problems.push(format!(
                "the run never finished: main asked for {asked} permits for image #{poster} (a \
                 poster) and there are {}: it took all of them and waited for one more that \
                 cannot exist",
                b.limit
            ));
        } else {
            o.problems.push(format!(
                "the run never finished: {} of {} images resized, then the lab ended it",
                b.resized.len(),
                b.offered
            ));
        }
    }
    o
}
