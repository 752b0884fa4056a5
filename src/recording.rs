//! Schedule files: a scheduled run written down, so that `chanlab replay`
//! can run it again step for step.
//!
//! A seeded schedule is deterministic, so the file does not store frames or
//! events, only what it takes to re-run: the lesson, variant and knobs, the
//! strategy and seed, and every pick the scheduler made. The format is
//! plain text a learner can read and a diff can show:
//!
//! ```text
//! chanlab schedule 1
//! # a scheduled chanlab run: `chanlab replay <this file>` runs it again, step for step
//! # workers: 0 main · 1 worker#1 · 2 worker#2 · 3 worker#3 · 4 client
//! lesson 3 worker-pool
//! variant join-before-drain
//! knobs items 24 buffer 4 workers 3 seed 1
//! strategy random
//! seed 17
//! steps 38
//! choices
//!     1: 0 1 0 0 0 0 2 3 4 4 2.1 4 4 1.1 3.1 4 4 4 4 3
//!    21: 3 3.1 4 1 1 1.1 4 2 2 2.1 4 3 3 3.1 4 2 1 3
//! end
//! checksum fnv1a64 c4328a317fc98edb
//! ```
//!
//! A step is the worker that went (by spawn number, main is 0) and, for
//! a select, the arm that completed (`2.1`; `2.t` for its timeout). Each
//! choices line starts with the number of its first step, so a line lost
//! or doubled is found at once. The last line is a checksum over
//! every line above it (line endings aside): a file changed by hand, cut
//! short or not a schedule at all is refused with the line and what was
//! wrong, never run half-way. Lines starting with `#` are comments.

use std::fmt::{self, Write as _};
use std::io::{self, Read as _, Write as _};
use std::path::Path;

use crate::lab::{Choice, Schedule, Strategy};
use crate::lessons::{self, Knobs, Lesson, Variant};

/// The format version this chanlab writes and reads.
pub const FORMAT: u32 = 1;

/// The first words of every schedule file.
pub const MAGIC: &str = "chanlab schedule";

/// The checksum's name, as written in the file.
const CHECKSUM: &str = "fnv1a64";

/// Choices per line in the file.
const PER_LINE: usize = 20;

/// A file bigger than this is not a schedule (a million steps, the lab's
/// step limit, take about 4 MB): refused before it is read whole.
const MAX_BYTES: u64 = 64 << 20;

/// A scheduled run, as a schedule file holds it.
#[derive(Debug, Clone)]
pub struct Recording {
    /// The lesson that ran.
    pub lesson: &'static Lesson,
    /// Its variant.
    pub variant: &'static Variant,
    /// The knobs it ran with.
    pub knobs: Knobs,
    /// The strategy that picked.
    pub strategy: Strategy,
    /// The strategy's seed.
    pub seed: u64,
    /// Every pick, in order.
    pub choices: Vec<Choice>,
    /// The workers' names by number, written as a comment so that a reader
    /// can tell who `3` is; not read back (empty after [`Recording::parse`]).
    pub names: Vec<String>,
}

/// What is wrong with a schedule file, for a caller that must tell the
/// cases apart (the message says it in words).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// It could not be read (missing, a directory, no permission).
    Unreadable,
    /// Not a chanlab schedule file at all.
    Foreign,
    /// Written by a newer chanlab, in a format this one does not read.
    Newer,
    /// Cut short: its end is missing, or it has fewer steps than it says.
    Truncated,
    /// Changed after chanlab wrote it: a checksum that does not match, a
    /// line that does not parse.
    Edited,
    /// It names a lesson this chanlab does not have.
    UnknownLesson,
    /// It names a variant the lesson does not have.
    UnknownVariant,
    /// Its knobs are outside the lesson's ranges.
    KnobOutOfRange,
}

/// Why a schedule file was refused: which line, what was wrong, what
/// would be right.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    /// The kind of problem.
    pub problem: Problem,
    /// The line it is on (1-based), when it is on one.
    pub line: Option<usize>,
    /// What was wrong and what would be right, in words.
    pub message: String,
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(n) => write!(f, "line {n}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for FileError {}

fn error(problem: Problem, line: Option<usize>, message: impl Into<String>) -> FileError {
    FileError {
        problem,
        line,
        message: message.into(),
    }
}

/// The 64-bit FNV-1a hash: small, dependency-free, and enough to tell a
/// file changed by accident or by hand (it is no defence against forgery,
/// and needs none).
fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// The checksum of `lines`, each counted with a `\n` after it (so a file
/// whose line endings were turned into CRLF still checks).
fn checksum_of<'a>(lines: impl IntoIterator<Item = &'a str>) -> String {
    let mut text = String::new();
    for line in lines {
        text.push_str(line);
        text.push('\n');
    }
    format!("{:016x}", fnv1a64(text.as_bytes()))
}

/// `body` with its checksum line appended: what a schedule file ends with.
/// Public so that tests can write files with any content and a checksum
/// that matches it.
#[must_use]
pub fn seal(body: &str) -> String {
    let mut text = String::with_capacity(body.len() + 40);
    for line in body.lines() {
        text.push_str(line);
        text.push('\n');
    }
    let sum = checksum_of(text.lines());
    let _ = writeln!(text, "checksum {CHECKSUM} {sum}");
    text
}

/// `strategy random`, `strategy pct depth 3`, `strategy manual`.
fn strategy_words(strategy: Strategy) -> String {
    match strategy {
        Strategy::Pct { depth } => format!("pct depth {depth}"),
        other => other.name().to_owned(),
    }
}

/// A piece of the user's file as it goes back into a message: long lines
/// are cut, control characters shown escaped.
fn quote(s: &str) -> String {
    const KEEP: usize = 40;
    let shown: String = s.chars().take(KEEP).flat_map(char::escape_debug).collect();
    if s.chars().count() > KEEP {
        format!("`{shown}…`")
    } else {
        format!("`{shown}`")
    }
}

/// The deepest PCT a file may ask for (the CLI uses 3; a depth beyond this
/// is no schedule anyone wrote).
const MAX_PCT_DEPTH: u32 = 1_000;

impl Recording {
    /// The schedule that replays it: the strategy and seed, with every
    /// recorded pick as the prefix.
    #[must_use]
    pub fn schedule(&self) -> Schedule {
        Schedule::new(self.strategy, self.seed).with_prefix(self.choices.clone())
    }

    /// The file's text.
    #[must_use]
    pub fn to_text(&self) -> String {
        let mut body = String::new();
        let _ = writeln!(body, "{MAGIC} {FORMAT}");
        let _ = writeln!(
            body,
            "# a scheduled chanlab run: `chanlab replay <this file>` runs it again, step for step"
        );
        if !self.names.is_empty() {
            let names: Vec<String> = self
                .names
                .iter()
                .enumerate()
                .map(|(i, n)| format!("{i} {n}"))
                .collect();
            let _ = writeln!(body, "# workers: {}", names.join(" · "));
        }
        let k = &self.knobs;
        let _ = writeln!(body, "lesson {} {}", self.lesson.number, self.lesson.slug);
        let _ = writeln!(body, "variant {}", self.variant.name);
        let _ = writeln!(
            body,
            "knobs items {} buffer {} workers {} seed {}",
            k.items, k.buffer, k.workers, k.seed
        );
        let _ = writeln!(body, "strategy {}", strategy_words(self.strategy));
        let _ = writeln!(body, "seed {}", self.seed);
        let _ = writeln!(body, "steps {}", self.choices.len());
        let _ = writeln!(body, "choices");
        for (row, chunk) in self.choices.chunks(PER_LINE).enumerate() {
            let words: Vec<String> = chunk.iter().map(ToString::to_string).collect();
            let _ = writeln!(body, "{:>5}: {}", row * PER_LINE + 1, words.join(" "));
        }
        let _ = writeln!(body, "end");
        seal(&body)
    }

    /// Reads and checks a schedule file.
    pub fn read(path: &Path) -> Result<Self, FileError> {
        let unreadable = |e: io::Error| {
            error(
                Problem::Unreadable,
                None,
                format!("cannot read it: {}", io_words(&e)),
            )
        };
        let file = std::fs::File::open(path).map_err(unreadable)?;
        if file.metadata().is_ok_and(|m| m.is_dir()) {
            return Err(error(
                Problem::Unreadable,
                None,
                "it is a directory; give the schedule file inside it",
            ));
        }
        let mut bytes = Vec::new();
        file.take(MAX_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(unreadable)?;
        if bytes.len() as u64 > MAX_BYTES {
            return Err(error(
                Problem::Foreign,
                None,
                format!(
                    "it is bigger than {} MB: not a chanlab schedule file",
                    MAX_BYTES >> 20
                ),
            ));
        }
        let Ok(text) = String::from_utf8(bytes) else {
            return Err(error(
                Problem::Foreign,
                None,
                format!(
                    "it is not text, so not a chanlab schedule file (one starts with `{MAGIC} {FORMAT}`)"
                ),
            ));
        };
        Self::parse(&text)
    }

    /// Checks a schedule file's text and reads it: every way it can be
    /// wrong is a [`FileError`] naming the line; nothing here panics.
    ///
    /// ```
    /// use chanlab::recording::{Problem, Recording, seal};
    ///
    /// let text = seal(
    ///     "chanlab schedule 1\nlesson 1 pipeline\nvariant correct\n\
    ///      knobs items 20 buffer 4 workers 2 seed 1\nstrategy pct depth 3\nseed 7\n\
    ///      steps 3\nchoices\n    1: 0 1 1.t\nend\n",
    /// );
    /// let recording = Recording::parse(&text).unwrap();
    /// assert_eq!(recording.choices.len(), 3);
    /// assert_eq!(recording.choices[2].to_string(), "1.t");
    ///
    /// let edited = Recording::parse(&text.replace("seed 7", "seed 8")).unwrap_err();
    /// assert_eq!(edited.problem, Problem::Edited);
    /// assert!(edited.to_string().contains("the checksum does not match"));
    /// ```
    pub fn parse(text: &str) -> Result<Self, FileError> {
        let lines: Vec<&str> = text
            .split('\n')
            .map(|l| l.strip_suffix('\r').unwrap_or(l))
            .collect();
        // A final newline leaves one empty piece: not a line.
        let lines = match lines.split_last() {
            Some((&"", rest)) => rest,
            _ => &lines[..],
        };
        check_version(lines)?;
        // The last line that is not blank: the checksum, in a whole file.
        let last = lines.iter().rposition(|l| !l.trim().is_empty());
        let sealed = last.filter(|&i| lines[i].trim_start().starts_with("checksum"));
        let Some(sealed) = sealed else {
            // A whole checksum line with more after it was added to, not cut.
            let whole = |l: &&str| {
                let words: Vec<&str> = l.split_whitespace().collect();
                matches!(words[..], ["checksum", CHECKSUM, sum] if sum.len() == 16)
            };
            if let Some(at) = lines.iter().rposition(whole) {
                return Err(error(
                    Problem::Edited,
                    Some(at + 2),
                    "text after the checksum line: the checksum is the file's last line",
                ));
            }
            return Err(truncated(lines, last.map_or(0, |i| i + 1)));
        };
        let checksum_ok = checksum_matches(lines, sealed)?;
        let edited =
            "the checksum does not match either: the file was changed after chanlab wrote it";
        let body = match Body::parse(&lines[..sealed]) {
            Ok(body) => body,
            Err(mut e) => {
                if !checksum_ok {
                    e.message = format!("{}; {edited}", e.message);
                }
                return Err(e);
            }
        };
        if !checksum_ok {
            return Err(error(
                Problem::Edited,
                Some(sealed + 1),
                "the checksum does not match the lines above it: the file was changed \
                 after chanlab wrote it (a step, a knob or a name edited); record it again \
                 with `chanlab run N --schedule SEED --record FILE`",
            ));
        }
        body.resolve()
    }

    /// Writes the file at `path`: a new file, or over an old one only with
    /// `force` (the message says so otherwise).
    pub fn write(&self, path: &Path, force: bool) -> Result<(), String> {
        let shown = path.display();
        let mut options = std::fs::File::options();
        options.write(true);
        if force {
            options.create(true).truncate(true);
        } else {
            options.create_new(true);
        }
        let mut file = options.open(path).map_err(|e| {
            if e.kind() == io::ErrorKind::AlreadyExists {
                format!(
                    "`{shown}` already exists; add --force to write over it, or --record another file"
                )
            } else {
                format!("cannot write the schedule to `{shown}`: {}", io_words(&e))
            }
        })?;
        file.write_all(self.to_text().as_bytes())
            .and_then(|()| file.flush())
            .map_err(|e| format!("cannot write the schedule to `{shown}`: {}", io_words(&e)))
    }
}

/// An I/O error as a sentence part: "no such file", not "(os error 2)".
fn io_words(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "there is no such file".to_owned(),
        io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        _ => e.to_string(),
    }
}

/// Line 1: a chanlab schedule, in a format this chanlab reads.
fn check_version(lines: &[&str]) -> Result<(), FileError> {
    let want = format!("`{MAGIC} {FORMAT}`");
    let Some(first) = lines.first().map(|l| l.trim()).filter(|l| !l.is_empty()) else {
        return Err(error(
            Problem::Truncated,
            None,
            format!("the file is empty: a schedule file starts with {want}; record it again"),
        ));
    };
    let first = first.trim_start_matches('\u{feff}');
    if lines.len() == 1 && format!("{MAGIC} {FORMAT}").starts_with(first) {
        return Err(error(
            Problem::Truncated,
            Some(1),
            "the file is cut short on its first line; record it again",
        ));
    }
    let Some(version) = first.strip_prefix(MAGIC) else {
        return Err(error(
            Problem::Foreign,
            Some(1),
            format!(
                "not a chanlab schedule file: it starts with {}, and a schedule file starts \
                 with {want} (write one with `chanlab run N --schedule SEED --record FILE`)",
                quote(first)
            ),
        ));
    };
    match version.trim().parse::<u32>() {
        Ok(v) if v == FORMAT => Ok(()),
        Ok(v) if v > FORMAT => Err(error(
            Problem::Newer,
            Some(1),
            format!(
                "written by a newer chanlab: format {v}, this one reads {FORMAT}; \
                 replay it with the chanlab that wrote it, or update this one"
            ),
        )),
        _ => Err(error(
            Problem::Edited,
            Some(1),
            format!(
                "{} has no format version this chanlab knows: it should be {want}",
                quote(first)
            ),
        )),
    }
}

/// Is the checksum on line `at` (0-based) right for the lines above it?
fn checksum_matches(lines: &[&str], at: usize) -> Result<bool, FileError> {
    let words: Vec<&str> = lines[at].split_whitespace().collect();
    let bad = || {
        error(
            Problem::Edited,
            Some(at + 1),
            format!(
                "{} is not a checksum line: it should read `checksum {CHECKSUM}` and 16 hex digits",
                quote(lines[at])
            ),
        )
    };
    // A checksum line cut short (`checksum fnv1a64 5c1d`): the file is.
    let partial = match words[..] {
        [_] => true,
        [_, algorithm] => CHECKSUM.starts_with(algorithm),
        [_, algorithm, sum] => {
            algorithm == CHECKSUM && sum.len() < 16 && sum.bytes().all(|b| b.is_ascii_hexdigit())
        }
        _ => false,
    };
    if partial && words[0] == "checksum" {
        return Err(error(
            Problem::Truncated,
            Some(at + 1),
            "the file is cut short inside its checksum line; record it again",
        ));
    }
    let [_, algorithm, sum] = words[..] else {
        return Err(bad());
    };
    if algorithm != CHECKSUM || sum.len() != 16 || !sum.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad());
    }
    Ok(sum.eq_ignore_ascii_case(&checksum_of(lines[..at].iter().copied())))
}

/// The error for a file with no checksum line: how far it got.
fn truncated(lines: &[&str], ends_at: usize) -> FileError {
    let announced = lines.iter().find_map(|l| {
        l.trim()
            .strip_prefix("steps ")
            .and_then(|n| n.trim().parse::<u64>().ok())
    });
    let choices_at = lines.iter().position(|l| l.trim() == "choices");
    let ended = lines.iter().any(|l| l.trim() == "end");
    let where_ = match (choices_at, ended) {
        (Some(at), false) => {
            let got: usize = lines[at + 1..]
                .iter()
                .filter_map(|l| l.split_once(':'))
                .map(|(_, rest)| rest.split_whitespace().count())
                .sum();
            match announced {
                Some(n) => {
                    format!(" inside the choices, after {got} of the {n} steps it announces")
                }
                None => format!(" inside the choices, after {got} steps"),
            }
        }
        (Some(_), true) => ", after its `end` line".to_owned(),
        (None, _) => ", before its choices".to_owned(),
    };
    error(
        Problem::Truncated,
        None,
        format!(
            "the file is cut short: it ends at line {ends_at}{where_}, with no checksum line; \
             record it again"
        ),
    )
}

/// The lines between the version and the checksum, read but not yet
/// checked against the lessons.
struct Body {
    lesson: (usize, u8, String),
    variant: (usize, String),
    knobs: (usize, Knobs),
    strategy: Strategy,
    seed: u64,
    choices: Vec<Choice>,
}

/// Walks the body's lines, skipping comments and blank lines.
struct Lines<'a> {
    lines: &'a [&'a str],
    at: usize,
}

impl<'a> Lines<'a> {
    /// The next line that says something: (1-based number, trimmed text).
    fn next(&mut self, wanted: &str) -> Result<(usize, &'a str), FileError> {
        while self.at < self.lines.len() {
            let line = self.lines[self.at].trim();
            self.at += 1;
            if !line.is_empty() && !line.starts_with('#') {
                return Ok((self.at, line));
            }
        }
        Err(error(
            Problem::Truncated,
            Some(self.at + 1),
            format!("the `{wanted}` line is missing: the file is cut short; record it again"),
        ))
    }

    /// The next line, which must start with `key`: its number and the rest.
    fn keyed(&mut self, key: &str, form: &str) -> Result<(usize, &'a str), FileError> {
        let (n, line) = self.next(key)?;
        match line.strip_prefix(key) {
            Some(rest) if rest.is_empty() || rest.starts_with(' ') => Ok((n, rest.trim())),
            _ => Err(error(
                Problem::Edited,
                Some(n),
                format!(
                    "expected the `{key}` line (`{form}`), found {}",
                    quote(line)
                ),
            )),
        }
    }
}

/// A whole number from the file, or what was wrong with it.
fn number<T: std::str::FromStr>(text: &str, line: usize, what: &str) -> Result<T, FileError> {
    if text.bytes().all(|b| b.is_ascii_digit())
        && let Ok(n) = text.parse()
    {
        return Ok(n);
    }
    Err(error(
        Problem::Edited,
        Some(line),
        format!("{what} should be a whole number, found {}", quote(text)),
    ))
}

impl Body {
    fn parse(lines: &[&str]) -> Result<Self, FileError> {
        let mut it = Lines { lines, at: 1 };
        let (n, rest) = it.keyed("lesson", "lesson NUMBER SLUG")?;
        let (number_text, slug) = rest.split_once(' ').unwrap_or((rest, ""));
        let lesson = (
            n,
            number(number_text, n, "the lesson number")?,
            slug.trim().to_owned(),
        );
        let (n, name) = it.keyed("variant", "variant NAME")?;
        if name.is_empty() || name.contains(' ') {
            return Err(error(
                Problem::Edited,
                Some(n),
                format!("the variant should be one name, found {}", quote(name)),
            ));
        }
        let variant = (n, name.to_owned());
        let form = "knobs items N buffer N workers N seed N";
        let (n, rest) = it.keyed("knobs", form)?;
        let words: Vec<&str> = rest.split_whitespace().collect();
        let [
            "items",
            items,
            "buffer",
            buffer,
            "workers",
            workers,
            "seed",
            seed,
        ] = words[..]
        else {
            return Err(error(
                Problem::Edited,
                Some(n),
                format!("the knobs should read `{form}`, found {}", quote(rest)),
            ));
        };
        let knobs = (
            n,
            Knobs {
                items: number(items, n, "items")?,
                buffer: number(buffer, n, "buffer")?,
                workers: number(workers, n, "workers")?,
                seed: number(seed, n, "the knobs' seed")?,
            },
        );
        let strategy = Self::strategy(&mut it)?;
        let (n, rest) = it.keyed("seed", "seed S")?;
        let seed = number(rest, n, "the seed")?;
        let (n, rest) = it.keyed("steps", "steps N")?;
        let (steps_line, steps) = (n, number::<u64>(rest, n, "the step count")?);
        let choices = Self::choices(&mut it)?;
        let listed = choices.len() as u64;
        if listed < steps {
            return Err(error(
                Problem::Truncated,
                Some(steps_line),
                format!(
                    "the file announces {steps} steps but lists {listed}: steps are missing; \
                     record it again"
                ),
            ));
        }
        if listed > steps {
            return Err(error(
                Problem::Edited,
                Some(steps_line),
                format!("the file announces {steps} steps but lists {listed}"),
            ));
        }
        Ok(Self {
            lesson,
            variant,
            knobs,
            strategy,
            seed,
            choices,
        })
    }

    /// The `strategy` line.
    fn strategy(it: &mut Lines<'_>) -> Result<Strategy, FileError> {
        let (n, rest) = it.keyed("strategy", "strategy random | pct depth D | manual")?;
        let strategy = match rest.split_whitespace().collect::<Vec<_>>()[..] {
            ["random"] => Strategy::Random,
            ["manual"] => Strategy::Manual,
            ["pct", "depth", d] => {
                let depth: u32 = number(d, n, "the PCT depth")?;
                if !(1..=MAX_PCT_DEPTH).contains(&depth) {
                    return Err(error(
                        Problem::Edited,
                        Some(n),
                        format!("the PCT depth should be 1 to {MAX_PCT_DEPTH}, found {depth}"),
                    ));
                }
                Strategy::Pct { depth }
            }
            _ => {
                return Err(error(
                    Problem::Edited,
                    Some(n),
                    format!(
                        "the strategy should be `random`, `pct depth D` or `manual`, found {}",
                        quote(rest)
                    ),
                ));
            }
        };
        Ok(strategy)
    }

    /// The `choices` line, the lines of steps, and `end`.
    fn choices(it: &mut Lines<'_>) -> Result<Vec<Choice>, FileError> {
        let (n, rest) = it.keyed("choices", "choices")?;
        if !rest.is_empty() {
            return Err(error(
                Problem::Edited,
                Some(n),
                format!(
                    "the `choices` line has nothing after the word, found {}",
                    quote(rest)
                ),
            ));
        }
        let mut choices: Vec<Choice> = Vec::new();
        loop {
            let (n, line) = it.next("end")?;
            if line == "end" {
                break;
            }
            let Some((first, words)) = line.split_once(':') else {
                return Err(error(
                    Problem::Edited,
                    Some(n),
                    format!(
                        "expected a line of steps (`41: 0 2 1.t …`) or `end`, found {}",
                        quote(line)
                    ),
                ));
            };
            let first: usize = number(first.trim(), n, "the step number before `:`")?;
            if first != choices.len() + 1 {
                return Err(error(
                    Problem::Edited,
                    Some(n),
                    format!(
                        "this line starts at step {first}, but {} steps came before it: \
                         a line was removed, added or renumbered",
                        choices.len()
                    ),
                ));
            }
            for word in words.split_whitespace() {
                let choice = word.parse::<Choice>().map_err(|why| {
                    error(
                        Problem::Edited,
                        Some(n),
                        format!("step {}: {why}", choices.len() + 1),
                    )
                })?;
                choices.push(choice);
            }
        }
        Ok(choices)
    }

    /// Checks the names and knobs against this chanlab's lessons.
    fn resolve(self) -> Result<Recording, FileError> {
        let (line, number, slug) = self.lesson;
        let catalog = lessons::catalog();
        let Some(lesson) = catalog.iter().copied().find(|l| l.number == number) else {
            return Err(error(
                Problem::UnknownLesson,
                Some(line),
                format!(
                    "no lesson {number} in this chanlab (it has lessons 1 to {}): the file \
                     was written by a chanlab with other lessons",
                    catalog.len()
                ),
            ));
        };
        if lesson.slug != slug {
            return Err(error(
                Problem::UnknownLesson,
                Some(line),
                format!(
                    "the file says lesson {number} is {}, but here lesson {number} is `{}`: \
                     it was written by a chanlab whose lessons differ",
                    quote(&slug),
                    lesson.slug
                ),
            ));
        }
        let (line, name) = self.variant;
        let Some(variant) = lesson.variants.iter().find(|v| v.name == name) else {
            let names: Vec<&str> = lesson.variants.iter().map(|v| v.name).collect();
            return Err(error(
                Problem::UnknownVariant,
                Some(line),
                format!(
                    "lesson {} has no variant {} (it has: {})",
                    lesson.label(),
                    quote(&name),
                    names.join(", ")
                ),
            ));
        };
        let (line, knobs) = self.knobs;
        let r = &lesson.ranges;
        let out_of_range = |knob: &str, value: String, lo: String, hi: String| {
            error(
                Problem::KnobOutOfRange,
                Some(line),
                format!(
                    "{knob} {value} is out of range for lesson {}: allowed {lo} to {hi}",
                    lesson.label()
                ),
            )
        };
        if !r.items.contains(&knobs.items) {
            return Err(out_of_range(
                "items",
                knobs.items.to_string(),
                r.items.start().to_string(),
                r.items.end().to_string(),
            ));
        }
        if !r.buffer.contains(&knobs.buffer) {
            return Err(out_of_range(
                "buffer",
                knobs.buffer.to_string(),
                r.buffer.start().to_string(),
                r.buffer.end().to_string(),
            ));
        }
        if !r.workers.contains(&knobs.workers) {
            return Err(out_of_range(
                "workers",
                knobs.workers.to_string(),
                r.workers.start().to_string(),
                r.workers.end().to_string(),
            ));
        }
        Ok(Recording {
            lesson,
            variant,
            knobs,
            strategy: self.strategy,
            seed: self.seed,
            choices: self.choices,
            names: Vec::new(),
        })
    }
}
