#![doc = include_str!("README.md")]

use std::fmt::{self, Write as _};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::lab::{Lab, Receiver, Sender, TrySendError};
use crate::lessons::{Expect, KnobRanges, Knobs, Lesson, Outcome, Variant, VariantKind};

/// The lesson in the catalog.
pub static LESSON: Lesson = Lesson {
    number: 5,
    slug: "broadcast",
    title: "Broadcast",
    summary: "every message to every subscriber, each with its own bounded buffer; what to do when one is full",
    readme: concat!(
        include_str!("README.md"),
        "\n",
        include_str!("../LAB_CHANNELS.md")
    ),
    variants: &VARIANTS,
    defaults: Knobs {
        items: 20,
        buffer: 4,
        workers: 3,
        seed: 1,
    },
    ranges: KnobRanges {
        items: 1..=10_000,
        buffer: 1..=256,
        workers: 2..=16,
    },
    main,
    hidden_by: crate::lessons::never_hidden,
};

static VARIANTS: [Variant; 5] = [
    Variant {
        name: "correct",
        kind: VariantKind::Correct,
        summary: "policy \"block\": `send` waits for room in each subscriber's buffer; every subscriber reads",
        explains: "every subscriber keeps reading, so every blocked send completes: each message reaches each subscriber",
        fixed_by: None,
        expect: Expect::Clean,
    },
    Variant {
        name: "slow-subscriber-blocks-all",
        kind: VariantKind::Trap,
        summary: "policy \"block\", but one subscriber waits at a gate that main opens only after the publisher is done",
        explains: "its buffer fills, the publisher blocks sending to it, the others starve; main waits for the publisher: deadlock",
        fixed_by: Some("drop-newest"),
        expect: Expect::Verdict("deadlock"),
    },
    Variant {
        name: "skip-on-full",
        kind: VariantKind::Trap,
        summary: "`send` returns an error at the first full subscriber (the common Go sample); one subscriber is held at a gate",
        explains: "every subscriber after the full one misses the message too, though its buffer had room, and nobody counts it",
        fixed_by: Some("drop-newest"),
        expect: Expect::Broken,
    },
    Variant {
        name: "drop-newest",
        kind: VariantKind::Fix,
        summary: "a full subscriber loses the new message, counted for it alone; the loop goes on",
        explains: "the publisher never waits and the others are unaffected; every message is delivered or counted lost",
        fixed_by: None,
        expect: Expect::Clean,
    },
    Variant {
        name: "drop-oldest",
        kind: VariantKind::Fix,
        summary: "a full subscriber's oldest message is dropped to make room, and it is told `Lagged(n)`",
        explains: "like tokio's broadcast: the subscriber keeps the newest messages and learns how many it missed",
        fixed_by: None,
        expect: Expect::Clean,
    },
];

/// Simulated time to produce each message, in lesson time.
const PUBLISH_WORK_MS: (u64, u64) = (60, 140);
/// Simulated time a subscriber spends on each message (faster than the publisher).
const READ_WORK_MS: (u64, u64) = (20, 80);

// ---- the broadcaster --------------------------------------------------

/// What `send` does when a subscriber's buffer is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// Wait for room (one slow subscriber holds up everyone).
    Block,
    /// The trap: return an error at the first full subscriber.
    SkipOnFull,
    /// The full subscriber loses the new message, counted.
    DropNewest,
    /// The full subscriber loses its oldest message and is told it lagged.
    DropOldest,
}

/// A subscriber's handle in the broadcaster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubId(u64);

/// The subscriber's end: its own bounded channel.
pub struct Subscription<T> {
    id: SubId,
    name: String,
    rx: Receiver<T>,
    lagged: Arc<AtomicU64>,
}

/// Why [`Subscription::recv`] returned no message (tokio's `RecvError`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecvError {
    /// The subscriber fell behind: this many messages were dropped for it.
    /// The next `recv` returns the oldest message still held.
    Lagged(u64),
    /// Unsubscribed or the broadcaster is gone, and nothing is left to read.
    Closed,
}

impl<T> Subscription<T> {
    /// The id to pass to [`Broadcaster::unsubscribe`].
    #[must_use]
    pub fn id(&self) -> SubId {
        self.id
    }

    /// The subscriber's name (also its channel's name).
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The next message, or `Lagged(n)` once after n were dropped for this
    /// subscriber, or `Closed` at the end.
    pub fn recv(&self) -> Result<T, RecvError> {
        match self.take_lag() {
            0 => {}
            n => return Err(RecvError::Lagged(n)),
        }
        match self.rx.recv() {
            Ok(msg) => Ok(msg),
            Err(_) => match self.take_lag() {
                0 => Err(RecvError::Closed),
                n => Err(RecvError::Lagged(n)),
            },
        }
    }

    fn take_lag(&self) -> u64 {
        self.lagged.swap(0, Ordering::SeqCst)
    }
}

/// `send` under [`Policy::SkipOnFull`] found this subscriber full and gave up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Full {
    /// The full subscriber.
    pub subscriber: String,
}

impl fmt::Display for Full {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "subscriber {} is full", self.subscriber)
    }
}

impl std::error::Error for Full {}

/// What the broadcaster did for one subscriber.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SendTally {
    /// The subscriber.
    pub name: String,
    /// Messages sent while it was subscribed.
    pub offered: u64,
    /// Messages dropped for it, and counted (drop-newest, drop-oldest).
    pub lost: u64,
    /// Messages never tried because an earlier subscriber was full
    /// (skip-on-full; the lab sees it, the trap's code does not count it).
    pub skipped: u64,
}

struct Sub<T> {
    id: SubId,
    tx: Sender<T>,
    /// drop-oldest only: a Receiver clone to pop the oldest message.
    oldest: Option<Receiver<T>>,
    lagged: Arc<AtomicU64>,
    tally: SendTally,
}

/// One publisher, many subscribers, one bounded channel each.
pub struct Broadcaster<T> {
    lab: Lab,
    capacity: usize,
    policy: Policy,
    subs: Vec<Sub<T>>,
    gone: Vec<SendTally>,
    next_id: u64,
}

impl<T: Clone> Broadcaster<T> {
    /// A broadcaster whose subscribers each get a buffer of `capacity`.
    #[must_use]
    pub fn new(lab: &Lab, capacity: usize, policy: Policy) -> Self {
        Self {
            lab: lab.clone(),
            capacity,
            policy,
            subs: Vec::new(),
            gone: Vec::new(),
            next_id: 1,
        }
    }

    /// Adds a subscriber with its own channel, named `name`.
    pub fn subscribe(&mut self, name: &str) -> Subscription<T> {
        let (tx, rx) = self.lab.bounded(name, self.capacity);
        let id = SubId(self.next_id);
        self.next_id += 1;
        let lagged = Arc::new(AtomicU64::new(0));
        self.subs.push(Sub {
            id,
            tx,
            oldest: (self.policy == Policy::DropOldest).then(|| rx.clone()),
            lagged: Arc::clone(&lagged),
            tally: SendTally {
                name: name.to_owned(),
                ..SendTally::default()
            },
        });
        Subscription {
            id,
            name: name.to_owned(),
            rx,
            lagged,
        }
    }

    /// Removes a subscriber: its Sender drops, so its loop drains what is
    /// queued and ends. `false` if it was not subscribed.
    pub fn unsubscribe(&mut self, id: SubId) -> bool {
        let Some(i) = self.subs.iter().position(|s| s.id == id) else {
            return false;
        };
        let sub = self.subs.remove(i);
        self.gone.push(sub.tally);
        true
    }

    /// Sends `msg` to every subscriber, following the policy. Only
    /// [`Policy::SkipOnFull`] returns an error.
    pub fn send(&mut self, msg: &T) -> Result<(), Full> {
        for sub in &mut self.subs {
            sub.tally.offered += 1;
        }
        match self.policy {
            Policy::Block => {
                let mut gone = Vec::new();
                for sub in &self.subs {
                    // Waits for room: one full buffer holds up everyone.
                    if sub.tx.send(msg.clone()).is_err() {
                        gone.push(sub.id); // its Receiver is gone
                    }
                }
                for id in gone {
                    self.unsubscribe(id);
                }
            }
            Policy::SkipOnFull => {
                for i in 0..self.subs.len() {
                    if self.subs[i].tx.try_send(msg.clone()).is_err() {
                        // The trap: every subscriber after this one misses it too.
                        for later in &mut self.subs[i + 1..] {
                            later.tally.skipped += 1;
                        }
                        return Err(Full {
                            subscriber: self.subs[i].tally.name.clone(),
                        });
                    }
                }
            }
            Policy::DropNewest => {
                for sub in &mut self.subs {
                    if let Err(TrySendError::Full(_)) = sub.tx.try_send(msg.clone()) {
                        sub.tally.lost += 1; // only this one misses it
                    }
                }
            }
            Policy::DropOldest => {
                for sub in &mut self.subs {
                    if let Err(TrySendError::Full(m)) = sub.tx.try_send(msg.clone()) {
                        let popped = sub.oldest.as_ref().is_some_and(|rx| rx.try_recv().is_ok());
                        if popped {
                            sub.lagged.fetch_add(1, Ordering::SeqCst); // it will see Lagged(n)
                            sub.tally.lost += 1;
                        }
                        if sub.tx.try_send(m).is_err() {
                            sub.tally.lost += 1; // no room even now: the new one is lost
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Per subscriber, present and past: offered, lost, skipped.
    #[must_use]
    pub fn tallies(&self) -> Vec<SendTally> {
        let mut all: Vec<SendTally> = self.gone.clone();
        all.extend(self.subs.iter().map(|s| s.tally.clone()));
        all
    }
}

// ---- the run ----------------------------------------------------------

/// What one subscriber saw.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubReport {
    /// The subscriber.
    pub name: String,
    /// The messages it received, in order.
    pub got: Vec<u64>,
    /// The sum of the `Lagged(n)` it was told.
    pub lagged: u64,
}

/// What the publisher saw.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PublisherReport {
    /// Messages published.
    pub sent: u64,
    /// The full subscriber named by each error `send` returned.
    pub errors: Vec<String>,
    /// The broadcaster's count per subscriber.
    pub tallies: Vec<SendTally>,
}

/// Everything a run of the lesson did, per subscriber.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The policy the broadcaster followed.
    pub policy: Policy,
    /// The publisher's side.
    pub publisher: PublisherReport,
    /// Each subscriber's side, `sub#1` first.
    pub subscribers: Vec<SubReport>,
    /// The subscriber held at the gate, if any (`sub#k`).
    pub slow: Option<String>,
}

/// The subscriber held at the gate: the middle one (`sub#2` of 3), so
/// there are subscribers on both sides of it in the list.
#[must_use]
pub fn slow_subscriber(workers: usize) -> usize {
    workers.div_ceil(2).max(1)
}

/// Runs `variant` and reports what each subscriber got.
#[must_use]
pub fn deliver(lab: &Lab, variant: &str, knobs: &Knobs) -> Delivery {
    let policy = match variant {
        "skip-on-full" => Policy::SkipOnFull,
        "drop-newest" => Policy::DropNewest,
        "drop-oldest" => Policy::DropOldest,
        _ => Policy::Block,
    };
    let n = knobs.workers.max(1);
    let slow = (variant != "correct").then(|| slow_subscriber(n));

    let mut broadcaster = Broadcaster::new(lab, knobs.buffer, policy);
    let subscriptions: Vec<Subscription<u64>> = (1..=n)
        .map(|i| broadcaster.subscribe(&format!("sub#{i}")))
        .collect();
    // Main opens the gate (drops its Sender) once the publisher is done.
    let (gate_tx, gate) = slow.map(|_| lab.bounded::<()>("gate", 0)).unzip();

    let handles: Vec<_> = subscriptions
        .into_iter()
        .enumerate()
        .map(|(i, sub)| {
            let gate = gate.as_ref().filter(|_| slow == Some(i + 1)).cloned();
            let mut rng = fastrand::Rng::with_seed(knobs.seed.wrapping_add(i as u64 + 1));
            let lab2 = lab.clone();
            lab.go(sub.name().to_owned(), move || {
                subscriber(&lab2, &sub, gate.as_ref(), &mut rng)
            })
        })
        .collect();
    drop(gate);

    let (items, lab2) = (knobs.items, lab.clone());
    let mut rng = fastrand::Rng::with_seed(knobs.seed);
    let publisher = lab.go("publisher", move || {
        publish(&lab2, broadcaster, items, &mut rng)
    });
    let publisher = publisher.join().unwrap_or_default();
    drop(gate_tx); // the slow subscriber may read now
    let subscribers = handles
        .into_iter()
        .enumerate()
        .map(|(i, h)| {
            h.join().unwrap_or_else(|_| SubReport {
                name: format!("sub#{}", i + 1),
                ..SubReport::default()
            })
        })
        .collect();
    Delivery {
        policy,
        publisher,
        subscribers,
        slow: slow.map(|k| format!("sub#{k}")),
    }
}

/// The publisher: `items` messages, numbered from 1, each after a little
/// simulated work. Dropping the broadcaster at the end closes every channel.
fn publish(
    lab: &Lab,
    mut broadcaster: Broadcaster<u64>,
    items: u64,
    rng: &mut fastrand::Rng,
) -> PublisherReport {
    let mut report = PublisherReport::default();
    for m in 1..=items {
        lab.work(Duration::from_millis(
            rng.u64(PUBLISH_WORK_MS.0..=PUBLISH_WORK_MS.1),
        ));
        if let Err(full) = broadcaster.send(&m) {
            report.errors.push(full.subscriber);
        }
        report.sent += 1;
    }
    report.tallies = broadcaster.tallies();
    report
}

/// A subscriber: reads until its channel closes. The slow one first waits
/// at the gate.
fn subscriber(
    lab: &Lab,
    sub: &Subscription<u64>,
    gate: Option<&Receiver<()>>,
    rng: &mut fastrand::Rng,
) -> SubReport {
    if let Some(gate) = gate {
        let _ = gate.recv(); // held until main opens the gate
    }
    let mut report = SubReport {
        name: sub.name().to_owned(),
        ..SubReport::default()
    };
    loop {
        match sub.recv() {
            Ok(m) => {
                report.got.push(m);
                lab.work(Duration::from_millis(
                    rng.u64(READ_WORK_MS.0..=READ_WORK_MS.1),
                ));
            }
            Err(RecvError::Lagged(n)) => report.lagged += n,
            Err(RecvError::Closed) => return report,
        }
    }
}

fn main(lab: &Lab, variant: &Variant, knobs: &Knobs) -> Outcome {
    outcome(&deliver(lab, variant.name, knobs))
}

/// One subscriber's account: delivered + lost (counted) + missed (uncounted) = offered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Account {
    /// The subscriber.
    pub name: String,
    /// Messages sent while it was subscribed.
    pub offered: u64,
    /// Messages it received.
    pub delivered: u64,
    /// Messages dropped for it and counted by the broadcaster.
    pub lost: u64,
    /// Of the missing ones, how many were skipped after another full subscriber.
    pub skipped: u64,
    /// Missing and counted nowhere.
    pub missed: u64,
    /// The `Lagged(n)` it was told, summed.
    pub lagged: u64,
}

/// Each subscriber's account, `sub#1` first.
#[must_use]
pub fn accounts(d: &Delivery) -> Vec<Account> {
    d.subscribers
        .iter()
        .map(|s| {
            let tally = d
                .publisher
                .tallies
                .iter()
                .find(|t| t.name == s.name)
                .cloned()
                .unwrap_or_default();
            let delivered = s.got.len() as u64;
            Account {
                name: s.name.clone(),
                offered: tally.offered,
                delivered,
                lost: tally.lost,
                skipped: tally.skipped,
                missed: tally.offered.saturating_sub(delivered + tally.lost),
                lagged: s.lagged,
            }
        })
        .collect()
}

fn outcome(d: &Delivery) -> Outcome {
    let accounts = accounts(d);
    let offered: u64 = accounts.iter().map(|a| a.offered).sum();
    let delivered: u64 = accounts.iter().map(|a| a.delivered).sum();
    let mut outcome = Outcome {
        items_in: offered,
        items_out: delivered,
        lost: offered.saturating_sub(delivered),
        ..Outcome::default()
    };
    outcome.notes.push(format!(
        "{} messages × {} subscribers = {offered} deliveries owed",
        d.publisher.sent,
        accounts.len()
    ));
    if let Some(slow) = &d.slow {
        outcome.notes.push(format!(
            "{slow} was held at `gate` until the publisher was done"
        ));
    }
    if !d.publisher.errors.is_empty() {
        let mut names: Vec<&str> = d.publisher.errors.iter().map(String::as_str).collect();
        names.sort_unstable();
        names.dedup();
        outcome.notes.push(format!(
            "`send` returned `Full` {} times (at {})",
            d.publisher.errors.len(),
            names.join(", ")
        ));
    }
    for a in &accounts {
        let mut line = format!("{}: {}/{} delivered", a.name, a.delivered, a.offered);
        if a.lost > 0 {
            let _ = write!(line, ", {} lost (counted)", a.lost);
        }
        if a.lagged > 0 {
            let _ = write!(line, ", told Lagged({})", a.lagged);
        }
        if a.missed > 0 {
            let _ = write!(line, ", {} missed and counted nowhere", a.missed);
        }
        if a.skipped > 0 {
            let _ = write!(
                line,
                " ({} skipped after a full subscriber, with room in its buffer)",
                a.skipped
            );
        }
        outcome.notes.push(line);
        if a.missed > 0 {
            outcome.problems.push(format!(
                "{} missed {} of {} messages and nobody counted them",
                a.name, a.missed, a.offered
            ));
        }
        if a.skipped > 0 {
            outcome.problems.push(format!(
                "{} was skipped {} times because `send` returned at a full subscriber before it",
                a.name, a.skipped
            ));
        }
        if d.policy == Policy::DropOldest && a.lagged != a.lost {
            outcome.problems.push(format!(
                "{} lost {} to drop-oldest but was told Lagged({})",
                a.name, a.lost, a.lagged
            ));
        }
    }
    outcome
}
