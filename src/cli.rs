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
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Args, CommandFactory, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::lab::{ChannelKind, Config, EventKind, Lab, Report, Snapshot, stage_of};
use crate::lessons::{self, Expect, Knobs, Lesson, Outcome, Variant, VariantKind};

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
    Run(RunArgs),
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

/// Options of `chanlab run`. The knobs are kept as typed and checked
/// against the lesson's ranges once the lesson is known (see [`knobs_for`]).
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Lesson number (`1`, `01`) or name (`pipeline`).
    #[arg(allow_negative_numbers = true)]
    pub lesson: String,
    /// Run a trap (or a fix) instead of the correct variant; `chanlab traps` lists them.
    #[arg(long, value_name = "NAME")]
    pub trap: Option<String>,
    /// How many items flow through (jobs, requests, messages).
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub items: Option<String>,
    /// Buffer size of the lesson's channels (0 = rendezvous).
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub buffer: Option<String>,
    /// Workers in the parallel stage (subscribers for broadcast).
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub workers: Option<String>,
    /// Seed for the simulated work's durations.
    #[arg(long, value_name = "S", allow_negative_numbers = true)]
    pub seed: Option<String>,
    /// Speed factor for simulated work and timers, 0.1 to 100 (up to 10
    /// live). Default: 1 in the live view, paced to be watched; 10 with
    /// --headless, where nobody watches the pace.
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
        None => open_workbook(None, None, None, 1.0),
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
    let mut s = String::new();
    for l in catalog {
        let _ = writeln!(s, "{:02}  {:<16} {}", l.number, l.slug, l.summary);
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
pub fn knobs_for(lesson: &Lesson, args: &RunArgs) -> Result<Knobs, InputError> {
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

fn run(args: &RunArgs) -> Result<ExitCode, InputError> {
    let lesson = find_lesson(&args.lesson)?;
    let variant = variant_of(lesson, args.trap.as_deref())?;
    let knobs = knobs_for(lesson, args)?;
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
        return open_workbook(Some(lesson), Some(variant), Some(knobs), speed);
    }
    let config = Config {
        speed,
        events: 1 << 16,
        ..Config::default()
    };
    // A status line on a terminal's stderr; progress lines on stdout
    // unless that status line is drawn on the same terminal.
    let on_terminal = io::stdout().is_terminal();
    let bar = io::stderr().is_terminal();
    let progress = Progress {
        lines: !(on_terminal && bar),
        bar,
        every: Duration::from_secs(1),
    };
    let mut stdout = io::stdout().lock();
    let mut out = Out::new(&mut stdout);
    let code = headless(lesson, variant, knobs, config, progress, &mut out);
    Ok(out.done(code))
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
        ..crate::tui::Launch::default()
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
pub fn headless(
    lesson: &'static Lesson,
    variant: &'static Variant,
    knobs: Knobs,
    config: Config,
    progress: Progress,
    out: &mut Out<'_>,
) -> ExitCode {
    say!(
        out,
        "lesson {} — {} ({}): {}",
        lesson.label(),
        variant.name,
        variant.kind.label(),
        variant.summary
    );
    say!(
        out,
        "knobs: items {}, buffer {}, workers {}, seed {}, speed {}x",
        knobs.items,
        knobs.buffer,
        knobs.workers,
        knobs.seed,
        config.speed
    );
    let hidden = lesson.hidden(variant, &knobs);
    if let Some(why) = &hidden {
        say!(out, "{why}");
    }
    say!(out);
    if out.failed() {
        return ExitCode::from(CUT_SHORT);
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
        timeline.print(out, run.lab());
        let now = Instant::now();
        let line_due = progress.lines && now >= next_line;
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
                status.0.set_message(format!("{at:.1}s  {counts}"));
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
            return ExitCode::from(CUT_SHORT);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let wall = started.elapsed();
    let lab = run.lab().clone();
    let report = run.wait();
    timeline.print(out, &lab);
    out.bar = None;
    drop(status);
    if timeline.cleanup > 0 {
        say!(
            out,
            "          … then the lab's cleanup: the run was aborted, {} teardown \
             events (workers woken, channels closed by the abort) not shown",
            timeline.cleanup
        );
    }
    say!(out);
    say!(
        out,
        "through the channels (sent/received): {}; {:.1}s of lesson time in {:.1}s",
        through(&report.snapshot),
        report.snapshot.elapsed.as_secs_f64(),
        wall.as_secs_f64()
    );
    let broken = summarize(&report, hidden.as_deref(), out);
    if broken {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
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
