//! flowdump — one line per TCP connection (SPEC §5), the conformance tool.
//!
//! `cargo run --release --example flowdump -- [--json] [OPTIONS] [TRACE]`

use std::process::ExitCode;

use mos_examples::cli;
use mos_examples::flowdump::{Core, FlowDump, summary_line};
use mos_runtime::Runtime;

const USAGE: &str = "\
flowdump — per-connection summary of a capture (the mos conformance tool)

usage: flowdump [--json] [--quiet] [--cores N] [TRACE]

  --json      one JSON object per connection, then a summary line (SPEC §5 fields)
  --quiet     print only the final report
  --cores N   worker threads (default 1)
  TRACE       pcap or pcapng file (default: the sample trace shipped in examples/data)";

fn main() -> ExitCode {
    let args = match cli::parse(std::env::args().skip(1), USAGE) {
        Ok(args) => args,
        Err(msg) => {
            eprintln!("{msg}");
            return if msg == USAGE {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            };
        }
    };
    let mut json = false;
    for flag in &args.rest {
        match flag.as_str() {
            "--json" => json = true,
            other => {
                eprintln!("unknown option: {other}\n\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let trace = args.trace.clone().unwrap_or_else(cli::shipped_trace);
    let run = Runtime::builder()
        .pcap(&trace)
        .and_then(|b| b.cores(args.cores).build())
        .and_then(|rt| {
            rt.run_init::<FlowDump>(Core {
                stream: json && !args.quiet,
                records: Vec::new(),
            })
        });
    let (report, core) = match run {
        Ok(done) => done,
        Err(e) => {
            eprintln!("flowdump: {}: {e}", trace.display());
            return ExitCode::FAILURE;
        }
    };
    if json {
        println!("{}", summary_line(&report));
    } else {
        if !args.quiet {
            for r in &core.records {
                println!(
                    "{} -> {}  {:<9} pkts {}/{}  bytes {}/{}  rexmit {}/{}  missed {}/{}  http {}  sni {}",
                    r.client,
                    r.server,
                    r.end_reason,
                    r.pkts_client,
                    r.pkts_server,
                    r.bytes_client,
                    r.bytes_server,
                    r.rexmit_client,
                    r.rexmit_server,
                    r.missed_client,
                    r.missed_server,
                    r.http_requests.len(),
                    r.tls_sni.join(","),
                );
            }
        }
        println!("{report}");
    }
    ExitCode::SUCCESS
}
