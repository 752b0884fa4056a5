//! Lesson 01: every trap breaks as described, every fix holds.

use chanlab::lab::{Config, Verdict, WorkerState};
use chanlab::lessons::{self, Knobs, meets_expectation};

fn fast() -> Config {
    Config {
        speed: 100.0,
        ..Config::default()
    }
}

fn knobs() -> Knobs {
    lessons::pipeline::LESSON.defaults
}

fn run(variant: &str) -> chanlab::lab::Report<lessons::Outcome> {
    let lesson = &lessons::pipeline::LESSON;
    let v = lesson.variant(variant).expect("variant exists");
    lesson.run(v, knobs(), fast())
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
    let Some(Verdict::Deadlock { stuck }) = &report.verdict else {
        panic!("expected a deadlock, got {:?}", report.verdict);
    };
    let sink = stuck
        .iter()
        .find(|s| s.worker == "sink")
        .expect("sink is named");
    assert_eq!(
        sink.state,
        WorkerState::BlockedRecv {
            channel: "filtered".into()
        }
    );
    assert!(sink.detail.contains("1 sender alive"), "{}", sink.detail);
    assert!(stuck.iter().any(|s| s.worker == "main"));
    println!("{}", report.verdict.as_ref().unwrap());
}

#[test]
fn leak_names_the_blocked_stages() {
    let report = run("leak");
    let Some(Verdict::Leak { leaked }) = &report.verdict else {
        panic!("expected a leak, got {:?}", report.verdict);
    };
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
    let lesson = &lessons::pipeline::LESSON;
    for v in lesson.variants {
        let report = lesson.run(v, knobs(), fast());
        assert!(meets_expectation(v, &report), "{}: {:?}", v.name, report);
    }
}
