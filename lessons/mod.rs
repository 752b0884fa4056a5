//! The numbered lessons: one pattern each, its correct variant, its traps
//! and their fixes, and its text.
//!
//! Each lesson folder holds `mod.rs` (the pattern on the [`lab`](crate::lab))
//! and `README.md` (the lesson text, also the module's doc). The catalog
//! below is what the CLI and the TUI list. Every lesson text ends with
//! the same note on lab channels, kept in one place:
//!
#![doc = include_str!("LAB_CHANNELS.md")]

use std::fmt;
use std::ops::RangeInclusive;

use crate::lab::{Config, Lab, Report, Run};

#[path = "09_backpressure/mod.rs"]
pub mod backpressure;
#[path = "08_bounded_parallelism/mod.rs"]
pub mod bounded_parallelism;
#[path = "05_broadcast/mod.rs"]
pub mod broadcast;
#[path = "10_cancellation_tree/mod.rs"]
pub mod cancellation_tree;
#[path = "06_drain/mod.rs"]
pub mod drain;
#[path = "02_fan_out_fan_in/mod.rs"]
pub mod fan_out_fan_in;
#[path = "01_pipeline/mod.rs"]
pub mod pipeline;
#[path = "04_rate_limiter/mod.rs"]
pub mod rate_limiter;
#[path = "07_select_timeouts/mod.rs"]
pub mod select_timeouts;
#[path = "03_worker_pool/mod.rs"]
pub mod worker_pool;

/// Every lesson, in order.
#[must_use]
pub fn catalog() -> &'static [&'static Lesson] {
    static CATALOG: &[&Lesson] = &[
        &pipeline::LESSON,
        &fan_out_fan_in::LESSON,
        &worker_pool::LESSON,
        &rate_limiter::LESSON,
        &broadcast::LESSON,
        &drain::LESSON,
        &select_timeouts::LESSON,
        &bounded_parallelism::LESSON,
        &backpressure::LESSON,
        &cancellation_tree::LESSON,
    ];
    CATALOG
}

/// Whether a variant is the pattern done right, a classic bug, or its fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VariantKind {
    /// The pattern as it should be written.
    Correct,
    /// A classic bug: the run breaks.
    Trap,
    /// A trap repaired: the run holds.
    Fix,
}

impl VariantKind {
    /// `correct`, `trap` or `fix`.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::Correct => "correct",
            Self::Trap => "trap",
            Self::Fix => "fix",
        }
    }
}

/// What a variant is expected to show; the tests and `chanlab traps` check it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// No verdict, no broken outcome.
    Clean,
    /// The lab takes this verdict (`deadlock`, `leak`, `stall`, `panic`).
    Verdict(&'static str),
    /// No verdict, but the outcome reports a problem (order, loss, ...).
    Broken,
}

/// One way to run a lesson.
#[derive(Debug)]
pub struct Variant {
    /// The name used on the command line and in the variant bar.
    pub name: &'static str,
    /// Correct, trap or fix.
    pub kind: VariantKind,
    /// What this variant does, in one line.
    pub summary: &'static str,
    /// For a trap: what breaks. For a fix or the correct variant: why it holds.
    pub explains: &'static str,
    /// For a trap: the variant that fixes it.
    pub fixed_by: Option<&'static str>,
    /// What a run of it shows.
    pub expect: Expect,
}

/// The numbers a learner can turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Knobs {
    /// How many items (jobs, requests, messages) flow through.
    pub items: u64,
    /// Buffer size of the main channels (0 = rendezvous).
    pub buffer: usize,
    /// Workers in the parallel stage (subscribers for broadcast).
    pub workers: usize,
    /// Seed for the simulated work's durations.
    pub seed: u64,
}

/// The allowed values of each knob for one lesson.
#[derive(Debug, Clone)]
pub struct KnobRanges {
    /// Allowed `--items`.
    pub items: RangeInclusive<u64>,
    /// Allowed `--buffer`.
    pub buffer: RangeInclusive<usize>,
    /// Allowed `--workers`.
    pub workers: RangeInclusive<usize>,
}

/// What a lesson's main reports about its items.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Items that went in.
    pub items_in: u64,
    /// Items that came out.
    pub items_out: u64,
    /// `Some(false)` when the lesson needs input order and did not get it.
    pub order_kept: Option<bool>,
    /// Items lost by a bug: an item the variant meant to deliver that
    /// never arrived (skipped, never processed, lost in a cancel).
    pub lost: u64,
    /// Items the variant dropped or refused on purpose (its policy:
    /// drop-newest, stop at the first error, refuse an oversized request).
    /// Counted apart from `lost`: a policy that sheds load is not a bug.
    pub dropped: u64,
    /// What the variant's policy chose, in words ("16 dropped by design:
    /// a full subscriber's buffer drops the newest message"). A run with
    /// these and no problem held *as designed*, which the views say
    /// instead of "finished clean".
    pub by_design: Vec<String>,
    /// What broke, in words (empty when the outcome is right).
    pub problems: Vec<String>,
    /// Other facts worth showing (wasted polls, lag counts, errors seen).
    pub notes: Vec<String>,
}

impl Outcome {
    /// True when the outcome itself shows a bug.
    #[must_use]
    pub fn is_broken(&self) -> bool {
        !self.problems.is_empty()
    }

    /// True when the run held only because a policy chose to drop, refuse
    /// or stop: right, but not "clean" in the sense of "everything arrived".
    #[must_use]
    pub fn held_by_design(&self) -> bool {
        !self.is_broken() && (self.dropped > 0 || !self.by_design.is_empty())
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} in, {} out", self.items_in, self.items_out)?;
        match self.order_kept {
            Some(true) => write!(f, ", order kept")?,
            Some(false) => write!(f, ", order broken")?,
            None => {}
        }
        if self.lost > 0 {
            write!(f, ", {} lost", self.lost)?;
        }
        if self.dropped > 0 {
            write!(f, ", {} dropped by design", self.dropped)?;
        }
        Ok(())
    }
}

/// A lesson's main: runs `variant` on the lab with these knobs.
pub type LessonMain = fn(&Lab, &Variant, &Knobs) -> Outcome;

/// For a trap whose bug these knobs make impossible: why, and which values
/// show it ("with --buffer 24 ≥ --items 20 no buffer ever fills; try
/// --buffer 4"). `None` when the knobs let the trap show.
pub type HiddenBy = fn(&Variant, &Knobs) -> Option<String>;

/// A [`HiddenBy`] for lessons whose traps show with every allowed knob.
#[must_use]
pub fn never_hidden(_: &Variant, _: &Knobs) -> Option<String> {
    None
}

/// How lab channels differ from crossbeam's: one home for the paragraph
/// every lesson text ends with (`concat!`ed onto each lesson's README).
pub const LAB_CHANNELS: &str = include_str!("LAB_CHANNELS.md");

/// One numbered lesson.
#[derive(Debug)]
pub struct Lesson {
    /// 1, 2, ...
    pub number: u8,
    /// `pipeline`, `fan-out-fan-in`, ...
    pub slug: &'static str,
    /// "Pipeline".
    pub title: &'static str,
    /// One line for the list.
    pub summary: &'static str,
    /// The lesson text (markdown): its README, then [`LAB_CHANNELS`].
    pub readme: &'static str,
    /// Correct first, then traps and fixes.
    pub variants: &'static [Variant],
    /// The knobs' default values.
    pub defaults: Knobs,
    /// The knobs' allowed values.
    pub ranges: KnobRanges,
    /// The lesson's main.
    pub main: LessonMain,
    /// Which knob values hide which trap; see [`HiddenBy`].
    pub hidden_by: HiddenBy,
    /// Play-the-scheduler challenges: schedules for the learner to find.
    pub challenges: &'static [Challenge],
}

/// A play-the-scheduler challenge: pick the steps of a scheduled run by
/// hand until the goal holds ("make the fan-in deliver item 0 last").
#[derive(Debug)]
pub struct Challenge {
    /// The goal, one line: "make the pipeline deadlock with 3 items".
    pub title: &'static str,
    /// How to go about it, for the learner who is stuck.
    pub hint: &'static str,
    /// The variant it runs.
    pub variant: &'static str,
    /// The knobs it runs with.
    pub knobs: Knobs,
    /// Has the run reached the goal? Asked after every step with the run's
    /// snapshot and every event so far (items logged: `Config::log_items`).
    pub reached: fn(&crate::lab::Snapshot, &[crate::lab::Event]) -> bool,
}

/// What a challenge's `reached` reads: the lab's item events, which say
/// who moved the n-th message of a channel but not what it carried. A
/// lesson follows one of its items from channel to channel with these: a
/// worker sends what it received in the order it received it, so its k-th
/// send carries its k-th receive's item.
pub mod trail {
    use crate::lab::{ChannelSnapshot, Event, EventKind, Snapshot};

    /// The channel called `name` in `snapshot`.
    #[must_use]
    pub fn channel<'a>(snapshot: &'a Snapshot, name: &str) -> Option<&'a ChannelSnapshot> {
        snapshot.channels.iter().find(|c| c.name == name)
    }

    /// Who received the `item`-th message of `channel` (from 1), and which
    /// of their receives on it that was (from 1). The run's teardown
    /// (cleanup events) is not the lesson's doing and is skipped.
    #[must_use]
    pub fn taken_by<'a>(events: &'a [Event], channel: &str, item: u64) -> Option<(&'a str, usize)> {
        let mut per_worker: Vec<(&str, usize)> = Vec::new();
        for e in events.iter().filter(|e| !e.cleanup) {
            if let EventKind::Received {
                worker,
                channel: c,
                item: n,
            } = &e.kind
                && c == channel
            {
                let k = if let Some((_, k)) = per_worker.iter_mut().find(|(w, _)| w == worker) {
                    *k += 1;
                    *k
                } else {
                    per_worker.push((worker, 1));
                    1
                };
                if *n == item {
                    return Some((worker, k));
                }
            }
        }
        None
    }

    /// Which message of `channel` (from 1) was `worker`'s `k`-th send on it.
    #[must_use]
    pub fn kth_sent(events: &[Event], worker: &str, channel: &str, k: usize) -> Option<u64> {
        events
            .iter()
            .filter(|e| !e.cleanup)
            .filter_map(|e| match &e.kind {
                EventKind::Sent {
                    worker: w,
                    channel: c,
                    item,
                } if w == worker && c == channel => Some(*item),
                _ => None,
            })
            .nth(k.checked_sub(1)?)
    }

    /// Where the `item`-th message of `from` went next: received by a
    /// worker (`stage#n`), which sent it on as its matching send on the
    /// channel `to(n)` names. Returns that channel and the message's
    /// number on it.
    #[must_use]
    pub fn forwarded(
        events: &[Event],
        from: &str,
        item: u64,
        to: impl Fn(&str) -> String,
    ) -> Option<(String, u64)> {
        let (worker, k) = taken_by(events, from, item)?;
        let next = to(worker);
        let n = kth_sent(events, worker, &next, k)?;
        Some((next, n))
    }

    /// True once `worker` has received the `item`-th message of `channel`.
    #[must_use]
    pub fn received(events: &[Event], worker: &str, channel: &str, item: u64) -> bool {
        events.iter().filter(|e| !e.cleanup).any(|e| {
            matches!(&e.kind, EventKind::Received { worker: w, channel: c, item: n }
                if w == worker && c == channel && *n == item)
        })
    }
}

impl Lesson {
    /// The variant called `name` (exact, case-insensitive).
    #[must_use]
    pub fn variant(&self, name: &str) -> Option<&'static Variant> {
        let variants: &'static [Variant] = self.variants;
        variants.iter().find(|v| v.name.eq_ignore_ascii_case(name))
    }

    /// The correct variant (always the first).
    #[must_use]
    pub fn correct(&self) -> &'static Variant {
        let variants: &'static [Variant] = self.variants;
        &variants[0]
    }

    /// The trap variants.
    pub fn traps(&self) -> impl Iterator<Item = &'static Variant> {
        let variants: &'static [Variant] = self.variants;
        variants.iter().filter(|v| v.kind == VariantKind::Trap)
    }

    /// Why `knobs` hide the trap `variant`, if they do (always `None` for
    /// the correct variant and the fixes).
    #[must_use]
    pub fn hidden(&self, variant: &Variant, knobs: &Knobs) -> Option<String> {
        if variant.kind == VariantKind::Trap {
            (self.hidden_by)(variant, knobs)
        } else {
            None
        }
    }

    /// The lesson text as a reader sees it (the TUI, `chanlab show`): the
    /// README with rustdoc's hidden doctest lines (`# use ...`) left out of
    /// its Rust code blocks and the fences' test flags (`rust,no_run`)
    /// dropped. Made once per lesson and kept.
    #[must_use]
    pub fn text(&self) -> &'static str {
        static TEXTS: std::sync::Mutex<Vec<(usize, &'static str)>> =
            std::sync::Mutex::new(Vec::new());
        let key = self.readme.as_ptr() as usize;
        let mut texts = TEXTS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((_, text)) = texts.iter().find(|(k, _)| *k == key) {
            return text;
        }
        // Leaked on purpose: one string per lesson, for the process's life.
        let text: &'static str = Box::leak(reader_text(self.readme).into_boxed_str());
        texts.push((key, text));
        text
    }

    /// `01 pipeline`.
    #[must_use]
    pub fn label(&self) -> String {
        format!("{:02} {}", self.number, self.slug)
    }

    /// Starts `variant` with `knobs`; the caller watches and waits.
    #[must_use]
    pub fn start(
        &'static self,
        variant: &'static Variant,
        knobs: Knobs,
        config: Config,
    ) -> Run<Outcome> {
        let main = self.main;
        Lab::start(config, move |lab| main(lab, variant, &knobs))
    }

    /// Runs `variant` to the end.
    #[must_use]
    pub fn run(
        &'static self,
        variant: &'static Variant,
        knobs: Knobs,
        config: Config,
    ) -> Report<Outcome> {
        self.start(variant, knobs, config).wait()
    }
}

/// `markdown` as a reader sees it: in ```` ```rust ```` blocks (any
/// `rust,…` flags) the lines rustdoc hides — `#` alone or `# ` and more —
/// are left out and the flags dropped; `##` keeps its rustdoc meaning of a
/// literal `#`. Other blocks and the prose are untouched.
#[must_use]
pub fn reader_text(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    let mut fence: Option<(&str, bool)> = None; // (marker, is rust)
    for line in markdown.split_inclusive('\n') {
        let trimmed = line.trim_start();
        match fence {
            None => {
                if let Some(marker) = ["```", "~~~"].into_iter().find(|m| trimmed.starts_with(m)) {
                    let info = trimmed[marker.len()..].trim();
                    let rust = info == "rust" || info.starts_with("rust,");
                    fence = Some((marker, rust));
                    if rust {
                        let indent = &line[..line.len() - trimmed.len()];
                        out.push_str(indent);
                        out.push_str(marker);
                        out.push_str("rust\n");
                        continue;
                    }
                }
            }
            Some((marker, rust)) => {
                if trimmed.starts_with(marker) {
                    fence = None;
                } else if rust {
                    let code = trimmed.trim_end_matches(['\n', '\r']);
                    if code == "#" || code.starts_with("# ") {
                        continue;
                    }
                    if let Some(rest) = code.strip_prefix("##") {
                        let indent = &line[..line.len() - trimmed.len()];
                        out.push_str(indent);
                        out.push('#');
                        out.push_str(rest);
                        out.push('\n');
                        continue;
                    }
                }
            }
        }
        out.push_str(line);
    }
    out
}

/// "1 request", "3 requests": a count with its noun, for outcome lines.
#[must_use]
pub fn count(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// Whether a finished run showed what its variant expects.
#[must_use]
pub fn meets_expectation(variant: &Variant, report: &Report<Outcome>) -> bool {
    let broken = report.outcome.as_ref().is_some_and(Outcome::is_broken);
    expectation_met(variant.expect, report, broken)
}

/// Like [`meets_expectation`], for a run with `knobs`: a trap those knobs
/// hide (see [`Lesson::hidden`]) is expected to run clean.
#[must_use]
pub fn meets_expectation_with(
    lesson: &Lesson,
    variant: &Variant,
    knobs: &Knobs,
    report: &Report<Outcome>,
) -> bool {
    if lesson.hidden(variant, knobs).is_some() {
        let broken = report.outcome.as_ref().is_some_and(Outcome::is_broken);
        expectation_met(Expect::Clean, report, broken)
    } else {
        meets_expectation(variant, report)
    }
}

fn expectation_met(expect: Expect, report: &Report<Outcome>, broken: bool) -> bool {
    match (expect, &report.verdict) {
        (Expect::Clean, None) => !broken && report.outcome.is_some(),
        (Expect::Verdict(kind), Some(v)) => v.kind() == kind,
        (Expect::Broken, None) => broken,
        _ => false,
    }
}

/// Why a lesson name was not found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownLesson {
    /// What was asked for.
    pub asked: String,
    /// The closest slug, if one is close.
    pub suggestion: Option<&'static str>,
}

impl fmt::Display for UnknownLesson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = catalog().len();
        write!(f, "no lesson called `{}`", self.asked)?;
        if let Some(s) = self.suggestion {
            write!(f, "; did you mean `{s}`?")?;
        } else if let Ok(k) = self.asked.parse::<i64>() {
            write!(f, "; lesson numbers run from 1 to {n} (got {k})")?;
        }
        write!(f, " (`chanlab list` shows all {n})")
    }
}

impl std::error::Error for UnknownLesson {}

/// Finds a lesson by number (`1`, `01`) or slug (`pipeline`, any case,
/// `_` or `-`); a near miss gets a suggestion.
pub fn find(name: &str) -> Result<&'static Lesson, UnknownLesson> {
    let wanted = name.trim().to_ascii_lowercase().replace('_', "-");
    let lessons = catalog();
    if let Ok(n) = wanted.parse::<u8>()
        && let Some(l) = lessons.iter().find(|l| l.number == n)
    {
        return Ok(l);
    }
    if let Some(l) = lessons
        .iter()
        .find(|l| l.slug == wanted || format!("{:02}-{}", l.number, l.slug) == wanted)
    {
        return Ok(l);
    }
    let suggestion = if wanted.parse::<i64>().is_ok() {
        None
    } else {
        lessons
            .iter()
            .map(|l| (strsim::jaro_winkler(&wanted, l.slug), l.slug))
            .filter(|(score, _)| *score > 0.75)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, slug)| slug)
    };
    Err(UnknownLesson {
        asked: name.to_owned(),
        suggestion,
    })
}
