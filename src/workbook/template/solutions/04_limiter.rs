//! Exercise 04 · rate limiter: a token bucket against an injected clock.
//! (A solution: yours may differ and be just as right.)

use std::sync::Arc;
use std::time::Duration;

use chanlab::lab::{Lab, Receiver};
use chanlab::select;
use chanlab::workbook::kit::limiter::{Cancelled, Clock, RateLimiter};

/// Tokens are counted in billionths, so nanoseconds times tokens per second
/// is exact: no float drift, and 50 ms twice is exactly one token at 10/s.
const UNIT: u128 = 1_000_000_000;

/// A token bucket computed lazily from the injected clock.
pub struct TokenBucket {
    rate: u32,
    burst: u32,
    clock: Arc<dyn Clock>,
    /// In billionths of a token.
    tokens: u128,
    /// When `tokens` was last brought up to date.
    last: Duration,
}

impl TokenBucket {
    /// Adds what the time since `last` has earned, up to the burst.
    fn refill(&mut self) {
        let now = self.clock.now();
        let earned = now.saturating_sub(self.last).as_nanos() * u128::from(self.rate);
        self.tokens = (self.tokens + earned).min(u128::from(self.burst) * UNIT);
        self.last = self.last.max(now);
    }
}

impl RateLimiter for TokenBucket {
    fn new(rate: u32, burst: u32, clock: Arc<dyn Clock>) -> Self {
        let last = clock.now();
        Self {
            rate,
            burst,
            clock,
            tokens: u128::from(burst) * UNIT, // it starts full
            last,
        }
    }

    fn allow(&mut self) -> bool {
        self.refill();
        if self.tokens >= UNIT {
            self.tokens -= UNIT;
            true
        } else {
            false
        }
    }

    fn wait(&mut self, lab: &Lab, done: &Receiver<()>) -> Result<(), Cancelled> {
        loop {
            if self.allow() {
                return Ok(());
            }
            // Sleep until the next token is due, or until `done` closes.
            let missing = UNIT - self.tokens;
            let nanos = missing.div_ceil(u128::from(self.rate.max(1)));
            let due = lab.after(Duration::from_nanos(
                u64::try_from(nanos).unwrap_or(u64::MAX),
            ));
            select! {
                recv(due) -> _ => {}
                recv(done) -> _ => return Err(Cancelled),
            }
        }
    }
}
