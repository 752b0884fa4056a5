//! The event loop: terminal setup and restore, keys with a timeout,
//! snapshots at up to 30 frames a second, starting and stopping runs.
//!
//! The terminal is restored on every way out: a normal quit, an error,
//! Ctrl-C (a key in raw mode), SIGTERM/SIGINT/SIGHUP (a flag the loop
//! checks), and a panic on any thread that is not a lab worker (a lab
//! worker's panic is a verdict, and the TUI goes on to show it).

use std::io::{self, IsTerminal, Stdout};
use std::sync::Arc;
use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use crossterm::event::{self, Event};
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
use crate::lab::{Config, Run, is_lab_worker};
use crate::lessons::{self, Outcome};

/// Time between two snapshots while a run is live (30 frames a second).
const FRAME: Duration = Duration::from_millis(33);
/// Time between two redraws when nothing runs.
const IDLE_FRAME: Duration = Duration::from_millis(100);

/// True while the terminal is in raw mode on the alternate screen.
static TERMINAL_TAKEN: AtomicBool = AtomicBool::new(false);
static PANIC_HOOK: Once = Once::new();

/// Runs the TUI until the learner quits. Call it only when stdout is a
/// terminal.
pub fn run(launch: Launch) -> io::Result<()> {
    let mut app = App::new(lessons::catalog(), Theme::from_env()).with_speed(launch.speed);
    let first = match launch.lesson {
        Some(lesson) => app.open_lesson(lesson, launch.variant, launch.knobs),
        None => Action::None,
    };
    let signals = Signals::register()?;
    let mut screen = Screen::take()?;
    let mut runner = Runner::default();
    let result = event_loop(&mut app, &mut screen.terminal, &mut runner, &signals, first);
    // Give the shell back first, and Ctrl-C / SIGTERM their usual meaning,
    // then wind the run down (a run that will not stop can still be killed).
    drop(screen);
    signals.unregister();
    drop(runner);
    result
}

fn event_loop(
    app: &mut App,
    terminal: &mut Terminal<CrosstermBackend<Stdout>>,
    runner: &mut Runner,
    signals: &Signals,
    first: Action,
) -> io::Result<()> {
    let size = terminal.size()?;
    app.on_resize(size.width, size.height);
    runner.apply(first, app);
    let mut next_frame = Instant::now();
    loop {
        if signals.raised() || app.should_quit() {
            return Ok(());
        }
        if !TERMINAL_TAKEN.load(Ordering::SeqCst) {
            return Err(io::Error::other("a panic ended the TUI"));
        }
        let now = Instant::now();
        if now >= next_frame {
            runner.sample(app);
            terminal.draw(|frame| ui::render(app, frame))?;
            next_frame = now + if runner.is_live() { FRAME } else { IDLE_FRAME };
        }
        let timeout = next_frame.saturating_duration_since(Instant::now());
        if wait_for_input(timeout) == Input::Gone {
            return Ok(()); // the terminal hung up: nobody is left to draw for
        }
        // Ask crossterm only with a zero timeout: once the terminal is gone
        // its poll would spin forever (crossterm issue #793).
        while event::poll(Duration::ZERO)? {
            handle(event::read()?, app, terminal, runner)?;
        }
    }
}

/// Answers one terminal event.
fn handle(
    event: Event,
    app: &mut App,
    terminal: &mut Terminal<CrosstermBackend<Stdout>>,
    runner: &mut Runner,
) -> io::Result<()> {
    match event {
        Event::Key(key) => {
            let action = app.on_key(key);
            runner.apply(action, app);
            if !app.should_quit() {
                // Answer the key at once; the next snapshot comes on time.
                terminal.draw(|frame| ui::render(app, frame))?;
            }
        }
        Event::Resize(width, height) => {
            app.on_resize(width, height);
            terminal.autoresize()?;
            terminal.draw(|frame| ui::render(app, frame))?;
        }
        _ => {}
    }
    Ok(())
}

/// What waiting on the terminal's input found.
#[derive(Debug, PartialEq, Eq)]
enum Input {
    /// Input may be there, or the wait timed out: ask crossterm.
    Maybe,
    /// The terminal hung up (its window closed, its tmux pane killed).
    Gone,
}

/// Waits up to `timeout` for input on stdin, watching for a hang-up.
/// (Resize events reach crossterm through a signal, not stdin: they are
/// picked up by the zero-timeout poll after this returns, within a frame.)
#[cfg(unix)]
fn wait_for_input(timeout: Duration) -> Input {
    use rustix::event::{PollFd, PollFlags, Timespec, poll};
    let stdin = rustix::stdio::stdin();
    let mut fds = [PollFd::new(&stdin, PollFlags::IN)];
    let timeout = Timespec::try_from(timeout).unwrap_or(Timespec {
        tv_sec: 0,
        tv_nsec: 33_000_000,
    });
    match poll(&mut fds, Some(&timeout)) {
        Ok(_)
            if fds[0]
                .revents()
                .intersects(PollFlags::HUP | PollFlags::ERR | PollFlags::NVAL) =>
        {
            Input::Gone
        }
        _ => Input::Maybe,
    }
}

/// Elsewhere crossterm's own wait is used.
#[cfg(not(unix))]
fn wait_for_input(timeout: Duration) -> Input {
    let _ = event::poll(timeout);
    Input::Maybe
}

/// The current run and the old ones still winding down.
#[derive(Default)]
struct Runner {
    run: Option<Run<Outcome>>,
    next_event: u64,
    stopping: Vec<thread::JoinHandle<()>>,
}

impl Runner {
    fn is_live(&self) -> bool {
        self.run.is_some()
    }

    fn apply(&mut self, action: Action, app: &App) {
        match action {
            Action::StartRun => {
                self.stop();
                if let Some(request) = app.run_request() {
                    let config = Config {
                        speed: request.speed,
                        start_paused: request.paused,
                        ..Config::default()
                    };
                    self.run = Some(request.lesson.start(request.variant, request.knobs, config));
                    self.next_event = 0;
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

    /// Hands the app the run's state: a snapshot while it runs, the report
    /// once it is over. Neither waits for a worker.
    fn sample(&mut self, app: &mut App) {
        let Some(run) = &self.run else {
            return;
        };
        let finished = run.is_finished();
        let batch = run.lab().events_since(self.next_event);
        self.next_event = batch
            .events
            .last()
            .map_or(self.next_event + batch.skipped, |e| e.seq + 1);
        if finished {
            if let Some(run) = self.run.take() {
                app.on_finished(run.wait(), batch);
            }
        } else {
            app.on_snapshot(run.lab().snapshot(), batch);
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
                restore_terminal();
            }
            previous(info);
        }));
    });
}

/// Termination signals, turned into a flag the loop checks each frame.
struct Signals {
    raised: Arc<AtomicBool>,
    ids: Vec<signal_hook::SigId>,
}

impl Signals {
    fn register() -> io::Result<Self> {
        let raised = Arc::new(AtomicBool::new(false));
        let mut ids = Vec::new();
        for signal in [
            signal_hook::consts::SIGTERM,
            signal_hook::consts::SIGINT,
            #[cfg(unix)]
            signal_hook::consts::SIGHUP,
        ] {
            ids.push(signal_hook::flag::register(signal, Arc::clone(&raised))?);
        }
        Ok(Self { raised, ids })
    }

    fn raised(&self) -> bool {
        self.raised.load(Ordering::SeqCst)
    }

    /// Gives the signals their default meaning back.
    fn unregister(self) {
        for id in self.ids {
            signal_hook::low_level::unregister(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::{Lab, Verdict};

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
