//! The hunt: run one lesson variant under many seeded schedules and see
//! which interleavings break it.
//!
//! Each schedule is a scheduled, unpaced run (virtual time jumps, so a run
//! takes milliseconds), classified by how it ended: the verdict's kind
//! (`deadlock`, `leak`, ...) or, without one, what the outcome says
//! (`held`, `order broken`, `items lost`, ...). The shortest failing
//! schedule is the one worth reading: [`describe`] runs it again with each
//! step in words, and [`step_table`] lays those steps out one column per
//! worker, the way Lincheck prints an interleaving.
//!
//! ```
//! use chanlab::hunt;
//! use chanlab::lab::Strategy;
//! use chanlab::lessons;
//!
//! let lesson = lessons::find("pipeline").unwrap();
//! let trap = lesson.variant("unclosed").unwrap();
//! let report = hunt::explore(lesson, trap, lesson.defaults, Strategy::Random, 0..5);
//! assert_eq!(report.broken, 5, "the unclosed pipeline deadlocks whatever the schedule");
//! let shortest = report.shortest_failing.unwrap();
//! let (_, trace, names) = hunt::describe(lesson, trap, lesson.defaults, Strategy::Random, shortest.seed);
//! assert!(hunt::step_table(&trace, &names, 100).contains("| sink"));
//! ```

use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::ops::Range;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use unicode_width::UnicodeWidthStr;

use crate::lab::{Config, Report, Schedule, Strategy, Trace};
use crate::lessons::{Knobs, Lesson, Outcome, Variant};

/// How one run ended, in a word or two: the classes a hunt counts.
#[must_use]
pub fn classify(report: &Report<Outcome>) -> String {
    if let Some(v) = &report.verdict {
        return v.kind().to_owned();
    }
    let Some(outcome) = &report.outcome else {
        return if report.stopped {
            "stopped".to_owned()
        } else {
            "no outcome".to_owned()
        };
    };
    if !outcome.is_broken() {
        return if outcome.held_by_design() {
            "held as designed".to_owned()
        } else {
            "held".to_owned()
        };
    }
    if outcome.order_kept == Some(false) {
        return "order broken".to_owned();
    }
    if outcome.lost > 0 {
        return "items lost".to_owned();
    }
    // The problem's own words, up to where its details start ("CPU burned:
    // the limiter polled 15122 times ..."), when they make a short name.
    let first = outcome.problems.first().map_or("", String::as_str);
    let head = first
        .split([':', '(', ',', ';'])
        .next()
        .unwrap_or("")
        .trim();
    if !head.is_empty() && head.len() <= 32 && !head.bytes().any(|b| b.is_ascii_digit()) {
        head.to_owned()
    } else {
        "broken outcome".to_owned()
    }
}

/// True when the run broke: a verdict, or an outcome with a problem.
#[must_use]
pub fn is_failure(report: &Report<Outcome>) -> bool {
    report.verdict.is_some() || report.outcome.as_ref().is_some_and(Outcome::is_broken)
}

/// The configuration of one hunted run: scheduled by `strategy` from
/// `seed`, unpaced, with no events kept beyond a few (nobody reads them).
#[must_use]
pub fn config(strategy: Strategy, seed: u64) -> Config {
    Config {
        schedule: Some(Schedule::new(strategy, seed)),
        realtime: false,
        events: 64,
        ..Config::default()
    }
}

/// Looks for a shorter failing schedule with fewer items: halves `--items`
/// (down to the lesson's least) and hunts `seeds` per strategy at each,
/// as long as some schedule still breaks the variant in fewer steps than
/// the best so far. A bug that needs 20 items to show is rare; most show
/// with two, in a table a learner can read. Returns the smaller knobs,
/// the strategy and the schedule, if it found one shorter than `steps`.
#[must_use]
pub fn shrink(
    lesson: &'static Lesson,
    variant: &'static Variant,
    knobs: Knobs,
    strategies: &[Strategy],
    seeds: Range<u64>,
    steps: usize,
) -> Option<(Knobs, Strategy, Found)> {
    let least = *lesson.ranges.items.start();
    let mut best: Option<(Knobs, Strategy, Found)> = None;
    let mut best_steps = steps;
    let mut items = knobs.items;
    while items > least {
        items = (items / 2).max(least);
        let smaller = Knobs { items, ..knobs };
        let found = strategies
            .iter()
            .filter_map(|&strategy| {
                explore_with(
                    lesson,
                    variant,
                    smaller,
                    strategy,
                    seeds.clone(),
                    threads(),
                    &|_| {},
                )
                .shortest_failing
                .map(|f| (strategy, f))
            })
            .min_by_key(|(_, f)| f.steps);
        match found {
            Some((strategy, f)) if f.steps < best_steps => {
                best_steps = f.steps;
                best = Some((smaller, strategy, f));
            }
            _ => break,
        }
    }
    best
}

/// One failing schedule a hunt found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Its seed (with the hunt's strategy).
    pub seed: u64,
    /// Steps it took.
    pub steps: usize,
    /// How it ended ([`classify`]).
    pub class: String,
}

/// What a hunt over one strategy found.
#[derive(Debug, Clone)]
pub struct HuntReport {
    /// The strategy every run used.
    pub strategy: Strategy,
    /// The seeds run, one schedule each.
    pub seeds: Range<u64>,
    /// How many runs ended in each class, most first (ties by name).
    pub classes: Vec<(String, u64)>,
    /// How many runs broke.
    pub broken: u64,
    /// How many different schedules (lists of choices) the seeds gave:
    /// two seeds can pick the same interleaving.
    pub distinct: u64,
    /// The failing run with the lowest seed.
    pub first_failing: Option<Found>,
    /// The failing run with the fewest steps (the lowest seed among equals).
    pub shortest_failing: Option<Found>,
    /// Wall time the hunt took.
    pub elapsed: Duration,
}

impl HuntReport {
    /// Schedules run.
    #[must_use]
    pub fn runs(&self) -> u64 {
        self.seeds.end.saturating_sub(self.seeds.start)
    }

    /// Schedules per second of wall time.
    #[must_use]
    pub fn per_second(&self) -> f64 {
        self.runs() as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Explores one schedule per seed in `seeds` with `strategy`, [`threads`]
/// at once, and counts how they ended.
#[must_use]
pub fn explore(
    lesson: &'static Lesson,
    variant: &'static Variant,
    knobs: Knobs,
    strategy: Strategy,
    seeds: Range<u64>,
) -> HuntReport {
    explore_with(lesson, variant, knobs, strategy, seeds, threads(), &|_| {})
}

/// How many runs a hunt keeps going at once: two per core. A scheduled run
/// hands its turn from thread to thread at every step, so much of its time
/// is a context switch, not work; with two runs per core the cores stay
/// busy (lesson 01 on 2 cores: about 500 schedules per second with 2 at
/// once, 850 with 4, no more with 8).
#[must_use]
pub fn threads() -> usize {
    2 * std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

/// [`explore`] on `threads` threads, calling `done` with the number of
/// schedules finished so far after each one (for a progress bar).
///
/// Every run is its own scheduled lab, so the result does not depend on
/// `threads` or on which thread ran which seed.
#[must_use]
pub fn explore_with(
    lesson: &'static Lesson,
    variant: &'static Variant,
    knobs: Knobs,
    strategy: Strategy,
    seeds: Range<u64>,
    threads: usize,
    done: &(dyn Fn(u64) + Sync),
) -> HuntReport {
    let started = Instant::now();
    let next = AtomicU64::new(seeds.start);
    let finished = AtomicU64::new(0);
    let results: Mutex<Vec<(u64, usize, String, bool)>> = Mutex::new(Vec::new());
    let distinct: Mutex<HashSet<u64>> = Mutex::new(HashSet::new());
    let work = || {
        loop {
            let seed = next.fetch_add(1, Ordering::Relaxed);
            if seed >= seeds.end {
                break;
            }
            let report = lesson.run(variant, knobs, config(strategy, seed));
            let steps = report.trace.as_ref().map_or(0, |t| t.choices.len());
            let mut hasher = DefaultHasher::new();
            report.trace.as_ref().map(|t| &t.choices).hash(&mut hasher);
            distinct
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(hasher.finish());
            let row = (seed, steps, classify(&report), is_failure(&report));
            results
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(row);
            done(finished.fetch_add(1, Ordering::Relaxed) + 1);
        }
    };
    std::thread::scope(|scope| {
        for n in 1..threads.max(1) {
            // A thread that cannot start leaves its seeds to the others.
            let _ = std::thread::Builder::new()
                .name(format!("chanlab-hunt#{n}"))
                .spawn_scoped(scope, work);
        }
        work();
    });
    let mut results = results
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    results.sort_by_key(|r| r.0);
    let mut classes: Vec<(String, u64)> = Vec::new();
    for (_, _, class, _) in &results {
        match classes.iter_mut().find(|(c, _)| c == class) {
            Some((_, n)) => *n += 1,
            None => classes.push((class.clone(), 1)),
        }
    }
    classes.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let failing = || results.iter().filter(|r| r.3);
    let found = |r: &(u64, usize, String, bool)| Found {
        seed: r.0,
        steps: r.1,
        class: r.2.clone(),
    };
    HuntReport {
        strategy,
        seeds,
        classes,
        broken: failing().count() as u64,
        distinct: distinct
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len() as u64,
        first_failing: failing().next().map(found),
        shortest_failing: failing().min_by_key(|r| (r.1, r.0)).map(found),
        elapsed: started.elapsed(),
    }
}

/// Runs one schedule again with each step in words
/// ([`Config::describe_steps`]): the report, its trace, and the workers'
/// names by number (a [`Choice`](crate::lab::Choice)'s worker).
#[must_use]
pub fn describe(
    lesson: &'static Lesson,
    variant: &'static Variant,
    knobs: Knobs,
    strategy: Strategy,
    seed: u64,
) -> (Report<Outcome>, Trace, Vec<String>) {
    let config = Config {
        describe_steps: true,
        ..config(strategy, seed)
    };
    let report = lesson.run(variant, knobs, config);
    let trace = report.trace.clone().unwrap_or_default();
    let names = report
        .snapshot
        .workers
        .iter()
        .map(|w| w.name.clone())
        .collect();
    (report, trace, names)
}

/// The narrowest a worker's column gets while the width allows (words
/// like `receive` fit whole).
const MIN_COLUMN: usize = 7;

/// The steps of `trace` as a table: a row per step, one column per
/// worker, the step's words in the column of the worker that took it.
///
/// `workers` names the columns by worker number. Steps in a row that are
/// the same (a worker polling, over and over) share a row, `12–40` in the
/// step column and `(×29)` after the words. The columns are fitted to
/// `width`: a cell's words wrap at spaces, and a word too long for its
/// column is broken, but never inside a number. Without words in the
/// trace (`describe_steps` off) a cell shows the choice (`3`, `3.1`).
#[must_use]
pub fn step_table(trace: &Trace, workers: &[String], width: usize) -> String {
    let columns = trace
        .choices
        .iter()
        .map(|c| c.worker as usize + 1)
        .max()
        .unwrap_or(0)
        .max(workers.len());
    let names: Vec<String> = (0..columns)
        .map(|i| workers.get(i).cloned().unwrap_or_else(|| format!("#{i}")))
        .collect();
    let rows = rows_of(trace, &names);
    let step_width = rows
        .iter()
        .map(|r| r.label.width())
        .chain(std::iter::once("step".len()))
        .max()
        .unwrap_or(4);
    let headers: Vec<usize> = names.iter().map(|n| n.width()).collect();
    let mut natural = headers.clone();
    for row in &rows {
        natural[row.column] = natural[row.column].max(row.words.width());
    }
    let room = width.saturating_sub(step_width + 3 * columns);
    let widths = fit(&natural, &headers, room);

    let mut out = String::new();
    let header: Vec<Vec<String>> = names
        .iter()
        .zip(&widths)
        .map(|(n, &w)| wrap(n, w))
        .collect();
    let header_lines = header.iter().map(Vec::len).max().unwrap_or(1);
    for i in 0..header_lines {
        let label = if i == 0 { "step" } else { "" };
        let cells: Vec<&str> = header
            .iter()
            .map(|lines| lines.get(i).map_or("", String::as_str))
            .collect();
        push_line(&mut out, label, step_width, &cells, &widths);
    }
    let mut rule = "-".repeat(step_width);
    for &w in &widths {
        rule.push_str("-+-");
        rule.push_str(&"-".repeat(w));
    }
    out.push_str(&rule);
    out.push('\n');
    for row in &rows {
        let lines = wrap(&row.words, widths[row.column]);
        for (i, line) in lines.iter().enumerate() {
            let label = if i == 0 { row.label.as_str() } else { "" };
            let mut cells = vec![""; columns];
            cells[row.column] = line;
            push_line(&mut out, label, step_width, &cells, &widths);
        }
    }
    out
}

/// One row of the table: a step (or a run of equal steps).
struct Row {
    label: String,
    column: usize,
    words: String,
}

fn rows_of(trace: &Trace, names: &[String]) -> Vec<Row> {
    let words_of = |i: usize| -> String {
        let choice = trace.choices[i];
        match trace.steps.get(i) {
            Some(words) => {
                // "square#2: send item 3 on `squares` (1/4)": the column says who.
                let name = &names[choice.worker as usize];
                words
                    .strip_prefix(name.as_str())
                    .and_then(|rest| rest.strip_prefix(": "))
                    .unwrap_or(words)
                    .to_owned()
            }
            None => choice.to_string(),
        }
    };
    let mut rows: Vec<Row> = Vec::new();
    let mut i = 0;
    while i < trace.choices.len() {
        let column = trace.choices[i].worker as usize;
        let words = words_of(i);
        let mut j = i + 1;
        while j < trace.choices.len()
            && trace.choices[j].worker as usize == column
            && words_of(j) == words
        {
            j += 1;
        }
        let (label, words) = if j - i > 1 {
            (format!("{}–{}", i + 1, j), format!("{words} (×{})", j - i))
        } else {
            ((i + 1).to_string(), words)
        };
        rows.push(Row {
            label,
            column,
            words,
        });
        i = j;
    }
    rows
}

/// Column widths summing to at most `room` when they can: each column
/// first gets its header and at least [`MIN_COLUMN`] (or just its header,
/// or at most [`MIN_COLUMN`], when that does not fit), then the room left is shared out, a column that needs less than
/// its share keeping only what it needs.
fn fit(natural: &[usize], headers: &[usize], room: usize) -> Vec<usize> {
    if natural.iter().sum::<usize>() <= room {
        return natural.to_vec();
    }
    let roomy: Vec<usize> = natural
        .iter()
        .zip(headers)
        .map(|(&n, &h)| n.min(h.max(MIN_COLUMN)))
        .collect();
    let mut widths: Vec<usize> = if roomy.iter().sum::<usize>() <= room {
        roomy
    } else if headers.iter().sum::<usize>() <= room {
        headers.to_vec()
    } else {
        headers.iter().map(|&h| h.min(MIN_COLUMN)).collect()
    };
    let mut left = room.saturating_sub(widths.iter().sum());
    let mut order: Vec<usize> = (0..natural.len()).collect();
    order.sort_by_key(|&i| natural[i] - widths[i]);
    for (k, &i) in order.iter().enumerate() {
        let share = left / (natural.len() - k);
        let more = (natural[i] - widths[i]).min(share);
        widths[i] += more;
        left -= more;
    }
    widths
}

fn push_line(out: &mut String, label: &str, step_width: usize, cells: &[&str], widths: &[usize]) {
    let mut line = format!("{label:>step_width$}");
    for (cell, &w) in cells.iter().zip(widths) {
        line.push_str(" | ");
        line.push_str(cell);
        line.push_str(&" ".repeat(w.saturating_sub(cell.width())));
    }
    out.push_str(line.trim_end());
    out.push('\n');
}

/// `text` in lines of at most `width` columns: broken at spaces; a word
/// longer than a line is cut, but never between two digits (a number too
/// long for the column sticks out rather than being cut).
#[must_use]
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let sep = usize::from(!line.is_empty());
        if line.width() + sep + word.width() <= width {
            if sep == 1 {
                line.push(' ');
            }
            line.push_str(word);
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        let mut rest = word;
        while rest.width() > width {
            let (head, tail) = split_word(rest, width);
            lines.push(head.to_owned());
            rest = tail;
        }
        line.push_str(rest);
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// Splits a word wider than `width` into a head of at most `width` columns
/// (more only for a number wider than the column) and the rest, never
/// between two digits.
fn split_word(word: &str, width: usize) -> (&str, &str) {
    let chars: Vec<(usize, char)> = word.char_indices().collect();
    let mut cut = 0; // chars in the head
    let mut used = 0;
    for &(_, c) in &chars {
        let w = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if used + w > width {
            break;
        }
        used += w;
        cut += 1;
    }
    let cut = cut.max(1);
    let digit = |k: usize| chars.get(k).is_some_and(|(_, c)| c.is_ascii_digit());
    // A seam inside the word, if there is one in reach: before `#`, a
    // backtick or `(`, after `:` or `/` (`results` + `#2`, not `result` + `s#2`).
    let seam = (1..=cut).rev().find(|&k| {
        let before = chars[k - 1].1;
        let after = chars.get(k).map(|&(_, c)| c);
        let seam = matches!(after, Some('#' | '`' | '(')) || matches!(before, ':' | '/');
        seam && !(digit(k) && digit(k - 1)) && k < chars.len()
    });
    if let Some(k) = seam.filter(|&k| k * 2 >= cut) {
        return word.split_at(chars[k].0);
    }
    let mut at = cut;
    // Move back to the start of a number the cut would split.
    while at > 0 && digit(at) && digit(at - 1) {
        at -= 1;
    }
    if at == 0 {
        // The word starts with a number wider than the column: keep it whole.
        at = cut;
        while digit(at) && digit(at - 1) {
            at += 1;
        }
    }
    match chars.get(at) {
        Some(&(byte, _)) => word.split_at(byte),
        None => (word, ""),
    }
}
