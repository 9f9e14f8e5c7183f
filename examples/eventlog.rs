//! eventlog — every event the runtime raises for a capture, one line per dispatch.
//!
//! `cargo run --release --example eventlog -- [--batch N] [OPTIONS] [TRACE]`

use std::process::ExitCode;

use mos_examples::eventlog;
use mos_examples::run::{Exit, Out};

fn main() -> ExitCode {
    Exit::report(eventlog::run(
        std::env::args().skip(1).collect(),
        &mut Out::stdout(),
    ))
}
