//! The live run panel: the verdict banner, the outcome, the stages and
//! channels in data-flow order, `main`, the throughput sparkline and the
//! last events. Drawn from a snapshot only.

use std::collections::VecDeque;
use std::fmt::Write as _;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Sparkline, Widget};
use unicode_width::UnicodeWidthStr;

use super::app::{Finished, LessonView};
use super::flow::{Flow, FlowLinks, Stage, arrange};
use super::log::{EventFilter, LineKind, LogLine, wrap};
use super::plot;
use super::theme::{self, STATE_ORDER, Theme};
use crate::lab::{ChannelKind, ChannelSnapshot, StuckWorker, Verdict, WorkerSnapshot, WorkerState};
use crate::lessons::VariantKind;

/// Columns of a channel drawn between two stages, at least and at most: a
/// gap grows to fit its channels' names and numbers.
const CHANNEL_WIDTH: u16 = 14;
const CHANNEL_WIDTH_MAX: u16 = 26;
/// Columns between two stages joined by no channel.
const EMPTY_GAP_WIDTH: u16 = 3;
/// Narrowest and widest stage column in the wide layout.
const STAGE_MIN: u16 = 8;
const STAGE_MAX: u16 = 22;
/// Rows of one channel cell in the wide layout (plus one blank row between).
const CHANNEL_ROWS: u16 = 4;
/// Fewest rows kept for the event log (its title and two lines).
const EVENTS_MIN: u16 = 3;
/// Rows of the flow a report leaves standing when the run is over.
const FLOW_KEEP: u16 = 4;
/// Indent of an event line's continuation rows: past its time stamp.
const EVENT_INDENT: usize = 9;
/// Narrowest bar in a compact channel row before it is dropped.
const BAR_MIN: usize = 5;

/// The live run panel of one lesson view.
#[derive(Debug)]
pub struct RunPanel<'a> {
    /// The lesson view whose run is drawn.
    pub view: &'a LessonView,
    /// Colours or not.
    pub theme: Theme,
    /// True when the arrows scroll this pane.
    pub focused: bool,
}

/// Where each part of the panel goes.
#[derive(Debug, Clone, Copy, Default)]
struct Parts {
    report: Rect,
    /// True when the report did not fit in its rows.
    report_cut: bool,
    flow: Rect,
    main: Rect,
    spark: Rect,
    plot: Rect,
    events: Rect,
}

/// Lays the panel out inside its frame. The verdict and outcome wrap and
/// take the rows they need, leaving the event log its minimum and the flow
/// a few rows; what does not fit is marked, and the `verdicts` filter shows
/// the whole report in the event pane.
fn parts(view: &LessonView, theme: Theme, flow: &Flow<'_>, inner: Rect) -> Parts {
    let report_in_log = view.events_filter == EventFilter::Verdicts && view.live.finished.is_some();
    let report_need = if report_in_log {
        0
    } else {
        let rows = wrapped_report(report_lines(view, theme, false), inner.width).len();
        u16::try_from(rows).unwrap_or(u16::MAX)
    };
    let main_rows = u16::from(!flow.main.is_empty());
    let spark_rows = 1;
    let room = inner
        .height
        .saturating_sub(main_rows + spark_rows + EVENTS_MIN);
    let flow_keep = flow_height(flow, inner.width, room).min(FLOW_KEEP);
    // A report always gets a row or two, even from a pane too small for it.
    let report_rows = report_need.min(room.saturating_sub(flow_keep).max(report_need.min(2)));
    let flow_rows = flow_height(flow, inner.width, room.saturating_sub(report_rows));
    // The plot takes its rows from the event log, never from the flow: a
    // row of the log's minimum, and up to three fifths of what is left.
    let plot_rows = if view.plot_shown() {
        let shared = inner
            .height
            .saturating_sub(report_rows + flow_rows + main_rows + spark_rows);
        let events_keep = (EVENTS_MIN - 1).max(shared * 2 / 5);
        plot::rows_wanted(view, shared.saturating_sub(events_keep))
    } else {
        0
    };

    let mut y = inner.y;
    let mut take = |rows: u16| {
        let rows = rows.min(inner.bottom().saturating_sub(y));
        let r = Rect::new(inner.x, y, inner.width, rows);
        y += rows;
        r
    };
    let report = take(report_rows);
    let flow_area = take(flow_rows);
    let main = take(main_rows);
    let spark = take(spark_rows);
    let plot = take(plot_rows);
    let events = take(inner.height);
    Parts {
        report,
        report_cut: report_rows < report_need,
        flow: flow_area,
        main,
        spark,
        plot,
        events,
    }
}

/// The rows the event log's lines go in (below its title), for a run
/// panel drawn in `area`: the state pages and clamps the pane with it.
#[must_use]
pub fn events_list_area(view: &LessonView, theme: Theme, area: Rect) -> Rect {
    let Some(snapshot) = view.live.snapshot.as_ref() else {
        return Rect::default();
    };
    let inner = Block::bordered().inner(area);
    let no_links = FlowLinks::default();
    let flow = arrange(snapshot, view.links().unwrap_or(&no_links));
    let events = parts(view, theme, &flow, inner).events;
    Rect {
        y: events.y.saturating_add(1),
        height: events.height.saturating_sub(1),
        ..events
    }
}

impl Widget for &RunPanel<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let theme = self.theme;
        let border = if self.focused {
            theme.focused_border()
        } else {
            Style::new()
        };
        let block = Block::bordered().title(" live run ").border_style(border);
        let inner = block.inner(area);
        block.render(area, buf);
        let Some(snapshot) = self.view.live.snapshot.as_ref() else {
            buf.set_string(inner.x, inner.y, "starting the run…", theme.dim());
            return;
        };
        let no_links = FlowLinks::default();
        let flow = arrange(snapshot, self.view.links().unwrap_or(&no_links));
        let parts = parts(self.view, theme, &flow, inner);

        if parts.report.height > 0 {
            let mut area = parts.report;
            if parts.report_cut {
                area.height -= 1;
                let more = truncate(
                    "… more: f until `verdicts` shows it all",
                    usize::from(area.width),
                );
                buf.set_stringn(
                    area.x,
                    area.bottom(),
                    more,
                    usize::from(area.width),
                    theme.notice(),
                );
            }
            let rows = wrapped_report(report_lines(self.view, theme, false), area.width);
            for (row, line) in rows.iter().take(usize::from(area.height)).enumerate() {
                buf.set_line(area.x, area.y + row as u16, line, area.width);
            }
        }
        draw_flow(&flow, self.view, theme, parts.flow, buf);
        if let Some(main) = flow.main.first() {
            let main_line = Line::from(vec![
                Span::styled("main ", theme.accent()),
                Span::styled(
                    format!("{} {}", theme::glyph(&main.state), main.state),
                    theme.state(&main.state),
                ),
            ]);
            buf.set_line(parts.main.x, parts.main.y, &main_line, parts.main.width);
        }
        draw_throughput(self.view, theme, parts.spark, buf);
        plot::draw(self.view, theme, parts.plot, buf);
        draw_events(self.view, theme, parts.events, buf);
    }
}

/// The report's lines wrapped at spaces to `width`, each continuation
/// indented under its text, so a number is never cut and a `problem:` or
/// `note:` stays visibly one item.
fn wrapped_report(lines: Vec<Line<'static>>, width: u16) -> Vec<Line<'static>> {
    let mut rows = Vec::with_capacity(lines.len());
    for line in lines {
        let text: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
        let indent = text.len() - text.trim_start().len() + 2;
        for row in wrap(&text, usize::from(width), indent) {
            rows.push(Line::styled(row, line.style));
        }
    }
    rows
}

/// Stuck workers the verdict card lists after its first line.
const BANNER_WAITS: usize = 8;

/// The verdict and the outcome, as far as the run has them. `full` lists
/// every stuck worker (the event pane can scroll); otherwise the first nine.
fn report_lines(view: &LessonView, theme: Theme, full: bool) -> Vec<Line<'static>> {
    let live = &view.live;
    let mut lines = live
        .verdict()
        .map(|verdict| banner(verdict, live.finished.as_ref(), view, theme, full))
        .unwrap_or_default();
    if let Some(finished) = &live.finished {
        let hidden = view.lesson.hidden(view.variant, &view.knobs);
        lines.extend(outcome_lines(
            finished,
            live.verdict().is_some(),
            hidden.as_deref(),
            theme,
        ));
    }
    lines
}

/// The verdict in words: headline and the first wait on one line, the
/// other waits below, then why the trap breaks and what fixes it.
fn banner(
    verdict: &Verdict,
    finished: Option<&Finished>,
    view: &LessonView,
    theme: Theme,
    full: bool,
) -> Vec<Line<'static>> {
    let dump = dump_lines(verdict);
    let mut first = format!("✗ {}", verdict.headline());
    if let Some(wait) = dump.first() {
        first.push_str(" — ");
        first.push_str(wait);
    }
    let mut lines = vec![Line::styled(first, theme.alarm())];
    let more = dump.len().saturating_sub(1);
    // Enough for every worker of a lesson's verdict (the one the bug is
    // about must not hide behind "… and 1 more"); the report is cut to the
    // pane's room later, with a hint where the rest is.
    let shown = if full { more } else { more.min(BANNER_WAITS) };
    for wait in dump.iter().skip(1).take(shown) {
        lines.push(Line::styled(format!("  · {wait}"), theme.bad()));
    }
    if more > shown {
        lines.push(Line::styled(
            format!("  · … and {} more", more - shown),
            theme.bad(),
        ));
    }
    if let Some(f) = finished.filter(|f| !f.unstoppable.is_empty()) {
        lines.push(Line::styled(
            format!(
                "  left behind (would not stop): {}",
                f.unstoppable.join(", ")
            ),
            theme.bad(),
        ));
    }
    let variant = view.variant;
    if variant.kind == VariantKind::Trap {
        let mut why = format!("why: {}", variant.explains);
        if let Some(fix) = variant.fixed_by {
            let _ = write!(why, " — fixed by `{fix}` (t cycles variants)");
        }
        lines.push(Line::styled(why, theme.notice()));
    }
    lines
}

/// The verdict's per-worker lines, channel waits first: "sink waits to
/// receive on `filtered`" says more than "main waits for `sink`".
fn dump_lines(verdict: &Verdict) -> Vec<String> {
    let stuck = verdict.stuck();
    if stuck.is_empty() {
        return verdict.dump();
    }
    let joining = |s: &StuckWorker| matches!(s.state, WorkerState::Joining { .. });
    stuck
        .iter()
        .filter(|s| !joining(s))
        .chain(stuck.iter().filter(|s| joining(s)))
        .map(ToString::to_string)
        .collect()
}

/// The outcome line(s) once the run is over. `hidden`: why these knobs
/// hide the trap that ran, if they do.
fn outcome_lines(
    finished: &Finished,
    has_verdict: bool,
    hidden: Option<&str>,
    theme: Theme,
) -> Vec<Line<'static>> {
    let Some(outcome) = &finished.outcome else {
        let text = if finished.stopped {
            "run stopped before main returned"
        } else {
            "outcome: main did not return"
        };
        return vec![Line::styled(text, theme.bad())];
    };
    let mut facts = format!("{} in → {} out", outcome.items_in, outcome.items_out);
    match outcome.order_kept {
        Some(true) => facts.push_str(" · order kept"),
        Some(false) => facts.push_str(" · order broken"),
        None => {}
    }
    let _ = write!(facts, " · {} lost", outcome.lost);
    if outcome.dropped > 0 {
        let _ = write!(facts, " · {} dropped by design", outcome.dropped);
    }
    let clean = !has_verdict && !outcome.is_broken();
    let (head, style) = match (clean, hidden) {
        (true, Some(_)) => ("✓ finished clean, trap hidden: ", theme.notice()),
        (true, None) if outcome.held_by_design() => ("✓ held as designed: ", theme.good()),
        (true, None) => ("✓ finished clean: ", theme.good()),
        (false, _) => ("outcome: ", theme.bad()),
    };
    let mut lines = vec![Line::styled(format!("{head}{facts}"), style)];
    if let (true, Some(why)) = (clean, hidden) {
        lines.push(Line::styled(format!("  {why}"), theme.notice()));
    }
    for chosen in &outcome.by_design {
        lines.push(Line::styled(format!("  by design: {chosen}"), theme.good()));
    }
    for problem in &outcome.problems {
        lines.push(Line::styled(format!("  problem: {problem}"), theme.bad()));
    }
    for note in &outcome.notes {
        lines.push(Line::styled(format!("  note: {note}"), theme.dim()));
    }
    lines
}

/// Rows the flow would like within `room`: the tallest stage or gap (a
/// stage whose workers do not fit shows counts per state instead), or in
/// the compact layout a row per stage and per channel.
fn flow_height(flow: &Flow<'_>, width: u16, room: u16) -> u16 {
    if wide_columns(flow, width).is_some() {
        let gap_rows = flow
            .gaps
            .iter()
            .map(|g| (g.len() as u16 * (CHANNEL_ROWS + 1)).saturating_sub(1))
            .max()
            .unwrap_or(0);
        stage_rows(flow, room).max(gap_rows).min(room)
    } else {
        let (stages, channels) = compact_split(flow, room);
        stages + channels
    }
}

/// Rows the stages need when they may use at most `room`.
fn stage_rows(flow: &Flow<'_>, room: u16) -> u16 {
    let room = usize::from(room);
    let rows = flow
        .stages
        .iter()
        .map(|s| {
            if s.workers.len() < room {
                1 + s.workers.len()
            } else {
                1 + distinct_states(s)
            }
        })
        .max()
        .unwrap_or(1);
    rows.min(room) as u16
}

fn distinct_states(stage: &Stage<'_>) -> usize {
    STATE_ORDER
        .iter()
        .filter(|label| stage.workers.iter().any(|w| w.state.label() == **label))
        .count()
}

/// The compact layout's rows within `room`: (stages, channels), a row
/// each. When not all fit, the stages come first (they name who does what;
/// a channel row is numbers about two of them), leaving the channels at
/// least a row; the last row of a side that is cut says how many are left.
fn compact_split(flow: &Flow<'_>, room: u16) -> (u16, u16) {
    let stages = u16::try_from(flow.stages.len()).unwrap_or(u16::MAX);
    let channels = u16::try_from(flow.channels().count()).unwrap_or(u16::MAX);
    if stages.saturating_add(channels) <= room {
        return (stages, channels);
    }
    let for_stages = stages.min(room.saturating_sub(channels.min(1)));
    (for_stages, channels.min(room - for_stages))
}

/// One column of the wide layout.
#[derive(Debug, Clone, Copy)]
enum Column {
    Stage(usize),
    Gap(usize),
}

/// The wide layout's columns (x offset, width), if they fit in `width`.
fn wide_columns(flow: &Flow<'_>, width: u16) -> Option<Vec<(Column, u16, u16)>> {
    let n = flow.stages.len();
    let gap_width = |k: usize| {
        if !flow.gaps[k].is_empty() {
            gap_cell_width(&flow.gaps[k])
        } else if k > 0 && k < n {
            EMPTY_GAP_WIDTH
        } else {
            0
        }
    };
    let mut stage_widths: Vec<u16> = flow.stages.iter().map(natural_stage_width).collect();
    let total: u16 = stage_widths.iter().sum::<u16>() + (0..=n).map(gap_width).sum::<u16>();
    if total > width || n == 0 {
        return None;
    }
    // Spread what is left over the stages, so long names are not cut.
    let extra = (width - total) / n as u16;
    for w in &mut stage_widths {
        *w += extra.min(STAGE_MAX.saturating_sub(*w));
    }
    let mut columns = Vec::with_capacity(2 * n + 1);
    let mut x = 0;
    for (k, stage_width) in stage_widths.iter().copied().enumerate() {
        let g = gap_width(k);
        if g > 0 {
            columns.push((Column::Gap(k), x, g));
            x += g;
        }
        columns.push((Column::Stage(k), x, stage_width));
        x += stage_width;
    }
    let last = gap_width(n);
    if last > 0 {
        columns.push((Column::Gap(n), x, last));
    }
    Some(columns)
}

/// A gap as wide as its widest channel cell needs: the whole name, the
/// fill next to a small bar, the counts, so no number is ever cut.
fn gap_cell_width(channels: &[&ChannelSnapshot]) -> u16 {
    let widest = channels
        .iter()
        .map(|ch| {
            let name = ch.name.width() + if ch.closed { 2 } else { 0 };
            let fill = if ch.capacity == Some(0) {
                "⇄ rendezvous".width()
            } else {
                fill_text(ch).width() + 1 + BAR_MIN
            };
            let counts = short_counts(ch).width();
            let waits = waiters(ch).width() + if ch.closed { 7 } else { 3 };
            name.max(fill).max(counts).max(waits)
        })
        .max()
        .unwrap_or(0);
    // One column of margin on each side.
    u16::try_from(widest + 2)
        .unwrap_or(u16::MAX)
        .clamp(CHANNEL_WIDTH, CHANNEL_WIDTH_MAX)
}

fn natural_stage_width(stage: &Stage<'_>) -> u16 {
    let header = stage_header(stage).width();
    let cells = stage
        .workers
        .iter()
        .map(|w| 2 + w.name.width())
        .max()
        .unwrap_or(0);
    (header.max(cells) as u16).clamp(STAGE_MIN, STAGE_MAX)
}

fn stage_header(stage: &Stage<'_>) -> String {
    match stage.workers.len() {
        1 => stage.name.to_owned(),
        n => format!("{} ×{n}", stage.name),
    }
}

fn draw_flow(flow: &Flow<'_>, view: &LessonView, theme: Theme, area: Rect, buf: &mut Buffer) {
    if area.height == 0 {
        return;
    }
    if let Some(columns) = wide_columns(flow, area.width) {
        for (column, x, width) in columns {
            let rect = Rect::new(area.x + x, area.y, width, area.height);
            match column {
                Column::Stage(i) => draw_stage(&flow.stages[i], theme, rect, buf),
                Column::Gap(k) => {
                    draw_gap(&flow.gaps[k], k, flow.stages.len(), view, theme, rect, buf);
                }
            }
        }
    } else {
        draw_compact(flow, view, theme, area, buf);
    }
}

/// A stage: its name, then one cell per worker, or counts per state when
/// its workers do not fit. The columns beside it keep the space between.
fn draw_stage(stage: &Stage<'_>, theme: Theme, area: Rect, buf: &mut Buffer) {
    let width = area.width;
    let header = truncate(&stage_header(stage), usize::from(width));
    buf.set_stringn(
        area.x,
        area.y,
        header,
        usize::from(width),
        theme.accent().add_modifier(Modifier::UNDERLINED),
    );
    let rows = area.height.saturating_sub(1);
    for (row, (text, style)) in stage_cells(stage, usize::from(rows), usize::from(width), theme)
        .into_iter()
        .take(usize::from(rows))
        .enumerate()
    {
        let text = truncate(&text, usize::from(width));
        buf.set_stringn(
            area.x,
            area.y + 1 + row as u16,
            text,
            usize::from(width),
            style,
        );
    }
}

/// The cells of a stage: one per worker, or one per state with a count
/// (`⇥ 16 blocked-send`, or `⇥ 16 send` in a narrow column).
fn stage_cells(stage: &Stage<'_>, rows: usize, width: usize, theme: Theme) -> Vec<(String, Style)> {
    if stage.workers.len() <= rows {
        return stage
            .workers
            .iter()
            .map(|w| (worker_cell(w), theme.state(&w.state)))
            .collect();
    }
    state_counts(stage)
        .into_iter()
        .map(|(label, n)| {
            let glyph = theme::glyph_for_label(label);
            let mut text = format!("{glyph} {n} {label}");
            if text.width() > width {
                text = format!("{glyph} {n} {}", theme::short_label(label));
            }
            (text, theme.state_label(label))
        })
        .collect()
}

/// How many of a stage's workers are in each state, in legend order.
fn state_counts(stage: &Stage<'_>) -> Vec<(&'static str, usize)> {
    let mut counts = [0usize; STATE_ORDER.len()];
    for w in &stage.workers {
        if let Some(i) = STATE_ORDER.iter().position(|l| *l == w.state.label()) {
            counts[i] += 1;
        }
    }
    STATE_ORDER
        .iter()
        .copied()
        .zip(counts)
        .filter(|(_, n)| *n > 0)
        .collect()
}

fn worker_cell(worker: &WorkerSnapshot) -> String {
    format!("{} {}", theme::glyph(&worker.state), worker.name)
}

/// A gap between stages: its channels stacked, or a plain arrow.
fn draw_gap(
    channels: &[&ChannelSnapshot],
    k: usize,
    stages: usize,
    view: &LessonView,
    theme: Theme,
    area: Rect,
    buf: &mut Buffer,
) {
    if channels.is_empty() {
        if k > 0 && k < stages {
            buf.set_string(area.x, area.y, "─▶", theme.dim());
        }
        return;
    }
    let width = usize::from(area.width.saturating_sub(2));
    // The cells that fit (a "+N more" under them when there is a row for
    // it), scrolled to the channel picked with `O`.
    let fit = usize::from((area.height + 1) / (CHANNEL_ROWS + 1));
    let picked = picked_index(view, channels);
    let start = picked.map_or(0, |p| (p + 1).saturating_sub(fit.max(1)));
    let mut y = area.y;
    for channel in channels.iter().skip(start).take(fit) {
        let peak = view.live.peaks.get(&channel.name).copied().unwrap_or(0);
        let mut cell = channel_cell(channel, peak, width, theme);
        if picked.is_some_and(|p| std::ptr::eq(channels[p], *channel)) {
            cell[0] = Line::styled(cell[0].spans[0].content.to_string(), theme.selected());
        }
        for (row, line) in cell.iter().enumerate() {
            buf.set_line(area.x + 1, y + row as u16, line, width as u16);
        }
        y += CHANNEL_ROWS + 1;
    }
    let left = channels.len() - fit.min(channels.len());
    if left > 0 && y < area.bottom() {
        buf.set_string(area.x + 1, y, format!("+{left} more"), theme.dim());
    }
}

/// A channel in four rows: name, buffer bar, counts, waiters and close.
fn channel_cell(
    ch: &ChannelSnapshot,
    peak: usize,
    width: usize,
    theme: Theme,
) -> [Line<'static>; 4] {
    let name = if ch.closed {
        format!("✕ {}", ch.name)
    } else {
        ch.name.clone()
    };
    let name = Line::styled(
        truncate(&name, width),
        Style::new().add_modifier(Modifier::BOLD),
    );
    let fill = fill_text(ch);
    let bar_line = if ch.capacity == Some(0) {
        Line::styled(truncate("⇄ rendezvous", width), theme.dim())
    } else if width >= fill.width() + 4 {
        let bar_width = width - fill.width() - 1;
        Line::from(vec![
            Span::styled(
                bar(ch.len, ch.capacity, peak, bar_width),
                theme.fill(ch.len, ch.capacity),
            ),
            Span::raw(format!(" {fill}")),
        ])
    } else {
        // No room for a bar beside the numbers: the numbers win.
        Line::styled(fill, theme.fill(ch.len, ch.capacity))
    };
    let long = long_counts(ch);
    let counts = if long.width() <= width {
        long
    } else {
        short_counts(ch)
    };
    let mut last = vec![Span::styled(waiters(ch), waiting_style(ch, theme))];
    if ch.closed {
        last.push(Span::styled(
            " closed",
            theme.dim().add_modifier(Modifier::BOLD),
        ));
    } else {
        last.push(Span::styled(" ─▶", theme.dim()));
    }
    [name, bar_line, Line::raw(counts), Line::from(last)]
}

fn long_counts(ch: &ChannelSnapshot) -> String {
    format!("sent {} recv {}", count(ch.sent), count(ch.received))
}

fn short_counts(ch: &ChannelSnapshot) -> String {
    format!("{}→{}", count(ch.sent), count(ch.received))
}

fn waiters(ch: &ChannelSnapshot) -> String {
    format!("⇥{} ⇤{}", ch.send_waiting, ch.recv_waiting)
}

fn waiting_style(ch: &ChannelSnapshot, theme: Theme) -> Style {
    if ch.send_waiting + ch.recv_waiting > 0 {
        theme.notice()
    } else {
        theme.dim()
    }
}

/// `3/4`, `7/∞`, `0/0`, `timer`.
fn fill_text(ch: &ChannelSnapshot) -> String {
    match (&ch.kind, ch.capacity) {
        (ChannelKind::Never, _) => "never".to_owned(),
        (_, Some(cap)) => format!("{}/{cap}", ch.len),
        (_, None) => format!("{}/∞", ch.len),
    }
}

/// `▕███░░▏`: how full the buffer is (an unbounded one against its peak).
fn bar(len: usize, capacity: Option<usize>, peak: usize, width: usize) -> String {
    let inner = width.saturating_sub(2).max(1);
    let of = match capacity {
        Some(cap) => cap.max(1),
        None => peak.max(len).max(1),
    };
    let mut filled = (len.min(of) * inner).div_ceil(of);
    if len > 0 {
        filled = filled.max(1);
    }
    format!("▕{}{}▏", "█".repeat(filled), "░".repeat(inner - filled))
}

/// The narrow layout: a row per stage (its name once, then its workers as
/// glyphs with their numbers), then a row per channel, in data-flow order.
fn draw_compact(flow: &Flow<'_>, view: &LessonView, theme: Theme, area: Rect, buf: &mut Buffer) {
    let (stage_rows, channel_rows) = compact_split(flow, area.height);
    let width = usize::from(area.width);
    let name_width = flow
        .stages
        .iter()
        .map(|s| stage_header(s).width())
        .max()
        .unwrap_or(0)
        .min(width / 3);
    let n = flow.stages.len();
    let shown = if n > usize::from(stage_rows) {
        usize::from(stage_rows.saturating_sub(1))
    } else {
        n
    };
    for (row, stage) in flow.stages.iter().take(shown).enumerate() {
        let line = stage_line(stage, name_width, width, theme);
        buf.set_line(area.x, area.y + row as u16, &line, area.width);
    }
    if shown < n && stage_rows > 0 {
        let text = format!("… {} more stages", n - shown);
        buf.set_stringn(area.x, area.y + shown as u16, text, width, theme.dim());
    }

    let channels: Vec<&ChannelSnapshot> = flow.channels().collect();
    if channel_rows == 0 || channels.is_empty() {
        return;
    }
    let name_width = channels
        .iter()
        .map(|c| c.name.width())
        .max()
        .unwrap_or(0)
        .min(width / 3);
    // What a row needs besides the bar is about 32 columns; the bar gets
    // part of the rest.
    let bar_width = (width.saturating_sub(name_width + 32) / 2).clamp(8, 24);
    let y0 = area.y + stage_rows;
    let rows = usize::from(channel_rows);
    let peak = |ch: &ChannelSnapshot| view.live.peaks.get(&ch.name).copied().unwrap_or(0);
    // One form for every row, so the columns line up: the fullest that
    // fits them all.
    let forms = row_forms(bar_width);
    let form = forms
        .iter()
        .copied()
        .find(|&form| {
            channels
                .iter()
                .all(|ch| channel_row(ch, peak(ch), name_width, form, theme).width() <= width)
        })
        .unwrap_or(forms[forms.len() - 1]);
    let picked = picked_index(view, &channels);
    let mark = |line: Line<'static>, channel: &ChannelSnapshot| {
        if picked.is_some_and(|p| std::ptr::eq(channels[p], channel)) {
            picked_line(line, theme)
        } else {
            line
        }
    };
    if channels.len() <= rows {
        for (i, channel) in channels.iter().enumerate() {
            let line = fitted_channel_row(channel, peak(channel), name_width, form, width, theme);
            buf.set_line(area.x, y0 + i as u16, &mark(line, channel), area.width);
        }
        return;
    }
    // Not all fit: the last row says how many are left out, and the rows
    // above scroll to the channel picked with `O`, so each can be reached.
    let visible = rows - 1;
    if visible == 0 {
        if let Some(p) = picked {
            let channel = channels[p];
            let line = fitted_channel_row(channel, peak(channel), name_width, form, width, theme);
            buf.set_line(area.x, y0, &mark(line, channel), area.width);
        } else {
            let text = format!(
                "… {} channels (O steps through them, l hides the text)",
                channels.len()
            );
            buf.set_stringn(area.x, y0, truncate(&text, width), width, theme.dim());
        }
        return;
    }
    let start = picked.map_or(0, |p| (p + 1).saturating_sub(visible));
    for (i, channel) in channels.iter().skip(start).take(visible).enumerate() {
        let line = fitted_channel_row(channel, peak(channel), name_width, form, width, theme);
        buf.set_line(area.x, y0 + i as u16, &mark(line, channel), area.width);
    }
    let text = format!(
        "… {} more channels (O steps through them)",
        channels.len() - visible
    );
    buf.set_stringn(
        area.x,
        y0 + visible as u16,
        truncate(&text, width),
        width,
        theme.dim(),
    );
}

/// Where the channel picked with `O` is among `channels`, if there.
fn picked_index(view: &LessonView, channels: &[&ChannelSnapshot]) -> Option<usize> {
    let name = view.plot.channel.as_deref()?;
    channels.iter().position(|c| c.name == name)
}

/// The picked channel's row: its name marked (reverse video reads
/// without colours too).
fn picked_line(mut line: Line<'static>, theme: Theme) -> Line<'static> {
    if let Some(name) = line.spans.first_mut() {
        let text = name.content.trim_end().to_owned();
        let pad = name.content.width() - text.width();
        *name = Span::styled(text, theme.selected());
        line.spans.insert(1, Span::raw(" ".repeat(pad)));
    }
    line
}

/// A stage in one row: `square ×2  ◔1 ⇥2`. A stage of one worker says its
/// state in words when they fit (`generate   waits to send on `numbers``);
/// a stage with more workers than fit shows counts per state (`▶ 12 running`).
/// Nothing is cut in the middle: what does not fit ends the row with `…`.
fn stage_line(stage: &Stage<'_>, name_width: usize, width: usize, theme: Theme) -> Line<'static> {
    let header = truncate(&stage_header(stage), name_width);
    let pad = name_width.saturating_sub(header.width());
    let mut spans = vec![Span::styled(
        format!("{header}{} ", " ".repeat(pad)),
        theme.accent(),
    )];
    let room = width.saturating_sub(name_width + 1);
    let chips: Vec<(String, Style)> = match stage.workers.as_slice() {
        [only] => {
            let glyph = theme::glyph(&only.state);
            let words = format!("{glyph} {}", only.state);
            let text = if words.width() <= room {
                words
            } else {
                format!("{glyph} {}", only.state.label())
            };
            vec![(text, theme.state(&only.state))]
        }
        // Each worker's chip takes at least two columns and a space: past
        // that many, counts are the only choice, and the chips are not built.
        workers if workers.len() * 3 > room + 1 => count_chips(stage, room, theme),
        workers => {
            let each: Vec<(String, Style)> = workers
                .iter()
                .map(|w| {
                    let number = w.name.rsplit_once('#').map_or(w.name.as_str(), |(_, n)| n);
                    (
                        format!("{}{number}", theme::glyph(&w.state)),
                        theme.state(&w.state),
                    )
                })
                .collect();
            if chips_width(&each) <= room {
                each
            } else {
                count_chips(stage, room, theme)
            }
        }
    };
    let mut used = 0;
    for (i, (text, style)) in chips.into_iter().enumerate() {
        let sep = usize::from(i > 0);
        if used + sep + text.width() > room {
            spans.push(Span::styled(" …", theme.dim()));
            break;
        }
        if sep > 0 {
            spans.push(Span::raw(" "));
        }
        used += sep + text.width();
        spans.push(Span::styled(text, style));
    }
    Line::from(spans)
}

/// A stage's workers as counts per state: `▶ 12 running`, or `▶12` when
/// the words do not fit.
fn count_chips(stage: &Stage<'_>, room: usize, theme: Theme) -> Vec<(String, Style)> {
    let counts = state_counts(stage);
    let long: Vec<(String, Style)> = counts
        .iter()
        .map(|(label, n)| {
            let glyph = theme::glyph_for_label(label);
            (
                format!("{glyph} {n} {}", theme::short_label(label)),
                theme.state_label(label),
            )
        })
        .collect();
    if chips_width(&long) <= room {
        return long;
    }
    counts
        .iter()
        .map(|(label, n)| {
            (
                format!("{}{n}", theme::glyph_for_label(label)),
                theme.state_label(label),
            )
        })
        .collect()
}

fn chips_width(chips: &[(String, Style)]) -> usize {
    chips
        .iter()
        .map(|(t, _)| t.width() + 1)
        .sum::<usize>()
        .saturating_sub(1)
}

/// How a channel row is drawn: the bar's width (none when dropped), the
/// counts as `sent 12 recv 9` or `12→9`, the close as `✕ closed` or `✕`.
#[derive(Debug, Clone, Copy)]
struct RowForm {
    bar: Option<usize>,
    long_counts: bool,
    closed_word: bool,
}

/// A channel in one row: name, bar, fill, counts, waiters, close.
fn channel_row(
    ch: &ChannelSnapshot,
    peak: usize,
    name_width: usize,
    form: RowForm,
    theme: Theme,
) -> Line<'static> {
    let name = truncate(&ch.name, name_width);
    let pad = name_width.saturating_sub(name.width());
    let mut spans = vec![Span::styled(
        format!("{name}{} ", " ".repeat(pad)),
        Style::new().add_modifier(Modifier::BOLD),
    )];
    if ch.capacity == Some(0) {
        spans.push(Span::styled("⇄ rendezvous", theme.dim()));
    } else {
        if let Some(bar_width) = form.bar {
            spans.push(Span::styled(
                bar(ch.len, ch.capacity, peak, bar_width),
                theme.fill(ch.len, ch.capacity),
            ));
            spans.push(Span::raw(" "));
        }
        spans.push(Span::styled(
            format!("{:<6}", fill_text(ch)),
            theme.fill(ch.len, ch.capacity),
        ));
    }
    let counts = if form.long_counts {
        long_counts(ch)
    } else {
        short_counts(ch)
    };
    spans.push(Span::raw(format!(" {counts} ")));
    spans.push(Span::styled(waiters(ch), waiting_style(ch, theme)));
    if ch.closed {
        let close = if form.closed_word {
            " ✕ closed"
        } else {
            " ✕"
        };
        spans.push(Span::styled(
            close,
            theme.dim().add_modifier(Modifier::BOLD),
        ));
    }
    Line::from(spans)
}

/// The forms a channel row can take, fullest first: the counts shorten to
/// `12→9`, the bar narrows and then goes, `closed` becomes `✕`.
fn row_forms(bar_width: usize) -> [RowForm; 5] {
    [
        RowForm {
            bar: Some(bar_width),
            long_counts: true,
            closed_word: true,
        },
        RowForm {
            bar: Some(bar_width),
            long_counts: false,
            closed_word: true,
        },
        RowForm {
            bar: Some(BAR_MIN),
            long_counts: false,
            closed_word: true,
        },
        RowForm {
            bar: None,
            long_counts: false,
            closed_word: true,
        },
        RowForm {
            bar: None,
            long_counts: false,
            closed_word: false,
        },
    ]
}

/// The row in `form`, in `width` columns: when even that is too wide the
/// name is abbreviated (with `…`). A number is never cut.
fn fitted_channel_row(
    ch: &ChannelSnapshot,
    peak: usize,
    name_width: usize,
    form: RowForm,
    width: usize,
    theme: Theme,
) -> Line<'static> {
    let line = channel_row(ch, peak, name_width, form, theme);
    if line.width() <= width {
        return line;
    }
    let rest = channel_row(ch, peak, 0, form, theme).width();
    let name_width = width.saturating_sub(rest).max(2);
    channel_row(ch, peak, name_width, form, theme)
}

/// Messages received per frame, newest at the right, with the rate; once
/// the run is over the rate is the run's average, said as such.
fn draw_throughput(view: &LessonView, theme: Theme, area: Rect, buf: &mut Buffer) {
    if area.height == 0 {
        return;
    }
    let live = &view.live;
    let over = live.finished.is_some()
        || live
            .snapshot
            .as_ref()
            .is_some_and(|s| s.at_verdict || s.verdict.is_some());
    let label = if over {
        let average = live.snapshot.as_ref().map_or(0.0, |s| {
            let secs = s.elapsed.as_secs_f64();
            if secs > 0.0 {
                s.totals.received as f64 / secs
            } else {
                0.0
            }
        });
        format!("recv/s ended, avg {} ", rate_text(average))
    } else {
        format!("recv/s {:>7} ", rate_text(live.rate))
    };
    let label_width = label.width() as u16;
    buf.set_stringn(area.x, area.y, &label, usize::from(area.width), theme.dim());
    let room = usize::from(area.width.saturating_sub(label_width));
    let skip = live.throughput.len().saturating_sub(room);
    let data: Vec<u64> = live.throughput.iter().skip(skip).copied().collect();
    let spark = Rect::new(
        area.x + label_width.min(area.width),
        area.y,
        area.width.saturating_sub(label_width),
        1,
    );
    Sparkline::default()
        .data(&data)
        .style(theme.state_label("running"))
        .render(spark, buf);
}

fn rate_text(rate: f64) -> String {
    if rate < 10_000.0 {
        format!("{rate:.1}")
    } else {
        count(rate as u64)
    }
}

/// What the event pane lists: the filter's lines and, with the `verdicts`
/// filter once the run is over, its whole report after them.
#[derive(Debug)]
pub struct LogEntries<'a> {
    lines: &'a VecDeque<LogLine>,
    report: Vec<Line<'static>>,
    theme: Theme,
}

impl<'a> LogEntries<'a> {
    /// The entries of `view`'s event pane.
    #[must_use]
    pub fn new(view: &'a LessonView, theme: Theme) -> Self {
        let filter = view.events_filter;
        let report = if filter == EventFilter::Verdicts && view.live.finished.is_some() {
            report_lines(view, theme, true)
        } else {
            Vec::new()
        };
        Self {
            lines: view.live.log.lines(filter),
            report,
            theme,
        }
    }

    /// How many entries there are.
    #[must_use]
    pub fn len(&self) -> usize {
        self.lines.len() + self.report.len()
    }

    /// True when the pane has nothing to list.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Entry `i` (oldest first): its text, style, and the indent of its
    /// continuation rows.
    #[must_use]
    pub fn get(&self, i: usize) -> (String, Style, usize) {
        if let Some(line) = self.lines.get(i) {
            let theme = self.theme;
            let style = match line.kind {
                _ if line.cleanup => theme.dim(),
                LineKind::Verdict => theme.bad(),
                LineKind::Wait => theme.dim(),
                LineKind::Notice => theme.notice(),
                LineKind::Item | LineKind::Plain => Style::new(),
            };
            return (line.display(), style, EVENT_INDENT);
        }
        let line = &self.report[i - self.lines.len()];
        let text: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
        (text, line.style, 4)
    }

    /// Rows entry `i` wraps into at `width` columns.
    #[must_use]
    pub fn rows(&self, i: usize, width: usize) -> usize {
        let (text, _, indent) = self.get(i);
        wrap(&text, width, indent).len()
    }
}

/// The event log under its title: the newest lines at the bottom (or
/// scrolled back), each wrapped rather than cut at the pane's edge.
fn draw_events(view: &LessonView, theme: Theme, area: Rect, buf: &mut Buffer) {
    if area.height == 0 {
        return;
    }
    let live = &view.live;
    let mut title = format!("events: {} (f filters)", view.events_filter.label());
    if view.events_scroll > 0 {
        let _ = write!(
            title,
            " · scrolled back {}, End follows",
            view.events_scroll
        );
    }
    if live.events_missed > 0 {
        let _ = write!(title, " · {} missed", live.events_missed);
    }
    buf.set_stringn(
        area.x,
        area.y,
        truncate(&title, usize::from(area.width)),
        usize::from(area.width),
        theme.accent(),
    );
    let rows = usize::from(area.height - 1);
    let width = usize::from(area.width);
    let entries = LogEntries::new(view, theme);
    if entries.is_empty() {
        let hint = match view.events_filter {
            EventFilter::All => "nothing logged yet",
            EventFilter::Items => "no item has moved yet",
            EventFilter::Waits => "no worker has waited yet",
            EventFilter::Verdicts => "no verdict: nothing broke (yet)",
        };
        buf.set_stringn(area.x, area.y + 1, hint, width, theme.dim());
        return;
    }
    let wrapped = |i: usize| {
        let (text, style, indent) = entries.get(i);
        wrap(&text, width, indent)
            .into_iter()
            .map(move |row| (row, style))
    };
    let end = entries.len().saturating_sub(view.events_scroll);
    let mut shown: VecDeque<(String, Style)> = VecDeque::with_capacity(rows + 4);
    let mut i = end;
    while i > 0 && shown.len() < rows {
        i -= 1;
        for row in wrapped(i).rev() {
            shown.push_front(row);
        }
    }
    // Scrolled back past a full pane: show the oldest lines from the top.
    let mut j = end;
    while shown.len() < rows && j < entries.len() {
        shown.extend(wrapped(j));
        j += 1;
    }
    while shown.len() > rows {
        shown.pop_front();
    }
    for (row, (text, style)) in shown.into_iter().enumerate() {
        buf.set_stringn(area.x, area.y + 1 + row as u16, text, width, style);
    }
}

/// `998`, `12.3k`, `4.5M`: counts that stay narrow.
#[must_use]
pub fn count(n: u64) -> String {
    match n {
        0..10_000 => n.to_string(),
        10_000..1_000_000 => format!("{:.1}k", n as f64 / 1e3),
        _ => format!("{:.1}M", n as f64 / 1e6),
    }
}

/// Cuts `text` to `width` columns, marking the cut with `…`.
#[must_use]
pub fn truncate(text: &str, width: usize) -> String {
    if text.width() <= width {
        return text.to_owned();
    }
    if width == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if used + w + 1 > width {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_show_how_full() {
        assert_eq!(bar(0, Some(4), 0, 6), "▕░░░░▏");
        assert_eq!(bar(2, Some(4), 0, 6), "▕██░░▏");
        assert_eq!(bar(4, Some(4), 0, 6), "▕████▏");
        assert_eq!(bar(1, Some(100), 0, 6), "▕█░░░▏");
        assert_eq!(bar(5, None, 10, 6), "▕██░░▏");
    }

    #[test]
    fn truncates_with_an_ellipsis() {
        assert_eq!(truncate("generate", 8), "generate");
        assert_eq!(truncate("generate", 5), "gene…");
        assert_eq!(count(12_345), "12.3k");
    }
}
