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
