//! Glyphs and styles. Every state has a glyph as well as a colour, so the
//! view reads the same in monochrome and under `NO_COLOR`.

use ratatui::style::{Color, Modifier, Style};

use crate::lab::WorkerState;

/// The colour choice for one session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    /// False when `NO_COLOR` is set: styles keep only bold/dim/reverse.
    pub color: bool,
}

impl Default for Theme {
    fn default() -> Self {
        Self { color: true }
    }
}

/// The states in the order the legend and the per-stage counts list them.
pub const STATE_ORDER: [&str; 10] = [
    "running",
    "paused",
    "blocked-send",
    "blocked-recv",
    "selecting",
    "joining",
    "sleeping",
    "done",
    "panicked",
    "leaked",
];

/// The glyph for a state label (see [`WorkerState::label`]).
#[must_use]
pub fn glyph_for_label(label: &str) -> &'static str {
    match label {
        "running" => "▶",
        "paused" => "⏸",
        "blocked-send" => "⇥",
        "blocked-recv" => "⇤",
        "selecting" => "◇",
        "joining" => "⋈",
        "sleeping" => "◔",
        "done" => "✓",
        "panicked" => "✗",
        "leaked" => "⊘",
        _ => "?",
    }
}

/// A state label cut to a word, for narrow per-stage counts.
#[must_use]
pub fn short_label(label: &str) -> &str {
    match label {
        "blocked-send" => "send",
        "blocked-recv" => "recv",
        "selecting" => "select",
        "joining" => "join",
        "sleeping" => "sleep",
        "panicked" => "panic",
        "leaked" => "leak",
        other => other,
    }
}

/// The glyph for a worker state.
#[must_use]
pub fn glyph(state: &WorkerState) -> &'static str {
    glyph_for_label(state.label())
}

impl Theme {
    /// Reads `NO_COLOR` (any non-empty value turns colours off, per no-color.org).
    #[must_use]
    pub fn from_env() -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Self { color: !no_color }
    }

    fn fg(self, color: Color) -> Style {
        if self.color {
            Style::new().fg(color)
        } else {
            Style::new()
        }
    }

    /// The style of a state label's glyph and name.
    #[must_use]
    pub fn state_label(self, label: &str) -> Style {
        match label {
            "running" => self.fg(Color::Green),
            "paused" => self.fg(Color::Yellow).add_modifier(Modifier::DIM),
            "blocked-send" => self.fg(Color::Yellow),
            "blocked-recv" => self.fg(Color::Cyan),
            "selecting" => self.fg(Color::Magenta),
            "joining" => self.fg(Color::Blue),
            "sleeping" | "done" => self.fg(Color::DarkGray).add_modifier(Modifier::DIM),
            "panicked" | "leaked" => self.fg(Color::Red).add_modifier(Modifier::BOLD),
            _ => Style::new(),
        }
    }

    /// The style of a worker cell.
    #[must_use]
    pub fn state(self, state: &WorkerState) -> Style {
        self.state_label(state.label())
    }

    /// Titles, the selected row, the active variant.
    #[must_use]
    pub fn accent(self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    /// Something the learner has chosen (active variant, selected lesson).
    #[must_use]
    pub fn selected(self) -> Style {
        if self.color {
            Style::new()
                .fg(Color::Black)
                .bg(Color::Cyan)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD)
        }
    }

    /// Secondary text: hints, counts, timestamps.
    #[must_use]
    pub fn dim(self) -> Style {
        self.fg(Color::DarkGray)
    }

    /// The verdict banner.
    #[must_use]
    pub fn alarm(self) -> Style {
        if self.color {
            Style::new()
                .fg(Color::White)
                .bg(Color::Red)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD)
        }
    }

    /// A problem line that is not the banner.
    #[must_use]
    pub fn bad(self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }

    /// A clean finish.
    #[must_use]
    pub fn good(self) -> Style {
        self.fg(Color::Green).add_modifier(Modifier::BOLD)
    }

    /// A buffer bar, by how full it is.
    #[must_use]
    pub fn fill(self, len: usize, capacity: Option<usize>) -> Style {
        match capacity {
            Some(cap) if cap > 0 && len >= cap => self.fg(Color::Red),
            Some(cap) if cap > 0 && len * 2 >= cap => self.fg(Color::Yellow),
            _ => self.fg(Color::Green),
        }
    }

    /// The frame of the focused pane.
    #[must_use]
    pub fn focused_border(self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    /// Warnings in the status line.
    #[must_use]
    pub fn notice(self) -> Style {
        self.fg(Color::Yellow)
    }
}
