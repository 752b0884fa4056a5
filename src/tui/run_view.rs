//! The live run panel: the verdict banner, the outcome, the stages and
//! channels in data-flow order, `main`, the throughput sparkline and the
//! last events. Drawn from a snapshot only.

use std::fmt::Write as _;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Sparkline, Widget, Wrap};
use unicode_width::UnicodeWidthStr;

use super::app::{Finished, LessonView};
use super::flow::{Flow, FlowLinks, Stage, arrange};
use super::theme::{self, STATE_ORDER, Theme};
use crate::lab::{
    ChannelKind, ChannelSnapshot, EventKind, StuckWorker, Verdict, WorkerSnapshot, WorkerState,
};
use crate::lessons::VariantKind;

/// Columns of a channel drawn between two stages.
const CHANNEL_WIDTH: u16 = 14;
/// Columns between two stages joined by no channel.
const EMPTY_GAP_WIDTH: u16 = 3;
/// Narrowest and widest stage column in the wide layout.
const STAGE_MIN: u16 = 8;
const STAGE_MAX: u16 = 22;
/// Narrowest stage column in the compact layout.
const COMPACT_STAGE_MIN: u16 = 6;
/// Rows of one channel cell in the wide layout (plus one blank row between).
const CHANNEL_ROWS: u16 = 4;
/// Most rows the verdict banner may take.
const BANNER_MAX: u16 = 7;
/// Most rows the outcome may take.
const OUTCOME_MAX: u16 = 4;
/// Fewest rows kept for the event log.
const EVENTS_MIN: u16 = 3;

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
        let live = &self.view.live;
        let Some(snapshot) = live.snapshot.as_ref() else {
            buf.set_string(inner.x, inner.y, "starting the run…", theme.dim());
            return;
        };
        let no_links = FlowLinks::default();
        let flow = arrange(snapshot, self.view.links().unwrap_or(&no_links));

        let banner = live
            .verdict()
            .map(|verdict| banner(verdict, live.finished.as_ref(), self.view, theme));
        let banner_rows = banner
            .as_ref()
            .map_or(0, |p| (p.line_count(inner.width) as u16).min(BANNER_MAX));
        let hidden = self.view.lesson.hidden(self.view.variant, &self.view.knobs);
        let outcome = live
            .finished
            .as_ref()
            .map(|f| outcome_lines(f, live.verdict().is_some(), hidden.as_deref(), theme));
        let outcome_rows = outcome
            .as_ref()
            .map_or(0, |l| (l.len() as u16).min(OUTCOME_MAX));
        let main_rows = u16::from(!flow.main.is_empty());
        let spark_rows = 1;
        let fixed = banner_rows + outcome_rows + main_rows + spark_rows;
        let flow_room = inner.height.saturating_sub(fixed + EVENTS_MIN);
        let flow_rows = flow_height(&flow, inner.width, flow_room);

        let mut y = inner.y;
        let mut take = |rows: u16| {
            let rows = rows.min(inner.bottom().saturating_sub(y));
            let r = Rect::new(inner.x, y, inner.width, rows);
            y += rows;
            r
        };
        let banner_area = take(banner_rows);
        let outcome_area = take(outcome_rows);
        let flow_area = take(flow_rows);
        let main_area = take(main_rows);
        let spark_area = take(spark_rows);
        let events_area = take(inner.height);

        if let Some(p) = banner {
            p.render(banner_area, buf);
        }
        if let Some(lines) = outcome {
            Paragraph::new(lines).render(outcome_area, buf);
        }
        draw_flow(&flow, self.view, theme, flow_area, buf);
        if let Some(main) = flow.main.first() {
            let main_line = Line::from(vec![
                Span::styled("main ", theme.accent()),
                Span::styled(
                    format!("{} {}", theme::glyph(&main.state), main.state),
                    theme.state(&main.state),
                ),
            ]);
            buf.set_line(main_area.x, main_area.y, &main_line, main_area.width);
        }
        draw_throughput(self.view, theme, spark_area, buf);
        draw_events(self.view, theme, events_area, buf);
    }
}

/// The verdict in words: headline and the first wait on one line, the
/// other waits below, then why the trap breaks and what fixes it.
fn banner(
    verdict: &Verdict,
    finished: Option<&Finished>,
    view: &LessonView,
    theme: Theme,
) -> Paragraph<'static> {
    let dump = dump_lines(verdict);
    let mut first = format!("✗ {}", verdict.headline());
    if let Some(wait) = dump.first() {
        first.push_str(" — ");
        first.push_str(wait);
    }
    let mut lines = vec![Line::styled(first, theme.alarm())];
    let more = dump.len().saturating_sub(1);
    let shown = more.min(3);
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
    Paragraph::new(lines).wrap(Wrap { trim: false })
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
/// stage whose workers do not fit shows counts per state instead).
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

/// The compact layout's rows within `room`: (stages, channel list). The
/// channels get their rows first, but leave the stages at least four.
fn compact_split(flow: &Flow<'_>, room: u16) -> (u16, u16) {
    let channels = flow.gaps.iter().map(Vec::len).sum::<usize>() as u16;
    let for_stages = room.saturating_sub(channels).max(room.min(4));
    let stages = stage_rows(flow, for_stages);
    (stages, channels.min(room - stages))
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
            CHANNEL_WIDTH
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
    let mut counts = [0usize; STATE_ORDER.len()];
    for w in &stage.workers {
        if let Some(i) = STATE_ORDER.iter().position(|l| *l == w.state.label()) {
            counts[i] += 1;
        }
    }
    STATE_ORDER
        .iter()
        .zip(counts)
        .filter(|(_, n)| *n > 0)
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
    let mut y = area.y;
    for (i, channel) in channels.iter().enumerate() {
        if y + CHANNEL_ROWS > area.bottom() {
            let left = channels.len() - i;
            if y < area.bottom() {
                buf.set_string(area.x + 1, y, format!("+{left} more"), theme.dim());
            }
            break;
        }
        let peak = view.live.peaks.get(&channel.name).copied().unwrap_or(0);
        for (row, line) in channel_cell(channel, peak, width, theme).iter().enumerate() {
            buf.set_line(area.x + 1, y + row as u16, line, width as u16);
        }
        y += CHANNEL_ROWS + 1;
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
    let bar_width = width.saturating_sub(fill.width() + 1).max(3);
    let bar_line = if ch.capacity == Some(0) {
        Line::styled(truncate("⇄ rendezvous", width), theme.dim())
    } else {
        Line::from(vec![
            Span::styled(
                bar(ch.len, ch.capacity, peak, bar_width),
                theme.fill(ch.len, ch.capacity),
            ),
            Span::raw(format!(" {fill}")),
        ])
    };
    let long = format!("sent {} recv {}", count(ch.sent), count(ch.received));
    let counts = if long.width() <= width {
        long
    } else {
        format!("{}→{}", count(ch.sent), count(ch.received))
    };
    let mut last = vec![Span::styled(
        format!("⇥{} ⇤{}", ch.send_waiting, ch.recv_waiting),
        waiting_style(ch, theme),
    )];
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

/// The narrow layout: stage columns side by side, the channels listed below
/// them in data-flow order, one per row.
fn draw_compact(flow: &Flow<'_>, view: &LessonView, theme: Theme, area: Rect, buf: &mut Buffer) {
    let channels: Vec<&ChannelSnapshot> = flow.channels().collect();
    let (stage_rows, _) = compact_split(flow, area.height);
    let n = flow.stages.len() as u16;
    if n > 0 {
        let fits = (area.width / (COMPACT_STAGE_MIN + 1)).max(1);
        let shown = n.min(fits);
        let hidden = n - shown;
        let room = if hidden > 0 {
            area.width.saturating_sub(6)
        } else {
            area.width
        };
        let column = (room / shown).max(COMPACT_STAGE_MIN);
        for (i, stage) in flow.stages.iter().take(usize::from(shown)).enumerate() {
            // One blank column between neighbours.
            let rect = Rect::new(area.x + i as u16 * column, area.y, column - 1, stage_rows);
            draw_stage(stage, theme, rect.intersection(area), buf);
        }
        let more_x = area.x.saturating_add(shown.saturating_mul(column));
        if hidden > 0 && more_x < area.right() {
            buf.set_stringn(
                more_x,
                area.y,
                format!("+{hidden}"),
                usize::from(area.right() - more_x),
                theme.dim(),
            );
        }
    }
    let rows = area.height.saturating_sub(stage_rows);
    if rows == 0 || channels.is_empty() {
        return;
    }
    let name_width = channels
        .iter()
        .map(|c| c.name.width())
        .max()
        .unwrap_or(0)
        .min(14);
    // What a row needs besides the bar is about 32 columns; the bar gets
    // part of the rest.
    let bar_width = (usize::from(area.width).saturating_sub(name_width + 32) / 2).clamp(8, 24);
    let y0 = area.y + stage_rows;
    for (i, channel) in channels.iter().enumerate() {
        let row = i as u16;
        if row + 1 == rows && channels.len() > usize::from(rows) {
            let left = channels.len() - i;
            buf.set_string(
                area.x,
                y0 + row,
                format!("… {left} more channels"),
                theme.dim(),
            );
            break;
        }
        if row >= rows {
            break;
        }
        let peak = view.live.peaks.get(&channel.name).copied().unwrap_or(0);
        let line = fitted_channel_row(
            channel,
            peak,
            name_width,
            bar_width,
            usize::from(area.width),
            theme,
        );
        buf.set_line(area.x, y0 + row, &line, area.width);
    }
}

/// A channel in one row: name, bar, fill, counts, waiters, close.
fn channel_row(
    ch: &ChannelSnapshot,
    peak: usize,
    name_width: usize,
    bar_width: usize,
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
        spans.push(Span::styled(
            bar(ch.len, ch.capacity, peak, bar_width),
            theme.fill(ch.len, ch.capacity),
        ));
        spans.push(Span::raw(format!(" {:<6}", fill_text(ch))));
    }
    spans.push(Span::raw(format!(
        " sent {} recv {} ",
        count(ch.sent),
        count(ch.received)
    )));
    spans.push(Span::styled(
        format!("⇥{} ⇤{}", ch.send_waiting, ch.recv_waiting),
        waiting_style(ch, theme),
    ));
    if ch.closed {
        spans.push(Span::styled(
            " ✕ closed",
            theme.dim().add_modifier(Modifier::BOLD),
        ));
    }
    Line::from(spans)
}

/// The same row in `width` columns: counts as `12→9` when `sent 12 recv 9`
/// does not fit.
fn fitted_channel_row(
    ch: &ChannelSnapshot,
    peak: usize,
    name_width: usize,
    bar_width: usize,
    width: usize,
    theme: Theme,
) -> Line<'static> {
    let line = channel_row(ch, peak, name_width, bar_width, theme);
    if line.width() <= width {
        return line;
    }
    let short = format!(" {}→{} ", count(ch.sent), count(ch.received));
    let spans = line
        .spans
        .into_iter()
        .map(|s| {
            if s.content.starts_with(" sent ") {
                Span::raw(short.clone())
            } else {
                s
            }
        })
        .collect::<Vec<_>>();
    Line::from(spans)
}

/// Messages received per frame, newest at the right, with the rate.
fn draw_throughput(view: &LessonView, theme: Theme, area: Rect, buf: &mut Buffer) {
    if area.height == 0 {
        return;
    }
    let live = &view.live;
    let rate = if live.rate < 10_000.0 {
        format!("{:.1}", live.rate)
    } else {
        count(live.rate as u64)
    };
    let label = format!("recv/s {rate:>7} ");
    let label_width = label.width() as u16;
    buf.set_string(area.x, area.y, &label, theme.dim());
    let room = usize::from(area.width.saturating_sub(label_width));
    let skip = live.throughput.len().saturating_sub(room);
    let data: Vec<u64> = live.throughput.iter().skip(skip).copied().collect();
    let spark = Rect::new(
        area.x + label_width,
        area.y,
        area.width.saturating_sub(label_width),
        1,
    );
    Sparkline::default()
        .data(&data)
        .style(theme.state_label("running"))
        .render(spark, buf);
}

/// The last events, newest at the bottom (or scrolled back).
fn draw_events(view: &LessonView, theme: Theme, area: Rect, buf: &mut Buffer) {
    if area.height == 0 {
        return;
    }
    let live = &view.live;
    let mut title = String::from("events");
    if view.events_scroll > 0 {
        let _ = write!(
            title,
            " (scrolled back {}; End follows)",
            view.events_scroll
        );
    }
    if live.events_missed > 0 {
        let _ = write!(title, " ({} missed)", live.events_missed);
    }
    buf.set_stringn(
        area.x,
        area.y,
        title,
        usize::from(area.width),
        theme.accent(),
    );
    let rows = usize::from(area.height - 1);
    let end = live.events.len().saturating_sub(view.events_scroll);
    let start = end.saturating_sub(rows);
    for (row, event) in live.events.range(start..end).enumerate() {
        let style = match &event.kind {
            _ if event.cleanup => theme.dim(),
            EventKind::Verdict { .. } | EventKind::Panicked { .. } => theme.bad(),
            EventKind::Blocked { .. } => theme.dim(),
            EventKind::Closed { .. } | EventKind::Control { .. } => theme.notice(),
            _ => Style::new(),
        };
        let cleanup = if event.cleanup { "cleanup: " } else { "" };
        let text = format!("{:>7.2}s {cleanup}{}", event.at.as_secs_f64(), event.kind);
        buf.set_stringn(
            area.x,
            area.y + 1 + row as u16,
            text,
            usize::from(area.width),
            style,
        );
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
