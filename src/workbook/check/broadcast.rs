//! Exercise 05: a broadcast `send` that drops the oldest message of a full
//! subscriber and tells it how many it lost.
//!
//! The check subscribes `sub#1` (slow: 50 ms per message) and fast ones
//! (`sub#2`, ...); its `publisher` sends `0..n`, 10 ms apart, then drops
//! the broadcaster. Passed: the publisher never waits on a send; each
//! subscriber gets its messages in order, and what it got plus the lag it
//! was told adds up to every message; each gets the newest; a fast
//! subscriber loses nothing.

use std::sync::Arc;
use std::time::Duration;

use super::{Budget, Case, Flows, Part, Problem, Subject, short_list, standard_cases};
use crate::lab::{EventKind, Lab, WorkerState};
use crate::workbook::kit::broadcast::{Broadcast, RecvError, Subscriber};

static PARTS: [Part; 1] = [Part {
    rule: "`send` never waits: a full subscriber loses its oldest message, counted, and everyone else gets every message",
}];

/// Lesson time the slow subscriber spends on each message.
const SLOW: Duration = Duration::from_millis(50);
/// Lesson time between two sends.
const GAP: Duration = Duration::from_millis(10);

/// The check of exercise 05 with the learner's broadcaster type.
#[must_use]
pub fn subject<B: Broadcast>() -> Subject {
    // Capacity 0 cannot hold an "oldest" message: the buffers are 1 and up.
    let cases = standard_cases(&[1], &[(3, 2, 20), (2, 1, 12), (4, 3, 24)]);
    Subject::new(
        5,
        &PARTS,
        cases,
        |_| Budget::default(),
        Arc::new(|lab, case| scenario::<B>(lab, case)),
    )
}

/// What one subscriber saw: its messages in order, and the lag it was told.
struct Seen {
    name: String,
    got: Vec<u64>,
    lagged: u64,
}

// One run, read top to bottom: set up, run, then each rule in turn.
#[allow(clippy::too_many_lines)]
fn scenario<B: Broadcast>(lab: &Lab, case: Case) -> Vec<Problem> {
    let n = case.items;
    let mut broadcaster = B::new(lab, case.buffer);
    let subscribers: Vec<_> = (1..=case.workers.max(1))
        .map(|i| {
            let name = format!("sub#{i}");
            let sub = broadcaster.subscribe(&name);
            let lab2 = lab.clone();
            let slow = i == 1;
            let worker_name = name.clone();
            lab.go(name, move || {
                let mut seen = Seen {
                    name: worker_name,
                    got: Vec::new(),
                    lagged: 0,
                };
                loop {
                    match sub.recv() {
                        Ok(msg) => {
                            seen.got.push(msg);
                            if slow {
                                lab2.work(SLOW);
                            }
                        }
                        Err(RecvError::Lagged(k)) => seen.lagged += k,
                        Err(RecvError::Closed) => return seen,
                    }
                }
            })
        })
        .collect();
    let publisher = {
        let lab2 = lab.clone();
        lab.go("publisher", move || {
            for msg in 0..n {
                broadcaster.send(msg);
                lab2.work(GAP);
            }
            // Dropping the broadcaster closes every subscriber's channel.
        })
    };
    let _ = publisher.join();
    let seen: Vec<Seen> = subscribers
        .into_iter()
        .filter_map(|s| s.join().ok())
        .collect();
    if lab.is_aborted() || seen.len() < case.workers.max(1) {
        return Vec::new();
    }
    let flows = Flows::of(lab);
    let waited: Vec<String> = lab
        .events_since(0)
        .events
        .into_iter()
        .filter(|e| !e.cleanup)
        .filter_map(|e| match e.kind {
            EventKind::Blocked {
                worker,
                state: WorkerState::BlockedSend { channel },
            } if worker == "publisher" => Some(channel),
            _ => None,
        })
        .collect();
    if let Some(channel) = waited.first() {
        return vec![
            Problem::new(
                "blocked",
                format!(
                    "the `publisher` waited to send on `{channel}`: one slow subscriber held up \
                     every other ({} waits in all)",
                    waited.len()
                ),
            )
            .with([
                "`send` must never wait: try the send, and when the buffer is full drop its \
                 oldest message to make room"
                    .to_owned(),
            ]),
        ];
    }
    for s in &seen {
        if let Some(i) = s.got.windows(2).position(|w| w[1] <= w[0]) {
            return vec![Problem::new(
                "order",
                format!(
                    "`{}` got message {} after message {}: each subscriber must get its \
                     messages in the order they were sent",
                    s.name,
                    s.got[i + 1],
                    s.got[i]
                ),
            )];
        }
        let accounted = s.got.len() as u64 + s.lagged;
        if accounted < n {
            return vec![
                Problem::new(
                    "lost",
                    format!(
                        "`{}` got {} of {n} messages and was told it lagged {}: {} lost without \
                         a word",
                        s.name,
                        s.got.len(),
                        s.lagged,
                        n - accounted
                    ),
                )
                .with([format!("it got: {}", short_list(&s.got))])
                .with(flows.lines(&["main"])),
            ];
        }
        if accounted > n {
            return vec![Problem::new(
                "lag miscounted",
                format!(
                    "`{}` got {} of {n} messages and was told it lagged {}: {} more than it \
                     missed",
                    s.name,
                    s.got.len(),
                    s.lagged,
                    accounted - n
                ),
            )];
        }
        if n > 0 && s.got.last() != Some(&(n - 1)) {
            return vec![
                Problem::new(
                    "kept old",
                    format!(
                        "`{}` never got message {}, the newest: drop-oldest keeps the newest \
                         messages and drops the oldest",
                        s.name,
                        n - 1
                    ),
                )
                .with([format!("it got: {}", short_list(&s.got))]),
            ];
        }
    }
    // Free-running, a fast subscriber can fall behind for a moment too.
    for s in seen.iter().skip(1).filter(|_| case.mode.is_scheduled()) {
        if s.got.len() as u64 != n {
            return vec![Problem::new(
                "lost",
                format!(
                    "`{}` keeps up (it reads at once) yet got {} of {n} messages",
                    s.name,
                    s.got.len()
                ),
            )];
        }
    }
    Vec::new()
}
