//! A stand-in front end for the TUI branch: `chanlab` opens the lesson
//! list, `chanlab run <n>` opens lesson `n`. The real CLI replaces it.

use std::io::IsTerminal;
use std::process::ExitCode;

use chanlab::lessons;
use chanlab::tui::{self, Launch};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let launch = match args.as_slice() {
        [] => Launch::default(),
        [cmd, name] if cmd == "run" => match lessons::find(name) {
            Ok(lesson) => Launch {
                lesson: Some(lesson),
                ..Launch::default()
            },
            Err(e) => {
                eprintln!("chanlab: {e}");
                return ExitCode::from(2);
            }
        },
        _ => {
            eprintln!("usage: chanlab [run <lesson>]");
            return ExitCode::from(2);
        }
    };
    if !std::io::stdout().is_terminal() {
        eprintln!("chanlab: the live view needs a terminal");
        return ExitCode::from(2);
    }
    match tui::run(launch) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("chanlab: {e}");
            ExitCode::FAILURE
        }
    }
}
