//! Tests of the wire layer: synthetic frames built with etherparse's `PacketBuilder` (so the
//! checksums under test were computed by another implementation), edge cases patched by hand,
//! and the public traces.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use etherparse::{PacketBuilder, TcpOptionElement, VlanId};

use super::checksum;
use super::*;
use crate::io::tests::{read_all, trace};
use crate::time::Timestamp;

const MAC_A: [u8; 6] = [2, 0, 0, 0, 0, 1];
const MAC_B: [u8; 6] = [2, 0, 0, 0, 0, 2];
const V6_A: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
const V6_B: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];

fn tcp_options() -> [TcpOptionElement; 5] {
    [
        TcpOptionElement::MaximumSegmentSize(1460),
        TcpOptionElement::Noop,
        TcpOptionElement::WindowScale(7),
        TcpOptionElement::SelectiveAcknowledgementPermitted,
        TcpOptionElement::Timestamp(11, 22),
    ]
}

/// Ethernet / IPv4 / TCP (ACK|PSH, with options).
fn tcp_v4(payload: &[u8]) -> Vec<u8> {
    let builder = PacketBuilder::ethernet2(MAC_A, MAC_B)
        .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
        .tcp(40000, 80, 1000, 65535)
        .ack(2000)
        .psh()
        .options(&tcp_options())
        .unwrap();
    let mut frame = Vec::new();
    builder.write(&mut frame, payload).unwrap();
    frame
}

fn tcp_v6(payload: &[u8]) -> Vec<u8> {
    let builder = PacketBuilder::ethernet2(MAC_A, MAC_B)
        .ipv6(V6_A, V6_B, 60)
        .tcp(40000, 443, 7, 1024)
        .syn()
        .options(&tcp_options())
        .unwrap();
    let mut frame = Vec::new();
    builder.write(&mut frame, payload).unwrap();
    frame
}

fn udp_v4(payload: &[u8]) -> Vec<u8> {
    let builder = PacketBuilder::ethernet2(MAC_A, MAC_B)
        .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
        .udp(5353, 53);
    let mut frame = Vec::new();
    builder.write(&mut frame, payload).unwrap();
    frame
}

fn udp_v6(payload: &[u8]) -> Vec<u8> {
    let builder = PacketBuilder::ipv6(V6_A, V6_B, 60).udp(5353, 53);
    let mut frame = Vec::new();
    builder.write(&mut frame, payload).unwrap();
    frame
}

/// Parses a complete frame with checksum verification.
fn parse_full(link: LinkType, frame: &[u8]) -> Result<PacketMeta, ParseError> {
    parse(link, frame, Timestamp(5), frame.len() as u32, true)
}

/// Recomputes the IPv4 header checksum after a test patched the header.
fn fix_ipv4_checksum(frame: &mut [u8], l3: usize) {
    let ihl = usize::from(frame[l3] & 0x0f) * 4;
    frame[l3 + 10..l3 + 12].copy_from_slice(&[0, 0]);
    let sum = checksum::checksum(&frame[l3..l3 + ihl]);
    frame[l3 + 10..l3 + 12].copy_from_slice(&sum.to_be_bytes());
}

fn set_ipv4_total_len(frame: &mut [u8], l3: usize, len: u16) {
    frame[l3 + 2..l3 + 4].copy_from_slice(&len.to_be_bytes());
    fix_ipv4_checksum(frame, l3);
}

#[test]
fn tcp_over_ipv4_fields_and_payload() {
    let frame = tcp_v4(b"hello world");
    let meta = parse_full(LinkType::Ethernet, &frame).unwrap();
    assert_eq!(meta.link, LinkType::Ethernet);
    assert_eq!(meta.l3_offset, 14);
    assert_eq!(meta.cap_len as usize, frame.len());
    assert!(!meta.truncated);
    assert_eq!(meta.wire_payload_len(), 11);
    let ip = meta.ip.unwrap();
    assert_eq!(ip.version, 4);
    assert_eq!(ip.src, IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)));
    assert_eq!(ip.dst, IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)));
    assert_eq!(
        (ip.proto, ip.ttl, ip.header_offset, ip.header_len),
        (6, 64, 14, 20)
    );
    assert_eq!(ip.total_len as usize, frame.len() - 14);
    assert!(!ip.fragment);
    let tcp = meta.tcp().unwrap();
    assert_eq!(
        (tcp.src_port, tcp.dst_port, tcp.seq, tcp.ack),
        (40000, 80, 1000, 2000)
    );
    assert_eq!(tcp.flags, TcpFlags::ACK | TcpFlags::PSH);
    assert_eq!(tcp.window, 65535);
    assert_eq!(tcp.header_offset, 34);
    assert_eq!(tcp.header_len, 20 + 20);
    assert_eq!(tcp.mss, Some(1460));
    assert_eq!(tcp.wscale, Some(7));
    assert!(tcp.sack_permitted);
    assert_eq!(tcp.timestamp, Some((11, 22)));
    assert_eq!(meta.ports(), Some((40000, 80)));
    let packet = Packet::new(&meta, &frame);
    assert_eq!(packet.ip_proto(), Some(6));
    assert_eq!(
        (packet.src_port(), packet.dst_port()),
        (Some(40000), Some(80))
    );
    assert_eq!(
        packet.src_ip(),
        Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)))
    );
    assert_eq!(
        packet.dst_ip(),
        Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)))
    );
    assert!(packet.udp().is_none() && packet.tcp().is_some() && packet.ip().is_some());
    assert_eq!(packet.payload(), b"hello world");
    assert_eq!(packet.l4_header().len(), 40);
    assert_eq!(packet.l3().len(), 20 + 40 + 11);
    assert_eq!(packet.ts(), Timestamp(5));
}

#[test]
fn tcp_over_ipv6_verifies_with_the_v6_pseudo_header() {
    let frame = tcp_v6(b"abc");
    let meta = parse_full(LinkType::Ethernet, &frame).unwrap();
    let ip = meta.ip.unwrap();
    assert_eq!(ip.version, 6);
    assert_eq!(ip.src, IpAddr::V6(Ipv6Addr::from(V6_A)));
    assert_eq!((ip.proto, ip.ttl, ip.header_len), (6, 60, 40));
    let tcp = meta.tcp().unwrap();
    assert!(tcp.flags.syn() && !tcp.flags.ack());
    assert_eq!(Packet::new(&meta, &frame).payload(), b"abc");
    // One flipped payload bit breaks the TCP checksum.
    let mut bad = frame.clone();
    *bad.last_mut().unwrap() ^= 0x01;
    assert_eq!(
        parse_full(LinkType::Ethernet, &bad).unwrap_err(),
        ParseError::BadChecksum(ChecksumLayer::Tcp)
    );
    // Without verification the same frame parses.
    assert!(
        parse(
            LinkType::Ethernet,
            &bad,
            Timestamp(0),
            bad.len() as u32,
            false
        )
        .is_ok()
    );
}

#[test]
fn ethernet_padding_is_not_payload() {
    let mut frame = tcp_v4(b"");
    assert_eq!(frame.len(), 54 + 20);
    // A short frame padded up to the 60-byte minimum... and beyond, as some NICs do.
    frame.resize(96, 0xee);
    let meta = parse_full(LinkType::Ethernet, &frame).unwrap();
    assert_eq!(meta.payload_len, 0);
    assert!(!meta.truncated);
    assert!(Packet::new(&meta, &frame).payload().is_empty());
    assert_eq!(Packet::new(&meta, &frame).l3().len(), 60);
}

#[test]
fn snap_length_cut_sets_truncated_and_skips_the_l4_checksum() {
    let frame = tcp_v4(&[0x55; 100]);
    let cut = &frame[..frame.len() - 30];
    // The TCP checksum cannot be verified on 70 of 100 payload bytes: no BadChecksum.
    let meta = parse(
        LinkType::Ethernet,
        cut,
        Timestamp(0),
        frame.len() as u32,
        true,
    )
    .unwrap();
    assert!(meta.truncated);
    assert_eq!(meta.payload_len, 70);
    assert_eq!(meta.wire_len as usize, frame.len());
    assert_eq!(meta.cap_len as usize, cut.len());
    assert_eq!(meta.ip.unwrap().total_len, 20 + 40 + 100);
    assert_eq!(meta.wire_payload_len(), 100);
    // The IPv4 header is complete, so its checksum is still checked.
    let mut bad = cut.to_vec();
    bad[14 + 8] ^= 0x10; // TTL
    assert_eq!(
        parse(
            LinkType::Ethernet,
            &bad,
            Timestamp(0),
            frame.len() as u32,
            true
        )
        .unwrap_err(),
        ParseError::BadChecksum(ChecksumLayer::Ipv4)
    );
}

#[test]
fn header_cut_by_capture_is_truncated_header_beyond_payload_is_malformed() {
    let frame = tcp_v4(b"xyz");
    // Cut inside the TCP options.
    let cut = &frame[..14 + 20 + 30];
    assert_eq!(
        parse(
            LinkType::Ethernet,
            cut,
            Timestamp(0),
            frame.len() as u32,
            false
        )
        .unwrap_err(),
        ParseError::Truncated("TCP header")
    );
    // The same cut with no snap length (wire length = captured length) is a lie of the frame.
    assert!(matches!(
        parse(
            LinkType::Ethernet,
            cut,
            Timestamp(0),
            cut.len() as u32,
            false
        )
        .unwrap_err(),
        ParseError::Malformed(_)
    ));
    // IPv4 total length too small for the TCP header: 20 + 30.
    let mut short = frame.clone();
    set_ipv4_total_len(&mut short, 14, 50);
    assert_eq!(
        parse_full(LinkType::Ethernet, &short).unwrap_err(),
        ParseError::Malformed("TCP header beyond the IP payload")
    );
    // Cut inside the IPv4 header, and inside the Ethernet header.
    assert_eq!(
        parse(LinkType::Ethernet, &frame[..20], Timestamp(0), 1000, false).unwrap_err(),
        ParseError::Truncated("IPv4 header")
    );
    assert_eq!(
        parse(LinkType::Ethernet, &frame[..10], Timestamp(0), 1000, false).unwrap_err(),
        ParseError::Truncated("Ethernet header")
    );
}

#[test]
fn tcp_data_offset_below_five_is_malformed() {
    let mut frame = tcp_v4(b"");
    frame[34 + 12] = 4 << 4;
    assert_eq!(
        parse(
            LinkType::Ethernet,
            &frame,
            Timestamp(0),
            frame.len() as u32,
            false
        )
        .unwrap_err(),
        ParseError::Malformed("TCP data offset below 5")
    );
}

#[test]
fn ipv4_length_contradictions() {
    let frame = tcp_v4(b"data");
    let mut below = frame.clone();
    set_ipv4_total_len(&mut below, 14, 12);
    assert_eq!(
        parse_full(LinkType::Ethernet, &below).unwrap_err(),
        ParseError::Malformed("IPv4 total length below the header length")
    );
    // A total length beyond the frame on the wire: parsed as far as the bytes go, truncated.
    let mut beyond = frame.clone();
    set_ipv4_total_len(&mut beyond, 14, 1500);
    let meta = parse_full(LinkType::Ethernet, &beyond).unwrap();
    assert!(meta.truncated);
    assert_eq!(Packet::new(&meta, &beyond).payload(), b"data");
    assert_eq!(meta.ip.unwrap().total_len as usize, frame.len() - 14);
    assert_eq!(meta.wire_payload_len(), 4);
    // ... but a UDP length is then checked against the bytes that were on the wire.
    let mut udp = udp_v4(b"four");
    set_ipv4_total_len(&mut udp, 14, 900);
    udp[34 + 4..34 + 6].copy_from_slice(&880u16.to_be_bytes());
    assert_eq!(
        parse_full(LinkType::Ethernet, &udp).unwrap_err(),
        ParseError::Malformed("UDP length beyond the IP payload")
    );
    let mut ihl = frame.clone();
    ihl[14] = 0x44;
    assert_eq!(
        parse_full(LinkType::Ethernet, &ihl).unwrap_err(),
        ParseError::Malformed("IPv4 header length (IHL) below 5")
    );
    // Zero total length (TSO capture): the packet is the rest of the frame.
    let mut tso = frame.clone();
    set_ipv4_total_len(&mut tso, 14, 0);
    let meta = parse(
        LinkType::Ethernet,
        &tso,
        Timestamp(0),
        tso.len() as u32,
        false,
    )
    .unwrap();
    assert_eq!(Packet::new(&meta, &tso).payload(), b"data");
}

#[test]
fn ipv4_fragments() {
    // First fragment: MF set, offset 0, the TCP header is complete.
    let mut first = tcp_v4(b"0123456789");
    first[14 + 6] = 0x20;
    fix_ipv4_checksum(&mut first, 14);
    let meta = parse_full(LinkType::Ethernet, &first).unwrap();
    let ip = meta.ip.unwrap();
    assert!(ip.fragment);
    assert_eq!(meta.tcp().unwrap().dst_port, 80);
    assert_eq!(Packet::new(&meta, &first).payload(), b"0123456789");

    // A later fragment (offset 8 × 8 bytes): no transport header, the payload is the data.
    let mut later = tcp_v4(b"0123456789");
    later[14 + 6..14 + 8].copy_from_slice(&8u16.to_be_bytes());
    fix_ipv4_checksum(&mut later, 14);
    let meta = parse_full(LinkType::Ethernet, &later).unwrap();
    assert!(meta.ip.unwrap().fragment);
    assert_eq!(meta.l4, L4Meta::None);
    assert_eq!(meta.payload_offset, 34);
    assert_eq!(meta.payload_len, 40 + 10);

    // A first fragment too short for the TCP header (tiny-fragment attack): no L4, no error.
    let mut tiny = tcp_v4(b"");
    tiny[14 + 6] = 0x20;
    set_ipv4_total_len(&mut tiny, 14, 20 + 16);
    let tiny = &tiny[..14 + 36];
    let meta = parse_full(LinkType::Ethernet, tiny).unwrap();
    assert!(meta.ip.unwrap().fragment);
    assert_eq!(meta.l4, L4Meta::None);
}

/// An IPv6 frame with hand-made extension headers between the fixed header and TCP.
fn ipv6_with_exts(exts: &[u8], first_next: u8) -> Vec<u8> {
    let inner = tcp_v6(b"payload");
    let tcp = &inner[14 + 40..];
    let mut frame = inner[..14 + 40].to_vec();
    frame[14 + 6] = first_next;
    let payload_len = (exts.len() + tcp.len()) as u16;
    frame[14 + 4..14 + 6].copy_from_slice(&payload_len.to_be_bytes());
    frame.extend_from_slice(exts);
    frame.extend_from_slice(tcp);
    frame
}

#[test]
fn ipv6_extension_headers_and_atomic_fragments() {
    // Hop-by-hop (8 bytes, padding) then destination options (8 bytes), then TCP.
    let exts = [60, 0, 1, 4, 0, 0, 0, 0, 6, 0, 1, 4, 0, 0, 0, 0];
    let frame = ipv6_with_exts(&exts, 0);
    let meta = parse_full(LinkType::Ethernet, &frame).unwrap();
    let ip = meta.ip.unwrap();
    assert_eq!((ip.proto, ip.header_len), (6, 56));
    assert!(!ip.fragment);
    assert_eq!(meta.tcp().unwrap().header_offset, 14 + 56);
    assert_eq!(Packet::new(&meta, &frame).payload(), b"payload");

    // Atomic fragment: offset 0, M = 0. A whole packet: TCP parsed and verified.
    let atomic = [6, 0, 0, 0, 0, 0, 0, 42];
    let frame = ipv6_with_exts(&atomic, 44);
    let meta = parse_full(LinkType::Ethernet, &frame).unwrap();
    assert!(!meta.ip.unwrap().fragment);
    assert_eq!(meta.tcp().unwrap().dst_port, 443);

    // First fragment (M = 1): a fragment, TCP header parsed, checksum not checked.
    let first = [6, 0, 0, 1, 0, 0, 0, 42];
    let meta = parse_full(LinkType::Ethernet, &ipv6_with_exts(&first, 44)).unwrap();
    assert!(meta.ip.unwrap().fragment);
    assert!(meta.tcp().is_some());

    // Later fragment (offset 1 × 8): no transport header.
    let later = [6, 0, 0, 8, 0, 0, 0, 42];
    let meta = parse_full(LinkType::Ethernet, &ipv6_with_exts(&later, 44)).unwrap();
    assert!(meta.ip.unwrap().fragment);
    assert_eq!(meta.l4, L4Meta::None);
    assert_eq!(meta.ip.unwrap().header_len, 48);

    // An extension header whose length runs past the payload.
    let long = [6, 200, 0, 0, 0, 0, 0, 0];
    assert_eq!(
        parse_full(LinkType::Ethernet, &ipv6_with_exts(&long, 60)).unwrap_err(),
        ParseError::Malformed("IPv6 extension header beyond the payload length")
    );
}

#[test]
fn vlan_tags_single_double_and_more() {
    let payload = b"q";
    let builder = PacketBuilder::ethernet2(MAC_A, MAC_B)
        .double_vlan(VlanId::try_new(100).unwrap(), VlanId::try_new(200).unwrap())
        .ipv4([1, 1, 1, 1], [2, 2, 2, 2], 9)
        .udp(1, 2);
    let mut frame = Vec::new();
    builder.write(&mut frame, payload).unwrap();
    let meta = parse_full(LinkType::Ethernet, &frame).unwrap();
    assert_eq!(meta.vlans(), &[100, 200]);
    assert_eq!(meta.l3_offset, 22);
    assert_eq!(Packet::new(&meta, &frame).payload(), b"q");

    // Three tags: the first two are recorded, the IP packet behind them is still found.
    let mut triple = frame[..12].to_vec();
    for id in [0x0101u16, 0x0202, 0x0303] {
        triple.extend_from_slice(&[0x81, 0x00]);
        triple.extend_from_slice(&id.to_be_bytes());
    }
    triple.extend_from_slice(&[0x08, 0x00]);
    triple.extend_from_slice(&frame[22..]);
    let meta = parse_full(LinkType::Ethernet, &triple).unwrap();
    assert_eq!(meta.vlans(), &[0x101, 0x202]);
    assert_eq!(meta.vlan_count, 2);
    assert_eq!(meta.l3_offset, 14 + 12);
    assert_eq!(meta.ports(), Some((1, 2)));

    // A frame that ends inside a tag.
    assert_eq!(
        parse(LinkType::Ethernet, &triple[..16], Timestamp(0), 100, false).unwrap_err(),
        ParseError::Truncated("VLAN tag")
    );
}

#[test]
fn other_link_types() {
    let eth = tcp_v4(b"ip");
    let ip = &eth[14..];

    let meta = parse_full(LinkType::RawIp, ip).unwrap();
    assert_eq!((meta.l3_offset, meta.ports()), (0, Some((40000, 80))));
    let v6 = udp_v6(b"six");
    let meta = parse_full(LinkType::RawIp, &v6).unwrap();
    assert_eq!(meta.ip.unwrap().version, 6);
    assert_eq!(Packet::new(&meta, &v6).payload(), b"six");
    assert_eq!(
        parse_full(LinkType::RawIp, &[0x50, 0, 0]).unwrap_err(),
        ParseError::Malformed("raw IP frame is neither IPv4 nor IPv6")
    );

    // Linux SLL: packet type, ARPHRD_ETHER, address length, address, protocol.
    let mut sll = vec![0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x08, 0x00];
    sll.extend_from_slice(ip);
    let meta = parse_full(LinkType::LinuxSll, &sll).unwrap();
    assert_eq!((meta.l3_offset, meta.ports()), (16, Some((40000, 80))));

    // Linux SLL2: protocol, reserved, ifindex, ARPHRD, packet type, address length, address.
    let mut sll2 = vec![
        0x08, 0x00, 0, 0, 0, 0, 0, 3, 0, 1, 4, 6, 2, 0, 0, 0, 0, 1, 0, 0,
    ];
    sll2.extend_from_slice(ip);
    let meta = parse_full(LinkType::LinuxSll2, &sll2).unwrap();
    assert_eq!((meta.l3_offset, meta.ports()), (20, Some((40000, 80))));

    // BSD loopback in either host order, OpenBSD loopback in network order.
    for (link, family) in [
        (LinkType::Null, 2u32.to_le_bytes()),
        (LinkType::Null, 2u32.to_be_bytes()),
        (LinkType::Loop, 2u32.to_be_bytes()),
    ] {
        let mut lo = family.to_vec();
        lo.extend_from_slice(ip);
        let meta = parse_full(link, &lo).unwrap();
        assert_eq!(
            (meta.l3_offset, meta.ports()),
            (4, Some((40000, 80))),
            "{link:?}"
        );
    }
    let mut lo6 = 30u32.to_le_bytes().to_vec();
    lo6.extend_from_slice(&v6);
    assert_eq!(
        parse_full(LinkType::Null, &lo6)
            .unwrap()
            .ip
            .unwrap()
            .version,
        6
    );

    assert_eq!(
        parse_full(LinkType::Unknown(147), &eth).unwrap_err(),
        ParseError::UnsupportedLink(147)
    );
}

#[test]
fn non_ip_frames_are_ok_without_ip() {
    // ARP request: the payload is the ARP body after the Ethernet header.
    let mut arp = vec![0xff; 6];
    arp.extend_from_slice(&MAC_A);
    arp.extend_from_slice(&[0x08, 0x06]);
    arp.extend_from_slice(&[0, 1, 8, 0, 6, 4, 0, 1]);
    arp.extend_from_slice(&[0; 20]);
    let meta = parse_full(LinkType::Ethernet, &arp).unwrap();
    assert!(meta.ip.is_none());
    assert_eq!(meta.l4, L4Meta::None);
    assert_eq!((meta.payload_offset, meta.payload_len), (14, 28));
    assert_eq!(meta.src_ip(), None);
    assert_eq!(meta.ports(), None);
}

#[test]
fn udp_lengths_and_checksums() {
    let frame = udp_v4(b"dns?");
    let meta = parse_full(LinkType::Ethernet, &frame).unwrap();
    let udp = meta.udp().unwrap();
    assert_eq!(
        (udp.src_port, udp.dst_port, udp.length, udp.header_offset),
        (5353, 53, 12, 34)
    );
    assert_eq!(Packet::new(&meta, &frame).payload(), b"dns?");

    let mut long = frame.clone();
    long[34 + 4..34 + 6].copy_from_slice(&400u16.to_be_bytes());
    assert_eq!(
        parse(
            LinkType::Ethernet,
            &long,
            Timestamp(0),
            long.len() as u32,
            false
        )
        .unwrap_err(),
        ParseError::Malformed("UDP length beyond the IP payload")
    );
    let mut short = frame.clone();
    short[34 + 4..34 + 6].copy_from_slice(&7u16.to_be_bytes());
    assert_eq!(
        parse(
            LinkType::Ethernet,
            &short,
            Timestamp(0),
            short.len() as u32,
            false
        )
        .unwrap_err(),
        ParseError::Malformed("UDP length below 8")
    );
    // A UDP length shorter than the IP payload bounds the payload.
    let mut trailer = frame.clone();
    trailer[34 + 4..34 + 6].copy_from_slice(&10u16.to_be_bytes());
    let meta = parse(
        LinkType::Ethernet,
        &trailer,
        Timestamp(0),
        trailer.len() as u32,
        false,
    )
    .unwrap();
    assert_eq!(Packet::new(&meta, &trailer).payload(), b"dn");

    // Zero checksum over IPv4: none, accepted.
    let mut none = frame.clone();
    none[34 + 6..34 + 8].copy_from_slice(&[0, 0]);
    assert!(parse_full(LinkType::Ethernet, &none).is_ok());
    // A flipped bit.
    let mut bad = frame.clone();
    bad[34 + 8] ^= 0x80;
    assert_eq!(
        parse_full(LinkType::Ethernet, &bad).unwrap_err(),
        ParseError::BadChecksum(ChecksumLayer::Udp)
    );
    // Over IPv6 the checksum is verified and zero is not allowed.
    let v6 = udp_v6(b"payload6");
    assert!(parse_full(LinkType::RawIp, &v6).is_ok());
    let mut zero6 = v6.clone();
    zero6[40 + 6..40 + 8].copy_from_slice(&[0, 0]);
    assert_eq!(
        parse_full(LinkType::RawIp, &zero6).unwrap_err(),
        ParseError::BadChecksum(ChecksumLayer::Udp)
    );
}

#[test]
fn icmp_type_and_code() {
    let builder = PacketBuilder::ethernet2(MAC_A, MAC_B)
        .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
        .icmpv4_echo_request(7, 1);
    let mut frame = Vec::new();
    builder.write(&mut frame, b"ping").unwrap();
    let meta = parse_full(LinkType::Ethernet, &frame).unwrap();
    assert_eq!(
        meta.l4,
        L4Meta::Icmp(IcmpMeta {
            v6: false,
            kind: 8,
            code: 0
        })
    );
    // Payload after type, code and checksum: identifier, sequence, data.
    assert_eq!(
        Packet::new(&meta, &frame).payload(),
        &[0, 7, 0, 1, b'p', b'i', b'n', b'g']
    );
    assert_eq!(Packet::new(&meta, &frame).l4_header().len(), 4);
}

#[test]
fn ipv4_header_checksum_flip_is_detected() {
    let frame = tcp_v4(b"x");
    for bit in 0..8 {
        let mut bad = frame.clone();
        bad[14 + 12] ^= 1 << bit; // source address
        assert_eq!(
            parse_full(LinkType::Ethernet, &bad).unwrap_err(),
            ParseError::BadChecksum(ChecksumLayer::Ipv4)
        );
    }
}

#[test]
fn tcp_options_are_walked_past_unknown_kinds() {
    // MPTCP-like unknown option (kind 30, 4 bytes) before the window scale; then EOL.
    let options = [30, 4, 0, 0, 3, 3, 9, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0];
    let builder = PacketBuilder::ethernet2(MAC_A, MAC_B)
        .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
        .tcp(1, 2, 3, 4)
        .options_raw(&options)
        .unwrap();
    let mut frame = Vec::new();
    builder.write(&mut frame, &[]).unwrap();
    let tcp = *parse_full(LinkType::Ethernet, &frame)
        .unwrap()
        .tcp()
        .unwrap();
    assert_eq!(tcp.wscale, Some(9));
    assert_eq!(tcp.timestamp, Some((1, 2)));
    assert_eq!(tcp.mss, None);

    // A zero option length ends the walk without failing the packet.
    let bad = [2, 4, 5, 0xb4, 7, 0, 3, 3, 9, 0, 0, 0];
    let builder = PacketBuilder::ethernet2(MAC_A, MAC_B)
        .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
        .tcp(1, 2, 3, 4)
        .options_raw(&bad)
        .unwrap();
    let mut frame = Vec::new();
    builder.write(&mut frame, &[]).unwrap();
    let tcp = *parse_full(LinkType::Ethernet, &frame)
        .unwrap()
        .tcp()
        .unwrap();
    assert_eq!((tcp.mss, tcp.wscale), (Some(1460), None));
}

#[test]
fn tcp_flags_print_and_test() {
    assert_eq!(format!("{:?}", TcpFlags::SYN | TcpFlags::ACK), "SYN|ACK");
    assert_eq!(format!("{:?}", TcpFlags(0)), "-");
    assert_eq!(
        format!("{}", TcpFlags(0xff)),
        "FIN|SYN|RST|PSH|ACK|URG|ECE|CWR"
    );
    let f = TcpFlags(0x12);
    assert!(f.syn() && f.ack() && !f.fin() && !f.rst() && !f.psh() && !f.urg());
    assert!(f.contains(TcpFlags::SYN | TcpFlags::ACK));
    assert!(!f.contains(TcpFlags::SYN | TcpFlags::FIN));
}

#[test]
fn link_type_values_round_trip() {
    for value in [0u32, 1, 101, 108, 113, 276, 147] {
        assert_eq!(LinkType::from_linktype(value).to_linktype(), value);
    }
    assert_eq!(LinkType::from_linktype(12), LinkType::RawIp);
    assert_eq!(LinkType::from_linktype(229), LinkType::RawIp);
    // FCS bits in the high half of the pcap field do not change the type.
    assert_eq!(LinkType::from_linktype(0x1000_0001), LinkType::Ethernet);
}

#[test]
fn packet_meta_stays_compact() {
    assert!(
        std::mem::size_of::<PacketMeta>() <= 160,
        "{}",
        std::mem::size_of::<PacketMeta>()
    );
}

#[test]
fn packet_debug_is_one_compact_line() {
    let frame = tcp_v4(&[0xab; 500]);
    let meta = parse_full(LinkType::Ethernet, &frame).unwrap();
    let text = format!("{:?}", Packet::new(&meta, &frame));
    assert!(
        text.contains("10.0.0.1:40000 > 10.0.0.2:80 TCP PSH|ACK seq=1000 ack=2000"),
        "{text}"
    );
    assert!(text.contains("payload: 500"), "{text}");
    assert!(text.len() < 200, "{text}");
    assert!(
        !text.contains("171"),
        "payload bytes must not be printed: {text}"
    );
}

/// Deterministic xorshift bytes for the no-panic sweeps (and the checksum tests).
pub(super) fn noise(seed: u32, len: usize) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state as u8
        })
        .collect()
}

/// What must hold for every `Ok` parse, whatever the input.
fn check_invariants(meta: &PacketMeta, frame: &[u8]) {
    let end = meta.payload_offset as usize + meta.payload_len as usize;
    assert!(end <= frame.len(), "payload past the frame: {meta:?}");
    assert!(usize::from(meta.l3_offset) <= frame.len());
    assert!(meta.vlan_count <= 2);
    if let Some(ip) = meta.ip {
        assert!(usize::from(ip.header_offset) + usize::from(ip.header_len) <= frame.len());
    }
    let packet = Packet::new(meta, frame);
    let _ = (
        packet.payload(),
        packet.l3(),
        packet.l4_header(),
        format!("{packet:?}"),
    );
}

#[test]
fn no_panic_on_noise_cuts_and_bit_flips() {
    let links = [
        LinkType::Ethernet,
        LinkType::RawIp,
        LinkType::LinuxSll,
        LinkType::LinuxSll2,
        LinkType::Null,
        LinkType::Loop,
    ];
    for seed in 0..400u32 {
        let bytes = noise(seed, (seed as usize * 7) % 300);
        for link in links {
            for verify in [false, true] {
                if let Ok(meta) = parse(link, &bytes, Timestamp(0), seed, verify) {
                    check_invariants(&meta, &bytes);
                }
            }
        }
    }
    let mut v6 = ipv6_with_exts(&[6, 0, 0, 0, 0, 0, 0, 42], 44);
    v6.resize(v6.len() + 6, 0);
    let samples = [tcp_v4(b"payload bytes"), v6, udp_v4(b"u"), {
        let mut q = Vec::new();
        PacketBuilder::ethernet2(MAC_A, MAC_B)
            .double_vlan(VlanId::try_new(1).unwrap(), VlanId::try_new(2).unwrap())
            .ipv6(V6_A, V6_B, 1)
            .udp(1, 2)
            .write(&mut q, b"x")
            .unwrap();
        q
    }];
    for sample in &samples {
        for len in 0..=sample.len() {
            let cut = &sample[..len];
            for wire in [len as u32, sample.len() as u32, 0, u32::MAX] {
                if let Ok(meta) = parse(LinkType::Ethernet, cut, Timestamp(0), wire, true) {
                    check_invariants(&meta, cut);
                }
            }
        }
        for at in 0..sample.len() {
            for bit in 0..8 {
                let mut flipped = sample.clone();
                flipped[at] ^= 1 << bit;
                if let Ok(meta) = parse(LinkType::Ethernet, &flipped, Timestamp(0), 0, false) {
                    check_invariants(&meta, &flipped);
                }
            }
        }
    }
}

#[test]
fn mismatched_meta_and_bytes_do_not_panic() {
    let big = tcp_v4(&[1; 200]);
    let meta = parse_full(LinkType::Ethernet, &big).unwrap();
    let small = tcp_v4(b"");
    let packet = Packet::new(&meta, &small[..20]);
    assert!(packet.payload().is_empty());
    assert_eq!(packet.l3().len(), 6);
    let mut meta2 = meta;
    let mut bytes = small[..20].to_vec();
    let mut rewrite = PacketMut::new(&mut meta2, &mut bytes);
    assert_eq!(rewrite.set_dst_port(1), Err(RewriteError::OutOfBounds));
    assert_eq!(
        rewrite.set_src_ip(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        Err(RewriteError::OutOfBounds)
    );
    assert!(rewrite.payload_mut().is_empty());
    let _ = rewrite.update_checksums();
    assert_eq!(bytes, small[..20]);
}

mod rewrite {
    use super::*;

    fn rewrite_and_verify(mut frame: Vec<u8>, link: LinkType, v6: bool) {
        let mut meta = parse_full(link, &frame).unwrap();
        let (src, dst) = if v6 {
            (
                IpAddr::V6("2001:db8::aa".parse().unwrap()),
                IpAddr::V6("2001:db8:ffff::1".parse().unwrap()),
            )
        } else {
            (
                IpAddr::V4(Ipv4Addr::new(192, 168, 7, 9)),
                IpAddr::V4(Ipv4Addr::new(172, 16, 0, 1)),
            )
        };
        {
            let mut p = PacketMut::new(&mut meta, &mut frame);
            p.set_src_ip(src).unwrap();
            p.set_dst_ip(dst).unwrap();
            p.set_src_port(1111).unwrap();
            p.set_dst_port(2222).unwrap();
            assert_eq!(p.meta().src_ip(), Some(src));
            assert_eq!(p.meta().ports(), Some((1111, 2222)));
        }
        // Incremental updates alone keep every checksum right.
        let again = parse_full(link, &frame).unwrap();
        assert_eq!((again.src_ip(), again.dst_ip()), (Some(src), Some(dst)));
        assert_eq!(again.ports(), Some((1111, 2222)));
        // Editing the payload needs update_checksums.
        {
            let mut p = PacketMut::new(&mut meta, &mut frame);
            for b in p.payload_mut() {
                *b = b.wrapping_add(3);
            }
        }
        assert!(parse_full(link, &frame).is_err());
        assert!(PacketMut::new(&mut meta, &mut frame).update_checksums());
        parse_full(link, &frame).unwrap();
    }

    #[test]
    fn tcp_v4_rewrite_keeps_checksums() {
        rewrite_and_verify(tcp_v4(b"some tcp payload"), LinkType::Ethernet, false);
    }

    #[test]
    fn tcp_v6_rewrite_keeps_checksums() {
        rewrite_and_verify(tcp_v6(b"odd length!"), LinkType::Ethernet, true);
    }

    #[test]
    fn udp_rewrite_keeps_checksums() {
        rewrite_and_verify(udp_v4(b"udp payload"), LinkType::Ethernet, false);
        rewrite_and_verify(udp_v6(b"udp6"), LinkType::RawIp, true);
    }

    #[test]
    fn wrong_family_and_missing_headers_are_refused() {
        let mut frame = tcp_v4(b"");
        let mut meta = parse_full(LinkType::Ethernet, &frame).unwrap();
        let before = frame.clone();
        let mut p = PacketMut::new(&mut meta, &mut frame);
        assert_eq!(
            p.set_src_ip(IpAddr::V6(Ipv6Addr::LOCALHOST)),
            Err(RewriteError::FamilyMismatch)
        );
        assert_eq!(frame, before);

        let mut arp = vec![0xffu8; 12];
        arp.extend_from_slice(&[0x08, 0x06, 0, 1]);
        let mut meta = parse_full(LinkType::Ethernet, &arp).unwrap();
        let mut p = PacketMut::new(&mut meta, &mut arp);
        assert_eq!(
            p.set_dst_ip(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            Err(RewriteError::NoIp)
        );
        assert_eq!(p.set_dst_port(1), Err(RewriteError::NoPorts));
        assert!(p.update_checksums());
    }

    #[test]
    fn truncated_packets_keep_right_checksums_through_setters() {
        // Rewrite a snap-length-cut copy, then graft its headers onto the full packet: the
        // incrementally patched checksum must verify over the full bytes.
        let full = tcp_v4(&[7; 300]);
        let mut cut = full[..100].to_vec();
        let mut meta = parse(
            LinkType::Ethernet,
            &cut,
            Timestamp(0),
            full.len() as u32,
            true,
        )
        .unwrap();
        assert!(meta.truncated);
        let mut p = PacketMut::new(&mut meta, &mut cut);
        p.set_dst_ip(IpAddr::V4(Ipv4Addr::new(8, 8, 4, 4))).unwrap();
        p.set_dst_port(8080).unwrap();
        // The L4 checksum cannot be recomputed on 46 of 300 payload bytes.
        assert!(!p.update_checksums());
        let mut grafted = full.clone();
        grafted[..100].copy_from_slice(&cut);
        let meta = parse_full(LinkType::Ethernet, &grafted).unwrap();
        assert_eq!(meta.ports(), Some((40000, 8080)));
        assert_eq!(meta.dst_ip(), Some(IpAddr::V4(Ipv4Addr::new(8, 8, 4, 4))));
    }

    #[test]
    fn update_checksums_fixes_an_ipv4_header_edit() {
        let mut frame = tcp_v4(b"ttl");
        frame[14 + 8] = 3; // TTL edited through frame_mut-style access
        let mut meta = parse(LinkType::Ethernet, &frame, Timestamp(0), 0, false).unwrap();
        assert!(parse_full(LinkType::Ethernet, &frame).is_err());
        assert!(PacketMut::new(&mut meta, &mut frame).update_checksums());
        assert_eq!(
            parse_full(LinkType::Ethernet, &frame)
                .unwrap()
                .ip
                .unwrap()
                .ttl,
            3
        );
    }

    #[test]
    fn icmpv6_checksum_follows_address_rewrites() {
        let builder = PacketBuilder::ipv6(V6_A, V6_B, 255).icmpv6_echo_request(1, 2);
        let mut frame = Vec::new();
        builder.write(&mut frame, b"echo").unwrap();
        let mut meta = parse_full(LinkType::RawIp, &frame).unwrap();
        PacketMut::new(&mut meta, &mut frame)
            .set_src_ip(IpAddr::V6(Ipv6Addr::LOCALHOST))
            .unwrap();
        // Recomputing from the bytes must give the value the incremental patch wrote.
        let patched = frame[40 + 2..40 + 4].to_vec();
        assert!(PacketMut::new(&mut meta, &mut frame).update_checksums());
        assert_eq!(frame[40 + 2..40 + 4], patched[..]);
    }
}

/// Spot checks on the public traces (real values, read with tshark).
mod traces {
    use super::*;

    fn parsed(name: &str) -> Vec<(Vec<u8>, Result<PacketMeta, ParseError>)> {
        read_all(&trace(name))
            .into_iter()
            .map(|f| {
                let meta = parse(f.link, &f.data, f.ts, f.wire_len, false);
                (f.data, meta)
            })
            .collect()
    }

    fn metas(name: &str) -> Vec<PacketMeta> {
        parsed(name).into_iter().map(|(_, m)| m.unwrap()).collect()
    }

    #[test]
    fn vlan_ids() {
        // Both traces tag with VLAN id 0 (priority tagging, PCP 5): TCI 0xb000.
        for meta in metas("zeek-http-vlan.pcap") {
            assert_eq!(meta.vlans(), &[0]);
            assert_eq!(meta.l3_offset, 18);
            assert!(meta.tcp().is_some());
        }
        for meta in metas("zeek-http-qinq.pcap") {
            assert_eq!(meta.vlans(), &[0, 0]);
            assert_eq!(meta.l3_offset, 22);
            assert!(meta.tcp().is_some());
        }
        // 802.1Q + IPv4 fragments of a TCP SYN: the first fragment carries 8 TCP bytes only.
        let frags = metas("sv-vlan-ipv4-frag-tcp-syn.pcap");
        assert_eq!(frags.len(), 3);
        for meta in &frags {
            assert_eq!(meta.vlan_count, 1);
            assert!(meta.ip.unwrap().fragment);
            assert_eq!(meta.l4, L4Meta::None);
        }
    }

    #[test]
    fn linux_sll_with_nanosecond_timestamps() {
        let metas = metas("tcpdump-tcp-handshake-nano.pcap");
        assert_eq!(metas.len(), 3);
        let syn = &metas[0];
        assert_eq!(syn.link, LinkType::LinuxSll);
        assert_eq!(syn.l3_offset, 16);
        assert_eq!(syn.ts, Timestamp::from_parts(1_418_145_369, 924_505_488));
        assert_eq!(
            metas[2].ts,
            Timestamp::from_parts(1_418_145_370, 52_115_157)
        );
        assert_eq!(
            syn.src_ip(),
            Some(IpAddr::V4(Ipv4Addr::new(131, 155, 215, 69)))
        );
        let tcp = syn.tcp().unwrap();
        assert_eq!((tcp.src_port, tcp.dst_port, tcp.window), (46656, 80, 27200));
        assert_eq!(tcp.flags, TcpFlags::SYN);
        assert_eq!(
            (tcp.mss, tcp.wscale, tcp.sack_permitted),
            (Some(1360), Some(7), true)
        );
        assert_eq!(tcp.timestamp, Some((1_131_021_154, 0)));
        let synack = metas[1].tcp().unwrap();
        assert_eq!(synack.flags, TcpFlags::SYN | TcpFlags::ACK);
        assert_eq!((synack.mss, synack.wscale), (Some(1440), Some(8)));
    }

    #[test]
    fn raw_ipv6_link() {
        let all = parsed("tcpdump-linktype-raw-ipv6.pcap");
        assert_eq!(all.len(), 1);
        let (data, meta) = &all[0];
        let meta = meta.unwrap();
        assert_eq!(meta.link, LinkType::RawIp);
        let ip = meta.ip.unwrap();
        assert_eq!(ip.version, 6);
        assert_eq!(ip.src, IpAddr::V6("2001:db8::1".parse().unwrap()));
        assert_eq!(ip.dst, IpAddr::V6("2620:fe::9".parse().unwrap()));
        assert_eq!(meta.udp().unwrap().dst_port, 53);
        // The UDP-over-IPv6 checksum of this real packet verifies.
        parse(meta.link, data, meta.ts, meta.wire_len, true).unwrap();
        // The DNS query for example.com: ID 0x1234, then the name.
        let payload = Packet::new(&meta, data).payload();
        assert_eq!(&payload[..2], &[0x12, 0x34]);
        assert_eq!(&payload[13..20], b"example");
    }

    #[test]
    fn big_endian_pcapng_dhcp() {
        let metas = metas("pcapparser-test001-be.pcapng");
        assert_eq!(metas.len(), 4);
        for meta in &metas {
            let ports = meta.ports().unwrap();
            assert!(ports == (68, 67) || ports == (67, 68), "{ports:?}");
        }
        assert_eq!(metas[0].cap_len, 314);
    }

    #[test]
    fn ipv6_atomic_fragments_are_tcp() {
        let all = metas("zeek-ipv6-http-atomic-frag.pcap");
        assert_eq!(all.len(), 38);
        // 36 TCP frames: 18 plain, 18 behind extension headers (hop-by-hop, routing,
        // destination options, and 5 atomic fragment headers); none is a fragment.
        let tcp: Vec<&PacketMeta> = all.iter().filter(|m| m.tcp().is_some()).collect();
        assert_eq!(tcp.len(), 36);
        assert_eq!(
            tcp.iter().filter(|m| m.ip.unwrap().header_len > 40).count(),
            18
        );
        let raw = read_all(&trace("zeek-ipv6-http-atomic-frag.pcap"));
        let atomic: Vec<usize> = (0..raw.len()).filter(|&i| raw[i].data[20] == 44).collect();
        assert_eq!(atomic.len(), 5);
        for i in atomic {
            assert_eq!(all[i].ip.unwrap().header_len, 48);
            assert!(all[i].tcp().is_some());
        }
        assert!(all.iter().all(|m| !m.ip.unwrap().fragment));
        assert_eq!(
            all.iter()
                .filter(|m| matches!(m.l4, L4Meta::Icmp(i) if i.v6))
                .count(),
            2
        );
    }

    #[test]
    fn ipv4_fragments_are_flagged() {
        let udp = metas("zeek-ipv4-fragmented.pcap");
        assert!(udp.iter().all(|m| m.ip.unwrap().fragment));
        // Frames 1 and 3 are offset-0 fragments (MF set) holding the UDP header (NTP from port
        // 123), frame 2 is at offset 48 (× 8) and has none.
        assert_eq!(udp[0].ports(), Some((123, 137)));
        assert_eq!(udp[1].l4, L4Meta::None);
        assert_eq!(udp[1].payload_len, 150 - 14 - 20);
        assert_eq!(udp[2].ports(), Some((123, 137)));
        // An echo request in two fragments, then the unfragmented reply.
        let icmp = metas("sv-ipv4-frags.pcap");
        let flags: Vec<bool> = icmp.iter().map(|m| m.ip.unwrap().fragment).collect();
        assert_eq!(flags, [true, true, false]);
        assert!(matches!(icmp[0].l4, L4Meta::Icmp(IcmpMeta { kind: 8, .. })));
        assert_eq!(icmp[1].l4, L4Meta::None);
        assert!(matches!(icmp[2].l4, L4Meta::Icmp(IcmpMeta { kind: 0, .. })));
    }

    #[test]
    fn malformed_and_truncated_traces() {
        // caplen 64 of 262144: the 60-byte TCP header is cut by the capture.
        let all = parsed("tcpdump-malformed-tcp.pcap");
        assert_eq!(all[0].1, Err(ParseError::Truncated("TCP header")));
        // IPv4 total length 65028 in a 1530-byte frame that was captured whole, and a UDP
        // length of 65008 where 1496 bytes were on the wire.
        let all = parsed("sv-ipv4-truncated.pcap");
        assert_eq!(
            all[0].1,
            Err(ParseError::Malformed("UDP length beyond the IP payload"))
        );
        // ARP is not IP, not an error.
        for meta in metas("zeek-arp-who-has.pcap") {
            assert!(meta.ip.is_none());
        }
    }

    #[test]
    fn http_get_payload_bytes_per_direction() {
        let client = IpAddr::V4(Ipv4Addr::new(141, 142, 228, 5));
        let (mut c2s, mut s2c) = (0u64, 0u64);
        for meta in metas("zeek-http-get.pcap") {
            assert!(!meta.truncated);
            if meta.src_ip() == Some(client) {
                c2s += u64::from(meta.payload_len);
            } else {
                s2c += u64::from(meta.payload_len);
            }
        }
        assert_eq!((c2s, s2c), (136, 5007));
    }

    #[test]
    fn headers_only_capture_keeps_the_segment_length() {
        // Captured headers only (no payload byte in any frame), but the segment lengths are
        // known from the IP header (tshark: frame 4 has tcp.len 474, frame 6 1446).
        let metas = metas("zeek-tcp-retransmit-fast.pcap");
        assert!(metas.iter().all(|m| m.payload_len == 0));
        let total: u64 = metas.iter().map(|m| u64::from(m.wire_payload_len())).sum();
        // Sum of tshark's tcp.len over the 39 frames.
        assert_eq!(total, 1286 + 1366 + 4 * 1430 + 13 * 1446 + 474 + 903);
        assert!(metas[3].truncated);
        assert_eq!(metas[3].wire_payload_len(), 474);
        assert_eq!(metas[5].wire_payload_len(), 1446);
        assert!(!metas[0].truncated);
        assert_eq!(metas[0].wire_payload_len(), 0);
    }

    #[test]
    fn real_checksums_verify_and_a_flipped_bit_fails() {
        for name in [
            "zeek-http-get.pcap",
            "zeek-ipv6-smtp.pcap",
            "tcpdump-dns-udp.pcap",
        ] {
            let frames = read_all(&trace(name));
            assert!(!frames.is_empty());
            for f in &frames {
                parse(f.link, &f.data, f.ts, f.wire_len, true)
                    .unwrap_or_else(|e| panic!("{name}: {e}"));
            }
        }
        // Flip one payload bit of the HTTP request (frame 4).
        let frames = read_all(&trace("zeek-http-get.pcap"));
        let request = &frames[3];
        let meta = parse(
            request.link,
            &request.data,
            request.ts,
            request.wire_len,
            true,
        )
        .unwrap();
        assert_eq!(meta.payload_len, 136);
        let mut bad = request.data.clone();
        bad[meta.payload_offset as usize + 5] ^= 0x04;
        assert_eq!(
            parse(request.link, &bad, request.ts, request.wire_len, true).unwrap_err(),
            ParseError::BadChecksum(ChecksumLayer::Tcp)
        );
        // Rewrite the request as a NAT would: it verifies again.
        let mut meta = meta;
        let mut data = request.data.clone();
        let mut p = PacketMut::new(&mut meta, &mut data);
        p.set_src_ip(IpAddr::V4(Ipv4Addr::new(100, 64, 0, 1)))
            .unwrap();
        p.set_src_port(61000).unwrap();
        p.payload_mut()[0] = b'P'; // "GET " -> "PET "
        assert!(p.update_checksums());
        let after = parse(request.link, &data, request.ts, request.wire_len, true).unwrap();
        assert_eq!(after.ports(), Some((61000, 80)));
        assert_eq!(Packet::new(&after, &data).payload()[..4], *b"PET ");
    }

    #[test]
    fn checksum_failures_match_tshark_counts() {
        // Frames whose IPv4/TCP/UDP checksum tshark reports as bad (checked with tshark 4.0
        // and `-o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE`):
        // offloaded checksums on the capturing host.
        for (name, bad) in [
            ("retina-tls-ciphers.pcap", 1022),
            ("sv-tls-fin-close.pcap", 12),
            ("zeek-tcp-retransmit-fast.pcap", 39),
            ("zeek-tcp-ssh-dups.pcap", 152),
            // tshark flags 15; 5 of them are frames shorter than their IP length, which are
            // truncated here and their TCP checksum not checked.
            ("zeek-tcp-reassembly.pcap", 10),
            ("sv-syn-retransmit-ts.pcap", 0),
            ("zeek-http-pipelined.pcap", 0),
        ] {
            let frames = read_all(&trace(name));
            let failed = frames
                .iter()
                .filter(|f| {
                    matches!(
                        parse(f.link, &f.data, f.ts, f.wire_len, true),
                        Err(ParseError::BadChecksum(_))
                    )
                })
                .count();
            assert_eq!(failed, bad, "{name}");
        }
    }
}
