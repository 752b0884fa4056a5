//! How the live view schedules its runs and what it knows of them: the
//! mode (scheduled on a seed, free on OS threads, or played by the learner),
//! the choices known so far (a rewind re-executes them, no frames are
//! stored), and the play-the-scheduler state with its challenges.
//!
//! Pure state, like [`app`](super::app): the keys here change it and ask
//! the event loop for a run; the runs' traces, snapshots and next
//! operations come back in through [`App::on_trace`] and
//! [`App::on_next_ops`].

use crate::lab::{Choice, Event, NextOp, Schedule, Snapshot, Strategy, Trace};
use crate::lessons::{Challenge, Lesson};

use super::app::{Action, App, LessonView, LiveView};

/// The seed a session starts on: the same for everyone, so a class
/// watching one screen and a learner at home see the same run.
pub const DEFAULT_SEED: u64 = 1;

/// Seeds `n` draws from: short enough to read out and type into
/// `chanlab run --schedule`.
const SEEDS: std::ops::Range<u64> = 1..10_000;

/// How the live view runs a lesson.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// One worker at a time, picked by a seeded strategy on virtual time:
    /// the same seed gives the same run, so it can be replayed and rewound.
    Scheduled,
    /// Real OS threads in parallel; the OS picks the interleaving.
    Free,
    /// The learner picks each step (play the scheduler).
    Play,
}

/// How the next run starts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Its schedule (`None`: free).
    pub schedule: Option<Schedule>,
    /// Start paused; `None`: as the learner left the pause.
    pub paused: Option<bool>,
    /// Once the run stands still at its `pause_at`, let it go on (a rewind
    /// while playing: the learner picks from there).
    pub resume: bool,
}

/// Where a scrub key goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scrub {
    /// Steps back.
    Back(u64),
    /// Steps forward.
    Forward(u64),
    /// Step 0.
    Start,
    /// The last known step.
    End,
}

/// The scheduling side of the live view.
#[derive(Debug, Clone)]
pub struct Steering {
    /// How runs go.
    pub mode: Mode,
    /// The strategy of scheduled runs (never [`Strategy::Manual`]).
    pub strategy: Strategy,
    /// Its seed.
    pub seed: u64,
    /// Every choice known for this lesson, variant, knobs and schedule:
    /// the current run's and, after a rewind, the steps it has not
    /// re-executed yet.
    pub known: Vec<Choice>,
    /// Each known step in words, as far as some run has said them.
    pub words: Vec<String>,
    /// The step the known run's verdict came at, and its kind (or its
    /// end, when its outcome is broken).
    pub verdict_at: Option<(u64, String)>,
    /// The step the known run ended at (verdict or not).
    pub ended_at: Option<u64>,
    /// The last run's recorded choices did not fit (why).
    pub diverged: Option<String>,
    /// A rewind in flight: the step it goes to.
    pub seek: Option<u64>,
    /// How the next run starts.
    pub plan: Plan,
    /// Playing: the steps the learner picked, oldest first (undo pops them).
    pub picks: Vec<u64>,
    /// Playing: the steps at which the run waited for a pick, in order
    /// (stepping back lands on one, not on a forced step that would only
    /// be taken again).
    pub decisions: Vec<u64>,
    /// Playing: each live worker's next operation, as the lab said last.
    pub next_ops: Vec<NextOp>,
    /// Playing: the pickable entry ↑ ↓ point at.
    pub cursor: usize,
    /// The open challenge (index into the lesson's).
    pub challenge: Option<usize>,
    /// The fewest steps the open challenge's goal was reached in.
    pub reached: Option<u64>,
    /// Show the open challenge's hint.
    pub hint: bool,
    /// A replay's recorded choices: a fresh run makes them first.
    base: Vec<Choice>,
    /// The schedule the first lesson opens with (`Launch::schedule`).
    launch: Option<Schedule>,
}

impl Default for Steering {
    fn default() -> Self {
        Self {
            mode: Mode::Scheduled,
            strategy: Strategy::Random,
            seed: DEFAULT_SEED,
            known: Vec::new(),
            words: Vec::new(),
            verdict_at: None,
            ended_at: None,
            diverged: None,
            seek: None,
            plan: Plan::default(),
            picks: Vec::new(),
            decisions: Vec::new(),
            next_ops: Vec::new(),
            cursor: 0,
            challenge: None,
            reached: None,
            hint: false,
            base: Vec::new(),
            launch: None,
        }
    }
}

impl Steering {
    /// The schedule the seed's strategy runs with.
    #[must_use]
    pub fn seeded(&self) -> Schedule {
        Schedule::new(self.strategy, self.seed)
    }

    /// "random seed 17".
    #[must_use]
    pub fn describe_seed(&self) -> String {
        self.seeded().describe()
    }

    /// Steps known so far, or `step` if the run is past them.
    #[must_use]
    pub fn total(&self, step: u64) -> u64 {
        (self.known.len() as u64).max(step)
    }

    /// The words of step `k` (from 1), if some run said them.
    #[must_use]
    pub fn words_of(&self, k: u64) -> Option<&str> {
        let i = usize::try_from(k.checked_sub(1)?).ok()?;
        self.words.get(i).map(String::as_str)
    }

    /// The pickable entries of the next-operation list, in order.
    pub fn pickable(&self) -> impl Iterator<Item = (&NextOp, Choice)> {
        self.next_ops
            .iter()
            .filter_map(|op| op.choice.map(|c| (op, c)))
    }

    /// Forgets what was known of the old world (another variant, other
    /// knobs, another seed or mode): its choices, words and verdict.
    fn forget(&mut self) {
        self.known.clear();
        self.words.clear();
        self.verdict_at = None;
        self.ended_at = None;
        self.diverged = None;
        self.picks.clear();
        self.decisions.clear();
        self.base.clear();
        self.next_ops.clear();
        self.cursor = 0;
    }

    /// Takes in a run's trace: while it agrees with what is known (a
    /// rewind re-executing it) nothing is lost; where it goes on past it
    /// or another way (the learner picked otherwise) it is the new known.
    fn absorb(&mut self, trace: &Trace) {
        let t = &trace.choices;
        let same = t
            .iter()
            .zip(&self.known)
            .take_while(|(a, b)| a == b)
            .count();
        let agrees = same == t.len();
        if !agrees {
            if same < self.known.len() {
                // Another future: the old one's end and verdict are not this one's.
                self.verdict_at = None;
                self.ended_at = None;
                self.words.truncate(same);
                self.picks.retain(|&p| p <= same as u64 + 1);
                self.decisions.retain(|&d| d <= same as u64);
            }
            self.known.clone_from(t);
        }
        if trace.steps.len() > self.words.len() {
            self.words.clone_from(&trace.steps);
        }
        self.diverged.clone_from(&trace.diverged);
    }

    /// A fresh run in the current mode: the seed from step 0 (a replay's
    /// recorded choices first), the learner from step 0, or free.
    fn plan_fresh(&mut self) {
        self.seek = None;
        self.plan = match self.mode {
            Mode::Free => Plan::default(),
            Mode::Scheduled => Plan {
                schedule: Some(self.seeded().with_prefix(self.base.clone())),
                paused: None,
                resume: false,
            },
            Mode::Play => Plan {
                schedule: Some(Schedule::manual()),
                paused: Some(false),
                resume: false,
            },
        };
    }

    /// A run that re-executes the known choices to step `k` unpaced and
    /// stands still there: paused on the seed's schedule, or (playing)
    /// waiting for the learner's next pick.
    fn plan_seek(&mut self, k: u64, resume: bool) {
        let upto = usize::try_from(k)
            .unwrap_or(usize::MAX)
            .min(self.known.len());
        let (schedule, paused, resume) = match self.mode {
            Mode::Play => {
                let prefix = self.known[..upto].to_vec();
                (Schedule::manual().with_prefix(prefix), false, true)
            }
            _ => (
                self.seeded().with_prefix(self.known.clone()),
                !resume,
                resume,
            ),
        };
        // Step 0 needs no fast-forward: the run simply starts paused there.
        let schedule = if k == 0 {
            schedule
        } else {
            schedule.paused_at(k)
        };
        // A run going to step k > 0 starts open (its `pause_at` stops it);
        // one at step 0 starts paused unless it is to go on at once.
        self.seek = (k > 0).then_some(k);
        self.plan = Plan {
            schedule: Some(schedule),
            paused: Some(k == 0 && paused),
            resume: resume && k > 0,
        };
    }
}

/// A new seed after `seed`: drawn from it, so a session's seeds are the same
/// every time, and never `seed` itself.
#[must_use]
pub fn next_seed(seed: u64) -> u64 {
    let mut rng = fastrand::Rng::with_seed(seed ^ 0x9E37_79B9_7F4A_7C15);
    loop {
        let next = rng.u64(SEEDS);
        if next != seed {
            return next;
        }
    }
}

/// The step a snapshot shows (0 for a free run).
#[must_use]
pub fn step_of(snapshot: Option<&Snapshot>) -> u64 {
    snapshot
        .and_then(|s| s.schedule.as_ref())
        .map_or(0, |s| s.step)
}

/// True when `view` runs `challenge`'s variant with its knobs.
fn runs(view: &LessonView, challenge: &Challenge) -> bool {
    view.variant.name.eq_ignore_ascii_case(challenge.variant) && view.knobs == challenge.knobs
}

impl App {
    /// The scheduling side: mode, seed, known steps, play state.
    #[must_use]
    pub fn steering(&self) -> &Steering {
        &self.steer
    }

    /// How the first lesson opened starts (`Launch::schedule`,
    /// `Launch::free`): a schedule with a prefix is a replay, one with
    /// [`Strategy::Manual`] opens in play mode; `free` runs on OS threads.
    #[must_use]
    pub fn with_launch(mut self, schedule: Option<Schedule>, free: bool) -> Self {
        if free {
            self.steer.mode = Mode::Free;
        } else if let Some(schedule) = schedule {
            if schedule.strategy == Strategy::Manual {
                self.steer.mode = Mode::Play;
            } else {
                self.steer.mode = Mode::Scheduled;
                self.steer.strategy = schedule.strategy;
                self.steer.seed = schedule.seed;
            }
            self.steer.launch = Some(schedule);
        }
        self
    }

    /// The open challenge, if the run is it (its variant, its knobs,
    /// played).
    #[must_use]
    pub fn challenge(&self) -> Option<(usize, &'static Challenge)> {
        let view = self.lesson.as_ref()?;
        let i = self.steer.challenge?;
        let challenges: &'static [Challenge] = view.lesson.challenges;
        let challenge = challenges.get(i)?;
        (self.steer.mode == Mode::Play && runs(view, challenge)).then_some((i, challenge))
    }

    /// The step the run shows.
    #[must_use]
    pub fn step_now(&self) -> u64 {
        step_of(self.lesson.as_ref().and_then(|v| v.live.snapshot.as_ref()))
    }

    /// A scheduled run's choices so far, from the event loop (only when
    /// its step changed: a trace is the whole list).
    pub fn on_trace(&mut self, trace: &Trace) {
        if self.lesson.is_some() && self.steer.mode != Mode::Free {
            self.steer.absorb(trace);
        }
    }

    /// Playing: every live worker's next operation, from the event loop.
    pub fn on_next_ops(&mut self, ops: Vec<NextOp>) {
        self.steer.next_ops = ops;
        let pickable = self.steer.pickable().count();
        self.steer.cursor = self.steer.cursor.min(pickable.saturating_sub(1));
    }

    /// Called with each snapshot before it is shown: a rewind's first
    /// picture replaces the old run's (kept on screen while it ran).
    pub(super) fn seek_arrived(&mut self) {
        if self.steer.seek.take().is_some()
            && let Some(view) = self.lesson.as_mut()
        {
            view.live = LiveView::default();
            view.events_scroll = 0;
        }
    }

    /// After a snapshot or the report: the run's end, and the open
    /// challenge's goal.
    pub(super) fn after_picture(&mut self, ended: bool) {
        let Some(view) = self.lesson.as_mut() else {
            return;
        };
        let Some(snapshot) = view.live.snapshot.as_ref() else {
            return;
        };
        let step = step_of(Some(snapshot));
        let awaiting = snapshot
            .schedule
            .as_ref()
            .is_some_and(|s| s.awaiting_choice);
        if awaiting
            && self.steer.mode == Mode::Play
            && let Err(at) = self.steer.decisions.binary_search(&step)
        {
            self.steer.decisions.insert(at, step);
        }
        if ended && self.steer.mode != Mode::Free {
            self.steer.ended_at = Some(step);
            let broken = view
                .live
                .finished
                .as_ref()
                .and_then(|f| f.outcome.as_ref())
                .is_some_and(crate::lessons::Outcome::is_broken);
            self.steer.verdict_at = match view.live.verdict() {
                Some(v) => Some((step, v.kind().to_owned())),
                None if broken => Some((step, "broken outcome".to_owned())),
                None => None,
            };
        }
        let Some((_, challenge)) = self.challenge() else {
            return;
        };
        let Some(view) = self.lesson.as_mut() else {
            return;
        };
        let Some(snapshot) = view.live.snapshot.as_ref() else {
            return;
        };
        let events: &[Event] = view.live.events.make_contiguous();
        if (challenge.reached)(snapshot, events) && self.steer.reached.is_none_or(|r| step < r) {
            let first = self.steer.reached.is_none();
            self.steer.reached = Some(step);
            let text = if first {
                format!("✓ goal reached in {step} steps (c: next challenge)")
            } else {
                format!("✓ goal reached again, in {step} steps: a new best")
            };
            self.info(text);
        }
    }

    /// Forgets the old world's steps and plans a fresh run (another
    /// variant, other knobs, a new seed or mode). A challenge whose variant
    /// or knobs are gone is left: true if one was.
    pub(super) fn new_world(&mut self) -> bool {
        self.steer.forget();
        let mut left = false;
        if let (Some(view), Some(i)) = (self.lesson.as_ref(), self.steer.challenge) {
            let kept = view
                .lesson
                .challenges
                .get(i)
                .is_some_and(|c| runs(view, c) && self.steer.mode == Mode::Play);
            if !kept {
                self.steer.challenge = None;
                self.steer.reached = None;
                self.steer.hint = false;
                left = true;
            }
        }
        self.steer.plan_fresh();
        left
    }

    /// The variant or a knob changed: a fresh run of the new world, saying
    /// `text` (and that the challenge was left, if it was).
    pub(super) fn world_changed(&mut self, text: String) -> Action {
        self.restart_view();
        let left = self.new_world();
        if left {
            self.info(format!("{text}; challenge left (c opens it again)"));
        } else {
            self.info(text);
        }
        Action::StartRun
    }

    /// Plans the first run of a lesson just opened: the launch's schedule
    /// (a replay) the first time, else a fresh run in the current mode.
    pub(super) fn plan_opened(&mut self) {
        self.steer.forget();
        self.steer.challenge = None;
        self.steer.reached = None;
        self.steer.hint = false;
        let Some(schedule) = self.steer.launch.take() else {
            self.steer.plan_fresh();
            return;
        };
        self.steer.known.clone_from(&schedule.prefix);
        if self.steer.mode == Mode::Play {
            let end = schedule.prefix.len() as u64;
            self.steer.plan_seek(end, true);
            return;
        }
        self.steer.base.clone_from(&schedule.prefix);
        let mut schedule = schedule;
        // Paused at step 0 is simply a run that starts paused.
        let at_start = schedule.pause_at == Some(0);
        if at_start {
            schedule.pause_at = None;
        }
        self.steer.seek = schedule.pause_at;
        if self.steer.seek.is_some() || at_start {
            self.paused = true;
        }
        self.steer.plan = Plan {
            // Going to a step, the run starts open (`pause_at` stops it).
            paused: if at_start {
                Some(true)
            } else {
                self.steer.seek.map(|_| false)
            },
            schedule: Some(schedule),
            resume: false,
        };
    }

    /// A fresh run of the same world (`r`): the same seed gives the same
    /// run, so what is known stays known.
    pub(super) fn plan_restart(&mut self) {
        self.steer.picks.clear();
        self.steer.plan_fresh();
    }

    fn lesson_label(&self) -> Option<&'static Lesson> {
        self.lesson.as_ref().map(|v| v.lesson)
    }

    /// `m`: scheduled ↔ free (from play: free).
    pub(super) fn toggle_free(&mut self) -> Action {
        self.steer.mode = match self.steer.mode {
            Mode::Free => Mode::Scheduled,
            Mode::Scheduled | Mode::Play => Mode::Free,
        };
        if self.lesson.is_none() {
            return Action::None;
        }
        let _ = self.new_world();
        self.restart_view();
        let text = match self.steer.mode {
            Mode::Free => {
                "free: real OS threads, the OS picks the order (no rewind; m goes back)".to_owned()
            }
            _ => format!(
                "scheduled on {}: the same seed is the same run ([ ] rewind, n new seed, m free)",
                self.steer.describe_seed()
            ),
        };
        self.info(text);
        Action::StartRun
    }

    /// `n`: a new seed for the scheduled run.
    pub(super) fn new_seed(&mut self) -> Action {
        match self.steer.mode {
            Mode::Free => {
                return self.warn("a free run has no seed: m switches to scheduled".to_owned());
            }
            Mode::Play => {
                return self.warn(
                    "you are the scheduler: no seed to change (p hands back to it)".to_owned(),
                );
            }
            Mode::Scheduled => {}
        }
        if self.lesson.is_none() {
            return Action::None;
        }
        let old = self.steer.seed;
        self.steer.seed = next_seed(old);
        let _ = self.new_world();
        self.restart_view();
        let text = format!(
            "seed {old} → {}: another interleaving (r replays it exactly)",
            self.steer.seed
        );
        self.info(text);
        Action::StartRun
    }

    /// `p`: take over as the scheduler at the current step, or hand back
    /// to the seed's strategy there.
    pub(super) fn toggle_play(&mut self) -> Action {
        if self.lesson.is_none() {
            return Action::None;
        }
        let step = self.step_now().min(self.steer.known.len() as u64);
        let over = self.run_over();
        match self.steer.mode {
            Mode::Play => {
                self.steer.mode = Mode::Scheduled;
                self.steer.challenge = None;
                self.steer.reached = None;
                self.steer.hint = false;
                self.steer.picks.clear();
                self.steer.next_ops.clear();
                // The seed's strategy picks from here on, not the old future.
                self.steer
                    .known
                    .truncate(usize::try_from(step).unwrap_or(usize::MAX));
                self.steer.words.truncate(self.steer.known.len());
                self.steer.verdict_at = None;
                self.steer.ended_at = None;
                self.steer.plan_seek(step, true);
                self.paused = false;
                if step == 0 {
                    self.restart_view();
                }
                let text = format!(
                    "{} takes over from step {step} (p: you pick again)",
                    self.steer.describe_seed()
                );
                self.info(text);
            }
            Mode::Scheduled if step > 0 && !over => {
                self.steer.mode = Mode::Play;
                self.steer.picks.clear();
                self.steer.plan_seek(step, true);
                self.paused = false;
                let text = format!(
                    "you are the scheduler from step {step}: 1–9 (or ↑ ↓ Enter) picks who goes next, u undoes, p hands back"
                );
                self.info(text);
            }
            Mode::Scheduled | Mode::Free => {
                self.steer.mode = Mode::Play;
                let _ = self.new_world();
                self.restart_view();
                self.paused = false;
                let challenges = self.lesson_label().map_or(0, |l| l.challenges.len());
                let more = if challenges > 0 {
                    ", c opens a challenge"
                } else {
                    ""
                };
                let text = format!(
                    "you are the scheduler: 1–9 (or ↑ ↓ Enter) picks who goes next, u undoes{more}, p stops"
                );
                self.info(text);
            }
        }
        Action::StartRun
    }

    /// `[ ] { } ( ) g G`: another step of a scheduled run. Back (or far
    /// forward) re-executes the known choices to that step; one step on is
    /// a step of the run itself.
    pub(super) fn scrub(&mut self, to: Scrub) -> Action {
        if self.lesson.is_none() {
            return Action::None;
        }
        if self.steer.mode == Mode::Free {
            return self.warn(
                "a free run cannot be rewound (the OS picked its order): m runs it scheduled"
                    .to_owned(),
            );
        }
        let from = self.steer.seek.unwrap_or_else(|| self.step_now());
        let known = self.steer.known.len() as u64;
        let over = self.run_over() && self.steer.seek.is_none();
        let playing = self.steer.mode == Mode::Play;
        // How far forward can go: the known steps when they end (a run
        // that ended, or the learner's picks), else as far as asked.
        let limit = if over || playing || self.steer.ended_at.is_some() {
            known.max(from)
        } else {
            u64::MAX
        };
        let target = match to {
            // Playing, back lands where the run waited for a pick.
            Scrub::Back(n) if playing => {
                let back = from.saturating_sub(n);
                self.steer
                    .decisions
                    .iter()
                    .rev()
                    .copied()
                    .find(|&d| d <= back)
                    .unwrap_or(back)
            }
            Scrub::Back(n) => from.saturating_sub(n),
            Scrub::Forward(n) => from.saturating_add(n).min(limit),
            Scrub::Start => 0,
            Scrub::End => known.max(from),
        };
        // One step on in a live scheduled run is the run's own next step
        // (at its last known step, that step brings its end).
        if to == Scrub::Forward(1) && !playing && !over && self.steer.seek.is_none() {
            return self.step();
        }
        if target == from && to != Scrub::End {
            return match to {
                Scrub::Back(_) | Scrub::Start => {
                    self.warn(format!("at step {from}, the start: ] or }} go forward"))
                }
                _ if playing => self.warn(format!(
                    "step {from} is the last known: pick the next one (1–9)"
                )),
                _ => self.warn(format!(
                    "step {from} is the last: the run ended there ([ goes back, r runs it again)"
                )),
            };
        }
        // To the end of a run that ended: there, let it end as it did
        // (verdict and all).
        let finish = to == Scrub::End && !playing && self.steer.ended_at == Some(target);
        if to == Scrub::End && target == from {
            if finish && !over {
                // Standing at the last step: go on, and the run ends as it did.
                self.paused = false;
                self.info(format!(
                    "step {from} is the last: the run goes on to its end"
                ));
                return Action::SetPaused(false);
            }
            return self.warn(format!("already at step {from}, the last known"));
        }
        self.steer.plan_seek(target, finish);
        self.paused = !playing && !finish;
        if target == 0 {
            self.restart_view();
        }
        let total = self.steer.total(target);
        let text = if playing && target < from {
            format!("back to step {target} of {total}: pick from here (] redoes, u undoes)")
        } else if playing {
            format!("on to step {target} of {total}: pick from there ([ goes back)")
        } else if finish {
            format!("to step {target}, the end ([ ] ±1 · {{ }} ±10 · ( ) ±100 · g start)")
        } else {
            format!(
                "step {target} of {total}, paused ([ ] ±1 · {{ }} ±10 · ( ) ±100 · g G start/end)"
            )
        };
        self.info(text);
        Action::StartRun
    }

    /// `u`: undo the learner's last pick (forced steps after it come back
    /// by themselves); outside play mode, one step back.
    pub(super) fn undo(&mut self) -> Action {
        if self.steer.mode != Mode::Play {
            if self.steer.mode == Mode::Scheduled && self.lesson.is_some() {
                return self.scrub(Scrub::Back(1));
            }
            return self.warn("u undoes a pick while you play the scheduler (p)".to_owned());
        }
        let from = self.steer.seek.unwrap_or_else(|| self.step_now());
        while self.steer.picks.last().is_some_and(|&p| p > from) {
            self.steer.picks.pop();
        }
        let Some(pick) = self.steer.picks.pop() else {
            if from == 0 {
                return self.warn("nothing to undo: no step has been taken".to_owned());
            }
            return self.scrub(Scrub::Back(1));
        };
        let target = pick - 1;
        self.steer.plan_seek(target, true);
        self.paused = false;
        if target == 0 {
            self.restart_view();
        }
        self.info(format!(
            "undid your pick of step {pick}: pick again (] redoes it)"
        ));
        Action::StartRun
    }

    /// Digits and Enter while playing: run that pick as the next step.
    pub(super) fn pick(&mut self, index: Option<usize>) -> Action {
        if self.steer.mode != Mode::Play {
            return self.warn(
                "digits pick the next step while you play the scheduler: p starts".to_owned(),
            );
        }
        if self.steer.seek.is_some() {
            return self.warn("a moment: the run is going to its step".to_owned());
        }
        if self.run_over() {
            return self
                .warn("the run is over: u undoes your last pick, r starts again".to_owned());
        }
        let awaiting = self
            .lesson
            .as_ref()
            .and_then(|v| v.live.snapshot.as_ref())
            .and_then(|s| s.schedule.as_ref())
            .is_some_and(|s| s.awaiting_choice);
        let pickable: Vec<(String, Choice)> = self
            .steer
            .pickable()
            .map(|(op, c)| (op.worker.clone(), c))
            .collect();
        let index = index.unwrap_or(self.steer.cursor);
        let Some((worker, choice)) = pickable.get(index).cloned() else {
            let count = pickable.len();
            return self.warn(match count {
                0 => "nobody can go now: wait for the clock".to_owned(),
                1 => "only 1 can go now: press 1".to_owned(),
                n => format!("only {n} can go now: press 1–{}", n.min(9)),
            });
        };
        if !awaiting {
            return self.warn(
                "not yet: the run moves by itself (one way to go, or the clock runs)".to_owned(),
            );
        }
        let step = self.step_now();
        let at = usize::try_from(step).unwrap_or(usize::MAX);
        if self.steer.known.get(at) != Some(&choice) {
            // Another future than the known one.
            self.steer.known.truncate(at);
            self.steer.words.truncate(at);
            self.steer.verdict_at = None;
            self.steer.ended_at = None;
        }
        self.steer.picks.retain(|&p| p <= step);
        self.steer.picks.push(step + 1);
        self.steer.decisions.retain(|&d| d <= step);
        self.info(format!("step {}: {worker} goes (u undoes)", step + 1));
        Action::Choose(choice)
    }

    /// ↑ ↓ in the play panel.
    pub(super) fn move_cursor(&mut self, down: bool) -> Action {
        let count = self.steer.pickable().count();
        if count == 0 {
            return Action::None;
        }
        self.steer.cursor = if down {
            (self.steer.cursor + 1).min(count - 1)
        } else {
            self.steer.cursor.saturating_sub(1)
        };
        Action::None
    }

    /// `c` / `C`: the next or previous challenge of the lesson, opened in
    /// play mode on its variant and knobs.
    pub(super) fn cycle_challenge(&mut self, forward: bool) -> Action {
        let Some(view) = self.lesson.as_ref() else {
            return Action::None;
        };
        let lesson = view.lesson;
        let challenges: &'static [Challenge] = lesson.challenges;
        let n = challenges.len();
        if n == 0 {
            return self.warn(format!(
                "no challenge for this lesson yet (p plays the scheduler freely on {})",
                view.variant.name
            ));
        }
        let open = self.challenge().map(|(i, _)| i);
        let i = match (open, forward) {
            (None, true) => 0,
            (None, false) => n - 1,
            (Some(i), true) => (i + 1) % n,
            (Some(i), false) => (i + n - 1) % n,
        };
        let challenge = &challenges[i];
        let Some(variant) = lesson.variant(challenge.variant) else {
            return self.warn(format!(
                "challenge {} runs variant `{}`, which this lesson does not have",
                i + 1,
                challenge.variant
            ));
        };
        if let Some(view) = self.lesson.as_mut() {
            view.variant = variant;
            view.knobs = challenge.knobs;
        }
        self.steer.mode = Mode::Play;
        self.steer.challenge = Some(i);
        self.steer.reached = None;
        self.steer.hint = false;
        let _ = self.new_world();
        self.restart_view();
        self.paused = false;
        self.info(format!(
            "challenge {}/{n}: {} — you pick each step (h hint)",
            i + 1,
            challenge.title
        ));
        Action::StartRun
    }

    /// `h`: the open challenge's hint, shown or hidden.
    pub(super) fn toggle_hint(&mut self) -> Action {
        if let Some((_, challenge)) = self.challenge() {
            self.steer.hint = !self.steer.hint;
            if self.steer.hint {
                self.info(format!("hint: {}", challenge.hint));
            } else {
                self.info("hint hidden (h shows it)".to_owned());
            }
            return Action::None;
        }
        let has = self
            .lesson_label()
            .is_some_and(|l| !l.challenges.is_empty());
        if has {
            self.warn("h shows a challenge's hint: c opens one".to_owned())
        } else {
            self.warn("no challenge for this lesson yet, so no hint".to_owned())
        }
    }
}
