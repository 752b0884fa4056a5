//! chanlab: an interactive concurrency workbook.
//!
//! Rooms, arrows one way: [`cli`] and `tui` use [`lessons`], which use
//! [`lab`]; the lab uses neither. [`workbook`] (the learner's own code,
//! judged by the lab) sits beside `cli` and `tui`.
#![forbid(unsafe_code)]

pub mod cli;
pub mod hunt;
pub mod lab;

#[path = "../lessons/mod.rs"]
pub mod lessons;

pub mod recording;
pub mod tui;

pub mod workbook;
