//! Packet parsing: one pass over a captured frame that records where every header is and the
//! fields the engine needs, as a small owned [`PacketMeta`].
//!
//! # The contract
//!
//! [`parse`] takes the bytes of one captured frame (as a [`crate::io::PcapReader`] or a NIC hands
//! them over) and walks: link layer ([`LinkType`]: Ethernet II with up to two 802.1Q / 802.1ad
//! tags, Linux cooked capture v1 and v2, BSD loopback, raw IP) → IPv4 or IPv6 (with its extension
//! headers) → TCP, UDP or ICMP. It never copies packet bytes and never allocates: the result is a
//! `Copy` value holding *offsets* into the frame and decoded header fields, so it can be kept in a
//! fixed-size slot while the bytes stay in the capture buffer or the mbuf. [`Packet`] pairs the two
//! again and hands out zero-copy slices (`payload()`, `l3()`, `l4_header()`); [`PacketMut`]
//! rewrites addresses, ports and payload in place and fixes checksums.
//!
//! Headers are read through etherparse's zero-copy header slices (`Ethernet2HeaderSlice`,
//! `SingleVlanHeaderSlice`, `Ipv4HeaderSlice`, `Ipv6HeaderSlice`, `Ipv6ExtensionsSlice`,
//! `TcpHeaderSlice`, `UdpHeaderSlice`); the few headers it has no type for (Linux SLL2, BSD
//! loopback) and the TCP option walk are decoded here, the latter because etherparse's option
//! iterator stops at the first option kind it does not know (MPTCP, TCP Fast Open...), which
//! would hide a window-scale option placed after one.
//!
//! # What the result means
//!
//! - A frame that is not IP (ARP, LLDP, 802.3 with a length field...) is `Ok` with `ip: None`;
//!   its "payload" is everything after the link header.
//! - The L4 payload is bounded by the IP total length (IPv6: payload length), so the padding
//!   that Ethernet adds to short frames never counts as payload, and by the captured length: when
//!   the capture's snap length cut the payload, the payload is what was captured and
//!   [`PacketMeta::truncated`] is set. An IP length beyond the frame *as it was on the wire*
//!   (the capturing host lost bytes, or the field lies) is read the same way Wireshark reads it:
//!   the packet goes as far as the bytes go and is marked truncated; transport lengths (the TCP
//!   header, the UDP length) are then checked against the bytes that were on the wire. An IP
//!   length of zero (TSO / GRO captures, IPv6 jumbograms) means "as long as the frame".
//! - Fragments ([`IpMeta::fragment`]): an IPv4 packet with MF set or a non-zero offset, an IPv6
//!   packet whose fragment header has a non-zero offset or M=1. The *first* fragment gets its
//!   TCP/UDP/ICMP header parsed when the whole header is inside the fragment (else
//!   [`L4Meta::None`]: a TCP header split across fragments is an evasion trick, not a packet to
//!   track); later fragments always have [`L4Meta::None`] and their payload is the fragment data.
//!   No reassembly happens here. IPv6 "atomic fragments" (a fragment header with offset 0 and
//!   M=0, RFC 6946) are whole packets: `fragment` is false and their TCP is parsed normally.
//! - Errors: a header cut by the capture length is [`ParseError::Truncated`]; a header that
//!   contradicts itself or its container (TCP data offset below 5, IPv4 total length below its
//!   header length, a TCP header reaching past the IP payload, a UDP length beyond the IP
//!   payload...) is [`ParseError::Malformed`]. Both carry a
//!   static description, so producing them costs nothing.
//! - Checksums are verified only when asked (`verify_checksums`): the IPv4 header checksum, and
//!   the TCP and UDP checksums with the IPv4 or IPv6 pseudo-header (a zero UDP checksum over
//!   IPv4 means "none"). The L4 check is skipped when the packet is truncated or a fragment, since
//!   the bytes it covers are not all here. The sum is the hot path of verification and adds 64-bit
//!   words with end-around carry (see [`checksum`]).
//!
//! # Panics
//!
//! None. Every read is bounds-checked against the frame and every length taken from a header is
//! checked against what contains it before use, so hostile input yields an `Err`, never a panic;
//! the same holds for [`Packet`] and [`PacketMut`] built from a `PacketMeta` that does not belong
//! to the bytes (their accessors then return empty slices or errors).

pub mod checksum;
mod hint;
mod packet;
mod parse;
#[cfg(test)]
mod tests;

pub use hint::flow_key_hint;
pub use packet::{Packet, PacketMut, RewriteError};
pub use parse::parse;

use std::fmt;
use std::net::IpAddr;

use crate::time::Timestamp;

/// The link-layer header type of a capture (pcap `LINKTYPE_*` values).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum LinkType {
    /// Ethernet II, possibly with 802.1Q / 802.1ad tags (`LINKTYPE_ETHERNET`, 1).
    Ethernet,
    /// No link header: the frame starts with an IPv4 or IPv6 header (`LINKTYPE_RAW`, 101; also
    /// read from the platform `DLT_RAW` values 12 and 14 and from `LINKTYPE_IPV4`/`IPV6`, 228/229).
    RawIp,
    /// Linux cooked capture v1, the 16-byte header of `tcpdump -i any` (`LINKTYPE_LINUX_SLL`, 113).
    LinuxSll,
    /// Linux cooked capture v2, 20 bytes with the interface index (`LINKTYPE_LINUX_SLL2`, 276).
    LinuxSll2,
    /// BSD loopback: a 4-byte address family in the capturing host's byte order
    /// (`LINKTYPE_NULL`, 0).
    Null,
    /// OpenBSD loopback: the same 4-byte family in network byte order (`LINKTYPE_LOOP`, 108).
    Loop,
    /// Any other link type, kept so that it can be reported ([`ParseError::UnsupportedLink`]).
    Unknown(u32),
}

impl LinkType {
    /// The link type of a pcap header or pcapng interface (only the low 16 bits name the type;
    /// the high bits of the pcap field carry FCS information and are ignored).
    pub const fn from_linktype(value: u32) -> LinkType {
        match value & 0xffff {
            0 => LinkType::Null,
            1 => LinkType::Ethernet,
            12 | 14 | 101 | 228 | 229 => LinkType::RawIp,
            108 => LinkType::Loop,
            113 => LinkType::LinuxSll,
            276 => LinkType::LinuxSll2,
            other => LinkType::Unknown(other),
        }
    }

    /// The `LINKTYPE_*` value written in a pcap header.
    pub const fn to_linktype(self) -> u32 {
        match self {
            LinkType::Null => 0,
            LinkType::Ethernet => 1,
            LinkType::RawIp => 101,
            LinkType::Loop => 108,
            LinkType::LinuxSll => 113,
            LinkType::LinuxSll2 => 276,
            LinkType::Unknown(value) => value,
        }
    }
}

/// The TCP flag byte (header byte 13).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    /// No more data from the sender.
    pub const FIN: TcpFlags = TcpFlags(0x01);
    /// Synchronize sequence numbers.
    pub const SYN: TcpFlags = TcpFlags(0x02);
    /// Reset the connection.
    pub const RST: TcpFlags = TcpFlags(0x04);
    /// Push function.
    pub const PSH: TcpFlags = TcpFlags(0x08);
    /// The acknowledgment field is significant.
    pub const ACK: TcpFlags = TcpFlags(0x10);
    /// The urgent pointer is significant.
    pub const URG: TcpFlags = TcpFlags(0x20);
    /// ECN echo.
    pub const ECE: TcpFlags = TcpFlags(0x40);
    /// Congestion window reduced.
    pub const CWR: TcpFlags = TcpFlags(0x80);

    const NAMES: [(TcpFlags, &'static str); 8] = [
        (TcpFlags::FIN, "FIN"),
        (TcpFlags::SYN, "SYN"),
        (TcpFlags::RST, "RST"),
        (TcpFlags::PSH, "PSH"),
        (TcpFlags::ACK, "ACK"),
        (TcpFlags::URG, "URG"),
        (TcpFlags::ECE, "ECE"),
        (TcpFlags::CWR, "CWR"),
    ];

    /// Whether every flag of `other` is set in `self`.
    pub const fn contains(self, other: TcpFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// FIN is set.
    pub const fn fin(self) -> bool {
        self.contains(TcpFlags::FIN)
    }

    /// SYN is set.
    pub const fn syn(self) -> bool {
        self.contains(TcpFlags::SYN)
    }

    /// RST is set.
    pub const fn rst(self) -> bool {
        self.contains(TcpFlags::RST)
    }

    /// PSH is set.
    pub const fn psh(self) -> bool {
        self.contains(TcpFlags::PSH)
    }

    /// ACK is set.
    pub const fn ack(self) -> bool {
        self.contains(TcpFlags::ACK)
    }

    /// URG is set.
    pub const fn urg(self) -> bool {
        self.contains(TcpFlags::URG)
    }
}

impl std::ops::BitOr for TcpFlags {
    type Output = TcpFlags;
    fn bitor(self, rhs: TcpFlags) -> TcpFlags {
        TcpFlags(self.0 | rhs.0)
    }
}

impl fmt::Debug for TcpFlags {
    /// `SYN|ACK`, or `-` when no flag is set.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (flag, name) in TcpFlags::NAMES {
            if self.contains(flag) {
                if !first {
                    f.write_str("|")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        if first {
            f.write_str("-")?;
        }
        Ok(())
    }
}

impl fmt::Display for TcpFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// What [`parse`] found in one frame: offsets into the frame and decoded header fields.
///
/// Owned and `Copy` (128 bytes on 64-bit targets), so the engine can keep it in preallocated storage while
/// the bytes stay where the capture put them; [`Packet::new`] joins the two again.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct PacketMeta {
    /// Capture time.
    pub ts: Timestamp,
    /// Length of the frame on the wire: at least `cap_len`, more when the snap length cut it.
    pub wire_len: u32,
    /// Number of bytes captured (the length of the frame slice).
    pub cap_len: u32,
    /// The link type the frame was parsed as.
    pub link: LinkType,
    /// VLAN ids (12 bits), outer tag first; only the first `vlan_count` entries are meaningful.
    pub vlan: [u16; 2],
    /// Number of VLAN tags recorded in `vlan` (0, 1 or 2; tags beyond two are skipped).
    pub vlan_count: u8,
    /// Offset of the network-layer header (the first byte after the link header and tags).
    pub l3_offset: u16,
    /// The IP header, `None` for non-IP frames.
    pub ip: Option<IpMeta>,
    /// The transport header.
    pub l4: L4Meta,
    /// Offset of the L4 payload in the frame (for non-IP frames: `l3_offset`).
    pub payload_offset: u32,
    /// Length of the captured L4 payload (bounded by the IP length and the capture length).
    pub payload_len: u32,
    /// The packet ends before its transport data does: the capture's snap length cut it, or the
    /// frame was shorter on the wire than its IP length (the L4 checksum is then not checked).
    pub truncated: bool,
}

impl PacketMeta {
    /// The TCP header, if this is an unfragmented (or first-fragment) TCP segment.
    pub fn tcp(&self) -> Option<&TcpMeta> {
        match &self.l4 {
            L4Meta::Tcp(tcp) => Some(tcp),
            _ => None,
        }
    }

    /// The UDP header, if any.
    pub fn udp(&self) -> Option<&UdpMeta> {
        match &self.l4 {
            L4Meta::Udp(udp) => Some(udp),
            _ => None,
        }
    }

    /// `(source, destination)` ports of a TCP or UDP packet.
    pub fn ports(&self) -> Option<(u16, u16)> {
        match &self.l4 {
            L4Meta::Tcp(t) => Some((t.src_port, t.dst_port)),
            L4Meta::Udp(u) => Some((u.src_port, u.dst_port)),
            _ => None,
        }
    }

    /// Source IP address.
    pub fn src_ip(&self) -> Option<IpAddr> {
        self.ip.as_ref().map(|ip| ip.src)
    }

    /// Destination IP address.
    pub fn dst_ip(&self) -> Option<IpAddr> {
        self.ip.as_ref().map(|ip| ip.dst)
    }

    /// The VLAN ids recorded, outer first.
    pub fn vlans(&self) -> &[u16] {
        self.vlan.get(..usize::from(self.vlan_count)).unwrap_or(&[])
    }

    /// Length of the L4 payload as the headers declare it (IP length minus the headers; for
    /// unfragmented UDP, the UDP length minus 8). Equal to `payload_len` unless the packet is
    /// truncated, where it still gives, e.g., the sequence space a TCP segment covers.
    pub fn wire_payload_len(&self) -> u32 {
        let Some(ip) = &self.ip else {
            return self.payload_len;
        };
        let ip_end = u32::from(ip.header_offset).saturating_add(ip.total_len);
        let end = match &self.l4 {
            L4Meta::Udp(u) if !ip.fragment && u.length >= 8 => {
                (u32::from(u.header_offset) + u32::from(u.length)).min(ip_end)
            }
            _ => ip_end,
        };
        end.saturating_sub(self.payload_offset)
    }

    /// Offset of the transport header (the first byte after the IP header and its extensions).
    pub fn l4_offset(&self) -> Option<usize> {
        self.ip
            .as_ref()
            .map(|ip| usize::from(ip.header_offset) + usize::from(ip.header_len))
    }
}

/// The IP header of a packet.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct IpMeta {
    /// 4 or 6.
    pub version: u8,
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// The transport protocol: for IPv6 the next header after the extension headers.
    pub proto: u8,
    /// IPv4 TTL or IPv6 hop limit.
    pub ttl: u8,
    /// Offset of the IP header in the frame.
    pub header_offset: u16,
    /// IP header length, including IPv4 options and IPv6 extension headers.
    pub header_len: u16,
    /// Length of the IP packet: the IPv4 total length, or 40 + the IPv6 payload length (plus
    /// extension headers' share, as the field counts them). When the field is 0 it is the rest
    /// of the frame; when the field claims more than the frame held on the wire it is capped
    /// there (such packets are marked [`PacketMeta::truncated`]).
    pub total_len: u32,
    /// Part of a fragmented datagram (see the module doc; IPv6 atomic fragments are not).
    pub fragment: bool,
}

/// The transport header of a packet.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum L4Meta {
    /// No transport header: non-IP frame, non-first fragment, or a first fragment too short to
    /// hold the whole header.
    None,
    /// TCP.
    Tcp(TcpMeta),
    /// UDP.
    Udp(UdpMeta),
    /// ICMP or ICMPv6.
    Icmp(IcmpMeta),
    /// Another IP protocol (see [`IpMeta::proto`]); the payload is the whole IP payload.
    Other,
}

/// The fields of a TCP header, options decoded.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct TcpMeta {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgment number (meaningful when ACK is set).
    pub ack: u32,
    /// Flags.
    pub flags: TcpFlags,
    /// Window field, unscaled.
    pub window: u16,
    /// Urgent pointer.
    pub urgent: u16,
    /// Offset of the TCP header in the frame.
    pub header_offset: u16,
    /// TCP header length in bytes (data offset × 4, 20 to 60).
    pub header_len: u8,
    /// Maximum segment size option.
    pub mss: Option<u16>,
    /// Window scale option (shift count as sent, not clamped).
    pub wscale: Option<u8>,
    /// SACK-permitted option.
    pub sack_permitted: bool,
    /// Timestamp option `(TSval, TSecr)`.
    pub timestamp: Option<(u32, u32)>,
}

/// The fields of a UDP header.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct UdpMeta {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Offset of the UDP header in the frame.
    pub header_offset: u16,
    /// The UDP length field (header + data).
    pub length: u16,
}

/// The type and code of an ICMP or ICMPv6 message.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct IcmpMeta {
    /// ICMPv6 (IP protocol 58) rather than ICMP (1).
    pub v6: bool,
    /// Message type.
    pub kind: u8,
    /// Message code.
    pub code: u8,
}

/// The checksum that did not verify.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum ChecksumLayer {
    /// The IPv4 header checksum.
    Ipv4,
    /// The TCP checksum (with pseudo-header).
    Tcp,
    /// The UDP checksum (with pseudo-header).
    Udp,
}

impl fmt::Display for ChecksumLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ChecksumLayer::Ipv4 => "IPv4 header",
            ChecksumLayer::Tcp => "TCP",
            ChecksumLayer::Udp => "UDP",
        })
    }
}

/// Why a frame could not be parsed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ParseError {
    /// The capture ends inside the named header.
    Truncated(&'static str),
    /// A header field contradicts the header or its container (what is wrong, in words).
    Malformed(&'static str),
    /// A checksum did not verify.
    BadChecksum(ChecksumLayer),
    /// The link type is not one [`parse`] decodes (its `LINKTYPE_*` value).
    UnsupportedLink(u32),
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::Truncated(what) => {
                write!(f, "truncated packet: capture ends inside the {what}")
            }
            ParseError::Malformed(what) => write!(f, "malformed packet: {what}"),
            ParseError::BadChecksum(layer) => write!(f, "bad {layer} checksum"),
            ParseError::UnsupportedLink(value) => {
                write!(f, "unsupported link type {value} (LINKTYPE value)")
            }
        }
    }
}

impl std::error::Error for ParseError {}
