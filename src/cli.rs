//! The command line: `list`, `show`, `run`, `traps`, `completions`, `man`.
//! Parsing is clap's; everything a user can get wrong gets a message that
//! says what was wrong and what would be right, and exit code 2.
//!
//! Output goes through one writer, [`Out`], that keeps the first write
//! error: a closed pipe (`chanlab run 1 --headless | head -1`) stops the
//! command quietly, any other write error (`chanlab list > /dev/full`) is
//! reported and exits [`EXIT_WRITE_FAILED`].

use std::fmt::{self, Write as _};
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::hunt::{self, HuntReport};
use crate::lab::{
    ChannelKind, Config, EventKind, Lab, Report, Schedule, Snapshot, Strategy, Trace, stage_of,
};
use crate::lessons::{self, Expect, Knobs, Lesson, Outcome, Variant, VariantKind};
use crate::recording::Recording;
use crate::tui::Launch;

/// Exit code when the output could not be written (disk full, a closed
/// file): 74, `EX_IOERR` of BSD's sysexits.h, so a script can tell it from
/// a verdict (1) and from bad input (2).
pub const EXIT_WRITE_FAILED: u8 = 74;

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
    /// List the lessons: number, pattern, each trap and its fix.
    List,
    /// Print a lesson's text.
    Show {
        /// Lesson number (`1`, `01`) or name (`pipeline`).
        #[arg(allow_negative_numbers = true)]
        lesson: String,
    },
    /// Run a lesson: live in the terminal, or as a plain timeline with --headless.
    ///
    /// Free-running, every worker is a real OS thread and the OS picks the
    /// interleaving (a different one each run). Scheduled (--schedule SEED),
    /// one worker runs at a time and a strategy seeded with SEED picks the
    /// next, on virtual time: the same seed gives the same run, event for
    /// event, and --record saves it for `chanlab replay`.
    ///
    /// Exit status with --headless: 0 the run held, 1 it broke (a verdict
    /// or a broken outcome, or the output was cut short), 2 bad input.
    Run(RunArgs),
    /// Replay a schedule file (from `run --record`) step for step: live, or
    /// as a timeline with --headless.
    ///
    /// With --headless the timeline is the one `run --schedule` printed,
    /// and every recorded step is checked to run as recorded.
    ///
    /// Exit status with --headless: 0 the run held, 1 it broke (as when it
    /// was recorded); 2 the file could not be read (missing, cut short,
    /// edited, foreign, from a newer chanlab, naming a lesson or knobs this
    /// chanlab does not have) or it does not replay here (the run went
    /// another way at some step).
    Replay(ReplayArgs),
    /// Hunt the schedule that breaks a lesson variant: run it under many
    /// seeded schedules and count how each ended.
    ///
    /// Each schedule is a scheduled, unpaced run (milliseconds each). Prints
    /// how many runs ended in each way (held, deadlock, leak, order broken,
    /// items lost, ...), the first failing seed, the shortest failing
    /// schedule as a table with a column per worker, and the command that
    /// replays it live.
    ///
    /// Exit status: 0 no schedule broke it, 1 some schedule broke it (what
    /// a trap is expected to show; for the correct variant or a fix, a
    /// bug), 2 bad input.
    Hunt(HuntArgs),
    /// Run every trap and its fix: what broke, and how the fix holds.
    Traps {
        /// Only this lesson (number or name); all lessons when omitted.
        #[arg(allow_negative_numbers = true)]
        lesson: Option<String>,
    },
    /// Print a shell completion script.
    ///
    /// For example: `chanlab completions bash >
    /// ~/.local/share/bash-completion/completions/chanlab`.
    Completions {
        /// The shell to complete in.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff).
    ///
    /// Read it with `chanlab man | man -l -`.
    Man,
    /// The workbook: init, watch, verify, hint, reset, progress, solution.
    #[command(flatten)]
    Workbook(crate::workbook::Command),
}

/// The knobs of a lesson run, kept as typed and checked against the
/// lesson's ranges once the lesson is known (see [`knobs_for`]).
#[derive(Debug, Clone, Default, Args)]
pub struct KnobArgs {
    /// How many items flow through (jobs, requests, messages).
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub items: Option<String>,
    /// Buffer size of the lesson's channels (0 = rendezvous).
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub buffer: Option<String>,
    /// Workers in the parallel stage (subscribers for broadcast).
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub workers: Option<String>,
    /// Seed for the simulated work's durations (not a schedule's seed).
    #[arg(long, value_name = "S", allow_negative_numbers = true)]
    pub seed: Option<String>,
}

/// How a scheduled run picks the next worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StrategyArg {
    /// Uniformly at random among the workers that can move.
    Random,
    /// PCT (probabilistic concurrency testing): random priorities, the
    /// highest ready worker runs, two random change points (depth 3).
    Pct,
}

impl StrategyArg {
    /// The lab's strategy.
    #[must_use]
    pub fn strategy(self) -> Strategy {
        match self {
            Self::Random => Strategy::Random,
            Self::Pct => Schedule::pct(0).strategy,
        }
    }
}

/// Which strategies a hunt explores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HuntStrategy {
    /// Uniformly random picks.
    Random,
    /// PCT with depth 3.
    Pct,
    /// N schedules of each.
    Both,
}

/// Options of `chanlab run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Lesson number (`1`, `01`) or name (`pipeline`).
    #[arg(allow_negative_numbers = true)]
    pub lesson: String,
    /// Run a trap (or a fix) instead of the correct variant; `chanlab traps` lists them.
    #[arg(long, value_name = "NAME")]
    pub trap: Option<String>,
    /// The lesson's knobs.
    #[command(flatten)]
    pub knobs: KnobArgs,
    /// Speed factor for simulated work and timers, 0.1 to 100 (up to 10
    /// live). Default: 1 in the live view, paced to be watched; 10 with
    /// --headless, where nobody watches the pace. A scheduled headless run
    /// is unpaced: its virtual time jumps.
    #[arg(
        long,
        value_name = "X",
        value_parser = parse_speed,
        allow_negative_numbers = true
    )]
    pub speed: Option<f64>,
    /// Print a plain timeline and the verdict instead of the live view
    /// (for pipes, CI and screen readers).
    ///
    /// Progress: a line in the timeline at most once a second when stdout
    /// is not a terminal, a status line on a terminal's stderr.
    #[arg(long)]
    pub headless: bool,
    /// Run scheduled: one worker at a time, the next picked by a strategy
    /// seeded with SEED (0 to 2^64 - 1), on virtual time. The same seed
    /// gives the same run, event for event; with --headless it is unpaced
    /// and takes milliseconds.
    #[arg(
        long,
        value_name = "SEED",
        allow_negative_numbers = true,
        conflicts_with = "free"
    )]
    pub schedule: Option<String>,
    /// How a scheduled run picks the next worker (default: random).
    #[arg(long, value_enum, value_name = "STRATEGY", requires = "schedule")]
    pub strategy: Option<StrategyArg>,
    /// Write the run's schedule to FILE, for `chanlab replay FILE`.
    ///
    /// The file holds the lesson, variant, knobs, strategy, seed and every
    /// step. Live, the schedule is worked out first by an unpaced headless
    /// run of the same seed (a seeded run is the same run however it is
    /// paced), then the live view plays it.
    #[arg(long, value_name = "FILE", requires = "schedule")]
    pub record: Option<PathBuf>,
    /// With --record: write over FILE if it exists.
    #[arg(long, requires = "record")]
    pub force: bool,
    /// Run free: every worker a real OS thread, the interleaving the OS's
    /// (real parallelism, real timings). What --headless does without
    /// --schedule; live, it overrides the view's default.
    #[arg(long)]
    pub free: bool,
}

/// Options of `chanlab replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The schedule file, written by `chanlab run N --schedule SEED --record FILE`.
    pub file: PathBuf,
    /// Print the timeline and the verdict instead of the live view, and
    /// check that every step ran as recorded.
    #[arg(long)]
    pub headless: bool,
    /// Speed factor of the live view, 0.1 to 10 (default 1).
    #[arg(
        long,
        value_name = "X",
        value_parser = parse_speed,
        allow_negative_numbers = true
    )]
    pub speed: Option<f64>,
}

/// Options of `chanlab hunt`.
#[derive(Debug, Args)]
pub struct HuntArgs {
    /// Lesson number (`1`, `01`) or name (`pipeline`).
    #[arg(allow_negative_numbers = true)]
    pub lesson: String,
    /// Hunt in a trap (or a fix) instead of the correct variant.
    #[arg(long, value_name = "NAME")]
    pub trap: Option<String>,
    /// The lesson's knobs.
    #[command(flatten)]
    pub knobs: KnobArgs,
    /// Schedules to explore per strategy (seeds 0 to N-1), 1 to 1000000.
    #[arg(
        long,
        value_name = "N",
        default_value = "1000",
        allow_negative_numbers = true
    )]
    pub schedules: String,
    /// Which strategies pick the schedules.
    #[arg(long, value_enum, value_name = "STRATEGY", default_value_t = HuntStrategy::Both)]
    pub strategy: HuntStrategy,
}

/// `--headless` plays at this speed unless told: the lessons are paced to
/// be watched at 1×, which a pipe or a CI log does not need.
const HEADLESS_SPEED: f64 = 10.0;

/// The live view's top speed (its `+` key stops there).
const LIVE_MAX_SPEED: f64 = 10.0;

/// The user's text as it goes back into a message: long input is cut in
/// the middle, saying how long it was.
fn echo(s: &str) -> String {
    const KEEP: usize = 12;
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= 2 * KEEP + 8 {
        return s.to_owned();
    }
    let head: String = chars[..KEEP].iter().collect();
    let tail: String = chars[chars.len() - KEEP..].iter().collect();
    format!("{head}…{tail} ({} characters)", chars.len())
}

fn parse_speed(s: &str) -> Result<f64, String> {
    let allowed = "allowed 0.1 to 100 (1 is real time, 10 is ten times faster)";
    match s.trim().parse::<f64>() {
        Ok(x) if (0.1..=100.0).contains(&x) => Ok(x),
        Ok(x) if !x.is_nan() => Err(format!(
            "speed {} is out of range: {allowed}",
            echo(s.trim())
        )),
        _ => Err(format!("`{}` is not a number: {allowed}", echo(s))),
    }
}

/// What went wrong with the user's input (exit code 2).
#[derive(Debug)]
pub struct InputError(pub String);

/// Writes to stderr; a stderr that cannot be written is given up on
/// (`eprintln!` would panic).
fn complain(args: fmt::Arguments<'_>) {
    let _ = writeln!(io::stderr().lock(), "{args}");
}

/// Where a command's output goes. Every line passes here; the first write
/// error is kept and nothing more is written after it, so a command can
/// ask [`Out::failed`] and stop, and [`Out::finish`] hands the error on.
pub struct Out<'a> {
    w: &'a mut dyn Write,
    error: Option<io::Error>,
    /// A progress bar drawn on the same terminal: lines are written with
    /// it lifted (`suspend`), so they never land inside it.
    bar: Option<ProgressBar>,
}

impl<'a> Out<'a> {
    /// Output to `w`.
    pub fn new(w: &'a mut dyn Write) -> Self {
        Self {
            w,
            error: None,
            bar: None,
        }
    }

    /// Writes `args` and a newline, unless an earlier write failed.
    pub fn line(&mut self, args: fmt::Arguments<'_>) {
        let mut s = String::new();
        let _ = s.write_fmt(args);
        s.push('\n');
        self.bytes(s.as_bytes());
    }

    /// Writes `b` as it is, unless an earlier write failed.
    pub fn bytes(&mut self, b: &[u8]) {
        if self.error.is_some() {
            return;
        }
        let w = &mut *self.w;
        let result = match &self.bar {
            Some(bar) => bar.suspend(|| w.write_all(b).and_then(|()| w.flush())),
            None => w.write_all(b),
        };
        if let Err(e) = result {
            self.error = Some(e);
        }
    }

    /// True once a write failed (the reader went away, the disk is full).
    #[must_use]
    pub fn failed(&self) -> bool {
        self.error.is_some()
    }

    /// Flushes, and returns the first write error.
    pub fn finish(mut self) -> io::Result<()> {
        if self.error.is_none()
            && let Err(e) = self.w.flush()
        {
            self.error = Some(e);
        }
        self.error.map_or(Ok(()), Err)
    }

    /// `code` once everything is written. A closed pipe is no error (the
    /// reader took what it wanted; a command cut short by it has chosen
    /// its `code` already); any other write error is said on stderr and
    /// exits [`EXIT_WRITE_FAILED`].
    fn done(self, code: ExitCode) -> ExitCode {
        match self.finish() {
            Ok(()) => code,
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => code,
            Err(e) => write_failed(&e),
        }
    }
}

/// `say!(out, "...", args)`: one line to an [`Out`].
macro_rules! say {
    ($out:expr) => {
        $out.line(format_args!(""))
    };
    ($out:expr, $($arg:tt)*) => {
        $out.line(format_args!($($arg)*))
    };
}

/// Parses the arguments and runs the command.
#[must_use]
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = u8::try_from(e.exit_code()).unwrap_or(2);
            // `--help` and `--version` are output too: a failed write of
            // them is reported like any other (a closed pipe is not).
            return match e.print() {
                Err(err) if code == 0 && err.kind() != io::ErrorKind::BrokenPipe => {
                    write_failed(&err)
                }
                _ => ExitCode::from(code),
            };
        }
    };
    match dispatch(cli) {
        Ok(code) => code,
        Err(InputError(message)) => {
            complain(format_args!("error: {message}"));
            ExitCode::from(2)
        }
    }
}

fn write_failed(e: &io::Error) -> ExitCode {
    complain(format_args!("chanlab: could not write the output: {e}"));
    ExitCode::from(EXIT_WRITE_FAILED)
}

// Stdout is locked only where this thread prints: the live view must not
// run under the lock, or a panic hook on another thread (restoring the
// terminal) would wait for it forever.
fn dispatch(cli: Cli) -> Result<ExitCode, InputError> {
    match cli.command {
        None => open_workbook(Launch::default()),
        Some(Command::List) => {
            let mut stdout = io::stdout().lock();
            let mut out = Out::new(&mut stdout);
            out.bytes(list().as_bytes());
            Ok(out.done(ExitCode::SUCCESS))
        }
        Some(Command::Show { lesson }) => {
            let lesson = find_lesson(&lesson)?;
            let mut stdout = io::stdout().lock();
            let mut out = Out::new(&mut stdout);
            say!(out, "{}", lesson.text().trim_end());
            Ok(out.done(ExitCode::SUCCESS))
        }
        Some(Command::Run(args)) => run(&args),
        Some(Command::Replay(args)) => replay(&args),
        Some(Command::Hunt(args)) => hunt_command(&args),
        Some(Command::Traps { lesson }) => {
            let lessons: Vec<&'static Lesson> = match lesson {
                Some(name) => vec![find_lesson(&name)?],
                None => lessons::catalog().to_vec(),
            };
            let mut stdout = io::stdout().lock();
            let mut out = Out::new(&mut stdout);
            let code = traps(&lessons, &mut out);
            Ok(out.done(code))
        }
        Some(Command::Completions { shell }) => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "chanlab", &mut script);
            let mut stdout = io::stdout().lock();
            let mut out = Out::new(&mut stdout);
            out.bytes(&script);
            Ok(out.done(ExitCode::SUCCESS))
        }
        Some(Command::Workbook(command)) => crate::workbook::dispatch(command).map_err(InputError),
        Some(Command::Man) => {
            let mut page = Vec::new();
            if let Err(e) = clap_mangen::Man::new(Cli::command()).render(&mut page) {
                return Ok(write_failed(&e));
            }
            let mut stdout = io::stdout().lock();
            let mut out = Out::new(&mut stdout);
            out.bytes(&page);
            Ok(out.done(ExitCode::SUCCESS))
        }
    }
}

fn find_lesson(name: &str) -> Result<&'static Lesson, InputError> {
    lessons::find(name).map_err(|e| {
        // A number too big for the lessons' own check still gets the range.
        let digits = name.trim().trim_start_matches(['+', '-']);
        let n = lessons::catalog().len();
        if e.suggestion.is_none()
            && !digits.is_empty()
            && digits.bytes().all(|b| b.is_ascii_digit())
            && name.trim().parse::<i64>().is_err()
        {
            InputError(format!(
                "no lesson called `{}`; lesson numbers run from 1 to {n} (`chanlab list` shows all {n})",
                echo(name.trim())
            ))
        } else {
            InputError(e.to_string())
        }
    })
}

/// The lesson table printed by `chanlab list`: each lesson, each trap with
/// the variant that fixes it, and any fix no trap points to.
#[must_use]
pub fn list() -> String {
    let catalog = lessons::catalog();
    let width = catalog
        .iter()
        .flat_map(|l| l.traps())
        .map(|t| t.name.chars().count())
        .max()
        .unwrap_or(0);
    let slug_width = catalog
        .iter()
        .map(|l| l.slug.chars().count())
        .max()
        .unwrap_or(0);
    let mut s = String::new();
    for l in catalog {
        let _ = writeln!(s, "{:02}  {:<slug_width$} {}", l.number, l.slug, l.summary);
        for t in l.traps() {
            let fix = t.fixed_by.unwrap_or("none yet");
            let _ = writeln!(s, "    trap {:<width$}  fix: {fix}", t.name);
        }
        let others: Vec<&str> = l
            .variants
            .iter()
            .filter(|v| {
                v.kind == VariantKind::Fix && !l.traps().any(|t| t.fixed_by == Some(v.name))
            })
            .map(|v| v.name)
            .collect();
        if !others.is_empty() {
            let _ = writeln!(s, "    also a fix: {}", others.join(", "));
        }
    }
    let _ = writeln!(
        s,
        "\n`chanlab show N` prints a lesson; `chanlab run N [--trap NAME]` runs it \
         (NAME: a trap or a fix; `correct` is the pattern done right)."
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
        // The name of another lesson's variant: say whose it is.
        let elsewhere: Vec<String> = lessons::catalog()
            .iter()
            .filter_map(|other| {
                let v = other.variant(name)?;
                Some(format!(
                    "a {} of lesson {} (`chanlab run {} --trap {}`)",
                    v.kind.label(),
                    other.label(),
                    other.number,
                    v.name
                ))
            })
            .collect();
        if !elsewhere.is_empty() {
            return InputError(format!(
                "`{name}` is {}, not of lesson {}; lesson {:02}'s variants are: {}",
                elsewhere.join(" and "),
                lesson.label(),
                lesson.number,
                names.join(", ")
            ));
        }
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
            "lesson {} has no variant `{}`; {hint}valid: {}",
            lesson.label(),
            echo(name),
            names.join(", ")
        ))
    })
}

/// One knob from its flag's text: a whole number in `range`, or a message
/// that says which numbers would do.
fn knob<T>(
    flag: &str,
    text: Option<&str>,
    range: &std::ops::RangeInclusive<T>,
    default: T,
    lesson: &Lesson,
) -> Result<T, InputError>
where
    T: std::str::FromStr + PartialOrd + fmt::Display + Copy,
{
    let Some(text) = text.map(str::trim) else {
        return Ok(default);
    };
    let (lo, hi) = (range.start(), range.end());
    match text.parse::<T>() {
        Ok(v) if range.contains(&v) => Ok(v),
        _ => {
            let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
            let whole = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
            Err(InputError(if whole {
                format!(
                    "--{flag} {} is out of range for lesson {}: allowed {lo} to {hi}",
                    echo(text),
                    lesson.label()
                )
            } else {
                format!(
                    "--{flag} takes a whole number from {lo} to {hi} for lesson {} (got `{}`)",
                    lesson.label(),
                    echo(text)
                )
            }))
        }
    }
}

/// The knobs from the flags, checked against the lesson's ranges.
pub fn knobs_for(lesson: &Lesson, args: &KnobArgs) -> Result<Knobs, InputError> {
    let d = lesson.defaults;
    let r = &lesson.ranges;
    Ok(Knobs {
        items: knob("items", args.items.as_deref(), &r.items, d.items, lesson)?,
        buffer: knob(
            "buffer",
            args.buffer.as_deref(),
            &r.buffer,
            d.buffer,
            lesson,
        )?,
        workers: knob(
            "workers",
            args.workers.as_deref(),
            &r.workers,
            d.workers,
            lesson,
        )?,
        seed: seed(args.seed.as_deref(), d.seed)?,
    })
}

/// `--seed`: any whole number a u64 holds.
fn seed(text: Option<&str>, default: u64) -> Result<u64, InputError> {
    let Some(text) = text.map(str::trim) else {
        return Ok(default);
    };
    text.parse().map_err(|_| {
        InputError(format!(
            "--seed takes a whole number from 0 to 2^64 - 1 (got `{}`)",
            echo(text)
        ))
    })
}

/// `--schedule` and `hunt --schedules`: a whole number, or what would do.
fn whole_number(
    flag: &str,
    text: &str,
    range: std::ops::RangeInclusive<u64>,
) -> Result<u64, InputError> {
    let text = text.trim();
    let (lo, hi) = (range.start(), range.end());
    let said = if *hi == u64::MAX {
        format!("{lo} to 2^64 - 1")
    } else {
        format!("{lo} to {hi}")
    };
    match text.parse::<u64>() {
        Ok(n) if range.contains(&n) => Ok(n),
        Ok(n) => Err(InputError(format!(
            "--{flag} {n} is out of range: allowed {said}"
        ))),
        Err(_) => Err(InputError(format!(
            "--{flag} takes a whole number from {said} (got `{}`)",
            echo(text)
        ))),
    }
}

fn run(args: &RunArgs) -> Result<ExitCode, InputError> {
    let lesson = find_lesson(&args.lesson)?;
    let variant = variant_of(lesson, args.trap.as_deref())?;
    let knobs = knobs_for(lesson, &args.knobs)?;
    let schedule = match &args.schedule {
        Some(text) => {
            let seed = whole_number("schedule", text, 0..=u64::MAX)?;
            let strategy = args.strategy.unwrap_or(StrategyArg::Random).strategy();
            Some(Schedule::new(strategy, seed))
        }
        None => None,
    };
    if let Some(path) = &args.record
        && !args.force
        && path.exists()
    {
        return Err(InputError(format!(
            "`{}` already exists; add --force to write over it, or --record another file",
            path.display()
        )));
    }
    let speed = args
        .speed
        .unwrap_or(if args.headless { HEADLESS_SPEED } else { 1.0 });
    if !args.headless {
        if speed > LIVE_MAX_SPEED {
            return Err(InputError(format!(
                "--speed {speed} is faster than the live view plays (0.1 to {LIVE_MAX_SPEED}); \
                 add --headless to run at up to 100"
            )));
        }
        live_view_possible(RUN_HEADLESS)?;
        if let (Some(path), Some(schedule)) = (&args.record, &schedule) {
            let recording = record(lesson, variant, knobs, schedule);
            recording.write(path, args.force).map_err(InputError)?;
            complain(format_args!(
                "recorded {} steps to `{}`; `chanlab replay {}` replays them",
                recording.choices.len(),
                path.display(),
                shell_word(&path.display().to_string())
            ));
        }
        return open_workbook(Launch {
            lesson: Some(lesson),
            variant: Some(variant),
            knobs: Some(knobs),
            speed,
            schedule,
            free: args.free,
        });
    }
    let scheduled = schedule.is_some();
    let config = match schedule {
        Some(schedule) => scheduled_config(schedule),
        None => Config {
            speed,
            events: 1 << 16,
            ..Config::default()
        },
    };
    let progress = Progress::for_stdio();
    let mut stdout = io::stdout().lock();
    let mut out = Out::new(&mut stdout);
    let mode = mode_line(&config, None);
    if scheduled && args.speed.is_some() {
        // Said, not refused: the same command live does use it.
        complain(format_args!(
            "note: --speed paces the live view; a scheduled --headless run is unpaced"
        ));
    }
    let Some(played) = play(lesson, variant, knobs, config, &mode, progress, &mut out) else {
        return Ok(out.done(ExitCode::from(CUT_SHORT)));
    };
    if let Err(why) = trailer(
        lesson,
        variant,
        knobs,
        &played,
        args.record.as_deref(),
        args.force,
        &mut out,
    ) {
        drop(out.finish());
        return Err(InputError(why));
    }
    Ok(out.done(exit_for(played.broken)))
}

/// After a scheduled headless run: its steps and seed, the commands that
/// run it again, and the schedule written to `record` if asked (the error
/// says why it could not be).
fn trailer(
    lesson: &'static Lesson,
    variant: &'static Variant,
    knobs: Knobs,
    played: &Played,
    record: Option<&Path>,
    force: bool,
    out: &mut Out<'_>,
) -> Result<(), String> {
    let (Some(trace), Some(schedule)) = (&played.report.trace, &played.schedule) else {
        return Ok(());
    };
    let (strategy, seed) = (schedule.strategy, schedule.seed);
    let command = run_command(lesson, variant, &knobs, strategy, seed);
    say!(out);
    say!(
        out,
        "schedule: {} steps, {}",
        trace.choices.len(),
        schedule.describe()
    );
    if let Some(command) = &command {
        say!(out, "  watch it live:   {command}");
        say!(out, "  print it again:  {command} --headless");
    }
    match record {
        Some(path) => {
            let recording = Recording {
                lesson,
                variant,
                knobs,
                strategy,
                seed,
                choices: trace.choices.clone(),
                names: worker_names(&played.report),
            };
            recording.write(path, force)?;
            let file = shell_word(&path.display().to_string());
            say!(
                out,
                "  recorded to {file}: `chanlab replay {file}` replays it (add --headless for this timeline)"
            );
        }
        None => {
            if let Some(command) = &command {
                say!(out, "  save it:         {command} --record FILE");
            }
        }
    }
    Ok(())
}

fn exit_for(broken: bool) -> ExitCode {
    if broken {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// A scheduled run as the headless view, `replay` and `--record` run it:
/// unpaced (virtual time jumps), every item that moves in the timeline
/// (the interleaving is the point of a scheduled run), with room for
/// every event of a long run.
fn scheduled_config(schedule: Schedule) -> Config {
    Config {
        schedule: Some(schedule),
        realtime: false,
        log_items: true,
        events: SCHEDULED_EVENTS,
        ..Config::default()
    }
}

/// Events a scheduled headless run keeps: it prints them once the run is
/// over (so the timeline does not depend on how fast it was read), and
/// a lesson's busiest run needs about 40 000.
const SCHEDULED_EVENTS: usize = 1 << 18;

/// The schedule of a seeded run, for `--record` of a live run. A seeded
/// schedule is deterministic, so an unpaced headless run of the same
/// lesson, variant, knobs and seed makes the same picks the live view will.
fn record(
    lesson: &'static Lesson,
    variant: &'static Variant,
    knobs: Knobs,
    schedule: &Schedule,
) -> Recording {
    // The very configuration of `run --schedule --headless`, so the two
    // record the same picks without having to trust that logging is inert.
    let report = lesson.run(variant, knobs, scheduled_config(schedule.clone()));
    Recording {
        lesson,
        variant,
        knobs,
        strategy: schedule.strategy,
        seed: schedule.seed,
        choices: report
            .trace
            .as_ref()
            .map(|t| t.choices.clone())
            .unwrap_or_default(),
        names: worker_names(&report),
    }
}

fn worker_names(report: &Report<Outcome>) -> Vec<String> {
    report
        .snapshot
        .workers
        .iter()
        .map(|w| w.name.clone())
        .collect()
}

/// `s` as one word for a POSIX shell: as it is when that is safe, else in
/// single quotes.
fn shell_word(s: &str) -> String {
    let safe = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-./+=:,@%".contains(&b));
    if safe {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// The `chanlab run` command that runs this schedule again, when the flags
/// can say it (`None` for a PCT depth other than the flag's, or a manual
/// schedule).
fn run_command(
    lesson: &Lesson,
    variant: &Variant,
    knobs: &Knobs,
    strategy: Strategy,
    seed: u64,
) -> Option<String> {
    let mut s = format!("chanlab run {}", lesson.number);
    if variant.kind != VariantKind::Correct {
        let _ = write!(s, " --trap {}", variant.name);
    }
    let d = lesson.defaults;
    if knobs.items != d.items {
        let _ = write!(s, " --items {}", knobs.items);
    }
    if knobs.buffer != d.buffer {
        let _ = write!(s, " --buffer {}", knobs.buffer);
    }
    if knobs.workers != d.workers {
        let _ = write!(s, " --workers {}", knobs.workers);
    }
    if knobs.seed != d.seed {
        let _ = write!(s, " --seed {}", knobs.seed);
    }
    let _ = write!(s, " --schedule {seed}");
    match strategy {
        Strategy::Random => {}
        pct if pct == StrategyArg::Pct.strategy() => s.push_str(" --strategy pct"),
        _ => return None,
    }
    Some(s)
}

/// The line that says how a headless run runs.
fn mode_line(config: &Config, replaying: Option<(&Path, usize)>) -> String {
    match (&config.schedule, replaying) {
        (None, _) => format!(
            "mode: free-running OS threads (the OS picks the interleaving), speed {}x",
            config.speed
        ),
        (Some(s), None) => format!(
            "mode: scheduled, {} (one worker at a time, on virtual time, unpaced)",
            s.describe()
        ),
        (Some(s), Some((path, steps))) => format!(
            "mode: scheduled, {}, replaying the {steps} steps recorded in {}",
            Schedule::new(s.strategy, s.seed).describe(),
            shell_word(&path.display().to_string())
        ),
    }
}

fn replay(args: &ReplayArgs) -> Result<ExitCode, InputError> {
    let shown = shell_word(&args.file.display().to_string());
    let recording = Recording::read(&args.file)
        .map_err(|e| InputError(format!("cannot replay {shown}: {e}")))?;
    let (lesson, variant, knobs) = (recording.lesson, recording.variant, recording.knobs);
    if !args.headless {
        let speed = args.speed.unwrap_or(1.0);
        if speed > LIVE_MAX_SPEED {
            return Err(InputError(format!(
                "--speed {speed} is faster than the live view plays (0.1 to {LIVE_MAX_SPEED})"
            )));
        }
        live_view_possible(&format!(
            "use `chanlab replay {shown} --headless` for its timeline"
        ))?;
        return open_workbook(Launch {
            lesson: Some(lesson),
            variant: Some(variant),
            knobs: Some(knobs),
            speed,
            schedule: Some(recording.schedule()),
            free: false,
        });
    }
    let mut schedule = recording.schedule();
    if schedule.strategy == Strategy::Manual {
        // Headless, nobody can pick: a step past the recorded ones (which
        // the check below calls a divergence) goes to a random pick.
        schedule.strategy = Strategy::Random;
    }
    let config = scheduled_config(schedule);
    let mode = mode_line(&config, Some((&args.file, recording.choices.len())));
    let progress = Progress::for_stdio();
    let mut stdout = io::stdout().lock();
    let mut out = Out::new(&mut stdout);
    let Some(played) = play(lesson, variant, knobs, config, &mode, progress, &mut out) else {
        return Ok(out.done(ExitCode::from(CUT_SHORT)));
    };
    let trace = played.report.trace.clone().unwrap_or_default();
    say!(out);
    match divergence(&recording.choices, &trace) {
        None => {
            say!(
                out,
                "replay: all {} steps ran as recorded in {shown} ({})",
                recording.choices.len(),
                Schedule::new(recording.strategy, recording.seed).describe()
            );
            say!(out, "  watch it live:   chanlab replay {shown}");
            say!(out, "  print it again:  chanlab replay {shown} --headless");
            Ok(out.done(exit_for(played.broken)))
        }
        Some(why) => {
            say!(out, "replay: {shown} does not replay here: {why}");
            let code = out.done(ExitCode::from(2));
            complain(format_args!(
                "error: {shown} does not replay on this chanlab: {why}; it was recorded by a \
                 chanlab whose lesson runs differently — record it again"
            ));
            Ok(code)
        }
    }
}

/// Where a replay's run left the recorded choices, if it did.
fn divergence(recorded: &[crate::lab::Choice], trace: &Trace) -> Option<String> {
    if let Some(why) = &trace.diverged {
        return Some(why.clone());
    }
    let ran = &trace.choices;
    if let Some(k) = recorded.iter().zip(ran).position(|(a, b)| a != b) {
        return Some(format!(
            "at step {}: the file says {}, the run took {}",
            k + 1,
            recorded[k],
            ran[k]
        ));
    }
    match ran.len().cmp(&recorded.len()) {
        std::cmp::Ordering::Less => Some(format!(
            "the run ended after {} steps, but the file has {}",
            ran.len(),
            recorded.len()
        )),
        std::cmp::Ordering::Greater => Some(format!(
            "the run went on past the {} recorded steps (to {})",
            recorded.len(),
            ran.len()
        )),
        std::cmp::Ordering::Equal => None,
    }
}

/// The most schedules one hunt explores per strategy.
const MAX_SCHEDULES: u64 = 1_000_000;

/// The width a step table is fitted to when stdout is not a terminal.
const TABLE_WIDTH: usize = 100;

fn hunt_command(args: &HuntArgs) -> Result<ExitCode, InputError> {
    let lesson = find_lesson(&args.lesson)?;
    let variant = variant_of(lesson, args.trap.as_deref())?;
    let knobs = knobs_for(lesson, &args.knobs)?;
    let n = whole_number("schedules", &args.schedules, 1..=MAX_SCHEDULES)?;
    let pct = StrategyArg::Pct.strategy();
    let strategies = match args.strategy {
        HuntStrategy::Random => vec![Strategy::Random],
        HuntStrategy::Pct => vec![pct],
        HuntStrategy::Both => vec![Strategy::Random, pct],
    };
    let width = if io::stdout().is_terminal() {
        crossterm::terminal::size().map_or(TABLE_WIDTH, |(w, _)| usize::from(w))
    } else {
        TABLE_WIDTH
    };
    let mut stdout = io::stdout().lock();
    let mut out = Out::new(&mut stdout);
    let code = hunt_in(lesson, variant, knobs, &strategies, 0..n, width, &mut out);
    Ok(out.done(code))
}

/// `strategy` in the hunt's words: `random`, `pct` (depth 3).
fn strategy_label(strategy: Strategy) -> String {
    match strategy {
        Strategy::Pct { depth } => format!("pct depth {depth}"),
        other => other.name().to_owned(),
    }
}

/// Seeds per strategy for each smaller `--items` a hunt tries.
const SHRINK_SEEDS: u64 = 100;

/// Runs the hunt and prints what it found; exit 1 when some schedule
/// broke the variant, 0 when none did (or 1 when the output was cut short).
fn hunt_in(
    lesson: &'static Lesson,
    variant: &'static Variant,
    knobs: Knobs,
    strategies: &[Strategy],
    seeds: std::ops::Range<u64>,
    width: usize,
    out: &mut Out<'_>,
) -> ExitCode {
    let per = seeds.end - seeds.start;
    let threads = hunt::threads();
    hunt_header(lesson, variant, &knobs, strategies, &seeds, threads, out);
    let started = Instant::now();
    let mut reports: Vec<HuntReport> = Vec::new();
    for &strategy in strategies {
        if out.failed() {
            return ExitCode::from(CUT_SHORT);
        }
        let bar = hunt_bar(per, &strategy_label(strategy));
        out.bar = Some(bar.clone());
        let report = hunt::explore_with(
            lesson,
            variant,
            knobs,
            strategy,
            seeds.clone(),
            threads,
            &|done| bar.set_position(done),
        );
        out.bar = None;
        bar.finish_and_clear();
        print_hunt(&report, out);
        reports.push(report);
    }
    let total: u64 = reports.iter().map(HuntReport::runs).sum();
    let broken: u64 = reports.iter().map(|r| r.broken).sum();
    let meant_to_hold = variant.kind != VariantKind::Trap;
    if broken == 0 {
        let what = if meant_to_hold {
            "it held every time"
        } else if lesson.hidden(variant, &knobs).is_some() {
            "these knobs hide the trap, as said above"
        } else {
            "this trap needs more seeds, another strategy or other knobs to show"
        };
        say!(out, "0 of {total} schedules broke it: {what}.");
    } else {
        let each: Vec<String> = reports
            .iter()
            .map(|r| format!("{} of {} {}", r.broken, r.runs(), r.strategy.name()))
            .collect();
        let bug = if meant_to_hold {
            format!(
                " — the {} is meant to hold: that is a bug",
                variant.kind.label()
            )
        } else {
            String::new()
        };
        say!(
            out,
            "{broken} of {total} schedules broke it ({}){bug}.",
            each.join(", ")
        );
        let shortest = reports
            .iter()
            .filter_map(|r| r.shortest_failing.as_ref().map(|f| (r.strategy, f)))
            .min_by_key(|(_, f)| f.steps);
        if let Some((strategy, found)) = shortest {
            // A short table reads better than a long one: try fewer items.
            let seeds = seeds.start..seeds.start + per.min(SHRINK_SEEDS);
            match hunt::shrink(lesson, variant, knobs, strategies, seeds, found.steps) {
                Some((smaller, strategy, found)) => {
                    say!(
                        out,
                        "shrunk: with --items {} it breaks in {} steps (at --items {}: {} steps).",
                        smaller.items,
                        found.steps,
                        knobs.items,
                        shortest.map_or(0, |(_, f)| f.steps)
                    );
                    print_shortest(lesson, variant, smaller, strategy, &found, width, out);
                }
                None => print_shortest(lesson, variant, knobs, strategy, found, width, out),
            }
        }
    }
    let wall = started.elapsed();
    say!(
        out,
        "total: {total} schedules in {:.2}s ({:.0} per second)",
        wall.as_secs_f64(),
        total as f64 / wall.as_secs_f64().max(1e-9)
    );
    if out.failed() {
        ExitCode::from(CUT_SHORT)
    } else {
        exit_for(broken > 0)
    }
}

/// What a hunt is about to do.
fn hunt_header(
    lesson: &Lesson,
    variant: &Variant,
    knobs: &Knobs,
    strategies: &[Strategy],
    seeds: &std::ops::Range<u64>,
    threads: usize,
    out: &mut Out<'_>,
) {
    let per = seeds.end - seeds.start;
    say!(
        out,
        "hunt: lesson {} — {} ({}): {}",
        lesson.label(),
        variant.name,
        variant.kind.label(),
        variant.summary
    );
    say!(
        out,
        "knobs: items {}, buffer {}, workers {}, seed {}",
        knobs.items,
        knobs.buffer,
        knobs.workers,
        knobs.seed
    );
    if let Some(why) = lesson.hidden(variant, knobs) {
        say!(out, "{why}");
    }
    let names: Vec<String> = strategies.iter().map(|s| strategy_label(*s)).collect();
    say!(
        out,
        "exploring {per} scheduled run{} per strategy ({}), seeds {} to {}, unpaced, {threads} at a time",
        if per == 1 { "" } else { "s" },
        names.join(" and "),
        seeds.start,
        seeds.end - 1
    );
    say!(out);
}

/// A progress bar for one strategy's hunt, on a terminal's stderr (hidden
/// otherwise): the runs are many and short, so it is set, never ticked by
/// a thread of its own.
fn hunt_bar(len: u64, label: &str) -> ProgressBar {
    if !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{msg} {wide_bar} {pos}/{len} {per_sec}") {
        bar.set_style(style);
    }
    bar.set_message(label.to_owned());
    bar
}

/// One strategy's counts: each way the runs ended, and the first failing seed.
fn print_hunt(report: &HuntReport, out: &mut Out<'_>) {
    say!(
        out,
        "{}: {} schedules ({} different) in {:.2}s ({:.0} per second)",
        strategy_label(report.strategy),
        report.runs(),
        report.distinct,
        report.elapsed.as_secs_f64(),
        report.per_second()
    );
    let wide = report
        .classes
        .iter()
        .map(|(c, _)| c.chars().count())
        .max()
        .unwrap_or(0);
    let digits = report.runs().to_string().len();
    for (class, n) in &report.classes {
        let share = *n as f64 * 100.0 / report.runs().max(1) as f64;
        say!(out, "  {class:<wide$}  {n:>digits$}  ({share:.1}%)");
    }
    match (&report.first_failing, &report.shortest_failing) {
        (Some(f), Some(s)) if s.steps < f.steps => say!(
            out,
            "  first failing: seed {} ({}, {} steps); shortest: seed {} ({}, {} steps)",
            f.seed,
            f.class,
            f.steps,
            s.seed,
            s.class,
            s.steps
        ),
        (Some(f), _) => say!(
            out,
            "  first failing: seed {} ({}, {} steps), none shorter",
            f.seed,
            f.class,
            f.steps
        ),
        (None, _) => say!(out, "  no schedule broke it"),
    }
    say!(out);
}

/// The shortest failing schedule: run again with its steps in words, as a
/// table, with what broke and the commands that replay it.
fn print_shortest(
    lesson: &'static Lesson,
    variant: &'static Variant,
    knobs: Knobs,
    strategy: Strategy,
    found: &hunt::Found,
    width: usize,
    out: &mut Out<'_>,
) {
    let (report, trace, names) = hunt::describe(lesson, variant, knobs, strategy, found.seed);
    say!(
        out,
        "shortest failing schedule: {} seed {}, {} steps, {}:",
        strategy.name(),
        found.seed,
        found.steps,
        found.class
    );
    say!(out);
    out.bytes(hunt::step_table(&trace, &names, width).as_bytes());
    say!(out);
    let again = hunt::classify(&report);
    if again != found.class || trace.choices.len() != found.steps {
        say!(
            out,
            "note: run again, this schedule ended otherwise ({again}, {} steps): \
             the run is not deterministic, which is a bug in chanlab",
            trace.choices.len()
        );
    }
    summarize(&report, lesson.hidden(variant, &knobs).as_deref(), out);
    say!(out);
    if let Some(command) = run_command(lesson, variant, &knobs, strategy, found.seed) {
        say!(out, "watch it live:   {command}");
        say!(out, "as a timeline:   {command} --headless");
        say!(out, "save it:         {command} --record FILE");
        say!(out);
    }
}

/// What to run instead of the live view without a terminal.
const RUN_HEADLESS: &str = "use `chanlab run N --headless` for a plain timeline, or `chanlab list`";

/// The live view needs a terminal: say so before anything is done, with
/// `instead`, what to run without one.
fn live_view_possible(instead: &str) -> Result<(), InputError> {
    if !io::stdout().is_terminal() || !io::stdin().is_terminal() {
        return Err(InputError(format!(
            "the live view needs a terminal, and this is not one; {instead}"
        )));
    }
    if let Some(why) = crate::tui::terminal_refusal(std::env::var_os("TERM").as_deref()) {
        return Err(InputError(why));
    }
    Ok(())
}

fn open_workbook(launch: Launch) -> Result<ExitCode, InputError> {
    live_view_possible(RUN_HEADLESS)?;
    crate::tui::run(launch)
        .map(|exit| ExitCode::from(exit.code()))
        .or_else(|e| {
            complain(format_args!("error: the live view failed: {e}"));
            Ok(ExitCode::from(1))
        })
}

/// Events worth a line in the timeline (a blocked send on a full buffer is
/// ordinary back-pressure, not news).
fn notable(kind: &EventKind) -> bool {
    !matches!(kind, EventKind::Blocked { .. })
}

/// How a headless run shows that it is alive while nothing else happens.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    /// A progress line in the timeline (items through each channel), at
    /// most once per `every` of wall time.
    pub lines: bool,
    /// A status line on stderr (a terminal), cleared before the summary.
    pub bar: bool,
    /// The least wall time between two progress lines.
    pub every: Duration,
}

impl Progress {
    /// A status line on a terminal's stderr; progress lines on stdout
    /// unless that status line is drawn on the same terminal.
    #[must_use]
    pub fn for_stdio() -> Self {
        let on_terminal = io::stdout().is_terminal();
        let bar = io::stderr().is_terminal();
        Self {
            lines: !(on_terminal && bar),
            bar,
            every: Duration::from_secs(1),
        }
    }
}

/// How often the status line is given new numbers.
const BAR_EVERY: Duration = Duration::from_millis(100);

/// The status line on stderr. It is only ever ticked from the headless
/// loop: a steady tick would be a thread the lab does not know, alive
/// during the run, and the lab could no longer prove a deadlock.
struct StatusLine(ProgressBar);

impl StatusLine {
    fn new(show: bool) -> Self {
        if !show {
            return Self(ProgressBar::hidden());
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template("{spinner} {wide_msg}") {
            bar.set_style(style);
        }
        Self(bar)
    }
}

impl Drop for StatusLine {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}

/// Items through each channel so far: `numbers 40/38 · squares 38/36`
/// (sent/received); the channels of one stage (`results#1`, `results#2`)
/// are summed, timers left out.
fn through(snap: &Snapshot) -> String {
    let mut stages: Vec<(&str, u64, u64)> = Vec::new();
    for c in &snap.channels {
        if !matches!(c.kind, ChannelKind::Normal) {
            continue;
        }
        let stage = stage_of(&c.name);
        match stages.iter_mut().find(|s| s.0 == stage) {
            Some(s) => {
                s.1 += c.sent;
                s.2 += c.received;
            }
            None => stages.push((stage, c.sent, c.received)),
        }
    }
    if stages.is_empty() {
        return "no channels yet".to_owned();
    }
    let parts: Vec<String> = stages
        .iter()
        .map(|(name, sent, received)| format!("{name} {sent}/{received}"))
        .collect();
    parts.join(" · ")
}

/// The timeline's events, printed as they come.
#[derive(Default)]
struct Timeline {
    next: u64,
    cleanup: u64,
}

impl Timeline {
    fn print(&mut self, out: &mut Out<'_>, lab: &Lab) {
        let batch = lab.events_since(self.next);
        if batch.skipped > 0 {
            say!(out, "          … {} events not shown", batch.skipped);
        }
        for e in batch.events {
            self.next = e.seq + 1;
            // The abort's teardown is not part of the story: count it, say so once.
            if e.cleanup {
                self.cleanup += 1;
            } else if notable(&e.kind) {
                say!(out, "{e}");
            }
        }
    }
}

/// Exit code of a run cut short because its output could not be written:
/// 1, it was not shown to be clean.
const CUT_SHORT: u8 = 1;

/// Runs one variant and prints its timeline, its progress and its verdict;
/// exit 0 when the run is clean, 1 when it broke. When the output cannot
/// be written (a closed pipe, a full disk) the run is stopped at once and
/// the exit code is 1: it was not shown to be clean.
///
/// With `config.schedule` the run is scheduled, and the output ends with
/// its step count and the commands that run it again.
pub fn headless(
    lesson: &'static Lesson,
    variant: &'static Variant,
    knobs: Knobs,
    config: Config,
    progress: Progress,
    out: &mut Out<'_>,
) -> ExitCode {
    let mode = mode_line(&config, None);
    let Some(played) = play(lesson, variant, knobs, config, &mode, progress, out) else {
        return ExitCode::from(CUT_SHORT);
    };
    // Nothing to record, so nothing can fail here.
    let _ = trailer(lesson, variant, knobs, &played, None, false, out);
    exit_for(played.broken)
}

/// A finished headless run.
struct Played {
    report: Report<Outcome>,
    /// The schedule it ran (`None`: free-running).
    schedule: Option<Schedule>,
    broken: bool,
}

/// The lines a headless run starts with: the variant, the knobs, the
/// mode, why the knobs hide the trap (returned, for the summary).
fn header(
    lesson: &Lesson,
    variant: &Variant,
    knobs: &Knobs,
    config: &Config,
    mode: &str,
    out: &mut Out<'_>,
) -> Option<String> {
    say!(
        out,
        "lesson {} — {} ({}): {}",
        lesson.label(),
        variant.name,
        variant.kind.label(),
        variant.summary
    );
    // A scheduled headless run is unpaced: a speed would mean nothing.
    let speed = if config.schedule.is_some() {
        String::new()
    } else {
        format!(", speed {}x", config.speed)
    };
    say!(
        out,
        "knobs: items {}, buffer {}, workers {}, seed {}{speed}",
        knobs.items,
        knobs.buffer,
        knobs.workers,
        knobs.seed
    );
    say!(out, "{mode}");
    let hidden = lesson.hidden(variant, knobs);
    if let Some(why) = &hidden {
        say!(out, "{why}");
    }
    say!(out);
    hidden
}

/// Prints the header (with `mode`), runs, prints the timeline and the
/// verdict. `None` when the output could not be written (the run is
/// stopped then).
///
/// A free run's timeline is printed as it happens, with progress lines. A
/// scheduled run's is printed once it is over: it takes milliseconds, and
/// so its timeline cannot depend on how fast the output was read.
fn play(
    lesson: &'static Lesson,
    variant: &'static Variant,
    knobs: Knobs,
    config: Config,
    mode: &str,
    progress: Progress,
    out: &mut Out<'_>,
) -> Option<Played> {
    let schedule = config.schedule.clone();
    let scheduled = schedule.is_some();
    let hidden = header(lesson, variant, &knobs, &config, mode, out);
    if out.failed() {
        return None;
    }
    let status = StatusLine::new(progress.bar);
    if progress.bar {
        out.bar = Some(status.0.clone());
    }
    let started = Instant::now();
    let mut next_line = started + progress.every;
    let mut next_bar = started;
    let run = lesson.start(variant, knobs, config);
    let mut timeline = Timeline::default();
    while !run.is_finished() {
        if !scheduled {
            timeline.print(out, run.lab());
        }
        let now = Instant::now();
        let line_due = progress.lines && !scheduled && now >= next_line;
        let bar_due = progress.bar && now >= next_bar;
        if line_due || bar_due {
            let snap = run.lab().snapshot();
            // Counted from after the snapshot: two progress lines are at
            // least `every` apart in wall time however late this thread ran.
            let taken = Instant::now();
            let counts = through(&snap);
            let at = snap.elapsed.as_secs_f64();
            if line_due {
                say!(out, "{at:>8.3}s  progress (sent/received): {counts}");
                next_line = taken + progress.every;
            }
            if bar_due {
                let step = snap
                    .schedule
                    .as_ref()
                    .map_or(String::new(), |s| format!("step {}  ", s.step));
                status.0.set_message(format!("{step}{at:.1}s  {counts}"));
                next_bar = taken + BAR_EVERY;
            }
        }
        status.0.tick();
        if out.failed() {
            // Nobody reads on (or nothing can be written): stop the run
            // cleanly, say nothing more.
            out.bar = None;
            drop(status);
            let _ = run.stop();
            return None;
        }
        std::thread::sleep(if scheduled {
            Duration::from_millis(2)
        } else {
            Duration::from_millis(20)
        });
    }
    let wall = started.elapsed();
    let lab = run.lab().clone();
    let report = run.wait();
    timeline.print(out, &lab);
    out.bar = None;
    drop(status);
    if timeline.cleanup > 0 && scheduled {
        // The teardown runs free (the schedule ended at the verdict), so
        // how many events it makes is the OS's to decide: not counted here,
        // or the same schedule would not print the same timeline.
        say!(
            out,
            "          … then the lab's cleanup: the run was aborted; its teardown \
             (workers woken, channels closed by the abort) runs free and is not shown"
        );
    } else if timeline.cleanup > 0 {
        say!(
            out,
            "          … then the lab's cleanup: the run was aborted, {} teardown \
             events (workers woken, channels closed by the abort) not shown",
            timeline.cleanup
        );
    }
    say!(out);
    let virtual_ = if scheduled { " (virtual)" } else { "" };
    say!(
        out,
        "through the channels (sent/received): {}; {:.1}s of lesson time{virtual_} in {}",
        through(&report.snapshot),
        report.snapshot.elapsed.as_secs_f64(),
        wall_words(wall)
    );
    let broken = summarize(&report, hidden.as_deref(), out);
    if out.failed() {
        return None;
    }
    Some(Played {
        report,
        schedule,
        broken,
    })
}

/// Wall time as the summary says it: `0.4s`, or `12 ms` for the
/// milliseconds a scheduled run takes.
fn wall_words(wall: Duration) -> String {
    if wall < Duration::from_millis(100) {
        format!("{} ms", wall.as_millis().max(1))
    } else {
        format!("{:.1}s", wall.as_secs_f64())
    }
}

/// Prints the outcome and the verdict; true when the run broke. `hidden`:
/// why the knobs hide the trap that ran, if they do.
fn summarize(report: &Report<Outcome>, hidden: Option<&str>, out: &mut Out<'_>) -> bool {
    let mut broken = false;
    match &report.outcome {
        Some(o) => {
            say!(out, "outcome: {o}");
            for chosen in &o.by_design {
                say!(out, "  by design: {chosen}");
            }
            for n in &o.notes {
                say!(out, "  note: {n}");
            }
            for p in &o.problems {
                say!(out, "  broken: {p}");
                broken = true;
            }
        }
        None => {
            say!(out, "outcome: none (main did not return)");
        }
    }
    if let Some(v) = &report.verdict {
        broken = true;
        say!(out, "verdict: {}", v.headline());
        for line in v.dump() {
            say!(out, "  {line}");
        }
    } else if !broken {
        let held = report.outcome.as_ref().is_some_and(Outcome::held_by_design);
        let how = if held { ", held as designed" } else { "" };
        say!(out, "verdict: no deadlock, no leak{how}");
        if let Some(why) = hidden {
            say!(out, "  the trap did not show — {why}");
        }
    }
    if !report.unstoppable.is_empty() {
        broken = true;
        say!(
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
        Some(o) if o.held_by_design() => {
            format!(
                "no verdict; {o}; held as designed: {}",
                o.by_design.join("; ")
            )
        }
        Some(o) => format!("no verdict; {o}"),
        None => "main did not return".to_owned(),
    }
}

/// `chanlab traps`: runs every trap and its fix; exit 1 if any trap did not
/// break or any fix did not hold, or if the output could not be written
/// (it stops at once then).
fn traps(lessons: &[&'static Lesson], out: &mut Out<'_>) -> ExitCode {
    let config = Config {
        speed: 50.0,
        ..Config::default()
    };
    let mut all_as_expected = true;
    for lesson in lessons {
        say!(out, "{} — {}", lesson.label(), lesson.title);
        for trap in lesson.traps() {
            if out.failed() {
                return ExitCode::from(CUT_SHORT);
            }
            let report = lesson.run(trap, lesson.defaults, config.clone());
            let ok = lessons::meets_expectation(trap, &report);
            all_as_expected &= ok;
            let expect = match trap.expect {
                Expect::Verdict(kind) => kind,
                Expect::Broken => "a broken outcome",
                Expect::Clean => "a clean run",
            };
            say!(out, "  trap `{}`: {}", trap.name, trap.summary);
            say!(out, "    why: {}", trap.explains);
            let mark = if ok {
                "broke as expected"
            } else {
                "DID NOT BREAK as expected"
            };
            say!(out, "    {mark} ({expect}): {}", what_happened(&report));
            if let Some(fix) = trap.fixed_by.and_then(|f| lesson.variant(f)) {
                if out.failed() {
                    return ExitCode::from(CUT_SHORT);
                }
                let report = lesson.run(fix, lesson.defaults, config.clone());
                let holds = lessons::meets_expectation(fix, &report);
                all_as_expected &= holds;
                let label = if fix.kind == VariantKind::Correct {
                    "the correct variant"
                } else {
                    "fix"
                };
                let mark = if holds { "holds" } else { "DOES NOT HOLD" };
                say!(
                    out,
                    "    {label} `{}` {mark}: {} — {}",
                    fix.name,
                    fix.explains,
                    what_happened(&report)
                );
            }
        }
        say!(out);
    }
    if all_as_expected && !out.failed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

#[cfg(test)]
mod tests {
    use super::{Cli, echo, parse_speed};
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn speeds_are_said_as_typed() {
        let e = parse_speed("1e308").unwrap_err();
        assert!(
            e.starts_with("speed 1e308 is out of range: allowed 0.1 to 100"),
            "{e}"
        );
        assert!(parse_speed("nan").unwrap_err().contains("not a number"));
        assert!(
            parse_speed("-1")
                .unwrap_err()
                .contains("allowed 0.1 to 100")
        );
        assert_eq!(parse_speed("2.5"), Ok(2.5));
    }

    #[test]
    fn long_input_is_echoed_cut() {
        assert_eq!(echo("12345"), "12345");
        let long = "9".repeat(309);
        let shown = echo(&long);
        assert!(shown.ends_with("(309 characters)"), "{shown}");
        assert!(shown.chars().count() < 50, "{shown}");
    }
}
