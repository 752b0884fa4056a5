#![doc = include_str!("README.md")]

use std::collections::BTreeMap;
use std::time::Duration;

use crate::lab::{Event, JoinHandle, Lab, Receiver, Sender, Snapshot};
use crate::lessons::{
    Challenge, Expect, KnobRanges, Knobs, Lesson, Outcome, Variant, VariantKind, trail,
};

/// The lesson in the catalog.
pub static LESSON: Lesson = Lesson {
    number: 2,
    slug: "fan-out-fan-in",
    title: "Fan-out / fan-in",
    summary: "N workers share `jobs`; a merge forwards their N result channels into one `merged`",
    readme: concat!(
        include_str!("README.md"),
        "\n",
        include_str!("../LAB_CHANNELS.md")
    ),
    variants: &VARIANTS,
    defaults: Knobs {
        items: 24,
        buffer: 2,
        workers: 3,
        seed: 1,
    },
    ranges: KnobRanges {
        items: 2..=100_000,
        buffer: 0..=1024,
        // Fan-out needs at least two workers; the order traps need a second
        // worker to finish the other items while item 0 is held.
        workers: 2..=32,
    },
    main,
    hidden_by,
    challenges: &[Challenge {
        title: "make the fan-in deliver item 0 last",
        hint: "all three items are handed out at once, one to each worker, and each worker \
               works its own time on its first item (`work until …` in the list says how \
               long; undo and try another): let the slowest worker take item 0. The merge \
               forwards in the order the work ends",
        variant: "correct",
        knobs: Knobs {
            items: 3,
            buffer: 2,
            workers: 3,
            seed: 1,
        },
        reached: item_zero_last,
    }],
};

/// The challenge: item 0 (the first message of `jobs`) is the last message
/// of `merged`, and the consumer has it. It goes `jobs` → `worker#n` →
/// `results#n` → `merge#n` → `merged`.
fn item_zero_last(snapshot: &Snapshot, events: &[Event]) -> bool {
    let Some(jobs) = trail::channel(snapshot, "jobs").filter(|j| j.senders == 0) else {
        return false; // not every item is out yet
    };
    let on_merged = trail::forwarded(events, "jobs", 1, |w| w.replace("worker", "results"))
        .and_then(|(results, r)| trail::forwarded(events, &results, r, |_| "merged".to_owned()));
    on_merged
        .is_some_and(|(_, m)| m == jobs.sent && trail::received(events, "consumer", "merged", m))
}

/// Which knobs hide which trap. `unordered` needs a second worker to
/// finish the other items while item 0 is held: with one worker, items are
/// done one after the other and come out in input order (the lesson's
/// range starts at 2 for that reason). No knob keeps `merge-never-closes`
/// from deadlocking: the spare Sender keeps `merged` open whatever the
/// numbers.
fn hidden_by(variant: &Variant, knobs: &Knobs) -> Option<String> {
    (variant.name == "unordered" && knobs.workers < 2).then(|| {
        format!(
            "hidden by these knobs: with --workers {} one worker does every item in turn, \
             so results come out in input order; try --workers 2",
            knobs.workers
        )
    })
}

static VARIANTS: [Variant; 4] = [
    Variant {
        name: "correct",
        kind: VariantKind::Correct,
        summary: "each forwarder holds a Sender clone of `merged`; the last one to finish closes it",
        explains: "`merged` closes exactly when every worker and forwarder is done, so the consumer's loop ends; \
                   every item arrives once, in some order",
        fixed_by: None,
        expect: Expect::Clean,
    },
    Variant {
        name: "merge-never-closes",
        kind: VariantKind::Trap,
        summary: "the merge keeps a spare Sender of `merged` \"to add inputs later\" while main waits for the consumer",
        explains: "one Sender stays alive, so `merged` never closes and the consumer waits on it forever: deadlock",
        fixed_by: Some("correct"),
        expect: Expect::Verdict("deadlock"),
    },
    Variant {
        name: "unordered",
        kind: VariantKind::Trap,
        summary: "the consumer needs input order but takes results as they come; free-running, item 0 is held until every other item is in (scheduled, the schedule decides who overtakes whom)",
        explains: "a merge delivers in completion order: item 0 comes out last, so the order is broken",
        fixed_by: Some("ordered"),
        expect: Expect::Broken,
    },
    Variant {
        name: "ordered",
        kind: VariantKind::Fix,
        summary: "sequence numbers, a reorder buffer (BTreeMap) and a window of W = 2 × workers tokens; item 0 is held the same way when free-running",
        explains: "the reorder stage emits only the next expected item; the window stops the producer after W items \
                   in flight, so the buffer never holds more than W",
        fixed_by: None,
        expect: Expect::Clean,
    },
];

/// Simulated work per item, in lesson time.
const WORK_MS: (u64, u64) = (750, 1750);

/// One result: which item it is for (its position in `jobs`, which is also
/// its sequence number) and what the work made of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Res {
    /// The item's position in `jobs`, from 0.
    pub item: u64,
    /// The work's output: `item * item`.
    pub value: u64,
}

/// The in-flight window of the fix `ordered`: W = 2 × workers.
#[must_use]
pub fn window(workers: usize) -> usize {
    2 * workers.max(1)
}

/// Producer: sends items `0..n` on `jobs`, then returns; its Sender drops
/// and `jobs` closes. With `tokens` (the fix `ordered`) it first takes a
/// slot in the in-flight window for each item, and waits while it is full.
pub fn produce(lab: &Lab, n: u64, buffer: usize, tokens: Option<Sender<()>>) -> Receiver<u64> {
    let (out, jobs) = lab.bounded("jobs", buffer);
    lab.go("produce", move || {
        for item in 0..n {
            if let Some(tokens) = &tokens
                && tokens.send(()).is_err()
            {
                return;
            }
            if out.send(item).is_err() {
                return;
            }
        }
    });
    jobs
}

/// Fan-out: `workers` workers read the one `jobs` channel (each item goes to
/// exactly one of them); worker `w` sends on its own `results#w`, which
/// closes when it returns.
///
/// With a `gate` (the order lessons), whoever takes item 0 first waits until
/// the gate closes: that is how the run makes item 0 finish last.
pub fn fan_out(
    lab: &Lab,
    jobs: &Receiver<u64>,
    knobs: &Knobs,
    gate: Option<&Receiver<()>>,
) -> Vec<Receiver<Res>> {
    (1..=knobs.workers)
        .map(|w| {
            let (out, results) = lab.bounded(format!("results#{w}"), knobs.buffer);
            let (jobs, gate, lab) = (jobs.clone(), gate.cloned(), lab.clone());
            let mut rng = fastrand::Rng::with_seed(knobs.seed.wrapping_add(w as u64));
            lab.clone().go(format!("worker#{w}"), move || {
                for item in &jobs {
                    if let (0, Some(gate)) = (item, &gate) {
                        // Held until the gate closes (its Sender is dropped).
                        let _ = gate.recv();
                    }
                    lab.work(Duration::from_millis(rng.u64(WORK_MS.0..=WORK_MS.1)));
                    if out
                        .send(Res {
                            item,
                            value: item * item,
                        })
                        .is_err()
                    {
                        return;
                    }
                }
            });
            results
        })
        .collect()
}

/// Forwarder `merge#n`: copies one input into `out` until the input closes
/// (or the consumer is gone), then drops its Sender clone.
fn forward(lab: &Lab, n: usize, input: Receiver<Res>, out: Sender<Res>) {
    lab.go(format!("merge#{n}"), move || {
        for r in input {
            if out.send(r).is_err() {
                return; // the consumer dropped `merged`
            }
        }
    });
}

/// Fan-in: one forwarder per input, each with its own Sender clone of
/// `merged`. The original Sender drops when this function returns, so
/// `merged` closes when the last forwarder is done (Go: WaitGroup + closer).
pub fn merge(lab: &Lab, inputs: Vec<Receiver<Res>>, cap: usize) -> Receiver<Res> {
    let (out, merged) = lab.bounded("merged", cap);
    for (i, input) in inputs.into_iter().enumerate() {
        forward(lab, i + 1, input, out.clone());
    }
    merged
}

/// The trap `merge-never-closes`: a merge that can take more inputs later.
/// To do that it keeps a Sender of `merged`; while it lives, `merged` stays
/// open, whatever the forwarders do.
pub struct OpenMerge {
    lab: Lab,
    out: Sender<Res>,
    inputs: usize,
}

impl OpenMerge {
    /// A merge with no inputs yet, and its output `merged`.
    #[must_use]
    pub fn new(lab: &Lab, cap: usize) -> (Self, Receiver<Res>) {
        let (out, merged) = lab.bounded("merged", cap);
        let merge = Self {
            lab: lab.clone(),
            out,
            inputs: 0,
        };
        (merge, merged)
    }

    /// Starts a forwarder for one more input.
    pub fn add(&mut self, input: Receiver<Res>) {
        self.inputs += 1;
        forward(&self.lab, self.inputs, input, self.out.clone());
    }
}

/// The rig of the order lessons: holds item 0 until `after` other items have
/// arrived, then closes `gate` by dropping its only Sender.
struct Gate {
    tx: Option<Sender<()>>,
    after: u64,
    seen: u64,
}

impl Gate {
    /// `tx: None`: no gate to close (a scheduled run has no rig).
    fn new(tx: Option<Sender<()>>, after: u64) -> Self {
        let mut gate = Self { tx, after, seen: 0 };
        gate.check();
        gate
    }

    fn arrived(&mut self) {
        self.seen += 1;
        self.check();
    }

    fn check(&mut self) {
        if self.seen >= self.after {
            self.tx = None; // closes `gate`: the worker holding item 0 goes on
        }
    }
}

/// The consumer: takes everything until its input closes, in arrival order.
/// In `unordered` it also closes the gate once every item but item 0 is in.
fn consume(lab: &Lab, input: Receiver<Res>, mut gate: Option<Gate>) -> JoinHandle<Vec<Res>> {
    lab.go("consumer", move || {
        let mut got = Vec::new();
        for r in input {
            got.push(r);
            if let Some(gate) = &mut gate {
                gate.arrived();
            }
        }
        got
    })
}

/// The fix's reorder stage: holds early arrivals in a BTreeMap and emits
/// while the next expected item is there; each emitted item frees one token
/// of the window. Returns the reorder buffer's peak size.
fn reorder(
    lab: &Lab,
    merged: Receiver<Res>,
    tokens: Receiver<()>,
    mut gate: Gate,
    buffer: usize,
) -> (Receiver<Res>, JoinHandle<usize>) {
    let (out, in_order) = lab.bounded("in_order", buffer);
    let handle = lab.go("reorder", move || {
        let mut pending = BTreeMap::new();
        let mut next = 0;
        let mut peak = 0;
        for r in merged {
            gate.arrived();
            pending.insert(r.item, r);
            peak = peak.max(pending.len());
            while let Some(r) = pending.remove(&next) {
                if out.send(r).is_err() {
                    return peak;
                }
                let _ = tokens.recv(); // one slot of the window is free again
                next += 1;
            }
        }
        peak
    });
    (in_order, handle)
}

fn main(lab: &Lab, variant: &Variant, knobs: &Knobs) -> Outcome {
    match variant.name {
        "merge-never-closes" => merge_never_closes(lab, knobs),
        "unordered" => unordered(lab, knobs),
        "ordered" => ordered(lab, knobs),
        _ => correct(lab, knobs),
    }
}

fn correct(lab: &Lab, knobs: &Knobs) -> Outcome {
    let jobs = produce(lab, knobs.items, knobs.buffer, None);
    let results = fan_out(lab, &jobs, knobs, None);
    drop(jobs); // only the workers read `jobs`
    let merged = merge(lab, results, knobs.buffer);
    match received(lab, knobs.items, "merged", consume(lab, merged, None)) {
        Ok(got) => check_all(knobs.items, &got),
        Err(unfinished) => unfinished,
    }
}

fn merge_never_closes(lab: &Lab, knobs: &Knobs) -> Outcome {
    let jobs = produce(lab, knobs.items, knobs.buffer, None);
    let results = fan_out(lab, &jobs, knobs, None);
    drop(jobs);
    let (mut merge, merged) = OpenMerge::new(lab, knobs.buffer);
    for input in results {
        merge.add(input);
    }
    // The trap: `merge` (and its Sender) lives on while main waits.
    let got = received(lab, knobs.items, "merged", consume(lab, merged, None));
    drop(merge);
    match got {
        Ok(got) => check_all(knobs.items, &got),
        Err(unfinished) => unfinished,
    }
}

/// How many other items must arrive before item 0 may go on: all of them.
fn gate_after(n: u64) -> u64 {
    n.saturating_sub(1)
}

/// Whether the run holds item 0 at a `gate`. Free-running, the rig makes
/// item 0 finish last on every run. Scheduled, there is no rig: the
/// simulated work's lengths and the schedule decide who finishes first, so
/// a hunt over seeds sees the order break (or hold) by itself.
fn rigged(lab: &Lab) -> bool {
    lab.schedule().is_none()
}

fn unordered(lab: &Lab, knobs: &Knobs) -> Outcome {
    let jobs = produce(lab, knobs.items, knobs.buffer, None);
    if !rigged(lab) {
        let results = fan_out(lab, &jobs, knobs, None);
        drop(jobs);
        let merged = merge(lab, results, knobs.buffer);
        return match received(lab, knobs.items, "merged", consume(lab, merged, None)) {
            Ok(got) => check_order(knobs.items, &got),
            Err(unfinished) => unfinished,
        };
    }
    let (gate_tx, gate) = lab.bounded::<()>("gate", 0);
    // With one worker, holding item 0 would hold everything: no rig then.
    let held = (knobs.workers >= 2).then_some(&gate);
    let results = fan_out(lab, &jobs, knobs, held);
    drop((jobs, gate));
    let merged = merge(lab, results, knobs.buffer);
    let gate = Gate::new(Some(gate_tx), gate_after(knobs.items));
    match received(lab, knobs.items, "merged", consume(lab, merged, Some(gate))) {
        Ok(got) => check_order(knobs.items, &got),
        Err(unfinished) => unfinished,
    }
}

fn ordered(lab: &Lab, knobs: &Knobs) -> Outcome {
    let w = window(knobs.workers);
    let (tokens_tx, tokens) = lab.bounded::<()>("tokens", w);
    let jobs = produce(lab, knobs.items, knobs.buffer, Some(tokens_tx));
    let rig = rigged(lab);
    // Scheduled (no rig) the gate channel is not made at all; `Gate` then
    // holds no Sender and its counting does nothing.
    let (gate_tx, gate) = rig.then(|| lab.bounded::<()>("gate", 0)).unzip();
    let held = gate.as_ref().filter(|_| knobs.workers >= 2);
    let results = fan_out(lab, &jobs, knobs, held);
    drop((jobs, gate));
    let merged = merge(lab, results, knobs.buffer);
    // Item 0 is held the same way, but only W - 1 other items can be in
    // flight beside it: the gate opens when they are all in.
    let after = gate_after(knobs.items).min(w as u64 - 1);
    let gate = Gate::new(gate_tx, after);
    let (in_order, reorderer) = reorder(lab, merged, tokens, gate, knobs.buffer);
    let got = received(lab, knobs.items, "in_order", consume(lab, in_order, None));
    let peak = reorderer.join();
    let mut outcome = match got {
        Ok(got) => check_order(knobs.items, &got),
        Err(unfinished) => return unfinished,
    };
    if let Ok(peak) = peak {
        let without = if rig {
            format!(
                "without the window the {} other items would all have piled up behind item 0",
                gate_after(knobs.items)
            )
        } else {
            "without the window it could grow with every item that overtakes a slow one".to_owned()
        };
        outcome.notes.push(format!(
            "the reorder buffer peaked at {peak} items (window W = {w}); {without}"
        ));
        if peak > w {
            outcome.problems.push(format!(
                "the reorder buffer held {peak} items, more than the window W = {w}"
            ));
        }
    }
    outcome
}

/// What the consumer collected from `input` — or, if the run aborted (a
/// verdict) before it finished, an outcome saying how far it got, counted
/// from the lab's own numbers for `input`.
fn received(
    lab: &Lab,
    n: u64,
    input: &str,
    consumer: JoinHandle<Vec<Res>>,
) -> Result<Vec<Res>, Outcome> {
    if let Ok(got) = consumer.join()
        && !lab.is_aborted()
    {
        return Ok(got);
    }
    let got = lab
        .snapshot()
        .channels
        .iter()
        .find(|c| c.name == input)
        .map_or(0, |c| c.received);
    let mut outcome = Outcome {
        items_in: n,
        items_out: got,
        lost: n.saturating_sub(got),
        ..Outcome::default()
    };
    outcome.problems.push(format!(
        "the consumer got {got} of {n} items from `{input}` and never finished"
    ));
    if got == n {
        outcome.notes.push(format!(
            "every item arrived; the consumer was still waiting for `{input}` to close"
        ));
    }
    Err(outcome)
}

/// Every item exactly once, any order (a multiset check), each with the
/// right value.
fn check_all(n: u64, got: &[Res]) -> Outcome {
    let mut seen = vec![0_u32; usize::try_from(n).unwrap_or(usize::MAX)];
    let mut wrong = 0_u64;
    for r in got {
        match seen.get_mut(usize::try_from(r.item).unwrap_or(usize::MAX)) {
            Some(count) if r.value == r.item * r.item => *count += 1,
            _ => wrong += 1,
        }
    }
    let missing = seen.iter().filter(|&&c| c == 0).count() as u64;
    let twice = seen.iter().filter(|&&c| c > 1).count();
    let mut outcome = Outcome {
        items_in: n,
        items_out: got.len() as u64,
        lost: missing,
        ..Outcome::default()
    };
    if missing > 0 {
        outcome
            .problems
            .push(format!("{missing} of {n} items never came out of `merged`"));
    }
    if twice > 0 {
        outcome
            .problems
            .push(format!("{twice} items came out more than once"));
    }
    if wrong > 0 {
        outcome.problems.push(format!("{wrong} results were wrong"));
    }
    outcome
}

/// Every item once, and in input order: item 0 first.
fn check_order(n: u64, got: &[Res]) -> Outcome {
    let mut outcome = check_all(n, got);
    let in_order = got.iter().enumerate().all(|(i, r)| r.item == i as u64);
    outcome.order_kept = Some(in_order);
    outcome
        .notes
        .push(format!("arrival order: {}", arrival_order(got)));
    if !in_order {
        // The smallest item that came out of place says the most.
        let misplaced = got
            .iter()
            .enumerate()
            .filter(|&(i, r)| r.item != i as u64)
            .min_by_key(|&(_, r)| r.item);
        if let Some((pos, r)) = misplaced {
            let last = if pos + 1 == got.len() { " (last)" } else { "" };
            outcome.problems.push(format!(
                "results came in completion order, not input order: item {} came out {} of {}{last}",
                r.item,
                ordinal(pos + 1),
                got.len()
            ));
        }
    }
    outcome
}

/// "1, 2, 3, …, 0": the items in the order they came out (the first 32).
fn arrival_order(got: &[Res]) -> String {
    const SHOWN: usize = 32;
    let mut s: Vec<String> = got.iter().take(SHOWN).map(|r| r.item.to_string()).collect();
    if got.len() > SHOWN {
        s.push(format!("… ({} more)", got.len() - SHOWN));
    }
    s.join(", ")
}

/// 1st, 2nd, 3rd, 4th, 11th, 21st, ...
fn ordinal(k: usize) -> String {
    let suffix = match (k % 10, k % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{k}{suffix}")
}
