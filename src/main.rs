//! The `chanlab` binary: everything lives in the library; `main` only
//! turns its result into an exit code, so destructors always run.

use std::process::ExitCode;

fn main() -> ExitCode {
    chanlab::cli::main()
}
