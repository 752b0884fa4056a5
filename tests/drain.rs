//! Lesson 06: every trap breaks as described, every fix holds.

mod common;

use chanlab::lab::{Lab, Report, WorkerState};
use chanlab::lessons::drain::{self, Group, JobError, LESSON};
use chanlab::lessons::{Knobs, Outcome};
use common::{assert_every_variant_meets_its_expectation, fast};

fn knobs() -> Knobs {
    LESSON.defaults
}

fn run(variant: &str) -> Report<Outcome> {
    common::run(&LESSON, variant)
}

fn all_done(report: &Report<impl std::fmt::Debug>) {
    assert!(report.verdict.is_none(), "{:?}", report.verdict);
    assert!(report.unstoppable.is_empty());
    assert!(
        report
            .snapshot
            .workers
            .iter()
            .all(|w| w.state == WorkerState::Done)
    );
}

#[test]
fn smoke() {
    let report = run("correct");
    all_done(&report);
    let outcome = report.outcome.expect("main returned");
    assert!(!outcome.is_broken(), "{outcome:?}");
    assert_eq!(outcome.lost, 0);
    assert_eq!(outcome.items_in, outcome.items_out);
}

#[test]
fn correct_stops_accepting_and_drains_everything_accepted() {
    let k = knobs();
    let report = Lab::run(fast(), move |lab| drain::correct(lab, &k));
    all_done(&report);
    let d = report.outcome.expect("main returned");
    // Half the jobs ran, then every worker held one and the queue was full.
    let accepted = k.items / 2 + (k.workers + k.buffer) as u64;
    assert_eq!(d.accepted, accepted);
    assert!(d.accepted < d.offered, "the producer stopped early");
    assert_eq!(d.queued_at_cancel, Some(k.buffer));
    let mut jobs: Vec<u64> = d.done.iter().map(|x| x.job).collect();
    jobs.sort_unstable();
    assert_eq!(jobs, (1..=accepted).collect::<Vec<_>>());
    assert_eq!(d.error, None);
}

#[test]
fn exit_at_once_loses_the_queued_jobs() {
    let k = knobs();
    let report = run("exit-at-once");
    all_done(&report);
    let outcome = report.outcome.expect("main returned");
    let accepted = k.items / 2 + (k.workers + k.buffer) as u64;
    assert_eq!(outcome.items_in, accepted);
    // In-flight jobs finished; the queued ones were never run.
    assert_eq!(outcome.items_out, accepted - k.buffer as u64);
    assert_eq!(outcome.lost, k.buffer as u64);
    assert!(outcome.is_broken());
    assert!(outcome.problems[0].contains("never run"), "{outcome:?}");
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
fn drain_never_ends_deadlocks_on_an_open_jobs() {
    let report = run("drain-never-ends");
    let stuck = common::deadlock_of(&report);
    let workers: Vec<_> = stuck
        .iter()
        .filter(|s| s.worker.starts_with("worker#"))
        .collect();
    assert_eq!(workers.len(), knobs().workers);
    for w in &workers {
        assert_eq!(
            w.state,
            WorkerState::BlockedRecv {
                channel: "jobs".into()
            }
        );
        assert!(w.detail.contains("1 sender alive"), "{w}");
    }
    let producer = common::named(stuck, "producer");
    assert_eq!(
        producer.state,
        WorkerState::BlockedRecv {
            channel: "workers_done".into()
        }
    );
    // After the abort the counts are still real: every accepted job was
    // drained and read before everyone waited, and the outcome says the run
    // never finished instead of blaming workers that left.
    let outcome = report.outcome.as_ref().expect("main returned");
    let k = knobs();
    let accepted = k.items / 2 + (k.workers + k.buffer) as u64;
    assert_eq!((outcome.items_in, outcome.items_out), (accepted, accepted));
    assert_eq!(
        outcome.problems,
        vec![format!(
            "the run never finished: main read {accepted} results of the {accepted} accepted \
             jobs, then the lab aborted the run"
        )]
    );
    let results = report
        .snapshot
        .channels
        .iter()
        .find(|c| c.name == "results")
        .expect("a results channel");
    assert_eq!(results.received, accepted, "the lab's own count agrees");
    println!("{}", report.verdict.as_ref().unwrap());
}

#[test]
fn swallowed_error_lets_the_run_succeed() {
    let k = knobs();
    let report = Lab::run(fast(), move |lab| drain::swallowed_error(lab, &k));
    all_done(&report);
    let d = report.outcome.expect("main returned");
    assert_eq!(d.error, None, "the run reports success");
    assert_eq!(d.accepted, k.items, "upstream produced everything");
    assert_eq!(d.done.len() as u64, k.items - 1);
    let fail = drain::failing_job(&k);
    assert_eq!(d.logged.len(), 1);
    assert!(
        d.logged[0].ends_with(&JobError { job: fail }.to_string()),
        "{:?}",
        d.logged
    );

    let report = run("swallowed-error");
    assert!(report.verdict.is_none());
    let outcome = report.outcome.expect("main returned");
    assert!(outcome.is_broken());
    assert!(outcome.problems[0].contains("swallowed"), "{outcome:?}");
    println!("{outcome}: {:?} {:?}", outcome.problems, outcome.notes);
}

#[test]
fn errgroup_surfaces_the_error_and_stops_upstream() {
    let k = knobs();
    let report = Lab::run(fast(), move |lab| drain::errgroup(lab, &k));
    all_done(&report);
    let d = report.outcome.expect("main returned");
    let fail = drain::failing_job(&k);
    assert_eq!(
        d.error,
        Some(JobError { job: fail }),
        "the error surfaces from wait()"
    );
    assert!(d.accepted < d.offered, "upstream stopped early: {d:?}");
    assert_eq!(d.accepted, fail);
    // Every job before the failing one was done; nothing was left queued.
    assert_eq!(d.done.len() as u64, fail - 1);

    let report = run("errgroup");
    all_done(&report);
    let outcome = report.outcome.expect("main returned");
    assert!(!outcome.is_broken(), "{outcome:?}");
    assert_eq!(outcome.lost, 0);
    // Stopping at the first error is the policy: held as designed, not
    // "clean", and the words say what was chosen.
    assert!(outcome.held_by_design(), "{outcome:?}");
    assert_eq!(
        outcome.by_design,
        vec![format!(
            "stopped at the first error (job #{fail} failed: bad input): {fail} of {} jobs \
             offered, and wait() returned that error",
            k.items
        )]
    );
    println!("{outcome}: {:?} {:?}", outcome.by_design, outcome.notes);
}

#[test]
fn group_keeps_only_the_first_error() {
    let report = Lab::run(fast(), |lab| {
        let mut group: Group<&'static str> = Group::new(lab);
        let done = group.done();
        let (first_tx, first) = lab.bounded::<()>("first", 0);
        group.go("a", move || {
            drop(first_tx);
            Err("first")
        });
        group.go("b", move || {
            let _ = first.recv(); // after "a" failed
            let _ = done.recv(); // the group is canceled
            Err("second")
        });
        group.go("c", || Ok(()));
        group.wait()
    });
    assert!(report.verdict.is_none(), "{:?}", report.verdict);
    assert_eq!(report.outcome, Some(Err("first")));
}

#[test]
fn every_variant_meets_its_expectation() {
    assert_every_variant_meets_its_expectation(&LESSON);
}

/// The exact condition under which each trap cannot show, from the lesson's
/// own reasoning: the test's copy, so a change to either is caught.
fn should_hide(trap: &str, k: &Knobs) -> bool {
    match trap {
        // Cancel comes after items/2 jobs; the rest all fit in the workers'
        // hands, so nothing is queued for the workers to abandon.
        "exit-at-once" => k.items - k.items / 2 <= k.workers as u64,
        _ => false,
    }
}

#[test]
fn hidden_by_says_exactly_when_a_trap_cannot_show() {
    let (mut hidden_seen, mut shown_seen) = (0, 0);
    for items in [2, 3, 4, 5, 6, 9, 12] {
        for buffer in [1, 2, 5] {
            for workers in [1, 2, 3, 6] {
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
                        assert_eq!(outcome.items_in, outcome.items_out);
                        assert!(why.contains(&format!("--workers {workers}")), "{why}");
                    } else {
                        shown_seen += 1;
                        if trap.name == "exit-at-once" {
                            // Exactly the jobs queued at cancel are lost.
                            let queued = (items - items / 2 - workers as u64).min(buffer as u64);
                            assert_eq!(outcome.lost, queued, "{knobs:?}: {outcome:?}");
                        }
                    }
                }
                // The fixes hold on the same knobs.
                for fix in ["correct", "errgroup"] {
                    let report = common::run_with(&LESSON, fix, knobs);
                    all_done(&report);
                    let outcome = report.outcome.as_ref().expect("main returned");
                    assert!(!outcome.is_broken(), "{fix} {knobs:?}: {outcome:?}");
                    assert_eq!(outcome.lost, 0);
                }
            }
        }
    }
    assert!(hidden_seen > 0 && shown_seen > 0);
}

#[test]
fn other_knobs_keep_the_fixes_clean() {
    common::assert_clean_with_other_knobs(&LESSON, &["correct", "errgroup"]);
}
