//! Exercise 05 · broadcast: `send` with drop-oldest and lag counts.
//! (A solution: yours may differ and be just as right.)
//!
//! Lesson 05 (`chanlab show 5`) gives every subscriber its own bounded
//! channel. Everything but `send` is written below. The check subscribes
//! a slow `sub#1` (50 ms per message) and fast ones (`sub#2`, ...); its
//! `publisher` sends 0, 1, 2, ... 10 ms apart.
//!
//! `send` must never wait: one slow subscriber must not hold up the rest.
//! When a subscriber's buffer is full, take out its *oldest* message to
//! make room (it is lagging: count it in its `lagged`, which its next
//! `recv` reports as `Lagged(n)`), and put the new one in. Every
//! subscriber gets its messages in order, the newest among them, and what
//! it got plus its lag adds up to every message sent.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chanlab::lab::{Lab, Receiver, Sender, TrySendError};
use chanlab::workbook::kit::broadcast::{Broadcast, RecvError, Subscriber};

/// One publisher, many subscribers, a bounded channel each.
pub struct Broadcaster {
    lab: Lab,
    capacity: usize,
    subs: Vec<Sub>,
}

/// One subscriber, as the broadcaster holds it.
struct Sub {
    /// Sends into the subscriber's own buffer, `to-{name}`.
    tx: Sender<u64>,
    /// A Receiver on that same buffer: with it `send` can take out the
    /// oldest message.
    oldest: Receiver<u64>,
    /// Messages dropped for this subscriber and not yet reported to it.
    lagged: Arc<AtomicU64>,
}

/// A subscriber's end.
pub struct Subscription {
    rx: Receiver<u64>,
    lagged: Arc<AtomicU64>,
}

impl Subscriber for Subscription {
    fn recv(&self) -> Result<u64, RecvError> {
        match self.lagged.swap(0, Ordering::SeqCst) {
            0 => {}
            n => return Err(RecvError::Lagged(n)),
        }
        match self.rx.recv() {
            Ok(msg) => Ok(msg),
            Err(_) => match self.lagged.swap(0, Ordering::SeqCst) {
                0 => Err(RecvError::Closed),
                n => Err(RecvError::Lagged(n)),
            },
        }
    }
}

impl Broadcast for Broadcaster {
    type Subscription = Subscription;

    fn new(lab: &Lab, capacity: usize) -> Self {
        Self {
            lab: lab.clone(),
            capacity,
            subs: Vec::new(),
        }
    }

    fn subscribe(&mut self, name: &str) -> Subscription {
        let (tx, rx) = self.lab.bounded(format!("to-{name}"), self.capacity);
        let lagged = Arc::new(AtomicU64::new(0));
        self.subs.push(Sub {
            tx,
            oldest: rx.clone(),
            lagged: Arc::clone(&lagged),
        });
        Subscription { rx, lagged }
    }

    fn send(&mut self, msg: u64) {
        for sub in &self.subs {
            // Sent, or the subscriber is gone: next one.
            let Err(TrySendError::Full(msg)) = sub.tx.try_send(msg) else {
                continue;
            };
            // Full: take out the oldest message to make room, and count it.
            if sub.oldest.try_recv().is_ok() {
                sub.lagged.fetch_add(1, Ordering::SeqCst);
            }
            if sub.tx.try_send(msg).is_err() {
                // No room even now (it was taken in between): this one is
                // lost instead, and counted the same.
                sub.lagged.fetch_add(1, Ordering::SeqCst);
            }
        }
    }
}
