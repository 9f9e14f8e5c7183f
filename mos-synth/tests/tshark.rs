//! Wireshark's reading of what mos-synth writes: no malformed packet, no checksum error, no
//! expert error, and per-connection numbers equal to the ground truth.
//!
//! tshark is an independent parser with its own TCP analysis and HTTP/TLS/DNS dissectors. When
//! it is not installed these tests print a note and pass, except under `CI=true`, where a
//! missing tshark is a failure.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use mos_synth::sample;
use mos_synth::truth::{ConnTruth, HttpRequest, Truth};
use mos_synth::workload::{Preset, Workload};

fn tshark_available() -> bool {
    let ok = Command::new("tshark")
        .arg("-v")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "tshark is required under CI=true (apt-get install tshark)"
        );
        eprintln!("note: tshark not found, skipping the Wireshark cross-checks");
    }
    ok
}

struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, bytes: &[u8]) -> TempFile {
        let path = std::env::temp_dir().join(format!("mos-synth-{}-{name}", std::process::id()));
        std::fs::write(&path, bytes).expect("temporary file written");
        TempFile(path)
    }
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

const CHECKSUMS: [&str; 6] = [
    "-o",
    "tcp.check_checksum:TRUE",
    "-o",
    "ip.check_checksum:TRUE",
    "-o",
    "udp.check_checksum:TRUE",
];

fn tshark(file: &Path, args: &[&str]) -> String {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(file)
        .args(CHECKSUMS)
        .args(args)
        .output()
        .expect("tshark runs");
    assert!(
        out.status.success(),
        "tshark {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("tshark prints UTF-8")
}

/// No malformed packet, no checksum error, no expert error, in one and two passes and with
/// out-of-order reassembly on and off.
fn assert_clean(file: &Path) {
    for ooo in ["FALSE", "TRUE"] {
        let pref = format!("tcp.reassemble_out_of_order:{ooo}");
        let filter = "_ws.malformed || _ws.expert.severity >= error";
        let flagged = tshark(file, &["-o", &pref, "-Y", filter]);
        assert!(flagged.is_empty(), "flagged packets:\n{flagged}");
        let flagged = tshark(file, &["-2", "-o", &pref, "-Y", filter]);
        assert!(
            flagged.is_empty(),
            "flagged packets (two passes):\n{flagged}"
        );
        let expert = tshark(file, &["-o", &pref, "-q", "-z", "expert"]);
        assert!(!expert.contains("Errors ("), "expert errors:\n{expert}");
        assert!(!expert.contains("Malformed"), "malformed:\n{expert}");
    }
}

#[derive(Default)]
struct Dir {
    pkts: u64,
    ranges: Vec<(u64, u64)>,
    fin: bool,
}

#[derive(Default)]
struct Stream {
    client: Option<(String, String)>,
    dirs: HashMap<String, Dir>,
    rst: bool,
    synack: bool,
}

fn endpoint(ip4: &str, ip6: &str, port: &str) -> String {
    if ip6.is_empty() {
        format!("{ip4}:{port}")
    } else {
        format!("[{ip6}]:{port}")
    }
}

fn distinct(ranges: &mut [(u64, u64)]) -> u64 {
    ranges.sort_unstable();
    let (mut total, mut reach) = (0, 0);
    for &(a, b) in ranges.iter() {
        if b > reach {
            total += b - a.max(reach);
            reach = b;
        }
    }
    total
}

/// tshark's per-connection view, keyed by stream number, with the (client, server) of each.
fn tshark_connections(file: &Path) -> HashMap<u64, (String, String, ConnTruth)> {
    let fields = [
        "tcp.stream",
        "ip.src",
        "ipv6.src",
        "tcp.srcport",
        "ip.dst",
        "ipv6.dst",
        "tcp.dstport",
        "tcp.seq_raw",
        "tcp.len",
        "tcp.flags",
    ];
    let mut args = vec!["-Y", "tcp", "-T", "fields", "-E", "separator=|"];
    for f in &fields {
        args.push("-e");
        args.push(f);
    }
    let mut streams: HashMap<u64, Stream> = HashMap::new();
    for line in tshark(file, &args).lines() {
        let v: Vec<&str> = line.split('|').collect();
        let [stream, s4, s6, sp, d4, d6, dp, seq, len, flags] = v[..] else {
            panic!("unexpected line {line:?}");
        };
        let src = endpoint(s4, s6, sp);
        let dst = endpoint(d4, d6, dp);
        let flags = u16::from_str_radix(flags.trim_start_matches("0x"), 16).expect("hex flags");
        let (syn, ack, fin, rst) = (
            flags & 2 != 0,
            flags & 16 != 0,
            flags & 1 != 0,
            flags & 4 != 0,
        );
        let st = streams
            .entry(stream.parse().expect("stream number"))
            .or_default();
        if st.client.is_none() && syn && !ack {
            st.client = Some((src.clone(), dst.clone()));
        }
        let Some((client, server)) = st.client.clone() else {
            continue; // before the SYN: an orphan
        };
        if src == server && syn && ack {
            st.synack = true;
        }
        st.rst |= rst;
        let d = st.dirs.entry(src).or_default();
        d.pkts += 1;
        d.fin |= fin;
        let seq: u64 = seq.parse().expect("sequence number");
        let len: u64 = len.parse().expect("segment length");
        if len > 0 && !syn {
            // Raw sequence numbers; the captures here never wrap within a connection's data
            // by more than 2^32, so unwrapping against the first is enough.
            let base = d.ranges.first().map_or(seq, |r| r.0);
            let seq = if seq + (1 << 31) < base {
                seq + (1 << 32)
            } else {
                seq
            };
            d.ranges.push((seq, seq + len));
        }
        let _ = client;
    }
    streams
        .into_iter()
        .filter_map(|(id, mut st)| {
            let (client, server) = st.client.clone()?;
            let mut dir = |k: &str| st.dirs.remove(k).unwrap_or_default();
            let (mut c, mut s) = (dir(&client), dir(&server));
            let line = ConnTruth {
                client: client.clone(),
                server: server.clone(),
                start: 0.0,
                end_reason: String::new(),
                syn: true,
                synack: st.synack,
                fin_client: c.fin,
                fin_server: s.fin,
                rst: st.rst,
                pkts_client: c.pkts,
                pkts_server: s.pkts,
                bytes_client: distinct(&mut c.ranges),
                bytes_server: distinct(&mut s.ranges),
                rexmit_client: 0,
                rexmit_server: 0,
                missed_client: 0,
                missed_server: 0,
                http_requests: Vec::new(),
                tls_sni: Vec::new(),
                last: 0.0,
            };
            Some((id, (client, server, line)))
        })
        .collect()
}

/// HTTP requests and SNIs per stream, as tshark's dissectors find them.
fn tshark_requests(file: &Path) -> (HashMap<u64, Vec<HttpRequest>>, HashMap<u64, Vec<String>>) {
    let ooo = ["-o", "tcp.reassemble_out_of_order:TRUE"];
    let mut http: HashMap<u64, Vec<HttpRequest>> = HashMap::new();
    let mut args = ooo.to_vec();
    args.extend([
        "-Y",
        "http.request",
        "-T",
        "fields",
        "-E",
        "separator=|",
        "-e",
        "tcp.stream",
        "-e",
        "http.request.method",
        "-e",
        "http.host",
        "-e",
        "http.request.uri",
    ]);
    for line in tshark(file, &args).lines() {
        let v: Vec<&str> = line.split('|').collect();
        let [stream, method, host, uri] = v[..] else {
            panic!("unexpected line {line:?}");
        };
        http.entry(stream.parse().expect("stream number"))
            .or_default()
            .push(HttpRequest {
                method: method.into(),
                host: host.into(),
                uri: uri.into(),
            });
    }
    let mut sni: HashMap<u64, Vec<String>> = HashMap::new();
    let mut args = ooo.to_vec();
    args.extend([
        "-Y",
        "tls.handshake.type == 1",
        "-T",
        "fields",
        "-E",
        "separator=|",
        "-e",
        "tcp.stream",
        "-e",
        "tls.handshake.extensions_server_name",
    ]);
    for line in tshark(file, &args).lines() {
        let (stream, name) = line.split_once('|').expect("two fields");
        sni.entry(stream.parse().expect("stream number"))
            .or_default()
            .push(name.to_string());
    }
    (http, sni)
}

fn compare_with_truth(file: &Path, truth: &Truth) {
    let conns = tshark_connections(file);
    let (http, sni) = tshark_requests(file);
    assert_eq!(
        conns.len(),
        truth.connections.len(),
        "connections with a SYN"
    );
    let by_ends: HashMap<(&str, &str), &ConnTruth> = truth
        .connections
        .iter()
        .map(|c| ((c.client.as_str(), c.server.as_str()), c))
        .collect();
    for (id, (client, server, seen)) in &conns {
        let want = by_ends
            .get(&(client.as_str(), server.as_str()))
            .unwrap_or_else(|| panic!("tshark's {client} -> {server} is not in the truth"));
        let ctx = format!("stream {id}: {client} -> {server}");
        assert_eq!(
            (want.pkts_client, want.pkts_server),
            (seen.pkts_client, seen.pkts_server),
            "{ctx} packets"
        );
        assert_eq!(
            (want.bytes_client, want.bytes_server),
            (seen.bytes_client, seen.bytes_server),
            "{ctx} distinct payload bytes"
        );
        assert_eq!(
            (want.synack, want.fin_client, want.fin_server, want.rst),
            (seen.synack, seen.fin_client, seen.fin_server, seen.rst),
            "{ctx} flags"
        );
        let no_requests = Vec::new();
        assert_eq!(
            &want.http_requests,
            http.get(id).unwrap_or(&no_requests),
            "{ctx} HTTP requests"
        );
        let no_names = Vec::new();
        assert_eq!(&want.tls_sni, sni.get(id).unwrap_or(&no_names), "{ctx} SNI");
    }
    let udp = tshark(file, &["-Y", "udp"]).lines().count() as u64;
    let icmp = tshark(file, &["-Y", "icmp || icmpv6"]).lines().count() as u64;
    let dns = tshark(file, &["-Y", "dns"]).lines().count() as u64;
    assert_eq!(udp, truth.summary.udp_packets);
    assert_eq!(dns, truth.summary.udp_packets, "every UDP packet is DNS");
    assert_eq!(icmp, truth.summary.icmp_packets);
    let all = tshark(file, &[]).lines().count() as u64;
    assert_eq!(all, truth.summary.packets);
}

#[test]
fn tshark_reads_the_sample_cleanly_and_agrees_with_its_truth() {
    if !tshark_available() {
        return;
    }
    let file = TempFile::new("sample.pcap", &sample::pcap());
    assert_clean(file.path());
    compare_with_truth(file.path(), &sample::truth());
}

#[test]
fn tshark_reads_a_small_workload_cleanly_and_agrees_with_its_truth() {
    if !tshark_available() {
        return;
    }
    let mut cfg = Preset::W1.config(7);
    cfg.flows = 300;
    cfg.concurrency = 60;
    let mut pcap = Vec::new();
    let mut truth = Vec::new();
    Workload::new(cfg)
        .unwrap()
        .write(&mut pcap, Some(&mut truth))
        .unwrap();
    let truth = Truth::parse_json_lines(std::str::from_utf8(&truth).unwrap()).unwrap();
    let file = TempFile::new("w1-300.pcap", &pcap);
    assert_clean(file.path());
    compare_with_truth(file.path(), &truth);
}

#[test]
fn tshark_reads_nanosecond_and_vlan_captures() {
    if !tshark_available() {
        return;
    }
    use mos_synth::Precision;
    use mos_synth::script::{Client, Script, Server};
    let mut t = Script::new();
    t.set_precision(Precision::Nanos).set_vlan(Some(42));
    let c = t.tcp("[2001:db8::1]:40000", "[2001:db8::2]:80");
    t.handshake(c);
    t.send(c, Client, b"GET /v HTTP/1.1\r\nHost: v6.example\r\n\r\n");
    t.send(c, Server, b"HTTP/1.1 204 No Content\r\n\r\n");
    t.close(c);
    let file = TempFile::new("vlan-ns.pcap", &t.to_pcap());
    assert_clean(file.path());
    let vlans = tshark(file.path(), &["-Y", "vlan.id == 42"])
        .lines()
        .count();
    assert_eq!(vlans, t.frames().len());
    let times = tshark(file.path(), &["-T", "fields", "-e", "frame.time_epoch"]);
    assert!(
        times
            .lines()
            .next()
            .unwrap()
            .starts_with("1700000000.000000000")
    );
    compare_with_truth(file.path(), &t.truth());
}
