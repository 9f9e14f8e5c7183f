//! `http_monitor`: HTTP requests and responses through the UDE library, with a chain of
//! user-defined events and per-flow handler activation.
//!
//! ```text
//! ON_CONN_NEW_DATA ── library::HttpRequest ── SearchQuery      (this app's UDE on the library's)
//!                  └─ library::HttpResponse                    (handler enabled per flow)
//! ```
//!
//! - `log_request` (on the library's `HttpRequest`) prints each request and switches the
//!   `log_response` handler on for this flow: it is declared `per_flow`, so it starts off, and
//!   the response filter does not even run on connections that sent no request.
//! - `log_response` prints each response's status and switches itself off again once every
//!   request of the flow has been answered.
//! - `SearchQuery` is a UDE built on the library event: a request for `/search?q=...`. Its
//!   handler prints the decoded query.
//!
//! `ON_CONN_NEW_DATA` is coalesced per side per receive batch, and the side that got bytes
//! first in the batch is served first, so a request is seen before a response captured after
//! it in the same batch. A keep-alive exchange packed into one batch (request, response, next
//! request) still reaches the handlers as all requests, then all responses: `--batch 1` shows
//! every message in capture order.

use mos_runtime::Report;

use crate::outln;
use crate::run::{self, Exit, Out};

/// `--help` text.
pub const USAGE: &str = "\
http_monitor — HTTP requests, responses and search queries of a capture

usage: http_monitor [--batch N] [--quiet] [--cores N] [TRACE]

  --batch N   packets per receive batch (default 32; 1 = capture order, see below)
  --quiet     print only the final summary and report
  --cores N   worker threads (default 1)
  TRACE       pcap or pcapng file (default: the sample trace shipped in examples/data)

lines:  CLIENT -> SERVER  METHOD HOST URI
        CLIENT <- SERVER  STATUS REASON
        CLIENT search \"QUERY\" on HOST

ON_CONN_NEW_DATA is raised once per side per batch, the side that got bytes first served
first: a request comes before its response. Within one batch, though, all of a side's new
bytes come at once; --batch 1 shows every message in capture order.";

/// The longest search query printed (longer ones are cut).
const MAX_QUERY: usize = 256;

// ANCHOR: app
#[mos_runtime::app]
pub mod http_monitor {
    use mos_runtime::library;
    use mos_runtime::prelude::*;

    use super::{MAX_QUERY, decode_query};
    use crate::outln;
    use crate::run::Out;

    /// Per connection: requests not answered yet.
    #[flow_state]
    #[derive(Default, Debug)]
    pub struct Flow {
        outstanding: u32,
        sent_requests: bool,
    }

    /// Per worker: the output and the counts of the summary.
    #[core_state(merge = merge, fork = fork)]
    #[derive(Default, Debug)]
    pub struct Core {
        /// Where lines go.
        pub out: Out,
        /// Print only the summary.
        pub quiet: bool,
        /// Requests seen.
        pub requests: u64,
        /// Responses seen.
        pub responses: u64,
        /// Search queries seen.
        pub searches: u64,
        /// Connections whose response handler was switched on.
        pub flows_with_requests: u64,
    }

    /// Another worker's start under `--cores N`: the first worker's options, zero counts.
    fn fork(first: &Core) -> Core {
        Core {
            out: first.out.fork(),
            quiet: first.quiet,
            ..Core::default()
        }
    }

    fn merge(core: &mut Core, other: Core) {
        core.out.merge(other.out);
        core.requests += other.requests;
        core.responses += other.responses;
        core.searches += other.searches;
        core.flows_with_requests += other.flows_with_requests;
    }

    // ANCHOR: search
    /// A request for `/search` with a `q=` parameter.
    #[event(base = mos_runtime::library::HttpRequest, filter = is_search)]
    #[derive(Debug)]
    pub struct SearchQuery;

    fn is_search(cx: &FilterCx<'_, Flow, Core>) -> bool {
        library::http_requests(cx).any(|r| search_param(r.uri).is_some())
    }
    // ANCHOR_END: search

    #[on(event = mos_runtime::library::HttpRequest, hook = RCV)]
    fn log_request(cx: &mut Cx<'_, Flow, Core>) {
        let (client, server) = (cx.client(), cx.server());
        let mut n = 0;
        // The requests borrow the receive buffer; printing needs only a shared borrow.
        for req in library::http_requests(cx) {
            n += 1;
            let core = cx.core();
            if !core.quiet {
                outln!(
                    core.out,
                    "{client} -> {server}  {} {} {}",
                    req.method_str().unwrap_or("?"),
                    req.host_str().unwrap_or("-"),
                    String::from_utf8_lossy(req.uri),
                );
            }
        }
        let flow = cx.flow_mut();
        let first = !flow.sent_requests;
        flow.sent_requests = true;
        flow.outstanding += n;
        let core = cx.core_mut();
        core.requests += u64::from(n);
        if first {
            core.flows_with_requests += 1;
        }
        cx.enable(handlers::log_response);
    }

    #[on(event = SearchQuery, hook = RCV)]
    fn log_search(cx: &mut Cx<'_, Flow, Core>) {
        let client = cx.client();
        let mut found = 0;
        for req in library::http_requests(cx) {
            let Some(q) = search_param(req.uri) else {
                continue;
            };
            found += 1;
            let core = cx.core();
            if !core.quiet {
                let mut buf = [0u8; MAX_QUERY];
                let text = decode_query(q, &mut buf);
                outln!(
                    core.out,
                    "{client} search {:?} on {}",
                    String::from_utf8_lossy(text),
                    req.host_str().unwrap_or("-")
                );
            }
        }
        cx.core_mut().searches += found;
    }

    #[on(event = mos_runtime::library::HttpResponse, hook = RCV, per_flow)]
    fn log_response(cx: &mut Cx<'_, Flow, Core>) {
        let (client, server) = (cx.client(), cx.server());
        let mut n = 0;
        for resp in library::http_responses(cx) {
            n += 1;
            let core = cx.core();
            if !core.quiet {
                outln!(
                    core.out,
                    "{client} <- {server}  {} {}",
                    resp.status,
                    String::from_utf8_lossy(resp.reason)
                );
            }
        }
        let flow = cx.flow_mut();
        flow.outstanding = flow.outstanding.saturating_sub(n);
        let done = flow.outstanding == 0;
        cx.core_mut().responses += u64::from(n);
        if done {
            cx.disable(handlers::log_response);
        }
    }

    /// The raw value of the `q` parameter of a `/search?...` target.
    pub(super) fn search_param(uri: &[u8]) -> Option<&[u8]> {
        let query = uri.strip_prefix(b"/search?")?;
        query
            .split(|&b| b == b'&')
            .find_map(|kv| kv.strip_prefix(b"q="))
    }
}
// ANCHOR_END: app

/// Percent-decodes a query value (`+` is a space) into `buf`; cut at `buf`'s length.
pub fn decode_query<'b>(raw: &[u8], buf: &'b mut [u8]) -> &'b [u8] {
    let mut n = 0;
    let mut i = 0;
    while i < raw.len() && n < buf.len() {
        let b = match raw[i] {
            b'+' => b' ',
            b'%' => match (raw.get(i + 1).and_then(hex), raw.get(i + 2).and_then(hex)) {
                (Some(hi), Some(lo)) => {
                    i += 2;
                    hi << 4 | lo
                }
                _ => b'%',
            },
            other => other,
        };
        buf[n] = b;
        n += 1;
        i += 1;
    }
    &buf[..n]
}

fn hex(b: &u8) -> Option<u8> {
    (*b as char).to_digit(16).map(|d| d as u8)
}

/// Runs the example: `args` without the program name.
pub fn run(mut args: Vec<String>, out: &mut Out) -> Result<(), Exit> {
    let batch = run::take_number(&mut args, "--batch")?.unwrap_or(32);
    let args = run::common(args, USAGE)?;
    let core = http_monitor::Core {
        out: std::mem::take(out),
        quiet: args.quiet,
        ..http_monitor::Core::default()
    };
    let (report, core) = run::builder(&args)?
        .batch_size(batch)
        .build()?
        .run_init::<http_monitor::App>(core)?;
    summary(&core, &report);
    *out = core.out;
    Ok(())
}

fn summary(core: &http_monitor::Core, report: &Report) {
    outln!(
        core.out,
        "http_monitor: {} requests on {} connections, {} responses, {} search queries",
        core.requests,
        core.flows_with_requests,
        core.responses,
        core.searches
    );
    run::finish(&core.out, report);
}
