#![allow(missing_docs)] // a bench binary
//! The scheduled mode on the path learners run: lesson 01 inside `Lab::run`
//! (through `Lesson::run` / `Lesson::start`), with wall time and CPU time.
//!
//! - *steps per second*: one whole scheduled run of lesson 01 (correct,
//!   2 500 items: about 17 000 steps), unpaced;
//! - *rewind to step 10 000*: what the live view does on a scrub back: start
//!   the run again with the recorded choices as a prefix and `pause_at`
//!   10 000, and wait until it stands still there;
//! - *hunt throughput*: whole scheduled runs of lesson 01 at its default
//!   knobs, one seed after another, and as `chanlab hunt 1` runs them
//!   (`hunt::explore_with`, several runs at once).
//!
//! A plain `main` (no criterion): each case is repeated, and the median
//! wall time is printed beside the process's CPU time over the same
//! repetitions (user + system, from `/proc/self/stat`), so a case that
//! spins shows it. Run with `cargo bench --bench schedule`.

use std::time::{Duration, Instant};

use chanlab::lab::{Config, Schedule, Strategy};
use chanlab::lessons::{self, Knobs, Lesson};

/// Seeds per hunt measurement.
const SEEDS: u64 = 50;

/// CPU time of the whole process so far (all threads, dead ones included).
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command's closing parenthesis; utime and stime are
    // the 14th and 15th fields of the line, in clock ticks (100 per second
    // on Linux unless the kernel was built otherwise).
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

struct Measured {
    median: Duration,
    cpu_per_rep: Option<Duration>,
}

fn measure(reps: usize, mut f: impl FnMut() -> Duration) -> Measured {
    let _ = f(); // warm-up
    let cpu_before = cpu_time();
    let mut times: Vec<Duration> = (0..reps).map(|_| f()).collect();
    let cpu_after = cpu_time();
    times.sort();
    Measured {
        median: times[reps / 2],
        cpu_per_rep: cpu_before
            .zip(cpu_after)
            .map(|(b, a)| a.saturating_sub(b) / u32::try_from(reps).unwrap_or(u32::MAX)),
    }
}

fn lesson01() -> &'static Lesson {
    lessons::find("1").expect("lesson 01 exists")
}

fn scheduled(seed: u64) -> Config {
    Config {
        schedule: Some(Schedule::random(seed)),
        ..Config::default()
    }
}

fn cpu_ratio(m: &Measured, wall: Duration) -> String {
    m.cpu_per_rep.map_or_else(
        || "n/a".to_owned(),
        |cpu| format!("{:.2}", cpu.as_secs_f64() / wall.as_secs_f64()),
    )
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument is not supported.
    let lesson = lesson01();
    let correct = lesson.correct();
    let long = Knobs {
        items: 2_500,
        ..lesson.defaults
    };

    // 1. steps per second over one whole run.
    let steps = lesson
        .run(correct, long, scheduled(1))
        .trace
        .map_or(0, |t| t.choices.len());
    let whole = measure(9, || {
        let start = Instant::now();
        let report = lesson.run(correct, long, scheduled(1));
        assert!(report.verdict.is_none(), "{:?}", report.verdict);
        start.elapsed()
    });
    let per_second = steps as f64 / whole.median.as_secs_f64();

    // 2. rewind to step 10 000.
    let choices = lesson
        .run(correct, long, scheduled(1))
        .trace
        .expect("a scheduled run has a trace")
        .choices;
    assert!(
        choices.len() > 10_000,
        "the run is long enough to rewind into"
    );
    let rewind = measure(9, || {
        let schedule = Schedule::random(1)
            .with_prefix(choices.clone())
            .paused_at(10_000);
        let config = Config {
            schedule: Some(schedule),
            realtime: true,
            log_items: true,
            describe_steps: true,
            ..Config::default()
        };
        let start = Instant::now();
        let run = lesson.start(correct, long, config);
        assert!(run.lab().wait_still(Duration::from_secs(10)));
        let took = start.elapsed();
        let at = run.lab().snapshot().schedule.map(|s| s.step);
        assert_eq!(at, Some(10_000));
        let _ = run.stop();
        took
    });

    // 3. hunt throughput: seeds one after another at the default knobs.
    let mut next_seed = 0;
    let hunt = measure(5, || {
        let start = Instant::now();
        for _ in 0..SEEDS {
            let report = lesson.run(correct, lesson.defaults, scheduled(next_seed));
            next_seed += 1;
            assert!(report.verdict.is_none());
        }
        start.elapsed()
    });
    let schedules_per_second = SEEDS as f64 / hunt.median.as_secs_f64();

    // 4. what `chanlab hunt 1` runs: `hunt::explore_with`, several at once.
    let threads = chanlab::hunt::threads();
    let mut from = 10_000;
    let parallel = measure(5, || {
        let start = Instant::now();
        let report = chanlab::hunt::explore_with(
            lesson,
            correct,
            lesson.defaults,
            Strategy::Random,
            from..from + 4 * SEEDS,
            threads,
            &|_| {},
        );
        from += 4 * SEEDS;
        assert_eq!(report.broken, 0);
        start.elapsed()
    });
    let parallel_per_second = (4 * SEEDS) as f64 / parallel.median.as_secs_f64();

    println!("| case | wall (median) | CPU / wall | figure | goal |");
    println!("|---|---|---|---|---|");
    println!(
        "| lesson 01, 2 500 items: one scheduled run ({steps} steps) | {:.1} ms | {} | **{per_second:.0} steps/s** | — |",
        whole.median.as_secs_f64() * 1e3,
        cpu_ratio(&whole, whole.median),
    );
    println!(
        "| rewind: re-execute to step 10 000 and stand still | {:.1} ms | {} | **{:.3} s** | < 0.2 s |",
        rewind.median.as_secs_f64() * 1e3,
        cpu_ratio(&rewind, rewind.median),
        rewind.median.as_secs_f64(),
    );
    println!(
        "| hunt: {SEEDS} schedules of lesson 01 (defaults) | {:.1} ms | {} | **{schedules_per_second:.0} schedules/s** | — |",
        hunt.median.as_secs_f64() * 1e3,
        cpu_ratio(&hunt, hunt.median),
    );
    println!(
        "| hunt as `chanlab hunt` runs it: {} schedules, {threads} at a time | {:.1} ms | {} | **{parallel_per_second:.0} schedules/s** | — |",
        4 * SEEDS,
        parallel.median.as_secs_f64() * 1e3,
        cpu_ratio(&parallel, parallel.median),
    );
}
