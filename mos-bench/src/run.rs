//! One timed run of [`Midstat`] over a capture, and the JSON line of SPEC §6.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use mos_runtime::{Report, Runtime};
use serde::Serialize;

use crate::app::{Core, Midstat, Totals};
use crate::truth::Expected;
use crate::workload::Capture;
use crate::{alloc, rss};

/// How to run.
#[derive(Clone, Debug)]
pub struct Options {
    /// Workers.
    pub cores: usize,
    /// Verify IPv4, TCP and UDP checksums.
    pub verify_checksums: bool,
    /// Read the capture from this file through the runtime's streaming reader instead of
    /// replaying it from memory.
    pub stream: Option<PathBuf>,
    /// Flow-table capacity per worker.
    pub max_flows: usize,
    /// Reassembly buffers per worker.
    pub buffers: usize,
    /// Reassembly bytes per side.
    pub buffer_size: usize,
    /// Prefetch flow state while at least this many flows are tracked
    /// (`Config::prefetch_min_flows`).
    pub prefetch_min_flows: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            cores: 1,
            verify_checksums: true,
            stream: None,
            max_flows: 1 << 16,
            buffers: 4096,
            buffer_size: 64 << 10,
            prefetch_min_flows: mos_runtime::Config::default().prefetch_min_flows,
        }
    }
}

/// What one run measured.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The runtime's report.
    pub report: Report,
    /// The app's merged core state (totals and the allocation window).
    pub core: Core,
    /// Wall time of the whole run: building the runtime (every structure allocated),
    /// the packet loop, ending the remaining connections, the report.
    pub seconds: f64,
    /// The packet loop alone, as the runtime measured it (`Report::elapsed_seconds`).
    pub loop_seconds: f64,
    /// Allocations during the run (start-up included).
    pub allocations: u64,
    /// Peak resident memory during the run (the process's, the capture included).
    pub peak_rss: Option<u64>,
    /// CPU time the run used (all threads), seconds; 10 ms resolution.
    pub cpu_seconds: f64,
}

impl Outcome {
    /// What the run counted, in the ground truth's terms.
    pub fn counted(&self) -> Expected {
        Expected {
            totals: self.core.totals,
            packets: self.report.packets,
            orphans: self.report.orphans,
            tcp_packets: self.report.tcp_packets,
        }
    }
}

/// Runs [`Midstat`] once over `bytes` (or the file of `opts.stream`).
pub fn run_once(bytes: &Arc<Vec<u8>>, opts: &Options) -> Result<Outcome, String> {
    rss::reset_peak();
    let allocs_before = alloc::allocations();
    let cpu_before = rss::cpu_seconds().unwrap_or(0.0);
    let started = Instant::now();
    let builder = match &opts.stream {
        Some(path) => Runtime::builder()
            .pcap(path)
            .map_err(|e| format!("{}: {e}", path.display()))?,
        None => Runtime::builder().pcap_shared(Arc::clone(bytes)),
    };
    let (report, core) = builder
        .cores(opts.cores)
        .max_flows(opts.max_flows)
        .buffers(opts.buffers)
        .buffer_size(opts.buffer_size)
        .prefetch_min_flows(opts.prefetch_min_flows)
        .verify_checksums(opts.verify_checksums)
        .buffering(true)
        .progress(false)
        .build()
        .and_then(|rt| rt.run_with_core::<Midstat>())
        .map_err(|e| e.to_string())?;
    let seconds = started.elapsed().as_secs_f64();
    let cpu_seconds = (rss::cpu_seconds().unwrap_or(0.0) - cpu_before).max(0.0);
    let allocations = alloc::allocations() - allocs_before;
    Ok(Outcome {
        cpu_seconds,
        loop_seconds: report.elapsed_seconds,
        report,
        core,
        seconds,
        allocations,
        peak_rss: rss::peak(),
    })
}

/// The JSON line of a benchmark (SPEC §6 fields first).
#[derive(Clone, Debug, Serialize)]
pub struct BenchLine {
    /// Frames processed per run.
    pub packets: u64,
    /// Median wall time of a whole run (start-up, packet loop, end of run), seconds.
    pub seconds: f64,
    /// Millions of packets per second (median run).
    pub mpps: f64,
    /// Frame bits (wire lengths) per second through the run, in Gbit/s (median run).
    pub gbps: f64,
    /// Median whole-run nanoseconds per packet.
    pub ns_per_packet: f64,
    /// Allocations per packet in steady state: every allocation of the process (all threads)
    /// between the first packet and the last connection end, divided by the packets.
    pub allocs_per_packet: f64,
    /// Peak resident memory of the process during the first run (`VmHWM`, reset before it),
    /// bytes; includes the capture when it is replayed from memory.
    pub peak_rss_bytes: u64,
    /// Workers.
    pub cores: usize,
    /// The capture.
    pub workload: String,
    /// `memory` (replayed from memory) or `stream` (read from the file while running).
    pub mode: &'static str,
    /// Checksums verified.
    pub verify_checksums: bool,
    /// Timed runs.
    pub runs: usize,
    /// Fastest and slowest run, seconds.
    pub seconds_min: f64,
    /// Slowest run, seconds.
    pub seconds_max: f64,
    /// Median packet-loop time per packet (the runtime's own measure), ns.
    pub loop_ns_per_packet: f64,
    /// Median CPU time per packet, all threads (user and system; 10 ms resolution per run):
    /// what the run cost the machine, unaffected by time spent waiting for a core when the
    /// machine is shared.
    pub cpu_ns_per_packet: f64,
    /// Start-up of the first run (a fresh process: every allocation is new memory): building
    /// the workers and every preallocated structure until the first packet, ms (the runtime's
    /// `Report::setup_seconds`).
    pub startup_ms: f64,
    /// Reassembled payload bits per second (client and server streams), Gbit/s.
    pub payload_gbps: f64,
    /// Bytes of the capture held in memory during the runs (0 when streamed).
    pub capture_bytes: u64,
    /// `peak_rss_bytes` minus the capture held in memory.
    pub peak_rss_excl_capture_bytes: u64,
    /// Allocations of the whole first run, start-up and report included.
    pub allocs_run: u64,
    /// Allocations of the first run in steady state (the numerator of `allocs_per_packet`).
    pub allocs_steady: u64,
    /// Connections counted.
    pub connections: u64,
    /// Most connections tracked at once (summed over workers).
    pub peak_flows: u64,
    /// Errors the runtime counted, by kind.
    pub errors: Vec<(String, u64)>,
    /// Every run counted exactly the same.
    pub counts_identical: bool,
    /// The counts equal the ground truth (`null` when there is none).
    pub truth_ok: Option<bool>,
    /// Where they differ.
    pub truth_differences: Vec<String>,
    /// What was counted.
    pub totals: Totals,
}

/// The median of `v` (upper median for even lengths); 0 for none.
pub fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    s.get(s.len() / 2).copied().unwrap_or(0.0)
}

/// Everything a benchmark invocation does: `runs` timed runs, the comparison with the ground
/// truth.
pub fn bench(capture: &Capture, opts: &Options, runs: usize) -> Result<BenchLine, String> {
    let runs = runs.max(1);
    let mut outcomes = Vec::with_capacity(runs);
    for _ in 0..runs {
        outcomes.push(run_once(&capture.bytes, opts)?);
    }
    let first = &outcomes[0];
    let counted = first.counted();
    let counts_identical = outcomes.iter().all(|o| o.counted() == counted);
    let allocs_per_packet =
        first.core.steady_allocations() as f64 / first.report.packets.max(1) as f64;

    let secs: Vec<f64> = outcomes.iter().map(|o| o.seconds).collect();
    let loops: Vec<f64> = outcomes.iter().map(|o| o.loop_seconds).collect();
    let cpus: Vec<f64> = outcomes.iter().map(|o| o.cpu_seconds).collect();
    let seconds = median(&secs);
    let packets = first.report.packets;
    let pk = packets.max(1) as f64;
    let payload = (counted.totals.bytes_client + counted.totals.bytes_server) as f64;
    let capture_bytes = capture.bytes.len() as u64;
    let peak = first.peak_rss.unwrap_or(0);
    let (truth_ok, truth_differences) = match &capture.expected {
        Some(e) => {
            let d = e.differences(&counted);
            (Some(d.is_empty()), d)
        }
        None => (None, Vec::new()),
    };
    Ok(BenchLine {
        packets,
        seconds,
        mpps: pk / seconds / 1e6,
        gbps: first.report.bytes as f64 * 8.0 / seconds / 1e9,
        ns_per_packet: seconds * 1e9 / pk,
        allocs_per_packet,
        peak_rss_bytes: peak,
        cores: opts.cores,
        workload: capture.name.clone(),
        mode: if opts.stream.is_some() {
            "stream"
        } else {
            "memory"
        },
        verify_checksums: opts.verify_checksums,
        runs,
        seconds_min: secs.iter().copied().fold(f64::INFINITY, f64::min),
        seconds_max: secs.iter().copied().fold(0.0, f64::max),
        loop_ns_per_packet: median(&loops) * 1e9 / pk,
        cpu_ns_per_packet: median(&cpus) * 1e9 / pk,
        startup_ms: first.report.setup_seconds * 1e3,
        payload_gbps: payload * 8.0 / seconds / 1e9,
        capture_bytes,
        peak_rss_excl_capture_bytes: peak.saturating_sub(capture_bytes),
        allocs_run: first.allocations,
        allocs_steady: first.core.steady_allocations(),
        connections: counted.totals.connections,
        peak_flows: first.report.peak_flows,
        errors: first
            .report
            .errors_by_kind
            .iter()
            .map(|c| (c.name.clone(), c.count))
            .collect(),
        counts_identical,
        truth_ok,
        truth_differences,
        totals: counted.totals,
    })
}
