use chanlab::lab::{Config, Lab, Schedule};
use chanlab::lessons::find;

fn events(lesson: &str, variant: &str, seed: u64) -> (Vec<String>, usize) {
    let lesson = find(lesson).unwrap();
    let v = lesson.variant(variant).unwrap();
    let cfg = Config {
        schedule: Some(Schedule::pct(seed)),
        log_items: true,
        events: 100_000,
        ..Config::default()
    };
    let run = lesson.start(v, lesson.defaults, cfg);
    let lab: Lab = run.lab().clone();
    let report = run.wait();
    let ev: Vec<String> = lab
        .events_since(0)
        .events
        .iter()
        .filter(|e| !e.cleanup)
        .map(|e| format!("{:?}", e))
        .collect();
    (ev, report.trace.unwrap().choices.len())
}

#[test]
fn deterministic() {
    for (l, v) in [
        ("1", "unclosed"),
        ("2", "unordered"),
        ("3", "hand-back"),
        ("4", "busy-wait"),
        ("5", "drop-oldest"),
        ("6", "errgroup"),
    ] {
        let a = events(l, v, 5);
        for _ in 0..3 {
            assert_eq!(a, events(l, v, 5), "{l} {v}");
        }
        println!("{l} {v}: {} events, {} steps", a.0.len(), a.1);
    }
}

#[test]
fn rewind_and_realtime() {
    let lesson = find("1").unwrap();
    let v = lesson.variant("correct").unwrap();
    let full = lesson.run(
        v,
        lesson.defaults,
        Config {
            schedule: Some(Schedule::random(3)),
            ..Config::default()
        },
    );
    let choices = full.trace.unwrap().choices;
    let t = std::time::Instant::now();
    let sched = Schedule::random(3)
        .with_prefix(choices.clone())
        .paused_at(50);
    let run = lesson.start(
        v,
        lesson.defaults,
        Config {
            schedule: Some(sched),
            realtime: true,
            ..Config::default()
        },
    );
    assert!(run.lab().wait_still(std::time::Duration::from_secs(5)));
    let snap = run.lab().snapshot();
    println!(
        "rewound to {:?} in {:?}, paused={}",
        snap.schedule,
        t.elapsed(),
        snap.paused
    );
    run.lab().step();
    assert!(run.lab().wait_still(std::time::Duration::from_secs(5)));
    println!(
        "after step: {:?} {:?}",
        run.lab().snapshot().schedule,
        run.lab().snapshot().elapsed
    );
    run.lab().set_speed(100.0);
    run.lab().set_paused(false);
    let r = run.wait();
    assert_eq!(r.trace.unwrap().choices, choices);
    println!("realtime finished in {:?}", t.elapsed());
}
