//! Lesson 07: every trap breaks as described and every fix holds, free
//! and on the scheduler (where virtual time makes the numbers exact); the
//! knobs hide exactly what `hidden_by` says; the challenge can be played.

mod common;

use std::time::Duration;

use chanlab::lab::{Choice, Config, Event, EventKind, Lab, NextOp, Report, Schedule, WorkerState};
use chanlab::lessons::select_timeouts::{
    self, FeedEnd, LESSON, SESSION, SILENCE, Session, SessionEnd, answer_time, hang_after,
    queries_in_a_session,
};
use chanlab::lessons::{Knobs, Outcome, meets_expectation, meets_expectation_with};

const SECOND: Duration = Duration::from_secs(1);

fn knobs() -> Knobs {
    LESSON.defaults
}

/// Free-running, at a speed where a 0.5 s margin of lesson time is 25 ms
/// of wall time: the timeouts this lesson is about keep their meaning on
/// a busy machine.
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

/// Runs one variant's session function on the scheduler (exact times).
fn session_on(schedule: Schedule, knobs: Knobs, f: fn(&Lab, &Knobs) -> Session) -> Report<Session> {
    Lab::run(common::scheduled_only(schedule), move |lab| f(lab, &knobs))
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

#[test]
fn smoke() {
    let report = run("correct", knobs(), free());
    all_done(&report);
    let outcome = report.outcome.expect("main returned");
    assert!(!outcome.is_broken(), "{outcome:?}");
    assert!(outcome.items_out >= 1);
    assert_eq!(outcome.lost, 0);
}

#[test]
fn correct_on_the_scheduler_is_exact() {
    let k = knobs();
    for schedule in common::random_and_pct(0..50).take(20) {
        let report = session_on(schedule, k, select_timeouts::correct);
        all_done(&report);
        let s = report.outcome.expect("main returned");
        // Every query waits out its deadline (the last replica is late), so
        // query q is taken at (q - 1) s and the session takes 10.
        assert_eq!(s.served.len() as u64, queries_in_a_session());
        for (i, q) in s.served.iter().enumerate() {
            assert_eq!(q.query, i as u64 + 1);
            assert_eq!(q.taken_at, SECOND * i as u32, "query {}", q.query);
            let mut got = q.answers.clone();
            got.sort_unstable();
            assert_eq!(
                got,
                (1..k.workers).collect::<Vec<_>>(),
                "all but the slow one"
            );
            assert_eq!(q.polls, 0);
        }
        assert_eq!(s.end, SessionEnd::TimeUp);
        assert_eq!(
            s.feed,
            Some(FeedEnd::Canceled { sent: 11 }),
            "one more was waiting in `queries`"
        );
        // Paced to be watched: about 10 s of lesson time at speed 1.
        assert!(
            (SESSION..SESSION + 2 * SECOND).contains(&s.ended_at),
            "{:?}",
            s.ended_at
        );
    }
}

#[test]
fn the_slow_replica_is_the_last_and_the_others_are_on_a_100_ms_grid() {
    for seed in 0..20 {
        let k = Knobs { seed, ..knobs() };
        for q in 1..=10 {
            assert_eq!(answer_time(&k, q, k.workers), Duration::from_millis(1_500));
            for b in 1..k.workers {
                let t = answer_time(&k, q, b).as_millis();
                assert!((200..=500).contains(&t) && t.is_multiple_of(100), "{t}");
            }
        }
    }
}

#[test]
fn every_variant_meets_its_expectation_free_running() {
    for v in LESSON.variants {
        let report = LESSON.run(v, LESSON.defaults, free());
        assert!(meets_expectation(v, &report), "{}: {report:?}", v.name);
        assert!(report.unstoppable.is_empty(), "{}", v.name);
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
fn timeout_leaks_worker_breaks_on_every_schedule() {
    holds_on_every_schedule("timeout-leaks-worker");
}

#[test]
fn buffered_reply_holds_on_every_schedule() {
    holds_on_every_schedule("buffered-reply");
}

#[test]
fn busy_default_breaks_on_every_schedule() {
    holds_on_every_schedule("busy-default");
}

#[test]
fn deadline_reset_per_message_breaks_on_every_schedule() {
    holds_on_every_schedule("deadline-reset-per-message");
}

#[test]
fn silent_hang_breaks_on_every_schedule() {
    holds_on_every_schedule("silent-hang");
}

#[test]
fn watchdog_holds_on_every_schedule() {
    holds_on_every_schedule("watchdog");
}

#[test]
fn every_variant_is_swept() {
    assert_eq!(
        LESSON.variants.len(),
        7,
        "a new variant needs its own sweep test above"
    );
}

#[test]
fn the_same_schedule_gives_the_same_run() {
    for v in LESSON.variants {
        let a = LESSON.run(
            v,
            LESSON.defaults,
            common::scheduled_only(Schedule::random(9)),
        );
        let b = LESSON.run(
            v,
            LESSON.defaults,
            common::scheduled_only(Schedule::random(9)),
        );
        assert_eq!(a.trace, b.trace, "{}", v.name);
        assert_eq!(a.outcome, b.outcome, "{}", v.name);
    }
}

#[test]
fn timeout_leaks_worker_leaves_the_slow_replica_of_every_query_waiting() {
    let report = run(
        "timeout-leaks-worker",
        knobs(),
        common::scheduled_only(Schedule::random(4)),
    );
    let leaked = common::leak_of(&report);
    let served = report.outcome.as_ref().expect("main returned").items_out;
    assert_eq!(
        leaked.len() as u64,
        served,
        "one per query served: {leaked:?}"
    );
    for (q, w) in (1..).zip(leaked) {
        assert_eq!(w.worker, format!("replica#{}", knobs().workers));
        assert_eq!(
            w.state,
            WorkerState::BlockedSend {
                channel: format!("answers#{q}")
            }
        );
        assert!(w.detail.contains("rendezvous, 1 receiver alive"), "{w}");
    }
    println!("{}", report.verdict.as_ref().unwrap());

    // Free-running, the same: at least one replica waits forever to send.
    let report = run("timeout-leaks-worker", knobs(), free());
    let leaked = common::leak_of(&report);
    assert!(!leaked.is_empty());
    assert!(leaked.iter().all(|w| matches!(&w.state, WorkerState::BlockedSend { channel } if channel.starts_with("answers#"))), "{leaked:?}");
}

#[test]
fn buffered_reply_and_correct_leave_no_replica_behind() {
    for fix in ["buffered-reply", "correct"] {
        for config in [
            free(),
            common::scheduled_only(Schedule::random(4)),
            common::scheduled_only(Schedule::pct(4)),
        ] {
            let report = run(fix, knobs(), config);
            all_done(&report);
            let outcome = report.outcome.expect("main returned");
            assert!(!outcome.is_broken(), "{fix}: {outcome:?}");
            // Stopping at the session's end is the policy, said as such.
            assert!(outcome.held_by_design(), "{fix}: {outcome:?}");
            assert!(
                outcome.by_design[0].contains("left for the next session"),
                "{outcome:?}"
            );
        }
    }
}

#[test]
fn busy_default_counts_its_polls_in_both_modes() {
    let k = knobs();
    let report = session_on(Schedule::random(2), k, select_timeouts::busy_default);
    all_done(&report);
    let s = report.outcome.expect("main returned");
    let polls: u64 = s.served.iter().map(|q| q.polls).sum();
    // On the scheduler a poll that finds nothing waits 1 ms of lesson
    // time: about one poll per millisecond of the 10 s spent waiting.
    assert!((9_000..=11_000).contains(&polls), "{polls}");
    assert_eq!(
        s.served.len() as u64,
        queries_in_a_session(),
        "the same deadlines as correct"
    );

    let report = run(
        "busy-default",
        k,
        common::scheduled_only(Schedule::random(2)),
    );
    let outcome = report.outcome.expect("main returned");
    assert!(
        outcome.problems[0].starts_with(&format!(
            "CPU burned: main polled its answers {polls} times"
        )),
        "{outcome:?}"
    );
    assert!(
        outcome
            .notes
            .iter()
            .any(|n| n.starts_with("scheduled run: a poll that finds nothing waits 1 ms"))
    );

    // Free-running the count depends on the machine; it is never zero.
    let report = run("busy-default", k, free());
    assert!(report.verdict.is_none(), "{:?}", report.verdict);
    let outcome = report.outcome.expect("main returned");
    assert!(
        outcome.problems.iter().any(|p| p.starts_with("CPU burned")),
        "{outcome:?}"
    );
    assert!(
        outcome
            .notes
            .iter()
            .any(|n| n.starts_with("free-running: the loop polls as fast as a core allows"))
    );
    // The correct variant's select blocks: no poll at all.
    let report = run("correct", k, free());
    let outcome = report.outcome.expect("main returned");
    assert!(
        outcome.problems.is_empty() && !outcome.notes.iter().any(|n| n.contains("poll")),
        "{outcome:?}"
    );
}

#[test]
fn deadline_reset_per_message_runs_the_session_over() {
    let k = knobs();
    let report = session_on(
        Schedule::pct(3),
        k,
        select_timeouts::deadline_reset_per_message,
    );
    all_done(&report);
    let s = report.outcome.expect("main returned");
    assert_eq!(
        s.served.len() as u64,
        k.items,
        "the timer never fired: every query taken"
    );
    assert_eq!(s.end, SessionEnd::FeedDone);
    let late: Vec<Duration> = s
        .served
        .iter()
        .map(|q| q.taken_at)
        .filter(|t| *t > SESSION)
        .collect();
    assert_eq!(late, [10 * SECOND, 11 * SECOND]);

    for config in [common::scheduled_only(Schedule::pct(3)), free()] {
        let report = run("deadline-reset-per-message", k, config);
        assert!(report.verdict.is_none());
        let outcome = report.outcome.expect("main returned");
        assert!(
            outcome
                .problems
                .iter()
                .any(|p| p.starts_with("the session ran over")),
            "{outcome:?}"
        );
    }
}

#[test]
fn silent_hang_is_noticed_by_nobody_and_the_watchdog_names_the_feed() {
    let k = knobs();
    let report = session_on(Schedule::random(5), k, select_timeouts::silent_hang);
    all_done(&report);
    let s = report.outcome.expect("main returned");
    let sent = hang_after(k.items);
    // `queries` holds one: the feed sent query 4 while main served query 3.
    assert_eq!(
        s.feed,
        Some(FeedEnd::Hung {
            sent,
            since: (sent as u32 - 2) * SECOND
        })
    );
    assert_eq!(s.served.len() as u64, sent);
    assert_eq!(
        s.end,
        SessionEnd::TimeUp,
        "nothing but the session's end stopped it"
    );
    assert_eq!(s.ended_at, SESSION);

    let report = session_on(Schedule::random(5), k, select_timeouts::watchdog);
    all_done(&report);
    let s = report.outcome.expect("main returned");
    // Main took query 4 at 3 s, the last it heard from the feed, and served
    // it until 4 s; 1.5 s after 3 s it names the feed (at 4.5 s, not 5.5 s:
    // the silence counts from what main last heard, not from its last pass).
    let last = (sent as u32 - 1) * SECOND;
    assert_eq!(
        s.end,
        SessionEnd::FeedSilent {
            last_sign: last,
            named_at: last + SILENCE
        }
    );
    assert!(matches!(s.feed, Some(FeedEnd::Hung { .. })));

    for config in [free(), common::scheduled_only(Schedule::pct(5))] {
        let report = run("silent-hang", k, config.clone());
        all_done(&report);
        let outcome = report.outcome.expect("main returned");
        assert!(
            outcome.problems[0].starts_with("`feed` hung at"),
            "{outcome:?}"
        );
        assert!(outcome.problems[0].contains("nothing noticed"));

        let report = run("watchdog", k, config);
        all_done(&report);
        let outcome = report.outcome.expect("main returned");
        assert!(!outcome.is_broken(), "{outcome:?}");
        assert!(
            outcome.by_design[0].starts_with("main named `feed`"),
            "{outcome:?}"
        );
        assert_eq!(outcome.dropped, k.items - sent);
    }
}

/// The feed's heartbeats reach main: it hears them while it gathers a
/// query's answers. (Heard only in the session loop, they never would: a
/// query is always waiting there, and the loop is biased to queries.)
#[test]
fn heartbeats_reach_main_while_it_waits_for_answers() {
    for schedule in common::random_and_pct(0..10) {
        let report = session_on(schedule.clone(), knobs(), select_timeouts::correct);
        all_done(&report);
        let s = report.outcome.expect("main returned");
        // Main serves each query for 1 s; the feed beats every 0.5 s meanwhile.
        for q in &s.served {
            let beat = q
                .last_beat
                .unwrap_or_else(|| panic!("{schedule:?}: no beat in {q:?}"));
            assert!(
                beat > q.taken_at && beat <= q.taken_at + SECOND,
                "{schedule:?}: {q:?}"
            );
        }
        let beats = report
            .snapshot
            .channels
            .iter()
            .find(|c| c.name == "beats")
            .expect("a beats channel");
        assert!(
            beats.received >= s.served.len() as u64,
            "{schedule:?}: {beats:?}"
        );

        // The stuck feed beats until it hangs, and not after.
        let report = session_on(schedule.clone(), knobs(), select_timeouts::watchdog);
        all_done(&report);
        let s = report.outcome.expect("main returned");
        let Some(FeedEnd::Hung { since, .. }) = s.feed else {
            panic!("{schedule:?}: {:?}", s.feed)
        };
        let heard: Vec<Duration> = s.served.iter().filter_map(|q| q.last_beat).collect();
        assert!(!heard.is_empty(), "{schedule:?}");
        assert!(
            heard.iter().all(|&at| at <= since),
            "{schedule:?}: {heard:?}"
        );
    }
}

/// The exact condition under which each trap cannot show, from the
/// lesson's own reasoning: the test's copy, so a change to either is caught.
fn should_hide(trap: &str, k: &Knobs) -> bool {
    // Queries come a second apart; those taken before 9.5 s are 10.
    trap == "deadline-reset-per-message" && k.items <= 10
}

/// Both sides of `hidden_by` with `config`: hidden exactly when the test
/// says so; hidden runs clean, shown ones break.
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
    for items in [2, 5, 10, 11, 20] {
        for workers in [1, 3, 6] {
            for buffer in [1, 4] {
                let k = Knobs {
                    items,
                    buffer,
                    workers,
                    seed: 3,
                };
                let (h, s) = check_hidden_by(
                    k,
                    &common::scheduled_only(Schedule::random(items + workers as u64)),
                );
                hidden += h;
                shown += s;
            }
        }
    }
    assert!(hidden > 0 && shown > 0);
    // Free-running, away from the 10/11 edge, where a busy machine's
    // drift of a few tens of ms per query cannot move a query across 9.5 s.
    for items in [2, 6, 16] {
        check_hidden_by(Knobs { items, ..knobs() }, &free());
    }
}

#[test]
fn the_fixes_hold_with_other_knobs() {
    for (items, buffer, workers) in [(2, 1, 1), (5, 16, 8), (30, 2, 2), (11, 1, 16)] {
        let k = Knobs {
            items,
            buffer,
            workers,
            seed: 7,
        };
        for name in ["correct", "buffered-reply", "watchdog"] {
            let v = LESSON.variant(name).expect("variant exists");
            for config in [
                common::scheduled_only(Schedule::random(items)),
                common::scheduled_only(Schedule::pct(items)),
            ] {
                let report = LESSON.run(v, k, config);
                assert!(meets_expectation(v, &report), "{name} {k:?}: {report:?}");
                all_done(&report);
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
            break false; // over
        }
        let ops = lab.next_ops();
        lab.choose(pick(&ops)).expect("a choice the run offers");
    };
    let _ = run.stop();
    reached
}

fn first_choice(ops: &[NextOp]) -> Choice {
    ops.iter()
        .find_map(|op| op.choice)
        .expect("something can run")
}

#[test]
fn the_challenge_can_be_played_and_is_not_won_by_every_schedule() {
    let challenge = &LESSON.challenges[0];
    // The premise: both replicas of query 1 answer at the same instant.
    assert_eq!(
        answer_time(&challenge.knobs, 1, 1),
        answer_time(&challenge.knobs, 1, 2)
    );
    // Prefer replica#2 whenever it can go: it sends first.
    let reached = play(|ops| {
        ops.iter()
            .filter(|op| op.worker == "replica#2")
            .find_map(|op| op.choice)
            .unwrap_or_else(|| first_choice(ops))
    });
    assert!(reached, "a learner's schedule reaches the goal");
    // Prefer replica#1: the goal is not reached.
    let missed = play(|ops| {
        ops.iter()
            .filter(|op| op.worker == "replica#1")
            .find_map(|op| op.choice)
            .unwrap_or_else(|| first_choice(ops))
    });
    assert!(!missed, "replica#1 first cannot count");

    // Random schedules: some reach it, some do not.
    let variant = LESSON.variant(challenge.variant).expect("variant");
    let mut won = 0;
    for seed in 0..30 {
        let config = Config {
            log_items: true,
            ..common::scheduled_only(Schedule::random(seed))
        };
        let run = LESSON.start(variant, challenge.knobs, config);
        let lab = run.lab().clone();
        let report = run.wait();
        assert!(meets_expectation(variant, &report));
        let events = lab.events_since(0).events;
        if (challenge.reached)(&report.snapshot, &events) {
            won += 1;
        }
    }
    assert!(0 < won && won < 30, "won by {won} of 30 random schedules");
}

#[test]
fn the_challenge_goal_reads_the_first_send_on_answers_1() {
    let sent = |worker: &str, channel: &str| Event {
        seq: 0,
        at: Duration::ZERO,
        kind: EventKind::Sent {
            worker: worker.into(),
            channel: channel.into(),
            item: 1,
        },
        cleanup: false,
    };
    let snap = Lab::new(Config::default()).snapshot();
    let reached = LESSON.challenges[0].reached;
    assert!(!reached(&snap, &[]));
    assert!(reached(
        &snap,
        &[
            sent("replica#3", "answers#2"),
            sent("replica#2", "answers#1")
        ]
    ));
    assert!(!reached(
        &snap,
        &[
            sent("replica#1", "answers#1"),
            sent("replica#2", "answers#1")
        ]
    ));
}
