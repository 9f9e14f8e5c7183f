//! `flowdump`: the conformance tool (SPEC §5). One JSON object per connection at
//! `ON_CONN_END` (end of trace included), then a summary line.
//!
//! HTTP requests come from the runtime's UDE library event `library::HttpRequest`, TLS server
//! names from `library::TlsClientHello` (SPEC §5); the library keeps a message split across
//! segments unread until it is complete.

use mos_runtime::Report;
use serde::Serialize;

use crate::outln;
use crate::run::{self, Exit, Out};

/// One HTTP request line as flowdump prints it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct HttpRequest {
    /// Method (`GET`).
    pub method: String,
    /// Host header (empty when absent).
    pub host: String,
    /// Request target.
    pub uri: String,
}

/// One connection, exactly the fields of SPEC §5.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ConnRecord {
    pub client: String,
    pub server: String,
    pub start: f64,
    pub end_reason: &'static str,
    pub syn: bool,
    pub synack: bool,
    pub fin_client: bool,
    pub fin_server: bool,
    pub rst: bool,
    pub pkts_client: u64,
    pub pkts_server: u64,
    pub bytes_client: u64,
    pub bytes_server: u64,
    pub rexmit_client: u64,
    pub rexmit_server: u64,
    pub missed_client: u64,
    pub missed_server: u64,
    pub http_requests: Vec<HttpRequest>,
    pub tls_sni: Vec<String>,
}

// ANCHOR: app
#[mos_runtime::app]
pub mod flowdump {
    use mos_runtime::library;
    use mos_runtime::prelude::*;

    use super::{ConnRecord, HttpRequest};
    use crate::run::Out;

    /// Per connection: what the library events found so far.
    #[flow_state]
    #[derive(Debug, Default)]
    pub struct Flow {
        requests: Vec<HttpRequest>,
        sni: Vec<String>,
        emitted: bool,
    }

    /// Where records go.
    #[core_state(merge = merge, fork = fork)]
    #[derive(Debug, Default)]
    pub struct Core {
        /// Print each record as a JSON line on [`Core::out`] as it is produced.
        pub stream: bool,
        /// Records kept when not streaming (tests, the text format).
        pub records: Vec<ConnRecord>,
        /// Where streamed records go.
        pub out: Out,
    }

    /// Another worker's start under `--cores N`: the same output choice, no records.
    fn fork(first: &Core) -> Core {
        Core {
            stream: first.stream,
            records: Vec::new(),
            out: first.out.fork(),
        }
    }

    fn merge(core: &mut Core, other: Core) {
        core.records.extend(other.records);
        core.out.merge(other.out);
    }

    /// The requests of the library's `HttpRequest` event, in order.
    #[on(event = mos_runtime::library::HttpRequest, hook = RCV)]
    fn http_request(cx: &mut Cx<'_, Flow, Core>) {
        let found: Vec<HttpRequest> = library::http_requests(cx)
            .map(|req| HttpRequest {
                method: String::from_utf8_lossy(req.method).into_owned(),
                host: req
                    .host
                    .map(|h| String::from_utf8_lossy(h).into_owned())
                    .unwrap_or_default(),
                uri: String::from_utf8_lossy(req.uri).into_owned(),
            })
            .collect();
        cx.flow_mut().requests.extend(found);
    }

    /// The server name of the library's `TlsClientHello` event.
    #[on(event = mos_runtime::library::TlsClientHello, hook = RCV)]
    fn tls_client_hello(cx: &mut Cx<'_, Flow, Core>) {
        let sni = library::tls_client_hello(cx).and_then(|h| h.sni().map(str::to_string));
        cx.flow_mut().sni.extend(sni);
    }

    /// Builds the record once per connection (the first `ON_CONN_END`, the client side's).
    #[on(event = ON_CONN_END, hook = RCV)]
    fn emit_record(cx: &mut Cx<'_, Flow, Core>) {
        if cx.flow().emitted {
            return;
        }
        let client = cx.sent_by(Side::Client);
        let server = cx.sent_by(Side::Server);
        cx.flow_mut().emitted = true;
        let record = ConnRecord {
            client: cx.client().to_string(),
            server: cx.server().to_string(),
            start: cx.start_time().as_secs_f64(),
            end_reason: cx.end_reason().map_or("trace_end", |r| r.name()),
            syn: true,
            synack: cx.synack_seen(),
            fin_client: client.fin,
            fin_server: server.fin,
            rst: client.rst || server.rst,
            pkts_client: client.packets,
            pkts_server: server.packets,
            bytes_client: client.stream_bytes,
            bytes_server: server.stream_bytes,
            rexmit_client: client.rexmits,
            rexmit_server: server.rexmits,
            missed_client: client.missed_bytes,
            missed_server: server.missed_bytes,
            http_requests: std::mem::take(&mut cx.flow_mut().requests),
            tls_sni: std::mem::take(&mut cx.flow_mut().sni),
        };
        let core = cx.core_mut();
        if core.stream {
            match serde_json::to_string(&record) {
                Ok(line) => core.out.line(format_args!("{line}")),
                Err(e) => core.out.line(format_args!("{{\"error\":\"{e}\"}}")),
            }
        } else {
            core.records.push(record);
        }
    }
}
// ANCHOR_END: app

pub use flowdump::{App as FlowDump, Core, Flow};

/// The summary line.
pub fn summary_line(report: &Report) -> String {
    serde_json::json!({
        "summary": {
            "packets": report.packets,
            "connections": report.connections,
            "orphans": report.orphans,
            "errors": report.errors,
        }
    })
    .to_string()
}

/// `--help` text.
pub const USAGE: &str = "\
flowdump — per-connection summary of a capture (the mos conformance tool)

usage: flowdump [--json] [--quiet] [--cores N] [TRACE]

  --json      one JSON object per connection, then a summary line (SPEC §5 fields)
  --quiet     print only the final report (with --json: only the summary line)
  --cores N   worker threads (default 1)
  TRACE       pcap or pcapng file (default: the sample trace shipped in examples/data)";

/// Runs the example: `args` without the program name.
pub fn run(mut args: Vec<String>, out: &mut Out) -> Result<(), Exit> {
    let json = run::take_flag(&mut args, "--json");
    let args = run::common(args, USAGE)?;
    let core = Core {
        stream: json && !args.quiet,
        records: Vec::new(),
        out: std::mem::take(out),
    };
    let (report, core) = run::builder(&args)?.build()?.run_init::<FlowDump>(core)?;
    if json {
        outln!(core.out, "{}", summary_line(&report));
    } else {
        if !args.quiet {
            for r in &core.records {
                outln!(
                    core.out,
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
                    if r.tls_sni.is_empty() {
                        "-".to_string()
                    } else {
                        r.tls_sni.join(",")
                    },
                );
            }
        }
        run::finish(&core.out, &report);
    }
    *out = core.out;
    Ok(())
}
