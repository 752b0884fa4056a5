use chanlab::lab::{Config, Schedule};
use chanlab::lessons::find;

#[test]
fn busy() {
    let lesson = find("4").unwrap();
    let v = lesson.variant("busy-wait").unwrap();
    let cfg = Config { schedule: Some(Schedule::random(0)), step_limit: 3000, ..Config::default() };
    let report = lesson.run(v, lesson.defaults, cfg);
    let t = report.trace.unwrap();
    let tail: Vec<String> = t.choices[t.choices.len()-40..].iter().map(|c| c.to_string()).collect();
    println!("{}", tail.join(" "));
    for w in &report.snapshot.workers { println!("{} {} {:?}", w.id, w.name, w.state); }
}
