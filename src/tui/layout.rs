//! Where each part of a screen goes. Shared by drawing and by the state,
//! which needs the panes' sizes to wrap and scroll the lesson text and to
//! page the event log.

use ratatui::layout::{Constraint, Layout, Margin, Rect};
use unicode_width::UnicodeWidthStr;

/// The smallest terminal the views are laid out for.
pub const MIN_WIDTH: u16 = 80;
/// The smallest terminal the views are laid out for.
pub const MIN_HEIGHT: u16 = 24;

/// Shares of the width (in %) the lesson text may take, narrowest first:
/// `<` and `>` step through them.
pub const TEXT_SHARES: [u16; 5] = [25, 33, 40, 50, 60];
/// The share a session starts with: wide enough at 160–200 columns for the
/// lessons' diagrams, narrow enough at 80 to leave the run its stages.
pub const DEFAULT_TEXT_SHARE: usize = 2;
/// The lesson text is never narrower than this (prose below it is a
/// word a line)...
pub const TEXT_MIN: u16 = 30;
/// ... nor wider (a wider column of prose is hard to read, and the run
/// needs the room more).
pub const TEXT_MAX: u16 = 100;
/// Columns always left to the run beside the text.
pub const RUN_MIN: u16 = 30;

/// True when the views fit.
#[must_use]
pub fn fits(area: Rect) -> bool {
    area.width >= MIN_WIDTH && area.height >= MIN_HEIGHT
}

/// How wide the lesson text is: a share of the width, or hidden.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextPane {
    /// Index into [`TEXT_SHARES`].
    pub share: usize,
    /// True when the learner hid the text to give the run the whole width.
    pub hidden: bool,
}

impl Default for TextPane {
    fn default() -> Self {
        Self {
            share: DEFAULT_TEXT_SHARE,
            hidden: false,
        }
    }
}

impl TextPane {
    /// The text pane's width (frame included) in a body `width` wide.
    #[must_use]
    pub fn width(self, width: u16) -> u16 {
        if self.hidden {
            return 0;
        }
        let share = TEXT_SHARES[self.share.min(TEXT_SHARES.len() - 1)];
        let wanted = u16::try_from(u32::from(width) * u32::from(share) / 100).unwrap_or(width);
        wanted
            .clamp(TEXT_MIN, TEXT_MAX)
            .min(width.saturating_sub(RUN_MIN))
    }
}

/// Rows the header and footer parts need: they wrap instead of cutting, so
/// a narrow terminal still shows every variant, the whole summary and the
/// message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeadRows {
    /// Rows of the variant bar.
    pub variants: u16,
    /// Rows of the variant's summary.
    pub info: u16,
    /// Rows of the status line (message and knobs).
    pub status: u16,
    /// Rows of the scrub bar (none for a free run).
    pub timeline: u16,
}

impl Default for HeadRows {
    fn default() -> Self {
        Self {
            variants: 1,
            info: 1,
            status: 1,
            timeline: 0,
        }
    }
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
    /// The lesson text, framed (zero wide when hidden).
    pub readme: Rect,
    /// The live run, framed.
    pub run: Rect,
    /// The scrub bar of a scheduled run: its steps, and the current one in
    /// words (zero high for a free run).
    pub timeline: Rect,
    /// Status message and knobs.
    pub status: Rect,
    /// Key hints.
    pub hints: Rect,
}

/// Lays out the lesson view: the header rows, the text beside the run, the
/// scrub bar, the status and the key hints.
#[must_use]
pub fn lesson_layout(area: Rect, rows: HeadRows, text: TextPane) -> LessonLayout {
    let [
        header,
        variants,
        variant_info,
        body,
        timeline,
        status,
        hints,
    ] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(rows.variants),
        Constraint::Length(rows.info),
        Constraint::Min(1),
        Constraint::Length(rows.timeline),
        Constraint::Length(rows.status),
        Constraint::Length(1),
    ])
    .areas(area);
    let text_width = text.width(body.width);
    let [readme, run] =
        Layout::horizontal([Constraint::Length(text_width), Constraint::Min(1)]).areas(body);
    LessonLayout {
        header,
        variants,
        variant_info,
        readme,
        run,
        timeline,
        status,
        hints,
    }
}

/// Inside a one-cell frame.
#[must_use]
pub fn inner(area: Rect) -> Rect {
    area.inner(Margin::new(1, 1))
}

/// The variant bar's lead-in.
pub const VARIANT_LEAD: &str = " variant ";

/// Lays the variant labels out in rows of `width`: which labels go on each
/// row, in order. Each label takes its width plus three columns (brackets
/// or spaces around it, one between). A label wider than a row gets a row
/// of its own.
#[must_use]
pub fn variant_rows(labels: &[String], width: u16) -> Vec<Vec<usize>> {
    let width = usize::from(width);
    let lead = VARIANT_LEAD.width();
    let mut rows: Vec<Vec<usize>> = vec![Vec::new()];
    let mut used = lead;
    for (i, label) in labels.iter().enumerate() {
        let w = label.width() + 3;
        let last = rows.len() - 1;
        if !rows[last].is_empty() && used + w > width {
            rows.push(Vec::new());
            used = lead;
        }
        let last = rows.len() - 1;
        rows[last].push(i);
        used += w;
    }
    rows
}
