//! Exercise 02 · fan-in: `merge`, then `merge_in_order`.
//! (A solution: yours may differ and be just as right.)

use chanlab::lab::{Lab, Receiver};

/// One forwarder per input, each with its own Sender clone of `merged`:
/// `merged` closes when the last forwarder is done (Go: a WaitGroup and a
/// closer; in Rust the dropped Senders do it).
pub fn merge(lab: &Lab, inputs: Vec<Receiver<u64>>, buffer: usize) -> Receiver<u64> {
    let (merged_tx, merged) = lab.bounded("merged", buffer);
    for (i, input) in inputs.into_iter().enumerate() {
        let merged_tx = merged_tx.clone();
        lab.go(format!("merge#{}", i + 1), move || {
            for item in &input {
                if merged_tx.send(item).is_err() {
                    return;
                }
            }
        });
    }
    merged
}

/// A k-way merge: one head per input; send the smallest, then read the
/// input it came from again. An input that closed has no head.
pub fn merge_in_order(lab: &Lab, inputs: Vec<Receiver<u64>>, buffer: usize) -> Receiver<u64> {
    let (in_order_tx, in_order) = lab.bounded("in_order", buffer);
    lab.go("merge_in_order", move || {
        let mut heads: Vec<Option<u64>> = inputs.iter().map(|input| input.recv().ok()).collect();
        while let Some((from, item)) = heads
            .iter()
            .enumerate()
            .filter_map(|(i, head)| head.map(|item| (i, item)))
            .min_by_key(|&(_, item)| item)
        {
            if in_order_tx.send(item).is_err() {
                return;
            }
            heads[from] = inputs[from].recv().ok();
        }
    });
    in_order
}
