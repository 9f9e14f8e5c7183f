//! graph — see `mos_examples::graph` for what it does.
//!
//! `cargo run --release --example graph -- [APP...]`

use std::process::ExitCode;

use mos_examples::graph;
use mos_examples::run::{Exit, Out};

fn main() -> ExitCode {
    Exit::report(graph::run(
        std::env::args().skip(1).collect(),
        &mut Out::stdout(),
    ))
}
