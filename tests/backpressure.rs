//! Lesson 09: every trap breaks as described, every fix holds, in free
//! runs and under many schedules.

mod common;

use std::time::Duration;

use chanlab::lab::{Config, Lab, Report, Schedule, WorkerState};
use chanlab::lessons::backpressure::{
    self, BATCH_MAX, BIG_BUFFER_FACTOR, CHALLENGE_WRITES, Flow, LESSON, sized,
};
use chanlab::lessons::{Knobs, Outcome, meets_expectation};
use common::{assert_every_variant_meets_its_expectation, fast};

const VARIANTS: [&str; 5] = [
    "correct",
    "unbounded-queue",
    "buffer-hides-overload",
    "shed",
    "batch",
];

fn run(variant: &str) -> Report<Outcome> {
    common::run(&LESSON, variant)
}

/// The variant's own record of the run, with `config`.
fn flow_with(variant: &'static str, knobs: Knobs, config: Config) -> Flow {
    let report = Lab::run(config, move |lab| backpressure::flow(lab, variant, &knobs));
    assert!(
        report.verdict.is_none(),
        "{variant} {knobs:?}: {:?}",
        report.verdict
    );
    report.outcome.expect("main returned")
}

fn flow(variant: &'static str, knobs: Knobs) -> Flow {
    flow_with(variant, knobs, fast())
}

fn all_done(report: &Report<Outcome>) {
    assert!(report.verdict.is_none(), "{:?}", report.verdict);
    assert!(report.unstoppable.is_empty());
    assert!(
        report
            .snapshot
            .workers
            .iter()
            .all(|w| w.state == WorkerState::Done),
        "{:?}",
        report.snapshot.workers
    );
}

/// What holds in every run of every variant: each line is stored or
/// dropped, no bounded queue over its capacity, Little's law.
fn accounted(variant: &str, knobs: &Knobs, f: &Flow) {
    assert!(!f.aborted, "{variant} {knobs:?}");
    assert_eq!(f.read, knobs.items, "{variant} {knobs:?}");
    assert_eq!(
        f.stored.len() as u64 + f.dropped,
        knobs.items,
        "{variant} {knobs:?}: every line stored or dropped"
    );
    let mut lines: Vec<u64> = f.stored.iter().map(|(n, _)| *n).collect();
    lines.sort_unstable();
    lines.dedup();
    assert_eq!(
        lines.len(),
        f.stored.len(),
        "{variant}: a line stored twice"
    );
    for (peak, cap) in f.peaks.iter().zip(f.capacities) {
        if let Some(cap) = cap {
            assert!(*peak <= cap, "{variant} {knobs:?}: {:?}", f.peaks);
        }
    }
    // Little's law over a run that starts and ends empty: the area under
    // the count equals the sum of the times in the pipeline.
    let little = f.throughput() * f.mean_wait().as_secs_f64();
    assert!(
        (little - f.mean_in_pipeline).abs() <= 1e-6 * f.mean_in_pipeline.max(1.0),
        "{variant} {knobs:?}: λW = {little}, L = {}",
        f.mean_in_pipeline
    );
}

/// What the warm-up makes exact: a bounded `lines` holds
/// `min(items, capacity)` before anything leaves it, and that is its peak;
/// an unbounded one holds `min(items, --buffer + 1)` before anything
/// leaves it (where a bounded `lines` would have stopped `read`), and may
/// grow a little after, when a parse worker is slower than `read` for a
/// while: so it is above `--buffer` exactly when `--items` is.
fn assert_lines_peak(f: &Flow, knobs: &Knobs) {
    let items = knobs.items as usize;
    if let Some(cap) = f.capacities[0] {
        assert_eq!(f.peaks[0], items.min(cap), "{knobs:?}: {f:?}");
        return;
    }
    assert!(
        f.peaks[0] >= items.min(knobs.buffer + 1),
        "{knobs:?}: {f:?}"
    );
    assert!(f.peaks[0] <= items, "{knobs:?}: {f:?}");
    assert_eq!(
        f.peaks[0] > knobs.buffer,
        items > knobs.buffer,
        "{knobs:?}: {f:?}"
    );
}

#[test]
fn smoke() {
    let report = run("correct");
    all_done(&report);
    let outcome = report.outcome.expect("main returned");
    assert!(!outcome.is_broken(), "{outcome:?}");
    assert_eq!((outcome.items_in, outcome.items_out), (400, 400));
    assert_eq!(outcome.lost, 0);
}

#[test]
fn the_queues_are_100_50_25_by_default() {
    assert_eq!(sized(LESSON.defaults.buffer), [100, 50, 25]);
    assert_eq!(sized(4), [4, 2, 1]);
    assert_eq!(sized(7), [7, 3, 1]);
}

/// Backpressure holds in `correct`: no queue above its capacity, `lines`
/// full at the warm-up, `read` found it full and was slowed to `store`'s
/// pace. The lower bound on `read`'s end is exact in lesson time: only so
/// many lines fit in the pipeline, so `store` must have written the rest,
/// 30 ms each, before `read` can put in its last.
fn correct_holds(f: &Flow, knobs: &Knobs) {
    accounted("correct", knobs, f);
    assert_eq!(f.dropped, 0);
    assert_lines_peak(f, knobs);
    let room = bounded_room(knobs);
    assert!(f.peak_in_pipeline <= room, "{knobs:?}: {f:?}");
    if knobs.items > sized(knobs.buffer)[0] as u64 {
        assert!(f.found_full >= 1, "{knobs:?}: read never met a full queue");
    }
    let must_write = knobs.items.saturating_sub(room + 1);
    assert!(
        f.read_done >= Duration::from_millis(30) * must_write as u32,
        "{knobs:?}: read done at {:?}, before store could have written {must_write}",
        f.read_done
    );
}

#[test]
fn correct_slows_read_to_the_pace_of_store() {
    let k = LESSON.defaults;
    let f = flow("correct", k);
    correct_holds(&f, &k);
    assert_eq!(f.peaks[0], 100);
    assert!(f.read_done > 2 * f.read_work, "{f:?}");
    for schedule in common::random_50_and_pct_8() {
        let f = flow_with("correct", k, common::scheduled_only(schedule.clone()));
        correct_holds(&f, &k);
        // In lesson time `read` is held to `store`'s pace exactly: it
        // cannot be done before its last line finds room.
        assert!(f.read_done > 2 * f.read_work, "{schedule:?}: {f:?}");
    }
}

/// The most lines the bounded pipeline can hold at once: its queues, and
/// one in the hands of `read`, of each parse worker and of `store`.
fn bounded_room(knobs: &Knobs) -> u64 {
    let [c1, c2, c3] = sized(knobs.buffer);
    (c1 + c2 + c3 + knobs.workers + 2) as u64
}

#[test]
fn unbounded_queue_lets_the_backlog_grow_with_the_input() {
    let report = run("unbounded-queue");
    all_done(&report);
    let outcome = report.outcome.expect("main returned");
    assert!(outcome.is_broken(), "{outcome:?}");
    let problem = &outcome.problems[0];
    assert!(
        problem.starts_with(
            "unbounded growth: `lines` took line 101 without waiting, where a bounded `lines` of \
             100 (--buffer) makes `read` wait"
        ),
        "{problem}"
    );
    assert!(problem.contains("of them in `records`"), "{problem}");
    let mut last_peak = 0;
    for items in [400, 800, 1600] {
        let k = Knobs {
            items,
            ..LESSON.defaults
        };
        let f = flow("unbounded-queue", k);
        accounted("unbounded-queue", &k, &f);
        assert_lines_peak(&f, &k);
        assert_eq!(f.found_full, 0, "nothing ever pushed back on read");
        // Not staged: after the warm-up the parse worker keeps up with
        // `read`, and the backlog collects in `records`, in front of `store`.
        assert!(f.peaks[1] > f.peaks[0], "{f:?}");
        assert!(f.peak_in_pipeline > bounded_room(&k), "{f:?}");
        assert!(
            f.peak_in_pipeline > last_peak,
            "it grows with --items: {f:?}"
        );
        last_peak = f.peak_in_pipeline;
    }
    let k = LESSON.defaults;
    for schedule in common::random_50_and_pct_8() {
        let f = flow_with(
            "unbounded-queue",
            k,
            common::scheduled_only(schedule.clone()),
        );
        accounted("unbounded-queue", &k, &f);
        assert_lines_peak(&f, &k);
        assert!(f.peaks[1] > 250, "{schedule:?}: {f:?}");
        // Never slowed: in lesson time `read` is done exactly when its own
        // work is.
        assert_eq!(f.read_done, f.read_work);
        let bounded = flow_with("correct", k, common::scheduled_only(schedule.clone()));
        assert!(
            f.peak_in_pipeline > 2 * bounded.peak_in_pipeline,
            "{schedule:?}"
        );
        assert!(f.mean_wait() > bounded.mean_wait(), "{schedule:?}");
        assert!(f.max_wait() > bounded.max_wait() * 3 / 2, "{schedule:?}");
    }
}

#[test]
fn buffer_hides_overload_moves_the_cliff_and_adds_waiting() {
    let report = run("buffer-hides-overload");
    all_done(&report);
    let outcome = report.outcome.expect("main returned");
    assert!(outcome.is_broken(), "{outcome:?}");
    let problem = &outcome.problems[0];
    assert!(
        problem.starts_with("the bigger buffers hid the overload: `lines` queued 200 lines"),
        "{problem}"
    );
    assert!(
        problem.contains(
            "`read` found `lines` full from line 201 on (a `lines` of 100 stops it at line 101)"
        ),
        "{problem}"
    );

    let k = LESSON.defaults;
    let big = flow("buffer-hides-overload", k);
    accounted("buffer-hides-overload", &k, &big);
    assert_eq!(big.capacities[0], Some(BIG_BUFFER_FACTOR * k.buffer));
    assert_eq!(big.peaks[0], 200);
    assert!(big.found_full >= 1, "the cliff came, later");
    // Below the bigger `lines`, the cliff never comes at all.
    let k150 = Knobs { items: 150, ..k };
    let f = flow("buffer-hides-overload", k150);
    assert_eq!((f.peaks[0], f.found_full), (150, 0));

    for schedule in common::random_50_and_pct_8() {
        let big = flow_with(
            "buffer-hides-overload",
            k,
            common::scheduled_only(schedule.clone()),
        );
        accounted("buffer-hides-overload", &k, &big);
        let small = flow_with("correct", k, common::scheduled_only(schedule.clone()));
        // The same overload, longer queues: every line waits longer.
        assert!(
            big.max_wait() > small.max_wait() + Duration::from_secs(3),
            "{schedule:?}: {:?} vs {:?}",
            big.max_wait(),
            small.max_wait()
        );
        assert!(big.mean_wait() > small.mean_wait(), "{schedule:?}");
    }
}

#[test]
fn shed_drops_at_the_door_and_counts_it() {
    let report = run("shed");
    all_done(&report);
    let outcome = report.outcome.expect("main returned");
    assert!(!outcome.is_broken(), "{outcome:?}");
    assert!(outcome.held_by_design(), "{outcome:?}");
    assert_eq!(outcome.lost, 0);
    assert!(outcome.dropped > 0);
    assert_eq!(outcome.items_out + outcome.dropped, 400);
    assert!(
        outcome.by_design[0].starts_with(&format!("{} dropped by design", outcome.dropped)),
        "{outcome:?}"
    );

    let k = LESSON.defaults;
    let f = flow("shed", k);
    accounted("shed", &k, &f);
    assert_eq!(f.peaks[0], 100);
    assert!(f.dropped >= 1, "the warm-up ends at the first drop");
    for schedule in common::random_50_and_pct_8() {
        let f = flow_with("shed", k, common::scheduled_only(schedule));
        accounted("shed", &k, &f);
        assert!(f.dropped > 100, "{f:?}");
        // `read` never waits: done exactly when its own work is.
        assert_eq!(f.read_done, f.read_work);
    }
}

#[test]
fn batch_writes_many_lines_per_round_trip() {
    let k = LESSON.defaults;
    let f = flow("batch", k);
    accounted("batch", &k, &f);
    assert_eq!(f.dropped, 0);
    assert!(f.largest_write <= BATCH_MAX);
    for schedule in common::random_50_and_pct_8() {
        let batched = flow_with("batch", k, common::scheduled_only(schedule.clone()));
        accounted("batch", &k, &batched);
        assert_eq!(batched.largest_write, BATCH_MAX, "{schedule:?}");
        assert!(batched.writes < k.items / 4, "{schedule:?}: {batched:?}");
        let plain = flow_with("correct", k, common::scheduled_only(schedule.clone()));
        assert_eq!(plain.writes, k.items, "one line per write");
        assert!(batched.span * 2 < plain.span, "{schedule:?}");
        assert!(batched.max_wait() < plain.max_wait(), "{schedule:?}");
    }
}

#[test]
fn every_variant_meets_its_expectation() {
    assert_every_variant_meets_its_expectation(&LESSON);
}

#[test]
fn every_variant_meets_its_expectation_under_schedules() {
    let k = Knobs {
        items: 60,
        buffer: 8,
        workers: 2,
        seed: 4,
    };
    for schedule in common::random_50_and_pct_8() {
        for name in VARIANTS {
            let v = LESSON.variant(name).expect("variant exists");
            let report = LESSON.run(v, k, common::scheduled_only(schedule.clone()));
            assert!(
                meets_expectation(v, &report),
                "{name} {schedule:?}: {:?} {:?}",
                report.verdict,
                report.outcome
            );
            let f = flow_with(name, k, common::scheduled_only(schedule.clone()));
            accounted(name, &k, &f);
            assert_lines_peak(&f, &k);
        }
    }
}

/// The exact condition under which each trap cannot show: the test's copy
/// of the lesson's reasoning (both traps need `lines` to hold more than
/// `--buffer`, and the warm-up makes it hold `min(items, capacity)`).
fn should_hide(trap: &str, k: &Knobs) -> bool {
    match trap {
        "unbounded-queue" | "buffer-hides-overload" => k.items <= k.buffer as u64,
        _ => false,
    }
}

#[test]
fn hidden_by_says_exactly_when_a_trap_cannot_show() {
    let (mut hidden_seen, mut shown_seen) = (0, 0);
    for items in [1, 3, 4, 5, 8, 9, 16, 17, 40] {
        for buffer in [4, 5, 8, 16] {
            for workers in [1, 3] {
                let knobs = Knobs {
                    items,
                    buffer,
                    workers,
                    seed: 5,
                };
                for trap in LESSON.traps() {
                    let (report, hidden) = common::assert_hidden_by_holds(
                        &LESSON,
                        trap,
                        knobs,
                        should_hide(trap.name, &knobs),
                    );
                    let outcome = report.outcome.as_ref().expect("main returned");
                    if let Some(why) = hidden {
                        hidden_seen += 1;
                        assert!(why.contains(&format!("--buffer {buffer}")), "{why}");
                        // What it suggests would show the trap, and is a valid knob.
                        if let Some((_, tail)) = why.split_once(" or --buffer ") {
                            let suggested: usize = tail.parse().expect("a number");
                            assert!((4..buffer).contains(&suggested), "{why}");
                            assert!(items > suggested as u64, "{why}");
                        }
                        assert_eq!(outcome.items_out, items);
                    } else {
                        shown_seen += 1;
                    }
                    let f = flow(trap.name, knobs);
                    accounted(trap.name, &knobs, &f);
                    assert_lines_peak(&f, &knobs);
                }
                for fix in ["correct", "shed", "batch"] {
                    let report = common::run_with(&LESSON, fix, knobs);
                    all_done(&report);
                    let outcome = report.outcome.as_ref().expect("main returned");
                    assert!(!outcome.is_broken(), "{fix} {knobs:?}: {outcome:?}");
                    assert_eq!(outcome.lost, 0);
                    let f = flow(fix, knobs);
                    accounted(fix, &knobs, &f);
                    if fix == "shed" {
                        // The warm-up ends at the first line that finds `lines` full.
                        assert_eq!(f.dropped > 0, items > buffer as u64, "{knobs:?}");
                    }
                }
            }
        }
    }
    assert!(hidden_seen > 0 && shown_seen > 0);
}

#[test]
fn other_knobs_keep_the_fixes_clean() {
    common::assert_clean_with_other_knobs(&LESSON, &["correct", "shed", "batch"]);
}

/// Plays the challenge as a learner would: whenever another step can run,
/// `store` waits, so `records` fills before each write.
#[test]
fn the_challenge_is_reachable_and_not_a_given() {
    let challenge = &LESSON.challenges[0];
    let variant = LESSON.variant(challenge.variant).expect("variant exists");
    let config = Config {
        schedule: Some(Schedule::manual()),
        log_items: true,
        ..Config::default()
    };
    let run = LESSON.start(variant, challenge.knobs, config);
    let mut reached = false;
    let mut steps = 0;
    while !run.is_finished() {
        assert!(
            run.lab().wait_still(Duration::from_secs(10)),
            "the run hung"
        );
        let snapshot = run.lab().snapshot();
        let events = run.lab().events_since(0).events;
        reached |= (challenge.reached)(&snapshot, &events);
        let mut picks: Vec<_> = run
            .lab()
            .next_ops()
            .into_iter()
            .filter_map(|op| op.choice.map(|c| (op.worker, c)))
            .collect();
        picks.sort_by_key(|(worker, _)| worker == "store");
        if let Some((_, choice)) = picks.first() {
            let _ = run.lab().choose(*choice);
            steps += 1;
        }
    }
    let report = run.wait();
    reached |= (challenge.reached)(&report.snapshot, &[]); // the final picture counts too
    assert!(steps > 0, "the learner had picks to make");
    assert!(reached, "{:?}", report.outcome);
    let stored = report
        .snapshot
        .channels
        .iter()
        .find(|c| c.name == "stored")
        .expect("a stored channel");
    assert!(stored.sent <= CHALLENGE_WRITES);

    // Random schedules: some get there, some do not.
    let mut hits = 0;
    for seed in 0..50 {
        let report = LESSON.run(
            variant,
            challenge.knobs,
            common::scheduled_only(Schedule::random(seed)),
        );
        assert!(meets_expectation(variant, &report));
        hits += u32::from((challenge.reached)(&report.snapshot, &[]));
    }
    assert!(
        hits > 0 && hits < 50,
        "{hits} of 50 random schedules reach it"
    );
}

#[test]
fn the_lesson_text_names_the_traps_and_little_s_law() {
    let text = LESSON.text();
    for v in LESSON.variants {
        assert!(text.contains(&format!("`{}`", v.name)), "{}", v.name);
    }
    assert!(text.contains("L = λ·W"));
    assert!(!text.contains("# use"), "hidden doctest lines are left out");
}
