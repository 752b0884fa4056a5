//! What the lesson test files share: a fast config, running a variant, and
//! the check that every variant shows what it promises.
#![allow(dead_code)] // each test file uses its own part of this

use chanlab::lab::{Config, Report, StuckWorker, Verdict};
use chanlab::lessons::{Knobs, Lesson, Outcome, meets_expectation};

/// Simulated work and timers 100× faster: a run takes milliseconds.
pub fn fast() -> Config {
    Config {
        speed: 100.0,
        ..Config::default()
    }
}

/// Runs `variant` of `lesson` with `knobs`, fast.
pub fn run_with(lesson: &'static Lesson, variant: &str, knobs: Knobs) -> Report<Outcome> {
    let v = lesson.variant(variant).expect("variant exists");
    lesson.run(v, knobs, fast())
}

/// Runs `variant` of `lesson` with the lesson's default knobs, fast.
pub fn run(lesson: &'static Lesson, variant: &str) -> Report<Outcome> {
    run_with(lesson, variant, lesson.defaults)
}

/// Every variant breaks (trap) or holds (correct, fix) as its `expect`
/// says, and no run leaves a worker behind.
pub fn assert_every_variant_meets_its_expectation(lesson: &'static Lesson) {
    for v in lesson.variants {
        let report = lesson.run(v, lesson.defaults, fast());
        assert!(meets_expectation(v, &report), "{}: {report:?}", v.name);
        assert!(
            report.unstoppable.is_empty(),
            "{}: {:?}",
            v.name,
            report.unstoppable
        );
    }
}

/// The workers a deadlock verdict names; fails the test on any other verdict.
pub fn deadlock_of(report: &Report<Outcome>) -> &[StuckWorker] {
    match &report.verdict {
        Some(Verdict::Deadlock { stuck }) => stuck,
        other => panic!("expected a deadlock, got {other:?}"),
    }
}

/// The workers a leak verdict names; fails the test on any other verdict.
pub fn leak_of(report: &Report<Outcome>) -> &[StuckWorker] {
    match &report.verdict {
        Some(Verdict::Leak { leaked }) => leaked,
        other => panic!("expected a leak, got {other:?}"),
    }
}

/// The entry for `worker` in a verdict's list; fails the test if absent.
pub fn named<'a>(stuck: &'a [StuckWorker], worker: &str) -> &'a StuckWorker {
    stuck
        .iter()
        .find(|s| s.worker == worker)
        .unwrap_or_else(|| panic!("`{worker}` is not named in {stuck:?}"))
}

/// The given variants stay clean with knobs far from the defaults.
pub fn assert_clean_with_other_knobs(lesson: &'static Lesson, variants: &[&str]) {
    for (items, buffer, workers) in [(2, 1, 1), (5, 1, 8), (40, 8, 2), (30, 2, 6)] {
        let knobs = Knobs {
            items,
            buffer,
            workers,
            seed: 7,
        };
        for name in variants {
            let v = lesson.variant(name).expect("variant exists");
            let report = lesson.run(v, knobs, fast());
            assert!(
                meets_expectation(v, &report),
                "{name} {knobs:?}: {report:?}"
            );
        }
    }
}

/// Runs trap `trap` with `knobs` and checks both sides of its `hidden_by`:
/// it says "hidden" exactly when `should_hide` does, a hidden trap runs
/// clean (nothing lost, everything out) and says why, a shown one breaks.
/// Returns the report and the hidden sentence for the lesson's own checks.
pub fn assert_hidden_by_holds(
    lesson: &'static Lesson,
    trap: &'static chanlab::lessons::Variant,
    knobs: Knobs,
    should_hide: bool,
) -> (Report<Outcome>, Option<String>) {
    let hidden = lesson.hidden(trap, &knobs);
    assert_eq!(
        hidden.is_some(),
        should_hide,
        "{} {knobs:?}: {hidden:?}",
        trap.name
    );
    let report = run_with(lesson, trap.name, knobs);
    assert!(
        chanlab::lessons::meets_expectation_with(lesson, trap, &knobs, &report),
        "{} {knobs:?} (hidden: {hidden:?}): {:?} {:?}",
        trap.name,
        report.verdict,
        report.outcome
    );
    assert!(report.unstoppable.is_empty());
    let outcome = report.outcome.as_ref().expect("main returned");
    if let Some(why) = &hidden {
        assert!(report.verdict.is_none(), "{knobs:?}: {:?}", report.verdict);
        assert!(!outcome.is_broken(), "{knobs:?}: {outcome:?}");
        assert_eq!(outcome.lost, 0);
        assert!(why.starts_with("hidden by these knobs: "), "{why}");
    } else {
        let broke = report.verdict.is_some() || outcome.is_broken();
        assert!(broke, "{} {knobs:?}: {outcome:?}", trap.name);
    }
    (report, hidden)
}
