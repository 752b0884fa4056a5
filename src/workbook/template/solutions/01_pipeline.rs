//! Exercise 01 · pipeline: the stage that squares and closes its output.
//! (A solution: yours may differ and be just as right.)

use chanlab::lab::{Lab, Receiver};
use chanlab::workbook::kit::slow_square;

/// The middle stage of a pipeline: `workers` workers share `numbers` and
/// send their squares on `squares`, which closes when the last one is done.
pub fn square(lab: &Lab, numbers: Receiver<u64>, workers: usize, buffer: usize) -> Receiver<u64> {
    let (squares_tx, squares) = lab.bounded("squares", buffer);
    for w in 1..=workers {
        // Each worker gets its own clones: of the input, and of the Sender.
        let (numbers, squares_tx, lab_w) = (numbers.clone(), squares_tx.clone(), lab.clone());
        lab.go(format!("square#{w}"), move || {
            for n in &numbers {
                if squares_tx.send(slow_square(&lab_w, n)).is_err() {
                    return; // nobody reads `squares` any more
                }
            }
        });
    }
    // The original `squares_tx` drops here: from now on the workers' clones
    // are the only Senders, so `squares` closes when the last worker returns.
    squares
}
