//! The lab runtime: crossbeam semantics kept, verdicts exact, runs end clean.
//!
//! Interleavings are forced with channels and with the lab's own snapshot
//! (waiting, with a bound, for an observable state), never with sleeps.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chanlab::lab::{
    Config, JoinError, Lab, RecvTimeoutError, SendError, SendTimeoutError, TryRecvError,
    TrySendError, Verdict, WorkerState,
};
use chanlab::{select, select_biased};

/// Waits (at most 10 s) until `cond` holds for the lab's snapshot.
fn wait_for(lab: &Lab, what: &str, cond: impl Fn(&chanlab::lab::Snapshot) -> bool) {
    let start = Instant::now();
    while !cond(&lab.snapshot()) {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "timed out waiting for {what}"
        );
        std::thread::yield_now();
    }
}

#[test]
fn smoke() {
    let report = Lab::run(Config::default(), |lab| {
        let (tx, rx) = lab.bounded("numbers", 4);
        lab.go("producer", move || {
            for i in 1..=10_u32 {
                tx.send(i).unwrap();
            }
        });
        rx.iter().sum::<u32>()
    });
    assert_eq!(report.outcome, Some(55));
    assert!(report.verdict.is_none());
    let ch = &report.snapshot.channels[0];
    assert_eq!((ch.sent, ch.received, ch.len, ch.closed), (10, 10, 0, true));
}

#[test]
fn dropping_the_last_sender_lets_receivers_drain_then_fail() {
    let lab = Lab::new(Config::default());
    let (tx, rx) = lab.bounded("c", 4);
    let tx2 = tx.clone();
    tx.send(1).unwrap();
    tx2.send(2).unwrap();
    drop(tx);
    assert_eq!(rx.try_recv(), Ok(1), "one sender left: still open");
    drop(tx2);
    assert_eq!(rx.recv(), Ok(2), "queued messages still arrive");
    assert_eq!(rx.recv(), Err(chanlab::lab::RecvError));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    assert_eq!(rx.iter().count(), 0, "iter ends");
}

#[test]
fn a_blocked_send_wakes_with_its_message_when_the_last_receiver_goes() {
    let report = Lab::run(Config::default(), |lab| {
        let (tx, rx) = lab.bounded("full", 1);
        tx.send(1).unwrap();
        let sender = lab.go("sender", move || tx.send(2));
        wait_for(lab, "sender blocked", |s| {
            s.workers
                .iter()
                .any(|w| w.name == "sender" && w.state.is_blocked())
        });
        drop(rx);
        sender.join()
    });
    assert!(report.verdict.is_none(), "{:?}", report.verdict);
    assert_eq!(report.outcome, Some(Ok(Err(SendError(2)))));
}

#[test]
fn rendezvous_holds_nothing_and_pairs_sender_with_receiver() {
    let lab = Lab::new(Config::default());
    let (tx, rx) = lab.bounded::<u8>("meet", 0);
    assert_eq!(tx.capacity(), Some(0));
    assert!(
        tx.is_full() && rx.is_full(),
        "a rendezvous always reports full"
    );
    assert!(tx.is_empty());
    assert_eq!(
        tx.try_send(1),
        Err(TrySendError::Full(1)),
        "no receiver waits"
    );
    let report = Lab::run(Config::default(), |lab| {
        let (tx, rx) = lab.bounded::<u8>("meet", 0);
        let receiver = lab.go("receiver", move || rx.recv());
        wait_for(lab, "receiver waiting", |s| s.channels[0].recv_waiting == 1);
        tx.send(9).unwrap();
        assert_eq!(tx.len(), 0);
        receiver.join()
    });
    assert_eq!(report.outcome, Some(Ok(Ok(9))));
}

#[test]
fn timeouts_and_lengths_match_crossbeam() {
    let lab = Lab::new(Config::default());
    let (tx, rx) = lab.bounded("four", 4);
    assert_eq!(
        (tx.capacity(), tx.len(), tx.is_empty(), tx.is_full()),
        (Some(4), 0, true, false)
    );
    assert_eq!(
        rx.recv_timeout(Duration::from_millis(5)),
        Err(RecvTimeoutError::Timeout)
    );
    for i in 0..4 {
        tx.send(i).unwrap();
    }
    assert!(tx.is_full() && rx.is_full());
    assert_eq!(rx.len(), 4);
    assert_eq!(
        tx.send_timeout(9, Duration::from_millis(5)),
        Err(SendTimeoutError::Timeout(9))
    );
    assert_eq!(rx.try_iter().collect::<Vec<_>>(), vec![0, 1, 2, 3]);
    drop(rx);
    assert_eq!(
        tx.send_timeout(9, Duration::from_millis(5)),
        Err(SendTimeoutError::Disconnected(9))
    );
    let (utx, urx) = lab.unbounded::<u8>("log");
    assert_eq!(utx.capacity(), None);
    for i in 0..100 {
        utx.send(i).unwrap();
    }
    assert!(!utx.is_full());
    assert_eq!(urx.len(), 100);
}

#[test]
fn a_two_worker_send_cycle_is_a_deadlock() {
    let report = Lab::run(Config::default(), |lab| {
        let (a_tx, a_rx) = lab.bounded::<u8>("a", 0);
        let (b_tx, b_rx) = lab.bounded::<u8>("b", 0);
        // Each sends to the other before receiving: both wait to send.
        let left = lab.go("left", move || {
            let _ = a_tx.send(1);
            let _ = b_rx.recv();
        });
        let right = lab.go("right", move || {
            let _ = b_tx.send(1);
            let _ = a_rx.recv();
        });
        (left.join(), right.join())
    });
    let Some(Verdict::Deadlock { stuck }) = &report.verdict else {
        panic!("expected a deadlock, got {:?}", report.verdict);
    };
    let detail = |name: &str| {
        stuck
            .iter()
            .find(|s| s.worker == name)
            .map(|s| s.detail.clone())
    };
    assert_eq!(
        detail("left").as_deref(),
        Some("waits to send on `a` (rendezvous, 1 receiver alive)")
    );
    assert_eq!(
        detail("right").as_deref(),
        Some("waits to send on `b` (rendezvous, 1 receiver alive)")
    );
    assert_eq!(
        detail("main").as_deref(),
        Some("waits for `left` to finish")
    );
    // The abort woke both workers: they ended (their sends failed), and
    // main's joins either saw the abort or the worker's end.
    let (left, right) = report.outcome.expect("main returned");
    for joined in [left, right] {
        assert!(
            matches!(joined, Ok(()) | Err(JoinError::Aborted)),
            "{joined:?}"
        );
    }
    assert!(report.unstoppable.is_empty());
    assert!(
        report
            .snapshot
            .workers
            .iter()
            .all(|w| w.state.is_blocked() || w.name == "main")
    );
}

#[test]
fn receiving_from_a_channel_whose_senders_all_wait_is_a_deadlock() {
    let report = Lab::run(Config::default(), |lab| {
        let (in_tx, in_rx) = lab.bounded::<u8>("input", 1);
        let (out_tx, out_rx) = lab.bounded::<u8>("output", 1);
        out_tx.send(0).unwrap(); // `output` is full and nobody reads it
        let producer = lab.go("producer", move || {
            let _ = out_tx.send(1); // blocks: full
            let _ = in_tx.send(2);
        });
        let consumer = lab.go("consumer", move || {
            let _keep = out_rx; // holds the receiver, never reads it
            in_rx.recv()
        });
        let _ = producer.join();
        consumer.join()
    });
    let Some(Verdict::Deadlock { stuck }) = &report.verdict else {
        panic!("expected a deadlock, got {:?}", report.verdict);
    };
    let consumer = stuck.iter().find(|s| s.worker == "consumer").unwrap();
    assert_eq!(
        consumer.detail,
        "waits to receive on `input` (0/1, 1 sender alive)"
    );
    let producer = stuck.iter().find(|s| s.worker == "producer").unwrap();
    assert_eq!(
        producer.detail,
        "waits to send on `output` (1/1 full, 1 receiver alive)"
    );
}

/// Many short, busy, correct runs full of blocking and waking: a single
/// false deadlock verdict fails the test.
#[test]
fn thousands_of_busy_correct_runs_never_see_a_deadlock() {
    for round in 0..1500_u32 {
        let cap = (round % 3) as usize; // rendezvous, 1, 2
        let report = Lab::run(Config::default(), move |lab| {
            let (tx, rx) = lab.bounded::<u32>("ping", cap);
            let (back_tx, back_rx) = lab.bounded::<u32>("pong", cap);
            let producers: Vec<_> = (0..2)
                .map(|p| {
                    let tx = tx.clone();
                    lab.go(format!("producer#{p}"), move || {
                        for i in 0..20 {
                            tx.send(i).unwrap();
                        }
                    })
                })
                .collect();
            drop(tx);
            let echo = lab.go("echo", move || {
                for v in rx {
                    back_tx.send(v).unwrap();
                }
            });
            let total: u32 = back_rx.iter().sum();
            for p in producers {
                p.join().unwrap();
            }
            echo.join().unwrap();
            total
        });
        assert!(
            report.verdict.is_none(),
            "round {round}: {:?}",
            report.verdict
        );
        assert_eq!(report.outcome, Some(2 * (0..20).sum::<u32>()));
    }
}

/// A rendezvous ping-pong: every operation blocks and wakes its partner, so
/// the moment between "woken" and "counted" comes up thousands of times.
#[test]
fn a_rendezvous_ping_pong_never_sees_a_deadlock() {
    for round in 0..40 {
        let report = Lab::run(Config::default(), |lab| {
            let (to_echo, from_main) = lab.bounded::<u32>("ping", 0);
            let (to_main, from_echo) = lab.bounded::<u32>("pong", 0);
            let echo = lab.go("echo", move || {
                for v in &from_main {
                    if to_main.send(v).is_err() {
                        return;
                    }
                }
            });
            for i in 0..1000 {
                if to_echo.send(i).is_err() || from_echo.recv() != Ok(i) {
                    return false;
                }
            }
            drop(to_echo);
            echo.join().is_ok()
        });
        assert!(
            report.verdict.is_none(),
            "round {round}: {:?}",
            report.verdict
        );
        assert_eq!(report.outcome, Some(true));
    }
}

#[test]
fn a_leak_names_the_worker_and_its_channel() {
    let report = Lab::run(Config::default(), |lab| {
        let (tx, rx) = lab.bounded::<u8>("never-fed", 0);
        lab.go("stuck", move || {
            let _own = tx; // it holds the only sender itself
            rx.recv()
        });
        "main returns"
    });
    let Some(Verdict::Leak { leaked }) = &report.verdict else {
        panic!("expected a leak, got {:?}", report.verdict);
    };
    assert_eq!(leaked.len(), 1);
    assert_eq!(leaked[0].worker, "stuck");
    assert_eq!(
        leaked[0].detail,
        "waits to receive on `never-fed` (rendezvous, 1 sender alive)"
    );
    let stuck = report
        .snapshot
        .workers
        .iter()
        .find(|w| w.name == "stuck")
        .unwrap();
    assert!(matches!(stuck.state, WorkerState::Leaked { .. }));
    assert!(report.unstoppable.is_empty(), "the abort woke it");
}

#[test]
fn a_panicking_worker_is_a_verdict_not_a_crash() {
    let report = Lab::run(Config::default(), |lab| {
        let w = lab.go("square#3", || -> u32 { panic!("bad item 7") });
        w.join()
    });
    let Some(Verdict::Panicked { worker, message }) = &report.verdict else {
        panic!("expected a panic verdict, got {:?}", report.verdict);
    };
    assert_eq!(worker, "square#3");
    assert!(message.contains("bad item 7"), "{message}");
    assert!(matches!(
        report.outcome,
        Some(Err(JoinError::Panicked(_) | JoinError::Aborted))
    ));
}

#[test]
fn a_worker_that_spins_on_a_dead_run_is_unwound() {
    let config = Config {
        spin_limit: 1000,
        ..Config::default()
    };
    let report = Lab::run(config, |lab| {
        let (tx, rx) = lab.bounded::<u8>("c", 0);
        let spinner = lab.go("spinner", move || {
            let _keep = rx;
            loop {
                let _ = tx.send(1); // ignores every error
            }
        });
        spinner.join()
    });
    assert!(matches!(report.verdict, Some(Verdict::Deadlock { .. })));
    assert!(report.unstoppable.is_empty());
    let spinner = report
        .snapshot
        .workers
        .iter()
        .find(|w| w.name == "spinner")
        .unwrap();
    assert!(
        matches!(spinner.state, WorkerState::BlockedSend { .. }),
        "frozen at the verdict"
    );
}

#[test]
fn a_worker_that_never_calls_the_lab_again_is_named_unstoppable() {
    let release = Arc::new(AtomicBool::new(false));
    let held = Arc::clone(&release);
    let config = Config {
        leak_grace: Duration::from_millis(100),
        stop_grace: Duration::from_millis(200),
        ..Config::default()
    };
    let report = Lab::run(config, move |lab| {
        lab.go("busy", move || {
            while !held.load(Ordering::Relaxed) {
                std::hint::spin_loop();
            }
        });
    });
    release.store(true, Ordering::Relaxed);
    let Some(Verdict::Leak { leaked }) = &report.verdict else {
        panic!("expected a leak, got {:?}", report.verdict);
    };
    assert_eq!(leaked[0].detail, "is still running");
    assert_eq!(report.unstoppable, vec!["busy".to_owned()]);
}

#[test]
fn a_thread_outside_the_lab_is_an_external_worker_and_gets_a_stall_not_a_deadlock() {
    let config = Config {
        stall_after: Duration::from_millis(100),
        ..Config::default()
    };
    let lab = Lab::new(config.clone());
    // A plain thread uses a lab channel: no crash, shown as external.
    let (tx, rx) = lab.bounded::<u8>("outside", 1);
    std::thread::scope(|s| {
        s.spawn(|| tx.send(5).unwrap());
    });
    assert_eq!(rx.recv(), Ok(5));
    assert!(lab.snapshot().workers.iter().all(|w| w.external));

    // A run whose channel an outside thread has touched cannot prove a
    // deadlock (the thread might send at any time): it gets a stall.
    let (to_test, parked) = std::sync::mpsc::channel();
    let report = Lab::run(config, move |lab| {
        let (tx, rx) = lab.bounded::<u8>("shared", 1);
        let outside = std::thread::spawn(move || {
            tx.send(1).unwrap(); // its first operation: the lab sees it from here on
            to_test.send(tx).unwrap(); // parks the sender with the test
        });
        outside.join().unwrap(); // (not a lab operation)
        assert_eq!(rx.recv(), Ok(1));
        rx.recv() // nobody will send again
    });
    drop(parked);
    let Some(Verdict::Stall { stuck, .. }) = &report.verdict else {
        panic!("expected a stall, got {:?}", report.verdict);
    };
    assert_eq!(stuck[0].worker, "main");
}

#[test]
fn select_picks_a_ready_arm_and_a_closed_done_fires_every_time() {
    let report = Lab::run(Config::default(), |lab| {
        let (tx, rx) = lab.bounded::<u32>("work", 1);
        let (done_tx, done) = lab.bounded::<()>("done", 0);
        let empty = select! {
            recv(rx) -> _ => "message",
            default => "nothing ready",
        };
        tx.send(3).unwrap();
        let got = select! {
            recv(rx) -> v => v,
            recv(done) -> _ => Err(chanlab::lab::RecvError),
        };
        drop(done_tx);
        let fired = (0..5)
            .filter(|_| select! { recv(done) -> r => r.is_err(), default => false })
            .count();
        let timed_out = select! {
            recv(rx) -> _ => false,
            default(Duration::from_millis(5)) => true,
        };
        (empty, got, fired, timed_out)
    });
    assert_eq!(report.outcome, Some(("nothing ready", Ok(3), 5, true)));
}

#[test]
fn a_select_that_can_never_fire_is_part_of_the_deadlock_picture() {
    let report = Lab::run(Config::default(), |lab| {
        let (keep_tx, work) = lab.bounded::<u8>("work", 2);
        let never = lab.never::<()>();
        let w = lab.go("waiter", move || {
            let _keep = keep_tx;
            select! {
                recv(work) -> _ => {},
                recv(never) -> _ => {},
            }
        });
        w.join()
    });
    let Some(Verdict::Deadlock { stuck }) = &report.verdict else {
        panic!("expected a deadlock, got {:?}", report.verdict);
    };
    let waiter = stuck.iter().find(|s| s.worker == "waiter").unwrap();
    assert_eq!(
        waiter.detail,
        "waits in select on recv `work` (0/2, 1 sender alive), recv `never` (never fires)"
    );
}

#[test]
fn timers_fire_and_sleeping_is_never_a_deadlock() {
    let report = Lab::run(
        Config {
            speed: 10.0,
            ..Config::default()
        },
        |lab| {
            let once = lab.after(Duration::from_millis(50));
            let t = lab.go("sleeper", move || once.recv().is_ok());
            let tick = lab.tick(Duration::from_millis(10));
            let ticks = (0..3).filter(|_| tick.recv().is_ok()).count();
            lab.work(Duration::from_millis(20));
            (t.join(), ticks)
        },
    );
    assert!(report.verdict.is_none(), "{:?}", report.verdict);
    assert_eq!(report.outcome, Some((Ok(true), 3)));
}

#[test]
fn pause_freezes_and_each_step_lets_exactly_one_operation_through() {
    let config = Config {
        start_paused: true,
        ..Config::default()
    };
    let run = Lab::start(config, |lab| {
        let (tx, rx) = lab.unbounded::<u32>("steps");
        for i in 0..3 {
            tx.send(i).unwrap();
        }
        drop(tx);
        rx.iter().count()
    });
    let lab = run.lab().clone();
    assert!(lab.is_paused());
    let sent = |lab: &Lab| lab.snapshot().channels.first().map_or(0, |c| c.sent);
    for k in 1..=3 {
        lab.step();
        wait_for(&lab, "one more send", |s| {
            s.channels.first().is_some_and(|c| c.sent == k)
        });
    }
    assert_eq!(sent(&lab), 3);
    // Held at the gate before its next operation, and shown so (not as
    // running): the learner sees why nothing moves.
    wait_for(&lab, "main held at the gate", |s| {
        s.workers
            .iter()
            .any(|w| w.name == "main" && w.state == WorkerState::Paused)
    });
    lab.set_paused(false);
    let report = run.wait();
    assert_eq!(report.outcome, Some(3));
}

#[test]
fn the_event_log_is_a_bounded_ring() {
    let config = Config {
        events: 8,
        ..Config::default()
    };
    let report = Lab::run(config, |lab| {
        for i in 0..20 {
            lab.go(format!("w#{i}"), || ()).join().unwrap();
        }
        let batch = lab.events_since(0);
        (batch.events.len(), batch.skipped)
    });
    let (held, skipped) = report.outcome.unwrap();
    assert_eq!(held, 8);
    assert!(skipped > 0);
}

#[test]
fn snapshots_count_ops_per_worker_and_stage() {
    let report = Lab::run(Config::default(), |lab| {
        let (tx, rx) = lab.bounded::<u8>("items", 10);
        let workers: Vec<_> = (1..=2)
            .map(|n| {
                let tx = tx.clone();
                lab.go(format!("producer#{n}"), move || {
                    for i in 0..5 {
                        tx.send(i).unwrap();
                    }
                })
            })
            .collect();
        drop(tx);
        for w in workers {
            w.join().unwrap();
        }
        rx.iter().count()
    });
    let snap = &report.snapshot;
    let p1 = snap
        .workers
        .iter()
        .find(|w| w.name == "producer#1")
        .unwrap();
    assert_eq!((p1.stage.as_str(), p1.ops), ("producer", 5));
    let main = snap.workers.iter().find(|w| w.name == "main").unwrap();
    assert_eq!(main.ops, 10);
    assert_eq!((snap.totals.sent, snap.totals.received), (10, 10));
    assert!(snap.finished);
}

#[test]
fn far_timers_do_not_panic_and_dropped_timers_leave_the_picture() {
    let report = Lab::run(Config::default(), |lab| {
        let far = lab.after(Duration::MAX);
        let (_tx, rx) = lab.bounded::<u8>("c", 1);
        rx.recv_timeout(Duration::MAX / 2).is_ok() || far.try_recv().is_ok()
    });
    // `recv_timeout` that can never time out is a plain blocking receive,
    // part of the deadlock picture (main holds the only sender).
    assert!(
        matches!(report.verdict, Some(Verdict::Deadlock { .. })),
        "{:?}",
        report.verdict
    );

    let report = Lab::run(Config::default(), |lab| {
        for _ in 0..50 {
            let t = lab.after(Duration::from_millis(1));
            let _ = t.recv();
        }
        lab.snapshot().channels.len()
    });
    assert_eq!(report.outcome, Some(0), "finished timers are forgotten");
}

/// Arms that leave the loop read as they do with crossbeam's `select!`.
#[test]
fn select_arms_may_break_out_of_a_loop() {
    let report = Lab::run(Config::default(), |lab| {
        let (tx, rx) = lab.bounded::<u32>("numbers", 4);
        let (done_tx, done) = lab.bounded::<()>("done", 0);
        lab.go("producer", move || {
            for i in 1..=3 {
                tx.send(i).unwrap();
            }
            drop(done_tx); // cancel once everything is queued
        });
        let mut sum = 0;
        loop {
            select! {
                recv(rx) -> v => match v {
                    Ok(v) => sum += v,
                    Err(_) => break,
                },
                recv(done) -> _ => {
                    sum += rx.try_iter().sum::<u32>();
                    break;
                },
            }
        }
        sum
    });
    assert_eq!(report.outcome, Some(6));
}

#[test]
fn select_biased_picks_the_first_ready_arm_every_time() {
    let report = Lab::run(Config::default(), |lab| {
        let (done_tx, done) = lab.bounded::<()>("done", 0);
        let (tx, work) = lab.bounded::<u32>("work", 64);
        drop(done_tx);
        for i in 0..64 {
            tx.send(i).unwrap();
        }
        // Both arms are ready every time; `done` is listed first.
        (0..50)
            .filter(|_| {
                chanlab::select_biased! {
                    recv(done) -> _ => true,
                    recv(work) -> _ => false,
                }
            })
            .count()
    });
    assert_eq!(report.outcome, Some(50));
}

/// A worker's return value may hold the last Sender: when nobody joins it,
/// the value is dropped before the worker counts as finished, so the
/// receiver it closes is never seen as stuck.
#[test]
fn a_sender_returned_by_an_unjoined_worker_closes_its_channel_without_a_verdict() {
    for round in 0..200 {
        let report = Lab::run(Config::default(), |lab| {
            let (tx, rx) = lab.bounded::<u8>("returned", 0);
            drop(lab.go("w", move || tx));
            rx.recv()
        });
        assert!(
            report.verdict.is_none(),
            "round {round}: {:?}",
            report.verdict
        );
        assert_eq!(report.outcome, Some(Err(chanlab::lab::RecvError)));
    }
}

/// crossbeam never pairs a select with itself: both arms on one rendezvous
/// and nobody else is a deadlock, and so is a select with no arm at all.
#[test]
fn a_select_that_only_itself_could_serve_and_an_empty_select_are_deadlocks() {
    let report = Lab::run(Config::default(), |lab| {
        let (tx, rx) = lab.bounded::<u8>("self", 0);
        select! {
            send(tx, 1) -> _ => "sent",
            recv(rx) -> _ => "received",
        }
    });
    assert!(
        matches!(report.verdict, Some(Verdict::Deadlock { .. })),
        "{:?}",
        report.verdict
    );

    let report = Lab::run(Config::default(), |_lab| {
        let mut nothing = chanlab::lab::Select::new();
        nothing.select().index()
    });
    let Some(Verdict::Deadlock { stuck }) = &report.verdict else {
        panic!("expected a deadlock, got {:?}", report.verdict);
    };
    assert_eq!(stuck[0].state, WorkerState::Selecting { arms: Vec::new() });
    assert_eq!(report.outcome, Some(0), "the abort woke it");
}

/// After an abort, a main that never calls the lab again gets the same
/// grace as any worker, then is named unstoppable: the run still ends.
#[test]
fn a_main_that_ignores_the_abort_is_named_unstoppable_and_the_run_ends() {
    let release = Arc::new(AtomicBool::new(false));
    let held = Arc::clone(&release);
    let config = Config {
        stop_grace: Duration::from_millis(100),
        ..Config::default()
    };
    let report = Lab::run(config, move |lab| {
        let _ = lab.go("bad", || panic!("boom"));
        while !held.load(Ordering::Relaxed) {
            std::hint::spin_loop();
        }
    });
    release.store(true, Ordering::Relaxed);
    assert!(matches!(report.verdict, Some(Verdict::Panicked { .. })));
    assert_eq!(report.unstoppable, vec!["main".to_owned()]);
    assert!(report.outcome.is_none());
}

#[test]
fn graces_of_any_length_are_accepted() {
    let config = Config {
        leak_grace: Duration::MAX,
        stop_grace: Duration::MAX,
        stall_after: Duration::MAX,
        ..Config::default()
    };
    let report = Lab::run(config, |lab| {
        let (tx, rx) = lab.bounded("c", 1);
        lab.go("w", move || tx.send(1).is_ok());
        rx.recv()
    });
    assert!(report.verdict.is_none());
    assert_eq!(report.outcome, Some(Ok(1)));
}

/// A bare `Lab::new` has no closed world (its creating thread is unseen
/// until it acts), so it takes no deadlock verdict that would abort it.
#[test]
fn a_bare_lab_takes_no_verdict() {
    let lab = Lab::new(Config::default());
    let (tx, rx) = lab.bounded::<u8>("later", 0);
    let (started_tx, started) = lab.bounded::<()>("started", 1);
    let w = lab.go("waiter", move || {
        started_tx.send(()).unwrap();
        rx.recv()
    });
    // Wait until the waiter really blocks, then send from this thread.
    started.recv().unwrap();
    wait_for(&lab, "waiter blocked", |s| {
        s.workers
            .iter()
            .any(|w| w.name == "waiter" && w.state.is_blocked())
    });
    assert!(lab.verdict().is_none());
    tx.send(7).unwrap();
    assert_eq!(w.join(), Ok(Ok(7)));
}

/// Every arm form crossbeam's `select!` accepts compiles with the lab's and
/// behaves the same: block bodies with or without a comma, expression
/// bodies with a comma or as the last arm, `default` in any position and
/// with `()` or a timeout, trailing commas inside the argument lists.
#[test]
fn select_accepts_every_form_crossbeams_macro_accepts() {
    let report = Lab::run(Config::default(), |lab| {
        let (tx, rx) = lab.bounded::<u32>("forms", 4);
        let mut seen = Vec::new();
        // A block body without a comma, then `default` (the form).
        select! {
            recv(rx) -> v => { seen.push(v.unwrap()); }
            default => { seen.push(100); }
        }
        tx.send(1).unwrap();
        // Block bodies with commas, a trailing comma after the last arm.
        select! {
            recv(rx) -> v => { seen.push(v.unwrap()); },
            default => { seen.push(101); },
        }
        // Expression bodies; the last one without a trailing comma.
        let sent = select! {
            send(tx, 2) -> r => r.is_ok(),
            default => false
        };
        seen.push(u32::from(sent));
        // `default` first, `default()` spelled out, `recv(rx,)` with a comma.
        let got = select! {
            default() => 0,
            recv(rx,) -> v => v.unwrap(),
        };
        seen.push(got);
        // `default(timeout)` with a trailing comma in its list; `send(tx, m,)`.
        let empty = select! {
            recv(rx) -> v => v.unwrap(),
            default(Duration::from_millis(1),) => 102,
        };
        seen.push(empty);
        let sent = select! {
            send(tx, 3,) -> r => { r.is_ok() }
            default(Duration::from_millis(1)) => { false }
        };
        seen.push(u32::from(sent));
        // `mut` and `_` patterns; a body that breaks out of a loop.
        loop {
            select! {
                recv(rx) -> mut v => { v = v.map(|x| x * 10); seen.push(v.unwrap()); }
                default => break,
            }
        }
        select_biased! {
            recv(rx) -> _ => seen.push(103),
            default => seen.push(104)
        }
        seen
    });
    assert!(report.verdict.is_none(), "{:?}", report.verdict);
    assert_eq!(
        report.outcome,
        Some(vec![100, 1, 1, 2, 102, 1, 30, 104]),
        "each form picked what crossbeam's would"
    );
}

/// The same forms on crossbeam's own macro, so the test above cannot
/// accept a grammar crossbeam's rejects.
#[test]
#[allow(unused_braces)] // the braces are the form under test
fn the_same_forms_compile_with_crossbeams_select() {
    let (tx, rx) = crossbeam_channel::bounded::<u32>(4);
    let mut seen = Vec::new();
    crossbeam_channel::select! {
        recv(rx) -> v => { seen.push(v.unwrap()); }
        default => { seen.push(100); }
    }
    tx.send(1).unwrap();
    crossbeam_channel::select! {
        recv(rx) -> v => { seen.push(v.unwrap()); },
        default => { seen.push(101); },
    }
    let sent = crossbeam_channel::select! {
        send(tx, 2) -> r => r.is_ok(),
        default => false
    };
    seen.push(u32::from(sent));
    let got = crossbeam_channel::select! {
        default() => 0,
        recv(rx,) -> v => v.unwrap(),
    };
    seen.push(got);
    let empty = crossbeam_channel::select! {
        recv(rx) -> v => v.unwrap(),
        default(Duration::from_millis(1),) => 102,
    };
    seen.push(empty);
    let sent = crossbeam_channel::select! {
        send(tx, 3,) -> r => { r.is_ok() }
        default(Duration::from_millis(1)) => { false }
    };
    seen.push(u32::from(sent));
    loop {
        crossbeam_channel::select! {
            recv(rx) -> mut v => { v = v.map(|x| x * 10); seen.push(v.unwrap()); }
            default => break,
        }
    }
    crossbeam_channel::select_biased! {
        recv(rx) -> _ => seen.push(103),
        default => seen.push(104)
    }
    assert_eq!(seen, vec![100, 1, 1, 2, 102, 1, 30, 104]);
}

/// After a deadlock every view shows the world as the verdict saw it: the
/// channel whose never closing is the bug stays open, the stuck workers stay
/// stuck, and the abort's teardown events are marked as cleanup.
#[test]
fn the_picture_freezes_at_the_verdict_and_the_teardown_is_labelled_cleanup() {
    let report = Lab::run(Config::default(), |lab| {
        let (tx, rx) = lab.bounded::<u32>("filtered", 4);
        let spare = tx.clone(); // the trap: a Sender nobody will drop
        let sink = lab.go("sink", move || rx.iter().count());
        lab.go("filter", move || {
            for i in 0..3 {
                tx.send(i).unwrap();
            }
        });
        let got = sink.join();
        drop(spare);
        got
    });
    assert!(matches!(report.verdict, Some(Verdict::Deadlock { .. })));
    let snapshot = &report.snapshot;
    assert!(snapshot.at_verdict);
    assert!(snapshot.finished, "the teardown is over by the report");
    let filtered = snapshot
        .channels
        .iter()
        .find(|c| c.name == "filtered")
        .unwrap();
    assert!(
        !filtered.closed,
        "the bug is that it never closes: {filtered:?}"
    );
    assert_eq!((filtered.sent, filtered.received), (3, 3));
    let state = |name: &str| {
        snapshot
            .workers
            .iter()
            .find(|w| w.name == name)
            .map(|w| w.state.clone())
            .unwrap()
    };
    assert_eq!(
        state("sink"),
        WorkerState::BlockedRecv {
            channel: "filtered".into()
        }
    );
    assert_eq!(
        state("main"),
        WorkerState::Joining {
            worker: "sink".into()
        }
    );
    assert_eq!(
        state("filter"),
        WorkerState::Done,
        "it really finished before"
    );
}

#[test]
fn events_after_the_verdict_are_cleanup_and_events_before_are_not() {
    let run = Lab::start(Config::default(), |lab| {
        let (tx, rx) = lab.bounded::<u32>("never-closed", 0);
        let _keep = tx.clone();
        let sink = lab.go("sink", move || rx.recv());
        drop(tx);
        let _ = sink.join();
    });
    let lab = run.lab().clone();
    let report = run.wait();
    assert!(matches!(report.verdict, Some(Verdict::Deadlock { .. })));
    let events = lab.events_since(0).events;
    let verdict_at = events
        .iter()
        .position(|e| matches!(e.kind, chanlab::lab::EventKind::Verdict { .. }))
        .expect("the verdict is logged");
    assert!(events[..=verdict_at].iter().all(|e| !e.cleanup));
    let after = &events[verdict_at + 1..];
    assert!(!after.is_empty(), "the teardown logs something: {events:?}");
    assert!(after.iter().all(|e| e.cleanup), "{after:?}");
    assert!(
        after.iter().any(
            |e| matches!(&e.kind, chanlab::lab::EventKind::Finished { worker } if worker == "sink")
        ),
        "the sink finishes only in the teardown: {after:?}"
    );
}

/// Pausing freezes lesson time itself: simulated work, timers, timeouts and
/// `lab.now()` stand still while paused (not only the gate), and go on
/// where they were on resume.
#[test]
fn pause_freezes_work_timers_timeouts_and_the_clock() {
    let run = Lab::start(Config::default(), |lab| {
        let (tx, rx) = lab.unbounded::<&str>("finished");
        let (keep_open, never_sent) = lab.bounded::<()>("never-sent", 0);
        let worker = lab.clone();
        let t = tx.clone();
        lab.go("worker", move || {
            worker.work(Duration::from_millis(80));
            let _ = t.send("work");
        });
        let timer = lab.after(Duration::from_millis(80));
        let t = tx.clone();
        lab.go("timer", move || {
            let _ = timer.recv();
            let _ = t.send("timer");
        });
        let t = tx.clone();
        lab.go("timeout", move || {
            let _ = never_sent.recv_timeout(Duration::from_millis(80));
            let _ = t.send("timeout");
        });
        let silent = lab.never::<()>();
        lab.go("select", move || {
            select! {
                recv(silent) -> _ => {}
                default(Duration::from_millis(80)) => {}
            }
            let _ = tx.send("select");
        });
        let mut got: Vec<&str> = rx.iter().take(4).collect();
        got.sort_unstable();
        drop(keep_open);
        got
    });
    // Pause once all four wait on time.
    let lab = run.lab().clone();
    let waiting_on_time = |lab: &Lab| {
        let s = lab.snapshot();
        ["worker", "timer", "timeout", "select"].iter().all(|name| {
            s.workers.iter().any(|w| {
                w.name == *name
                    && matches!(
                        w.state,
                        WorkerState::Sleeping(_)
                            | WorkerState::BlockedRecv { .. }
                            | WorkerState::Selecting { .. }
                    )
            })
        })
    };
    while !waiting_on_time(&lab) {
        std::thread::yield_now();
    }
    lab.set_paused(true);
    let frozen = lab.now();
    // Three times the 80 ms of lesson time they wait for, on the wall clock:
    // with lesson time standing still, none of them may finish.
    std::thread::sleep(Duration::from_millis(250));
    assert_eq!(lab.now(), frozen, "lesson time stood still");
    assert!(waiting_on_time(&lab), "{:?}", lab.snapshot().workers);
    assert!(!run.is_finished());
    lab.set_paused(false);
    let report = run.wait();
    assert!(report.verdict.is_none(), "{:?}", report.verdict);
    assert_eq!(
        report.outcome,
        Some(vec!["select", "timeout", "timer", "work"])
    );
}

/// A block body followed by more expression is one expression, as in
/// crossbeam's macro; an arm may switch itself off (`rx = never()`) even
/// beside a `default`.
#[test]
fn select_block_bodies_may_go_on_as_expressions_and_arms_may_switch_off() {
    let report = Lab::run(Config::default(), |lab| {
        let (tx, rx) = lab.bounded::<u32>("n", 2);
        tx.send(4).unwrap();
        let four = select! {
            recv(rx) -> v => { v }.unwrap() + 1,
            default => { 6 } + 1,
        };
        let seven = select! {
            recv(rx) -> v => { v }.unwrap(),
            default => { 6 } + 1,
        };
        drop(tx);
        let mut rx = rx;
        let mut closed = false;
        for _ in 0..2 {
            select! {
                recv(rx) -> v => if v.is_err() { closed = true; rx = lab.never(); },
                default(Duration::from_millis(1)) => {}
            }
        }
        (four, seven, closed)
    });
    assert_eq!(report.outcome, Some((5, 7, true)));
}

/// A select with no arm (`select! {}`, a lone `default(d)`) in a run that
/// stops: the worker is stopped quietly, never a panic.
#[test]
fn a_select_with_no_arm_ends_quietly_when_the_run_stops() {
    let run = Lab::start(Config::default(), |lab| {
        let napper = lab.go("napper", || {
            select! {
                default(Duration::from_secs(3600)) => {}
            }
        });
        let idle = lab.go("idle", || -> () {
            select! {}
        });
        let _ = napper.join();
        let _ = idle.join();
    });
    let lab = run.lab().clone();
    wait_for(&lab, "both asleep in their select", |s| {
        s.workers
            .iter()
            .filter(|w| {
                matches!(
                    w.state,
                    WorkerState::Selecting { .. } | WorkerState::Sleeping(_)
                )
            })
            .count()
            == 2
    });
    let report = run.stop();
    assert!(report.verdict.is_none(), "{:?}", report.verdict);
    for w in &report.snapshot.workers {
        assert!(
            !matches!(w.state, WorkerState::Panicked { .. }),
            "{} panicked: {:?}",
            w.name,
            w.state
        );
    }
}

/// A step moves a paused run on even when its workers sleep on lesson time
/// (`work`, timers): the clock runs until a worker is held at the gate again.
#[test]
fn a_step_moves_a_paused_run_through_simulated_work() {
    let run = Lab::start(
        Config {
            start_paused: true,
            ..Config::default()
        },
        |lab| {
            let (tx, rx) = lab.unbounded::<u32>("after-work");
            for i in 0..3 {
                lab.work(Duration::from_millis(5));
                tx.send(i).unwrap();
            }
            drop(tx);
            rx.iter().count()
        },
    );
    let lab = run.lab().clone();
    for k in 1..=3u64 {
        // One step passes `work`'s gate, the next the send's.
        lab.step();
        lab.step();
        wait_for(&lab, "one more send after its work", |s| {
            s.channels.first().is_some_and(|c| c.sent == k)
        });
    }
    wait_for(&lab, "main held at the gate again", |s| {
        s.workers
            .iter()
            .any(|w| w.name == "main" && w.state == WorkerState::Paused)
    });
    let frozen = lab.now();
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(
        lab.now(),
        frozen,
        "held at the gate: lesson time stands still"
    );
    lab.set_paused(false);
    assert_eq!(run.wait().outcome, Some(3));
}
