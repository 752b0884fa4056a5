//! Building a workbook with cargo and running its harnesses, for
//! `verify` and `watch`. Cargo's own messages (compiler errors as cargo
//! prints them) go straight to the terminal; only its JSON artifact lines
//! are read, for the path of each harness binary.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};

use super::exercises::Exercise;
use super::harness::Outcome;

/// The cargo to run: the one that runs us (`cargo run`), else `cargo`.
fn cargo() -> std::ffi::OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

/// The harnesses cargo built, by binary name.
#[derive(Debug, Default)]
pub struct Built {
    /// Binary name → executable.
    pub executables: BTreeMap<String, PathBuf>,
}

impl Built {
    /// The harness of `exercise`, if it compiled.
    #[must_use]
    pub fn harness(&self, exercise: &Exercise) -> Option<&Path> {
        self.executables.get(&exercise.bin()).map(PathBuf::as_path)
    }
}

/// Builds the harnesses of `exercises` (one cargo run; one that does not
/// compile does not stop the others).
pub fn build(workbook: &Path, exercises: &[&Exercise]) -> Result<Built, String> {
    let mut command = Command::new(cargo());
    command
        .current_dir(workbook)
        .args([
            "build",
            "--quiet",
            "--keep-going",
            "--message-format=json-render-diagnostics",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    for exercise in exercises {
        command.args(["--bin", &exercise.bin()]);
    }
    let mut child = command.spawn().map_err(|e| {
        format!("could not run cargo ({e}); chanlab's workbook needs cargo on the PATH")
    })?;
    let mut built = Built::default();
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let Ok(message) = serde_json::from_str::<serde_json::Value>(&line) else {
                continue;
            };
            if message["reason"] != "compiler-artifact" {
                continue;
            }
            let (Some(name), Some(exe)) = (
                message["target"]["name"].as_str(),
                message["executable"].as_str(),
            ) else {
                continue;
            };
            built
                .executables
                .insert(name.to_owned(), PathBuf::from(exe));
        }
    }
    let _ = child.wait();
    Ok(built)
}

/// Runs a harness with `args`, its output straight to the terminal;
/// returns how it exited and what it wrote to its result file.
pub fn run(
    workbook: &Path,
    exe: &Path,
    exercise: &Exercise,
    args: &[&str],
) -> Result<(ExitStatus, Option<Outcome>), String> {
    let result = std::env::temp_dir().join(format!(
        "chanlab-result-{}-{:02}",
        std::process::id(),
        exercise.number
    ));
    let _ = std::fs::remove_file(&result);
    let status = Command::new(exe)
        .current_dir(workbook)
        .args(args)
        .arg("--result")
        .arg(&result)
        .status()
        .map_err(|e| format!("could not run {}: {e}", exe.display()))?;
    let outcome = std::fs::read_to_string(&result)
        .ok()
        .and_then(|text| Outcome::parse(&text));
    let _ = std::fs::remove_file(&result);
    Ok((status, outcome))
}

/// Runs a harness with `args` and nothing else, its terminal its own (the
/// live view).
pub fn run_attached(workbook: &Path, exe: &Path, args: &[&str]) -> Result<ExitStatus, String> {
    Command::new(exe)
        .current_dir(workbook)
        .args(args)
        .status()
        .map_err(|e| format!("could not run {}: {e}", exe.display()))
}
