//! What the live view costs.
//!
//! - `render/8x64`: one frame of 8 stages × 64 workers (a hand-built
//!   snapshot) into a 200×60 `TestBackend`. Goal: at most 2 ms a frame.
//! - `lesson01_throughput/*`: lesson 01 (correct, 10 000 items, buffer 64,
//!   speed 100) with and without a thread taking snapshots at 30 fps, as
//!   the TUI does. Goal: with the sampler, at least 0.95× the throughput.
// `criterion_group!` makes a public function without a doc comment.
#![allow(missing_docs)]

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use chanlab::lab::{
    ChannelKind, ChannelSnapshot, Config, EventBatch, SleepReason, Snapshot, Totals,
    WorkerSnapshot, WorkerState,
};
use chanlab::lessons::{Knobs, pipeline};
use chanlab::tui::{App, Theme, ui};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const STAGES: usize = 8;
const WORKERS_PER_STAGE: usize = 64;

/// Eight stages of 64 workers in mixed states, a channel between each two.
fn big_snapshot(tick: u64) -> Snapshot {
    let mut workers = vec![WorkerSnapshot {
        id: 0,
        name: "main".into(),
        stage: "main".into(),
        state: WorkerState::Joining {
            worker: "stage7#1".into(),
        },
        ops: 0,
        external: false,
    }];
    for stage in 0..STAGES {
        for i in 0..WORKERS_PER_STAGE {
            let state = match (i + stage) % 4 {
                0 => WorkerState::Running,
                1 if stage + 1 < STAGES => WorkerState::BlockedSend {
                    channel: format!("chan{stage}"),
                },
                2 if stage > 0 => WorkerState::BlockedRecv {
                    channel: format!("chan{}", stage - 1),
                },
                _ => WorkerState::Sleeping(SleepReason::Work),
            };
            workers.push(WorkerSnapshot {
                id: workers.len(),
                name: format!("stage{stage}#{i}"),
                stage: format!("stage{stage}"),
                state,
                ops: tick,
                external: false,
            });
        }
    }
    let channels: Vec<ChannelSnapshot> = (0..STAGES - 1)
        .map(|c| ChannelSnapshot {
            id: c,
            name: format!("chan{c}"),
            capacity: Some(64),
            kind: ChannelKind::Normal,
            len: (c * 9 + tick as usize) % 65,
            sent: 1_000 * tick + c as u64,
            received: 1_000 * tick,
            senders: WORKERS_PER_STAGE,
            receivers: WORKERS_PER_STAGE,
            send_waiting: 16,
            recv_waiting: 16,
            closed: false,
        })
        .collect();
    Snapshot {
        elapsed: Duration::from_millis(33 * tick),
        totals: Totals {
            workers: workers.len(),
            live: workers.len(),
            blocked: 256,
            sent: channels.iter().map(|c| c.sent).sum(),
            received: channels.iter().map(|c| c.received).sum(),
        },
        workers,
        channels,
        verdict: None,
        paused: false,
        speed: 1.0,
        finished: false,
    }
}

fn render(c: &mut Criterion) {
    let mut app = App::new(chanlab::lessons::catalog(), Theme::default());
    app.on_resize(200, 60);
    app.open_lesson(&pipeline::LESSON, None, None);
    for tick in 0..60 {
        app.on_snapshot(big_snapshot(tick), EventBatch::default());
    }
    let mut terminal = match Terminal::new(TestBackend::new(200, 60)) {
        Ok(t) => t,
        Err(e) => match e {},
    };
    let mut group = c.benchmark_group("render");
    group.bench_function("8x64", |b| {
        b.iter(|| {
            let frame = terminal.draw(|f| ui::render(black_box(&app), f));
            black_box(frame.is_ok());
        });
    });
    group.finish();
}

const ITEMS: u64 = 10_000;

fn run_lesson(with_sampler: bool) {
    let knobs = Knobs {
        items: ITEMS,
        buffer: 64,
        workers: 64,
        seed: 1,
    };
    let config = Config {
        speed: 100.0,
        ..Config::default()
    };
    let lesson = &pipeline::LESSON;
    let run = lesson.start(lesson.correct(), knobs, config);
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = with_sampler.then(|| {
        let lab = run.lab().clone();
        let stop = Arc::clone(&stop);
        thread::spawn(move || {
            let mut next = 0;
            while !stop.load(Ordering::Relaxed) {
                black_box(lab.snapshot());
                let batch = lab.events_since(next);
                next = batch.events.last().map_or(next, |e| e.seq + 1);
                thread::sleep(Duration::from_millis(33));
            }
        })
    });
    let report = run.wait();
    stop.store(true, Ordering::Relaxed);
    if let Some(sampler) = sampler {
        let _ = sampler.join();
    }
    assert!(report.verdict.is_none(), "{:?}", report.verdict);
}

fn throughput(c: &mut Criterion) {
    let mut group = c.benchmark_group("lesson01_throughput");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10))
        .throughput(Throughput::Elements(ITEMS));
    group.bench_function("alone", |b| b.iter(|| run_lesson(false)));
    group.bench_function("sampled_30fps", |b| b.iter(|| run_lesson(true)));
    group.finish();
}

criterion_group!(benches, render, throughput);
criterion_main!(benches);
