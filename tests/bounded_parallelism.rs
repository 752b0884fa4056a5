//! Lesson 08: every trap breaks as described and every fix holds, free and
//! on the scheduler; the knobs hide exactly what `hidden_by` says; the
//! semaphore refuses, waits and gives back as the lesson says; the
//! challenge can be played.

mod common;

use std::time::Duration;

use chanlab::lab::{Choice, Config, Event, EventKind, Lab, NextOp, Report, Schedule, WorkerState};
use chanlab::lessons::bounded_parallelism::{
    self, AcquireError, Batch, BatchError, Corrupt, Image, LESSON, Semaphore,
    corrupt_before_the_last, image, poster, weight,
};
use chanlab::lessons::{Knobs, Outcome, meets_expectation, meets_expectation_with};

fn knobs() -> Knobs {
    LESSON.defaults
}

/// Free-running at a speed where the lesson's margins (0.6 s of lesson
/// time at the least) are tens of milliseconds of wall time.
fn free() -> Config {
    Config {
        speed: 20.0,
        ..Config::default()
    }
}

fn run(variant: &str, knobs: Knobs, config: Config) -> Report<Outcome> {
    let v = LESSON.variant(variant).expect("variant exists");
    LESSON.run(v, knobs, config)
}

fn batch_on(config: Config, knobs: Knobs, f: fn(&Lab, &Knobs) -> Batch) -> Report<Batch> {
    Lab::run(config, move |lab| f(lab, &knobs))
}

fn all_done<T>(report: &Report<T>) {
    assert!(report.verdict.is_none(), "{:?}", report.verdict);
    assert!(report.unstoppable.is_empty());
    assert!(
        report
            .snapshot
            .workers
            .iter()
            .all(|w| w.state == WorkerState::Done),
        "a worker was left behind"
    );
}

fn corrupt_images(k: &Knobs) -> Vec<u64> {
    (1..=k.items)
        .filter(|&i| image(k, i) == Image::Corrupt)
        .collect()
}

#[test]
fn smoke() {
    let report = run("correct", knobs(), free());
    all_done(&report);
    let outcome = report.outcome.expect("main returned");
    assert!(!outcome.is_broken(), "{outcome:?}");
    assert!(outcome.items_out > 0);
    assert_eq!(outcome.lost, 0);
}

#[test]
fn the_batch_is_every_fourth_corrupt_and_one_poster_in_the_middle() {
    for items in 2..60 {
        for workers in [2, 4, 7] {
            let k = Knobs {
                items,
                workers,
                ..knobs()
            };
            let p = poster(&k);
            assert!((1..=items).contains(&p), "{k:?}");
            assert_eq!(image(&k, p), Image::Poster);
            assert_eq!(weight(&k, p), 2 * workers, "more than the pool holds");
            for i in (1..=items).filter(|&i| i != p) {
                assert_eq!(weight(&k, i), 1);
                assert_eq!(image(&k, i) == Image::Corrupt, i % 4 == 1, "{i}");
            }
        }
    }
}

#[test]
fn correct_on_the_scheduler_is_exact() {
    let k = knobs();
    for schedule in common::random_and_pct(0..50).take(20) {
        let report = batch_on(
            common::scheduled_only(schedule),
            k,
            bounded_parallelism::correct,
        );
        all_done(&report);
        let b = report.outcome.expect("main returned");
        assert_eq!(b.peak, k.workers, "at most N, and N when there is work");
        assert_eq!(b.refused, vec![poster(&k)]);
        let mut skipped = b.skipped.clone();
        skipped.sort_unstable();
        assert_eq!(skipped, corrupt_images(&k));
        let mut resized = b.resized.clone();
        resized.sort_unstable();
        let photos: Vec<u64> = (1..=k.items)
            .filter(|&i| image(&k, i) == Image::Photo)
            .collect();
        assert_eq!(resized, photos);
        assert_eq!(b.returned, Ok(()));
        assert!(b.leaked.is_empty());
        // Paced to be watched: 10 to 15 s at speed 1.
        let t = report.snapshot.elapsed;
        assert!(
            (Duration::from_secs(10)..Duration::from_secs(15)).contains(&t),
            "{t:?}"
        );
    }
}

/// `variant` shows what it promises on every schedule of [`schedules`].
fn holds_on_every_schedule(variant: &str) {
    let v = LESSON.variant(variant).expect("variant exists");
    for schedule in common::random_and_pct(0..50) {
        let what = schedule.describe();
        let report = LESSON.run(v, LESSON.defaults, common::scheduled_only(schedule));
        assert!(
            meets_expectation(v, &report),
            "{variant} {what}: {report:?}"
        );
        assert!(report.unstoppable.is_empty());
    }
}

// One test per variant, so the sweeps run side by side.
#[test]
fn correct_holds_on_every_schedule() {
    holds_on_every_schedule("correct");
}

#[test]
fn spawn_per_item_breaks_on_every_schedule() {
    holds_on_every_schedule("spawn-per-item");
}

#[test]
fn leaked_permit_breaks_on_every_schedule() {
    holds_on_every_schedule("leaked-permit");
}

#[test]
fn doomed_acquire_breaks_on_every_schedule() {
    holds_on_every_schedule("doomed-acquire");
}

#[test]
fn acquire_returns_early_breaks_on_every_schedule() {
    holds_on_every_schedule("acquire-returns-early");
}

#[test]
fn wait_then_return_holds_on_every_schedule() {
    holds_on_every_schedule("wait-then-return");
}

#[test]
fn every_variant_is_swept() {
    assert_eq!(
        LESSON.variants.len(),
        6,
        "a new variant needs its own sweep test above"
    );
}

#[test]
fn every_variant_meets_its_expectation_free_running() {
    for v in LESSON.variants {
        let report = LESSON.run(v, LESSON.defaults, free());
        assert!(meets_expectation(v, &report), "{}: {report:?}", v.name);
        assert!(report.unstoppable.is_empty(), "{}", v.name);
    }
}

#[test]
fn the_same_schedule_gives_the_same_run() {
    for v in LESSON.variants {
        let a = LESSON.run(
            v,
            LESSON.defaults,
            common::scheduled_only(Schedule::pct(11)),
        );
        let b = LESSON.run(
            v,
            LESSON.defaults,
            common::scheduled_only(Schedule::pct(11)),
        );
        assert_eq!(a.trace, b.trace, "{}", v.name);
        assert_eq!(a.outcome, b.outcome, "{}", v.name);
    }
}

#[test]
fn spawn_per_item_has_every_image_at_work_at_once() {
    let k = knobs();
    let report = batch_on(
        common::scheduled_only(Schedule::random(3)),
        k,
        bounded_parallelism::spawn_per_item,
    );
    all_done(&report);
    let b = report.outcome.expect("main returned");
    // Nobody finishes before main has started them all: every image at once.
    assert_eq!(b.peak as u64, k.items);

    let report = run("spawn-per-item", k, free());
    assert!(report.verdict.is_none());
    let outcome = report.outcome.expect("main returned");
    assert!(
        outcome.problems[0].contains("nothing bounded them (the limit was 4)"),
        "{outcome:?}"
    );
    let peak: usize = outcome.notes[0]
        .strip_prefix("peak ")
        .and_then(|n| n.split(' ').next())
        .and_then(|n| n.parse().ok())
        .expect("the peak is in the first note");
    assert!(peak > k.workers, "{peak}");
}

#[test]
fn leaked_permit_deadlocks_main_on_a_full_permits() {
    let k = knobs();
    for config in [common::scheduled_only(Schedule::random(8)), free()] {
        let report = run("leaked-permit", k, config);
        let stuck = common::deadlock_of(&report);
        let main = common::named(stuck, "main");
        assert!(main.detail.contains("send `permits` (4/4 full"), "{main}");
        let collect = common::named(stuck, "collect");
        assert_eq!(
            collect.state,
            WorkerState::BlockedRecv {
                channel: "results".into()
            }
        );
        let outcome = report.outcome.expect("main returned");
        assert_eq!(
            outcome.problems,
            [
                "the run never finished: 4 permits were never given back (#1, #5, #9 and #13 \
              skipped without releasing), so main waited forever for a permit for image #14"
            ]
        );
    }
    // The exact picture on the scheduler.
    let report = batch_on(
        common::scheduled_only(Schedule::pct(2)),
        k,
        bounded_parallelism::leaked_permit,
    );
    let b = report.outcome.expect("main returned");
    let mut leaked = b.leaked.clone();
    leaked.sort_unstable();
    assert_eq!(leaked, [1, 5, 9, 13]);
    assert_eq!(b.stuck_at, Some(14));
    assert!(b.aborted);
}

#[test]
fn doomed_acquire_takes_every_permit_and_waits_for_one_more() {
    let k = knobs();
    for config in [common::scheduled_only(Schedule::random(6)), free()] {
        let report = run("doomed-acquire", k, config);
        let stuck = common::deadlock_of(&report);
        let main = common::named(stuck, "main");
        assert!(main.detail.contains("send `permits` (4/4 full"), "{main}");
        let permits = report
            .snapshot
            .channels
            .iter()
            .find(|c| c.name == "permits")
            .expect("a permits channel");
        assert_eq!(permits.len, 4, "main holds them all");
        assert!(
            stuck.iter().all(|s| !s.worker.starts_with("resize#")),
            "nobody else is at work: {stuck:?}"
        );
        let outcome = report.outcome.expect("main returned");
        assert!(
            outcome.problems[0].contains("main asked for 8 permits for image #12 (a poster)"),
            "{outcome:?}"
        );
    }
}

#[test]
fn the_semaphore_refuses_at_once_waits_and_gives_back() {
    let report = Lab::run(common::scheduled_only(Schedule::random(1)), |lab| {
        let sem = Semaphore::new(lab, 3);
        let (cancel, done) = lab.bounded::<()>("done", 0);
        let before = lab.now();
        let refused = sem.acquire(4, &done).err();
        let refused_at = lab.now();
        let two = sem.acquire(2, &done).expect("two of three");
        let one = sem.acquire(1, &done).expect("the third");
        // A fourth would wait; once `done` closes it fails and keeps nothing.
        let waiter_sem = Semaphore::new(lab, 1);
        let held = waiter_sem.acquire(1, &done).expect("one");
        drop(cancel);
        let canceled = waiter_sem.acquire(1, &done).err();
        drop((two, one, held));
        // `done` is closed and checked first: nothing is taken, even with permits free.
        let again = sem.acquire(3, &done).map(|_| ()).err();
        (refused, refused_at == before, canceled, again)
    });
    assert!(report.verdict.is_none(), "{:?}", report.verdict);
    let (refused, at_once, canceled, again) = report.outcome.expect("main returned");
    assert_eq!(refused, Some(AcquireError::TooLarge { asked: 4, size: 3 }));
    assert!(at_once, "refused without waiting");
    assert_eq!(canceled, Some(AcquireError::Canceled));
    assert_eq!(again, Some(AcquireError::Canceled));

    // A multi-permit acquire that waits, then is canceled, gives back what
    // it had taken. On the scheduler, main's second of work ends only once
    // the waiter can go no further: it holds 2 and waits for a third.
    let report = Lab::run(common::scheduled_only(Schedule::random(2)), |lab| {
        let sem = std::sync::Arc::new(Semaphore::new(lab, 2));
        let (cancel, done) = lab.bounded::<()>("done", 0);
        let waiter = {
            let sem = std::sync::Arc::clone(&sem);
            lab.go("waiter", move || sem.acquire_unchecked(3, &done).err())
        };
        lab.work(Duration::from_secs(1));
        let held_while_waiting = lab
            .snapshot()
            .channels
            .iter()
            .find(|c| c.name == "permits")
            .map(|c| c.len);
        drop(cancel);
        let got = waiter.join();
        let free_again = sem.acquire(2, &lab.never()).is_ok();
        (held_while_waiting, got, free_again)
    });
    assert!(report.verdict.is_none(), "{:?}", report.verdict);
    let (held, got, free_again) = report.outcome.expect("main returned");
    assert_eq!(held, Some(2));
    assert_eq!(got, Ok(Some(AcquireError::Canceled)));
    assert!(free_again, "both permits came back");
}

#[test]
fn acquire_returns_early_loses_the_error_and_leaves_workers_running() {
    let k = knobs();
    for config in [common::scheduled_only(Schedule::random(5)), free()] {
        let report = run("acquire-returns-early", k, config);
        let leaked = common::leak_of(&report);
        assert!(
            leaked.iter().any(|w| w.worker.starts_with("resize#")),
            "{leaked:?}"
        );
        let collect = common::named(leaked, "collect");
        assert!(
            collect.detail.starts_with("waits to receive on `results`"),
            "{collect}"
        );
        let outcome = report.outcome.expect("main returned");
        assert_eq!(
            outcome.problems[0],
            "returned `acquire: context canceled`, not the error that canceled the group \
             (image #1 is corrupt): the real error was lost"
        );
        assert!(
            outcome.problems[1].contains("outlive the function"),
            "{outcome:?}"
        );
    }
    let report = batch_on(
        common::scheduled_only(Schedule::pct(5)),
        k,
        bounded_parallelism::acquire_returns_early,
    );
    let b = report.outcome.expect("main returned");
    assert_eq!(b.returned, Err(BatchError::Acquire(AcquireError::Canceled)));
    assert_eq!(b.failed, [Corrupt { image: 1 }]);
    // The other photos of the first wave, and maybe one more main started
    // in the moment between image #1's permit coming back and the cancel.
    assert!((3..=4).contains(&b.running_at_return), "{b:?}");
}

#[test]
fn wait_then_return_reports_the_real_error_after_everyone() {
    let k = knobs();
    for schedule in common::random_and_pct(0..50).take(20) {
        let report = batch_on(
            common::scheduled_only(schedule),
            k,
            bounded_parallelism::wait_then_return,
        );
        all_done(&report);
        let b = report.outcome.expect("main returned");
        assert_eq!(b.returned, Err(BatchError::Image(Corrupt { image: 1 })));
        assert!((4..=5).contains(&b.started.len()), "{:?}", b.started);
        // Every photo that started was resized: nobody was left behind.
        let photos: Vec<u64> = b
            .started
            .iter()
            .copied()
            .filter(|&i| image(&k, i) == Image::Photo)
            .collect();
        let mut resized = b.resized.clone();
        resized.sort_unstable();
        let mut photos = photos;
        photos.sort_unstable();
        assert_eq!(resized, photos);
    }
    let report = run("wait-then-return", k, free());
    all_done(&report);
    let outcome = report.outcome.expect("main returned");
    assert!(outcome.held_by_design(), "{outcome:?}");
    assert!(
        outcome
            .by_design
            .iter()
            .any(|l| l.starts_with("stopped at the first error (image #1 is corrupt)")),
        "{outcome:?}"
    );
}

/// The exact condition under which each trap cannot show, from the
/// lesson's own reasoning: the test's copy, so a change to either is caught.
fn should_hide(trap: &str, k: &Knobs) -> bool {
    let (items, limit) = (k.items, k.workers as u64);
    match trap {
        // Never more than the limit anyway.
        "spawn-per-item" => items <= limit,
        // Corrupt images are #1, #5, #9...: fewer than N of them before the
        // last image means no acquire ever finds the pool run dry.
        "leaked-permit" => (1..items).filter(|i| i % 4 == 1).count() < limit as usize,
        // Every image but the refused poster gets a permit at t = 0.
        "acquire-returns-early" => items <= limit + 1,
        _ => false,
    }
}

fn check_hidden_by(k: Knobs, config: &Config) -> (usize, usize) {
    let (mut hidden_seen, mut shown_seen) = (0, 0);
    for trap in LESSON.traps() {
        let hidden = LESSON.hidden(trap, &k);
        assert_eq!(
            hidden.is_some(),
            should_hide(trap.name, &k),
            "{} {k:?}: {hidden:?}",
            trap.name
        );
        let report = LESSON.run(trap, k, config.clone());
        assert!(
            meets_expectation_with(&LESSON, trap, &k, &report),
            "{} {k:?} {}: {:?} {:?}",
            trap.name,
            config
                .schedule
                .as_ref()
                .map_or("free".to_owned(), Schedule::describe),
            report.verdict,
            report.outcome
        );
        let outcome = report.outcome.as_ref().expect("main returned");
        if let Some(why) = hidden {
            hidden_seen += 1;
            assert!(
                report.verdict.is_none() && !outcome.is_broken(),
                "{outcome:?}"
            );
            assert_eq!(outcome.lost, 0);
            assert!(why.starts_with("hidden by these knobs: "), "{why}");
            assert!(why.contains(&format!("--items {}", k.items)), "{why}");
        } else {
            shown_seen += 1;
            assert!(report.verdict.is_some() || outcome.is_broken());
        }
    }
    (hidden_seen, shown_seen)
}

#[test]
fn hidden_by_says_exactly_when_a_trap_cannot_show() {
    let (mut hidden, mut shown) = (0, 0);
    for items in [2, 3, 5, 6, 9, 10, 14, 15, 30] {
        for workers in [2, 3, 4, 8] {
            let k = Knobs {
                items,
                workers,
                buffer: 2,
                seed: 5,
            };
            let (h, s) = check_hidden_by(k, &common::scheduled_only(Schedule::random(items)));
            hidden += h;
            shown += s;
        }
    }
    assert!(hidden > 0 && shown > 0);
    for (items, workers) in [(4, 4), (10, 4), (24, 4)] {
        check_hidden_by(
            Knobs {
                items,
                workers,
                ..knobs()
            },
            &free(),
        );
    }
}

#[test]
fn the_leaked_permit_hint_names_the_first_items_that_show_it() {
    let k = Knobs {
        items: 10,
        ..knobs()
    };
    let why = LESSON
        .hidden(LESSON.variant("leaked-permit").unwrap(), &k)
        .expect("hidden with 10 images and 4 permits");
    let suggested: u64 = why
        .rsplit("--items ")
        .next()
        .and_then(|n| n.parse().ok())
        .expect("a suggestion");
    assert!(
        corrupt_before_the_last(&Knobs {
            items: suggested,
            ..k
        }) >= 4
    );
    assert!(
        corrupt_before_the_last(&Knobs {
            items: suggested - 1,
            ..k
        }) < 4
    );
}

#[test]
fn the_fixes_hold_with_other_knobs() {
    for (items, buffer, workers) in [(2, 0, 2), (7, 1, 8), (40, 8, 2), (100, 0, 16)] {
        let k = Knobs {
            items,
            buffer,
            workers,
            seed: 7,
        };
        for name in ["correct", "wait-then-return"] {
            let v = LESSON.variant(name).expect("variant exists");
            for config in [
                common::scheduled_only(Schedule::random(items)),
                common::scheduled_only(Schedule::pct(items)),
            ] {
                let report = LESSON.run(v, k, config);
                assert!(meets_expectation(v, &report), "{name} {k:?}: {report:?}");
                all_done(&report);
                let outcome = report.outcome.expect("main returned");
                let peak: usize = outcome.notes[0]
                    .strip_prefix("peak ")
                    .and_then(|n| n.split(' ').next())
                    .and_then(|n| n.parse().ok())
                    .expect("the peak");
                assert!(peak <= workers, "{name} {k:?}: peak {peak}");
            }
        }
    }
}

// ---- play the scheduler ---------------------------------------------------

/// Drives a manual run of the challenge, picking with `pick` whenever the
/// run waits for a choice, until the goal holds or the run ends.
fn play(pick: impl Fn(&[NextOp]) -> Choice) -> bool {
    let challenge = &LESSON.challenges[0];
    let variant = LESSON
        .variant(challenge.variant)
        .expect("the challenge's variant");
    let config = Config {
        schedule: Some(Schedule::manual()),
        log_items: true,
        ..Config::default()
    };
    let run = LESSON.start(variant, challenge.knobs, config);
    let lab = run.lab().clone();
    let mut events: Vec<Event> = Vec::new();
    let reached = loop {
        assert!(
            lab.wait_still(Duration::from_secs(10)),
            "the run never stood still"
        );
        let batch = lab.events_since(events.len() as u64);
        assert_eq!(batch.skipped, 0);
        events.extend(batch.events);
        if (challenge.reached)(&lab.snapshot(), &events) {
            break true;
        }
        let awaiting = lab.snapshot().schedule.is_some_and(|s| s.awaiting_choice);
        if !awaiting {
            break false;
        }
        let ops = lab.next_ops();
        lab.choose(pick(&ops)).expect("a choice the run offers");
    };
    let _ = run.stop();
    reached
}

fn prefer(worker: &'static str) -> impl Fn(&[NextOp]) -> Choice {
    move |ops| {
        ops.iter()
            .filter(|op| op.worker == worker)
            .find_map(|op| op.choice)
            .or_else(|| ops.iter().find_map(|op| op.choice))
            .expect("something can run")
    }
}

#[test]
fn the_challenge_can_be_played_and_is_not_won_by_every_schedule() {
    let challenge = &LESSON.challenges[0];
    let k = challenge.knobs;
    // The premise: images #1 and #5 are corrupt, start together, fail together.
    assert_eq!(image(&k, 1), Image::Corrupt);
    assert_eq!(image(&k, 5), Image::Corrupt);
    assert!(
        poster(&k) > k.workers as u64,
        "the poster is not in the first wave"
    );
    assert!(
        play(prefer("resize#5")),
        "a learner's schedule reaches the goal"
    );
    assert!(!play(prefer("resize#1")), "resize#1 first cannot count");

    let variant = LESSON.variant(challenge.variant).expect("variant");
    let mut won = 0;
    for seed in 0..30 {
        let config = Config {
            log_items: true,
            ..common::scheduled_only(Schedule::random(seed))
        };
        let run = LESSON.start(variant, k, config);
        let lab = run.lab().clone();
        let report = run.wait();
        assert!(meets_expectation(variant, &report));
        let first_error = report
            .outcome
            .as_ref()
            .expect("main returned")
            .by_design
            .iter()
            .find(|line| line.starts_with("stopped at the first error"))
            .cloned()
            .expect("the batch stopped at an error");
        let events = lab.events_since(0).events;
        let goal = (challenge.reached)(&report.snapshot, &events);
        // The goal's reading of the events agrees with what wait() returned.
        assert_eq!(
            goal,
            first_error.contains("image #5 is corrupt"),
            "{first_error}"
        );
        won += usize::from(goal);
    }
    assert!(0 < won && won < 30, "won by {won} of 30 random schedules");
}

#[test]
fn the_challenge_goal_reads_which_of_the_two_finished_first() {
    let finished = |worker: &str| Event {
        seq: 0,
        at: Duration::ZERO,
        kind: EventKind::Finished {
            worker: worker.into(),
        },
        cleanup: false,
    };
    let snap = Lab::new(Config::default()).snapshot();
    let reached = LESSON.challenges[0].reached;
    assert!(!reached(&snap, &[]));
    assert!(reached(
        &snap,
        &[
            finished("resize#2"),
            finished("resize#5"),
            finished("resize#1")
        ]
    ));
    assert!(!reached(
        &snap,
        &[finished("resize#1"), finished("resize#5")]
    ));
}
