//! Lesson 05: every message reaches every subscriber or is counted lost;
//! every trap breaks as described, every fix holds.

mod common;

use chanlab::lab::{Lab, Report, WorkerState};
use chanlab::lessons::broadcast::{
    self, Account, Broadcaster, Delivery, LESSON, Policy, RecvError,
};
use chanlab::lessons::{Knobs, Outcome, meets_expectation_with};
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
            (a.offered, a.delivered, a.dropped, a.missed),
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
            channel: format!("to-{slow}")
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
                channel: format!("to-{}", s.worker)
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
        assert_eq!(a.dropped, 0, "the trap counts nothing: {a:?}");
        assert_eq!(a.missed, a.offered - a.delivered, "{a:?}");
    }
    // From message buffer+1 on, every send stops at the held subscriber or,
    // if a reader before it is momentarily full too, earlier: never later.
    let errors = &delivery.publisher.errors;
    assert!(errors.len() as u64 >= k.items - full, "{errors:?}");
    let at_or_before_slow: Vec<&str> = accounts[..=i].iter().map(|a| a.name.as_str()).collect();
    assert!(
        errors
            .iter()
            .all(|e| at_or_before_slow.contains(&e.as_str())),
        "{errors:?}"
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
        assert_eq!(a.delivered + a.dropped, a.offered, "{a:?}");
        assert_eq!((a.offered, a.missed, a.skipped), (k.items, 0, 0), "{a:?}");
    }
    let held = delivery
        .subscribers
        .iter()
        .find(|s| s.name == slow)
        .expect("slow");
    assert_eq!(held.got, (1..=k.buffer as u64).collect::<Vec<_>>());
    let a = accounts.iter().find(|a| a.name == slow).expect("slow");
    assert_eq!(a.dropped, k.items - k.buffer as u64);
    assert!(delivery.publisher.errors.is_empty());

    let outcome = run("drop-newest").outcome.expect("main returned");
    assert_held_by_design(&outcome, "dropped the new message");
    println!("{outcome}: {:?}", outcome.by_design);
}

/// A fix that drops on purpose is not "clean": nothing lost, the drops
/// counted as the policy's, said in words that match the numbers.
fn assert_held_by_design(outcome: &Outcome, how: &str) {
    assert!(!outcome.is_broken(), "{outcome:?}");
    assert!(outcome.held_by_design(), "{outcome:?}");
    assert_eq!(outcome.lost, 0, "{outcome:?}");
    assert!(outcome.dropped > 0, "{outcome:?}");
    assert_eq!(
        outcome.items_out + outcome.dropped,
        outcome.items_in,
        "{outcome:?}"
    );
    let said = format!("{} dropped by design", outcome.dropped);
    assert!(
        outcome
            .by_design
            .iter()
            .any(|b| b.starts_with(&said) && b.contains(how)),
        "{:?}",
        outcome.by_design
    );
    assert!(outcome.to_string().contains(&said), "{outcome}");
}

#[test]
fn drop_oldest_keeps_the_newest_and_reports_the_lag() {
    let (delivery, accounts) = deliver("drop-oldest");
    let k = knobs();
    let slow = slow_name();
    for a in &accounts {
        assert_eq!(a.delivered + a.dropped, a.offered, "{a:?}");
        assert_eq!(a.lagged, a.dropped, "told exactly what it lost: {a:?}");
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
    assert_held_by_design(&outcome, "oldest queued message made room");
    println!("{outcome}: {:?}", outcome.by_design);
}

#[test]
fn an_aborted_run_reports_the_deliveries_that_happened() {
    // slow-subscriber-blocks-all deadlocks at message buffer+1: every join
    // fails, but the outcome must count what went out before, as the lab
    // saw it on the subscribers' channels.
    let report = run("slow-subscriber-blocks-all");
    common::deadlock_of(&report);
    let outcome = report.outcome.as_ref().expect("main returned");
    let k = knobs();
    let received: u64 = report
        .snapshot
        .channels
        .iter()
        .filter(|c| c.name.starts_with("to-sub#"))
        .map(|c| c.received)
        .sum();
    let published = k.buffer as u64 + 1; // the one the publisher is stuck on
    assert_eq!(outcome.items_out, received, "{outcome:?}");
    assert_eq!(
        outcome.items_in,
        published * k.workers as u64,
        "{outcome:?}"
    );
    // sub#1 got them all, sub#3 all but the stuck one, sub#2 none yet.
    assert_eq!(received, published + (published - 1));
    assert_eq!(outcome.lost, outcome.items_in - outcome.items_out);
    assert!(
        !outcome.is_broken(),
        "the verdict says what broke: {outcome:?}"
    );
    assert!(
        outcome.notes.iter().any(|n| n.contains("aborted")),
        "{:?}",
        outcome.notes
    );
    println!("{outcome}: {:?}", outcome.notes);
}

// ---- a subscriber that leaves -------------------------------------------

#[test]
fn a_subscriber_that_drops_its_receiver_is_pruned_and_counted_under_every_policy() {
    for policy in [
        Policy::Block,
        Policy::SkipOnFull,
        Policy::DropNewest,
        Policy::DropOldest,
    ] {
        let report = Lab::run(fast(), move |lab| {
            let mut b = Broadcaster::new(lab, 4, policy);
            let stays = b.subscribe("sub#1");
            let leaves = b.subscribe("sub#2");
            let mut delivered = [0_u64; 2];
            for m in 1..=3_u64 {
                let _ = b.send(&m);
                assert_eq!(stays.recv(), Ok(m));
                delivered[0] += 1;
            }
            // sub#2 reads one of its three, then leaves with two unread.
            assert_eq!(leaves.recv(), Ok(1));
            delivered[1] += 1;
            drop(leaves);
            for m in 4..=10_u64 {
                let sent = b.send(&m);
                assert!(sent.is_ok(), "{policy:?}: {sent:?}");
                assert_eq!(stays.recv(), Ok(m));
                delivered[0] += 1;
            }
            (b.tallies(), delivered)
        });
        assert!(report.verdict.is_none(), "{policy:?}: {:?}", report.verdict);
        let (tallies, delivered) = report.outcome.expect("main returned");
        let (stays, leaves) = (&tallies[0], &tallies[1]);
        assert_eq!((stays.offered, stays.left), (10, false), "{policy:?}");
        assert!(leaves.left, "{policy:?}: pruned: {leaves:?}");
        // Offered message 4, found gone: its two unread and message 4 counted.
        assert_eq!(
            (leaves.offered, leaves.left_unread),
            (4, 3),
            "{policy:?}: {leaves:?}"
        );
        for (t, got) in tallies.iter().zip(delivered) {
            assert_eq!(
                got + t.dropped + t.left_unread,
                t.offered,
                "{policy:?}: every message delivered or counted: {t:?}"
            );
        }
    }
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

// ---- which knobs hide which trap -----------------------------------------

/// Buffers, message counts around them (fewer, as many, more), and both
/// an even and an odd number of subscribers.
fn sweep() -> Vec<Knobs> {
    let mut all = Vec::new();
    for buffer in [1, 3, 6] {
        for items in [1, buffer as u64, buffer as u64 + 1, buffer as u64 + 3] {
            for workers in [2, 3, 5] {
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
fn both_traps_are_hidden_exactly_when_no_buffer_can_fill() {
    for name in ["slow-subscriber-blocks-all", "skip-on-full"] {
        let v = LESSON.variant(name).expect("variant");
        for knobs in sweep() {
            let hidden = LESSON.hidden(v, &knobs);
            assert_eq!(
                hidden.is_some(),
                knobs.items <= knobs.buffer as u64,
                "{name} {knobs:?}: {hidden:?}"
            );
            let report = LESSON.run(v, knobs, fast());
            assert!(
                meets_expectation_with(&LESSON, v, &knobs, &report),
                "{name} {knobs:?}: {report:?}"
            );
            if let Some(why) = hidden {
                assert!(report.verdict.is_none(), "{name} {knobs:?}");
                let outcome = report.outcome.expect("main returned");
                assert!(!outcome.is_broken(), "{name} {knobs:?}: {outcome:?}");
                assert_eq!(outcome.items_out, outcome.items_in, "{name} {knobs:?}");
                assert!(
                    why.contains(&format!("--items {}", knobs.buffer + 1)),
                    "{why}"
                );
            } else if name == "skip-on-full" {
                let outcome = report.outcome.expect("main returned");
                assert!(
                    outcome.problems.iter().any(|p| p.contains("skipped")),
                    "{knobs:?}: {outcome:?}"
                );
            } else {
                let stuck = common::deadlock_of(&report);
                let slow = format!("sub#{}", broadcast::slow_subscriber(knobs.workers));
                assert_eq!(
                    common::named(stuck, "publisher").state,
                    WorkerState::BlockedSend {
                        channel: format!("to-{slow}")
                    },
                    "{knobs:?}"
                );
            }
        }
    }
}

#[test]
fn correct_and_fixes_are_never_hidden_and_account_for_every_message() {
    for name in ["correct", "drop-newest", "drop-oldest"] {
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
                outcome.items_in,
                "{name} {knobs:?}: {outcome:?}"
            );
            assert_eq!(
                outcome.items_in,
                knobs.items * knobs.workers as u64,
                "{name} {knobs:?}"
            );
        }
    }
}

#[test]
fn every_variant_meets_its_expectation() {
    assert_every_variant_meets_its_expectation(&LESSON);
}
