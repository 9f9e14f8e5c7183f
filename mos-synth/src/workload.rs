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
//! - with data segments occasionally lost after the tap and retransmitted (after the
//!   receiver's duplicate ACK) or swapped with their successor (reordered before the tap);
//!   receivers ACK every second segment and what is left at the end of a message;
//! - closed by FIN from either side (FIN, FIN, ACK) or reset by an RST.
//!
//! # Cost
//!
//! Frames are built into one reused buffer and payload bytes come from two pattern blocks
//! made at start-up, so a steady-state packet allocates nothing (per-connection work, such as
//! the ground-truth strings, allocates once per connection). Streaming to a `BufWriter` makes
//! W1's million packets in well under a second in release mode.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use crate::dns;
use crate::http::{self, Request, Response};
use crate::packet::{self, Echo, GATEWAY_MAC, IpFields, Link, SynOptions, TcpFlags, TcpSegment};
use crate::pcap::{PcapWriter, Precision, Timestamp};
use crate::rng::{Rng, splitmix64};
use crate::tls::{self, ClientHello, ServerHello, TlsVersion};
use crate::truth::{self, ConnTracker, ConnTruth, FrameKind, HttpRequest, Summary, SummaryCounter};
use crate::{Error, Side};

/// Parameters of a workload. Start from a [`Preset`] and change what you need.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkloadConfig {
    /// Seed of everything random.
    pub seed: u64,
    /// TCP connections in total.
    pub flows: u64,
    /// Connections open at once.
    pub concurrency: u32,
    /// Share of connections that are bulk transfers.
    pub bulk_share: f64,
    /// Share of the other connections that are TLS on port 443.
    pub tls_share: f64,
    /// Share of connections refused (SYN answered by RST).
    pub refused_share: f64,
    /// Share of established connections closed by an RST instead of FINs.
    pub rst_share: f64,
    /// Probability that a data segment is lost after the tap and retransmitted.
    pub rexmit_rate: f64,
    /// Probability that a data segment is swapped with its successor.
    pub reorder_rate: f64,
    /// Share of connections over IPv6.
    pub ipv6_share: f64,
    /// Share of connections preceded by a DNS lookup.
    pub dns_share: f64,
    /// Share of connections preceded by a ping.
    pub icmp_share: f64,
    /// Mean request/response exchanges per keep-alive connection (geometric, at least 1).
    pub requests_mean: f64,
    /// Pareto scale (smallest size) of response bodies, bytes.
    pub response_min: f64,
    /// Pareto shape of response bodies (smaller is heavier-tailed).
    pub response_alpha: f64,
    /// Cap on response bodies, bytes.
    pub response_max: u64,
    /// Smallest bulk transfer, bytes (sizes are log-uniform).
    pub bulk_min: u64,
    /// Largest bulk transfer, bytes.
    pub bulk_max: u64,
    /// Mean client think time between exchanges.
    pub think_mean: Duration,
    /// Smallest round-trip time (log-uniform per connection).
    pub rtt_min: Duration,
    /// Largest round-trip time.
    pub rtt_max: Duration,
    /// Time of the first packet (before jitter).
    pub start: Timestamp,
    /// Timestamp precision of the pcap.
    pub precision: Precision,
}

/// The workloads of the performance issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Preset {
    /// 14,400 connections, 2,000 open at once, about 1 M packets; HTTP-heavy, 3 % bulk,
    /// 1 % refused, 0.5 % retransmitted and 0.3 % reordered segments, 8 % RST teardowns.
    W1,
    /// W1's mix at five times the size: 72,000 connections, 10,000 open, about 4.9 M packets.
    W5,
    /// Connection churn: 200,000 small HTTP connections (one short exchange), 50,000 open.
    WC,
    /// Bulk: 4,000 connections, half of them bulk transfers in full-size segments.
    WB,
}

impl Preset {
    /// Every preset.
    pub const ALL: [Preset; 4] = [Preset::W1, Preset::W5, Preset::WC, Preset::WB];

    /// The preset's name (`W1`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Preset::W1 => "W1",
            Preset::W5 => "W5",
            Preset::WC => "WC",
            Preset::WB => "WB",
        }
    }

    /// The preset named `name` (case-insensitive).
    pub fn parse(name: &str) -> Option<Preset> {
        Preset::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(name))
    }

    /// The preset's parameters with `seed`.
    pub fn config(self, seed: u64) -> WorkloadConfig {
        let w1 = WorkloadConfig {
            seed,
            flows: 14_400,
            concurrency: 2_000,
            bulk_share: 0.03,
            tls_share: 0.25,
            refused_share: 0.01,
            rst_share: 0.08,
            rexmit_rate: 0.005,
            reorder_rate: 0.003,
            ipv6_share: 0.05,
            dns_share: 0.2,
            icmp_share: 0.01,
            requests_mean: 5.5,
            response_min: 1_200.0,
            response_alpha: 1.2,
            response_max: 2 << 20,
            bulk_min: 128 << 10,
            bulk_max: 2 << 20,
            think_mean: Duration::from_millis(150),
            rtt_min: Duration::from_millis(1),
            rtt_max: Duration::from_millis(150),
            start: Timestamp::from_unix(1_700_000_000, 0),
            precision: Precision::Micros,
        };
        match self {
            Preset::W1 => w1,
            Preset::W5 => WorkloadConfig {
                flows: 72_000,
                concurrency: 10_000,
                ..w1
            },
            Preset::WC => WorkloadConfig {
                flows: 200_000,
                concurrency: 50_000,
                bulk_share: 0.0,
                tls_share: 0.0,
                requests_mean: 1.0,
                response_min: 300.0,
                response_alpha: 1.5,
                response_max: 64 << 10,
                think_mean: Duration::from_millis(20),
                ..w1
            },
            Preset::WB => WorkloadConfig {
                flows: 4_000,
                concurrency: 500,
                bulk_share: 0.5,
                ..w1
            },
        }
    }
}

impl WorkloadConfig {
    /// Checks that every value makes sense.
    pub fn validate(&self) -> Result<(), Error> {
        let shares = [
            ("bulk_share", self.bulk_share),
            ("tls_share", self.tls_share),
            ("refused_share", self.refused_share),
            ("rst_share", self.rst_share),
            ("rexmit_rate", self.rexmit_rate),
            ("reorder_rate", self.reorder_rate),
            ("ipv6_share", self.ipv6_share),
            ("dns_share", self.dns_share),
            ("icmp_share", self.icmp_share),
        ];
        for (name, v) in shares {
            if !(0.0..=1.0).contains(&v) {
                return Err(Error::Config(format!("{name} must be in [0, 1], not {v}")));
            }
        }
        if self.concurrency == 0 {
            return Err(Error::Config("concurrency must be at least 1".into()));
        }
        if self.flows > MAX_FLOWS {
            return Err(Error::Config(format!(
                "at most {MAX_FLOWS} flows (unique client address and port pairs)"
            )));
        }
        if !(self.requests_mean >= 1.0 && self.requests_mean <= 1000.0) {
            return Err(Error::Config("requests_mean must be in [1, 1000]".into()));
        }
        if !(self.response_min >= 1.0 && self.response_alpha > 0.0) {
            return Err(Error::Config(
                "response_min must be at least 1 and response_alpha positive".into(),
            ));
        }
        if self.bulk_min == 0 || self.bulk_min > self.bulk_max {
            return Err(Error::Config("need 0 < bulk_min <= bulk_max".into()));
        }
        if self.rtt_min.is_zero() || self.rtt_min > self.rtt_max {
            return Err(Error::Config("need 0 < rtt_min <= rtt_max".into()));
        }
        Ok(())
    }
}

/// Client hosts; with 28,000 ports each this bounds the unique 5-tuples.
const CLIENTS: u64 = 1000;
/// Ephemeral ports per client (32768..60768).
const PORTS: u64 = 28_000;
/// Largest `flows` with unique client address/port pairs.
pub const MAX_FLOWS: u64 = CLIENTS * PORTS;

const HOSTS: [&str; 24] = [
    "www.example.com",
    "example.com",
    "api.example.com",
    "static.example.com",
    "img.example.com",
    "cdn.example.net",
    "www.example.net",
    "video.example.net",
    "news.example.org",
    "www.example.org",
    "shop.example.org",
    "mail.example.org",
    "search.example.com",
    "login.example.com",
    "docs.example.net",
    "assets.example.org",
    "blog.example.com",
    "maps.example.net",
    "files.example.org",
    "update.example.com",
    "ads.example.net",
    "metrics.example.com",
    "wiki.example.org",
    "forum.example.net",
];

const USER_AGENTS: [&str; 4] = [
    "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15",
    "curl/8.4.0",
];

const SERVERS: [&str; 4] = [
    "nginx/1.24.0",
    "Apache/2.4.58 (Unix)",
    "cloudflare",
    "envoy",
];

const WORDS: [&str; 32] = [
    "the",
    "network",
    "packet",
    "flow",
    "monitor",
    "event",
    "stream",
    "server",
    "client",
    "rust",
    "middlebox",
    "data",
    "state",
    "window",
    "segment",
    "buffer",
    "of",
    "and",
    "to",
    "a",
    "in",
    "is",
    "for",
    "on",
    "with",
    "as",
    "by",
    "at",
    "from",
    "fast",
    "tcp",
    "http",
];

/// Bottleneck rates a connection may have, in ns per byte (10 Mbit/s .. 1 Gbit/s).
const NS_PER_BYTE: [u64; 5] = [800, 160, 80, 40, 8];

/// Bytes a sender sends past a lost segment before it stalls and waits for its timer.
const STALL_WINDOW: u64 = 64 << 10;

/// Pattern block size for payload bytes.
const PATTERN: usize = 1 << 16;

/// A TLS application-data record as generated: 5-byte header, up to this many body bytes.
const TLS_RECORD_BODY: u64 = 16_384 + 17;
const TLS_RECORD: u64 = 5 + TLS_RECORD_BODY;

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Http,
    Tls13,
    Tls12,
    BulkDown,
    BulkUp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Teardown {
    Fin { closer: Side },
    Rst { by: Side },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    PingRequest,
    PingReply,
    DnsQuery,
    DnsResponse,
    Syn,
    SynAck,
    Refuse,
    HandshakeAck,
    Data,
    Close(u8),
    Idle,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Body {
    Text,
    Binary,
    TlsRecords,
}

/// A segment waiting to be sent: out-of-order filler or retransmission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Queued {
    off: u64,
    len: u32,
    rexmit: bool,
    /// Held until the receiver has (duplicate-)ACKed.
    held: bool,
}

/// What a receiver has got: next expected sequence number and a few held ranges.
#[derive(Debug, Clone, Copy, Default)]
struct Rcv {
    nxt: u32,
    ooo: [(u32, u32); 4],
    n: usize,
}

fn seq_le(a: u32, b: u32) -> bool {
    (b.wrapping_sub(a) as i32) >= 0
}

impl Rcv {
    fn deliver(&mut self, seq: u32, end: u32) {
        if seq_le(seq, self.nxt) {
            if !seq_le(end, self.nxt) {
                self.nxt = end;
                let mut i = 0;
                while i < self.n {
                    let (s, e) = self.ooo[i];
                    if seq_le(s, self.nxt) {
                        if !seq_le(e, self.nxt) {
                            self.nxt = e;
                        }
                        self.n -= 1;
                        self.ooo[i] = self.ooo[self.n];
                        i = 0;
                    } else {
                        i += 1;
                    }
                }
            }
        } else if let Some(r) = self.ooo[..self.n]
            .iter_mut()
            .find(|r| seq_le(r.0, end) && seq_le(seq, r.1))
        {
            // Touches a held range: grow it.
            if seq_le(seq, r.0) {
                r.0 = seq;
            }
            if seq_le(r.1, end) {
                r.1 = end;
            }
        } else if self.n < self.ooo.len() {
            self.ooo[self.n] = (seq, end);
            self.n += 1;
        }
    }
}

/// One end of a connection.
#[derive(Debug, Clone, Copy)]
struct End {
    addr: SocketAddr,
    mac: [u8; 6],
    nxt: u32,
    rcv: Rcv,
    ip_id: u16,
    ttl: u8,
    window: u16,
}

/// The message being transferred.
#[derive(Debug, Clone)]
struct Msg {
    dir: Side,
    /// Literal bytes (HTTP head, TLS handshake records).
    prefix: Vec<u8>,
    body_len: u64,
    body: Body,
    salt: usize,
    /// Offset of the next new byte.
    sent: u64,
    /// Sequence number of offset 0.
    base: u32,
}

impl Msg {
    fn total(&self) -> u64 {
        self.prefix.len() as u64 + self.body_len
    }
}

/// Resources every connection uses: buffers and pattern blocks.
#[derive(Debug)]
struct Shared {
    frame: Vec<u8>,
    payload: Vec<u8>,
    scratch: Vec<u8>,
    text: Vec<u8>,
    binary: Vec<u8>,
    counter: SummaryCounter,
    stats: WorkloadStats,
    precision: Precision,
    truth_lines: bool,
    finished: Vec<ConnTruth>,
}

/// One slot's connection.
#[derive(Debug)]
struct Flow {
    id: u64,
    rng: Rng,
    kind: Kind,
    refused: bool,
    teardown: Teardown,
    dns_first: bool,
    ping_first: bool,
    phase: Phase,
    ends: [End; 2],
    flow_label: u32,
    host: &'static str,
    rtt: u64,
    ns_per_byte: u64,
    mss: u32,
    exchanges: u32,
    msg_index: u32,
    msg: Msg,
    queue: [Queued; 2],
    queued: usize,
    unacked: u32,
    dns_id: u16,
    dns_port: u16,
    resolver: SocketAddr,
    session: [u8; 32],
    tracker: ConnTracker,
}

/// What a step did.
enum Step {
    /// A frame is in the buffer; the next step comes after this many ns.
    Frame(u64),
    /// No frame; the next step comes after this many ns.
    Silent(u64),
    /// A frame is in the buffer and the connection is over.
    Last,
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
        let mut binary = vec![0u8; PATTERN];
        rng.fill(&mut binary);
        let mut text = Vec::with_capacity(PATTERN + 16);
        let mut col = 0;
        while text.len() < PATTERN {
            let w = WORDS[rng.index(WORDS.len())];
            text.extend_from_slice(w.as_bytes());
            col += w.len() + 1;
            if col > 72 {
                text.push(b'\n');
                col = 0;
            } else {
                text.push(b' ');
            }
        }
        text.truncate(PATTERN);
        let slots_n = cfg
            .concurrency
            .min(u32::try_from(cfg.flows).unwrap_or(u32::MAX));
        let mut w = Workload {
            heap: BinaryHeap::with_capacity(slots_n as usize),
            slots: Vec::with_capacity(slots_n as usize),
            started: 0,
            open: 0,
            sh: Shared {
                frame: Vec::with_capacity(1600),
                payload: Vec::with_capacity(1600),
                scratch: Vec::with_capacity(1600),
                text,
                binary,
                counter: SummaryCounter::default(),
                stats: WorkloadStats::default(),
                precision: cfg.precision,
                truth_lines: false,
                finished: Vec::new(),
            },
            cfg,
        };
        // Stagger the first connections over the first second, so they do not all begin in
        // the same microsecond.
        let ramp = 1_000_000_000u64;
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
    /// [`Workload::drain_truth`].
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
        let mut err: Option<Error> = None;
        while let Some((ts, frame)) = self.next_frame()? {
            out.write_packet(ts, frame)?;
            if let Some(t) = truth.as_mut() {
                self.drain_truth(|line| {
                    if err.is_none() {
                        err = truth::write_line(t, line).err();
                    }
                });
                if let Some(e) = err.take() {
                    return Err(e);
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

impl Flow {
    fn new(id: u64, cfg: &WorkloadConfig) -> Flow {
        let mut rng = Rng::new(cfg.seed ^ splitmix64(id.wrapping_add(0x5157_0000)));
        let refused = rng.chance(cfg.refused_share);
        let kind = if rng.chance(cfg.bulk_share) {
            if rng.chance(0.5) {
                Kind::BulkDown
            } else {
                Kind::BulkUp
            }
        } else if rng.chance(cfg.tls_share) {
            if rng.chance(0.8) {
                Kind::Tls13
            } else {
                Kind::Tls12
            }
        } else {
            Kind::Http
        };
        let teardown = if rng.chance(cfg.rst_share) {
            Teardown::Rst {
                by: if rng.chance(0.6) {
                    Side::Server
                } else {
                    Side::Client
                },
            }
        } else {
            Teardown::Fin {
                closer: if rng.chance(0.5) {
                    Side::Client
                } else {
                    Side::Server
                },
            }
        };
        let v6 = rng.chance(cfg.ipv6_share);
        let host_index = rng.index(HOSTS.len());
        // Unique client address and port per connection: a bijection of the flow number.
        let client_index = (id * 7 + id / CLIENTS) % CLIENTS;
        let port = 32_768 + ((id / CLIENTS) * 7_919 + client_index) % PORTS;
        let (client_ip, server_ip, resolver): (IpAddr, IpAddr, IpAddr) = if v6 {
            (
                IpAddr::V6(Ipv6Addr::new(
                    0x2001,
                    0xdb8,
                    1,
                    0,
                    0,
                    0,
                    0,
                    2 + client_index as u16,
                )),
                IpAddr::V6(Ipv6Addr::new(
                    0x2001,
                    0xdb8,
                    0x80,
                    0,
                    0,
                    0,
                    0,
                    0x10 + host_index as u16,
                )),
                IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0x35)),
            )
        } else {
            let nets = [[192, 0, 2], [198, 51, 100], [203, 0, 113]];
            let net = nets[host_index % 3];
            (
                IpAddr::V4(Ipv4Addr::new(
                    10,
                    1,
                    (client_index / 250) as u8,
                    (client_index % 250) as u8 + 2,
                )),
                IpAddr::V4(Ipv4Addr::new(net[0], net[1], net[2], 10 + host_index as u8)),
                IpAddr::V4(Ipv4Addr::new(10, 0, 0, 53)),
            )
        };
        let server_port = match kind {
            Kind::Tls13 | Kind::Tls12 => 443,
            _ if host_index % 5 == 4 => 8080,
            _ => 80,
        };
        let client = SocketAddr::new(client_ip, port as u16);
        let server = SocketAddr::new(server_ip, server_port);
        let rtt_ns = rng.log_uniform(cfg.rtt_min.as_nanos() as f64, cfg.rtt_max.as_nanos() as f64);
        let exchanges = match kind {
            Kind::BulkDown | Kind::BulkUp => 1,
            _ => geometric(&mut rng, cfg.requests_mean),
        };
        let end = |addr: SocketAddr, mac: [u8; 6], rng: &mut Rng, ttl: u8, window: u16| End {
            addr,
            mac,
            nxt: rng.next_u32(),
            rcv: Rcv::default(),
            ip_id: rng.next_u32() as u16,
            ttl,
            window,
        };
        let ends = [
            end(client, packet::mac_for_ip(client_ip), &mut rng, 64, 2_048),
            end(server, GATEWAY_MAC, &mut rng, 54, 509),
        ];
        Flow {
            id,
            kind,
            refused,
            teardown,
            dns_first: rng.chance(cfg.dns_share),
            ping_first: rng.chance(cfg.icmp_share),
            phase: Phase::Idle,
            ends,
            flow_label: rng.next_u32() & 0xf_ffff,
            host: HOSTS[host_index],
            rtt: rtt_ns as u64,
            ns_per_byte: NS_PER_BYTE[rng.index(NS_PER_BYTE.len())],
            mss: if v6 { 1440 } else { 1460 },
            exchanges,
            msg_index: 0,
            msg: Msg {
                dir: Side::Client,
                prefix: Vec::new(),
                body_len: 0,
                body: Body::Text,
                salt: 0,
                sent: 0,
                base: 0,
            },
            queue: [Queued {
                off: 0,
                len: 0,
                rexmit: false,
                held: false,
            }; 2],
            queued: 0,
            unacked: 0,
            dns_id: rng.next_u32() as u16,
            dns_port: 1024 + rng.below(60_000) as u16,
            resolver: SocketAddr::new(resolver, 53),
            session: [0; 32],
            tracker: ConnTracker::new(client, server, false),
            rng,
        }
    }

    /// Takes over the allocations of a finished flow.
    fn reuse(mut self, old: &mut Flow) -> Flow {
        std::mem::swap(&mut self.msg.prefix, &mut old.msg.prefix);
        self.msg.prefix.clear();
        let (c, s) = (self.ends[0].addr, self.ends[1].addr);
        std::mem::swap(&mut self.tracker, &mut old.tracker);
        self.tracker.reset(c, s);
        self
    }

    fn first_phase(&self) -> Phase {
        if self.ping_first {
            Phase::PingRequest
        } else if self.dns_first {
            Phase::DnsQuery
        } else {
            Phase::Syn
        }
    }

    /// Jittered small delay: `base` ns plus up to 50 %.
    fn jitter(&mut self, base: u64) -> u64 {
        base + self.rng.below(base / 2 + 1)
    }

    fn step(
        &mut self,
        now: Timestamp,
        sh: &mut Shared,
        cfg: &WorkloadConfig,
    ) -> Result<Step, Error> {
        let (c, s) = (Side::Client, Side::Server);
        match self.phase {
            Phase::Idle => Ok(Step::Silent(1_000)),
            Phase::PingRequest => {
                self.ping(sh, Echo::Request)?;
                self.phase = Phase::PingReply;
                Ok(Step::Frame(self.rtt))
            }
            Phase::PingReply => {
                self.ping(sh, Echo::Reply)?;
                self.phase = if self.dns_first {
                    Phase::DnsQuery
                } else {
                    Phase::Syn
                };
                let d = self.jitter(2_000_000);
                Ok(Step::Frame(d))
            }
            Phase::DnsQuery => {
                self.dns(sh, false)?;
                self.phase = Phase::DnsResponse;
                let d = self.jitter(1_000_000) + self.rng.below(20_000_000);
                Ok(Step::Frame(d))
            }
            Phase::DnsResponse => {
                self.dns(sh, true)?;
                self.phase = Phase::Syn;
                let d = self.jitter(200_000);
                Ok(Step::Frame(d))
            }
            Phase::Syn => {
                let isn = self.ends[0].nxt;
                self.tcp(now, sh, c, isn, TcpFlags::SYN, false, true)?;
                self.phase = if self.refused {
                    Phase::Refuse
                } else {
                    Phase::SynAck
                };
                Ok(Step::Frame(self.rtt))
            }
            Phase::Refuse => {
                self.tcp(now, sh, s, 0, TcpFlags::RST | TcpFlags::ACK, false, true)?;
                sh.stats.refused += 1;
                Ok(Step::Last)
            }
            Phase::SynAck => {
                let isn = self.ends[1].nxt;
                self.tcp(now, sh, s, isn, TcpFlags::SYN | TcpFlags::ACK, false, true)?;
                self.phase = Phase::HandshakeAck;
                let d = self.jitter(40_000);
                Ok(Step::Frame(d))
            }
            Phase::HandshakeAck => {
                let seq = self.ends[0].nxt;
                self.tcp(now, sh, c, seq, TcpFlags::ACK, false, true)?;
                self.msg_index = 0;
                self.start_message(now, sh, cfg);
                self.phase = Phase::Data;
                let d = self.jitter(150_000);
                Ok(Step::Frame(d))
            }
            Phase::Data => self.data_step(now, sh, cfg),
            Phase::Close(k) => self.close_step(now, sh, k),
        }
    }

    fn close_step(&mut self, now: Timestamp, sh: &mut Shared, k: u8) -> Result<Step, Error> {
        let fin_ack = TcpFlags::FIN | TcpFlags::ACK;
        match self.teardown {
            Teardown::Rst { by } => {
                let seq = self.ends[by.index()].nxt;
                self.tcp(now, sh, by, seq, TcpFlags::RST | TcpFlags::ACK, false, true)?;
                sh.stats.rst_teardowns += 1;
                Ok(Step::Last)
            }
            Teardown::Fin { closer } => {
                let (side, flags) = match k {
                    0 => (closer, fin_ack),
                    1 => (closer.peer(), fin_ack),
                    _ => (closer, TcpFlags::ACK),
                };
                let seq = self.ends[side.index()].nxt;
                self.tcp(now, sh, side, seq, flags, false, true)?;
                if k >= 2 {
                    return Ok(Step::Last);
                }
                self.phase = Phase::Close(k + 1);
                // The far side answers a round trip later; the client within microseconds.
                let d = if side == Side::Client {
                    self.rtt
                } else {
                    self.jitter(60_000)
                };
                Ok(Step::Frame(d))
            }
        }
    }

    fn data_step(
        &mut self,
        now: Timestamp,
        sh: &mut Shared,
        cfg: &WorkloadConfig,
    ) -> Result<Step, Error> {
        let tx = self.msg.dir;
        let rx = tx.peer();
        // a. the receiver ACKs every second segment (duplicate ACKs while a segment is
        //    missing). The sender retransmits a lost segment only when its timer fires
        //    (step c), never as a fast retransmission: dissectors such as
        //    Wireshark's feed fast retransmissions into PDUs they may have completed from
        //    the captured original, and report that as a reassembly error.
        if self.unacked >= 2 {
            self.pure_ack(now, sh, rx)?;
            self.unacked = 0;
            let d = self.jitter(30_000);
            return Ok(Step::Frame(d));
        }
        // b. a queued segment that may go now
        if let Some(i) = (0..self.queued).find(|&i| !self.queue[i].held) {
            let q = self.queue[i];
            self.queue[i] = self.queue[self.queued - 1];
            self.queued -= 1;
            self.data_segment(now, sh, q.off, q.len, true)?;
            if q.rexmit {
                sh.stats.rexmit_segments += 1;
            }
            self.unacked += 1;
            let d = self.gap(q.len);
            return Ok(Step::Frame(d));
        }
        // c. a lost segment holds the sender back once a window of data is outstanding
        //    beyond it, or at the end of the message: a (duplicate) ACK, then the
        //    retransmission when the sender's timer fires (Linux's minimum RTO is 200 ms)
        let total = self.msg.total();
        let stalled = self.queue[..self.queued]
            .iter()
            .any(|q| q.held && (self.msg.sent >= total || self.msg.sent - q.off >= STALL_WINDOW));
        if stalled {
            self.pure_ack(now, sh, rx)?;
            self.unacked = 0;
            self.release_held();
            let rto = (2 * self.rtt).max(200_000_000);
            return Ok(Step::Frame(self.jitter(rto)));
        }
        // d. new data
        if self.msg.sent < total {
            let off = self.msg.sent;
            let len = (total - off).min(u64::from(self.mss)) as u32;
            let after = off + u64::from(len);
            if after < total && self.queued == 0 && self.rng.chance(cfg.reorder_rate) {
                let len2 = (total - after).min(u64::from(self.mss)) as u32;
                self.data_segment(now, sh, after, len2, true)?;
                self.queue[0] = Queued {
                    off,
                    len,
                    rexmit: false,
                    held: false,
                };
                self.queued = 1;
                self.msg.sent = after + u64::from(len2);
                sh.stats.reordered_segments += 1;
                self.unacked += 1;
                let d = self.gap(len2);
                return Ok(Step::Frame(d));
            }
            let lost = self.queued < self.queue.len() && self.rng.chance(cfg.rexmit_rate);
            self.data_segment(now, sh, off, len, !lost)?;
            if lost {
                self.queue[self.queued] = Queued {
                    off,
                    len,
                    rexmit: true,
                    held: true,
                };
                self.queued += 1;
            }
            self.msg.sent = after;
            self.unacked += 1;
            let d = self.gap(len);
            return Ok(Step::Frame(d));
        }
        // e. message complete: a last ACK unless the receiver answers with data within the
        //    delayed-ACK time (40 ms), which then carries the acknowledgment
        let next_dir = self.message_dir(self.msg_index + 1);
        let owed = self.unacked > 0;
        self.unacked = 0;
        let prev = tx;
        self.msg_index += 1;
        let more = self.start_message(now, sh, cfg);
        let delay = if !more {
            self.phase = Phase::Close(0);
            match self.teardown {
                Teardown::Fin {
                    closer: Side::Client,
                }
                | Teardown::Rst { by: Side::Client } => self.rng.below(self.rtt + 50_000_000),
                _ => self.rtt + self.rng.below(100_000_000),
            }
        } else if self.msg.dir == prev {
            self.jitter(100_000)
        } else if prev == Side::Client {
            // the request travels to the server, which works on it
            self.rtt + self.rng.exp(2_000_000.0) as u64
        } else if self.is_request_after_response() {
            let mean = cfg.think_mean.as_nanos() as f64;
            (self.rng.exp(mean) as u64).min(10_000_000_000)
        } else {
            self.jitter(1_000_000)
        };
        if owed && (next_dir != Some(rx) || delay > 40_000_000) {
            self.pure_ack(now, sh, rx)?;
            Ok(Step::Frame(delay))
        } else {
            Ok(Step::Silent(delay))
        }
    }

    fn release_held(&mut self) {
        for q in &mut self.queue[..self.queued] {
            q.held = false;
        }
    }

    /// Serialisation time of a segment at the connection's bottleneck.
    fn gap(&mut self, len: u32) -> u64 {
        (u64::from(len) + 54) * self.ns_per_byte + self.rng.below(5_000)
    }

    fn is_request_after_response(&self) -> bool {
        match self.kind {
            Kind::Http | Kind::BulkDown | Kind::BulkUp => self.msg_index >= 2,
            Kind::Tls13 | Kind::Tls12 => self.msg_index >= 5,
        }
    }

    /// Direction of message `m`, or `None` past the last.
    fn message_dir(&self, m: u32) -> Option<Side> {
        let alternate = |k: u32| {
            if k % 2 == 0 {
                Side::Client
            } else {
                Side::Server
            }
        };
        match self.kind {
            Kind::Http | Kind::BulkDown | Kind::BulkUp => {
                (m < 2 * self.exchanges).then(|| alternate(m))
            }
            Kind::Tls13 | Kind::Tls12 => match m {
                0 | 2 => Some(Side::Client),
                1 => Some(Side::Server),
                _ => (m - 3 < 2 * self.exchanges).then(|| alternate(m - 3)),
            },
        }
    }

    /// Sets up message `msg_index`; false when the conversation is over.
    fn start_message(&mut self, now: Timestamp, sh: &mut Shared, cfg: &WorkloadConfig) -> bool {
        let Some(dir) = self.message_dir(self.msg_index) else {
            return false;
        };
        let m = self.msg_index;
        self.msg.dir = dir;
        self.msg.prefix.clear();
        self.msg.body_len = 0;
        self.msg.body = Body::Binary;
        self.msg.salt = self.rng.index(PATTERN);
        self.msg.sent = 0;
        self.msg.base = self.ends[dir.index()].nxt;
        match self.kind {
            Kind::Http | Kind::BulkDown | Kind::BulkUp => {
                if dir == Side::Client {
                    self.http_request(sh, cfg);
                } else {
                    self.http_response(now, cfg);
                }
            }
            Kind::Tls13 | Kind::Tls12 => match m {
                0 => self.client_hello(sh),
                1 => self.server_flight(),
                2 => self.client_finished(),
                _ => {
                    self.msg.body = Body::TlsRecords;
                    self.msg.body_len = if dir == Side::Client {
                        self.rng.range(80, 700)
                    } else {
                        self.response_size(cfg) + 30
                    };
                    self.msg.body_len = tls_len(self.msg.body_len);
                }
            },
        }
        true
    }

    fn response_size(&mut self, cfg: &WorkloadConfig) -> u64 {
        let x = self.rng.pareto(cfg.response_min, cfg.response_alpha);
        (x as u64).min(cfg.response_max)
    }

    fn http_request(&mut self, sh: &mut Shared, cfg: &WorkloadConfig) {
        let mut uri = std::mem::take(&mut sh.scratch);
        uri.clear();
        let ua = USER_AGENTS[(self.id % USER_AGENTS.len() as u64) as usize];
        let (method, body_len) = match self.kind {
            Kind::BulkUp => {
                uri.extend_from_slice(b"/upload/");
                http::push_decimal(&mut uri, self.rng.below(1_000_000));
                ("POST", self.bulk_size(cfg))
            }
            Kind::BulkDown => {
                uri.extend_from_slice(b"/downloads/file-");
                http::push_decimal(&mut uri, self.rng.below(100_000));
                uri.extend_from_slice(b".bin");
                ("GET", 0)
            }
            _ if self.rng.chance(0.06) => {
                uri.extend_from_slice(b"/api/v1/events");
                ("POST", self.rng.range(20, 400))
            }
            _ => {
                self.push_uri(&mut uri);
                ("GET", 0)
            }
        };
        let uri_str = std::str::from_utf8(&uri).unwrap_or("/");
        let content_type = if self.kind == Kind::BulkUp {
            "application/octet-stream"
        } else {
            "application/x-www-form-urlencoded"
        };
        http::write_request(
            &mut self.msg.prefix,
            &Request {
                method,
                host: self.host,
                uri: uri_str,
                user_agent: ua,
                content_type,
                body_len,
            },
        );
        if sh.truth_lines {
            self.tracker.add_http_request(HttpRequest {
                method: method.to_string(),
                host: self.host.to_string(),
                uri: uri_str.to_string(),
            });
        }
        sh.stats.http_requests += 1;
        sh.scratch = uri;
        self.msg.body_len = body_len;
        self.msg.body = if self.kind == Kind::BulkUp {
            Body::Binary
        } else {
            Body::Text
        };
    }

    fn push_uri(&mut self, uri: &mut Vec<u8>) {
        let n = self.rng.below(100_000);
        match self.rng.below(10) {
            0 => uri.extend_from_slice(b"/"),
            1 => uri.extend_from_slice(b"/index.html"),
            2 => {
                uri.extend_from_slice(b"/static/js/app.");
                push_hex(uri, self.rng.next_u32());
                uri.extend_from_slice(b".js");
            }
            3 => {
                uri.extend_from_slice(b"/static/css/site.");
                push_hex(uri, self.rng.next_u32());
                uri.extend_from_slice(b".css");
            }
            4 | 5 => {
                uri.extend_from_slice(b"/images/");
                http::push_decimal(uri, n);
                uri.extend_from_slice(b".webp");
            }
            6 => {
                uri.extend_from_slice(b"/api/v1/items/");
                http::push_decimal(uri, n);
            }
            7 => {
                uri.extend_from_slice(b"/search?q=");
                uri.extend_from_slice(WORDS[self.rng.index(WORDS.len())].as_bytes());
                uri.push(b'+');
                uri.extend_from_slice(WORDS[self.rng.index(WORDS.len())].as_bytes());
            }
            8 => {
                uri.extend_from_slice(b"/news/2023/");
                uri.extend_from_slice(WORDS[self.rng.index(WORDS.len())].as_bytes());
                uri.push(b'-');
                http::push_decimal(uri, n);
                uri.extend_from_slice(b".html");
            }
            _ => uri.extend_from_slice(b"/favicon.ico"),
        }
    }

    fn bulk_size(&mut self, cfg: &WorkloadConfig) -> u64 {
        self.rng
            .log_uniform(cfg.bulk_min as f64, cfg.bulk_max as f64 + 1.0) as u64
    }

    fn http_response(&mut self, now: Timestamp, cfg: &WorkloadConfig) {
        let server = SERVERS[(self.id as usize / 7) % SERVERS.len()];
        let (status, content_type, body_len, body) = match self.kind {
            Kind::BulkDown => (
                200,
                "application/octet-stream",
                self.bulk_size(cfg),
                Body::Binary,
            ),
            Kind::BulkUp => (201, "text/plain", self.rng.range(2, 60), Body::Text),
            _ => {
                let roll = self.rng.below(100);
                if roll < 5 {
                    (304, "text/html", 0, Body::Text)
                } else if roll < 7 {
                    (404, "text/html", self.rng.range(150, 600), Body::Text)
                } else if roll < 8 {
                    (301, "text/html", self.rng.range(150, 300), Body::Text)
                } else {
                    let size = self.response_size(cfg);
                    if self.rng.chance(0.4) {
                        (200, "application/octet-stream", size, Body::Binary)
                    } else {
                        (200, "text/html; charset=utf-8", size, Body::Text)
                    }
                }
            }
        };
        http::write_response(
            &mut self.msg.prefix,
            &Response {
                status,
                content_type,
                body_len,
                date: now,
                server,
            },
        );
        self.msg.body_len = body_len;
        self.msg.body = body;
    }

    fn client_hello(&mut self, sh: &mut Shared) {
        let mut random = [0u8; 32];
        let mut session = [0u8; 32];
        let mut key = [0u8; 32];
        self.rng.fill(&mut random);
        self.rng.fill(&mut session);
        self.rng.fill(&mut key);
        let version = if self.kind == Kind::Tls13 {
            TlsVersion::Tls13
        } else {
            TlsVersion::Tls12
        };
        // A host from the table always fits; if it did not, the hello goes without SNI.
        let hello = |sni| ClientHello {
            version,
            sni,
            random,
            session_id: &session,
            key_share: key,
            alpn: &["h2", "http/1.1"],
        };
        if tls::write_client_hello(&mut self.msg.prefix, &hello(self.host)).is_err() {
            self.msg.prefix.clear();
            let _ = tls::write_client_hello(&mut self.msg.prefix, &hello(""));
        } else if sh.truth_lines {
            self.tracker.add_tls_sni(self.host.to_string());
        }
        self.session = session;
    }

    fn server_flight(&mut self) {
        let mut random = [0u8; 32];
        let mut key = [0u8; 32];
        self.rng.fill(&mut random);
        self.rng.fill(&mut key);
        let tls13 = self.kind == Kind::Tls13;
        let session = self.session;
        tls::write_server_hello(
            &mut self.msg.prefix,
            &ServerHello {
                version: if tls13 {
                    TlsVersion::Tls13
                } else {
                    TlsVersion::Tls12
                },
                random,
                session_id: &session,
                cipher: if tls13 { 0x1301 } else { 0xc02f },
                key_share: key,
            },
        );
        tls::write_change_cipher_spec(&mut self.msg.prefix);
        if tls13 {
            // EncryptedExtensions, Certificate, CertificateVerify, Finished: opaque records.
            self.msg.body = Body::TlsRecords;
            self.msg.body_len = tls_len(self.rng.range(2_500, 5_000));
        } else {
            // Abbreviated (resumed) handshake: the server's encrypted Finished.
            let mut fin = [0u8; 40];
            self.rng.fill(&mut fin);
            tls::write_opaque_record(&mut self.msg.prefix, tls::HANDSHAKE, &fin);
        }
    }

    fn client_finished(&mut self) {
        tls::write_change_cipher_spec(&mut self.msg.prefix);
        let mut fin = [0u8; 53];
        self.rng.fill(&mut fin);
        if self.kind == Kind::Tls13 {
            tls::write_opaque_record(&mut self.msg.prefix, tls::APPLICATION_DATA, &fin);
        } else {
            tls::write_opaque_record(&mut self.msg.prefix, tls::HANDSHAKE, &fin[..40]);
        }
    }

    /// Puts bytes `off..off + len` of the current message into `sh.payload`.
    fn fill(&self, sh: &mut Shared, off: u64, len: u32) {
        let out = &mut sh.payload;
        out.clear();
        let m = &self.msg;
        let plen = m.prefix.len() as u64;
        let end = off + u64::from(len);
        if off < plen {
            if let Some(p) = m.prefix.get(off as usize..end.min(plen) as usize) {
                out.extend_from_slice(p);
            }
        }
        if end <= plen {
            return;
        }
        let (b0, b1) = (off.max(plen) - plen, end - plen);
        match m.body {
            Body::Text => copy_pattern(out, &sh.text, m.salt, b0, b1),
            Body::Binary => copy_pattern(out, &sh.binary, m.salt, b0, b1),
            Body::TlsRecords => {
                let mut i = b0;
                while i < b1 {
                    let rec = i / TLS_RECORD;
                    let start = rec * TLS_RECORD;
                    let within = i - start;
                    let rec_end = (start + TLS_RECORD).min(m.body_len);
                    if within < 5 {
                        let body = (rec_end - start).saturating_sub(5) as u16;
                        let [hi, lo] = body.to_be_bytes();
                        let header = [tls::APPLICATION_DATA, 3, 3, hi, lo];
                        out.push(header[within as usize]);
                        i += 1;
                    } else {
                        let stop = rec_end.min(b1);
                        copy_pattern(out, &sh.binary, m.salt, i, stop);
                        i = stop;
                    }
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)] // the fields of a segment
    fn tcp(
        &mut self,
        now: Timestamp,
        sh: &mut Shared,
        from: Side,
        seq: u32,
        flags: TcpFlags,
        with_payload: bool,
        deliver: bool,
    ) -> Result<(), Error> {
        let Shared {
            frame,
            payload,
            counter,
            stats,
            ..
        } = sh;
        let payload: &[u8] = if with_payload { payload } else { &[] };
        let (me, peer) = (self.ends[from.index()], self.ends[from.peer().index()]);
        let syn = flags.contains(TcpFlags::SYN);
        let seg = TcpSegment {
            src: me.addr,
            dst: peer.addr,
            seq,
            ack: if flags.contains(TcpFlags::ACK) {
                me.rcv.nxt
            } else {
                0
            },
            flags,
            window: if syn { 64_240 } else { me.window },
            urgent: 0,
            options: SynOptions {
                mss: Some(self.mss as u16),
                ..SynOptions::LINUX
            },
            payload,
        };
        let link = Link {
            src: me.mac,
            dst: peer.mac,
            vlan: None,
            pad: true,
        };
        let ip = IpFields {
            ttl: me.ttl,
            ident: me.ip_id,
            dont_fragment: true,
            flow_label: self.flow_label,
        };
        packet::tcp_frame(frame, &link, &ip, &seg)?;
        let len = payload.len() as u32 + u32::from(syn) + u32::from(flags.contains(TcpFlags::FIN));
        let end = seq.wrapping_add(len);
        let me = &mut self.ends[from.index()];
        me.ip_id = me.ip_id.wrapping_add(1);
        if !seq_le(end, me.nxt) {
            me.nxt = end;
        }
        let peer = &mut self.ends[from.peer().index()];
        if syn {
            peer.rcv = Rcv {
                nxt: end,
                ..Rcv::default()
            };
        } else if deliver && len > 0 {
            peer.rcv.deliver(seq, end);
        }
        self.tracker.on_packet(now, from, seq, flags, payload);
        counter.frame(FrameKind::Tcp);
        if !payload.is_empty() {
            stats.data_segments += 1;
        }
        Ok(())
    }

    fn pure_ack(&mut self, now: Timestamp, sh: &mut Shared, from: Side) -> Result<(), Error> {
        let seq = self.ends[from.index()].nxt;
        self.tcp(now, sh, from, seq, TcpFlags::ACK, false, true)
    }

    fn data_segment(
        &mut self,
        now: Timestamp,
        sh: &mut Shared,
        off: u64,
        len: u32,
        deliver: bool,
    ) -> Result<(), Error> {
        self.fill(sh, off, len);
        let seq = self.msg.base.wrapping_add(off as u32);
        let last = off + u64::from(len) == self.msg.total();
        let flags = if last {
            TcpFlags::ACK | TcpFlags::PSH
        } else {
            TcpFlags::ACK
        };
        self.tcp(now, sh, self.msg.dir, seq, flags, true, deliver)
    }

    fn client_link(&self, remote_mac: [u8; 6]) -> Link {
        Link {
            src: self.ends[0].mac,
            dst: remote_mac,
            vlan: None,
            pad: true,
        }
    }

    fn ping(&mut self, sh: &mut Shared, kind: Echo) -> Result<(), Error> {
        // Linux ping: 8 bytes of send time, then 0x10, 0x11, ...
        let mut body = [0u8; 56];
        body[..8].copy_from_slice(&self.id.to_le_bytes());
        for (i, b) in body.iter_mut().enumerate().skip(8) {
            *b = i as u8 + 8;
        }
        let (c, s) = (self.ends[0].addr.ip(), self.ends[1].addr.ip());
        let (link, src, dst, ttl) = match kind {
            Echo::Request => (self.client_link(GATEWAY_MAC), c, s, 64),
            Echo::Reply => (self.client_link(GATEWAY_MAC).reversed(), s, c, 54),
        };
        let ip = IpFields {
            ttl,
            ident: self.dns_id,
            ..IpFields::default()
        };
        packet::icmp_echo_frame(
            &mut sh.frame,
            &link,
            &ip,
            src,
            dst,
            kind,
            self.dns_id,
            1,
            &body,
        )?;
        sh.counter.frame(FrameKind::Icmp);
        Ok(())
    }

    fn dns(&mut self, sh: &mut Shared, response: bool) -> Result<(), Error> {
        let client = SocketAddr::new(self.ends[0].addr.ip(), self.dns_port);
        let server_ip = self.ends[1].addr.ip();
        let qtype = if server_ip.is_ipv6() {
            dns::TYPE_AAAA
        } else {
            dns::TYPE_A
        };
        let link = self.client_link(packet::mac_for_ip(self.resolver.ip()));
        let ip = IpFields {
            ident: self.dns_id.wrapping_add(u16::from(response)),
            ..IpFields::default()
        };
        if response {
            dns::write_response(
                &mut sh.payload,
                self.dns_id,
                self.host,
                qtype,
                &[server_ip],
                300,
            )?;
            packet::udp_frame(
                &mut sh.frame,
                &link.reversed(),
                &ip,
                self.resolver,
                client,
                &sh.payload,
            )?;
        } else {
            dns::write_query(&mut sh.payload, self.dns_id, self.host, qtype)?;
            packet::udp_frame(
                &mut sh.frame,
                &link,
                &ip,
                client,
                self.resolver,
                &sh.payload,
            )?;
            sh.stats.dns_queries += 1;
        }
        sh.counter.frame(FrameKind::Udp);
        Ok(())
    }

    /// Books the ended connection.
    fn finish(&mut self, sh: &mut Shared) {
        sh.counter.add_connection(&self.tracker);
        if sh.truth_lines {
            if let Some(line) = self.tracker.truth(sh.precision) {
                sh.finished.push(line);
            }
        }
        match self.kind {
            Kind::BulkDown | Kind::BulkUp => sh.stats.bulk_flows += 1,
            Kind::Tls13 | Kind::Tls12 => sh.stats.tls_flows += 1,
            Kind::Http => {}
        }
    }
}

/// Appends pattern bytes for body offsets `from..to`, starting the pattern at `salt`.
fn copy_pattern(out: &mut Vec<u8>, pat: &[u8], salt: usize, from: u64, to: u64) {
    let n = pat.len().max(1) as u64;
    let mut i = from;
    while i < to {
        let p = ((salt as u64 + i) % n) as usize;
        let take = ((to - i) as usize).min(pat.len() - p);
        if let Some(chunk) = pat.get(p..p + take) {
            out.extend_from_slice(chunk);
        } else {
            return;
        }
        i += take as u64;
    }
}

/// Smallest TLS body length at or above `len` that splits into records with non-empty bodies.
fn tls_len(len: u64) -> u64 {
    let len = len.max(6);
    let r = len % TLS_RECORD;
    if r > 0 && r <= 5 { len + 6 - r } else { len }
}

fn push_hex(out: &mut Vec<u8>, v: u32) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for i in (0..8).rev() {
        out.push(HEX[((v >> (i * 4)) & 0xf) as usize]);
    }
}

/// A geometric count with the given mean, at least 1 and at most 1000.
fn geometric(rng: &mut Rng, mean: f64) -> u32 {
    if mean <= 1.0 {
        return 1;
    }
    let p = 1.0 / mean;
    let u = 1.0 - rng.unit(); // (0, 1]
    let k = (u.ln() / (1.0 - p).ln()).floor();
    (1.0 + k).clamp(1.0, 1000.0) as u32
}

#[cfg(test)]
mod tests;
