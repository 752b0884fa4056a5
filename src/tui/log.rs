//! The event log as the learner reads it: the lab's events turned into
//! lines, one list per filter (all, items, waits, verdicts), with repeated
//! waits folded into one line with a count.
//!
//! A worker that waits the same way again and again (a limiter waking on
//! its timer, a consumer waiting for each message) would otherwise fill the
//! pane and push out what moved. Each list is built as events arrive, so
//! drawing a frame only reads the lines it shows.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::time::Duration;

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use crate::lab::{Event, EventKind, WorkerState};

/// Lines kept per filter.
const LINES_KEPT: usize = 1000;
/// How far back a wait looks for an earlier line of the same wait to fold
/// into. Far enough to reach past the other workers' lines in between, near
/// enough that a folded line is still about the moment it shows.
const FOLD_WINDOW: usize = 12;

/// Which events the event pane lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EventFilter {
    /// Everything the lab logged.
    #[default]
    All,
    /// Items moving (sent, received) and channels closing: the data.
    Items,
    /// Workers starting to wait.
    Waits,
    /// Verdicts, panics and stops; once the run is over, its whole report.
    Verdicts,
}

impl EventFilter {
    /// Every filter, in the order the key cycles through them.
    pub const ALL: [Self; 4] = [Self::All, Self::Items, Self::Waits, Self::Verdicts];

    /// The filter's name in the pane title and the status line.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::Items => "items",
            Self::Waits => "waits",
            Self::Verdicts => "verdicts",
        }
    }

    fn index(self) -> usize {
        match self {
            Self::All => 0,
            Self::Items => 1,
            Self::Waits => 2,
            Self::Verdicts => 3,
        }
    }

    /// The next filter (or the previous one), wrapping around.
    #[must_use]
    pub fn cycled(self, forward: bool) -> Self {
        let n = Self::ALL.len();
        let i = self.index();
        Self::ALL[if forward {
            (i + 1) % n
        } else {
            (i + n - 1) % n
        }]
    }

    /// True when an event belongs in this filter's list. The teardown after
    /// a verdict moves no item of the lesson's, so the items list leaves it
    /// out.
    #[must_use]
    pub fn accepts(self, event: &Event) -> bool {
        match self {
            Self::All => true,
            Self::Items => {
                !event.cleanup
                    && matches!(
                        event.kind,
                        EventKind::Sent { .. }
                            | EventKind::Received { .. }
                            | EventKind::Closed { .. }
                    )
            }
            Self::Waits => matches!(event.kind, EventKind::Blocked { .. }),
            Self::Verdicts => matches!(
                event.kind,
                EventKind::Verdict { .. } | EventKind::Panicked { .. } | EventKind::Stopped
            ),
        }
    }
}

/// What a line is about, for its style.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    /// An item sent or received.
    Item,
    /// A worker waiting.
    Wait,
    /// A verdict or a panic.
    Verdict,
    /// A channel closing, the run paused or stepped.
    Notice,
    /// Workers starting and finishing, the run stopping.
    Plain,
}

/// One line of the event pane: an event, or several identical waits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// When it (last) happened.
    pub at: Duration,
    /// What happened, in words.
    pub text: String,
    /// How many events the line stands for (above 1 for folded waits).
    pub count: u32,
    /// What it is about.
    pub kind: LineKind,
    /// True for the teardown after a verdict.
    pub cleanup: bool,
    worker: Option<String>,
    wait: Option<String>,
}

impl LogLine {
    fn new(event: &Event) -> Self {
        let (kind, worker, wait) = match &event.kind {
            EventKind::Sent { worker, .. } | EventKind::Received { worker, .. } => {
                (LineKind::Item, Some(worker.clone()), None)
            }
            EventKind::Blocked { worker, state } => {
                (LineKind::Wait, Some(worker.clone()), Some(wait_key(state)))
            }
            EventKind::Verdict { .. } => (LineKind::Verdict, None, None),
            EventKind::Panicked { worker, .. } => (LineKind::Verdict, Some(worker.clone()), None),
            EventKind::Closed { .. } | EventKind::Control { .. } => (LineKind::Notice, None, None),
            EventKind::Spawned { worker, .. } | EventKind::Finished { worker } => {
                (LineKind::Plain, Some(worker.clone()), None)
            }
            EventKind::Stopped => (LineKind::Plain, None, None),
        };
        Self {
            at: event.at,
            text: event.kind.to_string(),
            count: 1,
            kind,
            cleanup: event.cleanup,
            worker,
            wait,
        }
    }

    /// The line as shown: time, a `cleanup:` mark for the teardown, the
    /// text, and `×n` when it stands for several waits.
    #[must_use]
    pub fn display(&self) -> String {
        let mut out = format!("{:>7.2}s ", self.at.as_secs_f64());
        if self.cleanup {
            out.push_str("cleanup: ");
        }
        out.push_str(&self.text);
        if self.count > 1 {
            let _ = write!(out, " ×{}", self.count);
        }
        out
    }
}

/// What makes two waits "the same way": the state, with a timer arm's
/// duration left out (the limiter's next token is 9.8 ms away, then 9.7).
fn wait_key(state: &WorkerState) -> String {
    match state {
        WorkerState::Selecting { arms } => {
            let mut key = String::from("select");
            for arm in arms {
                if arm.timer {
                    key.push_str(" timer");
                } else {
                    let dir = if arm.send { "send" } else { "recv" };
                    let _ = write!(key, " {dir} {}", arm.channel);
                }
            }
            key
        }
        other => other.to_string(),
    }
}

/// The lines of every filter, built as events arrive.
#[derive(Debug, Clone, Default)]
pub struct EventLog {
    lists: [VecDeque<LogLine>; 4],
}

impl EventLog {
    /// Adds an event to the lists of the filters that take it.
    pub fn push(&mut self, event: &Event) {
        let line = LogLine::new(event);
        for filter in EventFilter::ALL {
            if filter.accepts(event) {
                push_line(&mut self.lists[filter.index()], line.clone());
            }
        }
    }

    /// The lines a filter shows, oldest first.
    #[must_use]
    pub fn lines(&self, filter: EventFilter) -> &VecDeque<LogLine> {
        &self.lists[filter.index()]
    }
}

/// Appends a line, folding a wait into the same worker's last line when
/// that line is the same wait: only other workers' lines may lie between,
/// so a worker's own story (received item 7, then waits) stays in order.
fn push_line(list: &mut VecDeque<LogLine>, line: LogLine) {
    if line.wait.is_some() {
        let earlier = list
            .iter()
            .enumerate()
            .rev()
            .take(FOLD_WINDOW)
            .find(|(_, old)| old.worker == line.worker)
            .filter(|(_, old)| old.wait == line.wait && old.cleanup == line.cleanup)
            .map(|(i, _)| i);
        if let Some(mut old) = earlier.and_then(|i| list.remove(i)) {
            old.count = old.count.saturating_add(1);
            old.at = line.at;
            old.text = line.text;
            list.push_back(old);
            return;
        }
    }
    list.push_back(line);
    while list.len() > LINES_KEPT {
        list.pop_front();
    }
}

/// Wraps `text` at spaces into rows of at most `width` columns, later rows
/// indented by `indent`. A word is split only when it is wider than a whole
/// row, so a number is never cut in two.
#[must_use]
pub fn wrap(text: &str, width: usize, indent: usize) -> Vec<String> {
    let width = width.max(1);
    let indent = if indent * 2 > width { 0 } else { indent };
    let pad = " ".repeat(indent);
    let mut rows = Vec::new();
    let mut row = String::new();
    // Columns used in `row`, and whether it holds a word yet.
    let mut used = 0;
    let mut fresh = true;
    for word in text.split(' ') {
        let w = word.width();
        if !fresh && used + 1 + w > width {
            rows.push(std::mem::replace(&mut row, pad.clone()));
            used = indent;
            fresh = true;
        }
        if !fresh {
            row.push(' ');
            used += 1;
        }
        fresh = false;
        if used + w <= width {
            row.push_str(word);
            used += w;
            continue;
        }
        // A word wider than a row: split it where it must be.
        for c in word.chars() {
            let cw = c.width().unwrap_or(0);
            if used + cw > width && used > indent {
                rows.push(std::mem::replace(&mut row, pad.clone()));
                used = indent;
            }
            row.push(c);
            used += cw;
        }
    }
    rows.push(row);
    rows
}

/// How far back (in entries from the newest) the pane may scroll: far
/// enough that the oldest entry shows at the top, no further, so the pane
/// stays full. `rows_of(i)` is how many rows entry `i` wraps into.
#[must_use]
pub fn max_scroll(len: usize, height: usize, rows_of: impl Fn(usize) -> usize) -> usize {
    let mut rows = 0;
    for i in 0..len {
        rows += rows_of(i).max(1);
        if rows >= height {
            // Entries 0..=i fill the pane: the newest of them may be last.
            return len - (i + 1);
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::SelectArm;

    fn event(ms: u64, kind: EventKind) -> Event {
        Event {
            seq: 0,
            at: Duration::from_millis(ms),
            kind,
            cleanup: false,
        }
    }

    fn limiter_waits(ms: u64, timer: &str) -> Event {
        event(
            ms,
            EventKind::Blocked {
                worker: "limiter".into(),
                state: WorkerState::Selecting {
                    arms: vec![
                        SelectArm {
                            channel: "done".into(),
                            send: false,
                            timer: false,
                        },
                        SelectArm {
                            channel: timer.into(),
                            send: false,
                            timer: true,
                        },
                    ],
                },
            },
        )
    }

    #[test]
    fn repeated_waits_fold_into_one_line_with_a_count() {
        let mut log = EventLog::default();
        for i in 0..12 {
            log.push(&limiter_waits(
                10 * i,
                if i % 2 == 0 {
                    "9.8 ms timer"
                } else {
                    "9.7 ms timer"
                },
            ));
            log.push(&event(
                10 * i + 5,
                EventKind::Sent {
                    worker: "client#1".into(),
                    channel: "requests".into(),
                    item: i + 1,
                },
            ));
        }
        let waits = log.lines(EventFilter::Waits);
        assert_eq!(waits.len(), 1);
        assert_eq!(waits[0].count, 12);
        assert!(
            waits[0].display().ends_with("its 9.7 ms timer ×12"),
            "{}",
            waits[0].display()
        );
        let all = log.lines(EventFilter::All);
        assert_eq!(all.len(), 13, "the items stay, the waits fold");
        assert_eq!(log.lines(EventFilter::Items).len(), 12);
    }

    #[test]
    fn a_workers_own_line_between_keeps_its_waits_apart() {
        let mut log = EventLog::default();
        log.push(&limiter_waits(0, "9.8 ms timer"));
        log.push(&event(
            1,
            EventKind::Received {
                worker: "limiter".into(),
                channel: "requests".into(),
                item: 1,
            },
        ));
        log.push(&limiter_waits(2, "9.8 ms timer"));
        assert_eq!(log.lines(EventFilter::All).len(), 3);
        assert_eq!(log.lines(EventFilter::Waits).len(), 1, "alone, they fold");
    }

    #[test]
    fn wraps_at_spaces_and_never_cuts_a_number() {
        assert_eq!(wrap("a bb ccc", 4, 0), ["a bb", "ccc"]);
        assert_eq!(
            wrap("polls 32551492 wasted", 12, 2),
            ["polls", "  32551492", "  wasted"]
        );
        assert_eq!(wrap("abcdefgh", 4, 0), ["abcd", "efgh"]);
    }

    #[test]
    fn scrolls_no_further_than_a_full_pane() {
        assert_eq!(max_scroll(10, 4, |_| 1), 6);
        assert_eq!(max_scroll(3, 4, |_| 1), 0);
        assert_eq!(max_scroll(10, 4, |i| if i == 0 { 4 } else { 1 }), 9);
    }
}
