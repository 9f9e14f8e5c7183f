//! rexmit — see `mos_examples::rexmit` for what it does.
//!
//! `cargo run --release --example rexmit -- [OPTIONS] [TRACE]`

use std::process::ExitCode;

use mos_examples::rexmit;
use mos_examples::run::{Exit, Out};

fn main() -> ExitCode {
    Exit::report(rexmit::run(
        std::env::args().skip(1).collect(),
        &mut Out::stdout(),
    ))
}
