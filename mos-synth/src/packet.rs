//! Frame construction: Ethernet (optionally 802.1Q-tagged), IPv4/IPv6, TCP/UDP/ICMP, ARP.
//!
//! Every function here writes one whole frame into a caller-owned `Vec<u8>` (cleared first),
//! so a generator that keeps one buffer allocates nothing per packet once the buffer has
//! grown to a full frame. Headers are etherparse's, which also computes the IPv4 header
//! checksum and the TCP/UDP/ICMP checksums over the pseudo-header and payload; every frame
//! this module writes checks out in Wireshark.
//!
//! Frames shorter than Ethernet's 60-byte minimum can be padded with zeros ([`Link::pad`]),
//! as a NIC does on the wire: a reader must then take the IP length, not the frame length.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::ops::{BitOr, BitOrAssign};

use etherparse::{
    ArpEthIpv4Packet, ArpOperation, EtherType, Ethernet2Header, IcmpEchoHeader, Icmpv4Header,
    Icmpv4Type, Icmpv6Header, Icmpv6Type, IpNumber, Ipv4Header, Ipv6FlowLabel, Ipv6Header,
    SingleVlanHeader, TcpHeader, TcpOptionElement, UdpHeader, VlanId, VlanPcp,
};

use crate::Error;

/// The smallest Ethernet frame without its FCS.
pub const ETHERNET_MIN_FRAME: usize = 60;

/// The maximum TCP payload of a full-size segment on a 1500-byte MTU with a 20-byte TCP
/// header over IPv4.
pub const MSS_IPV4: usize = 1460;

/// The MAC address every remote host appears behind: the default gateway of the tapped LAN.
pub const GATEWAY_MAC: [u8; 6] = [0x02, 0x00, 0x5e, 0x10, 0x00, 0x01];

/// The Ethernet broadcast address.
pub const BROADCAST_MAC: [u8; 6] = [0xff; 6];

/// TCP control flags, combinable with `|`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TcpFlags(u8);

impl TcpFlags {
    /// No flag set.
    pub const NONE: TcpFlags = TcpFlags(0);
    /// FIN: the sender has finished sending.
    pub const FIN: TcpFlags = TcpFlags(0x01);
    /// SYN: synchronise sequence numbers.
    pub const SYN: TcpFlags = TcpFlags(0x02);
    /// RST: reset the connection.
    pub const RST: TcpFlags = TcpFlags(0x04);
    /// PSH: push buffered data to the application.
    pub const PSH: TcpFlags = TcpFlags(0x08);
    /// ACK: the acknowledgment field is significant.
    pub const ACK: TcpFlags = TcpFlags(0x10);
    /// URG: the urgent pointer is significant.
    pub const URG: TcpFlags = TcpFlags(0x20);
    /// ECE: ECN echo.
    pub const ECE: TcpFlags = TcpFlags(0x40);
    /// CWR: congestion window reduced.
    pub const CWR: TcpFlags = TcpFlags(0x80);

    /// The flags from the low byte of the TCP flags field.
    pub const fn from_bits(bits: u8) -> TcpFlags {
        TcpFlags(bits)
    }

    /// The low byte of the TCP flags field.
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// True if every flag of `other` is set in `self`.
    pub const fn contains(self, other: TcpFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// True if any flag of `other` is set in `self`.
    pub const fn intersects(self, other: TcpFlags) -> bool {
        self.0 & other.0 != 0
    }

    /// `self` without the flags of `other`.
    pub const fn without(self, other: TcpFlags) -> TcpFlags {
        TcpFlags(self.0 & !other.0)
    }

    /// `self` with the flags of `other` added.
    pub const fn with(self, other: TcpFlags) -> TcpFlags {
        TcpFlags(self.0 | other.0)
    }
}

impl BitOr for TcpFlags {
    type Output = TcpFlags;
    fn bitor(self, rhs: TcpFlags) -> TcpFlags {
        TcpFlags(self.0 | rhs.0)
    }
}

impl BitOrAssign for TcpFlags {
    fn bitor_assign(&mut self, rhs: TcpFlags) {
        self.0 |= rhs.0;
    }
}

/// The link layer of a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Link {
    /// Source MAC address.
    pub src: [u8; 6],
    /// Destination MAC address.
    pub dst: [u8; 6],
    /// An 802.1Q tag (VLAN id, 0..=4095), if any.
    pub vlan: Option<u16>,
    /// Pad frames shorter than [`ETHERNET_MIN_FRAME`] with zeros.
    pub pad: bool,
}

impl Link {
    /// An untagged, unpadded link between two MAC addresses.
    pub const fn new(src: [u8; 6], dst: [u8; 6]) -> Link {
        Link {
            src,
            dst,
            vlan: None,
            pad: false,
        }
    }

    /// The same link in the other direction.
    pub const fn reversed(self) -> Link {
        Link {
            src: self.dst,
            dst: self.src,
            ..self
        }
    }
}

/// IP header fields that are not addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IpFields {
    /// IPv4 TTL / IPv6 hop limit.
    pub ttl: u8,
    /// IPv4 identification (ignored for IPv6).
    pub ident: u16,
    /// IPv4 don't-fragment bit (ignored for IPv6).
    pub dont_fragment: bool,
    /// IPv6 flow label (20 bits; ignored for IPv4).
    pub flow_label: u32,
}

impl Default for IpFields {
    fn default() -> IpFields {
        IpFields {
            ttl: 64,
            ident: 0,
            dont_fragment: true,
            flow_label: 0,
        }
    }
}

/// The options a SYN or SYN-ACK carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SynOptions {
    /// Maximum segment size.
    pub mss: Option<u16>,
    /// Window scale shift (0..=14).
    pub wscale: Option<u8>,
    /// SACK permitted.
    pub sack_permitted: bool,
}

impl SynOptions {
    /// What a current Linux stack sends on Ethernet: MSS 1460, SACK permitted, window scale 7.
    pub const LINUX: SynOptions = SynOptions {
        mss: Some(1460),
        wscale: Some(7),
        sack_permitted: true,
    };

    /// Only an MSS option.
    pub const fn mss(mss: u16) -> SynOptions {
        SynOptions {
            mss: Some(mss),
            wscale: None,
            sack_permitted: false,
        }
    }

    /// No options at all.
    pub const NONE: SynOptions = SynOptions {
        mss: None,
        wscale: None,
        sack_permitted: false,
    };
}

/// One TCP segment, everything but the link and IP details.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpSegment<'a> {
    /// Sender.
    pub src: SocketAddr,
    /// Receiver.
    pub dst: SocketAddr,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgment number (sent as is, even without the ACK flag).
    pub ack: u32,
    /// Control flags.
    pub flags: TcpFlags,
    /// Window field (as sent, before any scaling).
    pub window: u16,
    /// Urgent pointer.
    pub urgent: u16,
    /// Options; only written when [`TcpFlags::SYN`] is set.
    pub options: SynOptions,
    /// Payload.
    pub payload: &'a [u8],
}

fn ether_header(out: &mut Vec<u8>, link: &Link, ether_type: EtherType) -> Result<(), Error> {
    match link.vlan {
        None => {
            let eth = Ethernet2Header {
                source: link.src,
                destination: link.dst,
                ether_type,
            };
            out.extend_from_slice(&eth.to_bytes());
        }
        Some(id) => {
            let eth = Ethernet2Header {
                source: link.src,
                destination: link.dst,
                ether_type: EtherType::VLAN_TAGGED_FRAME,
            };
            let vlan = SingleVlanHeader {
                pcp: VlanPcp::ZERO,
                drop_eligible_indicator: false,
                vlan_id: VlanId::try_new(id).map_err(|_| Error::InvalidVlan(id))?,
                ether_type,
            };
            out.extend_from_slice(&eth.to_bytes());
            out.extend_from_slice(&vlan.to_bytes());
        }
    }
    Ok(())
}

fn finish(out: &mut Vec<u8>, link: &Link) {
    if link.pad && out.len() < ETHERNET_MIN_FRAME {
        out.resize(ETHERNET_MIN_FRAME, 0);
    }
}

/// The IP header for `proto` carrying `l4_len` bytes, as an etherparse header pair.
enum IpHeader {
    V4(Ipv4Header),
    V6(Ipv6Header),
}

fn ip_header(
    src: IpAddr,
    dst: IpAddr,
    proto: IpNumber,
    l4_len: usize,
    ip: &IpFields,
) -> Result<IpHeader, Error> {
    let too_large = || Error::PayloadTooLarge { len: l4_len };
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let len = u16::try_from(l4_len).map_err(|_| too_large())?;
            let mut h = Ipv4Header::new(len, ip.ttl, proto, s.octets(), d.octets())
                .map_err(|_| too_large())?;
            h.identification = ip.ident;
            h.dont_fragment = ip.dont_fragment;
            h.header_checksum = h.calc_header_checksum();
            Ok(IpHeader::V4(h))
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            let payload_length = u16::try_from(l4_len).map_err(|_| too_large())?;
            Ok(IpHeader::V6(Ipv6Header {
                traffic_class: 0,
                flow_label: Ipv6FlowLabel::try_new(ip.flow_label & Ipv6FlowLabel::MAX_U32)
                    .unwrap_or(Ipv6FlowLabel::ZERO),
                payload_length,
                next_header: proto,
                hop_limit: ip.ttl,
                source: s.octets(),
                destination: d.octets(),
            }))
        }
        _ => Err(Error::MixedIpVersions),
    }
}

fn push_ip(out: &mut Vec<u8>, link: &Link, h: &IpHeader) -> Result<(), Error> {
    match h {
        IpHeader::V4(h) => {
            ether_header(out, link, EtherType::IPV4)?;
            out.extend_from_slice(&h.to_bytes());
        }
        IpHeader::V6(h) => {
            ether_header(out, link, EtherType::IPV6)?;
            out.extend_from_slice(&h.to_bytes());
        }
    }
    Ok(())
}

/// Writes a whole TCP frame into `out` (cleared first).
pub fn tcp_frame(
    out: &mut Vec<u8>,
    link: &Link,
    ip: &IpFields,
    seg: &TcpSegment<'_>,
) -> Result<(), Error> {
    out.clear();
    let mut tcp = TcpHeader::new(seg.src.port(), seg.dst.port(), seg.seq, seg.window);
    tcp.acknowledgment_number = seg.ack;
    let f = seg.flags;
    tcp.fin = f.contains(TcpFlags::FIN);
    tcp.syn = f.contains(TcpFlags::SYN);
    tcp.rst = f.contains(TcpFlags::RST);
    tcp.psh = f.contains(TcpFlags::PSH);
    tcp.ack = f.contains(TcpFlags::ACK);
    tcp.urg = f.contains(TcpFlags::URG);
    tcp.ece = f.contains(TcpFlags::ECE);
    tcp.cwr = f.contains(TcpFlags::CWR);
    tcp.urgent_pointer = seg.urgent;
    if tcp.syn {
        // Linux's layout: MSS, SACK-permitted, NOP, window scale (12 bytes with both).
        let mut opts = [const { TcpOptionElement::Noop }; 5];
        let mut n = 0;
        if let Some(mss) = seg.options.mss {
            opts[n] = TcpOptionElement::MaximumSegmentSize(mss);
            n += 1;
        }
        if seg.options.sack_permitted {
            opts[n] = TcpOptionElement::SelectiveAcknowledgementPermitted;
            n += 1;
        }
        if let Some(ws) = seg.options.wscale {
            opts[n] = TcpOptionElement::Noop;
            opts[n + 1] = TcpOptionElement::WindowScale(ws.min(14));
            n += 2;
        }
        // Three options never exceed the 40 option bytes, so this cannot fail.
        tcp.set_options(&opts[..n])
            .map_err(|_| Error::PayloadTooLarge { len: n })?;
    }
    let l4_len = tcp.header_len() + seg.payload.len();
    let iph = ip_header(seg.src.ip(), seg.dst.ip(), IpNumber::TCP, l4_len, ip)?;
    let too_large = |_| Error::PayloadTooLarge {
        len: seg.payload.len(),
    };
    tcp.checksum = match &iph {
        IpHeader::V4(h) => tcp.calc_checksum_ipv4(h, seg.payload).map_err(too_large)?,
        IpHeader::V6(h) => tcp.calc_checksum_ipv6(h, seg.payload).map_err(too_large)?,
    };
    push_ip(out, link, &iph)?;
    out.extend_from_slice(&tcp.to_bytes());
    out.extend_from_slice(seg.payload);
    finish(out, link);
    Ok(())
}

/// Writes a whole UDP frame into `out` (cleared first).
pub fn udp_frame(
    out: &mut Vec<u8>,
    link: &Link,
    ip: &IpFields,
    src: SocketAddr,
    dst: SocketAddr,
    payload: &[u8],
) -> Result<(), Error> {
    out.clear();
    let iph = ip_header(
        src.ip(),
        dst.ip(),
        IpNumber::UDP,
        UdpHeader::LEN + payload.len(),
        ip,
    )?;
    let too_large = |_| Error::PayloadTooLarge { len: payload.len() };
    let udp =
        match &iph {
            IpHeader::V4(h) => UdpHeader::with_ipv4_checksum(src.port(), dst.port(), h, payload)
                .map_err(too_large)?,
            IpHeader::V6(h) => UdpHeader::with_ipv6_checksum(src.port(), dst.port(), h, payload)
                .map_err(too_large)?,
        };
    push_ip(out, link, &iph)?;
    out.extend_from_slice(&udp.to_bytes());
    out.extend_from_slice(payload);
    finish(out, link);
    Ok(())
}

/// Which ICMP echo message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Echo {
    /// Echo request ("ping").
    Request,
    /// Echo reply.
    Reply,
}

/// Writes an ICMP (IPv4) or ICMPv6 (IPv6) echo frame into `out` (cleared first).
#[allow(clippy::too_many_arguments)] // one per field of the message; a struct adds nothing
pub fn icmp_echo_frame(
    out: &mut Vec<u8>,
    link: &Link,
    ip: &IpFields,
    src: IpAddr,
    dst: IpAddr,
    kind: Echo,
    ident: u16,
    seq: u16,
    payload: &[u8],
) -> Result<(), Error> {
    out.clear();
    let echo = IcmpEchoHeader { id: ident, seq };
    let too_large = |_| Error::PayloadTooLarge { len: payload.len() };
    match (src, dst) {
        (IpAddr::V4(_), IpAddr::V4(_)) => {
            let ty = match kind {
                Echo::Request => Icmpv4Type::EchoRequest(echo),
                Echo::Reply => Icmpv4Type::EchoReply(echo),
            };
            let icmp = Icmpv4Header::with_checksum(ty, payload);
            let iph = ip_header(
                src,
                dst,
                IpNumber::ICMP,
                icmp.header_len() + payload.len(),
                ip,
            )?;
            push_ip(out, link, &iph)?;
            out.extend_from_slice(&icmp.to_bytes());
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            let ty = match kind {
                Echo::Request => Icmpv6Type::EchoRequest(echo),
                Echo::Reply => Icmpv6Type::EchoReply(echo),
            };
            let icmp = Icmpv6Header::with_checksum(ty, s.octets(), d.octets(), payload)
                .map_err(too_large)?;
            let iph = ip_header(
                src,
                dst,
                IpNumber::IPV6_ICMP,
                icmp.header_len() + payload.len(),
                ip,
            )?;
            push_ip(out, link, &iph)?;
            out.extend_from_slice(&icmp.to_bytes());
        }
        _ => return Err(Error::MixedIpVersions),
    }
    out.extend_from_slice(payload);
    finish(out, link);
    Ok(())
}

/// Which ARP message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Arp {
    /// Who has `target_ip`? (to the broadcast address, target MAC zero)
    Request,
    /// `sender_ip` is at `sender_mac`.
    Reply,
}

/// Writes an Ethernet/IPv4 ARP frame into `out` (cleared first). The link's addresses are
/// used for the Ethernet header; the ARP body names `sender` and `target`.
pub fn arp_frame(
    out: &mut Vec<u8>,
    link: &Link,
    kind: Arp,
    sender: ([u8; 6], Ipv4Addr),
    target: ([u8; 6], Ipv4Addr),
) -> Result<(), Error> {
    out.clear();
    ether_header(out, link, EtherType::ARP)?;
    let arp = ArpEthIpv4Packet {
        operation: match kind {
            Arp::Request => ArpOperation::REQUEST,
            Arp::Reply => ArpOperation::REPLY,
        },
        sender_mac: sender.0,
        sender_ipv4: sender.1.octets(),
        target_mac: target.0,
        target_ipv4: target.1.octets(),
    };
    out.extend_from_slice(&arp.to_bytes());
    finish(out, link);
    Ok(())
}

/// A locally administered unicast MAC address derived from an IP address, so that every
/// host keeps one stable MAC across a capture.
pub fn mac_for_ip(ip: IpAddr) -> [u8; 6] {
    let tail: [u8; 4] = match ip {
        IpAddr::V4(a) => a.octets(),
        IpAddr::V6(a) => {
            let o = a.octets();
            [o[12], o[13], o[14], o[15]]
        }
    };
    [0x02, 0x42, tail[0], tail[1], tail[2], tail[3]]
}

#[cfg(test)]
mod tests {
    use super::*;
    use etherparse::{NetSlice, SlicedPacket, TransportSlice};

    fn seg<'a>(src: &str, dst: &str, flags: TcpFlags, payload: &'a [u8]) -> TcpSegment<'a> {
        TcpSegment {
            src: src.parse().unwrap(),
            dst: dst.parse().unwrap(),
            seq: 1000,
            ack: 2000,
            flags,
            window: 512,
            urgent: 0,
            options: SynOptions::LINUX,
            payload,
        }
    }

    #[test]
    fn tcp_ipv4_frame_parses_with_valid_checksums() {
        let mut out = Vec::new();
        let link = Link::new([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2]);
        let s = seg(
            "10.0.0.1:40000",
            "10.0.0.2:80",
            TcpFlags::ACK | TcpFlags::PSH,
            b"hello",
        );
        tcp_frame(&mut out, &link, &IpFields::default(), &s).unwrap();
        assert_eq!(out.len(), 14 + 20 + 20 + 5);
        let p = SlicedPacket::from_ethernet(&out).unwrap();
        let Some(NetSlice::Ipv4(ip)) = &p.net else {
            panic!("not ipv4")
        };
        let h = ip.header().to_header();
        assert_eq!(h.header_checksum, h.calc_header_checksum());
        let Some(TransportSlice::Tcp(tcp)) = &p.transport else {
            panic!("not tcp")
        };
        assert_eq!(tcp.sequence_number(), 1000);
        assert_eq!(tcp.acknowledgment_number(), 2000);
        assert!(tcp.psh() && tcp.ack() && !tcp.syn());
        assert_eq!(tcp.payload(), b"hello");
        let th = tcp.to_header();
        assert_eq!(th.checksum, th.calc_checksum_ipv4(&h, b"hello").unwrap());
    }

    #[test]
    fn syn_carries_options_and_ipv6_vlan_parse() {
        let mut out = Vec::new();
        let mut link = Link::new([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2]);
        link.vlan = Some(42);
        let s = seg(
            "[2001:db8::1]:40000",
            "[2001:db8::2]:443",
            TcpFlags::SYN,
            b"",
        );
        tcp_frame(&mut out, &link, &IpFields::default(), &s).unwrap();
        assert_eq!(out.len(), 14 + 4 + 40 + 32);
        let p = SlicedPacket::from_ethernet(&out).unwrap();
        assert_eq!(p.vlan_ids().first().map(|v| v.value()), Some(42));
        let Some(NetSlice::Ipv6(ip)) = &p.net else {
            panic!("not ipv6")
        };
        let ih = ip.header().to_header();
        let Some(TransportSlice::Tcp(tcp)) = &p.transport else {
            panic!("not tcp")
        };
        let th = tcp.to_header();
        assert!(tcp.syn());
        assert_eq!(th.checksum, th.calc_checksum_ipv6(&ih, b"").unwrap());
        let opts: Vec<_> = tcp.options_iterator().map(|o| o.unwrap()).collect();
        assert!(opts.contains(&TcpOptionElement::MaximumSegmentSize(1460)));
        assert!(opts.contains(&TcpOptionElement::WindowScale(7)));
        assert!(opts.contains(&TcpOptionElement::SelectiveAcknowledgementPermitted));
    }

    #[test]
    fn udp_icmp_arp_and_padding() {
        let mut out = Vec::new();
        let mut link = Link::new([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2]);
        link.pad = true;
        udp_frame(
            &mut out,
            &link,
            &IpFields::default(),
            "10.0.0.1:5353".parse().unwrap(),
            "10.0.0.2:53".parse().unwrap(),
            b"q",
        )
        .unwrap();
        assert_eq!(out.len(), ETHERNET_MIN_FRAME);
        {
            let p = SlicedPacket::from_ethernet(&out).unwrap();
            let Some(TransportSlice::Udp(u)) = &p.transport else {
                panic!("not udp")
            };
            assert_eq!(u.payload(), b"q");
        }

        icmp_echo_frame(
            &mut out,
            &link,
            &IpFields::default(),
            "2001:db8::1".parse().unwrap(),
            "2001:db8::2".parse().unwrap(),
            Echo::Request,
            7,
            1,
            b"abcdefgh",
        )
        .unwrap();
        assert!(matches!(
            SlicedPacket::from_ethernet(&out).unwrap().transport,
            Some(TransportSlice::Icmpv6(_))
        ));

        arp_frame(
            &mut out,
            &link,
            Arp::Request,
            ([2, 0, 0, 0, 0, 1], Ipv4Addr::new(10, 0, 0, 1)),
            ([0; 6], Ipv4Addr::new(10, 0, 0, 2)),
        )
        .unwrap();
        assert_eq!(out.len(), ETHERNET_MIN_FRAME);
        assert_eq!(&out[12..14], &[0x08, 0x06]);
    }

    #[test]
    fn errors_instead_of_panics() {
        let mut out = Vec::new();
        let link = Link::new([0; 6], [0; 6]);
        let s = seg("10.0.0.1:1", "[2001:db8::2]:2", TcpFlags::ACK, b"");
        assert!(matches!(
            tcp_frame(&mut out, &link, &IpFields::default(), &s),
            Err(Error::MixedIpVersions)
        ));
        let big = vec![0u8; 70_000];
        let s = seg("10.0.0.1:1", "10.0.0.2:2", TcpFlags::ACK, &big);
        assert!(matches!(
            tcp_frame(&mut out, &link, &IpFields::default(), &s),
            Err(Error::PayloadTooLarge { .. })
        ));
        let mut tagged = link;
        tagged.vlan = Some(5000);
        let s = seg("10.0.0.1:1", "10.0.0.2:2", TcpFlags::ACK, b"");
        assert!(matches!(
            tcp_frame(&mut out, &tagged, &IpFields::default(), &s),
            Err(Error::InvalidVlan(5000))
        ));
    }

    #[test]
    fn flags_combine() {
        let f = TcpFlags::SYN | TcpFlags::ACK;
        assert!(f.contains(TcpFlags::SYN) && f.contains(TcpFlags::ACK));
        assert!(!f.contains(TcpFlags::SYN | TcpFlags::FIN));
        assert!(f.intersects(TcpFlags::SYN | TcpFlags::FIN));
        assert_eq!(f.without(TcpFlags::SYN), TcpFlags::ACK);
        assert_eq!(f.bits(), 0x12);
    }
}
