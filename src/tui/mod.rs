//! The live terminal UI: the lesson list, a lesson's text beside its live
//! run, and the verdict when a trap breaks.
//!
//! Pure state ([`app`]) is kept apart from drawing ([`ui`]) and from the
//! terminal ([`terminal`]): keys and snapshots go into [`App`], [`ui::render`]
//! draws it, and only the event loop touches the terminal or the run. The
//! view reads lab snapshots at the frame rate and never holds a lab lock
//! while it draws, so it cannot slow a worker down.

pub mod app;
pub mod flow;
pub mod help;
pub mod layout;
pub mod log;
pub mod markdown;
pub mod occupancy;
pub mod plot;
pub mod run_view;
pub mod sched_view;
pub mod steer;
pub mod terminal;
pub mod theme;
pub mod ui;

pub use app::{Action, App, Focus, Screen};
pub use steer::Mode;
pub use terminal::{Exit, run, terminal_refusal};
pub use theme::Theme;

use crate::lessons::{Knobs, Lesson, Variant};

/// What the TUI opens on.
#[derive(Debug, Clone)]
pub struct Launch {
    /// `None` opens the lesson list; `Some` opens that lesson and runs it.
    pub lesson: Option<&'static Lesson>,
    /// The variant to run (the lesson's correct one when `None`).
    pub variant: Option<&'static Variant>,
    /// The knobs (the lesson's defaults when `None`).
    pub knobs: Option<Knobs>,
    /// The speed factor (clamped to 0.1–10).
    pub speed: f64,
    /// Start the first run with this schedule (a replay: its prefix is the
    /// recorded choices); `None`: the live view's default.
    pub schedule: Option<crate::lab::Schedule>,
    /// Start the first run free-running (OS threads, no schedule).
    pub free: bool,
}

impl Default for Launch {
    fn default() -> Self {
        Self {
            lesson: None,
            variant: None,
            knobs: None,
            speed: 1.0,
            schedule: None,
            free: false,
        }
    }
}
