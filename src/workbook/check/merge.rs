//! Exercise 02: fan-in. Part 1, `merge`: every item of every input comes
//! out once, and the output closes exactly when every input is done.
//! Part 2, `merge_in_order`: the inputs are each in ascending order and
//! the output must be too, holding at most one item per input (a reorder
//! buffer that grows without bound is a failure, even when the order is
//! right).
//!
//! The check's `feed` deals items `0..n` round-robin onto the inputs
//! `in#1..in#k` (a fan-out: item i goes to input i mod k), so the inputs
//! are coupled: a merge that reads one input to its end before the next
//! leaves `feed` waiting on a full input, and both wait forever.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::{Budget, Case, Flows, Part, Problem, Subject, names, ordinal, standard_cases};
use crate::lab::{Lab, Receiver};

/// The learner's function: `merge(lab, inputs, buffer)` (both parts).
pub type Merge = fn(&Lab, Vec<Receiver<u64>>, usize) -> Receiver<u64>;

const OURS: &[&str] = &["main", "feed", "sink"];

static PARTS: [Part; 2] = [
    Part {
        rule: "`merge` delivers every item of every input once and closes its output when all inputs are done",
    },
    Part {
        rule: "`merge_in_order` delivers the items in order, holding at most one item per input",
    },
];

/// The check of exercise 02 with the learner's two merges.
#[must_use]
pub fn subject(merge: Merge, merge_in_order: Merge) -> Subject {
    let cases = standard_cases(&[1, 2], &[(3, 2, 12), (2, 0, 10), (4, 1, 13)]);
    Subject::new(
        2,
        &PARTS,
        cases,
        |_| Budget::default(),
        Arc::new(move |lab, case| {
            let f = if case.part == 1 {
                merge
            } else {
                merge_in_order
            };
            scenario(lab, f, case)
        }),
    )
}

/// Items taken from the inputs minus items sent on the output, as the lab
/// counts them now: what the merge holds.
fn held(lab: &Lab, inputs: &[String], output: &str) -> u64 {
    let snapshot = lab.snapshot();
    let taken: u64 = snapshot
        .channels
        .iter()
        .filter(|c| inputs.contains(&c.name))
        .map(|c| c.received)
        .sum();
    let sent = snapshot
        .channels
        .iter()
        .find(|c| c.name == output)
        .map_or(0, |c| c.sent);
    taken.saturating_sub(sent)
}

// One run, read top to bottom: set up, run, then each rule in turn.
#[allow(clippy::too_many_lines)]
fn scenario(lab: &Lab, merge: Merge, case: Case) -> Vec<Problem> {
    let (n, k) = (case.items, case.workers.max(1));
    let in_names: Vec<String> = (1..=k).map(|i| format!("in#{i}")).collect();
    let (senders, inputs): (Vec<_>, Vec<_>) = in_names
        .iter()
        .map(|name| lab.bounded::<u64>(name.clone(), case.buffer))
        .unzip();
    let peak = Arc::new(AtomicU64::new(0));
    let output: Arc<Mutex<String>> = Arc::default();
    let watch = case.part == 2 && case.mode.is_scheduled();
    let feed = {
        let (lab, peak, output, in_names) = (
            lab.clone(),
            Arc::clone(&peak),
            Arc::clone(&output),
            in_names.clone(),
        );
        lab.clone().go("feed", move || {
            for item in 0..n {
                let to = &senders[(item % k as u64) as usize];
                if to.send(item).is_err() {
                    return;
                }
                if watch {
                    // Known once `merge` has returned its output.
                    let out = output.lock().map(|o| o.clone()).unwrap_or_default();
                    if !out.is_empty() {
                        peak.fetch_max(held(&lab, &in_names, &out), Ordering::Relaxed);
                    }
                }
            }
        })
    };
    let merged = merge(lab, inputs, case.buffer);
    let out_name = merged.name().to_owned();
    if let Ok(mut o) = output.lock() {
        o.clone_from(&out_name);
    }
    let sink = {
        let (lab, peak, in_names, out_name) = (
            lab.clone(),
            Arc::clone(&peak),
            in_names.clone(),
            out_name.clone(),
        );
        lab.clone().go("sink", move || {
            let mut got = Vec::new();
            for item in &merged {
                got.push(item);
                if watch {
                    peak.fetch_max(held(&lab, &in_names, &out_name), Ordering::Relaxed);
                }
            }
            got
        })
    };
    let got = sink.join();
    let _ = feed.join();
    let Ok(got) = got else {
        return Vec::new();
    };
    let flows = Flows::of(lab);
    let mut problems = Vec::new();
    let mut sorted = got.clone();
    sorted.sort_unstable();
    let want: Vec<u64> = (0..n).collect();
    if sorted != want {
        let missing: Vec<u64> = want
            .iter()
            .copied()
            .filter(|v| sorted.binary_search(v).is_err())
            .collect();
        let text = if missing.is_empty() {
            let mut twice = sorted.clone();
            twice.dedup();
            format!(
                "{} items came out of `{out_name}` more than once",
                sorted.len() - twice.len()
            )
        } else {
            format!(
                "{} of the {n} items never came out of `{out_name}` (missing: {}): the output \
                 closed before every input was done",
                missing.len(),
                super::short_list(&missing)
            )
        };
        problems.push(Problem::new("lost", text).with(flows.lines(OURS)));
        return problems;
    }
    if case.part == 2 {
        if let Some(pos) = got.iter().enumerate().position(|(i, &v)| v != i as u64) {
            let item = got[pos];
            let by = flows
                .sender_of(&out_name, pos)
                .map_or_else(String::new, |w| format!(", sent by `{w}`"));
            problems.push(
                Problem::new(
                    "order",
                    format!(
                        "order broken at item {pos}: `{out_name}` delivered item {item} {} \
                         (where item {pos} belongs){by}",
                        ordinal(pos + 1)
                    ),
                )
                .with([
                    format!("came out: {}", super::short_list(&got)),
                    "each input is in order; take the smallest head of the inputs, and only \
                     then read that input again"
                        .to_owned(),
                ]),
            );
            return problems;
        }
        let peak = peak.load(Ordering::Relaxed);
        let limit = k as u64 + 1;
        if peak > limit {
            let mergers = names(&flows.workers(OURS));
            problems.push(
                Problem::new(
                    "unbounded",
                    format!(
                        "the merge held {peak} items at once (taken from the inputs, not yet \
                         sent on `{out_name}`); with {k} inputs it needs at most {limit}"
                    ),
                )
                .with([
                    format!("the merge's workers: {mergers}"),
                    "a buffer that takes everything first grows with the input: hold one head \
                     per input and send the smallest"
                        .to_owned(),
                ]),
            );
        }
    }
    problems
}
