//! Schedule files: the format's checks (every way a file can be wrong gets
//! its line and its reason, never a panic), and `chanlab replay` giving
//! back, event for event, the run that was recorded.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use chanlab::lab::{Choice, Strategy, TIMEOUT_ARM};
use chanlab::lessons::{self, VariantKind};
use chanlab::recording::{FORMAT, Problem, Recording, seal};

fn chanlab(args: &[&str]) -> (String, String, i32) {
    let out: Output = Command::new(env!("CARGO_BIN_EXE_chanlab"))
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

/// A file in the system's temp directory, removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "chanlab-replay-test-{}-{name}.chanlab",
            std::process::id()
        ));
        let _ = std::fs::remove_file(&path);
        Self(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().expect("a UTF-8 temp path")
    }

    fn write(&self, bytes: impl AsRef<[u8]>) {
        std::fs::write(&self.0, bytes).expect("the temp file is written");
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A small recording of lesson 01's unclosed trap, written by the library.
fn sample() -> Recording {
    let lesson = lessons::find("1").unwrap();
    Recording {
        lesson,
        variant: lesson.variant("unclosed").unwrap(),
        knobs: lesson.defaults,
        strategy: Strategy::Random,
        seed: 17,
        choices: (0..45)
            .map(|i| Choice {
                worker: i % 6,
                arm: match i % 9 {
                    4 => 1,
                    8 => TIMEOUT_ARM,
                    _ => 0,
                },
            })
            .collect(),
        names: vec!["main".into(), "generate".into()],
    }
}

/// The parts of a headless run's output that a replay must print the same:
/// the timeline (from the first blank line to the channel totals, which
/// end with a wall time) and the outcome and verdict after the totals.
fn story(stdout: &str) -> String {
    let lines: Vec<&str> = stdout.lines().collect();
    let start = lines.iter().position(|l| l.is_empty()).expect("a header");
    let through = lines
        .iter()
        .position(|l| l.starts_with("through the channels"))
        .expect("the channel totals");
    let end = lines[through..]
        .iter()
        .position(|l| l.is_empty())
        .map_or(lines.len(), |i| through + i);
    let mut story = lines[start..through].join("\n");
    story.push('\n');
    story.push_str(&lines[through + 1..end].join("\n"));
    story
}

#[test]
fn smoke() {
    let text = sample().to_text();
    let back = Recording::parse(&text).expect("a file chanlab wrote reads back");
    assert_eq!(back.choices, sample().choices);
    assert!(
        text.starts_with(&format!("chanlab schedule {FORMAT}\n")),
        "{text}"
    );
}

#[test]
fn a_file_reads_back_as_written() {
    let lesson = lessons::find("2").unwrap();
    let recording = Recording {
        lesson,
        variant: lesson.variant("unordered").unwrap(),
        knobs: lessons::Knobs {
            items: 30,
            buffer: 0,
            workers: 5,
            seed: 99,
        },
        strategy: Strategy::Pct { depth: 3 },
        seed: u64::MAX,
        choices: sample().choices,
        names: Vec::new(),
    };
    let back = Recording::parse(&recording.to_text()).unwrap();
    assert_eq!(back.lesson.number, 2);
    assert_eq!(back.variant.name, "unordered");
    assert_eq!(back.knobs, recording.knobs);
    assert_eq!(back.strategy, Strategy::Pct { depth: 3 });
    assert_eq!(back.seed, u64::MAX);
    assert_eq!(back.choices, recording.choices);
    assert_eq!(back.schedule().prefix, recording.choices);
    // Line endings turned into CRLF (an editor, a mail) still check.
    let crlf = recording.to_text().replace('\n', "\r\n");
    assert_eq!(Recording::parse(&crlf).unwrap().choices, recording.choices);
}

#[test]
fn the_text_is_readable() {
    let text = sample().to_text();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.contains(&"# workers: 0 main · 1 generate"), "{text}");
    assert!(lines.contains(&"lesson 1 pipeline"), "{text}");
    assert!(lines.contains(&"variant unclosed"), "{text}");
    assert!(lines.contains(&"strategy random"), "{text}");
    assert!(lines.contains(&"steps 45"), "{text}");
    // Twenty steps a line, each line numbered by its first step.
    assert!(
        lines.contains(&"    1: 0 1 2 3 4.1 5 0 1 2.t 3 4 5 0 1.1 2 3 4 5.t 0 1"),
        "{text}"
    );
    assert!(lines.iter().any(|l| l.starts_with("   21: ")), "{text}");
    assert!(lines.iter().any(|l| l.starts_with("   41: ")), "{text}");
    assert!(
        lines[lines.len() - 1].starts_with("checksum fnv1a64 "),
        "{text}"
    );
}

/// `text` without its checksum line, to be sealed again after an edit.
fn without_checksum(text: &str) -> String {
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with("checksum"))
        .collect();
    lines.join("\n")
}

/// Parses `text`, expecting `problem`, on `line` when given, with every
/// piece of `words` in the message.
fn refused(text: &str, problem: Problem, line: Option<usize>, words: &[&str]) -> String {
    let e = Recording::parse(text).expect_err("the file is refused");
    assert_eq!(e.problem, problem, "{e}\n{text}");
    if line.is_some() {
        assert_eq!(e.line, line, "{e}");
    }
    let shown = e.to_string();
    for w in words {
        assert!(shown.contains(w), "{w:?} not in: {shown}");
    }
    shown
}

#[test]
fn a_foreign_file_is_refused_on_line_1() {
    let shown = refused(
        "# Pipeline\n\nSome notes.\n",
        Problem::Foreign,
        Some(1),
        &[
            "not a chanlab schedule file",
            "`chanlab schedule 1`",
            "--record",
        ],
    );
    assert!(shown.starts_with("line 1: "), "{shown}");
}

#[test]
fn a_newer_format_says_so() {
    let text = sample()
        .to_text()
        .replacen("chanlab schedule 1", "chanlab schedule 2", 1);
    refused(
        &text,
        Problem::Newer,
        Some(1),
        &["written by a newer chanlab: format 2, this one reads 1"],
    );
    // A version that is no number is not "newer": the line was changed.
    let text = sample()
        .to_text()
        .replacen("chanlab schedule 1", "chanlab schedule one", 1);
    refused(
        &text,
        Problem::Edited,
        Some(1),
        &["should be `chanlab schedule 1`"],
    );
}

#[test]
fn a_file_cut_short_anywhere_is_truncated() {
    let text = sample().to_text();
    // Every cut: mid-line, at a line end, inside the checksum line.
    for cut in 0..text.len() - 1 {
        if !text.is_char_boundary(cut) {
            continue;
        }
        let e = Recording::parse(&text[..cut]).expect_err("a cut file is refused");
        assert_eq!(e.problem, Problem::Truncated, "cut at {cut}: {e}");
        assert!(
            e.to_string().contains("cut short") || e.to_string().contains("empty"),
            "{e}"
        );
    }
    // Without its final newline the file is whole.
    assert!(Recording::parse(&text[..text.len() - 1]).is_ok());
}

#[test]
fn a_cut_inside_the_choices_says_how_many_steps_it_kept() {
    let text = sample().to_text();
    let cut = text.find("   41: ").unwrap();
    refused(
        &text[..cut],
        Problem::Truncated,
        None,
        &[
            "inside the choices, after 40 of the 45 steps it announces",
            "record it again",
        ],
    );
}

#[test]
fn fewer_steps_than_announced_is_truncated() {
    let text = sample().to_text();
    let body = without_checksum(&text)
        .lines()
        .filter(|l| !l.starts_with("   41: "))
        .collect::<Vec<_>>()
        .join("\n");
    refused(
        &seal(&body),
        Problem::Truncated,
        None,
        &["announces 45 steps but lists 40"],
    );
}

#[test]
fn an_edited_step_fails_the_checksum() {
    let text = sample().to_text();
    let edited = text.replacen("    1: 0 1 2", "    1: 0 1 1", 1);
    let checksum_line = edited.lines().count();
    refused(
        &edited,
        Problem::Edited,
        Some(checksum_line),
        &["checksum does not match", "changed after chanlab wrote it"],
    );
    // An edited comment counts too: the checksum covers every line.
    let edited = text.replacen("# workers: 0 main", "# workers: 0 boss", 1);
    refused(&edited, Problem::Edited, None, &["checksum does not match"]);
}

#[test]
fn a_bad_token_is_named_with_its_line_and_step() {
    let text = sample().to_text();
    let line = text.lines().position(|l| l.starts_with("   21: ")).unwrap() + 1;
    let edited = text.replacen("   21: 2", "   21: x", 1);
    refused(
        &edited,
        Problem::Edited,
        Some(line),
        &[
            "step 21: `x` is not a step",
            "the checksum does not match either",
        ],
    );
    // With a checksum that matches (made for it), the token alone is the problem.
    let body = without_checksum(&edited);
    let shown = refused(
        &seal(&body),
        Problem::Edited,
        Some(line),
        &["`x` is not a step"],
    );
    assert!(!shown.contains("checksum"), "{shown}");
}

#[test]
fn lines_out_of_place_are_named() {
    let body = "chanlab schedule 1\nvariant unclosed\n";
    refused(
        &seal(body),
        Problem::Edited,
        Some(2),
        &["expected the `lesson` line (`lesson NUMBER SLUG`), found `variant unclosed`"],
    );
    let text = sample().to_text();
    let renumbered = text.replacen("   21: ", "   22: ", 1);
    let body = without_checksum(&renumbered);
    refused(
        &seal(&body),
        Problem::Edited,
        None,
        &["starts at step 22, but 20 steps came before it"],
    );
    let after = format!("{text}more\n");
    refused(
        &after,
        Problem::Edited,
        None,
        &["text after the checksum line"],
    );
}

/// The sample's text with `from` replaced by `to` and a checksum made for it.
fn resealed(from: &str, to: &str) -> String {
    let text = sample().to_text();
    assert!(text.contains(from), "{from:?} not in the sample");
    seal(&without_checksum(&text.replacen(from, to, 1)))
}

#[test]
fn an_unknown_lesson_or_variant_is_refused() {
    refused(
        &resealed("lesson 1 pipeline", "lesson 99 pipeline"),
        Problem::UnknownLesson,
        Some(4),
        &["no lesson 99 in this chanlab (it has lessons 1 to 10)"],
    );
    refused(
        &resealed("lesson 1 pipeline", "lesson 1 fan-out-fan-in"),
        Problem::UnknownLesson,
        Some(4),
        &["lesson 1 is `fan-out-fan-in`, but here lesson 1 is `pipeline`"],
    );
    refused(
        &resealed("variant unclosed", "variant spare-sender"),
        Problem::UnknownVariant,
        Some(5),
        &["lesson 01 pipeline has no variant `spare-sender` (it has: correct, unclosed"],
    );
}

#[test]
fn knobs_outside_the_lessons_ranges_are_refused() {
    let lesson = lessons::find("1").unwrap();
    let mut recording = sample();
    recording.knobs.buffer = lesson.ranges.buffer.end() + 1;
    let text = recording.to_text();
    refused(
        &text,
        Problem::KnobOutOfRange,
        Some(6),
        &["buffer 1025 is out of range for lesson 01 pipeline: allowed 0 to 1024"],
    );
    refused(
        &resealed("knobs items 20", "knobs items 0"),
        Problem::KnobOutOfRange,
        Some(6),
        &["items 0 is out of range for lesson 01 pipeline: allowed 2 to"],
    );
    refused(
        &resealed("knobs items 20", "knobs items -3"),
        Problem::Edited,
        Some(6),
        &["items should be a whole number, found `-3`"],
    );
    refused(
        &resealed("strategy random", "strategy dfs"),
        Problem::Edited,
        Some(7),
        &["the strategy should be `random`, `pct depth D` or `manual`"],
    );
}

#[test]
fn nothing_a_file_holds_makes_the_reader_panic() {
    // Each line dropped, doubled or emptied; odd bytes put in.
    let text = sample().to_text();
    let lines: Vec<&str> = text.lines().collect();
    for i in 0..lines.len() {
        for change in 0..4 {
            let mut edited: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
            match change {
                0 => {
                    edited.remove(i);
                }
                1 => edited.insert(i, lines[i].to_owned()),
                2 => edited[i] = String::new(),
                _ => edited[i] = format!("{}\u{0}é…{}", lines[i], u64::MAX),
            }
            let edited = edited.join("\n");
            let _ = Recording::parse(&edited);
            let _ = Recording::parse(&seal(&edited));
        }
    }
}

#[test]
fn every_trap_replays_to_the_same_timeline() {
    for lesson in lessons::catalog() {
        for trap in lesson
            .variants
            .iter()
            .filter(|v| v.kind == VariantKind::Trap)
        {
            let file = TempFile::new(&format!("{}-{}", lesson.number, trap.name));
            let number = lesson.number.to_string();
            let (recorded, stderr, code) = chanlab(&[
                "run",
                &number,
                "--trap",
                trap.name,
                "--schedule",
                "17",
                "--headless",
                "--record",
                file.path(),
            ]);
            let what = format!("lesson {number} {}", trap.name);
            assert!(code == 0 || code == 1, "{what}: {code}\n{recorded}{stderr}");
            assert!(
                recorded.contains("mode: scheduled, random seed 17"),
                "{what}: {recorded}"
            );
            let (replayed, stderr, again) = chanlab(&["replay", file.path(), "--headless"]);
            assert_eq!(again, code, "{what}: {replayed}{stderr}");
            assert_eq!(stderr, "", "{what}");
            assert_eq!(story(&replayed), story(&recorded), "{what}");
            let steps = Recording::read(Path::new(file.path()))
                .unwrap()
                .choices
                .len();
            assert!(
                replayed.contains(&format!("replay: all {steps} steps ran as recorded")),
                "{what}: {replayed}"
            );
            assert!(
                recorded.contains(&format!("schedule: {steps} steps, random seed 17")),
                "{what}: {recorded}"
            );
        }
    }
}

#[test]
fn record_refuses_to_write_over_a_file_unless_forced() {
    let file = TempFile::new("exists");
    file.write("my notes\n");
    let args = [
        "run",
        "1",
        "--schedule",
        "3",
        "--headless",
        "--record",
        file.path(),
    ];
    let (stdout, stderr, code) = chanlab(&args);
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(
        stderr.contains("already exists; add --force to write over it"),
        "{stderr}"
    );
    assert_eq!(stdout, "", "refused before the run");
    assert_eq!(std::fs::read_to_string(&file.0).unwrap(), "my notes\n");
    let mut forced = args.to_vec();
    forced.push("--force");
    let (stdout, _, code) = chanlab(&forced);
    assert_eq!(code, 0, "{stdout}");
    let recording = Recording::read(&file.0).unwrap();
    assert_eq!((recording.seed, recording.strategy), (3, Strategy::Random));
}

#[test]
fn a_pct_run_with_other_knobs_replays_too() {
    let file = TempFile::new("pct");
    let (recorded, _, code) = chanlab(&[
        "run",
        "2",
        "--trap",
        "unordered",
        "--items",
        "9",
        "--buffer",
        "0",
        "--schedule",
        "5",
        "--strategy",
        "pct",
        "--headless",
        "--record",
        file.path(),
    ]);
    assert_eq!(code, 1, "{recorded}");
    assert!(
        recorded.contains("mode: scheduled, pct seed 5"),
        "{recorded}"
    );
    assert!(
        recorded.contains(
            "watch it live:   chanlab run 2 --trap unordered --items 9 --buffer 0 --schedule 5 --strategy pct"
        ),
        "{recorded}"
    );
    let text = std::fs::read_to_string(&file.0).unwrap();
    assert!(text.contains("\nstrategy pct depth 3\n"), "{text}");
    assert!(
        text.contains("\nknobs items 9 buffer 0 workers 3 seed 1\n"),
        "{text}"
    );
    let (replayed, _, again) = chanlab(&["replay", file.path(), "--headless"]);
    assert_eq!(again, 1, "{replayed}");
    assert_eq!(story(&replayed), story(&recorded));
}

#[test]
fn a_bad_file_exits_2_with_its_reason() {
    let good = sample().to_text();
    let cut = good.find("   21: ").unwrap();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "foreign",
            b"hello\n".to_vec(),
            "line 1: not a chanlab schedule file",
        ),
        ("binary", vec![0xff, 0xfe, 0, 1, 2], "it is not text"),
        ("empty", Vec::new(), "the file is empty"),
        (
            "newer",
            good.replacen("schedule 1", "schedule 2", 1).into_bytes(),
            "written by a newer chanlab: format 2, this one reads 1",
        ),
        (
            "cut",
            good.as_bytes()[..cut].to_vec(),
            "cut short: it ends at line 11 inside the choices, after 20 of the 45 steps",
        ),
        (
            "edited",
            good.replacen("seed 17", "seed 18", 1).into_bytes(),
            "the checksum does not match",
        ),
        (
            "lesson",
            resealed("lesson 1 pipeline", "lesson 11 pipeline").into_bytes(),
            "line 4: no lesson 11 in this chanlab",
        ),
        (
            "variant",
            resealed("variant unclosed", "variant nope").into_bytes(),
            "line 5: lesson 01 pipeline has no variant `nope`",
        ),
        (
            "knobs",
            resealed("workers 2", "workers 999").into_bytes(),
            "line 6: workers 999 is out of range for lesson 01 pipeline",
        ),
    ];
    for (name, bytes, message) in cases {
        let file = TempFile::new(name);
        file.write(&bytes);
        for headless in [true, false] {
            let mut args = vec!["replay", file.path()];
            if headless {
                args.push("--headless");
            }
            let (stdout, stderr, code) = chanlab(&args);
            assert_eq!(code, 2, "{name}: {stdout}{stderr}");
            assert_eq!(stdout, "", "{name}");
            assert!(
                stderr.starts_with("error: cannot replay "),
                "{name}: {stderr}"
            );
            assert!(stderr.contains(message), "{name}: {stderr}");
            assert!(!stderr.contains("panicked"), "{name}: {stderr}");
        }
    }
    let (_, stderr, code) = chanlab(&["replay", "/no/such/file.chanlab", "--headless"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("cannot read it: there is no such file"),
        "{stderr}"
    );
}

#[test]
fn a_schedule_that_does_not_fit_the_lesson_exits_2_naming_the_step() {
    // A whole, checked file whose picks this lesson cannot make: worker 5
    // does not exist at the first step.
    let mut recording = sample();
    recording.choices = vec![Choice::worker(5); 3];
    let file = TempFile::new("diverges");
    file.write(recording.to_text());
    let (stdout, stderr, code) = chanlab(&["replay", file.path(), "--headless"]);
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(
        stderr.contains(
            "does not replay on this chanlab: at step 1: the recorded pick 5 cannot run here"
        ),
        "{stderr}"
    );
    assert!(
        stdout.contains("does not replay here: at step 1"),
        "{stdout}"
    );
}
