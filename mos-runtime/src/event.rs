//! The vocabulary of the event model: built-in events, hooks, sides, directions, and the
//! payloads some events carry (error kind, orphan reason, end reason).
//!
//! A TCP connection has two emulated endpoints. [`Side::Client`] is the client's stack and
//! [`Side::Server`] the server's; each has its own TCP state and its own receive buffer. The
//! *server* side's buffer therefore holds the bytes the *client* sent. A hook reports the view of
//! one side: `SND` the side that sent the packet, `RCV` the side that receives it. The way the
//! packet travels is given separately by [`Dir`], so a handler never has to infer it.

use std::fmt;

/// A built-in event (SPEC §2). The prelude exports them as `ON_*` constants.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
#[repr(u8)]
pub enum Event {
    /// Every packet of a tracked flow (`SND`, `RCV`); at `NULL` every packet with no flow.
    PktIn = 0,
    /// A connection begins (`SND`: client side on the SYN; `RCV`: server side).
    ConnStart = 1,
    /// The emulated TCP state of the hook's side changed.
    TcpStateChange = 2,
    /// The receiving side saw a retransmission.
    Rexmit = 3,
    /// New in-order bytes reached a side's receive buffer (once per side per batch).
    ConnNewData = 4,
    /// The connection is destroyed; once per side at each of `SND` and `RCV`.
    ConnEnd = 5,
    /// A packet outside any tracked flow, with an [`OrphanReason`].
    Orphan = 6,
    /// An anomaly, with an [`ErrorKind`].
    Error = 7,
    /// A timer armed with `cx.set_timer` expired.
    Timeout = 8,
}

impl Event {
    /// All built-in events, in dispatch order.
    pub const ALL: [Event; 9] = [
        Event::PktIn,
        Event::ConnStart,
        Event::TcpStateChange,
        Event::Rexmit,
        Event::ConnNewData,
        Event::ConnEnd,
        Event::Orphan,
        Event::Error,
        Event::Timeout,
    ];

    /// The name users write (`ON_PKT_IN`, ...).
    pub const fn name(self) -> &'static str {
        match self {
            Event::PktIn => "ON_PKT_IN",
            Event::ConnStart => "ON_CONN_START",
            Event::TcpStateChange => "ON_TCP_STATE_CHANGE",
            Event::Rexmit => "ON_REXMIT",
            Event::ConnNewData => "ON_CONN_NEW_DATA",
            Event::ConnEnd => "ON_CONN_END",
            Event::Orphan => "ON_ORPHAN",
            Event::Error => "ON_ERROR",
            Event::Timeout => "ON_TIMEOUT",
        }
    }

    /// The hooks this event is raised at.
    pub const fn hooks(self) -> &'static [Hook] {
        match self {
            Event::PktIn => &[Hook::Snd, Hook::Rcv, Hook::Null],
            Event::ConnStart | Event::TcpStateChange | Event::ConnEnd => &[Hook::Snd, Hook::Rcv],
            Event::Rexmit | Event::ConnNewData => &[Hook::Rcv],
            Event::Orphan | Event::Timeout => &[Hook::Null],
            Event::Error => &[Hook::Rcv, Hook::Null],
        }
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where in the per-packet pipeline handlers run.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Hook {
    /// Right after the sender side's state was updated.
    Snd,
    /// Right after the receiver side's state and buffer were updated.
    Rcv,
    /// No stream context (orphans, flow-less errors, timers).
    Null,
}

impl Hook {
    /// The name users write (`SND`, `RCV`, `NULL`).
    pub const fn name(self) -> &'static str {
        match self {
            Hook::Snd => "SND",
            Hook::Rcv => "RCV",
            Hook::Null => "NULL",
        }
    }
}

impl fmt::Display for Hook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One endpoint of a connection, as emulated by the runtime.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Side {
    /// The endpoint that sent the first SYN.
    Client,
    /// The endpoint the SYN was sent to.
    Server,
}

impl Side {
    /// The other endpoint.
    pub const fn peer(self) -> Side {
        match self {
            Side::Client => Side::Server,
            Side::Server => Side::Client,
        }
    }

    /// The side that *sends* packets travelling in `dir`.
    pub const fn sender_of(dir: Dir) -> Side {
        match dir {
            Dir::ClientToServer => Side::Client,
            Dir::ServerToClient => Side::Server,
        }
    }

    /// `0` for the client, `1` for the server (array index).
    pub const fn index(self) -> usize {
        match self {
            Side::Client => 0,
            Side::Server => 1,
        }
    }

    /// Lower-case name (`client`/`server`).
    pub const fn name(self) -> &'static str {
        match self {
            Side::Client => "client",
            Side::Server => "server",
        }
    }
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The way a packet travels.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Dir {
    /// From the client to the server.
    ClientToServer,
    /// From the server to the client.
    ServerToClient,
}

impl Dir {
    /// The opposite direction.
    pub const fn reverse(self) -> Dir {
        match self {
            Dir::ClientToServer => Dir::ServerToClient,
            Dir::ServerToClient => Dir::ClientToServer,
        }
    }
}

/// What went wrong, carried by `ON_ERROR`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum ErrorKind {
    /// A frame that could not be parsed (truncated or inconsistent headers).
    Malformed,
    /// An IP, TCP or UDP checksum did not verify (only when verification is on).
    BadChecksum,
    /// Unread reassembled data is about to be overwritten (raised before it happens).
    BufferFull,
    /// A segment ends beyond what the receive buffer can hold; its data was not stored.
    OutOfWindow,
    /// Overlapping bytes of a retransmission differ from the bytes already received.
    OverlapConflict,
    /// Too many out-of-order holes on one side; the segment's data was not stored.
    TooManyHoles,
    /// The flow table is full and no idle flow could be evicted.
    FlowTableFull,
    /// No reassembly buffer was left in the pool for a side that needs one.
    NoBuffer,
}

impl ErrorKind {
    /// Every kind, in report order.
    pub const ALL: [ErrorKind; 8] = [
        ErrorKind::Malformed,
        ErrorKind::BadChecksum,
        ErrorKind::BufferFull,
        ErrorKind::OutOfWindow,
        ErrorKind::OverlapConflict,
        ErrorKind::TooManyHoles,
        ErrorKind::FlowTableFull,
        ErrorKind::NoBuffer,
    ];

    /// Snake-case name used in reports and JSON.
    pub const fn name(self) -> &'static str {
        match self {
            ErrorKind::Malformed => "malformed",
            ErrorKind::BadChecksum => "bad_checksum",
            ErrorKind::BufferFull => "buffer_full",
            ErrorKind::OutOfWindow => "out_of_window",
            ErrorKind::OverlapConflict => "overlap_conflict",
            ErrorKind::TooManyHoles => "too_many_holes",
            ErrorKind::FlowTableFull => "flow_table_full",
            ErrorKind::NoBuffer => "no_buffer",
        }
    }

    /// Position in [`ErrorKind::ALL`].
    pub const fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a packet is an orphan, carried by `ON_ORPHAN`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum OrphanReason {
    /// Not an IP packet (ARP, LLDP, ...).
    NonIp,
    /// IP but not TCP (UDP, ICMP, ...).
    NonTcp,
    /// An IP fragment (fragments are not reassembled).
    Fragment,
    /// TCP with no tracked connection and not a pure SYN (handshake not seen, or the
    /// connection already ended or stopped being monitored).
    NoConnection,
    /// A SYN outside the app's `scope`.
    OutOfScope,
    /// A SYN that found the flow table full with nothing to evict.
    TableFull,
}

impl OrphanReason {
    /// Every reason, in report order.
    pub const ALL: [OrphanReason; 6] = [
        OrphanReason::NonIp,
        OrphanReason::NonTcp,
        OrphanReason::Fragment,
        OrphanReason::NoConnection,
        OrphanReason::OutOfScope,
        OrphanReason::TableFull,
    ];

    /// Snake-case name used in reports and JSON.
    pub const fn name(self) -> &'static str {
        match self {
            OrphanReason::NonIp => "non_ip",
            OrphanReason::NonTcp => "non_tcp",
            OrphanReason::Fragment => "fragment",
            OrphanReason::NoConnection => "no_connection",
            OrphanReason::OutOfScope => "out_of_scope",
            OrphanReason::TableFull => "table_full",
        }
    }

    /// Position in [`OrphanReason::ALL`].
    pub const fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for OrphanReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a connection ended, readable in `ON_CONN_END` handlers (mOS does not expose it).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum EndReason {
    /// Both sides closed with FIN.
    Fin,
    /// A RST closed it.
    Rst,
    /// No packet for the idle timeout.
    Timeout,
    /// Evicted to make room in a full flow table.
    Evicted,
    /// Monitoring was stopped on both sides.
    Stopped,
    /// The input ended with the connection still open.
    TraceEnd,
}

impl EndReason {
    /// Every reason, in report order.
    pub const ALL: [EndReason; 6] = [
        EndReason::Fin,
        EndReason::Rst,
        EndReason::Timeout,
        EndReason::Evicted,
        EndReason::Stopped,
        EndReason::TraceEnd,
    ];

    /// The name used by `flowdump` (`fin`, `rst`, ...).
    pub const fn name(self) -> &'static str {
        match self {
            EndReason::Fin => "fin",
            EndReason::Rst => "rst",
            EndReason::Timeout => "timeout",
            EndReason::Evicted => "evicted",
            EndReason::Stopped => "stopped",
            EndReason::TraceEnd => "trace_end",
        }
    }

    /// Position in [`EndReason::ALL`].
    pub const fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for EndReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
