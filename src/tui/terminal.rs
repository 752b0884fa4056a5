//! The event loop: terminal setup and restore, keys, and snapshots at up to
//! 30 frames a second while a run moves — and no redraw at all while
//! nothing changes (a paused or finished run, the lesson list).
//!
//! The terminal is restored on every way out: a quit key (q, Esc, Ctrl-C),
//! an error, SIGINT/SIGTERM/SIGHUP/SIGQUIT (ending with 128 + the signal's
//! number, as shells expect), a hung-up terminal, and a panic on any thread
//! that is not a lab worker (a lab worker's panic is a verdict, and the TUI
//! goes on to show it). Ctrl-Z and SIGTSTP give the terminal back and stop
//! the process with the run paused; SIGCONT takes the terminal again,
//! redraws everything and lets the run go on as it was.

use std::ffi::OsStr;
use std::io::{self, IsTerminal, Stdout};
use std::sync::Arc;
use std::sync::Once;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use crossterm::event::{self, Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

use super::Launch;
use super::app::{Action, App};
use super::theme::Theme;
use super::ui;
use crate::lab::{Run, is_lab_worker};
use crate::lessons::{self, Outcome};

/// Time between two snapshots while a run is live (30 frames a second).
const FRAME: Duration = Duration::from_millis(33);
/// Time between two snapshots while a run is paused: only a step, a
/// verdict or the lesson's end can change the picture, and those may come
/// a tenth of a second late.
const PAUSED_FRAME: Duration = Duration::from_millis(100);
/// Time between two looks while a rewind re-executes its steps: it takes
/// some milliseconds (10 000 steps ≈ 50 ms), and the view looks without
/// waiting, so keys and signals are answered meanwhile.
const SEEK_POLL: Duration = Duration::from_millis(4);
/// A rewind that has not reached its step by then is shown as it is.
const SEEK_PATIENCE: Duration = Duration::from_secs(5);

/// True while the terminal is in raw mode on the alternate screen.
static TERMINAL_TAKEN: AtomicBool = AtomicBool::new(false);
/// Set by the panic hook when a thread of the TUI (not a lab worker)
/// panicked: the loop ends instead of drawing over the message.
static TUI_PANICKED: AtomicBool = AtomicBool::new(false);
static PANIC_HOOK: Once = Once::new();

/// How the TUI ended, for the process's exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// The learner quit with a key (q, Esc, or Ctrl-C, which raw mode
    /// delivers as a key, not as SIGINT).
    Quit,
    /// A signal ended it (its number), or the terminal hung up (as SIGHUP).
    Signal(i32),
}

impl Exit {
    /// 0 for a quit; 128 + the signal's number after a signal (130 SIGINT,
    /// 129 SIGHUP, 131 SIGQUIT, 143 SIGTERM), as a shell reports a program a
    /// signal ended, so `chanlab && next` stops there.
    #[must_use]
    pub fn code(self) -> u8 {
        match self {
            Self::Quit => 0,
            Self::Signal(signo) => u8::try_from(128 + signo.clamp(0, 127)).unwrap_or(u8::MAX),
        }
    }
}

/// Why this terminal cannot show the live view, if it cannot. `TERM=dumb`
/// (an editor's shell buffer, some IDE consoles) and an unset `TERM` promise
/// no cursor movement, so the full-screen view would print as garbage; the
/// headless timeline reads fine there.
#[must_use]
pub fn terminal_refusal(term: Option<&OsStr>) -> Option<String> {
    let headless = "use `chanlab run N --headless` for a plain timeline, or `chanlab list`";
    match term.map(OsStr::to_string_lossy) {
        None => Some(format!(
            "TERM is not set, so the live view cannot tell what this terminal can draw; \
             set it (e.g. TERM=xterm-256color), or {headless}"
        )),
        Some(t) if t.trim().is_empty() => Some(format!(
            "TERM is empty, so the live view cannot tell what this terminal can draw; \
             set it (e.g. TERM=xterm-256color), or {headless}"
        )),
        Some(t) if t.eq_ignore_ascii_case("dumb") => Some(format!(
            "this terminal (TERM=dumb) cannot draw the live view; {headless}"
        )),
        Some(_) => None,
    }
}

/// Runs the TUI until the learner quits or a signal ends it. Call it only
/// when stdout is a terminal.
pub fn run(launch: Launch) -> io::Result<Exit> {
    let mut app = App::new(lessons::catalog(), Theme::from_env())
        .with_speed(launch.speed)
        .with_launch(launch.schedule, launch.free);
    let first = match launch.lesson {
        Some(lesson) => app.open_lesson(lesson, launch.variant, launch.knobs),
        None => Action::None,
    };
    let signals = Signals::register()?;
    let mut screen = Screen::take()?;
    let mut runner = Runner::default();
    let result = event_loop(&mut app, &mut screen, &mut runner, &signals, first);
    // Give the shell back first, and the signals their usual meaning (a
    // second Ctrl-C or SIGTERM ends a run that will not stop), then wind
    // the run down.
    drop(screen);
    drop(signals);
    drop(runner);
    result
}

fn event_loop(
    app: &mut App,
    screen: &mut Screen,
    runner: &mut Runner,
    signals: &Signals,
    first: Action,
) -> io::Result<Exit> {
    let size = screen.terminal.size()?;
    app.on_resize(size.width, size.height);
    runner.apply(first, app);
    let mut dirty = true;
    let mut next_sample = Instant::now();
    loop {
        if let Some(signo) = signals.ending() {
            return Ok(Exit::Signal(signo));
        }
        if app.should_quit() {
            return Ok(Exit::Quit);
        }
        if TUI_PANICKED.load(Ordering::SeqCst) {
            return Err(io::Error::other("a panic ended the TUI"));
        }
        if signals.take_suspend() {
            suspend(app, screen, runner, Stop::Myself)?;
            signals.take_continued(); // the resume just done answers it
            dirty = true;
        }
        if signals.take_continued() {
            // Stopped by something we could not catch (SIGSTOP): the shell
            // may have put the terminal back in cooked mode meanwhile.
            screen.retake(app)?;
            dirty = true;
        }
        if signals.take_resized() {
            // Read the size here: crossterm's own resize event may come
            // later than the wake-up (its handler can run after ours).
            let size = screen.terminal.size()?;
            app.on_resize(size.width, size.height);
            screen.terminal.autoresize()?;
            dirty = true;
        }
        if runner.is_live() && Instant::now() >= next_sample {
            dirty |= runner.sample(app);
            next_sample = Instant::now()
                + if runner.is_seeking() {
                    SEEK_POLL
                } else if app.paused() {
                    PAUSED_FRAME
                } else {
                    FRAME
                };
        }
        if dirty {
            screen.terminal.draw(|frame| ui::render(app, frame))?;
            dirty = false;
        }
        // With no run there is nothing to sample: sleep until a key, a
        // resize or a signal.
        let timeout = runner
            .is_live()
            .then(|| next_sample.saturating_duration_since(Instant::now()));
        if wait_for_input(timeout, signals) == Input::Gone {
            // The terminal hung up: nobody is left to draw for.
            return Ok(Exit::Signal(signal_hook::consts::SIGHUP));
        }
        // Ask crossterm only with a zero timeout: once the terminal is gone
        // its poll would spin forever (crossterm issue #793).
        while event::poll(Duration::ZERO)? {
            match event::read()? {
                Event::Key(key) if is_suspend_key(&key) => {
                    suspend(app, screen, runner, Stop::Job)?;
                    signals.take_continued();
                }
                Event::Key(key) => {
                    let action = app.on_key(key);
                    runner.apply(action, app);
                    // Show what the key did to the run without waiting a frame.
                    next_sample = Instant::now();
                }
                Event::Resize(width, height) => {
                    app.on_resize(width, height);
                    screen.terminal.autoresize()?;
                }
                _ => continue,
            }
            dirty = true;
        }
    }
}

/// Ctrl-Z. Raw mode turns the terminal's suspend character into a key, so
/// the TUI does what the terminal would have done.
fn is_suspend_key(key: &KeyEvent) -> bool {
    key.kind != KeyEventKind::Release
        && key.modifiers.contains(KeyModifiers::CONTROL)
        && matches!(key.code, KeyCode::Char('z' | 'Z'))
}

/// Who stops on a suspend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// SIGTSTP was sent to this process: it stops, as by default.
    Myself,
    /// Ctrl-Z: the whole job stops, as the terminal stops its foreground
    /// job (under `cargo run`, cargo too, so that the shell sees the job
    /// stop and takes the terminal).
    Job,
}

/// Gives the terminal back, stops until SIGCONT (`fg`), then takes the
/// terminal again and redraws. The run is paused meanwhile — lesson time
/// stands still — and goes on as it was.
#[cfg(unix)]
fn suspend(app: &mut App, screen: &mut Screen, runner: &Runner, stop: Stop) -> io::Result<()> {
    if stop == Stop::Job && !has_job_control() {
        app.warn_user("not suspending: no job-control shell could resume chanlab".to_owned());
        return Ok(());
    }
    let held = runner.hold();
    // The shell's screen, a visible cursor, cooked mode: as on quit.
    restore_terminal();
    // Both calls return once the process is continued.
    let _ = match stop {
        Stop::Myself => {
            signal_hook::low_level::emulate_default_handler(signal_hook::consts::SIGTSTP)
        }
        Stop::Job => rustix::process::kill_current_process_group(rustix::process::Signal::STOP)
            .map_err(io::Error::from),
    };
    let retaken = screen.retake(app);
    runner.unhold(held);
    retaken
}

/// Elsewhere there is no job control to hand the terminal to.
#[cfg(not(unix))]
fn suspend(app: &mut App, _: &mut Screen, _: &Runner, _: Stop) -> io::Result<()> {
    app.warn_user("not suspending: this system has no job control".to_owned());
    Ok(())
}

/// True when a job-control shell started this process: it gives each job a
/// process group of its own, apart from the session's first. A process left
/// in that group (a tmux pane's own command, a shell without job control)
/// has nobody to `fg` it, and stopping it would hang its terminal.
#[cfg(unix)]
fn has_job_control() -> bool {
    rustix::process::getsid(None).is_ok_and(|sid| sid != rustix::process::getpgrp())
}

/// What waiting on the terminal's input found.
#[derive(Debug, PartialEq, Eq)]
enum Input {
    /// Input may be there, a signal came, or the wait timed out: look.
    Maybe,
    /// The terminal hung up (its window closed, its tmux pane killed).
    Gone,
}

/// Waits on stdin until input, a signal (through the self-pipe every
/// signal we catch writes to, SIGWINCH too), or `timeout` (`None`: no
/// limit), watching for a hang-up.
#[cfg(unix)]
fn wait_for_input(timeout: Option<Duration>, signals: &Signals) -> Input {
    use rustix::event::{PollFd, PollFlags, Timespec, poll};
    let stdin = rustix::stdio::stdin();
    let mut fds = [
        PollFd::new(&stdin, PollFlags::IN),
        PollFd::new(&signals.wake, PollFlags::IN),
    ];
    let timeout = timeout.map(|t| {
        Timespec::try_from(t).unwrap_or(Timespec {
            tv_sec: 0,
            tv_nsec: 33_000_000,
        })
    });
    let polled = poll(&mut fds, timeout.as_ref());
    let hung_up = fds[0]
        .revents()
        .intersects(PollFlags::HUP | PollFlags::ERR | PollFlags::NVAL);
    if !fds[1].revents().is_empty() {
        signals.drain_wake();
    }
    match polled {
        Ok(_) if hung_up => Input::Gone,
        _ => Input::Maybe,
    }
}

/// Elsewhere crossterm's own wait is used, a frame at a time so that
/// signal flags are seen.
#[cfg(not(unix))]
fn wait_for_input(timeout: Option<Duration>, _: &Signals) -> Input {
    let _ = event::poll(timeout.unwrap_or(PAUSED_FRAME).min(PAUSED_FRAME));
    Input::Maybe
}

/// A rewind under way: the run re-executes its steps unpaced and is shown
/// only once it stands still at its step.
struct Seek {
    /// Let the run go on from there (playing: the learner picks next).
    resume: bool,
    since: Instant,
}

/// The current run and the old ones still winding down.
#[derive(Default)]
struct Runner {
    run: Option<Run<Outcome>>,
    next_event: u64,
    stopping: Vec<thread::JoinHandle<()>>,
    seek: Option<Seek>,
    /// The step of the last trace handed to the app.
    traced: Option<u64>,
}

impl Runner {
    fn is_live(&self) -> bool {
        self.run.is_some()
    }

    fn is_seeking(&self) -> bool {
        self.seek.is_some()
    }

    fn apply(&mut self, action: Action, app: &mut App) {
        match action {
            Action::StartRun => {
                self.stop();
                if let Some(request) = app.run_request() {
                    let config = request.config();
                    self.seek = request.seeks().then(|| Seek {
                        resume: request.resume_when_still,
                        since: Instant::now(),
                    });
                    self.run = Some(request.lesson.start(request.variant, request.knobs, config));
                    self.next_event = 0;
                    self.traced = None;
                }
            }
            Action::Choose(choice) => {
                if let Some(run) = &self.run
                    && let Err(why) = run.lab().choose(choice)
                {
                    app.warn_user(format!("that pick did not run: {why}"));
                }
            }
            Action::StopRun => self.stop(),
            Action::SetPaused(paused) => {
                if let Some(run) = &self.run {
                    run.lab().set_paused(paused);
                }
            }
            Action::Step => {
                if let Some(run) = &self.run {
                    run.lab().step();
                }
            }
            Action::SetSpeed(speed) => {
                if let Some(run) = &self.run {
                    run.lab().set_speed(speed);
                }
            }
            Action::Quit | Action::None => {}
        }
    }

    /// Hands the app the run's state: the report once it is over, else a
    /// snapshot when it shows something new (a paused run's does not).
    /// Neither waits for a worker. True when the app got something.
    fn sample(&mut self, app: &mut App) -> bool {
        let Some(run) = &self.run else {
            return false;
        };
        let finished = run.is_finished();
        let mut resume = false;
        if let Some(seek) = &self.seek {
            // Never wait: look, and come back in a few milliseconds.
            let still = finished || run.lab().wait_still(Duration::ZERO);
            if !still && seek.since.elapsed() < SEEK_PATIENCE {
                return false;
            }
            resume = seek.resume && !finished;
            self.seek = None;
        }
        let delivered = self.deliver(app, finished);
        if resume && let Some(run) = &self.run {
            run.lab().set_paused(false);
        }
        delivered || resume
    }

    /// Hands the app the run's picture, its trace when its step moved and,
    /// while the learner plays the scheduler, who can go next.
    fn deliver(&mut self, app: &mut App, finished: bool) -> bool {
        let Some(run) = &self.run else {
            return false;
        };
        let batch = run.lab().events_since(self.next_event);
        self.next_event = batch
            .events
            .last()
            .map_or(self.next_event + batch.skipped, |e| e.seq + 1);
        if finished {
            if let Some(run) = self.run.take() {
                app.on_finished(run.wait(), batch);
            }
            return true;
        }
        let lab = run.lab();
        let snapshot = lab.snapshot();
        let step = snapshot.schedule.as_ref().map(|s| s.step);
        let shown = app.lesson().and_then(|view| view.live.snapshot.as_ref());
        if batch.events.is_empty()
            && batch.skipped == 0
            && shown == Some(&snapshot)
            && app.steering().seek.is_none()
        {
            return false;
        }
        app.on_snapshot(snapshot, batch);
        if step.is_some() && step != self.traced {
            if let Some(trace) = lab.trace() {
                app.on_trace(&trace);
            }
            self.traced = step;
        }
        if lab
            .schedule()
            .is_some_and(|s| s.strategy == crate::lab::Strategy::Manual)
        {
            // Read after the snapshot: if the run moves on in between, the
            // next snapshot differs and brings the new list.
            app.on_next_ops(lab.next_ops());
        }
        true
    }

    /// Pauses a running run while the process is stopped, so that it does
    /// not go on unseen. True when it was running (and so must go on).
    fn hold(&self) -> bool {
        match &self.run {
            Some(run) if !run.lab().is_paused() => {
                run.lab().set_paused(true);
                true
            }
            _ => false,
        }
    }

    /// Puts the run back as it was before [`Runner::hold`].
    fn unhold(&self, held: bool) {
        if let (true, Some(run)) = (held, &self.run) {
            run.lab().set_paused(false);
        }
    }

    /// Stops the run without making the learner wait: dropping a run stops
    /// it and joins its threads, which happens on a helper thread.
    fn stop(&mut self) {
        self.stopping.retain(|h| !h.is_finished());
        if let Some(run) = self.run.take() {
            let spawned = thread::Builder::new()
                .name("chanlab-tui-stop".to_owned())
                .spawn(move || drop(run));
            // If no thread could be made, the closure and the run in it were
            // dropped right here: stopped inline, which is only slower.
            if let Ok(handle) = spawned {
                self.stopping.push(handle);
            }
        }
    }
}

impl Drop for Runner {
    fn drop(&mut self) {
        drop(self.run.take());
        for handle in self.stopping.drain(..) {
            let _ = handle.join();
        }
    }
}

/// The terminal in raw mode on the alternate screen; dropping it gives the
/// terminal back.
struct Screen {
    terminal: Terminal<CrosstermBackend<Stdout>>,
}

impl Screen {
    fn take() -> io::Result<Self> {
        install_panic_hook();
        enable_raw_mode()?;
        TERMINAL_TAKEN.store(true, Ordering::SeqCst);
        let taken = execute!(io::stdout(), EnterAlternateScreen, crossterm::cursor::Hide)
            .and_then(|()| Terminal::new(CrosstermBackend::new(io::stdout())));
        match taken {
            Ok(terminal) => Ok(Self { terminal }),
            Err(e) => {
                restore_terminal();
                Err(e)
            }
        }
    }

    /// Takes the terminal again after a stop, whatever was done to it
    /// meanwhile, and makes the next draw repaint every cell. In a
    /// background job (`bg`) the terminal stops the process here
    /// (SIGTTOU) until it is brought to the foreground.
    fn retake(&mut self, app: &mut App) -> io::Result<()> {
        // crossterm skips enabling raw mode it believes is on, but the
        // shell may have reset the terminal while the process was stopped.
        let _ = disable_raw_mode();
        enable_raw_mode()?;
        TERMINAL_TAKEN.store(true, Ordering::SeqCst);
        execute!(io::stdout(), EnterAlternateScreen, crossterm::cursor::Hide)?;
        let size = self.terminal.size()?;
        app.on_resize(size.width, size.height);
        self.terminal.autoresize()?;
        self.terminal.clear()
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        restore_terminal();
    }
}

/// Leaves raw mode and the alternate screen, once, from whichever path
/// gets here first.
fn restore_terminal() {
    if TERMINAL_TAKEN.swap(false, Ordering::SeqCst) {
        let _ = disable_raw_mode();
        if io::stdout().is_terminal() {
            let _ = execute!(io::stdout(), LeaveAlternateScreen, crossterm::cursor::Show);
        }
    }
}

/// Restores the terminal before the panic message prints, then hands over
/// to the previous hook. A lab worker's panic is left alone: the lab turns
/// it into a verdict and the TUI shows it.
fn install_panic_hook() {
    PANIC_HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !is_lab_worker() {
                TUI_PANICKED.store(true, Ordering::SeqCst);
                restore_terminal();
            }
            previous(info);
        }));
    });
}

/// The signals that end the TUI.
#[cfg(unix)]
const ENDING: [i32; 4] = [
    signal_hook::consts::SIGTERM,
    signal_hook::consts::SIGINT,
    signal_hook::consts::SIGHUP,
    signal_hook::consts::SIGQUIT,
];
#[cfg(not(unix))]
const ENDING: [i32; 2] = [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT];

/// The signals the TUI answers, turned into flags the loop checks, and a
/// byte on a self-pipe that wakes the loop's wait on stdin.
///
/// signal-hook cannot put a default action back (unregistering leaves the
/// signal ignored), so each signal also has a conditional default: once
/// dropped, every later signal does what it does by default (a second
/// SIGTERM ends a run that will not wind down; SIGTSTP stops).
struct Signals {
    /// The number of the last ending signal caught; 0 while none.
    ending: Arc<AtomicUsize>,
    /// SIGTSTP came: give the terminal back and stop.
    suspend: Arc<AtomicBool>,
    /// SIGCONT came: the terminal may have been changed while stopped.
    continued: Arc<AtomicBool>,
    /// SIGWINCH came: the terminal changed size.
    resized: Arc<AtomicBool>,
    /// Set once the TUI no longer answers signals itself.
    defaults: Arc<AtomicBool>,
    /// The read end of the self-pipe.
    #[cfg(unix)]
    wake: std::os::unix::net::UnixStream,
}

impl Signals {
    fn register() -> io::Result<Self> {
        use signal_hook::flag;
        #[cfg(unix)]
        let (wake, waker) = std::os::unix::net::UnixStream::pair()?;
        #[cfg(unix)]
        wake.set_nonblocking(true)?;
        let signals = Self {
            ending: Arc::new(AtomicUsize::new(0)),
            suspend: Arc::new(AtomicBool::new(false)),
            continued: Arc::new(AtomicBool::new(false)),
            resized: Arc::new(AtomicBool::new(false)),
            defaults: Arc::new(AtomicBool::new(false)),
            #[cfg(unix)]
            wake,
        };
        for signal in ENDING {
            flag::register_conditional_default(signal, Arc::clone(&signals.defaults))?;
            flag::register_usize(
                signal,
                Arc::clone(&signals.ending),
                usize::try_from(signal).unwrap_or(usize::MAX),
            )?;
            #[cfg(unix)]
            signal_hook::low_level::pipe::register(signal, waker.try_clone()?)?;
        }
        #[cfg(unix)]
        {
            use signal_hook::consts::{SIGCONT, SIGTSTP, SIGWINCH};
            flag::register_conditional_default(SIGTSTP, Arc::clone(&signals.defaults))?;
            flag::register(SIGTSTP, Arc::clone(&signals.suspend))?;
            flag::register(SIGCONT, Arc::clone(&signals.continued))?;
            flag::register(SIGWINCH, Arc::clone(&signals.resized))?;
            for signal in [SIGTSTP, SIGCONT, SIGWINCH] {
                signal_hook::low_level::pipe::register(signal, waker.try_clone()?)?;
            }
        }
        Ok(signals)
    }

    /// The ending signal caught, if one was.
    fn ending(&self) -> Option<i32> {
        match self.ending.load(Ordering::SeqCst) {
            0 => None,
            n => i32::try_from(n).ok(),
        }
    }

    fn take_suspend(&self) -> bool {
        self.suspend.swap(false, Ordering::SeqCst)
    }

    fn take_continued(&self) -> bool {
        self.continued.swap(false, Ordering::SeqCst)
    }

    fn take_resized(&self) -> bool {
        self.resized.swap(false, Ordering::SeqCst)
    }

    /// Empties the self-pipe (it is non-blocking), so the next wait sleeps.
    #[cfg(unix)]
    fn drain_wake(&self) {
        use std::io::Read;
        let mut buf = [0_u8; 64];
        while matches!((&self.wake).read(&mut buf), Ok(n) if n > 0) {}
    }
}

impl Drop for Signals {
    fn drop(&mut self) {
        self.defaults.store(true, Ordering::SeqCst);
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::{Config, Lab, Verdict};

    #[test]
    fn a_quit_key_exits_0_and_a_signal_128_plus_its_number() {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};
        assert_eq!(Exit::Quit.code(), 0);
        assert_eq!(Exit::Signal(SIGINT).code(), 130);
        assert_eq!(Exit::Signal(SIGHUP).code(), 129);
        assert_eq!(Exit::Signal(SIGQUIT).code(), 131);
        assert_eq!(Exit::Signal(SIGTERM).code(), 143);
        assert_eq!(Exit::Signal(500).code(), 255, "out of range stays an error");
    }

    #[test]
    fn dumb_empty_or_unset_term_is_refused_any_other_is_not() {
        let refused = |t: Option<&str>| terminal_refusal(t.map(OsStr::new));
        assert!(refused(None).is_some_and(|m| m.contains("TERM is not set")));
        assert!(refused(Some("")).is_some_and(|m| m.contains("--headless")));
        assert!(refused(Some("dumb")).is_some_and(|m| m.contains("TERM=dumb")));
        assert!(refused(Some("DUMB")).is_some());
        for term in ["xterm-256color", "screen", "vt100", "linux", "xterm-mono"] {
            assert_eq!(refused(Some(term)), None, "{term}");
        }
    }

    #[test]
    fn ctrl_z_is_the_suspend_key_z_is_not() {
        let key = |code, modifiers| KeyEvent::new(code, modifiers);
        assert!(is_suspend_key(&key(
            KeyCode::Char('z'),
            KeyModifiers::CONTROL
        )));
        assert!(!is_suspend_key(&key(
            KeyCode::Char('z'),
            KeyModifiers::NONE
        )));
        assert!(!is_suspend_key(&key(
            KeyCode::Char('c'),
            KeyModifiers::CONTROL
        )));
        let mut release = key(KeyCode::Char('z'), KeyModifiers::CONTROL);
        release.kind = KeyEventKind::Release;
        assert!(!is_suspend_key(&release));
    }

    fn app_on_lesson_1() -> App {
        let mut app = App::new(lessons::catalog(), Theme { color: false });
        app.on_resize(120, 40);
        let lesson = lessons::catalog()[0];
        assert_eq!(app.open_lesson(lesson, None, None), Action::StartRun);
        app
    }

    fn key(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
    }

    /// A suspend pauses a running run and lets it go on after; a run the
    /// learner paused stays paused.
    #[test]
    fn a_suspend_holds_a_running_run_and_leaves_a_paused_one_paused() {
        let mut app = app_on_lesson_1();
        let mut runner = Runner::default();
        runner.apply(Action::StartRun, &mut app);
        let lab = |r: &Runner| r.run.as_ref().map(|run| run.lab().is_paused());
        assert_eq!(lab(&runner), Some(false));
        let held = runner.hold();
        assert!(held);
        assert_eq!(
            lab(&runner),
            Some(true),
            "stopped: the run must not go on unseen"
        );
        runner.unhold(held);
        assert_eq!(lab(&runner), Some(false), "continued: running again");

        let pause = app.on_key(key(' '));
        runner.apply(pause, &mut app);
        assert_eq!(lab(&runner), Some(true));
        let held = runner.hold();
        assert!(!held);
        runner.unhold(held);
        assert_eq!(lab(&runner), Some(true), "the learner's pause stays");
    }

    /// A paused run's picture settles, and then sampling hands the app
    /// nothing new: no redraw, no CPU.
    #[test]
    fn a_paused_run_stops_asking_for_redraws() {
        let mut app = app_on_lesson_1();
        let mut runner = Runner::default();
        runner.apply(Action::StartRun, &mut app);
        let pause = app.on_key(key(' '));
        runner.apply(pause, &mut app);
        let deadline = Instant::now() + Duration::from_secs(10);
        while runner.sample(&mut app) {
            assert!(Instant::now() < deadline, "a paused run kept changing");
            thread::sleep(FRAME);
        }
        for _ in 0..5 {
            thread::sleep(FRAME);
            assert!(!runner.sample(&mut app), "nothing changed while paused");
        }
        let resume = app.on_key(key(' '));
        runner.apply(resume, &mut app);
        thread::sleep(FRAME);
        assert!(runner.sample(&mut app), "resumed: the picture moves again");
    }

    /// The hook wraps the lab's own (a lab exists first, as in the TUI), so
    /// its lab-worker check is what keeps the screen: a worker's panic is a
    /// verdict to show, any other panic gives the terminal back.
    #[test]
    fn only_a_panic_outside_the_lab_restores_the_terminal() {
        let _ = Lab::new(Config::default());
        install_panic_hook();
        TERMINAL_TAKEN.store(true, Ordering::SeqCst);
        let report = Lab::run(Config::default(), |lab| {
            let _ = lab.go("boom", || panic!("a trap's panic")).join();
        });
        assert!(matches!(report.verdict, Some(Verdict::Panicked { .. })));
        assert!(
            TERMINAL_TAKEN.load(Ordering::SeqCst),
            "a lab worker's panic keeps the screen"
        );
        let _ = thread::spawn(|| panic!("a bug in the TUI")).join();
        assert!(
            !TERMINAL_TAKEN.load(Ordering::SeqCst),
            "any other panic restores it"
        );
    }
}
