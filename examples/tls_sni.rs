//! tls_sni — see `mos_examples::tls_sni` for what it does.
//!
//! `cargo run --release --example tls_sni -- [OPTIONS] [TRACE]`

use std::process::ExitCode;

use mos_examples::run::{Exit, Out};
use mos_examples::tls_sni;

fn main() -> ExitCode {
    Exit::report(tls_sni::run(
        std::env::args().skip(1).collect(),
        &mut Out::stdout(),
    ))
}
