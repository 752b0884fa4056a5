#![doc = include_str!("README.md")]

use std::fmt::{self, Write as _};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::lab::{Event, Lab, Receiver, Sender, Snapshot, TrySendError};
use crate::lessons::{
    Challenge, Expect, KnobRanges, Knobs, Lesson, Outcome, Variant, VariantKind, trail,
};

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
    hidden_by,
    challenges: &[Challenge {
        title: "starve sub#2: its buffer full while sub#1 and sub#3 have read every message",
        hint: "when the publisher's work on a message ends, let it send to all three \
               subscribers first (each send is a pick), then let sub#1 and sub#3 take \
               theirs and keep sub#2 waiting",
        variant: "correct",
        knobs: Knobs {
            items: 3,
            buffer: 1,
            workers: 3,
            seed: 1,
        },
        reached: sub2_starved,
    }],
};

/// The challenge: `to-sub#2` full, while `to-sub#1` and `to-sub#3` were
/// sent as much and are empty.
fn sub2_starved(snapshot: &Snapshot, _: &[Event]) -> bool {
    let sub = |n: u32| trail::channel(snapshot, &format!("to-sub#{n}"));
    let (Some(first), Some(second), Some(third)) = (sub(1), sub(2), sub(3)) else {
        return false;
    };
    second
        .capacity
        .is_some_and(|cap| cap > 0 && second.len >= cap)
        && [first, third]
            .iter()
            .all(|other| other.len == 0 && other.sent == second.sent)
}

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
        summary: "`send` returns an error at the first full subscriber and skips the rest; one subscriber is held at a gate",
        explains: "every subscriber after the full one misses the message too, though its buffer had room, and nobody counts it",
        fixed_by: Some("drop-newest"),
        expect: Expect::Broken,
    },
    Variant {
        name: "drop-newest",
        kind: VariantKind::Fix,
        summary: "a full subscriber loses the new message, counted for it alone; the loop goes on",
        explains: "the publisher never waits and the others are unaffected; every message is delivered or counted as dropped by design",
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
const PUBLISH_WORK_MS: (u64, u64) = (360, 840);
/// Simulated time a subscriber spends on each message (faster than the publisher).
const READ_WORK_MS: (u64, u64) = (120, 480);

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

/// What the broadcaster and one subscription share: the lag to report, and
/// how many messages the subscriber has taken, so that when it goes the
/// broadcaster can count what it left unread.
#[derive(Debug, Default)]
struct Shared {
    lagged: AtomicU64,
    taken: AtomicU64,
}

/// The subscriber's end: its own bounded channel.
pub struct Subscription<T> {
    id: SubId,
    name: String,
    rx: Receiver<T>,
    shared: Arc<Shared>,
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
            Ok(msg) => {
                self.shared.taken.fetch_add(1, Ordering::SeqCst);
                Ok(msg)
            }
            Err(_) => match self.take_lag() {
                0 => Err(RecvError::Closed),
                n => Err(RecvError::Lagged(n)),
            },
        }
    }

    fn take_lag(&self) -> u64 {
        self.shared.lagged.swap(0, Ordering::SeqCst)
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

/// What the broadcaster did for one subscriber. Per subscriber,
/// `offered` = delivered + `dropped` + `left_unread` + what the trap
/// skipped or missed without counting.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SendTally {
    /// The subscriber.
    pub name: String,
    /// Messages sent while it was subscribed.
    pub offered: u64,
    /// Messages its full buffer cost it, counted by the policy
    /// (drop-newest, drop-oldest).
    pub dropped: u64,
    /// Messages never tried because an earlier subscriber was full
    /// (skip-on-full; the lab sees it, the trap's code does not count it).
    pub skipped: u64,
    /// True once the broadcaster found its `Receiver` gone and pruned it.
    pub left: bool,
    /// Messages it never read because it left: still queued in its buffer,
    /// or being sent to it when the broadcaster found it gone.
    pub left_unread: u64,
}

/// The broadcaster's counts, one [`SendTally`] per subscriber, present and
/// past. Shared: main keeps a handle and reads it at the end, even when a
/// verdict aborted the run in the middle of a `send` (and so every join
/// failed).
#[derive(Debug, Clone, Default)]
pub struct Ledger(Arc<Mutex<Vec<SendTally>>>);

impl Ledger {
    /// Every subscriber's tally, in the order they subscribed.
    #[must_use]
    pub fn tallies(&self) -> Vec<SendTally> {
        self.lock().clone()
    }

    fn lock(&self) -> MutexGuard<'_, Vec<SendTally>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn open(&self, name: &str) -> usize {
        let mut tallies = self.lock();
        tallies.push(SendTally {
            name: name.to_owned(),
            ..SendTally::default()
        });
        tallies.len() - 1
    }

    fn count(&self, slot: usize, f: impl FnOnce(&mut SendTally)) {
        if let Some(tally) = self.lock().get_mut(slot) {
            f(tally);
        }
    }
}

struct Sub<T> {
    id: SubId,
    name: String,
    tx: Sender<T>,
    /// drop-oldest only: a Receiver clone to pop the oldest message.
    oldest: Option<Receiver<T>>,
    shared: Arc<Shared>,
    /// Its tally in the ledger.
    slot: usize,
    /// Messages that went into its buffer.
    put: u64,
    /// Of those, the ones drop-oldest popped to make room.
    popped: u64,
}

impl<T> Sub<T> {
    /// The [`Subscription`] is gone: only our half of `shared` is left.
    /// drop-oldest needs this, because its own `Receiver` clone keeps the
    /// channel connected, so `try_send` never reports `Disconnected`.
    fn subscription_dropped(&self) -> bool {
        Arc::strong_count(&self.shared) == 1
    }

    /// What it will never read: queued in its buffer and not popped.
    fn unread(&self) -> u64 {
        let taken = self.shared.taken.load(Ordering::SeqCst);
        self.put.saturating_sub(self.popped + taken)
    }
}

/// One publisher, many subscribers, one bounded channel each.
pub struct Broadcaster<T> {
    lab: Lab,
    capacity: usize,
    policy: Policy,
    subs: Vec<Sub<T>>,
    ledger: Ledger,
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
            ledger: Ledger::default(),
            next_id: 1,
        }
    }

    /// Adds subscriber `name` with its own channel, `to-{name}` (so a wait
    /// reads "sub#1 waits to receive on `to-sub#1`", worker and channel
    /// told apart).
    pub fn subscribe(&mut self, name: &str) -> Subscription<T> {
        let (tx, rx) = self.lab.bounded(format!("to-{name}"), self.capacity);
        let id = SubId(self.next_id);
        self.next_id += 1;
        let shared = Arc::new(Shared::default());
        self.subs.push(Sub {
            id,
            name: name.to_owned(),
            tx,
            oldest: (self.policy == Policy::DropOldest).then(|| rx.clone()),
            shared: Arc::clone(&shared),
            slot: self.ledger.open(name),
            put: 0,
            popped: 0,
        });
        Subscription {
            id,
            name: name.to_owned(),
            rx,
            shared,
        }
    }

    /// Removes a subscriber: its Sender drops, so its loop drains what is
    /// queued and ends. `false` if it was not subscribed.
    pub fn unsubscribe(&mut self, id: SubId) -> bool {
        let Some(i) = self.subs.iter().position(|s| s.id == id) else {
            return false;
        };
        self.subs.remove(i);
        true
    }

    /// Removes the subscriber at `i`, whose `Receiver` is gone, and counts
    /// what it left unread, the message being sent to it included.
    fn prune(&mut self, i: usize) {
        let sub = self.subs.remove(i);
        let unread = sub.unread() + 1;
        self.ledger.count(sub.slot, |t| {
            t.left = true;
            t.left_unread += unread;
        });
    }

    /// A handle on the counts per subscriber; see [`Ledger`].
    #[must_use]
    pub fn ledger(&self) -> Ledger {
        self.ledger.clone()
    }

    /// Per subscriber, present and past: offered, dropped, skipped, left.
    #[must_use]
    pub fn tallies(&self) -> Vec<SendTally> {
        self.ledger.tallies()
    }

    /// Sends `msg` to every subscriber, following the policy. Only
    /// [`Policy::SkipOnFull`] returns an error. Under every policy a
    /// subscriber whose `Receiver` is gone is pruned, and what it left
    /// unread is counted.
    pub fn send(&mut self, msg: &T) -> Result<(), Full> {
        for sub in &self.subs {
            self.ledger.count(sub.slot, |t| t.offered += 1);
        }
        let mut i = 0;
        while i < self.subs.len() {
            let sub = &mut self.subs[i];
            let sent = match self.policy {
                // Waits for room: one full buffer holds up everyone.
                Policy::Block => match sub.tx.send(msg.clone()) {
                    Ok(()) => Sent::Queued,
                    Err(_) => Sent::Gone,
                },
                Policy::SkipOnFull => match sub.tx.try_send(msg.clone()) {
                    Ok(()) => Sent::Queued,
                    Err(TrySendError::Disconnected(_)) => Sent::Gone,
                    Err(TrySendError::Full(_)) => {
                        // The trap: every subscriber after this one misses it too.
                        let subscriber = sub.name.clone();
                        for later in &self.subs[i + 1..] {
                            self.ledger.count(later.slot, |t| t.skipped += 1);
                        }
                        return Err(Full { subscriber });
                    }
                },
                Policy::DropNewest => match sub.tx.try_send(msg.clone()) {
                    Ok(()) => Sent::Queued,
                    Err(TrySendError::Disconnected(_)) => Sent::Gone,
                    Err(TrySendError::Full(_)) => {
                        // Only this one misses it; the loop goes on.
                        self.ledger.count(sub.slot, |t| t.dropped += 1);
                        Sent::Dropped
                    }
                },
                Policy::DropOldest => drop_oldest(sub, msg, &self.ledger),
            };
            match sent {
                Sent::Queued => {
                    self.subs[i].put += 1;
                    i += 1;
                }
                Sent::Dropped => i += 1,
                // A run the lab aborted (a verdict) fails every send, but
                // nobody left: keep the accounts as the verdict saw them.
                Sent::Gone if self.lab.is_aborted() => return Ok(()),
                Sent::Gone => self.prune(i), // its Receiver is gone
            }
        }
        Ok(())
    }
}

/// What one `send` did for one subscriber.
enum Sent {
    /// The message went into its buffer.
    Queued,
    /// The policy dropped the message, counted.
    Dropped,
    /// Its `Receiver` is gone.
    Gone,
}

/// drop-oldest for one subscriber: when its buffer is full, pop its oldest
/// message (counted, and reported to it as `Lagged`) to make room.
fn drop_oldest<T: Clone>(sub: &mut Sub<T>, msg: &T, ledger: &Ledger) -> Sent {
    if sub.subscription_dropped() {
        return Sent::Gone;
    }
    let m = match sub.tx.try_send(msg.clone()) {
        Ok(()) => return Sent::Queued,
        // Only once the run is aborted: our Receiver clone keeps it connected.
        Err(TrySendError::Disconnected(_)) => return Sent::Gone,
        Err(TrySendError::Full(m)) => m,
    };
    if sub.oldest.as_ref().is_some_and(|rx| rx.try_recv().is_ok()) {
        sub.popped += 1;
        sub.shared.lagged.fetch_add(1, Ordering::SeqCst); // it will see Lagged(n)
        ledger.count(sub.slot, |t| t.dropped += 1);
    }
    if sub.tx.try_send(m).is_ok() {
        Sent::Queued
    } else {
        ledger.count(sub.slot, |t| t.dropped += 1); // no room even now: the new one is lost
        Sent::Dropped
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
    /// Messages the publisher began to send.
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
    /// True when a verdict aborted the run: the counts are what had
    /// happened by then.
    pub aborted: bool,
}

/// The subscriber held at the gate: the middle one (`sub#2` of 3), so
/// there are subscribers on both sides of it in the list.
#[must_use]
pub fn slow_subscriber(workers: usize) -> usize {
    workers.div_ceil(2).max(1)
}

/// A worker's record, written as it goes and read by main at the end: it
/// outlives the worker's return value, which a verdict's abort discards
/// (every join fails).
type Record<T> = Arc<Mutex<T>>;

fn locked<T>(record: &Mutex<T>) -> MutexGuard<'_, T> {
    record.lock().unwrap_or_else(PoisonError::into_inner)
}

fn take<T: Default>(record: &Mutex<T>) -> T {
    std::mem::take(&mut *locked(record))
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
    let ledger = broadcaster.ledger();
    let subscriptions: Vec<Subscription<u64>> = (1..=n)
        .map(|i| broadcaster.subscribe(&format!("sub#{i}")))
        .collect();
    // Main opens the gate (drops its Sender) once the publisher is done.
    let (gate_tx, gate) = slow.map(|_| lab.bounded::<()>("gate", 0)).unzip();

    let mut records = Vec::new();
    let mut handles = Vec::new();
    for (i, sub) in subscriptions.into_iter().enumerate() {
        let gate = gate.as_ref().filter(|_| slow == Some(i + 1)).cloned();
        let mut rng = fastrand::Rng::with_seed(knobs.seed.wrapping_add(i as u64 + 1));
        let record: Record<SubReport> = Arc::new(Mutex::new(SubReport {
            name: sub.name().to_owned(),
            ..SubReport::default()
        }));
        let (lab2, mine) = (lab.clone(), Arc::clone(&record));
        handles.push(lab.go(sub.name().to_owned(), move || {
            subscriber(&lab2, &sub, gate.as_ref(), &mut rng, &mine);
        }));
        records.push(record);
    }
    drop(gate);

    let publisher_record: Record<PublisherReport> = Arc::default();
    let (items, lab2, mine) = (knobs.items, lab.clone(), Arc::clone(&publisher_record));
    let mut rng = fastrand::Rng::with_seed(knobs.seed);
    let publisher = lab.go("publisher", move || {
        publish(&lab2, broadcaster, items, &mut rng, &mine);
    });
    // A verdict (slow-subscriber-blocks-all's deadlock) fails every join;
    // the records and the ledger still hold what happened before it.
    let mut finished = publisher.join().is_ok();
    drop(gate_tx); // the slow subscriber may read now
    for handle in handles {
        finished &= handle.join().is_ok();
    }
    let mut publisher = take(&publisher_record);
    publisher.tallies = ledger.tallies();
    Delivery {
        policy,
        publisher,
        subscribers: records.iter().map(|r| take(r)).collect(),
        slow: slow.map(|k| format!("sub#{k}")),
        aborted: !finished || lab.is_aborted(),
    }
}

/// The publisher: `items` messages, numbered from 1, each after a little
/// simulated work. Dropping the broadcaster at the end closes every channel.
fn publish(
    lab: &Lab,
    mut broadcaster: Broadcaster<u64>,
    items: u64,
    rng: &mut fastrand::Rng,
    record: &Mutex<PublisherReport>,
) {
    for m in 1..=items {
        lab.work(Duration::from_millis(
            rng.u64(PUBLISH_WORK_MS.0..=PUBLISH_WORK_MS.1),
        ));
        if lab.is_aborted() {
            return; // a verdict ended the run: stop where it stopped
        }
        locked(record).sent += 1;
        if let Err(full) = broadcaster.send(&m) {
            locked(record).errors.push(full.subscriber);
        }
    }
}

/// A subscriber: reads until its channel closes. The slow one first waits
/// at the gate.
fn subscriber(
    lab: &Lab,
    sub: &Subscription<u64>,
    gate: Option<&Receiver<()>>,
    rng: &mut fastrand::Rng,
    record: &Mutex<SubReport>,
) {
    if let Some(gate) = gate {
        let _ = gate.recv(); // held until main opens the gate
    }
    loop {
        match sub.recv() {
            Ok(m) => {
                locked(record).got.push(m);
                lab.work(Duration::from_millis(
                    rng.u64(READ_WORK_MS.0..=READ_WORK_MS.1),
                ));
            }
            Err(RecvError::Lagged(n)) => locked(record).lagged += n,
            Err(RecvError::Closed) => return,
        }
    }
}

fn main(lab: &Lab, variant: &Variant, knobs: &Knobs) -> Outcome {
    outcome(&deliver(lab, variant.name, knobs))
}

/// Which knobs hide which trap: both need the held subscriber's buffer to
/// fill, which takes more messages than it holds.
fn hidden_by(variant: &Variant, knobs: &Knobs) -> Option<String> {
    let (items, buffer) = (knobs.items, knobs.buffer as u64);
    if items > buffer {
        return None;
    }
    let what = match variant.name {
        "slow-subscriber-blocks-all" => {
            "the held subscriber's buffer never fills, so the publisher never blocks on it"
        }
        "skip-on-full" => "no subscriber's buffer ever fills, so nobody is skipped",
        _ => return None,
    };
    let mut why = format!(
        "hidden by these knobs: with --buffer {buffer} ≥ --items {items} {what}; try --items {}",
        buffer + 1
    );
    if items >= 2 {
        let _ = write!(why, " or --buffer {}", items - 1);
    }
    Some(why)
}

/// One subscriber's account: offered = delivered + dropped (by the policy)
/// + left unread (it left) + missed (counted nowhere).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Account {
    /// The subscriber.
    pub name: String,
    /// Messages sent while it was subscribed.
    pub offered: u64,
    /// Messages it received.
    pub delivered: u64,
    /// Messages its full buffer cost it, counted by the policy.
    pub dropped: u64,
    /// True when it left (dropped its `Receiver`) and was pruned.
    pub left: bool,
    /// Messages it never read because it left, counted when it was pruned.
    pub left_unread: u64,
    /// Of the missing ones, how many were skipped after another full subscriber.
    pub skipped: u64,
    /// Missing and counted nowhere (in an aborted run: still owed).
    pub missed: u64,
    /// The `Lagged(n)` it was told, summed.
    pub lagged: u64,
}

/// Each subscriber's account, `sub#1` first.
#[must_use]
pub fn accounts(d: &Delivery) -> Vec<Account> {
    // Both lists are in the order the subscribers subscribed.
    d.subscribers
        .iter()
        .zip(&d.publisher.tallies)
        .map(|(s, tally)| {
            let delivered = s.got.len() as u64;
            let counted = delivered + tally.dropped + tally.left_unread;
            Account {
                name: s.name.clone(),
                offered: tally.offered,
                delivered,
                dropped: tally.dropped,
                left: tally.left,
                left_unread: tally.left_unread,
                skipped: tally.skipped,
                missed: tally.offered.saturating_sub(counted),
                lagged: s.lagged,
            }
        })
        .collect()
}

/// "sub#2: 16", "sub#1: 1, sub#3: 2": who lost how many.
fn per_subscriber(accounts: &[Account], count: impl Fn(&Account) -> u64) -> String {
    accounts
        .iter()
        .filter(|a| count(a) > 0)
        .map(|a| format!("{}: {}", a.name, count(a)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// "sub#3 was skipped 16 times because …": the skip-on-full problem.
fn skipped(name: &str, n: u64) -> String {
    let times = crate::lessons::count(n, "time", "times");
    format!("{name} was skipped {times} because `send` returned at a full subscriber before it")
}

fn outcome(d: &Delivery) -> Outcome {
    let accounts = accounts(d);
    let sum = |count: fn(&Account) -> u64| accounts.iter().map(count).sum::<u64>();
    let offered = sum(|a| a.offered);
    let dropped = sum(|a| a.dropped);
    let left_unread = sum(|a| a.left_unread);
    let missed = sum(|a| a.missed);
    let mut outcome = Outcome {
        items_in: offered,
        items_out: sum(|a| a.delivered),
        lost: missed,
        dropped: dropped + left_unread,
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
    if dropped > 0 {
        let how = match d.policy {
            Policy::DropOldest => {
                "a full subscriber's oldest queued message made room for the new one, and it \
                 was told Lagged(n)"
            }
            _ => "a full subscriber's buffer dropped the new message",
        };
        let who = per_subscriber(&accounts, |a| a.dropped);
        outcome
            .by_design
            .push(format!("{dropped} dropped by design: {how} ({who})"));
    }
    for a in accounts.iter().filter(|a| a.left) {
        outcome.by_design.push(format!(
            "{} left (dropped its Receiver) after {} messages: pruned, its {} unread counted",
            a.name, a.delivered, a.left_unread
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
    if d.aborted {
        outcome.notes.push(format!(
            "the run was aborted by the verdict with {missed} deliveries still owed ({})",
            per_subscriber(&accounts, |a| a.missed)
        ));
    }
    for a in &accounts {
        let mut line = format!("{}: {}/{} delivered", a.name, a.delivered, a.offered);
        if a.dropped > 0 {
            let _ = write!(line, ", {} dropped by design", a.dropped);
        }
        if a.lagged > 0 {
            let _ = write!(line, ", told Lagged({})", a.lagged);
        }
        if a.left {
            let _ = write!(line, ", left with {} unread (counted)", a.left_unread);
        }
        if a.missed > 0 && !d.aborted {
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
        if a.missed > 0 && !d.aborted {
            outcome.problems.push(format!(
                "{} missed {} of {} messages and nobody counted them",
                a.name, a.missed, a.offered
            ));
        }
        if a.skipped > 0 {
            outcome.problems.push(skipped(&a.name, a.skipped));
        }
        if d.policy == Policy::DropOldest && a.lagged != a.dropped {
            outcome.problems.push(format!(
                "{} lost {} to drop-oldest but was told Lagged({})",
                a.name, a.dropped, a.lagged
            ));
        }
    }
    outcome
}
