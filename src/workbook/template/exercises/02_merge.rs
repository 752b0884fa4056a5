//! Exercise 02 · fan-in: `merge`, then `merge_in_order`.
//!
//! Lesson 02 (`chanlab show 2`) fans jobs out to workers and merges their
//! results back into one channel. The check's `feed` deals items 0, 1, 2,
//! ... round-robin onto 2 to 4 inputs (`in#1`, `in#2`, ...: item i goes to
//! input i mod k), and its `sink` reads what you return until it closes.
//!
//! Part 1 is `merge`; part 2, `merge_in_order`. Save and `chanlab watch`
//! checks both, part 1 first.

use chanlab::lab::{Lab, Receiver};

/// Part 1: every item of every input comes out once, on a channel named
/// `merged` of capacity `buffer`, which closes exactly when every input is
/// done. The order does not matter. Start your workers with `lab.go`.
pub fn merge(lab: &Lab, inputs: Vec<Receiver<u64>>, buffer: usize) -> Receiver<u64> {
    let (merged_tx, merged) = lab.bounded("merged", buffer);
    // A first draft: one worker reads the inputs one after the other.
    lab.go("merge", move || {
        for input in inputs {
            for item in &input {
                if merged_tx.send(item).is_err() {
                    return;
                }
            }
        }
    });
    merged
}

/// Part 2: each input comes in ascending order; the output (a channel of
/// capacity `buffer`, any name) must be ascending too: 0, 1, 2, ... Hold at
/// most one item per input at a time: a buffer that takes in everything
/// first grows with the input, and the check counts.
pub fn merge_in_order(lab: &Lab, inputs: Vec<Receiver<u64>>, buffer: usize) -> Receiver<u64> {
    // A first draft: the plain merge, which keeps no order.
    merge(lab, inputs, buffer)
}
