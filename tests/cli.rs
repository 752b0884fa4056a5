//! The built binary: messages, exit codes, the headless timeline.

use std::process::{Command, Output, Stdio};

fn chanlab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_chanlab"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs")
}

fn text(out: &Output) -> (String, String, i32) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

#[test]
fn smoke() {
    let (stdout, _, code) = text(&chanlab(&["list"]));
    assert_eq!(code, 0);
    assert!(stdout.contains("01  pipeline"), "{stdout}");
    assert!(stdout.contains("traps: unclosed, leak"), "{stdout}");
}

#[test]
fn a_clean_headless_run_exits_0() {
    let (stdout, _, code) = text(&chanlab(&["run", "1", "--headless", "--speed", "50"]));
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("sink finished"), "{stdout}");
    assert!(
        stdout.trim_end().ends_with("verdict: no deadlock, no leak"),
        "{stdout}"
    );
}

#[test]
fn the_unclosed_trap_exits_1_with_the_dump() {
    let (stdout, _, code) = text(&chanlab(&[
        "run",
        "pipeline",
        "--trap",
        "unclosed",
        "--headless",
        "--speed",
        "50",
    ]));
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("verdict: deadlock: all workers are asleep"),
        "{stdout}"
    );
    assert!(
        stdout.contains("sink waits to receive on `filtered` (0/4, 1 sender alive)"),
        "{stdout}"
    );
}

#[test]
fn the_leak_trap_exits_1_naming_the_stages() {
    let (stdout, _, code) = text(&chanlab(&[
        "run",
        "01",
        "--trap",
        "leak",
        "--headless",
        "--speed",
        "50",
    ]));
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("verdict: leak: main returned while"),
        "{stdout}"
    );
    // The filter is always named; whether it waits to send or is still
    // between items depends on timing, so that is not asserted here.
    assert!(stdout.contains("\n  filter "), "{stdout}");
}

#[test]
fn a_fix_runs_clean() {
    let (stdout, _, code) = text(&chanlab(&[
        "run",
        "1",
        "--trap",
        "cancel",
        "--headless",
        "--speed",
        "50",
    ]));
    assert_eq!(code, 0, "{stdout}");
}

#[test]
fn bad_input_says_what_would_be_right_and_exits_2() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["run", "pipline", "--headless"],
            "did you mean `pipeline`?",
        ),
        (&["show", "99"], "lesson numbers run from 1 to"),
        (
            &["run", "1", "--trap", "nope", "--headless"],
            "valid: correct (correct), unclosed (trap)",
        ),
        (
            &["run", "1", "--trap", "lek", "--headless"],
            "did you mean `leak`?",
        ),
        (
            &["run", "1", "--buffer", "5000", "--headless"],
            "--buffer 5000 is out of range for lesson 01 pipeline: allowed 0 to 1024",
        ),
        (
            &["run", "1", "--items", "0", "--headless"],
            "allowed 2 to 100000",
        ),
        (&["run", "1", "--speed", "0"], "allowed 0.1 to 100"),
        (
            &["run", "1", "--speed", "50"],
            "add --headless to run at up to 100",
        ),
        (&["run", "1", "--items", "lots"], "invalid value 'lots'"),
        (&["frobnicate"], "unrecognized subcommand"),
    ];
    for (args, message) in cases {
        let (stdout, stderr, code) = text(&chanlab(args));
        assert_eq!(code, 2, "{args:?}: {stdout}{stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
}

#[test]
fn without_a_terminal_the_live_view_points_to_headless() {
    for args in [&[][..], &["run", "1"][..]] {
        let (_, stderr, code) = text(&chanlab(args));
        assert_eq!(code, 2, "{args:?}");
        assert!(stderr.contains("--headless"), "{stderr}");
    }
}

#[test]
fn show_prints_the_lesson_text() {
    let (stdout, _, code) = text(&chanlab(&["show", "pipeline"]));
    assert_eq!(code, 0);
    assert!(stdout.starts_with("# 01 Pipeline"), "{stdout}");
}

#[test]
fn traps_runs_each_trap_and_its_fix() {
    let (stdout, _, code) = text(&chanlab(&["traps", "1"]));
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("trap `unclosed`"), "{stdout}");
    assert!(stdout.contains("broke as expected (deadlock)"), "{stdout}");
    assert!(stdout.contains("fix `cancel` holds"), "{stdout}");
}

#[test]
fn help_and_version_exit_0() {
    let (stdout, _, code) = text(&chanlab(&["--help"]));
    assert_eq!(code, 0);
    assert!(stdout.contains("Run a lesson"), "{stdout}");
    let (stdout, _, code) = text(&chanlab(&["--version"]));
    assert_eq!(code, 0);
    assert!(stdout.starts_with("chanlab "), "{stdout}");
}
