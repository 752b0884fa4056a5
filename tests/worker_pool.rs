//! Lesson 03: every trap breaks as described, every fix holds.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chanlab::lab::{Lab, Report, Snapshot, WorkerState};
use chanlab::lessons::worker_pool::{LESSON, Pool, PoolClosed};
use chanlab::lessons::{Knobs, Outcome};
use common::{assert_every_variant_meets_its_expectation, fast};

/// Waits (at most 10 s) until `cond` holds for the lab's snapshot: an
/// observable state, not a guess at how long something takes.
fn wait_for(lab: &Lab, what: &str, cond: impl Fn(&Snapshot) -> bool) {
    let start = Instant::now();
    while !cond(&lab.snapshot()) {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "timed out waiting for {what}"
        );
        std::thread::yield_now();
    }
}

fn state(snapshot: &Snapshot, worker: &str) -> Option<WorkerState> {
    snapshot
        .workers
        .iter()
        .find(|w| w.name == worker)
        .map(|w| w.state.clone())
}

fn waits_on(channel: &str) -> WorkerState {
    WorkerState::BlockedRecv {
        channel: channel.into(),
    }
}

/// A pool of one worker that holds each job until `release` closes, with a
/// queue of one: after `submit(1)` and `submit(2)` return, worker#1 holds
/// job 1 and job 2 fills the queue.
fn held_pool(lab: &Lab) -> (Arc<Pool<u64, u64>>, chanlab::lab::Sender<()>) {
    let (release_tx, release) = lab.bounded::<()>("release", 0);
    let pool = Pool::new(lab, 1, 1, move |_| {
        let release = release.clone();
        move |job| {
            let _ = release.recv();
            job
        }
    });
    pool.submit(1).expect("an open pool accepts");
    pool.submit(2).expect("an open pool accepts");
    (Arc::new(pool), release_tx)
}

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
fn join_before_drain_reports_the_lab_counts_not_zeros() {
    // The deadlock aborts the run: main's reads come back empty, so the
    // outcome counts from the lab's counters. With the defaults: 4 results
    // in `results`, 3 more held by workers waiting to send, 4 queued.
    let report = run("join-before-drain");
    let outcome = report.outcome.as_ref().expect("main returned");
    assert_eq!(outcome.items_in, 24);
    assert_eq!(
        outcome.items_out, 0,
        "main read nothing before the deadlock"
    );
    let problem = &outcome.problems[0];
    for fact in [
        "got 11 of 24 jobs into the pool",
        "took 7",
        "got 4 results into `results`",
        "main read 0",
    ] {
        assert!(problem.contains(fact), "`{fact}` not in: {problem}");
    }
    let results = report
        .snapshot
        .channels
        .iter()
        .find(|c| c.name == "results")
        .expect("a results channel");
    assert_eq!((results.sent, results.received), (4, 0));
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
    // The text says `jobs` still shows 4/4 when the workers are gone.
    let jobs = report
        .snapshot
        .channels
        .iter()
        .find(|c| c.name == "jobs")
        .expect("a jobs channel");
    assert_eq!((jobs.len, jobs.capacity), (k.buffer, Some(k.buffer)));
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
    // Handing back is the policy, not "everything ran": it says so.
    assert_eq!(outcome.dropped, 0, "handed back is not dropped");
    assert!(outcome.held_by_design(), "{outcome:?}");
    assert!(
        outcome.by_design[0].starts_with(&format!("{} queued job(s) handed back", k.buffer)),
        "{outcome:?}"
    );
    println!("{outcome}: {:?} {:?}", outcome.by_design, outcome.notes);
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

/// Every job whose `submit` returned `Ok` is done or handed back, exactly
/// once; every refused job came back to its submitter and nowhere else.
fn assert_every_job_accounted_for(
    submitted: &[(u64, Result<(), PoolClosed<u64>>)],
    done: &[u64],
    back: &[u64],
) {
    let mut seen: BTreeMap<u64, usize> = BTreeMap::new();
    for &job in done.iter().chain(back) {
        *seen.entry(job).or_default() += 1;
    }
    for (job, result) in submitted {
        match result {
            Ok(()) => assert_eq!(
                seen.get(job),
                Some(&1),
                "job {job}: submit returned Ok, so it must be done or handed back once \
                 (done {done:?}, handed back {back:?})"
            ),
            Err(PoolClosed(j)) => {
                assert_eq!(j, job);
                assert_eq!(
                    seen.get(job),
                    None,
                    "refused job {job} also ran or came back"
                );
            }
        }
    }
}

#[test]
fn cancel_hands_back_a_job_whose_submit_was_in_flight() {
    // The submitter has taken its Sender for job 3 but not yet sent; cancel
    // runs; then the submitter sends. Before the fix, cancel had already
    // returned [2] and the workers had left: job 3 landed in the queue,
    // `submit` returned Ok, and the job was neither run nor handed back.
    let report = Lab::run(fast(), |lab| {
        let (pool, release) = held_pool(lab);
        let (hold_tx, hold) = lab.bounded::<()>("hold", 0);
        let submitter = {
            let pool = Arc::clone(&pool);
            lab.go("submitter", move || pool.submit_held(3, &hold))
        };
        wait_for(lab, "the submitter to hold its Sender", |s| {
            state(s, "submitter") == Some(waits_on("hold"))
        });
        let canceller = {
            let pool = Arc::clone(&pool);
            lab.go("canceller", move || pool.cancel())
        };
        wait_for(
            lab,
            "cancel to return, or to wait on `jobs`",
            |s| matches!(state(s, "canceller"), Some(st) if st == WorkerState::Done || st == waits_on("jobs")),
        );
        drop(hold_tx); // the submit in flight sends now
        let third = submitter.join().expect("the submitter returns");
        let back = canceller.join().expect("cancel returns");
        drop(release); // job 1 finishes
        let done: Vec<u64> = pool.results().iter().collect();
        pool.join();
        (third, back, done)
    });
    assert!(report.verdict.is_none(), "{:?}", report.verdict);
    let (third, back, done) = report.outcome.expect("main returned");
    assert_eq!(third, Ok(()), "the submit in flight got in");
    assert_every_job_accounted_for(&[(1, Ok(())), (2, Ok(())), (3, third)], &done, &back);
    assert_eq!(done, vec![1]);
    assert_eq!(back, vec![2, 3]);
}

#[test]
fn cancel_hands_back_the_job_of_a_submit_blocked_on_a_full_queue() {
    // The picture: the queue is full, a submit waits for room, and
    // cancel's drain makes room. The job lands; it must come back too.
    let report = Lab::run(fast(), |lab| {
        let (pool, release) = held_pool(lab);
        let submitter = {
            let pool = Arc::clone(&pool);
            lab.go("submitter", move || pool.submit(3))
        };
        wait_for(lab, "the submit to wait for room in `jobs`", |s| {
            state(s, "submitter")
                == Some(WorkerState::BlockedSend {
                    channel: "jobs".into(),
                })
        });
        let back = pool.cancel();
        let third = submitter.join().expect("the submitter returns");
        drop(release);
        let done: Vec<u64> = pool.results().iter().collect();
        pool.join();
        (third, back, done)
    });
    assert!(report.verdict.is_none(), "{:?}", report.verdict);
    let (third, back, done) = report.outcome.expect("main returned");
    assert_every_job_accounted_for(&[(1, Ok(())), (2, Ok(())), (3, third)], &done, &back);
    assert_eq!(third, Ok(()));
    assert_eq!(back, vec![2, 3]);
}

#[test]
fn submitters_racing_cancel_never_lose_a_job() {
    // No staging: four submitters, a reader and cancel run freely. Whatever
    // the interleaving, each job is done, handed back, or refused to its
    // submitter; never two of those, never none.
    for round in 0..40 {
        let report = Lab::run(fast(), move |lab| {
            let pool: Arc<Pool<u64, u64>> = Arc::new(Pool::new(lab, 2, 2, |_| |job| job));
            let results = pool.results();
            let reader = lab.go("reader", move || results.iter().collect::<Vec<u64>>());
            let submitters: Vec<_> = (0..4_u64)
                .map(|s| {
                    let pool = Arc::clone(&pool);
                    lab.go(format!("submitter#{s}"), move || {
                        (s * 100..s * 100 + 25)
                            .map(|job| (job, pool.submit(job)))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            let back = pool.cancel();
            let submitted: Vec<_> = submitters
                .into_iter()
                .flat_map(|s| s.join().expect("a submitter returns"))
                .collect();
            let done = reader.join().expect("the reader returns");
            pool.join();
            (submitted, done, back)
        });
        assert!(
            report.verdict.is_none(),
            "round {round}: {:?}",
            report.verdict
        );
        let (submitted, done, back) = report.outcome.expect("main returned");
        assert_every_job_accounted_for(&submitted, &done, &back);
    }
}

#[test]
fn every_variant_meets_its_expectation() {
    assert_every_variant_meets_its_expectation(&LESSON);
}

/// The exact condition under which each trap cannot show, from the lesson's
/// own reasoning: the test's copy, so a change to either is caught.
fn should_hide(trap: &str, k: &Knobs) -> bool {
    match trap {
        // Every result fits in `results`: no worker ever waits for a reader.
        "join-before-drain" => k.items <= k.buffer as u64,
        // Every job is in a worker's hand at cancel: nothing is queued.
        "cancel-drops-jobs" => k.items <= k.workers as u64,
        _ => false,
    }
}

#[test]
fn hidden_by_says_exactly_when_a_trap_cannot_show() {
    let mut hidden_seen = 0;
    let mut shown_seen = 0;
    for items in [2, 3, 4, 5, 7, 9] {
        for buffer in [1, 2, 4, 8] {
            for workers in [1, 2, 3, 5, 8] {
                let knobs = Knobs {
                    items,
                    buffer,
                    workers,
                    seed: 3,
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
                        assert!(why.contains(&format!("--items {items}")), "{why}");
                    } else {
                        shown_seen += 1;
                        if trap.name == "cancel-drops-jobs" {
                            let queued = items - k_of(&knobs) - (workers as u64).min(items);
                            assert_eq!(outcome.lost, queued, "{knobs:?}");
                        }
                    }
                }
                // The fix holds on the same knobs: every job done or handed back.
                let report = common::run_with(&LESSON, "hand-back", knobs);
                let outcome = clean(&report);
                assert_eq!(outcome.lost, 0, "{knobs:?}: {outcome:?}");
            }
        }
    }
    assert!(hidden_seen > 0 && shown_seen > 0);
}

/// Jobs the cancel staging lets run before cancel.
fn k_of(k: &Knobs) -> u64 {
    k.items.saturating_sub((k.workers + k.buffer) as u64)
}

#[test]
fn other_knobs_keep_the_fixes_clean() {
    common::assert_clean_with_other_knobs(&LESSON, &["correct", "drain-before-join", "hand-back"]);
}
