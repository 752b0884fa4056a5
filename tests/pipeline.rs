//! Lesson 01: every trap breaks as described, every fix holds.

mod common;

use chanlab::lab::{Report, WorkerState};
use chanlab::lessons::pipeline::{LESSON, first_k, left_unread};
use chanlab::lessons::{Knobs, Outcome, meets_expectation_with};
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
    // 5 odd squares are left and `filtered` holds 4: the filter can never finish.
    assert_eq!(left_unread(LESSON.defaults.items), 5);
    assert!(names.contains(&"filter"), "{names:?}");
    let outcome = report.outcome.expect("main returned");
    assert_eq!(outcome.items_out, 5, "main got the sink's first 5");
    assert_eq!(outcome.dropped, 5, "the other 5 were left on purpose");
    println!("{}", report.verdict.as_ref().unwrap());
}

/// The knobs the sweeps below try: tiny, default-like, rendezvous, large
/// buffers, one worker and several.
fn sweep() -> Vec<Knobs> {
    [
        (2, 0, 1),
        (2, 4, 2),
        (3, 1, 3),
        (5, 0, 2),
        (20, 4, 2),
        (20, 5, 2),
        (21, 5, 1),
        (24, 16, 4),
        (41, 2, 3),
    ]
    .into_iter()
    .map(|(items, buffer, workers)| Knobs {
        items,
        buffer,
        workers,
        seed: 3,
    })
    .collect()
}

/// Parses the fix's note "how each stage ended: generate canceled by
/// `done`, square#1 ran out of items, ...".
fn how_each_stage_ended(outcome: &Outcome) -> Vec<(String, String)> {
    let note = outcome
        .notes
        .iter()
        .find_map(|n| n.strip_prefix("how each stage ended: "))
        .unwrap_or_else(|| panic!("no note on how the stages ended: {outcome:?}"));
    note.split(", ")
        .map(|entry| {
            let (stage, how) = entry.split_once(' ').expect("stage then how");
            (stage.to_owned(), how.to_owned())
        })
        .collect()
}

/// The fix shows Go's mechanism for real: the sink keeps `filtered` alive,
/// so no send can fail, and closing `done` is what stops the stages. The
/// same run without `done` is the `leak` trap (see `no_knob_hides_a_trap`).
#[test]
fn cancel_stops_the_stages_through_done_not_send_error() {
    let cancel = LESSON.variant("cancel").expect("variant exists");
    for knobs in sweep() {
        let report = LESSON.run(cancel, knobs, common::fast());
        assert!(report.verdict.is_none(), "{knobs:?}: {:?}", report.verdict);
        assert!(report.unstoppable.is_empty());
        assert!(
            report
                .snapshot
                .workers
                .iter()
                .all(|w| w.state == WorkerState::Done),
            "{knobs:?}"
        );
        let outcome = report.outcome.expect("main returned");
        assert!(!outcome.is_broken(), "{knobs:?}: {outcome:?}");
        assert_eq!(outcome.items_out, first_k(knobs.items) as u64, "{knobs:?}");
        assert_eq!(outcome.dropped, left_unread(knobs.items) as u64);
        assert!(outcome.held_by_design(), "{knobs:?}: {outcome:?}");

        let how = how_each_stage_ended(&outcome);
        assert_eq!(
            how.len(),
            knobs.workers + 3,
            "each stage reports once: {how:?}"
        );
        assert!(
            how.iter().all(|(_, h)| h != "stopped by a SendError"),
            "{knobs:?}: no send failed, `filtered` was alive: {how:?}"
        );
        assert!(
            how.contains(&("sink".to_owned(), "canceled by `done`".to_owned())),
            "{how:?}"
        );
        if left_unread(knobs.items) > knobs.buffer {
            // Without `done` the pipeline could not have finished: some
            // stage took its `done` arm.
            assert!(
                how.iter()
                    .any(|(stage, h)| stage != "sink" && h == "canceled by `done`"),
                "{knobs:?}: {how:?}"
            );
        }
    }
}

/// Both traps break with every knob in the sweep, as `hidden_by` (never
/// hidden) says: `unclosed` always deadlocks; `leak` always leaks the sink,
/// and the filter too whenever what the sink leaves does not fit.
#[test]
fn no_knob_hides_a_trap() {
    for knobs in sweep() {
        for trap in LESSON.traps() {
            assert_eq!(LESSON.hidden(trap, &knobs), None);
            let report = LESSON.run(trap, knobs, common::fast());
            assert!(
                meets_expectation_with(&LESSON, trap, &knobs, &report),
                "{} {knobs:?}: {report:?}",
                trap.name
            );
            assert!(report.unstoppable.is_empty());
            let outcome = report.outcome.as_ref().expect("main returned");
            if trap.name == "leak" {
                let leaked = common::leak_of(&report);
                common::named(leaked, "sink");
                if left_unread(knobs.items) > knobs.buffer {
                    common::named(leaked, "filter");
                }
                assert_eq!(outcome.items_out, first_k(knobs.items) as u64);
            } else {
                let stuck = common::deadlock_of(&report);
                common::named(stuck, "sink");
                assert_eq!(
                    outcome.items_out,
                    knobs.items.div_ceil(2),
                    "{knobs:?}: every odd square arrived, counted by the lab"
                );
            }
        }
    }
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
