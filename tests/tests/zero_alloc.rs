//! Zero allocation in steady state: after start-up, processing packets allocates nothing.
//!
//! A counting global allocator wraps the system allocator; a worker is built (start-up may
//! allocate), then every frame of real captures is fed through the full pipeline — parsing,
//! flow table, both TCP endpoints, reassembly, every event dispatched to an app that reads the
//! streams — and the allocation count must not move. The connections' end (`finish`) is
//! included.
#![allow(unsafe_code)] // the GlobalAlloc impl below; nothing else in this file

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

use mos_runtime::io::PcapReader;
use mos_runtime::prelude::*;
use mos_runtime::{Config, CoreState, Subscriptions, Worker};
use mos_tests::traces::{public_captures, public_dir};

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so the
// GlobalAlloc contract holds exactly as it does for `System`; the counter is a side effect only.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as our caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as our caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

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

fn assert_no_allocation(
    name: &str,
    frames: &[(Vec<u8>, Timestamp, u32, mos_runtime::wire::LinkType)],
) -> u64 {
    let cfg = Config {
        max_flows: 4096,
        buffers: 512,
        buffer_size: 16 << 10,
        ..Config::default()
    };
    let mut worker = Worker::<Busy>::new(cfg, None).expect("worker");
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    for (data, ts, wire_len, link) in frames {
        worker.process(data, *ts, *wire_len, *link);
    }
    worker.finish().expect("finish");
    let allocations = ALLOCATIONS.load(Ordering::Relaxed) - before;
    assert_eq!(
        allocations,
        0,
        "{name}: {allocations} allocations over {} packets",
        frames.len()
    );
    worker.core().events
}

/// The UDE library on the hot path: HTTP requests and responses, TLS ClientHellos, a UDE
/// chained on a library event, per-flow handler switching. Counts only; allocates nothing.
#[mos_runtime::app]
pub mod library_user {
    use mos_runtime::library;
    use mos_runtime::prelude::*;

    #[flow_state]
    #[derive(Debug, Default)]
    pub struct Flow {
        pub requests: u32,
    }

    #[core_state]
    #[derive(Debug, Default)]
    pub struct Counts {
        pub requests: u64,
        pub responses: u64,
        pub hellos: u64,
        pub searches: u64,
        pub sni_bytes: u64,
    }

    #[event(base = mos_runtime::library::HttpRequest, filter = is_search)]
    #[derive(Debug)]
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
}

#[test]
fn no_allocation_per_packet_on_real_captures() {
    let Some(dir) = public_dir() else { return };
    let mut events = 0;
    let mut packets = 0;
    for trace in public_captures(&dir) {
        let frames = frames_of(std::fs::read(&trace).expect("read"));
        packets += frames.len();
        let name = trace.display().to_string();
        events += assert_no_allocation(&name, &frames);
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
