//! Lesson 01: every trap breaks as described, every fix holds.

mod common;

use chanlab::lab::{Report, WorkerState};
use chanlab::lessons::Outcome;
use chanlab::lessons::pipeline::LESSON;
use common::assert_every_variant_meets_its_expectation;

fn run(variant: &str) -> Report<Outcome> {
    common::run(&LESSON, variant)
}

#[test]
fn smoke() {
    let report = run("correct");
    assert!(report.verdict.is_none(), "{:?}", report.verdict);
    let outcome = report.outcome.expect("main returned");
    assert_eq!(outcome.items_out, 10);
    assert!(!outcome.is_broken());
}

#[test]
fn unclosed_deadlocks_naming_the_sink() {
    let report = run("unclosed");
    let stuck = common::deadlock_of(&report);
    let sink = common::named(stuck, "sink");
    assert_eq!(
        sink.state,
        WorkerState::BlockedRecv {
            channel: "filtered".into()
        }
    );
    assert!(sink.detail.contains("1 sender alive"), "{}", sink.detail);
    assert!(stuck.iter().any(|s| s.worker == "main"));
    let outcome = report.outcome.expect("main returned after the abort");
    assert_eq!(
        outcome.items_out, 10,
        "every item reached the sink: only the close is missing"
    );
    assert!(
        outcome.problems[0].starts_with("the sink never finished"),
        "{outcome:?}"
    );
    println!("{}", report.verdict.as_ref().unwrap());
}

#[test]
fn leak_names_the_blocked_stages() {
    let report = run("leak");
    let leaked = common::leak_of(&report);
    let names: Vec<&str> = leaked.iter().map(|l| l.worker.as_str()).collect();
    assert!(names.contains(&"sink"), "{names:?}");
    assert!(names.contains(&"filter"), "{names:?}");
    println!("{}", report.verdict.as_ref().unwrap());
}

#[test]
fn cancel_ends_every_worker() {
    let report = run("cancel");
    assert!(report.verdict.is_none(), "{:?}", report.verdict);
    assert!(report.unstoppable.is_empty());
    assert!(
        report
            .snapshot
            .workers
            .iter()
            .all(|w| w.state == WorkerState::Done)
    );
}

#[test]
fn every_variant_meets_its_expectation() {
    assert_every_variant_meets_its_expectation(&LESSON);
}

#[test]
fn the_snapshot_names_the_stages_on_each_end_of_a_channel() {
    let report = run("correct");
    let ends = |name: &str| {
        let ch = report
            .snapshot
            .channels
            .iter()
            .find(|c| c.name == name)
            .expect("channel exists");
        (ch.sender_stages.clone(), ch.receiver_stages.clone())
    };
    assert_eq!(
        ends("numbers"),
        (vec!["generate".into()], vec!["square".into()])
    );
    assert_eq!(
        ends("squares"),
        (vec!["square".into()], vec!["filter".into()])
    );
    assert_eq!(
        ends("filtered"),
        (vec!["filter".into()], vec!["sink".into()])
    );
    let square_ops: u64 = report
        .snapshot
        .workers
        .iter()
        .filter(|w| w.stage == "square")
        .map(|w| w.ops)
        .sum();
    assert_eq!(
        square_ops, 40,
        "20 received and 20 sent by the square workers"
    );
}
