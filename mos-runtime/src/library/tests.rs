//! The UDE library: its scanners on byte slices (split, large and malformed messages), then
//! whole runs of an app built on the library events, over synthetic conversations and over the
//! public captures (`MOS_TRACES`, default `<manifest>/../../shared/traces/public`).

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use std::path::PathBuf;

use mos_synth::script::{Client, Script, Server};

use super::*;
use crate::Runtime;

const GET: &[u8] = b"GET /a HTTP/1.1\r\nHost: example.com\r\n\r\n";
const POST: &[u8] = b"POST /form HTTP/1.1\r\nHost: example.com\r\nContent-Length: 5\r\n\r\nhello";

fn uris(buf: &[u8]) -> (Vec<String>, usize) {
    let mut it = HttpRequests::new(buf);
    let uris = it
        .by_ref()
        .map(|r| String::from_utf8_lossy(r.uri).into_owned())
        .collect();
    (uris, it.keep())
}

#[test]
fn pipelined_requests_then_a_partial_one_kept() {
    let mut buf = GET.to_vec();
    buf.extend_from_slice(POST);
    buf.extend_from_slice(b"GET /c HTTP/1.1\r\nHo");
    let (found, keep) = uris(&buf);
    assert_eq!(found, ["/a", "/form"]);
    assert_eq!(keep, b"GET /c HTTP/1.1\r\nHo".len());
}

#[test]
fn a_request_split_at_every_byte_is_found_exactly_once() {
    // What the runtime does with the filter's keep: the kept tail plus the new bytes.
    let mut whole = POST.to_vec();
    whole.extend_from_slice(GET);
    for cut in 1..whole.len() {
        let (first, keep) = uris(&whole[..cut]);
        let kept = &whole[cut - keep..cut];
        let mut next = kept.to_vec();
        next.extend_from_slice(&whole[cut..]);
        let (second, keep2) = uris(&next);
        let mut all = first.clone();
        all.extend(second);
        assert_eq!(all, ["/form", "/a"], "cut at {cut}");
        assert_eq!(keep2, 0, "cut at {cut}");
        // What was reported first is not kept again.
        assert!(cut - keep >= if first.is_empty() { 0 } else { POST.len() });
    }
}

#[test]
fn stray_line_ends_before_a_request_are_skipped() {
    let mut buf = b"\r\n".to_vec();
    buf.extend_from_slice(GET);
    assert_eq!(uris(&buf).0, ["/a"]);
    let mut req = [0u8; 1];
    req[0] = b'\r';
    // A lone CR could be the start of a CRLF: kept, nothing reported.
    assert_eq!(uris(&req), (vec![], 1));
}

#[test]
fn a_large_body_is_reported_at_its_head_and_not_kept() {
    let head = b"POST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: 1000000\r\n\r\n";
    let mut buf = head.to_vec();
    buf.extend_from_slice(&[b'x'; 1000]);
    let (found, keep) = uris(&buf);
    assert_eq!(found, ["/upload"]);
    assert_eq!(keep, 0);
    // A small body that is not complete yet is waited for.
    let head = b"POST /small HTTP/1.1\r\nHost: h\r\nContent-Length: 2000\r\n\r\n";
    let mut buf = head.to_vec();
    buf.extend_from_slice(&[b'x'; 1000]);
    assert_eq!(uris(&buf), (vec![], buf.len()));
    buf.extend_from_slice(&[b'x'; 1000]);
    assert_eq!(uris(&buf), (vec!["/small".to_string()], 0));
}

#[test]
fn a_chunked_body_is_waited_for_until_it_outgrows_the_limit() {
    let head = b"POST /chunks HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
    let mut buf = head.to_vec();
    buf.extend_from_slice(b"100\r\n");
    buf.extend_from_slice(&[b'y'; 0x100]);
    buf.extend_from_slice(b"\r\n");
    assert_eq!(uris(&buf), (vec![], buf.len()));
    while buf.len() <= MAX_HELD_MESSAGE {
        buf.extend_from_slice(b"100\r\n");
        buf.extend_from_slice(&[b'y'; 0x100]);
        buf.extend_from_slice(b"\r\n");
    }
    assert_eq!(uris(&buf), (vec!["/chunks".to_string()], 0));
}

#[test]
fn garbage_is_never_kept() {
    for bad in [
        &b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"[..],
        b"SSH-2.0-OpenSSH_9.6\r\n",
        b"GET\x00/ HTTP/1.1\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
    ] {
        let mut it = HttpRequests::new(bad);
        assert_eq!(it.next(), None, "{bad:?}");
        assert_eq!(it.keep(), 0, "{bad:?}");
        assert!(it.hit_garbage(), "{bad:?}");
    }
    // A valid request followed by garbage: the request, then nothing kept.
    let mut buf = GET.to_vec();
    buf.extend_from_slice(b"\x00\x01binary");
    assert_eq!(uris(&buf), (vec!["/a".to_string()], 0));
}

#[test]
fn an_overlong_head_stops_being_kept() {
    let mut buf = b"GET / HTTP/1.1\r\nX: ".to_vec();
    buf.resize(crate::proto::http::MAX_HEADER_BLOCK + 10, b'a');
    assert_eq!(uris(&buf), (vec![], 0));
}

#[test]
fn responses_split_and_pipelined() {
    let a = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc";
    let b = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
    let mut buf = a.to_vec();
    buf.extend_from_slice(b);
    for cut in 1..buf.len() {
        let mut it = HttpResponses::new(&buf[..cut]);
        let first: Vec<u16> = it.by_ref().map(|r| r.status).collect();
        let keep = it.keep();
        let mut next = buf[cut - keep..cut].to_vec();
        next.extend_from_slice(&buf[cut..]);
        let second: Vec<u16> = HttpResponses::new(&next).map(|r| r.status).collect();
        let mut all = first;
        all.extend(second);
        assert_eq!(all, [200, 404], "cut at {cut}");
    }
}

#[test]
fn dns_over_tcp_split_and_malformed() {
    let mut msg = Vec::new();
    mos_synth::dns::write_query(&mut msg, 7, "www.example.com", 1).unwrap();
    let mut stream = (msg.len() as u16).to_be_bytes().to_vec();
    stream.extend_from_slice(&msg);
    let one = stream.len();
    stream.extend_from_slice(&stream.clone());
    let names = |buf: &[u8]| {
        let mut it = DnsTcpQueries::new(buf);
        let n: Vec<String> = it.by_ref().map(|q| q.name().unwrap().to_string()).collect();
        (n, it.keep())
    };
    assert_eq!(names(&stream).0, ["www.example.com", "www.example.com"]);
    assert_eq!(
        names(&stream[..one + 5]),
        (vec!["www.example.com".into()], 5)
    );
    assert_eq!(names(&stream[..1]), (vec![], 1));
    // A length prefix followed by a message that is not DNS: nothing, nothing kept.
    assert_eq!(names(b"\x00\x04\xff\xff\xff\xff"), (vec![], 0));
}

// ---------------------------------------------------------------------------------------------
// Whole runs: an app built on the library events.

#[crate::app]
mod lib_app {
    use crate::library;
    use crate::prelude::*;

    #[flow_state]
    #[derive(Default)]
    pub struct Flow;

    #[core_state]
    #[derive(Default)]
    pub struct Seen {
        /// `METHOD host uri`.
        pub requests: Vec<String>,
        pub statuses: Vec<u16>,
        /// The SNI of each ClientHello, `-` when it has none.
        pub hellos: Vec<String>,
        pub dns: Vec<String>,
        /// Names of the UDP queries for AAAA records (an app event on `DnsQuery`).
        pub aaaa: Vec<String>,
        pub dns_tcp: Vec<String>,
        /// Bytes each search-query handler saw kept unread from a previous dispatch.
        pub searches: Vec<String>,
    }

    #[on(event = crate::library::HttpRequest, hook = RCV)]
    fn on_request(cx: &mut Cx<'_, Flow, Seen>) {
        let found: Vec<String> = library::http_requests(cx)
            .map(|r| {
                format!(
                    "{} {} {}",
                    r.method_str().unwrap_or("?"),
                    r.host_str().unwrap_or("-"),
                    r.uri_str().unwrap_or("?")
                )
            })
            .collect();
        assert!(!found.is_empty(), "the filter said there is a request");
        cx.core_mut().requests.extend(found);
    }

    /// An app event on a library event.
    #[event(base = crate::library::HttpRequest, filter = is_search)]
    pub struct Search;

    fn is_search(cx: &FilterCx<'_, Flow, Seen>) -> bool {
        library::http_requests(cx).any(|r| r.uri.starts_with(b"/search?"))
    }

    #[on(event = Search, hook = RCV)]
    fn on_search(cx: &mut Cx<'_, Flow, Seen>) {
        let q: Vec<String> = library::http_requests(cx)
            .filter_map(|r| r.uri_str().and_then(|u| u.strip_prefix("/search?q=")))
            .map(str::to_string)
            .collect();
        cx.core_mut().searches.extend(q);
    }

    #[on(event = crate::library::HttpResponse, hook = RCV)]
    fn on_response(cx: &mut Cx<'_, Flow, Seen>) {
        let found: Vec<u16> = library::http_responses(cx).map(|r| r.status).collect();
        cx.core_mut().statuses.extend(found);
    }

    #[on(event = crate::library::TlsClientHello, hook = RCV)]
    fn on_hello(cx: &mut Cx<'_, Flow, Seen>) {
        let sni = library::tls_client_hello(cx)
            .map(|h| h.sni().unwrap_or("-").to_string())
            .unwrap_or_else(|| "?".to_string());
        cx.core_mut().hellos.push(sni);
    }

    #[on(event = crate::library::DnsTcpQuery, hook = RCV)]
    fn on_dns_tcp(cx: &mut Cx<'_, Flow, Seen>) {
        let names: Vec<String> = library::dns_tcp_queries(cx)
            .map(|q| q.name().unwrap_or("?").to_string())
            .collect();
        cx.core_mut().dns_tcp.extend(names);
    }

    #[on(event = crate::library::DnsQuery, hook = NULL)]
    fn on_dns(cx: &mut PacketCx<'_, Seen>) {
        if let Some(q) = library::dns_query(cx) {
            let name = q.name().unwrap_or("?").to_string();
            cx.core_mut().dns.push(name);
        }
    }

    /// An app event on the packet-level library event: its filter takes `&PacketCx` too.
    #[event(base = crate::library::DnsQuery, filter = is_aaaa)]
    pub struct AaaaQuery;

    fn is_aaaa(cx: &PacketCx<'_, Seen>) -> bool {
        library::dns_query(cx).is_some_and(|q| q.qtype() == 28)
    }

    #[on(event = AaaaQuery, hook = NULL)]
    fn on_aaaa(cx: &mut PacketCx<'_, Seen>) {
        let name = library::dns_query(cx).and_then(|q| q.name().map(str::to_string));
        cx.core_mut().aaaa.push(name.unwrap_or_default());
    }
}

use lib_app::Seen;

fn run_bytes(pcap: Vec<u8>, batch: usize) -> Seen {
    Runtime::builder()
        .pcap_bytes(pcap)
        .progress(false)
        .batch_size(batch)
        .build()
        .unwrap()
        .run_with_core::<lib_app::App>()
        .unwrap()
        .1
}

#[test]
fn split_requests_responses_and_hello_over_one_byte_segments() {
    let mut hello = Vec::new();
    mos_synth::tls::write_client_hello(
        &mut hello,
        &mos_synth::tls::ClientHello {
            version: mos_synth::tls::TlsVersion::Tls13,
            sni: "split.example.org",
            random: [7; 32],
            session_id: &[1; 32],
            key_share: [9; 32],
            alpn: &["h2", "http/1.1"],
        },
    )
    .unwrap();
    for batch in [1, 32] {
        let mut t = Script::new();
        let web = t.tcp("10.0.0.1:40000", "10.0.0.2:80");
        t.handshake(web);
        t.set_mss(web, Client, 1);
        t.send(web, Client, POST);
        t.send(
            web,
            Client,
            b"GET /search?q=mos HTTP/1.1\r\nHost: s\r\n\r\n",
        );
        t.set_mss(web, Server, 3);
        t.send(
            web,
            Server,
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        );
        t.send(
            web,
            Server,
            b"HTTP/1.1 302 Found\r\nContent-Length: 0\r\n\r\n",
        );
        t.close(web);
        let tls = t.tcp("10.0.0.1:40001", "10.0.0.3:443");
        t.handshake(tls);
        t.set_mss(tls, Client, 7);
        t.send(tls, Client, &hello);
        t.send(tls, Client, b"\x17\x03\x03\x00\x05abcde");
        t.close(tls);
        let seen = run_bytes(t.to_pcap(), batch);
        assert_eq!(
            seen.requests,
            ["POST example.com /form", "GET s /search?q=mos"],
            "batch {batch}"
        );
        assert_eq!(seen.searches, ["mos"], "batch {batch}");
        assert_eq!(seen.statuses, [200, 302], "batch {batch}");
        assert_eq!(seen.hellos, ["split.example.org"], "batch {batch}");
    }
}

#[test]
fn dns_over_udp_and_tcp() {
    let mut q = Vec::new();
    mos_synth::dns::write_query(&mut q, 1, "udp.example.com", 1).unwrap();
    let mut q6 = Vec::new();
    mos_synth::dns::write_query(&mut q6, 3, "v6.example.com", 28).unwrap();
    let mut answer = Vec::new();
    mos_synth::dns::write_response(
        &mut answer,
        3,
        "v6.example.com",
        28,
        &["2001:db8::1".parse().unwrap()],
        60,
    )
    .unwrap();
    let mut t = Script::new();
    t.udp("10.0.0.1:5353", "10.0.0.53:53", &q);
    t.udp("10.0.0.1:5354", "10.0.0.53:53", &q6);
    // An answer (QR = 1), even to port 53, is not a query.
    t.udp("10.0.0.53:53", "10.0.0.1:53", &answer);
    // Not to port 53: not a DNS query for the library.
    t.udp("10.0.0.1:5353", "10.0.0.53:5353", &q);
    let c = t.tcp("10.0.0.1:40002", "10.0.0.53:53");
    t.handshake(c);
    let mut tq = Vec::new();
    mos_synth::dns::write_query(&mut tq, 2, "tcp.example.com", 28).unwrap();
    let mut framed = (tq.len() as u16).to_be_bytes().to_vec();
    framed.extend_from_slice(&tq);
    t.set_mss(c, Client, 4);
    t.send(c, Client, &framed);
    t.close(c);
    let seen = run_bytes(t.to_pcap(), 1);
    assert_eq!(seen.dns, ["udp.example.com", "v6.example.com"]);
    assert_eq!(seen.aaaa, ["v6.example.com"]);
    assert_eq!(seen.dns_tcp, ["tcp.example.com"]);
}

// ---------------------------------------------------------------------------------------------
// Public captures.

fn public_trace(name: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("MOS_TRACES").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/traces/public"),
        PathBuf::from,
    );
    let path = dir.join(name);
    if path.is_file() {
        return Some(path);
    }
    let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
    assert!(
        !ci,
        "{} missing; CI=true requires the public traces",
        path.display()
    );
    eprintln!("skipped: {} not found (set MOS_TRACES)", path.display());
    None
}

fn run_trace(name: &str) -> Option<Seen> {
    let path = public_trace(name)?;
    Some(run_bytes(std::fs::read(path).unwrap(), 32))
}

#[test]
fn public_http_pipelined() {
    let Some(seen) = run_trace("zeek-http-pipelined.pcap") else {
        return;
    };
    // The five requests tshark reports (zeek-http-pipelined.oracle.json), in order.
    assert_eq!(
        seen.requests,
        [
            "GET www.mozilla.org /style/enhanced.css",
            "GET www.mozilla.org /script/urchin.js",
            "GET www.mozilla.org /images/template/screen/bullet_utility.png",
            "GET www.mozilla.org /images/template/screen/key-point-top.png",
            "GET www.mozilla.org /projects/calendar/images/header-sunbird.png",
        ]
    );
    assert_eq!(seen.statuses, [200; 5]);
    assert!(seen.hellos.is_empty() && seen.dns.is_empty());
}

#[test]
fn public_http_get_in_vlan_and_qinq() {
    for trace in [
        "zeek-http-get.pcap",
        "zeek-http-vlan.pcap",
        "zeek-http-qinq.pcap",
    ] {
        let Some(seen) = run_trace(trace) else {
            return;
        };
        assert_eq!(seen.requests.len(), 1, "{trace}");
        assert!(
            seen.requests[0].starts_with("GET "),
            "{trace}: {:?}",
            seen.requests
        );
        assert_eq!(seen.statuses.len(), 1, "{trace}");
    }
}

#[test]
fn public_tls_hellos() {
    if let Some(seen) = run_trace("sv-tls-fin-close.pcap") {
        assert_eq!(seen.hellos, ["rr4---sn-5hne6nzy.googlevideo.com"]);
    }
    // 73 connections, one ClientHello each, none with a server name (tshark agrees: 73
    // handshake type 1 messages, no extensions_server_name).
    if let Some(seen) = run_trace("retina-tls-ciphers.pcap") {
        assert_eq!(seen.hellos.len(), 73);
        assert!(seen.hellos.iter().all(|s| s == "-"), "{:?}", seen.hellos);
        assert!(seen.requests.is_empty());
    }
}

#[test]
fn public_http_with_urgent_data() {
    // tshark: one request, `GET /malicXious` (the urgent byte stays in the stream).
    if let Some(seen) = run_trace("sv-tcp-urgent.pcap") {
        assert_eq!(seen.requests, ["GET 10.10.10.55:9090 /malicXious"]);
    }
}

#[test]
fn public_dns_udp() {
    if let Some(seen) = run_trace("tcpdump-dns-udp.pcap") {
        // The query (to port 53); the answer (QR = 1, from port 53) is not a query.
        assert_eq!(seen.dns, ["www.tcpdump.org"]);
        assert!(seen.aaaa.is_empty(), "{:?}", seen.aaaa);
    }
    // tshark: one IPv6 query, `A example.com`, on a raw-IP link.
    if let Some(seen) = run_trace("tcpdump-linktype-raw-ipv6.pcap") {
        assert_eq!(seen.dns, ["example.com"]);
    }
    // DHCP over UDP (ports 67 and 68): UDP, but not DNS.
    if let Some(seen) = run_trace("pcapparser-test001-be.pcapng") {
        assert!(seen.dns.is_empty(), "{:?}", seen.dns);
    }
}

#[test]
fn public_traces_never_confuse_the_library() {
    // Non-HTTP, non-TLS traffic: SSH with duplicated segments, SMTP over IPv6.
    for trace in ["zeek-tcp-ssh-dups.pcap", "zeek-ipv6-smtp.pcap"] {
        if let Some(seen) = run_trace(trace) {
            assert!(seen.requests.is_empty(), "{trace}: {:?}", seen.requests);
            assert!(seen.hellos.is_empty(), "{trace}: {:?}", seen.hellos);
            assert!(seen.statuses.is_empty(), "{trace}: {:?}", seen.statuses);
        }
    }
}
