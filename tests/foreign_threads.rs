//! Threads the lab did not start: never a false deadlock.
//!
//! A `std::thread::spawn` or `thread::scope` thread is invisible to the lab
//! until it touches a channel, yet it may hold the only Sender. Each case is
//! forced (the outside thread sends only once main is seen blocked) and run
//! 2 000 times: zero deadlock verdicts, and the message always arrives.
//! These tests live in their own binary: their plain threads are exactly
//! what makes a run an open world, and they must not make another test's
//! real deadlock wait.

use std::sync::mpsc;
use std::time::Duration;

use chanlab::lab::{Config, Lab, Verdict, WorkerState};

const RUNS: usize = 2_000;

/// True once the lab shows `main` waiting to receive.
fn main_waits_to_receive(lab: &Lab) -> bool {
    lab.snapshot()
        .workers
        .iter()
        .any(|w| w.name == "main" && matches!(w.state, WorkerState::BlockedRecv { .. }))
}

/// Spins (yielding) until main is blocked: the interleaving the bug needs,
/// forced by watching the lab, not by sleeping.
fn until_main_blocks(lab: &Lab) {
    while !main_waits_to_receive(lab) {
        if lab.is_aborted() {
            return; // a (false) verdict was taken: the send below will fail
        }
        std::thread::yield_now();
    }
}

#[test]
fn smoke() {
    let report = Lab::run(Config::default(), |lab| {
        let (tx, rx) = lab.bounded::<u32>("from-outside", 0);
        let watcher = lab.clone();
        let outside = std::thread::spawn(move || {
            until_main_blocks(&watcher);
            tx.send(7)
        });
        let got = rx.recv();
        let _ = outside.join();
        got
    });
    assert!(report.verdict.is_none(), "{:?}", report.verdict);
    assert_eq!(report.outcome, Some(Ok(7)));
}

#[test]
fn an_unseen_spawned_thread_holding_the_only_sender_is_never_a_deadlock() {
    for run in 0..RUNS {
        let report = Lab::run(Config::default(), |lab| {
            let (tx, rx) = lab.bounded::<u32>("from-outside", 1);
            let watcher = lab.clone();
            let outside = std::thread::spawn(move || {
                until_main_blocks(&watcher);
                tx.send(1)
            });
            let got = rx.recv();
            let _ = outside.join();
            got
        });
        assert!(report.verdict.is_none(), "run {run}: {:?}", report.verdict);
        assert_eq!(report.outcome, Some(Ok(1)), "run {run}");
    }
}

#[test]
fn an_unseen_scoped_thread_holding_the_only_sender_is_never_a_deadlock() {
    for run in 0..RUNS {
        let report = Lab::run(Config::default(), |lab| {
            let (tx, rx) = lab.bounded::<u32>("from-scope", 0);
            std::thread::scope(|s| {
                s.spawn(|| {
                    until_main_blocks(lab);
                    tx.send(2)
                });
                rx.recv()
            })
        });
        assert!(report.verdict.is_none(), "run {run}: {:?}", report.verdict);
        assert_eq!(report.outcome, Some(Ok(2)), "run {run}");
    }
}

/// The thread's first operation completes; main receives it and blocks for
/// the second. The thread must be known by then (registered before its
/// operation, not after), or main's wait looks like a deadlock.
#[test]
fn a_thread_seen_once_is_known_before_its_first_message_can_be_received() {
    for run in 0..RUNS {
        let report = Lab::run(Config::default(), |lab| {
            let (tx, rx) = lab.bounded::<u32>("twice", 1);
            let watcher = lab.clone();
            let outside = std::thread::spawn(move || {
                tx.send(1)?;
                until_main_blocks(&watcher);
                tx.send(2)
            });
            let first = rx.recv();
            let second = rx.recv();
            let _ = outside.join();
            (first, second)
        });
        assert!(report.verdict.is_none(), "run {run}: {:?}", report.verdict);
        assert_eq!(report.outcome, Some((Ok(1), Ok(2))), "run {run}");
    }
}

/// An outside thread that never sends: the lab cannot prove a deadlock, so
/// after the quiet period it says *stall* and names the thread.
#[test]
fn an_outside_thread_that_never_sends_gets_a_stall_that_names_it() {
    let config = Config {
        stall_after: Duration::from_millis(100),
        ..Config::default()
    };
    let (release, released) = mpsc::channel::<()>();
    let (hand_back, parked) = mpsc::channel();
    let report = Lab::run(config, move |lab| {
        let (tx, rx) = lab.bounded::<u32>("silent", 0);
        let outside = std::thread::Builder::new()
            .name("silent-helper".into())
            .spawn(move || {
                let _ = released.recv(); // holds the Sender until the test ends
                let _ = hand_back.send(tx);
            })
            .unwrap();
        let got = rx.recv();
        drop(outside); // detached: the test releases it below
        got
    });
    drop(release);
    drop(parked.recv());
    let Some(Verdict::Stall { stuck, outside, .. }) = &report.verdict else {
        panic!("expected a stall, got {:?}", report.verdict);
    };
    assert_eq!(stuck[0].worker, "main");
    assert!(
        outside.iter().any(|t| t.starts_with("silent-helper")),
        "{outside:?}"
    );
    assert!(
        report
            .verdict
            .as_ref()
            .unwrap()
            .headline()
            .contains("silent-helper"),
        "the headline names it"
    );
}

/// With no outside thread alive the verdict stays exact and immediate.
#[test]
fn with_every_thread_vouched_for_a_real_deadlock_is_still_taken() {
    let report = Lab::run(Config::default(), |lab| {
        let (_tx, rx) = lab.bounded::<u32>("nobody-sends", 0);
        rx.recv()
    });
    assert!(
        matches!(report.verdict, Some(Verdict::Deadlock { .. })),
        "{:?}",
        report.verdict
    );
}

/// A thread made before the run (a pool's worker) that is handed the only
/// Sender through a std channel: it is not one the lab can vouch for, so
/// main's wait is never called a deadlock.
#[test]
fn a_pool_thread_made_before_the_run_and_handed_the_sender_is_never_a_deadlock() {
    // Some lab exists before the pool, as in a process that ran lessons
    // before: the pool's thread is younger than the first lab.
    drop(Lab::new(Config::default()));
    let (jobs, inbox) = mpsc::channel::<Box<dyn FnOnce() + Send>>();
    let pool = std::thread::Builder::new()
        .name("pool-worker".into())
        .spawn(move || {
            for job in inbox {
                job();
            }
        })
        .unwrap();
    for run in 0..200 {
        let jobs = jobs.clone();
        let report = Lab::run(Config::default(), move |lab| {
            let (tx, rx) = lab.bounded::<u32>("from-pool", 0);
            let watcher = lab.clone();
            jobs.send(Box::new(move || {
                until_main_blocks(&watcher);
                let _ = tx.send(3);
            }))
            .unwrap();
            rx.recv()
        });
        assert!(report.verdict.is_none(), "run {run}: {:?}", report.verdict);
        assert_eq!(report.outcome, Some(Ok(3)), "run {run}");
    }
    drop(jobs);
    pool.join().unwrap();
}
