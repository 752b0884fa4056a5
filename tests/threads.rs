//! No OS thread outlives a run, trap or not.
//!
//! One test in its own file (its own process), so the count of
//! `/proc/self/task` moves only with the runs made here.

use std::time::Duration;

use chanlab::lab::Config;
use chanlab::lessons;

fn os_threads() -> usize {
    std::fs::read_dir("/proc/self/task").map_or(0, Iterator::count)
}

/// A joined thread can linger in /proc for a moment: retry briefly, as
/// goleak does (1 µs doubling to 100 µs, then 100 µs steps; ~2 s at most).
fn settle_to(expected: usize) -> usize {
    let mut pause = Duration::from_micros(1);
    let mut now = os_threads();
    for _ in 0..20_000 {
        if now <= expected {
            break;
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_micros(100));
        now = os_threads();
    }
    now
}

#[test]
fn smoke_every_variant_of_every_lesson_leaves_no_thread_behind() {
    if !std::path::Path::new("/proc/self/task").exists() {
        eprintln!("skipped: /proc/self/task is not available on this system");
        return;
    }
    let config = Config {
        speed: 100.0,
        ..Config::default()
    };
    let before = os_threads();
    for lesson in lessons::catalog() {
        for variant in lesson.variants {
            let report = lesson.run(variant, lesson.defaults, config.clone());
            assert!(
                report.unstoppable.is_empty(),
                "{} {}: unstoppable {:?}",
                lesson.label(),
                variant.name,
                report.unstoppable
            );
            let after = settle_to(before);
            assert_eq!(
                after,
                before,
                "{} {}: {} OS threads left behind",
                lesson.label(),
                variant.name,
                after.saturating_sub(before)
            );
        }
    }
}
