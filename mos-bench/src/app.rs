//! `midstat`: the midstat-class app the benchmark runs (mOS's `midstat` sample, grown to the
//! issue's description): every connection tracked on both sides with reassembly on, per-flow
//! counters, and an HTTP user-defined event over the client's stream.
//!
//! The app implements [`App`] by hand, exactly as `#[mos_runtime::app]` would generate it: one
//! static entry per (event, hook) with plain calls, the UDE as an `if filter(..)` test on its
//! base event, `cx.__enter(id)` before each handler (the per-flow enable bit and call count).
//!
//! | id | handler | event | hook |
//! |---|---|---|---|
//! | 0 | `count_packet` | `ON_PKT_IN` | `SND` |
//! | 1 | `http_request` | `HttpRequest` (UDE: `ON_CONN_NEW_DATA` + [`is_http_request_stream`]) | `RCV` |
//! | 2 | `count_rexmit` | `ON_REXMIT` | `RCV` |
//! | 3 | `close_flow` | `ON_CONN_END` | `RCV` |
//!
//! Nothing here allocates: request lines are folded into a 64-bit digest (FNV-1a of
//! `method \xff host \xff uri`, summed), the same digest [`crate::truth::Expected`] computes
//! from the generator's ground truth, so the benchmark checks every request's content, not
//! only their number.
//!
//! The app also marks the steady state for the allocation count: the process's allocation
//! counter ([`crate::alloc::allocations`], one relaxed atomic load) at the first packet each
//! worker sees and at every connection end, so `last − first` is what the packet loop and the
//! end of the run allocated once every worker was running, on every thread, with start-up and
//! the report left out.

use mos_runtime::prelude::*;
use mos_runtime::proto::http::{self, BodyState, End};
use mos_runtime::{CoreState, HandlerInfo, Subscriptions};

/// FNV-1a over `parts`, with a `0xff` byte (never in an HTTP token or URI) between them.
pub fn request_digest(method: &[u8], host: &[u8], uri: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    };
    eat(method);
    eat(&[0xff]);
    eat(host);
    eat(&[0xff]);
    eat(uri);
    h
}

/// What the client's stream carries, as far as the HTTP UDE is concerned.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StreamKind {
    /// No byte seen yet.
    #[default]
    Unknown,
    /// HTTP/1.x requests.
    Http,
    /// Something else (TLS, or bytes that stopped being HTTP): the UDE's filter is false.
    Other,
}

/// Per-connection counters (the `#[flow_state]`).
#[derive(Debug, Default)]
pub struct FlowStats {
    /// Packets by direction (`[client→server, server→client]`), counted at `SND`.
    pub pkts: [u64; 2],
    /// `ON_REXMIT` events by the direction of the retransmitted data.
    pub rexmits: [u64; 2],
    /// HTTP requests the client sent.
    pub requests: u64,
    /// Sum of the requests' digests.
    pub digest: u64,
    /// What the client stream carries.
    pub kind: StreamKind,
    /// Where the last request's body left off (the parser's resume state).
    pub body: BodyState,
    /// The connection was folded into the totals (at its first `ON_CONN_END`).
    pub closed: bool,
}

/// Whole-run totals (the `#[core_state]`), merged over workers by addition.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Totals {
    /// Connections ended (each counted once).
    pub connections: u64,
    /// Packets client → server of those connections.
    pub pkts_client: u64,
    /// Packets server → client.
    pub pkts_server: u64,
    /// Distinct in-order payload bytes the clients sent (the engine's reassembled count).
    pub bytes_client: u64,
    /// Distinct in-order payload bytes the servers sent.
    pub bytes_server: u64,
    /// Bytes the clients sent that were never captured (holes skipped).
    pub missed_client: u64,
    /// Bytes the servers sent that were never captured.
    pub missed_server: u64,
    /// `ON_REXMIT` events for client data.
    pub rexmit_client: u64,
    /// `ON_REXMIT` events for server data.
    pub rexmit_server: u64,
    /// HTTP requests.
    pub http_requests: u64,
    /// Sum of the requests' digests.
    pub http_digest: u64,
}

/// The `#[core_state]`: the totals, and the allocation counter at the first packet and the
/// last connection end (see the module docs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Core {
    /// What was counted.
    pub totals: Totals,
    /// Allocations so far when the first packet of a connection was dispatched.
    pub allocs_first: Option<u64>,
    /// Allocations so far at the last connection end.
    pub allocs_last: u64,
}

impl CoreState for Core {
    fn merge(&mut self, o: Self) {
        self.totals.merge(o.totals);
        // Steady state starts once every worker is processing packets: the latest first
        // packet (a worker thread's own start-up may still allocate while another worker
        // already runs).
        self.allocs_first = match (self.allocs_first, o.allocs_first) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        self.allocs_last = self.allocs_last.max(o.allocs_last);
    }
}

impl Core {
    /// Allocations between the first packet and the last connection end.
    pub fn steady_allocations(&self) -> u64 {
        self.allocs_last
            .saturating_sub(self.allocs_first.unwrap_or(self.allocs_last))
    }
}

impl Totals {
    /// Adds another worker's totals.
    pub fn merge(&mut self, o: Self) {
        self.connections += o.connections;
        self.pkts_client += o.pkts_client;
        self.pkts_server += o.pkts_server;
        self.bytes_client += o.bytes_client;
        self.bytes_server += o.bytes_server;
        self.missed_client += o.missed_client;
        self.missed_server += o.missed_server;
        self.rexmit_client += o.rexmit_client;
        self.rexmit_server += o.rexmit_server;
        self.http_requests += o.http_requests;
        self.http_digest = self.http_digest.wrapping_add(o.http_digest);
    }
}

/// The app.
#[derive(Debug)]
pub struct Midstat;

type MCx<'a> = Cx<'a, FlowStats, Core>;
type MFilterCx<'a> = FilterCx<'a, FlowStats, Core>;

fn dir_index(dir: Dir) -> usize {
    match dir {
        Dir::ClientToServer => 0,
        Dir::ServerToClient => 1,
    }
}

impl App for Midstat {
    type Flow = FlowStats;
    type Core = Core;
    const NAME: &'static str = "midstat";
    const HANDLERS: &'static [HandlerInfo] = &[
        HandlerInfo {
            name: "count_packet",
            event: "ON_PKT_IN",
            hook: Hook::Snd,
            per_flow: false,
        },
        HandlerInfo {
            name: "http_request",
            event: "HttpRequest",
            hook: Hook::Rcv,
            per_flow: false,
        },
        HandlerInfo {
            name: "count_rexmit",
            event: "ON_REXMIT",
            hook: Hook::Rcv,
            per_flow: false,
        },
        HandlerInfo {
            name: "close_flow",
            event: "ON_CONN_END",
            hook: Hook::Rcv,
            per_flow: false,
        },
    ];
    const SUBSCRIPTIONS: Subscriptions = Subscriptions::NONE
        .with(Event::PktIn, Hook::Snd)
        .with(Event::ConnNewData, Hook::Rcv)
        .with(Event::Rexmit, Hook::Rcv)
        .with(Event::ConnEnd, Hook::Rcv);

    #[inline(always)]
    fn pkt_in_snd(cx: &mut MCx<'_>) {
        if cx.__enter(0) {
            count_packet(cx);
        }
    }

    #[inline(always)]
    fn conn_new_data_rcv(cx: &mut MCx<'_>) {
        if is_http_request_stream(cx.as_filter()) && cx.__enter(1) {
            http_request(cx);
        }
    }

    #[inline(always)]
    fn rexmit_rcv(cx: &mut MCx<'_>) {
        if cx.__enter(2) {
            count_rexmit(cx);
        }
    }

    #[inline(always)]
    fn conn_end_rcv(cx: &mut MCx<'_>) {
        if cx.__enter(3) {
            close_flow(cx);
        }
    }
}

/// Per-flow packet counter.
#[inline(always)]
fn count_packet(cx: &mut MCx<'_>) {
    let d = dir_index(cx.dir());
    cx.flow_mut().pkts[d] += 1;
    let core = cx.core_mut();
    if core.allocs_first.is_none() {
        core.allocs_first = Some(crate::alloc::allocations());
    }
}

/// The UDE's filter: new bytes in the client's stream, which is (or starts like) HTTP.
pub fn is_http_request_stream(cx: &MFilterCx<'_>) -> bool {
    if cx.side() != Side::Server {
        return false;
    }
    match cx.flow().kind {
        StreamKind::Http => true,
        StreamKind::Other => false,
        StreamKind::Unknown => http::looks_like_request_start(cx.peek(Side::Server)),
    }
}

/// Walk the complete request heads in the client's new bytes; keep an incomplete head
/// unread for the next `ON_CONN_NEW_DATA`.
fn http_request(cx: &mut MCx<'_>) {
    let data = cx.peek(Side::Server);
    let mut walk = http::Requests::resume(data, cx.flow().body);
    let mut count = 0u64;
    let mut digest = 0u64;
    for req in walk.by_ref() {
        count += 1;
        digest = digest.wrapping_add(request_digest(
            req.method,
            req.host.unwrap_or_default(),
            req.uri,
        ));
    }
    let kind = if walk.end() == Some(End::Invalid) {
        StreamKind::Other
    } else {
        StreamKind::Http
    };
    cx.keep_unread(Side::Server, walk.pending());
    let body = walk.state();
    let flow = cx.flow_mut();
    flow.kind = kind;
    flow.body = body;
    flow.requests += count;
    flow.digest = flow.digest.wrapping_add(digest);
}

/// Per-flow retransmission counter (by the direction the data travelled).
#[inline(always)]
fn count_rexmit(cx: &mut MCx<'_>) {
    let d = dir_index(cx.dir());
    cx.flow_mut().rexmits[d] += 1;
}

/// Fold the connection into the totals, once (the first `ON_CONN_END`).
fn close_flow(cx: &mut MCx<'_>) {
    if cx.flow().closed {
        return;
    }
    let client = cx.sent_by(Side::Client);
    let server = cx.sent_by(Side::Server);
    let f = cx.flow_mut();
    f.closed = true;
    let (pkts, rexmits, requests, digest) = (f.pkts, f.rexmits, f.requests, f.digest);
    let core = cx.core_mut();
    core.allocs_last = crate::alloc::allocations();
    let t = &mut core.totals;
    t.connections += 1;
    t.pkts_client += pkts[0];
    t.pkts_server += pkts[1];
    t.bytes_client += client.stream_bytes;
    t.bytes_server += server.stream_bytes;
    t.missed_client += client.missed_bytes;
    t.missed_server += server.missed_bytes;
    t.rexmit_client += rexmits[0];
    t.rexmit_server += rexmits[1];
    t.http_requests += requests;
    t.http_digest = t.http_digest.wrapping_add(digest);
}
