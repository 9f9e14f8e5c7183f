//! midstat — see `mos_examples::midstat` for what it does.
//!
//! `cargo run --release --example midstat -- [OPTIONS] [TRACE]`

use std::process::ExitCode;

use mos_examples::midstat;
use mos_examples::run::{Exit, Out};

fn main() -> ExitCode {
    Exit::report(midstat::run(
        std::env::args().skip(1).collect(),
        &mut Out::stdout(),
    ))
}
