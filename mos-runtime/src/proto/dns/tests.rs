#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

use super::*;

/// The query of tcpdump-dns-udp.pcap (A www.tcpdump.org, EDNS0 with a cookie).
const QUERY: &str = "593401200001000000000001037777770774637064756d70036f72670000010001000029100000000000000c000a000842f5d00996f90b13";
/// Its response, with compressed answer names.
const RESPONSE: &str = "593485000001000200020005037777770774637064756d70036f72670000010001c00c000100010000003c0004c08b2e42c00c000100010000003c0004c6c75868c0100002000100015180001203736e7308636f6f7065726978036e657400c01000020001000151800012036e69630973616e64656c6d616e02636100c06b000100010000012c0004d157f912c06b001c00010000012c00102607f0b0000f000000000000babef00dc04d0001000100001c200004616b850fc04d001c000100001c20001026003c0300000000f03c91fffe96e8ef0000291000000000000000";

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// A header with `qd` questions followed by `body`.
fn message(qd: u16, body: &[u8]) -> Vec<u8> {
    let mut m = vec![0x12, 0x34, 0x01, 0x00];
    m.extend_from_slice(&qd.to_be_bytes());
    m.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    m.extend_from_slice(body);
    m
}

fn labels(name: &str) -> Vec<u8> {
    let mut v = Vec::new();
    for l in name.split('.').filter(|l| !l.is_empty()) {
        v.push(l.len() as u8);
        v.extend_from_slice(l.as_bytes());
    }
    v.push(0);
    v
}

#[test]
fn real_query() {
    let q = parse_query(&hex(QUERY)).unwrap();
    assert_eq!(q.name(), Some("www.tcpdump.org"));
    assert_eq!(
        (q.id, q.flags, q.qr, q.opcode, q.rcode),
        (0x5934, 0x0120, false, 0, 0)
    );
    assert_eq!((q.qdcount, q.ancount, q.nscount, q.arcount), (1, 0, 0, 1));
    assert_eq!((q.qtype(), q.qclass()), (1, 1));
    assert_eq!(q.question_end, 12 + 17 + 4);
    assert!(q.recursion_desired() && !q.truncated());
}

#[test]
fn real_response() {
    let r = parse_query(&hex(RESPONSE)).unwrap();
    assert!(r.qr);
    assert_eq!((r.ancount, r.nscount, r.arcount), (2, 2, 5));
    assert_eq!(r.name_bytes(), b"www.tcpdump.org");
    // The answers' owner names are pointers to the question (offset 12).
    let mut q = Question::empty();
    assert_eq!(
        read_name(&hex(RESPONSE), r.question_end, &mut q),
        Ok(r.question_end + 2)
    );
    assert_eq!(q.name(), Some("www.tcpdump.org"));
}

#[test]
fn every_truncation_is_an_error() {
    let msg = hex(QUERY);
    for n in 0..33 {
        assert_eq!(
            parse_query(&msg[..n]),
            Err(DnsError::Truncated),
            "prefix {n}"
        );
    }
    assert_eq!(
        parse_query(&msg[..33]).unwrap().name(),
        Some("www.tcpdump.org")
    );
}

#[test]
fn tcp_framing() {
    let msg = hex(QUERY);
    let mut stream = (msg.len() as u16).to_be_bytes().to_vec();
    stream.extend_from_slice(&msg);
    stream.extend_from_slice(&[0x00, 0x20, 0xaa]); // the start of the next message
    let (q, used) = parse_tcp_message(&stream).unwrap();
    assert_eq!((q.name(), used), (Some("www.tcpdump.org"), msg.len() + 2));
    assert_eq!(
        parse_tcp_message(&stream[used..]),
        Err(DnsError::Incomplete { needed: 0x20 - 1 })
    );
    assert_eq!(
        parse_tcp_message(&[]),
        Err(DnsError::Incomplete { needed: 2 })
    );
    assert_eq!(
        parse_tcp_message(&stream[..1]),
        Err(DnsError::Incomplete { needed: 1 })
    );
    assert_eq!(
        parse_tcp_message(&stream[..10]),
        Err(DnsError::Incomplete {
            needed: msg.len() - 8
        })
    );
    // A length prefix too short for the message inside.
    assert_eq!(
        parse_tcp_message(&[0, 5, 1, 2, 3, 4, 5]),
        Err(DnsError::Truncated)
    );
}

#[test]
fn compressed_second_question() {
    // Q1 www.example.org at 12; Q2 "mail" + pointer to "example.org" (offset 16).
    let mut body = labels("www.example.org");
    body.extend_from_slice(&[0, 1, 0, 1]);
    body.extend_from_slice(&[4, b'm', b'a', b'i', b'l', 0xc0, 16, 0, 15, 0, 1]);
    // Q3 a bare pointer to Q2 (at 12 + 17 + 4 = 33), itself compressed: a two-hop chain.
    body.extend_from_slice(&[0xc0, 33, 0, 28, 0, 1]);
    let msg = message(3, &body);
    let qs: Vec<_> = questions(&msg).map(|q| q.unwrap()).collect();
    let names: Vec<_> = qs.iter().map(|q| (q.name().unwrap(), q.qtype)).collect();
    assert_eq!(
        names,
        [
            ("www.example.org", 1),
            ("mail.example.org", 15),
            ("mail.example.org", 28)
        ]
    );
    assert_eq!(parse_query(&msg).unwrap().name(), Some("www.example.org"));
}

#[test]
fn bad_pointers() {
    let cases: Vec<(&str, Vec<u8>)> = vec![
        // The first question can only point into the header or forward.
        ("into the header", message(1, &[0xc0, 0x00, 0, 1, 0, 1])),
        ("at itself", message(1, &[0xc0, 12, 0, 1, 0, 1])),
        (
            "forward",
            message(1, &[1, b'a', 0xc0, 20, 0, 1, 0, 1, 1, b'b', 0]),
        ),
        (
            "back into its own labels",
            message(1, &[1, b'a', 1, b'b', 0xc0, 14, 0, 1, 0, 1]),
        ),
    ];
    for (what, msg) in cases {
        assert_eq!(parse_query(&msg), Err(DnsError::BadPointer), "{what}");
    }
    // A two-name loop: Q1 points forward to Q2 (at 20), which points back to Q1. The forward
    // pointer is refused before the loop is entered.
    let body = [
        1, b'x', 0xc0, 20, 0, 1, 0, 1, /* Q2 at 20 */ 0xc0, 12, 0, 1, 0, 1,
    ];
    let msg = message(2, &body);
    let qs: Vec<_> = questions(&msg).collect();
    assert_eq!(qs, [Err(DnsError::BadPointer)]);
    // Q2 (at 19) points at its own start.
    let msg = message(
        2,
        &[
            1, b'x', 0, 0, 1, 0, 1, /* Q2 at 19 */ 1, b'y', 0xc0, 19, 0, 1, 0, 1,
        ],
    );
    let qs: Vec<_> = questions(&msg).collect();
    assert_eq!(qs.len(), 2);
    assert_eq!(qs[1], Err(DnsError::BadPointer));
}

#[test]
fn pointer_chain_bound() {
    // Name "a" at 12, then `n` questions each a pointer to the previous one.
    let chain = |n: usize| {
        let mut body = vec![1, b'a', 0, 0, 1, 0, 1];
        let mut prev = 12u8;
        for _ in 0..n {
            let here = (12 + body.len()) as u8;
            body.extend_from_slice(&[0xc0, prev, 0, 1, 0, 1]);
            prev = here;
        }
        message(n as u16 + 1, &body)
    };
    let msg = chain(MAX_POINTERS);
    let last = questions(&msg).last().unwrap().unwrap();
    assert_eq!(last.name(), Some("a"));
    let msg = chain(MAX_POINTERS + 1);
    assert_eq!(questions(&msg).last().unwrap(), Err(DnsError::BadPointer));
}

#[test]
fn labels_and_lengths() {
    assert_eq!(
        parse_query(&message(1, &[0x40, 0, 1, 0, 1])),
        Err(DnsError::BadLabel)
    );
    assert_eq!(
        parse_query(&message(1, &[0x80, 0, 1, 0, 1])),
        Err(DnsError::BadLabel)
    );
    assert_eq!(
        parse_query(&message(0, &labels("a.b"))),
        Err(DnsError::NoQuestion)
    );
    // 255 bytes on the wire is the longest: 63+63+63+61 with dots is 253 characters.
    let long = [
        &"a".repeat(63)[..],
        &"b".repeat(63),
        &"c".repeat(63),
        &"d".repeat(61),
    ]
    .join(".");
    let mut body = labels(&long);
    assert_eq!(body.len(), MAX_NAME);
    body.extend_from_slice(&[0, 1, 0, 1]);
    assert_eq!(
        parse_query(&message(1, &body)).unwrap().name(),
        Some(&long[..])
    );
    let longer = format!("{long}d");
    let mut body = labels(&longer);
    body.extend_from_slice(&[0, 1, 0, 1]);
    assert_eq!(parse_query(&message(1, &body)), Err(DnsError::NameTooLong));
    // Root.
    let q = parse_query(&message(1, &[0, 0, 2, 0, 1])).unwrap();
    assert_eq!((q.name(), q.qtype()), (Some(""), 2));
}

#[test]
fn non_text_labels() {
    let q = parse_query(&message(
        1,
        &[3, b'a', b'.', b'b', 3, b'c', 0, 0xff, 0, 0, 1, 0, 1],
    ))
    .unwrap();
    assert_eq!(q.name(), None);
    assert_eq!(q.name_bytes(), b"a.b.c\0\xff");
    let q = parse_query(&message(
        1,
        &[
            4, b'_', b's', b'i', b'p', 4, b'_', b't', b'c', b'p', 0, 0, 33, 0, 1,
        ],
    ))
    .unwrap();
    assert_eq!(q.name(), Some("_sip._tcp"));
}

#[test]
fn errors_display() {
    assert_eq!(
        DnsError::BadPointer.to_string(),
        "DNS name has a compression pointer that does not point backwards"
    );
    assert_eq!(
        DnsError::Incomplete { needed: 3 }.to_string(),
        "DNS message over TCP incomplete: 3 more bytes needed"
    );
}

#[test]
fn flipped_bytes_never_panic() {
    let msg = hex(RESPONSE);
    for i in 0..msg.len() {
        for v in [
            0x00,
            0x01,
            0x3f,
            0x40,
            0x80,
            0xc0,
            0xc1,
            0xff,
            msg[i].wrapping_add(1),
        ] {
            let mut buf = msg.clone();
            buf[i] = v;
            if let Ok(q) = parse_query(&buf) {
                assert!(q.question_end <= buf.len() && q.name_bytes().len() <= 253);
            }
            assert!(questions(&buf).take(70_000).count() <= usize::from(u16::MAX));
        }
    }
}
