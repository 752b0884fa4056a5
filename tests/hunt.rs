//! The hunt: many seeded schedules, counted by how they ended; the
//! shortest failing one as a step table, replayable by the command printed.

use std::process::{Command, Stdio};

use chanlab::hunt::{self, step_table, wrap};
use chanlab::lab::{Choice, Strategy, TIMEOUT_ARM, Trace};
use chanlab::lessons;

fn chanlab(args: &[&str]) -> (String, String, i32) {
    let out = Command::new(env!("CARGO_BIN_EXE_chanlab"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

fn columns(line: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(line)
}

#[test]
fn smoke() {
    let lesson = lessons::find("1").unwrap();
    let trap = lesson.variant("unclosed").unwrap();
    let report = hunt::explore(lesson, trap, lesson.defaults, Strategy::Random, 0..3);
    assert_eq!(report.runs(), 3);
    assert_eq!(report.broken, 3);
    assert_eq!(report.classes, vec![("deadlock".to_owned(), 3)]);
    assert_eq!(report.first_failing.unwrap().seed, 0);
}

#[test]
fn runs_are_classed_by_verdict_or_outcome() {
    let class = |lesson: &str, variant: &str| {
        let lesson = lessons::find(lesson).unwrap();
        let v = lesson.variant(variant).unwrap();
        let report = hunt::explore(lesson, v, lesson.defaults, Strategy::Random, 0..2);
        report.classes[0].0.clone()
    };
    assert_eq!(class("1", "correct"), "held");
    assert_eq!(class("1", "leak"), "leak");
    assert_eq!(class("1", "cancel"), "held as designed");
    assert_eq!(class("2", "unordered"), "order broken");
    assert_eq!(class("3", "submit-after-close"), "items lost");
    assert_eq!(class("6", "swallowed-error"), "an error was swallowed");
}

#[test]
fn a_hunt_does_not_depend_on_how_many_threads_ran_it() {
    let lesson = lessons::find("2").unwrap();
    let trap = lesson.variant("unordered").unwrap();
    let pct = Strategy::Pct { depth: 3 };
    let one = hunt::explore_with(lesson, trap, lesson.defaults, pct, 10..30, 1, &|_| {});
    let two = hunt::explore_with(lesson, trap, lesson.defaults, pct, 10..30, 2, &|_| {});
    assert_eq!(one.classes, two.classes);
    assert_eq!(one.first_failing, two.first_failing);
    assert_eq!(one.shortest_failing, two.shortest_failing);
    assert_eq!(
        one.first_failing.unwrap().seed,
        10,
        "seeds start where asked"
    );
}

#[test]
fn hunting_the_unclosed_trap_prints_a_table_and_a_command_that_replays_it() {
    let (stdout, stderr, code) = chanlab(&["hunt", "1", "--trap", "unclosed", "--schedules", "50"]);
    assert_eq!(code, 1, "some schedule broke it: {stdout}{stderr}");
    // Random picks over 134 steps: every seed a schedule of its own.
    assert!(
        stdout.contains("random: 50 schedules (50 different) in"),
        "{stdout}"
    );
    assert!(stdout.contains("pct depth 3: 50 schedules ("), "{stdout}");
    assert!(
        stdout.contains("100 of 100 schedules broke it (50 of 50 random, 50 of 50 pct)."),
        "{stdout}"
    );
    assert!(
        stdout.contains("  first failing: seed 0 (deadlock, "),
        "{stdout}"
    );
    assert!(stdout.contains(" per second)\n"), "{stdout}");
    assert!(
        stdout
            .lines()
            .last()
            .unwrap()
            .starts_with("total: 100 schedules in "),
        "{stdout}"
    );
    // The table: a column per worker, no line wider than 100 (not a terminal).
    let header = stdout
        .lines()
        .find(|l| l.starts_with("step | "))
        .unwrap_or_else(|| panic!("no table: {stdout}"));
    for worker in ["main", "generate", "square#1", "square#2", "filter", "sink"] {
        assert!(header.contains(&format!("| {worker}")), "{header}");
    }
    let widest = stdout
        .lines()
        .filter(|l| l.contains(" | "))
        .map(columns)
        .max()
        .unwrap();
    assert!(widest <= 100, "a table line is {widest} wide");
    // The shortest schedule, run again by the command printed, breaks the same way.
    let found = stdout
        .lines()
        .find_map(|l| l.strip_prefix("shortest failing schedule: "))
        .expect("a shortest schedule");
    let words: Vec<&str> = found
        .split([' ', ',', ':'])
        .filter(|w| !w.is_empty())
        .collect();
    let [strategy, "seed", seed, steps, "steps", class] = words[..] else {
        panic!("{found}");
    };
    assert_eq!(class, "deadlock");
    let command = stdout
        .lines()
        .find_map(|l| l.strip_prefix("as a timeline:   chanlab "))
        .expect("a command to replay it");
    // The hunt shrinks `--items` while the trap still breaks in fewer
    // steps: the unclosed Sender deadlocks with the fewest items there are.
    assert!(
        stdout.contains("shrunk: with --items 2 it breaks in "),
        "{stdout}"
    );
    let mut expected = format!("run 1 --trap unclosed --items 2 --schedule {seed}");
    if strategy == "pct" {
        expected.push_str(" --strategy pct");
    }
    assert_eq!(command, format!("{expected} --headless"));
    assert!(
        stdout.contains(&format!("watch it live:   chanlab {expected}\n")),
        "{stdout}"
    );
    let args: Vec<&str> = command.split(' ').collect();
    let (replayed, _, code) = chanlab(&args);
    assert_eq!(code, 1, "{replayed}");
    assert!(
        replayed.contains("\nverdict: deadlock: all workers are asleep\n"),
        "{replayed}"
    );
    assert!(
        replayed.contains(&format!("schedule: {steps} steps, {strategy} seed {seed}")),
        "{replayed}"
    );
}

#[test]
fn no_schedule_breaks_the_correct_pipeline() {
    let (stdout, stderr, code) = chanlab(&["hunt", "1", "--schedules", "200"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("0 of 400 schedules broke it: it held every time."),
        "{stdout}"
    );
    assert!(stdout.contains("  held  200  (100.0%)"), "{stdout}");
    assert!(
        !stdout.contains("step | "),
        "no table without a failure: {stdout}"
    );
}

#[test]
fn bad_hunts_say_what_would_be_right_and_exit_2() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["hunt", "1", "--schedules", "0"],
            "--schedules 0 is out of range: allowed 1 to 1000000",
        ),
        (
            &["hunt", "1", "--schedules", "many"],
            "--schedules takes a whole number from 1 to 1000000 (got `many`)",
        ),
        (
            &["hunt", "1", "--strategy", "dfs"],
            "[possible values: random, pct, both]",
        ),
        (&["hunt", "pipelin"], "did you mean `pipeline`?"),
        (
            &["hunt", "1", "--trap", "unordered"],
            "`unordered` is a trap of lesson 02",
        ),
        (
            &["hunt", "1", "--items", "1"],
            "--items 1 is out of range for lesson 01 pipeline",
        ),
    ];
    for (args, message) in cases {
        let (stdout, stderr, code) = chanlab(args);
        assert_eq!(code, 2, "{args:?}: {stdout}{stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        assert_eq!(stdout, "", "{args:?}");
    }
}

/// A trace of three workers, with words as the scheduler writes them.
fn trace(steps: &[(u32, u32, &str)], names: &[&str]) -> Trace {
    Trace {
        choices: steps
            .iter()
            .map(|&(worker, arm, _)| Choice { worker, arm })
            .collect(),
        diverged: None,
        steps: steps
            .iter()
            .map(|&(w, _, words)| format!("{}: {words}", names[w as usize]))
            .collect(),
    }
}

const NAMES: [&str; 3] = ["main", "producer", "consumer"];

fn names() -> Vec<String> {
    NAMES.iter().map(|n| (*n).to_owned()).collect()
}

#[test]
fn a_step_table_has_a_row_per_step_in_its_workers_column() {
    let t = trace(
        &[
            (0, 0, "start its next step"),
            (1, 0, "send item 1 on `jobs` (0/1)"),
            (2, 0, "receive item 1 from `jobs` (1/1 full)"),
            (1, 0, "send item 2 on `jobs` (0/1)"),
        ],
        &NAMES,
    );
    let table = step_table(&t, &names(), 200);
    assert_eq!(
        table,
        "\
step | main                | producer                    | consumer
-----+---------------------+-----------------------------+--------------------------------------
   1 | start its next step |                             |
   2 |                     | send item 1 on `jobs` (0/1) |
   3 |                     |                             | receive item 1 from `jobs` (1/1 full)
   4 |                     | send item 2 on `jobs` (0/1) |
"
    );
}

#[test]
fn equal_steps_in_a_row_share_a_row() {
    let t = trace(
        &[
            (0, 0, "start its next step"),
            (2, TIMEOUT_ARM, "select on `jobs`: finds nothing ready"),
            (2, TIMEOUT_ARM, "select on `jobs`: finds nothing ready"),
            (2, TIMEOUT_ARM, "select on `jobs`: finds nothing ready"),
            (1, 0, "send item 1 on `jobs` (0/1)"),
        ],
        &NAMES,
    );
    let table = step_table(&t, &names(), 200);
    let rows: Vec<&str> = table.lines().skip(2).collect();
    assert_eq!(rows.len(), 3, "{table}");
    assert!(rows[1].starts_with(" 2–4 | "), "{table}");
    assert!(
        rows[1].ends_with("| select on `jobs`: finds nothing ready (×3)"),
        "{table}"
    );
    assert!(rows[2].starts_with("   5 | "), "{table}");
}

#[test]
fn a_narrow_table_wraps_its_cells_and_never_cuts_a_number() {
    let t = trace(
        &[
            (0, 0, "start its next step"),
            (1, 0, "send item 123456 on `results#2` (3/4)"),
            (2, 0, "receive item 123456 from `results#2` (4/4 full)"),
        ],
        &NAMES,
    );
    for width in [40, 50, 60] {
        let table = step_table(&t, &names(), width);
        for line in table.lines() {
            assert!(columns(line) <= width, "{width}: {line:?}\n{table}");
        }
        assert!(table.contains("123456"), "{width}: {table}");
        // Each worker's header whole, every word of every cell there.
        for n in NAMES {
            assert!(table.lines().next().unwrap().contains(n), "{table}");
        }
        for word in ["start", "send", "receive", "full)", "(4/4", "(3/4)"] {
            assert!(table.contains(word), "{word}: {table}");
        }
        assert!(table.lines().count() > 5, "{width}: rows wrap\n{table}");
    }
}

#[test]
fn a_trace_without_words_shows_the_choices() {
    let t = Trace {
        choices: vec![
            Choice::worker(0),
            Choice { worker: 3, arm: 1 },
            Choice {
                worker: 3,
                arm: TIMEOUT_ARM,
            },
        ],
        diverged: None,
        steps: Vec::new(),
    };
    let table = step_table(&t, &names(), 100);
    let lines: Vec<&str> = table.lines().collect();
    // A worker the names do not cover gets a column of its own number.
    assert_eq!(lines[0], "step | main | producer | consumer | #3");
    assert_eq!(lines[2], "   1 | 0    |          |          |");
    assert!(lines[3].ends_with("| 3.1"), "{table}");
    assert!(lines[4].ends_with("| 3.t"), "{table}");
}

#[test]
fn wrapping_breaks_at_spaces_and_seams_and_keeps_numbers_whole() {
    assert_eq!(
        wrap("send item 3 on `squares` (1/4)", 12),
        ["send item 3", "on `squares`", "(1/4)"]
    );
    assert_eq!(wrap("`results#2`", 9), ["`results", "#2`"]);
    assert_eq!(wrap("12345678", 3), ["12345678"]);
    assert_eq!(wrap("ab12345", 4), ["ab", "12345"]);
    assert_eq!(wrap("", 5), [""]);
    for width in 1..20 {
        for line in wrap("receive item 1000 from `filtered` (1000/1024 full)", width) {
            assert!(
                columns(&line) <= width
                    || line
                        .bytes()
                        .all(|b| b.is_ascii_digit() || b == b'/' || b == b'('),
                "{width}: {line:?}"
            );
        }
    }
}

#[test]
fn describe_gives_the_words_of_each_step() {
    let lesson = lessons::find("1").unwrap();
    let trap = lesson.variant("unclosed").unwrap();
    let (report, trace, names) = hunt::describe(lesson, trap, lesson.defaults, Strategy::Random, 4);
    assert_eq!(hunt::classify(&report), "deadlock");
    assert_eq!(trace.steps.len(), trace.choices.len());
    assert_eq!(names[0], "main");
    assert!(trace.steps[0].starts_with("main: "), "{:?}", trace.steps[0]);
    let quick = hunt::explore(lesson, trap, lesson.defaults, Strategy::Random, 4..5);
    assert_eq!(
        quick.shortest_failing.unwrap().steps,
        trace.choices.len(),
        "the words change nothing"
    );
}
