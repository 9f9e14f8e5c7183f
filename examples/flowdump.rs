//! flowdump — one line per TCP connection (SPEC §5), the conformance tool.
//!
//! `cargo run --release --example flowdump -- [--json] [OPTIONS] [TRACE]`

use std::process::ExitCode;

use mos_examples::flowdump;
use mos_examples::run::{Exit, Out};

fn main() -> ExitCode {
    Exit::report(flowdump::run(
        std::env::args().skip(1).collect(),
        &mut Out::stdout(),
    ))
}
