//! Lesson 05: every message reaches every subscriber or is counted lost;
//! every trap breaks as described, every fix holds.

mod common;

use chanlab::lab::{Lab, Report, WorkerState};
use chanlab::lessons::broadcast::{
    self, Account, Broadcaster, Delivery, LESSON, Policy, RecvError,
};
use chanlab::lessons::{Knobs, Outcome};
use common::{assert_every_variant_meets_its_expectation, fast};

fn knobs() -> Knobs {
    LESSON.defaults
}

fn run(variant: &str) -> Report<Outcome> {
    common::run(&LESSON, variant)
}

fn deliver(variant: &'static str) -> (Delivery, Vec<Account>) {
    let k = knobs();
    let report = Lab::run(fast(), move |lab| broadcast::deliver(lab, variant, &k));
    assert!(report.verdict.is_none(), "{variant}: {:?}", report.verdict);
    let delivery = report.outcome.expect("main returned");
    let accounts = broadcast::accounts(&delivery);
    (delivery, accounts)
}

fn slow_name() -> String {
    format!("sub#{}", broadcast::slow_subscriber(knobs().workers))
}

#[test]
fn smoke() {
    let report = run("correct");
    assert!(report.verdict.is_none(), "{:?}", report.verdict);
    let outcome = report.outcome.expect("main returned");
    let k = knobs();
    assert_eq!(outcome.items_in, k.items * k.workers as u64);
    assert_eq!(outcome.items_out, outcome.items_in);
    assert!(!outcome.is_broken(), "{outcome:?}");
}

#[test]
fn correct_delivers_every_message_to_every_subscriber_in_order() {
    let (_, accounts) = deliver("correct");
    let k = knobs();
    assert_eq!(accounts.len(), k.workers);
    for a in &accounts {
        assert_eq!(
            (a.offered, a.delivered, a.lost, a.missed),
            (k.items, k.items, 0, 0),
            "{a:?}"
        );
    }
    let (delivery, _) = deliver("correct");
    for s in &delivery.subscribers {
        assert_eq!(s.got, (1..=k.items).collect::<Vec<_>>(), "{}", s.name);
    }
}

#[test]
fn slow_subscriber_blocks_all_deadlocks_naming_its_channel_and_the_publisher() {
    let report = run("slow-subscriber-blocks-all");
    let stuck = common::deadlock_of(&report);
    let slow = slow_name();
    let publisher = common::named(stuck, "publisher");
    assert_eq!(
        publisher.state,
        WorkerState::BlockedSend {
            channel: slow.clone()
        }
    );
    assert!(
        publisher.detail.contains("4/4 full"),
        "{}",
        publisher.detail
    );
    let sub = stuck
        .iter()
        .find(|s| s.worker == slow)
        .expect("the slow subscriber is named");
    assert_eq!(
        sub.state,
        WorkerState::BlockedRecv {
            channel: "gate".into()
        }
    );
    // The others have drained their buffers and starve.
    for s in stuck
        .iter()
        .filter(|s| s.worker.starts_with("sub#") && s.worker != slow)
    {
        assert_eq!(
            s.state,
            WorkerState::BlockedRecv {
                channel: s.worker.clone()
            },
            "{s}"
        );
    }
    println!("{}", report.verdict.as_ref().unwrap());
}

#[test]
fn skip_on_full_makes_later_subscribers_miss_messages_uncounted() {
    let (delivery, accounts) = deliver("skip-on-full");
    let k = knobs();
    let slow = slow_name();
    let full = k.buffer as u64;
    let i = accounts
        .iter()
        .position(|a| a.name == slow)
        .expect("slow subscriber");
    // The held subscriber fills after `buffer` messages; every later one
    // misses the rest too, though it had room, and nobody counts it.
    assert!(accounts[i].delivered <= full, "{:?}", accounts[i]);
    for a in &accounts[i + 1..] {
        assert!(a.delivered <= full, "{a:?}");
        assert!(a.skipped >= k.items - full, "{a:?}");
        assert_eq!(a.lost, 0, "the trap counts nothing: {a:?}");
        assert_eq!(a.missed, a.offered - a.delivered, "{a:?}");
    }
    assert!(
        delivery
            .publisher
            .errors
            .iter()
            .filter(|e| **e == slow)
            .count() as u64
            >= k.items - full
    );

    let outcome = run("skip-on-full").outcome.expect("main returned");
    assert!(outcome.is_broken(), "{outcome:?}");
    assert!(
        outcome.problems.iter().any(|p| p.contains("skipped")),
        "{:?}",
        outcome.problems
    );
    println!("{:?}\n{:?}", outcome.problems, outcome.notes);
}

#[test]
fn drop_newest_counts_every_loss_and_keeps_the_first_messages() {
    let (delivery, accounts) = deliver("drop-newest");
    let k = knobs();
    let slow = slow_name();
    for a in &accounts {
        assert_eq!(a.delivered + a.lost, a.offered, "{a:?}");
        assert_eq!((a.offered, a.missed, a.skipped), (k.items, 0, 0), "{a:?}");
    }
    let held = delivery
        .subscribers
        .iter()
        .find(|s| s.name == slow)
        .expect("slow");
    assert_eq!(held.got, (1..=k.buffer as u64).collect::<Vec<_>>());
    let a = accounts.iter().find(|a| a.name == slow).expect("slow");
    assert_eq!(a.lost, k.items - k.buffer as u64);
    assert!(delivery.publisher.errors.is_empty());

    let outcome = run("drop-newest").outcome.expect("main returned");
    assert!(!outcome.is_broken(), "{outcome:?}");
    println!("{outcome}: {:?}", outcome.notes);
}

#[test]
fn drop_oldest_keeps_the_newest_and_reports_the_lag() {
    let (delivery, accounts) = deliver("drop-oldest");
    let k = knobs();
    let slow = slow_name();
    for a in &accounts {
        assert_eq!(a.delivered + a.lost, a.offered, "{a:?}");
        assert_eq!(a.lagged, a.lost, "told exactly what it lost: {a:?}");
        assert_eq!((a.offered, a.missed, a.skipped), (k.items, 0, 0), "{a:?}");
    }
    let held = delivery
        .subscribers
        .iter()
        .find(|s| s.name == slow)
        .expect("slow");
    let newest = k.items - k.buffer as u64 + 1..=k.items;
    assert_eq!(held.got, newest.collect::<Vec<_>>());
    assert_eq!(held.lagged, k.items - k.buffer as u64);

    let outcome = run("drop-oldest").outcome.expect("main returned");
    assert!(!outcome.is_broken(), "{outcome:?}");
    println!("{outcome}: {:?}", outcome.notes);
}

#[test]
fn subscription_sees_lagged_then_the_oldest_held_then_closed() {
    let report = Lab::run(fast(), |lab| {
        let mut b = Broadcaster::new(lab, 2, Policy::DropOldest);
        let sub = b.subscribe("sub#1");
        for m in 1..=5_u64 {
            let _ = b.send(&m);
        }
        drop(b);
        (0..4).map(|_| sub.recv()).collect::<Vec<_>>()
    });
    let got = report.outcome.expect("main returned");
    assert_eq!(
        got,
        vec![
            Err(RecvError::Lagged(3)),
            Ok(4),
            Ok(5),
            Err(RecvError::Closed)
        ]
    );
}

#[test]
fn unsubscribe_ends_that_subscriber_only() {
    let report = Lab::run(fast(), |lab| {
        let mut b = Broadcaster::new(lab, 4, Policy::Block);
        let one = b.subscribe("sub#1");
        let two = b.subscribe("sub#2");
        let _ = b.send(&1_u64);
        assert!(b.unsubscribe(two.id()));
        assert!(!b.unsubscribe(two.id()));
        let _ = b.send(&2);
        let two_got: Vec<_> = (0..2).map(|_| two.recv()).collect();
        let one_got: Vec<_> = (0..2).map(|_| one.recv()).collect();
        (one_got, two_got, b.tallies())
    });
    let (one, two, tallies) = report.outcome.expect("main returned");
    assert_eq!(one, vec![Ok(1), Ok(2)]);
    assert_eq!(
        two,
        vec![Ok(1), Err(RecvError::Closed)],
        "drains what was queued, then ends"
    );
    assert_eq!(tallies.iter().map(|t| t.offered).sum::<u64>(), 3);
}

#[test]
fn block_policy_drops_a_subscriber_whose_receiver_is_gone() {
    let report = Lab::run(fast(), |lab| {
        let mut b = Broadcaster::new(lab, 1, Policy::Block);
        let one = b.subscribe("sub#1");
        let two = b.subscribe("sub#2");
        drop(two); // Rust only: `send` fails instead of blocking forever
        for m in 1..=3_u64 {
            let _ = b.send(&m);
            assert_eq!(one.recv(), Ok(m));
        }
        b.tallies().len()
    });
    assert!(report.verdict.is_none(), "{:?}", report.verdict);
    assert_eq!(report.outcome, Some(2));
}

#[test]
fn every_variant_meets_its_expectation() {
    assert_every_variant_meets_its_expectation(&LESSON);
}
