//! Lesson 10: every trap breaks as described, every fix holds, in free
//! runs and under many schedules; the cancellation tree itself.

mod common;

use std::time::Duration;

use chanlab::lab::{Config, Lab, Report, Schedule, WorkerState};
use chanlab::lessons::cancellation_tree::{
    self, Ctx, GRACE, LESSON, QueryEnd, Shutdown, lost_stream,
};
use chanlab::lessons::{Knobs, Outcome, meets_expectation};
use common::{assert_every_variant_meets_its_expectation, fast};

const VARIANTS: [&str; 6] = [
    "correct",
    "lost-cancel",
    "ignores-done-on-send",
    "child-outlives-parent",
    "drain-without-deadline",
    "grace-period",
];

fn run(variant: &str) -> Report<Outcome> {
    common::run(&LESSON, variant)
}

/// The variant's own record of the run.
fn shutdown_with(variant: &'static str, knobs: Knobs, config: Config) -> Report<Shutdown> {
    Lab::run(config, move |lab| {
        cancellation_tree::serve(lab, variant, &knobs)
    })
}

fn all_done<T: std::fmt::Debug>(report: &Report<T>) {
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

/// What the staging makes exact in every run that is not aborted: main
/// read `--items`, `results` holds `--buffer`, and every query made one
/// more result that it held when the cancel came.
fn staged(knobs: &Knobs, s: &Shutdown) {
    let workers = knobs.workers as u64;
    assert_eq!(s.read, knobs.items, "{knobs:?}");
    assert_eq!(s.unread, knobs.buffer as u64, "{knobs:?}");
    assert_eq!(
        s.made,
        knobs.items + knobs.buffer as u64 + workers,
        "{knobs:?}"
    );
    assert!(
        s.queries.iter().all(|q| q.dropped_in_hand),
        "{knobs:?}: {s:?}"
    );
    let sent: u64 = s.queries.iter().map(|q| q.sent).sum();
    assert_eq!(sent, knobs.items + knobs.buffer as u64);
}

/// The correct variant's promises: nothing abandoned, every query heard
/// the cancel and collected its stream's report, which matches.
fn correct_holds(knobs: &Knobs, s: &Shutdown) {
    staged(knobs, s);
    assert!(s.abandoned.is_empty(), "{knobs:?}: {:?}", s.abandoned);
    for (q, st) in s.queries.iter().zip(&s.streams) {
        assert_eq!(q.end, Some(QueryEnd::Canceled), "{knobs:?}: {q:?}");
        assert_eq!(q.stream_report, Some(q.received), "{knobs:?}: {q:?}");
        assert_eq!(st.delivered, q.received);
        // A parent waits for its child: the stream returned first.
        assert!(st.ended_seq < q.ended_seq, "{knobs:?}: {q:?} {st:?}");
    }
}

#[test]
fn smoke() {
    let report = run("correct");
    all_done(&report);
    let outcome = report.outcome.expect("main returned");
    assert!(!outcome.is_broken(), "{outcome:?}");
    assert_eq!((outcome.items_in, outcome.items_out), (17, 12));
    assert_eq!(outcome.dropped, 5);
    assert!(outcome.held_by_design());
}

#[test]
fn canceling_a_node_cancels_everything_below_it_and_nothing_above() {
    let report = Lab::run(fast(), |lab| {
        let (root, shutdown) = Ctx::root(lab, "root");
        let (a, cancel_a) = root.with_cancel(lab, "a");
        let (a1, _cancel_a1) = a.with_cancel(lab, "a1");
        let (b, _cancel_b) = root.with_cancel(lab, "b");
        cancel_a.cancel();
        let after_a = [
            root.is_canceled(),
            a.is_canceled(),
            a1.is_canceled(),
            b.is_canceled(),
        ];
        // A closed `done` is ready at once, every time, for every clone.
        let a1_again = a1.clone();
        let ready = a1.done().recv().is_err() && a1_again.done().recv().is_err();
        drop(shutdown); // dropping the root's Cancel cancels the rest
        let after_root = [root.is_canceled(), b.is_canceled()];
        // Derived from a canceled parent: born canceled.
        let (late, _cancel_late) = root.with_cancel(lab, "late");
        let nobody = Ctx::background(lab, "background");
        (
            after_a,
            ready,
            after_root,
            late.is_canceled(),
            nobody.is_canceled(),
        )
    });
    assert!(report.verdict.is_none(), "{:?}", report.verdict);
    let (after_a, ready, after_root, late, background) = report.outcome.expect("returned");
    assert_eq!(after_a, [false, true, true, false]);
    assert!(ready);
    assert_eq!(after_root, [true, true]);
    assert!(late);
    assert!(!background, "nobody can cancel a background context");
}

#[test]
fn correct_cancels_the_whole_tree_and_drains_well_before_the_deadline() {
    let k = LESSON.defaults;
    let report = shutdown_with("correct", k, fast());
    all_done(&report);
    let s = report.outcome.expect("main returned");
    correct_holds(&k, &s);
    for schedule in common::random_50_and_pct_8() {
        let report = shutdown_with("correct", k, common::scheduled_only(schedule.clone()));
        all_done(&report);
        let s = report.outcome.expect("main returned");
        correct_holds(&k, &s);
        // In lesson time the drain takes no longer than a stream's last fetch.
        assert!(
            s.drained_at.saturating_sub(s.canceled_at) < Duration::from_millis(500),
            "{schedule:?}: {s:?}"
        );
    }
}

/// `lost-cancel`: the stream with its own `done` and its query are the
/// only workers left, named by the leak verdict with what they wait on.
fn lost_cancel_leaks(knobs: &Knobs, report: &Report<Outcome>) {
    let leaked = common::leak_of(report);
    let s = lost_stream(knobs.workers);
    let (query, stream) = (format!("query#{s}"), format!("stream#{s}"));
    let names: Vec<&str> = leaked.iter().map(|l| l.worker.as_str()).collect();
    assert_eq!(names.len(), 2, "{knobs:?}: {names:?}");
    let q = common::named(leaked, &query);
    assert_eq!(
        q.state,
        WorkerState::Joining {
            worker: stream.clone()
        }
    );
    let st = common::named(leaked, &stream);
    match &st.state {
        WorkerState::Selecting { arms } => {
            assert_eq!(arms[0].channel, format!("{stream} own done"));
            assert_eq!(arms[1].channel, format!("rows#{s}"));
            assert!(arms[1].send);
        }
        other => panic!("{stream} should select, not {other:?}"),
    }
    let outcome = report.outcome.as_ref().expect("main returned");
    assert!(
        outcome.problems.iter().any(|p| p.contains(&format!(
            "deaf to the cancel: {query}, {stream} ({stream} listens to a `done` of its own making"
        ))),
        "{outcome:?}"
    );
}

#[test]
fn lost_cancel_leaves_a_child_that_never_hears_the_parent() {
    let report = run("lost-cancel");
    lost_cancel_leaks(&LESSON.defaults, &report);
    println!("{}", report.verdict.as_ref().unwrap());
    for schedule in common::random_50_and_pct_8() {
        let v = LESSON.variant("lost-cancel").expect("variant exists");
        let report = LESSON.run(v, LESSON.defaults, common::scheduled_only(schedule));
        lost_cancel_leaks(&LESSON.defaults, &report);
    }
}

#[test]
fn ignores_done_on_send_blocks_until_the_grace_period_cuts_it_off() {
    let report = run("ignores-done-on-send");
    all_done(&report);
    let outcome = report.outcome.expect("main returned");
    assert!(outcome.is_broken(), "{outcome:?}");
    assert!(
        outcome.problems[0].starts_with("query#1, query#2, query#3 never heard the cancel"),
        "{outcome:?}"
    );
    let k = LESSON.defaults;
    for config in
        std::iter::once(fast()).chain(common::random_50_and_pct_8().map(common::scheduled_only))
    {
        let report = shutdown_with("ignores-done-on-send", k, config);
        all_done(&report);
        let s = report.outcome.expect("main returned");
        staged(&k, &s);
        assert_eq!(s.abandoned, ["query#1", "query#2", "query#3"]);
        assert!(s.left_running.is_empty());
        assert!(s.queries.iter().all(|q| q.end == Some(QueryEnd::CutOff)));
        // The whole grace period was spent waiting on them.
        assert!(s.drained_at.saturating_sub(s.canceled_at) >= GRACE, "{s:?}");
    }
}

#[test]
fn child_outlives_parent_returns_without_its_childs_report() {
    let report = run("child-outlives-parent");
    all_done(&report);
    let outcome = report.outcome.expect("main returned");
    assert!(outcome.is_broken(), "{outcome:?}");
    assert!(
        outcome.problems[0]
            .starts_with("query#1, query#2, query#3 returned without waiting for their streams"),
        "{outcome:?}"
    );
    let k = LESSON.defaults;
    let mut outlived = 0;
    for config in
        std::iter::once(fast()).chain(common::random_50_and_pct_8().map(common::scheduled_only))
    {
        let report = shutdown_with("child-outlives-parent", k, config);
        all_done(&report);
        let s = report.outcome.expect("main returned");
        staged(&k, &s);
        assert!(s.abandoned.is_empty());
        assert!(s.queries.iter().all(|q| q.stream_report.is_none()));
        outlived += s
            .queries
            .iter()
            .zip(&s.streams)
            .filter(|(q, st)| st.ended_seq > q.ended_seq)
            .count();
    }
    assert!(outlived > 0, "some stream ended after its parent");
}

fn drain_without_deadline_deadlocks(knobs: &Knobs, report: &Report<Outcome>) {
    let stuck = common::deadlock_of(report);
    let names: Vec<&str> = stuck.iter().map(|s| s.worker.as_str()).collect();
    let last = format!("query#{}", knobs.workers);
    assert_eq!(names, ["main", last.as_str()], "{knobs:?}");
    assert_eq!(
        common::named(stuck, "main").state,
        WorkerState::BlockedRecv {
            channel: "ended".into()
        }
    );
    let q = common::named(stuck, &last);
    assert_eq!(
        q.state,
        WorkerState::BlockedRecv {
            channel: "legacy".into()
        }
    );
    assert!(q.detail.contains("1 sender alive"), "{q}");
    let outcome = report
        .outcome
        .as_ref()
        .expect("main returned after the abort");
    assert!(
        outcome.problems[0].starts_with("the shutdown never finished"),
        "{outcome:?}"
    );
}

#[test]
fn drain_without_deadline_waits_forever_on_the_stuck_call() {
    let report = run("drain-without-deadline");
    drain_without_deadline_deadlocks(&LESSON.defaults, &report);
    println!("{}", report.verdict.as_ref().unwrap());
    let v = LESSON
        .variant("drain-without-deadline")
        .expect("variant exists");
    for schedule in common::random_50_and_pct_8() {
        let report = LESSON.run(v, LESSON.defaults, common::scheduled_only(schedule));
        drain_without_deadline_deadlocks(&LESSON.defaults, &report);
    }
}

#[test]
fn grace_period_abandons_the_stuck_call_on_time_and_says_so() {
    let report = run("grace-period");
    all_done(&report);
    let outcome = report.outcome.expect("main returned");
    assert!(!outcome.is_broken(), "{outcome:?}");
    assert!(outcome.held_by_design());
    assert!(
        outcome.by_design[1].starts_with("query#3 abandoned at the 5 s deadline"),
        "{outcome:?}"
    );
    let k = LESSON.defaults;
    let free = shutdown_with("grace-period", k, fast());
    all_done(&free);
    let s = free.outcome.expect("main returned");
    assert!(s.abandoned.contains(&"query#3".to_owned()), "{s:?}");
    for schedule in common::random_50_and_pct_8() {
        let report = shutdown_with("grace-period", k, common::scheduled_only(schedule.clone()));
        all_done(&report);
        let s = report.outcome.expect("main returned");
        staged(&k, &s);
        assert_eq!(s.abandoned, ["query#3"], "{schedule:?}");
        assert!(s.left_running.is_empty());
        let q3 = &s.queries[2];
        assert!(q3.in_stuck_call);
        assert_eq!(q3.end, Some(QueryEnd::CallClosed));
        // It still collected its stream on the way out.
        assert_eq!(q3.stream_report, Some(q3.received));
        // On time: the deadline, then the kill, and no more.
        let took = s.drained_at.saturating_sub(s.canceled_at);
        assert!(
            took >= GRACE && took < GRACE + Duration::from_millis(500),
            "{took:?}"
        );
    }
}

#[test]
fn every_variant_meets_its_expectation() {
    assert_every_variant_meets_its_expectation(&LESSON);
}

#[test]
fn every_variant_meets_its_expectation_under_schedules() {
    for knobs in [
        LESSON.defaults,
        Knobs {
            items: 3,
            buffer: 0,
            workers: 1,
            seed: 9,
        },
    ] {
        for schedule in common::random_50_and_pct_8() {
            for name in VARIANTS {
                let v = LESSON.variant(name).expect("variant exists");
                let report = LESSON.run(v, knobs, common::scheduled_only(schedule.clone()));
                assert!(
                    meets_expectation(v, &report),
                    "{name} {knobs:?} {schedule:?}: {:?} {:?}",
                    report.verdict,
                    report.outcome
                );
                assert!(report.unstoppable.is_empty());
            }
        }
    }
}

/// No knob hides a trap (`never_hidden`): over a sweep every trap still
/// breaks as it says, and the fixes hold.
#[test]
fn no_knob_hides_a_trap() {
    for (items, buffer, workers) in [
        (1, 0, 1),
        (1, 3, 2),
        (4, 0, 3),
        (5, 1, 1),
        (9, 4, 4),
        (20, 2, 6),
    ] {
        let knobs = Knobs {
            items,
            buffer,
            workers,
            seed: 5,
        };
        for trap in LESSON.traps() {
            let (report, hidden) = common::assert_hidden_by_holds(&LESSON, trap, knobs, false);
            assert!(hidden.is_none());
            match trap.name {
                "lost-cancel" => lost_cancel_leaks(&knobs, &report),
                "drain-without-deadline" => drain_without_deadline_deadlocks(&knobs, &report),
                _ => all_done(&report),
            }
        }
        for fix in ["correct", "grace-period"] {
            let report = common::run_with(&LESSON, fix, knobs);
            all_done(&report);
            let outcome = report.outcome.as_ref().expect("main returned");
            assert!(!outcome.is_broken(), "{fix} {knobs:?}: {outcome:?}");
        }
        let report = shutdown_with("correct", knobs, fast());
        correct_holds(&knobs, &report.outcome.expect("main returned"));
    }
}

#[test]
fn other_knobs_keep_the_fixes_clean() {
    common::assert_clean_with_other_knobs(&LESSON, &["correct", "grace-period"]);
}

/// Plays the challenge: after the cancel, keep picking anything but
/// `stream#1`, so `query#1` gets out first. The same picks cannot get
/// there in `correct`, where the query waits for its stream.
fn play(variant: &str) -> bool {
    let challenge = &LESSON.challenges[0];
    let variant = LESSON.variant(variant).expect("variant exists");
    let config = Config {
        schedule: Some(Schedule::manual()),
        log_items: true,
        ..Config::default()
    };
    let run = LESSON.start(variant, challenge.knobs, config);
    let lab = run.lab().clone();
    let mut reached = false;
    while !run.is_finished() {
        assert!(
            run.lab().wait_still(Duration::from_secs(10)),
            "the run hung"
        );
        let snapshot = run.lab().snapshot();
        reached |= (challenge.reached)(&snapshot, &run.lab().events_since(0).events);
        let mut picks: Vec<_> = run
            .lab()
            .next_ops()
            .into_iter()
            .filter_map(|op| op.choice.map(|c| (op.worker, c)))
            .collect();
        picks.sort_by_key(|(worker, _)| worker == "stream#1");
        if let Some((_, choice)) = picks.first() {
            let _ = run.lab().choose(*choice);
        }
    }
    let report = run.wait();
    assert!(meets_expectation(variant, &report), "{report:?}");
    // The run goes on by itself once a pick is forced: what it passed
    // through is in its events.
    reached || (challenge.reached)(&report.snapshot, &lab.events_since(0).events)
}

#[test]
fn the_challenge_is_reachable_and_not_a_given() {
    assert!(play("child-outlives-parent"));
    assert!(!play("correct"), "a parent that waits is never outlived");
    let challenge = &LESSON.challenges[0];
    let variant = LESSON.variant(challenge.variant).expect("variant exists");
    let mut hits = 0;
    for seed in 0..50 {
        let config = Config {
            log_items: true,
            ..common::scheduled_only(Schedule::random(seed))
        };
        let run = LESSON.start(variant, challenge.knobs, config);
        let lab = run.lab().clone();
        let report = run.wait();
        let events = lab.events_since(0).events;
        let reached = (challenge.reached)(&report.snapshot, &events);
        // The records say the same: who returned first.
        let s = shutdown_with(
            "child-outlives-parent",
            challenge.knobs,
            common::scheduled_only(Schedule::random(seed)),
        )
        .outcome
        .expect("main returned");
        assert_eq!(
            reached,
            s.streams[0].ended_seq > s.queries[0].ended_seq,
            "seed {seed}"
        );
        hits += u32::from(reached);
    }
    assert!(hits > 0 && hits < 50, "{hits} of 50 random schedules");
}

#[test]
fn the_lesson_text_names_every_variant() {
    let text = LESSON.text();
    for v in LESSON.variants {
        assert!(text.contains(&format!("`{}`", v.name)), "{}", v.name);
    }
    assert!(text.contains("context.WithCancel"));
    assert!(text.contains("terminationGracePeriodSeconds"));
}
