//! Seeded workloads for benchmarks: many concurrent, interleaved TCP connections streamed
//! into a pcap, with their ground truth.
//!
//! # Model
//!
//! A fixed number of *slots* (the concurrency) each run one connection at a time; when a
//! connection ends, the slot starts the next one a moment later, until `flows` connections
//! have run. A binary heap orders the slots by the time of their next packet, so packets come
//! out globally in time order and connections interleave as on a real link. Each connection
//! is a small state machine that emits one packet per step and says how long until its next.
//! Every connection draws from its own generator (seeded from the workload seed and the
//! connection's number), so its content does not depend on the interleaving.
//!
//! The tap sits next to the clients: a client's packets are followed by the server's answer
//! one round-trip time later, the client's ACKs follow server data within tens of µs.
//!
//! A connection is, with the shares of [`WorkloadConfig`]:
//! - optionally preceded by a DNS lookup of its host (UDP) and by a ping of its server (ICMP);
//! - refused (SYN, then RST-ACK), or a three-way handshake with Linux's SYN options;
//! - HTTP/1.1 keep-alive (a geometric number of request/response exchanges, responses with
//!   Pareto-distributed bodies), TLS (1.3, or 1.2 session resumption: real hellos with SNI,
//!   then application-data records with Pareto sizes), or a bulk HTTP download or upload in
//!   full-size segments;
//! - with data segments occasionally lost after the tap (the receiver's ACKs stay at the hole,
//!   the sender goes on for up to 64 KiB, then retransmits when its timer fires, 200 ms or
//!   more later) or swapped with their successor (reordered before the tap); receivers ACK
//!   every second segment, and what is left at the end of a message unless their answer
//!   follows within the delayed-ACK time;
//! - closed by FIN from either side (FIN, FIN, ACK) or reset by an RST.
//!
//! # Cost
//!
//! Frames are built into one reused buffer and payload bytes come from two pattern blocks
//! made at start-up; a finished connection hands its buffers to the next one in its slot. So
//! once every slot has run a connection, a packet allocates nothing, nor does a connection
//! unless ground truth is kept (its lines own their strings). Generating W1's million packets
//! takes about a second of one core in release mode; writing its 0.8 GB is then up to the
//! disk (stream into a `BufWriter`).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::Write;

use crate::Error;
use crate::pcap::{PcapWriter, Timestamp};
use crate::rng::Rng;
use crate::truth::{self, ConnTruth, Summary};

mod config;
mod flow;

pub use config::{MAX_FLOWS, Preset, WorkloadConfig};
use flow::{Flow, Phase, Shared, Step};

/// Counters beyond the summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WorkloadStats {
    /// The ground truth's summary line.
    pub summary: Summary,
    /// Frame bytes (record headers not included).
    pub frame_bytes: u64,
    /// TCP segments carrying payload, retransmissions included.
    pub data_segments: u64,
    /// Retransmitted data segments.
    pub rexmit_segments: u64,
    /// Segments sent ahead of their predecessor.
    pub reordered_segments: u64,
    /// Refused connections.
    pub refused: u64,
    /// Connections reset after being established.
    pub rst_teardowns: u64,
    /// Bulk-transfer connections.
    pub bulk_flows: u64,
    /// TLS connections.
    pub tls_flows: u64,
    /// HTTP requests sent in clear.
    pub http_requests: u64,
    /// DNS queries.
    pub dns_queries: u64,
    /// Largest number of connections open at once.
    pub peak_open: u64,
    /// First packet time.
    pub first: Timestamp,
    /// Last packet time.
    pub last: Timestamp,
}

/// A streaming workload. See the [module docs](self).
#[derive(Debug)]
pub struct Workload {
    cfg: WorkloadConfig,
    slots: Vec<Flow>,
    heap: BinaryHeap<Reverse<(u64, u32)>>,
    started: u64,
    open: u64,
    sh: Shared,
}

impl Workload {
    /// A workload ready to produce its first packet.
    pub fn new(cfg: WorkloadConfig) -> Result<Workload, Error> {
        cfg.validate()?;
        let mut rng = Rng::new(cfg.seed);
        let slots_n = cfg
            .concurrency
            .min(u32::try_from(cfg.flows).unwrap_or(u32::MAX));
        let mut w = Workload {
            heap: BinaryHeap::with_capacity(slots_n as usize),
            slots: Vec::with_capacity(slots_n as usize),
            started: 0,
            open: 0,
            sh: Shared::new(&mut rng, cfg.precision),
            cfg,
        };
        // Stagger the first connections over 100 ms, so they do not all begin in the same
        // microsecond yet all are open soon (short connections end within a second).
        let ramp = 100_000_000u64;
        for slot in 0..slots_n {
            let t0 = w.cfg.start.unix_nanos() + rng.below(ramp);
            let flow = Flow::new(w.started, &w.cfg);
            w.started += 1;
            w.slots.push(flow);
            w.heap.push(Reverse((t0, slot)));
        }
        Ok(w)
    }

    /// Keeps the ground-truth line of each connection as it ends, for
    /// [`Workload::drain_truth`]. Call it before the first frame: HTTP requests and SNIs are
    /// recorded as connections send them.
    pub fn keep_truth(&mut self, keep: bool) {
        self.sh.truth_lines = keep;
    }

    /// Hands over the truth lines of the connections that ended since the last call.
    pub fn drain_truth(&mut self, mut f: impl FnMut(&ConnTruth)) {
        for line in self.sh.finished.drain(..) {
            f(&line);
        }
    }

    /// The next frame and its time, or `None` when every connection has ended.
    pub fn next_frame(&mut self) -> Result<Option<(Timestamp, &[u8])>, Error> {
        loop {
            let Some(Reverse((t, slot))) = self.heap.pop() else {
                return Ok(None);
            };
            let Some(flow) = self.slots.get_mut(slot as usize) else {
                continue;
            };
            let now = Timestamp::from_unix_nanos(t);
            if flow.phase == Phase::Idle {
                flow.phase = flow.first_phase();
                self.open += 1;
                self.sh.stats.peak_open = self.sh.stats.peak_open.max(self.open);
            }
            match flow.step(now, &mut self.sh, &self.cfg)? {
                Step::Silent(d) => {
                    self.heap.push(Reverse((t + d.max(1_000), slot)));
                    continue;
                }
                Step::Frame(d) => {
                    self.heap.push(Reverse((t + d.max(1_000), slot)));
                }
                Step::Last => {
                    self.open -= 1;
                    flow.finish(&mut self.sh);
                    if self.started < self.cfg.flows {
                        let gap = 1_000 + flow.rng.below(2_000_000);
                        *flow = Flow::new(self.started, &self.cfg).reuse(flow);
                        self.started += 1;
                        self.heap.push(Reverse((t + gap, slot)));
                    }
                }
            }
            let st = &mut self.sh.stats;
            if st.first == Timestamp::default() {
                st.first = now;
            }
            st.last = now;
            st.frame_bytes += self.sh.frame.len() as u64;
            return Ok(Some((now, &self.sh.frame)));
        }
    }

    /// Counters so far (complete once [`Workload::next_frame`] returned `None`).
    pub fn stats(&self) -> WorkloadStats {
        WorkloadStats {
            summary: self.sh.counter.summary(),
            ..self.sh.stats
        }
    }

    /// Streams the whole workload as a pcap into `pcap`, without ground truth.
    pub fn write_pcap<W: Write>(self, pcap: W) -> Result<WorkloadStats, Error> {
        self.write(pcap, None::<std::io::Sink>)
    }

    /// Streams the whole workload as a pcap into `pcap`, and its ground truth as JSON lines
    /// into `truth` (connection lines as connections end, then the summary).
    pub fn write<W: Write, T: Write>(
        mut self,
        pcap: W,
        mut truth: Option<T>,
    ) -> Result<WorkloadStats, Error> {
        let mut out = PcapWriter::new(pcap, self.cfg.precision)?;
        self.keep_truth(truth.is_some());
        while let Some((ts, frame)) = self.next_frame()? {
            out.write_packet(ts, frame)?;
            if let Some(t) = truth.as_mut() {
                for line in self.sh.finished.drain(..) {
                    truth::write_line(t, &line)?;
                }
            }
        }
        out.flush()?;
        let stats = self.stats();
        if let Some(mut t) = truth {
            truth::write_summary(&mut t, &stats.summary)?;
            t.flush()?;
        }
        Ok(stats)
    }
}

#[cfg(test)]
mod tests;
