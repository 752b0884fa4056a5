//! Exercise 04: a token bucket against an injected clock.
//!
//! Part 1, `allow` on a clock the check moves by hand (a [`FakeClock`]):
//! a new bucket holds `burst` tokens, time earns `rate` per second
//! (fractions kept), and it never holds more than `burst`.
//! Part 2, `wait` on the lab's clock: the check's `server` takes `n`
//! requests through `wait`; none passes before the bucket has a token
//! for it, and (scheduled) none later than its token was due. A wait that
//! polls instead of sleeping runs out of lab operations: *runaway*.
//! Part 3, cancel: a `wait` for a token a second away returns
//! `Err(Cancelled)` as soon as `done` closes, 100 ms in.

use std::sync::Arc;
use std::time::Duration;

use super::{Budget, Case, Mode, Part, Problem, Subject, ordinal};
use crate::lab::{Lab, in_words};
use crate::workbook::kit::limiter::{Clock, FakeClock, LabClock, RateLimiter};

static PARTS: [Part; 3] = [
    Part {
        rule: "`allow` follows the injected clock: a full bucket of `burst`, `rate` tokens a second, never more than `burst`",
    },
    Part {
        rule: "`wait` lets each request through when its token is due, not before and not much after, sleeping meanwhile",
    },
    Part {
        rule: "`wait` gives up with `Err(Cancelled)` as soon as `done` closes",
    },
];

/// The rate of parts 1 and 2, tokens per second.
const RATE: u32 = 10;

/// The check of exercise 04 with the learner's bucket type.
#[must_use]
pub fn subject<L: RateLimiter>() -> Subject {
    let mut cases = Vec::new();
    // Part 1 does not depend on the schedule: one run per burst.
    for burst in [5, 1, 3] {
        cases.push(Case {
            part: 1,
            mode: Mode::Random(1),
            workers: 1,
            buffer: burst,
            items: 0,
        });
    }
    for part in [2, 3] {
        for &(burst, n) in &[(3_usize, 12_u64), (1, 6), (5, 8)] {
            for mode in [Mode::Random(1), Mode::Pct(1), Mode::Random(2), Mode::Pct(2)] {
                cases.push(Case {
                    part,
                    mode,
                    workers: 1,
                    buffer: burst,
                    items: n,
                });
            }
        }
    }
    // Free-running, part 2 only: how soon a cancel wakes a wait depends on
    // the OS there (the scheduled runs judge it exactly).
    cases.push(Case {
        part: 2,
        mode: Mode::Free,
        workers: 1,
        buffer: 3,
        items: 8,
    });
    Subject::new(
        4,
        &PARTS,
        cases,
        budget,
        Arc::new(|lab, case| match case.part {
            1 => allow::<L>(case),
            2 => wait::<L>(lab, case),
            _ => cancel::<L>(lab, case),
        }),
    )
}

/// A sleeping `wait` takes a handful of lab operations per request; a
/// polling one takes one every millisecond of lesson time.
fn budget(case: &Case) -> Budget {
    Budget {
        steps: 40 * case.items + 200,
        time: Duration::from_secs(60),
    }
}

fn burst_of(case: Case) -> u32 {
    u32::try_from(case.buffer.max(1)).unwrap_or(u32::MAX)
}

fn allow<L: RateLimiter>(case: Case) -> Vec<Problem> {
    let burst = burst_of(case);
    let clock = FakeClock::new();
    let shared: Arc<dyn Clock> = Arc::new(clock.clone());
    let mut bucket = L::new(RATE, burst, shared);
    let in_a_row = |bucket: &mut L| (0..=burst + 1).take_while(|_| bucket.allow()).count();
    let problem = |text: String| vec![Problem::new("burst", text)];
    let first = in_a_row(&mut bucket);
    if first != burst as usize {
        return problem(format!(
            "a new bucket of burst {burst} let {first} requests through in a row, at once: it \
             starts full, with exactly {burst}"
        ));
    }
    clock.advance(Duration::from_secs(1) / RATE);
    let after_one = in_a_row(&mut bucket);
    if after_one != 1 {
        return vec![Problem::new(
            "refill",
            format!(
                "100 ms on the clock earns one token at {RATE}/s, but `allow` then let \
                 {after_one} through (was the time read from the injected clock, and kept in \
                 fractions of a token?)"
            ),
        )];
    }
    clock.advance(Duration::from_millis(50));
    let half = in_a_row(&mut bucket);
    clock.advance(Duration::from_millis(50));
    let whole = in_a_row(&mut bucket);
    if half != 0 || whole != 1 {
        return vec![Problem::new(
            "refill",
            format!(
                "50 ms and 50 ms more earn one token at {RATE}/s: `allow` let {half} through \
                 after the first 50 ms and {whole} after the second (keep the fraction earned)"
            ),
        )];
    }
    clock.advance(Duration::from_secs(10));
    let after_idle = in_a_row(&mut bucket);
    if after_idle != burst as usize {
        return problem(format!(
            "after 10 s idle `allow` let {after_idle} through at once; the bucket holds at most \
             its burst, {burst}"
        ));
    }
    Vec::new()
}

/// The earliest lesson time the `i`-th request (from 0) may pass: the
/// burst goes at once, then one token every 1/rate.
fn earliest(i: u64, burst: u32) -> Duration {
    let owed = (i + 1).saturating_sub(u64::from(burst));
    Duration::from_secs(1) / RATE * u32::try_from(owed).unwrap_or(u32::MAX)
}

fn wait<L: RateLimiter>(lab: &Lab, case: Case) -> Vec<Problem> {
    let burst = burst_of(case);
    let n = case.items;
    let (done_tx, done) = lab.bounded::<()>("done", 0);
    let server = {
        let lab = lab.clone();
        let clock: Arc<dyn Clock> = Arc::new(LabClock::new(&lab));
        let start = lab.now();
        lab.clone().go("server", move || {
            let mut bucket = L::new(RATE, burst, clock);
            (0..n)
                .map(|_| {
                    bucket
                        .wait(&lab, &done)
                        .ok()
                        .map(|()| lab.now().saturating_sub(start))
                })
                .collect::<Vec<_>>()
        })
    };
    let passes = server.join();
    drop(done_tx);
    let Ok(passes) = passes else {
        return Vec::new();
    };
    let slack = Duration::from_secs(1) / RATE;
    for (i, pass) in passes.iter().enumerate() {
        let due = earliest(i as u64, burst);
        let nth = ordinal(i + 1);
        let Some(at) = pass else {
            return vec![Problem::new(
                "cancel ignored",
                format!(
                    "`wait` gave up on the {nth} request with `Err(Cancelled)`, though `done` \
                     never closed"
                ),
            )];
        };
        // A free run's clock is the wall clock at 100×: allow it a little.
        let early = if case.mode.is_scheduled() {
            *at < due
        } else {
            *at + Duration::from_millis(20) < due
        };
        if early {
            return vec![Problem::new(
                "too fast",
                format!(
                    "the `server` let the {nth} request through at {}; a bucket of burst \
                     {burst} at {RATE}/s has no token for it before {}",
                    in_words(*at),
                    in_words(due)
                ),
            )];
        }
        if case.mode.is_scheduled() && *at > due + slack {
            return vec![Problem::new(
                "too slow",
                format!(
                    "the `server` let the {nth} request through at {}, though its token was \
                     due at {}: `wait` should sleep until the token is due, and no longer",
                    in_words(*at),
                    in_words(due)
                ),
            )];
        }
    }
    Vec::new()
}

fn cancel<L: RateLimiter>(lab: &Lab, _case: Case) -> Vec<Problem> {
    let (done_tx, done) = lab.bounded::<()>("done", 0);
    let cancel_after = Duration::from_millis(100);
    let canceller = {
        let lab2 = lab.clone();
        lab.go("canceller", move || {
            lab2.work(cancel_after);
            drop(done_tx); // Go: cancel()
        })
    };
    let server = {
        let lab = lab.clone();
        let clock: Arc<dyn Clock> = Arc::new(LabClock::new(&lab));
        let start = lab.now();
        lab.clone().go("server", move || {
            // One token a second: the first passes, the second is a second away.
            let mut bucket = L::new(1, 1, clock);
            let first = bucket.wait(&lab, &done);
            let second = bucket.wait(&lab, &done);
            (first, second, lab.now().saturating_sub(start))
        })
    };
    let got = server.join();
    let _ = canceller.join();
    let Ok((first, second, at)) = got else {
        return Vec::new();
    };
    if first.is_err() {
        return vec![Problem::new(
            "cancel ignored",
            "a full bucket's first `wait` returned `Err(Cancelled)` before `done` closed",
        )];
    }
    let late = at > cancel_after;
    match second {
        Ok(()) => vec![Problem::new(
            "cancel ignored",
            format!(
                "`done` closed at {} while the `server` waited for a token a second away, yet \
                 `wait` returned Ok at {}: wait on the token's timer and on `done` at once \
                 (a select), and give up when `done` closes",
                in_words(cancel_after),
                in_words(at)
            ),
        )],
        Err(_) if late => vec![Problem::new(
            "cancel ignored",
            format!(
                "`done` closed at {}, but `wait` gave up only at {}",
                in_words(cancel_after),
                in_words(at)
            ),
        )],
        Err(_) => Vec::new(),
    }
}
