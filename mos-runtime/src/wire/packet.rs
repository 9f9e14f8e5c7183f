//! [`Packet`] and [`PacketMut`]: a [`PacketMeta`] joined with its frame bytes.

use std::fmt;
use std::net::IpAddr;

use super::checksum;
use super::{IpMeta, L4Meta, PacketMeta, TcpMeta, UdpMeta};
use crate::time::Timestamp;

/// A parsed packet: the metadata and the bytes of its frame, both borrowed.
///
/// Every slice accessor is bounds-checked and returns an empty slice when the metadata does not
/// fit the bytes (a `PacketMeta` paired with the wrong frame), never panics.
#[derive(Clone, Copy)]
pub struct Packet<'a> {
    meta: &'a PacketMeta,
    data: &'a [u8],
}

impl<'a> Packet<'a> {
    /// Joins a parse result with the frame it was parsed from.
    pub fn new(meta: &'a PacketMeta, data: &'a [u8]) -> Packet<'a> {
        Packet { meta, data }
    }

    /// The parse result.
    pub fn meta(&self) -> &'a PacketMeta {
        self.meta
    }

    /// The whole captured frame, link header included.
    pub fn data(&self) -> &'a [u8] {
        self.data
    }

    /// Capture time.
    pub fn ts(&self) -> Timestamp {
        self.meta.ts
    }

    /// The L4 payload as captured (see [`PacketMeta::payload_len`]).
    pub fn payload(&self) -> &'a [u8] {
        range(
            self.data,
            self.meta.payload_offset as usize,
            self.meta.payload_len as usize,
        )
    }

    /// The TCP header fields, if this is a TCP segment.
    pub fn tcp(&self) -> Option<&'a TcpMeta> {
        self.meta.tcp()
    }

    /// The IP header fields, if this is an IP packet.
    pub fn ip(&self) -> Option<&'a IpMeta> {
        self.meta.ip.as_ref()
    }

    /// The UDP header fields, if this is a UDP datagram.
    pub fn udp(&self) -> Option<&'a UdpMeta> {
        self.meta.udp()
    }

    /// The IP protocol (the final next header for IPv6), if this is an IP packet.
    pub fn ip_proto(&self) -> Option<u8> {
        self.meta.ip.as_ref().map(|ip| ip.proto)
    }

    /// Source IP address.
    pub fn src_ip(&self) -> Option<IpAddr> {
        self.meta.src_ip()
    }

    /// Destination IP address.
    pub fn dst_ip(&self) -> Option<IpAddr> {
        self.meta.dst_ip()
    }

    /// `(source, destination)` ports of a TCP or UDP packet.
    pub fn ports(&self) -> Option<(u16, u16)> {
        self.meta.ports()
    }

    /// TCP or UDP source port.
    pub fn src_port(&self) -> Option<u16> {
        self.meta.ports().map(|(src, _)| src)
    }

    /// TCP or UDP destination port.
    pub fn dst_port(&self) -> Option<u16> {
        self.meta.ports().map(|(_, dst)| dst)
    }

    /// The network layer: the IP packet from its header to its end (as captured; Ethernet
    /// padding excluded), or for a non-IP frame everything after the link header.
    pub fn l3(&self) -> &'a [u8] {
        match &self.meta.ip {
            Some(ip) => range(
                self.data,
                usize::from(ip.header_offset),
                ip.total_len as usize,
            ),
            None => self
                .data
                .get(usize::from(self.meta.l3_offset)..)
                .unwrap_or(&[]),
        }
    }

    /// The transport header bytes (TCP with options, the 8-byte UDP header, ICMP type, code and
    /// checksum); empty when there is none ([`L4Meta::None`], [`L4Meta::Other`]).
    pub fn l4_header(&self) -> &'a [u8] {
        match l4_header_range(self.meta) {
            Some((start, len)) => range(self.data, start, len),
            None => &[],
        }
    }
}

/// `data[start..start + len]`, clamped to the data, empty when `start` is past the end.
fn range(data: &[u8], start: usize, len: usize) -> &[u8] {
    let end = start.saturating_add(len).min(data.len());
    data.get(start..end).unwrap_or(&[])
}

fn range_mut(data: &mut [u8], start: usize, len: usize) -> &mut [u8] {
    let end = start.saturating_add(len).min(data.len());
    data.get_mut(start..end).unwrap_or(&mut [])
}

/// Start and length of the transport header.
fn l4_header_range(meta: &PacketMeta) -> Option<(usize, usize)> {
    match &meta.l4 {
        L4Meta::Tcp(t) => Some((usize::from(t.header_offset), usize::from(t.header_len))),
        L4Meta::Udp(u) => Some((usize::from(u.header_offset), 8)),
        L4Meta::Icmp(_) => meta.l4_offset().map(|start| (start, 4)),
        L4Meta::None | L4Meta::Other => None,
    }
}

impl fmt::Debug for Packet<'_> {
    /// One line: time, lengths, addresses, protocol and the payload length; never the bytes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.meta;
        write!(
            f,
            "Packet {{ ts: {:?}, len: {}/{}",
            m.ts, m.cap_len, m.wire_len
        )?;
        if m.vlan_count > 0 {
            write!(f, ", vlan: {:?}", m.vlans())?;
        }
        match &m.ip {
            None => write!(f, ", non-IP")?,
            Some(ip) => {
                let (sp, dp) = m.ports().unwrap_or((0, 0));
                let ports = m.ports().is_some();
                match (ip.src, ports) {
                    (IpAddr::V6(_), true) => {
                        write!(f, ", [{}]:{sp} > [{}]:{dp}", ip.src, ip.dst)?;
                    }
                    (_, true) => write!(f, ", {}:{sp} > {}:{dp}", ip.src, ip.dst)?,
                    (_, false) => write!(f, ", {} > {}", ip.src, ip.dst)?,
                }
                if ip.fragment {
                    write!(f, " frag")?;
                }
            }
        }
        match &m.l4 {
            L4Meta::Tcp(t) => write!(
                f,
                " TCP {:?} seq={} ack={} win={}",
                t.flags, t.seq, t.ack, t.window
            )?,
            L4Meta::Udp(_) => write!(f, " UDP")?,
            L4Meta::Icmp(i) => write!(
                f,
                " ICMP{} {}/{}",
                if i.v6 { "v6" } else { "" },
                i.kind,
                i.code
            )?,
            L4Meta::Other => {
                let proto = m.ip.as_ref().map_or(0, |ip| ip.proto);
                write!(f, " proto {proto}")?;
            }
            L4Meta::None => {}
        }
        write!(f, ", payload: {}", m.payload_len)?;
        if m.truncated {
            write!(f, " (truncated)")?;
        }
        write!(f, " }}")
    }
}

/// Why a [`PacketMut`] rewrite was refused. The packet is unchanged when one is returned.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RewriteError {
    /// The packet has no IP header.
    NoIp,
    /// The new address is not of the packet's IP version.
    FamilyMismatch,
    /// The packet has no TCP or UDP header (non-TCP/UDP, or a non-first fragment).
    NoPorts,
    /// The metadata points outside the frame (it was parsed from other bytes).
    OutOfBounds,
}

impl fmt::Display for RewriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RewriteError::NoIp => "the packet has no IP header",
            RewriteError::FamilyMismatch => "the address is not of the packet's IP version",
            RewriteError::NoPorts => "the packet has no TCP or UDP header",
            RewriteError::OutOfBounds => "the packet metadata does not fit the frame",
        })
    }
}

impl std::error::Error for RewriteError {}

/// A parsed packet whose bytes may be rewritten in place (inline mode).
///
/// Checksums: the address and port setters patch the IPv4 header checksum and the TCP, UDP or
/// ICMPv6 checksum incrementally (RFC 1624), so after them the packet verifies exactly when it
/// verified before — also when the capture truncated it, since only the changed bytes are read.
/// After editing the payload through [`PacketMut::payload_mut`] or [`PacketMut::frame_mut`], call
/// [`PacketMut::update_checksums`] to recompute them from the bytes.
pub struct PacketMut<'a> {
    meta: &'a mut PacketMeta,
    data: &'a mut [u8],
}

impl fmt::Debug for PacketMut<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.as_packet(), f)
    }
}

/// Which address of the IP header.
#[derive(Clone, Copy)]
enum End {
    Src,
    Dst,
}

impl<'a> PacketMut<'a> {
    /// Joins a parse result with the (writable) frame it was parsed from.
    pub fn new(meta: &'a mut PacketMeta, data: &'a mut [u8]) -> PacketMut<'a> {
        PacketMut { meta, data }
    }

    /// A read-only view.
    pub fn as_packet(&self) -> Packet<'_> {
        Packet::new(self.meta, self.data)
    }

    /// The parse result (kept up to date by the setters).
    pub fn meta(&self) -> &PacketMeta {
        self.meta
    }

    /// The L4 payload, writable. Its length cannot change; call
    /// [`PacketMut::update_checksums`] after writing.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let (start, len) = (
            self.meta.payload_offset as usize,
            self.meta.payload_len as usize,
        );
        range_mut(self.data, start, len)
    }

    /// The whole frame, writable. Writes that change header fields are not reflected in
    /// [`PacketMut::meta`]; parse again if the headers were edited this way.
    pub fn frame_mut(&mut self) -> &mut [u8] {
        self.data
    }

    /// Rewrites the source address (same IP version as the packet).
    pub fn set_src_ip(&mut self, addr: IpAddr) -> Result<(), RewriteError> {
        self.set_ip(End::Src, addr)
    }

    /// Rewrites the destination address (same IP version as the packet).
    pub fn set_dst_ip(&mut self, addr: IpAddr) -> Result<(), RewriteError> {
        self.set_ip(End::Dst, addr)
    }

    /// Rewrites the TCP or UDP source port.
    pub fn set_src_port(&mut self, port: u16) -> Result<(), RewriteError> {
        self.set_port(0, port)
    }

    /// Rewrites the TCP or UDP destination port.
    pub fn set_dst_port(&mut self, port: u16) -> Result<(), RewriteError> {
        self.set_port(2, port)
    }

    /// Recomputes the checksums from the bytes: the IPv4 header checksum, and the TCP, UDP or
    /// ICMP checksum over the transport header and payload (with the pseudo-header where the
    /// protocol has one). A UDP-over-IPv4 checksum of zero ("none") stays zero.
    ///
    /// Returns `false` when the transport checksum was left as it was because the bytes it
    /// covers are not all in the frame: the packet is truncated (the snap length cut it) or a
    /// fragment (the checksum covers the whole datagram). The IPv4 header checksum is always
    /// recomputed, since the header is always complete.
    pub fn update_checksums(&mut self) -> bool {
        let Some(ip) = self.meta.ip else {
            return true;
        };
        let hdr = usize::from(ip.header_offset);
        if ip.version == 4 {
            let header = range_mut(self.data, hdr, usize::from(ip.header_len));
            if let Some(field) = header.get_mut(10..12) {
                field.copy_from_slice(&[0, 0]);
                let sum = checksum::checksum(header);
                if let Some(field) = header.get_mut(10..12) {
                    field.copy_from_slice(&sum.to_be_bytes());
                }
            }
        }
        let (field_at, proto) = match &self.meta.l4 {
            L4Meta::Tcp(_) => (16, 6u8),
            L4Meta::Udp(_) => (6, 17),
            L4Meta::Icmp(i) => (2, if i.v6 { 58 } else { 1 }),
            L4Meta::None | L4Meta::Other => return true,
        };
        if self.meta.truncated || ip.fragment {
            return false;
        }
        let Some(l4) = self.meta.l4_offset() else {
            return false;
        };
        let l4_len = match &self.meta.l4 {
            L4Meta::Udp(u) if usize::from(u.length) >= 8 => usize::from(u.length),
            _ => (ip.total_len as usize).saturating_sub(usize::from(ip.header_len)),
        };
        let Some(pseudo) = pseudo_header(self.data, &ip, proto, l4_len) else {
            return false;
        };
        let Some(segment) = self.data.get_mut(l4..l4.saturating_add(l4_len)) else {
            return false;
        };
        let Some(old) = be16_at(segment, field_at) else {
            return false;
        };
        if proto == 17 && ip.version == 4 && old == 0 {
            return true;
        }
        let (head, rest) = segment.split_at_mut(field_at.min(segment.len()));
        let Some((field, tail)) = rest.split_first_chunk_mut::<2>() else {
            return false;
        };
        let acc = checksum::sum(checksum::sum(pseudo, head), tail);
        let mut value = !checksum::fold(acc);
        if proto == 17 && value == 0 {
            value = 0xffff;
        }
        *field = value.to_be_bytes();
        true
    }

    fn set_ip(&mut self, end: End, addr: IpAddr) -> Result<(), RewriteError> {
        let mut ip = self.meta.ip.ok_or(RewriteError::NoIp)?;
        let hdr = usize::from(ip.header_offset);
        let mut octets = [0u8; 16];
        let (at, len) = match (ip.version, addr) {
            (4, IpAddr::V4(a)) => {
                for (dst, src) in octets.iter_mut().zip(a.octets()) {
                    *dst = src;
                }
                (hdr + if matches!(end, End::Src) { 12 } else { 16 }, 4)
            }
            (6, IpAddr::V6(a)) => {
                octets = a.octets();
                (hdr + if matches!(end, End::Src) { 8 } else { 24 }, 16)
            }
            _ => return Err(RewriteError::FamilyMismatch),
        };
        let new = octets.get(..len).ok_or(RewriteError::OutOfBounds)?;
        // Check every field this touches before writing any.
        let field = self
            .data
            .get(at..at + len)
            .ok_or(RewriteError::OutOfBounds)?;
        let mut old = [0u8; 16];
        let old = {
            let dst = old.get_mut(..len).ok_or(RewriteError::OutOfBounds)?;
            dst.copy_from_slice(field);
            &*dst
        };
        let l4_check = self.l4_checksum_field(ip.version == 6)?;
        if ip.version == 4 {
            let check = be16_at(self.data, hdr + 10).ok_or(RewriteError::OutOfBounds)?;
            write_be16(self.data, hdr + 10, checksum::adjust(check, old, new))?;
        }
        if let Some((at, is_udp)) = l4_check {
            patch_l4_checksum(self.data, at, is_udp, ip.version, old, new)?;
        }
        self.data
            .get_mut(at..at + len)
            .ok_or(RewriteError::OutOfBounds)?
            .copy_from_slice(new);
        match end {
            End::Src => ip.src = addr,
            End::Dst => ip.dst = addr,
        }
        self.meta.ip = Some(ip);
        Ok(())
    }

    /// Where the transport checksum that covers the addresses sits, and whether it is UDP's.
    fn l4_checksum_field(&self, v6: bool) -> Result<Option<(usize, bool)>, RewriteError> {
        let field = match &self.meta.l4 {
            L4Meta::Tcp(t) => Some((usize::from(t.header_offset) + 16, false)),
            L4Meta::Udp(u) => Some((usize::from(u.header_offset) + 6, true)),
            // ICMPv6 has a pseudo-header, ICMP over IPv4 does not.
            L4Meta::Icmp(i) if i.v6 && v6 => self.meta.l4_offset().map(|at| (at + 2, false)),
            _ => None,
        };
        if let Some((at, _)) = field {
            if be16_at(self.data, at).is_none() {
                return Err(RewriteError::OutOfBounds);
            }
        }
        Ok(field)
    }

    fn set_port(&mut self, field: usize, port: u16) -> Result<(), RewriteError> {
        let (hdr, is_udp) = match &self.meta.l4 {
            L4Meta::Tcp(t) => (usize::from(t.header_offset), false),
            L4Meta::Udp(u) => (usize::from(u.header_offset), true),
            _ => return Err(RewriteError::NoPorts),
        };
        let version = self.meta.ip.map_or(4, |ip| ip.version);
        let check_at = hdr + if is_udp { 6 } else { 16 };
        let old = be16_at(self.data, hdr + field).ok_or(RewriteError::OutOfBounds)?;
        if be16_at(self.data, check_at).is_none() {
            return Err(RewriteError::OutOfBounds);
        }
        patch_l4_checksum(
            self.data,
            check_at,
            is_udp,
            version,
            &old.to_be_bytes(),
            &port.to_be_bytes(),
        )?;
        write_be16(self.data, hdr + field, port)?;
        match &mut self.meta.l4 {
            L4Meta::Tcp(t) if field == 0 => t.src_port = port,
            L4Meta::Tcp(t) => t.dst_port = port,
            L4Meta::Udp(u) if field == 0 => u.src_port = port,
            L4Meta::Udp(u) => u.dst_port = port,
            _ => {}
        }
        Ok(())
    }
}

fn be16_at(data: &[u8], at: usize) -> Option<u16> {
    let bytes = data.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes(bytes.try_into().ok()?))
}

fn write_be16(data: &mut [u8], at: usize, value: u16) -> Result<(), RewriteError> {
    data.get_mut(at..at.saturating_add(2))
        .ok_or(RewriteError::OutOfBounds)?
        .copy_from_slice(&value.to_be_bytes());
    Ok(())
}

/// Applies the change `old` → `new` to the transport checksum at `at`.
fn patch_l4_checksum(
    data: &mut [u8],
    at: usize,
    is_udp: bool,
    version: u8,
    old: &[u8],
    new: &[u8],
) -> Result<(), RewriteError> {
    let check = be16_at(data, at).ok_or(RewriteError::OutOfBounds)?;
    if is_udp && version == 4 && check == 0 {
        // No checksum was sent; there is nothing to keep right.
        return Ok(());
    }
    let mut value = checksum::adjust(check, old, new);
    if is_udp && value == 0 {
        // Zero would mean "no checksum": send its ones'-complement twin.
        value = 0xffff;
    }
    write_be16(data, at, value)
}

/// The pseudo-header sum, reading the addresses from the frame.
fn pseudo_header(data: &[u8], ip: &IpMeta, proto: u8, l4_len: usize) -> Option<u64> {
    let hdr = usize::from(ip.header_offset);
    let len = u32::try_from(l4_len).ok()?;
    match ip.version {
        // ICMP over IPv4 has no pseudo-header.
        _ if proto == 1 => Some(0),
        4 => {
            let src: [u8; 4] = data.get(hdr + 12..hdr + 16)?.try_into().ok()?;
            let dst: [u8; 4] = data.get(hdr + 16..hdr + 20)?.try_into().ok()?;
            Some(checksum::pseudo_header_v4(src, dst, proto, len))
        }
        _ => {
            let src: [u8; 16] = data.get(hdr + 8..hdr + 24)?.try_into().ok()?;
            let dst: [u8; 16] = data.get(hdr + 24..hdr + 40)?.try_into().ok()?;
            Some(checksum::pseudo_header_v6(src, dst, proto, len))
        }
    }
}
