//! Lesson 03: every trap breaks as described, every fix holds.

mod common;

use chanlab::lab::{Lab, Report, WorkerState};
use chanlab::lessons::worker_pool::{LESSON, Pool, PoolClosed};
use chanlab::lessons::{Knobs, Outcome};
use common::{assert_every_variant_meets_its_expectation, fast};

fn knobs() -> Knobs {
    LESSON.defaults
}

fn run(variant: &str) -> Report<Outcome> {
    common::run(&LESSON, variant)
}

fn clean(report: &Report<Outcome>) -> &Outcome {
    assert!(report.verdict.is_none(), "{:?}", report.verdict);
    assert!(report.unstoppable.is_empty());
    assert!(
        report
            .snapshot
            .workers
            .iter()
            .all(|w| w.state == WorkerState::Done)
    );
    report.outcome.as_ref().expect("main returned")
}

#[test]
fn smoke() {
    let report = run("correct");
    let outcome = clean(&report);
    assert_eq!(outcome.items_in, 24);
    assert_eq!(outcome.items_out, 24);
    assert_eq!(outcome.lost, 0);
    assert!(!outcome.is_broken(), "{outcome:?}");
}

#[test]
fn join_before_drain_deadlocks_main_joining_workers_sending() {
    let report = run("join-before-drain");
    let stuck = common::deadlock_of(&report);
    let main = common::named(stuck, "main");
    assert!(
        matches!(&main.state, WorkerState::Joining { worker } if worker.starts_with("worker#")),
        "{main}"
    );
    let senders: Vec<_> = stuck
        .iter()
        .filter(|s| {
            s.state
                == WorkerState::BlockedSend {
                    channel: "results".into(),
                }
        })
        .collect();
    assert_eq!(senders.len(), knobs().workers, "{stuck:?}");
    assert!(senders.iter().all(|s| s.worker.starts_with("worker#")));
    assert!(senders[0].detail.contains("4/4 full"), "{}", senders[0]);
    println!("{}", report.verdict.as_ref().unwrap());
}

#[test]
fn drain_before_join_holds() {
    let report = run("drain-before-join");
    let outcome = clean(&report);
    assert_eq!(outcome.items_out, 24);
    assert_eq!(outcome.lost, 0);
    assert!(outcome.problems.is_empty(), "{outcome:?}");
}

#[test]
fn submit_after_close_returns_the_job_as_an_error() {
    // The pool itself: the job comes back as a value, no panic.
    let report = Lab::run(fast(), |lab| {
        let pool: Pool<u64, u64> = Pool::new(lab, 2, 1, |_| |job| job * job);
        pool.submit(3).expect("an open pool accepts");
        pool.close();
        let late = pool.submit(7);
        let results: Vec<u64> = pool.results().iter().collect();
        pool.join();
        (late, results)
    });
    assert!(report.verdict.is_none(), "{:?}", report.verdict);
    let (late, results) = report.outcome.expect("main returned");
    assert_eq!(late, Err(PoolClosed(7)));
    assert_eq!(results, vec![9]);

    // The lesson's run counts the refused job.
    let report = run("submit-after-close");
    assert!(report.verdict.is_none(), "{:?}", report.verdict);
    let outcome = report.outcome.expect("main returned");
    assert_eq!(outcome.items_in, 25);
    assert_eq!(outcome.items_out, 24);
    assert_eq!(outcome.lost, 1);
    assert!(outcome.is_broken());
    assert!(
        outcome
            .notes
            .iter()
            .any(|n| n.contains("Err(PoolClosed(25))")),
        "{outcome:?}"
    );
    println!("{outcome}: {:?} {:?}", outcome.problems, outcome.notes);
}

#[test]
fn cancel_drops_the_queued_jobs() {
    let report = run("cancel-drops-jobs");
    assert!(report.verdict.is_none(), "{:?}", report.verdict);
    assert!(report.unstoppable.is_empty());
    let outcome = report.outcome.expect("main returned");
    let k = knobs();
    // Jobs 1..=17 ran before cancel, 3 were in hand (they finish), 4 queued (lost).
    assert_eq!(outcome.items_out, k.items - k.buffer as u64);
    assert_eq!(outcome.lost, k.buffer as u64);
    assert!(outcome.is_broken());
    assert!(
        outcome.problems[0].contains("dropped at cancel"),
        "{outcome:?}"
    );
    println!("{outcome}: {:?} {:?}", outcome.problems, outcome.notes);
}

#[test]
fn hand_back_accounts_for_every_job() {
    let report = run("hand-back");
    let outcome = clean(&report);
    let k = knobs();
    assert_eq!(outcome.items_out, k.items - k.buffer as u64);
    assert_eq!(outcome.lost, 0);
    assert!(outcome.problems.is_empty(), "{outcome:?}");
    assert!(
        outcome
            .notes
            .iter()
            .any(|n| n.contains(&format!("{} handed back", k.buffer))),
        "{outcome:?}"
    );
    println!("{outcome}: {:?}", outcome.notes);
}

#[test]
fn cancel_returns_queued_jobs_and_refuses_later_submits() {
    let report = Lab::run(fast(), |lab| {
        // Nobody reads `results` and worker#1 is busy with job 1, so 2 and 3 stay queued.
        let (hold_tx, hold) = lab.bounded::<()>("hold", 0);
        let pool: Pool<u64, u64> = Pool::new(lab, 1, 2, move |_| {
            let hold = hold.clone();
            move |job| {
                let _ = hold.recv();
                job
            }
        });
        pool.submit(1).expect("accepted");
        pool.submit(2).expect("accepted");
        pool.submit(3).expect("accepted");
        let back = pool.cancel();
        let late = pool.submit(4);
        drop(hold_tx);
        let results: Vec<u64> = pool.results().iter().collect();
        pool.join();
        (back, late, results)
    });
    assert!(report.verdict.is_none(), "{:?}", report.verdict);
    let (back, late, results) = report.outcome.expect("main returned");
    assert_eq!(late, Err(PoolClosed(4)));
    // Job 1 was in hand: it finishes. Jobs 2 and 3 were queued: they come back.
    assert_eq!(back, vec![2, 3]);
    assert_eq!(results, vec![1]);
}

#[test]
fn every_variant_meets_its_expectation() {
    assert_every_variant_meets_its_expectation(&LESSON);
}

#[test]
fn other_knobs_keep_the_fixes_clean() {
    common::assert_clean_with_other_knobs(&LESSON, &["correct", "drain-before-join", "hand-back"]);
}
