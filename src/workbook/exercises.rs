//! The exercises: one per landed lesson, each with its first version (it
//! compiles, and it is wrong or incomplete: its check fails), a solution,
//! a hint, and the line of the generated harness that hands the
//! learner's code to its check.

/// One exercise of the workbook.
#[derive(Debug)]
pub struct Exercise {
    /// 1, 2, ...: the lesson it goes with.
    pub number: u8,
    /// `pipeline`, ...
    pub slug: &'static str,
    /// "Pipeline: the stage that squares".
    pub title: &'static str,
    /// What the learner writes, in one line.
    pub task: &'static str,
    /// The function or type the learner writes (`square`, `WorkerPool`).
    pub writes: &'static str,
    /// How to go about it, for a learner who is stuck.
    pub hint: &'static str,
    /// The exercise file as `chanlab init` writes it.
    pub template: &'static str,
    /// A solution, shown once the exercise passed.
    pub solution: &'static str,
    /// The expression the harness hands to `chanlab::workbook::harness::main`:
    /// the check with the learner's code in it (`exercise` is the module
    /// of the learner's file).
    pub subject: &'static str,
    /// The kind of failure the first version shows (tested).
    pub first_version_fails_with: &'static str,
}

impl Exercise {
    /// `01_pipeline.rs`, the file under `exercises/`.
    #[must_use]
    pub fn file(&self) -> String {
        format!("{:02}_{}.rs", self.number, self.slug)
    }

    /// `exercises/01_pipeline.rs`, relative to the workbook.
    #[must_use]
    pub fn path(&self) -> String {
        format!("exercises/{}", self.file())
    }

    /// `ex01_pipeline`: the harness binary in the workbook crate.
    #[must_use]
    pub fn bin(&self) -> String {
        format!("ex{:02}_{}", self.number, self.slug)
    }

    /// `01 pipeline`.
    #[must_use]
    pub fn label(&self) -> String {
        format!("{:02} {}", self.number, self.slug)
    }
}

/// Every exercise, in order.
#[must_use]
pub fn catalog() -> &'static [Exercise] {
    &EXERCISES
}

/// The exercise numbered `n`.
#[must_use]
pub fn find(n: u8) -> Option<&'static Exercise> {
    EXERCISES.iter().find(|e| e.number == n)
}

static EXERCISES: [Exercise; 6] = [
    Exercise {
        number: 1,
        slug: "pipeline",
        title: "Pipeline: the stage that squares and closes its output",
        task: "`square`: start `workers` workers that square the numbers and close `squares` when done",
        writes: "square",
        hint: "A stage runs in its own workers, never in the caller: `square` must return its \
               Receiver at once, or nothing downstream can read while it sends. Start the \
               workers in a loop, `lab.go(format!(\"square#{w}\"), move || ...)`, and give each \
               its own clone of `numbers` and of the Sender. Then let the original Sender drop \
               (it does, when `square` returns): `squares` closes when the last clone is gone, \
               which is when the last worker returns.",
        template: include_str!("template/exercises/01_pipeline.rs"),
        solution: include_str!("template/solutions/01_pipeline.rs"),
        subject: "chanlab::workbook::check::pipeline::subject(exercise::square)",
        first_version_fails_with: "deadlock",
    },
    Exercise {
        number: 2,
        slug: "merge",
        title: "Fan-in: merge, then merge in order",
        task: "`merge`: every input into `merged`, closed when all are done; `merge_in_order`: the same, in order",
        writes: "merge, merge_in_order",
        hint: "Part 1: one forwarder worker per input, each with its own Sender clone of \
               `merged`; a single worker that reads the inputs one after the other waits on an \
               input the feeder is not sending to. Part 2: read one item (the head) from every \
               input, send the smallest, then read only the input it came from; an input whose \
               `recv` fails is done and has no head. That holds one item per input, never more.",
        template: include_str!("template/exercises/02_merge.rs"),
        solution: include_str!("template/solutions/02_merge.rs"),
        subject: "chanlab::workbook::check::merge::subject(exercise::merge, exercise::merge_in_order)",
        first_version_fails_with: "deadlock",
    },
    Exercise {
        number: 3,
        slug: "pool",
        title: "Worker pool: shutdown drains, cancel loses no job",
        task: "`cancel`: hand back every accepted job no worker started, even with a `submit` in flight",
        writes: "WorkerPool::cancel",
        hint: "After `cancel` has closed the pool, the jobs still in `jobs` belong to nobody: \
               take them out with the pool's own Receiver, `self.queue`, and return them. Not \
               with `try_iter` (it stops at the first empty look): a `submit` that was waiting \
               for room still holds a Sender clone and lands its job as soon as you make room. \
               `iter` goes on until the channel is disconnected, that is until that last \
               `submit` has landed and dropped its clone.",
        template: include_str!("template/exercises/03_pool.rs"),
        solution: include_str!("template/solutions/03_pool.rs"),
        subject: "chanlab::workbook::check::pool::subject::<exercise::WorkerPool>()",
        first_version_fails_with: "deadlock",
    },
    Exercise {
        number: 4,
        slug: "limiter",
        title: "Rate limiter: a token bucket against an injected clock",
        task: "`TokenBucket`: `allow` from the clock's time, `wait` that sleeps until a token is due or `done` closes",
        writes: "TokenBucket",
        hint: "Keep two fields: the tokens (in billionths of a token, so that nanoseconds × rate \
               is exact) and the clock reading when you last counted them. Every call first adds \
               what the time since then earned, `elapsed_nanos × rate`, capped at `burst`. To \
               wait: if `allow` says no, compute how long until the missing part of a token is \
               earned, `select!` on `lab.after(that)` and on `done`, and try again.",
        template: include_str!("template/exercises/04_limiter.rs"),
        solution: include_str!("template/solutions/04_limiter.rs"),
        subject: "chanlab::workbook::check::limiter::subject::<exercise::TokenBucket>()",
        first_version_fails_with: "burst",
    },
    Exercise {
        number: 5,
        slug: "broadcast",
        title: "Broadcast: drop-oldest, with lag counts",
        task: "`Broadcaster::send`: never wait; a full subscriber loses its oldest message, counted",
        writes: "Broadcaster::send",
        hint: "`try_send` never waits: it returns `Err(TrySendError::Full(msg))` with your \
               message back when the buffer is full. Then take the oldest message out with \
               `sub.oldest.try_recv()`, add one to `sub.lagged`, and `try_send` the new one \
               again. Other subscribers are not held up, and each learns how much it lost.",
        template: include_str!("template/exercises/05_broadcast.rs"),
        solution: include_str!("template/solutions/05_broadcast.rs"),
        subject: "chanlab::workbook::check::broadcast::subject::<exercise::Broadcaster>()",
        first_version_fails_with: "blocked",
    },
    Exercise {
        number: 6,
        slug: "drain",
        title: "Drain: finish the work in flight, return the first error",
        task: "`run_jobs`: drain `jobs` on shutdown; at the first error stop taking jobs, drop `cancel`, return it",
        writes: "run_jobs",
        hint: "Make a `stop` channel nobody sends on, and have each worker `select_biased!` on \
               `stop` before `jobs`: closing it (dropping its only Sender) tells every worker at \
               once to take no new job. Keep the first error in an `Arc<Mutex<Option<_>>>` with \
               `get_or_insert`, so a later one does not overwrite it; at that moment drop the \
               `stop` Sender and `cancel` too. Join every worker before you return.",
        template: include_str!("template/exercises/06_drain.rs"),
        solution: include_str!("template/solutions/06_drain.rs"),
        subject: "chanlab::workbook::check::drain::subject(exercise::run_jobs)",
        first_version_fails_with: "swallowed error",
    },
];
