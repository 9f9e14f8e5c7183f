//! The DPDK path against the in-memory pcap path, same app, same packets, same process.
//!
//! `cargo bench -p mos-bench --features dpdk --bench dpdk_vs_memory`
//!
//! The benchmark's midstat-class app ([`mos_bench::app::Midstat`], the one `mos-bench` times:
//! per-flow packet counters per direction, retransmission counts, reassembly on with the
//! client's stream walked for HTTP requests, totals at connection end) runs over a seeded
//! synthetic workload ([`mos_bench::workload::generate`]) three ways:
//!
//! - **memory**: the workload's pcap held in memory, replayed through the pcap-file path
//!   (`Runtime::builder().pcap_shared(..)`), passive;
//! - **memory inline**: the same with an inline sink that discards (each frame copied into the
//!   engine's rewrite buffer and handed to the sink): the offline counterpart of forwarding;
//! - **DPDK**: the same frames as mbufs in a `net_ring` port whose ring is the run's own
//!   rx and tx queue, forwarded back into it (`forward: (0, 0)`), so the ring replays the
//!   workload in order for as long as the run lasts: rx burst, zero-copy parse of the mbuf,
//!   the engine, tx burst. No copy, no allocation per packet; every packet is rx'd and tx'd.
//!
//! Then the same over `net_null` (64-byte zero frames, allocated by the driver on rx and freed
//! after processing) against a pcap of the same frames: the fixed per-packet cost of each path
//! with nothing to parse.
//!
//! The ring is made large enough for the whole workload by creating its rings first and
//! attaching the `net_ring` device to them (`nodeaction=NAME:0:ATTACH`, which looks up rings
//! named `ETH_RXTX<i>_NAME`): the driver's own rings hold only 1023 mbufs.
//!
//! EAL flags: `$MOS_BENCH_EAL`, default [`EAL`] (no hugepages: the figures are lower than
//! with them, see DPDK-NOTES). Workers: `$MOS_BENCH_WORKERS` (default 1; with 2 the workload
//! is split by connection over two rings, one per worker).

#![allow(
    unsafe_code,
    reason = "the benchmark fills a net_ring port through raw DPDK calls"
)]
#![allow(
    clippy::unwrap_used,
    reason = "a benchmark that cannot set up should stop loudly"
)]

use std::ffi::CString;
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use dpdk_sys as sys;
use mos_bench::app::Midstat;
use mos_bench::workload::{generate, preset_config};
use mos_runtime::io::PcapReader;
use mos_runtime::io::dpdk::{DpdkConfig, Fanout, Mempool, PortSpec, init_eal, split_eal_args};
use mos_runtime::time::Timestamp;
use mos_runtime::wire::LinkType;
use mos_runtime::{PacketSink, Report, Runtime};
use mos_synth::Precision;
use mos_synth::pcap::PcapWriter;
use mos_synth::workload::Preset;

/// Default EAL flags: the laptop flags, with memory for an mbuf per workload packet.
const EAL: &str =
    "-l 0 --no-huge -m 1536 --no-pci --no-shconf --no-telemetry --log-level=*:warning";

/// Seconds each DPDK run lasts.
const DPDK_SECONDS: f64 = 0.5;

/// Rounds: each runs every variant once, interleaved; the best round of each variant is
/// reported (the machine is shared: the best is the least disturbed).
const ROUNDS: usize = 7;

/// An inline sink that discards.
struct Discard;

impl PacketSink for Discard {
    fn send(&mut self, _: Timestamp, _: &[u8], _: u32, _: LinkType) -> std::io::Result<()> {
        Ok(())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

// ----- inputs ------------------------------------------------------------------------------

/// Frames the replayed workload may have: what one ring of 8192 slots holds.
const WINDOW: usize = 8191;

/// Times the workload is repeated in the in-memory capture.
const REPEATS: usize = 40;

/// A seeded W1-mix workload of complete connections, as (timestamp in ns, frame), no longer
/// than [`WINDOW`] frames: the DPDK run cycles through it in a ring, the in-memory run reads
/// it [`REPEATS`] times over. The packets fit in the caches either way, as a NIC's recycled
/// mbufs do: the comparison is of the two paths' own costs.
fn workload() -> (u64, Vec<(u64, Vec<u8>)>) {
    let mut flows = 200u64;
    loop {
        let mut cfg = preset_config(Preset::W1, 42, Some(flows), Some(40));
        cfg.response_max = 64 << 10;
        cfg.bulk_max = 256 << 10;
        let capture = generate(format!("W1 seed 42, {flows} connections"), cfg).unwrap();
        let mut reader = PcapReader::from_shared(capture.bytes).unwrap();
        let mut frames = Vec::new();
        while let Some(f) = reader.next_frame().unwrap() {
            frames.push((f.ts.as_nanos(), f.data.to_vec()));
        }
        if frames.len() <= WINDOW {
            return (flows, frames);
        }
        flows -= 10;
    }
}

/// A classic microsecond pcap of `frames` repeated `repeats` times, each copy shifted to start
/// one second after the previous one ended (the clock only moves forward).
fn repeated_pcap(frames: &[(u64, Vec<u8>)], repeats: usize) -> Vec<u8> {
    let first = frames.first().map_or(0, |f| f.0);
    let span = frames.last().map_or(0, |f| f.0) - first + 1_000_000_000;
    let bytes: usize = frames.iter().map(|f| f.1.len() + 16).sum();
    let mut out = Vec::with_capacity(24 + bytes * repeats);
    let mut pcap = PcapWriter::new(&mut out, Precision::Micros).unwrap();
    for r in 0..repeats as u64 {
        for (ts, frame) in frames {
            pcap.write_packet(mos_synth::Timestamp::from_unix_nanos(ts + r * span), frame)
                .unwrap();
        }
    }
    out
}

/// A classic pcap of `n` zero frames of 64 bytes, 1 µs apart.
fn zero_frames_pcap(n: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(24 + n * 80);
    let mut pcap = PcapWriter::new(&mut out, Precision::Micros).unwrap();
    let zero = [0u8; 64];
    for i in 0..n as u64 {
        let ts = mos_synth::Timestamp::from_unix_nanos(1_700_000_000_000_000_000 + i * 1000);
        pcap.write_packet(ts, &zero).unwrap();
    }
    out
}

// ----- runs ----------------------------------------------------------------------------------

/// One line of results.
struct Line {
    what: String,
    packets: u64,
    seconds: f64,
    cores: usize,
}

impl Line {
    fn of(what: impl Into<String>, r: &Report) -> Line {
        Line {
            what: what.into(),
            packets: r.packets,
            seconds: r.elapsed_seconds,
            cores: r.cores,
        }
    }

    fn mpps_per_core(&self) -> f64 {
        self.packets as f64 / self.seconds / 1e6 / self.cores as f64
    }

    fn print(&self) {
        println!(
            "{:<44} {:>10} pkts {:>7.3} s {:>8.3} Mpps/core {:>7.1} ns/pkt  ({} core{})",
            self.what,
            self.packets,
            self.seconds,
            self.mpps_per_core(),
            1e3 / self.mpps_per_core(),
            self.cores,
            if self.cores == 1 { "" } else { "s" }
        );
    }
}

/// One pass of the in-memory path.
fn memory(what: &str, pcap: &Arc<Vec<u8>>, inline: bool) -> Line {
    let mut b = Runtime::builder()
        .pcap_shared(Arc::clone(pcap))
        .progress(false)
        .idle_timeout(Duration::from_secs(1 << 30));
    if inline {
        b = b.inline(Discard);
    }
    let report = b.build().unwrap().run::<Midstat>().unwrap();
    Line::of(what, &report)
}

/// Keeps the best line of each variant.
#[derive(Default)]
struct Best(Vec<Line>);

impl Best {
    fn offer(&mut self, line: Line) {
        match self.0.iter_mut().find(|l| l.what == line.what) {
            Some(l) if l.mpps_per_core() >= line.mpps_per_core() => {}
            Some(l) => *l = line,
            None => self.0.push(line),
        }
    }

    fn get(&self, what: &str) -> &Line {
        self.0.iter().find(|l| l.what == what).unwrap()
    }
}

/// A process-unique number for device and ring names.
fn next_id() -> u32 {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// A stop flag that goes up [`DPDK_SECONDS`] from now (the run's own elapsed time, which the
/// rate is computed from, starts when its workers do).
fn stop_later() -> Arc<AtomicBool> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs_f64(DPDK_SECONDS));
        flag.store(true, Ordering::Relaxed);
    });
    stop
}

/// A `net_ring` port whose first `queues` rings are made here, `slots` each, so they can hold
/// the whole workload; returns the port's name.
fn big_ring_port(queues: u16, slots: u32) -> String {
    let tag = format!("bench{}", next_id());
    // The driver attaches to 16 rings; the ones a run does not use can be tiny.
    for i in 0..16u16 {
        let name = CString::new(format!("ETH_RXTX{i}_{tag}")).unwrap();
        let size = if i < queues { slots } else { 64 };
        // SAFETY: EAL is up; DPDK copies the name.
        let ring = unsafe {
            sys::rte_ring_create(
                name.as_ptr(),
                size,
                sys::SOCKET_ID_ANY,
                sys::RING_F_SP_ENQ | sys::RING_F_SC_DEQ,
            )
        };
        assert!(!ring.is_null(), "rte_ring_create {name:?}");
    }
    let vdev = format!("net_ring_{tag}");
    let c_name = CString::new(vdev.as_str()).unwrap();
    let args = CString::new(format!("nodeaction={tag}:0:ATTACH")).unwrap();
    // SAFETY: valid C strings.
    assert_eq!(
        unsafe { sys::rte_vdev_init(c_name.as_ptr(), args.as_ptr()) },
        0
    );
    // The port created this way is named after the node action, not after the device.
    tag
}

/// Puts `frames` into queue `q` of the port named `name`, as mbufs of `pool`.
fn fill(name: &str, q: u16, frames: &[&Vec<u8>], pool: &Mempool) {
    let c_name = CString::new(name).unwrap();
    let mut port = 0u16;
    // SAFETY: valid name and out-pointer.
    assert_eq!(
        unsafe { sys::rte_eth_dev_get_port_by_name(c_name.as_ptr(), &mut port) },
        0
    );
    // The ring driver's tx enqueues into the ring whether or not the port is started; the
    // port is configured for it here, and the run configures it again (the rings keep their
    // contents).
    // SAFETY: the port is stopped; the pool outlives its use.
    unsafe {
        let conf = sys::rte_eth_conf::default();
        let n = q + 1;
        assert_eq!(sys::rte_eth_dev_configure(port, n, n, &conf), 0);
        for i in 0..n {
            let s = sys::SOCKET_ID_ANY as u32;
            assert_eq!(
                sys::rte_eth_rx_queue_setup(port, i, 1024, s, std::ptr::null(), pool.as_raw()),
                0
            );
            assert_eq!(
                sys::rte_eth_tx_queue_setup(port, i, 1024, s, std::ptr::null()),
                0
            );
        }
        assert_eq!(sys::rte_eth_dev_start(port), 0);
        for f in frames {
            let m = sys::mos_rte_pktmbuf_alloc(pool.as_raw());
            assert!(!m.is_null(), "pool too small");
            let data = sys::mos_rte_pktmbuf_append(m, u16::try_from(f.len()).unwrap());
            assert!(!data.is_null(), "frame of {} bytes", f.len());
            std::slice::from_raw_parts_mut(data, f.len()).copy_from_slice(f);
            let mut one = [m];
            assert_eq!(
                sys::mos_rte_eth_tx_burst(port, q, one.as_mut_ptr(), 1),
                1,
                "ring full"
            );
        }
        assert_eq!(sys::rte_eth_dev_stop(port), 0);
    }
}

/// The worker a frame's connection belongs to: the runtime's own placement.
fn shard(frame: &[u8], n: usize) -> usize {
    let meta = mos_runtime::wire::parse(
        LinkType::Ethernet,
        frame,
        Timestamp::ZERO,
        frame.len() as u32,
        false,
    )
    .unwrap();
    let Some(ip) = meta.ip else { return 0 };
    let (sp, dp) = if ip.fragment {
        (0, 0)
    } else {
        meta.ports().unwrap_or((0, 0))
    };
    mos_runtime::flow::key::FlowKey::new(ip.src, sp, ip.dst, dp, ip.proto)
        .0
        .shard(n)
}

fn dpdk_ring(what: &str, frames: &[Vec<u8>], workers: usize, eal: &[String]) -> Line {
    let slots = (frames.len() as u32 + 1).next_power_of_two();
    let pool = Mempool::new(frames.len() as u32 + 8192, 256).unwrap();
    let vdev = big_ring_port(workers as u16, slots);
    for w in 0..workers {
        let mine: Vec<&Vec<u8>> = frames.iter().filter(|f| shard(f, workers) == w).collect();
        fill(&vdev, w as u16, &mine, &pool);
    }
    let cfg = DpdkConfig {
        eal_args: eal.to_vec(),
        ports: vec![PortSpec::Name(vdev)],
        forward: vec![(0, 0)],
        workers,
        fanout: Fanout::Software,
        rx_queues: workers as u16,
        mempool: Some(pool.clone()),
        stop: Some(stop_later()),
        ..DpdkConfig::default()
    };
    let report = Runtime::builder()
        .dpdk(cfg)
        .idle_timeout(Duration::from_secs(1 << 30))
        .build()
        .unwrap()
        .run::<Midstat>()
        .unwrap();
    assert_eq!(report.dropped, 0, "every packet went back into the ring");
    Line::of(what, &report)
}

fn dpdk_null(what: &str, eal: &[String]) -> Line {
    let pool = Mempool::new(8191, 256).unwrap();
    let cfg = DpdkConfig {
        eal_args: eal.to_vec(),
        ports: vec![PortSpec::vdev(format!(
            "net_null_bench{},size=64",
            next_id()
        ))],
        workers: 1,
        mempool: Some(pool.clone()),
        stop: Some(stop_later()),
        ..DpdkConfig::default()
    };
    let report = Runtime::builder()
        .dpdk(cfg)
        .build()
        .unwrap()
        .run::<Midstat>()
        .unwrap();
    Line::of(what, &report)
}

fn main() {
    // `cargo bench` passes `--bench`; nothing to parse.
    let flags = std::env::var("MOS_BENCH_EAL").unwrap_or_else(|_| EAL.to_string());
    let eal = split_eal_args(&flags).unwrap();
    let workers: usize = std::env::var("MOS_BENCH_WORKERS")
        .ok()
        .and_then(|w| w.parse().ok())
        .unwrap_or(1);
    init_eal(&eal).unwrap();
    println!("EAL flags: {flags}");

    let (flows, stamped) = workload();
    let frames: Vec<Vec<u8>> = stamped.iter().map(|f| f.1.clone()).collect();
    let bytes: usize = frames.iter().map(Vec::len).sum();
    println!(
        "workload: W1 mix, seed 42, {flows} connections, {} frames, {:.1} MB, mean {} B/frame; \
         DPDK cycles it in a ring, memory reads it {REPEATS} times over",
        frames.len(),
        bytes as f64 / 1e6,
        bytes / frames.len()
    );
    let pcap = Arc::new(repeated_pcap(&stamped, REPEATS));
    let zeros = Arc::new(zero_frames_pcap(1 << 22));

    const MEM: &str = "memory pcap path, passive";
    const MEM_INLINE: &str = "memory pcap path, inline (discarding sink)";
    const RING: &str = "DPDK net_ring loopback, inline (rx+tx)";
    const MEM_ZERO: &str = "memory pcap of 64 B zero frames, passive";
    const NULL: &str = "DPDK net_null 64 B zero frames, passive";
    const MULTI: &str = "DPDK net_ring loopback, inline, N workers";
    // `$MOS_BENCH_ONLY=WORD`: only the variants whose name contains WORD (for profiling).
    let only = std::env::var("MOS_BENCH_ONLY").unwrap_or_default();
    let wanted = |what: &str| what.contains(only.as_str());
    let mut best = Best::default();
    for _ in 0..ROUNDS {
        if wanted(MEM) {
            best.offer(memory(MEM, &pcap, false));
        }
        if wanted(MEM_INLINE) {
            best.offer(memory(MEM_INLINE, &pcap, true));
        }
        if wanted(RING) {
            best.offer(dpdk_ring(RING, &frames, 1, &eal));
        }
        if wanted(MEM_ZERO) {
            best.offer(memory(MEM_ZERO, &zeros, false));
        }
        if wanted(NULL) {
            best.offer(dpdk_null(NULL, &eal));
        }
        if workers > 1 && wanted(MULTI) {
            best.offer(dpdk_ring(MULTI, &frames, workers, &eal));
        }
    }
    println!("best of {ROUNDS} interleaved rounds:");
    for line in &best.0 {
        line.print();
    }
    if !only.is_empty() {
        return;
    }
    let ratio = |a: &str, b: &str| best.get(a).mpps_per_core() / best.get(b).mpps_per_core();
    println!(
        "ratio DPDK/memory per core: workload {:.2} (vs passive), {:.2} (vs inline); \
         zero frames {:.2}",
        ratio(RING, MEM),
        ratio(RING, MEM_INLINE),
        ratio(NULL, MEM_ZERO),
    );
    let _ = std::io::stdout().flush();
}
