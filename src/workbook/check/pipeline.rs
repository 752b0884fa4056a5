//! Exercise 01: the stage that squares and closes its output.
//!
//! The check's `generate` sends `1..=n` on `numbers`; the learner's
//! `square` starts its workers and returns their output; the check's
//! `sink` reads it until it closes. Passed: every square arrives once,
//! the output closes (or the sink waits forever: a deadlock), and with
//! two workers or more the squares overlap in lesson time (each takes
//! 100 ms: `n` numbers on `w` workers take about `ceil(n / w)` × 100 ms,
//! not `n` × 100 ms).

use std::sync::Arc;

use super::{Budget, Case, Flows, Part, Problem, Subject, names, standard_cases};
use crate::lab::{Lab, Receiver};
use crate::workbook::kit::SQUARE_TIME;

/// The learner's function: `square(lab, numbers, workers, buffer)`.
pub type Square = fn(&Lab, Receiver<u64>, usize, usize) -> Receiver<u64>;

/// The check's own workers (not named in "who moved what").
const OURS: &[&str] = &["main", "generate", "sink"];

static PARTS: [Part; 1] = [Part {
    rule: "`square` squares every number on its workers and closes its output when they are done",
}];

/// The check of exercise 01 with the learner's `square`.
#[must_use]
pub fn subject(square: Square) -> Subject {
    let cases = standard_cases(&[1], &[(3, 2, 12), (2, 0, 8), (4, 1, 9), (1, 0, 4)]);
    Subject::new(
        1,
        &PARTS,
        cases,
        |_| Budget::default(),
        Arc::new(move |lab, case| scenario(lab, square, case)),
    )
}

fn scenario(lab: &Lab, square: Square, case: Case) -> Vec<Problem> {
    let n = case.items;
    let (numbers_tx, numbers) = lab.bounded::<u64>("numbers", case.buffer);
    let generate = lab.go("generate", move || {
        for i in 1..=n {
            if numbers_tx.send(i).is_err() {
                return;
            }
        }
    });
    let start = lab.now();
    let squares = square(lab, numbers, case.workers, case.buffer);
    let output = squares.name().to_owned();
    let sink = lab.go("sink", move || squares.iter().collect::<Vec<u64>>());
    let got = sink.join();
    let elapsed = lab.now().saturating_sub(start);
    let _ = generate.join();
    let Ok(mut got) = got else {
        return Vec::new(); // aborted: the verdict says why
    };
    let flows = Flows::of(lab);
    let mut problems = Vec::new();
    got.sort_unstable();
    let want: Vec<u64> = (1..=n).map(|i| i * i).collect();
    if got != want {
        let missing: Vec<u64> = want.iter().copied().filter(|v| !got.contains(v)).collect();
        let text = if missing.is_empty() {
            format!(
                "the sink got {} items from `{output}`, {} more than the {n} squares",
                got.len(),
                got.len().saturating_sub(want.len())
            )
        } else {
            format!(
                "{} of the {n} squares never came out of `{output}` (missing: {})",
                missing.len(),
                super::short_list(&missing)
            )
        };
        problems.push(Problem::new("lost", text).with(flows.lines(OURS)));
        return problems;
    }
    let waves = n.div_ceil(case.workers.max(1) as u64);
    let best = SQUARE_TIME * u32::try_from(waves).unwrap_or(u32::MAX);
    let sequential = SQUARE_TIME * u32::try_from(n).unwrap_or(u32::MAX);
    if case.mode.is_scheduled() && case.workers >= 2 && elapsed >= best + SQUARE_TIME {
        let senders = flows.senders_on(&output, OURS);
        let who = if senders.is_empty() {
            "nobody".to_owned()
        } else {
            names(&senders)
        };
        problems.push(
            Problem::new(
                "sequential",
                format!(
                    "the squares did not overlap: {n} numbers took {} of lesson time on {} \
                     workers, as if one did them all ({} each; at best {})",
                    crate::lab::in_words(elapsed),
                    case.workers,
                    crate::lab::in_words(SQUARE_TIME),
                    crate::lab::in_words(best),
                ),
            )
            .with([
                format!("sent on `{output}`: {who}"),
                format!(
                    "one after the other they take {}; start `workers` workers that each \
                     take numbers from the input, so they square at the same time",
                    crate::lab::in_words(sequential)
                ),
            ])
            .with(flows.lines(OURS)),
        );
    }
    problems
}
