//! Hand-made conversations: a builder that reads like the scenario it describes.
//!
//! A [`Script`] is a clock, a list of captured frames and the state of each TCP connection.
//! Every call appends one or more frames stamped with the current time and moves the clock on
//! by the step (1 ms unless changed). Sequence and acknowledgment numbers are tracked per side:
//!
//! - each side has an ISN (derived from the connection's index, or set with
//!   [`Script::set_isn`]) and a *next sequence number*: a SYN or FIN takes one number, payload
//!   takes its length, and emitting anything beyond the next sequence number moves it there
//!   (so a retransmission below it leaves it alone);
//! - each side also *receives*: a captured segment is delivered to the peer unless it was
//!   marked lost, and the peer's next ACK acknowledges the contiguous bytes it has (an
//!   out-of-order segment is held until the hole is filled, like a real receiver);
//! - escape hatches: [`Segment`] sets any field by hand, [`Script::lose`] makes bytes vanish
//!   before the tap (the receiver never gets them), [`Script::unseen`] makes them bypass the
//!   tap (the receiver gets them, the capture does not).
//!
//! Relative sequence numbers follow Wireshark: `rel_seq(0)` is the SYN, `rel_seq(1)` the first
//! payload byte.
//!
//! The script also keeps the ground truth of what it built ([`Script::truth`]), derived from
//! the frames themselves (see [`crate::truth`]).
//!
//! Scripts are written by test authors, not fed by untrusted input: misuse (an address that
//! does not parse, mixing IPv4 and IPv6 in one connection, a VLAN id above 4095, a payload
//! that does not fit one packet) panics with a message saying what is wrong.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use crate::packet::{
    self, Arp, BROADCAST_MAC, Echo, IpFields, Link, SynOptions, TcpFlags, TcpSegment,
};
use crate::pcap::{PcapWriter, Precision, Timestamp};
use crate::rng::splitmix64;
use crate::truth::{ConnTracker, FrameKind, SummaryCounter, Truth};

pub use crate::Side::{self, Client, Server};

/// FIN flag, for [`Segment::flags`].
pub const FIN: TcpFlags = TcpFlags::FIN;
/// SYN flag.
pub const SYN: TcpFlags = TcpFlags::SYN;
/// RST flag.
pub const RST: TcpFlags = TcpFlags::RST;
/// PSH flag.
pub const PSH: TcpFlags = TcpFlags::PSH;
/// ACK flag.
pub const ACK: TcpFlags = TcpFlags::ACK;
/// URG flag.
pub const URG: TcpFlags = TcpFlags::URG;

/// Where every script's clock starts: 2023-11-14 22:13:20 UTC.
pub const DEFAULT_START: Timestamp = Timestamp::from_unix(1_700_000_000, 0);

/// The default clock step between frames.
pub const DEFAULT_STEP: Duration = Duration::from_millis(1);

/// Default receive window, in bytes.
const DEFAULT_WINDOW: u32 = 64_240;

/// A socket address given as text (`"10.0.0.1:80"`, `"[2001:db8::1]:80"`) or as a value.
pub trait IntoSocketAddr {
    /// The address.
    ///
    /// # Panics
    /// When text does not parse as a socket address.
    fn into_socket_addr(self) -> SocketAddr;
}

impl IntoSocketAddr for SocketAddr {
    fn into_socket_addr(self) -> SocketAddr {
        self
    }
}

impl IntoSocketAddr for &str {
    fn into_socket_addr(self) -> SocketAddr {
        match self.parse() {
            Ok(a) => a,
            Err(_) => panic!(
                "{self:?} is not a socket address (write \"10.0.0.1:80\" or \"[2001:db8::1]:80\")"
            ),
        }
    }
}

impl<I: Into<IpAddr>> IntoSocketAddr for (I, u16) {
    fn into_socket_addr(self) -> SocketAddr {
        SocketAddr::new(self.0.into(), self.1)
    }
}

/// An IP address given as text (`"10.0.0.1"`, `"2001:db8::1"`) or as a value.
pub trait IntoIpAddr {
    /// The address.
    ///
    /// # Panics
    /// When text does not parse as an IP address.
    fn into_ip_addr(self) -> IpAddr;
}

impl IntoIpAddr for &str {
    fn into_ip_addr(self) -> IpAddr {
        match self.parse() {
            Ok(a) => a,
            Err(_) => panic!("{self:?} is not an IP address"),
        }
    }
}

impl IntoIpAddr for IpAddr {
    fn into_ip_addr(self) -> IpAddr {
        self
    }
}

impl IntoIpAddr for Ipv4Addr {
    fn into_ip_addr(self) -> IpAddr {
        IpAddr::V4(self)
    }
}

impl IntoIpAddr for Ipv6Addr {
    fn into_ip_addr(self) -> IpAddr {
        IpAddr::V6(self)
    }
}

fn ipv4(addr: impl IntoIpAddr) -> Ipv4Addr {
    match addr.into_ip_addr() {
        IpAddr::V4(a) => a,
        IpAddr::V6(a) => panic!("ARP is for IPv4 addresses, not {a}"),
    }
}

/// A TCP connection of a script (an index handle).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Conn(usize);

/// One captured frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Capture time.
    pub ts: Timestamp,
    /// The whole frame, from the Ethernet header on.
    pub data: Vec<u8>,
}

/// What one side has received from its peer.
#[derive(Debug, Clone, Default)]
struct Receiver {
    /// Next sequence number expected from the peer, once anything arrived.
    nxt: Option<u32>,
    /// Segments beyond `nxt`, as (start, end) sequence numbers.
    ooo: Vec<(u32, u32)>,
}

/// `a < b` in sequence space.
fn seq_lt(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}

fn seq_le(a: u32, b: u32) -> bool {
    a == b || seq_lt(a, b)
}

impl Receiver {
    fn deliver(&mut self, seq: u32, end: u32) {
        let nxt = match self.nxt {
            None => {
                // First thing heard from the peer: a SYN starts the stream, anything else is
                // taken as in order (a conversation picked up mid-stream).
                self.nxt = Some(end);
                return;
            }
            Some(n) => n,
        };
        if seq_le(seq, nxt) {
            if seq_lt(nxt, end) {
                let mut n = end;
                // Pull in held segments that now connect.
                while let Some(i) = self
                    .ooo
                    .iter()
                    .position(|&(s, e)| seq_le(s, n) && seq_lt(n, e))
                {
                    n = self.ooo.swap_remove(i).1;
                }
                self.ooo.retain(|&(_, e)| seq_lt(n, e));
                self.nxt = Some(n);
            }
        } else if seq != end {
            self.ooo.push((seq, end));
        }
    }
}

#[derive(Debug, Clone)]
struct Peer {
    addr: SocketAddr,
    mac: [u8; 6],
    isn: u32,
    nxt: u32,
    rcv: Receiver,
    window: u32,
    mss: usize,
    wscale: Option<u8>,
    ip_id: u16,
}

#[derive(Debug)]
struct ConnState {
    sides: [Peer; 2],
    flow_label: u32,
    tracker: ConnTracker,
}

impl ConnState {
    /// Window shift in effect for `side`'s advertisements (both SYNs carried a scale).
    fn shift(&self, side: Side) -> u8 {
        match (self.sides[0].wscale, self.sides[1].wscale) {
            (Some(_), Some(_)) => self.sides[side.index()].wscale.unwrap_or(0),
            _ => 0,
        }
    }
}

/// A hand-made capture under construction. See the [module docs](self).
#[derive(Debug)]
pub struct Script {
    clock: Timestamp,
    step: Duration,
    precision: Precision,
    vlan: Option<u16>,
    pad: bool,
    syn_options: SynOptions,
    conns: Vec<ConnState>,
    frames: Vec<Frame>,
    counter: SummaryCounter,
    other_ip_id: u16,
    macs: Vec<(IpAddr, [u8; 6])>,
    buf: Vec<u8>,
}

impl Default for Script {
    fn default() -> Script {
        Script::new()
    }
}

impl Script {
    /// An empty script: Ethernet, no VLAN, clock at [`DEFAULT_START`], 1 ms per frame,
    /// microsecond timestamps, SYNs carrying only an MSS option.
    pub fn new() -> Script {
        Script {
            clock: DEFAULT_START,
            step: DEFAULT_STEP,
            precision: Precision::Micros,
            vlan: None,
            pad: false,
            syn_options: SynOptions::mss(1460),
            conns: Vec::new(),
            frames: Vec::new(),
            counter: SummaryCounter::default(),
            other_ip_id: 0x4000,
            macs: Vec::new(),
            buf: Vec::with_capacity(1600),
        }
    }

    // ----- clock and link settings -------------------------------------------------------

    /// The time the next frame gets.
    pub fn now(&self) -> Timestamp {
        self.clock
    }

    /// Moves the clock to `ts` (backwards too, for captures with time going back).
    pub fn set_time(&mut self, ts: Timestamp) -> &mut Script {
        self.clock = ts;
        self
    }

    /// Moves the clock forward by `d` (idle time).
    pub fn advance(&mut self, d: Duration) -> &mut Script {
        self.clock = self.clock + d;
        self
    }

    /// Sets how far the clock moves after each frame.
    pub fn set_step(&mut self, step: Duration) -> &mut Script {
        self.step = step;
        self
    }

    /// Timestamp precision of the pcap output (and of the truth's timestamps).
    pub fn set_precision(&mut self, precision: Precision) -> &mut Script {
        self.precision = precision;
        self
    }

    /// Tags the following frames with an 802.1Q VLAN id, or stops tagging.
    ///
    /// # Panics
    /// When the id is above 4095.
    pub fn set_vlan(&mut self, vlan: Option<u16>) -> &mut Script {
        if let Some(id) = vlan {
            assert!(id <= 4095, "VLAN id {id} is above 4095");
        }
        self.vlan = vlan;
        self
    }

    /// Pads the following frames to Ethernet's 60-byte minimum, as a NIC does.
    pub fn set_padding(&mut self, pad: bool) -> &mut Script {
        self.pad = pad;
        self
    }

    /// Options carried by the SYN and SYN-ACK of connections handshaking from now on.
    pub fn set_syn_options(&mut self, options: SynOptions) -> &mut Script {
        self.syn_options = options;
        self
    }

    /// Gives frames from and to `ip` the MAC address `mac` instead of the one derived from
    /// the address (for example the gateway's, for hosts beyond it). Applies to connections
    /// created and frames sent from now on.
    pub fn set_mac(&mut self, ip: impl IntoIpAddr, mac: [u8; 6]) -> &mut Script {
        let ip = ip.into_ip_addr();
        self.macs.retain(|(a, _)| *a != ip);
        self.macs.push((ip, mac));
        self
    }

    fn mac(&self, ip: IpAddr) -> [u8; 6] {
        self.macs
            .iter()
            .find(|(a, _)| *a == ip)
            .map_or_else(|| packet::mac_for_ip(ip), |(_, m)| *m)
    }

    // ----- TCP ---------------------------------------------------------------------------

    /// A new TCP connection from `client` to `server`; nothing is sent yet.
    ///
    /// # Panics
    /// When an address does not parse or the two are of different IP versions.
    pub fn tcp(&mut self, client: impl IntoSocketAddr, server: impl IntoSocketAddr) -> Conn {
        let client = client.into_socket_addr();
        let server = server.into_socket_addr();
        assert!(
            client.is_ipv4() == server.is_ipv4(),
            "client {client} and server {server} must both be IPv4 or both IPv6"
        );
        let index = self.conns.len();
        let h = |k: u64| splitmix64(0x5eed_0000_0000 + index as u64 * 4 + k);
        let mss = if client.is_ipv4() { 1460 } else { 1440 };
        let peer = |addr: SocketAddr, k: u64| {
            let isn = (h(k) >> 32) as u32;
            Peer {
                addr,
                mac: self.mac(addr.ip()),
                isn,
                nxt: isn,
                rcv: Receiver::default(),
                window: DEFAULT_WINDOW,
                mss,
                wscale: None,
                ip_id: h(k + 2) as u16,
            }
        };
        self.conns.push(ConnState {
            sides: [peer(client, 0), peer(server, 1)],
            flow_label: (h(3) as u32) & 0xf_ffff,
            tracker: ConnTracker::new(client, server, true),
        });
        Conn(index)
    }

    fn conn(&self, c: Conn) -> &ConnState {
        match self.conns.get(c.0) {
            Some(s) => s,
            None => panic!("connection {c:?} belongs to another script"),
        }
    }

    fn conn_mut(&mut self, c: Conn) -> &mut ConnState {
        match self.conns.get_mut(c.0) {
            Some(s) => s,
            None => panic!("connection {c:?} belongs to another script"),
        }
    }

    /// Sets `side`'s initial sequence number (call before its SYN).
    pub fn set_isn(&mut self, c: Conn, side: Side, isn: u32) -> &mut Script {
        let p = &mut self.conn_mut(c).sides[side.index()];
        p.isn = isn;
        p.nxt = isn;
        self
    }

    /// Sets the receive window `side` advertises, in bytes (scaled down on the wire when
    /// window scaling was negotiated).
    pub fn set_window(&mut self, c: Conn, side: Side, bytes: u32) -> &mut Script {
        self.conn_mut(c).sides[side.index()].window = bytes;
        self
    }

    /// Sets the largest segment [`Script::send`] cuts `side`'s data into.
    pub fn set_mss(&mut self, c: Conn, side: Side, mss: usize) -> &mut Script {
        self.conn_mut(c).sides[side.index()].mss = mss.max(1);
        self
    }

    /// `side`'s initial sequence number.
    pub fn isn(&self, c: Conn, side: Side) -> u32 {
        self.conn(c).sides[side.index()].isn
    }

    /// The sequence number `side` sends next.
    pub fn seq(&self, c: Conn, side: Side) -> u32 {
        self.conn(c).sides[side.index()].nxt
    }

    /// The acknowledgment number `side` sends next (what it has received in order).
    pub fn ack_no(&self, c: Conn, side: Side) -> u32 {
        self.default_ack(c, side)
    }

    fn default_ack(&self, c: Conn, side: Side) -> u32 {
        let st = self.conn(c);
        st.sides[side.index()]
            .rcv
            .nxt
            .unwrap_or(st.sides[side.peer().index()].nxt)
    }

    /// A segment from `side` to fill in by hand; see [`Segment`].
    pub fn segment(&mut self, c: Conn, side: Side) -> Segment<'_> {
        Segment {
            script: self,
            conn: c,
            side,
            seq: None,
            ack: None,
            flags: None,
            window: None,
            urgent: 0,
            payload: Vec::new(),
            lost: false,
            options: None,
        }
    }

    /// The client's SYN.
    pub fn syn(&mut self, c: Conn) -> &mut Script {
        let isn = self.isn(c, Client);
        self.segment(c, Client).seq(isn).flags(SYN).emit()
    }

    /// The server's SYN-ACK.
    pub fn syn_ack(&mut self, c: Conn) -> &mut Script {
        let isn = self.isn(c, Server);
        self.segment(c, Server).seq(isn).flags(SYN | ACK).emit()
    }

    /// The three-way handshake: SYN, SYN-ACK, ACK.
    pub fn handshake(&mut self, c: Conn) -> &mut Script {
        self.syn(c).syn_ack(c).ack(c, Client)
    }

    /// A new connection of which only the client's SYN is ever seen.
    pub fn syn_only(&mut self, client: impl IntoSocketAddr, server: impl IntoSocketAddr) -> Conn {
        let c = self.tcp(client, server);
        self.syn(c);
        c
    }

    /// The server refuses the connection: RST-ACK acknowledging the SYN.
    pub fn refuse(&mut self, c: Conn) -> &mut Script {
        self.segment(c, Server).seq(0).flags(RST | ACK).emit()
    }

    /// `data` from `side`, cut into segments of at most the side's MSS (PSH on the last),
    /// then the peer's ACKs (one per two segments, and one for the last).
    pub fn send(&mut self, c: Conn, side: Side, data: &[u8]) -> &mut Script {
        self.send_segments(c, side, data, true)
    }

    /// Like [`Script::send`] without the peer's ACKs.
    pub fn send_no_ack(&mut self, c: Conn, side: Side, data: &[u8]) -> &mut Script {
        self.send_segments(c, side, data, false)
    }

    fn send_segments(&mut self, c: Conn, side: Side, data: &[u8], acks: bool) -> &mut Script {
        let mss = self.conn(c).sides[side.index()].mss;
        let n = data.chunks(mss).len();
        for (i, chunk) in data.chunks(mss).enumerate() {
            let last = i + 1 == n;
            let flags = if last { ACK | PSH } else { ACK };
            self.segment(c, side).payload(chunk).flags(flags).emit();
            if acks && (i % 2 == 1 || last) {
                self.ack(c, side.peer());
            }
        }
        self
    }

    /// A pure ACK from `side` of everything it received in order.
    pub fn ack(&mut self, c: Conn, side: Side) -> &mut Script {
        self.segment(c, side).flags(ACK).emit()
    }

    /// A FIN-ACK from `side`.
    pub fn fin(&mut self, c: Conn, side: Side) -> &mut Script {
        self.segment(c, side).flags(FIN | ACK).emit()
    }

    /// A RST-ACK from `side`.
    pub fn rst(&mut self, c: Conn, side: Side) -> &mut Script {
        self.segment(c, side).flags(RST | ACK).emit()
    }

    /// The usual close: client FIN, server FIN, client ACK.
    pub fn close(&mut self, c: Conn) -> &mut Script {
        self.fin(c, Client).fin(c, Server).ack(c, Client)
    }

    /// `len` bytes from `side` lost before the tap: the sender's sequence number moves on,
    /// nothing is captured and the peer never gets them (its ACKs stay at the hole).
    pub fn lose(&mut self, c: Conn, side: Side, len: u32) -> &mut Script {
        let p = &mut self.conn_mut(c).sides[side.index()];
        p.nxt = p.nxt.wrapping_add(len);
        self
    }

    /// `len` bytes from `side` that bypass the tap: the peer gets them (and acknowledges
    /// them), the capture does not.
    pub fn unseen(&mut self, c: Conn, side: Side, len: u32) -> &mut Script {
        let st = self.conn_mut(c);
        let seq = st.sides[side.index()].nxt;
        let end = seq.wrapping_add(len);
        st.sides[side.index()].nxt = end;
        st.sides[side.peer().index()].rcv.deliver(seq, end);
        self
    }

    #[allow(clippy::too_many_arguments)] // the fields of a segment, each meaningful here
    fn emit_tcp(
        &mut self,
        c: Conn,
        side: Side,
        seq: u32,
        ack: u32,
        flags: TcpFlags,
        window: Option<u16>,
        urgent: u16,
        payload: &[u8],
        lost: bool,
        options: Option<SynOptions>,
    ) {
        let syn_options = options.unwrap_or(self.syn_options);
        let (vlan, pad, ts) = (self.vlan, self.pad, self.clock);
        let st = match self.conns.get_mut(c.0) {
            Some(s) => s,
            None => panic!("connection {c:?} belongs to another script"),
        };
        let syn = flags.contains(SYN);
        if syn {
            st.sides[side.index()].wscale = syn_options.wscale;
        }
        let shift = if syn { 0 } else { st.shift(side) };
        let me = &st.sides[side.index()];
        let peer = &st.sides[side.peer().index()];
        let window = window.unwrap_or_else(|| (me.window >> shift).min(u32::from(u16::MAX)) as u16);
        let seg = TcpSegment {
            src: me.addr,
            dst: peer.addr,
            seq,
            ack: if flags.contains(ACK) { ack } else { 0 },
            flags,
            window,
            urgent,
            options: syn_options,
            payload,
        };
        let link = Link {
            src: me.mac,
            dst: peer.mac,
            vlan,
            pad,
        };
        let ip = IpFields {
            ttl: 64,
            ident: me.ip_id,
            dont_fragment: true,
            flow_label: st.flow_label,
        };
        if let Err(e) = packet::tcp_frame(&mut self.buf, &link, &ip, &seg) {
            panic!("cannot build the segment: {e}");
        }
        // Sequence space taken: payload plus one for SYN and for FIN.
        let len = payload.len() as u32 + u32::from(syn) + u32::from(flags.contains(FIN));
        let end = seq.wrapping_add(len);
        let me = &mut st.sides[side.index()];
        me.ip_id = me.ip_id.wrapping_add(1);
        if seq_lt(me.nxt, end) {
            me.nxt = end;
        }
        if !lost && len > 0 {
            st.sides[side.peer().index()].rcv.deliver(seq, end);
        }
        st.tracker.on_packet(ts, side, seq, flags, payload);
        self.counter.frame(FrameKind::Tcp);
        self.push_frame();
    }

    fn push_frame(&mut self) {
        self.frames.push(Frame {
            ts: self.clock,
            data: self.buf.clone(),
        });
        self.clock = self.clock + self.step;
    }

    // ----- other protocols ---------------------------------------------------------------

    fn link_between(&self, src: IpAddr, dst: IpAddr) -> Link {
        Link {
            src: self.mac(src),
            dst: self.mac(dst),
            vlan: self.vlan,
            pad: self.pad,
        }
    }

    fn other_ip(&mut self) -> IpFields {
        self.other_ip_id = self.other_ip_id.wrapping_add(1);
        IpFields {
            ident: self.other_ip_id,
            ..IpFields::default()
        }
    }

    /// One UDP datagram.
    ///
    /// # Panics
    /// On unparsable or mixed-version addresses, or a payload over 65,507 bytes.
    pub fn udp(
        &mut self,
        src: impl IntoSocketAddr,
        dst: impl IntoSocketAddr,
        payload: &[u8],
    ) -> &mut Script {
        let (src, dst) = (src.into_socket_addr(), dst.into_socket_addr());
        let link = self.link_between(src.ip(), dst.ip());
        let ip = self.other_ip();
        if let Err(e) = packet::udp_frame(&mut self.buf, &link, &ip, src, dst, payload) {
            panic!("cannot build the datagram {src} -> {dst}: {e}");
        }
        self.counter.frame(FrameKind::Udp);
        self.push_frame();
        self
    }

    fn icmp(&mut self, src: IpAddr, dst: IpAddr, kind: Echo, id: u16, seq: u16, payload: &[u8]) {
        let link = self.link_between(src, dst);
        let ip = self.other_ip();
        if let Err(e) =
            packet::icmp_echo_frame(&mut self.buf, &link, &ip, src, dst, kind, id, seq, payload)
        {
            panic!("cannot build the echo {src} -> {dst}: {e}");
        }
        self.counter.frame(FrameKind::Icmp);
        self.push_frame();
    }

    /// An ICMP (or ICMPv6) echo request.
    pub fn icmp_echo(
        &mut self,
        src: impl IntoIpAddr,
        dst: impl IntoIpAddr,
        id: u16,
        seq: u16,
        payload: &[u8],
    ) -> &mut Script {
        let (s, d) = (src.into_ip_addr(), dst.into_ip_addr());
        self.icmp(s, d, Echo::Request, id, seq, payload);
        self
    }

    /// An ICMP (or ICMPv6) echo reply.
    pub fn icmp_echo_reply(
        &mut self,
        src: impl IntoIpAddr,
        dst: impl IntoIpAddr,
        id: u16,
        seq: u16,
        payload: &[u8],
    ) -> &mut Script {
        let (s, d) = (src.into_ip_addr(), dst.into_ip_addr());
        self.icmp(s, d, Echo::Reply, id, seq, payload);
        self
    }

    /// An ARP request from `sender` asking for `target`, broadcast.
    ///
    /// # Panics
    /// On addresses that do not parse or are not IPv4.
    pub fn arp(&mut self, sender: impl IntoIpAddr, target: impl IntoIpAddr) -> &mut Script {
        let (sender, target) = (ipv4(sender), ipv4(target));
        let mac = self.mac(IpAddr::V4(sender));
        let link = Link {
            src: mac,
            dst: BROADCAST_MAC,
            vlan: self.vlan,
            pad: self.pad,
        };
        self.arp_frame(&link, Arp::Request, (mac, sender), ([0; 6], target))
    }

    /// The ARP reply from `sender` (its MAC is derived from its IP) to `target`.
    ///
    /// # Panics
    /// On addresses that do not parse or are not IPv4.
    pub fn arp_reply(&mut self, sender: impl IntoIpAddr, target: impl IntoIpAddr) -> &mut Script {
        let (sender, target) = (ipv4(sender), ipv4(target));
        let link = self.link_between(IpAddr::V4(sender), IpAddr::V4(target));
        self.arp_frame(&link, Arp::Reply, (link.src, sender), (link.dst, target))
    }

    fn arp_frame(
        &mut self,
        link: &Link,
        kind: Arp,
        sender: ([u8; 6], Ipv4Addr),
        target: ([u8; 6], Ipv4Addr),
    ) -> &mut Script {
        if let Err(e) = packet::arp_frame(&mut self.buf, link, kind, sender, target) {
            panic!("cannot build the ARP frame: {e}");
        }
        self.counter.frame(FrameKind::Other);
        self.push_frame();
        self
    }

    /// Any bytes as one frame (malformed packets, other protocols). The truth counts it as an
    /// "other" packet and an orphan; with `malformed`, also as an error.
    pub fn raw(&mut self, frame: &[u8], malformed: bool) -> &mut Script {
        self.buf.clear();
        self.buf.extend_from_slice(frame);
        self.counter.frame(FrameKind::Other);
        if malformed {
            self.counter.error();
        }
        self.push_frame();
        self
    }

    // ----- output ------------------------------------------------------------------------

    /// The frames so far.
    pub fn frames(&self) -> &[Frame] {
        &self.frames
    }

    /// Writes the capture into `out`.
    pub fn write_pcap_to<W: Write>(&self, out: W) -> io::Result<W> {
        let mut w = PcapWriter::new(out, self.precision)?;
        for f in &self.frames {
            w.write_packet(f.ts, &f.data)?;
        }
        Ok(w.into_inner())
    }

    /// The capture as pcap bytes.
    pub fn to_pcap(&self) -> Vec<u8> {
        // Writing to a Vec fails only on a frame the format cannot hold, which a script
        // cannot make (timestamps before 2106, frames under 64 KiB).
        self.write_pcap_to(Vec::new()).unwrap_or_default()
    }

    /// Writes the capture to a file.
    pub fn write_pcap(&self, path: impl AsRef<Path>) -> io::Result<()> {
        let out = BufWriter::new(File::create(path)?);
        self.write_pcap_to(out)?.flush()
    }

    /// Writes [`Script::truth`] as JSON lines to a file.
    pub fn write_truth(&self, path: impl AsRef<Path>) -> Result<(), crate::Error> {
        let mut out = BufWriter::new(File::create(path)?);
        self.truth().write_json_lines(&mut out)?;
        out.flush()?;
        Ok(())
    }

    /// The ground truth of the capture so far: connection lines ordered by the moment they
    /// ended (RST, second FIN; still-open connections last, in creation order).
    pub fn truth(&self) -> Truth {
        let mut counter = self.counter;
        let mut lines = Vec::new();
        for (i, st) in self.conns.iter().enumerate() {
            counter.add_connection(&st.tracker);
            if let Some(line) = st.tracker.truth(self.precision) {
                let ended = st
                    .tracker
                    .ended_at()
                    .map_or(u64::MAX, Timestamp::unix_nanos);
                lines.push((ended, i, line));
            }
        }
        lines.sort_by_key(|&(ended, i, _)| (ended, i));
        Truth {
            connections: lines.into_iter().map(|(_, _, l)| l).collect(),
            summary: counter.summary(),
        }
    }
}

/// A TCP segment being filled in; nothing is sent until [`Segment::emit`].
///
/// Defaults: the sender's next sequence number, an ACK of what the sender has received in
/// order, flags `ACK` (`ACK|PSH` with a payload), the sender's window, no payload.
#[derive(Debug)]
#[must_use = "a segment is only sent by emit()"]
pub struct Segment<'s> {
    script: &'s mut Script,
    conn: Conn,
    side: Side,
    seq: Option<u32>,
    ack: Option<u32>,
    flags: Option<TcpFlags>,
    window: Option<u16>,
    urgent: u16,
    payload: Vec<u8>,
    lost: bool,
    options: Option<SynOptions>,
}

impl<'s> Segment<'s> {
    /// Absolute sequence number.
    pub fn seq(mut self, seq: u32) -> Self {
        self.seq = Some(seq);
        self
    }

    /// Sequence number relative to the sender's ISN (Wireshark's: 1 is the first data byte).
    pub fn rel_seq(mut self, rel: u32) -> Self {
        self.seq = Some(self.script.isn(self.conn, self.side).wrapping_add(rel));
        self
    }

    /// Absolute acknowledgment number.
    pub fn ack(mut self, ack: u32) -> Self {
        self.ack = Some(ack);
        self
    }

    /// Acknowledgment number relative to the peer's ISN (1 acknowledges its SYN).
    pub fn rel_ack(mut self, rel: u32) -> Self {
        let peer = self.side.peer();
        self.ack = Some(self.script.isn(self.conn, peer).wrapping_add(rel));
        self
    }

    /// Flags, replacing the default.
    pub fn flags(mut self, flags: TcpFlags) -> Self {
        self.flags = Some(flags);
        self
    }

    /// Raw window field.
    pub fn window(mut self, window: u16) -> Self {
        self.window = Some(window);
        self
    }

    /// Urgent pointer (set [`URG`] in the flags too).
    pub fn urgent(mut self, urgent: u16) -> Self {
        self.urgent = urgent;
        self
    }

    /// Payload.
    pub fn payload(mut self, payload: &[u8]) -> Self {
        self.payload.clear();
        self.payload.extend_from_slice(payload);
        self
    }

    /// Options for a SYN segment, replacing the script's.
    pub fn syn_options(mut self, options: SynOptions) -> Self {
        self.options = Some(options);
        self
    }

    /// Captured but lost after the tap: the peer does not receive it.
    pub fn lost(mut self) -> Self {
        self.lost = true;
        self
    }

    /// Sends the segment and returns the script.
    pub fn emit(self) -> &'s mut Script {
        let Segment {
            script,
            conn,
            side,
            seq,
            ack,
            flags,
            window,
            urgent,
            payload,
            lost,
            options,
        } = self;
        let seq = seq.unwrap_or_else(|| script.seq(conn, side));
        let ack = ack.unwrap_or_else(|| script.default_ack(conn, side));
        let flags = flags.unwrap_or(if payload.is_empty() { ACK } else { ACK | PSH });
        script.emit_tcp(
            conn, side, seq, ack, flags, window, urgent, &payload, lost, options,
        );
        script
    }
}

#[cfg(test)]
mod tests;
