//! nat — see `mos_examples::nat` for what it does.
//!
//! `cargo run --release --example nat -- [OPTIONS] [TRACE]`

use std::process::ExitCode;

use mos_examples::nat;
use mos_examples::run::{Exit, Out};

fn main() -> ExitCode {
    Exit::report(nat::run(
        std::env::args().skip(1).collect(),
        &mut Out::stdout(),
    ))
}
