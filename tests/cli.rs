//! The built binary: messages, exit codes, the headless timeline.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

fn chanlab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_chanlab"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs")
}

fn spawn(args: &[&str], stdout: Stdio) -> Child {
    Command::new(env!("CARGO_BIN_EXE_chanlab"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs")
}

/// Waits for `child`, failing the test (and killing it) after `limit`.
fn wait_at_most(child: &mut Child, limit: Duration) -> ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn stderr_of(child: &mut Child) -> String {
    let mut s = String::new();
    child
        .stderr
        .take()
        .expect("stderr piped")
        .read_to_string(&mut s)
        .expect("stderr reads");
    s
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
}

#[test]
fn list_shows_each_trap_with_its_fix() {
    let (stdout, _, code) = text(&chanlab(&["list"]));
    assert_eq!(code, 0);
    let line = |trap: &str| {
        stdout
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("trap {trap} ")))
            .unwrap_or_else(|| panic!("no line for trap {trap}: {stdout}"))
            .to_owned()
    };
    assert!(line("unclosed").ends_with("fix: correct"), "{stdout}");
    assert!(line("leak").ends_with("fix: cancel"), "{stdout}");
    assert!(line("unordered").ends_with("fix: ordered"), "{stdout}");
    // A fix no trap points to is listed too.
    assert!(stdout.contains("also a fix: drop-oldest"), "{stdout}");
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
fn a_headless_run_says_its_mode_at_the_top() {
    let (stdout, _, code) = text(&chanlab(&["run", "1", "--headless", "--speed", "50"]));
    assert_eq!(code, 0, "{stdout}");
    let third = stdout.lines().nth(2).unwrap_or_default();
    assert_eq!(
        third,
        "mode: free-running OS threads (the OS picks the interleaving), speed 50x"
    );
    assert!(!stdout.contains("schedule:"), "{stdout}");
}

/// A scheduled run's output without its one line that changes from run to
/// run: the wall time it took.
fn without_wall_time(stdout: &str) -> String {
    let lines: Vec<&str> = stdout
        .lines()
        .filter(|l| !l.starts_with("through the channels"))
        .collect();
    lines.join("\n")
}

#[test]
fn a_scheduled_headless_run_is_the_same_every_time_and_says_how_to_see_it_again() {
    let args = [
        "run",
        "pipeline",
        "--trap",
        "unclosed",
        "--items",
        "8",
        "--schedule",
        "17",
        "--headless",
    ];
    let (stdout, stderr, code) = text(&chanlab(&args));
    assert_eq!(code, 1, "{stdout}{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines[1], "knobs: items 8, buffer 4, workers 2, seed 1",
        "no speed: the run is unpaced"
    );
    assert_eq!(
        lines[2],
        "mode: scheduled, random seed 17 (one worker at a time, on virtual time, unpaced)"
    );
    // Every item in the timeline; the teardown after the verdict not counted.
    assert!(
        stdout.contains("s  generate sent item 1 on `numbers`\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "its teardown (workers woken, channels closed by the abort) runs free and is not shown"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("of lesson time (virtual) in "), "{stdout}");
    assert!(
        stdout.contains("\nverdict: deadlock: all workers are asleep\n"),
        "{stdout}"
    );
    let tail: Vec<&str> = lines[lines.len() - 4..].to_vec();
    assert!(
        tail[0].starts_with("schedule: ") && tail[0].ends_with(" steps, random seed 17"),
        "{stdout}"
    );
    let command = "chanlab run 1 --trap unclosed --items 8 --schedule 17";
    assert_eq!(tail[1], format!("  watch it live:   {command}"));
    assert_eq!(tail[2], format!("  print it again:  {command} --headless"));
    assert_eq!(
        tail[3],
        format!("  save it:         {command} --record FILE")
    );
    // The command it prints gives the same run.
    let again: Vec<&str> = tail[2]
        .strip_prefix("  print it again:  chanlab ")
        .expect("a command")
        .split(' ')
        .collect();
    let (second, _, code) = text(&chanlab(&again));
    assert_eq!(code, 1);
    assert_eq!(without_wall_time(&second), without_wall_time(&stdout));
}

#[test]
fn a_scheduled_run_with_a_speed_says_the_speed_is_not_used() {
    let (stdout, stderr, code) = text(&chanlab(&[
        "run",
        "1",
        "--schedule",
        "2",
        "--headless",
        "--speed",
        "5",
    ]));
    assert_eq!(code, 0, "{stdout}");
    assert_eq!(
        stderr,
        "note: --speed paces the live view; a scheduled --headless run is unpaced\n"
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
        (
            &["run", "1", "--items", "lots"],
            "--items takes a whole number from 2 to 100000 for lesson 01 pipeline (got `lots`)",
        ),
        (
            &["run", "1", "--items", "-1", "--headless"],
            "--items -1 is out of range for lesson 01 pipeline: allowed 2 to 100000",
        ),
        (
            &["run", "1", "--workers", "2.5", "--headless"],
            "--workers takes a whole number from",
        ),
        (
            &["run", "1", "--seed", "-1", "--headless"],
            "--seed takes a whole number from 0 to 2^64 - 1 (got `-1`)",
        ),
        (
            &["run", "999999999999999999999", "--headless"],
            "lesson numbers run from 1 to 10",
        ),
        (&["show", "-1"], "lesson numbers run from 1 to 10 (got -1)"),
        (
            &["run", "1", "--speed", "1e308", "--headless"],
            "speed 1e308 is out of range: allowed 0.1 to 100",
        ),
        (
            &["run", "1", "--speed", "-2", "--headless"],
            "speed -2 is out of range: allowed 0.1 to 100",
        ),
        (
            &["run", "1", "--speed", "nan", "--headless"],
            "`nan` is not a number: allowed 0.1 to 100",
        ),
        (
            &["run", "2", "--trap", "unclosed", "--headless"],
            "`unclosed` is a trap of lesson 01 pipeline (`chanlab run 1 --trap unclosed`), \
             not of lesson 02 fan-out-fan-in; lesson 02's variants are: correct (correct), \
             merge-never-closes (trap)",
        ),
        (&["completions", "tcsh"], "possible values: bash"),
        (&["frobnicate"], "unrecognized subcommand"),
    ];
    refused(cases);
}

/// Each case exits 2 with its message, short and without a clap tip that
/// then fails.
fn refused(cases: &[(&[&str], &str)]) {
    for (args, message) in cases {
        let (stdout, stderr, code) = text(&chanlab(args));
        assert_eq!(code, 2, "{args:?}: {stdout}{stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        // No clap tip that then fails, no 309-digit number.
        assert!(!stderr.contains("'-- "), "{args:?}: {stderr}");
        assert!(stderr.len() < 400, "{args:?}: {stderr}");
    }
}

#[test]
fn bad_schedule_input_says_what_would_be_right_and_exits_2() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["run", "1", "--schedule", "soon", "--headless"],
            "--schedule takes a whole number from 0 to 2^64 - 1 (got `soon`)",
        ),
        (
            &["run", "1", "--schedule", "-3", "--headless"],
            "--schedule takes a whole number from 0 to 2^64 - 1 (got `-3`)",
        ),
        (
            &[
                "run",
                "1",
                "--schedule",
                "1",
                "--strategy",
                "dfs",
                "--headless",
            ],
            "[possible values: random, pct]",
        ),
        (
            &["run", "1", "--strategy", "pct", "--headless"],
            "the following required arguments were not provided:\n  --schedule <SEED>",
        ),
        (
            &["run", "1", "--record", "x.chanlab", "--headless"],
            "--schedule <SEED>",
        ),
        (
            &["run", "1", "--schedule", "1", "--free"],
            "'--schedule <SEED>' cannot be used with '--free'",
        ),
        (
            &["replay", "no-such.chanlab", "--headless"],
            "cannot replay no-such.chanlab: cannot read it: there is no such file",
        ),
        (&["replay"], "<FILE>"),
    ];
    refused(cases);
}

#[test]
fn a_closed_pipe_stops_a_headless_run_at_once_and_quietly() {
    // 1000 items at speed 1 take over a minute; the reader leaves after a line.
    let started = Instant::now();
    let mut child = spawn(
        &["run", "1", "--items", "1000", "--speed", "1", "--headless"],
        Stdio::piped(),
    );
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout piped"));
    let mut first = String::new();
    stdout.read_line(&mut first).expect("a line");
    assert!(first.starts_with("lesson 01 pipeline"), "{first}");
    drop(stdout);
    let status = wait_at_most(&mut child, Duration::from_secs(10));
    let stderr = stderr_of(&mut child);
    // Cut short, so not shown to be clean: 1, and no message.
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert_eq!(stderr, "");
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn a_closed_pipe_is_no_error_for_list_and_stops_traps() {
    for (args, code) in [(&["list"][..], 0), (&["traps"][..], 1)] {
        let mut child = spawn(args, Stdio::piped());
        drop(child.stdout.take());
        let status = wait_at_most(&mut child, Duration::from_secs(30));
        let stderr = stderr_of(&mut child);
        assert_eq!(status.code(), Some(code), "{args:?}: {stderr}");
        assert_eq!(stderr, "", "{args:?}");
    }
}

#[cfg(target_os = "linux")]
#[test]
fn a_write_error_is_reported_and_exits_74() {
    let cases: &[&[&str]] = &[
        &["list"],
        &["show", "1"],
        &["run", "1", "--items", "1000", "--speed", "1", "--headless"],
        &["traps", "1"],
        &["completions", "bash"],
        &["man"],
        &["--help"],
    ];
    for args in cases {
        let full = std::fs::File::options()
            .write(true)
            .open("/dev/full")
            .expect("/dev/full opens");
        let mut child = spawn(args, Stdio::from(full));
        // The run stops at its first line: long before its minute is up.
        let status = wait_at_most(&mut child, Duration::from_secs(10));
        let stderr = stderr_of(&mut child);
        assert_eq!(status.code(), Some(74), "{args:?}: {stderr}");
        assert_eq!(
            stderr, "chanlab: could not write the output: No space left on device (os error 28)\n",
            "{args:?}"
        );
    }
}

#[test]
fn a_long_headless_run_prints_progress_at_most_once_a_second() {
    let started = Instant::now();
    let out = chanlab(&["run", "1", "--items", "40", "--speed", "1", "--headless"]);
    let wall = started.elapsed().as_secs_f64();
    let (stdout, stderr, code) = text(&out);
    assert_eq!(code, 0, "{stdout}");
    assert!(
        wall >= 2.5,
        "the run took {wall:.1}s: too short to show progress, raise --items"
    );
    let stamps: Vec<f64> = stdout
        .lines()
        .filter(|l| l.contains("  progress (sent/received): numbers "))
        .map(|l| {
            let at = l.trim_start().split('s').next().unwrap_or_default();
            at.parse().unwrap_or_else(|_| panic!("no time in {l:?}"))
        })
        .collect();
    assert!(!stamps.is_empty(), "{stdout}");
    assert!(stamps.len() as f64 <= wall + 1.0, "{stdout}");
    // At speed 1 lesson time is wall time: the lines are a second apart
    // (less a millisecond for the stamps' rounding).
    for pair in stamps.windows(2) {
        assert!(pair[1] - pair[0] >= 0.999, "{stdout}");
    }
    assert!(
        stdout.contains("through the channels (sent/received): numbers 40/40 · squares 40/40"),
        "{stdout}"
    );
    // No status line: stderr is not a terminal.
    assert_eq!(stderr, "");
}

#[test]
fn completions_for_each_shell() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let (stdout, stderr, code) = text(&chanlab(&["completions", shell]));
        assert_eq!(code, 0, "{shell}: {stderr}");
        assert!(stdout.contains("chanlab"), "{shell}: {stdout}");
        assert!(stdout.contains("traps"), "{shell}: {stdout}");
        assert!(stdout.contains("completions"), "{shell}: {stdout}");
        for new in [
            "replay",
            "hunt",
            "schedule",
            "strategy",
            "record",
            "schedules",
        ] {
            assert!(stdout.contains(new), "{shell}: {new}");
        }
    }
}

#[test]
fn man_prints_a_roff_page() {
    let (stdout, stderr, code) = text(&chanlab(&["man"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("\n.TH chanlab 1"), "{stdout}");
    assert!(stdout.contains("\n.SH NAME\nchanlab \\- "), "{stdout}");
    assert!(stdout.contains("traps"), "{stdout}");
    assert!(stdout.contains("chanlab\\-replay(1)"), "{stdout}");
    assert!(stdout.contains("chanlab\\-hunt(1)"), "{stdout}");
}

#[test]
fn without_a_terminal_the_live_view_points_to_headless() {
    let schedule = std::env::temp_dir().join(format!("chanlab-cli-{}.chanlab", std::process::id()));
    let file = schedule.to_str().expect("a UTF-8 temp path");
    let (_, _, code) = text(&chanlab(&[
        "run",
        "1",
        "--schedule",
        "4",
        "--headless",
        "--record",
        file,
        "--force",
    ]));
    assert_eq!(code, 0);
    let cases: [&[&str]; 5] = [
        &[],
        &["run", "1"],
        &["run", "1", "--schedule", "4"],
        &["run", "1", "--free"],
        &["replay", file],
    ];
    for args in cases {
        let (_, stderr, code) = text(&chanlab(args));
        assert_eq!(code, 2, "{args:?}");
        assert!(stderr.contains("--headless"), "{stderr}");
    }
    let (_, stderr, _) = text(&chanlab(&["replay", file]));
    assert!(
        stderr.contains(&format!(
            "use `chanlab replay {file} --headless` for its timeline"
        )),
        "{stderr}"
    );
    // Live --record without a terminal writes nothing.
    let other = format!("{file}.not-written");
    let (_, _, code) = text(&chanlab(&[
        "run",
        "1",
        "--schedule",
        "4",
        "--record",
        &other,
    ]));
    assert_eq!(code, 2);
    assert!(!std::path::Path::new(&other).exists());
    let _ = std::fs::remove_file(&schedule);
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
