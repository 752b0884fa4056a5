//! The `main` of each harness binary in a workbook: runs the exercise's
//! check on the learner's code and prints what it found.
//!
//! - no arguments: every case; exit 0 when all pass, 1 when one fails;
//! - `--case SPEC`: that one case, with the steps of its schedule (a replay);
//! - `--case SPEC --live`: that case in the live view, the run panel of
//!   chanlab's TUI, with its schedule loaded;
//! - `--result PATH`: also write the result there, for `chanlab watch` and
//!   `chanlab verify` (a few `key = value` lines).
//!
//! Bad arguments get a message and exit 2, like every chanlab command.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::process::ExitCode;

use super::check::{Case, Failure, Subject};
use super::exercises;

/// How many steps of a replayed schedule are shown (its last ones: the
/// moment it broke is at the end).
const STEPS_SHOWN: usize = 60;

/// What one harness run found, as written to `--result`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The exercise.
    pub exercise: u8,
    /// True when the check passed.
    pub passed: bool,
    /// The failure's kind (`deadlock`, `lost`, ...), when it failed.
    pub kind: Option<String>,
    /// The failing case, as `--case` reads it.
    pub case: Option<String>,
}

impl Outcome {
    fn render(&self) -> String {
        let mut s = format!(
            "exercise = {}\nresult = \"{}\"\n",
            self.exercise,
            if self.passed { "passed" } else { "failed" }
        );
        if let Some(kind) = &self.kind {
            let _ = writeln!(s, "kind = \"{kind}\"");
        }
        if let Some(case) = &self.case {
            let _ = writeln!(s, "case = \"{case}\"");
        }
        s
    }

    /// Reads what [`Self::render`] wrote.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        let mut outcome = Self {
            exercise: 0,
            passed: false,
            kind: None,
            case: None,
        };
        let mut seen_result = false;
        for line in text.lines() {
            let (k, v) = line.split_once('=')?;
            let v = v.trim().trim_matches('"').to_owned();
            match k.trim() {
                "exercise" => outcome.exercise = v.parse().ok()?,
                "result" => {
                    seen_result = true;
                    outcome.passed = v == "passed";
                }
                "kind" => outcome.kind = Some(v),
                "case" => outcome.case = Some(v),
                _ => {}
            }
        }
        seen_result.then_some(outcome)
    }
}

struct Args {
    case: Option<Case>,
    live: bool,
    result: Option<std::path::PathBuf>,
}

fn parse_args(args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut parsed = Args {
        case: None,
        live: false,
        result: None,
    };
    let mut args = args.peekable();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--case" => {
                let spec = args
                    .next()
                    .ok_or("--case needs a case, as a failing check prints it")?;
                parsed.case = Some(Case::parse(&spec)?);
            }
            "--live" => parsed.live = true,
            "--result" => {
                parsed.result = Some(args.next().ok_or("--result needs a file")?.into());
            }
            other => {
                return Err(format!(
                    "`{other}` is not an option here; the harness takes --case SPEC [--live] \
                     and --result FILE (`chanlab verify N` runs it for you)"
                ));
            }
        }
    }
    if parsed.live && parsed.case.is_none() {
        return Err("--live needs --case: which run to open".to_owned());
    }
    Ok(parsed)
}

/// Runs a harness: the check `subject`, with the learner's code in it.
#[must_use]
pub fn main(subject: Subject) -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            let _ = writeln!(io::stderr(), "error: {message}");
            return ExitCode::from(2);
        }
    };
    if let Some(case) = args.case {
        if usize::from(case.part) > subject.parts() {
            let _ = writeln!(
                io::stderr(),
                "error: exercise {} has parts 1 to {} (the case said part {})",
                subject.exercise,
                subject.parts(),
                case.part
            );
            return ExitCode::from(2);
        }
        if args.live {
            return super::live::open(&subject, case);
        }
        return replay(&subject, case, args.result.as_deref());
    }
    check_all(&subject, args.result.as_deref())
}

fn write_result(path: Option<&std::path::Path>, outcome: &Outcome) {
    if let Some(path) = path
        && let Err(e) = std::fs::write(path, outcome.render())
    {
        let _ = writeln!(
            io::stderr(),
            "chanlab: could not write the result to {}: {e}",
            path.display()
        );
    }
}

fn failed(exercise: u8, failure: &Failure) -> Outcome {
    Outcome {
        exercise,
        passed: false,
        kind: Some(failure.kind.to_owned()),
        case: Some(failure.case.spec()),
    }
}

fn check_all(subject: &Subject, result: Option<&std::path::Path>) -> ExitCode {
    let mut out = io::stdout().lock();
    let label = exercises::find(subject.exercise).map_or_else(
        || format!("exercise {}", subject.exercise),
        |e| format!("{} · `{}`", e.label(), e.writes),
    );
    let cases = subject.cases();
    let scheduled = cases.iter().filter(|c| c.mode.is_scheduled()).count();
    let _ = writeln!(
        out,
        "checking {label}: {} runs ({scheduled} under seeded schedules, {} free-running)",
        cases.len(),
        cases.len() - scheduled
    );
    let _ = out.flush();
    match subject.check() {
        Ok(passed) => {
            let _ = writeln!(
                out,
                "✓ passed: all {} runs held ({} scheduled, {} free)",
                passed.runs,
                passed.scheduled,
                passed.runs - passed.scheduled
            );
            write_result(
                result,
                &Outcome {
                    exercise: subject.exercise,
                    passed: true,
                    kind: None,
                    case: None,
                },
            );
            ExitCode::SUCCESS
        }
        Err(failure) => {
            let _ = writeln!(out, "{failure}");
            write_result(result, &failed(subject.exercise, &failure));
            ExitCode::from(1)
        }
    }
}

fn replay(subject: &Subject, case: Case, result: Option<&std::path::Path>) -> ExitCode {
    let mut out = io::stdout().lock();
    let _ = writeln!(
        out,
        "replaying exercise {}, {}",
        subject.exercise,
        case.describe()
    );
    let replayed = subject.replay(case);
    let (outcome, steps) = (replayed.result, replayed.steps);
    if !steps.is_empty() {
        let skip = steps.len().saturating_sub(STEPS_SHOWN);
        let _ = writeln!(
            out,
            "{} steps{}:",
            steps.len(),
            if skip > 0 {
                format!(", the last {STEPS_SHOWN}")
            } else {
                String::new()
            }
        );
        for (i, step) in steps.iter().enumerate().skip(skip) {
            let _ = writeln!(out, "  {:>5}  {step}", i + 1);
        }
    } else if !case.mode.is_scheduled() {
        let _ = writeln!(
            out,
            "(a free run has no steps to show: the OS picked the order)"
        );
    }
    match outcome {
        Ok(()) => {
            let _ = writeln!(out, "✓ this case held");
            write_result(
                result,
                &Outcome {
                    exercise: subject.exercise,
                    passed: true,
                    kind: None,
                    case: Some(case.spec()),
                },
            );
            ExitCode::SUCCESS
        }
        Err(failure) => {
            let _ = writeln!(out, "{failure}");
            write_result(result, &failed(subject.exercise, &failure));
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Outcome, parse_args};

    #[test]
    fn an_outcome_reads_back() {
        let outcome = Outcome {
            exercise: 3,
            passed: false,
            kind: Some("lost".to_owned()),
            case: Some("2:pct:1:w3:b2:n14".to_owned()),
        };
        assert_eq!(Outcome::parse(&outcome.render()), Some(outcome));
    }

    #[test]
    fn bad_arguments_say_what_is_allowed() {
        let args = |a: &[&str]| parse_args(a.iter().map(|s| (*s).to_owned())).err();
        assert!(args(&["--bogus"]).unwrap().contains("--case SPEC"));
        assert!(args(&["--live"]).unwrap().contains("needs --case"));
        assert!(
            args(&["--case", "zzz"])
                .unwrap()
                .contains("1:random:3:w2:b0:n12")
        );
        assert!(args(&["--case", "1:random:3:w2:b0:n12"]).is_none());
    }
}
