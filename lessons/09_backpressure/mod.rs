#![doc = include_str!("README.md")]

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::lab::{
    Event, JoinHandle, Lab, Receiver, Sender, Snapshot, TrySendError, WorkerState, in_words,
};
use crate::lessons::{Challenge, Expect, KnobRanges, Knobs, Lesson, Outcome, Variant, VariantKind};

/// The lesson in the catalog.
pub static LESSON: Lesson = Lesson {
    number: 9,
    slug: "backpressure",
    title: "Backpressure",
    summary: "a fast reader, a slow writer: bounded queues slow the reader down; unbounded ones only grow; shed or batch",
    readme: concat!(
        include_str!("README.md"),
        "\n",
        include_str!("../LAB_CHANNELS.md")
    ),
    variants: &VARIANTS,
    defaults: Knobs {
        items: 400,
        buffer: 100,
        workers: 1,
        seed: 1,
    },
    ranges: KnobRanges {
        items: 1..=50_000,
        buffer: 4..=1024,
        workers: 1..=8,
    },
    main,
    hidden_by,
    challenges: &[Challenge {
        title: "store all 24 lines in 9 writes or fewer with `batch`",
        hint: "a write takes what is queued in `records` when `store` comes back for more: whenever \
               `store` and a parse worker are ready at the same moment, let the parse worker send \
               first, so the next write is bigger",
        variant: "batch",
        knobs: CHALLENGE_KNOBS,
        reached: stored_in_few_writes,
    }],
};

static VARIANTS: [Variant; 5] = [
    Variant {
        name: "correct",
        kind: VariantKind::Correct,
        summary: "bounded queues, 100/50/25 (--buffer, a half, a quarter): a full queue makes its sender wait, back to `read`",
        explains: "each stage can run ahead of the next by at most one queue: `read` is slowed to `store`'s pace and no \
                   queue ever holds more than its capacity",
        fixed_by: None,
        expect: Expect::Clean,
    },
    Variant {
        name: "unbounded-queue",
        kind: VariantKind::Trap,
        summary: "the same pipeline on unbounded channels: no send ever waits",
        explains: "`read` makes 125 lines/s, `store` writes 33: nothing makes `read` wait, so the difference piles up in \
                   front of `store` (in `records`, at the default knobs: the parse worker keeps up with `read`), and \
                   the pile (memory, and each line's wait) grows with the input, without limit",
        fixed_by: Some("correct"),
        expect: Expect::Broken,
    },
    Variant {
        name: "buffer-hides-overload",
        kind: VariantKind::Trap,
        summary: "bounded, but every queue twice as big (200/100/50), so that `read` waits less",
        explains: "the overload is the same: the bigger queues fill all the same, later, and every line in them waits \
                   longer; a buffer absorbs a burst, but against a steady overload it only adds waiting",
        fixed_by: Some("shed"),
        expect: Expect::Broken,
    },
    Variant {
        name: "shed",
        kind: VariantKind::Fix,
        summary: "`read` offers each line with `try_send`; when `lines` is full it drops the line and counts it",
        explains: "`read` never waits, `lines` never holds more than 100 and no line waits long: the excess is dropped at \
                   the door, on purpose and counted",
        fixed_by: None,
        expect: Expect::Clean,
    },
    Variant {
        name: "batch",
        kind: VariantKind::Fix,
        summary: "`store` takes up to 25 queued records per write: one round trip for many lines",
        explains: "a write costs 26 ms plus 4 ms a line: batched, `store` outruns `read`, so the queues drain instead of \
                   filling",
        fixed_by: None,
        expect: Expect::Clean,
    },
];

/// Simulated time `read` spends on each line, in lesson time (ms): about
/// 125 lines a second.
const READ_MS: (u64, u64) = (5, 11);
/// Simulated time a parse worker spends on each line (ms): faster than `read`.
const PARSE_MS: (u64, u64) = (2, 6);
/// A write's round trip (ms): paid once per write, whatever its size.
const WRITE_BASE_MS: u64 = 26;
/// A write's cost per line (ms): one line costs 26 + 4 = 30 ms, about 33
/// lines a second, a quarter of `read`'s pace.
const WRITE_PER_LINE_MS: u64 = 4;
/// The most records the fix `batch` writes at once.
pub const BATCH_MAX: usize = 25;
/// How much bigger the queues are in the trap `buffer-hides-overload`.
pub const BIG_BUFFER_FACTOR: usize = 2;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// How the pipeline's queues and stages behave: one per variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// Bounded queues; a full one makes its sender wait (`correct`).
    Bounded,
    /// Unbounded queues: nobody ever waits (trap `unbounded-queue`).
    Unbounded,
    /// Bounded, `BIG_BUFFER_FACTOR` times bigger (trap `buffer-hides-overload`).
    BigBuffer,
    /// Bounded; `read` drops a line that finds `lines` full (fix `shed`).
    Shed,
    /// Bounded; `store` writes up to [`BATCH_MAX`] records at once (fix `batch`).
    Batch,
}

impl Policy {
    fn of(variant: &str) -> Self {
        match variant {
            "unbounded-queue" => Self::Unbounded,
            "buffer-hides-overload" => Self::BigBuffer,
            "shed" => Self::Shed,
            "batch" => Self::Batch,
            _ => Self::Bounded,
        }
    }
}

/// The three queues' sizes for `--buffer b`: `b`, `b/2`, `b/4` (100/50/25
/// for the default 100).
#[must_use]
pub fn sized(buffer: usize) -> [usize; 3] {
    [buffer, (buffer / 2).max(1), (buffer / 4).max(1)]
}

/// The queues' capacities under `policy` (`None`: unbounded).
#[must_use]
pub fn capacities(policy: Policy, buffer: usize) -> [Option<usize>; 3] {
    let base = sized(buffer);
    match policy {
        Policy::Unbounded => [None; 3],
        Policy::BigBuffer => base.map(|c| Some(c * BIG_BUFFER_FACTOR)),
        _ => base.map(Some),
    }
}

/// One line of input, stamped when `read` has read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line {
    /// Its number, from 1.
    pub n: u64,
    /// Lesson time when `read` had it in hand: it is in memory from then on.
    pub read_at: Duration,
}

/// The lines in the pipeline (read, and not yet stored or dropped), kept
/// by the lesson itself: `read` counts a line in when it has read it
/// (before it sends it, so nothing can count it out first), main counts
/// it out when `store`'s acknowledgment arrives, `read` when it drops it.
/// The time-weighted area under the count is the `L` of Little's law. The
/// clock is read under the lock, so the count's changes are in time order
/// in free mode too.
#[derive(Debug, Default)]
struct Gauge {
    now: u64,
    peak: u64,
    /// Line-seconds: the area under the count.
    area: f64,
    last: Duration,
    first: Option<Duration>,
}

impl Gauge {
    fn step(&mut self, at: Duration) {
        if self.first.is_none() {
            self.first = Some(at);
        } else {
            self.area += self.now as f64 * at.saturating_sub(self.last).as_secs_f64();
        }
        self.last = self.last.max(at);
    }

    /// A line is read: it is in memory now. Returns the time.
    fn enter(gauge: &Mutex<Self>, lab: &Lab) -> Duration {
        let mut g = lock(gauge);
        let at = lab.now();
        g.step(at);
        g.now += 1;
        g.peak = g.peak.max(g.now);
        at
    }

    /// A line is stored. Returns the time.
    fn leave(gauge: &Mutex<Self>, lab: &Lab) -> Duration {
        let mut g = lock(gauge);
        let at = lab.now();
        g.step(at);
        g.now = g.now.saturating_sub(1);
        at
    }

    /// A line read at `read_at` is dropped: it leaves, and the area it
    /// added since then is taken back, so that `L` counts only the lines
    /// that went through (as `W` does).
    fn drop_line(gauge: &Mutex<Self>, lab: &Lab, read_at: Duration) {
        let mut g = lock(gauge);
        let at = lab.now();
        g.step(at);
        g.now = g.now.saturating_sub(1);
        g.area -= at.saturating_sub(read_at).as_secs_f64();
    }
}

/// The highest occupancy a channel's sender saw: each stage reads `len()`
/// right after each of its sends. Occupancy only rises on a send, so the
/// peak is always just after one; a receiver may take an item in between,
/// so this can miss a peak by what was taken in that instant: it can
/// undercount, never overcount.
#[derive(Debug, Default)]
struct Peak(AtomicUsize);

impl Peak {
    fn saw<T>(&self, tx: &Sender<T>) {
        self.0.fetch_max(tx.len(), Ordering::Relaxed);
    }

    fn get(&self) -> usize {
        self.0.load(Ordering::Relaxed)
    }
}

/// What the stages record as they go; main reads it at the end (it
/// outlives the workers' return values).
#[derive(Debug, Default)]
struct Shared {
    gauge: Mutex<Gauge>,
    peaks: [Peak; 3],
    /// `read`'s sends that found `lines` full first.
    found_full: AtomicU64,
    /// Lines `read` dropped (fix `shed`).
    dropped: AtomicU64,
    /// Lines `read` got into `lines`.
    accepted: AtomicU64,
    /// `read`'s own work, summed (ns of lesson time).
    read_work_ns: AtomicU64,
    /// When `read` was done (ns of lesson time).
    read_done_ns: AtomicU64,
    /// Writes `store` made, and the lines they held.
    writes: AtomicU64,
    written: AtomicU64,
    largest_write: AtomicUsize,
}

/// Everything a run of the lesson did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Flow {
    /// The queues' capacities (`None`: unbounded): `lines`, `records`, `stored`.
    pub capacities: [Option<usize>; 3],
    /// Lines `read` read (all of `--items` unless the run was aborted).
    pub read: u64,
    /// Lines that got into `lines`.
    pub accepted: u64,
    /// Lines `read` dropped on purpose (fix `shed`).
    pub dropped: u64,
    /// Each stored line with its time in the pipeline (read → acknowledged),
    /// in the order the acknowledgments arrived.
    pub stored: Vec<(u64, Duration)>,
    /// The sends of `read` that found `lines` full first.
    pub found_full: u64,
    /// The peak occupancy of `lines`, `records`, `stored` (see [`Peak`]).
    pub peaks: [usize; 3],
    /// The most lines in the pipeline at once (read, not yet stored).
    pub peak_in_pipeline: u64,
    /// The time-average of lines in the pipeline (Little's `L`).
    pub mean_in_pipeline: f64,
    /// From the first line read to the last acknowledgment.
    pub span: Duration,
    /// `read`'s own work, summed: how long it would take if nothing made it wait.
    pub read_work: Duration,
    /// When `read` was done.
    pub read_done: Duration,
    /// Writes `store` made, and the largest.
    pub writes: u64,
    /// The most lines in one write.
    pub largest_write: usize,
    /// True when the run was aborted before every stage had finished.
    pub aborted: bool,
}

impl Flow {
    /// Mean time in the pipeline of the stored lines (Little's `W`).
    #[must_use]
    pub fn mean_wait(&self) -> Duration {
        if self.stored.is_empty() {
            return Duration::ZERO;
        }
        self.stored.iter().map(|(_, w)| *w).sum::<Duration>() / self.stored.len() as u32
    }

    /// The longest time a stored line spent in the pipeline.
    #[must_use]
    pub fn max_wait(&self) -> Duration {
        self.stored
            .iter()
            .map(|(_, w)| *w)
            .max()
            .unwrap_or_default()
    }

    /// Stored lines per second over the run (Little's `λ`).
    #[must_use]
    pub fn throughput(&self) -> f64 {
        let secs = self.span.as_secs_f64();
        if secs > 0.0 {
            self.stored.len() as f64 / secs
        } else {
            0.0
        }
    }
}

fn channel<T>(lab: &Lab, name: &str, cap: Option<usize>) -> (Sender<T>, Receiver<T>) {
    match cap {
        Some(cap) => lab.bounded(name, cap),
        None => lab.unbounded(name),
    }
}

/// Stage 1, `read`: reads `n` lines, each after a little work, and sends
/// them on `lines`. Staging: it holds the only Sender on `warmup`, and
/// drops it the first time it finds `lines` full (unbounded: once `lines`
/// holds one line more than `--buffer`, where a bounded `lines` would
/// have stopped it), or when it is done, so the parse workers start only
/// then (see the README).
fn read(
    lab: &Lab,
    knobs: &Knobs,
    policy: Policy,
    lines: Sender<Line>,
    warmup: Sender<()>,
    shared: &Shared,
) {
    let mut rng = fastrand::Rng::with_seed(knobs.seed);
    let mut warmup = Some(warmup);
    let budget = sized(knobs.buffer)[0];
    for n in 1..=knobs.items {
        let work = Duration::from_millis(rng.u64(READ_MS.0..=READ_MS.1));
        lab.work(work);
        shared
            .read_work_ns
            .fetch_add(work.as_nanos() as u64, Ordering::Relaxed);
        if lab.is_aborted() {
            break;
        }
        let line = Line {
            n,
            read_at: Gauge::enter(&shared.gauge, lab),
        };
        if policy == Policy::Shed {
            match lines.try_send(line) {
                Ok(()) => {}
                Err(TrySendError::Full(line)) => {
                    shared.dropped.fetch_add(1, Ordering::Relaxed);
                    Gauge::drop_line(&shared.gauge, lab, line.read_at); // freed at once
                    drop(warmup.take()); // staging: the warm-up ends at the first full `lines`
                    continue;
                }
                Err(TrySendError::Disconnected(_)) => break,
            }
        } else {
            if lines.is_full() {
                shared.found_full.fetch_add(1, Ordering::Relaxed);
                drop(warmup.take()); // staging: the warm-up ends at the first full `lines`
            }
            if lines.send(line).is_err() {
                break; // the run was aborted
            }
            if policy == Policy::Unbounded && warmup.is_some() && lines.len() > budget {
                // Staging, unbounded: a bounded `lines` would have stopped
                // `read` before this line; the warm-up ends here, at the
                // same point. (Nothing has left `lines` yet, so `len` is
                // exact; the peak is seen before the parse workers start.)
                shared.peaks[0].saw(&lines);
                drop(warmup.take());
            }
        }
        shared.accepted.fetch_add(1, Ordering::Relaxed);
        shared.peaks[0].saw(&lines);
    }
    shared
        .read_done_ns
        .store(lab.now().as_nanos() as u64, Ordering::Relaxed);
    // `lines` closes as `read` returns; `warmup` too, if it is still open.
}

/// Stage 2, `parse#w`: waits for the warm-up, then parses each line and
/// sends it on `records`.
fn parse(
    lab: &Lab,
    seed: u64,
    lines: &Receiver<Line>,
    records: &Sender<Line>,
    warmup: &Receiver<()>,
    shared: &Shared,
) {
    let _ = warmup.recv(); // staging: closes where a bounded `lines` first stops `read`
    let mut rng = fastrand::Rng::with_seed(seed);
    for line in lines {
        lab.work(Duration::from_millis(rng.u64(PARSE_MS.0..=PARSE_MS.1)));
        if records.send(line).is_err() {
            return;
        }
        shared.peaks[1].saw(records);
    }
}

/// Stage 3, `store`: writes each record (30 ms) and acknowledges the
/// write on `stored` (one message per write, with its lines); with
/// `batch`, takes what is queued (up to [`BATCH_MAX`]) and writes it in
/// one round trip.
fn store(
    lab: &Lab,
    batch: bool,
    records: &Receiver<Line>,
    stored: &Sender<Vec<Line>>,
    shared: &Shared,
) {
    while let Ok(first) = records.recv() {
        let mut write = vec![first];
        if batch {
            write.extend(records.try_iter().take(BATCH_MAX - 1));
        }
        lab.work(Duration::from_millis(
            WRITE_BASE_MS + WRITE_PER_LINE_MS * write.len() as u64,
        ));
        shared.writes.fetch_add(1, Ordering::Relaxed);
        shared
            .written
            .fetch_add(write.len() as u64, Ordering::Relaxed);
        shared
            .largest_write
            .fetch_max(write.len(), Ordering::Relaxed);
        if stored.send(write).is_err() {
            return;
        }
        shared.peaks[2].saw(stored);
    }
}

/// Runs `variant` and reports what the pipeline did.
#[must_use]
pub fn flow(lab: &Lab, variant: &str, knobs: &Knobs) -> Flow {
    let policy = Policy::of(variant);
    let caps = capacities(policy, knobs.buffer);
    let (lines_tx, lines) = channel::<Line>(lab, "lines", caps[0]);
    let (records_tx, records) = channel::<Line>(lab, "records", caps[1]);
    let (stored_tx, stored) = channel::<Vec<Line>>(lab, "stored", caps[2]);
    let (warmup_tx, warmup) = lab.bounded::<()>("warmup", 0);
    let shared = Arc::new(Shared::default());

    let mut stages: Vec<JoinHandle<()>> = Vec::new();
    {
        let (lab2, knobs, shared) = (lab.clone(), *knobs, Arc::clone(&shared));
        stages.push(lab.go("read", move || {
            read(&lab2, &knobs, policy, lines_tx, warmup_tx, &shared);
        }));
    }
    for w in 1..=knobs.workers {
        let (lab2, shared) = (lab.clone(), Arc::clone(&shared));
        let (lines, records, warmup) = (lines.clone(), records_tx.clone(), warmup.clone());
        let seed = knobs.seed.wrapping_add(w as u64);
        stages.push(lab.go(format!("parse#{w}"), move || {
            parse(&lab2, seed, &lines, &records, &warmup, &shared);
        }));
    }
    {
        let (lab2, shared) = (lab.clone(), Arc::clone(&shared));
        let batch = policy == Policy::Batch;
        stages.push(lab.go("store", move || {
            store(&lab2, batch, &records, &stored_tx, &shared);
        }));
    }
    drop((lines, records_tx, warmup));

    // Main is the sink: it takes each acknowledgment and times the line.
    let mut done = Vec::new();
    for write in &stored {
        for line in write {
            let at = Gauge::leave(&shared.gauge, lab);
            done.push((line.n, at.saturating_sub(line.read_at)));
        }
    }
    let mut finished = true;
    for stage in stages {
        finished &= stage.join().is_ok();
    }
    let gauge = lock(&shared.gauge);
    let span = gauge
        .first
        .map_or(Duration::ZERO, |first| gauge.last.saturating_sub(first));
    let secs = span.as_secs_f64();
    Flow {
        capacities: caps,
        read: shared.accepted.load(Ordering::Relaxed) + shared.dropped.load(Ordering::Relaxed),
        accepted: shared.accepted.load(Ordering::Relaxed),
        dropped: shared.dropped.load(Ordering::Relaxed),
        stored: done,
        found_full: shared.found_full.load(Ordering::Relaxed),
        peaks: [
            shared.peaks[0].get(),
            shared.peaks[1].get(),
            shared.peaks[2].get(),
        ],
        peak_in_pipeline: gauge.peak,
        mean_in_pipeline: if secs > 0.0 { gauge.area / secs } else { 0.0 },
        span,
        read_work: Duration::from_nanos(shared.read_work_ns.load(Ordering::Relaxed)),
        read_done: Duration::from_nanos(shared.read_done_ns.load(Ordering::Relaxed)),
        writes: shared.writes.load(Ordering::Relaxed),
        largest_write: shared.largest_write.load(Ordering::Relaxed),
        aborted: !finished || lab.is_aborted(),
    }
}

fn main(lab: &Lab, variant: &Variant, knobs: &Knobs) -> Outcome {
    outcome(
        Policy::of(variant.name),
        knobs,
        &flow(lab, variant.name, knobs),
    )
}

/// Which knobs hide which trap. Both traps show when `lines` holds more
/// than `--buffer` lines at once, and the warm-up makes it hold
/// `min(items, its capacity)` before anything leaves it (unbounded:
/// `min(items, --buffer + 1)`): so they show exactly when `--items` >
/// `--buffer`.
fn hidden_by(variant: &Variant, knobs: &Knobs) -> Option<String> {
    let (items, buffer) = (knobs.items, knobs.buffer);
    if items > buffer as u64 {
        return None;
    }
    let what = match variant.name {
        "unbounded-queue" => "the unbounded `lines` never holds more than a bounded one would",
        "buffer-hides-overload" => "the bigger `lines` never holds more than the normal one would",
        _ => return None,
    };
    let mut why = format!(
        "hidden by these knobs: with --items {items} ≤ --buffer {buffer}, every line fits in a \
         `lines` of {buffer}, so {what}; try --items {}",
        buffer + 1
    );
    if items > 4 {
        // A smaller --buffer that shows it; none below the smallest, 4.
        let _ = write!(why, " or --buffer {}", items - 1);
    }
    Some(why)
}

/// The challenge's knobs: a small pipeline (4/2/1) where ties are common.
const CHALLENGE_KNOBS: Knobs = Knobs {
    items: 24,
    buffer: 4,
    workers: 1,
    seed: 2,
};

/// The challenge's goal: this many writes or fewer for all the lines.
pub const CHALLENGE_WRITES: u64 = 9;

/// The challenge: `store` has finished, having written every line, and
/// `stored` (one acknowledgment per write) carried at most
/// [`CHALLENGE_WRITES`] acknowledgments.
fn stored_in_few_writes(snapshot: &Snapshot, _: &[Event]) -> bool {
    let channel = |name: &str| snapshot.channels.iter().find(|c| c.name == name);
    let store_done = snapshot
        .workers
        .iter()
        .any(|w| w.name == "store" && w.state == WorkerState::Done);
    match (channel("records"), channel("stored")) {
        (Some(records), Some(stored)) => {
            store_done
                && records.received == CHALLENGE_KNOBS.items
                && stored.sent <= CHALLENGE_WRITES
        }
        _ => false,
    }
}

/// Every line is stored or dropped on purpose; a queue never holds more
/// than its capacity; for the traps, what grew and what it cost.
fn outcome(policy: Policy, knobs: &Knobs, f: &Flow) -> Outcome {
    let stored = f.stored.len() as u64;
    let mut outcome = Outcome {
        items_in: f.read,
        items_out: stored,
        dropped: f.dropped,
        ..Outcome::default()
    };
    if f.aborted {
        outcome.problems.push(format!(
            "the run was aborted: {stored} of {} lines stored",
            knobs.items
        ));
        return outcome;
    }
    let lost = f.read.saturating_sub(stored + f.dropped);
    if lost > 0 {
        outcome.lost = lost;
        outcome
            .problems
            .push(format!("{lost} lines were read and never stored"));
    }
    occupancy(f, &mut outcome);
    timing(policy, f, &mut outcome);
    if f.dropped > 0 {
        outcome.by_design.push(format!(
            "{} dropped by design: `lines` was full when they were read, so `read`'s `try_send` \
             failed (`Full`) and it let them go instead of waiting: load shedding",
            f.dropped
        ));
    }
    growth(policy, sized(knobs.buffer)[0], f, &mut outcome);
    outcome
}

/// The queues' peaks, and a problem for any queue above its capacity.
fn occupancy(f: &Flow, outcome: &mut Outcome) {
    let names = ["lines", "records", "stored"];
    let peaks: Vec<String> = names
        .iter()
        .zip(f.peaks)
        .zip(f.capacities)
        .map(|((name, peak), cap)| match cap {
            Some(cap) => format!("{name} {peak}/{cap}"),
            None => format!("{name} {peak} (unbounded)"),
        })
        .collect();
    outcome.notes.push(format!(
        "peak occupancy, read by each sender after each send: {}",
        peaks.join(", ")
    ));
    for ((name, peak), cap) in names.iter().zip(f.peaks).zip(f.capacities) {
        if let Some(cap) = cap
            && peak > cap
        {
            outcome
                .problems
                .push(format!("`{name}` held {peak} items, more than its {cap}"));
        }
    }
}

/// Waits, Little's law, and whether anything pushed back on `read`.
fn timing(policy: Policy, f: &Flow, outcome: &mut Outcome) {
    outcome.notes.push(format!(
        "time in the pipeline (read → stored): mean {}, max {}",
        in_words(f.mean_wait()),
        in_words(f.max_wait())
    ));
    let (lambda, w) = (f.throughput(), f.mean_wait().as_secs_f64());
    outcome.notes.push(format!(
        "Little's law, L = λ·W: {lambda:.1} lines/s × {w:.2} s = {:.1} lines in the pipeline on \
         average (measured: {:.1}; peak {})",
        lambda * w,
        f.mean_in_pipeline,
        f.peak_in_pipeline
    ));
    let own = in_words(f.read_work);
    let done = in_words(f.read_done);
    match policy {
        Policy::Shed => outcome.notes.push(format!(
            "`read` never waited: it was done at {done}, its own work took {own}"
        )),
        _ if f.found_full > 0 => outcome.notes.push(format!(
            "`read` found `lines` full before {} of its {} sends: backpressure; it was done at \
             {done}, its own work took {own}",
            f.found_full, f.read
        )),
        _ => outcome.notes.push(format!(
            "`read` never found `lines` full: nothing pushed back on it; it was done at {done}, \
             its own work took {own}"
        )),
    }
    if policy == Policy::Batch {
        outcome.notes.push(format!(
            "`store` made {} writes for {} lines (the largest: {} lines)",
            f.writes,
            f.stored.len(),
            f.largest_write
        ));
    }
}

/// The traps' problem: `lines` held more than the `budget` it was sized
/// for (`--buffer`).
fn growth(policy: Policy, budget: usize, f: &Flow, outcome: &mut Outcome) {
    let peak = f.peaks[0];
    if peak <= budget {
        return;
    }
    match (policy, f.capacities[0]) {
        (Policy::Unbounded, _) => {
            let names = ["lines", "records", "stored"];
            let (deepest, &most) = f
                .peaks
                .iter()
                .enumerate()
                .max_by_key(|(_, peak)| **peak)
                .unwrap_or((0, &peak));
            // Where the pile was deepest: `records` (in front of `store`)
            // when the parse workers keep up with `read`, `lines` when the
            // run ends before they catch up.
            let place = if names[deepest] == "records" {
                " in front of `store`"
            } else {
                ""
            };
            outcome.problems.push(format!(
                "unbounded growth: `lines` took line {} without waiting, where a bounded `lines` \
                 of {budget} (--buffer) makes `read` wait; nothing ever made `read` wait, so the \
                 backlog piled up{place}: {} lines in the pipeline at once, {most} of them in \
                 `{}`; the pile grows with --items, without limit",
                budget + 1,
                f.peak_in_pipeline,
                names[deepest]
            ));
        }
        (Policy::BigBuffer, Some(cap)) => {
            let cliff = if f.found_full > 0 {
                format!(
                    "the cliff only moved: `read` found `lines` full from line {} on (a `lines` \
                     of {budget} stops it at line {})",
                    cap + 1,
                    budget + 1
                )
            } else {
                format!(
                    "the cliff only moved: with more lines, `read` would find `lines` full at \
                     line {} (a `lines` of {budget} stops it at line {})",
                    cap + 1,
                    budget + 1
                )
            };
            outcome.problems.push(format!(
                "the bigger buffers hid the overload: `lines` queued {peak} lines, {} more than \
                 the {budget} it was sized for, and each of them waits its turn at `store`: up \
                 to {} in the pipeline (the lines ahead of it ÷ `store`'s rate; on average, \
                 W = L/λ); {cliff}",
                peak - budget,
                in_words(f.max_wait())
            ));
        }
        _ => {}
    }
}
