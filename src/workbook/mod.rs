//! Workbook mode: the learner writes each pattern, and the lab judges it.
//!
//! `chanlab init` writes a workbook crate with one exercise per lesson
//! ([`exercises`]); `chanlab watch` rebuilds and checks the current one
//! on every save; `chanlab verify` checks one or all without a terminal;
//! `hint`, `reset`, `progress` and `solution` do what they say.
//!
//! A check ([`check`]) runs the learner's code inside the lab, under
//! several schedule seeds, free-running, and several knob values; a
//! failing one names the learner's own worker and channel, the verdict,
//! and the schedule that breaks it. The exercises reach the lab, and the
//! check's side of each exercise ([`kit`]), as `chanlab::...`: the
//! workbook crate depends on this one.

pub mod check;
pub mod exercises;
pub mod harness;
pub mod init;
pub mod kit;
pub mod live;
pub mod progress;
pub mod runner;
pub mod watch;

use std::io::{self, BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;

use exercises::Exercise;
use progress::{Progress, Status};

/// The workbook's commands (flattened into `chanlab`'s).
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a workbook: one exercise per lesson for you to write, each
    /// checked by the lab.
    Init {
        /// Where (default: ./chanlab-workbook).
        dir: Option<PathBuf>,
        /// Write into an existing workbook (or a directory that is not
        /// empty), overwriting its exercises.
        #[arg(long)]
        force: bool,
    },
    /// Check the current exercise on every save; on a pass, move on.
    ///
    /// Keys: h hint, r watch the failing run live, t its steps, l list,
    /// q quit.
    Watch,
    /// Check one exercise, or all; exit 0 only if they pass (for CI and
    /// teachers).
    Verify {
        /// The exercise (`1`, `01`, `pipeline`); all when omitted.
        exercise: Option<String>,
        /// Replay one case of the check, as a failure names it, with the
        /// steps of its schedule.
        #[arg(long, value_name = "CASE", requires = "exercise")]
        case: Option<String>,
    },
    /// Print an exercise's hint.
    Hint {
        /// The exercise (`1`, `01`, `pipeline`).
        exercise: String,
    },
    /// Put an exercise back to its first version (asks first).
    Reset {
        /// The exercise (`1`, `01`, `pipeline`).
        exercise: String,
        /// Do not ask (for scripts).
        #[arg(long)]
        yes: bool,
    },
    /// Show which exercises pass.
    Progress,
    /// Print a solution of an exercise, once yours has passed.
    Solution {
        /// The exercise (`1`, `01`, `pipeline`).
        exercise: String,
    },
}

/// Runs a workbook command. `Err` is bad input (exit code 2).
pub fn dispatch(command: Command) -> Result<ExitCode, String> {
    match command {
        Command::Init { dir, force } => init(dir, force),
        Command::Watch => watch::watch(&workbook_here()?),
        Command::Verify { exercise, case } => verify(exercise.as_deref(), case.as_deref()),
        Command::Hint { exercise } => {
            let exercise = find_exercise(&exercise)?;
            say(&format!(
                "hint for exercise {} ({}):\n{}",
                exercise.label(),
                exercise.path(),
                wrap(exercise.hint, 78)
            ));
            Ok(ExitCode::SUCCESS)
        }
        Command::Reset { exercise, yes } => reset(&exercise, yes),
        Command::Progress => {
            let workbook = workbook_here()?;
            let progress = Progress::load(&workbook)?;
            say(&list(&progress));
            Ok(ExitCode::SUCCESS)
        }
        Command::Solution { exercise } => solution(&exercise),
    }
}

/// Prints `text` (and a newline) on stdout; a closed pipe is no error.
fn say(text: &str) {
    let mut out = io::stdout().lock();
    let _ = writeln!(out, "{text}");
    let _ = out.flush();
}

/// `text` wrapped at `width` columns, for hints.
#[must_use]
pub fn wrap(text: &str, width: usize) -> String {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines.join("\n")
}

/// The exercise named `name`: a number (`1`, `01`), a slug (`pipeline`)
/// or a file stem (`01_pipeline`).
pub fn find_exercise(name: &str) -> Result<&'static Exercise, String> {
    let wanted = name.trim().to_ascii_lowercase();
    let all = exercises::catalog();
    all.iter()
        .find(|e| {
            wanted.parse::<u8>().ok() == Some(e.number)
                || wanted == e.slug
                || wanted == format!("{:02}_{}", e.number, e.slug)
                || wanted == e.file()
        })
        .ok_or_else(|| {
            let names: Vec<String> = all.iter().map(Exercise::label).collect();
            format!(
                "no exercise called `{}`; the exercises are {} (by number or name)",
                name.trim(),
                names.join(", ")
            )
        })
}

/// The workbook around the current directory.
fn workbook_here() -> Result<PathBuf, String> {
    let here =
        std::env::current_dir().map_err(|e| format!("cannot tell the current directory: {e}"))?;
    progress::find_workbook(&here).ok_or_else(|| {
        format!(
            "{} is not inside a chanlab workbook (no {} here or above); run `chanlab init` to \
             make one, then `cd` into it",
            here.display(),
            progress::FILE
        )
    })
}

fn init(dir: Option<PathBuf>, force: bool) -> Result<ExitCode, String> {
    let dir = dir.unwrap_or_else(|| PathBuf::from(init::DEFAULT_DIR));
    let written = init::init(&dir, force)?;
    let first = exercises::catalog()
        .first()
        .map_or_else(String::new, Exercise::path);
    say(&format!(
        "wrote a chanlab workbook in {} ({} exercises; it depends on chanlab in {})\n\
         next:\n  cd {}\n  chanlab watch        (then open {first} and make its check pass)\n\
         the first check builds chanlab into the workbook: that takes a minute or two.",
        written.dir.display(),
        exercises::catalog().len(),
        written.chanlab.display(),
        written.dir.display(),
    ));
    Ok(ExitCode::SUCCESS)
}

/// `chanlab progress`: every exercise, whether it passed, and where watch is.
#[must_use]
pub fn list(progress: &Progress) -> String {
    let mut lines = Vec::new();
    for exercise in exercises::catalog() {
        let mark = match progress.status(exercise.number) {
            Status::Passed => "✓",
            Status::Pending => " ",
        };
        let here = if exercise.number == progress.current {
            "→"
        } else {
            " "
        };
        lines.push(format!(
            "{here} {mark} {}  {}",
            exercise.label(),
            exercise.title
        ));
    }
    lines.push(format!(
        "{} of {} passed",
        progress.passed(),
        exercises::catalog().len()
    ));
    lines.join("\n")
}

fn verify(name: Option<&str>, case: Option<&str>) -> Result<ExitCode, String> {
    let workbook = workbook_here()?;
    let mut progress = Progress::load(&workbook)?;
    let selected: Vec<&Exercise> = match name {
        Some(name) => vec![find_exercise(name)?],
        None => exercises::catalog().iter().collect(),
    };
    if let Some(case) = case {
        check::Case::parse(case)?;
    }
    let built = runner::build(&workbook, &selected)?;
    let mut failed = Vec::new();
    for exercise in &selected {
        let Some(exe) = built.harness(exercise) else {
            say(&format!(
                "✗ {}: {} does not compile (cargo's messages above)",
                exercise.label(),
                exercise.path()
            ));
            progress.set(exercise.number, Status::Pending);
            failed.push(exercise.label());
            continue;
        };
        let args: Vec<&str> = case.map(|c| vec!["--case", c]).unwrap_or_default();
        let (status, outcome) = runner::run(&workbook, exe, exercise, &args)?;
        if status.code() == Some(2) {
            return Err(format!(
                "the harness of exercise {} refused its arguments (above)",
                exercise.label()
            ));
        }
        let passed = status.success() && outcome.as_ref().is_some_and(|o| o.passed);
        if case.is_none() {
            progress.set(
                exercise.number,
                if passed {
                    Status::Passed
                } else {
                    Status::Pending
                },
            );
        }
        if !passed {
            failed.push(exercise.label());
        }
    }
    progress.save(&workbook)?;
    if selected.len() > 1 {
        say(&format!(
            "{} of {} exercises pass{}",
            selected.len() - failed.len(),
            selected.len(),
            if failed.is_empty() {
                String::new()
            } else {
                format!(" (failing: {})", failed.join(", "))
            }
        ));
    }
    Ok(if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn reset(name: &str, yes: bool) -> Result<ExitCode, String> {
    let workbook = workbook_here()?;
    let exercise = find_exercise(name)?;
    let path = workbook.join(exercise.path());
    if !yes {
        if !io::stdin().is_terminal() {
            return Err(format!(
                "reset asks before it overwrites {}, and there is no terminal to ask on; add \
                 --yes to reset without asking",
                exercise.path()
            ));
        }
        let mut out = io::stdout().lock();
        let _ = write!(
            out,
            "put {} back to its first version? your changes to it are lost [y/N] ",
            exercise.path()
        );
        let _ = out.flush();
        drop(out);
        let mut answer = String::new();
        let _ = io::stdin().lock().read_line(&mut answer);
        if !matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes") {
            say("left as it was");
            return Ok(ExitCode::SUCCESS);
        }
    }
    std::fs::write(&path, exercise.template)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    let mut progress = Progress::load(&workbook)?;
    progress.set(exercise.number, Status::Pending);
    progress.current = exercise.number;
    progress.save(&workbook)?;
    say(&format!("{} is back to its first version", exercise.path()));
    Ok(ExitCode::SUCCESS)
}

fn solution(name: &str) -> Result<ExitCode, String> {
    let exercise = find_exercise(name)?;
    let workbook = workbook_here()?;
    let progress = Progress::load(&workbook)?;
    if progress.status(exercise.number) != Status::Passed {
        return Err(format!(
            "exercise {} has not passed yet, and its solution opens once it has (`chanlab \
             verify {}`); stuck? `chanlab hint {}`",
            exercise.label(),
            exercise.number,
            exercise.number
        ));
    }
    say(exercise.solution.trim_end());
    Ok(ExitCode::SUCCESS)
}
