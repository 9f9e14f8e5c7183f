//! eventlog — print every event the runtime raises for a capture, one line per dispatch.
//!
//! `cargo run --release --example eventlog -- [--batch N] [TRACE]`

use std::process::ExitCode;

use mos_examples::cli;
use mos_examples::eventlog::EventLog;
use mos_runtime::Runtime;

const USAGE: &str = "\
eventlog — every event mos raises for a capture, in order

usage: eventlog [--batch N] [--quiet] [TRACE]

  --batch N   packets per receive batch (default 32; ON_CONN_NEW_DATA is coalesced per batch)
  --quiet     print only the final report
  TRACE       pcap or pcapng file (default: the sample trace shipped in examples/data)

line format: EVENT@HOOK side direction detail";

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut batch = 32;
    if let Some(i) = args.iter().position(|a| a == "--batch") {
        let Some(value) = args.get(i + 1).and_then(|v| v.parse().ok()) else {
            eprintln!("--batch needs a number\n\n{USAGE}");
            return ExitCode::from(2);
        };
        batch = value;
        args.drain(i..i + 2);
    }
    let args = match cli::parse(args, USAGE) {
        Ok(args) if args.rest.is_empty() => args,
        Ok(args) => {
            eprintln!("unknown option: {}\n\n{USAGE}", args.rest[0]);
            return ExitCode::from(2);
        }
        Err(msg) => {
            eprintln!("{msg}");
            return if msg == USAGE {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            };
        }
    };
    let trace = args.trace.clone().unwrap_or_else(cli::shipped_trace);
    let run = Runtime::builder()
        .pcap(&trace)
        .and_then(|b| b.batch_size(batch).cores(args.cores).build())
        .and_then(|rt| rt.run_with_core::<EventLog>());
    match run {
        Ok((report, log)) => {
            if !args.quiet {
                for line in &log.lines {
                    println!("{line}");
                }
            }
            println!("{report}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("eventlog: {}: {e}", trace.display());
            ExitCode::FAILURE
        }
    }
}
