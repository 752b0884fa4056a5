# chanlab tasks (https://github.com/casey/just)

default:
    @just --list

# Open the workbook (or: just run run 1 --headless)
run *ARGS:
    cargo run --release -- {{ARGS}}

# The README's test command
test:
    cargo test

# Format check and clippy, as CI runs them
lint:
    cargo fmt --all -- --check
    cargo clippy --all-targets -- -D warnings

# What CI runs
check:
    bash .ci/run

# Benchmarks, then the ratios for docs/BENCHMARKS.md
bench:
    cargo bench
    python3 benches/ratios.py spsc mpmc-4x4

# Every trap and its fix, run for real
traps *LESSON:
    cargo run --release -- traps {{LESSON}}
