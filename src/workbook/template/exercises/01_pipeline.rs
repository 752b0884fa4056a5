//! Exercise 01 · pipeline: the stage that squares and closes its output.
//!
//! Lesson 01 (`chanlab show 1`) builds generate → square → filter → sink.
//! Here you write the middle stage. The check runs your `square` between
//! its own `generate` (which sends 1, 2, 3, ... on `numbers`) and its own
//! `sink` (which reads your output until it closes), under many schedules,
//! with 1 to 4 workers and buffers of 0 to 2.
//!
//! Save the file and `chanlab watch` checks it again; `h` there is a hint.

use chanlab::lab::{Lab, Receiver};
use chanlab::workbook::kit::slow_square;

/// The middle stage of a pipeline.
///
/// - Start `workers` workers with `lab.go`, named `square#1`, `square#2`, ...
/// - Each takes numbers from `numbers` and sends `slow_square(lab, n)` on a
///   channel named `squares` of capacity `buffer`; `square` returns its
///   Receiver at once.
/// - `squares` must close when every number is squared, so that the sink's
///   `for` loop ends. A channel closes when its last `Sender` is dropped.
/// - `slow_square` takes 100 ms of lesson time: with several workers the
///   squares must overlap.
pub fn square(lab: &Lab, numbers: Receiver<u64>, workers: usize, buffer: usize) -> Receiver<u64> {
    let (squares_tx, squares) = lab.bounded("squares", buffer);
    // A first draft: square every number right here, then hand the channel
    // back. It compiles; it is not a stage yet.
    let _ = workers;
    for n in &numbers {
        if squares_tx.send(slow_square(lab, n)).is_err() {
            break;
        }
    }
    squares
}
