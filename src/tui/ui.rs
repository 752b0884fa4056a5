//! Drawing: [`render`] turns an [`App`] into a frame and does nothing else.

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Clear, Paragraph, Row, Table, TableState, Widget};

use unicode_width::UnicodeWidthStr;

use super::app::{App, Focus, LessonView, Screen, knobs_text, variant_info, variant_label};
use super::help;
use super::layout::{self, MIN_HEIGHT, MIN_WIDTH, VARIANT_LEAD};
use super::log::wrap;
use super::markdown;
use super::run_view::{RunPanel, truncate};
use super::sched_view;
use super::steer::Mode;
use super::theme::Theme;

/// Draws the whole screen for `app`.
pub fn render(app: &App, frame: &mut Frame) {
    let area = frame.area();
    if !layout::fits(area) {
        too_small(area, frame.buffer_mut());
        return;
    }
    match (app.screen(), app.lesson()) {
        (Screen::Lesson, Some(view)) => lesson_screen(app, view, area, frame),
        _ => list_screen(app, area, frame),
    }
    if app.help() {
        help_overlay(app, area, frame.buffer_mut());
    }
}

fn too_small(area: Rect, buf: &mut Buffer) {
    let lines = vec![
        Line::from(format!(
            "terminal too small (need {MIN_WIDTH}×{MIN_HEIGHT})"
        )),
        Line::from(format!("now {}×{}", area.width, area.height)),
    ];
    let top = area.height.saturating_sub(2) / 2;
    let rect = Rect::new(
        area.x,
        area.y + top,
        area.width,
        area.height.saturating_sub(top),
    );
    Paragraph::new(lines)
        .alignment(Alignment::Center)
        .render(rect, buf);
}

fn list_screen(app: &App, area: Rect, frame: &mut Frame) {
    let theme = app.theme();
    let lessons = app.lessons();
    // The table as tall as its rows (plus header and frame), the details under it.
    let table_rows = u16::try_from(lessons.len())
        .unwrap_or(u16::MAX)
        .saturating_add(3);
    let [title, intro, table_area, details, _, status, hints] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(2),
        Constraint::Max(table_rows),
        Constraint::Length(4),
        Constraint::Min(0),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    let buf = frame.buffer_mut();
    buf.set_string(
        title.x + 1,
        title.y,
        "chanlab — an interactive concurrency workbook",
        theme.accent(),
    );
    Paragraph::new(vec![
        Line::from("Pick a lesson: read it, watch it run, then press t in the lesson to switch"),
        Line::from("to a trap variant and see what breaks."),
    ])
    .style(theme.dim())
    .render(intro.inner(ratatui::layout::Margin::new(1, 0)), buf);

    // The summary column: what the frame, the highlight mark, the other
    // columns and the gaps between them leave. A summary longer than that
    // ends in `…` instead of stopping mid-word without a sign.
    let summary_width = usize::from(table_area.width).saturating_sub(2 + 2 + 3 + 22 + 6 + 3);
    let rows = lessons.iter().map(|l| {
        Row::new(vec![
            Cell::from(format!("{:02}", l.number)),
            Cell::from(l.title),
            Cell::from(l.traps().count().to_string()),
            Cell::from(truncate(l.summary, summary_width)),
        ])
    });
    let table = Table::new(
        rows,
        [
            Constraint::Length(3),
            Constraint::Length(22),
            Constraint::Length(6),
            Constraint::Min(10),
        ],
    )
    .header(Row::new(vec!["#", "lesson", "traps", "summary"]).style(theme.accent()))
    .row_highlight_style(theme.selected())
    .highlight_symbol("▶ ")
    .block(Block::bordered().title(format!(" lessons ({}) ", lessons.len())));
    let mut state = TableState::default().with_selected(Some(app.selected()));
    frame.render_stateful_widget(table, table_area, &mut state);

    let buf = frame.buffer_mut();
    if let Some(lesson) = lessons.get(app.selected()) {
        let mut lines = vec![Line::styled(
            format!("{:02} {}: {}", lesson.number, lesson.title, lesson.summary),
            Style::new().add_modifier(Modifier::BOLD),
        )];
        let variants: Vec<String> = lesson.variants.iter().map(variant_label).collect();
        lines.push(Line::styled(
            format!("variants: {}", variants.join(" · ")),
            theme.dim(),
        ));
        Paragraph::new(lines)
            .wrap(ratatui::widgets::Wrap { trim: true })
            .render(details.inner(ratatui::layout::Margin::new(1, 0)), buf);
    } else {
        buf.set_string(details.x + 1, details.y, "no lessons yet", theme.dim());
    }
    draw_status(app, None, status, buf);
    hint_line(
        theme,
        &[
            ("↑/↓", "choose"),
            ("Enter", "open"),
            ("1–9", "open by number"),
            ("?", "help"),
            ("q", "quit"),
        ],
        hints,
        buf,
    );
}

fn lesson_screen(app: &App, view: &LessonView, area: Rect, frame: &mut Frame) {
    let theme = app.theme();
    let parts = app.layout(area);
    let buf = frame.buffer_mut();

    draw_header(app, view, parts.header, buf);

    draw_variants(view, theme, parts.variants, buf);
    let width = usize::from(parts.variant_info.width);
    let rows = usize::from(parts.variant_info.height);
    let info = wrap(&variant_info(view), width, 1);
    let cut = info.len() > rows;
    for (row, text) in info.into_iter().take(rows).enumerate() {
        let text = if cut && row + 1 == rows {
            truncate(&format!("{text} …"), width)
        } else {
            text
        };
        buf.set_stringn(
            parts.variant_info.x,
            parts.variant_info.y + row as u16,
            text,
            width,
            theme.dim(),
        );
    }

    // The lesson text, unless hidden; the play panel in its place while
    // the learner plays the scheduler.
    if app.steering().mode == Mode::Play {
        sched_view::draw_play(app, view, app.focus() == Focus::Text, parts.readme, buf);
    } else if parts.readme.width > 0 {
        let text_focused = app.focus() == Focus::Text;
        let inner = layout::inner(parts.readme);
        let mut position = if view.readme_rows > usize::from(inner.height) {
            format!(" {}/{} ", view.text_scroll + 1, view.readme_rows)
        } else {
            String::new()
        };
        if view.code_shift > 0 {
            position = format!(" code ←{}{position}", view.code_shift);
        }
        let block = Block::bordered()
            .title(" lesson ")
            .title_bottom(Line::from(position).right_aligned())
            .border_style(if text_focused {
                theme.focused_border()
            } else {
                Style::new()
            });
        let scroll = u16::try_from(view.text_scroll).unwrap_or(u16::MAX);
        markdown::readme_paragraph(&view.readme)
            .block(block)
            .scroll((scroll, 0))
            .render(parts.readme, buf);
    }

    // The live run.
    let panel = RunPanel {
        view,
        theme,
        focused: app.focus() == Focus::Run,
    };
    (&panel).render(parts.run, buf);

    sched_view::draw_timeline(app, parts.timeline, buf);
    draw_status(app, Some(view), parts.status, buf);
    lesson_hints(theme, app.steering().mode, parts.hints, buf);
}

/// The header row: where we are, how the run is scheduled, and how it is
/// doing. The mode shortens before anything is cut; the state stays whole.
fn draw_header(app: &App, view: &LessonView, area: Rect, buf: &mut Buffer) {
    let theme = app.theme();
    let title = format!(" chanlab › {:02} {}", view.lesson.number, view.lesson.title);
    let (state, style) = run_state(app, view, theme);
    let width = usize::from(area.width);
    let state_width = state.width() + 1;
    let title = truncate(&title, width.saturating_sub(state_width + 1));
    buf.set_string(area.x, area.y, &title, theme.accent());
    let room = width.saturating_sub(title.width() + state_width + 1);
    let mode = sched_view::mode_texts(app)
        .into_iter()
        .map(|m| format!(" · {m}"))
        .find(|m| m.width() <= room);
    if let Some(mode) = mode {
        let mode_style = if app.steering().mode == Mode::Play {
            theme.notice()
        } else {
            Style::new()
        };
        buf.set_string(area.x + title.width() as u16, area.y, mode, mode_style);
    }
    let state_x = area.right().saturating_sub(state_width as u16);
    buf.set_string(state_x, area.y, state, style);
}

/// The lesson view's key hints for the mode: every key in its place,
/// dropped from the least needed up when they do not all fit; `?` (all
/// keys) always stays.
fn lesson_hints(theme: Theme, mode: Mode, area: Rect, buf: &mut Buffer) {
    let scheduled: &[(&str, &str, u8)] = &[
        ("space", "pause", 0),
        ("s", "step", 2),
        ("[ ]", "rewind", 0),
        ("+/-", "speed", 3),
        ("t", "variant", 0),
        ("r", "restart", 3),
        ("p", "play", 1),
        ("m", "free", 4),
        ("n", "seed", 4),
        ("w/W", "workers", 6),
        ("b/B", "buffer", 6),
        ("f", "events", 5),
        ("o", "plot", 6),
        ("< >", "text", 7),
        ("l", "hide", 7),
        ("tab", "focus", 5),
        ("?", "all keys", 0),
        ("q", "back", 1),
    ];
    let play: &[(&str, &str, u8)] = &[
        ("1–9", "pick", 0),
        ("u", "undo", 0),
        ("[ ]", "steps", 2),
        ("c", "challenge", 1),
        ("h", "hint", 1),
        ("p", "hand back", 0),
        ("t", "variant", 3),
        ("r", "restart", 3),
        ("+/-", "speed", 4),
        ("m", "free", 5),
        ("f", "events", 5),
        ("tab", "focus", 4),
        ("?", "all keys", 0),
        ("q", "back", 2),
    ];
    let free: &[(&str, &str, u8)] = &[
        ("space", "pause", 0),
        ("s", "step", 1),
        ("+/-", "speed", 1),
        ("t", "variant", 0),
        ("r", "restart", 2),
        ("m", "scheduled", 1),
        ("p", "play", 3),
        ("w/W", "workers", 5),
        ("b/B", "buffer", 5),
        ("f", "events", 3),
        ("o", "plot", 5),
        ("< >", "text", 6),
        ("l", "hide", 6),
        ("tab", "focus", 4),
        ("?", "all keys", 0),
        ("q", "back", 1),
    ];
    let all = match mode {
        Mode::Scheduled => scheduled,
        Mode::Play => play,
        Mode::Free => free,
    };
    let width = usize::from(area.width);
    let keys: Vec<(&str, &str)> = (0..=7u8)
        .rev()
        .map(|most| {
            all.iter()
                .filter(|(_, _, p)| *p <= most)
                .map(|&(k, w, _)| (k, w))
                .collect::<Vec<_>>()
        })
        .find(|keys| hints_width(keys) <= width)
        .unwrap_or_else(|| {
            all.iter()
                .filter(|(_, _, p)| *p == 0)
                .map(|&(k, w, _)| (k, w))
                .collect()
        });
    // With every key in view, `?` is just help.
    let keys: Vec<(&str, &str)> = if keys.len() == all.len() {
        keys.into_iter()
            .map(|(k, w)| if k == "?" { (k, "help") } else { (k, w) })
            .collect()
    } else {
        keys
    };
    let keys = keys.as_slice();
    hint_line(theme, keys, area, buf);
}

/// The variants, the active one in brackets (reads without colour too),
/// over as many rows as the layout gave them; only when even those are not
/// enough does the bar scroll to keep the active one in view.
fn draw_variants(view: &LessonView, theme: Theme, area: Rect, buf: &mut Buffer) {
    let labels: Vec<String> = view.lesson.variants.iter().map(variant_label).collect();
    let rows = layout::variant_rows(&labels, area.width);
    if rows.len() > usize::from(area.height) {
        let bar = variant_bar(view, theme, usize::from(area.width));
        buf.set_line(area.x, area.y, &bar, area.width);
        return;
    }
    let active = view
        .lesson
        .variants
        .iter()
        .position(|v| std::ptr::eq(v, view.variant));
    for (row, members) in rows.iter().enumerate() {
        let lead = if row == 0 {
            VARIANT_LEAD.to_owned()
        } else {
            " ".repeat(VARIANT_LEAD.width())
        };
        let mut spans = vec![Span::styled(lead, theme.dim())];
        for &i in members {
            spans.push(segment(&labels[i], Some(i) == active, theme));
        }
        buf.set_line(area.x, area.y + row as u16, &Line::from(spans), area.width);
    }
}

fn segment(label: &str, active: bool, theme: Theme) -> Span<'static> {
    if active {
        Span::styled(format!("[{label}] "), theme.selected())
    } else {
        Span::raw(format!(" {label}  "))
    }
}

/// The variants on one row, the active one in brackets. When they do not
/// all fit, the bar starts late enough to show the active one, with `…`
/// for those cut off on the left.
fn variant_bar(view: &LessonView, theme: Theme, width: usize) -> Line<'static> {
    let segments: Vec<(String, bool)> = view
        .lesson
        .variants
        .iter()
        .map(|v| {
            let active = std::ptr::eq(v, view.variant);
            let label = variant_label(v);
            let text = if active {
                format!("[{label}] ")
            } else {
                format!(" {label}  ")
            };
            (text, active)
        })
        .collect();
    let lead = VARIANT_LEAD;
    let active = segments.iter().position(|(_, a)| *a).unwrap_or(0);
    let through_active = |from: usize| -> usize {
        segments[from..=active]
            .iter()
            .map(|(t, _)| t.chars().count())
            .sum::<usize>()
            + lead.len()
            + if from > 0 { 2 } else { 0 }
    };
    let first = (0..=active)
        .find(|&from| through_active(from) <= width)
        .unwrap_or(active);
    let mut spans = vec![Span::styled(lead, theme.dim())];
    if first > 0 {
        spans.push(Span::styled("… ", theme.dim()));
    }
    for (text, is_active) in segments.into_iter().skip(first) {
        let style = if is_active {
            theme.selected()
        } else {
            Style::new()
        };
        spans.push(Span::styled(text, style));
    }
    Line::from(spans)
}

/// `▶ running 3.2s`, `⏸ paused`, `✗ deadlock`, `✓ finished`.
fn run_state(app: &App, view: &LessonView, theme: Theme) -> (String, Style) {
    let live = &view.live;
    if let Some(k) = app.steering().seek {
        return (format!("↺ to step {k}…"), theme.notice());
    }
    let Some(snapshot) = &live.snapshot else {
        return ("starting…".to_owned(), theme.dim());
    };
    let at = format!("{:.1}s", snapshot.elapsed.as_secs_f64());
    if let Some(verdict) = live.verdict() {
        return (format!("✗ {} at {at}", verdict.kind()), theme.bad());
    }
    if let Some(finished) = &live.finished {
        let broken = finished
            .outcome
            .as_ref()
            .is_none_or(crate::lessons::Outcome::is_broken);
        let hidden = view.lesson.hidden(view.variant, &view.knobs).is_some();
        return if broken {
            (format!("✗ finished, broken, {at}"), theme.bad())
        } else if hidden {
            (
                format!("✓ finished in {at}, trap hidden by the knobs"),
                theme.notice(),
            )
        } else {
            (format!("✓ finished in {at}"), theme.good())
        };
    }
    let awaiting = snapshot
        .schedule
        .as_ref()
        .is_some_and(|s| s.awaiting_choice);
    if app.steering().mode == Mode::Play && awaiting {
        (format!("◆ your pick at {at}"), theme.notice())
    } else if app.paused() {
        (format!("⏸ paused at {at}"), theme.notice())
    } else {
        (format!("▶ running {at}"), theme.good())
    }
}

/// The status line: the last message on the left, the knobs on the right;
/// on two rows (the layout gives them) when both do not fit on one.
fn draw_status(app: &App, view: Option<&LessonView>, area: Rect, buf: &mut Buffer) {
    if area.height == 0 {
        return;
    }
    let theme = app.theme();
    let knobs = view.map(|v| knobs_text(&v.knobs, app.speed()));
    let knobs_width = knobs.as_ref().map_or(0, |k| k.width() as u16);
    let knobs_row = area.bottom() - 1;
    if let Some(status) = app.status() {
        let style = if status.warning {
            theme.notice()
        } else {
            theme.accent()
        };
        let room = if knobs_row > area.y {
            usize::from(area.width)
        } else {
            usize::from(area.width.saturating_sub(knobs_width + 1))
        };
        let text = truncate(&format!(" {}", status.text), room);
        buf.set_stringn(area.x, area.y, text, room, style);
    }
    if let Some(knobs) = knobs {
        let x = area.right().saturating_sub(knobs_width);
        buf.set_stringn(x, knobs_row, knobs, usize::from(area.width), theme.dim());
    }
}

fn hints_width(keys: &[(&str, &str)]) -> usize {
    1 + keys
        .iter()
        .map(|(key, what)| key.chars().count() + what.chars().count() + 3)
        .sum::<usize>()
}

fn hint_line(theme: Theme, keys: &[(&str, &str)], area: Rect, buf: &mut Buffer) {
    let mut spans = vec![Span::raw(" ")];
    for (key, what) in keys {
        spans.push(Span::styled(*key, theme.accent()));
        spans.push(Span::styled(format!(" {what}  "), theme.dim()));
    }
    buf.set_line(area.x, area.y, &Line::from(spans), area.width);
}

/// Every key, the open challenge's hint and what the glyphs mean; it
/// scrolls when the terminal is shorter than it (see [`help`]).
fn help_overlay(app: &App, area: Rect, buf: &mut Buffer) {
    let theme = app.theme();
    let lines = help::lines_for(app, area);
    let rect = help::overlay_rect(area, lines.len());
    let shown = usize::from(rect.height.saturating_sub(2));
    let scroll = app.help_scroll().min(lines.len().saturating_sub(shown));
    let more = if scroll + shown < lines.len() {
        " ↓ more: ↑ ↓ scroll "
    } else if scroll > 0 {
        " ↑ more above "
    } else {
        ""
    };
    Clear.render(rect, buf);
    Paragraph::new(lines)
        .scroll((u16::try_from(scroll).unwrap_or(u16::MAX), 0))
        .block(
            Block::bordered()
                .title(" keys ")
                .title_bottom(Line::from(more).right_aligned())
                .border_style(theme.focused_border()),
        )
        .render(rect, buf);
}
