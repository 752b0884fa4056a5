//! `chanlab init`: writes a workbook crate. It depends on chanlab by path
//! (this checkout, as it was when this chanlab was built), holds one
//! exercise file per lesson under `exercises/`, and one small harness
//! binary per exercise under `harness/` that hands the learner's code to
//! its check, so each exercise compiles on its own: a half-written
//! exercise 3 does not stop exercise 1 from being checked.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::exercises::{self, Exercise};
use super::progress::{self, Progress};

/// Where `chanlab init` writes when no directory is given.
pub const DEFAULT_DIR: &str = "chanlab-workbook";

/// The chanlab checkout this binary was built from.
#[must_use]
pub fn chanlab_source() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A string as a TOML basic string, quotes and backslashes escaped.
fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The workbook's `Cargo.toml`.
#[must_use]
pub fn cargo_toml(chanlab: &Path) -> String {
    let mut s = format!(
        "# Written by `chanlab init`. Your exercises are in exercises/; each file in\n\
         # harness/ hands one of them to chanlab's check (leave those as they are).\n\
         [package]\n\
         name = \"chanlab-workbook\"\n\
         version = \"0.1.0\"\n\
         edition = \"2024\"\n\
         publish = false\n\
         \n\
         [dependencies]\n\
         chanlab = {{ path = {} }}\n",
        toml_string(&chanlab.display().to_string())
    );
    for exercise in exercises::catalog() {
        let _ = write!(
            s,
            "\n[[bin]]\nname = \"{}\"\npath = \"harness/{}\"\n",
            exercise.bin(),
            exercise.file()
        );
    }
    s.push_str(
        "\n# A workspace of its own, even when made inside another crate's folder.\n[workspace]\n",
    );
    s
}

/// The harness of one exercise.
#[must_use]
pub fn harness(exercise: &Exercise) -> String {
    format!(
        "//! Written by `chanlab init`: hands `{writes}` in exercises/{file} to\n\
         //! chanlab's check. Edit the exercise, not this file.\n\
         \n\
         #[allow(dead_code)]\n\
         #[path = \"../exercises/{file}\"]\n\
         mod exercise;\n\
         \n\
         fn main() -> std::process::ExitCode {{\n    \
         chanlab::workbook::harness::main({subject})\n\
         }}\n",
        writes = exercise.writes,
        file = exercise.file(),
        subject = exercise.subject,
    )
}

const README: &str = "# My chanlab workbook

One exercise per chanlab lesson, in `exercises/`. Each compiles and is wrong or
incomplete: make its check pass.

- `chanlab watch`: checks the current exercise every time you save it, says
  which check failed (a deadlock, a leak, an item lost, order broken, ...) and
  under which schedule; `h` is a hint, `r` shows your code running live,
  `l` lists the exercises, `q` quits. When one passes it moves on.
- `chanlab verify [N]`: checks one exercise or all of them, for scripts
  (exit 0 only when all pass).
- `chanlab hint N`, `chanlab progress`, `chanlab reset N` (back to the first
  version), `chanlab solution N` (once N has passed).

A check runs your code inside chanlab's lab, under many schedules, with
several worker counts and buffer sizes: a hang is a verdict, never a frozen
terminal. `progress.toml` keeps which exercises pass.
";

/// What `init` wrote.
#[derive(Debug)]
pub struct Written {
    /// The workbook's directory.
    pub dir: PathBuf,
    /// The chanlab checkout it depends on.
    pub chanlab: PathBuf,
}

/// Writes a workbook into `dir`. An existing workbook, or any directory
/// that is not empty, is left alone unless `force`.
pub fn init(dir: &Path, force: bool) -> Result<Written, String> {
    let chanlab = chanlab_source();
    if !chanlab.join("Cargo.toml").is_file() {
        return Err(format!(
            "this chanlab was built from {}, which is no longer there, and a workbook depends \
             on chanlab's source by its path; run `chanlab init` with a chanlab built in its \
             checkout (`cargo run --release -- init`)",
            chanlab.display()
        ));
    }
    if dir.join(progress::FILE).exists() && !force {
        return Err(format!(
            "{} already holds a chanlab workbook ({} is there), and init would overwrite your \
             exercises; add --force to start over, or give another directory",
            dir.display(),
            progress::FILE
        ));
    }
    if !force
        && let Ok(mut entries) = std::fs::read_dir(dir)
        && entries.next().is_some()
    {
        return Err(format!(
            "{} exists and is not empty; give a new or empty directory (or add --force to \
             write the workbook's files into it anyway)",
            dir.display()
        ));
    }
    let write = |path: PathBuf, text: &str| {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
    };
    write(dir.join("Cargo.toml"), &cargo_toml(chanlab))?;
    // The versions chanlab was built and tested with (cargo adds the
    // workbook itself), rather than whatever is newest today.
    if let Ok(lock) = std::fs::read_to_string(chanlab.join("Cargo.lock")) {
        write(dir.join("Cargo.lock"), &lock)?;
    }
    write(dir.join("README.md"), README)?;
    write(dir.join(".gitignore"), "/target\n")?;
    for exercise in exercises::catalog() {
        write(
            dir.join("exercises").join(exercise.file()),
            exercise.template,
        )?;
        write(
            dir.join("harness").join(exercise.file()),
            &harness(exercise),
        )?;
    }
    Progress::default().save(dir)?;
    Ok(Written {
        dir: dir.to_path_buf(),
        chanlab: chanlab.to_path_buf(),
    })
}

#[cfg(test)]
mod tests {
    use super::toml_string;

    #[test]
    fn a_path_with_quotes_and_backslashes_stays_one_toml_string() {
        assert_eq!(toml_string(r#"C:\a "b""#), r#""C:\\a \"b\"""#);
    }
}
