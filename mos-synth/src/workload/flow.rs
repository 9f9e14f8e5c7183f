//! One connection of a workload: a state machine that emits one packet per step.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use super::WorkloadStats;
use super::config::{CLIENTS, PORTS, WorkloadConfig};
use crate::dns;
use crate::http::{self, Request, Response};
use crate::packet::{self, Echo, GATEWAY_MAC, IpFields, Link, SynOptions, TcpFlags, TcpSegment};
use crate::pcap::{Precision, Timestamp};
use crate::rng::{Rng, splitmix64};
use crate::tls::{self, ClientHello, ServerHello, TlsVersion};
use crate::truth::{ConnTracker, ConnTruth, FrameKind, HttpRequest, SummaryCounter};
use crate::{Error, Side};

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
pub(super) const TLS_RECORD: u64 = 5 + TLS_RECORD_BODY;

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
pub(super) enum Phase {
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
pub(super) struct Rcv {
    pub(super) nxt: u32,
    pub(super) ooo: [(u32, u32); 4],
    pub(super) n: usize,
}

fn seq_le(a: u32, b: u32) -> bool {
    (b.wrapping_sub(a) as i32) >= 0
}

impl Rcv {
    pub(super) fn deliver(&mut self, seq: u32, end: u32) {
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
pub(super) struct Shared {
    pub(super) frame: Vec<u8>,
    pub(super) payload: Vec<u8>,
    pub(super) scratch: Vec<u8>,
    pub(super) text: Vec<u8>,
    pub(super) binary: Vec<u8>,
    pub(super) counter: SummaryCounter,
    pub(super) stats: WorkloadStats,
    pub(super) precision: Precision,
    pub(super) truth_lines: bool,
    pub(super) finished: Vec<ConnTruth>,
}

impl Shared {
    /// Buffers and pattern blocks (random bytes and text) drawn from `rng`.
    pub(super) fn new(rng: &mut Rng, precision: Precision) -> Shared {
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
        Shared {
            frame: Vec::with_capacity(1600),
            payload: Vec::with_capacity(1600),
            scratch: Vec::with_capacity(1600),
            text,
            binary,
            counter: SummaryCounter::default(),
            stats: WorkloadStats::default(),
            precision,
            truth_lines: false,
            finished: Vec::new(),
        }
    }
}

/// One slot's connection.
#[derive(Debug)]
pub(super) struct Flow {
    id: u64,
    pub(super) rng: Rng,
    kind: Kind,
    refused: bool,
    teardown: Teardown,
    dns_first: bool,
    ping_first: bool,
    pub(super) phase: Phase,
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
    reorder_due: bool,
    unacked: u32,
    dns_id: u16,
    dns_port: u16,
    resolver: SocketAddr,
    session: [u8; 32],
    tracker: ConnTracker,
}

/// What a step did.
pub(super) enum Step {
    /// A frame is in the buffer; the next step comes after this many ns.
    Frame(u64),
    /// No frame; the next step comes after this many ns.
    Silent(u64),
    /// A frame is in the buffer and the connection is over.
    Last,
}

impl Flow {
    pub(super) fn new(id: u64, cfg: &WorkloadConfig) -> Flow {
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
            reorder_due: false,
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
    pub(super) fn reuse(mut self, old: &mut Flow) -> Flow {
        std::mem::swap(&mut self.msg.prefix, &mut old.msg.prefix);
        self.msg.prefix.clear();
        let (c, s) = (self.ends[0].addr, self.ends[1].addr);
        std::mem::swap(&mut self.tracker, &mut old.tracker);
        self.tracker.reset(c, s);
        self
    }

    pub(super) fn first_phase(&self) -> Phase {
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

    pub(super) fn step(
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
            // A segment drawn for reordering that cannot be swapped passes the draw on to the
            // next one that can, so the configured share holds even with many one-segment
            // messages. The first segment of a message is never the one held back: a
            // dissector that does not reassemble out of order (Wireshark's default) would
            // parse the second segment as the start of a message and call it malformed.
            self.reorder_due |= self.rng.chance(cfg.reorder_rate);
            if off > 0 && after < total && self.queued == 0 && self.reorder_due {
                self.reorder_due = false;
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
    pub(super) fn finish(&mut self, sh: &mut Shared) {
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
pub(super) fn tls_len(len: u64) -> u64 {
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
