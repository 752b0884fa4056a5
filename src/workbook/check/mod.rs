//! The checks: the learner's code runs inside the lab, under several
//! schedule seeds (random and PCT), free-running, and several worker
//! counts and buffer sizes (0 included), and a run passes only with no
//! verdict (deadlock, leak, runaway, a thread outside the lab, a panic)
//! and nothing wrong in what came out (items lost, order broken, more jobs
//! at once than workers, a stage that never overlaps, ...).
//!
//! Every run is bounded three ways: in lab steps and in virtual time (the
//! scheduler's `step_limit` and `time_limit`, so a livelock or a spin is
//! the verdict *runaway*), and in wall time (a loop that never calls the
//! lab cannot be preempted by the scheduler; after [`WALL_LIMIT`] the run
//! is stopped and called *stuck*). A hang is always a verdict, never a
//! frozen terminal.
//!
//! Each exercise's check is a [`Subject`]: its cases in a fixed order
//! (scheduled ones first, so the first failure is the same on every
//! machine), and a way to run one case, which the harness uses to replay
//! a failing case and to open it live.

pub mod broadcast;
pub mod drain;
pub mod limiter;
pub mod merge;
pub mod pipeline;
pub mod pool;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crate::lab::{
    Config, EventKind, Lab, Report, Schedule, Snapshot, Verdict, WorkerState, in_words,
};

/// How long one run may take in wall time before it is stopped and
/// called stuck (a loop that never hands control back to the lab).
pub const WALL_LIMIT: Duration = Duration::from_secs(5);

/// The speed factor of a free run: lesson time runs 100× faster than the
/// wall clock, so a check with simulated work takes milliseconds.
const FREE_SPEED: f64 = 100.0;

/// How a case is run: scheduled with a seeded strategy, or free on OS threads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Scheduled, uniformly random picks from this seed.
    Random(u64),
    /// Scheduled, PCT (depth 3) from this seed.
    Pct(u64),
    /// Free-running OS threads: real parallelism, no seed to replay.
    Free,
}

impl Mode {
    /// The lab schedule, `None` for free.
    #[must_use]
    pub fn schedule(self) -> Option<Schedule> {
        match self {
            Self::Random(seed) => Some(Schedule::random(seed)),
            Self::Pct(seed) => Some(Schedule::pct(seed)),
            Self::Free => None,
        }
    }

    /// True for a scheduled mode (exact, replayable, virtual time).
    #[must_use]
    pub fn is_scheduled(self) -> bool {
        self != Self::Free
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Random(seed) => write!(f, "schedule random seed {seed}"),
            Self::Pct(seed) => write!(f, "schedule pct seed {seed}"),
            Self::Free => f.write_str("free-running threads"),
        }
    }
}

/// One run of a check: which part of the exercise, how it is scheduled,
/// and the knobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Case {
    /// The part of the exercise (1, 2, ...; see the exercise's parts).
    pub part: u8,
    /// Scheduled (and how) or free.
    pub mode: Mode,
    /// Workers the learner's code is asked to start (subscribers in 05).
    pub workers: usize,
    /// Buffer size of the channels (0 = rendezvous; the burst in 04).
    pub buffer: usize,
    /// How many items (numbers, jobs, requests, messages) go through.
    pub items: u64,
}

impl Case {
    /// The case in words: "part 1, schedule random seed 3, 2 workers,
    /// buffer 0, 12 items".
    #[must_use]
    pub fn describe(&self) -> String {
        format!(
            "part {}, {}, {} worker{}, buffer {}, {} items",
            self.part,
            self.mode,
            self.workers,
            if self.workers == 1 { "" } else { "s" },
            self.buffer,
            self.items
        )
    }

    /// The case as one command-line word, for `--case`:
    /// `1:random:3:w2:b0:n12`.
    #[must_use]
    pub fn spec(&self) -> String {
        let mode = match self.mode {
            Mode::Random(s) => format!("random:{s}"),
            Mode::Pct(s) => format!("pct:{s}"),
            Mode::Free => "free".to_owned(),
        };
        format!(
            "{}:{mode}:w{}:b{}:n{}",
            self.part, self.workers, self.buffer, self.items
        )
    }

    /// Reads a [`Case::spec`].
    pub fn parse(spec: &str) -> Result<Self, String> {
        let bad = |why: &str| {
            format!(
                "`{spec}` is not a case ({why}); a case reads like `1:random:3:w2:b0:n12` \
                 (part, random:SEED, pct:SEED or free, then workers, buffer, items), as a \
                 failing check prints it"
            )
        };
        let fields: Vec<&str> = spec.trim().split(':').collect();
        let (part, mode, rest) = match fields.as_slice() {
            [part, "free", rest @ ..] => (*part, Mode::Free, rest),
            [part, "random", seed, rest @ ..] => (
                *part,
                Mode::Random(seed.parse().map_err(|_| bad("the seed is not a number"))?),
                rest,
            ),
            [part, "pct", seed, rest @ ..] => (
                *part,
                Mode::Pct(seed.parse().map_err(|_| bad("the seed is not a number"))?),
                rest,
            ),
            _ => return Err(bad("no mode after the part")),
        };
        let part = part
            .parse()
            .ok()
            .filter(|&p| p >= 1)
            .ok_or_else(|| bad("the part is not a number from 1"))?;
        let knob = |prefix: char, text: Option<&&str>| -> Result<u64, String> {
            text.and_then(|t| t.strip_prefix(prefix))
                .and_then(|n| n.parse().ok())
                .ok_or_else(|| bad(&format!("`{prefix}N` missing or not a number")))
        };
        if rest.len() != 3 {
            return Err(bad("workers, buffer and items are three fields"));
        }
        Ok(Self {
            part,
            mode,
            workers: usize::try_from(knob('w', rest.first())?).unwrap_or(usize::MAX),
            buffer: usize::try_from(knob('b', rest.get(1))?).unwrap_or(usize::MAX),
            items: knob('n', rest.get(2))?,
        })
    }

    /// The same case with these knobs, for a lesson-style run (the live view).
    #[must_use]
    pub fn knobs(&self) -> crate::lessons::Knobs {
        crate::lessons::Knobs {
            items: self.items,
            buffer: self.buffer,
            workers: self.workers,
            seed: match self.mode {
                Mode::Random(s) | Mode::Pct(s) => s,
                Mode::Free => 0,
            },
        }
    }
}

/// Something a check found wrong in what the learner's code did (the run
/// itself ended without a verdict).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// A short name tests and tools can match: `lost`, `order`,
    /// `sequential`, `busy`, `unbounded`, `late stop`, ...
    pub kind: &'static str,
    /// What went wrong, one sentence, naming the learner's workers and
    /// channels where the lab saw them.
    pub text: String,
    /// More lines: who took and sent what, what was expected.
    pub details: Vec<String>,
}

impl Problem {
    /// A problem with no detail lines.
    #[must_use]
    pub fn new(kind: &'static str, text: impl Into<String>) -> Self {
        Self {
            kind,
            text: text.into(),
            details: Vec::new(),
        }
    }

    /// The same problem with these detail lines added.
    #[must_use]
    pub fn with(mut self, details: impl IntoIterator<Item = String>) -> Self {
        self.details.extend(details);
        self
    }
}

/// What a check says when the learner's code is wrong: which case broke,
/// the lab's verdict or the problem in the outcome, and how to replay it.
#[derive(Debug, Clone)]
pub struct Failure {
    /// The exercise's number.
    pub exercise: u8,
    /// The part's rule that broke ("`squares` closes once every number is squared").
    pub rule: &'static str,
    /// The case that broke it.
    pub case: Case,
    /// A short name: a verdict's kind (`deadlock`, `leak`, `runaway`,
    /// `outside thread`, `panic`, `stall`, `stuck`, `left behind`) or a
    /// problem's ([`Problem::kind`]).
    pub kind: &'static str,
    /// The first line of what went wrong.
    pub headline: String,
    /// The dump (who waits on what) and the explanation.
    pub details: Vec<String>,
    /// The lab's verdict, when the run got one.
    pub verdict: Option<Verdict>,
}

impl Failure {
    /// The command that replays this case with its step table.
    #[must_use]
    pub fn replay_command(&self) -> String {
        format!(
            "chanlab verify {} --case {}",
            self.exercise,
            self.case.spec()
        )
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "✗ check failed: {}", self.rule)?;
        writeln!(f, "  under {}", self.case.describe())?;
        writeln!(f, "  {}", self.headline)?;
        for line in &self.details {
            writeln!(f, "    {line}")?;
        }
        if self.case.mode.is_scheduled() {
            write!(
                f,
                "  replay it: {}   (in `chanlab watch`: press r to watch it live)",
                self.replay_command()
            )
        } else {
            write!(
                f,
                "  a free run has no seed to replay: run the check again, or fix what the \
                 lines above name"
            )
        }
    }
}

/// One case run again, to be shown.
#[derive(Debug)]
pub struct Replayed {
    /// What the check said.
    pub result: Result<(), Box<Failure>>,
    /// Each step in words (none for a free run).
    pub steps: Vec<String>,
    /// The scheduler's choices: a schedule with these as its prefix is
    /// this very run.
    pub choices: Vec<crate::lab::Choice>,
}

/// What an exercise's whole check did when it passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Passed {
    /// Runs made (every case).
    pub runs: usize,
    /// Of those, scheduled runs.
    pub scheduled: usize,
}

/// The limits one run is held to, besides [`WALL_LIMIT`].
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// Scheduler steps (lab operations) before *runaway*.
    pub steps: u64,
    /// Virtual time before *runaway*.
    pub time: Duration,
}

impl Default for Budget {
    fn default() -> Self {
        Self {
            steps: 50_000,
            time: Duration::from_secs(600),
        }
    }
}

/// One part of an exercise: the rule it checks.
#[derive(Debug, Clone, Copy)]
pub struct Part {
    /// The rule in one line, as a failure names it.
    pub rule: &'static str,
}

/// One case of a check as a lab main: it calls the learner's code and
/// returns what it found wrong.
pub type Scenario = Arc<dyn Fn(&Lab, Case) -> Vec<Problem> + Send + Sync>;

/// An exercise's check, with the learner's code in it.
#[derive(Clone)]
pub struct Subject {
    /// The exercise's number.
    pub exercise: u8,
    parts: &'static [Part],
    cases: Vec<Case>,
    budget: fn(&Case) -> Budget,
    scenario: Scenario,
}

impl fmt::Debug for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subject")
            .field("exercise", &self.exercise)
            .field("cases", &self.cases.len())
            .finish_non_exhaustive()
    }
}

impl Subject {
    pub(crate) fn new(
        exercise: u8,
        parts: &'static [Part],
        cases: Vec<Case>,
        budget: fn(&Case) -> Budget,
        scenario: Scenario,
    ) -> Self {
        Self {
            exercise,
            parts,
            cases,
            budget,
            scenario,
        }
    }

    /// Every case, in the order the check runs them.
    #[must_use]
    pub fn cases(&self) -> &[Case] {
        &self.cases
    }

    /// Runs every case; the first that breaks is the failure.
    pub fn check(&self) -> Result<Passed, Box<Failure>> {
        self.check_with(|_, _| {})
    }

    /// Like [`Self::check`], telling `progress` after each case (its index
    /// and the count), so a terminal can show how far it got.
    pub fn check_with(
        &self,
        mut progress: impl FnMut(usize, usize),
    ) -> Result<Passed, Box<Failure>> {
        for (i, case) in self.cases.iter().enumerate() {
            self.check_case(*case)?;
            progress(i + 1, self.cases.len());
        }
        Ok(Passed {
            runs: self.cases.len(),
            scheduled: self.cases.iter().filter(|c| c.mode.is_scheduled()).count(),
        })
    }

    /// Runs one case.
    pub fn check_case(&self, case: Case) -> Result<(), Box<Failure>> {
        self.run_case(case, false).result
    }

    /// Runs one case keeping each step in words: the result, the steps
    /// (none for a free run) and the choices that replay it.
    #[must_use]
    pub fn replay(&self, case: Case) -> Replayed {
        self.run_case(case, true)
    }

    /// The rule of `part`.
    #[must_use]
    pub fn rule(&self, part: u8) -> &'static str {
        self.parts
            .get(usize::from(part.max(1)) - 1)
            .map_or("the exercise's check", |p| p.rule)
    }

    /// How many parts the exercise has.
    #[must_use]
    pub fn parts(&self) -> usize {
        self.parts.len()
    }

    /// The scenario of a case as a lab main, for the live view: what it
    /// found wrong, in words.
    #[must_use]
    pub fn live_main(&self) -> Scenario {
        Arc::clone(&self.scenario)
    }

    fn run_case(&self, case: Case, describe: bool) -> Replayed {
        let budget = (self.budget)(&case);
        let config = config_for(case, budget, describe);
        let scenario = Arc::clone(&self.scenario);
        let run = Lab::start(config, move |lab| scenario(lab, case));
        let deadline = Instant::now() + WALL_LIMIT;
        if case.mode.is_scheduled() {
            let _ = run.lab().wait_still(WALL_LIMIT);
        }
        while !run.is_finished() && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(1));
        }
        let timed_out = !run.is_finished();
        let running_at_timeout = timed_out.then(|| running_workers(&run.lab().snapshot()));
        let report = if timed_out { run.stop() } else { run.wait() };
        let trace = report.trace.clone().unwrap_or_default();
        let verdict = judge(&report, running_at_timeout);
        let result = match verdict {
            None => Ok(()),
            Some(found) => Err(Box::new(Failure {
                exercise: self.exercise,
                rule: self.rule(case.part),
                case,
                kind: found.kind,
                headline: found.text,
                details: found.details,
                verdict: report.verdict.clone(),
            })),
        };
        Replayed {
            result,
            steps: trace.steps,
            choices: trace.choices,
        }
    }
}

/// The lab configuration of a case.
pub(crate) fn config_for(case: Case, budget: Budget, describe: bool) -> Config {
    Config {
        schedule: case.mode.schedule(),
        speed: FREE_SPEED,
        events: 1 << 16,
        log_items: true,
        log_waits: true,
        step_limit: budget.steps,
        time_limit: budget.time,
        describe_steps: describe,
        leak_grace: Duration::from_millis(500),
        stop_grace: Duration::from_secs(1),
        ..Config::default()
    }
}

/// The workers still running (not waiting, not done) in `snapshot`.
fn running_workers(snapshot: &Snapshot) -> Vec<String> {
    snapshot
        .workers
        .iter()
        .filter(|w| w.state == WorkerState::Running)
        .map(|w| w.name.clone())
        .collect()
}

/// What a finished run says: the verdict first, then threads left
/// behind, then what the scenario found.
fn judge(
    report: &Report<Vec<Problem>>,
    running_at_timeout: Option<Vec<String>>,
) -> Option<Problem> {
    if let Some(running) = running_at_timeout {
        let who = if running.is_empty() {
            "a worker".to_owned()
        } else {
            names(&running)
        };
        let mut details = vec![format!(
            "{who} never came back to the lab: a loop that never sends, receives, works or \
             sleeps (a busy-wait on a plain variable?), or a wait the lab cannot see (a std \
             Mutex held across a send, a std channel, thread::sleep)"
        )];
        if !report.unstoppable.is_empty() {
            details.push(format!(
                "still running when the check gave up: {}",
                names(&report.unstoppable)
            ));
        }
        return Some(
            Problem::new(
                "stuck",
                format!(
                    "stuck: {} of real time without a single lab operation",
                    in_words(WALL_LIMIT)
                ),
            )
            .with(details),
        );
    }
    if let Some(verdict) = &report.verdict {
        return Some(explain_verdict(verdict, &report.snapshot));
    }
    if !report.unstoppable.is_empty() {
        return Some(Problem::new(
            "left behind",
            format!(
                "left behind: {} would not stop after the run ended (an OS thread left running)",
                names(&report.unstoppable)
            ),
        ));
    }
    match &report.outcome {
        None => Some(Problem::new(
            "stuck",
            "the run ended without an outcome (it was stopped)",
        )),
        Some(problems) => problems.first().cloned(),
    }
}

fn explain_verdict(verdict: &Verdict, snapshot: &Snapshot) -> Problem {
    let mut details = verdict.dump();
    match verdict {
        Verdict::Deadlock { .. } | Verdict::Leak { .. } | Verdict::Stall { .. } => {
            details.extend(open_channels(verdict, snapshot));
            details.extend(full_channels(verdict, snapshot));
        }
        Verdict::Runaway { .. } => details.push(
            "a loop that never ends: something retries a closed channel (an `Err` it ignores), \
             or polls (`try_recv`, a busy-wait) instead of waiting"
                .to_owned(),
        ),
        Verdict::Outside { thread } => details.push(format!(
            "`{thread}` was started with `std::thread::spawn` (or another way the lab cannot \
             see); start it with `lab.go(\"name\", move || ...)`: the lab schedules, watches and \
             judges only its own workers"
        )),
        Verdict::Panicked { .. } => {}
    }
    Problem {
        kind: verdict.kind(),
        text: verdict.headline(),
        details,
    }
}

/// For a deadlock, leak or stall: the channels someone waits to receive on
/// that never closed, and how many Senders keep each open.
fn open_channels(verdict: &Verdict, snapshot: &Snapshot) -> Vec<String> {
    let mut waited_on: Vec<&str> = Vec::new();
    for stuck in verdict.stuck() {
        let state = match &stuck.state {
            WorkerState::Leaked { was } => was.as_ref(),
            s => s,
        };
        match state {
            WorkerState::BlockedRecv { channel } => waited_on.push(channel),
            WorkerState::Selecting { arms } => waited_on.extend(
                arms.iter()
                    .filter(|a| !a.send && !a.timer)
                    .map(|a| a.channel.as_str()),
            ),
            _ => {}
        }
    }
    waited_on.sort_unstable();
    waited_on.dedup();
    waited_on
        .into_iter()
        .filter_map(|name| {
            let ch = snapshot
                .channels
                .iter()
                .find(|c| c.name == name && !c.closed && c.senders > 0 && c.len == 0)?;
            let s = if ch.senders == 1 { "" } else { "s" };
            let from = if ch.sender_stages.is_empty() {
                String::new()
            } else {
                format!(" (items came from {})", names(&ch.sender_stages))
            };
            Some(format!(
                "`{name}` never closed: {} Sender{s} still alive{from}, and a channel closes only \
                 when its last Sender is dropped",
                ch.senders
            ))
        })
        .collect()
}

/// For a deadlock, leak or stall: the channels someone waits to send on
/// that nobody reads. When the one waiting is `main`, the check itself
/// called the learner's function, which sent before it returned.
fn full_channels(verdict: &Verdict, snapshot: &Snapshot) -> Vec<String> {
    let mut lines = Vec::new();
    for stuck in verdict.stuck() {
        let state = match &stuck.state {
            WorkerState::Leaked { was } => was.as_ref(),
            s => s,
        };
        let WorkerState::BlockedSend { channel } = state else {
            continue;
        };
        let Some(ch) = snapshot.channels.iter().find(|c| &c.name == channel) else {
            continue;
        };
        if ch.recv_waiting > 0 || ch.closed {
            continue;
        }
        if stuck.worker == "main" {
            lines.push(format!(
                "`main` is the check, calling your code: it sent on `{channel}` before handing \
                 the channel back, so nobody could read it yet; send from a worker started with \
                 `lab.go`"
            ));
        } else if ch.receivers > 0 {
            lines.push(format!(
                "`{channel}` is full and nobody takes from it: its Receiver is alive, but no \
                 worker waits to receive"
            ));
        }
    }
    lines.dedup();
    lines
}

/// `a`, `a and b`, `a, b and c`, each in backticks.
pub(crate) fn names(list: &[String]) -> String {
    let quoted: Vec<String> = list.iter().map(|n| format!("`{n}`")).collect();
    match quoted.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., final_one] => format!("{} and {final_one}", rest.join(", ")),
    }
}

/// Who moved which items, from the run's item log (`Config::log_items`):
/// per worker, how many it took from and sent on each channel.
#[derive(Debug, Default)]
pub(crate) struct Flows {
    /// (worker, channel) → items received.
    took: BTreeMap<(String, String), u64>,
    /// (worker, channel) → items sent.
    sent: BTreeMap<(String, String), u64>,
    /// channel → senders of its 1st, 2nd, ... item.
    senders: BTreeMap<String, Vec<String>>,
    /// Workers in the order they were first seen.
    order: Vec<String>,
}

impl Flows {
    /// Reads the lab's log so far.
    pub(crate) fn of(lab: &Lab) -> Self {
        let mut flows = Self::default();
        for event in lab.events_since(0).events {
            if event.cleanup {
                continue;
            }
            match event.kind {
                EventKind::Spawned { worker, .. } => flows.order.push(worker),
                EventKind::Sent {
                    worker, channel, ..
                } => {
                    flows
                        .senders
                        .entry(channel.clone())
                        .or_default()
                        .push(worker.clone());
                    *flows.sent.entry((worker, channel)).or_default() += 1;
                }
                EventKind::Received {
                    worker, channel, ..
                } => *flows.took.entry((worker, channel)).or_default() += 1,
                _ => {}
            }
        }
        flows
    }

    /// Who sent the `nth` item (from 0) on `channel`.
    pub(crate) fn sender_of(&self, channel: &str, nth: usize) -> Option<&str> {
        self.senders.get(channel)?.get(nth).map(String::as_str)
    }

    /// One line per worker not in `skip`: "square#1 took 4 from
    /// `numbers`, sent 4 on `squares`". Workers that moved nothing are
    /// named as such.
    pub(crate) fn lines(&self, skip: &[&str]) -> Vec<String> {
        self.order
            .iter()
            .filter(|w| !skip.contains(&w.as_str()))
            .map(|w| {
                let mut parts = Vec::new();
                for ((who, ch), n) in &self.took {
                    if who == w {
                        parts.push(format!("took {n} from `{ch}`"));
                    }
                }
                for ((who, ch), n) in &self.sent {
                    if who == w {
                        parts.push(format!("sent {n} on `{ch}`"));
                    }
                }
                if parts.is_empty() {
                    format!("{w} moved no item")
                } else {
                    format!("{w} {}", parts.join(", "))
                }
            })
            .collect()
    }

    /// Workers not in `skip` that sent at least one item on `channel`.
    pub(crate) fn senders_on(&self, channel: &str, skip: &[&str]) -> Vec<String> {
        let mut who: Vec<String> = self
            .senders
            .get(channel)
            .into_iter()
            .flatten()
            .filter(|w| !skip.contains(&w.as_str()))
            .cloned()
            .collect();
        who.sort();
        who.dedup();
        who
    }

    /// Workers not in `skip`, in spawn order.
    pub(crate) fn workers(&self, skip: &[&str]) -> Vec<String> {
        self.order
            .iter()
            .filter(|w| !skip.contains(&w.as_str()))
            .cloned()
            .collect()
    }
}

/// The standard cases: for each knob set (workers, buffer, items), three
/// random and three PCT seeds; then each knob set once free.
pub(crate) fn standard_cases(parts: &[u8], knobs: &[(usize, usize, u64)]) -> Vec<Case> {
    let mut cases = Vec::new();
    for &part in parts {
        for &(workers, buffer, items) in knobs {
            for mode in [
                Mode::Random(1),
                Mode::Pct(1),
                Mode::Random(2),
                Mode::Pct(2),
                Mode::Random(3),
                Mode::Pct(3),
            ] {
                cases.push(Case {
                    part,
                    mode,
                    workers,
                    buffer,
                    items,
                });
            }
        }
    }
    for &part in parts {
        for &(workers, buffer, items) in knobs {
            cases.push(Case {
                part,
                mode: Mode::Free,
                workers,
                buffer,
                items,
            });
        }
    }
    cases
}

/// "1st", "2nd", "3rd", "4th", "11th", ...
pub(crate) fn ordinal(k: usize) -> String {
    let suffix = match (k % 10, k % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{k}{suffix}")
}

/// "1, 4, 9, …": at most the first 12 of `items`.
pub(crate) fn short_list<T: fmt::Display>(items: &[T]) -> String {
    const SHOWN: usize = 12;
    let mut s: Vec<String> = items.iter().take(SHOWN).map(ToString::to_string).collect();
    if items.len() > SHOWN {
        s.push(format!("… ({} more)", items.len() - SHOWN));
    }
    s.join(", ")
}

#[cfg(test)]
mod tests {
    use super::{Case, Mode};

    #[test]
    fn a_case_reads_back_from_its_spec() {
        for case in [
            Case {
                part: 2,
                mode: Mode::Random(17),
                workers: 3,
                buffer: 0,
                items: 12,
            },
            Case {
                part: 1,
                mode: Mode::Pct(4),
                workers: 1,
                buffer: 2,
                items: 5,
            },
            Case {
                part: 3,
                mode: Mode::Free,
                workers: 2,
                buffer: 1,
                items: 8,
            },
        ] {
            assert_eq!(Case::parse(&case.spec()), Ok(case));
        }
    }

    #[test]
    fn a_bad_case_says_what_a_good_one_looks_like() {
        for bad in [
            "",
            "1",
            "x:random:1:w1:b1:n1",
            "1:random:z:w1:b1:n1",
            "1:free:w1:b1",
        ] {
            let err = Case::parse(bad).unwrap_err();
            assert!(err.contains("1:random:3:w2:b0:n12"), "{bad}: {err}");
        }
    }
}
