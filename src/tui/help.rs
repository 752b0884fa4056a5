//! The help overlay's text: every key by what it is for, the open
//! challenge's hint, and what the glyphs mean. Shared by the drawing and by
//! the state, which scrolls it (it is taller than an 80×24 terminal).

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::app::App;
use super::log::wrap;
use super::theme::{self, Theme};
use crate::lessons::Challenge;

/// The overlay's width, frame included (less on a narrower terminal).
pub const WIDTH: u16 = 76;
/// Columns of the key column.
const KEY_COLUMN: usize = 18;

/// Every key, by what it is for.
const SECTIONS: [(&str, &[(&str, &str)]); 4] = [
    (
        "the run",
        &[
            ("space", "pause / resume the run"),
            ("s", "step one operation (pauses first)"),
            ("+ / -", "faster / slower (0.1× to 10×)"),
            ("t / T", "next / previous variant: correct, traps, fixes"),
            ("r", "run it again (scheduled: same seed, same run)"),
            ("w / W", "fewer / more workers (restarts the run)"),
            ("b / B", "smaller / bigger buffers (restarts the run)"),
            ("m", "scheduled (seeded, one worker at a time) ↔ free"),
            ("n", "a new seed: another interleaving (scheduled)"),
        ],
    ),
    (
        "rewind (scheduled runs)",
        &[
            ("[ / ]", "one step back / forward"),
            ("{ / }", "10 steps back / forward"),
            ("( / )", "100 steps back / forward"),
            ("g / G", "to step 0 / to the last known step"),
        ],
    ),
    (
        "play the scheduler",
        &[
            ("p", "you pick who goes next (p again: the seed goes on)"),
            (
                "1–9, ↑ ↓ Enter",
                "pick the next step; a step only one worker",
            ),
            ("", "can take is taken for you"),
            ("u", "undo your last pick (] redoes it)"),
            ("c / C", "next / previous challenge of the lesson"),
            ("h", "the open challenge's hint"),
        ],
    ),
    (
        "the view",
        &[
            ("f / F", "event log: all, items, waits, verdicts"),
            ("< / >", "lesson text narrower / wider"),
            ("l", "hide / show the lesson text"),
            ("o / O", "occupancy plot on / off; O: one channel, the next"),
            ("tab", "focus the lesson text (or play panel) or the run"),
            ("↑ ↓ j k PgUp PgDn", "scroll the focused pane (Home / End)"),
            ("← →", "move the lesson's code sideways"),
            ("Enter, 1–9", "open a lesson (in the list; ↑ ↓ choose)"),
            ("?", "this help (↑ ↓ scroll it; ? Esc q close it)"),
            ("q / Esc", "back to the list; in the list, quit"),
            ("Ctrl-C", "quit at once"),
        ],
    ),
];

/// The overlay's lines for `width` columns inside its frame: the open
/// challenge and its hint first (what a stuck learner opens help for),
/// then the keys, then the legend.
#[must_use]
pub fn lines(
    theme: Theme,
    challenge: Option<(usize, usize, &Challenge)>,
    width: u16,
) -> Vec<Line<'static>> {
    let width = usize::from(width).max(20);
    let mut lines = Vec::new();
    if let Some((i, n, challenge)) = challenge {
        let head = format!(" challenge {}/{n}: {}", i + 1, challenge.title);
        for row in wrap(&head, width, 3) {
            lines.push(Line::styled(row, theme.accent()));
        }
        for row in wrap(&format!(" hint: {}", challenge.hint), width, 7) {
            lines.push(Line::styled(row, theme.notice()));
        }
        lines.push(Line::raw(""));
    }
    for (title, keys) in SECTIONS {
        lines.push(Line::styled(format!(" {title}"), theme.dim()));
        for (key, what) in keys {
            lines.push(Line::from(vec![
                Span::styled(format!("  {key:<KEY_COLUMN$}"), theme.accent()),
                Span::raw(*what),
            ]));
        }
    }
    lines.push(Line::raw(""));
    let legend = |labels: &[&str]| {
        let mut spans = vec![Span::raw(" ")];
        for label in labels {
            spans.push(Span::styled(
                format!("{} {label}  ", theme::glyph_for_label(label)),
                theme.state_label(label),
            ));
        }
        Line::from(spans)
    };
    lines.push(legend(&[
        "running",
        "paused",
        "blocked-send",
        "blocked-recv",
        "selecting",
    ]));
    lines.push(legend(&[
        "joining", "sleeping", "done", "panicked", "leaked",
    ]));
    lines.push(Line::raw(
        " ▕██░░▏ 2/4 buffer full/capacity   ⇄ rendezvous (capacity 0)",
    ));
    lines.push(Line::raw(
        " 16→12 sent→received   ⇥n ⇤n waiting to send/receive   ✕ closed",
    ));
    lines.push(Line::raw(
        " scrub bar: ━━● steps so far, ─ known steps ahead, ✗ the verdict",
    ));

    lines
}

/// Where the overlay goes in `area`, for `rows` lines.
#[must_use]
pub fn overlay_rect(area: Rect, rows: usize) -> Rect {
    let width = WIDTH.min(area.width);
    let height = u16::try_from(rows + 2).unwrap_or(u16::MAX).min(area.height);
    Rect::new(
        area.x + (area.width - width) / 2,
        area.y + (area.height - height) / 2,
        width,
        height,
    )
}

/// The overlay's lines for `app` in `area`.
#[must_use]
pub fn lines_for(app: &App, area: Rect) -> Vec<Line<'static>> {
    let challenge = app.challenge().and_then(|(i, c)| {
        let n = app.lesson()?.lesson.challenges.len();
        Some((i, n, c))
    });
    lines(
        app.theme(),
        challenge,
        WIDTH.min(area.width).saturating_sub(2),
    )
}

/// How far the overlay scrolls in `area`: until its last line shows.
#[must_use]
pub fn max_scroll(app: &App, area: Rect) -> usize {
    let lines = lines_for(app, area);
    let shown = usize::from(overlay_rect(area, lines.len()).height.saturating_sub(2));
    lines.len().saturating_sub(shown)
}
