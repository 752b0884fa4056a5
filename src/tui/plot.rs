//! The occupancy plot of the run panel: how full each channel has been
//! over the run, against its capacity, with its peak in numbers. Drawn
//! from the view's [`Occupancy`] history only, so it works for any lesson.
//!
//! Each channel gets a strip on its own scale (its capacity, or for an
//! unbounded channel its peak), so "at the cap" reads as bars reaching a
//! dotted ceiling (`┄`) whatever the colours. With less room each channel
//! gets a one-row sparkline; with none, a note says why.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Sparkline, Widget};
use unicode_width::UnicodeWidthStr;

use super::app::LessonView;
use super::occupancy::{History, Occupancy};
use super::run_view::truncate;
use super::theme::Theme;

/// Channels the fullest-first view draws as strips at most.
pub const FEW: usize = 3;
/// Bar rows of a strip in the fullest-first view (24 levels)...
const STRIP_BARS: u16 = 3;
/// ... and of the one channel picked with `O`.
const SINGLE_BARS: u16 = 8;
/// Fewest bar rows a strip is drawn with (16 levels); below that, a row
/// per channel.
const STRIP_BARS_MIN: u16 = 2;
/// Narrowest sparkline in a one-row form before it is dropped.
const SPARK_MIN: usize = 4;
/// The cap line drawn behind a bounded channel's bars.
const CAP_LINE: &str = "┄";

/// What the plot draws in the rows it was given.
#[derive(Debug)]
enum Shape<'a> {
    /// One row saying why there is nothing to plot.
    Note(String),
    /// A title row, then a strip per channel: a row of numbers over
    /// `bars` rows of bars.
    Strips {
        channels: Vec<&'a History>,
        bars: u16,
        extra: Option<String>,
    },
    /// A row per channel (the title first when there is room); `hidden`
    /// channels did not fit and the last row says so.
    Rows {
        channels: Vec<&'a History>,
        hidden: usize,
        title: bool,
        extra: Option<String>,
    },
}

impl Shape<'_> {
    fn rows(&self) -> u16 {
        match self {
            Self::Note(_) => 1,
            Self::Strips { channels, bars, .. } => 1 + channels.len() as u16 * (1 + bars),
            Self::Rows {
                channels,
                hidden,
                title,
                ..
            } => channels.len() as u16 + u16::from(*hidden > 0) + u16::from(*title),
        }
    }
}

/// Rows the plot uses when it may use `budget` (at least one, for a note).
#[must_use]
pub fn rows_wanted(view: &LessonView, budget: u16) -> u16 {
    if budget == 0 {
        return 0;
    }
    shape(view, budget).rows().min(budget)
}

/// Chooses what to draw in `budget` rows: the picked channel, or the
/// fullest few as strips when they all fit, else a row per channel.
fn shape(view: &LessonView, budget: u16) -> Shape<'_> {
    let occupancy = &view.live.occupancy;
    let mut extra = None;
    if let Some(name) = view.plot.channel.as_deref() {
        if let Some(history) = occupancy.get(name) {
            return single(history, budget);
        }
        let snapshot = view.live.snapshot.as_ref();
        if let Some(ch) = snapshot.and_then(|s| s.channels.iter().find(|c| c.name == name)) {
            let text = if ch.capacity == Some(0) {
                format!(
                    "`{name}` is a rendezvous: holds nothing, ⇥{} ⇤{}",
                    ch.send_waiting, ch.recv_waiting
                )
            } else {
                format!("`{name}` is a timer, not a queue")
            };
            return Shape::Note(text);
        }
        extra = Some(format!("`{name}` is not in this run"));
    }
    let all = occupancy.channels().len();
    if all == 0 {
        let text = if view.live.snapshot.is_some() {
            "occupancy: no channel with a buffer yet (a rendezvous holds nothing)"
        } else {
            "occupancy: waiting for the run"
        };
        return Shape::Note(text.to_owned());
    }
    let few = all.min(FEW);
    let few_u16 = few as u16;
    if budget > few_u16 * (1 + STRIP_BARS_MIN) {
        let bars = ((budget - 1) / few_u16 - 1).min(STRIP_BARS);
        return Shape::Strips {
            channels: occupancy.fullest(few),
            bars,
            extra,
        };
    }
    let title = usize::from(budget) > all;
    let room = usize::from(budget - u16::from(title));
    let (shown, hidden) = if all <= room {
        (all, 0)
    } else {
        // The last row says what is left out, unless it is the only row.
        let shown = room.saturating_sub(1).max(1);
        (shown, all - shown)
    };
    Shape::Rows {
        channels: occupancy.fullest(shown),
        hidden: if room > 1 { hidden } else { 0 },
        title,
        extra,
    }
}

fn single(history: &History, budget: u16) -> Shape<'_> {
    if budget > 1 + STRIP_BARS_MIN {
        Shape::Strips {
            channels: vec![history],
            bars: (budget - 2).min(SINGLE_BARS),
            extra: None,
        }
    } else {
        Shape::Rows {
            channels: vec![history],
            hidden: 0,
            title: budget > 1,
            extra: None,
        }
    }
}

/// Draws the plot in `area` (as many rows as [`rows_wanted`] said).
pub fn draw(view: &LessonView, theme: Theme, area: Rect, buf: &mut Buffer) {
    if area.height == 0 || area.width == 0 {
        return;
    }
    let width = usize::from(area.width);
    match shape(view, area.height) {
        Shape::Note(mut text) => {
            if text.width() + " · O next".width() <= width && view.plot.channel.is_some() {
                text.push_str(" · O next");
            }
            buf.set_stringn(
                area.x,
                area.y,
                truncate(&text, width),
                width,
                theme.notice(),
            );
        }
        Shape::Strips {
            channels,
            bars,
            extra,
        } => {
            draw_title(view, &channels, extra.as_deref(), theme, area, buf);
            let mut y = area.y + 1;
            for history in &channels {
                if y + 1 + bars > area.bottom() {
                    break;
                }
                draw_strip(
                    &view.live.occupancy,
                    (history, scale_of(history, &channels)),
                    theme,
                    Rect::new(area.x, y, area.width, 1 + bars),
                    buf,
                );
                y += 1 + bars;
            }
        }
        Shape::Rows {
            channels,
            hidden,
            title,
            extra,
        } => {
            let mut rows = area;
            if title {
                draw_title(view, &channels, extra.as_deref(), theme, area, buf);
                rows.y += 1;
                rows.height -= 1;
            }
            let single = view.plot.channel.is_some() && extra.is_none();
            // A single row standing for several channels says so.
            let others = view.live.occupancy.channels().len() - channels.len();
            let suffix = if !single && !title && hidden == 0 && others > 0 {
                format!(" +{others}, O")
            } else {
                String::new()
            };
            draw_rows(view, &channels, hidden, &suffix, theme, rows, buf);
        }
    }
}

/// The plot's title row.
fn draw_title(
    view: &LessonView,
    shown: &[&History],
    extra: Option<&str>,
    theme: Theme,
    area: Rect,
    buf: &mut Buffer,
) {
    let width = usize::from(area.width);
    let single = view.plot.channel.is_some() && extra.is_none();
    let text = title(&view.live.occupancy, shown, single, extra, width);
    buf.set_stringn(
        area.x,
        area.y,
        truncate(&text, width),
        width,
        theme.accent(),
    );
}

/// A row per channel, and a row for those left out (`hidden`).
fn draw_rows(
    view: &LessonView,
    channels: &[&History],
    hidden: usize,
    suffix: &str,
    theme: Theme,
    area: Rect,
    buf: &mut Buffer,
) {
    let width = usize::from(area.width);
    let name_width = channels
        .iter()
        .map(|h| h.name.width())
        .max()
        .unwrap_or(0)
        .min(width / 4);
    let stats_width = channels
        .iter()
        .map(|h| h.peak_text().width())
        .max()
        .unwrap_or(0);
    let mut y = area.y;
    for history in channels {
        if y >= area.bottom() {
            return;
        }
        draw_channel_row(
            &view.live.occupancy,
            (history, scale_of(history, channels)),
            (name_width, stats_width),
            suffix,
            theme,
            Rect::new(area.x, y, area.width, 1),
            buf,
        );
        y += 1;
    }
    if hidden > 0 && y < area.bottom() {
        let text = format!("… {hidden} more channels: O plots them one at a time");
        buf.set_stringn(area.x, y, truncate(&text, width), width, theme.dim());
    }
}

/// `occupancy 0.0–1.5s · fullest 3 of 5 · O one at a time · o hides`,
/// the key hints dropped first when it does not fit in `width`.
fn title(
    occupancy: &Occupancy,
    shown: &[&History],
    single: bool,
    extra: Option<&str>,
    width: usize,
) -> String {
    let span = occupancy.span().map_or_else(String::new, |(from, to)| {
        format!(" {:.1}–{:.1}s", from.as_secs_f64(), to.as_secs_f64())
    });
    let all = occupancy.channels().len();
    let which = if single {
        format!(" of `{}`", shown[0].name)
    } else if shown.len() < all {
        format!(" · fullest {} of {all}", shown.len())
    } else {
        String::new()
    };
    let extra = extra.map_or_else(String::new, |e| format!(" · {e}"));
    let head = format!("occupancy{which}{span}{extra}");
    let keys = if single {
        [" · O next · o hides", " · O next"]
    } else {
        [" · O one at a time · o hides", " · O one at a time"]
    };
    keys.iter()
        .map(|k| format!("{head}{k}"))
        .find(|t| t.width() <= width)
        .unwrap_or(head)
}

/// The numbers over a strip, `lines  now 640 · peak 812, cap ∞`, and
/// what the strip's top is when it fits: the cap line, or `scale` items.
fn strip_header(history: &History, scale: usize, width: usize, theme: Theme) -> Line<'static> {
    let mut spans = vec![
        Span::styled(
            format!("{} ", history.name),
            Style::new().add_modifier(Modifier::BOLD),
        ),
        Span::styled(
            format!(" now {}", history.now),
            theme.fill(history.now, history.capacity),
        ),
        Span::styled(format!(" · {}", history.peak_text()), theme.dim()),
    ];
    let top = match history.capacity {
        Some(_) => format!(" · {CAP_LINE} is the cap"),
        None => format!(" · top: {scale}"),
    };
    if Line::from(spans.clone()).width() + top.width() <= width {
        spans.push(Span::styled(top, theme.dim()));
    }
    Line::from(spans)
}

/// A strip: its numbers, then its bars over the run's time, `scale`
/// items high: a bounded channel's capacity, with the cap line behind the
/// bars (an unbounded channel has no cap line).
fn draw_strip(
    occupancy: &Occupancy,
    (history, scale): (&History, usize),
    theme: Theme,
    area: Rect,
    buf: &mut Buffer,
) {
    buf.set_line(
        area.x,
        area.y,
        &strip_header(history, scale, usize::from(area.width), theme),
        area.width,
    );
    let bars = Rect::new(area.x, area.y + 1, area.width, area.height - 1);
    draw_bars(occupancy, history, scale, theme, bars, buf);
    if history.capacity.is_some() {
        for x in bars.left()..bars.right() {
            let cell = &mut buf[(x, bars.y)];
            if cell.symbol() == " " {
                cell.set_symbol(CAP_LINE).set_style(theme.dim());
            }
        }
    }
}

/// What a channel's bars are measured against: its capacity, or for an
/// unbounded channel the largest peak of the unbounded channels `shown`
/// (so that two of them compare at a glance).
fn scale_of(history: &History, shown: &[&History]) -> usize {
    let unbounded_peak = shown
        .iter()
        .filter(|h| h.capacity.is_none())
        .map(|h| h.peak)
        .max()
        .unwrap_or(history.peak);
    history.capacity.unwrap_or(unbounded_peak).max(1)
}

/// The channel's history as bars over `area`, one column per slice of
/// the run's time, `scale` items high. Any item at all shows as at least
/// the lowest bar.
fn draw_bars(
    occupancy: &Occupancy,
    history: &History,
    scale: usize,
    theme: Theme,
    area: Rect,
    buf: &mut Buffer,
) {
    let Some((from, to)) = occupancy.span() else {
        return;
    };
    let ticks = u64::from(area.height) * 8;
    let scale = scale as u64;
    let data: Vec<Option<u64>> = history
        .columns(from, to, usize::from(area.width))
        .into_iter()
        .map(|len| {
            len.map(|len| {
                let len = len as u64;
                if len == 0 {
                    0
                } else {
                    (len * ticks).div_ceil(scale).clamp(1, ticks)
                }
            })
        })
        .collect();
    Sparkline::default()
        .data(data)
        .max(ticks)
        .style(theme.fill(history.peak, history.capacity))
        .render(area, buf);
}

/// A channel in one row: `lines ▁▂▃▅▇█ peak 812, cap ∞`, the sparkline
/// dropped when too narrow to say anything. `columns`: the widths of the
/// name and numbers columns, shared by the rows so they line up.
fn draw_channel_row(
    occupancy: &Occupancy,
    (history, scale): (&History, usize),
    (name_width, stats_width): (usize, usize),
    suffix: &str,
    theme: Theme,
    area: Rect,
    buf: &mut Buffer,
) {
    let width = usize::from(area.width);
    let name = truncate(&history.name, name_width);
    let pad = name_width.saturating_sub(name.width());
    let spark = width.saturating_sub(name_width + 1 + 1 + stats_width + suffix.width());
    let mut spans = vec![Span::styled(
        format!("{name}{} ", " ".repeat(pad)),
        Style::new().add_modifier(Modifier::BOLD),
    )];
    if spark >= SPARK_MIN {
        spans.push(Span::raw(" ".repeat(spark + 1)));
    }
    spans.push(Span::styled(
        history.peak_text(),
        theme.fill(history.peak, history.capacity),
    ));
    spans.push(Span::styled(suffix.to_owned(), theme.dim()));
    buf.set_line(area.x, area.y, &Line::from(spans), area.width);
    if spark >= SPARK_MIN {
        let x = area.x + (name_width + 1) as u16;
        draw_bars(
            occupancy,
            history,
            scale,
            theme,
            Rect::new(x, area.y, spark as u16, 1),
            buf,
        );
    }
}
