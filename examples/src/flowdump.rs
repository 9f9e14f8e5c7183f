//! `flowdump`: the conformance tool (SPEC §5). One JSON object per connection at
//! `ON_CONN_END` (end of trace included), then a summary line.
//!
//! HTTP requests and TLS server names come from the client→server stream, read after each
//! `ON_CONN_NEW_DATA` of the server side; a message split across segments is kept unread
//! (`keep_unread`) until it is complete.

use std::io::Write;

use mos_runtime::prelude::*;
use mos_runtime::proto::{http, tls};
use mos_runtime::{CoreState, HandlerInfo, Report, Subscriptions};
use serde::Serialize;

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

/// What the client stream turned out to carry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Proto {
    #[default]
    Unknown,
    Http,
    Tls,
    Other,
}

/// Per-connection state.
#[derive(Debug, Default)]
pub struct Flow {
    proto: Proto,
    /// Where the client stream stands inside a request body (bodies larger than the receive
    /// buffer are skipped as they stream by).
    body: http::BodyState,
    requests: Vec<HttpRequest>,
    sni: Vec<String>,
    emitted: bool,
}

/// Where records go.
#[derive(Debug, Default)]
pub struct Core {
    /// Print each record as a JSON line on stdout as it is produced.
    pub stream: bool,
    /// Records kept when not streaming (tests).
    pub records: Vec<ConnRecord>,
}

impl CoreState for Core {
    fn merge(&mut self, other: Self) {
        self.records.extend(other.records);
    }
}

/// The flowdump app.
#[derive(Debug)]
pub struct FlowDump;

impl App for FlowDump {
    type Flow = Flow;
    type Core = Core;
    const NAME: &'static str = "flowdump";
    const HANDLERS: &'static [HandlerInfo] = &[
        HandlerInfo {
            name: "read_client_stream",
            event: "ON_CONN_NEW_DATA",
            hook: Hook::Rcv,
            per_flow: false,
        },
        HandlerInfo {
            name: "emit_record",
            event: "ON_CONN_END",
            hook: Hook::Rcv,
            per_flow: false,
        },
    ];
    const SUBSCRIPTIONS: Subscriptions = Subscriptions::NONE
        .with(Event::ConnNewData, Hook::Rcv)
        .with(Event::ConnEnd, Hook::Rcv);

    fn conn_new_data_rcv(cx: &mut Cx<'_, Flow, Core>) {
        if cx.__enter(0) {
            read_client_stream(cx);
        }
    }

    fn conn_end_rcv(cx: &mut Cx<'_, Flow, Core>) {
        if cx.__enter(1) {
            emit_record(cx);
        }
    }
}

/// Find HTTP requests and TLS ClientHellos in what the client sent.
fn read_client_stream(cx: &mut Cx<'_, Flow, Core>) {
    if cx.side() != Side::Server {
        // Server→client bytes: nothing to extract; they are consumed after the dispatch.
        return;
    }
    let data = cx.peek(Side::Server);
    let mut requests = Vec::new();
    let mut sni = None;
    let mut proto = cx.flow().proto;
    let mut keep = 0;
    let mut body = cx.flow().body;
    if proto == Proto::Unknown && !data.is_empty() {
        proto = if http::looks_like_request_start(data) {
            Proto::Http
        } else if tls::looks_like_tls_handshake(data) {
            Proto::Tls
        } else {
            Proto::Other
        };
    }
    match proto {
        Proto::Http => {
            let mut iter = http::Requests::resume(data, cx.flow().body);
            for req in iter.by_ref() {
                requests.push(HttpRequest {
                    method: String::from_utf8_lossy(req.method).into_owned(),
                    host: req
                        .host
                        .map(|h| String::from_utf8_lossy(h).into_owned())
                        .unwrap_or_default(),
                    uri: String::from_utf8_lossy(req.uri).into_owned(),
                });
            }
            keep = iter.pending();
            body = iter.state();
            if iter.end() == Some(http::End::Invalid) || iter.end() == Some(http::End::UntilClose) {
                proto = Proto::Other;
            }
        }
        Proto::Tls => match tls::parse_client_hello(data) {
            http::Parse::Complete(hello) => {
                sni = hello.sni().map(str::to_string);
                proto = Proto::Other;
            }
            http::Parse::Partial => keep = data.len(),
            http::Parse::Invalid => proto = Proto::Other,
        },
        Proto::Unknown | Proto::Other => {}
    }
    cx.keep_unread(Side::Server, keep);
    let flow = cx.flow_mut();
    flow.proto = proto;
    flow.body = body;
    flow.requests.extend(requests);
    flow.sni.extend(sni);
}

/// Build the record once per connection (the first `ON_CONN_END`, the client side's).
fn emit_record(cx: &mut Cx<'_, Flow, Core>) {
    if cx.flow().emitted {
        return;
    }
    let client = cx.sent_by(Side::Client);
    let server = cx.sent_by(Side::Server);
    let flow = cx.flow_mut();
    flow.emitted = true;
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
        let mut out = std::io::stdout().lock();
        let _ = serde_json::to_writer(&mut out, &record);
        let _ = out.write_all(b"\n");
    } else {
        core.records.push(record);
    }
}

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
