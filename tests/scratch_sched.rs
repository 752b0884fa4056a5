use chanlab::lab::{Config, Schedule};
use chanlab::lessons::{catalog, meets_expectation};

#[test]
fn every_variant_scheduled() {
    for lesson in catalog() {
        for v in lesson.variants {
            for seed in 0..3 {
                let cfg = Config {
                    schedule: Some(Schedule::random(seed)),
                    ..Config::default()
                };
                let t = std::time::Instant::now();
                let report = lesson.run(v, lesson.defaults, cfg);
                let ok = meets_expectation(v, &report);
                println!(
                    "{:>2} {:<28} seed {seed} {:>6} steps {:>7.1?} ok={ok} verdict={:?}",
                    lesson.number,
                    v.name,
                    report.trace.as_ref().map_or(0, |t| t.choices.len()),
                    t.elapsed(),
                    report.verdict.as_ref().map(|v| v.headline())
                );
            }
        }
    }
}
