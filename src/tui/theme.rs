//! Glyphs and styles. Every state has a glyph as well as a colour, so the
//! view reads the same in monochrome and under `NO_COLOR`.

use std::ffi::OsStr;

use ratatui::style::{Color, Modifier, Style};

use crate::lab::WorkerState;

/// The colour choice for one session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    /// False under `NO_COLOR` or on a terminal without colours (see
    /// [`Theme::for_terminal`]): styles keep only bold/dim/reverse.
    pub color: bool,
}

impl Default for Theme {
    fn default() -> Self {
        Self { color: true }
    }
}

/// `TERM` families (the part before the first `-`) whose terminals show
/// colours even when the name does not say so (`TERM=xterm`, `screen`).
pub const COLOR_TERMS: [&str; 22] = [
    "xterm",
    "screen",
    "tmux",
    "rxvt",
    "urxvt",
    "linux",
    "ansi",
    "cygwin",
    "konsole",
    "gnome",
    "putty",
    "alacritty",
    "kitty",
    "foot",
    "wezterm",
    "st",
    "vte",
    "iterm",
    "iterm2",
    "eterm",
    "contour",
    "ghostty",
];

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
    /// Reads `NO_COLOR`, `TERM` and `COLORTERM` (see [`Theme::for_terminal`]).
    #[must_use]
    pub fn from_env() -> Self {
        Self::for_terminal(
            std::env::var_os("NO_COLOR").as_deref(),
            std::env::var_os("TERM").as_deref(),
            std::env::var_os("COLORTERM").as_deref(),
        )
    }

    /// Colours only where the terminal says it shows them; anything else
    /// gets monochrome, which every view reads in (glyphs carry the states).
    /// Decided from the environment alone, no terminfo lookup, so it is the
    /// same on every machine:
    ///
    /// - `NO_COLOR` set and non-empty (no-color.org): monochrome;
    /// - `TERM` marked monochrome (`…-m`, `…mono…`, `…nocolor…`): monochrome;
    /// - `COLORTERM` set (`truecolor`, `24bit`: emulators set it): colour;
    /// - `TERM` naming colours (`…color…`, `…256…`, `…direct…`): colour;
    /// - `TERM` of a family that always had colour (`xterm`, `screen`,
    ///   `tmux`, `rxvt`, `linux`, … see [`COLOR_TERMS`]): colour;
    /// - anything else (`vt100`, `dumb`, unset): monochrome.
    #[must_use]
    pub fn for_terminal(
        no_color: Option<&OsStr>,
        term: Option<&OsStr>,
        colorterm: Option<&OsStr>,
    ) -> Self {
        let set = |v: Option<&OsStr>| v.is_some_and(|v| !v.is_empty());
        if set(no_color) {
            return Self { color: false };
        }
        let term = term.map_or_else(String::new, |t| t.to_string_lossy().to_ascii_lowercase());
        let mono = term.ends_with("-m") || term.contains("mono") || term.contains("nocolor");
        let named = ["color", "256", "direct"].iter().any(|w| term.contains(w));
        let family = term.split(['-', '.', '+']).next().unwrap_or_default();
        let color = !mono && (set(colorterm) || named || COLOR_TERMS.contains(&family));
        Self { color }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn color(no_color: Option<&str>, term: Option<&str>, colorterm: Option<&str>) -> bool {
        Theme::for_terminal(
            no_color.map(OsStr::new),
            term.map(OsStr::new),
            colorterm.map(OsStr::new),
        )
        .color
    }

    #[test]
    fn colour_only_where_the_terminal_says_it_has_it() {
        for term in [
            "xterm-256color",
            "xterm",
            "screen",
            "screen.xterm-256color",
            "tmux-256color",
            "rxvt-unicode",
            "linux",
            "xterm-kitty",
            "xterm-direct",
            "foo-color",
        ] {
            assert!(color(None, Some(term), None), "{term}");
        }
        for term in [
            "vt100",
            "vt220",
            "dumb",
            "xterm-mono",
            "linux-m",
            "unknown-thing",
            "",
        ] {
            assert!(!color(None, Some(term), None), "{term}");
        }
        assert!(!color(None, None, None), "no TERM");
        assert!(
            color(None, Some("vt100"), Some("truecolor")),
            "COLORTERM vouches"
        );
        assert!(
            !color(None, Some("xterm-mono"), Some("truecolor")),
            "TERM says mono"
        );
    }

    #[test]
    fn no_color_wins_an_empty_one_does_not_count() {
        assert!(!color(Some("1"), Some("xterm-256color"), Some("truecolor")));
        assert!(color(Some(""), Some("xterm-256color"), None));
    }
}
