//! Zero allocation in the DPDK packet loop (feature `dpdk`): between a worker's first packet
//! and its last, nothing on its thread goes through the allocator — rx bursts, the software
//! fan-out (parse, hash, rings), the engine, tx bursts and frees included.
//!
//! A binary of its own: it installs a counting global allocator. Counts are per thread, read
//! by the app's handlers on the worker's own thread (DPDK's own C allocations do not go through
//! Rust's allocator and are not counted; the loop makes none per packet anyway).

#![cfg(feature = "dpdk")]
#![allow(unsafe_code, reason = "a counting global allocator")]
#![allow(clippy::unwrap_used, reason = "a panic is the failure report")]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::path::PathBuf;

use mos_runtime::app::{App, CoreState, HandlerInfo, Subscriptions};
use mos_runtime::cx::{Cx, PacketCx};
use mos_runtime::event::{Event, Hook};
use mos_runtime::io::dpdk::{DpdkConfig, Fanout, IdleStop, PortSpec};
use mos_runtime::{Report, Runtime};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator; the thread-local counter is a const-initialised
// Cell, so touching it allocates nothing and cannot recurse.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

/// Per worker: the thread's allocation count at its first and at its latest packet.
#[derive(Debug, Default)]
struct Marks {
    first: Option<u64>,
    last: u64,
    packets: u64,
    /// (steady allocations, packets) of every worker, filled by `merge`.
    workers: Vec<(u64, u64)>,
}

impl Marks {
    fn mark(&mut self) {
        let now = allocations();
        self.first.get_or_insert(now);
        self.last = now;
        self.packets += 1;
    }

    fn steady(&self) -> (u64, u64) {
        (self.last - self.first.unwrap_or(self.last), self.packets)
    }
}

impl CoreState for Marks {
    fn merge(&mut self, other: Marks) {
        if self.workers.is_empty() {
            self.workers.push(self.steady());
        }
        self.workers.push(other.steady());
    }
}

/// Marks every packet, with and without a flow.
struct Mark;

impl App for Mark {
    type Flow = ();
    type Core = Marks;
    const NAME: &'static str = "mark";
    const HANDLERS: &'static [HandlerInfo] = &[
        HandlerInfo {
            name: "flow_packet",
            event: "ON_PKT_IN",
            hook: Hook::Snd,
            per_flow: false,
        },
        HandlerInfo {
            name: "other_packet",
            event: "ON_PKT_IN",
            hook: Hook::Null,
            per_flow: false,
        },
    ];
    const SUBSCRIPTIONS: Subscriptions = Subscriptions::NONE
        .with(Event::PktIn, Hook::Snd)
        .with(Event::PktIn, Hook::Null);

    fn pkt_in_snd(cx: &mut Cx<'_, (), Marks>) {
        if cx.__enter(0) {
            cx.core_mut().mark();
        }
    }

    fn pkt_in_null(cx: &mut PacketCx<'_, Marks>) {
        if cx.__enter(1) {
            cx.core_mut().mark();
        }
    }
}

fn workload() -> PathBuf {
    let mut cfg = mos_synth::workload::Preset::W1.config(21);
    cfg.flows = 300;
    cfg.concurrency = 60;
    cfg.response_max = 64 << 10;
    cfg.bulk_max = 256 << 10;
    let path = std::env::temp_dir().join(format!("mos-dpdk-alloc-{}.pcap", std::process::id()));
    let file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    mos_synth::workload::Workload::new(cfg)
        .unwrap()
        .write_pcap(file)
        .unwrap();
    path
}

fn eal_args() -> Vec<String> {
    "-l 0 --no-huge -m 256 --no-pci --no-shconf --no-telemetry --log-level=*:warning"
        .split(' ')
        .map(str::to_string)
        .collect()
}

fn run(name: &str, trace: &std::path::Path, workers: usize, forward: bool) -> (Report, Marks) {
    let mut ports = vec![PortSpec::vdev(format!(
        "net_pcap_{name},rx_pcap={}",
        trace.display()
    ))];
    let out =
        std::env::temp_dir().join(format!("mos-dpdk-alloc-{name}-{}.pcap", std::process::id()));
    if forward {
        ports.push(PortSpec::vdev(format!(
            "net_pcap_{name}_out,tx_pcap={}",
            out.display()
        )));
    }
    let cfg = DpdkConfig {
        eal_args: eal_args(),
        ports,
        forward: if forward { vec![(0, 1)] } else { Vec::new() },
        workers,
        fanout: Fanout::Software,
        stop_when_idle: Some(IdleStop::polls(1)),
        ..DpdkConfig::default()
    };
    let done = Runtime::builder()
        .dpdk(cfg)
        .build()
        .unwrap()
        .run_with_core::<Mark>()
        .unwrap();
    let _ = std::fs::remove_file(out);
    done
}

#[test]
fn the_packet_loop_allocates_nothing() {
    let trace = workload();
    // One worker, observing.
    let (report, marks) = run("one", &trace, 1, false);
    assert!(report.packets > 10_000, "{} packets", report.packets);
    assert_eq!(marks.steady(), (0, report.packets));
    // One worker, forwarding every packet to a second port.
    let (report, marks) = run("fwd", &trace, 1, true);
    assert_eq!(report.forwarded, report.packets);
    assert_eq!(marks.steady(), (0, report.packets));
    // Three workers: the software fan-out moves most packets through rings.
    let (report, marks) = run("three", &trace, 3, true);
    assert_eq!(marks.workers.len(), 3);
    assert_eq!(
        marks.workers.iter().map(|w| w.1).sum::<u64>(),
        report.packets
    );
    for (i, &(steady, packets)) in marks.workers.iter().enumerate() {
        assert!(packets > 1000, "worker {i}: {packets} packets");
        assert_eq!(
            steady, 0,
            "worker {i}: {steady} allocations in its packet loop"
        );
    }
    std::fs::remove_file(trace).unwrap();
}
