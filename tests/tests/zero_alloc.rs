//! Zero allocation in steady state: after start-up, processing packets allocates nothing.
//!
//! A counting global allocator (mos-bench's, the benchmark's own) wraps the system allocator; a worker is built (start-up may
//! allocate), then every frame of real captures is fed through the full pipeline — parsing,
//! flow table, both TCP endpoints, reassembly, every event dispatched to an app that reads the
//! streams, and to an app built on the UDE library (flow and packet-level events) — and the
//! allocation count must not move. The connections' end (`finish`) is included.

use std::sync::Mutex;

use mos_bench::alloc::{self, Counting};
use mos_runtime::io::{Frame, PcapReader};
use mos_runtime::prelude::*;
use mos_runtime::{Config, CoreState, Subscriptions, Worker};
use mos_tests::traces::{public_captures, public_dir};

/// The allocation counter is process-wide: tests that measure it hold this for their whole run,
/// so that another test's start-up allocations never land in their window.
static MEASURING: Mutex<()> = Mutex::new(());

#[global_allocator]
static GLOBAL: Counting = Counting;

/// An app that touches every part of the API a handler uses on the hot path, without
/// allocating itself.
struct Busy;

#[derive(Default)]
struct FlowStats {
    packets: u64,
    new_data: u64,
    checksum: u64,
}

#[derive(Default)]
struct Totals {
    events: u64,
    bytes_seen: u64,
    orphans: u64,
    errors: u64,
}

impl CoreState for Totals {}

impl App for Busy {
    type Flow = FlowStats;
    type Core = Totals;
    const NAME: &'static str = "busy";
    const SUBSCRIPTIONS: Subscriptions = Subscriptions::ALL;

    fn pkt_in_snd(cx: &mut Cx<'_, FlowStats, Totals>) {
        cx.flow_mut().packets += 1;
        let len = cx.packet().map_or(0, |p| p.payload().len() as u64);
        cx.core_mut().bytes_seen += len;
    }
    fn pkt_in_rcv(cx: &mut Cx<'_, FlowStats, Totals>) {
        cx.core_mut().events += 1;
    }
    fn conn_start_snd(cx: &mut Cx<'_, FlowStats, Totals>) {
        cx.set_timer(std::time::Duration::from_secs(5));
    }
    fn tcp_state_change_rcv(cx: &mut Cx<'_, FlowStats, Totals>) {
        let _ = cx.tcp_state(cx.side());
        cx.core_mut().events += 1;
    }
    fn rexmit_rcv(cx: &mut Cx<'_, FlowStats, Totals>) {
        cx.core_mut().events += 1;
    }
    fn conn_new_data_rcv(cx: &mut Cx<'_, FlowStats, Totals>) {
        let side = cx.side();
        let sum = cx
            .peek(side)
            .iter()
            .fold(0u64, |a, b| a.wrapping_add(u64::from(*b)));
        let keep = cx.peek(side).len().min(3);
        cx.keep_unread(side, keep);
        let flow = cx.flow_mut();
        flow.new_data += 1;
        flow.checksum = flow.checksum.wrapping_add(sum);
    }
    fn conn_end_rcv(cx: &mut Cx<'_, FlowStats, Totals>) {
        let sent = cx.sent_by(Side::Client);
        cx.core_mut().bytes_seen += sent.stream_bytes;
    }
    fn timeout_null(cx: &mut Cx<'_, FlowStats, Totals>) {
        cx.set_timer(std::time::Duration::from_secs(5));
    }
    fn orphan_null(cx: &mut PacketCx<'_, Totals>) {
        cx.core_mut().orphans += 1;
    }
    fn error_null(cx: &mut PacketCx<'_, Totals>) {
        cx.core_mut().errors += 1;
    }
    fn error_rcv(cx: &mut Cx<'_, FlowStats, Totals>) {
        cx.core_mut().errors += 1;
    }
}

fn frames_of(bytes: Vec<u8>) -> Vec<(Vec<u8>, Timestamp, u32, mos_runtime::wire::LinkType)> {
    let mut reader = PcapReader::from_bytes(bytes).expect("capture");
    let mut out = Vec::new();
    while let Ok(Some(f)) = reader.next_frame() {
        out.push((f.data.to_vec(), f.ts, f.wire_len, f.link));
    }
    out
}

/// Feed `frames` through a fresh worker of app `A` and assert that nothing was allocated after
/// start-up; returns the worker (its core state holds what the app counted).
fn assert_no_allocation<A: App>(
    name: &str,
    frames: &[(Vec<u8>, Timestamp, u32, mos_runtime::wire::LinkType)],
) -> Worker<A> {
    let cfg = Config {
        max_flows: 4096,
        buffers: 512,
        buffer_size: 16 << 10,
        ..Config::default()
    };
    let mut worker = Worker::<A>::new(cfg.clone(), None).expect("worker");
    let before = alloc::allocations();
    for (data, ts, wire_len, link) in frames {
        worker.process(data, *ts, *wire_len, *link);
    }
    worker.finish().expect("finish");
    let allocations = alloc::allocations() - before;
    assert_eq!(
        allocations,
        0,
        "{name}: {allocations} allocations over {} packets",
        frames.len()
    );
    // The prefetching path (taken by the runtime when many flows are tracked) allocates
    // nothing either.
    let mut prefetching = Worker::<A>::new(cfg, None).expect("worker");
    let before = alloc::allocations();
    prefetching.process_batch(frames.iter().map(|(data, ts, wire_len, link)| Frame {
        data,
        ts: *ts,
        wire_len: *wire_len,
        link: *link,
    }));
    prefetching.finish().expect("finish");
    let allocations = alloc::allocations() - before;
    assert_eq!(
        allocations,
        0,
        "{name}, process_batch: {allocations} allocations over {} packets",
        frames.len()
    );
    worker
}

/// The UDE library on the hot path: HTTP requests and responses, TLS ClientHellos, DNS queries
/// over UDP (a packet-level event, at NULL), UDEs chained on library events, per-flow handler
/// switching. Counts only; allocates nothing.
#[mos_runtime::app]
mod library_user {
    use mos_runtime::library;
    use mos_runtime::prelude::*;

    #[flow_state]
    #[derive(Default)]
    pub struct Flow {
        pub requests: u32,
    }

    #[core_state]
    #[derive(Default)]
    pub struct Counts {
        pub requests: u64,
        pub responses: u64,
        pub hellos: u64,
        pub searches: u64,
        pub sni_bytes: u64,
        pub dns_queries: u64,
        pub dns_name_bytes: u64,
        pub a_queries: u64,
    }

    #[event(base = mos_runtime::library::HttpRequest, filter = is_search)]
    pub struct Search;

    fn is_search(cx: &FilterCx<'_, Flow, Counts>) -> bool {
        library::http_requests(cx).any(|r| r.uri.starts_with(b"/search"))
    }

    #[on(event = mos_runtime::library::HttpRequest, hook = RCV)]
    fn request(cx: &mut Cx<'_, Flow, Counts>) {
        let n = library::http_requests(cx).count() as u64;
        cx.flow_mut().requests += n as u32;
        cx.core_mut().requests += n;
        cx.enable(handlers::response);
    }

    #[on(event = Search, hook = RCV)]
    fn search(cx: &mut Cx<'_, Flow, Counts>) {
        cx.core_mut().searches += 1;
    }

    #[on(event = mos_runtime::library::HttpResponse, hook = RCV, per_flow)]
    fn response(cx: &mut Cx<'_, Flow, Counts>) {
        let n = library::http_responses(cx).count() as u64;
        cx.core_mut().responses += n;
    }

    #[on(event = mos_runtime::library::TlsClientHello, hook = RCV)]
    fn hello(cx: &mut Cx<'_, Flow, Counts>) {
        let sni = library::tls_client_hello(cx)
            .and_then(|h| h.sni().map(str::len))
            .unwrap_or(0);
        let core = cx.core_mut();
        core.hellos += 1;
        core.sni_bytes += sni as u64;
    }

    #[on(event = mos_runtime::library::DnsQuery, hook = NULL)]
    fn dns_query(cx: &mut PacketCx<'_, Counts>) {
        let name = library::dns_query(cx).map_or(0, |q| q.name_bytes().len());
        let core = cx.core_mut();
        core.dns_queries += 1;
        core.dns_name_bytes += name as u64;
    }

    /// A UDE on the packet-level library event.
    #[event(base = mos_runtime::library::DnsQuery, filter = is_a_query)]
    pub struct AQuery;

    fn is_a_query(cx: &PacketCx<'_, Counts>) -> bool {
        library::dns_query(cx).is_some_and(|q| q.qtype() == 1)
    }

    #[on(event = AQuery, hook = NULL)]
    fn a_query(cx: &mut PacketCx<'_, Counts>) {
        cx.core_mut().a_queries += 1;
    }
}

#[test]
fn no_allocation_per_packet_on_real_captures() {
    let _serial = MEASURING.lock().unwrap_or_else(|e| e.into_inner());
    let Some(dir) = public_dir() else { return };
    let mut events = 0;
    let mut packets = 0;
    for trace in public_captures(&dir) {
        let frames = frames_of(std::fs::read(&trace).expect("read"));
        packets += frames.len();
        let name = trace.display().to_string();
        events += assert_no_allocation::<Busy>(&name, &frames).core().events;
    }
    assert!(
        packets > 2000,
        "the public captures hold a few thousand packets, got {packets}"
    );
    assert!(
        events > 1000,
        "the app must actually have seen events, got {events}"
    );
}

#[test]
fn the_ude_library_allocates_nothing_on_real_captures() {
    let _serial = MEASURING.lock().unwrap_or_else(|e| e.into_inner());
    let Some(dir) = public_dir() else { return };
    let mut totals = library_user::Counts::default();
    for trace in public_captures(&dir) {
        let frames = frames_of(std::fs::read(&trace).expect("read"));
        let worker =
            assert_no_allocation::<library_user::App>(&trace.display().to_string(), &frames);
        let c = worker.core();
        totals.requests += c.requests;
        totals.responses += c.responses;
        totals.hellos += c.hellos;
        totals.sni_bytes += c.sni_bytes;
        totals.dns_queries += c.dns_queries;
        totals.dns_name_bytes += c.dns_name_bytes;
        totals.a_queries += c.a_queries;
    }
    // What the library saw, against tshark: two DNS queries over UDP (`A www.tcpdump.org`,
    // `A example.com`: 15 + 11 name bytes); 74 ClientHellos (73 in retina-tls-ciphers, one in
    // sv-tls-fin-close with a 33-byte SNI); at least the 9 HTTP requests the library's own
    // tests pin (zeek-http-pipelined 5, zeek-http-get/-vlan/-qinq 1 each, sv-tcp-urgent 1),
    // each answered.
    assert_eq!(
        (totals.dns_queries, totals.dns_name_bytes, totals.a_queries),
        (2, 26, 2)
    );
    assert_eq!((totals.hellos, totals.sni_bytes), (74, 33));
    assert!(totals.requests >= 9, "{} requests", totals.requests);
    assert!(totals.responses >= 5, "{} responses", totals.responses);
}
