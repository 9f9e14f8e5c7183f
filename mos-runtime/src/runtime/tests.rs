//! `cores(n)` gives every connection exactly what `cores(1)` gives it, on real captures and on
//! generated workloads; the run-level counts agree too.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use std::sync::Arc;

use crate::app::{App, CoreState, Subscriptions};
use crate::cx::{Cx, PacketCx};
use crate::engine::conn::SentStats;
use crate::event::Side;
use crate::report::Report;
use crate::{Runtime, RuntimeBuilder};

/// Everything an app can observe about one connection, in the order it observed it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Record {
    client: String,
    server: String,
    start: u64,
    end_reason: Option<&'static str>,
    /// Dispatches per (event, hook) slot.
    counts: [u64; 15],
    /// FNV-1a over the bytes each side's `ON_CONN_NEW_DATA` showed, in order, with the
    /// packet count at each call (so batch boundaries count too).
    digest: [u64; 2],
    read: [u64; 2],
    sent: [(u64, u64, u64, u64, u64, bool, bool); 2],
    synack: bool,
    tcp_states: Vec<String>,
}

#[derive(Default, Debug)]
struct FlowLog {
    counts: [u64; 15],
    digest: [u64; 2],
    read: [u64; 2],
    pkts: u64,
    tcp_states: Vec<String>,
}

#[derive(Default, Debug)]
struct Log {
    records: Vec<Record>,
    null_events: [u64; 15],
}

impl CoreState for Log {
    fn merge(&mut self, other: Self) {
        self.records.extend(other.records);
        for (a, b) in self.null_events.iter_mut().zip(other.null_events) {
            *a += b;
        }
    }
}

struct Recorder;

fn fnv(mut h: u64, bytes: &[u8]) -> u64 {
    if h == 0 {
        h = 0xcbf2_9ce4_8422_2325;
    }
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

fn count(cx: &mut Cx<'_, FlowLog, Log>) {
    let slot = Subscriptions::slot(cx.event(), cx.hook()).unwrap();
    let side = cx.side();
    let state = format!("{:?}:{:?}", side, cx.tcp_state(side));
    let f = cx.flow_mut();
    f.counts[usize::from(slot)] += 1;
    if cx.event() == crate::event::Event::TcpStateChange {
        cx.flow_mut().tcp_states.push(state);
    }
}

fn sent(s: SentStats) -> (u64, u64, u64, u64, u64, bool, bool) {
    (
        s.packets,
        s.payload_bytes,
        s.stream_bytes,
        s.rexmits,
        s.missed_bytes,
        s.fin,
        s.rst,
    )
}

fn count_null(cx: &mut PacketCx<'_, Log>) {
    let slot = Subscriptions::slot(cx.event(), cx.hook()).unwrap();
    cx.core_mut().null_events[usize::from(slot)] += 1;
}

impl App for Recorder {
    type Flow = FlowLog;
    type Core = Log;
    const NAME: &'static str = "recorder";

    fn pkt_in_snd(cx: &mut Cx<'_, FlowLog, Log>) {
        count(cx);
        cx.flow_mut().pkts += 1;
    }
    fn pkt_in_rcv(cx: &mut Cx<'_, FlowLog, Log>) {
        count(cx);
    }
    fn pkt_in_null(cx: &mut PacketCx<'_, Log>) {
        count_null(cx);
    }
    fn conn_start_snd(cx: &mut Cx<'_, FlowLog, Log>) {
        count(cx);
    }
    fn conn_start_rcv(cx: &mut Cx<'_, FlowLog, Log>) {
        count(cx);
    }
    fn tcp_state_change_snd(cx: &mut Cx<'_, FlowLog, Log>) {
        count(cx);
    }
    fn tcp_state_change_rcv(cx: &mut Cx<'_, FlowLog, Log>) {
        count(cx);
    }
    fn rexmit_rcv(cx: &mut Cx<'_, FlowLog, Log>) {
        count(cx);
    }
    fn conn_new_data_rcv(cx: &mut Cx<'_, FlowLog, Log>) {
        count(cx);
        let side = cx.side();
        let i = side.index();
        let data = cx.peek(side);
        let (len, pkts) = (data.len() as u64, cx.flow().pkts);
        let h = fnv(cx.flow().digest[i], data);
        let h = fnv(h, &pkts.to_le_bytes());
        let f = cx.flow_mut();
        f.digest[i] = h;
        f.read[i] += len;
    }
    fn conn_end_snd(cx: &mut Cx<'_, FlowLog, Log>) {
        count(cx);
        // The last dispatch of a connection: the server side's SND.
        if cx.side() != Side::Server {
            return;
        }
        let f = std::mem::take(cx.flow_mut());
        let record = Record {
            client: cx.client().to_string(),
            server: cx.server().to_string(),
            start: cx.start_time().as_nanos(),
            end_reason: cx.end_reason().map(|r| r.name()),
            counts: f.counts,
            digest: f.digest,
            read: f.read,
            sent: [
                sent(cx.sent_by(Side::Client)),
                sent(cx.sent_by(Side::Server)),
            ],
            synack: cx.synack_seen(),
            tcp_states: f.tcp_states,
        };
        cx.core_mut().records.push(record);
    }
    fn conn_end_rcv(cx: &mut Cx<'_, FlowLog, Log>) {
        count(cx);
    }
    fn orphan_null(cx: &mut PacketCx<'_, Log>) {
        count_null(cx);
    }
    fn error_rcv(cx: &mut Cx<'_, FlowLog, Log>) {
        count(cx);
    }
    fn error_null(cx: &mut PacketCx<'_, Log>) {
        count_null(cx);
    }
    fn timeout_null(cx: &mut Cx<'_, FlowLog, Log>) {
        count(cx);
    }
}

/// The run-level counts that must not depend on the number of workers.
fn summary(r: &Report) -> String {
    format!(
        "packets {} bytes {} tcp {} conns {} ended {:?} orphans {:?} errors {:?} events {:?} \
         dropped {} forwarded {} trace_seconds {}",
        r.packets,
        r.bytes,
        r.tcp_packets,
        r.connections,
        r.ended,
        r.orphans_by_reason,
        r.errors_by_kind,
        r.events,
        r.dropped,
        r.forwarded,
        r.trace_seconds
    )
}

fn run(builder: RuntimeBuilder, cores: usize) -> (Report, Log) {
    // Small tables: building a default-sized worker (65,536 flows) for each of the hundreds
    // of runs here would cost more than the runs.
    let (report, mut log) = builder
        .cores(cores)
        .max_flows(2048)
        .buffers(256)
        .progress(false)
        .build()
        .unwrap()
        .run_with_core::<Recorder>()
        .unwrap();
    log.records.sort();
    (report, log)
}

/// Runs `make()` on 1, 2 and 3 cores and checks every connection and the counts agree.
fn same_for_every_core_count(name: &str, make: impl Fn() -> RuntimeBuilder) -> usize {
    let (one, one_log) = run(make(), 1);
    assert_eq!(one.cores, 1);
    for cores in [2, 3] {
        let (many, log) = run(make(), cores);
        assert_eq!(many.cores, cores);
        assert_eq!(
            summary(&many),
            summary(&one),
            "{name}: report on {cores} cores"
        );
        assert_eq!(
            log.null_events, one_log.null_events,
            "{name}: flow-less events on {cores} cores"
        );
        assert_eq!(
            log.records.len(),
            one_log.records.len(),
            "{name}: connections on {cores} cores"
        );
        for (a, b) in log.records.iter().zip(&one_log.records) {
            assert_eq!(a, b, "{name}: a connection on {cores} cores");
        }
    }
    one_log.records.len()
}

#[test]
fn every_public_capture_gives_the_same_connections_on_one_two_and_three_cores() {
    let mut checked = 0;
    let mut conns = 0;
    for path in crate::io::tests::capture_files() {
        // Captures the reader refuses (cut on purpose) are covered by the error test below.
        if crate::io::PcapReader::open(&path).is_err() {
            continue;
        }
        let name = path.display().to_string();
        // From the file (the reader copies frames into the workers' batches) ...
        conns += same_for_every_core_count(&name, || Runtime::builder().pcap(&path).unwrap());
        // ... and from memory (the workers read the frames where they are).
        let bytes = std::fs::read(&path).unwrap();
        same_for_every_core_count(&name, || Runtime::builder().pcap_bytes(bytes.clone()));
        checked += 1;
    }
    assert!(checked >= 30, "only {checked} captures checked");
    assert!(conns >= 30, "only {conns} connections seen");
}

#[test]
fn a_generated_workload_gives_the_same_connections_on_one_two_and_three_cores() {
    use mos_synth::workload::{Preset, Workload};
    let mut cfg = Preset::W1.config(11);
    cfg.flows = 400;
    cfg.concurrency = 150;
    let mut pcap = Vec::new();
    Workload::new(cfg).unwrap().write_pcap(&mut pcap).unwrap();
    let bytes = Arc::new(pcap);
    // Small batches and a short idle timeout: many batch boundaries and timer expiries. Flow
    // state prefetched never (the default threshold is above 150 flows), always, and from 100
    // flows on (the run switches as the number of flows crosses it).
    let workload = |prefetch_min_flows| {
        Runtime::builder()
            .pcap_shared(Arc::clone(&bytes))
            .batch_size(7)
            .idle_timeout(std::time::Duration::from_millis(300))
            .prefetch_min_flows(prefetch_min_flows)
    };
    let default = crate::Config::default().prefetch_min_flows;
    for (name, min) in [
        ("", default),
        (", prefetching", 0),
        (", prefetching from 100", 100),
    ] {
        let conns = same_for_every_core_count(&format!("W1 (400 flows){name}"), || workload(min));
        assert!(conns >= 400, "{conns} connections");
    }
    let sample = mos_synth::sample::pcap();
    same_for_every_core_count("sample", || Runtime::builder().pcap_bytes(sample.clone()));
}

#[test]
fn a_read_error_is_returned_on_any_core_count() {
    let mut bytes = mos_synth::sample::pcap();
    let cut = bytes.len() - 10;
    bytes.truncate(cut);
    for cores in [1, 2] {
        let err = Runtime::builder()
            .pcap_bytes(bytes.clone())
            .cores(cores)
            .progress(false)
            .build()
            .unwrap()
            .run::<Recorder>()
            .unwrap_err();
        assert!(
            matches!(
                err,
                crate::RunError::Pcap(crate::io::PcapError::Truncated { .. })
            ),
            "{cores} cores: {err}"
        );
    }
}

#[test]
fn core_counts_out_of_range_and_inline_on_several_cores_are_refused() {
    let sample = mos_synth::sample::pcap();
    for cores in [0, super::MAX_CORES + 1] {
        let err = Runtime::builder()
            .pcap_bytes(sample.clone())
            .cores(cores)
            .build()
            .unwrap_err();
        assert!(err.to_string().contains("cores("), "{err}");
    }
    let err = Runtime::builder()
        .pcap_bytes(sample)
        .inline(crate::io::PcapSink::from_writer(Vec::new()))
        .cores(2)
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("inline"), "{err}");
}

/// The initial core state: worker 0 gets it, the others its fork; the result is the merge in
/// worker order.
#[test]
fn initial_core_state_is_forked_and_merged_in_worker_order() {
    #[derive(Default, Debug)]
    struct Tagged {
        tag: u32,
        seen: Vec<u32>,
    }
    impl CoreState for Tagged {
        fn merge(&mut self, other: Self) {
            self.seen.extend(other.seen);
        }
        fn fork(&self) -> Self {
            Tagged {
                tag: self.tag + 1,
                seen: Vec::new(),
            }
        }
    }
    struct Tagger;
    impl App for Tagger {
        type Flow = ();
        type Core = Tagged;
        const NAME: &'static str = "tagger";
        fn conn_start_snd(cx: &mut Cx<'_, (), Tagged>) {
            let tag = cx.core().tag;
            if !cx.core().seen.contains(&tag) {
                cx.core_mut().seen.push(tag);
            }
        }
    }
    let mut cfg = mos_synth::workload::Preset::W1.config(5);
    cfg.flows = 200;
    cfg.concurrency = 50;
    let mut pcap = Vec::new();
    mos_synth::workload::Workload::new(cfg)
        .unwrap()
        .write_pcap(&mut pcap)
        .unwrap();
    let (_, core) = Runtime::builder()
        .pcap_bytes(pcap)
        .cores(3)
        .progress(false)
        .build()
        .unwrap()
        .run_init::<Tagger>(Tagged {
            tag: 7,
            seen: Vec::new(),
        })
        .unwrap();
    // Worker 0 has tag 7, the forks 8: 200 flows spread over all three workers.
    assert_eq!(core.seen, vec![7, 8, 8]);
    assert_eq!(core.tag, 7);
}

/// `Worker::process_batch` (prefetching by groups) is `Worker::process` frame after frame:
/// every connection's record, the flow-less events and the counters agree, on every public
/// capture and on a generated workload. Receive batches of 7 frames cut across the prefetch
/// groups of 16 and the reader's batches of 32.
#[test]
fn process_batch_is_process_frame_by_frame() {
    use crate::Config;
    use crate::engine::Worker;
    use crate::io::{MAX_BATCH, PcapReader};

    fn replay(bytes: &[u8], batched: bool) -> (String, Log) {
        let cfg = Config {
            max_flows: 2048,
            buffers: 256,
            batch_size: 7,
            ..Config::default()
        };
        let mut worker = Worker::<Recorder>::new(cfg, None).unwrap();
        let mut reader = PcapReader::from_bytes(bytes.to_vec()).unwrap();
        if batched {
            loop {
                let batch = reader.next_batch(MAX_BATCH).unwrap();
                if batch.is_empty() {
                    break;
                }
                worker.process_batch(batch.iter());
            }
        } else {
            while let Some(f) = reader.next_frame().unwrap() {
                worker.process(f.data, f.ts, f.wire_len, f.link);
            }
        }
        worker.finish().unwrap();
        let counters = format!("{:?}", worker.counters);
        let mut log = worker.take_core();
        log.records.sort();
        (counters, log)
    }

    let mut captures: Vec<(String, Vec<u8>)> = crate::io::tests::capture_files()
        .into_iter()
        .filter(|p| crate::io::PcapReader::open(p).is_ok())
        .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
        .collect();
    assert!(captures.len() >= 30);
    use mos_synth::workload::{Preset, Workload};
    let mut cfg = Preset::W1.config(5);
    cfg.flows = 300;
    cfg.concurrency = 120;
    let mut pcap = Vec::new();
    Workload::new(cfg).unwrap().write_pcap(&mut pcap).unwrap();
    captures.push(("W1 (300 flows)".into(), pcap));
    let mut conns = 0;
    for (name, bytes) in &captures {
        let (counters, log) = replay(bytes, false);
        let (batched_counters, batched_log) = replay(bytes, true);
        assert_eq!(batched_counters, counters, "{name}: counters");
        assert_eq!(
            batched_log.null_events, log.null_events,
            "{name}: flow-less events"
        );
        assert_eq!(batched_log.records, log.records, "{name}: connections");
        conns += log.records.len();
    }
    assert!(conns >= 350, "{conns} connections");
}

#[test]
fn setup_time_is_reported_apart_from_the_run() {
    let sample = mos_synth::sample::pcap();
    for cores in [1, 2] {
        let report = Runtime::builder()
            .pcap_bytes(sample.clone())
            .cores(cores)
            .build()
            .unwrap()
            .run::<Recorder>()
            .unwrap();
        // Building a worker allocates and writes its tables: never free, never the run.
        assert!(report.setup_seconds > 0.0, "{cores} cores: {report:?}");
        assert!(report.setup_seconds.is_finite() && report.setup_seconds < 60.0);
        assert!(report.elapsed_seconds > 0.0);
    }
}
