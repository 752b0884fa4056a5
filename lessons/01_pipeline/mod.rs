#![doc = include_str!("README.md")]

use std::time::Duration;

use crate::lab::{JoinError, JoinHandle, Lab, Receiver, Sender};
use crate::lessons::{Expect, KnobRanges, Knobs, Lesson, Outcome, Variant, VariantKind};
use crate::select;

/// The lesson in the catalog.
pub static LESSON: Lesson = Lesson {
    number: 1,
    slug: "pipeline",
    title: "Pipeline",
    summary: "generate → square → filter → sink; each stage owns and closes its output",
    readme: concat!(
        include_str!("README.md"),
        "\n",
        include_str!("../LAB_CHANNELS.md")
    ),
    variants: &VARIANTS,
    defaults: Knobs {
        items: 20,
        buffer: 4,
        workers: 2,
        seed: 1,
    },
    ranges: KnobRanges {
        items: 2..=100_000,
        buffer: 0..=1024,
        workers: 1..=64,
    },
    main,
    hidden_by: crate::lessons::never_hidden,
};

static VARIANTS: [Variant; 4] = [
    Variant {
        name: "correct",
        kind: VariantKind::Correct,
        summary: "every stage drops its Sender when done; the sink reads until `filtered` closes",
        explains: "each channel closes when its last Sender is dropped, so every `for v in rx` ends",
        fixed_by: None,
        expect: Expect::Clean,
    },
    Variant {
        name: "unclosed",
        kind: VariantKind::Trap,
        summary: "a spare clone of the `filtered` Sender is kept \"for retries\" while main waits for the sink",
        explains: "one Sender stays alive, so `filtered` never closes and the sink's loop never ends: deadlock",
        fixed_by: Some("correct"),
        expect: Expect::Verdict("deadlock"),
    },
    Variant {
        name: "leak",
        kind: VariantKind::Trap,
        summary: "the sink takes the first items, then keeps its Receiver without reading",
        explains: "upstream stages block on full channels and are still alive when main returns: leak",
        fixed_by: Some("cancel"),
        expect: Expect::Verdict("leak"),
    },
    Variant {
        name: "cancel",
        kind: VariantKind::Fix,
        summary: "after the first items main closes `done`; every stage selects on it and treats SendError as the end",
        explains: "closing `done` wakes every stage at once; each returns and drops its Sender, nothing is left",
        fixed_by: None,
        expect: Expect::Clean,
    },
];

/// Simulated work per squared item, in lesson time.
const SQUARE_WORK_MS: (u64, u64) = (80, 240);

/// Sends `v`, or gives up when `done` closes first (the fix) or when the
/// downstream Receiver is gone (`SendError`). `false` means "stop".
fn emit(out: &Sender<u64>, v: u64, done: Option<&Receiver<()>>) -> bool {
    match done {
        None => out.send(v).is_ok(),
        Some(done) => select! {
            send(out, v) -> sent => sent.is_ok(),
            recv(done) -> _ => false,
        },
    }
}

/// Stage 1: sends `1..=n` on `numbers`, then returns; its Sender drops and
/// `numbers` closes.
pub fn generate(lab: &Lab, n: u64, buffer: usize, done: Option<&Receiver<()>>) -> Receiver<u64> {
    let (out, numbers) = lab.bounded("numbers", buffer);
    let done = done.cloned();
    lab.go("generate", move || {
        for i in 1..=n {
            if !emit(&out, i, done.as_ref()) {
                return;
            }
        }
    });
    numbers
}

/// Stage 2: `workers` workers share the input and one output, `squares`.
/// Each worker holds a Sender clone; the original drops when this function
/// returns, so `squares` closes when the last worker is done.
pub fn square(
    lab: &Lab,
    input: Receiver<u64>,
    knobs: &Knobs,
    done: Option<&Receiver<()>>,
) -> Receiver<u64> {
    let (out, squares) = lab.bounded("squares", knobs.buffer);
    for w in 1..=knobs.workers {
        let (input, out, done, lab) = (input.clone(), out.clone(), done.cloned(), lab.clone());
        let mut rng = fastrand::Rng::with_seed(knobs.seed.wrapping_add(w as u64));
        lab.clone().go(format!("square#{w}"), move || {
            for v in &input {
                lab.work(Duration::from_millis(
                    rng.u64(SQUARE_WORK_MS.0..=SQUARE_WORK_MS.1),
                ));
                if !emit(&out, v * v, done.as_ref()) {
                    return;
                }
            }
        });
    }
    squares
}

/// Stage 3: keeps the odd squares.
pub fn filter(
    lab: &Lab,
    input: Receiver<u64>,
    buffer: usize,
    done: Option<&Receiver<()>>,
) -> Receiver<u64> {
    filter_with_spare(lab, input, buffer, done).0
}

/// The trap `unclosed`: the same stage, but it also hands back a spare
/// Sender "for retries". While anyone holds it, `filtered` stays open.
fn filter_with_spare(
    lab: &Lab,
    input: Receiver<u64>,
    buffer: usize,
    done: Option<&Receiver<()>>,
) -> (Receiver<u64>, Sender<u64>) {
    let (out, filtered) = lab.bounded("filtered", buffer);
    let spare = out.clone();
    let done = done.cloned();
    lab.go("filter", move || {
        for v in input.iter().filter(|v| v % 2 == 1) {
            if !emit(&out, v, done.as_ref()) {
                return;
            }
        }
    });
    (filtered, spare)
}

/// Stage 4: collects everything until `filtered` closes.
pub fn sink(lab: &Lab, input: Receiver<u64>) -> JoinHandle<Vec<u64>> {
    lab.go("sink", move || input.iter().collect())
}

/// The odd squares of `1..=n`: what the sink should see (in some order).
fn expected(n: u64) -> Vec<u64> {
    (1..=n).map(|i| i * i).filter(|v| v % 2 == 1).collect()
}

fn main(lab: &Lab, variant: &Variant, knobs: &Knobs) -> Outcome {
    match variant.name {
        "unclosed" => unclosed(lab, knobs),
        "leak" => leak(lab, knobs),
        "cancel" => cancel(lab, knobs),
        _ => correct(lab, knobs),
    }
}

fn correct(lab: &Lab, knobs: &Knobs) -> Outcome {
    let numbers = generate(lab, knobs.items, knobs.buffer, None);
    let squares = square(lab, numbers, knobs, None);
    let filtered = filter(lab, squares, knobs.buffer, None);
    let got = sink(lab, filtered).join();
    check_all(lab, knobs.items, got)
}

fn unclosed(lab: &Lab, knobs: &Knobs) -> Outcome {
    let numbers = generate(lab, knobs.items, knobs.buffer, None);
    let squares = square(lab, numbers, knobs, None);
    // The trap: `_retry` keeps `filtered` open while main waits for the sink.
    let (filtered, _retry) = filter_with_spare(lab, squares, knobs.buffer, None);
    let got = sink(lab, filtered).join();
    check_all(lab, knobs.items, got)
}

/// How many items the early-stopping sink takes: half of what would arrive.
fn first_k(n: u64) -> usize {
    (expected(n).len() / 2).max(1)
}

fn leak(lab: &Lab, knobs: &Knobs) -> Outcome {
    let k = first_k(knobs.items);
    let numbers = generate(lab, knobs.items, knobs.buffer, None);
    let squares = square(lab, numbers, knobs, None);
    let filtered = filter(lab, squares, knobs.buffer, None);
    let (results, first) = lab.bounded("results", 1);
    let worker_lab = lab.clone();
    lab.go("sink", move || {
        let got: Vec<u64> = filtered.iter().take(k).collect();
        let _ = results.send(got);
        // The trap: the sink goes on with other work and still holds
        // `filtered`, so upstream sends block instead of failing.
        worker_lab.work(Duration::from_secs(3600));
        drop(filtered);
    });
    let got = first.recv().unwrap_or_default();
    check_first_k(knobs.items, k, &got)
}

fn cancel(lab: &Lab, knobs: &Knobs) -> Outcome {
    let k = first_k(knobs.items);
    // Closing `done` (dropping its only Sender) is a broadcast: every
    // stage's select sees it at once.
    let (done_tx, done) = lab.bounded::<()>("done", 0);
    let numbers = generate(lab, knobs.items, knobs.buffer, Some(&done));
    let squares = square(lab, numbers, knobs, Some(&done));
    let filtered = filter(lab, squares, knobs.buffer, Some(&done));
    let got: Vec<u64> = lab
        .go("sink", move || filtered.iter().take(k).collect())
        .join()
        .unwrap_or_default();
    drop(done_tx); // Go: close(done)
    check_first_k(knobs.items, k, &got)
}

fn check_all(lab: &Lab, n: u64, got: Result<Vec<u64>, JoinError>) -> Outcome {
    let mut want = expected(n);
    want.sort_unstable();
    let Ok(mut got) = got else {
        // The run was aborted while main waited for the sink: what the sink
        // received is still on the lab's counters.
        let received = lab
            .snapshot()
            .channels
            .iter()
            .find(|c| c.name == "filtered")
            .map_or(0, |c| c.received);
        return Outcome {
            items_in: n,
            items_out: received,
            problems: vec![format!(
                "the sink never finished: it received {received} of the {} odd squares, \
                 then waited for `filtered` to close",
                want.len()
            )],
            ..Outcome::default()
        };
    };
    got.sort_unstable();
    let mut outcome = Outcome {
        items_in: n,
        items_out: got.len() as u64,
        ..Outcome::default()
    };
    if got != want {
        let missing = want.iter().filter(|v| !got.contains(v)).count() as u64;
        outcome.lost = missing;
        outcome.problems.push(format!(
            "the sink got {} of the {} odd squares",
            got.len(),
            want.len()
        ));
    }
    outcome
}

fn check_first_k(n: u64, k: usize, got: &[u64]) -> Outcome {
    let want = expected(n);
    let mut outcome = Outcome {
        items_in: n,
        items_out: got.len() as u64,
        ..Outcome::default()
    };
    outcome.notes.push(format!(
        "the sink stopped on purpose after {k} of {} items",
        want.len()
    ));
    if got.len() != k || got.iter().any(|v| !want.contains(v)) {
        outcome
            .problems
            .push(format!("the sink wanted {k} odd squares and got {got:?}"));
    }
    outcome
}
