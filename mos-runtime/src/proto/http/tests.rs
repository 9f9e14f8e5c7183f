#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

use super::*;

/// The request of zeek-http-get.pcap, byte for byte.
const BRO_GET: &[u8] = b"GET /download/CHANGES.bro-aux.txt HTTP/1.1\r\n\
User-Agent: Wget/1.14 (darwin12.2.0)\r\n\
Accept: */*\r\n\
Host: bro.org\r\n\
Connection: Keep-Alive\r\n\
\r\n";

/// A Firefox request in the style of zeek-http-pipelined.pcap.
fn firefox(uri: &str) -> Vec<u8> {
    format!(
        "GET {uri} HTTP/1.1\r\n\
Host: www.mozilla.org\r\n\
User-Agent: Mozilla/5.0 (Windows; U; Windows NT 5.1; en-US; rv:1.9.1.5) Gecko/20091102 Firefox/3.5.5\r\n\
Accept: */*\r\n\
Accept-Language: en-us,en;q=0.5\r\n\
Accept-Encoding: gzip,deflate\r\n\
Accept-Charset: ISO-8859-1,utf-8;q=0.7,*;q=0.7\r\n\
Keep-Alive: 300\r\n\
Connection: keep-alive\r\n\
Referer: http://www.mozilla.org/projects/calendar/\r\n\
\r\n"
    )
    .into_bytes()
}

const PIPELINED_URIS: [&str; 5] = [
    "/style/enhanced.css",
    "/script/urchin.js",
    "/images/template/screen/bullet_utility.png",
    "/images/template/screen/key-point-top.png",
    "/projects/calendar/images/header-sunbird.png",
];

fn pipelined() -> Vec<u8> {
    PIPELINED_URIS.iter().flat_map(|u| firefox(u)).collect()
}

fn complete(buf: &[u8]) -> Request<'_> {
    match parse_request(buf) {
        Parse::Complete(r) => r,
        other => panic!("expected a complete request, got {other:?}"),
    }
}

/// (method, uri, host) of a request, owned, for comparisons across buffers.
fn key(r: &Request<'_>) -> (String, String, Option<String>) {
    (
        r.method_str().unwrap().to_owned(),
        r.uri_str().unwrap().to_owned(),
        r.host_str().map(str::to_owned),
    )
}

/// Feeds `stream` to `requests` in segments cut at `cuts`, as the runtime does: each call sees
/// the kept bytes plus the new segment and keeps `pending()`.
fn feed_segments(stream: &[u8], cuts: &[usize]) -> Vec<(String, String, Option<String>)> {
    let mut found = Vec::new();
    let mut buffer: Vec<u8> = Vec::new();
    let mut last = 0;
    for &cut in cuts.iter().chain(std::iter::once(&stream.len())) {
        buffer.extend_from_slice(&stream[last..cut]);
        last = cut;
        let mut it = requests(&buffer);
        found.extend(it.by_ref().map(|r| key(&r)));
        assert_ne!(it.end(), Some(End::Invalid), "invalid at cut {cut}");
        assert_eq!(it.consumed() + it.pending(), buffer.len());
        let keep = it.pending();
        buffer.drain(..buffer.len() - keep);
    }
    assert!(buffer.is_empty(), "bytes left over: {buffer:?}");
    found
}

#[test]
fn real_get_request() {
    let r = complete(BRO_GET);
    assert_eq!(r.method, b"GET");
    assert_eq!(r.uri_str(), Some("/download/CHANGES.bro-aux.txt"));
    assert_eq!(r.version, 1);
    assert_eq!(r.host_str(), Some("bro.org"));
    assert_eq!(r.header_len, BRO_GET.len());
    assert_eq!(r.content_length, None);
    assert!(!r.chunked);
    assert_eq!(r.framing(), Framing::None);
    let headers: Vec<_> = r.headers().map(|h| (h.name, h.value)).collect();
    assert_eq!(
        headers,
        [
            (&b"User-Agent"[..], &b"Wget/1.14 (darwin12.2.0)"[..]),
            (b"Accept", b"*/*"),
            (b"Host", b"bro.org"),
            (b"Connection", b"Keep-Alive"),
        ]
    );
    assert_eq!(r.header("CONNECTION"), Some(&b"Keep-Alive"[..]));
    assert_eq!(r.header("cookie"), None);
}

#[test]
fn body_after_head_is_not_read() {
    let mut buf = BRO_GET.to_vec();
    buf.extend_from_slice(b"\x16\x03\x01 whatever follows");
    assert_eq!(complete(&buf).header_len, BRO_GET.len());
}

#[test]
fn every_prefix_is_partial_then_complete() {
    for msg in [
        BRO_GET.to_vec(),
        firefox("/a?b=c"),
        b"OPTIONS * HTTP/1.0\n\n".to_vec(),
    ] {
        let whole = complete(&msg);
        for n in 0..msg.len() {
            assert_eq!(
                parse_request(&msg[..n]),
                Parse::Partial,
                "prefix {n} of {:?}",
                whole.uri
            );
        }
        assert_eq!(complete(&msg), whole);
    }
}

#[test]
fn bare_lf_and_http10() {
    let r = complete(b"POST /submit HTTP/1.0\nHost: a.example\nContent-Length: 3\n\nabc");
    assert_eq!(r.method_str(), Some("POST"));
    assert_eq!(r.version, 0);
    assert_eq!(r.host, Some(&b"a.example"[..]));
    assert_eq!(r.content_length, Some(3));
    assert_eq!(r.header_len, 57);
    assert_eq!(r.headers().count(), 2);
}

#[test]
fn header_names_case_insensitive_and_values_trimmed() {
    let r = complete(b"GET / HTTP/1.1\r\nhOsT: \t example.org \t\r\ncontent-LENGTH:0\r\n\r\n");
    assert_eq!(r.host, Some(&b"example.org"[..]));
    assert_eq!(r.content_length, Some(0));
    assert_eq!(r.framing(), Framing::None);
    let r = complete(b"GET / HTTP/1.1\r\nHost:\r\nX-Empty:   \r\n\r\n");
    assert_eq!(r.host, Some(&b""[..]));
    assert_eq!(r.header("x-empty"), Some(&b""[..]));
}

#[test]
fn all_methods_and_webdav() {
    for m in METHODS {
        let mut buf = m.to_vec();
        buf.extend_from_slice(b" /x HTTP/1.1\r\n\r\n");
        assert_eq!(complete(&buf).method, m);
        assert!(looks_like_request_start(&buf));
    }
}

#[test]
fn looks_like_request_start_prefixes() {
    for yes in [
        "G",
        "GE",
        "GET",
        "GET ",
        "GET /",
        "P",
        "PROPF",
        "DELETE /x",
        "MKCOL ",
    ] {
        assert!(looks_like_request_start(yes.as_bytes()), "{yes}");
    }
    for no in [
        "",
        "get /",
        "GETS /",
        "X",
        "PRI * HTTP/2.0",
        "HTTP/1.1 200",
        "\x16\x03\x01",
    ] {
        assert!(!looks_like_request_start(no.as_bytes()), "{no}");
    }
}

#[test]
fn garbage_is_invalid_at_once() {
    // Short garbage is refused without waiting for a line end.
    for g in [
        &b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"[..],
        b"\x00",
        b"GXT",
        b"get / HTTP/1.1\r\n\r\n",
        b"GETX / HTTP/1.1\r\n",
        b"GET  / HTTP/1.1\r\n\r\n",
        b"GET /a\x01b",
        b"GET / HTTP/2.0\r\n\r\n",
        b"GET / HTTP/1.2",
        b"GET / HTTX",
        b"GET /\r\n",
        b"GET / HTTP/1.1 \r\n\r\n",
        b"GET / HTTP/1.1\rX",
        b"GET / HTTP/1.1\r\n Host: folded\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost : a\r\n\r\n",
        b"GET / HTTP/1.1\r\nHo(st: a\r\n",
        b"GET / HTTP/1.1\r\nHost: a\x00b",
        b"GET / HTTP/1.1\r\nHost: a\rb",
        b"GET / HTTP/1.1\r\nNoColon\r\n\r\n",
    ] {
        assert_eq!(
            parse_request(g),
            Parse::Invalid,
            "{:?}",
            String::from_utf8_lossy(g)
        );
    }
}

#[test]
fn request_line_limit() {
    // Exactly MAX_START_LINE bytes with its CRLF: accepted.
    let fixed = "GET / HTTP/1.1\r\n".len();
    let uri = format!("/{}", "a".repeat(MAX_START_LINE - fixed));
    let ok = format!("GET {uri} HTTP/1.1\r\n\r\n");
    assert_eq!(complete(ok.as_bytes()).uri.len(), uri.len());
    // One byte more: refused, complete or not.
    let long = format!("GET {uri}a HTTP/1.1\r\n\r\n");
    assert_eq!(parse_request(long.as_bytes()), Parse::Invalid);
    let unterminated = format!("GET /{}", "a".repeat(MAX_START_LINE));
    assert_eq!(parse_request(unterminated.as_bytes()), Parse::Invalid);
    // A shorter unterminated line is only waiting.
    assert_eq!(
        parse_request(&unterminated.as_bytes()[..MAX_START_LINE - 1]),
        Parse::Partial
    );
}

#[test]
fn header_block_and_count_limits() {
    let mut ok = b"GET / HTTP/1.1\r\n".to_vec();
    for i in 0..MAX_HEADERS {
        ok.extend_from_slice(format!("X-H{i}: v\r\n").as_bytes());
    }
    let mut too_many = ok.clone();
    ok.extend_from_slice(b"\r\n");
    assert_eq!(complete(&ok).headers().count(), MAX_HEADERS);
    too_many.extend_from_slice(b"X-One-More: v\r\n\r\n");
    assert_eq!(parse_request(&too_many), Parse::Invalid);

    // A block over 64 KiB made of a few long header lines.
    let mut big = b"GET / HTTP/1.1\r\n".to_vec();
    for _ in 0..3 {
        big.extend_from_slice(format!("X-Big: {}\r\n", "v".repeat(30_000)).as_bytes());
    }
    assert!(big.len() > MAX_HEADER_BLOCK);
    assert_eq!(parse_request(&big), Parse::Invalid, "unterminated");
    big.extend_from_slice(b"\r\n");
    assert_eq!(parse_request(&big), Parse::Invalid, "terminated");
}

#[test]
fn hostile_content_length() {
    let req = |cl: &str| format!("POST / HTTP/1.1\r\nContent-Length: {cl}\r\n\r\n").into_bytes();
    for bad in [
        "99999999999999999999",
        "18446744073709551616",
        "-1",
        "1 2",
        "0x10",
        "",
        "+5",
        "5, 5",
    ] {
        assert_eq!(parse_request(&req(bad)), Parse::Invalid, "{bad:?}");
        let buf = req(bad);
        let mut it = requests(&buf);
        assert!(it.next().is_none());
        assert_eq!(it.end(), Some(End::Invalid));
    }
    // The largest u64 is a valid (if absurd) length: the request waits for its body.
    let buf = req("18446744073709551615");
    assert_eq!(complete(&buf).content_length, Some(u64::MAX));
    let mut it = requests(&buf);
    assert!(it.next().is_none());
    assert_eq!(
        (it.end(), it.consumed(), it.pending()),
        (Some(End::NeedMore), 0, buf.len())
    );
    // In resume mode it is yielded and the body carried.
    let mut it = Requests::resume(&buf, BodyState::IDLE);
    assert_eq!(it.next().unwrap().content_length, Some(u64::MAX));
    assert!(it.next().is_none());
    assert_eq!((it.end(), it.consumed()), (Some(End::Drained), buf.len()));
    assert!(!it.state().is_idle());
}

#[test]
fn duplicate_headers() {
    let same = b"POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok";
    assert_eq!(complete(same).content_length, Some(2));
    let differ = b"POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok";
    assert_eq!(parse_request(differ), Parse::Invalid);
    let hosts = b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n";
    assert_eq!(parse_request(hosts), Parse::Invalid);
}

#[test]
fn transfer_encoding() {
    let r = complete(b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n");
    assert!(r.chunked);
    // Chunked overrides a Content-Length.
    let r =
        complete(b"POST / HTTP/1.1\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n");
    assert_eq!(
        (r.chunked, r.content_length, r.framing()),
        (true, Some(100), Framing::Chunked)
    );
    // Several lines form one list.
    let r = complete(
        b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n",
    );
    assert!(r.chunked);
    // A request whose final coding is not chunked cannot be framed.
    for bad in [&b"gzip"[..], b"chunked, gzip", b"chunkedx"] {
        let mut buf = b"POST / HTTP/1.1\r\nTransfer-Encoding: ".to_vec();
        buf.extend_from_slice(bad);
        buf.extend_from_slice(b"\r\n\r\n");
        assert_eq!(
            parse_request(&buf),
            Parse::Invalid,
            "{:?}",
            String::from_utf8_lossy(bad)
        );
    }
}

#[test]
fn pipelined_five_requests() {
    let stream = pipelined();
    let mut it = requests(&stream);
    let uris: Vec<_> = it
        .by_ref()
        .map(|r| r.uri_str().unwrap().to_owned())
        .collect();
    assert_eq!(uris, PIPELINED_URIS);
    assert_eq!(
        (it.end(), it.consumed(), it.pending()),
        (Some(End::Drained), stream.len(), 0)
    );
}

#[test]
fn pipelined_split_at_every_byte() {
    let stream = pipelined();
    let want: Vec<_> = requests(&stream).map(|r| key(&r)).collect();
    assert_eq!(want.len(), 5);
    for cut in 0..=stream.len() {
        assert_eq!(feed_segments(&stream, &[cut]), want, "cut at {cut}");
    }
    // One byte per segment.
    let cuts: Vec<usize> = (1..stream.len()).collect();
    assert_eq!(feed_segments(&stream, &cuts), want);
}

#[test]
fn bodies_by_length_and_chunked() {
    let stream = b"POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello world\
POST /b HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n\
5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n\
GET /c HTTP/1.1\r\nHost: h\r\n\r\n";
    let mut it = requests(stream);
    let got: Vec<_> = it.by_ref().map(|r| (r.uri, r.framing())).collect();
    assert_eq!(
        got,
        [
            (&b"/a"[..], Framing::Length(11)),
            (b"/b", Framing::Chunked),
            (b"/c", Framing::None)
        ]
    );
    assert_eq!(
        (it.end(), it.consumed()),
        (Some(End::Drained), stream.len())
    );
    let want: Vec<_> = requests(stream).map(|r| key(&r)).collect();
    for cut in 0..=stream.len() {
        assert_eq!(feed_segments(stream, &[cut]), want, "cut at {cut}");
    }
}

#[test]
fn incomplete_body_is_pending_from_its_head() {
    let stream = b"GET /1 HTTP/1.1\r\n\r\nPOST /2 HTTP/1.1\r\nContent-Length: 10\r\n\r\n12345";
    let mut it = requests(stream);
    assert_eq!(it.next().unwrap().uri, b"/1");
    assert!(it.next().is_none());
    assert_eq!(it.end(), Some(End::NeedMore));
    assert_eq!(it.consumed(), 19);
    assert_eq!(it.pending(), stream.len() - 19);
}

#[test]
fn bad_chunks_are_invalid() {
    for body in [
        &b"zz\r\n"[..],
        b"\r\n",
        b"5\r\nhelloXX",
        b"5\r\nhello\r\n0\r\nBad trailer\x00\r\n\r\n",
        b"11111111111111111\r\n",
        b"5\r\nhello\r\n0\r\n\rX",
    ] {
        assert_eq!(
            chunked_body_len(body),
            Parse::Invalid,
            "{:?}",
            String::from_utf8_lossy(body)
        );
    }
    let long_ext = format!("1;{}\r\nx\r\n0\r\n\r\n", "e".repeat(MAX_CHUNK_EXT + 1));
    assert_eq!(chunked_body_len(long_ext.as_bytes()), Parse::Invalid);
    let longest = format!("1;{}\r\nx\r\n0\r\n\r\n", "e".repeat(MAX_CHUNK_EXT - 1));
    assert_eq!(
        chunked_body_len(longest.as_bytes()),
        Parse::Complete(longest.len())
    );
    let long_ws = format!("1{}\r\nx\r\n0\r\n\r\n", " ".repeat(MAX_CHUNK_EXT + 1));
    assert_eq!(chunked_body_len(long_ws.as_bytes()), Parse::Invalid);
    // The largest size is fine and waits for its data.
    assert_eq!(chunked_body_len(b"ffffffffffffffff\r\nabc"), Parse::Partial);
    assert_eq!(chunked_body_len(b"0\r\n\r\nGET"), Parse::Complete(5));
    assert_eq!(chunked_body_len(b"0\n\n"), Parse::Complete(3));
    let body = b"a\r\n0123456789\r\n0\r\nA: b\r\nC: d\r\n\r\n";
    for n in 0..body.len() {
        assert_eq!(chunked_body_len(&body[..n]), Parse::Partial, "prefix {n}");
    }
    assert_eq!(chunked_body_len(body), Parse::Complete(body.len()));
}

#[test]
fn empty_lines_between_requests() {
    let stream = b"\r\nGET /1 HTTP/1.1\r\n\r\n\r\n\nGET /2 HTTP/1.1\r\n\r\n\r";
    let mut it = requests(stream);
    assert_eq!(it.by_ref().count(), 2);
    assert_eq!((it.end(), it.pending()), (Some(End::NeedMore), 1));
    let flood = b"\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\n\r\n";
    let mut it = requests(flood);
    assert!(it.next().is_none());
    assert_eq!(
        (it.end(), it.consumed()),
        (Some(End::Invalid), 2 * MAX_LEADING_EMPTY_LINES + 2)
    );
}

#[test]
fn invalid_after_valid_requests() {
    let stream = b"GET /1 HTTP/1.1\r\n\r\n\x16\x03\x01garbage";
    let mut it = requests(stream);
    assert_eq!(it.next().unwrap().uri, b"/1");
    assert!(it.next().is_none());
    assert_eq!(
        (it.end(), it.consumed(), it.pending()),
        (Some(End::Invalid), 19, 0)
    );
}

#[test]
fn resume_carries_bodies_across_buffers() {
    let big = "x".repeat(5000);
    let stream = format!(
        "POST /up HTTP/1.1\r\nContent-Length: 5000\r\n\r\n{big}\
POST /ch HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1388\r\n{big}\r\n0\r\n\r\n\
GET /after HTTP/1.1\r\n\r\n"
    );
    let stream = stream.as_bytes();
    for seg in [1, 7, 100, 1460, stream.len()] {
        let mut state = BodyState::IDLE;
        let mut kept: Vec<u8> = Vec::new();
        let mut uris = Vec::new();
        let mut max_kept = 0;
        for chunk in stream.chunks(seg) {
            kept.extend_from_slice(chunk);
            let mut it = Requests::resume(&kept, state);
            uris.extend(it.by_ref().map(|r| r.uri_str().unwrap().to_owned()));
            assert_ne!(it.end(), Some(End::Invalid));
            assert_eq!(it.consumed() + it.pending(), kept.len());
            state = it.state();
            let keep = it.pending();
            kept.drain(..kept.len() - keep);
            max_kept = max_kept.max(kept.len());
        }
        assert_eq!(uris, ["/up", "/ch", "/after"], "segments of {seg}");
        assert!(state.is_idle() && kept.is_empty());
        // Only heads are ever kept, never bodies.
        assert!(
            max_kept < 60,
            "kept {max_kept} bytes with segments of {seg}"
        );
    }
}

// --- responses -------------------------------------------------------------------------------

const NETSCALER: &[u8] = b"HTTP/1.1 200 OK\r\n\
Date: Wed, 18 Nov 2009 20:53:15 GMT\r\n\
Cache-Control: max-age=900       \r\n\
Connection: Keep-Alive\r\n\
ntCoent-Length: 2675\r\n\
Content-Type: text/css\r\n\
Content-Length:        5\r\n\
\r\nhello";

#[test]
fn response_fields() {
    let Parse::Complete(r) = parse_response(NETSCALER) else {
        panic!()
    };
    assert_eq!((r.version, r.status, r.reason), (1, 200, &b"OK"[..]));
    assert_eq!(r.content_length, Some(5));
    assert_eq!(r.header_len, NETSCALER.len() - 5);
    assert_eq!(r.header("ntcoent-length"), Some(&b"2675"[..]));
    assert_eq!(r.header("cache-control"), Some(&b"max-age=900"[..]));
    assert_eq!(r.framing(), Framing::Length(5));
    assert_eq!(r.framing_for(b"HEAD"), Framing::None);
    for n in 0..r.header_len {
        assert_eq!(
            parse_response(&NETSCALER[..n]),
            Parse::Partial,
            "prefix {n}"
        );
    }
    let Parse::Complete(r) = parse_response(b"HTTP/1.0 404\r\n\r\n") else {
        panic!()
    };
    assert_eq!((r.version, r.status, r.reason), (0, 404, &b""[..]));
    let Parse::Complete(r) = parse_response(b"HTTP/1.1 500 Internal  Server Error \n\n") else {
        panic!()
    };
    assert_eq!(r.reason_str(), Some("Internal  Server Error"));
}

#[test]
fn bad_responses() {
    for bad in [
        &b"HTTP/1.1 099 Low\r\n\r\n"[..],
        b"HTTP/1.1 20 OK\r\n\r\n",
        b"HTTP/1.1 2000 OK\r\n\r\n",
        b"HTTP/2 200\r\n\r\n",
        b"http/1.1 200 OK\r\n\r\n",
        b"HTTP/1.1 200 O\x00K\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
        b"GET / HTTP/1.1\r\n\r\n",
    ] {
        assert_eq!(
            parse_response(bad),
            Parse::Invalid,
            "{:?}",
            String::from_utf8_lossy(bad)
        );
    }
    assert!(looks_like_response_start(b"HTTP/1.1 200"));
    assert!(looks_like_response_start(b"HTT"));
    assert!(!looks_like_response_start(b"HTTP/1.2"));
    assert!(!looks_like_response_start(b""));
}

#[test]
fn response_sequence_with_interim_and_no_body_codes() {
    let stream = b"HTTP/1.1 100 Continue\r\n\r\n\
HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n3\r\nabc\r\n0\r\n\r\n\
HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n\
HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n\
HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi\
HTTP/1.0 200 OK\r\nServer: old\r\n\r\nbody until the connection closes";
    let mut it = responses(stream);
    let codes: Vec<_> = it.by_ref().map(|r| r.status).collect();
    assert_eq!(codes, [100, 200, 204, 304, 200, 200]);
    assert_eq!(
        (it.end(), it.consumed(), it.pending()),
        (Some(End::UntilClose), stream.len(), 0)
    );
    // Split anywhere, the same responses come out (the last one once its head is complete).
    for cut in 0..stream.len() {
        let mut it = responses(&stream[..cut]);
        let n = it.by_ref().count();
        let rest = &stream[it.consumed()..];
        assert!(it.consumed() + it.pending() == cut || it.end() == Some(End::UntilClose));
        let more = responses(rest).count();
        assert_eq!(n + more, 6, "cut {cut}");
    }
}

#[test]
fn switching_protocols_ends_http() {
    let stream = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05hello";
    let mut it = responses(stream);
    assert_eq!(it.next().unwrap().status, 101);
    assert!(it.next().is_none());
    assert_eq!(
        (it.end(), it.consumed()),
        (Some(End::UntilClose), stream.len())
    );
    let mut it = Responses::resume(stream, BodyState::IDLE);
    assert_eq!(it.next().unwrap().status, 101);
    assert!(it.state().is_until_close());
    // Later data of that flow is all consumed.
    let mut it = Responses::resume(b"HTTP/1.1 200 OK\r\n\r\n", BodyState(Carry::UntilClose));
    assert!(it.next().is_none());
    assert_eq!((it.end(), it.consumed()), (Some(End::UntilClose), 19));
}

#[test]
fn response_te_without_chunked_reads_until_close() {
    let Parse::Complete(r) =
        parse_response(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 4\r\n\r\n")
    else {
        panic!()
    };
    assert_eq!(r.framing(), Framing::UntilClose);
    assert_eq!(r.framing_for(b"CONNECT"), Framing::UntilClose);
}

#[test]
fn flipped_bytes_never_panic() {
    let stream = b"POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc\
GET /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;x\r\nabc\r\n0\r\nT: 1\r\n\r\n\
HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";
    for i in 0..stream.len() {
        for v in [
            0x00,
            b'\r',
            b'\n',
            b' ',
            b':',
            b'0',
            b'f',
            0x7f,
            0xff,
            stream[i].wrapping_add(1),
        ] {
            let mut buf = stream.to_vec();
            buf[i] = v;
            for carry in [BodyState::IDLE, BodyState(Carry::Chunked(Chunks::START))] {
                let mut it = Requests::resume(&buf, carry);
                for r in it.by_ref() {
                    assert!(r.header_len <= buf.len());
                    let _ = r.headers().count();
                }
                assert!(it.consumed() + it.pending() <= buf.len());
                let mut it = requests(&buf);
                it.by_ref().for_each(drop);
                assert!(it.consumed() + it.pending() <= buf.len());
                let mut it = responses(&buf[i.min(40)..]);
                it.by_ref().for_each(drop);
                assert!(it.end().is_some());
            }
        }
    }
}

/// The byte-at-a-time value scan [`field_value`] reads eight bytes at a time instead of: its
/// byte path from the cursor on.
fn field_value_bytewise<'a>(c: &mut Cursor<'a>) -> Result<&'a [u8], Stop> {
    let (window, out) = scan_window(c);
    let end = c.pos;
    field_value_bytes(c, window, 0, (None, end), out)
}

#[test]
fn word_at_a_time_value_scan_equals_the_bytewise_scan() {
    // Mostly visible bytes and spaces (the word path), with every kind of byte that sends
    // the scan to the byte path: tab, CR, LF, other controls, DEL; and obs-text.
    const ALPHABET: &[u8] = b"aZ09/;=.-  \x80\xff\t\r\n\x01\x1f\x7f";
    let mut state = 0x2545_f491u32;
    let mut next = |n: usize| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        state as usize % n
    };
    for _ in 0..20_000 {
        let len = next(48);
        let mut buf: Vec<u8> = (0..len)
            .map(|_| {
                // Rare special bytes: long runs of the word path.
                let i = next(ALPHABET.len() * 4);
                ALPHABET.get(i).copied().unwrap_or(b'x')
            })
            .collect();
        if next(2) == 0 {
            buf.extend_from_slice(b"\r\n");
        }
        let pos = next(len.max(1)).min(buf.len());
        let limit = if next(4) == 0 {
            next(buf.len() + 2)
        } else {
            usize::MAX
        };
        let mut a = Cursor {
            buf: &buf,
            pos,
            limit,
        };
        let mut b = Cursor {
            buf: &buf,
            pos,
            limit,
        };
        let got = field_value(&mut a);
        let want = field_value_bytewise(&mut b);
        assert_eq!(got, want, "{buf:?} from {pos}, limit {limit}");
        assert_eq!(a.pos, b.pos, "{buf:?} from {pos}, limit {limit}");
    }
}

#[test]
fn zero_bytes_marks_exactly_the_zero_bytes() {
    for w in [
        0u64,
        u64::MAX,
        0x0100_0000_0000_0001,
        0x8000_0000_0000_0080,
        0x00ff_00ff_0001_0100,
    ] {
        let want = w
            .to_le_bytes()
            .iter()
            .enumerate()
            .filter(|(_, b)| **b == 0)
            .fold(0u64, |m, (i, _)| m | 0x80 << (8 * i));
        assert_eq!(zero_bytes(w), want, "{w:#x}");
    }
}
