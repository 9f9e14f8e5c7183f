//! Ground truth: what a correct monitor must report for a generated capture, in the shape of
//! `flowdump --json` (SPEC §5), so tests compare the two field by field.
//!
//! The truth is *observed*, not planned: a [`ConnTracker`] is shown every TCP packet of one
//! connection exactly as it goes into the capture and derives the counters from the packets
//! themselves. So a hand-made conversation that retransmits, reorders or skips bytes gets the
//! right numbers without the script author counting anything.
//!
//! Definitions (per direction; "client" is the side that sent the SYN):
//! - a connection exists from a captured pure SYN on; TCP packets of a 5-tuple before its SYN
//!   (or without one) are orphans and give no line;
//! - `pkts_*`: every TCP packet of the connection in that direction from the SYN on, pure
//!   ACKs, FINs and RSTs included;
//! - `bytes_*`: distinct payload bytes captured (the union of the segments' sequence ranges, so
//!   a retransmission counts once);
//! - `rexmit_*`: data segments that overlap bytes already captured in that direction;
//! - `missed_*`: bytes of holes below the highest captured byte (payload never captured, that
//!   a reassembler has to skip);
//! - `end_reason`: `rst` or `fin` by whichever came first (both FINs), otherwise `trace_end`
//!   (a monitor with an idle timeout reports `timeout` instead: compare `last` with the end of
//!   the trace);
//! - `http_requests` and `tls_sni`: the requests and ClientHello server names in the client's
//!   in-order stream.

use std::io::Write;
use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

use crate::http::RequestScanner;
use crate::packet::TcpFlags;
use crate::pcap::{Precision, Timestamp};
use crate::tls::SniScanner;
use crate::{Error, Side};

/// One HTTP request as `flowdump` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct HttpRequest {
    /// Request method.
    pub method: String,
    /// `Host` header (empty when absent).
    pub host: String,
    /// Request target.
    pub uri: String,
}

/// One connection line (field names and order of `flowdump --json`, plus `last`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnTruth {
    /// Client `ip:port` (IPv6 as `[addr]:port`).
    pub client: String,
    /// Server `ip:port`.
    pub server: String,
    /// Timestamp of the SYN, seconds since the epoch.
    pub start: f64,
    /// `fin`, `rst` or `trace_end`.
    pub end_reason: String,
    /// The client's SYN was captured (always true for a line).
    pub syn: bool,
    /// The server's SYN-ACK was captured.
    pub synack: bool,
    /// The client sent a FIN.
    pub fin_client: bool,
    /// The server sent a FIN.
    pub fin_server: bool,
    /// Either side sent a RST.
    pub rst: bool,
    /// Packets client → server.
    pub pkts_client: u64,
    /// Packets server → client.
    pub pkts_server: u64,
    /// Distinct payload bytes client → server.
    pub bytes_client: u64,
    /// Distinct payload bytes server → client.
    pub bytes_server: u64,
    /// Retransmitted data segments client → server.
    pub rexmit_client: u64,
    /// Retransmitted data segments server → client.
    pub rexmit_server: u64,
    /// Uncaptured bytes in holes client → server.
    pub missed_client: u64,
    /// Uncaptured bytes in holes server → client.
    pub missed_server: u64,
    /// HTTP requests the client sent, in order.
    pub http_requests: Vec<HttpRequest>,
    /// Server names of the client's TLS ClientHellos.
    pub tls_sni: Vec<String>,
    /// Timestamp of the connection's last packet (not a `flowdump` field).
    pub last: f64,
}

/// The summary line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Summary {
    /// Frames in the capture.
    pub packets: u64,
    /// Connection lines.
    pub connections: u64,
    /// Packets outside any connection: non-TCP, and TCP without a captured SYN.
    pub orphans: u64,
    /// Malformed packets (a generator never makes any by accident; raw frames count here only
    /// when the script says so).
    pub errors: u64,
    /// TCP frames.
    pub tcp_packets: u64,
    /// UDP frames.
    pub udp_packets: u64,
    /// ICMP and ICMPv6 frames.
    pub icmp_packets: u64,
    /// Everything else (ARP, raw frames).
    pub other_packets: u64,
}

#[derive(Serialize, Deserialize)]
struct SummaryLine {
    summary: Summary,
}

/// All the lines of one capture.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Truth {
    /// One entry per connection, in the order connections ended (end of trace last).
    pub connections: Vec<ConnTruth>,
    /// The summary.
    pub summary: Summary,
}

impl Truth {
    /// Writes one JSON object per line: the connections, then `{"summary":{...}}`.
    pub fn write_json_lines<W: Write>(&self, mut out: W) -> Result<(), Error> {
        for c in &self.connections {
            write_line(&mut out, c)?;
        }
        write_summary(&mut out, &self.summary)?;
        Ok(())
    }

    /// The JSON lines as a string.
    pub fn to_json_lines(&self) -> String {
        let mut out = Vec::new();
        // Writing to a Vec cannot fail and the types always serialise.
        let _ = self.write_json_lines(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    /// Reads back what [`Truth::write_json_lines`] wrote. `start` and `last` may come back
    /// one bit off (serde_json's float parsing is fast, not exact): compare times with a
    /// tolerance.
    pub fn parse_json_lines(text: &str) -> Result<Truth, Error> {
        let mut truth = Truth::default();
        let mut summary = None;
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            if line.trim_start().starts_with("{\"summary\"") {
                let s: SummaryLine = serde_json::from_str(line)
                    .map_err(|e| Error::Config(format!("truth line {}: {e}", i + 1)))?;
                summary = Some(s.summary);
            } else {
                let c: ConnTruth = serde_json::from_str(line)
                    .map_err(|e| Error::Config(format!("truth line {}: {e}", i + 1)))?;
                truth.connections.push(c);
            }
        }
        truth.summary = summary.ok_or_else(|| Error::Config("truth has no summary line".into()))?;
        Ok(truth)
    }
}

/// Writes one connection line.
pub fn write_line<W: Write>(out: &mut W, c: &ConnTruth) -> Result<(), Error> {
    serde_json::to_writer(&mut *out, c)?;
    out.write_all(b"\n")?;
    Ok(())
}

/// Writes the summary line.
pub fn write_summary<W: Write>(out: &mut W, s: &Summary) -> Result<(), Error> {
    serde_json::to_writer(&mut *out, &SummaryLine { summary: *s })?;
    out.write_all(b"\n")?;
    Ok(())
}

/// Sorted, disjoint half-open ranges of stream offsets.
#[derive(Debug, Clone, Default)]
struct RangeSet {
    ranges: Vec<(i64, i64)>,
}

impl RangeSet {
    fn overlaps(&self, lo: i64, hi: i64) -> bool {
        self.ranges.iter().any(|&(a, b)| a < hi && lo < b)
    }

    fn insert(&mut self, lo: i64, hi: i64) {
        if lo >= hi {
            return;
        }
        // Common case first: appending at or after the end.
        if let Some(last) = self.ranges.last_mut() {
            if lo >= last.0 && lo <= last.1 {
                last.1 = last.1.max(hi);
                return;
            }
        }
        let (mut lo, mut hi) = (lo, hi);
        self.ranges.retain(|&(a, b)| {
            if a <= hi && lo <= b {
                lo = lo.min(a);
                hi = hi.max(b);
                false
            } else {
                true
            }
        });
        let at = self.ranges.partition_point(|&(a, _)| a < lo);
        self.ranges.insert(at, (lo, hi));
    }

    fn covered(&self) -> u64 {
        self.ranges.iter().map(|&(a, b)| (b - a) as u64).sum()
    }

    /// Bytes in the holes between `origin` (when known) or the first range, and the last range.
    fn holes(&self, origin: Option<i64>) -> u64 {
        let (Some(first), Some(last)) = (self.ranges.first(), self.ranges.last()) else {
            return 0;
        };
        let from = origin.map_or(first.0, |o| o.min(first.0));
        (last.1 - from) as u64 - self.covered()
    }
}

#[derive(Debug, Clone, Default)]
struct Direction {
    /// Sequence number of the first payload byte (ISN + 1), once known.
    base: Option<u32>,
    /// Whether `base` came from a SYN (so a hole at the start is a hole).
    base_from_syn: bool,
    pkts: u64,
    seen: RangeSet,
    rexmit: u64,
    fin: bool,
}

impl Direction {
    fn offset(&mut self, seq: u32) -> i64 {
        let base = *self.base.get_or_insert(seq);
        i64::from(seq.wrapping_sub(base) as i32)
    }
}

/// The client's in-order stream, kept only to find requests and SNIs in it.
#[derive(Debug, Default)]
struct StreamParse {
    data: Vec<u8>,
    pending: Vec<(i64, Vec<u8>)>,
    http: RequestScanner,
    tls: SniScanner,
}

/// Client bytes kept per connection for request/SNI scanning; past this the scan stops.
const MAX_PARSED_STREAM: usize = 1 << 20;
/// Out-of-order client segments held for scanning.
const MAX_PENDING: usize = 64;

impl StreamParse {
    fn add(&mut self, off: i64, payload: &[u8]) {
        if off < 0 || self.data.len() >= MAX_PARSED_STREAM {
            return;
        }
        let off = off as usize;
        if off > self.data.len() {
            if self.pending.len() < MAX_PENDING {
                self.pending.push((off as i64, payload.to_vec()));
            }
            return;
        }
        self.append(off, payload);
        loop {
            let len = self.data.len();
            let Some(i) = self
                .pending
                .iter()
                .position(|&(o, ref p)| o as usize <= len && o as usize + p.len() > len)
            else {
                break;
            };
            let (o, p) = self.pending.swap_remove(i);
            self.append(o as usize, &p);
        }
        self.pending
            .retain(|(o, p)| *o as usize + p.len() > self.data.len());
    }

    fn append(&mut self, off: usize, payload: &[u8]) {
        let have = self.data.len();
        if let Some(new) = payload.get(have.saturating_sub(off)..) {
            if off <= have {
                let room = MAX_PARSED_STREAM - have.min(MAX_PARSED_STREAM);
                self.data.extend_from_slice(new.get(..room).unwrap_or(new));
            }
        }
    }
}

/// Watches the packets of one TCP 5-tuple and derives its [`ConnTruth`].
#[derive(Debug)]
pub struct ConnTracker {
    client: SocketAddr,
    server: SocketAddr,
    syn: bool,
    synack: bool,
    rst: bool,
    end_reason: Option<&'static str>,
    ended: Option<Timestamp>,
    start: Timestamp,
    last: Timestamp,
    dirs: [Direction; 2],
    orphan_packets: u64,
    parse: Option<Box<StreamParse>>,
    http_requests: Vec<HttpRequest>,
    tls_sni: Vec<String>,
}

impl ConnTracker {
    /// A tracker for the connection `client` → `server`. With `scan_streams`, HTTP requests and
    /// TLS server names are found in the client's bytes; without, the generator reports them
    /// through [`ConnTracker::add_http_request`] and [`ConnTracker::add_tls_sni`].
    pub fn new(client: SocketAddr, server: SocketAddr, scan_streams: bool) -> ConnTracker {
        ConnTracker {
            client,
            server,
            syn: false,
            synack: false,
            rst: false,
            end_reason: None,
            ended: None,
            start: Timestamp::default(),
            last: Timestamp::default(),
            dirs: [Direction::default(), Direction::default()],
            orphan_packets: 0,
            parse: scan_streams.then(Box::default),
            http_requests: Vec::new(),
            tls_sni: Vec::new(),
        }
    }

    /// Forgets everything and starts over for a new 5-tuple, keeping allocations.
    pub fn reset(&mut self, client: SocketAddr, server: SocketAddr) {
        self.client = client;
        self.server = server;
        self.syn = false;
        self.synack = false;
        self.rst = false;
        self.end_reason = None;
        self.ended = None;
        self.start = Timestamp::default();
        self.last = Timestamp::default();
        for d in &mut self.dirs {
            d.base = None;
            d.base_from_syn = false;
            d.pkts = 0;
            d.seen.ranges.clear();
            d.rexmit = 0;
            d.fin = false;
        }
        self.orphan_packets = 0;
        if let Some(p) = &mut self.parse {
            **p = StreamParse::default();
        }
        self.http_requests.clear();
        self.tls_sni.clear();
    }

    /// Records one captured TCP packet sent by `from`.
    pub fn on_packet(
        &mut self,
        ts: Timestamp,
        from: Side,
        seq: u32,
        flags: TcpFlags,
        payload: &[u8],
    ) {
        let syn = flags.contains(TcpFlags::SYN);
        let ack = flags.contains(TcpFlags::ACK);
        if !self.syn {
            if from == Side::Client && syn && !ack {
                self.syn = true;
                self.start = ts;
            } else {
                self.orphan_packets += 1;
                return;
            }
        }
        self.last = ts;
        let d = &mut self.dirs[from.index()];
        d.pkts += 1;
        if syn {
            // A (re)transmitted SYN fixes the base; payload on a SYN is not tracked.
            d.base = Some(seq.wrapping_add(1));
            d.base_from_syn = true;
            if from == Side::Server && ack {
                self.synack = true;
            }
        } else if !payload.is_empty() {
            let off = d.offset(seq);
            let end = off + payload.len() as i64;
            if d.seen.overlaps(off, end) {
                d.rexmit += 1;
            }
            d.seen.insert(off, end);
            if from == Side::Client {
                if let Some(p) = &mut self.parse {
                    p.add(off, payload);
                    p.http.scan(&p.data, &mut self.http_requests);
                    p.tls.scan(&p.data, &mut self.tls_sni);
                }
            }
        }
        if flags.contains(TcpFlags::FIN) {
            d.fin = true;
        }
        if flags.contains(TcpFlags::RST) {
            self.rst = true;
            self.end("rst", ts);
        }
        if self.dirs[0].fin && self.dirs[1].fin {
            self.end("fin", ts);
        }
    }

    fn end(&mut self, reason: &'static str, ts: Timestamp) {
        if self.end_reason.is_none() {
            self.end_reason = Some(reason);
            self.ended = Some(ts);
        }
    }

    /// When the connection ended (first RST, or the second FIN), if it did.
    pub fn ended_at(&self) -> Option<Timestamp> {
        self.ended
    }

    /// Adds an HTTP request the generator sent (when streams are not scanned).
    pub fn add_http_request(&mut self, req: HttpRequest) {
        self.http_requests.push(req);
    }

    /// Adds a TLS server name the generator sent (when streams are not scanned).
    pub fn add_tls_sni(&mut self, name: String) {
        self.tls_sni.push(name);
    }

    /// True once the client's SYN was captured.
    pub fn is_connection(&self) -> bool {
        self.syn
    }

    /// TCP packets seen before any SYN (orphans).
    pub fn orphan_packets(&self) -> u64 {
        self.orphan_packets
    }

    /// The connection's line, or `None` when no SYN was captured. Timestamps are cut to what a
    /// reader of a capture with `precision` sees.
    pub fn truth(&self, precision: Precision) -> Option<ConnTruth> {
        if !self.syn {
            return None;
        }
        let [c, s] = &self.dirs;
        let missed = |d: &Direction| d.seen.holes(d.base_from_syn.then_some(0));
        Some(ConnTruth {
            client: self.client.to_string(),
            server: self.server.to_string(),
            start: self.start.truncate(precision).as_secs_f64(),
            end_reason: self.end_reason.unwrap_or("trace_end").to_string(),
            syn: true,
            synack: self.synack,
            fin_client: c.fin,
            fin_server: s.fin,
            rst: self.rst,
            pkts_client: c.pkts,
            pkts_server: s.pkts,
            bytes_client: c.seen.covered(),
            bytes_server: s.seen.covered(),
            rexmit_client: c.rexmit,
            rexmit_server: s.rexmit,
            missed_client: missed(c),
            missed_server: missed(s),
            http_requests: self.http_requests.clone(),
            tls_sni: self.tls_sni.clone(),
            last: self.last.truncate(precision).as_secs_f64(),
        })
    }
}

/// What kind of frame went into a capture, for the summary counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FrameKind {
    /// A TCP packet.
    Tcp,
    /// A UDP datagram.
    Udp,
    /// An ICMP or ICMPv6 message.
    Icmp,
    /// Anything else (ARP, raw frames).
    Other,
}

/// Accumulates the summary line.
#[derive(Debug, Clone, Copy, Default)]
pub struct SummaryCounter {
    summary: Summary,
}

impl SummaryCounter {
    /// Counts one frame. TCP frames are not orphans here: connection trackers report theirs
    /// through [`SummaryCounter::add_connection`].
    pub fn frame(&mut self, kind: FrameKind) {
        let s = &mut self.summary;
        s.packets += 1;
        match kind {
            FrameKind::Tcp => s.tcp_packets += 1,
            FrameKind::Udp => s.udp_packets += 1,
            FrameKind::Icmp => s.icmp_packets += 1,
            FrameKind::Other => s.other_packets += 1,
        }
        if kind != FrameKind::Tcp {
            s.orphans += 1;
        }
    }

    /// Adds a finished tracker: one connection if it had a SYN, and its orphan packets.
    pub fn add_connection(&mut self, tracker: &ConnTracker) {
        if tracker.is_connection() {
            self.summary.connections += 1;
        }
        self.summary.orphans += tracker.orphan_packets();
    }

    /// Counts one deliberately malformed frame.
    pub fn error(&mut self) {
        self.summary.errors += 1;
    }

    /// The summary so far.
    pub fn summary(&self) -> Summary {
        self.summary
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACK: TcpFlags = TcpFlags::ACK;

    fn ts(ms: u64) -> Timestamp {
        Timestamp::from_unix_nanos(1_700_000_000_000_000_000 + ms * 1_000_000)
    }

    fn tracker() -> ConnTracker {
        ConnTracker::new(
            "10.0.0.1:40000".parse().unwrap(),
            "[2001:db8::2]:80".parse().unwrap(),
            true,
        )
    }

    #[test]
    fn ranges_merge_and_measure() {
        let mut r = RangeSet::default();
        r.insert(10, 20);
        r.insert(0, 5);
        r.insert(30, 40);
        assert_eq!(r.ranges, [(0, 5), (10, 20), (30, 40)]);
        assert!(r.overlaps(4, 11) && !r.overlaps(5, 10));
        r.insert(5, 10);
        assert_eq!(r.ranges, [(0, 20), (30, 40)]);
        assert_eq!(r.covered(), 30);
        assert_eq!(r.holes(Some(0)), 10);
        r.insert(15, 35);
        assert_eq!(r.ranges, [(0, 40)]);
        assert_eq!(r.holes(None), 0);
    }

    #[test]
    fn counts_distinct_bytes_rexmits_and_holes() {
        let mut t = tracker();
        let (c, s) = (Side::Client, Side::Server);
        t.on_packet(ts(0), c, 100, TcpFlags::SYN, b"");
        t.on_packet(ts(1), s, 900, TcpFlags::SYN | ACK, b"");
        t.on_packet(ts(2), c, 101, ACK, b"");
        t.on_packet(ts(3), c, 101, ACK | TcpFlags::PSH, b"GET / HTTP/1.1\r\n");
        t.on_packet(ts(4), c, 101, ACK | TcpFlags::PSH, b"GET / HTTP/1.1\r\n"); // rexmit
        t.on_packet(ts(5), c, 117, ACK | TcpFlags::PSH, b"Host: a\r\n\r\n");
        t.on_packet(ts(6), s, 901, ACK, b"0123456789");
        t.on_packet(ts(7), s, 916, ACK, b"abcde"); // 5-byte hole before
        t.on_packet(ts(8), s, 921, TcpFlags::RST, b"");
        let line = t.truth(Precision::Micros).unwrap();
        assert_eq!(line.server, "[2001:db8::2]:80");
        assert!(line.syn && line.synack && line.rst);
        assert_eq!(line.end_reason, "rst");
        assert_eq!((line.pkts_client, line.pkts_server), (5, 4));
        assert_eq!((line.bytes_client, line.bytes_server), (27, 15));
        assert_eq!((line.rexmit_client, line.rexmit_server), (1, 0));
        assert_eq!((line.missed_client, line.missed_server), (0, 5));
        assert_eq!(line.http_requests.len(), 1);
        assert_eq!(line.http_requests[0].host, "a");
        assert!((line.start - 1_700_000_000.0).abs() < 1e-6);
        assert!((line.last - 1_700_000_000.008).abs() < 1e-6);
    }

    #[test]
    fn no_syn_means_orphans_and_no_line() {
        let mut t = tracker();
        t.on_packet(ts(0), Side::Client, 5, ACK, b"data");
        t.on_packet(ts(1), Side::Server, 9, TcpFlags::SYN | ACK, b"");
        assert!(t.truth(Precision::Nanos).is_none());
        assert_eq!(t.orphan_packets(), 2);
        let mut sum = SummaryCounter::default();
        sum.frame(FrameKind::Tcp);
        sum.frame(FrameKind::Tcp);
        sum.frame(FrameKind::Udp);
        sum.add_connection(&t);
        let s = sum.summary();
        assert_eq!((s.packets, s.connections, s.orphans), (3, 0, 3));
    }

    #[test]
    fn out_of_order_client_bytes_are_scanned_in_order() {
        let mut t = tracker();
        t.on_packet(ts(0), Side::Client, 0, TcpFlags::SYN, b"");
        t.on_packet(
            ts(1),
            Side::Client,
            1 + 9,
            ACK,
            b"/x HTTP/1.1\r\nHost: h\r\n\r\n",
        );
        t.on_packet(ts(2), Side::Client, 1, ACK, b"DELETE /a");
        t.on_packet(ts(3), Side::Client, 1, TcpFlags::FIN | ACK, b"");
        t.on_packet(ts(4), Side::Server, 0, TcpFlags::FIN | ACK, b"");
        let line = t.truth(Precision::Micros).unwrap();
        assert_eq!(line.end_reason, "fin");
        assert_eq!(line.http_requests[0].method, "DELETE");
        assert_eq!(line.http_requests[0].uri, "/a/x");
        assert_eq!(line.rexmit_client, 0);
    }

    #[test]
    fn json_lines_round_trip_with_spec_field_names() {
        let mut t = tracker();
        t.on_packet(ts(0), Side::Client, 0, TcpFlags::SYN, b"");
        let truth = Truth {
            connections: vec![t.truth(Precision::Micros).unwrap()],
            summary: Summary {
                packets: 1,
                connections: 1,
                ..Summary::default()
            },
        };
        let text = truth.to_json_lines();
        let first = text.lines().next().unwrap();
        for field in [
            "\"client\":\"10.0.0.1:40000\"",
            "\"end_reason\":\"trace_end\"",
            "\"synack\":false",
            "\"bytes_client\":0",
            "\"rexmit_server\":0",
            "\"http_requests\":[]",
            "\"tls_sni\":[]",
        ] {
            assert!(first.contains(field), "{field} in {first}");
        }
        assert!(
            text.lines()
                .nth(1)
                .unwrap()
                .starts_with("{\"summary\":{\"packets\":1")
        );
        assert_eq!(Truth::parse_json_lines(&text).unwrap(), truth);
        assert!(Truth::parse_json_lines("{\"client\":1}").is_err());
    }
}
