//! simple_firewall — see `mos_examples::simple_firewall` for what it does.
//!
//! `cargo run --release --example simple_firewall -- [OPTIONS] [TRACE]`

use std::process::ExitCode;

use mos_examples::run::{Exit, Out};
use mos_examples::simple_firewall;

fn main() -> ExitCode {
    Exit::report(simple_firewall::run(
        std::env::args().skip(1).collect(),
        &mut Out::stdout(),
    ))
}
