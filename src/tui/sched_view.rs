//! Drawing the scheduling side: the mode in the header, the scrub bar of a
//! scheduled run, and the play-the-scheduler panel. Drawn from the state
//! only, like the rest of [`ui`](super::ui).

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Widget};
use unicode_width::UnicodeWidthStr;

use super::app::{App, LessonView};
use super::log::wrap;
use super::run_view::truncate;
use super::steer::Mode;
use super::theme::Theme;

/// The mode as the header says it, longest first: the header takes the
/// first that fits. "scheduled · random seed 17 · step 123".
#[must_use]
pub fn mode_texts(app: &App) -> Vec<String> {
    let steer = app.steering();
    let step = steer.seek.unwrap_or_else(|| app.step_now());
    match steer.mode {
        Mode::Free => vec!["free · OS threads".to_owned(), "free".to_owned()],
        Mode::Scheduled => vec![
            format!("scheduled · {} · step {step}", steer.describe_seed()),
            format!("scheduled · seed {} · step {step}", steer.seed),
            format!("seed {} · step {step}", steer.seed),
            format!("step {step}"),
        ],
        Mode::Play => {
            let mut texts = Vec::new();
            if let Some((i, _)) = app.challenge() {
                let n = app.lesson().map_or(0, |v| v.lesson.challenges.len());
                texts.push(format!("playing · challenge {}/{n} · step {step}", i + 1));
            }
            texts.push(format!("playing the scheduler · step {step}"));
            texts.push(format!("you pick · step {step}"));
            texts.push(format!("step {step}"));
            texts
        }
    }
}

/// The scrub bar: where the run is among the steps known so far, where
/// the verdict came; under it, the current step in words.
pub fn draw_timeline(app: &App, area: Rect, buf: &mut Buffer) {
    if area.height == 0 {
        return;
    }
    let theme = app.theme();
    let steer = app.steering();
    let step = steer.seek.unwrap_or_else(|| app.step_now());
    let total = steer.total(step);
    let width = usize::from(area.width);
    let label = format!(" step {step} of {total} ");
    let tail = match (&steer.verdict_at, steer.ended_at) {
        // The bar marks the step with ✗ just before this.
        (Some((at, kind)), _) => format!(" {kind} at {at} "),
        (None, Some(at)) => format!(" ✓ ends at {at} "),
        (None, None) => " ".to_owned(),
    };
    let room = width.saturating_sub(label.width() + tail.width());
    let mut spans = vec![Span::styled(label, theme.accent())];
    if room >= 3 {
        spans.extend(track(
            step,
            total,
            steer.verdict_at.as_ref().map(|v| v.0),
            room,
            theme,
        ));
        let tail_style = if steer.verdict_at.is_some() {
            theme.bad()
        } else {
            theme.dim()
        };
        spans.push(Span::styled(tail, tail_style));
    }
    buf.set_line(area.x, area.y, &Line::from(spans), area.width);
    if area.height < 2 {
        return;
    }
    let (text, style) = if let Some(k) = steer.seek {
        (
            format!(" going to step {k}: the run re-executes its steps…"),
            theme.notice(),
        )
    } else if step == 0 {
        (
            " step 0: nothing has run yet (] or s steps, G goes to the last known step)".to_owned(),
            theme.dim(),
        )
    } else {
        match steer.words_of(step) {
            Some(words) => (format!(" step {step}: {words}"), Style::new()),
            None => (format!(" step {step}"), Style::new()),
        }
    };
    let text = match &steer.diverged {
        Some(why) => (
            format!(" the recorded schedule does not fit: {why}"),
            theme.bad(),
        ),
        None => (text, style),
    };
    buf.set_stringn(area.x, area.y + 1, truncate(&text.0, width), width, text.1);
}

/// The bar itself, `room` cells: steps done, the current one, the known
/// ones ahead, and the verdict's step marked.
fn track(
    step: u64,
    total: u64,
    verdict: Option<u64>,
    room: usize,
    theme: Theme,
) -> Vec<Span<'static>> {
    let last = room - 1;
    let cell = |k: u64| -> usize {
        if total == 0 {
            0
        } else {
            let at = u128::from(k.min(total)) * last as u128 / u128::from(total);
            usize::try_from(at).unwrap_or(last)
        }
    };
    let here = cell(step);
    let mark = verdict.map(cell);
    let mut spans = Vec::new();
    if here > 0 {
        spans.push(Span::styled("━".repeat(here), theme.accent()));
    }
    // At the verdict's step, the mark is where the run is.
    if mark == Some(here) {
        spans.push(Span::styled("✗", theme.bad()));
    } else {
        spans.push(Span::styled("●", theme.accent()));
    }
    let ahead = last - here;
    if let Some(m) = mark.filter(|&m| m > here) {
        let before = m - here - 1;
        if before > 0 {
            spans.push(Span::styled("─".repeat(before), theme.dim()));
        }
        spans.push(Span::styled("✗", theme.bad()));
        let after = ahead - before - 1;
        if after > 0 {
            spans.push(Span::raw(" ".repeat(after)));
        }
    } else {
        let known = cell(total) - here;
        if known > 0 {
            spans.push(Span::styled("─".repeat(known), theme.dim()));
        }
        if ahead > known {
            spans.push(Span::raw(" ".repeat(ahead - known)));
        }
    }
    spans
}

/// Rows of text with their style.
type Rows = Vec<(String, Style)>;

/// One entry of the next-operation list, wrapped; `current` is the one
/// ↑ ↓ point at.
struct Entry {
    rows: Vec<String>,
    style: Style,
    current: bool,
    /// The worker, when it would wait (not pickable).
    waiting: Option<String>,
}

/// The play-the-scheduler panel (in the lesson text's place): the goal,
/// whether it is reached, and who can go next.
pub fn draw_play(app: &App, view: &LessonView, focused: bool, area: Rect, buf: &mut Buffer) {
    let theme = app.theme();
    let block = Block::bordered()
        .title(" play the scheduler ")
        .border_style(if focused {
            theme.focused_border()
        } else {
            Style::new()
        });
    let inner = block.inner(area);
    block.render(area, buf);
    if inner.height == 0 || inner.width == 0 {
        return;
    }
    let width = usize::from(inner.width);
    let awaiting = view
        .live
        .snapshot
        .as_ref()
        .and_then(|s| s.schedule.as_ref())
        .is_some_and(|s| s.awaiting_choice);
    let head = play_head(app, view, awaiting, width);
    let entries = play_entries(app, view, awaiting, focused, width);
    let foot = wrap(
        "u undo · [ ] steps · h hint · c challenge · p hand back",
        width,
        0,
    );
    let rows = fit_play(
        head,
        &entries,
        foot,
        usize::from(inner.height),
        width,
        theme,
    );
    for (row, (text, style)) in rows.into_iter().enumerate() {
        buf.set_stringn(inner.x, inner.y + row as u16, text, width, style);
    }
}

/// The goal (or why there is none), whether it is reached, the hint, and
/// what the run waits for.
fn play_head(app: &App, view: &LessonView, awaiting: bool, width: usize) -> Rows {
    let theme = app.theme();
    let steer = app.steering();
    let mut head = Rows::new();
    let mut push = |text: &str, style: Style| {
        head.extend(wrap(text, width, 2).into_iter().map(|row| (row, style)));
    };
    if let Some((i, challenge)) = app.challenge() {
        let n = view.lesson.challenges.len();
        push(
            &format!("goal {}/{n}: {}", i + 1, challenge.title),
            theme.accent(),
        );
        match steer.reached {
            Some(steps) => push(&format!("✓ goal reached in {steps} steps"), theme.good()),
            None => push("goal not reached yet", theme.dim()),
        }
        if steer.hint {
            push(&format!("hint: {}", challenge.hint), theme.notice());
        }
    } else if view.lesson.challenges.is_empty() {
        push(
            "no challenge for this lesson yet: pick any way you like and watch what breaks",
            theme.dim(),
        );
    } else {
        push("free play, no goal (c opens a challenge)", theme.dim());
    }
    push("", Style::new());
    let step = steer.seek.unwrap_or_else(|| app.step_now());
    if let Some(k) = steer.seek {
        push(&format!("going to step {k}…"), theme.notice());
    } else if view.live.finished.is_some() {
        push(
            &format!("step {step}: the run is over (u undoes, [ goes back, r again)"),
            theme.notice(),
        );
    } else if view.live.snapshot.is_none() {
        push("starting…", theme.dim());
    } else if awaiting {
        push(
            &format!("after step {step}: who goes next? (1–9, or ↑ ↓ Enter)"),
            theme.accent(),
        );
    } else {
        push(
            &format!(
                "after step {step}: the run goes on by itself (one way to go, or the clock runs)"
            ),
            theme.dim(),
        );
    }
    head
}

/// Who can go: the pickable entries numbered (1–9; past nine, ↑ ↓ reach
/// them), the others greyed with "(would wait)".
fn play_entries(
    app: &App,
    view: &LessonView,
    awaiting: bool,
    focused: bool,
    width: usize,
) -> Vec<Entry> {
    let theme = app.theme();
    let steer = app.steering();
    if view.live.finished.is_some() || steer.seek.is_some() {
        return Vec::new();
    }
    let mut n = 0;
    steer
        .next_ops
        .iter()
        .map(|op| {
            let (text, style, current) = if op.choice.is_some() {
                n += 1;
                let current = n - 1 == steer.cursor;
                let number = if n <= 9 {
                    n.to_string()
                } else {
                    "·".to_owned()
                };
                let mark = if current && awaiting { "▶" } else { " " };
                let style = if current && awaiting && focused {
                    theme.selected()
                } else if awaiting {
                    Style::new()
                } else {
                    theme.dim()
                };
                let text = format!("{mark}{number} {}: {}", op.worker, op.words);
                (text, style, current)
            } else {
                let text = format!("   {}: {}", op.worker, op.words);
                (text, theme.dim(), false)
            };
            Entry {
                rows: wrap(&text, width, 5),
                style,
                current,
                waiting: op.choice.is_none().then(|| op.worker.clone()),
            }
        })
        .collect()
}

/// The panel's rows in `height`: the head, then the list (a window around
/// the entry ↑ ↓ point at when it does not all fit), then the keys if
/// there is room for them.
fn fit_play(
    head: Rows,
    entries: &[Entry],
    foot: Vec<String>,
    height: usize,
    width: usize,
    theme: Theme,
) -> Rows {
    let rows_of = |entries: &[&Entry]| -> usize { entries.iter().map(|e| e.rows.len()).sum() };
    let all: Vec<&Entry> = entries.iter().collect();
    let mut rows: Rows = head.into_iter().take(height).collect();
    let room = height.saturating_sub(rows.len());
    let with_foot = rows_of(&all) + 1 + foot.len() <= room;
    let list_room = if with_foot {
        room - 1 - foot.len()
    } else {
        room
    };
    let emit = |rows: &mut Rows, entry: &Entry| {
        rows.extend(entry.rows.iter().map(|row| (row.clone(), entry.style)));
    };
    // Short of room, the workers that would wait share one line.
    let picks: Vec<&Entry> = entries.iter().filter(|e| e.waiting.is_none()).collect();
    let waiting: Vec<&str> = entries
        .iter()
        .filter_map(|e| e.waiting.as_deref())
        .collect();
    let waiting_rows = if waiting.is_empty() {
        Vec::new()
    } else {
        wrap(&format!("   would wait: {}", waiting.join(", ")), width, 5)
    };
    if rows_of(&all) <= list_room {
        for entry in &all {
            emit(&mut rows, entry);
        }
    } else if rows_of(&picks) + waiting_rows.len() <= list_room {
        for entry in &picks {
            emit(&mut rows, entry);
        }
        rows.extend(waiting_rows.into_iter().map(|row| (row, theme.dim())));
    } else if list_room > 0 {
        // A window around the pick ↑ ↓ point at, and a row saying how
        // many it leaves out.
        let room = list_room - 1;
        let current = picks.iter().position(|e| e.current).unwrap_or(0);
        let mut first = 0;
        while first < current && rows_of(&picks[first..=current]) > room {
            first += 1;
        }
        let mut shown = 0;
        let mut used = 0;
        for entry in picks.iter().skip(first) {
            if used + entry.rows.len() > room {
                break;
            }
            emit(&mut rows, entry);
            used += entry.rows.len();
            shown += 1;
        }
        let hidden = entries.len() - shown;
        rows.push((
            truncate(&format!("… {hidden} more (↑ ↓ move, tab focuses)"), width),
            theme.dim(),
        ));
    }
    if with_foot {
        rows.push((String::new(), Style::new()));
        rows.extend(foot.into_iter().map(|row| (row, theme.dim())));
    }
    rows.truncate(height);
    rows
}
