//! Lesson 04: the token bucket is exact on a fake clock, every trap breaks
//! as described, every fix holds.

mod common;

use common::{assert_every_variant_meets_its_expectation, fast};
use std::time::{Duration, Instant};

use chanlab::lab::{Config, Lab, Report, WorkerState};
use chanlab::lessons::rate_limiter::{
    self, Clock, ExceedsBurst, FakeClock, LESSON, LabClock, Limiter, Pass, RATE, WaitError,
};
use chanlab::lessons::{Knobs, Outcome, meets_expectation_with};

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
fn ten_tenths_of_a_token_make_exactly_one() {
    // With a float64 bucket, ten additions of 0.1 give 0.9999999999999999
    // and the request that is due would be refused; counted in billionths,
    // ten steps of 1 ms at 100/s earn exactly one token.
    let clock = FakeClock::new();
    let mut lim = Limiter::new(100, 1, clock.clone());
    assert!(lim.allow());
    for step in 1..10 {
        clock.advance(MS);
        assert!(!lim.allow(), "{step} ms earn only {step} tenths");
    }
    clock.advance(MS);
    assert!(lim.allow(), "the tenth tenth makes a whole token");
    assert!(lim.tokens_at(clock.now()).abs() < 1e-12);

    let mut float_tokens = 0.0_f64;
    for _ in 0..10 {
        float_tokens += 0.1;
    }
    assert!(
        float_tokens < 1.0,
        "what the README says a float bucket does"
    );
    assert_eq!(
        float_tokens.to_bits(),
        0.999_999_999_999_999_9_f64.to_bits()
    );
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
    assert_never_faster_than_the_limit(&served.passed, k.buffer);
    let burst = k.buffer as f64;
    // And it is not needlessly slow: the last one is due at (n - b)/r.
    let due = (k.items as f64 - burst) / f64::from(RATE);
    let last = served.passed.last().expect("some passed").at.as_secs_f64();
    assert!(last >= due - 1e-6, "{last} < {due}");
}

#[test]
fn refill_never_stopped_leaks_the_refill_worker() {
    // Speed 1: the leak grace is a second, ten times what the refill needs
    // to top the bucket up (a token per 10 ms), even on a loaded machine.
    let v = LESSON.variant("refill-never-stopped").expect("variant");
    let k = Knobs {
        items: 20,
        ..knobs()
    };
    let report = LESSON.run(v, k, Config::default());
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
    assert_eq!(outcome.items_out, k.items);
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

    // The refusal is the policy, not a loss: counted as dropped by design.
    let report = run("reject-oversized");
    let outcome = report.outcome.expect("main returned");
    assert_eq!(
        (outcome.items_out, outcome.lost, outcome.dropped),
        (k.items - 1, 0, 1),
        "{outcome:?}"
    );
    assert!(!outcome.is_broken(), "{outcome:?}");
    assert!(outcome.held_by_design(), "{outcome:?}");
    assert_eq!(outcome.by_design.len(), 1, "{:?}", outcome.by_design);
    let said = &outcome.by_design[0];
    assert!(
        said.contains(&format!("request #{}", k.items / 2))
            && said.contains("refused by design")
            && said.contains("ExceedsBurst"),
        "{said}"
    );
    assert_eq!(outcome.to_string(), "300 in, 299 out, 1 dropped by design");
    println!("{outcome}: {:?}", outcome.by_design);
}

#[test]
fn an_aborted_run_reports_what_reached_the_server() {
    // burst-too-large deadlocks half-way: the joins fail, but the outcome
    // must count the requests that did get through, as the lab saw them.
    let report = run("burst-too-large");
    common::deadlock_of(&report);
    let outcome = report.outcome.as_ref().expect("main returned");
    let received = report
        .snapshot
        .channels
        .iter()
        .find(|c| c.name == "sent")
        .expect("the `sent` channel")
        .received;
    assert!(received > 0, "requests passed before the oversized one");
    assert_eq!(outcome.items_out, received, "{outcome:?}");
    assert_eq!(outcome.items_in, knobs().items);
    assert_eq!(outcome.lost, outcome.items_in - outcome.items_out);
    assert!(
        outcome.notes.iter().any(|n| n.contains("aborted")),
        "{:?}",
        outcome.notes
    );
}

// ---- lesson time and pause ---------------------------------------------

/// Polls the lab until `ready` holds: waiting for an observable state.
fn wait_until(lab: &Lab, ready: impl Fn(&Lab) -> bool) {
    let started = Instant::now();
    while !ready(lab) {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the lab never got there"
        );
        std::thread::sleep(MS);
    }
}

#[test]
fn the_lab_clock_stands_still_while_paused() {
    let lab = Lab::new(Config {
        start_paused: true,
        ..fast()
    });
    let clock = LabClock::new(&lab);
    // 20 ms of wall time is 2 s of lesson time at speed 100, if a pause counted.
    std::thread::sleep(20 * MS);
    assert_eq!(clock.now(), Duration::ZERO, "started paused: no time yet");
    lab.set_paused(false);
    wait_until(&lab, |_| clock.now() > Duration::ZERO);
    lab.set_paused(true);
    let paused_at = clock.now();
    std::thread::sleep(20 * MS);
    assert_eq!(
        clock.now(),
        paused_at,
        "paused again: it stands still again"
    );
}

#[test]
fn a_pause_is_not_time_in_which_tokens_are_earned() {
    let k = Knobs {
        items: 40,
        ..knobs()
    };
    let config = Config {
        start_paused: true,
        ..fast()
    };
    let run = Lab::start(config, move |lab| rate_limiter::serve(lab, "correct", &k));
    let lab = run.lab().clone();
    // Main makes its channels, the limiter (and its clock) and the workers
    // without passing the gate, then waits at it to join: from the moment
    // `server` exists, the limiter's clock exists.
    wait_until(&lab, |lab| {
        lab.snapshot().workers.iter().any(|w| w.name == "server")
    });
    let paused_at = lab.now();
    // 100 ms of wall time is 10 s of lesson time at speed 100, if a pause counted.
    std::thread::sleep(100 * MS);
    assert_eq!(lab.now(), paused_at, "paused: lesson time stands still");
    for _ in 0..3 {
        lab.step();
    }
    // A step lets lesson time run only until a worker is held at the gate
    // again — milliseconds, not the 10 s the pause lasted on the wall clock.
    let stepped = lab.now().saturating_sub(paused_at);
    assert!(
        stepped < Duration::from_secs(1),
        "a step ran the clock for {stepped:?}"
    );
    lab.set_paused(false);

    let report = run.wait();
    assert!(report.verdict.is_none(), "{:?}", report.verdict);
    let served = report.outcome.expect("main returned");
    assert_eq!(served.passed.len() as u64, k.items);
    // The first request passes from the full bucket as soon as the run
    // resumes: at lesson time ~0, not after the 10 s the pause lasted.
    let first = served.passed[0].at;
    assert!(
        first < Duration::from_secs(5),
        "the first request passed at {first:?} of lesson time: the pause counted"
    );
    // And no pause or delay ever lets more through than b + r·t.
    assert_never_faster_than_the_limit(&served.passed, k.buffer);
    let last = served.passed.last().expect("some passed").at;
    let observed = (k.items - k.buffer as u64) as f64 / last.as_secs_f64();
    assert!(
        observed <= f64::from(RATE) + 1e-6,
        "observed {observed:.1}/s (limit {RATE}/s)"
    );
}

fn assert_never_faster_than_the_limit(passed: &[Pass], burst: usize) {
    for (i, pass) in passed.iter().enumerate() {
        let allowed = burst as f64 + f64::from(RATE) * pass.at.as_secs_f64();
        assert!(
            (i + 1) as f64 <= allowed + 1e-6,
            "request {} passed at {:?}: {} through, at most {allowed} allowed",
            pass.id,
            pass.at,
            i + 1
        );
    }
}

// ---- which knobs hide which trap -----------------------------------------

/// Items, burst and clients around the edges that matter: fewer, as many
/// and more requests than the burst.
fn sweep() -> Vec<Knobs> {
    let mut all = Vec::new();
    for buffer in [1, 3, 8] {
        for items in [1, buffer as u64, buffer as u64 + 1, buffer as u64 + 4] {
            for workers in [1, 3] {
                all.push(Knobs {
                    items,
                    buffer,
                    workers,
                    seed: 7,
                });
            }
        }
    }
    all
}

#[test]
fn busy_wait_is_hidden_exactly_when_no_request_must_wait() {
    let v = LESSON.variant("busy-wait").expect("variant");
    for knobs in sweep() {
        let hidden = LESSON.hidden(v, &knobs);
        let fits = knobs.items <= knobs.buffer as u64;
        assert_eq!(hidden.is_some(), fits, "{knobs:?}: {hidden:?}");
        if let Some(why) = hidden {
            // The full bucket serves them all, whatever the timing.
            let report = LESSON.run(v, knobs, fast());
            assert!(
                meets_expectation_with(&LESSON, v, &knobs, &report),
                "{knobs:?}: {report:?}"
            );
            let outcome = report.outcome.expect("main returned");
            assert!(!outcome.is_broken(), "{knobs:?} hidden, yet {outcome:?}");
            assert!(
                why.contains(&format!("--items {}", knobs.buffer + 1)),
                "{why}"
            );
        }
    }
    // Beyond the burst a request waits unless the limiter itself took a
    // whole token interval to pass the requests before it. At speed 0.1 an
    // interval is 100 ms of wall time: far longer than that takes, even on
    // a loaded machine.
    let slow = Config {
        speed: 0.1,
        ..Config::default()
    };
    for buffer in [1, 3, 8] {
        for (extra, workers) in [(1, 1), (1, 3), (2, 2)] {
            let knobs = Knobs {
                items: buffer as u64 + extra,
                buffer,
                workers,
                seed: 7,
            };
            assert_eq!(LESSON.hidden(v, &knobs), None, "{knobs:?}");
            let report = LESSON.run(v, knobs, slow.clone());
            assert!(
                meets_expectation_with(&LESSON, v, &knobs, &report),
                "{knobs:?}: {report:?}"
            );
            let outcome = report.outcome.expect("main returned");
            assert!(
                outcome.problems.iter().any(|p| p.contains("CPU burned")),
                "{knobs:?}: {outcome:?}"
            );
        }
    }
}

#[test]
fn refill_and_burst_traps_show_with_every_knob() {
    for name in ["refill-never-stopped", "burst-too-large"] {
        let v = LESSON.variant(name).expect("variant");
        for knobs in sweep() {
            assert_eq!(LESSON.hidden(v, &knobs), None, "{name} {knobs:?}");
            let report = LESSON.run(v, knobs, fast());
            assert!(
                meets_expectation_with(&LESSON, v, &knobs, &report),
                "{name} {knobs:?}: {report:?}"
            );
        }
    }
}

#[test]
fn correct_and_fix_are_never_hidden_and_hold_over_the_sweep() {
    for name in ["correct", "reject-oversized"] {
        let v = LESSON.variant(name).expect("variant");
        for knobs in sweep() {
            assert_eq!(LESSON.hidden(v, &knobs), None);
            let report = LESSON.run(v, knobs, fast());
            assert!(
                meets_expectation_with(&LESSON, v, &knobs, &report),
                "{name} {knobs:?}: {report:?}"
            );
            let outcome = report.outcome.expect("main returned");
            assert_eq!(outcome.lost, 0, "{name} {knobs:?}: {outcome:?}");
            assert_eq!(
                outcome.items_out + outcome.dropped,
                knobs.items,
                "{name} {knobs:?}"
            );
        }
    }
}

#[test]
fn every_variant_meets_its_expectation() {
    assert_every_variant_meets_its_expectation(&LESSON);
}

/// The busy-wait spins, but each poll checks `done` (a lab operation), so
/// pausing the run holds the spinning limiter at the gate like everyone.
#[test]
fn a_pause_holds_the_busy_wait_spin_too() {
    let k = knobs();
    let run = Lab::start(
        Config {
            speed: 1.0,
            ..Config::default()
        },
        move |lab| rate_limiter::serve(lab, "busy-wait", &k),
    );
    let lab = run.lab().clone();
    let limiter_is = |lab: &Lab, want: fn(&WorkerState) -> bool| {
        lab.snapshot()
            .workers
            .iter()
            .any(|w| w.name == "limiter" && want(&w.state))
    };
    // Past the burst: the limiter is spinning for its next token.
    wait_until(&lab, |lab| {
        lab.snapshot()
            .channels
            .iter()
            .any(|c| c.name == "sent" && c.sent > k.buffer as u64)
    });
    lab.set_paused(true);
    wait_until(&lab, |lab| limiter_is(lab, |s| *s == WorkerState::Paused));
    lab.set_paused(false);
    drop(run.stop());
}
