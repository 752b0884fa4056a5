//! The workbook's state file, `progress.toml`: which exercises passed and
//! which one `watch` is on. Small and meant to be read by people (it is
//! plain TOML, written and read here without a TOML crate: a handful of
//! `key = value` lines).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::exercises::{self, Exercise};

/// The file's name, at the workbook's root; its presence marks a workbook.
pub const FILE: &str = "progress.toml";

/// Where one exercise stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Not passed yet.
    Pending,
    /// Its check passed.
    Passed,
}

impl Status {
    fn word(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Passed => "passed",
        }
    }
}

/// The progress of a workbook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    /// The exercise `watch` is on.
    pub current: u8,
    /// Per exercise, in catalog order.
    pub status: Vec<(u8, Status)>,
}

impl Default for Progress {
    fn default() -> Self {
        Self {
            current: 1,
            status: exercises::catalog()
                .iter()
                .map(|e| (e.number, Status::Pending))
                .collect(),
        }
    }
}

impl Progress {
    /// The status of exercise `n`.
    #[must_use]
    pub fn status(&self, n: u8) -> Status {
        self.status
            .iter()
            .find(|(k, _)| *k == n)
            .map_or(Status::Pending, |(_, s)| *s)
    }

    /// Sets the status of exercise `n`.
    pub fn set(&mut self, n: u8, status: Status) {
        match self.status.iter_mut().find(|(k, _)| *k == n) {
            Some(entry) => entry.1 = status,
            None => self.status.push((n, status)),
        }
    }

    /// How many passed.
    #[must_use]
    pub fn passed(&self) -> usize {
        self.status
            .iter()
            .filter(|(_, s)| *s == Status::Passed)
            .count()
    }

    /// The first exercise after `n` (wrapping round) that has not passed,
    /// or `None` when every one has.
    #[must_use]
    pub fn next_pending_after(&self, n: u8) -> Option<u8> {
        let all = exercises::catalog();
        let start = all.iter().position(|e| e.number == n).map_or(0, |i| i + 1);
        (0..all.len())
            .map(|k| all[(start + k) % all.len()].number)
            .find(|&k| self.status(k) == Status::Pending)
    }

    /// The file's text.
    #[must_use]
    pub fn render(&self) -> String {
        let mut s = String::from(
            "# chanlab workbook progress. `chanlab progress` shows it, `chanlab verify` updates\n\
             # it, `chanlab reset N` starts exercise N over. `current` is where `chanlab watch`\n\
             # opens.\n",
        );
        let _ = writeln!(s, "current = {}", self.current);
        s.push_str("\n[exercises]\n");
        for exercise in exercises::catalog() {
            let _ = writeln!(
                s,
                "{} = \"{}\"",
                key(exercise),
                self.status(exercise.number).word()
            );
        }
        s
    }

    /// Reads the file's text; `Err` says what is wrong, and where.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut progress = Self::default();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or("").trim();
            if line.is_empty() || line == "[exercises]" {
                continue;
            }
            let bad = |why: &str| format!("line {}: `{}`: {why}", i + 1, raw.trim());
            let (k, v) = line
                .split_once('=')
                .ok_or_else(|| bad("expected `key = value`"))?;
            let (k, v) = (k.trim(), v.trim().trim_matches('"'));
            if k == "current" {
                let n: u8 = v
                    .parse()
                    .ok()
                    .filter(|n| exercises::find(*n).is_some())
                    .ok_or_else(|| {
                        bad(&format!(
                            "`current` is an exercise number, 1 to {}",
                            exercises::catalog().len()
                        ))
                    })?;
                progress.current = n;
                continue;
            }
            let exercise = exercises::catalog()
                .iter()
                .find(|e| key(e) == k)
                .ok_or_else(|| bad("no such exercise"))?;
            let status = match v {
                "pending" => Status::Pending,
                "passed" => Status::Passed,
                _ => return Err(bad("the status is \"pending\" or \"passed\"")),
            };
            progress.set(exercise.number, status);
        }
        Ok(progress)
    }

    /// Reads `progress.toml` in `workbook`.
    pub fn load(workbook: &Path) -> Result<Self, String> {
        let path = workbook.join(FILE);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| {
            format!(
                "{} is not as chanlab wrote it ({e}); fix that line, or delete the file and \
                 run `chanlab init --force` to start over",
                path.display()
            )
        })
    }

    /// Writes `progress.toml` in `workbook`.
    pub fn save(&self, workbook: &Path) -> Result<(), String> {
        let path = workbook.join(FILE);
        std::fs::write(&path, self.render())
            .map_err(|e| format!("cannot write {}: {e}", path.display()))
    }
}

/// `01_pipeline`: an exercise's key in the file.
fn key(exercise: &Exercise) -> String {
    format!("{:02}_{}", exercise.number, exercise.slug)
}

/// The workbook `start` is in: `start` or the nearest parent holding a
/// `progress.toml`.
#[must_use]
pub fn find_workbook(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .find(|dir| dir.join(FILE).is_file() && dir.join("exercises").is_dir())
        .map(Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use super::{Progress, Status};

    #[test]
    fn the_file_reads_back_as_it_was_written() {
        let mut p = Progress::default();
        p.set(1, Status::Passed);
        p.set(3, Status::Passed);
        p.current = 2;
        assert_eq!(Progress::parse(&p.render()), Ok(p));
    }

    #[test]
    fn a_bad_line_is_named() {
        let err = Progress::parse("current = 9\n").unwrap_err();
        assert!(err.contains("line 1") && err.contains("1 to 6"), "{err}");
        let err = Progress::parse("01_pipeline = \"done\"\n").unwrap_err();
        assert!(err.contains("\"pending\" or \"passed\""), "{err}");
    }

    #[test]
    fn the_next_pending_wraps_round_and_skips_the_passed() {
        let mut p = Progress::default();
        for n in [1, 2, 4, 5, 6] {
            p.set(n, Status::Passed);
        }
        assert_eq!(p.next_pending_after(4), Some(3));
        p.set(3, Status::Passed);
        assert_eq!(p.next_pending_after(4), None);
    }
}
