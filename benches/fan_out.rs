#![allow(missing_docs)] // criterion_main! generates undocumented items
//! Fan-out / fan-in as a parallel map over CPU-bound items, against a plain
//! loop and rayon (lesson 02, "when to use it").
//!
//! Every item costs about `WORK_US` µs of real CPU work (a hash loop whose
//! round count is calibrated once at start-up). Each variant maps the same
//! `ITEMS` items and returns the results in input order:
//!
//! - `sequential`: a plain loop;
//! - `rayon`: `items.par_iter().map(work).collect()` (indexed: keeps order);
//! - `lab-1`: lesson 02's shape on the lab, one item per message: `produce`
//!   → `jobs` → `worker#1..N` → `results#n` → `merge#n` → `merged` → main,
//!   which puts each result in its slot;
//! - `lab-256`, `lab-1024`: the same with a `Vec` of 256 / 1024 items per
//!   message.
//!
//! `benches/ratios.py fan_out` prints each mean against rayon's.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chanlab::lab::{Config, Lab, Receiver, Sender};
use criterion::{
    BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use rayon::prelude::*;

/// Items per map.
const ITEMS: usize = 100_000;
/// Target CPU work per item, in microseconds.
const WORK_US: f64 = 20.0;

/// One item's work: `rounds` dependent multiply-rotate-xor steps.
fn work(x: u64, rounds: u32) -> u64 {
    let mut h = x ^ 0x9E37_79B9_7F4A_7C15;
    for i in 0..rounds {
        h = (h ^ u64::from(i))
            .wrapping_mul(0xBF58_476D_1CE4_E5B9)
            .rotate_left(31);
    }
    h
}

/// The round count that makes `work` take about `WORK_US` µs here.
fn calibrate() -> u32 {
    let probe = 1_000_000_u32;
    let mut best = Duration::MAX;
    for _ in 0..5 {
        let start = Instant::now();
        std::hint::black_box(work(std::hint::black_box(7), probe));
        best = best.min(start.elapsed());
    }
    let rounds_per_us = f64::from(probe) / (best.as_secs_f64() * 1e6);
    (rounds_per_us * WORK_US).round().max(1.0) as u32
}

fn sequential(items: &[u64], rounds: u32) -> Vec<u64> {
    items.iter().map(|&x| work(x, rounds)).collect()
}

fn rayon_map(items: &[u64], rounds: u32) -> Vec<u64> {
    items.par_iter().map(|&x| work(x, rounds)).collect()
}

/// Fan-in: one forwarder per input, each with a Sender clone of `merged`.
fn merge<T: Send + 'static>(lab: &Lab, inputs: Vec<Receiver<T>>, cap: usize) -> Receiver<T> {
    let (out, merged) = lab.bounded("merged", cap);
    for (i, input) in inputs.into_iter().enumerate() {
        let out: Sender<T> = out.clone();
        lab.go(format!("merge#{}", i + 1), move || {
            for r in input {
                if out.send(r).is_err() {
                    return;
                }
            }
        });
    }
    merged
}

/// Lesson 02's fan-out / fan-in on the lab, `batch` items per message
/// (`(index of the first item, items)`); results land in their slots.
fn lab_map(items: &Arc<Vec<u64>>, rounds: u32, workers: usize, batch: usize) -> Vec<u64> {
    // About the same number of items buffered per channel for every batch size.
    let cap = (1024 / batch).max(4);
    let items = Arc::clone(items);
    let report = Lab::run(Config::default(), move |lab| {
        let n = items.len();
        let (jobs_tx, jobs) = lab.bounded::<(usize, Vec<u64>)>("jobs", cap);
        lab.go("produce", move || {
            for (k, chunk) in items.chunks(batch).enumerate() {
                if jobs_tx.send((k * batch, chunk.to_vec())).is_err() {
                    return;
                }
            }
        });
        let results: Vec<Receiver<(usize, Vec<u64>)>> = (1..=workers)
            .map(|w| {
                let (tx, rx) = lab.bounded(format!("results#{w}"), cap);
                let jobs = jobs.clone();
                lab.go(format!("worker#{w}"), move || {
                    for (start, mut chunk) in &jobs {
                        for x in &mut chunk {
                            *x = work(*x, rounds);
                        }
                        if tx.send((start, chunk)).is_err() {
                            return;
                        }
                    }
                });
                rx
            })
            .collect();
        drop(jobs);
        let merged = merge(lab, results, cap);
        let mut out = vec![0_u64; n];
        for (start, chunk) in &merged {
            out[start..start + chunk.len()].copy_from_slice(&chunk);
        }
        out
    });
    assert!(
        report.verdict.is_none(),
        "lab run broke: {:?}",
        report.verdict
    );
    report.outcome.expect("main returned")
}

/// Same as `lab_map` for one item per message, without the `Vec` around it.
fn lab_map_single(items: &Arc<Vec<u64>>, rounds: u32, workers: usize) -> Vec<u64> {
    let cap = 1024;
    let items = Arc::clone(items);
    let report = Lab::run(Config::default(), move |lab| {
        let n = items.len();
        let (jobs_tx, jobs) = lab.bounded::<(usize, u64)>("jobs", cap);
        lab.go("produce", move || {
            for (i, &x) in items.iter().enumerate() {
                if jobs_tx.send((i, x)).is_err() {
                    return;
                }
            }
        });
        let results: Vec<Receiver<(usize, u64)>> = (1..=workers)
            .map(|w| {
                let (tx, rx) = lab.bounded(format!("results#{w}"), cap);
                let jobs = jobs.clone();
                lab.go(format!("worker#{w}"), move || {
                    for (i, x) in &jobs {
                        if tx.send((i, work(x, rounds))).is_err() {
                            return;
                        }
                    }
                });
                rx
            })
            .collect();
        drop(jobs);
        let merged = merge(lab, results, cap);
        let mut out = vec![0_u64; n];
        for (i, v) in &merged {
            out[i] = v;
        }
        out
    });
    assert!(
        report.verdict.is_none(),
        "lab run broke: {:?}",
        report.verdict
    );
    report.outcome.expect("main returned")
}

fn fan_out(c: &mut Criterion) {
    let rounds = calibrate();
    let workers = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    let items: Arc<Vec<u64>> = Arc::new((0..ITEMS as u64).collect());
    let start = Instant::now();
    let want = sequential(&items, rounds);
    let per_item = start.elapsed().as_secs_f64() * 1e6 / ITEMS as f64;
    eprintln!(
        "fan_out: {ITEMS} items, {rounds} rounds each = {per_item:.1} µs per item \
         (target {WORK_US} µs), {workers} workers, rayon on {} threads",
        rayon::current_num_threads()
    );
    // Every variant computes the same map, in order.
    assert_eq!(rayon_map(&items, rounds), want);
    assert_eq!(lab_map_single(&items, rounds, workers), want);
    assert_eq!(lab_map(&items, rounds, workers, 256), want);

    let param = ITEMS.to_string();
    let mut group = c.benchmark_group("fan_out");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(5))
        .throughput(Throughput::Elements(ITEMS as u64));
    group.bench_function(BenchmarkId::new("sequential", &param), |b| {
        b.iter(|| sequential(&items, rounds));
    });
    group.bench_function(BenchmarkId::new("rayon", &param), |b| {
        b.iter(|| rayon_map(&items, rounds));
    });
    group.bench_function(BenchmarkId::new("lab-1", &param), |b| {
        b.iter(|| lab_map_single(&items, rounds, workers));
    });
    for batch in [256, 1024] {
        group.bench_function(BenchmarkId::new(format!("lab-{batch}"), &param), |b| {
            b.iter(|| lab_map(&items, rounds, workers, batch));
        });
    }
    group.finish();
}

criterion_group!(benches, fan_out);
criterion_main!(benches);
