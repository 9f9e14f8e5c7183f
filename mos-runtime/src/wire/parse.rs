//! The header walk behind [`parse`]. See the module doc of [`crate::wire`] for the contract.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use etherparse::err::{ipv4, ipv6, tcp};
use etherparse::{
    Ethernet2HeaderSlice, IpAuthHeaderSlice, IpNumber, Ipv4HeaderSlice, Ipv6FragmentHeaderSlice,
    Ipv6HeaderSlice, Ipv6RawExtHeaderSlice, SingleVlanHeaderSlice, TcpHeaderSlice, UdpHeaderSlice,
};

use super::checksum;
use super::{
    ChecksumLayer, IcmpMeta, IpMeta, L4Meta, LinkType, PacketMeta, ParseError, TcpFlags, TcpMeta,
    UdpMeta,
};
use crate::time::Timestamp;

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86dd;
/// 802.1Q, 802.1ad and the pre-standard QinQ tag type.
const ETHERTYPE_VLAN: [u16; 3] = [0x8100, 0x88a8, 0x9100];
/// More tags than any real network stacks; a bound so that a frame of tags is rejected quickly.
const MAX_VLAN_TAGS: usize = 8;
/// ARPHRD_NETLINK: in cooked captures its protocol field is a netlink family, not an EtherType.
const ARPHRD_NETLINK: u16 = 824;

const PROTO_ICMP: u8 = 1;
const PROTO_TCP: u8 = 6;
const PROTO_UDP: u8 = 17;
const PROTO_IPV6_FRAG: u8 = 44;
const PROTO_AUTH: u8 = 51;
const PROTO_ICMPV6: u8 = 58;

/// What the link layer carries.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Network {
    Ipv4,
    Ipv6,
    Other,
}

/// How far the frame goes: in the capture and on the wire.
#[derive(Clone, Copy)]
struct Extent {
    /// Bytes captured.
    cap: usize,
    /// Bytes on the wire (never less than `cap`).
    wire: usize,
}

impl Extent {
    /// The error for a header that needs the frame to reach `end` but the capture stops before:
    /// truncated if the frame was that long on the wire, malformed if even the wire frame was
    /// shorter than the header claims.
    fn short(self, end: usize, what: &'static str, contradiction: &'static str) -> ParseError {
        if end <= self.wire {
            ParseError::Truncated(what)
        } else {
            ParseError::Malformed(contradiction)
        }
    }
}

/// Decodes one captured frame (see the [module doc](crate::wire) for what is parsed, what is
/// reported and what is an error).
///
/// `wire_len` is the length of the frame on the wire (the pcap "original length", raised to
/// `data.len()` if smaller): a header that the capture cut is [`ParseError::Truncated`] when the
/// frame on the wire was long enough to hold it, [`ParseError::Malformed`] when not. With
/// `verify_checksums`, the IPv4 header checksum and the TCP/UDP checksum are checked (the latter
/// only for complete, unfragmented packets).
#[inline]
pub fn parse(
    link: LinkType,
    data: &[u8],
    ts: Timestamp,
    wire_len: u32,
    verify_checksums: bool,
) -> Result<PacketMeta, ParseError> {
    match ethernet_ipv4_tcp(link, data, ts, wire_len, verify_checksums) {
        Some(meta) => Ok(meta),
        None => parse_general(link, data, ts, wire_len, verify_checksums),
    }
}

/// The fast path of [`parse`] for the frame most traffic is made of: Ethernet without VLAN
/// tags, IPv4 without options and not fragmented, TCP, the whole packet captured, checksums
/// good when verified. It reads the fixed header fields in place instead of walking the
/// layered header slices, and gives exactly what [`parse_general`] gives for such a frame
/// (a test compares the two on every public capture, generated traffic and mutated frames);
/// anything else — including a bad checksum, whose error the general walk reports — returns
/// `None` and goes the general way.
#[inline]
fn ethernet_ipv4_tcp(
    link: LinkType,
    data: &[u8],
    ts: Timestamp,
    wire_len: u32,
    verify: bool,
) -> Option<PacketMeta> {
    const L3: usize = 14;
    const L4: usize = L3 + 20;
    if link != LinkType::Ethernet {
        return None;
    }
    let cap_len = u32::try_from(data.len()).ok()?;
    let head: &[u8; L4 + 20] = data.get(..L4 + 20)?.try_into().ok()?;
    let ip: &[u8; 20] = head[L3..L4].try_into().ok()?;
    // EtherType IPv4, version 4 with a 20-byte header, not a fragment (MF and offset zero),
    // TCP.
    if u16::from_be_bytes([head[12], head[13]]) != ETHERTYPE_IPV4
        || ip[0] != 0x45
        || u16::from_be_bytes([ip[6], ip[7]]) & 0x3fff != 0
        || ip[9] != PROTO_TCP
    {
        return None;
    }
    let total_len = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
    let end = L3 + total_len;
    let tcp_len = usize::from(head[L4 + 12] >> 4) * 4;
    // The TCP header inside the IP packet, the IP packet inside the capture.
    if total_len < 20 + 20 || tcp_len < 20 || L4 + tcp_len > end || end > data.len() {
        return None;
    }
    let src = [ip[12], ip[13], ip[14], ip[15]];
    let dst = [ip[16], ip[17], ip[18], ip[19]];
    if verify {
        let segment = data.get(L4..end)?;
        let ok = checksum::verifies(checksum::sum_ipv4_header(ip))
            && checksum::verifies(checksum::sum(
                checksum::pseudo_header_v4(src, dst, PROTO_TCP, u32::try_from(segment.len()).ok()?),
                segment,
            ));
        if !ok {
            return None;
        }
    }
    let t = &head[L4..];
    let mut tcp = TcpMeta {
        src_port: u16::from_be_bytes([t[0], t[1]]),
        dst_port: u16::from_be_bytes([t[2], t[3]]),
        seq: u32::from_be_bytes([t[4], t[5], t[6], t[7]]),
        ack: u32::from_be_bytes([t[8], t[9], t[10], t[11]]),
        flags: TcpFlags(t[13]),
        window: u16::from_be_bytes([t[14], t[15]]),
        urgent: u16::from_be_bytes([t[18], t[19]]),
        header_offset: L4 as u16,
        // At most 60: the data offset is a 4-bit field.
        header_len: tcp_len as u8,
        mss: None,
        wscale: None,
        sack_permitted: false,
        timestamp: None,
    };
    tcp_options(data.get(L4 + 20..L4 + tcp_len).unwrap_or(&[]), &mut tcp);
    let payload = L4 + tcp_len;
    Some(PacketMeta {
        ts,
        wire_len: wire_len.max(cap_len),
        cap_len,
        link,
        vlan: [0; 2],
        vlan_count: 0,
        l3_offset: L3 as u16,
        ip: Some(IpMeta {
            version: 4,
            src: IpAddr::V4(Ipv4Addr::from(src)),
            dst: IpAddr::V4(Ipv4Addr::from(dst)),
            proto: PROTO_TCP,
            ttl: ip[8],
            header_offset: L3 as u16,
            header_len: 20,
            // At most 65,535: a 16-bit field.
            total_len: total_len as u32,
            fragment: false,
        }),
        l4: L4Meta::Tcp(tcp),
        payload_offset: payload as u32,
        payload_len: (end - payload) as u32,
        truncated: false,
    })
}

/// [`parse`] for every frame: the link header and tags, IPv4 or IPv6 with their options and
/// extension headers, TCP, UDP or ICMP, truncation and every error.
fn parse_general(
    link: LinkType,
    data: &[u8],
    ts: Timestamp,
    wire_len: u32,
    verify_checksums: bool,
) -> Result<PacketMeta, ParseError> {
    let cap_len =
        u32::try_from(data.len()).map_err(|_| ParseError::Malformed("frame longer than 4 GiB"))?;
    let extent = Extent {
        cap: data.len(),
        wire: (wire_len as usize).max(data.len()),
    };
    let mut meta = PacketMeta {
        ts,
        wire_len: wire_len.max(cap_len),
        cap_len,
        link,
        vlan: [0; 2],
        vlan_count: 0,
        l3_offset: 0,
        ip: None,
        l4: L4Meta::None,
        payload_offset: 0,
        payload_len: 0,
        truncated: false,
    };
    let (l3, network) = link_layer(link, data, extent, &mut meta)?;
    meta.l3_offset =
        u16::try_from(l3).map_err(|_| ParseError::Malformed("link header longer than 64 KiB"))?;
    match network {
        Network::Other => {
            meta.payload_offset = offset32(l3)?;
            meta.payload_len = offset32(data.len().saturating_sub(l3))?;
            Ok(meta)
        }
        Network::Ipv4 => {
            let ip = ipv4_layer(data, l3, extent, verify_checksums)?;
            transport(data, &ip, extent, verify_checksums, &mut meta)?;
            meta.ip = Some(ip.meta);
            Ok(meta)
        }
        Network::Ipv6 => {
            let ip = ipv6_layer(data, l3, extent)?;
            transport(data, &ip, extent, verify_checksums, &mut meta)?;
            meta.ip = Some(ip.meta);
            Ok(meta)
        }
    }
}

fn offset16(value: usize) -> Result<u16, ParseError> {
    u16::try_from(value).map_err(|_| ParseError::Malformed("headers longer than 64 KiB"))
}

fn offset32(value: usize) -> Result<u32, ParseError> {
    u32::try_from(value).map_err(|_| ParseError::Malformed("frame longer than 4 GiB"))
}

fn be16(data: &[u8], at: usize) -> Option<u16> {
    match data.get(at..at.checked_add(2)?)? {
        [a, b] => Some(u16::from_be_bytes([*a, *b])),
        _ => None,
    }
}

fn bytes4(data: &[u8], at: usize) -> Option<[u8; 4]> {
    data.get(at..at.checked_add(4)?)?.try_into().ok()
}

/// Walks the link header and any VLAN tags; returns the network-layer offset and protocol.
fn link_layer(
    link: LinkType,
    data: &[u8],
    extent: Extent,
    meta: &mut PacketMeta,
) -> Result<(usize, Network), ParseError> {
    match link {
        LinkType::Ethernet => {
            let eth = Ethernet2HeaderSlice::from_slice(data).map_err(|_| {
                extent.short(
                    14,
                    "Ethernet header",
                    "frame shorter than an Ethernet header",
                )
            })?;
            ethertype_chain(data, eth.slice().len(), eth.ether_type().0, extent, meta)
        }
        LinkType::RawIp => match data.first().map(|b| b >> 4) {
            Some(4) => Ok((0, Network::Ipv4)),
            Some(6) => Ok((0, Network::Ipv6)),
            Some(_) => Err(ParseError::Malformed(
                "raw IP frame is neither IPv4 nor IPv6",
            )),
            None => Err(extent.short(1, "IP header", "empty raw IP frame")),
        },
        LinkType::LinuxSll => {
            // packet type (2), ARPHRD (2), address length (2), address (8), protocol (2).
            // etherparse's SLL slice refuses packet types and ARPHRD/protocol pairs it does
            // not know; only the protocol matters here, so the two fields are read directly.
            let short = || extent.short(16, "Linux SLL header", "frame shorter than an SLL header");
            let hatype = be16(data, 2).ok_or_else(short)?;
            let proto = be16(data, 14).ok_or_else(short)?;
            if hatype == ARPHRD_NETLINK {
                return Ok((16, Network::Other));
            }
            ethertype_chain(data, 16, proto, extent, meta)
        }
        LinkType::LinuxSll2 => {
            // protocol (2), reserved (2), ifindex (4), ARPHRD (2), packet type (1),
            // address length (1), address (8).
            let short =
                || extent.short(20, "Linux SLL2 header", "frame shorter than an SLL2 header");
            let proto = be16(data, 0).ok_or_else(short)?;
            let hatype = be16(data, 8).ok_or_else(short)?;
            if data.len() < 20 {
                return Err(short());
            }
            if hatype == ARPHRD_NETLINK {
                return Ok((20, Network::Other));
            }
            ethertype_chain(data, 20, proto, extent, meta)
        }
        LinkType::Null | LinkType::Loop => {
            let raw = bytes4(data, 0).ok_or_else(|| {
                extent.short(4, "loopback header", "frame shorter than a loopback header")
            })?;
            let family = if link == LinkType::Loop {
                u32::from_be_bytes(raw)
            } else {
                // Host order of the capturing machine, which the file does not say; families
                // are small, so a value above 16 bits was written by the other byte order.
                let le = u32::from_le_bytes(raw);
                if le > 0xffff { le.swap_bytes() } else { le }
            };
            let network = match family {
                2 => Network::Ipv4,
                // AF_INET6 differs per OS: Linux 10, NetBSD/OpenBSD 24, FreeBSD 28, macOS 30.
                10 | 24 | 28 | 30 => Network::Ipv6,
                _ => Network::Other,
            };
            Ok((4, network))
        }
        LinkType::Unknown(value) => Err(ParseError::UnsupportedLink(value)),
    }
}

/// Skips VLAN tags from `offset` (where the EtherType `ether_type` points), recording the ids.
fn ethertype_chain(
    data: &[u8],
    mut offset: usize,
    mut ether_type: u16,
    extent: Extent,
    meta: &mut PacketMeta,
) -> Result<(usize, Network), ParseError> {
    let mut tags = 0usize;
    while ETHERTYPE_VLAN.contains(&ether_type) {
        if tags == MAX_VLAN_TAGS {
            return Err(ParseError::Malformed("more than 8 VLAN tags"));
        }
        let tag = SingleVlanHeaderSlice::from_slice(data.get(offset..).unwrap_or(&[]))
            .map_err(|_| extent.short(offset + 4, "VLAN tag", "frame ends inside a VLAN tag"))?;
        if let Some(slot) = meta.vlan.get_mut(tags) {
            *slot = tag.vlan_identifier().value();
            meta.vlan_count += 1;
        }
        tags += 1;
        ether_type = tag.ether_type().0;
        offset += tag.slice().len();
    }
    let network = match ether_type {
        ETHERTYPE_IPV4 => Network::Ipv4,
        ETHERTYPE_IPV6 => Network::Ipv6,
        _ => Network::Other,
    };
    Ok((offset, network))
}

/// The IP layer as the transport walk needs it.
struct IpLayer {
    meta: IpMeta,
    /// Offset of the transport header.
    l4: usize,
    /// End of the IP packet: as its length field says, or the end of the frame on the wire if
    /// that comes first.
    end: usize,
    /// The length field claims more than the frame held on the wire.
    short: bool,
    /// First fragment or not fragmented: the transport header is here.
    has_l4_header: bool,
    /// Pseudo-header addresses.
    addrs: Addrs,
}

#[derive(Clone, Copy)]
enum Addrs {
    V4([u8; 4], [u8; 4]),
    V6([u8; 16], [u8; 16]),
}

impl Addrs {
    fn pseudo_header(self, proto: u8, l4_len: usize) -> u64 {
        // An L4 length beyond u32 cannot occur (frames are below 4 GiB); saturate regardless.
        let len = u32::try_from(l4_len).unwrap_or(u32::MAX);
        match self {
            Addrs::V4(s, d) => checksum::pseudo_header_v4(s, d, proto, len),
            Addrs::V6(s, d) => checksum::pseudo_header_v6(s, d, proto, len),
        }
    }
}

fn ipv4_layer(data: &[u8], l3: usize, extent: Extent, verify: bool) -> Result<IpLayer, ParseError> {
    let h = Ipv4HeaderSlice::from_slice(data.get(l3..).unwrap_or(&[])).map_err(|e| match e {
        ipv4::HeaderSliceError::Len(len) => extent.short(
            l3 + len.required_len,
            "IPv4 header",
            "frame ends inside the IPv4 header",
        ),
        ipv4::HeaderSliceError::Content(ipv4::HeaderError::UnexpectedVersion { .. }) => {
            ParseError::Malformed("IPv4 header with a version other than 4")
        }
        ipv4::HeaderSliceError::Content(ipv4::HeaderError::HeaderLengthSmallerThanHeader {
            ..
        }) => ParseError::Malformed("IPv4 header length (IHL) below 5"),
    })?;
    let header_len = h.slice().len();
    let total_len = match usize::from(h.total_len()) {
        // TSO/GRO captures leave the field zero: the packet is the rest of the frame.
        0 => extent.wire - l3,
        n => n,
    };
    if total_len < header_len {
        return Err(ParseError::Malformed(
            "IPv4 total length below the header length",
        ));
    }
    // A length beyond the frame as it was on the wire: bytes were lost before the capture
    // recorded its length, or the field lies. Parse what is there and call it truncated.
    let claimed_end = l3 + total_len;
    let end = claimed_end.min(extent.wire);
    if verify && !checksum::verifies(checksum::sum(0, h.slice())) {
        return Err(ParseError::BadChecksum(ChecksumLayer::Ipv4));
    }
    let frag_offset = h.fragments_offset().value();
    let fragment = h.more_fragments() || frag_offset != 0;
    Ok(IpLayer {
        meta: IpMeta {
            version: 4,
            src: IpAddr::V4(Ipv4Addr::from(h.source())),
            dst: IpAddr::V4(Ipv4Addr::from(h.destination())),
            proto: h.protocol().0,
            ttl: h.ttl(),
            header_offset: offset16(l3)?,
            header_len: offset16(header_len)?,
            total_len: offset32(end - l3)?,
            fragment,
        },
        l4: l3 + header_len,
        end,
        short: claimed_end > end,
        has_l4_header: frag_offset == 0,
        addrs: Addrs::V4(h.source(), h.destination()),
    })
}

fn ipv6_layer(data: &[u8], l3: usize, extent: Extent) -> Result<IpLayer, ParseError> {
    let h = Ipv6HeaderSlice::from_slice(data.get(l3..).unwrap_or(&[])).map_err(|e| match e {
        ipv6::HeaderSliceError::Len(_) => {
            extent.short(l3 + 40, "IPv6 header", "frame ends inside the IPv6 header")
        }
        ipv6::HeaderSliceError::Content(_) => {
            ParseError::Malformed("IPv6 header with a version other than 6")
        }
    })?;
    let total_len = match usize::from(h.payload_length()) {
        // A jumbogram (RFC 2675) or a GRO capture: the packet is the rest of the frame.
        0 => extent.wire - l3,
        n => 40 + n,
    };
    // As for IPv4: a length beyond the frame on the wire makes a truncated packet.
    let claimed_end = l3 + total_len;
    let end = claimed_end.min(extent.wire);
    // Extension headers must lie inside the IP payload and the capture.
    let avail_end = end.min(extent.cap);
    let region_end = |at: usize| data.get(at..avail_end).unwrap_or(&[]);
    let ext_short = || {
        if avail_end < claimed_end {
            ParseError::Truncated("IPv6 extension header")
        } else {
            ParseError::Malformed("IPv6 extension header beyond the payload length")
        }
    };
    let mut next = h.next_header();
    let mut at = l3 + 40;
    let mut fragment = false;
    let mut has_l4_header = true;
    // Each header is at least 8 bytes long, so this walk ends within the payload.
    loop {
        if Ipv6RawExtHeaderSlice::header_type_supported(next) {
            let ext = Ipv6RawExtHeaderSlice::from_slice(region_end(at)).map_err(|_| ext_short())?;
            at += ext.slice().len();
            next = ext.next_header();
        } else if next.0 == PROTO_IPV6_FRAG {
            let frag =
                Ipv6FragmentHeaderSlice::from_slice(region_end(at)).map_err(|_| ext_short())?;
            at += frag.slice().len();
            next = frag.next_header();
            let offset = frag.fragment_offset().value();
            // An atomic fragment (offset 0, M=0) is a whole packet (RFC 6946).
            if offset != 0 || frag.more_fragments() {
                fragment = true;
            }
            if offset != 0 {
                // What follows is the middle of the datagram, not headers.
                has_l4_header = false;
                break;
            }
        } else if next.0 == PROTO_AUTH {
            let auth = IpAuthHeaderSlice::from_slice(region_end(at)).map_err(|e| match e {
                etherparse::err::ip_auth::HeaderSliceError::Len(_) => ext_short(),
                etherparse::err::ip_auth::HeaderSliceError::Content(_) => {
                    ParseError::Malformed("IPv6 authentication header with a zero length")
                }
            })?;
            at += auth.slice().len();
            next = auth.next_header();
        } else {
            break;
        }
    }
    let IpNumber(proto) = next;
    Ok(IpLayer {
        meta: IpMeta {
            version: 6,
            src: IpAddr::V6(Ipv6Addr::from(h.source())),
            dst: IpAddr::V6(Ipv6Addr::from(h.destination())),
            proto,
            ttl: h.hop_limit(),
            header_offset: offset16(l3)?,
            header_len: offset16(at - l3)?,
            total_len: offset32(end - l3)?,
            fragment,
        },
        l4: at,
        end,
        short: claimed_end > end,
        has_l4_header,
        addrs: Addrs::V6(h.source(), h.destination()),
    })
}

/// Parses the transport header (when present) and sets the payload bounds in `meta`.
fn transport(
    data: &[u8],
    ip: &IpLayer,
    extent: Extent,
    verify: bool,
    meta: &mut PacketMeta,
) -> Result<(), ParseError> {
    let l4 = ip.l4;
    let avail_end = ip.end.min(extent.cap);
    let region = data.get(l4..avail_end).unwrap_or(&[]);
    let fragment = ip.meta.fragment;
    // By default the payload is the whole IP payload (non-first fragments, unknown protocols).
    let mut payload_start = l4;
    let mut l4_end = ip.end;
    meta.l4 = if !ip.has_l4_header {
        L4Meta::None
    } else {
        match ip.meta.proto {
            PROTO_TCP => match TcpHeaderSlice::from_slice(region) {
                Ok(h) => {
                    let tcp = tcp_meta(&h, l4)?;
                    payload_start = l4 + h.slice().len();
                    if verify && !fragment && !ip.short && ip.end <= extent.cap {
                        let segment = data.get(l4..ip.end).unwrap_or(&[]);
                        let acc = checksum::sum(
                            ip.addrs.pseudo_header(PROTO_TCP, segment.len()),
                            segment,
                        );
                        if !checksum::verifies(acc) {
                            return Err(ParseError::BadChecksum(ChecksumLayer::Tcp));
                        }
                    }
                    L4Meta::Tcp(tcp)
                }
                Err(tcp::HeaderSliceError::Content(_)) => {
                    return Err(ParseError::Malformed("TCP data offset below 5"));
                }
                Err(tcp::HeaderSliceError::Len(len)) => {
                    if fragment {
                        L4Meta::None
                    } else {
                        return Err(header_short(
                            l4 + len.required_len,
                            ip.end,
                            "TCP header",
                            "TCP header beyond the IP payload",
                        ));
                    }
                }
            },
            PROTO_UDP => match UdpHeaderSlice::from_slice(region) {
                Ok(h) => {
                    let length = h.length();
                    let ip_payload = ip.end - l4;
                    if !fragment {
                        let udp_len = match usize::from(length) {
                            // IPv6 jumbograms carry a zero UDP length (RFC 2675).
                            0 if ip.meta.version == 6 => ip_payload,
                            n if n < 8 => {
                                return Err(ParseError::Malformed("UDP length below 8"));
                            }
                            n if n > ip_payload => {
                                return Err(ParseError::Malformed(
                                    "UDP length beyond the IP payload",
                                ));
                            }
                            n => n,
                        };
                        l4_end = l4 + udp_len;
                        if verify && !ip.short && l4_end <= extent.cap {
                            verify_udp(data, ip, l4, l4_end, h.checksum())?;
                        }
                    }
                    payload_start = l4 + 8;
                    L4Meta::Udp(UdpMeta {
                        src_port: h.source_port(),
                        dst_port: h.destination_port(),
                        header_offset: offset16(l4)?,
                        length,
                    })
                }
                Err(_) if fragment => L4Meta::None,
                Err(_) => {
                    return Err(header_short(
                        l4 + 8,
                        ip.end,
                        "UDP header",
                        "UDP header beyond the IP payload",
                    ));
                }
            },
            PROTO_ICMP | PROTO_ICMPV6 => match region {
                [kind, code, _, _, ..] => {
                    payload_start = l4 + 4;
                    L4Meta::Icmp(IcmpMeta {
                        v6: ip.meta.proto == PROTO_ICMPV6,
                        kind: *kind,
                        code: *code,
                    })
                }
                _ if fragment => L4Meta::None,
                _ => {
                    return Err(header_short(
                        l4 + 4,
                        ip.end,
                        "ICMP header",
                        "ICMP header beyond the IP payload",
                    ));
                }
            },
            _ => L4Meta::Other,
        }
    };
    let payload_end = l4_end.min(extent.cap);
    meta.payload_offset = offset32(payload_start)?;
    meta.payload_len = offset32(payload_end.saturating_sub(payload_start))?;
    meta.truncated = l4_end > extent.cap || ip.short;
    Ok(())
}

/// A transport header that does not fit what was captured: malformed when it does not even fit
/// the IP payload, truncated when the capture cut it.
fn header_short(
    header_end: usize,
    ip_end: usize,
    what: &'static str,
    contradiction: &'static str,
) -> ParseError {
    if header_end > ip_end {
        ParseError::Malformed(contradiction)
    } else {
        ParseError::Truncated(what)
    }
}

fn verify_udp(
    data: &[u8],
    ip: &IpLayer,
    l4: usize,
    l4_end: usize,
    check: u16,
) -> Result<(), ParseError> {
    if check == 0 {
        // Zero means "no checksum" over IPv4; over IPv6 the checksum is mandatory (RFC 8200).
        return match ip.addrs {
            Addrs::V4(..) => Ok(()),
            Addrs::V6(..) => Err(ParseError::BadChecksum(ChecksumLayer::Udp)),
        };
    }
    let datagram = data.get(l4..l4_end).unwrap_or(&[]);
    let acc = checksum::sum(ip.addrs.pseudo_header(PROTO_UDP, datagram.len()), datagram);
    if checksum::verifies(acc) {
        Ok(())
    } else {
        Err(ParseError::BadChecksum(ChecksumLayer::Udp))
    }
}

fn tcp_meta(h: &TcpHeaderSlice<'_>, offset: usize) -> Result<TcpMeta, ParseError> {
    let slice = h.slice();
    let mut meta = TcpMeta {
        src_port: h.source_port(),
        dst_port: h.destination_port(),
        seq: h.sequence_number(),
        ack: h.acknowledgment_number(),
        flags: TcpFlags(slice.get(13).copied().unwrap_or(0)),
        window: h.window_size(),
        urgent: h.urgent_pointer(),
        header_offset: offset16(offset)?,
        // At most 60: the data offset is a 4-bit field.
        header_len: u8::try_from(slice.len()).unwrap_or(u8::MAX),
        mss: None,
        wscale: None,
        sack_permitted: false,
        timestamp: None,
    };
    tcp_options(slice.get(20..).unwrap_or(&[]), &mut meta);
    Ok(meta)
}

/// Walks the TCP options (RFC 9293 §3.1), skipping kinds it does not decode by their length.
/// A malformed option list (a length below 2 or past the header) ends the walk; the options
/// read so far stay, as a TCP stack would treat them — bad options do not make a bad packet.
fn tcp_options(options: &[u8], meta: &mut TcpMeta) {
    let mut at = 0usize;
    while let Some(&kind) = options.get(at) {
        match kind {
            0 => break,
            1 => {
                at += 1;
                continue;
            }
            _ => {}
        }
        let Some(&len) = options.get(at + 1) else {
            break;
        };
        let len = usize::from(len);
        if len < 2 {
            break;
        }
        let Some(body) = options.get(at + 2..at + len) else {
            break;
        };
        match (kind, body) {
            (2, [a, b]) => meta.mss = Some(u16::from_be_bytes([*a, *b])),
            (3, [shift]) => meta.wscale = Some(*shift),
            (4, []) => meta.sack_permitted = true,
            (8, [a, b, c, d, e, f, g, h]) => {
                meta.timestamp = Some((
                    u32::from_be_bytes([*a, *b, *c, *d]),
                    u32::from_be_bytes([*e, *f, *g, *h]),
                ));
            }
            _ => {}
        }
        at += len;
    }
}

#[cfg(test)]
mod fast_path_tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::io::PcapReader;

    fn frames() -> Vec<(Vec<u8>, LinkType, Timestamp, u32)> {
        let mut captures: Vec<Vec<u8>> = Vec::new();
        for entry in std::fs::read_dir(crate::io::tests::traces_dir()).unwrap() {
            let path = entry.unwrap().path();
            if matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("pcap" | "pcapng")
            ) {
                captures.push(std::fs::read(path).unwrap());
            }
        }
        captures.push(mos_synth::sample::pcap());
        let mut cfg = mos_synth::workload::Preset::W1.config(6);
        cfg.flows = 150;
        cfg.concurrency = 50;
        let mut pcap = Vec::new();
        mos_synth::workload::Workload::new(cfg)
            .unwrap()
            .write_pcap(&mut pcap)
            .unwrap();
        captures.push(pcap);
        let mut out = Vec::new();
        for bytes in captures {
            let Ok(mut reader) = PcapReader::from_bytes(bytes) else {
                continue;
            };
            while let Ok(Some(f)) = reader.next_frame() {
                out.push((f.data.to_vec(), f.link, f.ts, f.wire_len));
            }
        }
        out
    }

    /// Whenever the fast path answers, its answer is the general walk's, checksums verified
    /// or not.
    fn same(data: &[u8], link: LinkType, ts: Timestamp, wire_len: u32) -> bool {
        let mut hit = false;
        for verify in [true, false] {
            if let Some(fast) = ethernet_ipv4_tcp(link, data, ts, wire_len, verify) {
                assert_eq!(
                    Ok(fast),
                    parse_general(link, data, ts, wire_len, verify),
                    "frame {data:02x?} wire_len {wire_len} verify {verify}"
                );
                hit = true;
            }
        }
        hit
    }

    #[test]
    fn the_fast_path_gives_what_the_general_walk_gives() {
        let frames = frames();
        let mut hits = 0;
        for (data, link, ts, wire_len) in &frames {
            hits += usize::from(same(data, *link, *ts, *wire_len));
        }
        assert!(
            hits > 5_000,
            "{hits} of {} frames on the fast path",
            frames.len()
        );

        // Mutated headers, cut and padded frames, other wire lengths: wherever the fast path
        // still answers, it agrees.
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut rnd = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut mutated_hits = 0;
        let tcp: Vec<_> = frames
            .iter()
            .filter(|(d, l, t, w)| ethernet_ipv4_tcp(*l, d, *t, *w, false).is_some())
            .take(400)
            .collect();
        for (data, link, ts, wire_len) in tcp {
            for _ in 0..100 {
                let mut d = data.clone();
                for _ in 0..(rnd() % 3 + 1) {
                    // Mostly header bytes (the first 80), sometimes anywhere.
                    let span = if rnd() % 4 == 0 {
                        d.len()
                    } else {
                        d.len().min(80)
                    };
                    let i = (rnd() as usize) % span;
                    d[i] = match rnd() % 4 {
                        0 => 0,
                        1 => 0xff,
                        2 => d[i] ^ (1 << (rnd() % 8)),
                        _ => rnd() as u8,
                    };
                }
                match rnd() % 4 {
                    0 => d.truncate((rnd() as usize) % (d.len() + 1)),
                    1 => d.extend(std::iter::repeat_n(0, (rnd() % 40) as usize)),
                    _ => {}
                }
                let w = match rnd() % 3 {
                    0 => *wire_len,
                    1 => d.len() as u32,
                    _ => d.len() as u32 + (rnd() % 200) as u32,
                };
                mutated_hits += usize::from(same(&d, *link, *ts, w));
            }
        }
        assert!(
            mutated_hits > 1_000,
            "{mutated_hits} mutated frames on the fast path"
        );
    }
}
