//! Test support: an independent reading of the captures this crate writes.
//!
//! Frames are parsed by hand (not with etherparse, which built them), checksums are summed
//! from scratch, and each connection's numbers are recomputed from the frames, so the tests
//! compare the writer and the truth against a second implementation.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::http::RequestScanner;
use crate::tls::SniScanner;
use crate::truth::{HttpRequest, Truth};

/// One record of a pcap file.
pub struct Record<'a> {
    pub ts_nanos: u64,
    pub data: &'a [u8],
}

/// Splits a little-endian classic pcap into records (panics on anything else).
pub fn records(pcap: &[u8]) -> Vec<Record<'_>> {
    let magic = u32::from_le_bytes(pcap[0..4].try_into().unwrap());
    let nanos = match magic {
        0xa1b2_c3d4 => false,
        0xa1b2_3c4d => true,
        m => panic!("bad magic {m:#x}"),
    };
    assert_eq!(u32::from_le_bytes(pcap[20..24].try_into().unwrap()), 1);
    let mut out = Vec::new();
    let mut off = 24;
    while off < pcap.len() {
        let rd = |i: usize| u32::from_le_bytes(pcap[off + i..off + i + 4].try_into().unwrap());
        let (sec, frac, cap, len) = (rd(0), rd(4), rd(8) as usize, rd(12) as usize);
        assert_eq!(cap, len, "frames are captured whole");
        let frac = if nanos {
            u64::from(frac)
        } else {
            u64::from(frac) * 1000
        };
        out.push(Record {
            ts_nanos: u64::from(sec) * 1_000_000_000 + frac,
            data: &pcap[off + 16..off + 16 + cap],
        });
        off += 16 + cap;
    }
    assert_eq!(off, pcap.len(), "no trailing bytes");
    out
}

fn sum16(mut acc: u32, bytes: &[u8]) -> u32 {
    let mut chunks = bytes.chunks_exact(2);
    for c in &mut chunks {
        acc += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        acc += u32::from(*last) << 8;
    }
    acc
}

fn fold(mut acc: u32) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc as u16
}

/// A parsed TCP segment.
#[derive(Debug, Clone)]
pub struct Seg {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub seq: u32,
    pub flags: u8,
    pub payload: Vec<u8>,
}

/// What a frame carries.
#[derive(Debug)]
pub enum Parsed {
    Tcp(Seg),
    Udp,
    Icmp,
    Arp,
}

/// Parses a frame and checks every checksum; panics with a description on any defect.
pub fn parse_frame(frame: &[u8]) -> Parsed {
    let mut off = 12;
    let mut ethertype = u16::from_be_bytes([frame[off], frame[off + 1]]);
    off += 2;
    if ethertype == 0x8100 {
        ethertype = u16::from_be_bytes([frame[off + 2], frame[off + 3]]);
        off += 4;
    }
    let ip = &frame[off..];
    let (src, dst, proto, l4, pseudo): (IpAddr, IpAddr, u8, &[u8], u32) = match ethertype {
        0x0806 => return Parsed::Arp,
        0x0800 => {
            assert_eq!(ip[0] >> 4, 4);
            let ihl = usize::from(ip[0] & 0xf) * 4;
            let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
            assert!(total <= ip.len(), "IPv4 length beyond the frame");
            assert_eq!(fold(sum16(0, &ip[..ihl])), 0xffff, "IPv4 header checksum");
            let s: [u8; 4] = ip[12..16].try_into().unwrap();
            let d: [u8; 4] = ip[16..20].try_into().unwrap();
            let l4 = &ip[ihl..total];
            let pseudo = sum16(sum16(0, &s), &d) + u32::from(ip[9]) + l4.len() as u32;
            (
                IpAddr::V4(Ipv4Addr::from(s)),
                IpAddr::V4(Ipv4Addr::from(d)),
                ip[9],
                l4,
                pseudo,
            )
        }
        0x86dd => {
            assert_eq!(ip[0] >> 4, 6);
            let plen = usize::from(u16::from_be_bytes([ip[4], ip[5]]));
            let s: [u8; 16] = ip[8..24].try_into().unwrap();
            let d: [u8; 16] = ip[24..40].try_into().unwrap();
            let l4 = &ip[40..40 + plen];
            let pseudo = sum16(sum16(0, &s), &d) + u32::from(ip[6]) + l4.len() as u32;
            (
                IpAddr::V6(Ipv6Addr::from(s)),
                IpAddr::V6(Ipv6Addr::from(d)),
                ip[6],
                l4,
                pseudo,
            )
        }
        t => panic!("unexpected ethertype {t:#x}"),
    };
    match proto {
        6 => {
            assert_eq!(fold(sum16(pseudo, l4)), 0xffff, "TCP checksum");
            let port = |i: usize| u16::from_be_bytes([l4[i], l4[i + 1]]);
            let data_off = usize::from(l4[12] >> 4) * 4;
            Parsed::Tcp(Seg {
                src: SocketAddr::new(src, port(0)),
                dst: SocketAddr::new(dst, port(2)),
                seq: u32::from_be_bytes(l4[4..8].try_into().unwrap()),
                flags: l4[13],
                payload: l4[data_off..].to_vec(),
            })
        }
        17 => {
            assert_eq!(usize::from(u16::from_be_bytes([l4[4], l4[5]])), l4.len());
            assert_eq!(fold(sum16(pseudo, l4)), 0xffff, "UDP checksum");
            Parsed::Udp
        }
        1 => {
            assert_eq!(fold(sum16(0, l4)), 0xffff, "ICMP checksum");
            Parsed::Icmp
        }
        58 => {
            assert_eq!(fold(sum16(pseudo, l4)), 0xffff, "ICMPv6 checksum");
            Parsed::Icmp
        }
        p => panic!("unexpected protocol {p}"),
    }
}

#[derive(Default)]
struct Dir {
    pkts: u64,
    /// offset (relative to the first SYN's ISN + 1) -> bytes
    data: BTreeMap<i64, Vec<u8>>,
    base: Option<u32>,
    rexmit: u64,
}

impl Dir {
    fn add(&mut self, seq: u32, payload: &[u8]) {
        let base = *self.base.get_or_insert(seq);
        let off = i64::from(seq.wrapping_sub(base) as i32);
        let end = off + payload.len() as i64;
        if self
            .data
            .iter()
            .any(|(&o, p)| o < end && off < o + p.len() as i64)
        {
            self.rexmit += 1;
        }
        self.data.entry(off).or_insert_with(|| payload.to_vec());
    }

    /// Distinct bytes, and the in-order stream from offset 0 (up to the first hole).
    fn bytes_and_stream(&self) -> (u64, Vec<u8>) {
        let mut covered = 0u64;
        let mut reach = i64::MIN;
        let mut stream = Vec::new();
        for (&o, p) in &self.data {
            let end = o + p.len() as i64;
            if end > reach {
                covered += (end - o.max(reach)) as u64;
                if o <= stream.len() as i64 && o >= 0 && end > stream.len() as i64 {
                    stream.extend_from_slice(&p[stream.len() - o as usize..]);
                }
                reach = end;
            }
        }
        (covered, stream)
    }
}

/// Recomputes every connection line from the frames and compares it with `truth`.
/// Returns the number of connections checked.
pub fn check_against_truth(pcap: &[u8], truth: &Truth) -> usize {
    const SYN: u8 = 0x02;
    const ACK: u8 = 0x10;
    const FIN: u8 = 0x01;
    const RST: u8 = 0x04;
    struct Conn {
        dirs: [Dir; 2],
        fin: [bool; 2],
        rst: bool,
        synack: bool,
    }
    let mut conns: HashMap<(SocketAddr, SocketAddr), Conn> = HashMap::new();
    let mut order = Vec::new();
    let (mut packets, mut tcp, mut udp, mut icmp, mut other, mut orphans) = (0, 0, 0, 0, 0, 0);
    for r in records(pcap) {
        packets += 1;
        match parse_frame(r.data) {
            Parsed::Tcp(s) => {
                tcp += 1;
                let (key, side) = if conns.contains_key(&(s.src, s.dst)) {
                    ((s.src, s.dst), 0)
                } else if conns.contains_key(&(s.dst, s.src)) {
                    ((s.dst, s.src), 1)
                } else if s.flags & (SYN | ACK) == SYN {
                    order.push((s.src, s.dst));
                    conns.insert(
                        (s.src, s.dst),
                        Conn {
                            dirs: [Dir::default(), Dir::default()],
                            fin: [false; 2],
                            rst: false,
                            synack: false,
                        },
                    );
                    ((s.src, s.dst), 0)
                } else {
                    orphans += 1;
                    continue;
                };
                let c = conns.get_mut(&key).unwrap();
                let d = &mut c.dirs[side];
                d.pkts += 1;
                if s.flags & SYN != 0 {
                    d.base = Some(s.seq.wrapping_add(1));
                    c.synack |= side == 1 && s.flags & ACK != 0;
                } else if !s.payload.is_empty() {
                    d.add(s.seq, &s.payload);
                }
                c.fin[side] |= s.flags & FIN != 0;
                c.rst |= s.flags & RST != 0;
            }
            Parsed::Udp => {
                udp += 1;
                orphans += 1;
            }
            Parsed::Icmp => {
                icmp += 1;
                orphans += 1;
            }
            Parsed::Arp => {
                other += 1;
                orphans += 1;
            }
        }
    }
    let s = truth.summary;
    assert_eq!(
        (
            s.packets,
            s.tcp_packets,
            s.udp_packets,
            s.icmp_packets,
            s.other_packets
        ),
        (packets, tcp, udp, icmp, other)
    );
    assert_eq!(s.orphans, orphans);
    assert_eq!(s.connections as usize, conns.len());
    assert_eq!(truth.connections.len(), conns.len());
    let mut lines = HashMap::new();
    for line in &truth.connections {
        assert!(
            lines
                .insert((line.client.clone(), line.server.clone()), line)
                .is_none(),
            "duplicate connection line {} -> {}",
            line.client,
            line.server
        );
    }
    for key in &order {
        let c = &conns[key];
        let line = lines
            .get(&(key.0.to_string(), key.1.to_string()))
            .unwrap_or_else(|| panic!("no line for {} -> {}", key.0, key.1));
        let (bc, client_stream) = c.dirs[0].bytes_and_stream();
        let (bs, _) = c.dirs[1].bytes_and_stream();
        let ctx = format!("{} -> {}", key.0, key.1);
        assert_eq!(line.pkts_client, c.dirs[0].pkts, "{ctx}");
        assert_eq!(line.pkts_server, c.dirs[1].pkts, "{ctx}");
        assert_eq!(line.bytes_client, bc, "{ctx}");
        assert_eq!(line.bytes_server, bs, "{ctx}");
        assert_eq!(line.rexmit_client, c.dirs[0].rexmit, "{ctx}");
        assert_eq!(line.rexmit_server, c.dirs[1].rexmit, "{ctx}");
        assert_eq!(
            (line.fin_client, line.fin_server),
            (c.fin[0], c.fin[1]),
            "{ctx}"
        );
        assert_eq!((line.rst, line.synack), (c.rst, c.synack), "{ctx}");
        let mut reqs: Vec<HttpRequest> = Vec::new();
        RequestScanner::default().scan(&client_stream, &mut reqs);
        assert_eq!(line.http_requests, reqs, "{ctx}");
        let mut snis = Vec::new();
        SniScanner::default().scan(&client_stream, &mut snis);
        assert_eq!(line.tls_sni, snis, "{ctx}");
    }
    order.len()
}
