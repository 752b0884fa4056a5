//! Lesson 04: the token bucket is exact on a fake clock, every trap breaks
//! as described, every fix holds.

mod common;

use common::{assert_every_variant_meets_its_expectation, fast};
use std::time::{Duration, Instant};

use chanlab::lab::{Config, Lab, Report, WorkerState};
use chanlab::lessons::rate_limiter::{
    self, Clock, ExceedsBurst, FakeClock, LESSON, Limiter, RATE, WaitError,
};
use chanlab::lessons::{Knobs, Outcome};

fn knobs() -> Knobs {
    LESSON.defaults
}

fn run(variant: &str) -> Report<Outcome> {
    common::run(&LESSON, variant)
}

const MS: Duration = Duration::from_millis(1);

#[test]
fn smoke() {
    let report = run("correct");
    assert!(report.verdict.is_none(), "{:?}", report.verdict);
    let outcome = report.outcome.expect("main returned");
    assert_eq!(outcome.items_out, knobs().items);
    assert_eq!(outcome.lost, 0);
    assert!(!outcome.is_broken(), "{outcome:?}");
    println!("{outcome}: {:?}", outcome.notes);
}

// ---- the bucket on a fake clock ----------------------------------------

#[test]
fn burst_passes_at_once_then_one_per_interval() {
    let clock = FakeClock::new();
    let mut lim = Limiter::new(100, 10, clock.clone());
    let t0 = clock.now();
    for i in 0..10 {
        assert!(lim.allow_at(t0), "request {i} of the burst");
    }
    assert!(!lim.allow_at(t0), "request 11 must wait");
    // One token is earned every 1/r = 10 ms, not before.
    assert!(!lim.allow_at(t0 + 9 * MS));
    assert!(lim.allow_at(t0 + 10 * MS));
    assert!(!lim.allow_at(t0 + 19 * MS));
    assert!(lim.allow_at(t0 + 20 * MS));
}

#[test]
fn request_after_the_burst_waits_exactly_one_interval() {
    let clock = FakeClock::new();
    let mut lim = Limiter::new(100, 10, clock.clone());
    for _ in 0..10 {
        assert_eq!(lim.reserve(1), Ok(Duration::ZERO));
    }
    assert_eq!(lim.reserve(1), Ok(10 * MS), "b+1 waits 1/r");
    assert_eq!(lim.reserve(1), Ok(20 * MS), "b+2 waits 2/r");
    clock.advance(20 * MS);
    assert_eq!(lim.reserve(1), Ok(10 * MS));
    // Idle long enough and the bucket is full again, never fuller.
    clock.advance(Duration::from_secs(10));
    assert!((lim.tokens_at(clock.now()) - 10.0).abs() < 1e-9);
}

#[test]
fn tokens_are_earned_from_elapsed_time_with_a_cap() {
    let clock = FakeClock::new();
    let mut lim = Limiter::new(4, 2, clock.clone());
    assert!(lim.allow_n(2));
    assert!(!lim.allow());
    clock.advance(Duration::from_millis(250));
    assert!(lim.allow(), "4/s earns one token in 250 ms");
    clock.advance(Duration::from_secs(3600));
    assert!(lim.allow_n(2));
    assert!(!lim.allow(), "the bucket holds at most b = 2");
}

#[test]
fn more_than_the_burst_is_rejected_at_once() {
    let clock = FakeClock::new();
    let mut lim = Limiter::new(100, 10, clock.clone());
    assert_eq!(lim.reserve(11), Err(ExceedsBurst { n: 11, burst: 10 }));
    // Refusing took nothing: the whole burst is still there.
    assert_eq!(lim.reserve(10), Ok(Duration::ZERO));

    // `wait_n` refuses without waiting, even with a rate this slow.
    let report = Lab::run(Config::default(), |lab| {
        let mut lim = Limiter::new(0, 10, FakeClock::new());
        let (_done_tx, done) = lab.bounded::<()>("done", 0);
        let started = Instant::now();
        let got = lim.wait_n(lab, &done, 11);
        (got, started.elapsed())
    });
    let (got, took) = report.outcome.expect("main returned");
    assert_eq!(
        got,
        Err(WaitError::ExceedsBurst(ExceedsBurst { n: 11, burst: 10 }))
    );
    assert!(took < Duration::from_secs(1), "{took:?}");
    assert!(report.verdict.is_none());
}

#[test]
fn wait_returns_at_once_with_tokens_and_honours_cancellation() {
    let report = Lab::run(Config::default(), |lab| {
        let clock = FakeClock::new();
        // No refill at all: any real wait would hang the test.
        let mut lim = Limiter::new(0, 1, clock.clone());
        let (done_tx, done) = lab.bounded::<()>("done", 0);
        let first = lim.wait(lab, &done);
        drop(done_tx); // Go: cancel()
        let started = Instant::now();
        let second = lim.wait(lab, &done);
        let took = started.elapsed();
        // The cancelled wait took nothing: the bucket is as it was.
        let tokens = lim.tokens_at(clock.now());
        (first, second, took, tokens)
    });
    let (first, second, took, tokens) = report.outcome.expect("main returned");
    assert_eq!(
        first,
        Ok(()),
        "a full bucket lets the first through at once"
    );
    assert_eq!(second, Err(WaitError::Cancelled));
    assert!(took < Duration::from_secs(1), "{took:?}");
    assert!(tokens.abs() < 1e-9, "{tokens}");
    assert!(report.verdict.is_none());
}

#[test]
fn a_wait_in_progress_is_woken_by_done() {
    // The waiter may reach its select before or after `done` closes; either
    // way it must end with `Cancelled`, and give its reservation back.
    let report = Lab::run(Config::default(), |lab| {
        let clock = FakeClock::new();
        let mut lim = Limiter::new(0, 1, clock.clone());
        let (done_tx, done) = lab.bounded::<()>("done", 0);
        let waiter_lab = lab.clone();
        let (started_tx, started) = lab.bounded::<()>("started", 0);
        let waiter = lab.go("waiter", move || {
            let first = lim.wait(&waiter_lab, &done);
            drop(started_tx);
            let got = lim.wait(&waiter_lab, &done); // owes forever: no refill
            (first, got, lim.tokens_at(clock.now()))
        });
        let _ = started.recv(); // the first token is taken
        drop(done_tx); // Go: cancel()
        waiter.join()
    });
    let (first, got, tokens) = report
        .outcome
        .expect("main returned")
        .expect("waiter returned");
    assert_eq!(first, Ok(()));
    assert_eq!(got, Err(WaitError::Cancelled));
    assert!(tokens.abs() < 1e-9, "{tokens}");
    assert!(report.verdict.is_none(), "{:?}", report.verdict);
}

// ---- the lesson's runs -------------------------------------------------

#[test]
fn correct_never_passes_more_than_burst_plus_rate_times_t() {
    let k = knobs();
    let report = Lab::run(fast(), move |lab| rate_limiter::serve(lab, "correct", &k));
    assert!(report.verdict.is_none(), "{:?}", report.verdict);
    let served = report.outcome.expect("main returned");
    assert_eq!(served.passed.len() as u64, k.items);
    let burst = k.buffer as f64;
    for (i, pass) in served.passed.iter().enumerate() {
        let allowed = burst + f64::from(RATE) * pass.at.as_secs_f64();
        assert!(
            (i + 1) as f64 <= allowed + 1e-6,
            "request {} passed at {:?}: {} through, at most {allowed} allowed",
            pass.id,
            pass.at,
            i + 1
        );
    }
    // And it is not needlessly slow: the last one is due at (n - b)/r.
    let due = (k.items as f64 - burst) / f64::from(RATE);
    let last = served.passed.last().expect("some passed").at.as_secs_f64();
    assert!(last >= due - 1e-6, "{last} < {due}");
}

#[test]
fn refill_never_stopped_leaks_the_refill_worker() {
    let report = run("refill-never-stopped");
    let leaked = common::leak_of(&report);
    let refill = common::named(leaked, "refill");
    assert_eq!(
        refill.state,
        WorkerState::BlockedSend {
            channel: "tokens".into()
        }
    );
    assert!(refill.detail.contains("10/10 full"), "{}", refill.detail);
    assert!(
        refill.detail.contains("1 receiver alive"),
        "{}",
        refill.detail
    );
    assert_eq!(leaked.len(), 1, "{leaked:?}");
    // Every request was still served: the bug is the thread left behind.
    let outcome = report.outcome.as_ref().expect("main returned");
    assert_eq!(outcome.items_out, knobs().items);
    println!("{}", report.verdict.as_ref().unwrap());
}

#[test]
fn busy_wait_serves_everyone_but_burns_polls() {
    let report = run("busy-wait");
    assert!(report.verdict.is_none(), "{:?}", report.verdict);
    let outcome = report.outcome.expect("main returned");
    assert_eq!(
        outcome.items_out,
        knobs().items,
        "every request still passes"
    );
    assert!(outcome.is_broken(), "{outcome:?}");
    assert!(
        outcome.problems[0].contains("CPU burned"),
        "{:?}",
        outcome.problems
    );
    println!("{:?}", outcome.problems);

    // The fix: the same run sleeps instead, and polls nothing.
    let k = knobs();
    let report = Lab::run(fast(), move |lab| rate_limiter::serve(lab, "correct", &k));
    assert_eq!(report.outcome.expect("main returned").polls, 0);
}

#[test]
fn burst_too_large_deadlocks_naming_the_limiter() {
    let report = run("burst-too-large");
    let stuck = common::deadlock_of(&report);
    let limiter = common::named(stuck, "limiter");
    assert_eq!(
        limiter.state,
        WorkerState::BlockedRecv {
            channel: "refilled".into()
        }
    );
    let refill = common::named(stuck, "refill");
    assert_eq!(
        refill.state,
        WorkerState::BlockedSend {
            channel: "tokens".into()
        }
    );
    assert!(refill.detail.contains("10/10 full"), "{}", refill.detail);
    println!("{}", report.verdict.as_ref().unwrap());
}

#[test]
fn reject_oversized_refuses_only_the_big_request() {
    let k = knobs();
    let report = Lab::run(fast(), move |lab| {
        rate_limiter::serve(lab, "reject-oversized", &k)
    });
    assert!(report.verdict.is_none(), "{:?}", report.verdict);
    let served = report.outcome.expect("main returned");
    assert_eq!(served.refused.len(), 1);
    assert_eq!(served.refused[0].cost, 2 * k.buffer as u32);
    assert_eq!(served.passed.len() as u64, k.items - 1);
    assert!(served.passed.iter().all(|p| p.id != served.refused[0].id));

    let report = run("reject-oversized");
    let outcome = report.outcome.expect("main returned");
    assert_eq!(outcome.lost, 1);
    assert!(!outcome.is_broken(), "{outcome:?}");
    assert!(
        outcome.notes.iter().any(|n| n.contains("ExceedsBurst")),
        "{:?}",
        outcome.notes
    );
    println!("{outcome}: {:?}", outcome.notes);
}

#[test]
fn every_variant_meets_its_expectation() {
    assert_every_variant_meets_its_expectation(&LESSON);
}
