//! The TUI's state, with no terminal in sight: keys, snapshots and run
//! reports go in; [`Action`]s for the event loop come out. Everything here
//! is testable by calling the `on_*` functions.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use ratatui::layout::Rect;
use ratatui::text::Text;

use unicode_width::UnicodeWidthStr;

use super::flow::FlowLinks;
use super::flow::arrange;
use super::layout::{self, HeadRows, LessonLayout, MIN_HEIGHT, MIN_WIDTH, TEXT_SHARES, TextPane};
use super::log::{self, EventFilter, EventLog};
use super::markdown;
use super::occupancy::{Occupancy, plottable};
use super::run_view;
use super::steer::{Mode, Scrub, Steering};
use super::theme::Theme;
use crate::lab::{Choice, Config, Event, EventBatch, Report, Schedule, Snapshot, Verdict};
use crate::lessons::{Knobs, Lesson, Outcome, Variant};

/// Speeds the `+`/`-` keys step through.
pub const SPEEDS: [f64; 9] = [0.1, 0.2, 0.5, 1.0, 2.0, 3.0, 5.0, 7.5, 10.0];
/// Slowest speed offered.
pub const MIN_SPEED: f64 = 0.1;
/// Fastest speed offered.
pub const MAX_SPEED: f64 = 10.0;
/// Events kept for the event pane.
const EVENTS_KEPT: usize = 1000;
/// Throughput samples kept (one per frame).
const THROUGHPUT_KEPT: usize = 512;
/// Columns ← and → move the lesson's code blocks sideways.
const CODE_STEP: usize = 8;
/// Most rows the variants' summary may wrap into.
const INFO_ROWS_MAX: u16 = 2;

/// Which screen is showing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    /// The numbered lessons.
    List,
    /// One lesson: its text and its live run.
    Lesson,
}

/// Which pane the arrows and page keys scroll.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    /// The lesson text.
    Text,
    /// The live run (its event log).
    Run,
}

/// What the event loop must do after a key.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Action {
    /// Nothing beyond redrawing.
    None,
    /// Leave the TUI.
    Quit,
    /// Stop any run and start [`App::run_request`].
    StartRun,
    /// Stop the run (back to the list).
    StopRun,
    /// Close or open the run's pacing gate.
    SetPaused(bool),
    /// Let one lab operation through.
    Step,
    /// Change the run's speed factor.
    SetSpeed(f64),
    /// Play the scheduler: run this pick as the next step.
    Choose(Choice),
}

/// Everything needed to start a run.
#[derive(Debug, Clone)]
pub struct RunRequest {
    /// The lesson.
    pub lesson: &'static Lesson,
    /// The variant.
    pub variant: &'static Variant,
    /// The knobs.
    pub knobs: Knobs,
    /// The speed factor.
    pub speed: f64,
    /// Start with the gate closed (a paused run stays paused on restart).
    pub paused: bool,
    /// The schedule (`None`: free, on OS threads). With `pause_at` it is a
    /// rewind: the run re-executes its prefix unpaced to that step and
    /// stands still there, and the view shows it only then.
    pub schedule: Option<Schedule>,
    /// Once the rewind stands still at its step, let the run go on (while
    /// playing the scheduler: the learner's pick comes next).
    pub resume_when_still: bool,
}

impl RunRequest {
    /// The lab configuration for this run: its speed, pause and schedule
    /// (paced to the wall clock, each step kept in words for the scrub
    /// bar), and every item that moves and every wait logged, since the
    /// event log shows the data as well as the waits.
    #[must_use]
    pub fn config(&self) -> Config {
        let scheduled = self.schedule.is_some();
        Config {
            speed: self.speed,
            start_paused: self.paused,
            log_items: true,
            log_waits: true,
            schedule: self.schedule.clone(),
            realtime: scheduled,
            describe_steps: scheduled,
            ..Config::default()
        }
    }

    /// True for a rewind: the view waits until the run stands still at
    /// its step before it shows it.
    #[must_use]
    pub fn seeks(&self) -> bool {
        self.schedule.as_ref().is_some_and(|s| s.pause_at.is_some())
    }
}

/// A message in the status line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// The text.
    pub text: String,
    /// True for a warning (a refused key), false for news.
    pub warning: bool,
}

/// How a run ended.
#[derive(Debug, Clone)]
pub struct Finished {
    /// What the lesson's main returned (`None` if it never returned).
    pub outcome: Option<Outcome>,
    /// The verdict, if the run broke.
    pub verdict: Option<Verdict>,
    /// Workers that would not stop and were left behind.
    pub unstoppable: Vec<String>,
    /// True when the run was stopped on request.
    pub stopped: bool,
}

/// What the view knows of the current run.
#[derive(Debug, Clone, Default)]
pub struct LiveView {
    /// The latest snapshot (the final one once the run is over).
    pub snapshot: Option<Snapshot>,
    /// Recent events, oldest first.
    pub events: VecDeque<Event>,
    /// The events as the pane lists them, per filter, waits folded.
    pub log: EventLog,
    /// Events that scrolled out of the lab's ring before they were read.
    pub events_missed: u64,
    /// Messages received per frame, oldest first.
    pub throughput: VecDeque<u64>,
    /// Messages received per second over the last second.
    pub rate: f64,
    /// The fullest each channel has been, for unbounded channels' bars.
    pub peaks: HashMap<String, usize>,
    /// How full each channel has been over the run, for the plot.
    pub occupancy: Occupancy,
    /// True once the run has shown an unbounded channel: the plot shows
    /// itself unless the learner chose otherwise.
    pub has_unbounded: bool,
    /// Set once the run is over.
    pub finished: Option<Finished>,
    last_received: Option<u64>,
    rate_window: VecDeque<(Duration, u64)>,
}

impl LiveView {
    /// The verdict, from the report once there is one, else from the lab.
    #[must_use]
    pub fn verdict(&self) -> Option<&Verdict> {
        match &self.finished {
            Some(f) => f.verdict.as_ref(),
            None => self.snapshot.as_ref().and_then(|s| s.verdict.as_ref()),
        }
    }

    fn absorb(&mut self, snapshot: &Snapshot, batch: EventBatch) {
        self.events_missed += batch.skipped;
        for event in &batch.events {
            self.log.push(event);
        }
        self.events.extend(batch.events);
        while self.events.len() > EVENTS_KEPT {
            self.events.pop_front();
        }
        let received = snapshot.totals.received;
        let delta = received.saturating_sub(self.last_received.unwrap_or(received));
        self.last_received = Some(received);
        self.throughput.push_back(delta);
        while self.throughput.len() > THROUGHPUT_KEPT {
            self.throughput.pop_front();
        }
        self.rate_window.push_back((snapshot.elapsed, received));
        while self
            .rate_window
            .front()
            .is_some_and(|(at, _)| snapshot.elapsed.saturating_sub(*at) > Duration::from_secs(1))
        {
            self.rate_window.pop_front();
        }
        self.rate = match (self.rate_window.front(), self.rate_window.back()) {
            (Some(&(t0, r0)), Some(&(t1, r1))) if t1 > t0 => {
                r1.saturating_sub(r0) as f64 / t1.saturating_sub(t0).as_secs_f64()
            }
            _ => 0.0,
        };
        for channel in &snapshot.channels {
            let peak = self.peaks.entry(channel.name.clone()).or_default();
            *peak = (*peak).max(channel.len);
        }
        self.occupancy.sample(snapshot);
        self.has_unbounded |= snapshot
            .channels
            .iter()
            .any(|c| plottable(c) && c.capacity.is_none());
    }
}

/// What the occupancy plot shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlotChoice {
    /// The learner's choice with `o`; `None`: shown in runs that have an
    /// unbounded channel (that is where occupancy is the story).
    pub chosen: Option<bool>,
    /// The one channel picked with `O`; `None`: the fullest few.
    pub channel: Option<String>,
}

/// One open lesson.
#[derive(Debug, Clone)]
pub struct LessonView {
    /// The lesson.
    pub lesson: &'static Lesson,
    /// The variant running.
    pub variant: &'static Variant,
    /// The knobs it runs with.
    pub knobs: Knobs,
    /// The lesson text, laid out for `readme_width`.
    pub readme: Text<'static>,
    /// The width the text was laid out for.
    pub readme_width: u16,
    /// The code shift the text was laid out for.
    pub readme_shift: u16,
    /// Rows the wrapped text takes.
    pub readme_rows: usize,
    /// First text row shown.
    pub text_scroll: usize,
    /// Event-log entries hidden below the event pane (0 = follow the newest).
    pub events_scroll: usize,
    /// Which events the pane lists.
    pub events_filter: EventFilter,
    /// Columns the lesson's code blocks are moved left by (← and →).
    pub code_shift: usize,
    /// The widest code line of the lesson text, in columns.
    pub code_width: usize,
    /// The current run.
    pub live: LiveView,
    /// What the occupancy plot shows.
    pub plot: PlotChoice,
    links: HashMap<&'static str, FlowLinks>,
}

impl LessonView {
    /// True when the occupancy plot is on screen: as the learner chose,
    /// else when the run has an unbounded channel.
    #[must_use]
    pub fn plot_shown(&self) -> bool {
        self.plot.chosen.unwrap_or(self.live.has_unbounded)
    }

    /// What the view learned of the active variant's data flow.
    #[must_use]
    pub fn links(&self) -> Option<&FlowLinks> {
        self.links.get(self.variant.name)
    }

    fn variant_index(&self) -> usize {
        self.lesson
            .variants
            .iter()
            .position(|v| std::ptr::eq(v, self.variant))
            .unwrap_or(0)
    }
}

/// The whole TUI state.
#[derive(Debug, Clone)]
pub struct App {
    lessons: &'static [&'static Lesson],
    screen: Screen,
    selected: usize,
    pub(super) lesson: Option<LessonView>,
    help: bool,
    help_scroll: usize,
    focus: Focus,
    status: Option<Status>,
    theme: Theme,
    size: Rect,
    speed: f64,
    pub(super) paused: bool,
    quit: bool,
    text_pane: TextPane,
    /// The learner's `o` choice, kept for the next lesson opened.
    plot_chosen: Option<bool>,
    pub(super) steer: Steering,
}

impl App {
    /// A TUI on the lesson list.
    #[must_use]
    pub fn new(lessons: &'static [&'static Lesson], theme: Theme) -> Self {
        Self {
            lessons,
            screen: Screen::List,
            selected: 0,
            lesson: None,
            help: false,
            help_scroll: 0,
            focus: Focus::Text,
            status: None,
            theme,
            size: Rect::new(0, 0, MIN_WIDTH, MIN_HEIGHT),
            speed: 1.0,
            paused: false,
            quit: false,
            text_pane: TextPane::default(),
            plot_chosen: None,
            steer: Steering::default(),
        }
    }

    /// Sets the speed the next run starts at (clamped to 0.1–10).
    #[must_use]
    pub fn with_speed(mut self, speed: f64) -> Self {
        self.speed = clamp_speed(speed);
        self
    }

    /// The lessons listed.
    #[must_use]
    pub fn lessons(&self) -> &'static [&'static Lesson] {
        self.lessons
    }

    /// The screen showing.
    #[must_use]
    pub fn screen(&self) -> Screen {
        self.screen
    }

    /// The lesson highlighted in the list.
    #[must_use]
    pub fn selected(&self) -> usize {
        self.selected
    }

    /// The open lesson, if any.
    #[must_use]
    pub fn lesson(&self) -> Option<&LessonView> {
        self.lesson.as_ref()
    }

    /// True while the help overlay shows.
    #[must_use]
    pub fn help(&self) -> bool {
        self.help
    }

    /// Rows the help overlay is scrolled down by.
    #[must_use]
    pub fn help_scroll(&self) -> usize {
        self.help_scroll
    }

    /// The pane the arrows scroll.
    #[must_use]
    pub fn focus(&self) -> Focus {
        self.focus
    }

    /// The status line's message.
    #[must_use]
    pub fn status(&self) -> Option<&Status> {
        self.status.as_ref()
    }

    /// Colours or not.
    #[must_use]
    pub fn theme(&self) -> Theme {
        self.theme
    }

    /// The terminal's size as last reported.
    #[must_use]
    pub fn size(&self) -> Rect {
        self.size
    }

    /// The speed factor runs use.
    #[must_use]
    pub fn speed(&self) -> f64 {
        self.speed
    }

    /// True when the learner paused the run.
    #[must_use]
    pub fn paused(&self) -> bool {
        self.paused
    }

    /// True once the learner asked to leave.
    #[must_use]
    pub fn should_quit(&self) -> bool {
        self.quit
    }

    /// How wide the lesson text is, or whether it is hidden.
    #[must_use]
    pub fn text_pane(&self) -> TextPane {
        self.text_pane
    }

    /// The left pane as laid out: while playing the scheduler it holds the
    /// play panel, which is never hidden.
    fn left_pane(&self) -> TextPane {
        if self.steer.mode == Mode::Play {
            TextPane {
                hidden: false,
                ..self.text_pane
            }
        } else {
            self.text_pane
        }
    }

    /// Where each part of the lesson view goes in `area`: the header rows
    /// wrap rather than cut, so their height depends on what they say.
    #[must_use]
    pub fn layout(&self, area: Rect) -> LessonLayout {
        self.layout_for(self.lesson.as_ref(), area)
    }

    /// The layout with `view` open (it may be out of `self` while it is
    /// being changed).
    fn layout_for(&self, view: Option<&LessonView>, area: Rect) -> LessonLayout {
        let rows = view.map_or_else(HeadRows::default, |view| self.head_rows(view, area.width));
        layout::lesson_layout(area, rows, self.left_pane())
    }

    fn head_rows(&self, view: &LessonView, width: u16) -> HeadRows {
        let labels = variant_labels(view.lesson);
        let variants = u16::try_from(layout::variant_rows(&labels, width).len()).unwrap_or(1);
        // Up to three rows: with more variants than that the bar scrolls.
        let variants = variants.clamp(1, 3);
        let info = u16::try_from(log::wrap(&variant_info(view), usize::from(width), 1).len())
            .unwrap_or(1)
            .clamp(1, INFO_ROWS_MAX);
        let knobs = knobs_text(&view.knobs, self.speed).width();
        let message = self.status.as_ref().map_or(0, |s| s.text.width() + 1);
        let status = if message + 1 + knobs <= usize::from(width) {
            1
        } else {
            2
        };
        // The scrub bar and the step in words, for runs that have steps.
        let timeline = if self.steer.mode == Mode::Free { 0 } else { 2 };
        HeadRows {
            variants,
            info,
            status,
            timeline,
        }
    }

    /// What to run now, if a lesson is open.
    #[must_use]
    pub fn run_request(&self) -> Option<RunRequest> {
        let view = self.lesson.as_ref()?;
        let plan = &self.steer.plan;
        Some(RunRequest {
            lesson: view.lesson,
            variant: view.variant,
            knobs: view.knobs,
            speed: self.speed,
            paused: plan.paused.unwrap_or(self.paused),
            schedule: plan.schedule.clone(),
            resume_when_still: plan.resume,
        })
    }

    /// Opens a lesson (its correct variant and default knobs unless given)
    /// and asks for its run.
    pub fn open_lesson(
        &mut self,
        lesson: &'static Lesson,
        variant: Option<&'static Variant>,
        knobs: Option<Knobs>,
    ) -> Action {
        if let Some(i) = self.lessons.iter().position(|l| std::ptr::eq(*l, lesson)) {
            self.selected = i;
        }
        let view = LessonView {
            lesson,
            variant: variant.unwrap_or_else(|| lesson.correct()),
            knobs: knobs.unwrap_or(lesson.defaults),
            readme: Text::default(),
            readme_width: 0,
            readme_shift: 0,
            readme_rows: 0,
            text_scroll: 0,
            events_scroll: 0,
            events_filter: EventFilter::default(),
            code_shift: 0,
            code_width: 0,
            live: LiveView::default(),
            plot: PlotChoice {
                chosen: self.plot_chosen,
                channel: None,
            },
            links: HashMap::new(),
        };
        self.lesson = Some(view);
        self.plan_opened();
        if self.steer.mode == Mode::Play {
            self.paused = false;
        }
        if let Some(mut view) = self.lesson.take() {
            self.layout_readme(&mut view);
            self.lesson = Some(view);
        }
        self.screen = Screen::Lesson;
        self.focus = if self.left_pane().hidden {
            Focus::Run
        } else {
            Focus::Text
        };
        self.status = None;
        if let Some(k) = self.steer.seek {
            self.info(format!("replaying the recorded schedule to step {k}…"));
        } else if self.paused {
            // The run starts with the gate closed, as a restart does; a
            // learner who paused an earlier lesson would see nothing move.
            self.info("the run starts paused (space resumes, s steps)".to_owned());
        }
        Action::StartRun
    }

    /// The terminal changed size: the lesson text is laid out again.
    pub fn on_resize(&mut self, width: u16, height: u16) {
        self.size = Rect::new(0, 0, width, height);
        self.relayout();
    }

    /// Lays the lesson text out for the current pane and keeps the event
    /// pane's scroll within what it can show.
    fn relayout(&mut self) {
        if let Some(mut view) = self.lesson.take() {
            self.layout_readme(&mut view);
            let max = self.max_events_scroll(&view);
            view.events_scroll = view.events_scroll.min(max);
            self.lesson = Some(view);
        }
    }

    fn readme_pane(&self, view: &LessonView) -> Rect {
        layout::inner(self.layout_for(Some(view), self.size).readme)
    }

    /// Lays the lesson text out again when its pane's width or the code's
    /// sideways shift changed.
    fn layout_readme(&self, view: &mut LessonView) {
        let width = self.readme_pane(view).width.max(1);
        let max_shift = view.code_width.saturating_sub(usize::from(width));
        view.code_shift = view.code_shift.min(max_shift);
        let shift = u16::try_from(view.code_shift).unwrap_or(u16::MAX);
        if view.readme_width != width || view.readme_shift != shift {
            let laid = markdown::readme_text(view.lesson.text(), width, shift, self.theme);
            view.readme_rows = markdown::wrapped_rows(&laid.text, width);
            view.readme = laid.text;
            view.code_width = laid.code_width;
            view.readme_width = width;
            view.readme_shift = shift;
        }
        view.text_scroll = view.text_scroll.min(self.max_text_scroll(view));
    }

    fn max_text_scroll(&self, view: &LessonView) -> usize {
        view.readme_rows
            .saturating_sub(usize::from(self.readme_pane(view).height))
    }

    /// A new snapshot of the run, with the events since the last one.
    pub fn on_snapshot(&mut self, snapshot: Snapshot, batch: EventBatch) {
        self.seek_arrived();
        let Some(view) = self.lesson.as_mut() else {
            return;
        };
        let links = view.links.entry(view.variant.name).or_default();
        for event in &batch.events {
            links.learn_event(&event.kind);
        }
        links.learn_snapshot(&snapshot);
        view.live.absorb(&snapshot, batch);
        if view.live.finished.is_none() {
            self.paused = snapshot.paused;
        }
        view.live.snapshot = Some(snapshot);
        self.after_picture(false);
        self.clamp_events_scroll();
    }

    /// A verdict banner or a report takes rows from the event pane: a pane
    /// scrolled back keeps within what it can now show.
    fn clamp_events_scroll(&mut self) {
        if self.lesson.as_ref().is_some_and(|v| v.events_scroll > 0) {
            self.relayout();
        }
    }

    /// The run ended: keep its final snapshot, outcome and verdict on screen.
    pub fn on_finished(&mut self, report: Report<Outcome>, batch: EventBatch) {
        self.seek_arrived();
        if let Some(trace) = &report.trace {
            self.on_trace(trace);
        }
        let Some(view) = self.lesson.as_mut() else {
            return;
        };
        let Report {
            outcome,
            verdict,
            unstoppable,
            stopped,
            snapshot,
            trace: _,
        } = report;
        let links = view.links.entry(view.variant.name).or_default();
        for event in &batch.events {
            links.learn_event(&event.kind);
        }
        links.learn_snapshot(&snapshot);
        view.live.absorb(&snapshot, batch);
        view.live.snapshot = Some(snapshot);
        view.live.finished = Some(Finished {
            outcome,
            verdict,
            unstoppable,
            stopped,
        });
        self.after_picture(!stopped);
        self.clamp_events_scroll();
    }

    /// One key press.
    pub fn on_key(&mut self, key: KeyEvent) -> Action {
        if key.kind == KeyEventKind::Release {
            return Action::None;
        }
        if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
            self.quit = true;
            return Action::Quit;
        }
        if self.help {
            return self.on_help_key(key.code);
        }
        if key.code == KeyCode::Char('?') {
            self.help = true;
            self.help_scroll = 0;
            return Action::None;
        }
        match self.screen {
            Screen::List => self.on_list_key(key.code),
            Screen::Lesson => self.on_lesson_key(key.code),
        }
    }

    /// Keys while the help shows: it scrolls (it is taller than a small
    /// terminal) and closes; nothing else happens meanwhile.
    fn on_help_key(&mut self, code: KeyCode) -> Action {
        let max = super::help::max_scroll(self, self.size);
        let page = usize::from(self.size.height.saturating_sub(4)).max(1);
        self.help_scroll = match code {
            KeyCode::Char('?' | 'q') | KeyCode::Esc | KeyCode::Enter => {
                self.help = false;
                0
            }
            KeyCode::Up | KeyCode::Char('k') => self.help_scroll.saturating_sub(1),
            KeyCode::Down | KeyCode::Char('j') => self.help_scroll + 1,
            KeyCode::PageUp => self.help_scroll.saturating_sub(page),
            KeyCode::PageDown | KeyCode::Char(' ') => self.help_scroll + page,
            KeyCode::Home => 0,
            KeyCode::End => max,
            _ => self.help_scroll,
        }
        .min(max);
        Action::None
    }

    fn on_list_key(&mut self, code: KeyCode) -> Action {
        let count = self.lessons.len();
        match code {
            KeyCode::Char('q') | KeyCode::Esc => {
                self.quit = true;
                Action::Quit
            }
            KeyCode::Up | KeyCode::Char('k') => {
                self.selected = self.selected.saturating_sub(1);
                Action::None
            }
            KeyCode::Down | KeyCode::Char('j') => {
                self.selected = (self.selected + 1).min(count.saturating_sub(1));
                Action::None
            }
            KeyCode::Home => {
                self.selected = 0;
                Action::None
            }
            KeyCode::End => {
                self.selected = count.saturating_sub(1);
                Action::None
            }
            KeyCode::Enter => match self.lessons.get(self.selected) {
                Some(lesson) => self.open_lesson(lesson, None, None),
                None => Action::None,
            },
            KeyCode::Char(c @ '1'..='9') => {
                let number = c as u8 - b'0';
                match self.lessons.iter().find(|l| l.number == number) {
                    Some(lesson) => self.open_lesson(lesson, None, None),
                    None => self.warn(format!("no lesson {number}")),
                }
            }
            _ => Action::None,
        }
    }

    fn on_lesson_key(&mut self, code: KeyCode) -> Action {
        match code {
            KeyCode::Char('q') | KeyCode::Esc => {
                self.lesson = None;
                self.screen = Screen::List;
                self.status = None;
                Action::StopRun
            }
            KeyCode::Char(' ') => self.toggle_pause(),
            KeyCode::Char('s') => self.step(),
            KeyCode::Char('+' | '=') => self.change_speed(true),
            KeyCode::Char('-' | '_') => self.change_speed(false),
            KeyCode::Char('t') => self.cycle_variant(true),
            KeyCode::Char('T') => self.cycle_variant(false),
            KeyCode::Char('r') => {
                self.restart_view();
                self.plan_restart();
                let text = match self.steer.mode {
                    Mode::Scheduled => format!(
                        "{}, {} again: the same run",
                        self.restarted(),
                        self.steer.describe_seed()
                    ),
                    Mode::Play => "run restarted: you pick from step 0 (] redoes)".to_owned(),
                    Mode::Free => self.restarted().to_owned(),
                };
                self.info(text);
                Action::StartRun
            }
            KeyCode::Char('[') => self.scrub(Scrub::Back(1)),
            KeyCode::Char(']') => self.scrub(Scrub::Forward(1)),
            KeyCode::Char('{') => self.scrub(Scrub::Back(10)),
            KeyCode::Char('}') => self.scrub(Scrub::Forward(10)),
            KeyCode::Char('(') => self.scrub(Scrub::Back(100)),
            KeyCode::Char(')') => self.scrub(Scrub::Forward(100)),
            KeyCode::Char('g') => self.scrub(Scrub::Start),
            KeyCode::Char('G') => self.scrub(Scrub::End),
            KeyCode::Char('m') => self.toggle_free(),
            KeyCode::Char('n') => self.new_seed(),
            KeyCode::Char('p') => self.toggle_play(),
            KeyCode::Char('u') => self.undo(),
            KeyCode::Char('c') => self.cycle_challenge(true),
            KeyCode::Char('C') => self.cycle_challenge(false),
            KeyCode::Char('h') => self.toggle_hint(),
            KeyCode::Char(d @ '1'..='9') => self.pick(Some(usize::from(d as u8 - b'1'))),
            KeyCode::Enter if self.steer.mode == Mode::Play => self.pick(None),
            KeyCode::Up | KeyCode::Char('k') if self.picks_with_arrows() => self.move_cursor(false),
            KeyCode::Down | KeyCode::Char('j') if self.picks_with_arrows() => {
                self.move_cursor(true)
            }
            KeyCode::Char('w') => self.change_workers(false),
            KeyCode::Char('W') => self.change_workers(true),
            KeyCode::Char('b') => self.change_buffer(false),
            KeyCode::Char('B') => self.change_buffer(true),
            KeyCode::Char('f') => self.cycle_filter(true),
            KeyCode::Char('F') => self.cycle_filter(false),
            KeyCode::Char('<' | ',') => self.resize_text(false),
            KeyCode::Char('>' | '.') => self.resize_text(true),
            KeyCode::Char('l') => self.toggle_text(),
            KeyCode::Char('o') => self.toggle_plot(),
            KeyCode::Char('O') => self.cycle_plot_channel(),
            KeyCode::Tab | KeyCode::BackTab => self.toggle_focus(),
            KeyCode::Up | KeyCode::Char('k') => self.scroll(Scroll::Back(1)),
            KeyCode::Down | KeyCode::Char('j') => self.scroll(Scroll::Forward(1)),
            KeyCode::PageUp => self.scroll(Scroll::Back(self.page())),
            KeyCode::PageDown => self.scroll(Scroll::Forward(self.page())),
            KeyCode::Home => self.scroll(Scroll::Start),
            KeyCode::End => self.scroll(Scroll::End),
            KeyCode::Left => self.shift_code(false),
            KeyCode::Right => self.shift_code(true),
            _ => Action::None,
        }
    }

    /// While playing with the play panel focused, ↑ ↓ choose a pick.
    fn picks_with_arrows(&self) -> bool {
        self.steer.mode == Mode::Play && self.focus == Focus::Text
    }

    fn toggle_focus(&mut self) -> Action {
        if self.left_pane().hidden {
            self.focus = Focus::Run;
            return self.warn("the lesson text is hidden: l shows it".to_owned());
        }
        self.focus = match self.focus {
            Focus::Text => Focus::Run,
            Focus::Run => Focus::Text,
        };
        Action::None
    }

    /// `f` / `F`: the next or previous event filter; the pane follows the
    /// newest line again, since the old position means nothing in the new list.
    fn cycle_filter(&mut self, forward: bool) -> Action {
        let Some(view) = self.lesson.as_mut() else {
            return Action::None;
        };
        view.events_filter = view.events_filter.cycled(forward);
        view.events_scroll = 0;
        let text = format!(
            "events: {} (f cycles all · items · waits · verdicts)",
            view.events_filter.label()
        );
        self.info(text);
        Action::None
    }

    /// `<` / `>`: the lesson text a step narrower or wider (shown again if
    /// hidden).
    fn resize_text(&mut self, wider: bool) -> Action {
        let pane = self.text_pane;
        let width = self.size.width;
        let share = if pane.hidden {
            pane.share
        } else if wider {
            (pane.share + 1).min(TEXT_SHARES.len() - 1)
        } else {
            pane.share.saturating_sub(1)
        };
        let next = TextPane {
            share,
            hidden: false,
        };
        if !pane.hidden && next.width(width) == pane.width(width) {
            let edge = if wider { "widest" } else { "narrowest" };
            return self.warn(format!(
                "the lesson text is as {edge} as it goes at this size (l hides it)"
            ));
        }
        self.text_pane = next;
        self.info(format!(
            "lesson text {} columns (< > resize, l hides)",
            next.width(width)
        ));
        self.relayout();
        Action::None
    }

    /// `l`: hides the lesson text, giving the run the whole width, or shows
    /// it again.
    fn toggle_text(&mut self) -> Action {
        if self.steer.mode == Mode::Play {
            return self.warn("the play panel stays while you play (p stops playing)".to_owned());
        }
        self.text_pane.hidden = !self.text_pane.hidden;
        if self.text_pane.hidden {
            self.focus = Focus::Run;
            self.info("lesson text hidden (l shows it)".to_owned());
        } else {
            self.info("lesson text shown (l hides it, < > resize)".to_owned());
        }
        self.relayout();
        Action::None
    }

    /// `o`: shows or hides the occupancy plot (it takes rows from the
    /// event log). The choice holds for the lessons opened after.
    fn toggle_plot(&mut self) -> Action {
        let Some(view) = self.lesson.as_mut() else {
            return Action::None;
        };
        let shown = !view.plot_shown();
        view.plot.chosen = Some(shown);
        self.plot_chosen = Some(shown);
        let text = if shown {
            "occupancy plot shown (o hides it, O: one channel at a time)"
        } else {
            "occupancy plot hidden (o shows it)"
        };
        self.info(text.to_owned());
        self.relayout();
        Action::None
    }

    /// `O`: the next channel for the plot, in the order the flow draws
    /// them, then the fullest few again. The channel lists scroll to the
    /// one picked, so a channel cut off at a small size can be reached.
    fn cycle_plot_channel(&mut self) -> Action {
        let Some(view) = self.lesson.as_mut() else {
            return Action::None;
        };
        let Some(snapshot) = view.live.snapshot.as_ref() else {
            return self.warn("no channels yet: the run is starting".to_owned());
        };
        let no_links = FlowLinks::default();
        let flow = arrange(snapshot, view.links().unwrap_or(&no_links));
        let names: Vec<String> = flow.channels().map(|c| c.name.clone()).collect();
        if names.is_empty() {
            return self.warn("this run has no channels (yet)".to_owned());
        }
        let next = match view.plot.channel.as_deref() {
            None => Some(0),
            Some(current) => match names.iter().position(|n| n == current) {
                Some(i) if i + 1 < names.len() => Some(i + 1),
                Some(_) => None,
                None => Some(0),
            },
        };
        view.plot.channel = next.map(|i| names[i].clone());
        let show = if view.plot_shown() {
            ""
        } else {
            ", o shows the plot"
        };
        let text = match next {
            Some(i) => format!(
                "plot: `{}`, channel {} of {} (O next{show})",
                names[i],
                i + 1,
                names.len()
            ),
            None => format!("plot: the fullest channels (O: one at a time{show})"),
        };
        self.info(text);
        self.relayout();
        Action::None
    }

    /// ← / →: moves the lesson's code blocks sideways, so a line wider
    /// than the pane can be read to its end instead of wrapping.
    /// They have no other use, so they work whichever pane has the focus.
    fn shift_code(&mut self, right: bool) -> Action {
        if self.left_pane().hidden || self.steer.mode == Mode::Play {
            return Action::None;
        }
        let Some(mut view) = self.lesson.take() else {
            return Action::None;
        };
        let shift = if right {
            view.code_shift.saturating_add(CODE_STEP)
        } else {
            view.code_shift.saturating_sub(CODE_STEP)
        };
        view.code_shift = shift;
        self.layout_readme(&mut view);
        self.lesson = Some(view);
        Action::None
    }

    pub(super) fn run_over(&self) -> bool {
        self.lesson
            .as_ref()
            .is_some_and(|v| v.live.finished.is_some())
    }

    fn toggle_pause(&mut self) -> Action {
        if let Some(refusal) = self.refuse_run_key() {
            return self.warn(refusal);
        }
        if self.run_over() {
            return self.warn("the run is over: r runs it again".to_owned());
        }
        self.paused = !self.paused;
        self.info(if self.paused { "paused" } else { "resumed" }.to_owned());
        Action::SetPaused(self.paused)
    }

    /// Why space and `s` do nothing now, if they do not: a run that is
    /// going to its step, or one the learner schedules.
    fn refuse_run_key(&self) -> Option<String> {
        if let Some(k) = self.steer.seek {
            return Some(format!("a moment: the run is going to step {k}"));
        }
        (self.steer.mode == Mode::Play && self.lesson.is_some()).then(|| {
            "you are the scheduler: the run waits for your pick (1–9), p hands back to the seed"
                .to_owned()
        })
    }

    pub(super) fn step(&mut self) -> Action {
        if let Some(refusal) = self.refuse_run_key() {
            return self.warn(refusal);
        }
        if self.run_over() {
            return self.warn("the run is over: r runs it again".to_owned());
        }
        if !self.paused {
            self.paused = true;
            let again = if self.steer.mode == Mode::Scheduled {
                "s or ] steps one, [ goes back"
            } else {
                "press s again to step one operation"
            };
            self.info(format!("paused: {again}"));
            return Action::SetPaused(true);
        }
        if self.steer.mode == Mode::Scheduled {
            // The scrub bar says what the step did once it is taken.
            let next = self.step_now() + 1;
            self.info(format!("on to step {next} (s or ] again, [ back)"));
        } else {
            self.info("stepped one operation".to_owned());
        }
        Action::Step
    }

    fn change_speed(&mut self, faster: bool) -> Action {
        let next = if faster {
            SPEEDS
                .iter()
                .copied()
                .find(|&s| s > self.speed + 1e-9)
                .unwrap_or(MAX_SPEED)
        } else {
            SPEEDS
                .iter()
                .rev()
                .copied()
                .find(|&s| s < self.speed - 1e-9)
                .unwrap_or(MIN_SPEED)
        };
        if (next - self.speed).abs() < 1e-9 {
            let edge = if faster { "fastest" } else { "slowest" };
            return self.warn(format!("speed {}× is the {edge}", format_speed(next)));
        }
        self.speed = next;
        self.info(format!("speed {}×", format_speed(next)));
        Action::SetSpeed(next)
    }

    fn cycle_variant(&mut self, forward: bool) -> Action {
        let restarted = self.restarted();
        let Some(view) = self.lesson.as_mut() else {
            return Action::None;
        };
        let count = view.lesson.variants.len();
        if count < 2 {
            return self.warn("this lesson has one variant".to_owned());
        }
        let i = view.variant_index();
        let next = if forward {
            (i + 1) % count
        } else {
            (i + count - 1) % count
        };
        view.variant = &view.lesson.variants[next];
        let text = format!(
            "variant {} {}: {restarted}",
            view.variant.kind.label(),
            view.variant.name
        );
        self.world_changed(text)
    }

    fn change_workers(&mut self, up: bool) -> Action {
        let restarted = self.restarted();
        let Some(view) = self.lesson.as_mut() else {
            return Action::None;
        };
        let range = view.lesson.ranges.workers.clone();
        let old = view.knobs.workers;
        let new = if up {
            old.saturating_add(1)
        } else {
            old.saturating_sub(1)
        };
        let new = new.clamp(*range.start(), *range.end());
        if new == old {
            let edge = if up { "maximum" } else { "minimum" };
            return self.warn(format!("workers already at the {edge} ({old})"));
        }
        view.knobs.workers = new;
        self.world_changed(format!("workers {old} → {new}: {restarted}"))
    }

    fn change_buffer(&mut self, up: bool) -> Action {
        let restarted = self.restarted();
        let Some(view) = self.lesson.as_mut() else {
            return Action::None;
        };
        let range = view.lesson.ranges.buffer.clone();
        let old = view.knobs.buffer;
        // One slot at a time while small (0 = rendezvous, 1, 2 ... matter),
        // doubling once larger.
        let new = match (up, old) {
            (true, v) if v < 8 => v + 1,
            (true, v) => v.saturating_mul(2),
            (false, v) if v <= 8 => v.saturating_sub(1),
            (false, v) => v / 2,
        };
        let new = new.clamp(*range.start(), *range.end());
        if new == old {
            let edge = if up { "maximum" } else { "minimum" };
            return self.warn(format!("buffer already at the {edge} ({old})"));
        }
        view.knobs.buffer = new;
        self.world_changed(format!("buffer {old} → {new}: {restarted}"))
    }

    /// Forgets the old run's picture (not what was learned of its flow).
    pub(super) fn restart_view(&mut self) {
        if let Some(view) = self.lesson.as_mut() {
            view.live = LiveView::default();
            view.events_scroll = 0;
        }
    }

    /// What PageUp/PageDown move: the focused pane's height, less a row
    /// kept for context.
    fn page(&self) -> usize {
        match self.focus {
            Focus::Text => self.lesson.as_ref().map_or(1, |view| {
                usize::from(self.readme_pane(view).height.saturating_sub(1)).max(1)
            }),
            Focus::Run => self
                .lesson
                .as_ref()
                .map_or(1, |view| usize::from(self.events_pane(view).height))
                .saturating_sub(1)
                .max(1),
        }
    }

    /// The rows the event log's lines are drawn in.
    fn events_pane(&self, view: &LessonView) -> Rect {
        run_view::events_list_area(view, self.theme, self.layout_for(Some(view), self.size).run)
    }

    /// How far back the event pane may scroll: until its oldest line is at
    /// the top, with the pane still full.
    fn max_events_scroll(&self, view: &LessonView) -> usize {
        let pane = self.events_pane(view);
        let entries = run_view::LogEntries::new(view, self.theme);
        let width = usize::from(pane.width);
        log::max_scroll(entries.len(), usize::from(pane.height), |i| {
            entries.rows(i, width)
        })
    }

    fn scroll(&mut self, scroll: Scroll) -> Action {
        let Some(mut view) = self.lesson.take() else {
            return Action::None;
        };
        match self.focus {
            Focus::Text => {
                let max = self.max_text_scroll(&view);
                view.text_scroll = scroll.apply(view.text_scroll, max);
            }
            Focus::Run => {
                // The event pane counts back from the newest line.
                let max = self.max_events_scroll(&view);
                view.events_scroll = scroll.reversed().apply(view.events_scroll, max);
            }
        }
        self.lesson = Some(view);
        Action::None
    }

    /// What a restart says: a paused run restarts paused, and says how to go on.
    fn restarted(&self) -> &'static str {
        if self.paused && self.steer.mode != Mode::Play {
            "run restarted, paused (space resumes, s steps)"
        } else {
            "run restarted"
        }
    }

    /// Puts a warning in the status line from outside the key handling (the
    /// event loop refusing Ctrl-Z, say).
    pub fn warn_user(&mut self, text: String) {
        let _ = self.warn(text);
    }

    pub(super) fn info(&mut self, text: String) {
        self.status = Some(Status {
            text,
            warning: false,
        });
    }

    pub(super) fn warn(&mut self, text: String) -> Action {
        self.status = Some(Status {
            text,
            warning: true,
        });
        Action::None
    }
}

#[derive(Debug, Clone, Copy)]
enum Scroll {
    Back(usize),
    Forward(usize),
    Start,
    End,
}

impl Scroll {
    fn apply(self, at: usize, max: usize) -> usize {
        match self {
            Self::Back(n) => at.saturating_sub(n),
            Self::Forward(n) => at.saturating_add(n).min(max),
            Self::Start => 0,
            Self::End => max,
        }
    }

    /// For a pane measured from its bottom.
    fn reversed(self) -> Self {
        match self {
            Self::Back(n) => Self::Forward(n),
            Self::Forward(n) => Self::Back(n),
            Self::Start => Self::End,
            Self::End => Self::Start,
        }
    }
}

fn clamp_speed(speed: f64) -> f64 {
    if speed.is_finite() {
        speed.clamp(MIN_SPEED, MAX_SPEED)
    } else {
        1.0
    }
}

/// The variants' labels as the bar shows them: `correct`, `trap: leak`.
#[must_use]
pub fn variant_labels(lesson: &Lesson) -> Vec<String> {
    lesson.variants.iter().map(variant_label).collect()
}

/// `trap: leak`, or just `correct` for the correct variant.
#[must_use]
pub fn variant_label(v: &Variant) -> String {
    match v.kind {
        crate::lessons::VariantKind::Correct => v.name.to_owned(),
        kind => format!("{}: {}", kind.label(), v.name),
    }
}

/// What the active variant does: ` trap: the sink keeps its Receiver`.
#[must_use]
pub fn variant_info(view: &LessonView) -> String {
    format!(" {}: {}", view.variant.kind.label(), view.variant.summary)
}

/// The knobs as the status line shows them.
#[must_use]
pub fn knobs_text(knobs: &Knobs, speed: f64) -> String {
    format!(
        "items {} · workers {} · buffer {} · speed {}× ",
        knobs.items,
        knobs.workers,
        knobs.buffer,
        format_speed(speed)
    )
}

/// `0.5`, `1`, `7.5`: a speed without needless decimals.
#[must_use]
pub fn format_speed(speed: f64) -> String {
    let s = format!("{speed:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}
