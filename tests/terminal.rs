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
    /// A server with one 120×40 window running a plain `sh`; `None` when
    /// tmux is not installed.
    fn start(name: &str) -> Option<Self> {
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
            "env PS1='$ ' sh",
        ]);
        assert!(out.status.success(), "tmux new-session failed: {out:?}");
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

#[test]
fn sigterm_restores_the_terminal() {
    let Some(tmux) = Tmux::start("term") else {
        return;
    };
    tmux.wait_for("$");
    tmux.send(&[&format!("{}; echo EXIT-$?", binary()), "Enter"]);
    tmux.wait_until("the lesson list", |s| s.contains("lessons ("));
    let shell = tmux.pane("#{pane_pid}");
    let Some(pid) = child_of(&shell) else {
        println!("SKIPPED: cannot find chanlab's pid under the shell (pid {shell}) in /proc");
        return;
    };
    // The shell's own `kill`: no procps needed.
    let killed = Command::new("sh")
        .args(["-c", &format!("kill -TERM {pid}")])
        .status();
    assert!(killed.is_ok_and(|s| s.success()), "kill -TERM {pid}");
    tmux.wait_for("EXIT-0");
    tmux.wait_for_shell();
    tmux.assert_shell_works();
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
    tmux.wait_for("EXIT-0");
    tmux.wait_for_shell();
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
