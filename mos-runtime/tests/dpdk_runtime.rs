//! The DPDK source on real DPDK (feature `dpdk`): no hugepages, no NIC, virtual devices only.
//!
//! Run with `cargo test -p mos-runtime --features dpdk --test dpdk_runtime`. All tests of this
//! binary share one EAL (DPDK starts once per process); each hot-plugs its own uniquely named
//! virtual devices, so they run in parallel.
//!
//! What is checked:
//! - the same captures through `net_pcap` and through the pcap-file path give identical
//!   per-connection records and reports (every public Ethernet trace, a synthetic workload,
//!   a capture of jumbo frames that arrive as mbuf chains);
//! - inline `net_pcap` → `net_pcap` writes exactly the input frames, minus what a handler
//!   drops, with a handler's in-place rewrites;
//! - several workers (software fan-out over `net_pcap` and `net_ring`, RSS queues on
//!   `net_null`) give the same records as one core, and each worker gets a share;
//! - every mbuf goes back to the pool (counted before and after), tx failures included;
//! - the stop flag, port ownership, DPDK's errors, and a panicking handler (the run ends with
//!   its panic instead of hanging, and gives its ports back).

#![cfg(feature = "dpdk")]
#![allow(
    unsafe_code,
    reason = "the tests feed net_ring ports through raw DPDK calls"
)]
#![allow(clippy::unwrap_used, reason = "a panic is the failure report")]

use std::ffi::CString;
use std::path::{Path, PathBuf};
use std::ptr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use mos_runtime::app::{App, CoreState, HandlerInfo, Subscriptions};
use mos_runtime::cx::{Cx, PacketCx};
use mos_runtime::event::{Dir, Event, Hook, OrphanReason, Side};
use mos_runtime::io::PcapReader;
use mos_runtime::io::dpdk::{Clock, DpdkConfig, Fanout, IdleStop, Mempool, PortSpec, init_eal};
use mos_runtime::{Report, RunError, Runtime};
use mos_synth::packet::SynOptions;
use mos_synth::script::{Client, Script, Server};

use dpdk_sys as sys;

/// The EAL flags of this test binary: the laptop flags with more memory, since tests run in
/// parallel and each makes its own pool.
const EAL: &[&str] = &[
    "-l",
    "0",
    "--no-huge",
    "-m",
    "512",
    "--no-pci",
    "--no-shconf",
    "--no-telemetry",
    "--log-level=*:warning",
];

fn eal_args() -> Vec<String> {
    EAL.iter().map(|s| (*s).to_string()).collect()
}

fn eal() {
    init_eal(&eal_args()).unwrap();
}

/// A process-unique number for vdev names and temp files.
fn unique() -> u32 {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

fn temp_path(what: &str) -> PathBuf {
    std::env::temp_dir().join(format!(
        "mos-dpdk-{}-{what}-{}.pcap",
        std::process::id(),
        unique()
    ))
}

fn traces_dir() -> PathBuf {
    match std::env::var_os("MOS_TRACES") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/traces/public"),
    }
}

// ----- the app under test ----------------------------------------------------------------

/// What the app does to packets (copied into every worker by `fork`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Mode {
    #[default]
    Observe,
    /// Drop every packet of connections to this server port.
    DropServerPort(u16),
    /// Rewrite the destination port of client→server packets to `from` into `to`.
    RewriteDstPort { from: u16, to: u16 },
    /// A handler bug: panic on the first packet to this server port.
    PanicOnServerPort(u16),
}

/// One connection, the fields of a flowdump line that do not depend on batching.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Rec {
    client: String,
    server: String,
    start_us: u64,
    end: &'static str,
    synack: bool,
    pkts: (u64, u64),
    stream_bytes: (u64, u64),
    payload_bytes: (u64, u64),
    rexmits: (u64, u64),
    missed: (u64, u64),
    fin: (bool, bool),
    rst: bool,
}

#[derive(Debug, Default)]
struct Core {
    mode: Mode,
    records: Vec<Rec>,
    orphans: u64,
    /// (records, orphans) of each worker, filled by `merge`.
    per_worker: Vec<(usize, u64)>,
}

impl CoreState for Core {
    fn merge(&mut self, other: Core) {
        if self.per_worker.is_empty() {
            self.per_worker.push((self.records.len(), self.orphans));
        }
        self.per_worker.push((other.records.len(), other.orphans));
        self.records.extend(other.records);
        self.orphans += other.orphans;
    }

    fn fork(&self) -> Core {
        Core {
            mode: self.mode,
            ..Core::default()
        }
    }
}

/// Records connections, counts orphans, and drops or rewrites as its mode says.
struct Recorder;

impl App for Recorder {
    type Flow = bool;
    type Core = Core;
    const NAME: &'static str = "recorder";
    const HANDLERS: &'static [HandlerInfo] = &[
        HandlerInfo {
            name: "record",
            event: "ON_CONN_END",
            hook: Hook::Rcv,
            per_flow: false,
        },
        HandlerInfo {
            name: "act",
            event: "ON_PKT_IN",
            hook: Hook::Snd,
            per_flow: false,
        },
        HandlerInfo {
            name: "orphan",
            event: "ON_ORPHAN",
            hook: Hook::Null,
            per_flow: false,
        },
    ];
    const SUBSCRIPTIONS: Subscriptions = Subscriptions::NONE
        .with(Event::ConnEnd, Hook::Rcv)
        .with(Event::PktIn, Hook::Snd)
        .with(Event::Orphan, Hook::Null);

    fn conn_end_rcv(cx: &mut Cx<'_, bool, Core>) {
        if !cx.__enter(0) || *cx.flow() {
            return;
        }
        *cx.flow_mut() = true;
        let (c, s) = (cx.sent_by(Side::Client), cx.sent_by(Side::Server));
        let rec = Rec {
            client: cx.client().to_string(),
            server: cx.server().to_string(),
            start_us: cx.start_time().as_nanos() / 1000,
            end: cx.end_reason().map_or("none", |r| r.name()),
            synack: cx.synack_seen(),
            pkts: (c.packets, s.packets),
            stream_bytes: (c.stream_bytes, s.stream_bytes),
            payload_bytes: (c.payload_bytes, s.payload_bytes),
            rexmits: (c.rexmits, s.rexmits),
            missed: (c.missed_bytes, s.missed_bytes),
            fin: (c.fin, s.fin),
            rst: c.rst || s.rst,
        };
        cx.core_mut().records.push(rec);
    }

    fn pkt_in_snd(cx: &mut Cx<'_, bool, Core>) {
        if !cx.__enter(1) {
            return;
        }
        match cx.core().mode {
            Mode::Observe => {}
            Mode::DropServerPort(port) => {
                if cx.server().port() == port {
                    cx.drop_packet();
                }
            }
            Mode::PanicOnServerPort(port) => {
                assert!(cx.server().port() != port, "handler bug on port {port}");
            }
            Mode::RewriteDstPort { from, to } => {
                if cx.dir() == Dir::ClientToServer && cx.server().port() == from {
                    if let Some(mut p) = cx.packet_mut() {
                        p.set_dst_port(to).unwrap();
                        assert!(p.update_checksums());
                    }
                }
            }
        }
    }

    fn orphan_null(cx: &mut PacketCx<'_, Core>) {
        if cx.__enter(2) {
            cx.core_mut().orphans += 1;
        }
    }
}

// ----- helpers -----------------------------------------------------------------------------

/// The run's outcome, records sorted (workers finish connections in their own order).
fn sorted(done: (Report, Core)) -> (Report, Core) {
    let (report, mut core) = done;
    core.records.sort();
    (report, core)
}

fn offline(path: &Path, mode: Mode) -> (Report, Core) {
    let done = Runtime::builder()
        .pcap(path)
        .unwrap()
        .progress(false)
        .build()
        .unwrap()
        .run_init::<Recorder>(Core {
            mode,
            ..Core::default()
        })
        .unwrap();
    sorted(done)
}

fn dpdk_run(cfg: DpdkConfig, mode: Mode) -> Result<(Report, Core), RunError> {
    Runtime::builder()
        .dpdk(cfg)
        .progress(false)
        .build()?
        .run_init::<Recorder>(Core {
            mode,
            ..Core::default()
        })
        .map(sorted)
}

/// A config replaying `input` through a hot-plugged `net_pcap` port (optionally writing what
/// is forwarded to `output` through a second one).
fn pcap_config(input: &Path, output: Option<&Path>) -> DpdkConfig {
    let n = unique();
    let mut ports = vec![PortSpec::vdev(format!(
        "net_pcap_in{n},rx_pcap={}",
        input.display()
    ))];
    let mut forward = Vec::new();
    if let Some(out) = output {
        ports.push(PortSpec::vdev(format!(
            "net_pcap_out{n},tx_pcap={}",
            out.display()
        )));
        forward.push((0, 1));
    }
    DpdkConfig {
        eal_args: eal_args(),
        ports,
        forward,
        workers: 1,
        stop_when_idle: Some(IdleStop::polls(1)),
        ..DpdkConfig::default()
    }
}

fn frames_of(path: &Path) -> Vec<Vec<u8>> {
    let mut reader = PcapReader::open(path).unwrap();
    let mut frames = Vec::new();
    while let Some(f) = reader.next_frame().unwrap() {
        frames.push(f.data.to_vec());
    }
    frames
}

/// The report's values that do not depend on how packets were batched.
fn totals(r: &Report) -> impl PartialEq + std::fmt::Debug {
    (
        r.packets,
        r.bytes,
        r.tcp_packets,
        r.connections,
        r.ended.clone(),
        r.orphans_by_reason.clone(),
        r.errors_by_kind.clone(),
        r.handlers.clone(),
        r.trace_seconds,
    )
}

/// Whether every frame of a capture was captured whole. The pcap driver puts only the captured
/// bytes in the mbuf (it has nowhere to put the original length), so a frame cut by a snap
/// length reaches the engine as a short frame with no hint of the bytes on the wire; an
/// offline run knows them (sequence space, payload counts).
fn captured_whole(path: &Path) -> bool {
    let mut reader = PcapReader::open(path).unwrap();
    while let Some(f) = reader.next_frame().unwrap() {
        if f.wire_len as usize != f.data.len() {
            return false;
        }
    }
    true
}

/// Classic microsecond pcap files on Ethernet: what the pcap driver hands over unchanged, with
/// the timestamps an offline run sees.
fn is_classic_ethernet(path: &Path) -> bool {
    let Ok(bytes) = std::fs::read(path) else {
        return false;
    };
    let Some(h) = bytes.get(..24) else {
        return false;
    };
    let (magic, link) = (&h[..4], &h[20..24]);
    (magic == [0xd4, 0xc3, 0xb2, 0xa1] && link == [1, 0, 0, 0])
        || (magic == [0xa1, 0xb2, 0xc3, 0xd4] && link == [0, 0, 0, 1])
}

/// A synthetic workload of interleaved connections, written to a temp file.
fn workload(flows: u64, seed: u64) -> PathBuf {
    let mut cfg = mos_synth::workload::Preset::W1.config(seed);
    cfg.flows = flows;
    cfg.concurrency = 40;
    cfg.response_max = 64 << 10;
    cfg.bulk_max = 256 << 10;
    let path = temp_path("workload");
    let file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    mos_synth::workload::Workload::new(cfg)
        .unwrap()
        .write_pcap(file)
        .unwrap();
    path
}

// ----- pcap parity ------------------------------------------------------------------------

#[test]
fn net_pcap_matches_the_pcap_file_path_on_every_public_trace() {
    eal();
    let mut traces: Vec<PathBuf> = std::fs::read_dir(traces_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pcap") && is_classic_ethernet(p))
        .collect();
    traces.sort();
    let all = traces.len();
    traces.retain(|p| captured_whole(p));
    println!(
        "{} classic Ethernet traces, {} of them cut by a snap length (skipped)",
        all,
        all - traces.len()
    );
    assert!(traces.len() >= 20, "only {} traces found", traces.len());
    assert!(
        all - traces.len() <= 3,
        "{} truncated traces",
        all - traces.len()
    );
    let mut connections = 0;
    for trace in &traces {
        let (want, want_core) = offline(trace, Mode::Observe);
        let (got, got_core) = dpdk_run(pcap_config(trace, None), Mode::Observe).unwrap();
        let name = trace.file_name().unwrap().to_string_lossy();
        assert_eq!(got_core.records, want_core.records, "{name}: records");
        assert_eq!(got_core.orphans, want_core.orphans, "{name}: orphans");
        assert_eq!(totals(&got), totals(&want), "{name}: report");
        // One worker with bursts the size of the engine's batches: even the coalesced
        // ON_CONN_NEW_DATA counts agree.
        assert_eq!(got.events, want.events, "{name}: events");
        assert_eq!((got.forwarded, got.dropped), (0, 0), "{name}: passive");
        connections += want_core.records.len();
    }
    assert!(connections >= 20, "{connections} connections in all");
}

#[test]
fn net_pcap_matches_the_pcap_file_path_on_a_workload() {
    let trace = workload(300, 11);
    let (want, want_core) = offline(&trace, Mode::Observe);
    assert!(
        want_core.records.len() >= 300,
        "{}",
        want_core.records.len()
    );
    let (got, got_core) = dpdk_run(pcap_config(&trace, None), Mode::Observe).unwrap();
    assert_eq!(got_core.records, want_core.records);
    assert_eq!(totals(&got), totals(&want));
    assert_eq!(got.events, want.events);
    std::fs::remove_file(trace).unwrap();
}

/// A capture with 4 KB segments: larger than an mbuf's 2 KB data room, so the pcap driver
/// delivers each as a chain of mbufs.
fn jumbo_trace() -> (PathBuf, usize) {
    let mut t = Script::new();
    t.set_syn_options(SynOptions::mss(4000));
    let c = t.tcp("10.1.0.1:40000", "10.1.0.2:80");
    t.set_mss(c, Client, 4000).set_mss(c, Server, 4000);
    t.handshake(c);
    let request = b"GET /big HTTP/1.1\r\nHost: jumbo\r\n\r\n".to_vec();
    t.send(c, Client, &request);
    let body: Vec<u8> = (0..20_000u32).map(|i| (i % 251) as u8).collect();
    t.send(c, Server, &body);
    t.fin(c, Client).fin(c, Server).ack(c, Client);
    let path = temp_path("jumbo");
    t.write_pcap(&path).unwrap();
    let big = frames_of(&path).iter().filter(|f| f.len() > 2048).count();
    (path, big)
}

#[test]
fn chained_mbufs_are_seen_whole_and_forwarded_whole() {
    let (trace, big) = jumbo_trace();
    assert!(big >= 5, "{big} frames above 2 KB");
    let (want, want_core) = offline(&trace, Mode::Observe);
    assert_eq!(want_core.records[0].stream_bytes.1, 20_000);
    let out = temp_path("jumbo-out");
    let (got, got_core) = dpdk_run(pcap_config(&trace, Some(&out)), Mode::Observe).unwrap();
    assert_eq!(got_core.records, want_core.records);
    assert_eq!(totals(&got), totals(&want));
    assert_eq!(got.forwarded, want.packets);
    assert_eq!(frames_of(&out), frames_of(&trace));
    std::fs::remove_file(trace).unwrap();
    std::fs::remove_file(out).unwrap();
}

// ----- inline --------------------------------------------------------------------------------

/// Two HTTP connections (port 80 and 8080), a TLS-port one (443), DNS and a ping.
fn mixed_trace() -> PathBuf {
    let mut t = Script::new();
    let web = t.tcp("10.0.0.1:40000", "10.0.0.2:80");
    let alt = t.tcp("10.0.0.1:40001", "10.0.0.3:8080");
    let tls = t.tcp("10.0.0.1:40002", "10.0.0.4:443");
    t.udp(
        "10.0.0.1:5353",
        "10.0.0.53:53",
        b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00",
    );
    t.handshake(web).handshake(alt).handshake(tls);
    t.send(web, Client, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    t.send(alt, Client, b"GET /x HTTP/1.1\r\nHost: b\r\n\r\n");
    t.send(tls, Client, &[0x16, 3, 1, 0, 4, 1, 0, 0, 0]);
    t.icmp_echo("10.0.0.1", "10.0.0.9", 7, 1, b"ping");
    t.send(web, Server, &vec![b'x'; 3000]);
    t.send(alt, Server, &vec![b'y'; 2000]);
    t.send(tls, Server, &vec![b'z'; 1000]);
    t.fin(web, Client).fin(web, Server).ack(web, Client);
    t.fin(alt, Client).fin(alt, Server).ack(alt, Client);
    t.rst(tls, Client);
    let path = temp_path("mixed");
    t.write_pcap(&path).unwrap();
    path
}

/// TCP ports of an Ethernet/IPv4 frame, if it is one.
fn tcp_ports(frame: &[u8]) -> Option<(u16, u16)> {
    let p = etherparse::SlicedPacket::from_ethernet(frame).ok()?;
    match p.transport? {
        etherparse::TransportSlice::Tcp(t) => Some((t.source_port(), t.destination_port())),
        _ => None,
    }
}

#[test]
fn inline_forwarding_writes_the_input_unchanged() {
    eal();
    let trace = traces_dir().join("zeek-http-pipelined.pcap");
    let pool = Mempool::new(2047, 64).unwrap();
    let out = temp_path("fwd");
    let cfg = DpdkConfig {
        mempool: Some(pool.clone()),
        ..pcap_config(&trace, Some(&out))
    };
    let (report, _) = dpdk_run(cfg, Mode::Observe).unwrap();
    let input = frames_of(&trace);
    assert_eq!(input.len(), 49);
    assert_eq!(report.packets, 49);
    assert_eq!((report.forwarded, report.dropped), (49, 0));
    assert_eq!(
        frames_of(&out),
        input,
        "the output pcap holds the input's frames"
    );
    assert_eq!(pool.in_use(), 0, "every mbuf back in the pool");
    std::fs::remove_file(out).unwrap();
}

#[test]
fn inline_drops_exactly_the_firewalled_connection() {
    let trace = mixed_trace();
    let out = temp_path("fw");
    let (report, core) =
        dpdk_run(pcap_config(&trace, Some(&out)), Mode::DropServerPort(80)).unwrap();
    let input = frames_of(&trace);
    let expected: Vec<Vec<u8>> = input
        .iter()
        .filter(|f| tcp_ports(f).is_none_or(|(s, d)| s != 80 && d != 80))
        .cloned()
        .collect();
    let dropped = input.len() - expected.len();
    assert!(dropped >= 10, "{dropped} port-80 frames");
    assert_eq!(frames_of(&out), expected);
    assert_eq!(report.dropped, dropped as u64);
    assert_eq!(report.forwarded, expected.len() as u64);
    assert_eq!(report.forwarded + report.dropped, report.packets);
    // The engine still tracked the dropped connection (a middlebox sees what it drops).
    assert_eq!(core.records.len(), 3);
    std::fs::remove_file(trace).unwrap();
    std::fs::remove_file(out).unwrap();
}

#[test]
fn handlers_rewrite_mbufs_in_place() {
    let trace = mixed_trace();
    let out = temp_path("rewrite");
    let (report, _) = dpdk_run(
        pcap_config(&trace, Some(&out)),
        Mode::RewriteDstPort {
            from: 443,
            to: 4443,
        },
    )
    .unwrap();
    let (input, output) = (frames_of(&trace), frames_of(&out));
    assert_eq!(output.len(), input.len());
    assert_eq!(report.forwarded, input.len() as u64);
    let mut rewritten = 0;
    for (i, (a, b)) in input.iter().zip(&output).enumerate() {
        if tcp_ports(a).is_some_and(|(_, d)| d == 443) {
            rewritten += 1;
            let headers = etherparse::PacketHeaders::from_ethernet_slice(b).unwrap();
            let Some(etherparse::TransportHeader::Tcp(tcp)) = &headers.transport else {
                panic!("frame {i} lost its TCP header");
            };
            assert_eq!(tcp.destination_port, 4443, "frame {i}");
            let Some(etherparse::NetHeaders::Ipv4(ip, _)) = &headers.net else {
                panic!("frame {i} lost its IPv4 header");
            };
            let payload = headers.payload.slice();
            assert_eq!(
                tcp.calc_checksum_ipv4(ip, payload).unwrap(),
                tcp.checksum,
                "frame {i}: TCP checksum"
            );
            // Only the port and the checksum changed.
            let differ: Vec<usize> = (0..a.len()).filter(|&k| a[k] != b[k]).collect();
            assert!(
                differ
                    .iter()
                    .all(|&k| (36..38).contains(&k) || (50..52).contains(&k)),
                "frame {i}: {differ:?}"
            );
        } else {
            assert_eq!(a, b, "frame {i} untouched");
        }
    }
    assert!(rewritten >= 3, "{rewritten} frames rewritten");
    std::fs::remove_file(trace).unwrap();
    std::fs::remove_file(out).unwrap();
}

// ----- several workers -----------------------------------------------------------------------

#[test]
fn software_fanout_over_net_pcap_matches_one_core() {
    let trace = workload(400, 5);
    let (want, want_core) = offline(&trace, Mode::Observe);
    eal();
    let pool = Mempool::new(16383, 256).unwrap();
    let cfg = DpdkConfig {
        workers: 3,
        mempool: Some(pool.clone()),
        ..pcap_config(&trace, None)
    };
    let (got, got_core) = dpdk_run(cfg, Mode::Observe).unwrap();
    assert_eq!(got.cores, 3);
    assert_eq!(got_core.records, want_core.records);
    assert_eq!(totals(&got), totals(&want));
    // Every worker owns a share of the connections.
    assert_eq!(got_core.per_worker.len(), 3);
    assert!(
        got_core
            .per_worker
            .iter()
            .all(|&(records, _)| records >= 60),
        "{:?}",
        got_core.per_worker
    );
    assert_eq!(pool.in_use(), 0);
    std::fs::remove_file(trace).unwrap();
}

/// A `net_ring` port made by the test (not the run), so the test can fill its rings first.
struct RingPort {
    id: u16,
    name: CString,
}

impl RingPort {
    fn new(queues: u16, pool: &Mempool) -> RingPort {
        let name = CString::new(format!("net_ring_t{}", unique())).unwrap();
        let mut id = 0u16;
        // SAFETY: valid C strings; EAL is up.
        unsafe {
            assert_eq!(sys::rte_vdev_init(name.as_ptr(), c"".as_ptr()), 0);
            assert_eq!(sys::rte_eth_dev_get_port_by_name(name.as_ptr(), &mut id), 0);
        }
        let port = RingPort { id, name };
        port.setup(queues, pool);
        port
    }

    /// (Re)configures `queues` rx and tx queues (a run may have set the port up otherwise)
    /// and starts the port. The rings keep their contents.
    fn setup(&self, queues: u16, pool: &Mempool) {
        let id = self.id;
        // SAFETY: the port is stopped or new; the pool outlives the port's use of it.
        unsafe {
            let conf = sys::rte_eth_conf::default();
            assert_eq!(sys::rte_eth_dev_configure(id, queues, queues, &conf), 0);
            for q in 0..queues {
                let socket = sys::SOCKET_ID_ANY as u32;
                assert_eq!(
                    sys::rte_eth_rx_queue_setup(id, q, 1024, socket, ptr::null(), pool.as_raw()),
                    0
                );
                assert_eq!(
                    sys::rte_eth_tx_queue_setup(id, q, 1024, socket, ptr::null()),
                    0
                );
            }
            assert_eq!(sys::rte_eth_dev_start(id), 0);
        }
    }

    /// Copies `frame` into a new mbuf and sends it into queue `q` (its ring).
    fn push(&self, q: u16, frame: &[u8], pool: &Mempool) {
        // SAFETY: the pool is live; the mbuf is filled and handed to the driver, which now
        // owns it.
        unsafe {
            let m = sys::mos_rte_pktmbuf_alloc(pool.as_raw());
            assert!(!m.is_null(), "pool empty");
            let data = sys::mos_rte_pktmbuf_append(m, u16::try_from(frame.len()).unwrap());
            assert!(!data.is_null());
            std::slice::from_raw_parts_mut(data, frame.len()).copy_from_slice(frame);
            let mut one = [m];
            assert_eq!(
                sys::mos_rte_eth_tx_burst(self.id, q, one.as_mut_ptr(), 1),
                1
            );
        }
    }

    /// Frees whatever is left in queue `q`; returns how many.
    fn drain(&self, q: u16) -> usize {
        let mut total = 0;
        let mut burst = [ptr::null_mut::<sys::rte_mbuf>(); 32];
        loop {
            // SAFETY: the port is started; the mbufs received are ours to free.
            let n = unsafe { sys::mos_rte_eth_rx_burst(self.id, q, burst.as_mut_ptr(), 32) };
            if n == 0 {
                return total;
            }
            // SAFETY: as above.
            unsafe { sys::rte_pktmbuf_free_bulk(burst.as_mut_ptr(), u32::from(n)) };
            total += usize::from(n);
        }
    }

    fn stop(&self) {
        // SAFETY: nobody polls the port between runs.
        unsafe { sys::rte_eth_dev_stop(self.id) };
    }
}

impl Drop for RingPort {
    fn drop(&mut self) {
        // SAFETY: the port is not used any more.
        unsafe {
            sys::rte_eth_dev_stop(self.id);
            sys::rte_eth_dev_close(self.id);
            sys::rte_vdev_uninit(self.name.as_ptr());
        }
    }
}

#[test]
fn net_ring_queues_feed_several_workers_like_one_core() {
    // 60 connections, each one's frames in one of 8 rings (so each keeps its order).
    let trace = workload(60, 3);
    let frames = frames_of(&trace);
    assert!(
        frames.len() < 8 * 1023,
        "{} frames do not fit",
        frames.len()
    );
    eal();
    let pool = Mempool::new(16383, 256).unwrap();
    let ring = RingPort::new(8, &pool);
    let mut per_queue = [0usize; 8];
    for f in &frames {
        let q = mos_runtime_shard(f, 8);
        per_queue[q] += 1;
        assert!(per_queue[q] < 1024, "ring {q} full");
        ring.push(q as u16, f, &pool);
    }
    ring.stop();
    assert_eq!(pool.in_use() as usize, frames.len());
    let cfg = DpdkConfig {
        eal_args: eal_args(),
        ports: vec![PortSpec::Name(ring.name.to_str().unwrap().to_string())],
        workers: 2,
        rx_queues: 8,
        fanout: Fanout::Software,
        mempool: Some(pool.clone()),
        stop_when_idle: Some(IdleStop::polls(1)),
        ..DpdkConfig::default()
    };
    // The ring port has no packet clock: both runs compare without timeouts.
    let long = Duration::from_secs(1 << 30);
    let (got, got_core) = sorted(
        Runtime::builder()
            .dpdk(cfg)
            .idle_timeout(long)
            .build()
            .unwrap()
            .run_init::<Recorder>(Core::default())
            .unwrap(),
    );
    let (want, want_core) = sorted(
        Runtime::builder()
            .pcap(&trace)
            .unwrap()
            .idle_timeout(long)
            .progress(false)
            .build()
            .unwrap()
            .run_init::<Recorder>(Core::default())
            .unwrap(),
    );
    let strip = |recs: &[Rec]| -> Vec<Rec> {
        recs.iter()
            .map(|r| Rec {
                start_us: 0,
                ..r.clone()
            })
            .collect()
    };
    assert_eq!(got.packets, frames.len() as u64);
    assert_eq!(strip(&got_core.records), strip(&want_core.records));
    assert_eq!(
        (got.connections, got.ended.clone(), got.orphans),
        (want.connections, want.ended.clone(), want.orphans)
    );
    assert_eq!(got_core.per_worker.len(), 2);
    assert!(
        got_core.per_worker.iter().all(|&(r, _)| r > 0),
        "{:?}",
        got_core.per_worker
    );
    assert_eq!(pool.in_use(), 0, "the run freed every mbuf it read");
    drop(ring);
    std::fs::remove_file(trace).unwrap();
}

/// The queue the test puts a frame's connection in: any function of the canonical 5-tuple
/// keeps a connection together; this is the runtime's own.
fn mos_runtime_shard(frame: &[u8], n: usize) -> usize {
    let meta = mos_runtime::wire::parse(
        mos_runtime::wire::LinkType::Ethernet,
        frame,
        mos_runtime::time::Timestamp::ZERO,
        frame.len() as u32,
        false,
    )
    .unwrap();
    let Some(ip) = meta.ip else { return 0 };
    let (sp, dp) = meta.ports().unwrap_or((0, 0));
    mos_runtime::flow::key::FlowKey::new(ip.src, sp, ip.dst, dp, ip.proto)
        .0
        .shard(n)
}

#[test]
fn tx_that_the_driver_refuses_is_freed_and_counted_as_dropped() {
    // Forward a 2000-frame capture into a ring port nobody reads: its ring holds 1023.
    let trace = workload(30, 9);
    let frames = frames_of(&trace);
    assert!(frames.len() > 1500, "{} frames", frames.len());
    eal();
    let pool = Mempool::new(8191, 64).unwrap();
    let sink = RingPort::new(1, &pool);
    sink.stop();
    let n = unique();
    let cfg = DpdkConfig {
        eal_args: eal_args(),
        ports: vec![
            PortSpec::vdev(format!("net_pcap_full{n},rx_pcap={}", trace.display())),
            PortSpec::Name(sink.name.to_str().unwrap().to_string()),
        ],
        forward: vec![(0, 1)],
        workers: 1,
        mempool: Some(pool.clone()),
        stop_when_idle: Some(IdleStop::polls(1)),
        ..DpdkConfig::default()
    };
    let (report, _) = dpdk_run(cfg, Mode::Observe).unwrap();
    assert_eq!(report.packets, frames.len() as u64);
    assert_eq!(report.forwarded, 1023, "what the ring took");
    assert_eq!(report.dropped, frames.len() as u64 - 1023);
    assert_eq!(pool.in_use(), 1023, "the sent ones sit in the ring");
    // The run used the port as an output only (no rx queue): set it up again to read back.
    sink.setup(1, &pool);
    assert_eq!(sink.drain(0), 1023);
    assert_eq!(pool.in_use(), 0);
    std::fs::remove_file(trace).unwrap();
}

#[test]
fn rss_queues_of_net_null_give_every_worker_its_own_traffic_until_stopped() {
    eal();
    let pool = Mempool::new(8191, 128).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let cfg = DpdkConfig {
        eal_args: eal_args(),
        ports: vec![PortSpec::vdev(format!("net_null_rss{},size=64", unique()))],
        workers: 2,
        fanout: Fanout::Rss,
        mempool: Some(pool.clone()),
        stop: Some(Arc::clone(&stop)),
        ..DpdkConfig::default()
    };
    let stopper = {
        let (stop, pool) = (Arc::clone(&stop), pool.clone());
        std::thread::spawn(move || {
            // Packets are flowing once the driver takes mbufs from the pool.
            while pool.in_use() == 0 {
                std::thread::sleep(Duration::from_millis(1));
            }
            std::thread::sleep(Duration::from_millis(100));
            stop.store(true, Ordering::Relaxed);
        })
    };
    let (report, core) = dpdk_run(cfg, Mode::Observe).unwrap();
    stopper.join().unwrap();
    assert!(report.packets > 10_000, "{} packets", report.packets);
    // net_null frames are 64 zero bytes: not IP, each an orphan, on whichever worker got it.
    assert_eq!(report.orphan_count(OrphanReason::NonIp), report.packets);
    assert_eq!(core.orphans, report.packets);
    assert_eq!(core.per_worker.len(), 2);
    assert!(
        core.per_worker.iter().all(|&(_, o)| o > 1000),
        "{:?}",
        core.per_worker
    );
    assert_eq!(report.bytes, report.packets * 64);
    assert_eq!(pool.in_use(), 0);
}

#[test]
fn tsc_clock_stamps_packets_with_the_time_of_the_run() {
    let trace = traces_dir().join("zeek-http-get.pcap");
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_micros() as u64;
    let cfg = DpdkConfig {
        clock: Clock::Tsc,
        ..pcap_config(&trace, None)
    };
    let (report, core) = dpdk_run(cfg, Mode::Observe).unwrap();
    let after = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_micros() as u64;
    assert_eq!(core.records.len(), 1);
    let start = core.records[0].start_us;
    // Microseconds of calibration slack around the run.
    assert!(
        start + 1000 >= before && start <= after + 1000,
        "{before} <= {start} <= {after}"
    );
    assert!(report.trace_seconds < 1.0, "{}", report.trace_seconds);
}

// ----- errors and ownership -----------------------------------------------------------------

#[test]
fn dpdk_errors_carry_dpdks_words() {
    eal();
    let cfg = DpdkConfig {
        eal_args: eal_args(),
        ports: vec![PortSpec::vdev(format!("net_nosuchdriver{}", unique()))],
        ..DpdkConfig::default()
    };
    let err = dpdk_run(cfg, Mode::Observe).unwrap_err().to_string();
    assert!(
        err.contains("rte_vdev_init") && err.contains("net_nosuchdriver"),
        "{err}"
    );
    let missing = format!("net_pcap_missing{},rx_pcap=/nonexistent/x.pcap", unique());
    let cfg = DpdkConfig {
        eal_args: eal_args(),
        ports: vec![PortSpec::vdev(missing)],
        ..DpdkConfig::default()
    };
    let err = dpdk_run(cfg, Mode::Observe).unwrap_err().to_string();
    assert!(err.contains("rte_vdev_init"), "{err}");
    let cfg = DpdkConfig {
        eal_args: eal_args(),
        ports: vec![PortSpec::Name("no_such_port".into())],
        ..DpdkConfig::default()
    };
    let err = dpdk_run(cfg, Mode::Observe).unwrap_err().to_string();
    assert!(err.contains("no port named \"no_such_port\""), "{err}");
    let cfg = DpdkConfig {
        eal_args: eal_args(),
        burst: 0,
        ..DpdkConfig::default()
    };
    let err = dpdk_run(cfg, Mode::Observe).unwrap_err().to_string();
    assert!(err.contains("burst = 0"), "{err}");
    // The EAL started once: a second init (other flags) is a no-op that reports the first.
    init_eal(&["--bogus-flag".to_string()]).unwrap();
}

#[test]
fn a_port_belongs_to_one_run_at_a_time() {
    eal();
    let pool = Mempool::new(2047, 64).unwrap();
    let shared = RingPort::new(1, &pool);
    shared.stop();
    let name = shared.name.to_str().unwrap().to_string();
    let stop = Arc::new(AtomicBool::new(false));
    let first = {
        let (name, stop) = (name.clone(), Arc::clone(&stop));
        std::thread::spawn(move || {
            let cfg = DpdkConfig {
                eal_args: eal_args(),
                ports: vec![PortSpec::Name(name)],
                workers: 1,
                stop: Some(stop),
                ..DpdkConfig::default()
            };
            dpdk_run(cfg, Mode::Observe)
        })
    };
    // Wait until the first run holds the port, then try a second.
    let mut owned = false;
    for _ in 0..500 {
        let mut owner = sys::rte_eth_dev_owner::default();
        // SAFETY: valid port and out-pointer.
        assert_eq!(
            unsafe { sys::rte_eth_dev_owner_get(shared.id, &mut owner) },
            0
        );
        if owner.id != 0 {
            owned = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(owned, "the first run never took the port");
    let cfg = DpdkConfig {
        eal_args: eal_args(),
        ports: vec![PortSpec::Name(name.clone())],
        workers: 1,
        stop_when_idle: Some(IdleStop::polls(1)),
        ..DpdkConfig::default()
    };
    let second = dpdk_run(cfg, Mode::Observe).unwrap_err().to_string();
    stop.store(true, Ordering::Relaxed);
    let (report, _) = first.join().unwrap().unwrap();
    assert_eq!(report.packets, 0);
    assert!(
        second.contains("ownership") && second.contains(&format!("port {}", shared.id)),
        "{second}"
    );
}

#[test]
fn a_panicking_handler_ends_the_run_with_its_panic() {
    let trace = mixed_trace();
    let cfg = DpdkConfig {
        workers: 3,
        fanout: Fanout::Software,
        ..pcap_config(&trace, None)
    };
    let again = cfg.clone();
    let outcome = std::panic::catch_unwind(|| dpdk_run(cfg, Mode::PanicOnServerPort(8080)));
    let panic = outcome.expect_err("the handler's panic reaches the caller");
    let text = panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_string()))
        .unwrap_or_default();
    assert!(text.contains("handler bug on port 8080"), "{text:?}");
    // The unwinding run unplugged its device: the same name can be plugged again.
    let (report, _) = dpdk_run(again, Mode::Observe).unwrap();
    assert_eq!(report.packets, frames_of(&trace).len() as u64);
    std::fs::remove_file(trace).unwrap();
}
