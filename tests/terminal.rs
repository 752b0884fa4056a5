//! The real binary in a real terminal: tmux runs `chanlab`, the test types
//! keys (`send-keys`) and reads the screen (`capture-pane`), waiting for
//! what it expects to show up (bounded polling, never a blind sleep).
//!
//! Skipped, saying so, when tmux is not installed.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// How long one expected screen may take to show up.
const PATIENCE: Duration = Duration::from_secs(10);
/// How often the screen is read while waiting.
const POLL: Duration = Duration::from_millis(100);
const SESSION: &str = "chanlab";

/// A tmux server of our own (its own socket), killed when dropped, even
/// when the test fails.
struct Tmux {
    socket: String,
    /// The socket file, removed after the server is killed (tmux leaves it).
    socket_path: Option<String>,
}

impl Tmux {
    /// A server with one 120×40 window running a plain `sh` (a shell with
    /// job control, as a learner's is); `None` when tmux is not installed.
    fn start(name: &str) -> Option<Self> {
        Self::start_with(name, "env PS1='$ ' sh")
    }

    /// A server with one 120×40 window running `command`, the pane kept
    /// (dead) when it exits.
    fn start_with(name: &str, command: &str) -> Option<Self> {
        if Command::new("tmux").arg("-V").output().is_err() {
            println!("SKIPPED: tmux is not installed, so the terminal end-to-end test did not run");
            return None;
        }
        let mut tmux = Self {
            socket: format!("chanlab-test-{}-{name}", std::process::id()),
            socket_path: None,
        };
        let out = tmux.run(&[
            "new-session",
            "-d",
            "-s",
            SESSION,
            "-x",
            "120",
            "-y",
            "40",
            command,
        ]);
        assert!(out.status.success(), "tmux new-session failed: {out:?}");
        let _ = tmux.run(&["set-option", "-t", SESSION, "remain-on-exit", "on"]);
        tmux.socket_path = Some(tmux.pane("#{socket_path}")).filter(|p| !p.is_empty());
        Some(tmux)
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .args(["-L", &self.socket, "-f", "/dev/null"])
            .args(args)
            .output()
            .expect("tmux runs")
    }

    /// Types `keys` (tmux key names: `Enter`, `q`, or literal text).
    fn send(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", SESSION];
        args.extend_from_slice(keys);
        let out = self.run(&args);
        assert!(out.status.success(), "send-keys {keys:?} failed: {out:?}");
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-t", SESSION]).stdout)
            .into_owned()
    }

    fn pane(&self, format: &str) -> String {
        let out = self.run(&["display-message", "-p", "-t", SESSION, format]);
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// Polls the screen until `ready` holds; fails with the last screen.
    fn wait_until(&self, what: &str, ready: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let screen = self.screen();
            if ready(&screen) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "waited {PATIENCE:?} for {what}; the screen:\n{screen}"
            );
            std::thread::sleep(POLL);
        }
    }

    fn wait_for(&self, text: &str) -> String {
        self.wait_until(&format!("`{text}`"), |s| s.contains(text))
    }

    /// Waits until the pane's foreground program is the shell again.
    fn wait_for_shell(&self) {
        let deadline = Instant::now() + PATIENCE;
        while self.pane("#{pane_current_command}").contains("chanlab") {
            assert!(
                Instant::now() < deadline,
                "chanlab did not exit; the screen:\n{}",
                self.screen()
            );
            std::thread::sleep(POLL);
        }
    }

    /// Proves the shell reads lines again (the terminal is out of raw mode).
    fn assert_shell_works(&self) {
        self.send(&["echo BACK-$((1+1))", "Enter"]);
        self.wait_for("BACK-2");
    }

    /// Proves the terminal is the shell's again, as a learner would see it:
    /// off the alternate screen, the cursor showing, lines edited and
    /// echoed (`stty -a` lists `icanon` and `echo`, not `-icanon`, `-echo`).
    fn assert_terminal_restored(&self) {
        assert_eq!(self.pane("#{alternate_on}"), "0", "{}", self.screen());
        assert_eq!(self.pane("#{cursor_flag}"), "1", "{}", self.screen());
        self.send(&[
            "stty -a | tr ' ' '\\n' | grep -x -e icanon -e echo | tr '\\n' ' '; echo STTY-$((2+2))",
            "Enter",
        ]);
        self.wait_for("icanon echo STTY-4");
        self.assert_shell_works();
    }

    /// Runs `command` (chanlab) in the shell, followed by `echo EXIT-$?`.
    fn run_and_report(&self, command: &str) {
        self.send(&[&format!("{command}; echo EXIT-$?"), "Enter"]);
    }

    /// Sends `signal` (a name for `kill -s`) to the shell's child, chanlab.
    /// `None` when its pid cannot be found (then the test says it skipped).
    fn kill_chanlab(&self, signal: &str) -> Option<()> {
        let shell = self.pane("#{pane_pid}");
        let Some(pid) = child_of(&shell) else {
            println!("SKIPPED: cannot find chanlab's pid under the shell (pid {shell}) in /proc");
            return None;
        };
        // The shell's own `kill`: no procps needed.
        let killed = Command::new("sh")
            .args(["-c", &format!("kill -s {signal} {pid}")])
            .status();
        assert!(killed.is_ok_and(|s| s.success()), "kill -s {signal} {pid}");
        Some(())
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
        if let Some(path) = &self.socket_path {
            let _ = std::fs::remove_file(path);
        }
    }
}

fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_chanlab")
}

#[test]
fn list_lesson_leak_trap_and_back_to_the_shell() {
    let Some(tmux) = Tmux::start("walk") else {
        return;
    };
    tmux.wait_for("$");
    tmux.send(&[binary(), "Enter"]);
    tmux.wait_until("the lesson list", |s| {
        s.contains("lessons (") && s.contains("Pipeline")
    });

    tmux.send(&["Enter"]);
    let screen = tmux.wait_until("lesson 01's workers and a buffer bar", |s| {
        s.contains("generate") && s.contains("sink") && s.contains('▕') && s.contains("/4")
    });
    assert!(screen.contains("[correct]"), "{screen}");

    let mut presses = 0;
    while !tmux.screen().contains("[trap: leak]") {
        presses += 1;
        assert!(
            presses <= 8,
            "t never reached the leak trap:\n{}",
            tmux.screen()
        );
        let before = tmux.screen();
        let active = active_variant(&before);
        tmux.send(&["t"]);
        tmux.wait_until("the variant bar to move on", |s| {
            active_variant(s) != active
        });
    }
    tmux.wait_until("the leak verdict", |s| {
        s.contains("leak: main returned") && s.contains("✗ leak")
    });

    tmux.send(&["q"]);
    tmux.wait_until("the lesson list again", |s| s.contains("lessons ("));
    tmux.send(&["q"]);
    tmux.wait_for_shell();
    tmux.assert_shell_works();
}

/// The scrub bar's "step k of n", if the screen shows one.
fn scrub_position(screen: &str) -> Option<(u64, u64)> {
    screen.lines().find_map(|line| {
        let rest = line.strip_prefix(" step ")?;
        let (k, rest) = rest.split_once(" of ")?;
        let n = rest.split_whitespace().next()?;
        Some((k.parse().ok()?, n.parse().ok()?))
    })
}

/// The live view opens lesson 01 scheduled (the seed in the header), a
/// rewind key takes it back to an earlier step and pauses there, and q
/// leaves with the terminal restored.
#[test]
fn a_scheduled_lesson_scrubs_back_and_quits_cleanly() {
    let Some(tmux) = Tmux::start("scrub") else {
        return;
    };
    tmux.wait_for("$");
    tmux.run_and_report(&format!("{} run 1", binary()));
    let screen = tmux.wait_until("lesson 01 scheduled, 20 steps in", |s| {
        s.contains("scheduled · random seed 1 · step")
            && scrub_position(s).is_some_and(|(k, _)| k >= 20)
    });
    assert!(screen.contains("[ ] rewind"), "{screen}");
    tmux.send(&["-l", "{"]);
    let back = tmux.wait_until("10 steps back, paused", |s| {
        s.contains("⏸ paused") && scrub_position(s).is_some_and(|(k, n)| k + 10 <= n)
    });
    let (k, n) = scrub_position(&back).expect("a scrub bar");
    assert!(back.contains(&format!("step {k}: ")), "its words: {back}");
    tmux.send(&["-l", "["]);
    tmux.wait_until("one more step back", |s| {
        scrub_position(s) == Some((k - 1, n)) && s.contains("⏸ paused")
    });
    tmux.send(&["q"]);
    tmux.wait_until("the lesson list", |s| s.contains("lessons ("));
    tmux.send(&["q"]);
    tmux.wait_for("EXIT-0");
    tmux.wait_for_shell();
    tmux.assert_terminal_restored();
}

/// Every signal that ends chanlab gives the shell back in working order
/// and ends it with 128 + the signal's number, as shells expect (SIGQUIT
/// used to leave the alternate screen, a hidden cursor and no echo).
#[test]
fn ending_signals_restore_the_terminal_and_exit_128_plus_n() {
    let Some(tmux) = Tmux::start("signals") else {
        return;
    };
    tmux.wait_for("$");
    for (signal, code) in [("TERM", 143), ("INT", 130), ("HUP", 129), ("QUIT", 131)] {
        tmux.run_and_report(&format!("{} run 1", binary()));
        tmux.wait_until("lesson 01 running", |s| {
            s.contains("live run") && s.contains("generate")
        });
        if tmux.kill_chanlab(signal).is_none() {
            return;
        }
        let screen = tmux.wait_for(&format!("EXIT-{code}"));
        assert!(!screen.contains("EXIT-0"), "SIG{signal}:\n{screen}");
        tmux.wait_for_shell();
        tmux.assert_terminal_restored();
    }
}

#[test]
fn ctrl_c_quits_at_once_and_restores_the_terminal() {
    let Some(tmux) = Tmux::start("ctrlc") else {
        return;
    };
    tmux.wait_for("$");
    tmux.send(&[&format!("{} run 1; echo EXIT-$?", binary()), "Enter"]);
    tmux.wait_until("lesson 01 running", |s| {
        s.contains("generate") && s.contains("sink")
    });
    tmux.send(&["C-c"]);
    // A quit key, not a signal: the learner chose to leave.
    tmux.wait_for("EXIT-0");
    tmux.wait_for_shell();
    tmux.assert_terminal_restored();
}

/// Ctrl-Z gives the shell a working terminal while chanlab is stopped, and
/// `fg` brings the view back in raw mode (a key works without Enter),
/// redrawn, the run going on as it was.
#[test]
fn ctrl_z_suspends_and_fg_resumes() {
    let Some(tmux) = Tmux::start("ctrlz") else {
        return;
    };
    tmux.wait_for("$");
    // No `; echo` after it: a shell goes on with the list once a job stops.
    tmux.send(&[&format!("{} run 1 --items 2000", binary()), "Enter"]);
    tmux.wait_until("lesson 01 running", |s| {
        s.contains("live run") && s.contains("▶ running")
    });
    tmux.send(&["C-z"]);
    tmux.wait_for("Stopped");
    tmux.assert_terminal_restored();
    resume_in_raw_mode(&tmux);
    tmux.wait_until("the run going on", |s| s.contains("▶ running"));
    tmux.send(&["C-c"]);
    tmux.wait_for_shell();
    tmux.assert_shell_works();
}

/// SIGTSTP from outside suspends as Ctrl-Z does; a paused run stays paused.
#[test]
fn sigtstp_suspends_and_fg_resumes() {
    let Some(tmux) = Tmux::start("tstp") else {
        return;
    };
    tmux.wait_for("$");
    tmux.send(&[&format!("{} run 1 --items 2000", binary()), "Enter"]);
    tmux.wait_until("lesson 01 running", |s| {
        s.contains("live run") && s.contains("▶ running")
    });
    tmux.send(&["Space"]);
    tmux.wait_for("⏸ paused");
    if tmux.kill_chanlab("TSTP").is_none() {
        return;
    }
    tmux.wait_for("Stopped");
    tmux.assert_terminal_restored();
    resume_in_raw_mode(&tmux);
    tmux.wait_for("⏸ paused");
    tmux.send(&["q"]);
    tmux.wait_until("the lesson list", |s| s.contains("lessons ("));
    tmux.send(&["q"]);
    tmux.wait_for_shell();
    tmux.assert_shell_works();
}

/// `fg`, then proves the view is back on the alternate screen, drawn anew
/// (the shell's lines are gone), and in raw mode: `?` opens the help with
/// no Enter after it.
fn resume_in_raw_mode(tmux: &Tmux) {
    tmux.send(&["fg", "Enter"]);
    tmux.wait_until("the view redrawn", |s| {
        s.contains("live run") && !s.contains("STTY-4") && !s.contains("BACK-2")
    });
    assert_eq!(tmux.pane("#{alternate_on}"), "1", "{}", tmux.screen());
    tmux.send(&["?"]);
    tmux.wait_for("this help");
    tmux.send(&["?"]);
    tmux.wait_until("the help closed", |s| !s.contains("this help"));
}

/// With no job-control shell to bring it back (here chanlab is the pane's
/// own command), Ctrl-Z says so instead of hanging the terminal.
#[test]
fn ctrl_z_without_job_control_says_so() {
    let Some(tmux) = Tmux::start_with("nojobs", &format!("{} run 1", binary())) else {
        return;
    };
    tmux.wait_until("lesson 01", |s| s.contains("live run"));
    tmux.send(&["C-z"]);
    tmux.wait_for("not suspending");
    tmux.send(&["C-c"]);
    let deadline = Instant::now() + PATIENCE;
    while tmux.pane("#{pane_dead}") != "1" {
        assert!(
            Instant::now() < deadline,
            "chanlab did not quit after Ctrl-Z was refused:\n{}",
            tmux.screen()
        );
        std::thread::sleep(POLL);
    }
}

/// The lesson list waits for input without a timeout; a resize must still
/// wake it and redraw at the new size.
#[test]
fn an_idle_view_follows_a_resize() {
    let Some(tmux) = Tmux::start("resize") else {
        return;
    };
    tmux.wait_for("$");
    tmux.send(&[binary(), "Enter"]);
    let box_width = |s: &str| {
        s.lines()
            .find(|l| l.starts_with('└'))
            .map(|l| l.trim_end().chars().count())
    };
    tmux.wait_until("the list at 120 columns", |s| box_width(s) == Some(120));
    let out = tmux.run(&["resize-window", "-t", SESSION, "-x", "100", "-y", "30"]);
    assert!(out.status.success(), "resize-window failed: {out:?}");
    tmux.wait_until("the list redrawn at 100 columns", |s| {
        box_width(s) == Some(100)
    });
    tmux.send(&["q"]);
    tmux.wait_for_shell();
    tmux.assert_terminal_restored();
}

/// A terminal that cannot draw the view is refused with the way out
/// (`--headless`) and exit code 2, before the screen is touched.
#[test]
fn dumb_or_unset_term_is_refused_with_exit_2() {
    let Some(tmux) = Tmux::start("dumb") else {
        return;
    };
    tmux.wait_for("$");
    tmux.run_and_report(&format!("TERM=dumb {}", binary()));
    let screen = tmux.wait_for("EXIT-2");
    assert!(
        screen.contains("this terminal (TERM=dumb) cannot draw") && screen.contains("--headless"),
        "{screen}"
    );
    tmux.run_and_report(&format!("env -u TERM {} run 1", binary()));
    let screen = tmux.wait_until("the second refusal", |s| s.matches("EXIT-2").count() == 2);
    assert!(screen.contains("TERM is not set"), "{screen}");
    assert_eq!(tmux.pane("#{alternate_on}"), "0", "{screen}");
    tmux.assert_shell_works();
}

/// The bracketed (active) entry of the variant bar, if one shows.
fn active_variant(screen: &str) -> String {
    screen
        .lines()
        .find(|l| l.trim_start().starts_with("variant "))
        .and_then(|l| {
            let start = l.find('[')?;
            let end = l[start..].find(']')?;
            Some(l[start..=start + end].to_owned())
        })
        .unwrap_or_default()
}

/// The first child process of `pid`, from `/proc` (Linux).
fn child_of(pid: &str) -> Option<String> {
    let path = format!("/proc/{pid}/task/{pid}/children");
    let deadline = Instant::now() + PATIENCE;
    loop {
        let children = std::fs::read_to_string(Path::new(&path)).ok()?;
        if let Some(child) = children.split_whitespace().next() {
            return Some(child.to_owned());
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(POLL);
    }
}

/// A closed terminal (window shut, tmux pane killed) ends chanlab: it must
/// not stay behind spinning on a dead tty (crossterm issue #793).
#[test]
fn closing_the_terminal_ends_chanlab() {
    let Some(tmux) = Tmux::start("hangup") else {
        return;
    };
    tmux.wait_for("$");
    tmux.send(&[&format!("{} run 1", binary()), "Enter"]);
    tmux.wait_until("the lesson view", |s| s.contains("live run"));
    let shell = tmux.pane("#{pane_pid}");
    let Some(pid) = child_of(&shell) else {
        println!("SKIPPED: cannot find chanlab's pid under the shell (pid {shell}) in /proc");
        return;
    };
    let _ = tmux.run(&["kill-server"]);
    let deadline = Instant::now() + PATIENCE;
    while Path::new(&format!("/proc/{pid}")).exists() {
        let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        if state.split_whitespace().nth(2) == Some("Z") {
            break; // exited; only its (orphaned) zombie entry is left
        }
        assert!(
            Instant::now() < deadline,
            "chanlab (pid {pid}) still runs {PATIENCE:?} after its terminal closed"
        );
        std::thread::sleep(POLL);
    }
}
