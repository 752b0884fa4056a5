//! Lesson 02: every trap breaks as described, every fix holds.

mod common;

use chanlab::lab::{Report, WorkerState};
use chanlab::lessons::{self, Knobs, Outcome};
use common::{assert_every_variant_meets_its_expectation, fast};

use lessons::fan_out_fan_in::{LESSON, window};

fn run_with(variant: &str, knobs: Knobs) -> Report<Outcome> {
    let v = LESSON.variant(variant).expect("variant exists");
    LESSON.run(v, knobs, fast())
}

fn run(variant: &str) -> Report<Outcome> {
    common::run(&LESSON, variant)
}

/// The number in a note like "... peaked at 6 items ...".
fn peak_of(outcome: &Outcome) -> usize {
    let note = outcome
        .notes
        .iter()
        .find(|n| n.contains("peaked at "))
        .expect("the fix notes the reorder buffer's peak");
    let rest = note.split("peaked at ").nth(1).expect("a number follows");
    rest.split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .expect("a number")
}

#[test]
fn smoke() {
    let report = run("correct");
    assert!(report.verdict.is_none(), "{:?}", report.verdict);
    let outcome = report.outcome.expect("main returned");
    assert_eq!(outcome.items_in, 24);
    assert_eq!(outcome.items_out, 24);
    assert_eq!(outcome.lost, 0);
    assert_eq!(outcome.order_kept, None, "correct does not need order");
    assert!(!outcome.is_broken(), "{outcome:?}");
}

#[test]
fn correct_delivers_every_item_once_and_closes_merged() {
    for (workers, buffer, seed) in [(2, 0, 1), (3, 2, 7), (5, 1, 3), (8, 16, 42)] {
        let knobs = Knobs {
            items: 40,
            buffer,
            workers,
            seed,
        };
        let report = run_with("correct", knobs);
        assert!(report.verdict.is_none(), "{knobs:?}: {:?}", report.verdict);
        let outcome = report.outcome.expect("main returned");
        assert_eq!(outcome.items_out, 40, "{knobs:?}");
        assert!(!outcome.is_broken(), "{knobs:?}: {outcome:?}");
        assert!(report.unstoppable.is_empty());
        // Every worker, forwarder and the consumer ran to the end.
        assert!(
            report
                .snapshot
                .workers
                .iter()
                .all(|w| w.state == WorkerState::Done),
            "{knobs:?}"
        );
        let names: Vec<&str> = report
            .snapshot
            .workers
            .iter()
            .map(|w| w.name.as_str())
            .collect();
        assert!(
            names.contains(&format!("worker#{workers}").as_str()),
            "{names:?}"
        );
        assert!(
            names.contains(&format!("merge#{workers}").as_str()),
            "{names:?}"
        );
        assert!(names.contains(&"consumer"), "{names:?}");
    }
}

#[test]
fn merge_never_closes_deadlocks_naming_the_consumer_on_merged() {
    let report = run("merge-never-closes");
    let stuck = common::deadlock_of(&report);
    let consumer = common::named(stuck, "consumer");
    assert_eq!(
        consumer.state,
        WorkerState::BlockedRecv {
            channel: "merged".into()
        }
    );
    assert!(consumer.detail.contains("`merged`"), "{}", consumer.detail);
    assert!(
        consumer.detail.contains("1 sender alive"),
        "{}",
        consumer.detail
    );
    let main = common::named(stuck, "main");
    assert!(main.detail.contains("`consumer`"), "{}", main.detail);
    // Nobody else is stuck: the workers and forwarders all finished; only
    // the spare Sender keeps `merged` open.
    assert_eq!(stuck.len(), 2, "{stuck:?}");
    // The outcome says the same from the items' side: all of them arrived.
    let outcome = report.outcome.as_ref().expect("main returned");
    assert_eq!(outcome.items_out, 24, "{outcome:?}");
    assert!(
        outcome
            .notes
            .iter()
            .any(|n| n.contains("every item arrived")),
        "{outcome:?}"
    );
    println!("{}", report.verdict.as_ref().unwrap());
}

#[test]
fn unordered_breaks_order_with_item_0_last() {
    for (workers, buffer, seed) in [(3, 2, 1), (2, 0, 5), (6, 4, 9)] {
        let knobs = Knobs {
            items: 24,
            buffer,
            workers,
            seed,
        };
        let report = run_with("unordered", knobs);
        assert!(report.verdict.is_none(), "{knobs:?}: {:?}", report.verdict);
        let outcome = report.outcome.expect("main returned");
        assert_eq!(outcome.order_kept, Some(false), "{knobs:?}");
        assert!(outcome.is_broken());
        // Nothing is lost: only the order is wrong.
        assert_eq!(outcome.items_out, 24);
        assert_eq!(outcome.lost, 0);
        assert!(
            outcome.problems[0].contains("item 0 came out 24th of 24 (last)"),
            "{:?}",
            outcome.problems
        );
        assert!(
            outcome.notes.iter().any(|n| n.ends_with(", 0")),
            "arrival order ends with item 0: {:?}",
            outcome.notes
        );
    }
    println!("{}", run("unordered").outcome.unwrap().problems[0]);
}

#[test]
fn ordered_keeps_order_with_the_same_slow_item_and_a_bounded_buffer() {
    for (workers, buffer, seed, items) in
        [(3, 2, 1, 24), (2, 0, 5, 24), (6, 4, 9, 40), (4, 1, 2, 5)]
    {
        let knobs = Knobs {
            items,
            buffer,
            workers,
            seed,
        };
        let report = run_with("ordered", knobs);
        assert!(report.verdict.is_none(), "{knobs:?}: {:?}", report.verdict);
        let outcome = report.outcome.expect("main returned");
        assert_eq!(outcome.order_kept, Some(true), "{knobs:?}: {outcome:?}");
        assert!(!outcome.is_broken(), "{knobs:?}: {outcome:?}");
        assert_eq!(outcome.items_out, items);
        let w = window(workers);
        let peak = peak_of(&outcome);
        assert!(peak <= w, "{knobs:?}: peak {peak} > W = {w}");
        // Item 0 really was held: everything else in flight piled up behind it.
        let in_flight = w.min(items as usize);
        assert_eq!(peak, in_flight, "{knobs:?}: {outcome:?}");
        assert!(
            report
                .snapshot
                .workers
                .iter()
                .all(|w| w.state == WorkerState::Done)
        );
    }
    println!("{:?}", run("ordered").outcome.unwrap().notes);
}

#[test]
fn every_variant_meets_its_expectation() {
    assert_every_variant_meets_its_expectation(&LESSON);
}

#[test]
fn lesson_is_in_the_catalog() {
    assert_eq!(
        lessons::find("2").expect("by number").slug,
        "fan-out-fan-in"
    );
    assert_eq!(lessons::find("fan-out-fan-in").expect("by slug").number, 2);
    assert_eq!(LESSON.title, "Fan-out / fan-in");
    let names: Vec<&str> = LESSON.variants.iter().map(|v| v.name).collect();
    assert_eq!(
        names,
        ["correct", "merge-never-closes", "unordered", "ordered"]
    );
}

/// Knobs across the lesson's ranges, small enough to stay fast.
fn sweep() -> Vec<Knobs> {
    [
        (2, 0, 2),
        (2, 3, 2),
        (3, 1, 3),
        (5, 0, 4),
        (24, 2, 3),
        (24, 32, 2),
        (30, 1, 8),
    ]
    .into_iter()
    .map(|(items, buffer, workers)| Knobs {
        items,
        buffer,
        workers,
        seed: 11,
    })
    .collect()
}

/// Within the lesson's ranges no knob hides a trap, and each one breaks
/// as it says: `merge-never-closes` deadlocks with every item delivered
/// (counted by the lab after the abort), `unordered` brings item 0 last.
#[test]
fn no_knob_in_range_hides_a_trap() {
    for knobs in sweep() {
        assert!(LESSON.ranges.workers.contains(&knobs.workers));
        for trap in LESSON.traps() {
            assert_eq!(LESSON.hidden(trap, &knobs), None, "{} {knobs:?}", trap.name);
            let report = run_with(trap.name, knobs);
            assert!(
                lessons::meets_expectation_with(&LESSON, trap, &knobs, &report),
                "{} {knobs:?}: {report:?}",
                trap.name
            );
            let outcome = report.outcome.as_ref().expect("main returned");
            assert_eq!(outcome.items_out, knobs.items, "{} {knobs:?}", trap.name);
            assert_eq!(outcome.lost, 0, "{} {knobs:?}", trap.name);
            if trap.name == "merge-never-closes" {
                let stuck = common::deadlock_of(&report);
                common::named(stuck, "consumer");
            } else {
                assert_eq!(outcome.order_kept, Some(false), "{knobs:?}");
                let n = knobs.items;
                let last = format!("item 0 came out {n}");
                assert!(
                    outcome.problems.iter().any(|p| p.contains(&last)),
                    "{knobs:?}: {:?}",
                    outcome.problems
                );
            }
        }
    }
}

/// With one worker (below the lesson's range) `unordered` cannot show
/// disorder: `hidden_by` says so, and the run is clean and in order.
/// `merge-never-closes` is not hidden by it: it still deadlocks.
#[test]
fn one_worker_hides_unordered_and_only_unordered() {
    for items in [2, 7, 24] {
        let knobs = Knobs {
            items,
            buffer: 2,
            workers: 1,
            seed: 1,
        };
        let unordered = LESSON.variant("unordered").expect("variant exists");
        let why = LESSON.hidden(unordered, &knobs).expect("hidden");
        assert!(why.contains("--workers 1"), "{why}");
        assert!(why.contains("try --workers 2"), "{why}");
        let report = run_with("unordered", knobs);
        assert!(
            lessons::meets_expectation_with(&LESSON, unordered, &knobs, &report),
            "{report:?}"
        );
        assert!(!lessons::meets_expectation(unordered, &report));
        let outcome = report.outcome.expect("main returned");
        assert_eq!(outcome.order_kept, Some(true), "{outcome:?}");
        assert_eq!(outcome.items_out, items);

        let never = LESSON
            .variant("merge-never-closes")
            .expect("variant exists");
        assert_eq!(LESSON.hidden(never, &knobs), None);
        let report = run_with("merge-never-closes", knobs);
        common::deadlock_of(&report);
        assert!(lessons::meets_expectation_with(
            &LESSON, never, &knobs, &report
        ));
    }
}
