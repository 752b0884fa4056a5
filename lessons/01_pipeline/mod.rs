#![doc = include_str!("README.md")]

use std::time::Duration;

use crate::lab::{Event, JoinError, JoinHandle, Lab, Receiver, Sender, Snapshot};
use crate::lessons::{
    Challenge, Expect, KnobRanges, Knobs, Lesson, Outcome, Variant, VariantKind, trail,
};
use crate::select_biased;

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
    // No knob hides either trap. `unclosed`: the spare Sender keeps
    // `filtered` open whatever the numbers. `leak`: the sink works on for
    // an hour in every run, so main always returns with it alive; what the
    // knobs change is which stages are named beside it (see the README).
    hidden_by: crate::lessons::never_hidden,
    challenges: &[Challenge {
        title: "make the sink receive 9 before 1: three squarers, three numbers",
        hint: "each squarer takes one number and works on it for its own time (`work until …` \
               in the list says how long; undo and try another): let the quickest squarer \
               take 3 and a slower one take 1. The filter and the sink keep the order the \
               squares arrive in",
        variant: "correct",
        knobs: Knobs {
            items: 3,
            buffer: 2,
            workers: 3,
            seed: 1,
        },
        reached: nine_before_one,
    }],
};

/// The challenge: the square of 3 went into `squares` before the square of
/// 1, and both odd squares reached the sink (the filter and the sink are
/// one worker each, so they keep that order). Number `i` is the `i`-th
/// message of `numbers`.
fn nine_before_one(snapshot: &Snapshot, events: &[Event]) -> bool {
    let square_of =
        |i| trail::forwarded(events, "numbers", i, |_| "squares".to_owned()).map(|(_, item)| item);
    match (square_of(1), square_of(3)) {
        (Some(one), Some(nine)) if nine < one => {
            trail::channel(snapshot, "filtered").is_some_and(|f| f.received >= 2)
        }
        _ => false,
    }
}

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
        summary: "the sink hands the first items to main, then works on with its Receiver in hand, unread",
        explains: "while `filtered` has a live Receiver no send to it fails: main returns with the sink still \
                   working, and a stage with more to send than the channels hold waits on a full one for good: leak",
        fixed_by: Some("cancel"),
        expect: Expect::Verdict("leak"),
    },
    Variant {
        name: "cancel",
        kind: VariantKind::Fix,
        summary: "the same sink; once main has the first items it closes `done`, which every stage selects on",
        explains: "closing `done` wakes every stage at once while `filtered` is still alive: each takes its `done` arm, \
                   returns and says so on `ended`, and main waits for all of them",
        fixed_by: None,
        expect: Expect::Clean,
    },
];

/// Simulated work per squared item, in lesson time.
const SQUARE_WORK_MS: (u64, u64) = (480, 1440);

/// How long the early-stopping sink of `leak` goes on with its other work.
const OTHER_WORK: Duration = Duration::from_secs(3600);

/// How a stage stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// It ran out of items: its input closed (for `generate`: it sent all
    /// its numbers).
    RanOut,
    /// `done` closed: its select took the `done` arm.
    Canceled,
    /// A send failed with `SendError`: no Receiver was left downstream.
    DownstreamGone,
}

impl Ended {
    fn word(self) -> &'static str {
        match self {
            Self::RanOut => "ran out of items",
            Self::Canceled => "canceled by `done`",
            Self::DownstreamGone => "stopped by a SendError",
        }
    }
}

/// The channels a stage may get besides its input and output. The plain
/// pipeline uses neither; the fix `cancel` uses both.
#[derive(Clone, Default)]
pub struct Signals {
    /// Nobody sends on `done`: once main drops its only Sender, a receive
    /// on it is ready in every stage, every time (Go's `close(done)`).
    pub done: Option<Receiver<()>>,
    /// Each stage sends its name and how it stopped just before it
    /// returns. Every stage holds a Sender clone, so `ended` closes when
    /// the last stage is gone: a WaitGroup that also says why.
    pub ended: Option<Sender<(String, Ended)>>,
}

impl Signals {
    /// Called by a stage as it returns.
    fn report(&self, stage: &str, sent: Result<(), Ended>) {
        if let Some(ended) = &self.ended {
            let how = sent.err().unwrap_or(Ended::RanOut);
            let _ = ended.send((stage.to_owned(), how));
        }
    }
}

/// Sends `v`; `Err` says why the stage must stop. With `done`, the select
/// lists it first and is biased: once `done` is closed, a stage stops at
/// its next send even when there is room downstream.
fn emit(out: &Sender<u64>, v: u64, done: Option<&Receiver<()>>) -> Result<(), Ended> {
    match done {
        None => out.send(v).map_err(|_| Ended::DownstreamGone),
        Some(done) => select_biased! {
            recv(done) -> _ => Err(Ended::Canceled),
            send(out, v) -> sent => sent.map_err(|_| Ended::DownstreamGone),
        },
    }
}

/// Stage 1: sends `1..=n` on `numbers`, then returns; its Sender drops and
/// `numbers` closes.
pub fn generate(lab: &Lab, n: u64, buffer: usize, signals: &Signals) -> Receiver<u64> {
    let (out, numbers) = lab.bounded("numbers", buffer);
    let signals = signals.clone();
    lab.go("generate", move || {
        let sent = (1..=n).try_for_each(|i| emit(&out, i, signals.done.as_ref()));
        signals.report("generate", sent);
    });
    numbers
}

/// Stage 2: `workers` workers share the input and one output, `squares`.
/// Each worker holds a Sender clone; the original drops when this function
/// returns, so `squares` closes when the last worker is done.
pub fn square(lab: &Lab, input: Receiver<u64>, knobs: &Knobs, signals: &Signals) -> Receiver<u64> {
    let (out, squares) = lab.bounded("squares", knobs.buffer);
    for w in 1..=knobs.workers {
        let (input, out, signals, lab) = (input.clone(), out.clone(), signals.clone(), lab.clone());
        let mut rng = fastrand::Rng::with_seed(knobs.seed.wrapping_add(w as u64));
        let name = format!("square#{w}");
        lab.clone().go(name.clone(), move || {
            let sent = input.iter().try_for_each(|v| {
                lab.work(Duration::from_millis(
                    rng.u64(SQUARE_WORK_MS.0..=SQUARE_WORK_MS.1),
                ));
                emit(&out, v * v, signals.done.as_ref())
            });
            signals.report(&name, sent);
        });
    }
    squares
}

/// Stage 3: keeps the odd squares.
pub fn filter(lab: &Lab, input: Receiver<u64>, buffer: usize, signals: &Signals) -> Receiver<u64> {
    filter_with_spare(lab, input, buffer, signals).0
}

/// The trap `unclosed`: the same stage, but it also hands back a spare
/// Sender "for retries". While anyone holds it, `filtered` stays open.
fn filter_with_spare(
    lab: &Lab,
    input: Receiver<u64>,
    buffer: usize,
    signals: &Signals,
) -> (Receiver<u64>, Sender<u64>) {
    let (out, filtered) = lab.bounded("filtered", buffer);
    let spare = out.clone();
    let signals = signals.clone();
    lab.go("filter", move || {
        let sent = input
            .iter()
            .filter(|v| v % 2 == 1)
            .try_for_each(|v| emit(&out, v, signals.done.as_ref()));
        signals.report("filter", sent);
    });
    (filtered, spare)
}

/// Stage 4: collects everything until `filtered` closes.
pub fn sink(lab: &Lab, input: Receiver<u64>) -> JoinHandle<Vec<u64>> {
    lab.go("sink", move || input.iter().collect())
}

/// The sink of `leak` and `cancel`: takes the first `k` items, hands them
/// to main on `results`, then goes on with other work with `input` still
/// in hand and unread. With `done` (the fix) that work lasts until `done`
/// closes, and the sink reports on `ended`; without it, an hour.
pub fn sink_first_k(
    lab: &Lab,
    input: Receiver<u64>,
    k: usize,
    results: Sender<Vec<u64>>,
    signals: Signals,
) -> JoinHandle<()> {
    let worker_lab = lab.clone();
    lab.go("sink", move || {
        let first: Vec<u64> = input.iter().take(k).collect();
        let _ = results.send(first);
        match &signals.done {
            Some(done) => {
                let _ = done.recv(); // other work, until the run is canceled
                signals.report("sink", Err(Ended::Canceled));
            }
            None => worker_lab.work(OTHER_WORK), // `input` alive, never read again
        }
        drop(input);
    })
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
    let plain = Signals::default();
    let numbers = generate(lab, knobs.items, knobs.buffer, &plain);
    let squares = square(lab, numbers, knobs, &plain);
    let filtered = filter(lab, squares, knobs.buffer, &plain);
    let got = sink(lab, filtered).join();
    check_all(lab, knobs.items, got)
}

fn unclosed(lab: &Lab, knobs: &Knobs) -> Outcome {
    let plain = Signals::default();
    let numbers = generate(lab, knobs.items, knobs.buffer, &plain);
    let squares = square(lab, numbers, knobs, &plain);
    // The trap: `_retry` keeps `filtered` open while main waits for the sink.
    let (filtered, _retry) = filter_with_spare(lab, squares, knobs.buffer, &plain);
    let got = sink(lab, filtered).join();
    check_all(lab, knobs.items, got)
}

/// How many items the early-stopping sink takes: half of what would arrive.
#[must_use]
pub fn first_k(n: u64) -> usize {
    (expected(n).len() / 2).max(1)
}

/// How many odd squares the early-stopping sink leaves unread.
#[must_use]
pub fn left_unread(n: u64) -> usize {
    expected(n).len() - first_k(n)
}

fn leak(lab: &Lab, knobs: &Knobs) -> Outcome {
    let k = first_k(knobs.items);
    let plain = Signals::default();
    let numbers = generate(lab, knobs.items, knobs.buffer, &plain);
    let squares = square(lab, numbers, knobs, &plain);
    let filtered = filter(lab, squares, knobs.buffer, &plain);
    let (results, first) = lab.bounded("results", 1);
    // The trap: the sink works on with `filtered` in hand, so no send to it
    // ever fails; upstream sends that find it full wait forever.
    let _sink = sink_first_k(lab, filtered, k, results, plain);
    check_first_k(lab, knobs.items, first.recv().ok(), &[])
}

fn cancel(lab: &Lab, knobs: &Knobs) -> Outcome {
    let k = first_k(knobs.items);
    // Closing `done` (dropping its only Sender) is a broadcast: every
    // stage's select sees it at once.
    let (done_tx, done) = lab.bounded::<()>("done", 0);
    let (ended_tx, ended) = lab.unbounded("ended");
    let signals = Signals {
        done: Some(done),
        ended: Some(ended_tx),
    };
    let numbers = generate(lab, knobs.items, knobs.buffer, &signals);
    let squares = square(lab, numbers, knobs, &signals);
    let filtered = filter(lab, squares, knobs.buffer, &signals);
    let (results, first) = lab.bounded("results", 1);
    // The same sink as in `leak`: it keeps `filtered` while it works on.
    let sink = sink_first_k(lab, filtered, k, results, signals);
    let got = first.recv().ok();
    drop(done_tx); // Go: close(done)
    // Every stage reports once and drops its clone of `ended`, so this loop
    // ends when the last stage has returned.
    let how: Vec<(String, Ended)> = ended.iter().collect();
    let _ = sink.join();
    check_first_k(lab, knobs.items, got, &how)
}

/// What the sink received on `filtered`, as the lab counted it: the count
/// to report when the run was aborted before the sink could say.
fn received_on_filtered(lab: &Lab) -> u64 {
    lab.snapshot()
        .channels
        .iter()
        .find(|c| c.name == "filtered")
        .map_or(0, |c| c.received)
}

fn check_all(lab: &Lab, n: u64, got: Result<Vec<u64>, JoinError>) -> Outcome {
    let mut want = expected(n);
    want.sort_unstable();
    let Ok(mut got) = got else {
        // The run was aborted while main waited for the sink: what the sink
        // received is still on the lab's counters.
        let received = received_on_filtered(lab);
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

/// The outcome of a sink that stops after `k` items on purpose: those `k`
/// arrived, the rest were left by design. `how` is what the stages
/// reported on `ended` (the fix only).
fn check_first_k(lab: &Lab, n: u64, got: Option<Vec<u64>>, how: &[(String, Ended)]) -> Outcome {
    let want = expected(n);
    let k = first_k(n);
    let Some(got) = got else {
        let received = received_on_filtered(lab);
        return Outcome {
            items_in: n,
            items_out: received,
            problems: vec![format!(
                "the run ended before the sink had its {k} odd squares: it received {received}"
            )],
            ..Outcome::default()
        };
    };
    let left = (want.len() - k) as u64;
    let policy = if left == 0 {
        let all = crate::lessons::count(
            k as u64,
            "odd square, the only one",
            "odd squares, all of them",
        );
        format!("the sink stopped on purpose after its first {all}")
    } else {
        format!(
            "the sink stopped on purpose after the first {k} of the {} odd squares: {left} never read",
            want.len()
        )
    };
    let mut outcome = Outcome {
        items_in: n,
        items_out: got.len() as u64,
        dropped: left,
        by_design: vec![policy],
        ..Outcome::default()
    };
    if got.len() != k || got.iter().any(|v| !want.contains(v)) {
        outcome
            .problems
            .push(format!("the sink wanted {k} odd squares and got {got:?}"));
    }
    if !how.is_empty() {
        let mut how = how.to_vec();
        how.sort_by_key(|(stage, _)| pipeline_position(stage));
        let list: Vec<String> = how
            .iter()
            .map(|(stage, ended)| format!("{stage} {}", ended.word()))
            .collect();
        outcome
            .notes
            .push(format!("how each stage ended: {}", list.join(", ")));
        for (stage, ended) in &how {
            if *ended == Ended::DownstreamGone {
                outcome.problems.push(format!(
                    "{stage} stopped on a SendError: `done` should have stopped it first"
                ));
            }
        }
    }
    outcome
}

/// Where a stage sits in the pipeline, for listing stages in data-flow
/// order: generate, square#1..N, filter, sink.
fn pipeline_position(stage: &str) -> (u8, usize) {
    let (name, number) = stage.split_once('#').unwrap_or((stage, "0"));
    let rank = match name {
        "generate" => 0,
        "square" => 1,
        "filter" => 2,
        _ => 3,
    };
    (rank, number.parse().unwrap_or(0))
}
