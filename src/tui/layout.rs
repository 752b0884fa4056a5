//! Where each part of a screen goes. Shared by drawing and by the state,
//! which needs the text pane's size to wrap and scroll the lesson text.

use ratatui::layout::{Constraint, Layout, Margin, Rect};

/// The smallest terminal the views are laid out for.
pub const MIN_WIDTH: u16 = 80;
/// The smallest terminal the views are laid out for.
pub const MIN_HEIGHT: u16 = 24;

/// True when the views fit.
#[must_use]
pub fn fits(area: Rect) -> bool {
    area.width >= MIN_WIDTH && area.height >= MIN_HEIGHT
}

/// The parts of the lesson view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LessonLayout {
    /// Lesson title and run state.
    pub header: Rect,
    /// The variants, the active one marked.
    pub variants: Rect,
    /// What the active variant does.
    pub variant_info: Rect,
    /// The lesson text, framed.
    pub readme: Rect,
    /// The live run, framed.
    pub run: Rect,
    /// Status message and knobs.
    pub status: Rect,
    /// Key hints.
    pub hints: Rect,
}

/// Lays out the lesson view: the text gets a third of the width (at least
/// 30 columns, at most 64), the run the rest: stages side by side need it.
#[must_use]
pub fn lesson_layout(area: Rect) -> LessonLayout {
    let [header, variants, variant_info, body, status, hints] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    let text_width = (body.width / 3).clamp(30, 64).min(body.width);
    let [readme, run] =
        Layout::horizontal([Constraint::Length(text_width), Constraint::Min(1)]).areas(body);
    LessonLayout {
        header,
        variants,
        variant_info,
        readme,
        run,
        status,
        hints,
    }
}

/// Inside a one-cell frame.
#[must_use]
pub fn inner(area: Rect) -> Rect {
    area.inner(Margin::new(1, 1))
}
