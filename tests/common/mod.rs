//! What the lesson test files share: a fast config, running a variant, and
//! the check that every variant shows what it promises.
#![allow(dead_code)] // each test file uses its own part of this

use std::time::Duration;

use chanlab::lab::{Choice, Config, Event, Report, Schedule, Snapshot, StuckWorker, Verdict};
use chanlab::lessons::{Challenge, Knobs, Lesson, Outcome, meets_expectation};

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

/// A scheduled run's config and nothing else (the lesson tests' own).
pub fn scheduled_only(schedule: Schedule) -> Config {
    Config {
        schedule: Some(schedule),
        ..Config::default()
    }
}

/// For each seed, a random and a PCT schedule.
pub fn random_and_pct(seeds: std::ops::Range<u64>) -> impl Iterator<Item = Schedule> {
    seeds.flat_map(|seed| [Schedule::random(seed), Schedule::pct(seed)])
}

/// Random schedules 0..50 and the first eight PCT ones.
pub fn random_50_and_pct_8() -> impl Iterator<Item = Schedule> {
    (0..50)
        .map(Schedule::random)
        .chain((0..8).map(Schedule::pct))
}

/// A scheduled run's config: items and waits logged (challenges and event
/// logs read them), a ring big enough to keep every event of a small run,
/// no pacing.
pub fn scheduled(schedule: Schedule) -> Config {
    Config {
        schedule: Some(schedule),
        log_items: true,
        log_waits: true,
        events: 1 << 20,
        ..Config::default()
    }
}

/// Runs `variant` of `lesson` with `knobs` under `schedule`, unpaced.
pub fn run_scheduled(
    lesson: &'static Lesson,
    variant: &str,
    knobs: Knobs,
    schedule: Schedule,
) -> Report<Outcome> {
    let v = lesson.variant(variant).expect("variant exists");
    lesson.run(v, knobs, scheduled(schedule))
}

/// How long a test waits for a scheduled run to stand still before it
/// calls the run hung: far more than any small run needs.
pub const STILL: Duration = Duration::from_secs(10);

/// Every event logged so far.
fn events_of(lab: &chanlab::lab::Lab) -> Vec<Event> {
    lab.events_since(0).events
}

/// Runs `challenge` under `schedule` one pick at a time (started paused,
/// one step per pick) and asks `reached` after each: the first step count
/// at which it holds, or `None` if the run ends without it.
pub fn first_step_reaching(
    challenge: &Challenge,
    lesson: &'static Lesson,
    schedule: Schedule,
) -> Option<u64> {
    let v = lesson.variant(challenge.variant).expect("variant exists");
    let config = Config {
        start_paused: true,
        ..scheduled(schedule)
    };
    let run = lesson.start(v, challenge.knobs, config);
    let lab = run.lab().clone();
    let mut reached = None;
    loop {
        assert!(
            lab.wait_still(STILL),
            "{}: the run never stood still",
            challenge.title
        );
        let snapshot = lab.snapshot();
        if (challenge.reached)(&snapshot, &events_of(&lab)) {
            reached = snapshot.schedule.map(|s| s.step);
            break;
        }
        if run.is_finished()
            || lab.is_aborted()
            || lab.snapshot().workers.iter().all(|w| w.state.is_finished())
        {
            break;
        }
        lab.step();
    }
    let _ = run.stop();
    reached
}

/// A play that reached its challenge's goal.
#[derive(Debug, Clone)]
pub struct Solution {
    /// Every step of the run up to the goal, forced ones included: replay
    /// them as a prefix to get there again.
    pub choices: Vec<Choice>,
    /// How many of those the player picked (the others were the only step
    /// that could go).
    pub picks: usize,
}

/// Play the scheduler: drives a run of `challenge` with the manual
/// strategy, letting `pick` choose whenever more than one operation can
/// go, and asks `reached` each time the run waits for a pick (what the
/// learner sees) and once the run is over. `None` if the goal never held.
pub fn play(
    challenge: &Challenge,
    lesson: &'static Lesson,
    pick: &mut dyn FnMut(&[Choice]) -> Choice,
) -> Option<Solution> {
    let v = lesson.variant(challenge.variant).expect("variant exists");
    let run = lesson.start(v, challenge.knobs, scheduled(Schedule::manual()));
    let lab = run.lab().clone();
    let mut picks = 0;
    let mut solved = None;
    loop {
        assert!(
            lab.wait_still(STILL),
            "{}: the run never stood still",
            challenge.title
        );
        let snapshot = lab.snapshot();
        if (challenge.reached)(&snapshot, &events_of(&lab)) {
            solved = lab.trace().map(|t| Solution {
                choices: t.choices,
                picks,
            });
            break;
        }
        let awaiting = snapshot
            .schedule
            .as_ref()
            .is_some_and(|s| s.awaiting_choice);
        let ops: Vec<Choice> = lab
            .next_ops()
            .into_iter()
            .filter_map(|op| op.choice)
            .collect();
        if !awaiting || ops.is_empty() {
            break; // over, stuck or aborted
        }
        lab.choose(pick(&ops)).expect("a listed choice can be made");
        picks += 1;
    }
    let _ = run.stop();
    solved
}

/// Replays `choices` as a prefix, pauses right after the last of them and
/// asks `reached` there: a recorded solution must solve the challenge again.
pub fn replay_reaches(challenge: &Challenge, lesson: &'static Lesson, choices: &[Choice]) -> bool {
    let v = lesson.variant(challenge.variant).expect("variant exists");
    let schedule = Schedule::manual()
        .with_prefix(choices.to_vec())
        .paused_at(choices.len() as u64);
    let run = lesson.start(v, challenge.knobs, scheduled(schedule));
    let lab = run.lab().clone();
    assert!(
        lab.wait_still(STILL),
        "{}: the replay never stood still",
        challenge.title
    );
    let snapshot: Snapshot = lab.snapshot();
    let diverged = lab.trace().and_then(|t| t.diverged);
    let reached = diverged.is_none() && (challenge.reached)(&snapshot, &events_of(&lab));
    let _ = run.stop();
    reached
}
