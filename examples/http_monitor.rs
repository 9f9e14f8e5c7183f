//! http_monitor — see `mos_examples::http_monitor` for what it does.
//!
//! `cargo run --release --example http_monitor -- [OPTIONS] [TRACE]`

use std::process::ExitCode;

use mos_examples::http_monitor;
use mos_examples::run::{Exit, Out};

fn main() -> ExitCode {
    Exit::report(http_monitor::run(
        std::env::args().skip(1).collect(),
        &mut Out::stdout(),
    ))
}
