//! Exercise 04 · rate limiter: a token bucket against an injected clock.
//!
//! Lesson 04 (`chanlab show 4`) computes a token bucket lazily from the
//! time that passed, like Go's `golang.org/x/time/rate`: no thread refills
//! it. The bucket reads time only from the clock it is given, so the check
//! can move that clock by hand (part 1) or hand it the lab's own clock
//! (parts 2 and 3, where its `server` takes requests through `wait`).
//!
//! - part 1, `allow`: a new bucket holds `burst` tokens; the clock earns
//!   `rate` tokens a second, fractions kept (50 ms twice at 10/s is one
//!   token); it never holds more than `burst`;
//! - part 2, `wait`: each request passes when its token is due, not before
//!   and not much after, and `wait` sleeps meanwhile (a loop that polls
//!   runs out of lab operations);
//! - part 3: `wait` gives up with `Err(Cancelled)` as soon as `done` closes.

use std::sync::Arc;

use chanlab::lab::{Lab, Receiver};
// You will want these too: `std::time::Duration`, and `chanlab::select`
// (the lab's `select!`, as crossbeam's).
use chanlab::workbook::kit::limiter::{Cancelled, Clock, RateLimiter};

/// A token bucket: `burst` tokens at most, `rate` more every second.
pub struct TokenBucket {
    rate: u32,
    burst: u32,
    clock: Arc<dyn Clock>,
    // What else does it need to know? (How many tokens it holds, and when
    // it last counted them.)
}

impl RateLimiter for TokenBucket {
    fn new(rate: u32, burst: u32, clock: Arc<dyn Clock>) -> Self {
        Self { rate, burst, clock }
    }

    fn allow(&mut self) -> bool {
        // A first draft: everyone may pass.
        true
    }

    fn wait(&mut self, lab: &Lab, done: &Receiver<()>) -> Result<(), Cancelled> {
        // A first draft: no waiting at all. A real wait sleeps until the
        // next token is due: `lab.after(d)` is a channel that delivers once
        // after `d`; wait on it and on `done` at once with `select!`.
        let _ = (lab, done);
        if self.allow() { Ok(()) } else { Err(Cancelled) }
    }
}
