//! What the lesson test files share: a fast config, running a variant, and
//! the check that every variant shows what it promises.
#![allow(dead_code)] // each test file uses its own part of this

use chanlab::lab::{Config, Report};
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
