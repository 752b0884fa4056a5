//! `chanlab watch`: checks the current exercise on every save (file
//! events from notify, debounced, as rustlings does), shows cargo's
//! messages as cargo prints them and then the check's result, and on a
//! pass moves on to the next exercise.
//!
//! Keys (single presses, the terminal in raw mode only while waiting):
//! `h` hint, `r` the failing run live in the TUI's run panel, `t` its
//! steps (a headless replay of the failing schedule), `l` the list with
//! progress, `q` (or Ctrl-C) quit. A hung-up terminal ends it.

use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use crossbeam_channel as cb;
use crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use crossterm::terminal::{disable_raw_mode, enable_raw_mode};
use notify_debouncer_mini::notify::RecursiveMode;
use notify_debouncer_mini::{DebounceEventResult, new_debouncer};

use super::check::Case;
use super::exercises::{self, Exercise};
use super::harness::Outcome;
use super::progress::{Progress, Status};
use super::runner;

/// How long file events are gathered before a check starts (an editor's
/// save is often several writes and a rename).
const DEBOUNCE: Duration = Duration::from_millis(250);
/// How often the loop looks at the keyboard and the file events.
const TICK: Duration = Duration::from_millis(100);

/// What the last check of the current exercise left.
struct Last {
    exercise: &'static Exercise,
    harness: Option<PathBuf>,
    outcome: Option<Outcome>,
}

/// The terminal in raw mode while it lives (keys come one at a time).
struct Raw(bool);

impl Raw {
    fn on(&mut self) {
        if !self.0 && enable_raw_mode().is_ok() {
            self.0 = true;
        }
    }

    fn off(&mut self) {
        if self.0 {
            let _ = disable_raw_mode();
            self.0 = false;
        }
    }
}

impl Drop for Raw {
    fn drop(&mut self) {
        self.off();
    }
}

fn out(text: &str) {
    let mut stdout = io::stdout().lock();
    let _ = writeln!(stdout, "{text}");
    let _ = stdout.flush();
}

fn clear_screen() {
    let mut stdout = io::stdout().lock();
    let _ = write!(stdout, "\x1b[2J\x1b[H");
    let _ = stdout.flush();
}

fn keys_line(last: Option<&Last>) -> String {
    let failed = last
        .and_then(|l| l.outcome.as_ref())
        .is_some_and(|o| !o.passed && o.case.is_some());
    let replay = if failed {
        " · r watch it live · t its steps"
    } else {
        ""
    };
    format!("\n── h hint{replay} · l list · q quit ── (save the file to check it again)")
}

/// What happened while waiting.
enum Input {
    Key(char),
    Changed,
    Quit,
    Nothing,
}

/// Waits up to [`TICK`] for a key (raw mode) or a file event for `file`.
fn wait(raw: &mut Raw, changes: &cb::Receiver<Vec<PathBuf>>, file: &str) -> Input {
    if let Ok(paths) = changes.try_recv()
        && paths
            .iter()
            .any(|p| p.file_name().is_some_and(|n| n == file))
    {
        return Input::Changed;
    }
    raw.on();
    match key_ready(TICK) {
        Ready::Gone => return Input::Quit,
        Ready::No => return Input::Nothing,
        Ready::Yes => {}
    }
    match event::read() {
        Ok(Event::Key(key)) if key.kind != KeyEventKind::Release => match key.code {
            KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => Input::Quit,
            KeyCode::Char(c) => Input::Key(c.to_ascii_lowercase()),
            KeyCode::Esc => Input::Quit,
            _ => Input::Nothing,
        },
        Ok(_) => Input::Nothing,
        Err(_) => Input::Quit,
    }
}

enum Ready {
    Yes,
    No,
    /// The terminal hung up.
    Gone,
}

/// Is a key there within `timeout`? Polls stdin itself, to see a hang-up
/// (crossterm's own poll spins once its terminal is gone).
#[cfg(unix)]
fn key_ready(timeout: Duration) -> Ready {
    use rustix::event::{PollFd, PollFlags, Timespec, poll};
    let stdin = rustix::stdio::stdin();
    let mut fds = [PollFd::new(&stdin, PollFlags::IN)];
    let timeout = Timespec::try_from(timeout).ok();
    let polled = poll(&mut fds, timeout.as_ref());
    let revents = fds[0].revents();
    if revents.intersects(PollFlags::HUP | PollFlags::ERR | PollFlags::NVAL) {
        Ready::Gone
    } else if polled.is_ok_and(|n| n > 0) && revents.contains(PollFlags::IN) {
        Ready::Yes
    } else {
        Ready::No
    }
}

#[cfg(not(unix))]
fn key_ready(timeout: Duration) -> Ready {
    match event::poll(timeout) {
        Ok(true) => Ready::Yes,
        Ok(false) => Ready::No,
        Err(_) => Ready::Gone,
    }
}

/// Builds and checks `exercise`, printing cargo's and the check's output.
fn check(workbook: &Path, exercise: &'static Exercise) -> Result<Last, String> {
    out(&format!(
        "chanlab watch · exercise {} of {} · {}\n{}: {}\n",
        exercise.number,
        exercises::catalog().len(),
        exercise.title,
        exercise.path(),
        exercise.task
    ));
    let built = runner::build(workbook, &[exercise])?;
    let Some(harness) = built.harness(exercise).map(Path::to_path_buf) else {
        out(&format!(
            "✗ {} does not compile (cargo's messages above); fix it and save",
            exercise.path()
        ));
        return Ok(Last {
            exercise,
            harness: None,
            outcome: None,
        });
    };
    let (_, outcome) = runner::run(workbook, &harness, exercise, &[])?;
    Ok(Last {
        exercise,
        harness: Some(harness),
        outcome,
    })
}

/// Watches the workbook at `workbook` until the learner quits.
pub fn watch(workbook: &Path) -> Result<ExitCode, String> {
    if !io::stdin().is_terminal() || !io::stdout().is_terminal() {
        return Err(
            "`chanlab watch` needs a terminal (it reads single keys); use `chanlab verify` to \
             check without one"
                .to_owned(),
        );
    }
    let mut progress = Progress::load(workbook)?;
    let (tx, changes) = cb::unbounded::<Vec<PathBuf>>();
    let mut debouncer = new_debouncer(DEBOUNCE, move |result: DebounceEventResult| {
        if let Ok(events) = result {
            let _ = tx.send(events.into_iter().map(|e| e.path).collect());
        }
    })
    .map_err(|e| format!("cannot watch the exercise files: {e}"))?;
    debouncer
        .watcher()
        .watch(&workbook.join("exercises"), RecursiveMode::NonRecursive)
        .map_err(|e| format!("cannot watch {}: {e}", workbook.join("exercises").display()))?;
    let mut raw = Raw(false);
    let mut last: Option<Last> = None;
    let mut check_now = true;
    let mut fresh_screen = true;
    loop {
        if check_now {
            raw.off();
            if fresh_screen {
                clear_screen();
            }
            let exercise = exercises::find(progress.current)
                .or_else(|| exercises::catalog().first())
                .ok_or("the workbook has no exercises")?;
            let checked = check(workbook, exercise)?;
            check_now = false;
            fresh_screen = true;
            if checked.outcome.as_ref().is_some_and(|o| o.passed) {
                progress.set(exercise.number, Status::Passed);
                if let Some(next) = progress.next_pending_after(exercise.number) {
                    progress.current = next;
                    progress.save(workbook)?;
                    let next = exercises::find(next).map_or_else(String::new, Exercise::label);
                    out(&format!(
                        "\n✓ exercise {} passed: on to {next}\n",
                        exercise.label()
                    ));
                    check_now = true;
                    fresh_screen = false;
                    last = Some(checked);
                    continue;
                }
                progress.save(workbook)?;
                out(&format!(
                    "\n✓ exercise {} passed, and with it every exercise: well done. \
                     `chanlab solution N` shows a solution of each.",
                    exercise.label()
                ));
            } else {
                progress.set(exercise.number, Status::Pending);
                progress.save(workbook)?;
            }
            last = Some(checked);
            out(&keys_line(last.as_ref()));
        }
        let file = exercises::find(progress.current).map_or_else(String::new, Exercise::file);
        match wait(&mut raw, &changes, &file) {
            Input::Nothing => {}
            Input::Quit | Input::Key('q') => break,
            Input::Changed => check_now = true,
            Input::Key(key) => {
                raw.off();
                on_key(key, workbook, last.as_ref(), &progress);
                out(&keys_line(last.as_ref()));
            }
        }
    }
    raw.off();
    out("");
    Ok(ExitCode::SUCCESS)
}

fn on_key(key: char, workbook: &Path, last: Option<&Last>, progress: &Progress) {
    match key {
        'h' => {
            if let Some(exercise) = exercises::find(progress.current) {
                out(&format!(
                    "\nhint ({}):\n{}",
                    exercise.label(),
                    super::wrap(exercise.hint, 78)
                ));
            }
        }
        'l' => out(&format!("\n{}", super::list(progress))),
        'r' | 't' => replay(key == 'r', workbook, last),
        _ => {}
    }
}

/// `r` (live) or `t` (steps): the failing case of the last check.
fn replay(live: bool, workbook: &Path, last: Option<&Last>) {
    let Some(last) = last else { return };
    let (Some(harness), Some(outcome)) = (&last.harness, &last.outcome) else {
        out("\nnothing to replay: the exercise did not compile");
        return;
    };
    let Some(spec) = outcome.case.as_deref().filter(|_| !outcome.passed) else {
        out("\nnothing to replay: the last check passed");
        return;
    };
    let free = Case::parse(spec).is_ok_and(|c| !c.mode.is_scheduled());
    if live {
        if free {
            out("\n(that run was free-running: the live view runs it again, without its schedule)");
        }
        if let Err(e) = runner::run_attached(workbook, harness, &["--case", spec, "--live"]) {
            out(&format!("\n{e}"));
        }
        clear_screen();
        out(&format!(
            "back from the live view of {}, {spec}",
            last.exercise.label()
        ));
    } else {
        out("");
        if let Err(e) = runner::run(workbook, harness, last.exercise, &["--case", spec]) {
            out(&format!("\n{e}"));
        }
    }
}
