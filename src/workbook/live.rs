//! `r` in `chanlab watch`: the learner's own code in the TUI's run panel,
//! animated, with the failing case's schedule loaded.
//!
//! The TUI runs lessons; so the harness makes one out of the exercise: a
//! [`Lesson`] whose main is the check's scenario with the learner's code
//! in it (kept in a process-wide slot, as a lesson main is a plain `fn`),
//! whose text is the exercise's task, and whose one variant is "yours".
//! It is made once per harness process and leaked, as the catalog's
//! lessons are static.

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;
use std::sync::OnceLock;

use super::check::{Case, Scenario, Subject};
use super::exercises;
use crate::lab::Lab;
use crate::lessons::{Expect, KnobRanges, Knobs, Lesson, Outcome, Variant, VariantKind};

/// The scenario and the case the live lesson runs.
static LIVE: OnceLock<(Scenario, Case)> = OnceLock::new();

/// The lesson main of the live view: the check's scenario, with the knobs
/// the TUI passes (the learner may turn them).
fn live_main(lab: &Lab, _variant: &Variant, knobs: &Knobs) -> Outcome {
    let Some((main, case)) = LIVE.get() else {
        return Outcome::default();
    };
    let case = Case {
        workers: knobs.workers,
        buffer: knobs.buffer,
        items: knobs.items,
        ..*case
    };
    let problems = main(lab, case);
    Outcome {
        items_in: case.items,
        problems: problems.iter().map(|p| p.text.clone()).collect(),
        notes: problems.into_iter().flat_map(|p| p.details).collect(),
        ..Outcome::default()
    }
}

static YOURS: [Variant; 1] = [Variant {
    name: "yours",
    kind: VariantKind::Correct,
    summary: "your code, in the run its check found broken",
    explains: "the check's own workers feed your code and read what it gives back, as in the check",
    fixed_by: None,
    expect: Expect::Clean,
}];

/// The exercise as a lesson for the TUI.
fn lesson(subject: &Subject, case: Case) -> &'static Lesson {
    let exercise = exercises::find(subject.exercise);
    let title = exercise.map_or("your code", |e| e.title);
    let readme = format!(
        "# Exercise {:02}: {title}\n\n{}\n\nThis is **your** code, run as the check ran it: \
         {}. The rule it broke: {}.\n\nThe schedule is the one that broke it: step back and \
         forth to the moment it went wrong.\n",
        subject.exercise,
        exercise.map_or("", |e| e.task),
        case.describe(),
        subject.rule(case.part),
    );
    let lesson = Lesson {
        number: subject.exercise,
        slug: exercise.map_or("exercise", |e| e.slug),
        title,
        summary: "your code, live",
        readme: Box::leak(readme.into_boxed_str()),
        variants: &YOURS,
        defaults: case.knobs(),
        ranges: KnobRanges {
            items: 1..=1_000,
            buffer: 0..=64,
            workers: 1..=16,
        },
        main: live_main,
        hidden_by: crate::lessons::never_hidden,
        challenges: &[],
    };
    Box::leak(Box::new(lesson))
}

/// Opens `case` of `subject` in the live view; needs a terminal.
#[must_use]
pub fn open(subject: &Subject, case: Case) -> ExitCode {
    if !io::stdout().is_terminal() || !io::stdin().is_terminal() {
        let _ = writeln!(
            io::stderr(),
            "error: the live view needs a terminal; `chanlab verify {} --case {}` prints the \
             run's steps instead",
            subject.exercise,
            case.spec()
        );
        return ExitCode::from(2);
    }
    if let Some(why) = crate::tui::terminal_refusal(std::env::var_os("TERM").as_deref()) {
        let _ = writeln!(io::stderr(), "error: {why}");
        return ExitCode::from(2);
    }
    // The failing run's own choices, paused a step before its end: the
    // live view opens where it broke, and can step back from there.
    let schedule = case.mode.schedule().map(|schedule| {
        let choices = subject.replay(case).choices;
        let end = choices.len().saturating_sub(1) as u64;
        schedule.with_prefix(choices).paused_at(end)
    });
    let _ = LIVE.set((subject.live_main(), case));
    let launch = crate::tui::Launch {
        lesson: Some(lesson(subject, case)),
        variant: Some(&YOURS[0]),
        knobs: Some(case.knobs()),
        speed: 1.0,
        schedule,
        free: !case.mode.is_scheduled(),
    };
    match crate::tui::run(launch) {
        Ok(exit) => ExitCode::from(exit.code()),
        Err(e) => {
            let _ = writeln!(io::stderr(), "error: the live view failed: {e}");
            ExitCode::from(1)
        }
    }
}
