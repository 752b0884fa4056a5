//! The command line: `list`, `show`, `run`, `traps`. Parsing is clap's;
//! everything a user can get wrong gets a message that says what was wrong
//! and what would be right, and exit code 2.

use std::fmt::Write as _;
use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::lab::{Config, EventKind, Report};
use crate::lessons::{self, Expect, Knobs, Lesson, Outcome, Variant, VariantKind};

/// An interactive concurrency workbook: channel patterns, their classic
/// traps, and a live view of every worker and channel.
///
/// With no command, opens the workbook in the terminal.
#[derive(Debug, Parser)]
#[command(name = "chanlab", version, propagate_version = true)]
pub struct Cli {
    /// What to do (default: open the workbook).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the lessons: number, pattern, traps.
    List,
    /// Print a lesson's text.
    Show {
        /// Lesson number (`1`, `01`) or name (`pipeline`).
        lesson: String,
    },
    /// Run a lesson: live in the terminal, or as a plain timeline with --headless.
    Run(RunArgs),
    /// Run every trap and its fix: what broke, and how the fix holds.
    Traps {
        /// Only this lesson (number or name); all lessons when omitted.
        lesson: Option<String>,
    },
}

/// Options of `chanlab run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Lesson number (`1`, `01`) or name (`pipeline`).
    pub lesson: String,
    /// Run a trap (or a fix) instead of the correct variant; `chanlab traps` lists them.
    #[arg(long, value_name = "NAME")]
    pub trap: Option<String>,
    /// How many items flow through (jobs, requests, messages).
    #[arg(long, value_name = "N")]
    pub items: Option<u64>,
    /// Buffer size of the lesson's channels (0 = rendezvous).
    #[arg(long, value_name = "N")]
    pub buffer: Option<usize>,
    /// Workers in the parallel stage (subscribers for broadcast).
    #[arg(long, value_name = "N")]
    pub workers: Option<usize>,
    /// Seed for the simulated work's durations.
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,
    /// Speed factor for simulated work and timers, 0.1 to 100.
    #[arg(long, value_name = "X", default_value_t = 1.0, value_parser = parse_speed)]
    pub speed: f64,
    /// Print a plain timeline and the verdict instead of the live view
    /// (for pipes, CI and screen readers).
    #[arg(long)]
    pub headless: bool,
}

/// The live view's top speed (its `+` key stops there).
const LIVE_MAX_SPEED: f64 = 10.0;

fn parse_speed(s: &str) -> Result<f64, String> {
    let x: f64 = s
        .parse()
        .map_err(|_| format!("`{s}` is not a number (try 0.5, 1 or 10)"))?;
    if (0.1..=100.0).contains(&x) {
        Ok(x)
    } else {
        Err(format!("speed {x} is out of range: allowed 0.1 to 100"))
    }
}

/// What went wrong with the user's input (exit code 2).
#[derive(Debug)]
pub struct InputError(pub String);

/// Parses the arguments and runs the command.
#[must_use]
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
    match dispatch(cli) {
        Ok(code) => code,
        Err(InputError(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

// Stdout is locked only where this thread prints: the live view must not
// run under the lock, or a panic hook on another thread (restoring the
// terminal) would wait for it forever.
fn dispatch(cli: Cli) -> Result<ExitCode, InputError> {
    match cli.command {
        None => open_workbook(None, None, None, 1.0),
        Some(Command::List) => {
            let _ = io::stdout().lock().write_all(list().as_bytes());
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Show { lesson }) => {
            let lesson = find_lesson(&lesson)?;
            let _ = writeln!(io::stdout().lock(), "{}", lesson.text().trim_end());
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Run(args)) => run(&args),
        Some(Command::Traps { lesson }) => {
            let lessons: Vec<&'static Lesson> = match lesson {
                Some(name) => vec![find_lesson(&name)?],
                None => lessons::catalog().to_vec(),
            };
            Ok(traps(&lessons, &mut io::stdout().lock()))
        }
    }
}

fn find_lesson(name: &str) -> Result<&'static Lesson, InputError> {
    lessons::find(name).map_err(|e| InputError(e.to_string()))
}

/// The lesson table printed by `chanlab list`.
#[must_use]
pub fn list() -> String {
    let mut s = String::new();
    for l in lessons::catalog() {
        let traps: Vec<&str> = l.traps().map(|v| v.name).collect();
        let _ = writeln!(s, "{:02}  {:<16} {}", l.number, l.slug, l.summary);
        let _ = writeln!(s, "    traps: {}", traps.join(", "));
    }
    let _ = writeln!(
        s,
        "\n`chanlab show N` prints a lesson; `chanlab run N [--trap NAME]` runs it."
    );
    s
}

fn variant_of(lesson: &'static Lesson, name: Option<&str>) -> Result<&'static Variant, InputError> {
    let Some(name) = name else {
        return Ok(lesson.correct());
    };
    lesson.variant(name).ok_or_else(|| {
        let names: Vec<String> = lesson
            .variants
            .iter()
            .map(|v| format!("{} ({})", v.name, v.kind.label()))
            .collect();
        let close = lesson
            .variants
            .iter()
            .map(|v| {
                (
                    strsim::jaro_winkler(&name.to_ascii_lowercase(), v.name),
                    v.name,
                )
            })
            .filter(|(score, _)| *score > 0.8)
            .max_by(|a, b| a.0.total_cmp(&b.0));
        let hint = close.map_or(String::new(), |(_, n)| format!("did you mean `{n}`? "));
        InputError(format!(
            "lesson {} has no variant `{name}`; {hint}valid: {}",
            lesson.label(),
            names.join(", ")
        ))
    })
}

fn check_range<T: PartialOrd + std::fmt::Display + Copy>(
    flag: &str,
    value: Option<T>,
    range: &std::ops::RangeInclusive<T>,
    default: T,
    lesson: &Lesson,
) -> Result<T, InputError> {
    match value {
        None => Ok(default),
        Some(v) if range.contains(&v) => Ok(v),
        Some(v) => Err(InputError(format!(
            "--{flag} {v} is out of range for lesson {}: allowed {} to {}",
            lesson.label(),
            range.start(),
            range.end()
        ))),
    }
}

/// The knobs from the flags, checked against the lesson's ranges.
pub fn knobs_for(lesson: &Lesson, args: &RunArgs) -> Result<Knobs, InputError> {
    let d = lesson.defaults;
    let r = &lesson.ranges;
    Ok(Knobs {
        items: check_range("items", args.items, &r.items, d.items, lesson)?,
        buffer: check_range("buffer", args.buffer, &r.buffer, d.buffer, lesson)?,
        workers: check_range("workers", args.workers, &r.workers, d.workers, lesson)?,
        seed: args.seed.unwrap_or(d.seed),
    })
}

fn run(args: &RunArgs) -> Result<ExitCode, InputError> {
    let lesson = find_lesson(&args.lesson)?;
    let variant = variant_of(lesson, args.trap.as_deref())?;
    let knobs = knobs_for(lesson, args)?;
    if !args.headless {
        if args.speed > LIVE_MAX_SPEED {
            return Err(InputError(format!(
                "--speed {} is faster than the live view plays (0.1 to {LIVE_MAX_SPEED}); \
                 add --headless to run at up to 100",
                args.speed
            )));
        }
        return open_workbook(Some(lesson), Some(variant), Some(knobs), args.speed);
    }
    let config = Config {
        speed: args.speed,
        events: 1 << 16,
        ..Config::default()
    };
    let mut out = io::stdout().lock();
    Ok(headless(lesson, variant, knobs, config, &mut out))
}

fn open_workbook(
    lesson: Option<&'static Lesson>,
    variant: Option<&'static Variant>,
    knobs: Option<Knobs>,
    speed: f64,
) -> Result<ExitCode, InputError> {
    if !io::stdout().is_terminal() || !io::stdin().is_terminal() {
        return Err(InputError(
            "the live view needs a terminal, and this is not one; \
             use `chanlab run N --headless` for a plain timeline, or `chanlab list`"
                .to_owned(),
        ));
    }
    if let Some(why) = crate::tui::terminal_refusal(std::env::var_os("TERM").as_deref()) {
        return Err(InputError(why));
    }
    crate::tui::run(crate::tui::Launch {
        lesson,
        variant,
        knobs,
        speed,
    })
    .map(|exit| ExitCode::from(exit.code()))
    .or_else(|e| {
        eprintln!("error: the live view failed: {e}");
        Ok(ExitCode::from(1))
    })
}

/// Events worth a line in the timeline (a blocked send on a full buffer is
/// ordinary back-pressure, not news).
fn notable(kind: &EventKind) -> bool {
    !matches!(kind, EventKind::Blocked { .. })
}

/// Runs one variant and prints its timeline and verdict; exit 0 when the
/// run is clean, 1 when it broke.
pub fn headless(
    lesson: &'static Lesson,
    variant: &'static Variant,
    knobs: Knobs,
    config: Config,
    out: &mut dyn Write,
) -> ExitCode {
    let _ = writeln!(
        out,
        "lesson {} — {} ({}): {}",
        lesson.label(),
        variant.name,
        variant.kind.label(),
        variant.summary
    );
    let _ = writeln!(
        out,
        "knobs: items {}, buffer {}, workers {}, seed {}, speed {}x",
        knobs.items, knobs.buffer, knobs.workers, knobs.seed, config.speed
    );
    let hidden = lesson.hidden(variant, &knobs);
    if let Some(why) = &hidden {
        let _ = writeln!(out, "trap hidden: {why}");
    }
    let _ = writeln!(out);
    let run = lesson.start(variant, knobs, config);
    let mut next = 0;
    let mut cleanup = 0u64;
    let mut print_events = |out: &mut dyn Write, lab: &crate::lab::Lab| {
        let batch = lab.events_since(next);
        if batch.skipped > 0 {
            let _ = writeln!(out, "          … {} events not shown", batch.skipped);
        }
        for e in batch.events {
            next = e.seq + 1;
            // The abort's teardown is not part of the story: count it, say so once.
            if e.cleanup {
                cleanup += 1;
            } else if notable(&e.kind) {
                let _ = writeln!(out, "{e}");
            }
        }
    };
    while !run.is_finished() {
        print_events(out, run.lab());
        std::thread::sleep(Duration::from_millis(20));
    }
    let lab = run.lab().clone();
    let report = run.wait();
    print_events(out, &lab);
    if cleanup > 0 {
        let _ = writeln!(
            out,
            "          … then the lab's cleanup: the run was aborted, {cleanup} teardown \
             events (workers woken, channels closed by the abort) not shown"
        );
    }
    let _ = writeln!(out);
    let broken = summarize(&report, hidden.as_deref(), out);
    if broken {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Prints the outcome and the verdict; true when the run broke. `hidden`:
/// why the knobs hide the trap that ran, if they do.
fn summarize(report: &Report<Outcome>, hidden: Option<&str>, out: &mut dyn Write) -> bool {
    let mut broken = false;
    match &report.outcome {
        Some(o) => {
            let _ = writeln!(out, "outcome: {o}");
            for chosen in &o.by_design {
                let _ = writeln!(out, "  by design: {chosen}");
            }
            for n in &o.notes {
                let _ = writeln!(out, "  note: {n}");
            }
            for p in &o.problems {
                let _ = writeln!(out, "  broken: {p}");
                broken = true;
            }
        }
        None => {
            let _ = writeln!(out, "outcome: none (main did not return)");
        }
    }
    if let Some(v) = &report.verdict {
        broken = true;
        let _ = writeln!(out, "verdict: {}", v.headline());
        for line in v.dump() {
            let _ = writeln!(out, "  {line}");
        }
    } else if !broken {
        let held = report.outcome.as_ref().is_some_and(Outcome::held_by_design);
        let how = if held { ", held as designed" } else { "" };
        let _ = writeln!(out, "verdict: no deadlock, no leak{how}");
        if let Some(why) = hidden {
            let _ = writeln!(out, "  the trap did not show: {why}");
        }
    }
    if !report.unstoppable.is_empty() {
        broken = true;
        let _ = writeln!(
            out,
            "unstoppable: {} kept running after the abort and were left behind",
            report.unstoppable.join(", ")
        );
    }
    broken
}

/// One line for a run: the verdict's headline and dump, or the outcome.
fn what_happened(report: &Report<Outcome>) -> String {
    if let Some(v) = &report.verdict {
        return v.to_string();
    }
    match &report.outcome {
        Some(o) if o.is_broken() => format!("{o} — {}", o.problems.join("; ")),
        Some(o) => format!("no verdict; {o}"),
        None => "main did not return".to_owned(),
    }
}

/// `chanlab traps`: runs every trap and its fix; exit 1 if any trap did not
/// break or any fix did not hold.
fn traps(lessons: &[&'static Lesson], out: &mut dyn Write) -> ExitCode {
    let config = Config {
        speed: 50.0,
        ..Config::default()
    };
    let mut all_as_expected = true;
    for lesson in lessons {
        let _ = writeln!(out, "{} — {}", lesson.label(), lesson.title);
        for trap in lesson.traps() {
            let report = lesson.run(trap, lesson.defaults, config.clone());
            let ok = lessons::meets_expectation(trap, &report);
            all_as_expected &= ok;
            let expect = match trap.expect {
                Expect::Verdict(kind) => kind,
                Expect::Broken => "a broken outcome",
                Expect::Clean => "a clean run",
            };
            let _ = writeln!(out, "  trap `{}`: {}", trap.name, trap.summary);
            let _ = writeln!(out, "    why: {}", trap.explains);
            let mark = if ok {
                "broke as expected"
            } else {
                "DID NOT BREAK as expected"
            };
            let _ = writeln!(out, "    {mark} ({expect}): {}", what_happened(&report));
            if let Some(fix) = trap.fixed_by.and_then(|f| lesson.variant(f)) {
                let report = lesson.run(fix, lesson.defaults, config.clone());
                let holds = lessons::meets_expectation(fix, &report);
                all_as_expected &= holds;
                let label = if fix.kind == VariantKind::Correct {
                    "the correct variant"
                } else {
                    "fix"
                };
                let mark = if holds { "holds" } else { "DOES NOT HOLD" };
                let _ = writeln!(
                    out,
                    "    {label} `{}` {mark}: {} — {}",
                    fix.name,
                    fix.explains,
                    what_happened(&report)
                );
            }
        }
        let _ = writeln!(out);
    }
    if all_as_expected {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }
}
