use super::*;
use etherparse::{NetSlice, SlicedPacket, TransportSlice};

/// The TCP fields of a captured frame.
#[derive(Debug, PartialEq, Eq)]
struct Tcp {
    src_port: u16,
    seq: u32,
    ack: u32,
    flags: u8,
    window: u16,
    payload: Vec<u8>,
}

fn tcp_of(frame: &Frame) -> Tcp {
    let p = SlicedPacket::from_ethernet(&frame.data).expect("frame parses");
    let Some(TransportSlice::Tcp(t)) = &p.transport else {
        panic!("not a TCP frame")
    };
    let h = t.to_header();
    let flags = TcpFlags::NONE
        .with(if h.fin { FIN } else { TcpFlags::NONE })
        .with(if h.syn { SYN } else { TcpFlags::NONE })
        .with(if h.rst { RST } else { TcpFlags::NONE })
        .with(if h.psh { PSH } else { TcpFlags::NONE })
        .with(if h.ack { ACK } else { TcpFlags::NONE });
    Tcp {
        src_port: h.source_port,
        seq: h.sequence_number,
        ack: h.acknowledgment_number,
        flags: flags.bits(),
        window: h.window_size,
        payload: t.payload().to_vec(),
    }
}

#[test]
fn handshake_and_send_track_sequence_numbers() {
    let mut t = Script::new();
    let c = t.tcp("10.0.0.1:40000", "10.0.0.2:80");
    let (ci, si) = (t.isn(c, Client), t.isn(c, Server));
    t.handshake(c);
    t.send(c, Client, b"0123456789");
    assert_eq!(t.seq(c, Client), ci.wrapping_add(11));
    t.segment(c, Client).payload(b"x").emit();

    let f: Vec<Tcp> = t.frames().iter().map(tcp_of).collect();
    assert_eq!(f.len(), 6);
    // SYN
    assert_eq!((f[0].seq, f[0].ack, f[0].flags), (ci, 0, SYN.bits()));
    // SYN-ACK acknowledges the SYN
    assert_eq!(
        (f[1].seq, f[1].ack, f[1].flags),
        (si, ci.wrapping_add(1), (SYN | ACK).bits())
    );
    // ACK
    assert_eq!(
        (f[2].seq, f[2].ack),
        (ci.wrapping_add(1), si.wrapping_add(1))
    );
    // data, then the server's ACK of all ten bytes
    assert_eq!(f[3].seq, ci.wrapping_add(1));
    assert_eq!(f[3].flags, (ACK | PSH).bits());
    assert_eq!(f[3].payload, b"0123456789");
    assert_eq!(f[4].src_port, 80);
    assert_eq!(f[4].ack, ci.wrapping_add(11));
    assert!(f[4].payload.is_empty());
    // the next segment goes on at ISN + 11
    assert_eq!(f[5].seq, ci.wrapping_add(11));
    assert_eq!(
        t.frames()[5].ts.since(t.frames()[0].ts),
        Duration::from_millis(5)
    );
}

#[test]
fn isns_are_deterministic_and_overridable() {
    let mut a = Script::new();
    let mut b = Script::new();
    let ca = a.tcp("10.0.0.1:1", "10.0.0.2:2");
    let cb = b.tcp("10.0.0.1:1", "10.0.0.2:2");
    assert_eq!(a.isn(ca, Client), b.isn(cb, Client));
    assert_ne!(a.isn(ca, Client), a.isn(ca, Server));
    let c2 = a.tcp("10.0.0.1:3", "10.0.0.2:2");
    assert_ne!(a.isn(ca, Client), a.isn(c2, Client));

    // Wrap-around across 2^32.
    a.set_isn(c2, Client, u32::MAX - 1);
    a.handshake(c2);
    a.send(c2, Client, b"abcd");
    assert_eq!(a.seq(c2, Client), 3);
    let last = tcp_of(a.frames().last().unwrap());
    assert_eq!(last.ack, 3);
}

#[test]
fn out_of_order_holds_acks_at_the_hole() {
    let mut t = Script::new();
    let c = t.tcp("10.0.0.1:40000", "10.0.0.2:80");
    let ci = t.isn(c, Client);
    t.handshake(c);
    // bytes 4..8 first, then 1..4 (relative, Wireshark numbering)
    t.segment(c, Client).rel_seq(4).payload(b"defg").emit();
    t.ack(c, Server);
    assert_eq!(tcp_of(t.frames().last().unwrap()).ack, ci.wrapping_add(1));
    assert_eq!(t.seq(c, Client), ci.wrapping_add(8));
    t.segment(c, Client).rel_seq(1).payload(b"abc").emit();
    t.ack(c, Server);
    assert_eq!(tcp_of(t.frames().last().unwrap()).ack, ci.wrapping_add(8));
    // Sending on continues after the highest byte, not after the filler.
    t.send_no_ack(c, Client, b"h");
    assert_eq!(tcp_of(t.frames().last().unwrap()).seq, ci.wrapping_add(8));

    let line = &t.truth().connections[0];
    assert_eq!(line.bytes_client, 8);
    assert_eq!(line.rexmit_client, 0);
    assert_eq!(line.missed_client, 0);
}

#[test]
fn lost_and_unseen_bytes() {
    let mut t = Script::new();
    let c = t.tcp("10.0.0.1:40000", "10.0.0.2:80");
    let ci = t.isn(c, Client);
    t.handshake(c);
    // Lost on the wire: the server keeps acknowledging the hole.
    t.lose(c, Client, 5);
    t.send(c, Client, b"later");
    assert_eq!(tcp_of(t.frames().last().unwrap()).ack, ci.wrapping_add(1));
    // The retransmission fills it, and the ACK jumps over both.
    t.segment(c, Client).rel_seq(1).payload(b"first").emit();
    t.ack(c, Server);
    assert_eq!(tcp_of(t.frames().last().unwrap()).ack, ci.wrapping_add(11));
    // Bypassing the tap: the server got it, the capture has a hole.
    t.unseen(c, Client, 100);
    t.send(c, Client, b"z");
    assert_eq!(tcp_of(t.frames().last().unwrap()).ack, ci.wrapping_add(112));
    // A captured segment lost after the tap is not acknowledged.
    t.segment(c, Client).payload(b"gone").lost().emit();
    t.ack(c, Server);
    assert_eq!(tcp_of(t.frames().last().unwrap()).ack, ci.wrapping_add(112));
    t.rst(c, Server);

    let line = &t.truth().connections[0];
    assert_eq!(line.bytes_client, 5 + 5 + 1 + 4);
    assert_eq!(line.missed_client, 100);
    assert_eq!(
        line.rexmit_client, 0,
        "the filler overlaps nothing captured"
    );
    assert_eq!(line.end_reason, "rst");
}

#[test]
fn ipv6_and_vlan_frames_parse_with_etherparse() {
    let mut t = Script::new();
    t.set_vlan(Some(100));
    let c = t.tcp("[2001:db8::1]:40000", "[2001:db8::2]:443");
    t.handshake(c);
    t.send(c, Client, &[0x16; 2000]);
    for f in t.frames() {
        let p = SlicedPacket::from_ethernet(&f.data).unwrap();
        assert_eq!(p.vlan_ids().first().map(|v| v.value()), Some(100));
        let Some(NetSlice::Ipv6(ip)) = &p.net else {
            panic!("not IPv6")
        };
        let ends: [Ipv6Addr; 2] = [
            "2001:db8::1".parse().unwrap(),
            "2001:db8::2".parse().unwrap(),
        ];
        assert!(ends.contains(&ip.header().source_addr()));
        assert!(ends.contains(&ip.header().destination_addr()));
        let Some(TransportSlice::Tcp(tcp)) = &p.transport else {
            panic!("not TCP")
        };
        let h = tcp.to_header();
        let ih = ip.header().to_header();
        assert_eq!(
            h.checksum,
            h.calc_checksum_ipv6(&ih, tcp.payload()).unwrap()
        );
    }
    // 2000 bytes over IPv6 are cut at the IPv6 MSS of 1440.
    let sizes: Vec<usize> = t.frames().iter().map(|f| tcp_of(f).payload.len()).collect();
    assert_eq!(sizes, [0, 0, 0, 1440, 560, 0]);
    t.set_vlan(None);
    t.udp("[2001:db8::1]:5353", "[2001:db8::53]:53", b"q");
    let p = SlicedPacket::from_ethernet(&t.frames().last().unwrap().data).unwrap();
    assert!(p.vlan_ids().is_empty());
    assert!(matches!(p.transport, Some(TransportSlice::Udp(_))));
}

#[test]
fn window_scaling_and_syn_options() {
    let mut t = Script::new();
    t.set_syn_options(SynOptions::LINUX);
    let c = t.tcp("10.0.0.1:40000", "10.0.0.2:80");
    t.handshake(c);
    let f: Vec<Tcp> = t.frames().iter().map(tcp_of).collect();
    assert_eq!(f[0].window, 64_240, "a SYN's window is never scaled");
    assert_eq!(f[2].window, 64_240 >> 7);
    t.set_window(c, Server, 1 << 20);
    t.ack(c, Server);
    assert_eq!(tcp_of(t.frames().last().unwrap()).window, 8192);
    t.segment(c, Server).window(7).emit();
    assert_eq!(tcp_of(t.frames().last().unwrap()).window, 7);
}

#[test]
fn teardown_flags_and_refusal() {
    let mut t = Script::new();
    let c = t.tcp("10.0.0.1:40000", "10.0.0.2:80");
    t.handshake(c).close(c);
    let f: Vec<Tcp> = t.frames().iter().map(tcp_of).collect();
    assert_eq!(f[3].flags, (FIN | ACK).bits());
    assert_eq!(f[4].flags, (FIN | ACK).bits());
    assert_eq!(
        f[4].ack,
        t.isn(c, Client).wrapping_add(2),
        "acks the client's FIN"
    );
    assert_eq!(f[5].ack, t.isn(c, Server).wrapping_add(2));

    let r = t.syn_only("10.0.0.1:40001", "10.0.0.2:81");
    t.refuse(r);
    let last = tcp_of(t.frames().last().unwrap());
    assert_eq!(last.flags, (RST | ACK).bits());
    assert_eq!(last.ack, t.isn(r, Client).wrapping_add(1));

    let truth = t.truth();
    assert_eq!(truth.connections.len(), 2);
    let refused = &truth.connections[1];
    assert!(refused.syn && !refused.synack && refused.rst);
    assert_eq!((refused.pkts_client, refused.pkts_server), (1, 1));
    assert_eq!(truth.connections[0].end_reason, "fin");
}

#[test]
fn orphans_udp_icmp_arp_and_raw_in_the_summary() {
    let mut t = Script::new();
    let o = t.tcp("10.0.0.1:40000", "10.0.0.2:80");
    t.send(o, Client, b"mid-stream"); // no handshake: 2 orphan TCP packets
    t.udp("10.0.0.1:5353", "10.0.0.53:53", b"\x00\x01");
    t.icmp_echo("10.0.0.1", "10.0.0.2", 1, 1, b"ping");
    t.icmp_echo_reply("10.0.0.2", "10.0.0.1", 1, 1, b"ping");
    t.arp("10.0.0.1", "10.0.0.2");
    t.arp_reply(Ipv4Addr::new(10, 0, 0, 2), Ipv4Addr::new(10, 0, 0, 1));
    t.raw(&[0xde, 0xad], true);
    let truth = t.truth();
    assert!(truth.connections.is_empty());
    let s = truth.summary;
    assert_eq!(s.packets, 8);
    assert_eq!((s.tcp_packets, s.udp_packets, s.icmp_packets), (2, 1, 2));
    assert_eq!(s.other_packets, 3);
    assert_eq!(s.orphans, 8);
    assert_eq!(s.errors, 1);
    assert_eq!(s.connections, 0);
    // ARP request goes to broadcast.
    assert_eq!(&t.frames()[5].data[..6], &[0xff; 6]);
}

#[test]
fn pcap_output_round_trips_frames_and_times() {
    let mut t = Script::new();
    t.set_precision(Precision::Nanos);
    t.set_step(Duration::from_nanos(1500));
    let c = t.tcp("10.0.0.1:40000", "10.0.0.2:80");
    t.handshake(c);
    t.advance(Duration::from_secs(10));
    t.ack(c, Client);
    let bytes = t.to_pcap();
    assert_eq!(&bytes[..4], &[0x4d, 0x3c, 0xb2, 0xa1]);
    let mut off = 24;
    let mut times = Vec::new();
    while off < bytes.len() {
        let rd = |i: usize| u32::from_le_bytes(bytes[off + i..off + i + 4].try_into().unwrap());
        let (sec, frac, cap) = (rd(0), rd(4), rd(8) as usize);
        times.push(u64::from(sec) * 1_000_000_000 + u64::from(frac));
        off += 16 + cap;
    }
    assert_eq!(off, bytes.len());
    assert_eq!(times.len(), 4);
    assert_eq!(times[1] - times[0], 1500);
    assert_eq!(times[3] - times[2], 10_000_001_500);

    let dir = std::env::temp_dir().join(format!("mos-synth-script-{}.pcap", std::process::id()));
    t.write_pcap(&dir).unwrap();
    assert_eq!(std::fs::read(&dir).unwrap(), bytes);
    t.write_truth(&dir).unwrap();
    let text = std::fs::read_to_string(&dir).unwrap();
    let mut back = crate::truth::Truth::parse_json_lines(&text).unwrap();
    let mut want = t.truth();
    // Nanosecond times do not survive f64 seconds exactly; everything else must.
    for c in back
        .connections
        .iter_mut()
        .chain(want.connections.iter_mut())
    {
        assert!((c.last - 1_700_000_010.000_004_5).abs() < 1e-6);
        c.last = 0.0;
    }
    assert_eq!(back, want);
    std::fs::remove_file(&dir).unwrap();
}

#[test]
#[should_panic(expected = "must both be IPv4 or both IPv6")]
fn mixed_versions_are_refused() {
    Script::new().tcp("10.0.0.1:1", "[2001:db8::1]:2");
}

#[test]
#[should_panic(expected = "is not a socket address")]
fn bad_addresses_say_what_to_write() {
    Script::new().tcp("10.0.0.1", "10.0.0.2:80");
}

#[test]
fn macs_are_derived_or_overridden() {
    let mut t = Script::new();
    let gw = [2, 0, 0, 0, 0, 0xfe];
    t.set_mac("192.0.2.10", gw);
    let c = t.tcp("10.0.0.1:40000", "192.0.2.10:80");
    t.syn(c).syn_ack(c);
    t.udp("192.0.2.10:53", "10.0.0.1:5353", b"x");
    let f = t.frames();
    let own = packet::mac_for_ip("10.0.0.1".parse().unwrap());
    assert_eq!((&f[0].data[0..6], &f[0].data[6..12]), (&gw[..], &own[..]));
    assert_eq!((&f[1].data[0..6], &f[1].data[6..12]), (&own[..], &gw[..]));
    assert_eq!(&f[2].data[6..12], &gw[..]);
}
