//! The flow key of a frame, guessed from its first bytes for prefetching (see
//! [`crate::prefetch`]).
//!
//! [`flow_key_hint`] reads only the fixed fields the key is made of — link header (Ethernet
//! with up to two VLAN tags, or raw IP), the IPv4 or IPv6 addresses, the protocol, the ports —
//! and validates nothing else: no lengths beyond what it reads, no checksums, no extension
//! headers (an IPv6 packet whose next header is not TCP gives no hint). The answer is a guess
//! that only decides which cache lines to ask for early; [`super::parse`] still decides what the
//! frame is. So a frame the parser would reject may get a hint (a wasted prefetch), and a
//! frame it accepts may get none (no prefetch); neither changes any result.

use crate::flow::key::FlowKey;

use super::LinkType;

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86dd;
const ETHERTYPE_VLAN: u16 = 0x8100;
const ETHERTYPE_QINQ: u16 = 0x88a8;
const PROTO_TCP: u8 = 6;

/// The canonical flow key of a TCP frame, when the frame's first bytes look like one.
#[inline]
pub fn flow_key_hint(link: LinkType, data: &[u8]) -> Option<FlowKey> {
    let l3 = match link {
        LinkType::Ethernet => {
            let mut at = 12;
            let mut ethertype = be16(data, at)?;
            // At most two tags, as the parser records.
            for _ in 0..2 {
                if ethertype != ETHERTYPE_VLAN && ethertype != ETHERTYPE_QINQ {
                    break;
                }
                at += 4;
                ethertype = be16(data, at)?;
            }
            if ethertype != ETHERTYPE_IPV4 && ethertype != ETHERTYPE_IPV6 {
                return None;
            }
            at + 2
        }
        LinkType::RawIp => 0,
        _ => return None,
    };
    let ip = data.get(l3..)?;
    match ip.first()? >> 4 {
        4 => {
            let header: &[u8; 20] = ip.get(..20)?.try_into().ok()?;
            // Not TCP, or a fragment after the first (no ports): no key.
            if header[9] != PROTO_TCP || u16::from_be_bytes([header[6], header[7]]) & 0x1fff != 0 {
                return None;
            }
            let l4 = usize::from(header[0] & 0x0f) * 4;
            let (src_port, dst_port) = ports(ip, l4)?;
            let src = [header[12], header[13], header[14], header[15]];
            let dst = [header[16], header[17], header[18], header[19]];
            Some(FlowKey::from_v4(src, src_port, dst, dst_port, PROTO_TCP).0)
        }
        6 => {
            let header: &[u8; 40] = ip.get(..40)?.try_into().ok()?;
            if header[6] != PROTO_TCP {
                return None;
            }
            let (src_port, dst_port) = ports(ip, 40)?;
            let src: [u8; 16] = header[8..24].try_into().ok()?;
            let dst: [u8; 16] = header[24..40].try_into().ok()?;
            Some(FlowKey::from_v6(src, src_port, dst, dst_port, PROTO_TCP).0)
        }
        _ => None,
    }
}

fn be16(data: &[u8], at: usize) -> Option<u16> {
    let bytes = data.get(at..at + 2)?;
    Some(u16::from_be_bytes([bytes[0], bytes[1]]))
}

fn ports(ip: &[u8], l4: usize) -> Option<(u16, u16)> {
    Some((be16(ip, l4)?, be16(ip, l4 + 2)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Timestamp;
    use crate::wire::{L4Meta, parse};

    /// The key the engine computes from a parsed TCP frame.
    fn parsed_key(link: LinkType, frame: &[u8]) -> Option<FlowKey> {
        let meta = parse(link, frame, Timestamp::ZERO, frame.len() as u32, false).ok()?;
        let ip = meta.ip?;
        if ip.fragment {
            return None;
        }
        let L4Meta::Tcp(tcp) = meta.l4 else {
            return None;
        };
        Some(FlowKey::new(ip.src, tcp.src_port, ip.dst, tcp.dst_port, ip.proto).0)
    }

    /// On every TCP frame the parser accepts in the shipped sample, the hint is the parser's
    /// key (the sample has IPv4 and IPv6, handshakes, data, UDP and ICMP).
    #[test]
    fn hint_is_the_parsers_key_on_the_sample() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/data/sample.pcap");
        let bytes = std::fs::read(path).unwrap();
        let mut reader = crate::io::PcapReader::from_bytes(bytes).unwrap();
        let (mut tcp, mut other) = (0, 0);
        while let Some(frame) = reader.next_frame().unwrap() {
            let hint = flow_key_hint(frame.link, frame.data);
            match parsed_key(frame.link, frame.data) {
                Some(key) => {
                    assert_eq!(hint, Some(key));
                    tcp += 1;
                }
                None => {
                    assert_eq!(hint, None, "a hint for a frame without a TCP key");
                    other += 1;
                }
            }
        }
        assert!(tcp > 500 && other > 10, "tcp {tcp} other {other}");
    }

    #[test]
    fn short_and_foreign_frames_give_no_hint() {
        assert_eq!(flow_key_hint(LinkType::Ethernet, &[]), None);
        assert_eq!(flow_key_hint(LinkType::Ethernet, &[0; 13]), None);
        // An IPv4 header cut before the ports.
        let mut frame = vec![0u8; 14 + 20 + 2];
        frame[12..14].copy_from_slice(&ETHERTYPE_IPV4.to_be_bytes());
        frame[14] = 0x45;
        frame[14 + 9] = PROTO_TCP;
        assert_eq!(flow_key_hint(LinkType::Ethernet, &frame), None);
        frame.extend_from_slice(&[0, 80]);
        assert!(flow_key_hint(LinkType::Ethernet, &frame).is_some());
        // A later fragment has no ports.
        frame[14 + 6] = 0x00;
        frame[14 + 7] = 0x10;
        assert_eq!(flow_key_hint(LinkType::Ethernet, &frame), None);
        assert_eq!(flow_key_hint(LinkType::LinuxSll, &frame), None);
        // Raw IP: the same packet without its Ethernet header.
        frame[14 + 7] = 0;
        assert_eq!(
            flow_key_hint(LinkType::RawIp, &frame[14..]),
            flow_key_hint(LinkType::Ethernet, &frame)
        );
    }
}
