//! The UDE library's parsers (`mos_runtime::proto`) on real captures, checked against tshark.
//!
//! Payloads are extracted with tshark at test time and the client→server (or server→client)
//! byte stream of each TCP connection is rebuilt from the segments' relative sequence numbers.
//! Traces come from `$MOS_TRACES` (default `<CARGO_MANIFEST_DIR>/../../shared/traces/public`).
//! Without tshark the tests print "skipped: tshark not installed" and pass, unless `CI=true`.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use mos_runtime::proto::Parse;
use mos_runtime::proto::dns;
use mos_runtime::proto::http::{self, End};
use mos_runtime::proto::tls;

fn traces_dir() -> PathBuf {
    match std::env::var_os("MOS_TRACES") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/traces/public"),
    }
}

/// Whether tshark can run; without it the test is skipped, or fails under `CI=true`.
fn have_tshark() -> bool {
    let ok = Command::new("tshark")
        .arg("-v")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "tshark is required when CI=true"
        );
        println!("skipped: tshark not installed");
    }
    ok
}

/// Runs tshark over `trace` with a display filter and prints `fields`, one row per packet.
fn tshark(trace: &str, filter: &str, fields: &[&str]) -> Vec<Vec<String>> {
    let path = traces_dir().join(trace);
    assert!(path.exists(), "missing trace {}", path.display());
    let mut cmd = Command::new("tshark");
    cmd.arg("-n").arg("-r").arg(&path);
    cmd.args([
        "-o",
        "tcp.relative_sequence_numbers:TRUE",
        "-Y",
        filter,
        "-T",
        "fields",
    ]);
    cmd.args([
        "-E",
        "separator=\t",
        "-E",
        "occurrence=a",
        "-E",
        "aggregator=,",
    ]);
    for f in fields {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "tshark failed on {trace}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| l.split('\t').map(str::to_owned).collect())
        .collect()
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

/// The oracle of a trace, by the trace's name without extension.
fn oracle(name: &str) -> serde_json::Value {
    let path = traces_dir().join(format!("{name}.oracle.json"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// One direction of one TCP connection: its segments as captured and the rebuilt stream.
#[derive(Default)]
struct Stream {
    segments: Vec<(u64, Vec<u8>)>,
    bytes: Vec<u8>,
}

/// The two byte streams of every TCP connection of `trace`, keyed by tshark's stream index:
/// `(client→server, server→client)`. The client is the sender of the first SYN without ACK,
/// else the sender of the first payload. Overlaps keep the first copy; a gap ends the stream.
fn tcp_streams(trace: &str) -> BTreeMap<u32, (Stream, Stream)> {
    let rows = tshark(
        trace,
        "tcp",
        &[
            "tcp.stream",
            "tcp.srcport",
            "tcp.flags.syn",
            "tcp.flags.ack",
            "tcp.seq",
            "tcp.payload",
        ],
    );
    let mut client_port: BTreeMap<u32, String> = BTreeMap::new();
    let mut streams: BTreeMap<u32, (Stream, Stream)> = BTreeMap::new();
    for row in rows {
        let [stream, port, syn, ack, seq, payload] = &row[..] else {
            continue;
        };
        let stream: u32 = stream.parse().unwrap();
        let is_syn = (syn == "1" || syn == "True") && (ack == "0" || ack == "False");
        if is_syn || !payload.is_empty() {
            client_port.entry(stream).or_insert_with(|| port.clone());
        }
        if payload.is_empty() {
            continue;
        }
        let both = streams.entry(stream).or_default();
        let side = if client_port[&stream] == *port {
            &mut both.0
        } else {
            &mut both.1
        };
        side.segments.push((seq.parse().unwrap(), hex(payload)));
    }
    for (c2s, s2c) in streams.values_mut() {
        for side in [c2s, s2c] {
            let mut sorted = side.segments.clone();
            sorted.sort_by_key(|s| s.0);
            let Some(base) = sorted.first().map(|s| s.0) else {
                continue;
            };
            for (seq, data) in sorted {
                let at = (seq - base) as usize;
                if at > side.bytes.len() {
                    break;
                }
                let new = &data[(side.bytes.len() - at).min(data.len())..];
                side.bytes.extend_from_slice(new);
            }
        }
    }
    streams
}

/// Feeds `segments` to `http::requests` one at a time as the runtime would: each call sees the
/// bytes kept last time plus the new segment and keeps `pending()`.
fn requests_by_segment(segments: &[(u64, Vec<u8>)]) -> Vec<(String, String, String)> {
    let mut found = Vec::new();
    let mut kept: Vec<u8> = Vec::new();
    for (_, data) in segments {
        kept.extend_from_slice(data);
        let mut it = http::requests(&kept);
        found.extend(it.by_ref().map(|r| triple(&r)));
        assert_ne!(it.end(), Some(End::Invalid));
        let keep = it.pending();
        kept.drain(..kept.len() - keep);
    }
    found
}

fn triple(r: &http::Request<'_>) -> (String, String, String) {
    (
        r.method_str().unwrap().to_owned(),
        r.host_str().unwrap_or("").to_owned(),
        r.uri_str().unwrap().to_owned(),
    )
}

/// The requests and response codes the oracle lists for connection `stream`.
fn oracle_http(
    oracle: &serde_json::Value,
    stream: u32,
) -> (Vec<(String, String, String)>, Vec<u16>) {
    let conn = oracle["connections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["stream"].as_u64() == Some(u64::from(stream)))
        .unwrap();
    let requests = conn["http_requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap_or("").to_owned();
            (s("method"), s("host"), s("uri"))
        })
        .collect();
    let codes = conn["http_response_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_u64().unwrap() as u16)
        .collect();
    (requests, codes)
}

#[test]
fn http_get() {
    if !have_tshark() {
        return;
    }
    let streams = tcp_streams("zeek-http-get.pcap");
    let (c2s, s2c) = &streams[&0];
    let mut it = http::requests(&c2s.bytes);
    let got: Vec<_> = it.by_ref().map(|r| triple(&r)).collect();
    let want = (
        "GET".to_owned(),
        "bro.org".to_owned(),
        "/download/CHANGES.bro-aux.txt".to_owned(),
    );
    assert_eq!(got, [want]);
    assert_eq!(
        (it.end(), it.consumed()),
        (Some(End::Drained), c2s.bytes.len())
    );
    assert_eq!(oracle_http(&oracle("zeek-http-get"), 0).0, got);

    let mut it = http::responses(&s2c.bytes);
    let r = it.next().unwrap();
    assert_eq!((r.status, r.content_length), (200, Some(4705)));
    assert!(it.next().is_none());
    assert_eq!(
        (it.end(), it.consumed()),
        (Some(End::Drained), s2c.bytes.len())
    );
}

#[test]
fn http_pipelined() {
    if !have_tshark() {
        return;
    }
    let streams = tcp_streams("zeek-http-pipelined.pcap");
    let (c2s, s2c) = &streams[&0];
    let (want, want_codes) = oracle_http(&oracle("zeek-http-pipelined"), 0);
    assert_eq!(want.len(), 5);
    let mut it = http::requests(&c2s.bytes);
    let got: Vec<_> = it.by_ref().map(|r| triple(&r)).collect();
    assert_eq!(got, want);
    assert_eq!(
        (it.end(), it.consumed(), it.pending()),
        (Some(End::Drained), c2s.bytes.len(), 0)
    );
    // Segment by segment, as captured, then cut finer: the same five.
    assert_eq!(requests_by_segment(&c2s.segments), want);
    for size in [1, 7, 100, 536] {
        let cut: Vec<(u64, Vec<u8>)> = c2s.bytes.chunks(size).map(|c| (0, c.to_vec())).collect();
        assert_eq!(requests_by_segment(&cut), want, "segments of {size}");
    }

    let mut it = http::responses(&s2c.bytes);
    let codes: Vec<u16> = it.by_ref().map(|r| r.status).collect();
    assert_eq!(codes, want_codes);
    assert_eq!(
        (it.end(), it.consumed()),
        (Some(End::Drained), s2c.bytes.len())
    );
}

/// Every trace whose oracle lists HTTP requests: the requests found in each connection's
/// client stream are the ones tshark lists, in order.
#[test]
fn http_requests_of_all_traces() {
    if !have_tshark() {
        return;
    }
    let mut checked = 0;
    for entry in std::fs::read_dir(traces_dir()).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        let Some(base) = name.strip_suffix(".oracle.json") else {
            continue;
        };
        let oracle = oracle(base);
        if oracle["http_requests_total"].as_u64().unwrap_or(0) == 0 {
            continue;
        }
        let trace = oracle["trace"].as_str().unwrap().to_owned();
        assert!(trace.starts_with(base));
        let streams = tcp_streams(&trace);
        for conn in oracle["connections"].as_array().unwrap() {
            let stream = conn["stream"].as_u64().unwrap() as u32;
            let (want, _) = oracle_http(&oracle, stream);
            if want.is_empty() {
                continue;
            }
            let (c2s, _) = &streams[&stream];
            let got: Vec<_> = http::requests(&c2s.bytes).map(|r| triple(&r)).collect();
            assert_eq!(got, want, "{trace} stream {stream}");
            checked += want.len();
        }
    }
    assert!(checked >= 10, "only {checked} requests checked");
}

/// The ClientHello of every TLS connection: SNI, version and cipher-suite count as tshark
/// reads them.
#[test]
fn tls_client_hellos() {
    if !have_tshark() {
        return;
    }
    let mut with_sni = 0;
    let mut total = 0;
    for trace in ["retina-tls-ciphers.pcap", "sv-tls-fin-close.pcap"] {
        let rows = tshark(
            trace,
            "tls.handshake.type == 1",
            &[
                "tcp.stream",
                "tls.handshake.extensions_server_name",
                "tls.handshake.version",
                "tls.handshake.ciphersuite",
                "tls.handshake.cipherspec",
            ],
        );
        assert!(!rows.is_empty(), "{trace}: tshark found no ClientHello");
        let streams = tcp_streams(trace);
        for row in rows {
            let [stream, sni, version, suites, specs] = &row[..] else {
                panic!("{row:?}")
            };
            let stream: u32 = stream.parse().unwrap();
            let c2s = &streams[&stream].0.bytes;
            assert!(tls::looks_like_tls_handshake(c2s));
            let hello = match tls::parse_client_hello(c2s) {
                Parse::Complete(h) => h,
                other => panic!("{trace} stream {stream}: {other:?}"),
            };
            let want_sni = (!sni.is_empty()).then_some(sni.as_str());
            assert_eq!(hello.sni(), want_sni, "{trace} stream {stream}");
            let want_version = u16::from_str_radix(version.trim_start_matches("0x"), 16).unwrap();
            assert_eq!(
                hello.legacy_version, want_version,
                "{trace} stream {stream}"
            );
            let list = if suites.is_empty() { specs } else { suites };
            let count = list.split(',').filter(|s| !s.is_empty()).count();
            assert_eq!(
                usize::from(hello.cipher_suites_count),
                count,
                "{trace} stream {stream}"
            );
            assert!(hello.len <= c2s.len());
            with_sni += usize::from(want_sni.is_some());
            total += 1;
        }
    }
    assert_eq!(total, 74);
    assert_eq!(with_sni, 1);
}

/// The DNS messages of tcpdump-dns-udp.pcap: question name, id, direction and type.
#[test]
fn dns_query_names() {
    if !have_tshark() {
        return;
    }
    let rows = tshark(
        "tcpdump-dns-udp.pcap",
        "dns",
        &[
            "udp.payload",
            "dns.qry.name",
            "dns.id",
            "dns.flags.response",
            "dns.qry.type",
            "dns.count.answers",
        ],
    );
    assert_eq!(rows.len(), 2);
    for row in rows {
        let [payload, name, id, response, qtype, answers] = &row[..] else {
            panic!("{row:?}")
        };
        let q = dns::parse_query(&hex(payload)).unwrap();
        assert_eq!(q.name(), Some(name.as_str()));
        assert_eq!(
            q.id,
            u16::from_str_radix(id.trim_start_matches("0x"), 16).unwrap()
        );
        assert_eq!(q.qr, response == "1" || response == "True");
        assert_eq!(q.qtype().to_string(), *qtype);
        assert_eq!(q.ancount.to_string(), *answers);
    }
}
