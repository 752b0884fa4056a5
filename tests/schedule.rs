//! The scheduled mode's semantics: one worker at a time, picked by a seeded
//! strategy (or by the test, playing the scheduler), on virtual time, with
//! exact verdicts; the same seed gives the same run, byte for byte, under
//! load.
//!
//! Every interleaving here is the scheduler's: a seed, a recorded prefix or
//! the test's own picks. Nothing waits on wall time, and no test asserts
//! one: time is the lab's virtual clock (`Lab::now`, `Snapshot::elapsed`).
//! A property of the lab must hold under every schedule, so most tests run
//! their program under each of [`schedules`].

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use chanlab::lab::{
    Choice, Config, Event, EventKind, JoinError, Lab, RecvError, RecvTimeoutError, Report,
    Schedule, Select, SendError, SendTimeoutError, Snapshot, Strategy, TIMEOUT_ARM, Trace,
    TryRecvError, TrySendError, Verdict, WorkerState,
};
use chanlab::lessons::{self, Outcome};
use chanlab::select;
use common::STILL;

const SECOND: Duration = Duration::from_secs(1);
const MINUTE: Duration = Duration::from_secs(60);

/// Random and PCT, a few seeds each: what every semantics test runs under.
fn schedules() -> Vec<Schedule> {
    [0, 1, 2, 3, 17, 42, 99, 1234]
        .into_iter()
        .flat_map(|seed| [Schedule::random(seed), Schedule::pct(seed)])
        .collect()
}

fn config(schedule: Schedule) -> Config {
    common::scheduled(schedule)
}

/// Runs `program` under every schedule of [`schedules`], handing each
/// report (and its schedule, for the message) to `check`.
fn under_every_schedule<T, P, C>(program: P, mut check: C)
where
    T: Send + 'static,
    P: Fn(&Lab) -> T + Send + Sync + Clone + 'static,
    C: FnMut(&Schedule, Report<T>),
{
    for schedule in schedules() {
        let program = program.clone();
        let report = Lab::run(config(schedule.clone()), move |lab| program(lab));
        check(&schedule, report);
    }
}

/// The events a run logged before its teardown, with when and in which
/// order: two runs are the same run exactly when these are equal.
fn fingerprint(events: &[Event]) -> String {
    use std::fmt::Write as _;
    events
        .iter()
        .filter(|e| !e.cleanup)
        .fold(String::new(), |mut out, e| {
            let _ = writeln!(out, "{} {:?} {:?}", e.seq, e.at, e.kind);
            out
        })
}

fn choices_of(trace: &Trace) -> String {
    trace
        .choices
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

/// A run of `program` under `config`, with its lab kept for the events.
fn run_keeping_lab<T, F>(config: Config, program: F) -> (Report<T>, Lab)
where
    T: Send + 'static,
    F: FnOnce(&Lab) -> T + Send + 'static,
{
    let run = Lab::start(config, program);
    let lab = run.lab().clone();
    (run.wait(), lab)
}

fn blocked_on(events: &[Event], who: &str) -> Vec<WorkerState> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Blocked { worker, state } if worker == who => Some(state.clone()),
            _ => None,
        })
        .collect()
}

/// A small pipeline of two workers, used where the program does not
/// matter but must take a few dozen steps and have real choices.
fn two_stage(lab: &Lab) -> u64 {
    let (tx, rx) = lab.bounded::<u64>("numbers", 2);
    let (sq_tx, sq_rx) = lab.bounded::<u64>("squares", 1);
    let producer = lab.go("producer", move || {
        for i in 1..=6 {
            tx.send(i).unwrap();
        }
    });
    let square = lab.go("square", move || {
        for v in rx {
            sq_tx.send(v * v).unwrap();
        }
    });
    let sum = sq_rx.iter().sum();
    producer.join().unwrap();
    square.join().unwrap();
    sum
}

#[test]
fn smoke() {
    let report = Lab::run(config(Schedule::random(1)), |lab| {
        let (tx, rx) = lab.bounded("numbers", 1);
        let producer = lab.go("producer", move || {
            for i in 1..=3_u32 {
                tx.send(i).unwrap();
            }
        });
        let got: Vec<u32> = rx.iter().collect();
        producer.join().unwrap();
        got
    });
    assert_eq!(report.outcome, Some(vec![1, 2, 3]));
    assert!(report.verdict.is_none());
    assert!(report.unstoppable.is_empty());
    let trace = report.trace.expect("a scheduled run has a trace");
    assert!(!trace.choices.is_empty());
    assert_eq!(trace.diverged, None);
    assert_eq!(
        report.snapshot.elapsed,
        Duration::ZERO,
        "nothing here takes time"
    );
}

#[test]
fn a_free_run_has_no_trace_and_no_scheduler_to_steer() {
    let run = Lab::start(Config::default(), |lab| lab.schedule().is_none());
    assert!(run.lab().next_ops().is_empty());
    assert_eq!(
        run.lab().choose(Choice::worker(0)),
        Err("a free run has no scheduler to steer".to_owned())
    );
    assert!(!run.lab().wait_still(Duration::ZERO));
    let report = run.wait();
    assert_eq!(report.outcome, Some(true));
    assert!(report.trace.is_none());
}

// ---- rendezvous ------------------------------------------------------------

/// A plain `send` on a rendezvous offers its message at once, with no
/// receiver in sight, and waits (shown as waiting to send) until one takes
/// it: here main, after a second of work.
#[test]
fn a_plain_rendezvous_send_offers_and_waits_for_a_receiver() {
    under_every_schedule(
        |lab: &Lab| {
            let (tx, rx) = lab.bounded::<u32>("handoff", 0);
            let sender = lab.go("sender", move || tx.send(7));
            lab.work(SECOND); // the sender offers meanwhile: time moves only when nobody can
            let got = rx.recv();
            (got, sender.join().unwrap(), lab.now())
        },
        |schedule, report| {
            let (got, sent, at) = report.outcome.expect("main returned");
            assert_eq!(got, Ok(7), "{schedule:?}");
            assert_eq!(sent, Ok(()), "{schedule:?}");
            assert_eq!(at, SECOND, "{schedule:?}");
            assert!(
                report.verdict.is_none(),
                "{schedule:?}: {:?}",
                report.verdict
            );
        },
    );
}

#[test]
fn the_offer_is_shown_as_a_wait_and_completes_when_taken() {
    let (report, lab) = run_keeping_lab(config(Schedule::random(3)), |lab| {
        let (tx, rx) = lab.bounded::<u32>("handoff", 0);
        let sender = lab.go("sender", move || tx.send(7));
        lab.work(SECOND);
        let got = rx.recv();
        let _ = sender.join();
        got
    });
    assert_eq!(report.outcome, Some(Ok(7)));
    let events = lab.events_since(0).events;
    assert_eq!(
        blocked_on(&events, "sender"),
        [WorkerState::BlockedSend {
            channel: "handoff".to_owned()
        }]
    );
    let sent_at = events.iter().find_map(|e| match &e.kind {
        EventKind::Sent { worker, .. } if worker == "sender" => Some(e.at),
        _ => None,
    });
    assert_eq!(
        sent_at,
        Some(SECOND),
        "the send completes when main takes it"
    );
}

/// A select's send arm on a rendezvous (and `try_send`, a select with no
/// time to wait) can go only while a receiver waits: it hands the message
/// straight over.
#[test]
fn a_select_send_arm_on_a_rendezvous_needs_a_waiting_receiver() {
    under_every_schedule(
        |lab: &Lab| {
            let (tx, rx) = lab.bounded::<u32>("handoff", 0);
            let early = tx.try_send(1); // main holds the only receiver, and it is not waiting
            let worker_lab = lab.clone();
            let receiver = lab.go("receiver", move || {
                worker_lab.work(SECOND); // not waiting yet
                rx.recv()
            });
            let sent = select! {
                send(tx, 5) -> res => res.map(|()| lab.now()).map_err(|e| e.0),
                default(Duration::from_secs(3)) => Err(0),
            };
            (early, sent, receiver.join().unwrap())
        },
        |schedule, report| {
            let (early, sent, got) = report.outcome.expect("main returned");
            assert_eq!(early, Err(TrySendError::Full(1)), "{schedule:?}");
            assert_eq!(
                sent,
                Ok(SECOND),
                "{schedule:?}: the arm goes when the receiver waits"
            );
            assert_eq!(got, Ok(5), "{schedule:?}");
        },
    );
}

#[test]
fn try_send_on_a_rendezvous_goes_once_a_receiver_waits() {
    under_every_schedule(
        |lab: &Lab| {
            let (tx, rx) = lab.bounded::<u32>("handoff", 0);
            let receiver = lab.go("receiver", move || rx.recv());
            let mut full = 0_u32;
            while let Err(e) = tx.try_send(9) {
                assert!(matches!(e, TrySendError::Full(9)), "{e:?}");
                full += 1;
            }
            (full, receiver.join().unwrap(), lab.now())
        },
        |schedule, report| {
            let (full, got, at) = report.outcome.expect("main returned");
            assert_eq!(got, Ok(9), "{schedule:?}");
            // The receiver starts and waits without any time passing, so
            // the polling loop never needs its quantum.
            assert_eq!(at, Duration::ZERO, "{schedule:?}");
            assert!(full < 10, "{schedule:?}: {full} polls");
        },
    );
}

/// A select with a send and a receive arm on the same rendezvous must not
/// hand its message to itself: with nobody else there, it times out.
#[test]
fn a_select_never_pairs_with_itself_on_one_rendezvous() {
    under_every_schedule(
        |lab: &Lab| {
            let (tx, rx) = lab.bounded::<u32>("loop", 0);
            let what = select! {
                send(tx, 1) -> _ => "sent to itself",
                recv(rx) -> _ => "received from itself",
                default(Duration::from_secs(2)) => "timed out",
            };
            (what, lab.now())
        },
        |schedule, report| {
            assert_eq!(
                report.outcome,
                Some(("timed out", Duration::from_secs(2))),
                "{schedule:?}"
            );
        },
    );
}

// ---- buffered and unbounded channels ----------------------------------------

/// Items come out in order, and the buffer never holds more than its
/// capacity: counted from the run's own item events.
#[test]
fn a_buffered_channel_keeps_order_and_its_capacity() {
    for schedule in schedules() {
        let (report, lab) = run_keeping_lab(config(schedule.clone()), |lab| {
            let (tx, rx) = lab.bounded::<u32>("buffer", 3);
            let producer = lab.go("producer", move || {
                for i in 0..20 {
                    tx.send(i).unwrap();
                }
            });
            let consumer = lab.go("consumer", move || rx.iter().collect::<Vec<_>>());
            producer.join().unwrap();
            consumer.join().unwrap()
        });
        assert_eq!(report.outcome, Some((0..20).collect()), "{schedule:?}");
        let mut held = 0_i64;
        let mut peak = 0;
        for e in lab.events_since(0).events {
            match e.kind {
                EventKind::Sent { channel, .. } if channel == "buffer" => held += 1,
                EventKind::Received { channel, .. } if channel == "buffer" => held -= 1,
                _ => {}
            }
            peak = peak.max(held);
        }
        assert!(
            (1..=3).contains(&peak),
            "{schedule:?}: {peak} in a buffer of 3"
        );
    }
}

#[test]
fn an_unbounded_send_never_waits() {
    for schedule in schedules() {
        let (report, lab) = run_keeping_lab(config(schedule.clone()), |lab| {
            let (tx, rx) = lab.unbounded::<u32>("log");
            let producer = lab.go("producer", move || {
                for i in 0..100 {
                    tx.send(i).unwrap();
                }
            });
            producer.join().unwrap(); // nobody reads until the producer is done
            rx.try_iter().count()
        });
        assert_eq!(report.outcome, Some(100), "{schedule:?}");
        let events = lab.events_since(0).events;
        assert!(blocked_on(&events, "producer").is_empty(), "{schedule:?}");
    }
}

// ---- disconnects while waiting ------------------------------------------------

#[test]
fn a_waiting_receive_fails_when_the_last_sender_goes() {
    for schedule in schedules() {
        let (report, lab) = run_keeping_lab(config(schedule.clone()), |lab| {
            let (tx, rx) = lab.bounded::<u32>("quiet", 1);
            let receiver = lab.go("receiver", move || rx.recv());
            lab.work(SECOND); // the receiver waits meanwhile
            drop(tx);
            receiver.join().unwrap()
        });
        assert_eq!(report.outcome, Some(Err(RecvError)), "{schedule:?}");
        let events = lab.events_since(0).events;
        let waited = events.iter().position(
            |e| matches!(&e.kind, EventKind::Blocked { worker, .. } if worker == "receiver"),
        );
        let closed = events.iter().position(|e| {
            matches!(&e.kind, EventKind::Closed { channel, by_sender: true } if channel == "quiet")
        });
        assert!(
            waited < closed && waited.is_some(),
            "{schedule:?}: {events:?}"
        );
    }
}

#[test]
fn a_waiting_send_gets_its_message_back_when_the_last_receiver_goes() {
    under_every_schedule(
        |lab: &Lab| {
            let (tx, rx) = lab.bounded::<u32>("full", 1);
            let sender = lab.go("sender", move || {
                tx.send(1).unwrap();
                tx.send(2) // waits: the buffer is full
            });
            lab.work(SECOND);
            drop(rx);
            sender.join().unwrap()
        },
        |schedule, report| {
            assert_eq!(report.outcome, Some(Err(SendError(2))), "{schedule:?}");
        },
    );
}

#[test]
fn an_offered_rendezvous_send_gets_its_message_back_on_disconnect() {
    under_every_schedule(
        |lab: &Lab| {
            let (tx, rx) = lab.bounded::<String>("handoff", 0);
            let sender = lab.go("sender", move || tx.send("the message".to_owned()));
            lab.work(SECOND); // the sender has offered by now
            drop(rx);
            sender.join().unwrap()
        },
        |schedule, report| {
            assert_eq!(
                report.outcome,
                Some(Err(SendError("the message".to_owned()))),
                "{schedule:?}"
            );
        },
    );
}

// ---- virtual time ------------------------------------------------------------

#[test]
fn timeouts_run_on_virtual_time() {
    under_every_schedule(
        |lab: &Lab| {
            let (tx, rx) = lab.bounded::<u32>("never-fed", 1);
            let recv = rx.recv_timeout(10 * MINUTE);
            let after_recv = lab.now();
            tx.send(1).unwrap(); // now full
            let send = tx.send_timeout(2, 5 * MINUTE);
            let after_send = lab.now();
            let (other_tx, other_rx) = lab.bounded::<u32>("other", 0);
            let mut sel = Select::new();
            sel.recv(&other_rx);
            let selected = sel.select_timeout(MINUTE).is_ok();
            drop(other_tx);
            (recv, after_recv, send, after_send, selected, lab.now())
        },
        |schedule, report| {
            let (recv, after_recv, send, after_send, selected, end) =
                report.outcome.expect("main returned");
            assert_eq!(recv, Err(RecvTimeoutError::Timeout), "{schedule:?}");
            assert_eq!(after_recv, 10 * MINUTE, "{schedule:?}");
            assert_eq!(send, Err(SendTimeoutError::Timeout(2)), "{schedule:?}");
            assert_eq!(after_send, 15 * MINUTE, "{schedule:?}");
            assert!(!selected, "{schedule:?}");
            assert_eq!(end, 16 * MINUTE, "{schedule:?}");
        },
    );
}

#[test]
fn a_rendezvous_send_timeout_withdraws_its_offer() {
    under_every_schedule(
        |lab: &Lab| {
            let (tx, rx) = lab.bounded::<u32>("handoff", 0);
            let timed_out = tx.send_timeout(4, SECOND);
            let at = lab.now();
            // The withdrawn offer is gone: a receive finds nothing to take.
            let left = rx.try_recv();
            (timed_out, at, left)
        },
        |schedule, report| {
            assert_eq!(
                report.outcome,
                Some((
                    Err(SendTimeoutError::Timeout(4)),
                    SECOND,
                    Err(TryRecvError::Empty)
                )),
                "{schedule:?}"
            );
        },
    );
}

#[test]
fn a_receive_with_a_timeout_takes_what_comes_in_time() {
    under_every_schedule(
        |lab: &Lab| {
            let (tx, rx) = lab.bounded::<u32>("late", 1);
            let worker_lab = lab.clone();
            lab.go("sender", move || {
                worker_lab.work(2 * SECOND);
                tx.send(3).unwrap();
            });
            (rx.recv_timeout(5 * SECOND), lab.now())
        },
        |schedule, report| {
            assert_eq!(report.outcome, Some((Ok(3), 2 * SECOND)), "{schedule:?}");
        },
    );
}

#[test]
fn after_and_tick_fire_on_virtual_time() {
    under_every_schedule(
        |lab: &Lab| {
            let alarm = lab.after(2 * SECOND);
            let _ = alarm.recv().unwrap();
            let alarm_at = lab.now();
            let ticker = lab.tick(Duration::from_millis(250));
            for _ in 0..4 {
                let _ = ticker.recv().unwrap();
            }
            let ticks_at = lab.now();
            // A timer beside a channel that is fed later: the timer wins.
            let (tx, rx) = lab.bounded::<u32>("slow", 1);
            let worker_lab = lab.clone();
            lab.go("slow", move || {
                worker_lab.work(3 * SECOND);
                let _ = tx.send(1);
            });
            let timeout = lab.after(SECOND);
            let first = select! {
                recv(rx) -> _ => "channel",
                recv(timeout) -> _ => "timer",
            };
            (alarm_at, ticks_at, first, lab.now())
        },
        |schedule, report| {
            assert_eq!(
                report.outcome,
                Some((2 * SECOND, 3 * SECOND, "timer", 4 * SECOND)),
                "{schedule:?}"
            );
        },
    );
}

/// Half an hour of simulated work in each of two workers: the run ends at
/// 30 minutes of lesson time (they work side by side), in a few steps.
#[test]
fn work_runs_on_virtual_time() {
    under_every_schedule(
        |lab: &Lab| {
            let workers: Vec<_> = (1..=2)
                .map(|n| {
                    let lab = lab.clone();
                    lab.clone().go(format!("worker#{n}"), move || {
                        lab.work(30 * MINUTE);
                        n
                    })
                })
                .collect();
            let sum: u32 = workers.into_iter().map(|w| w.join().unwrap()).sum();
            (sum, lab.now())
        },
        |schedule, report| {
            assert_eq!(report.outcome, Some((3, 30 * MINUTE)), "{schedule:?}");
            assert_eq!(report.snapshot.elapsed, 30 * MINUTE, "{schedule:?}");
            let steps = report.trace.map_or(0, |t| t.choices.len());
            assert!(steps < 20, "{schedule:?}: {steps} steps");
        },
    );
}

/// A lesson that simulates an hour: the worker pool with 9000
/// jobs of about a second each on three workers.
#[test]
fn a_lesson_simulating_an_hour_runs_on_virtual_time() {
    let lesson = lessons::find("worker-pool").expect("lesson 03");
    let knobs = lessons::Knobs {
        items: 9_000,
        ..lesson.defaults
    };
    let config = Config {
        schedule: Some(Schedule::random(5)),
        time_limit: 10 * 60 * MINUTE,
        ..Config::default()
    };
    let report = lesson.run(lesson.correct(), knobs, config);
    assert!(
        lessons::meets_expectation(lesson.correct(), &report),
        "{report:?}"
    );
    let outcome: &Outcome = report.outcome.as_ref().expect("main returned");
    assert_eq!(outcome.items_out, 9_000);
    // 9000 jobs of 0.75–1.75 s on 3 workers: about an hour.
    let elapsed = report.snapshot.elapsed;
    assert!(
        (55 * MINUTE..70 * MINUTE).contains(&elapsed),
        "{elapsed:?} of lesson time"
    );
}

/// A polling loop (`try_recv` in a spin) does not hold the clock still:
/// after two empty polls it waits a quantum of lesson time, so it ends when
/// the sleeper sends, after about a thousand polls for one second.
#[test]
fn a_try_recv_spin_ends_while_another_worker_sleeps() {
    under_every_schedule(
        |lab: &Lab| {
            let (tx, rx) = lab.bounded::<u32>("late", 1);
            let worker_lab = lab.clone();
            lab.go("sleeper", move || {
                worker_lab.work(SECOND);
                tx.send(9).unwrap();
            });
            let mut polls = 0_u64;
            let got = loop {
                match rx.try_recv() {
                    Ok(v) => break v,
                    Err(TryRecvError::Empty) => polls += 1,
                    Err(TryRecvError::Disconnected) => break 0,
                }
            };
            (got, polls, lab.now())
        },
        |schedule, report| {
            let (got, polls, at) = report.outcome.expect("main returned");
            assert_eq!(got, 9, "{schedule:?}");
            assert_eq!(at, SECOND, "{schedule:?}");
            assert!((2..=1_010).contains(&polls), "{schedule:?}: {polls} polls");
            assert!(report.verdict.is_none(), "{schedule:?}");
        },
    );
}

// ---- workers ---------------------------------------------------------------

#[test]
fn join_waits_for_the_worker_on_virtual_time() {
    under_every_schedule(
        |lab: &Lab| {
            let worker_lab = lab.clone();
            let worker = lab.go("worker", move || {
                worker_lab.work(3 * SECOND);
                5
            });
            (worker.join(), lab.now())
        },
        |schedule, report| {
            assert_eq!(report.outcome, Some((Ok(5), 3 * SECOND)), "{schedule:?}");
        },
    );
}

#[test]
fn a_panicking_worker_is_the_panic_verdict() {
    under_every_schedule(
        |lab: &Lab| {
            let worker = lab.go("fragile", || -> u32 { panic!("bad input") });
            worker.join()
        },
        |schedule, report| {
            match &report.verdict {
                Some(Verdict::Panicked { worker, message }) => {
                    assert_eq!(worker, "fragile", "{schedule:?}");
                    assert!(message.contains("bad input"), "{schedule:?}: {message}");
                }
                other => panic!("{schedule:?}: {other:?}"),
            }
            assert!(report.unstoppable.is_empty());
            if let Some(joined) = report.outcome {
                assert!(matches!(
                    joined,
                    Err(JoinError::Panicked(_) | JoinError::Aborted)
                ));
            }
        },
    );
}

/// Workers are numbered in spawn order, main first, whatever the schedule:
/// the snapshot's ids, the trace's choices and the pick list agree.
#[test]
fn workers_are_numbered_in_spawn_order() {
    let program = |lab: &Lab| {
        let workers: Vec<_> = (1..=5)
            .map(|n| lab.go(format!("w#{n}"), move || n))
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).sum::<u32>()
    };
    under_every_schedule(program, |schedule, report| {
        assert_eq!(report.outcome, Some(15), "{schedule:?}");
        let names: Vec<(usize, &str)> = report
            .snapshot
            .workers
            .iter()
            .map(|w| (w.id, w.name.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                (0, "main"),
                (1, "w#1"),
                (2, "w#2"),
                (3, "w#3"),
                (4, "w#4"),
                (5, "w#5")
            ],
            "{schedule:?}"
        );
        let trace = report.trace.expect("a trace");
        assert_eq!(trace.choices[0], Choice::worker(0), "main goes first");
        assert!(trace.choices.iter().all(|c| c.worker <= 5 && c.arm == 0));
    });
    // Playing the scheduler: every pick's number is its worker's index.
    let run = Lab::start(config(Schedule::manual()), program);
    let lab = run.lab().clone();
    while lab.wait_still(STILL) && !run.is_finished() {
        let snapshot = lab.snapshot();
        if !snapshot
            .schedule
            .as_ref()
            .is_some_and(|s| s.awaiting_choice)
        {
            break;
        }
        let ops = lab.next_ops();
        for op in &ops {
            if let Some(choice) = op.choice {
                assert_eq!(snapshot.workers[choice.worker as usize].name, op.worker);
            }
        }
        let last = ops.iter().rev().find_map(|op| op.choice).expect("a pick");
        lab.choose(last).unwrap();
    }
    assert_eq!(run.wait().outcome, Some(15));
}

// ---- verdicts ---------------------------------------------------------------

/// Nobody can move and nobody sleeps: a deadlock, at once (no time
/// passes), naming every worker and what it waits on.
#[test]
fn a_deadlock_is_exact_and_names_who_waits_on_what() {
    under_every_schedule(
        |lab: &Lab| {
            let (a_tx, a_rx) = lab.bounded::<u32>("a", 0);
            let (b_tx, b_rx) = lab.bounded::<u32>("b", 0);
            let left = lab.go("left", move || {
                let _ = a_rx.recv();
                drop(b_tx);
            });
            let right = lab.go("right", move || {
                let _ = b_rx.recv();
                drop(a_tx);
            });
            let _ = left.join();
            let _ = right.join();
        },
        |schedule, report| {
            let Some(Verdict::Deadlock { stuck }) = &report.verdict else {
                panic!("{schedule:?}: {:?}", report.verdict);
            };
            let states: Vec<(&str, &WorkerState)> = stuck
                .iter()
                .map(|s| (s.worker.as_str(), &s.state))
                .collect();
            assert_eq!(
                states,
                [
                    (
                        "main",
                        &WorkerState::Joining {
                            worker: "left".to_owned()
                        }
                    ),
                    (
                        "left",
                        &WorkerState::BlockedRecv {
                            channel: "a".to_owned()
                        }
                    ),
                    (
                        "right",
                        &WorkerState::BlockedRecv {
                            channel: "b".to_owned()
                        }
                    ),
                ],
                "{schedule:?}"
            );
            assert_eq!(report.snapshot.elapsed, Duration::ZERO, "{schedule:?}");
            assert!(report.unstoppable.is_empty());
        },
    );
}

/// The same two waits, but one side sleeps before it sends: a sleeper is
/// not stuck, so there is no verdict, however long it sleeps.
#[test]
fn a_sleeper_is_never_part_of_a_deadlock() {
    under_every_schedule(
        |lab: &Lab| {
            let (a_tx, a_rx) = lab.bounded::<u32>("a", 0);
            let left = lab.go("left", move || a_rx.recv());
            let worker_lab = lab.clone();
            let right = lab.go("right", move || {
                worker_lab.work(10 * MINUTE);
                a_tx.send(1)
            });
            (left.join().unwrap(), right.join().unwrap(), lab.now())
        },
        |schedule, report| {
            assert!(
                report.verdict.is_none(),
                "{schedule:?}: {:?}",
                report.verdict
            );
            assert_eq!(
                report.outcome,
                Some((Ok(1), Ok(()), 10 * MINUTE)),
                "{schedule:?}"
            );
        },
    );
}

#[test]
fn a_worker_stuck_after_main_returned_is_a_leak() {
    under_every_schedule(
        |lab: &Lab| {
            let (tx, rx) = lab.bounded::<u32>("forever", 1);
            lab.go("waiter", move || {
                let _own = tx; // its own Sender: the channel never closes
                let _ = rx.recv();
            });
        },
        |schedule, report| {
            let Some(Verdict::Leak { leaked }) = &report.verdict else {
                panic!("{schedule:?}: {:?}", report.verdict);
            };
            assert_eq!(leaked.len(), 1, "{schedule:?}");
            assert_eq!(leaked[0].worker, "waiter");
            let waits = WorkerState::BlockedRecv {
                channel: "forever".to_owned(),
            };
            assert_eq!(leaked[0].state, waits, "{schedule:?}");
            assert_eq!(
                report.snapshot.workers[1].state,
                WorkerState::Leaked {
                    was: Box::new(waits)
                },
                "{schedule:?}"
            );
            assert_eq!(report.snapshot.elapsed, Duration::ZERO, "{schedule:?}");
        },
    );
}

/// A worker still working after main returned gets the leak grace (one
/// second, on virtual time): one that finishes in it is no leak, one that
/// works for an hour is named at once, without the hour passing.
#[test]
fn the_leak_grace_is_virtual_time() {
    for (work, leaks) in [(Duration::from_millis(500), false), (60 * MINUTE, true)] {
        under_every_schedule(
            move |lab: &Lab| {
                let worker_lab = lab.clone();
                lab.go("late", move || worker_lab.work(work));
            },
            |schedule, report| {
                match &report.verdict {
                    None => assert!(!leaks, "{schedule:?}"),
                    Some(Verdict::Leak { leaked }) => {
                        assert!(leaks, "{schedule:?}");
                        assert_eq!(leaked[0].worker, "late");
                    }
                    other => panic!("{schedule:?}: {other:?}"),
                }
                assert!(report.snapshot.elapsed <= SECOND, "{schedule:?}");
            },
        );
    }
}

#[test]
fn a_run_past_its_step_limit_is_a_runaway() {
    for schedule in schedules() {
        let config = Config {
            step_limit: 500,
            ..config(schedule.clone())
        };
        let report = Lab::run(config, |lab| {
            let (tx, rx) = lab.bounded::<u32>("ping", 1);
            let spinner = lab.go(
                "spinner",
                move || {
                    while tx.send(1).is_ok() && rx.recv().is_ok() {}
                },
            );
            let _ = spinner.join();
        });
        let Some(Verdict::Runaway { steps, busy, .. }) = &report.verdict else {
            panic!("{schedule:?}: {:?}", report.verdict);
        };
        assert_eq!(*steps, 500, "{schedule:?}");
        assert!(busy.iter().any(|b| b.worker == "spinner"), "{busy:?}");
        assert!(report.unstoppable.is_empty());
    }
}

#[test]
fn a_run_past_its_time_limit_is_a_runaway() {
    let config = Config {
        time_limit: 60 * MINUTE,
        ..config(Schedule::random(2))
    };
    let report = Lab::run(config, |lab| {
        loop {
            lab.work(MINUTE);
            if lab.is_aborted() {
                break;
            }
        }
    });
    let Some(Verdict::Runaway { elapsed, .. }) = report.verdict else {
        panic!("{:?}", report.verdict);
    };
    assert_eq!(elapsed, 60 * MINUTE);
}

/// A thread the lab did not start cannot be scheduled: its first lab
/// operation is the `outside thread` verdict, and it fails as if the
/// channel were disconnected.
#[test]
fn a_std_thread_using_a_channel_is_the_outside_verdict() {
    let report = Lab::run(config(Schedule::random(0)), |lab| {
        let (tx, rx) = lab.bounded::<u32>("shared", 1);
        let outsider = thread::Builder::new()
            .name("outsider".to_owned())
            .spawn(move || tx.send(1).is_err())
            .expect("spawn");
        let failed = outsider.join().expect("the outsider returns");
        (failed, rx.recv().is_err())
    });
    assert_eq!(
        report.verdict,
        Some(Verdict::Outside {
            thread: "outsider".to_owned()
        })
    );
    assert_eq!(report.outcome, Some((true, true)));
    assert!(report.unstoppable.is_empty());
}

// ---- playing the scheduler ---------------------------------------------------

fn words(lab: &Lab) -> Vec<(Option<Choice>, String, String)> {
    lab.next_ops()
        .into_iter()
        .map(|op| (op.choice, op.worker, op.words))
        .collect()
}

fn op(choice: Option<u32>, worker: &str, words: &str) -> (Option<Choice>, String, String) {
    (
        choice.map(Choice::worker),
        worker.to_owned(),
        words.to_owned(),
    )
}

/// The manual strategy waits for a pick whenever more than one operation
/// can go, lists each worker's next operation in words, refuses a pick
/// that cannot run, and takes one that can.
#[test]
fn the_manual_strategy_lists_next_operations_and_takes_picks() {
    let run = Lab::start(config(Schedule::manual()), |lab| {
        let (tx, rx) = lab.bounded::<u32>("numbers", 1);
        let producer = lab.go("producer", move || {
            tx.send(1).unwrap();
            tx.send(2).unwrap();
        });
        let consumer = lab.go("consumer", move || rx.iter().sum::<u32>());
        producer.join().unwrap();
        consumer.join().unwrap()
    });
    let lab = run.lab().clone();
    let pick = |choice: u32| {
        assert!(lab.wait_still(STILL));
        lab.choose(Choice::worker(choice))
    };
    assert!(lab.wait_still(STILL));
    let status = lab.snapshot().schedule.expect("scheduled");
    assert!(status.awaiting_choice);
    assert_eq!(status.schedule, "manual (you pick)");
    assert_eq!(
        words(&lab),
        [
            op(Some(0), "main", "start its next step"),
            op(Some(1), "producer", "start its next step"),
        ]
    );
    pick(1).unwrap(); // the producer starts: it wants to send
    assert!(lab.wait_still(STILL));
    assert_eq!(
        words(&lab),
        [
            op(Some(0), "main", "start its next step"),
            op(Some(1), "producer", "send item 1 on `numbers` (0/1)"),
        ]
    );
    pick(1).unwrap(); // item 1 in; the second send would wait, so main runs alone
    assert!(lab.wait_still(STILL));
    assert_eq!(
        words(&lab),
        [
            op(Some(0), "main", "start its next step"),
            op(
                None,
                "producer",
                "send item 2 on `numbers` (1/1 full) (would wait)"
            ),
            op(Some(2), "consumer", "start its next step"),
        ]
    );
    assert_eq!(
        lab.choose(Choice::worker(1)),
        Err("producer cannot run that step now".to_owned())
    );
    assert_eq!(
        lab.choose(Choice::worker(9)),
        Err("worker 9 cannot run that step now".to_owned())
    );
    pick(2).unwrap();
    assert!(lab.wait_still(STILL));
    assert!(words(&lab).contains(&op(
        Some(2),
        "consumer",
        "receive item 1 from `numbers` (1/1 full)"
    )));
    // Play the rest: always the last worker that can go.
    while lab.wait_still(STILL) && !run.is_finished() {
        let Some(last) = lab.next_ops().iter().rev().find_map(|op| op.choice) else {
            break;
        };
        if lab.choose(last).is_err() {
            break; // the run ended between the look and the pick
        }
    }
    let steps = lab.trace().expect("a trace").choices.len();
    let report = run.wait();
    assert_eq!(report.outcome, Some(3));
    assert_eq!(
        lab.choose(Choice::worker(0)),
        Err("the run is not waiting for a pick".to_owned())
    );
    assert_eq!(report.trace.expect("a trace").choices.len(), steps);
}

#[test]
fn a_select_lists_one_pick_per_ready_arm_and_its_timeout() {
    let run = Lab::start(config(Schedule::manual()), |lab| {
        let (a_tx, a_rx) = lab.bounded::<u32>("a", 1);
        let (b_tx, b_rx) = lab.bounded::<u32>("b", 1);
        a_tx.send(1).unwrap();
        b_tx.send(2).unwrap();
        let chooser = lab.go("chooser", move || {
            select! {
                recv(a_rx) -> v => v.unwrap(),
                recv(b_rx) -> v => v.unwrap(),
                default(SECOND) => 0,
            }
        });
        chooser.join().unwrap()
    });
    let lab = run.lab().clone();
    // main's steps and the chooser's start go alone until the chooser's
    // select and main's join are both there.
    let ops = loop {
        assert!(lab.wait_still(STILL));
        let ops = words(&lab);
        if ops
            .iter()
            .any(|(_, w, words)| w == "chooser" && words.starts_with("select"))
        {
            break ops;
        }
        let first = ops.iter().find_map(|(c, _, _)| *c).expect("a pick");
        lab.choose(first).unwrap();
    };
    let chooser: Vec<_> = ops.iter().filter(|(_, w, _)| w == "chooser").collect();
    assert_eq!(
        chooser
            .iter()
            .map(|(c, _, words)| (c.map(|c| c.to_string()), words.as_str()))
            .collect::<Vec<_>>(),
        [
            (
                Some("1".to_owned()),
                "select: receive item 1 from `a` (1/1 full)"
            ),
            (
                Some("1.1".to_owned()),
                "select: receive item 1 from `b` (1/1 full)"
            ),
        ],
        "the timeout is no pick while an arm is ready"
    );
    lab.choose(Choice { worker: 1, arm: 1 }).unwrap();
    while lab.wait_still(STILL) && !run.is_finished() {
        let Some(first) = lab.next_ops().iter().find_map(|op| op.choice) else {
            break;
        };
        if lab.choose(first).is_err() {
            break;
        }
    }
    assert_eq!(run.wait().outcome, Some(2), "arm 1 is `b`");
}

#[test]
fn choices_read_and_print_as_steps() {
    for (text, choice) in [
        ("3", Choice::worker(3)),
        ("3.1", Choice { worker: 3, arm: 1 }),
        (
            "3.t",
            Choice {
                worker: 3,
                arm: TIMEOUT_ARM,
            },
        ),
    ] {
        assert_eq!(text.parse::<Choice>(), Ok(choice));
        assert_eq!(choice.to_string(), text);
    }
    for bad in ["", "x", "3.", "3.x", "-1", "3.4294967295"] {
        let err = bad.parse::<Choice>().unwrap_err();
        assert_eq!(
            err,
            format!("`{bad}` is not a step (a worker number, optionally `.arm` or `.t`)")
        );
    }
}

// ---- pause, step, replay ------------------------------------------------------

#[test]
fn paused_a_step_is_exactly_one_pick() {
    let whole = Lab::run(config(Schedule::random(5)), two_stage);
    let whole = whole.trace.expect("a trace").choices;
    let run = Lab::start(
        Config {
            start_paused: true,
            ..config(Schedule::random(5))
        },
        two_stage,
    );
    let lab = run.lab().clone();
    assert!(lab.wait_still(STILL));
    assert_eq!(lab.snapshot().schedule.map(|s| s.step), Some(0));
    for k in 1..=10_u64 {
        lab.step();
        assert!(lab.wait_still(STILL));
        let status = lab.snapshot().schedule.expect("scheduled");
        assert_eq!(status.step, k);
        assert!(lab.is_paused());
        assert_eq!(
            lab.trace().expect("a trace").choices[..],
            whole[..k as usize]
        );
    }
    lab.set_paused(false);
    let report = run.wait();
    assert_eq!(report.outcome, Some(91));
    assert_eq!(
        report.trace.expect("a trace").choices,
        whole,
        "pausing changes no pick"
    );
}

#[test]
fn a_schedule_paused_at_a_step_stops_there() {
    let whole = Lab::run(config(Schedule::pct(8)), two_stage)
        .trace
        .expect("a trace")
        .choices;
    let run = Lab::start(config(Schedule::pct(8).paused_at(12)), two_stage);
    let lab = run.lab().clone();
    assert!(lab.wait_still(STILL));
    assert!(lab.is_paused());
    assert_eq!(lab.snapshot().schedule.map(|s| s.step), Some(12));
    assert_eq!(lab.trace().expect("a trace").choices[..], whole[..12]);
    lab.set_paused(false);
    let report = run.wait();
    assert_eq!(report.trace.expect("a trace").choices, whole);
}

/// A recorded trace replayed as a prefix is the same run: the same
/// choices and the same events. Cut short, with the original strategy and
/// seed after it, it still is: the strategy keeps in step with the prefix.
#[test]
fn a_prefix_replays_the_recorded_run() {
    for schedule in schedules() {
        let (original, lab) = run_keeping_lab(config(schedule.clone()), two_stage);
        let trace = original.trace.expect("a trace");
        let events = fingerprint(&lab.events_since(0).events);
        let replays = [
            Schedule::manual().with_prefix(trace.choices.clone()),
            schedule.clone().with_prefix(trace.choices.clone()),
            schedule
                .clone()
                .with_prefix(trace.choices[..trace.choices.len() / 2].to_vec()),
        ];
        for replay in replays {
            let (again, lab) = run_keeping_lab(config(replay.clone()), two_stage);
            assert_eq!(again.outcome, original.outcome);
            let again_trace = again.trace.expect("a trace");
            assert_eq!(again_trace.diverged, None, "{replay:?}");
            assert_eq!(
                choices_of(&again_trace),
                choices_of(&trace),
                "{schedule:?} replayed as {replay:?}"
            );
            assert_eq!(
                fingerprint(&lab.events_since(0).events),
                events,
                "{replay:?}"
            );
        }
    }
}

#[test]
fn a_prefix_that_does_not_fit_stops_the_run_and_says_where() {
    let bogus = vec![Choice::worker(0), Choice::worker(7)];
    let report = Lab::run(config(Schedule::random(1).with_prefix(bogus)), two_stage);
    let trace = report.trace.expect("a trace");
    assert_eq!(
        trace.diverged.as_deref(),
        Some("at step 2: the recorded pick 7 cannot run here (could run: 0, 1)")
    );
    assert_eq!(trace.choices, [Choice::worker(0)]);
    assert!(report.stopped, "a replay that does not fit is stopped");
    assert!(report.verdict.is_none());
    assert!(report.unstoppable.is_empty());
}

/// The same seed gives the same run; different seeds give different runs
/// (the strategy does pick).
#[test]
fn random_and_pct_are_deterministic_per_seed() {
    for strategy in [
        Strategy::Random,
        Strategy::Pct { depth: 3 },
        Strategy::Pct { depth: 1 },
    ] {
        let mut distinct = std::collections::BTreeSet::new();
        for seed in 0..8 {
            let schedule = Schedule::new(strategy, seed);
            let (a, lab_a) = run_keeping_lab(config(schedule.clone()), two_stage);
            let (b, lab_b) = run_keeping_lab(config(schedule.clone()), two_stage);
            let (ta, tb) = (a.trace.expect("a trace"), b.trace.expect("a trace"));
            assert_eq!(choices_of(&ta), choices_of(&tb), "{schedule:?}");
            assert_eq!(
                fingerprint(&lab_a.events_since(0).events),
                fingerprint(&lab_b.events_since(0).events),
                "{schedule:?}"
            );
            distinct.insert(choices_of(&ta));
        }
        assert!(distinct.len() >= 3, "{strategy:?}: {distinct:?}");
    }
}

// ---- determinism under load ---------------------------------------------------

/// A busy loop on another thread: machine load the schedule must not feel.
struct CoreBurner {
    stop: Arc<AtomicBool>,
    handle: Option<thread::JoinHandle<u64>>,
}

impl CoreBurner {
    fn start() -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let handle = thread::Builder::new()
            .name("core-burner".to_owned())
            .spawn(move || {
                let mut spins = 0_u64;
                while !flag.load(Ordering::Relaxed) {
                    spins = std::hint::black_box(spins.wrapping_add(1));
                }
                spins
            })
            .expect("spawn the burner");
        Self {
            stop,
            handle: Some(handle),
        }
    }

    /// Stops the loop; how many times it went round.
    fn finish(mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.take().map_or(0, |h| h.join().unwrap_or(0))
    }
}

impl Drop for CoreBurner {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// One trap of every lesson, one seed, 20 runs while another thread burns
/// a core: every run logs the same events (items included) and makes the
/// same choices, byte for byte.
#[test]
fn the_same_seed_gives_the_same_run_under_load() {
    let traps = [
        ("pipeline", "unclosed", Schedule::random(11)),
        ("fan-out-fan-in", "unordered", Schedule::pct(12)),
        ("worker-pool", "cancel-drops-jobs", Schedule::random(13)),
        ("rate-limiter", "refill-never-stopped", Schedule::pct(14)),
        (
            "broadcast",
            "slow-subscriber-blocks-all",
            Schedule::random(15),
        ),
        ("drain", "exit-at-once", Schedule::pct(16)),
    ];
    let burner = CoreBurner::start();
    for (name, trap, schedule) in traps {
        let lesson = lessons::find(name).expect("lesson");
        let variant = lesson.variant(trap).expect("trap");
        let mut first: Option<(String, String, Option<&'static str>)> = None;
        for round in 0..20 {
            let run = lesson.start(variant, lesson.defaults, config(schedule.clone()));
            let lab = run.lab().clone();
            let report = run.wait();
            assert!(
                lessons::meets_expectation(variant, &report),
                "{trap}: {report:?}"
            );
            let seen = (
                fingerprint(&lab.events_since(0).events),
                choices_of(&report.trace.expect("a trace")),
                report.verdict.as_ref().map(Verdict::kind),
            );
            match &first {
                None => first = Some(seen),
                Some(first) => {
                    assert!(
                        *first == seen,
                        "{name} {trap} {schedule:?}: run {round} differs from run 0"
                    );
                }
            }
        }
        let (events, _, _) = first.expect("20 runs");
        assert!(events.contains("Sent {"), "{trap}: items are logged");
    }
    assert!(burner.finish() > 0, "the burner ran");
}

/// The fingerprint the determinism checks compare must see a difference
/// when there is one; and a scheduled run's snapshot names its schedule.
#[test]
fn the_fingerprint_tells_different_runs_apart() {
    let mut seen = std::collections::BTreeSet::new();
    for seed in 0..6 {
        let (_, lab) = run_keeping_lab(config(Schedule::random(seed)), two_stage);
        seen.insert(fingerprint(&lab.events_since(0).events));
    }
    assert!(
        seen.len() > 1,
        "six seeds, one event log: the fingerprint sees nothing"
    );
    let snapshot: Snapshot = Lab::run(config(Schedule::random(0)), Lab::snapshot)
        .outcome
        .expect("main returned");
    assert_eq!(
        snapshot.schedule.map(|s| s.schedule),
        Some("random seed 0".to_owned())
    );
}

// ---- free mode beside it -------------------------------------------------------

/// Asking whether a run is scheduled must not pace it: in a paused free
/// run, main makes its workers and timers without passing the gate (the
/// gate is for channel operations), as before the scheduled mode.
#[test]
fn a_paused_free_run_spawns_without_passing_the_gate() {
    let run = Lab::start(
        Config {
            start_paused: true,
            ..Config::default()
        },
        |lab| {
            let first = lab.go("first", || 1);
            let alarm = lab.after(Duration::from_millis(1));
            let second = lab.go("second", || 2);
            drop(alarm);
            first.join().unwrap() + second.join().unwrap()
        },
    );
    let lab = run.lab().clone();
    let started = std::time::Instant::now();
    let spawned = loop {
        if lab.snapshot().workers.iter().any(|w| w.name == "second") {
            break true;
        }
        if started.elapsed() > 5 * SECOND {
            break false;
        }
        thread::sleep(Duration::from_millis(1));
    };
    lab.set_paused(false);
    assert_eq!(run.wait().outcome, Some(3));
    assert!(spawned, "paused, main never got to spawn `second`");
}

// ---- found in review --------------------------------------------------------

/// Waiting receivers on a rendezvous are served first come, first served,
/// as crossbeam serves them: two receivers looping on one channel share
/// the messages, under every schedule (not the lowest-numbered one always).
#[test]
fn waiting_receivers_on_a_rendezvous_are_served_in_turn() {
    for schedule in schedules() {
        let report = Lab::run(config(schedule.clone()), |lab| {
            let (tx, rx) = lab.bounded::<u32>("jobs", 0);
            let takers: Vec<_> = (1..=2)
                .map(|i| {
                    let rx = rx.clone();
                    lab.go(format!("taker#{i}"), move || rx.iter().count())
                })
                .collect();
            drop(rx);
            lab.work(SECOND); // both takers are waiting by now
            for i in 0..20 {
                tx.send(i).unwrap();
                lab.work(Duration::from_millis(1));
            }
            drop(tx);
            takers
                .into_iter()
                .map(|t| t.join().unwrap())
                .collect::<Vec<_>>()
        });
        let counts = report.outcome.expect("main returned");
        assert!(counts.iter().all(|&n| n >= 5), "{schedule:?}: {counts:?}");
    }
}

/// Two pollers never meet on a rendezvous, in crossbeam or here: a
/// `try_send` pairs only with a receiver that really waits, so a spin on
/// `try_send` against a spin on `try_recv` runs until the step limit.
#[test]
fn two_pollers_never_meet_on_a_rendezvous() {
    let report = Lab::run(
        Config {
            step_limit: 5_000,
            ..config(Schedule::random(3))
        },
        |lab| {
            let (tx, rx) = lab.bounded::<u32>("spot", 0);
            let poller = lab.go("poller", move || {
                loop {
                    if let Ok(v) = rx.try_recv() {
                        return Some(v);
                    }
                }
            });
            loop {
                if tx.try_send(7).is_ok() {
                    break;
                }
            }
            poller.join().ok().flatten()
        },
    );
    assert!(
        matches!(report.verdict, Some(Verdict::Runaway { .. })),
        "{:?}",
        report.verdict
    );
}

/// `select_biased!` takes its first ready arm, even when a sender waits to
/// hand it a message on a rendezvous in the second arm.
#[test]
fn a_biased_select_takes_its_first_ready_arm_over_a_waiting_sender() {
    for schedule in schedules() {
        let report = Lab::run(config(schedule.clone()), |lab| {
            let (ready_tx, ready) = lab.bounded::<u32>("ready", 1);
            ready_tx.send(1).unwrap();
            let (tx, rx) = lab.bounded::<u32>("late", 0);
            let sender = lab.go("sender", move || tx.send(2));
            lab.work(SECOND); // the sender offers by now
            let first = chanlab::select_biased! {
                recv(ready) -> _ => "first",
                recv(rx) -> _ => "second",
            };
            let _ = rx.recv();
            let _ = sender.join();
            first
        });
        assert_eq!(report.outcome, Some("first"), "{schedule:?}");
    }
}

/// A worker that holds the turn and never calls the lab again (a spin on
/// `is_empty`) would stop every other worker: the watchdog calls it a
/// runaway and names it, instead of a run that never ends.
#[test]
fn a_worker_spinning_without_lab_operations_is_a_runaway_named() {
    let report = Lab::run(
        Config {
            stall_after: Duration::from_millis(200),
            ..config(Schedule::random(0))
        },
        |lab| {
            let (tx, rx) = lab.bounded::<u32>("flag", 1);
            let me = lab.clone();
            // `is_aborted` is no lab operation either: it only lets this
            // thread end once the verdict is in, so the test leaves no
            // spinning thread behind.
            let spinner = lab.go("spinner", move || {
                while rx.is_empty() && !me.is_aborted() {
                    std::hint::spin_loop();
                }
            });
            lab.work(SECOND);
            let _ = tx.send(1);
            let _ = spinner.join();
        },
    );
    match &report.verdict {
        Some(Verdict::Runaway { busy, .. }) => {
            assert!(report.unstoppable.is_empty(), "{:?}", report.unstoppable);
            assert_eq!(busy.len(), 1, "{busy:?}");
            assert!(
                busy[0].detail.contains("without a lab operation"),
                "{busy:?}"
            );
        }
        other => panic!("expected a runaway, got {other:?}"),
    }
}

/// `paused_at(0)`: the run stands still before its first step.
#[test]
fn a_schedule_paused_at_step_zero_takes_no_step() {
    let run = Lab::start(config(Schedule::random(1).paused_at(0)), |lab| {
        let (tx, rx) = lab.bounded::<u32>("one", 1);
        tx.send(1).unwrap();
        rx.recv().unwrap()
    });
    assert!(run.lab().wait_still(STILL));
    let snapshot = run.lab().snapshot();
    assert_eq!(snapshot.schedule.map(|s| s.step), Some(0));
    assert!(snapshot.paused);
    run.lab().set_paused(false);
    assert_eq!(run.wait().outcome, Some(1));
}
