#![allow(missing_docs)] // a bench binary
//! Lab channels on the path lessons take — `lab.go` workers inside
//! `Lab::run`, with its supervisor and verdict checks — against raw
//! crossbeam-channel on `std::thread`, the same shape of transfer.
//!
//! Every case moves `messages` `u64`s from `producers` to `consumers`
//! through one channel and joins everything. The two sides run
//! interleaved (crossbeam, lab, crossbeam, lab, …) `REPS` times; each run
//! is timed on the wall clock and in CPU time of the whole process (user +
//! system, every thread, from `getrusage(RUSAGE_SELF)` before and after),
//! and the medians are compared: lab / crossbeam, lower is better. A ratio
//! below 1 in wall time with a CPU ratio above it means the lab spins
//! where crossbeam parks.
//!
//! `cargo bench --bench lesson_path` prints the table for
//! docs/BENCHMARKS.md. A first argument filters cases by substring.

use std::time::{Duration, Instant};

use chanlab::lab::{Config, Lab};
use nix::sys::resource::{UsageWho, getrusage};

const REPS: usize = 7;

#[derive(Clone, Copy)]
struct Case {
    capacity: Option<usize>,
    producers: usize,
    consumers: usize,
    messages: u64,
}

impl Case {
    fn label(self) -> String {
        let flavor = self
            .capacity
            .map_or_else(|| "unbounded".to_owned(), |c| format!("bounded({c})"));
        format!("{flavor}, {} × {}", self.producers, self.consumers)
    }
}

fn cpu_now() -> Duration {
    getrusage(UsageWho::RUSAGE_SELF).map_or(Duration::ZERO, |u| {
        let tv = |t: nix::sys::time::TimeVal| {
            Duration::from_secs(t.tv_sec().unsigned_abs())
                + Duration::from_micros(t.tv_usec().unsigned_abs())
        };
        tv(u.user_time()) + tv(u.system_time())
    })
}

/// Wall and CPU time of one run of `f`.
fn timed(f: impl FnOnce() -> u64) -> (Duration, Duration) {
    let (cpu, wall) = (cpu_now(), Instant::now());
    std::hint::black_box(f());
    (wall.elapsed(), cpu_now().saturating_sub(cpu))
}

fn crossbeam(case: Case) -> u64 {
    let (tx, rx) = match case.capacity {
        Some(c) => crossbeam_channel::bounded::<u64>(c),
        None => crossbeam_channel::unbounded(),
    };
    let per = case.messages / case.producers as u64;
    let producers: Vec<_> = (0..case.producers)
        .map(|i| {
            let tx = tx.clone();
            std::thread::Builder::new()
                .name(format!("produce#{i}"))
                .spawn(move || {
                    for v in 0..per {
                        tx.send(v).unwrap();
                    }
                })
                .unwrap()
        })
        .collect();
    drop(tx);
    let consumers: Vec<_> = (0..case.consumers)
        .map(|i| {
            let rx = rx.clone();
            std::thread::Builder::new()
                .name(format!("consume#{i}"))
                .spawn(move || rx.iter().fold(0_u64, u64::wrapping_add))
                .unwrap()
        })
        .collect();
    drop(rx);
    for p in producers {
        p.join().unwrap();
    }
    consumers
        .into_iter()
        .map(|c| c.join().unwrap())
        .fold(0, u64::wrapping_add)
}

fn lab(case: Case) -> u64 {
    let report = Lab::run(Config::default(), move |lab| {
        let (tx, rx) = match case.capacity {
            Some(c) => lab.bounded::<u64>("numbers", c),
            None => lab.unbounded("numbers"),
        };
        let per = case.messages / case.producers as u64;
        let producers: Vec<_> = (0..case.producers)
            .map(|i| {
                let tx = tx.clone();
                lab.go(format!("produce#{i}"), move || {
                    for v in 0..per {
                        tx.send(v).unwrap();
                    }
                })
            })
            .collect();
        drop(tx);
        let consumers: Vec<_> = (0..case.consumers)
            .map(|i| {
                let rx = rx.clone();
                lab.go(format!("consume#{i}"), move || {
                    rx.iter().fold(0_u64, u64::wrapping_add)
                })
            })
            .collect();
        drop(rx);
        for p in producers {
            p.join().unwrap();
        }
        consumers
            .into_iter()
            .map(|c| c.join().unwrap())
            .fold(0, u64::wrapping_add)
    });
    assert!(report.verdict.is_none(), "{:?}", report.verdict);
    report.outcome.expect("the run returns its sum")
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn main() {
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    // `--only lab|crossbeam`: one side alone, for a profiler.
    let only = std::env::args().skip_while(|a| a != "--only").nth(1);
    let one = |capacity, messages| Case {
        capacity,
        producers: 1,
        consumers: 1,
        messages,
    };
    let many = |capacity, n, messages| Case {
        capacity,
        producers: n,
        consumers: n,
        messages,
    };
    let cases = [
        one(Some(0), 100_000),
        one(Some(1), 200_000),
        one(Some(64), 1_000_000),
        one(Some(1024), 1_000_000),
        one(None, 1_000_000),
        many(Some(0), 4, 100_000),
        many(Some(64), 4, 1_000_000),
        many(Some(0), 64, 64_000),
        many(Some(64), 64, 640_000),
        Case {
            capacity: Some(0),
            producers: 1,
            consumers: 1_000,
            messages: 100_000,
        },
    ];
    println!(
        "| case | messages | crossbeam wall | lab wall | wall ratio | crossbeam CPU | lab CPU | CPU ratio |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for case in cases {
        let label = case.label();
        if filter.as_ref().is_some_and(|f| !label.contains(f.as_str())) {
            continue;
        }
        if let Some(side) = &only {
            let (wall, cpu) = timed(|| {
                if side == "lab" {
                    lab(case)
                } else {
                    crossbeam(case)
                }
            });
            println!(
                "| {label} | {side} alone | {} | CPU {} |",
                ms(wall),
                ms(cpu)
            );
            continue;
        }
        assert_eq!(
            crossbeam(case),
            lab(case),
            "both sides move the same numbers"
        );
        let (mut cw, mut cc, mut lw, mut lc) = (vec![], vec![], vec![], vec![]);
        for _ in 0..REPS {
            let (w, c) = timed(|| crossbeam(case));
            cw.push(w);
            cc.push(c);
            let (w, c) = timed(|| lab(case));
            lw.push(w);
            lc.push(c);
        }
        let (cw, cc, lw, lc) = (median(cw), median(cc), median(lw), median(lc));
        println!(
            "| {label} | {} | {} | {} | **{:.2}×** | {} | {} | **{:.2}×** |",
            case.messages,
            ms(cw),
            ms(lw),
            lw.as_secs_f64() / cw.as_secs_f64(),
            ms(cc),
            ms(lc),
            lc.as_secs_f64() / cc.as_secs_f64().max(1e-9),
        );
    }
}
