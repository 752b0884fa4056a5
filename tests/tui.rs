//! The TUI without a terminal: keys change the state as described, and the
//! screens render as the committed snapshots show (ratatui's `TestBackend`,
//! buffers compared as text with insta).
//!
//! The rendering tests use a fixture lesson and hand-built snapshots, so
//! they do not move when the real lessons' texts are edited.

use std::time::{Duration, Instant};

use chanlab::lab::{
    ChannelKind, ChannelSnapshot, Choice, Event, EventBatch, EventKind, Lab, NextOp, Report,
    Schedule, ScheduleStatus, SleepReason, Snapshot, Strategy, StuckWorker, Totals, Trace, Verdict,
    WorkerSnapshot, WorkerState,
};
use chanlab::lessons::{
    self, Challenge, Expect, KnobRanges, Knobs, Lesson, Outcome, Variant, VariantKind,
};
use chanlab::tui::Mode;
use chanlab::tui::app::{Action, App, Focus, Screen};
use chanlab::tui::{Theme, ui};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::Color;

// ---------------------------------------------------------------- fixtures

const README: &str = "# 01 Pipeline

A pipeline is a chain of stages joined by channels. Each stage owns its
output and closes it when it has nothing more to send.

```text
generate --numbers--> square#1..N --squares--> filter --filtered--> sink
```

## Go and Rust

| Go | Rust |
|---|---|
| `close(out)` | drop the last `Sender` |
| `for v := range in` | `for v in rx` |

- each stage owns its output;
- **count your clones**: the last `Sender` drop is the close.
";

fn fixture_main(_: &Lab, _: &Variant, _: &Knobs) -> Outcome {
    Outcome::default()
}

static PIPELINE_VARIANTS: [Variant; 4] = [
    Variant {
        name: "correct",
        kind: VariantKind::Correct,
        summary: "every stage drops its Sender when done",
        explains: "each channel closes when its last Sender is dropped",
        fixed_by: None,
        expect: Expect::Clean,
    },
    Variant {
        name: "unclosed",
        kind: VariantKind::Trap,
        summary: "a spare clone of the `filtered` Sender is kept",
        explains: "one Sender stays alive, so `filtered` never closes: deadlock",
        fixed_by: Some("correct"),
        expect: Expect::Verdict("deadlock"),
    },
    Variant {
        name: "leak",
        kind: VariantKind::Trap,
        summary: "the sink keeps its Receiver without reading",
        explains: "upstream stages block on full channels: leak",
        fixed_by: Some("cancel"),
        expect: Expect::Verdict("leak"),
    },
    Variant {
        name: "cancel",
        kind: VariantKind::Fix,
        summary: "main closes `done`; every stage selects on it",
        explains: "closing `done` wakes every stage at once",
        fixed_by: None,
        expect: Expect::Clean,
    },
];

static PIPELINE: Lesson = Lesson {
    number: 1,
    slug: "pipeline",
    title: "Pipeline",
    summary: "generate → square → filter → sink; each stage closes its output",
    readme: README,
    variants: &PIPELINE_VARIANTS,
    defaults: Knobs {
        items: 20,
        buffer: 4,
        workers: 2,
        seed: 1,
    },
    ranges: KnobRanges {
        items: 2..=100,
        buffer: 0..=16,
        workers: 1..=3,
    },
    main: fixture_main,
    hidden_by: chanlab::lessons::never_hidden,
    challenges: &PIPELINE_CHALLENGES,
};

/// Two challenges, so that `c` has something to cycle through.
static PIPELINE_CHALLENGES: [Challenge; 2] = [
    Challenge {
        title: "fill `squares` to the brim before the sink has received a single item",
        hint: "run generate and the square workers; leave filter and sink waiting",
        variant: "correct",
        knobs: Knobs {
            items: 8,
            buffer: 2,
            workers: 2,
            seed: 1,
        },
        reached: squares_full,
    },
    Challenge {
        title: "fill `squares` while the sink sits on its Receiver",
        hint: "the leak trap's sink stops reading early",
        variant: "leak",
        knobs: Knobs {
            items: 20,
            buffer: 4,
            workers: 2,
            seed: 1,
        },
        reached: squares_full,
    },
];

fn squares_full(snapshot: &Snapshot, _: &[Event]) -> bool {
    snapshot
        .channels
        .iter()
        .any(|c| c.name == "squares" && c.capacity.is_some_and(|cap| c.len >= cap))
}

static FAN_VARIANTS: [Variant; 2] = [
    Variant {
        name: "correct",
        kind: VariantKind::Correct,
        summary: "workers share the jobs; a merger collects",
        explains: "the results channel closes after the last worker",
        fixed_by: None,
        expect: Expect::Clean,
    },
    Variant {
        name: "unordered",
        kind: VariantKind::Trap,
        summary: "results are printed as they come",
        explains: "fan-in does not keep order",
        fixed_by: None,
        expect: Expect::Broken,
    },
];

static FAN: Lesson = Lesson {
    number: 2,
    slug: "fan-out-fan-in",
    title: "Fan-out, fan-in",
    summary: "spread work over N workers, merge the results",
    readme: "# 02 Fan-out, fan-in\n\nSpread, then merge.\n",
    variants: &FAN_VARIANTS,
    defaults: Knobs {
        items: 20,
        buffer: 4,
        workers: 4,
        seed: 1,
    },
    ranges: KnobRanges {
        items: 2..=100,
        buffer: 0..=16,
        workers: 1..=16,
    },
    main: fixture_main,
    hidden_by: fan_hidden,
    challenges: &[],
};

/// The fixture's `unordered` trap cannot show with a single worker.
fn fan_hidden(variant: &Variant, knobs: &Knobs) -> Option<String> {
    (variant.name == "unordered" && knobs.workers == 1).then(|| {
        "hidden by these knobs: with --workers 1 one worker keeps the input order; \
         try --workers 2"
            .to_owned()
    })
}

static FIXTURE_CATALOG: &[&Lesson] = &[&PIPELINE, &FAN];

const fn trap(name: &'static str) -> Variant {
    Variant {
        name,
        kind: VariantKind::Trap,
        summary: "a classic bug",
        explains: "it breaks",
        fixed_by: None,
        expect: Expect::Verdict("deadlock"),
    }
}

static MANY_VARIANTS: [Variant; 7] = [
    Variant {
        name: "correct",
        kind: VariantKind::Correct,
        summary: "done right",
        explains: "it holds",
        fixed_by: None,
        expect: Expect::Clean,
    },
    trap("unbounded-buffer"),
    trap("slow-subscriber"),
    trap("forgotten-close"),
    trap("unordered-merge"),
    trap("double-close-panic"),
    trap("last-one-standing"),
];

static MANY: Lesson = Lesson {
    number: 5,
    slug: "broadcast",
    title: "Broadcast",
    summary: "one publisher, many subscribers",
    readme: "# 05 Broadcast\n",
    variants: &MANY_VARIANTS,
    defaults: Knobs {
        items: 20,
        buffer: 4,
        workers: 3,
        seed: 1,
    },
    ranges: KnobRanges {
        items: 2..=100,
        buffer: 0..=16,
        workers: 1..=8,
    },
    main: fixture_main,
    hidden_by: chanlab::lessons::never_hidden,
    challenges: &[],
};

/// The fixture catalog on free runs: the hand-built snapshots below are
/// free runs' pictures (no steps). Scheduled views have their own tests.
fn fixture_app() -> App {
    let mut app = App::new(FIXTURE_CATALOG, Theme::default()).with_launch(None, true);
    app.on_resize(120, 40);
    app
}

fn pipeline_app(variant: &str) -> App {
    let mut app = fixture_app();
    let action = app.open_lesson(&PIPELINE, PIPELINE.variant(variant), None);
    assert_eq!(action, Action::StartRun);
    app
}

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

fn press(app: &mut App, c: char) -> Action {
    app.on_key(key(KeyCode::Char(c)))
}

fn worker(id: usize, name: &str, state: WorkerState) -> WorkerSnapshot {
    WorkerSnapshot {
        id,
        name: name.to_owned(),
        stage: chanlab::lab::stage_of(name).to_owned(),
        state,
        ops: 0,
        external: false,
    }
}

fn channel(
    id: usize,
    name: &str,
    capacity: Option<usize>,
    len: usize,
    sent: u64,
) -> ChannelSnapshot {
    ChannelSnapshot {
        id,
        name: name.to_owned(),
        capacity,
        kind: ChannelKind::Normal,
        len,
        sent,
        received: sent - len as u64,
        senders: 1,
        receivers: 1,
        send_waiting: 0,
        recv_waiting: 0,
        closed: false,
        sender_stages: Vec::new(),
        receiver_stages: Vec::new(),
    }
}

fn send(channel: &str) -> WorkerState {
    WorkerState::BlockedSend {
        channel: channel.to_owned(),
    }
}

fn recv(channel: &str) -> WorkerState {
    WorkerState::BlockedRecv {
        channel: channel.to_owned(),
    }
}

fn totals(workers: &[WorkerSnapshot], channels: &[ChannelSnapshot]) -> Totals {
    Totals {
        workers: workers.len(),
        live: workers.iter().filter(|w| !w.state.is_finished()).count(),
        blocked: workers.iter().filter(|w| w.state.is_blocked()).count(),
        sent: channels.iter().map(|c| c.sent).sum(),
        received: channels.iter().map(|c| c.received).sum(),
    }
}

fn snapshot(
    elapsed_ms: u64,
    workers: Vec<WorkerSnapshot>,
    channels: Vec<ChannelSnapshot>,
) -> Snapshot {
    Snapshot {
        elapsed: Duration::from_millis(elapsed_ms),
        totals: totals(&workers, &channels),
        workers,
        channels,
        verdict: None,
        paused: false,
        speed: 1.0,
        finished: false,
        at_verdict: false,
        schedule: None,
    }
}

/// Lesson 01 a second and a half in: generate waits on a full `numbers`,
/// one square worker works, the other waits to send, the sink waits.
fn mid_run(elapsed_ms: u64, done: u64) -> Snapshot {
    let workers = vec![
        worker(
            0,
            "main",
            WorkerState::Joining {
                worker: "sink".into(),
            },
        ),
        worker(1, "generate", send("numbers")),
        worker(2, "square#1", WorkerState::Sleeping(SleepReason::Work)),
        worker(3, "square#2", send("squares")),
        worker(4, "filter", WorkerState::Running),
        worker(5, "sink", recv("filtered")),
    ];
    let mut numbers = channel(0, "numbers", Some(4), 4, 8 + done);
    numbers.send_waiting = 1;
    let mut squares = channel(1, "squares", Some(4), 2, 5 + done);
    squares.send_waiting = 1;
    let mut filtered = channel(2, "filtered", Some(4), 0, 2 + done / 2);
    filtered.recv_waiting = 1;
    snapshot(elapsed_ms, workers, vec![numbers, squares, filtered])
}

fn events(lines: &[(u64, EventKind)]) -> EventBatch {
    EventBatch {
        events: lines
            .iter()
            .enumerate()
            .map(|(seq, (ms, kind))| Event {
                seq: seq as u64,
                at: Duration::from_millis(*ms),
                kind: kind.clone(),
                cleanup: false,
            })
            .collect(),
        skipped: 0,
    }
}

fn started(worker: &str) -> EventKind {
    EventKind::Spawned {
        worker: worker.to_owned(),
        external: false,
    }
}

fn blocked(worker: &str, state: WorkerState) -> EventKind {
    EventKind::Blocked {
        worker: worker.to_owned(),
        state,
    }
}

/// Feeds a few frames so the sparkline has a history.
fn feed_mid_run(app: &mut App) {
    app.on_snapshot(
        mid_run(1_300, 0),
        events(&[
            (0, started("main")),
            (0, started("generate")),
            (1, started("square#1")),
            (1, started("square#2")),
            (1, started("filter")),
            (1, started("sink")),
        ]),
    );
    for (i, done) in [1, 3, 4, 6].into_iter().enumerate() {
        app.on_snapshot(mid_run(1_333 + 33 * i as u64, done), EventBatch::default());
    }
    app.on_snapshot(
        mid_run(1_500, 8),
        events(&[
            (1_400, blocked("generate", send("numbers"))),
            (1_450, blocked("square#2", send("squares"))),
            (1_480, blocked("sink", recv("filtered"))),
        ]),
    );
}

fn stuck(worker: &str, state: WorkerState, detail: &str) -> StuckWorker {
    StuckWorker {
        worker: worker.to_owned(),
        state,
        detail: detail.to_owned(),
    }
}

fn report(outcome: Option<Outcome>, verdict: Verdict, snapshot: Snapshot) -> Report<Outcome> {
    Report {
        outcome,
        verdict: Some(verdict),
        unstoppable: Vec::new(),
        stopped: false,
        snapshot,
        trace: None,
    }
}

/// The `unclosed` trap at its end: everything went through, the sink
/// waits on `filtered`, which a spare Sender keeps open.
fn deadlock_report() -> Report<Outcome> {
    let workers = vec![
        worker(
            0,
            "main",
            WorkerState::Joining {
                worker: "sink".into(),
            },
        ),
        worker(1, "generate", WorkerState::Done),
        worker(2, "square#1", WorkerState::Done),
        worker(3, "square#2", WorkerState::Done),
        worker(4, "filter", WorkerState::Done),
        worker(5, "sink", recv("filtered")),
    ];
    let mut numbers = channel(0, "numbers", Some(4), 0, 20);
    numbers.closed = true;
    numbers.senders = 0;
    let mut squares = channel(1, "squares", Some(4), 0, 20);
    squares.closed = true;
    squares.senders = 0;
    let mut filtered = channel(2, "filtered", Some(4), 0, 10);
    filtered.recv_waiting = 1;
    let mut snap = snapshot(1_700, workers, vec![numbers, squares, filtered]);
    let verdict = Verdict::Deadlock {
        stuck: vec![
            stuck(
                "main",
                WorkerState::Joining {
                    worker: "sink".into(),
                },
                "waits for `sink` to finish",
            ),
            stuck(
                "sink",
                recv("filtered"),
                "waits to receive on `filtered` (0/4, 1 sender alive)",
            ),
        ],
    };
    snap.verdict = Some(verdict.clone());
    snap.finished = true;
    let outcome = Outcome {
        items_in: 20,
        items_out: 0,
        ..Outcome::default()
    };
    report(Some(outcome), verdict, snap)
}

/// The `leak` trap at its end: main returned with filter blocked on a full
/// `filtered` and the sink busy elsewhere.
fn leak_report() -> Report<Outcome> {
    let leaked = |state: WorkerState| WorkerState::Leaked {
        was: Box::new(state),
    };
    let workers = vec![
        worker(0, "main", WorkerState::Done),
        worker(1, "generate", WorkerState::Done),
        worker(2, "square#1", WorkerState::Done),
        worker(3, "square#2", WorkerState::Done),
        worker(4, "filter", leaked(send("filtered"))),
        worker(5, "sink", leaked(WorkerState::Sleeping(SleepReason::Work))),
    ];
    let mut numbers = channel(0, "numbers", Some(4), 0, 20);
    numbers.closed = true;
    let mut squares = channel(1, "squares", Some(4), 1, 20);
    squares.closed = true;
    let mut filtered = channel(2, "filtered", Some(4), 4, 9);
    filtered.send_waiting = 1;
    let mut results = channel(3, "results", Some(1), 0, 1);
    results.closed = true;
    let mut snap = snapshot(1_900, workers, vec![numbers, squares, filtered, results]);
    let verdict = Verdict::Leak {
        leaked: vec![
            stuck(
                "filter",
                send("filtered"),
                "waits to send on `filtered` (4/4 full, 1 receiver alive)",
            ),
            stuck(
                "sink",
                WorkerState::Sleeping(SleepReason::Work),
                "is still working",
            ),
        ],
    };
    snap.verdict = Some(verdict.clone());
    snap.finished = true;
    let outcome = Outcome {
        items_in: 20,
        items_out: 5,
        notes: vec!["the sink stopped on purpose after 5 of 10 items".into()],
        ..Outcome::default()
    };
    report(Some(outcome), verdict, snap)
}

fn draw(app: &App, width: u16, height: u16) -> Buffer {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("test backend");
    terminal.draw(|frame| ui::render(app, frame)).expect("draw");
    terminal.backend().buffer().clone()
}

/// The buffer as text, one line per row, trailing blanks trimmed.
fn text(buffer: &Buffer) -> String {
    let width = buffer.area.width as usize;
    let mut out = String::new();
    for row in buffer.content.chunks(width) {
        let line: String = row.iter().map(ratatui::buffer::Cell::symbol).collect();
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn screen(app: &App, width: u16, height: u16) -> String {
    text(&draw(app, width, height))
}

fn pipeline_wide(app: &mut App) -> String {
    app.on_resize(200, 50);
    screen(app, 200, 50)
}

// ------------------------------------------------------------------ smoke

/// The real catalog, end to end without a terminal: open lesson 01, run it
/// fast, feed its snapshots and report to the app, draw every frame.
#[test]
fn smoke() {
    let mut app = App::new(lessons::catalog(), Theme::default()).with_speed(10.0);
    app.on_resize(120, 40);
    assert!(screen(&app, 120, 40).contains("Pipeline"));
    assert_eq!(app.on_key(key(KeyCode::Enter)), Action::StartRun);
    assert_eq!(app.screen(), Screen::Lesson);
    let request = app.run_request().expect("a lesson is open");
    let config = request.config();
    assert!(
        config.schedule.is_some() && config.realtime,
        "the live view runs scheduled by default, paced to the wall clock"
    );
    let run = request.lesson.start(request.variant, request.knobs, config);
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut next = 0;
    while !run.is_finished() && Instant::now() < deadline {
        let batch = run.lab().events_since(next);
        next = batch.events.last().map_or(next, |e| e.seq + 1);
        app.on_snapshot(run.lab().snapshot(), batch);
        if let Some(trace) = run.lab().trace() {
            app.on_trace(&trace);
        }
        let _ = screen(&app, 120, 40);
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(run.is_finished(), "lesson 01 finishes at 10x within 20 s");
    let batch = run.lab().events_since(next);
    app.on_finished(run.wait(), batch);
    let shown = screen(&app, 120, 40);
    assert!(shown.contains("generate"), "{shown}");
    assert!(shown.contains("sink"), "{shown}");
    assert!(shown.contains("finished clean"), "{shown}");
    let steps = app.steering().known.len();
    assert!(steps > 50, "every step is known: {steps}");
    assert!(
        shown.contains(&format!("step {steps} of {steps}")) && shown.contains("✓ ends at"),
        "{shown}"
    );
}

// ------------------------------------------------------- keys → state

#[test]
fn list_moves_opens_and_quits() {
    let mut app = fixture_app();
    assert_eq!(app.screen(), Screen::List);
    app.on_key(key(KeyCode::Up));
    assert_eq!(app.selected(), 0, "stops at the top");
    app.on_key(key(KeyCode::Down));
    app.on_key(key(KeyCode::Down));
    assert_eq!(app.selected(), 1, "stops at the bottom");
    assert_eq!(app.on_key(key(KeyCode::Enter)), Action::StartRun);
    assert_eq!(app.screen(), Screen::Lesson);
    assert_eq!(app.lesson().map(|v| v.lesson.number), Some(2));
    assert_eq!(press(&mut app, 'q'), Action::StopRun, "q goes back first");
    assert_eq!(app.screen(), Screen::List);
    assert!(!app.should_quit());
    assert_eq!(app.on_key(key(KeyCode::Esc)), Action::Quit, "then quits");
    assert!(app.should_quit());
}

#[test]
fn digits_open_a_lesson_by_number() {
    let mut app = fixture_app();
    assert_eq!(press(&mut app, '2'), Action::StartRun);
    assert_eq!(app.lesson().map(|v| v.lesson.slug), Some("fan-out-fan-in"));
    let mut app = fixture_app();
    assert_eq!(press(&mut app, '7'), Action::None);
    assert!(
        app.status()
            .is_some_and(|s| s.warning && s.text.contains("no lesson 7"))
    );
}

#[test]
fn ctrl_c_quits_from_anywhere() {
    let mut app = pipeline_app("correct");
    press(&mut app, '?');
    let action = app.on_key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    assert_eq!(action, Action::Quit);
    assert!(app.should_quit());
}

#[test]
fn help_opens_and_closes_without_leaving_the_lesson() {
    let mut app = pipeline_app("correct");
    press(&mut app, '?');
    assert!(app.help());
    assert_eq!(
        press(&mut app, 't'),
        Action::None,
        "keys wait while help shows"
    );
    assert_eq!(app.on_key(key(KeyCode::Esc)), Action::None);
    assert!(!app.help());
    assert_eq!(app.screen(), Screen::Lesson);
}

#[test]
fn space_pauses_and_s_steps_only_while_paused() {
    let mut app = pipeline_app("correct");
    assert_eq!(
        press(&mut app, 's'),
        Action::SetPaused(true),
        "s pauses a running run first"
    );
    assert!(app.paused());
    assert_eq!(press(&mut app, 's'), Action::Step);
    assert_eq!(press(&mut app, ' '), Action::SetPaused(false));
    assert!(!app.paused());
    assert_eq!(press(&mut app, ' '), Action::SetPaused(true));
}

#[test]
fn a_paused_run_restarts_paused_and_says_how_to_go_on() {
    let mut app = pipeline_app("correct");
    assert_eq!(press(&mut app, ' '), Action::SetPaused(true));
    assert_eq!(press(&mut app, 't'), Action::StartRun);
    assert!(
        app.paused(),
        "a class can step through the trap from its start"
    );
    assert!(
        app.status()
            .is_some_and(|s| s.text
                == "variant trap unclosed: run restarted, paused (space resumes, s steps)"),
        "{:?}",
        app.status().map(|s| &s.text)
    );
}

#[test]
fn pause_and_step_refuse_once_the_run_is_over() {
    let mut app = pipeline_app("unclosed");
    app.on_finished(deadlock_report(), EventBatch::default());
    assert_eq!(press(&mut app, ' '), Action::None);
    assert!(
        app.status()
            .is_some_and(|s| s.warning && s.text.contains("r runs it again"))
    );
    assert_eq!(press(&mut app, 's'), Action::None);
    assert_eq!(press(&mut app, 'r'), Action::StartRun);
}

#[test]
fn speed_steps_between_a_tenth_and_ten() {
    let mut app = pipeline_app("correct");
    assert_eq!(press(&mut app, '+'), Action::SetSpeed(2.0));
    for _ in 0..10 {
        press(&mut app, '+');
    }
    assert!((app.speed() - 10.0).abs() < 1e-9);
    assert_eq!(press(&mut app, '+'), Action::None, "10x is the top");
    for _ in 0..20 {
        press(&mut app, '-');
    }
    assert!((app.speed() - 0.1).abs() < 1e-9);
    assert_eq!(press(&mut app, '-'), Action::None, "0.1x is the bottom");
    let app = App::new(FIXTURE_CATALOG, Theme::default()).with_speed(500.0);
    assert!(
        (app.speed() - 10.0).abs() < 1e-9,
        "a launch speed is clamped"
    );
}

#[test]
fn t_cycles_every_variant_and_restarts() {
    let mut app = pipeline_app("correct");
    let mut seen = Vec::new();
    for _ in 0..4 {
        assert_eq!(press(&mut app, 't'), Action::StartRun);
        seen.push(app.lesson().map(|v| v.variant.name).unwrap_or_default());
    }
    assert_eq!(seen, ["unclosed", "leak", "cancel", "correct"]);
    assert_eq!(press(&mut app, 'T'), Action::StartRun);
    assert_eq!(app.lesson().map(|v| v.variant.name), Some("cancel"));
    assert!(app.status().is_some_and(|s| s.text.contains("fix cancel")));
}

#[test]
fn knobs_change_within_the_lesson_ranges_and_restart() {
    let mut app = pipeline_app("correct");
    let knobs = |app: &App| app.lesson().map(|v| v.knobs).expect("lesson open");
    assert_eq!(press(&mut app, 'W'), Action::StartRun);
    assert_eq!(knobs(&app).workers, 3);
    assert!(
        app.status()
            .is_some_and(|s| s.text == "workers 2 → 3: run restarted")
    );
    assert_eq!(
        press(&mut app, 'W'),
        Action::None,
        "3 is this lesson's maximum"
    );
    assert!(app.status().is_some_and(|s| s.warning));
    press(&mut app, 'w');
    press(&mut app, 'w');
    assert_eq!(knobs(&app).workers, 1);
    assert_eq!(press(&mut app, 'w'), Action::None);

    for _ in 0..4 {
        press(&mut app, 'b');
    }
    assert_eq!(knobs(&app).buffer, 0, "down to a rendezvous");
    assert_eq!(press(&mut app, 'b'), Action::None);
    for _ in 0..9 {
        press(&mut app, 'B');
    }
    assert_eq!(knobs(&app).buffer, 16, "one at a time to 8, then doubling");
    assert_eq!(
        press(&mut app, 'B'),
        Action::None,
        "16 is this lesson's maximum"
    );
    assert!(app.status().is_some_and(|s| s.warning));
}

#[test]
fn a_restart_forgets_the_old_run() {
    let mut app = pipeline_app("unclosed");
    app.on_finished(deadlock_report(), EventBatch::default());
    assert!(app.lesson().is_some_and(|v| v.live.verdict().is_some()));
    press(&mut app, 'r');
    let view = app.lesson().expect("lesson open");
    assert!(view.live.snapshot.is_none() && view.live.finished.is_none());
}

#[test]
fn tab_moves_focus_and_arrows_scroll_the_focused_pane() {
    let mut app = pipeline_app("correct");
    app.on_resize(80, 24);
    assert_eq!(app.focus(), Focus::Text);
    app.on_key(key(KeyCode::Down));
    app.on_key(key(KeyCode::Down));
    assert_eq!(app.lesson().map(|v| v.text_scroll), Some(2));
    app.on_key(key(KeyCode::End));
    let view = app.lesson().expect("lesson open");
    let end = view.text_scroll;
    assert!(
        end > 2 && end < view.readme_rows,
        "end {end} of {}",
        view.readme_rows
    );
    app.on_key(key(KeyCode::PageDown));
    assert_eq!(
        app.lesson().map(|v| v.text_scroll),
        Some(end),
        "clamped at the end"
    );
    app.on_key(key(KeyCode::PageUp));
    assert!(app.lesson().is_some_and(|v| v.text_scroll < end));

    app.on_key(key(KeyCode::Tab));
    assert_eq!(app.focus(), Focus::Run);
    feed_mid_run(&mut app);
    app.on_key(key(KeyCode::Up));
    assert_eq!(
        app.lesson().map(|v| v.events_scroll),
        Some(1),
        "back one event"
    );
    app.on_key(key(KeyCode::End));
    assert_eq!(
        app.lesson().map(|v| v.events_scroll),
        Some(0),
        "follows the newest"
    );
}

#[test]
fn snapshots_feed_the_throughput_and_the_events() {
    let mut app = pipeline_app("correct");
    feed_mid_run(&mut app);
    let live = &app.lesson().expect("lesson open").live;
    assert_eq!(live.events.len(), 9);
    assert_eq!(live.throughput.len(), 6);
    assert!(live.throughput.iter().skip(1).all(|&d| d > 0));
    assert!(live.rate > 0.0);
    assert_eq!(live.peaks.get("numbers"), Some(&4));
}

// --------------------------------------------------------------- screens

#[test]
fn renders_the_lesson_list() {
    let mut app = fixture_app();
    app.on_key(key(KeyCode::Down));
    insta::assert_snapshot!("list", screen(&app, 100, 24));
}

#[test]
fn renders_a_lesson_mid_run() {
    let mut app = pipeline_app("correct");
    feed_mid_run(&mut app);
    insta::assert_snapshot!("lesson_mid_run", screen(&app, 120, 40));
}

#[test]
fn renders_a_lesson_mid_run_at_80x24() {
    let mut app = pipeline_app("correct");
    app.on_resize(80, 24);
    feed_mid_run(&mut app);
    insta::assert_snapshot!("lesson_mid_run_80x24", screen(&app, 80, 24));
}

#[test]
fn renders_a_deadlock_verdict() {
    let mut app = pipeline_app("unclosed");
    feed_mid_run(&mut app);
    app.on_finished(
        deadlock_report(),
        events(&[(
            1_700,
            EventKind::Verdict {
                headline: "deadlock: all workers are asleep".into(),
            },
        )]),
    );
    // Wide enough for the banner's first line to stay on one row.
    let wide = pipeline_wide(&mut app);
    assert!(wide.contains(
        "deadlock: all workers are asleep — sink waits to receive on `filtered` (0/4, 1 sender alive)"
    ), "{wide}");
    assert!(wide.contains("· main waits for `sink` to finish"), "{wide}");
    app.on_resize(120, 40);
    insta::assert_snapshot!("deadlock", screen(&app, 120, 40));
}

#[test]
fn renders_a_leak_verdict() {
    let mut app = pipeline_app("leak");
    feed_mid_run(&mut app);
    app.on_finished(leak_report(), EventBatch::default());
    let shown = screen(&app, 120, 40);
    assert!(shown.contains("leak: main returned while 2 workers still alive"));
    assert!(
        shown.contains("filter    ⊘ leaked while it waits to send on `filtered`"),
        "leaked workers are marked: {shown}"
    );
    insta::assert_snapshot!("leak", shown);
}

#[test]
fn renders_the_help_overlay() {
    let mut app = pipeline_app("correct");
    feed_mid_run(&mut app);
    press(&mut app, '?');
    insta::assert_snapshot!("help", screen(&app, 80, 24));
}

#[test]
fn renders_too_small() {
    let app = pipeline_app("correct");
    let shown = screen(&app, 79, 24);
    assert!(shown.contains("terminal too small (need 80×24)"));
    insta::assert_snapshot!("too_small", shown);
    assert!(screen(&app, 80, 23).contains("terminal too small"));
}

/// At 80 columns seven variants take three rows of the bar: every one is in
/// view, the active one in brackets, whichever it is.
#[test]
fn the_variant_bar_shows_every_variant_at_80_columns() {
    let mut app = fixture_app();
    app.on_resize(80, 24);
    app.open_lesson(&MANY, None, None);
    let bar = |app: &App| {
        screen(app, 80, 24)
            .lines()
            .skip(1)
            .take(3)
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert!(bar(&app).contains("[correct]"), "{}", bar(&app));
    for _ in 0..6 {
        press(&mut app, 't');
        let name = app.lesson().map(|v| v.variant.name).unwrap_or_default();
        let shown = bar(&app);
        assert!(shown.contains(&format!("[trap: {name}]")), "{shown}");
        for v in &MANY_VARIANTS {
            assert!(shown.contains(v.name), "{} missing: {shown}", v.name);
        }
    }
}

#[test]
fn hundreds_of_workers_collapse_into_counts_per_state() {
    let mut app = pipeline_app("correct");
    let mut workers = vec![worker(
        0,
        "main",
        WorkerState::Joining {
            worker: "sink".into(),
        },
    )];
    for i in 1..=300 {
        let state = match i % 3 {
            0 => WorkerState::Running,
            1 => send("squares"),
            _ => recv("numbers"),
        };
        workers.push(worker(i, &format!("square#{i}"), state));
    }
    workers.push(worker(301, "sink", recv("squares")));
    let channels = vec![
        channel(0, "numbers", Some(4), 0, 10),
        channel(1, "squares", Some(4), 4, 10),
    ];
    app.on_snapshot(snapshot(500, workers, channels), EventBatch::default());
    let shown = screen(&app, 120, 40);
    assert!(shown.contains("square ×300"), "{shown}");
    assert!(shown.contains("▶ 100 running"), "{shown}");
    assert!(shown.contains("⇥ 100 blocked-send"), "{shown}");
    assert!(shown.contains("⇤ 100 blocked-recv"), "{shown}");
    assert!(
        !shown.contains("square#300"),
        "no per-worker cells: {shown}"
    );
}

#[test]
fn no_color_keeps_glyphs_and_drops_colours() {
    let mut app = App::new(FIXTURE_CATALOG, Theme { color: false }).with_launch(None, true);
    app.on_resize(120, 40);
    app.open_lesson(&PIPELINE, PIPELINE.variant("unclosed"), None);
    feed_mid_run(&mut app);
    app.on_finished(deadlock_report(), EventBatch::default());
    let buffer = draw(&app, 120, 40);
    let coloured = buffer
        .content
        .iter()
        .filter(|c| c.fg != Color::Reset || c.bg != Color::Reset)
        .count();
    assert_eq!(coloured, 0, "no cell has a colour");
    let shown = text(&buffer);
    assert!(
        shown.contains("⇤ waits to receive on `filtered`") && shown.contains("generate  ✓ done"),
        "{shown}"
    );
}

#[test]
fn timers_are_not_drawn_as_links_between_stages() {
    let mut snap = mid_run(1_300, 0);
    let mut timer = channel(3, "after 250ms", Some(1), 0, 0);
    timer.kind = ChannelKind::Timer { fires: Some(1) };
    snap.channels.push(timer);
    let links = chanlab::tui::flow::FlowLinks::default();
    let flow = chanlab::tui::flow::arrange(&snap, &links);
    let drawn: Vec<&str> = flow.channels().map(|c| c.name.as_str()).collect();
    assert_eq!(drawn, ["numbers", "squares", "filtered"]);
}

fn clean_report(outcome: Outcome) -> Report<Outcome> {
    let mut snapshot = mid_run(2_000, 10);
    snapshot.finished = true;
    Report {
        outcome: Some(outcome),
        verdict: None,
        unstoppable: Vec::new(),
        stopped: false,
        snapshot,
        trace: None,
    }
}

/// A fix that drops items on purpose says what its policy chose, never
/// "finished clean" beside a count of lost items.
#[test]
fn a_fix_that_drops_by_design_says_held_as_designed() {
    let mut app = pipeline_app("cancel");
    feed_mid_run(&mut app);
    app.on_finished(
        clean_report(Outcome {
            items_in: 60,
            items_out: 44,
            dropped: 16,
            by_design: vec![
                "16 dropped: a full subscriber's buffer drops the newest message".into(),
            ],
            ..Outcome::default()
        }),
        EventBatch::default(),
    );
    let shown = screen(&app, 160, 40);
    assert!(
        shown.contains("✓ held as designed: 60 in → 44 out · 0 lost · 16 dropped by design"),
        "{shown}"
    );
    assert!(
        shown.contains("by design: 16 dropped: a full subscriber's buffer drops the newest"),
        "{shown}"
    );
    assert!(!shown.contains("finished clean"), "{shown}");
}

/// A trap its knobs make impossible says so, and which values show it.
#[test]
fn a_trap_hidden_by_its_knobs_says_so() {
    let mut app = fixture_app();
    let knobs = Knobs {
        workers: 1,
        ..FAN.defaults
    };
    let action = app.open_lesson(&FAN, FAN.variant("unordered"), Some(knobs));
    assert_eq!(action, Action::StartRun);
    feed_mid_run(&mut app);
    app.on_finished(
        clean_report(Outcome {
            items_in: 20,
            items_out: 20,
            order_kept: Some(true),
            ..Outcome::default()
        }),
        EventBatch::default(),
    );
    let shown = screen(&app, 160, 40);
    assert!(
        shown.contains("✓ finished clean, trap hidden: 20 in → 20 out · order kept"),
        "{shown}"
    );
    assert!(
        shown.contains("hidden by these knobs: with --workers 1 one worker keeps the input order"),
        "{shown}"
    );
    assert!(
        shown.contains("trap hidden by the knobs"),
        "the header says it too: {shown}"
    );
}

// ------------------------------------------------- issue 9: the live view

fn sent(worker: &str, channel: &str, item: u64) -> EventKind {
    EventKind::Sent {
        worker: worker.to_owned(),
        channel: channel.to_owned(),
        item,
    }
}

fn received(worker: &str, channel: &str, item: u64) -> EventKind {
    EventKind::Received {
        worker: worker.to_owned(),
        channel: channel.to_owned(),
        item,
    }
}

/// A limiter-like select: `done` or the worker's own timer.
fn select_done_or(timer: &str) -> WorkerState {
    WorkerState::Selecting {
        arms: vec![
            chanlab::lab::SelectArm {
                channel: "done".into(),
                send: false,
                timer: false,
            },
            chanlab::lab::SelectArm {
                channel: timer.into(),
                send: false,
                timer: true,
            },
        ],
    }
}

/// Items moving through the pipeline, with the sink waiting between each
/// (twelve times in all) and a timer-driven wait of `filter` every time.
fn item_events() -> EventBatch {
    let mut lines = Vec::new();
    for i in 1..=12u64 {
        let ms = 100 * i;
        lines.push((ms, sent("square#1", "squares", i)));
        lines.push((ms + 1, received("filter", "squares", i)));
        lines.push((ms + 2, blocked("sink", recv("filtered"))));
        let timer = if i % 2 == 0 {
            "9.8 ms timer"
        } else {
            "9.7 ms timer"
        };
        lines.push((ms + 3, blocked("limiter", select_done_or(timer))));
    }
    events(&lines)
}

/// Item 2: the log shows items moving, folds the same wait into one line
/// with a count, and `f` cycles the filters, named in the pane's title.
#[test]
fn the_event_log_shows_items_folds_waits_and_filters() {
    let mut app = pipeline_app("correct");
    app.on_snapshot(mid_run(1_300, 0), item_events());
    let all = screen(&app, 120, 40);
    assert!(all.contains("events: all (f filters)"), "{all}");
    assert!(all.contains("square#1 sent item 12 on `squares`"), "{all}");
    assert!(
        all.contains("filter received item 12 from `squares`"),
        "{all}"
    );

    assert_eq!(press(&mut app, 'f'), Action::None);
    assert_eq!(app.lesson().map(|v| v.events_filter.label()), Some("items"));
    let items = screen(&app, 120, 40);
    assert!(items.contains("events: items (f filters)"), "{items}");
    assert!(
        !items.contains("sink waits") && !items.contains("limiter waits"),
        "no waits among the items: {items}"
    );

    press(&mut app, 'f');
    app.on_resize(200, 40);
    let wide = screen(&app, 200, 40);
    assert!(
        wide.contains("limiter waits in select on `done` (recv) or its 9.8 ms timer ×12"),
        "a timer's changing duration is still the same wait: {wide}"
    );
    app.on_resize(120, 40);
    let waits = screen(&app, 120, 40);
    assert!(
        waits.contains("sink waits to receive on `filtered` ×12"),
        "{waits}"
    );
    assert!(
        waits.contains("9.8 ms timer\n") || waits.contains("9.8 ms timer │"),
        "{waits}"
    );
    insta::assert_snapshot!("events_waits_folded", waits);

    press(&mut app, 'f');
    assert!(screen(&app, 120, 40).contains("no verdict: nothing broke (yet)"));
    press(&mut app, 'f');
    assert_eq!(app.lesson().map(|v| v.events_filter.label()), Some("all"));
    press(&mut app, 'F');
    assert_eq!(
        app.lesson().map(|v| v.events_filter.label()),
        Some("verdicts"),
        "F goes back"
    );
}

/// Item 2: the teardown after a verdict is dimmed and labelled, and left
/// out of the items list.
#[test]
fn cleanup_events_are_labelled_and_not_items() {
    let mut app = pipeline_app("unclosed");
    feed_mid_run(&mut app);
    let mut batch = events(&[
        (1_600, sent("square#1", "squares", 21)),
        (
            1_700,
            EventKind::Verdict {
                headline: "deadlock: all workers are asleep".into(),
            },
        ),
        (1_710, received("sink", "filtered", 11)),
    ]);
    batch.events[2].cleanup = true;
    app.on_finished(deadlock_report(), batch);
    let all = screen(&app, 160, 40);
    assert!(all.contains("cleanup: sink received item 11"), "{all}");
    press(&mut app, 'f');
    let items = screen(&app, 160, 40);
    assert!(items.contains("square#1 sent item 21"), "{items}");
    assert!(!items.contains("item 11"), "{items}");
}

/// A lesson 04 `busy-wait`-like outcome: long problem and notes.
fn long_outcome() -> Outcome {
    Outcome {
        items_in: 300,
        items_out: 300,
        problems: vec![
            "CPU burned: 32551492 wasted polls for 300 requests; the bucket knew when the \
             next token was due, the limiter should have slept until then"
                .into(),
        ],
        notes: vec![
            "300 requests passed in 2.90 s of lesson time: 10 on the full bucket, then \
             99.9/s (limit 100/s: at most 10 + 100·t by time t)"
                .into(),
            "arrival order: 2, 1, 3, 4, 6, 5, 7, 8, 10, 9, 11, 12, 13, 14, 15, 16, 17, 18, \
             20, 19, 21, 22, 23, 0"
                .into(),
        ],
        ..Outcome::default()
    }
}

/// Item 3: problem and note lines wrap (their last word and number show),
/// at 200 columns and at 120.
#[test]
fn outcome_lines_wrap_instead_of_being_cut() {
    let mut app = pipeline_app("leak");
    feed_mid_run(&mut app);
    app.on_finished(clean_report(long_outcome()), EventBatch::default());
    for (w, h) in [(200, 60), (120, 40)] {
        app.on_resize(w, h);
        let shown = screen(&app, w, h);
        let flat = shown
            .lines()
            .map(|l| l.trim_matches(|c| c == '│' || c == ' '))
            .collect::<Vec<_>>()
            .join(" ");
        for end in ["slept until then", "by time t)", "21, 22, 23, 0"] {
            assert!(flat.contains(end), "{w}x{h} lost {end:?}: {shown}");
        }
        assert!(flat.contains("32551492"), "{shown}");
    }
    insta::assert_snapshot!("outcome_wrapped_120x40", screen(&app, 120, 40));
}

/// Item 3: numbers in channel cells are never cut (`1024/1024`,
/// `100.0k→100.0k`) and a long channel name is kept whole where it fits,
/// in the wide layout and in the compact one.
#[test]
fn channel_numbers_and_names_are_never_cut() {
    let mut app = pipeline_app("correct");
    let workers = vec![
        worker(1, "generate", send("numbers")),
        worker(2, "sink", recv("workers_done")),
    ];
    let mut numbers = channel(0, "numbers", Some(1024), 1024, 100_000);
    numbers.received = 100_000;
    numbers.len = 1024;
    numbers.sent = 101_024;
    let done = channel(1, "workers_done", Some(4), 0, 3);
    let snap = snapshot(500, workers, vec![numbers, done]);
    app.on_snapshot(snap, EventBatch::default());
    for (w, h) in [(200, 60), (120, 40), (80, 24)] {
        app.on_resize(w, h);
        let shown = screen(&app, w, h);
        assert!(shown.contains("1024/1024"), "{w}x{h}: {shown}");
        assert!(
            shown.contains("101.0k→100.0k") || shown.contains("sent 101.0k recv 100.0k"),
            "{w}x{h}: {shown}"
        );
        assert!(shown.contains("workers_done"), "{w}x{h}: {shown}");
    }
}

/// Item 4: the lesson text grows with the terminal, `<` `>` resize it and
/// `l` hides it; headings show without `#`, code blocks without fences, and
/// a code line is clipped with `→`, never wrapped; ← → move it sideways.
#[test]
fn the_lesson_pane_grows_and_renders_code_blocks() {
    let mut app = pipeline_app("correct");
    app.on_resize(200, 50);
    let width = |app: &App| {
        app.layout(ratatui::layout::Rect::new(0, 0, 200, 50))
            .readme
            .width
    };
    assert_eq!(width(&app), 80, "40% of 200 columns");
    app.on_resize(160, 40);
    assert_eq!(
        app.layout(ratatui::layout::Rect::new(0, 0, 160, 40))
            .readme
            .width,
        64
    );
    app.on_resize(200, 50);
    press(&mut app, '>');
    assert_eq!(width(&app), 100, "50%");
    press(&mut app, '>');
    assert_eq!(width(&app), 100, "capped at 100 columns");
    assert!(app.status().is_some_and(|s| s.warning));
    press(&mut app, '<');
    press(&mut app, '<');
    assert_eq!(width(&app), 66, "33%");
    press(&mut app, 'l');
    assert_eq!(width(&app), 0, "hidden");
    assert_eq!(
        app.focus(),
        Focus::Run,
        "the hidden pane gives up the focus"
    );
    press(&mut app, '\t');
    assert_eq!(app.focus(), Focus::Run);
    press(&mut app, 'l');
    assert_eq!(width(&app), 66, "shown again at its width");
    press(&mut app, '>');

    app.on_resize(120, 40);
    feed_mid_run(&mut app);
    let shown = screen(&app, 120, 40);
    assert!(!shown.contains("```"), "no raw fences: {shown}");
    assert!(
        !shown.contains("# 01") && !shown.contains("## Go"),
        "{shown}"
    );
    assert!(shown.contains("│01 Pipeline"), "{shown}");
    assert!(
        shown.contains("generate --numbers--> square#1..N --squares--→"),
        "the diagram is clipped with a mark: {shown}"
    );
    assert!(
        !shown.contains("│filter --filtered--> sink"),
        "never wrapped"
    );
    app.on_key(key(KeyCode::Right));
    let moved = screen(&app, 120, 40);
    assert!(moved.contains("│←--numbers--> square#1..N"), "{moved}");
    insta::assert_snapshot!("lesson_code_moved", moved);
    for _ in 0..4 {
        app.on_key(key(KeyCode::Right));
    }
    let end = screen(&app, 120, 40);
    assert!(
        end.contains("filter --filtered--> sink│"),
        "moved to its end: {end}"
    );
    app.on_key(key(KeyCode::Right));
    assert_eq!(screen(&app, 120, 40), end, "no further than the end");
}

/// Item 5: at 80×24 a lesson with five variants and a long message shows
/// every variant, the whole message and the knobs, and every stage by name.
#[test]
fn eighty_by_twenty_four_is_fully_readable() {
    let mut app = fixture_app();
    app.on_resize(80, 24);
    app.open_lesson(&MANY, None, None);
    press(&mut app, ' ');
    press(&mut app, 't');
    feed_mid_run(&mut app);
    let shown = screen(&app, 80, 24);
    for v in &MANY_VARIANTS {
        assert!(shown.contains(v.name), "{} missing: {shown}", v.name);
    }
    assert!(
        shown.contains(
            "variant trap unbounded-buffer: run restarted, paused (space resumes, s steps)"
        ),
        "{shown}"
    );
    assert!(
        shown.contains("items 20 · workers 3 · buffer 4 · speed 1×"),
        "{shown}"
    );
    for stage in ["generate", "square ×2", "filter", "sink"] {
        assert!(shown.contains(stage), "{stage}: {shown}");
    }
    assert!(
        !shown.contains("produ…") && !shown.contains("gene…"),
        "{shown}"
    );
    insta::assert_snapshot!("many_variants_80x24", shown);
}

/// Item 6: opening a lesson while paused says the run starts paused.
#[test]
fn opening_a_lesson_while_paused_says_so() {
    let mut app = pipeline_app("correct");
    press(&mut app, ' ');
    press(&mut app, 'q');
    assert!(app.paused());
    assert_eq!(press(&mut app, '2'), Action::StartRun);
    assert!(
        app.status()
            .is_some_and(|s| s.text == "the run starts paused (space resumes, s steps)"),
        "{:?}",
        app.status()
    );
    let request = app.run_request().expect("a lesson is open");
    assert!(request.paused && request.config().start_paused);
    assert!(request.config().log_items, "the TUI's runs log their items");
}

/// Item 6: workers held at the pause gate show as paused, in the legend
/// too; after the run, `recv/s` says it ended and gives the average.
#[test]
fn paused_workers_and_an_ended_rate_are_shown() {
    let mut app = pipeline_app("correct");
    let mut snap = mid_run(1_300, 0);
    snap.workers[4].state = WorkerState::Paused;
    snap.paused = true;
    app.on_snapshot(snap, EventBatch::default());
    let shown = screen(&app, 120, 40);
    assert!(
        shown.contains("filter    ⏸ is paused before its next operation"),
        "{shown}"
    );
    app.on_resize(80, 24);
    press(&mut app, '?');
    app.on_key(key(KeyCode::End));
    assert!(
        screen(&app, 80, 24).contains("⏸ paused"),
        "the legend has it, at the end of the help"
    );
    press(&mut app, '?');
    app.on_finished(clean_report(Outcome::default()), EventBatch::default());
    let over = screen(&app, 120, 40);
    assert!(over.contains("recv/s ended, avg"), "{over}");
}

/// Item 6: a summary too long for its column ends in `…`.
#[test]
fn the_lesson_list_marks_cut_summaries() {
    let app = fixture_app();
    let shown = screen(&app, 80, 24);
    assert!(
        shown.contains("generate → square → filter → sink; each s…│"),
        "{shown}"
    );
}

fn many_events(n: u64) -> EventBatch {
    events(
        &(0..n)
            .map(|i| (10 * i, sent("square#1", "squares", i + 1)))
            .collect::<Vec<_>>(),
    )
}

/// Item 17: Home scrolls back only until the oldest line is at the top
/// of a full pane, and PageUp/PageDown move by the pane's height.
#[test]
fn event_scrolling_is_clamped_and_pages_by_height() {
    let mut app = pipeline_app("correct");
    app.on_key(key(KeyCode::Tab));
    app.on_snapshot(mid_run(1_300, 0), many_events(100));
    let scroll = |app: &App| app.lesson().map(|v| v.events_scroll).unwrap_or_default();
    app.on_key(key(KeyCode::Home));
    let top = scroll(&app);
    let shown = screen(&app, 120, 40);
    let rows = shown.lines().filter(|l| l.contains("sent item")).count();
    assert!(
        shown.contains("sent item 1 on"),
        "the oldest shows: {shown}"
    );
    assert!(rows > 10, "the pane is full, not one line: {rows} rows");
    assert_eq!(top, 100 - rows, "{shown}");
    app.on_key(key(KeyCode::Home));
    assert_eq!(scroll(&app), top, "Home again stays");
    app.on_key(key(KeyCode::PageDown));
    assert_eq!(
        scroll(&app),
        top - (rows - 1),
        "a page is the pane less a row"
    );
    app.on_key(key(KeyCode::End));
    app.on_key(key(KeyCode::PageUp));
    assert_eq!(scroll(&app), rows - 1);
    app.on_resize(120, 30);
    let shorter = screen(&app, 120, 30)
        .lines()
        .filter(|l| l.contains("sent item"))
        .count();
    app.on_key(key(KeyCode::End));
    app.on_key(key(KeyCode::PageUp));
    assert_eq!(scroll(&app), shorter - 1, "pages follow the height");
}

/// No key at any size panics, draws outside the frame, or leaves the
/// state inconsistent (a few hundred keys, a fixed seed).
#[test]
fn random_keys_at_several_sizes_never_panic() {
    let keys = [
        KeyCode::Char(' '),
        KeyCode::Char('s'),
        KeyCode::Char('+'),
        KeyCode::Char('-'),
        KeyCode::Char('t'),
        KeyCode::Char('T'),
        KeyCode::Char('r'),
        KeyCode::Char('w'),
        KeyCode::Char('W'),
        KeyCode::Char('b'),
        KeyCode::Char('B'),
        KeyCode::Char('f'),
        KeyCode::Char('F'),
        KeyCode::Char('<'),
        KeyCode::Char('>'),
        KeyCode::Char('l'),
        KeyCode::Char('?'),
        KeyCode::Char('q'),
        KeyCode::Char('1'),
        KeyCode::Char('5'),
        KeyCode::Char('['),
        KeyCode::Char(']'),
        KeyCode::Char('{'),
        KeyCode::Char('}'),
        KeyCode::Char('('),
        KeyCode::Char(')'),
        KeyCode::Char('g'),
        KeyCode::Char('G'),
        KeyCode::Char('m'),
        KeyCode::Char('n'),
        KeyCode::Char('p'),
        KeyCode::Char('u'),
        KeyCode::Char('c'),
        KeyCode::Char('C'),
        KeyCode::Char('h'),
        KeyCode::Char('o'),
        KeyCode::Char('O'),
        KeyCode::Enter,
        KeyCode::Tab,
        KeyCode::Up,
        KeyCode::Down,
        KeyCode::Left,
        KeyCode::Right,
        KeyCode::PageUp,
        KeyCode::PageDown,
        KeyCode::Home,
        KeyCode::End,
    ];
    let sizes = [(80, 24), (120, 40), (200, 60), (81, 25), (300, 24)];
    let mut app = App::new(FIXTURE_CATALOG, Theme::default());
    let mut seed: u64 = 9;
    for step in 0..600 {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let (w, h) = sizes[(seed >> 40) as usize % sizes.len()];
        app.on_resize(w, h);
        let code = keys[(seed >> 20) as usize % keys.len()];
        if code == KeyCode::Char('q') && app.screen() == Screen::List {
            continue;
        }
        app.on_key(key(code));
        if step % 7 == 0 {
            let at = at_step(
                mid_run(1_300 + step, step % 9),
                step % 40,
                step % 3 == 0,
                step % 2 == 0,
            );
            app.on_snapshot(at, item_events());
            app.on_trace(&trace(step % 50));
            app.on_next_ops(play_ops());
        }
        if step % 50 == 49 {
            app.on_finished(deadlock_report(), many_events(30));
        }
        let _ = screen(&app, w, h);
    }
}

/// A verdict with five stuck workers names all five on a big screen: the
/// one the bug is about must not hide behind "… and 1 more".
#[test]
fn a_big_screen_names_every_stuck_worker_of_the_verdict() {
    let mut app = pipeline_app("unclosed");
    feed_mid_run(&mut app);
    let names = ["worker#1", "worker#2", "worker#3", "producer", "main"];
    let stuck_workers = names
        .iter()
        .map(|n| {
            stuck(
                n,
                recv("workers_done"),
                &format!("waits to receive on `workers_done` ({n})"),
            )
        })
        .collect();
    let mut snapshot = mid_run(2_000, 10);
    snapshot.finished = true;
    app.on_finished(
        report(
            None,
            Verdict::Deadlock {
                stuck: stuck_workers,
            },
            snapshot,
        ),
        EventBatch::default(),
    );
    let shown = screen(&app, 200, 60);
    for n in names {
        assert!(shown.contains(&format!("({n})")), "{n} not shown:\n{shown}");
    }
    assert!(!shown.contains("and 1 more"), "{shown}");
}

// ------------------------------------- issue 10: scheduled runs in the view

/// The fixture catalog as the live view opens it: scheduled, seed 1.
fn scheduled_app() -> App {
    let mut app = App::new(FIXTURE_CATALOG, Theme::default());
    app.on_resize(120, 40);
    app
}

fn scheduled_pipeline(variant: &str) -> App {
    let mut app = scheduled_app();
    let action = app.open_lesson(&PIPELINE, PIPELINE.variant(variant), None);
    assert_eq!(action, Action::StartRun);
    app
}

/// `snap` as a scheduled run shows it: at `step`, paused or not, waiting
/// for the learner's pick or not.
fn at_step(mut snap: Snapshot, step: u64, paused: bool, awaiting: bool) -> Snapshot {
    snap.paused = paused;
    snap.schedule = Some(ScheduleStatus {
        schedule: "random seed 1".into(),
        step,
        awaiting_choice: awaiting,
    });
    snap
}

const STEP_WORKERS: [&str; 5] = ["generate", "square#1", "square#2", "filter", "sink"];

/// A trace of `n` steps: workers 1 to 5 in turn, each step in words.
fn trace(n: u64) -> Trace {
    Trace {
        choices: (0..n)
            .map(|i| Choice::worker(u32::try_from(i % 5 + 1).unwrap_or(1)))
            .collect(),
        diverged: None,
        steps: (0..n)
            .map(|i| {
                format!(
                    "{}: send item {} on `squares` (1/4)",
                    STEP_WORKERS[(i % 5) as usize],
                    i / 5 + 1
                )
            })
            .collect(),
    }
}

/// The run so far: a running scheduled run at `steps`, its trace known.
fn ran_to(app: &mut App, steps: u64) {
    app.on_snapshot(
        at_step(mid_run(1_500, 8), steps, false, false),
        EventBatch::default(),
    );
    app.on_trace(&trace(steps));
}

fn schedule_of(app: &App) -> Schedule {
    app.run_request()
        .expect("a lesson is open")
        .schedule
        .expect("a scheduled run")
}

/// A rewind's run arrives, standing still at `step`.
fn arrive(app: &mut App, step: u64, paused: bool, awaiting: bool) {
    app.on_snapshot(
        at_step(mid_run(1_300, 4), step, paused, awaiting),
        events(&[(0, started("main")), (0, started("generate"))]),
    );
    app.on_trace(&Trace {
        choices: trace(step).choices,
        ..trace(step)
    });
}

/// What play mode lists: who can go (with a pick) and who would wait.
fn play_ops() -> Vec<NextOp> {
    let op = |choice: Option<Choice>, worker: &str, words: &str| NextOp {
        choice,
        worker: worker.to_owned(),
        words: words.to_owned(),
    };
    vec![
        op(None, "main", "join `sink` (would wait)"),
        op(
            Some(Choice::worker(1)),
            "generate",
            "send item 9 on `numbers` (3/4)",
        ),
        op(
            Some(Choice::worker(2)),
            "square#1",
            "receive item 5 from `numbers` (3/4)",
        ),
        op(None, "square#2", "work until 1.62 s (would wait)"),
        op(
            Some(Choice::worker(4)),
            "filter",
            "receive item 3 from `squares` (2/4)",
        ),
        op(
            None,
            "sink",
            "receive item 2 from `filtered` (0/4) (would wait)",
        ),
    ]
}

fn status_text(app: &App) -> String {
    app.status().map(|s| s.text.clone()).unwrap_or_default()
}

/// `deadlock_report` as a scheduled run ends it: at `steps`, its trace.
fn scheduled_deadlock(steps: u64) -> Report<Outcome> {
    let mut report = deadlock_report();
    report.snapshot = at_step(report.snapshot, steps, false, false);
    report.trace = Some(trace(steps));
    report
}

#[test]
fn the_live_view_runs_scheduled_on_a_seed_by_default() {
    let app = scheduled_pipeline("correct");
    assert_eq!(app.steering().mode, Mode::Scheduled);
    let request = app.run_request().expect("a lesson is open");
    let config = request.config();
    let schedule = config.schedule.expect("scheduled by default");
    assert_eq!(schedule, Schedule::random(1), "seed 1, no prefix, no pause");
    assert!(config.realtime && config.describe_steps && config.log_items);
    assert!(!request.seeks());
    let shown = screen(&app, 120, 40);
    assert!(
        shown.contains("chanlab › 01 Pipeline · scheduled · random seed 1 · step 0"),
        "{shown}"
    );
}

#[test]
fn renders_a_rewound_scheduled_run() {
    let mut app = scheduled_pipeline("correct");
    ran_to(&mut app, 212);
    assert_eq!(press(&mut app, '('), Action::StartRun);
    assert_eq!(app.steering().seek, Some(112));
    let seeking = screen(&app, 120, 40);
    assert!(seeking.contains("↺ to step 112…"), "{seeking}");
    assert!(seeking.contains("going to step 112"), "{seeking}");
    arrive(&mut app, 112, true, false);
    assert_eq!(app.steering().seek, None, "arrived");
    assert_eq!(
        app.steering().known.len(),
        212,
        "the steps ahead stay known"
    );
    let shown = screen(&app, 120, 40);
    assert!(
        shown.contains("scheduled · random seed 1 · step 112")
            && shown.contains("step 112 of 212")
            && shown.contains("step 112: square#1: send item 23 on `squares` (1/4)"),
        "{shown}"
    );
    insta::assert_snapshot!("scheduled_rewound_120x40", shown);
    app.on_resize(80, 24);
    insta::assert_snapshot!("scheduled_rewound_80x24", screen(&app, 80, 24));
}

/// The header and the hints of a free run (rows 1 and the last).
fn header_and_hints(app: &App, width: u16, height: u16) -> String {
    let shown = screen(app, width, height);
    let lines: Vec<&str> = shown.lines().collect();
    format!("{}\n{}\n", lines[0], lines[lines.len() - 1])
}

#[test]
fn renders_the_free_header() {
    let mut app = scheduled_pipeline("correct");
    assert_eq!(press(&mut app, 'm'), Action::StartRun);
    assert_eq!(app.steering().mode, Mode::Free);
    assert!(app.run_request().is_some_and(|r| r.schedule.is_none()));
    feed_mid_run(&mut app);
    let shown = screen(&app, 120, 40);
    assert!(
        !shown.lines().any(|l| l.starts_with(" step ")),
        "no scrub bar: {shown}"
    );
    insta::assert_snapshot!("free_header_120x40", header_and_hints(&app, 120, 40));
    app.on_resize(80, 24);
    insta::assert_snapshot!("free_header_80x24", header_and_hints(&app, 80, 24));
    assert_eq!(press(&mut app, 'm'), Action::StartRun, "m goes back");
    assert_eq!(schedule_of(&app), Schedule::random(1));
}

#[test]
fn renders_the_scrub_bar_after_a_verdict() {
    let mut app = scheduled_pipeline("unclosed");
    ran_to(&mut app, 150);
    app.on_finished(scheduled_deadlock(212), EventBatch::default());
    let steer = app.steering();
    assert_eq!(steer.verdict_at, Some((212, "deadlock".to_owned())));
    assert_eq!(steer.ended_at, Some(212));
    let at_end = screen(&app, 120, 40);
    assert!(
        at_end.contains("step 212 of 212") && at_end.contains("✗ deadlock at 212"),
        "{at_end}"
    );
    assert_eq!(press(&mut app, ']'), Action::None, "nothing after the end");
    assert!(
        status_text(&app).contains("the last"),
        "{}",
        status_text(&app)
    );
    assert_eq!(press(&mut app, '{'), Action::StartRun);
    assert_eq!(schedule_of(&app).pause_at, Some(202));
    arrive(&mut app, 202, true, false);
    let shown = screen(&app, 120, 40);
    assert!(
        shown.contains("step 202 of 212") && shown.contains("✗ deadlock at 212"),
        "the verdict stays marked ahead: {shown}"
    );
    assert!(shown.contains("⏸ paused"), "{shown}");
    insta::assert_snapshot!("scrub_after_verdict_120x40", shown);
    app.on_resize(80, 24);
    insta::assert_snapshot!("scrub_after_verdict_80x24", screen(&app, 80, 24));
}

#[test]
fn rewind_keys_restart_with_the_known_choices_and_pause_at() {
    let mut app = scheduled_pipeline("correct");
    ran_to(&mut app, 212);
    let known = trace(212).choices;

    assert_eq!(press(&mut app, '['), Action::StartRun);
    let request = app.run_request().expect("open");
    let schedule = request.schedule.clone().expect("scheduled");
    assert_eq!(schedule.strategy, Strategy::Random);
    assert_eq!(schedule.seed, 1);
    assert_eq!(schedule.prefix, known, "every known choice, the future too");
    assert_eq!(schedule.pause_at, Some(211));
    assert!(request.seeks() && !request.resume_when_still);
    assert!(
        !request.config().start_paused,
        "it runs to its step, then pauses there"
    );
    assert!(app.paused(), "the view knows it will stand still");
    assert!(status_text(&app).contains("[ ] ±1 · { } ±10 · ( ) ±100 · g G start/end"));

    // Keys while it goes there count from where it goes.
    press(&mut app, '[');
    assert_eq!(schedule_of(&app).pause_at, Some(210));
    arrive(&mut app, 210, true, false);
    press(&mut app, '{');
    assert_eq!(schedule_of(&app).pause_at, Some(200));
    arrive(&mut app, 200, true, false);
    press(&mut app, '(');
    assert_eq!(schedule_of(&app).pause_at, Some(100));
    arrive(&mut app, 100, true, false);
    assert_eq!(press(&mut app, ']'), Action::Step, "one on is a step");
    assert_eq!(press(&mut app, '}'), Action::StartRun);
    assert_eq!(schedule_of(&app).pause_at, Some(110));
    arrive(&mut app, 110, true, false);
    assert_eq!(press(&mut app, ')'), Action::StartRun);
    assert_eq!(
        schedule_of(&app).pause_at,
        Some(210),
        "past the known steps the seed picks on"
    );
    arrive(&mut app, 210, true, false);
    assert_eq!(press(&mut app, 'G'), Action::StartRun);
    let schedule = schedule_of(&app);
    assert_eq!(schedule.pause_at, Some(212));
    assert!(
        !app.run_request().is_some_and(|r| r.resume_when_still),
        "the run has not ended: it stands still at its last known step"
    );
    arrive(&mut app, 212, true, false);
    assert_eq!(press(&mut app, 'g'), Action::StartRun);
    let request = app.run_request().expect("open");
    let schedule = request.schedule.clone().expect("scheduled");
    assert_eq!(
        (schedule.pause_at, request.paused),
        (None, true),
        "step 0 is a run that starts paused"
    );
    assert_eq!(schedule.prefix, known);
    assert_eq!(press(&mut app, '['), Action::None, "nothing before step 0");
}

#[test]
fn forward_one_step_pauses_a_running_run_first() {
    let mut app = scheduled_pipeline("correct");
    ran_to(&mut app, 40);
    assert_eq!(press(&mut app, ']'), Action::SetPaused(true));
    assert!(status_text(&app).contains("s or ] steps one, [ goes back"));
    app.on_snapshot(
        at_step(mid_run(1_500, 8), 40, true, false),
        EventBatch::default(),
    );
    assert_eq!(press(&mut app, ']'), Action::Step);
    assert_eq!(press(&mut app, 's'), Action::Step, "s is the same step");
}

#[test]
fn to_the_end_of_an_ended_run_lets_it_end_again() {
    let mut app = scheduled_pipeline("unclosed");
    ran_to(&mut app, 150);
    app.on_finished(scheduled_deadlock(212), EventBatch::default());
    press(&mut app, 'g');
    app.on_snapshot(
        at_step(mid_run(0, 0), 0, true, false),
        EventBatch::default(),
    );
    assert_eq!(press(&mut app, 'G'), Action::StartRun);
    let request = app.run_request().expect("open");
    assert_eq!(
        request.schedule.as_ref().and_then(|s| s.pause_at),
        Some(212)
    );
    assert!(
        request.resume_when_still,
        "there, it goes on to its verdict"
    );
    assert!(!app.paused());
    // Standing at the last step already: going on is enough.
    let mut app = scheduled_pipeline("unclosed");
    ran_to(&mut app, 150);
    app.on_finished(scheduled_deadlock(212), EventBatch::default());
    press(&mut app, '[');
    arrive(&mut app, 211, true, false);
    press(&mut app, ']');
    app.on_snapshot(
        at_step(mid_run(0, 0), 212, true, false),
        EventBatch::default(),
    );
    assert_eq!(press(&mut app, 'G'), Action::SetPaused(false));
}

#[test]
fn free_runs_cannot_rewind_and_seeds_change_with_n() {
    let mut app = scheduled_pipeline("correct");
    ran_to(&mut app, 30);
    assert_eq!(press(&mut app, 'n'), Action::StartRun);
    let seed = app.steering().seed;
    assert_ne!(seed, 1);
    assert_eq!(schedule_of(&app), Schedule::random(seed));
    assert!(app.steering().known.is_empty(), "another seed, another run");
    assert!(status_text(&app).contains(&format!("seed 1 → {seed}")));
    assert_eq!(press(&mut app, 'r'), Action::StartRun);
    assert_eq!(
        schedule_of(&app),
        Schedule::random(seed),
        "r keeps the seed: the same run again"
    );
    assert!(status_text(&app).contains("the same run"));
    assert_eq!(press(&mut app, 'm'), Action::StartRun);
    for c in ['[', ']', 'g', 'G', '{', '('] {
        assert_eq!(press(&mut app, c), Action::None, "{c}");
        assert!(
            status_text(&app).contains("m runs it scheduled"),
            "{c}: {}",
            status_text(&app)
        );
    }
    assert_eq!(press(&mut app, 'n'), Action::None);
    assert_eq!(press(&mut app, 'm'), Action::StartRun);
    assert_eq!(schedule_of(&app).seed, seed, "back on the same seed");
}

#[test]
fn t_and_knobs_forget_the_known_steps_but_keep_the_seed() {
    let mut app = scheduled_pipeline("correct");
    ran_to(&mut app, 30);
    press(&mut app, 'n');
    let seed = app.steering().seed;
    ran_to(&mut app, 30);
    assert_eq!(press(&mut app, 't'), Action::StartRun);
    assert!(app.steering().known.is_empty());
    assert_eq!(schedule_of(&app), Schedule::random(seed));
    ran_to(&mut app, 30);
    assert_eq!(press(&mut app, 'W'), Action::StartRun);
    assert!(app.steering().known.is_empty());
}

#[test]
fn p_takes_over_at_the_current_step_and_hands_back_there() {
    let mut app = scheduled_pipeline("correct");
    ran_to(&mut app, 212);
    press(&mut app, '(');
    arrive(&mut app, 112, true, false);
    assert_eq!(press(&mut app, 'p'), Action::StartRun);
    assert_eq!(app.steering().mode, Mode::Play);
    let request = app.run_request().expect("open");
    let schedule = request.schedule.clone().expect("scheduled");
    assert_eq!(schedule.strategy, Strategy::Manual);
    assert_eq!(schedule.prefix, trace(112).choices, "the choices so far");
    assert_eq!(schedule.pause_at, Some(112));
    assert!(request.resume_when_still && !request.paused);
    assert!(status_text(&app).contains("you are the scheduler from step 112"));
    arrive(&mut app, 112, false, true);
    // Space and s belong to the seed's runs.
    assert_eq!(press(&mut app, ' '), Action::None);
    assert!(status_text(&app).contains("you are the scheduler"));
    assert_eq!(press(&mut app, 's'), Action::None);
    assert_eq!(press(&mut app, 'p'), Action::StartRun);
    assert_eq!(app.steering().mode, Mode::Scheduled);
    let request = app.run_request().expect("open");
    let schedule = request.schedule.clone().expect("scheduled");
    assert_eq!(
        (schedule.strategy, schedule.seed),
        (Strategy::Random, 1),
        "the seed takes over"
    );
    assert_eq!(schedule.prefix, trace(112).choices, "not the old future");
    assert_eq!(schedule.pause_at, Some(112));
    assert!(request.resume_when_still, "and goes on at once");
    assert!(status_text(&app).contains("random seed 1 takes over from step 112"));
}

#[test]
fn digits_and_enter_pick_and_undo_goes_back_to_the_pick() {
    let mut app = scheduled_pipeline("correct");
    assert_eq!(press(&mut app, '3'), Action::None, "not playing yet");
    assert!(status_text(&app).contains("p starts"));
    assert_eq!(press(&mut app, 'p'), Action::StartRun);
    assert_eq!(schedule_of(&app), Schedule::manual(), "from step 0");
    arrive(&mut app, 37, false, true);
    app.on_next_ops(play_ops());
    assert_eq!(
        press(&mut app, '3'),
        Action::Choose(Choice::worker(4)),
        "3 is the third pickable entry: filter"
    );
    assert_eq!(app.steering().picks, [38]);
    assert!(status_text(&app).contains("step 38: filter goes"));
    assert_eq!(press(&mut app, '4'), Action::None, "only three can go");
    assert!(status_text(&app).contains("only 3 can go now"));
    // Forced steps run, then the run waits again.
    arrive(&mut app, 41, false, true);
    app.on_next_ops(play_ops());
    app.on_key(key(KeyCode::Down));
    assert_eq!(
        app.on_key(key(KeyCode::Enter)),
        Action::Choose(Choice::worker(2)),
        "↓ then Enter: the second"
    );
    assert_eq!(app.steering().picks, [38, 42]);
    arrive(&mut app, 44, false, false);
    assert_eq!(
        press(&mut app, '1'),
        Action::None,
        "the run does not wait for a pick now"
    );
    assert!(status_text(&app).contains("not yet"));

    assert_eq!(press(&mut app, 'u'), Action::StartRun);
    let schedule = schedule_of(&app);
    assert_eq!(schedule.strategy, Strategy::Manual);
    assert_eq!(
        schedule.pause_at,
        Some(41),
        "back to just before the last pick"
    );
    assert_eq!(schedule.prefix, trace(41).choices);
    assert!(app.run_request().is_some_and(|r| r.resume_when_still));
    assert!(status_text(&app).contains("undid your pick of step 42"));
    arrive(&mut app, 41, false, true);
    press(&mut app, 'u');
    assert_eq!(schedule_of(&app).pause_at, Some(37));
    arrive(&mut app, 37, false, true);
    // Back steps while playing land where the run waited for a pick.
    press(&mut app, ']');
    assert_eq!(
        schedule_of(&app).pause_at,
        Some(38),
        "] redoes from the known steps"
    );
    arrive(&mut app, 41, false, true);
    press(&mut app, '[');
    assert_eq!(
        schedule_of(&app).pause_at,
        Some(37),
        "[ from 41 skips the forced steps 38–40 to the pick at 37"
    );
}

#[test]
fn renders_the_play_panel() {
    let mut app = scheduled_pipeline("correct");
    press(&mut app, 'p');
    arrive(&mut app, 37, false, true);
    app.on_next_ops(play_ops());
    let shown = screen(&app, 120, 40);
    for line in [
        "play the scheduler",
        "after step 37: who goes next?",
        "▶1 generate: send item 9 on `numbers` (3/4)",
        " 2 square#1: receive item 5 from `numbers`",
        "   square#2: work until 1.62 s (would wait)",
        " 3 filter: receive item 3 from `squares` (2/4)",
        "free play, no goal (c opens a challenge)",
        "playing the scheduler · step 37",
        "◆ your pick",
    ] {
        assert!(shown.contains(line), "{line:?} missing: {shown}");
    }
    insta::assert_snapshot!("play_panel_120x40", shown);
    app.on_resize(80, 24);
    insta::assert_snapshot!("play_panel_80x24", screen(&app, 80, 24));
}

#[test]
fn a_challenge_opens_in_play_mode_and_says_when_its_goal_is_reached() {
    let mut app = scheduled_pipeline("correct");
    assert_eq!(press(&mut app, 'h'), Action::None);
    assert!(status_text(&app).contains("c opens one"));
    assert_eq!(press(&mut app, 'c'), Action::StartRun);
    let view = app.lesson().expect("open");
    assert_eq!(view.knobs, PIPELINE_CHALLENGES[0].knobs);
    assert_eq!(app.steering().mode, Mode::Play);
    assert_eq!(schedule_of(&app), Schedule::manual());
    assert!(app.challenge().is_some_and(|(i, _)| i == 0));
    assert!(status_text(&app).starts_with("challenge 1/2: fill `squares`"));
    press(&mut app, 'h');
    assert!(status_text(&app).contains("hint: run generate"));

    let mut full = mid_run(1_300, 0);
    full.channels[1].capacity = Some(2);
    full.channels[1].len = 2;
    arrive(&mut app, 20, false, true);
    assert_eq!(app.steering().reached, None, "not yet");
    app.on_snapshot(
        at_step(full.clone(), 23, false, true),
        EventBatch::default(),
    );
    app.on_next_ops(play_ops());
    assert_eq!(app.steering().reached, Some(23));
    assert!(status_text(&app).contains("✓ goal reached in 23 steps"));
    // It keeps saying so after the picture moves on.
    app.on_snapshot(
        at_step(mid_run(1_400, 1), 25, false, true),
        EventBatch::default(),
    );
    app.on_trace(&trace(25));
    let shown = screen(&app, 120, 40);
    assert!(shown.contains("✓ goal reached in 23 steps"), "{shown}");
    assert!(
        shown.contains("playing · challenge 1/2 · step 25"),
        "{shown}"
    );
    assert!(shown.contains("hint: run generate"), "{shown}");
    insta::assert_snapshot!("challenge_reached_120x40", shown);
    app.on_resize(80, 24);
    insta::assert_snapshot!("challenge_reached_80x24", screen(&app, 80, 24));
    app.on_resize(120, 40);

    // The help shows the hint first.
    press(&mut app, '?');
    let help = screen(&app, 120, 40);
    assert!(help.contains("challenge 1/2: fill `squares`") && help.contains("hint: run generate"));
    press(&mut app, '?');

    assert_eq!(press(&mut app, 'c'), Action::StartRun);
    assert_eq!(app.lesson().map(|v| v.variant.name), Some("leak"));
    assert_eq!(app.steering().reached, None, "another goal");
    assert_eq!(press(&mut app, 'C'), Action::StartRun, "C goes back");
    assert!(app.challenge().is_some_and(|(i, _)| i == 0));
    // Another variant is another world: the challenge is left.
    assert_eq!(press(&mut app, 't'), Action::StartRun);
    assert!(app.challenge().is_none());
    assert!(status_text(&app).contains("challenge left (c opens it again)"));
    assert_eq!(app.steering().mode, Mode::Play, "still playing, freely");
}

#[test]
fn a_lesson_without_challenges_says_so() {
    let mut app = scheduled_app();
    app.open_lesson(&FAN, None, None);
    assert_eq!(press(&mut app, 'c'), Action::None);
    assert!(
        status_text(&app).contains("no challenge for this lesson yet"),
        "{}",
        status_text(&app)
    );
    assert_eq!(press(&mut app, 'p'), Action::StartRun);
    assert!(
        !status_text(&app).contains("c opens"),
        "{}",
        status_text(&app)
    );
    arrive(&mut app, 3, false, true);
    let shown = screen(&app, 120, 40);
    assert!(
        shown.contains("no challenge for this lesson yet"),
        "{shown}"
    );
}

#[test]
fn lesson_01_challenge_opens_on_its_variant_and_knobs() {
    let mut app = App::new(lessons::catalog(), Theme::default());
    app.on_resize(120, 40);
    let lesson = lessons::catalog()[0];
    app.open_lesson(lesson, None, None);
    let n = lesson.challenges.len();
    assert!(n >= 1, "lesson 01 has a challenge");
    assert_eq!(press(&mut app, 'c'), Action::StartRun);
    let challenge = &lesson.challenges[0];
    let view = app.lesson().expect("open");
    assert_eq!(view.variant.name, challenge.variant);
    assert_eq!(view.knobs, challenge.knobs);
    assert!(status_text(&app).contains(&format!("challenge 1/{n}: {}", challenge.title)));
    let config = app.run_request().expect("open").config();
    assert_eq!(config.schedule, Some(Schedule::manual()));
    assert!(config.realtime && config.log_items);
}

#[test]
fn a_launch_schedule_is_a_replay_and_free_launches_free() {
    let recorded = trace(57).choices;
    let replay = Schedule::pct(17).with_prefix(recorded.clone());
    let mut app =
        App::new(FIXTURE_CATALOG, Theme::default()).with_launch(Some(replay.clone()), false);
    app.on_resize(120, 40);
    app.open_lesson(&PIPELINE, None, None);
    assert_eq!(schedule_of(&app), replay, "the recorded choices first");
    assert_eq!(app.steering().known, recorded);
    let shown = screen(&app, 120, 40);
    assert!(
        shown.contains("scheduled · pct seed 17 · step 0") && shown.contains("step 0 of 57"),
        "{shown}"
    );
    // A later `r` replays it again.
    press(&mut app, 'r');
    assert_eq!(schedule_of(&app), replay);

    // Rewound to a step, the replay opens there, paused.
    let at = Schedule::random(3)
        .with_prefix(recorded.clone())
        .paused_at(20);
    let mut app = App::new(FIXTURE_CATALOG, Theme::default()).with_launch(Some(at.clone()), false);
    app.open_lesson(&PIPELINE, None, None);
    let request = app.run_request().expect("open");
    assert_eq!(request.schedule, Some(at));
    assert!(request.seeks() && !request.config().start_paused && app.paused());
    assert_eq!(app.steering().seek, Some(20));

    let manual = Schedule::manual().with_prefix(recorded[..5].to_vec());
    let mut app = App::new(FIXTURE_CATALOG, Theme::default()).with_launch(Some(manual), false);
    app.open_lesson(&PIPELINE, None, None);
    assert_eq!(app.steering().mode, Mode::Play);
    let schedule = schedule_of(&app);
    assert_eq!(
        (schedule.prefix.len(), schedule.pause_at),
        (5, Some(5)),
        "a manual schedule: the learner picks on from its end"
    );

    let mut app = App::new(FIXTURE_CATALOG, Theme::default()).with_launch(None, true);
    app.open_lesson(&PIPELINE, None, None);
    assert_eq!(app.steering().mode, Mode::Free);
    assert!(app.run_request().is_some_and(|r| r.schedule.is_none()));
}

#[test]
fn the_help_lists_the_new_keys_and_scrolls() {
    let mut app = scheduled_pipeline("correct");
    app.on_resize(80, 24);
    press(&mut app, '?');
    let top = screen(&app, 80, 24);
    for key in ["[ / ]", "{ / }", "( / )", "g / G", " m ", " n "] {
        assert!(top.contains(key), "{key}: {top}");
    }
    assert!(top.contains("↓ more: ↑ ↓ scroll"), "{top}");
    // The end, and a row back up (the `o / O` row pushed the play keys'
    // first row off the last page).
    app.on_key(key(KeyCode::End));
    app.on_key(key(KeyCode::Up));
    let end = screen(&app, 80, 24);
    for key in [
        "1–9, ↑ ↓ Enter",
        "can take is taken for you",
        "undo your last pick",
        "c / C",
    ] {
        assert!(end.contains(key), "{key}: {end}");
    }
    assert_eq!(
        press(&mut app, 't'),
        Action::None,
        "keys wait while help shows"
    );
    app.on_key(key(KeyCode::Esc));
    assert!(!app.help());
    let hints = screen(&app, 80, 24);
    assert!(
        hints.contains("[ ] rewind") && hints.contains("p play"),
        "{hints}"
    );
}

/// A goal on the real lesson 01 pipeline that a learner reaches by hand:
/// back-pressure at the head of the pipeline.
fn numbers_full_before_squaring(snapshot: &Snapshot, _: &[Event]) -> bool {
    snapshot.channels.iter().any(|c| {
        c.name == "numbers"
            && c.capacity.is_some_and(|cap| cap > 0 && c.len >= cap)
            && c.received == 0
    })
}

static PLAYABLE_CHALLENGES: [Challenge; 1] = [Challenge {
    title: "fill `numbers` before any square worker has taken an item",
    hint: "let generate send whenever it can; keep the square workers waiting",
    variant: "correct",
    knobs: Knobs {
        items: 8,
        buffer: 2,
        workers: 2,
        seed: 1,
    },
    reached: numbers_full_before_squaring,
}];

/// The real lesson 01 (its main, variants and text), with the challenge above.
fn playable_pipeline() -> &'static [&'static Lesson] {
    let real = &lessons::pipeline::LESSON;
    let lesson: &'static Lesson = Box::leak(Box::new(Lesson {
        number: real.number,
        slug: real.slug,
        title: real.title,
        summary: real.summary,
        readme: real.readme,
        variants: real.variants,
        defaults: real.defaults,
        ranges: real.ranges.clone(),
        main: real.main,
        hidden_by: real.hidden_by,
        challenges: &PLAYABLE_CHALLENGES,
    }));
    Box::leak(vec![lesson].into_boxed_slice())
}

/// Plays a challenge on a real run, as a learner would: read who can go,
/// press its digit, let the lab run the pick, until the view says the
/// goal is reached. The picks never let a square worker receive.
#[test]
fn a_challenge_is_solved_by_picking_on_a_real_run() {
    let catalog = playable_pipeline();
    let mut app = App::new(catalog, Theme::default());
    app.on_resize(120, 40);
    app.open_lesson(catalog[0], None, None);
    assert_eq!(press(&mut app, 'c'), Action::StartRun);
    let request = app.run_request().expect("a lesson is open");
    let run = request
        .lesson
        .start(request.variant, request.knobs, request.config());
    let lab = run.lab().clone();
    let mut next = 0;
    let mut picks = 0;
    while app.steering().reached.is_none() {
        assert!(picks < 100, "no goal after {picks} picks");
        assert!(!run.is_finished(), "the run ended before the goal");
        assert!(
            lab.wait_still(Duration::from_secs(10)),
            "the run stands still, waiting for a pick"
        );
        let batch = lab.events_since(next);
        next = batch.events.last().map_or(next, |e| e.seq + 1);
        app.on_snapshot(lab.snapshot(), batch);
        if let Some(trace) = lab.trace() {
            app.on_trace(&trace);
        }
        app.on_next_ops(lab.next_ops());
        if app.steering().reached.is_some() {
            break;
        }
        let index = app
            .steering()
            .pickable()
            .position(|(op, _)| !(op.worker.starts_with("square") && op.words.contains("receive")))
            .expect("a pick that keeps the square workers waiting");
        let digit = char::from(b'1' + u8::try_from(index).expect("a digit"));
        match press(&mut app, digit) {
            Action::Choose(choice) => lab.choose(choice).expect("the pick runs"),
            other => panic!("{digit} did {other:?}: {}", status_text(&app)),
        }
        picks += 1;
    }
    let steps = app.steering().reached.expect("reached");
    assert!(steps > 0 && picks > 0);
    let shown = screen(&app, 120, 40);
    assert!(
        shown.contains(&format!("✓ goal reached in {steps} steps")),
        "{shown}"
    );
    let numbers = lab
        .snapshot()
        .channels
        .into_iter()
        .find(|c| c.name == "numbers")
        .expect("numbers");
    assert_eq!((numbers.len, numbers.received), (2, 0), "full, untouched");
    drop(run);
}

// ------------------------------------ issue 12: the occupancy plot

static BACKPRESSURE_VARIANTS: [Variant; 2] = [
    Variant {
        name: "correct",
        kind: VariantKind::Correct,
        summary: "bounded queues: a full queue makes its sender wait",
        explains: "no queue ever holds more than its capacity",
        fixed_by: None,
        expect: Expect::Clean,
    },
    Variant {
        name: "unbounded-queue",
        kind: VariantKind::Trap,
        summary: "`lines` is unbounded: no send to it ever waits",
        explains: "the difference piles up in `lines`, without limit",
        fixed_by: Some("correct"),
        expect: Expect::Broken,
    },
];

static BACKPRESSURE: Lesson = Lesson {
    number: 9,
    slug: "backpressure",
    title: "Backpressure",
    summary: "a fast reader, a slow writer: bounded queues slow the reader down",
    readme: "# 09 Backpressure\n\nA bounded queue pushes back.\n",
    variants: &BACKPRESSURE_VARIANTS,
    defaults: Knobs {
        items: 400,
        buffer: 100,
        workers: 2,
        seed: 1,
    },
    ranges: KnobRanges {
        items: 2..=10_000,
        buffer: 1..=1_000,
        workers: 1..=4,
    },
    main: fixture_main,
    hidden_by: chanlab::lessons::never_hidden,
    challenges: &[],
};

/// The trap `t` ms in (every 100 ms a frame): `read` outruns everyone, so
/// the unbounded `lines` grows by 12 a frame; `records` (50) is full from
/// 1 s on; `stored` (25) holds a few.
fn backpressure_at(t: u64) -> Snapshot {
    backpressure_run(t, None)
}

/// The pipeline `t` ms in with `lines` of `capacity` (`None`: unbounded,
/// the trap): a bounded one fills up to its capacity and stays there.
fn backpressure_run(t: u64, capacity: Option<usize>) -> Snapshot {
    let frame = t / 100;
    let workers = vec![
        worker(
            0,
            "main",
            WorkerState::Joining {
                worker: "store".into(),
            },
        ),
        worker(1, "read", WorkerState::Running),
        worker(2, "parse#1", send("records")),
        worker(3, "parse#2", WorkerState::Sleeping(SleepReason::Work)),
        worker(4, "store", WorkerState::Sleeping(SleepReason::Work)),
    ];
    let lines_len = ((frame * 12) as usize).min(capacity.unwrap_or(usize::MAX));
    let mut lines = channel(
        0,
        "lines",
        capacity,
        lines_len,
        lines_len as u64 + frame * 2,
    );
    lines.sender_stages = vec!["read".into()];
    lines.receiver_stages = vec!["parse".into()];
    let records_len = ((frame * 5) as usize).min(50);
    let mut records = channel(
        1,
        "records",
        Some(50),
        records_len,
        frame * 2 + records_len as u64,
    );
    records.sender_stages = vec!["parse".into()];
    records.receiver_stages = vec!["store".into()];
    if records_len == 50 {
        records.send_waiting = 1;
    }
    let stored_len = (frame % 4) as usize;
    let stored = channel(2, "stored", Some(25), stored_len, frame + stored_len as u64);
    snapshot(t, workers, vec![lines, records, stored])
}

fn backpressure_app(variant: &str) -> App {
    let mut app = fixture_app();
    let action = app.open_lesson(&BACKPRESSURE, BACKPRESSURE.variant(variant), None);
    assert_eq!(action, Action::StartRun);
    app
}

/// Frames from 0 to `until` ms, one every 100 ms.
fn feed_backpressure(app: &mut App, until: u64) {
    for t in (0..=until).step_by(100) {
        app.on_snapshot(backpressure_at(t), EventBatch::default());
    }
}

fn occupancy(app: &App) -> &chanlab::tui::occupancy::Occupancy {
    &app.lesson().expect("a lesson is open").live.occupancy
}

fn plot_shown(app: &App) -> bool {
    app.lesson().expect("a lesson is open").plot_shown()
}

fn picked(app: &App) -> Option<String> {
    app.lesson().expect("a lesson is open").plot.channel.clone()
}

#[test]
fn renders_the_occupancy_plot() {
    let mut app = backpressure_app("unbounded-queue");
    feed_backpressure(&mut app, 3_000);
    assert!(plot_shown(&app), "a run with an unbounded channel shows it");
    let wide = screen(&app, 120, 40);
    for part in [
        "occupancy 0.0–3.0s · O one at a time · o hides",
        "lines  now 360 · peak 360, cap ∞ · top: 360",
        "records  now 50 · peak 50/50 · ┄ is the cap",
        "stored  now 2 · peak 3/25 · ┄ is the cap",
        "┄┄┄┄",
    ] {
        assert!(wide.contains(part), "{part}: {wide}");
    }
    insta::assert_snapshot!("occupancy_plot_120x40", wide);
    app.on_resize(80, 24);
    let small = screen(&app, 80, 24);
    for part in ["peak 360, cap ∞", "peak 50/50", "peak 3/25", "events: all"] {
        assert!(small.contains(part), "{part}: {small}");
    }
    // The workers and channels keep their rows: the plot took the log's.
    for row in [
        "read     ▶ running",
        "lines   ▕",
        "records ▕",
        "stored  ▕",
        "recv/s",
    ] {
        assert!(small.contains(row), "{row}: {small}");
    }
    insta::assert_snapshot!("occupancy_plot_80x24", small);
}

#[test]
fn the_plot_of_one_channel_and_in_monochrome() {
    let mut app = App::new(FIXTURE_CATALOG, Theme { color: false }).with_launch(None, true);
    app.on_resize(120, 40);
    app.open_lesson(&BACKPRESSURE, BACKPRESSURE.variant("unbounded-queue"), None);
    feed_backpressure(&mut app, 3_000);
    press(&mut app, 'O');
    press(&mut app, 'O');
    assert_eq!(picked(&app).as_deref(), Some("records"));
    let buffer = draw(&app, 120, 40);
    let shown = text(&buffer);
    assert!(
        shown.contains("occupancy of `records` 0.0–3.0s · O next · o hides"),
        "{shown}"
    );
    assert!(!shown.contains("stored  now"), "one channel only: {shown}");
    assert!(
        buffer
            .content
            .iter()
            .all(|c| c.fg == Color::Reset && c.bg == Color::Reset),
        "no colours in monochrome"
    );
    insta::assert_snapshot!("occupancy_plot_one_channel_120x40", shown);
}

static TREE: Lesson = Lesson {
    number: 10,
    slug: "cancellation-tree",
    title: "Cancellation trees",
    summary: "one cancel at the root reaches every child",
    readme: "# 10 Cancellation trees\n\nClose `done`, and every child hears it.\n",
    variants: &FAN_VARIANTS,
    defaults: Knobs {
        items: 20,
        buffer: 4,
        workers: 3,
        seed: 1,
    },
    ranges: KnobRanges {
        items: 2..=100,
        buffer: 0..=16,
        workers: 1..=8,
    },
    main: fixture_main,
    hidden_by: chanlab::lessons::never_hidden,
    challenges: &[],
};

/// Fourteen channels, most of them rendezvous done channels, as lesson 10
/// has: more than an 80×24 channel list shows.
fn tree_snapshot() -> Snapshot {
    let mut workers = vec![worker(
        0,
        "main",
        WorkerState::Joining {
            worker: "query#1".into(),
        },
    )];
    for i in 1..=3 {
        workers.push(worker(i, &format!("query#{i}"), recv(&format!("rows#{i}"))));
    }
    for i in 1..=3 {
        workers.push(worker(
            3 + i,
            &format!("stream#{i}"),
            send(&format!("rows#{i}")),
        ));
    }
    let names = [
        ("done", Some(0)),
        ("done.q1", Some(0)),
        ("done.q2", Some(0)),
        ("done.q3", Some(0)),
        ("done.s1", Some(0)),
        ("done.s2", Some(0)),
        ("done.s3", Some(0)),
        ("rows#1", Some(0)),
        ("rows#2", Some(0)),
        ("rows#3", Some(0)),
        ("results", Some(4)),
        ("ended", Some(0)),
        ("in_hand", Some(3)),
        ("gate", Some(0)),
    ];
    let channels = names
        .iter()
        .enumerate()
        .map(|(id, (name, cap))| {
            let len = if *name == "in_hand" { 2 } else { 0 };
            let mut ch = channel(id, name, *cap, len, 3);
            if *name == "gate" {
                ch.send_waiting = 1;
            }
            ch
        })
        .collect();
    snapshot(900, workers, channels)
}

#[test]
fn the_occupancy_history_is_bounded_and_keeps_the_peak() {
    use chanlab::tui::occupancy::SAMPLES_KEPT;
    let mut app = backpressure_app("unbounded-queue");
    // Three thousand frames a millisecond apart: more moments than kept.
    let frames = 3_000u64;
    for t in 0..frames {
        let mut snap = backpressure_at(0);
        snap.elapsed = Duration::from_millis(t);
        // `lines` peaks once, at 700 items, in the middle of the run.
        snap.channels[0].len = if t == 1_234 { 700 } else { (t % 50) as usize };
        app.on_snapshot(snap, EventBatch::default());
    }
    let occ = occupancy(&app);
    let lines = occ.get("lines").expect("`lines` is plotted");
    assert!(
        lines.samples().len() <= SAMPLES_KEPT && lines.samples().len() > SAMPLES_KEPT / 4,
        "bounded, and still fine-grained: {}",
        lines.samples().len()
    );
    assert_eq!(lines.peak, 700);
    assert_eq!(lines.peak_text(), "peak 700, cap ∞");
    assert_eq!(
        lines.samples().map(|s| s.len).max(),
        Some(700),
        "the peak survives the merging"
    );
    assert_eq!(lines.now, ((frames - 1) % 50) as usize);
    assert_eq!(
        occ.span(),
        Some((Duration::ZERO, Duration::from_millis(frames - 1))),
        "the whole run stays in view"
    );
    let records = occ.get("records").expect("`records` is plotted");
    assert_eq!(records.peak_text(), "peak 0/50");
    assert!(
        occ.get("warmup").is_none() && occ.channels().len() == 3,
        "only channels with a buffer"
    );
}

#[test]
fn the_history_is_kept_in_lesson_time() {
    let mut app = backpressure_app("unbounded-queue");
    feed_backpressure(&mut app, 1_000);
    let before = occupancy(&app)
        .get("lines")
        .expect("plotted")
        .samples()
        .len();
    // Paused: frames keep coming, lesson time stands still.
    for _ in 0..50 {
        app.on_snapshot(backpressure_at(1_000), EventBatch::default());
    }
    let lines = occupancy(&app).get("lines").expect("plotted");
    assert_eq!(lines.samples().len(), before, "a pause adds no moment");
    assert_eq!(lines.peak, 120);
    // A snapshot from earlier than the last one is another run's.
    app.on_snapshot(backpressure_at(200), EventBatch::default());
    let occ = occupancy(&app);
    assert_eq!(
        occ.span(),
        Some((Duration::from_millis(200), Duration::from_millis(200)))
    );
    assert_eq!(occ.get("lines").expect("plotted").peak, 24);
}

#[test]
fn a_restart_or_a_rewind_clears_the_history() {
    let mut app = backpressure_app("unbounded-queue");
    feed_backpressure(&mut app, 2_000);
    assert_eq!(press(&mut app, 'r'), Action::StartRun);
    assert!(
        occupancy(&app).channels().is_empty(),
        "restart: a new history"
    );
    assert!(occupancy(&app).span().is_none());

    let mut app = scheduled_app();
    app.open_lesson(&BACKPRESSURE, BACKPRESSURE.variant("unbounded-queue"), None);
    for t in (0..=2_000).step_by(100) {
        app.on_snapshot(
            at_step(backpressure_at(t), t / 10, false, false),
            EventBatch::default(),
        );
    }
    app.on_trace(&trace(200));
    assert_eq!(press(&mut app, '('), Action::StartRun);
    assert_eq!(app.steering().seek, Some(100));
    assert_eq!(
        occupancy(&app).get("lines").expect("plotted").peak,
        240,
        "the old picture stays while the rewind runs"
    );
    // The rewound run stands still at step 100, 1 s in.
    app.on_snapshot(
        at_step(backpressure_at(1_000), 100, true, false),
        EventBatch::default(),
    );
    let occ = occupancy(&app);
    let lines = occ.get("lines").expect("plotted");
    assert_eq!(lines.samples().len(), 1, "a rewind starts a new history");
    assert_eq!(lines.peak, 120, "the peak is the rewound run's");
    assert_eq!(
        occ.span(),
        Some((Duration::from_secs(1), Duration::from_secs(1)))
    );
    assert!(screen(&app, 120, 40).contains("occupancy 1.0–1.0s"));
}

#[test]
fn o_shows_and_hides_the_plot_and_the_choice_holds() {
    let mut app = backpressure_app("correct");
    for t in (0..=1_000).step_by(100) {
        app.on_snapshot(backpressure_run(t, Some(100)), EventBatch::default());
    }
    assert!(!plot_shown(&app), "all bounded: hidden until asked for");
    assert!(!screen(&app, 120, 40).contains("occupancy"));
    assert_eq!(press(&mut app, 'o'), Action::None);
    assert!(plot_shown(&app));
    assert!(status_text(&app).contains("occupancy plot shown (o hides it"));
    let shown = screen(&app, 120, 40);
    assert!(shown.contains("lines  now 100 · peak 100/100"), "{shown}");
    press(&mut app, 'o');
    assert!(!plot_shown(&app));
    assert_eq!(status_text(&app), "occupancy plot hidden (o shows it)");

    // Hidden by choice: an unbounded run no longer opens it, in this
    // lesson or the next.
    press(&mut app, 't');
    feed_backpressure(&mut app, 500);
    assert!(!plot_shown(&app), "the learner's choice wins");
    press(&mut app, 'q');
    app.open_lesson(&BACKPRESSURE, BACKPRESSURE.variant("unbounded-queue"), None);
    feed_backpressure(&mut app, 500);
    assert!(!plot_shown(&app), "and holds for the next lesson opened");
    press(&mut app, 'o');
    press(&mut app, 'q');
    app.open_lesson(&PIPELINE, None, None);
    feed_mid_run(&mut app);
    assert!(plot_shown(&app), "shown by choice, in every lesson");
    assert!(screen(&app, 80, 24).contains("squares"));
}

#[test]
fn the_plot_opens_by_itself_only_on_a_run_with_an_unbounded_channel() {
    let mut app = backpressure_app("unbounded-queue");
    feed_backpressure(&mut app, 300);
    assert!(plot_shown(&app));
    // The correct variant's run is all bounded: the plot goes with it.
    press(&mut app, 't');
    app.on_snapshot(backpressure_run(0, Some(100)), EventBatch::default());
    assert!(!plot_shown(&app));
}

#[test]
fn big_o_picks_each_channel_then_the_fullest() {
    let mut app = backpressure_app("unbounded-queue");
    assert_eq!(press(&mut app, 'O'), Action::None);
    assert_eq!(status_text(&app), "no channels yet: the run is starting");
    assert_eq!(picked(&app), None);
    feed_backpressure(&mut app, 1_000);
    let mut seen = Vec::new();
    for _ in 0..4 {
        press(&mut app, 'O');
        seen.push((picked(&app), status_text(&app)));
    }
    assert_eq!(
        seen,
        [
            (
                Some("lines".to_owned()),
                "plot: `lines`, channel 1 of 3 (O next)".to_owned()
            ),
            (
                Some("records".to_owned()),
                "plot: `records`, channel 2 of 3 (O next)".to_owned()
            ),
            (
                Some("stored".to_owned()),
                "plot: `stored`, channel 3 of 3 (O next)".to_owned()
            ),
            (
                None,
                "plot: the fullest channels (O: one at a time)".to_owned()
            ),
        ]
    );
    // The pick holds across a restart (the same lesson has the same channels).
    press(&mut app, 'O');
    press(&mut app, 'r');
    assert_eq!(picked(&app).as_deref(), Some("lines"));
    // With the plot hidden, O still picks, and says how to see it.
    let mut app = pipeline_app("correct");
    feed_mid_run(&mut app);
    press(&mut app, 'O');
    assert_eq!(
        status_text(&app),
        "plot: `numbers`, channel 1 of 3 (O next, o shows the plot)"
    );
}

#[test]
fn big_o_reaches_every_channel_of_a_long_list_at_80x24() {
    let mut app = fixture_app();
    app.open_lesson(&TREE, None, None);
    app.on_resize(80, 24);
    app.on_snapshot(tree_snapshot(), EventBatch::default());
    let before = screen(&app, 80, 24);
    assert!(
        before.contains("… 5 more channels (O steps through them)"),
        "{before}"
    );
    assert!(!before.contains("gate"), "{before}");
    for _ in 0..14 {
        press(&mut app, 'O');
    }
    assert_eq!(picked(&app).as_deref(), Some("gate"));
    let after = screen(&app, 80, 24);
    assert!(
        after.contains("gate    ⇄ rendezvous sent 3 recv 3 ⇥1 ⇤0"),
        "{after}"
    );
    assert!(
        after.contains("stream ×3") && after.contains("query ×3"),
        "the stages stay: {after}"
    );
    // A rendezvous picked for the plot says why there is nothing to draw.
    press(&mut app, 'o');
    let plotted = screen(&app, 80, 24);
    assert!(
        plotted.contains("`gate` is a rendezvous: holds nothing, ⇥1 ⇤0"),
        "{plotted}"
    );
    // Every channel is reached once in a full cycle.
    let mut names = Vec::new();
    for _ in 0..15 {
        press(&mut app, 'O');
        if let Some(name) = picked(&app) {
            assert!(
                screen(&app, 80, 24).contains(&format!("{name:<7} ")),
                "{name}"
            );
            names.push(name);
        }
    }
    assert_eq!(names.len(), 14);
}

#[test]
fn the_help_lists_the_plot_keys() {
    let mut app = pipeline_app("correct");
    app.on_resize(120, 40);
    press(&mut app, '?');
    app.on_key(key(KeyCode::End));
    let shown = screen(&app, 120, 40);
    assert!(
        shown.contains("o / O             occupancy plot on / off; O: one channel, the next"),
        "{shown}"
    );
}

#[test]
fn big_o_scrolls_a_full_gap_of_the_wide_flow_too() {
    let mut app = fixture_app();
    app.open_lesson(&TREE, None, None);
    app.on_snapshot(tree_snapshot(), EventBatch::default());
    let before = screen(&app, 120, 40);
    assert!(
        before.contains("+5 more") && !before.contains("gate"),
        "{before}"
    );
    while picked(&app).as_deref() != Some("gate") {
        press(&mut app, 'O');
    }
    let after = screen(&app, 120, 40);
    assert!(
        after.contains("gate") && after.contains("+5 more"),
        "{after}"
    );
}

#[test]
fn unbounded_channels_share_one_scale() {
    let mut app = backpressure_app("unbounded-queue");
    for t in (0..=3_000).step_by(100) {
        let mut snap = backpressure_at(t);
        // `stored` unbounded too, holding at most one item.
        snap.channels[2].capacity = None;
        snap.channels[2].len = usize::from(t % 200 == 0);
        app.on_snapshot(snap, EventBatch::default());
    }
    app.on_resize(80, 24);
    let shown = screen(&app, 80, 24);
    let row = shown
        .lines()
        .find(|l| l.contains("peak 1, cap ∞"))
        .unwrap_or_else(|| panic!("a row for `stored`: {shown}"));
    assert!(
        row.contains('▁') && !row.contains('█'),
        "1 of 360 is the lowest bar, not a full one: {row}"
    );
}
