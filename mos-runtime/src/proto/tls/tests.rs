#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

use super::*;

/// A ClientHello written out byte by byte: TLS 1.3-capable, SNI "example.com", ALPN h2 and
/// http/1.1, one record.
#[rustfmt::skip]
const EXAMPLE_COM: &[u8] = &[
    // record: handshake, TLS 1.0 record version, length 0x006a = 106
    0x16, 0x03, 0x01, 0x00, 0x6a,
    // handshake: ClientHello, length 0x000066 = 102
    0x01, 0x00, 0x00, 0x66,
    // legacy_version TLS 1.2
    0x03, 0x03,
    // random
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
    0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
    // session id: 0 bytes
    0x00,
    // cipher suites: 3 (TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, ECDHE-RSA-AES128-GCM)
    0x00, 0x06, 0x13, 0x01, 0x13, 0x02, 0xc0, 0x2f,
    // compression methods: null
    0x01, 0x00,
    // extensions: 0x0037 = 55 bytes
    0x00, 0x37,
    //   server_name (0), 16 bytes: list of 14: host_name (0), 11 bytes "example.com"
    0x00, 0x00, 0x00, 0x10, 0x00, 0x0e, 0x00, 0x00, 0x0b,
    b'e', b'x', b'a', b'm', b'p', b'l', b'e', b'.', b'c', b'o', b'm',
    //   supported_groups (10), 4 bytes: x25519
    0x00, 0x0a, 0x00, 0x04, 0x00, 0x02, 0x00, 0x1d,
    //   application_layer_protocol_negotiation (16), 14 bytes: list of 12: "h2", "http/1.1"
    0x00, 0x10, 0x00, 0x0e, 0x00, 0x0c, 0x02, b'h', b'2',
    0x08, b'h', b't', b't', b'p', b'/', b'1', b'.', b'1',
    //   supported_versions (43), 5 bytes: list of 4: TLS 1.3, TLS 1.2
    0x00, 0x2b, 0x00, 0x05, 0x04, 0x03, 0x04, 0x03, 0x03,
];

/// The SSL 2.0-compatible ClientHello of retina-tls-ciphers.pcap, stream 64.
const SSLV2_HELLO: &str = "80320103030009000000200000040100800000ff4575c2fa383b34ff9c5aa53c27a31188a5cbd9976dd1cbee23124aba078bc2f1";

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn ext(ty: u16, body: &[u8]) -> Vec<u8> {
    let mut v = ty.to_be_bytes().to_vec();
    v.extend_from_slice(&(body.len() as u16).to_be_bytes());
    v.extend_from_slice(body);
    v
}

fn sni_ext(names: &[(u8, &[u8])]) -> Vec<u8> {
    let mut list = Vec::new();
    for (ty, name) in names {
        list.push(*ty);
        list.extend_from_slice(&(name.len() as u16).to_be_bytes());
        list.extend_from_slice(name);
    }
    let mut body = (list.len() as u16).to_be_bytes().to_vec();
    body.extend_from_slice(&list);
    ext(0, &body)
}

/// A ClientHello handshake message (header included) with `suites` cipher suites and these
/// extensions (`None`: no extensions block at all).
fn handshake(suites: u16, session_id: u8, exts: Option<&[Vec<u8>]>) -> Vec<u8> {
    let mut body = vec![0x03, 0x03];
    body.extend_from_slice(&[0xab; 32]);
    body.push(session_id);
    body.extend(std::iter::repeat_n(0x5a, usize::from(session_id)));
    body.extend_from_slice(&(suites * 2).to_be_bytes());
    for i in 0..suites {
        body.extend_from_slice(&(0x1301 + i).to_be_bytes());
    }
    body.extend_from_slice(&[0x01, 0x00]);
    if let Some(exts) = exts {
        let all: Vec<u8> = exts.concat();
        body.extend_from_slice(&(all.len() as u16).to_be_bytes());
        body.extend_from_slice(&all);
    }
    let mut hs = vec![1];
    hs.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    hs.extend_from_slice(&body);
    hs
}

/// `hs` cut into handshake records of at most `frag` bytes.
fn records(hs: &[u8], frag: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for piece in hs.chunks(frag) {
        out.extend_from_slice(&[0x16, 0x03, 0x01]);
        out.extend_from_slice(&(piece.len() as u16).to_be_bytes());
        out.extend_from_slice(piece);
    }
    out
}

fn complete(buf: &[u8]) -> ClientHello {
    match parse_client_hello(buf) {
        Parse::Complete(h) => h,
        other => panic!("expected a complete ClientHello, got {other:?}"),
    }
}

#[test]
fn hand_built_hello_with_sni() {
    let h = complete(EXAMPLE_COM);
    assert_eq!(h.sni(), Some("example.com"));
    assert_eq!(h.alpn_str(), Some("h2"));
    assert_eq!(h.record_version, 0x0301);
    assert_eq!(h.legacy_version, 0x0303);
    assert_eq!(h.cipher_suites_count, 3);
    assert_eq!(h.extensions_count, 4);
    assert!(h.supported_versions_has_tls13);
    assert!(!h.is_sslv2_compatible());
    assert_eq!(h.len, EXAMPLE_COM.len());
    assert!(looks_like_tls_handshake(EXAMPLE_COM));
}

#[test]
fn every_prefix_is_partial() {
    for n in 0..EXAMPLE_COM.len() {
        assert_eq!(
            parse_client_hello(&EXAMPLE_COM[..n]),
            Parse::Partial,
            "prefix {n}"
        );
        assert!(
            n == 0 || looks_like_tls_handshake(&EXAMPLE_COM[..n]),
            "prefix {n}"
        );
    }
    // Application data after the hello does not change it.
    let mut more = EXAMPLE_COM.to_vec();
    more.extend_from_slice(&[0x17, 0x03, 0x03, 0x00, 0x02, 0xaa, 0xbb]);
    assert_eq!(complete(&more), complete(EXAMPLE_COM));
}

#[test]
fn truncated_lengths_and_flipped_bytes_never_panic() {
    // Shrink the record and handshake lengths (bytes 3-4, 7-8) to every smaller value.
    for cut in 0..EXAMPLE_COM.len() - 5 {
        let mut buf = EXAMPLE_COM.to_vec();
        buf[3..5].copy_from_slice(&(cut as u16).to_be_bytes());
        buf.truncate(5 + cut);
        let r = parse_client_hello(&buf);
        assert!(
            r.is_partial() || r.is_invalid(),
            "record cut to {cut}: {r:?}"
        );
        let mut buf = EXAMPLE_COM.to_vec();
        buf[7..9].copy_from_slice(&(cut as u16).to_be_bytes());
        assert!(
            parse_client_hello(&buf)
                .complete()
                .is_none_or(|h| h.len <= buf.len())
        );
    }
    // Every byte replaced by a few values: any outcome, no panic, sane length.
    for i in 0..EXAMPLE_COM.len() {
        for v in [0x00, 0x01, 0x7f, 0x80, 0xff, EXAMPLE_COM[i].wrapping_add(1)] {
            let mut buf = EXAMPLE_COM.to_vec();
            buf[i] = v;
            if let Parse::Complete(h) = parse_client_hello(&buf) {
                assert!(h.len <= buf.len());
            }
        }
    }
}

#[test]
fn hello_without_sni_or_extensions() {
    let alpn_only = ext(
        16,
        &[
            0x00, 0x09, 0x08, b'h', b't', b't', b'p', b'/', b'1', b'.', b'1',
        ],
    );
    let h = complete(&records(&handshake(2, 32, Some(&[alpn_only])), 16384));
    assert_eq!(h.sni(), None);
    assert_eq!(h.alpn(), Some(&b"http/1.1"[..]));
    assert_eq!((h.cipher_suites_count, h.extensions_count), (2, 1));
    assert!(!h.supported_versions_has_tls13);

    let h = complete(&records(&handshake(40, 0, None), 16384));
    assert_eq!(
        (h.sni(), h.alpn(), h.extensions_count, h.cipher_suites_count),
        (None, None, 0, 40)
    );

    // A server_name list holding only a non-host_name entry.
    let h = complete(&records(
        &handshake(1, 0, Some(&[sni_ext(&[(7, b"other")])])),
        16384,
    ));
    assert_eq!(h.sni(), None);
    // The first host_name entry wins over a later one.
    let h = complete(&records(
        &handshake(1, 0, Some(&[sni_ext(&[(0, b"a.test"), (0, b"b.test")])])),
        99,
    ));
    assert_eq!(h.sni(), Some("a.test"));
}

#[test]
fn hello_fragmented_over_records() {
    let name = "a-rather-long-host-name.subdomain.example.org";
    let exts = [
        ext(0xff01, &[0]),
        sni_ext(&[(0, name.as_bytes())]),
        ext(21, &[0; 300]), // padding
        ext(43, &[0x02, 0x03, 0x04]),
    ];
    let hs = handshake(30, 32, Some(&exts));
    let whole = complete(&records(&hs, 16384));
    assert_eq!(whole.sni(), Some(name));
    for frag in [1, 2, 3, 5, 7, 64, 100, hs.len() - 1] {
        let buf = records(&hs, frag);
        let h = complete(&buf);
        assert_eq!(
            (h.sni(), h.cipher_suites_count, h.extensions_count),
            (Some(name), 30, 4),
            "frag {frag}"
        );
        assert!(h.supported_versions_has_tls13);
        assert_eq!(h.len, buf.len());
        if frag >= 5 {
            for n in 0..buf.len() {
                assert_eq!(
                    parse_client_hello(&buf[..n]),
                    Parse::Partial,
                    "frag {frag} prefix {n}"
                );
            }
        }
    }
    // A non-handshake record inside the fragmented hello.
    let mut buf = records(&hs, 100);
    buf[105] = 0x17;
    assert_eq!(parse_client_hello(&buf), Parse::Invalid);
}

#[test]
fn longest_host_name() {
    let name = vec![b'a'; MAX_HOST_NAME];
    let h = complete(&records(
        &handshake(1, 0, Some(&[sni_ext(&[(0, &name)])])),
        16384,
    ));
    assert_eq!(h.sni_bytes(), Some(&name[..]));
    let name = vec![b'a'; MAX_HOST_NAME + 1];
    let buf = records(&handshake(1, 0, Some(&[sni_ext(&[(0, &name)])])), 16384);
    assert_eq!(parse_client_hello(&buf), Parse::Invalid);
}

#[test]
fn invalid_hellos() {
    let ok = |exts: &[Vec<u8>]| records(&handshake(2, 0, Some(exts)), 16384);
    let mut cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "duplicate SNI",
            ok(&[sni_ext(&[(0, b"a")]), sni_ext(&[(0, b"b")])]),
        ),
        (
            "duplicate versions",
            ok(&[ext(43, &[2, 3, 4]), ext(43, &[2, 3, 3])]),
        ),
        ("odd versions list", ok(&[ext(43, &[3, 3, 4, 3])])),
        (
            "SNI entry past its list",
            ok(&[ext(0, &[0, 4, 0, 0, 9, b'a', b'b'])]),
        ),
        (
            "SNI list past its extension",
            ok(&[ext(0, &[0, 9, 0, 0, 1, b'a'])]),
        ),
        ("empty ALPN name", ok(&[ext(16, &[0, 1, 0])])),
        (
            "application data",
            vec![0x17, 0x03, 0x03, 0x00, 0x05, 1, 2, 3, 4, 5],
        ),
        ("record version 3.5", vec![0x16, 0x03, 0x05, 0x00, 0x05]),
        ("record version 2.1", vec![0x16, 0x02, 0x01]),
        ("empty record", vec![0x16, 0x03, 0x01, 0x00, 0x00]),
        ("record too long", vec![0x16, 0x03, 0x01, 0x40, 0x01]),
        ("ServerHello", vec![0x16, 0x03, 0x03, 0x00, 0x30, 0x02]),
        ("HTTP", b"GET / HTTP/1.1\r\n\r\n".to_vec()),
        (
            "hello too long",
            vec![0x16, 0x03, 0x01, 0x00, 0x30, 0x01, 0x00, 0x40, 0x01],
        ),
        (
            "hello too short",
            vec![0x16, 0x03, 0x01, 0x00, 0x30, 0x01, 0x00, 0x00, 0x10],
        ),
    ];
    // Odd cipher-suite length; session id over 32; no compression method; extensions length
    // not matching the rest of the hello.
    let base = handshake(2, 0, Some(&[]));
    let patch = |at: usize, v: u8| {
        let mut hs = base.clone();
        hs[at] = v;
        records(&hs, 16384)
    };
    cases.push(("odd suites", patch(4 + 2 + 32 + 1 + 1, 3)));
    cases.push(("session id 33", patch(4 + 2 + 32, 33)));
    cases.push(("no compression", patch(4 + 2 + 32 + 1 + 2 + 4, 0)));
    cases.push(("extensions length", patch(base.len() - 1, 1)));
    for (what, buf) in cases {
        assert_eq!(parse_client_hello(&buf), Parse::Invalid, "{what}");
    }
}

#[test]
fn sslv2_compatible_hello() {
    let buf = hex(SSLV2_HELLO);
    let h = complete(&buf);
    assert!(h.is_sslv2_compatible());
    assert_eq!(
        (h.legacy_version, h.cipher_suites_count, h.sni(), h.len),
        (0x0303, 3, None, 52)
    );
    for n in 0..buf.len() {
        assert_eq!(parse_client_hello(&buf[..n]), Parse::Partial, "prefix {n}");
        assert!(n == 0 || looks_like_tls_handshake(&buf[..n]));
    }
    let mut bad = buf.clone();
    bad[6] = 10; // cipher spec length not a multiple of 3
    assert_eq!(parse_client_hello(&bad), Parse::Invalid);
    bad = buf.clone();
    bad[3] = 2; // SSL 2.0 itself
    assert_eq!(parse_client_hello(&bad), Parse::Invalid);
}

#[test]
fn looks_like() {
    assert!(!looks_like_tls_handshake(b""));
    assert!(looks_like_tls_handshake(&[0x16]));
    assert!(looks_like_tls_handshake(&[
        0x16, 0x03, 0x01, 0x02, 0x00, 0x01
    ]));
    assert!(!looks_like_tls_handshake(&[
        0x16, 0x03, 0x01, 0x02, 0x00, 0x02
    ]));
    assert!(!looks_like_tls_handshake(&[0x17, 0x03, 0x03]));
    assert!(!looks_like_tls_handshake(&[0x16, 0x03, 0x07]));
    assert!(!looks_like_tls_handshake(b"GET / HTTP/1.1"));
}
