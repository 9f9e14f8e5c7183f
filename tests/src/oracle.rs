//! The independent oracle: tshark's per-connection view of a capture, computed at test time.
//!
//! For each TCP stream tshark reports, we take every frame's addresses, flags, relative
//! sequence number and payload length, and HTTP request fields, then derive what flowdump
//! reports: the client (sender of the first pure SYN), packets and FIN/RST per direction,
//! distinct payload bytes per direction (the union of `[seq, seq + len)` ranges, so
//! retransmitted bytes count once), and the HTTP requests in frame order.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// tshark's view of one TCP connection.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OracleConn {
    pub stream: u64,
    pub client: String,
    pub server: String,
    pub syn: bool,
    pub synack: bool,
    pub fin_client: bool,
    pub fin_server: bool,
    pub rst: bool,
    pub pkts_client: u64,
    pub pkts_server: u64,
    pub bytes_client: u64,
    pub bytes_server: u64,
    /// Payload bytes carried by RST segments (we do not add those to the stream).
    pub rst_payload_client: u64,
    pub rst_payload_server: u64,
    /// `(method, host, uri)` in frame order.
    pub http_requests: Vec<(String, String, String)>,
    /// Frames tshark flagged as retransmissions, per direction.
    pub rexmit_client: u64,
    pub rexmit_server: u64,
}

#[derive(Debug)]
struct Frame {
    stream: u64,
    src: String,
    dst: String,
    syn: bool,
    ack: bool,
    fin: bool,
    rst: bool,
    seq: u64,
    len: u64,
    retransmission: bool,
    http: Option<(String, String, String)>,
}

fn endpoint(ip4: &str, ip6: &str, port: &str) -> String {
    if !ip6.is_empty() {
        format!("[{ip6}]:{port}")
    } else {
        format!("{ip4}:{port}")
    }
}

/// Run tshark on `trace` and compute its per-connection view (only streams that have a SYN
/// without ACK: flowdump tracks connections whose handshake it saw).
pub fn tshark_conns(trace: &Path) -> Vec<OracleConn> {
    let fields = [
        "tcp.stream",
        "ip.src",
        "ipv6.src",
        "tcp.srcport",
        "ip.dst",
        "ipv6.dst",
        "tcp.dstport",
        "tcp.flags.syn",
        "tcp.flags.ack",
        "tcp.flags.fin",
        "tcp.flags.reset",
        "tcp.seq",
        "tcp.len",
        "tcp.analysis.retransmission",
        "http.request.method",
        "http.host",
        "http.request.uri",
    ];
    let mut cmd = Command::new("tshark");
    cmd.arg("-r").arg(trace).args([
        "-n",
        "-Y",
        "tcp",
        "-T",
        "fields",
        "-E",
        "separator=\t",
        "-E",
        "occurrence=f",
    ]);
    for pref in [
        "tcp.analyze_sequence_numbers:TRUE",
        "tcp.relative_sequence_numbers:TRUE",
        "tcp.desegment_tcp_streams:TRUE",
        "tcp.reassemble_out_of_order:TRUE",
        "tcp.check_checksum:FALSE",
        "ip.defragment:TRUE",
        "ipv6.defragment:TRUE",
    ] {
        cmd.args(["-o", pref]);
    }
    for port in [8000, 8080, 9000, 9090] {
        cmd.args(["-d", &format!("tcp.port=={port},http")]);
    }
    for f in fields {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().expect("run tshark");
    assert!(
        out.status.success(),
        "tshark failed on {}: {}",
        trace.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let flag = |s: &str| s == "1" || s == "True";
    let mut frames = Vec::new();
    for line in text.lines() {
        let c: Vec<&str> = line.split('\t').collect();
        if c.len() < fields.len() || c[0].is_empty() {
            continue;
        }
        let http =
            (!c[14].is_empty()).then(|| (c[14].to_string(), c[15].to_string(), c[16].to_string()));
        frames.push(Frame {
            stream: c[0].parse().unwrap_or(0),
            src: endpoint(c[1], c[2], c[3]),
            dst: endpoint(c[4], c[5], c[6]),
            syn: flag(c[7]),
            ack: flag(c[8]),
            fin: flag(c[9]),
            rst: flag(c[10]),
            seq: c[11].parse().unwrap_or(0),
            len: c[12].parse().unwrap_or(0),
            retransmission: !c[13].is_empty(),
            http,
        });
    }
    let mut by_stream: BTreeMap<u64, Vec<Frame>> = BTreeMap::new();
    for f in frames {
        by_stream.entry(f.stream).or_default().push(f);
    }
    let mut conns = Vec::new();
    for (stream, frames) in by_stream {
        let Some(syn) = frames.iter().find(|f| f.syn && !f.ack) else {
            continue;
        };
        let client = syn.src.clone();
        let server = syn.dst.clone();
        let mut conn = OracleConn {
            stream,
            client: client.clone(),
            server,
            syn: true,
            ..OracleConn::default()
        };
        let mut ranges: [Vec<(u64, u64)>; 2] = [Vec::new(), Vec::new()];
        for f in &frames {
            let from_client = f.src == client;
            let d = usize::from(!from_client);
            if from_client {
                conn.pkts_client += 1;
                conn.fin_client |= f.fin;
                conn.rexmit_client += u64::from(f.retransmission);
            } else {
                conn.pkts_server += 1;
                conn.fin_server |= f.fin;
                conn.synack |= f.syn && f.ack;
                conn.rexmit_server += u64::from(f.retransmission);
            }
            conn.rst |= f.rst;
            if f.len > 0 {
                if f.rst {
                    if from_client {
                        conn.rst_payload_client += f.len;
                    } else {
                        conn.rst_payload_server += f.len;
                    }
                } else {
                    ranges[d].push((f.seq, f.seq + f.len));
                }
            }
            if from_client {
                if let Some(req) = &f.http {
                    conn.http_requests.push(req.clone());
                }
            }
        }
        conn.bytes_client = union_len(&mut ranges[0]);
        conn.bytes_server = union_len(&mut ranges[1]);
        conns.push(conn);
    }
    conns
}

/// Length of the union of half-open ranges.
pub fn union_len(ranges: &mut [(u64, u64)]) -> u64 {
    ranges.sort_unstable();
    let mut total = 0;
    let mut cur: Option<(u64, u64)> = None;
    for &(s, e) in ranges.iter() {
        match cur {
            Some((cs, ce)) if s <= ce => cur = Some((cs, ce.max(e))),
            Some((cs, ce)) => {
                total += ce - cs;
                cur = Some((s, e));
            }
            None => cur = Some((s, e)),
        }
    }
    if let Some((cs, ce)) = cur {
        total += ce - cs;
    }
    total
}
