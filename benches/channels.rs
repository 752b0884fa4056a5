#![allow(missing_docs)] // criterion_main! generates undocumented items
//! Lab channel vs raw crossbeam-channel, same threads, same messages.
//!
//! Each iteration moves `N` messages from producers to consumers running in
//! `std::thread::scope`, so the only difference between the two sides is
//! the channel. `benches/ratios.py` turns criterion's estimates into the
//! ratios recorded in `docs/BENCHMARKS.md`.

use std::time::{Duration, Instant};

use chanlab::lab::{Config, Lab};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

/// How a channel is made for one benchmark.
#[derive(Clone, Copy)]
enum Flavor {
    Bounded(usize),
    Unbounded,
}

impl Flavor {
    fn label(self) -> String {
        match self {
            Self::Bounded(n) => format!("bounded({n})"),
            Self::Unbounded => "unbounded".to_owned(),
        }
    }
}

/// Moves `n` messages through `producers` senders and `consumers` receivers
/// and returns the wall time.
macro_rules! transfer {
    ($tx:expr, $rx:expr, $n:expr, $producers:expr, $consumers:expr) => {{
        let (tx, rx) = ($tx, $rx);
        let per_producer = $n / $producers;
        let start = Instant::now();
        std::thread::scope(|s| {
            for _ in 0..$producers {
                let tx = tx.clone();
                s.spawn(move || {
                    for i in 0..per_producer {
                        tx.send(i).unwrap();
                    }
                });
            }
            drop(tx);
            for _ in 0..$consumers {
                let rx = rx.clone();
                s.spawn(move || {
                    let mut sum = 0_u64;
                    for v in rx.iter() {
                        sum = sum.wrapping_add(v);
                    }
                    std::hint::black_box(sum)
                });
            }
            drop(rx);
        });
        start.elapsed()
    }};
}

fn raw(flavor: Flavor, n: u64, producers: u64, consumers: u64) -> Duration {
    let (tx, rx) = match flavor {
        Flavor::Bounded(cap) => crossbeam_channel::bounded::<u64>(cap),
        Flavor::Unbounded => crossbeam_channel::unbounded::<u64>(),
    };
    transfer!(tx, rx, n, producers, consumers)
}

fn lab(flavor: Flavor, n: u64, producers: u64, consumers: u64) -> Duration {
    let lab = Lab::new(Config::default());
    let (tx, rx) = match flavor {
        Flavor::Bounded(cap) => lab.bounded::<u64>("bench", cap),
        Flavor::Unbounded => lab.unbounded::<u64>("bench"),
    };
    transfer!(tx, rx, n, producers, consumers)
}

fn bench_group(
    c: &mut Criterion,
    name: &str,
    cases: &[(Flavor, u64)],
    producers: u64,
    consumers: u64,
) {
    let mut group = c.benchmark_group(name);
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    for &(flavor, n) in cases {
        group.throughput(Throughput::Elements(n));
        group.bench_function(BenchmarkId::new("crossbeam", flavor.label()), |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| raw(flavor, n, producers, consumers))
                    .sum()
            });
        });
        group.bench_function(BenchmarkId::new("lab", flavor.label()), |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| lab(flavor, n, producers, consumers))
                    .sum()
            });
        });
    }
    group.finish();
}

fn spsc(c: &mut Criterion) {
    let cases = [
        (Flavor::Bounded(0), 20_000),
        (Flavor::Bounded(1), 20_000),
        (Flavor::Bounded(64), 200_000),
        (Flavor::Bounded(1024), 200_000),
        (Flavor::Unbounded, 200_000),
    ];
    bench_group(c, "spsc", &cases, 1, 1);
}

/// One thread, no waiting: `try_send` then `try_recv`, `N` times. What the
/// instrumentation itself costs (gate, counter), with no parking to hide it.
fn uncontended(c: &mut Criterion) {
    const N: u64 = 1_000_000;
    let mut group = c.benchmark_group("uncontended");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .throughput(Throughput::Elements(N));
    group.bench_function(BenchmarkId::new("crossbeam", "bounded(1024)"), |b| {
        let (tx, rx) = crossbeam_channel::bounded::<u64>(1024);
        b.iter(|| {
            for i in 0..N {
                tx.try_send(i).unwrap();
                std::hint::black_box(rx.try_recv().unwrap());
            }
        });
    });
    group.bench_function(BenchmarkId::new("lab", "bounded(1024)"), |b| {
        let lab = Lab::new(Config::default());
        let (tx, rx) = lab.bounded::<u64>("bench", 1024);
        b.iter(|| {
            for i in 0..N {
                tx.try_send(i).unwrap();
                std::hint::black_box(rx.try_recv().unwrap());
            }
        });
    });
    group.finish();
}

fn mpmc(c: &mut Criterion) {
    bench_group(c, "mpmc-4x4", &[(Flavor::Bounded(64), 200_000)], 4, 4);
}

criterion_group!(benches, spsc, mpmc, uncontended);
criterion_main!(benches);
