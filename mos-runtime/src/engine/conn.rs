//! The per-connection record the engine keeps in its flow table (independent of the app: the
//! app's flow state lives in a parallel array indexed by the flow handle).

use std::cell::Cell;
use std::net::SocketAddr;

use crate::event::{Dir, EndReason, Side};
use crate::flow::timer::TimerHandle;
use crate::stream::{OverlapPolicy, StreamBuf};
use crate::tcp::{Endpoint, TcpState};
use crate::time::Timestamp;

/// What was seen of the packets one endpoint *sent* (flowdump's `*_client`/`*_server` fields).
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct SentStats {
    /// Packets sent.
    pub packets: u64,
    /// Payload bytes on the wire, retransmissions included.
    pub payload_bytes: u64,
    /// Distinct in-order bytes that reached the peer's reassembled stream.
    pub stream_bytes: u64,
    /// Retransmission events for data (or SYN/FIN) this endpoint sent.
    pub rexmits: u64,
    /// Bytes this endpoint sent that were never seen (holes skipped after the peer's ACK).
    pub missed_bytes: u64,
    /// This endpoint sent a FIN.
    pub fin: bool,
    /// This endpoint sent a RST.
    pub rst: bool,
}

/// One endpoint: its emulated stack and its receive buffer (bytes the *peer* sent).
///
/// `repr(C)`: the stack, the counters and the flags every segment updates come first, then
/// the buffer, whose own hot fields lead it (see [`Conn::prefetch`]).
#[derive(Debug)]
#[repr(C)]
pub struct SideState {
    /// The emulated TCP stack.
    pub tcp: Endpoint,
    /// Reassembly on for this side (`set_buffering`).
    pub buffering: bool,
    /// Events and state tracking on for this side (`stop_monitoring` turns it off).
    pub monitoring: bool,
    /// A new in-order byte arrived since the last `ON_CONN_NEW_DATA` for this side.
    pub new_data_pending: bool,
    /// Unread bytes a filter or handler asked to keep past the next `ON_CONN_NEW_DATA`.
    pub keep_unread: Cell<u32>,
    /// What this endpoint sent.
    pub sent: SentStats,
    /// In-order offset reached when buffering is off (bytes are counted, not kept).
    pub unbuffered_next: u64,
    /// Receive buffer: the peer's bytes, reassembled.
    pub stream: StreamBuf,
}

impl SideState {
    fn new(initial: TcpState, max_holes: usize, policy: OverlapPolicy, buffering: bool) -> Self {
        SideState {
            tcp: Endpoint::new(initial),
            stream: StreamBuf::new(max_holes, policy),
            buffering,
            monitoring: true,
            unbuffered_next: 0,
            sent: SentStats::default(),
            new_data_pending: false,
            keep_unread: Cell::new(0),
        }
    }

    /// [`SideState::new`] in place (see [`Conn::restart`]).
    fn restart(&mut self, initial: TcpState, max_holes: usize, policy: OverlapPolicy, on: bool) {
        self.tcp = Endpoint::new(initial);
        self.stream.restart(max_holes, policy);
        self.buffering = on;
        self.monitoring = true;
        self.unbuffered_next = 0;
        self.sent = SentStats::default();
        self.new_data_pending = false;
        self.keep_unread.set(0);
    }
}

/// A tracked TCP connection.
///
/// `repr(C)`, hot fields first: the first cache line holds what every packet reads besides
/// the two sides (see [`Conn::prefetch`]); the addresses, read by handlers and reports only,
/// come last.
#[derive(Debug)]
#[repr(C)]
pub struct Conn {
    /// Time of the last packet.
    pub last_seen: Timestamp,
    /// Time of the SYN.
    pub start: Timestamp,
    /// The app's timer, if armed.
    pub user_timer: Option<TimerHandle>,
    /// The idle-timeout timer.
    pub idle_timer: Option<TimerHandle>,
    /// Whether the client is the flow key's lower endpoint (to turn key order into a [`Dir`]).
    pub client_is_lower: bool,
    /// The server answered with a SYN-ACK.
    pub synack: bool,
    /// Position in the batch's pending `ON_CONN_NEW_DATA` list (avoids duplicates).
    pub in_new_data_list: bool,
    /// The side that got new bytes first in the current batch (delivered first).
    pub new_data_first: Option<Side>,
    /// Why it ended, once it did.
    pub end_reason: Option<EndReason>,
    /// `[client, server]`.
    pub sides: [SideState; 2],
    /// The endpoint that sent the first SYN.
    pub client: SocketAddr,
    /// The endpoint the SYN went to.
    pub server: SocketAddr,
}

impl Default for Conn {
    /// The placeholder a free flow-table slot holds (never seen by an app). A connection is
    /// made from it, and from a removed one, by [`Conn::restart`].
    fn default() -> Conn {
        let nowhere = SocketAddr::from(([0, 0, 0, 0], 0));
        let side = |initial| SideState::new(initial, 0, OverlapPolicy::default(), false);
        Conn {
            last_seen: Timestamp::ZERO,
            start: Timestamp::ZERO,
            user_timer: None,
            idle_timer: None,
            client_is_lower: true,
            synack: false,
            in_new_data_list: false,
            new_data_first: None,
            end_reason: None,
            sides: [side(TcpState::Closed), side(TcpState::Listen)],
            client: nowhere,
            server: nowhere,
        }
    }
}

impl Conn {
    /// Makes this record a connection started by a SYN from `client` to `server`, in place: a
    /// new connection in a free flow-table slot. Writes the fields, not the whole record (the buffers' hole tables stay
    /// as they are, dead), which matters when connections come and go by the hundred thousand.
    /// The old connection's buffers must have been released.
    #[allow(clippy::too_many_arguments)] // a connection's starting facts and settings
    pub fn restart(
        &mut self,
        client: SocketAddr,
        server: SocketAddr,
        client_is_lower: bool,
        now: Timestamp,
        max_holes: usize,
        policy: OverlapPolicy,
        buffering: bool,
    ) {
        self.last_seen = now;
        self.start = now;
        self.user_timer = None;
        self.idle_timer = None;
        self.client_is_lower = client_is_lower;
        self.synack = false;
        self.in_new_data_list = false;
        self.new_data_first = None;
        self.end_reason = None;
        let [client_side, server_side] = &mut self.sides;
        client_side.restart(TcpState::Closed, max_holes, policy, buffering);
        server_side.restart(TcpState::Listen, max_holes, policy, buffering);
        self.client = client;
        self.server = server;
    }

    /// Asks for the cache lines a packet of this connection reads: the header, and each
    /// side's stack, counters and buffer fields (see [`crate::prefetch`]).
    #[inline(always)]
    pub(crate) fn prefetch(&self) {
        crate::prefetch::line(self);
        for side in &self.sides {
            crate::prefetch::line(&side.tcp);
            crate::prefetch::line(&side.sent);
            side.stream.prefetch();
        }
    }

    /// Asks for the region lines where each side's next in-order bytes go (read the record
    /// first: this needs its buffer fields).
    #[inline(always)]
    pub(crate) fn prefetch_buffers(&self, pool: &crate::stream::BufferPool) {
        for side in &self.sides {
            side.stream.prefetch_write_position(pool);
        }
    }

    /// The direction of a packet whose flow-key lookup reported `swapped`.
    pub fn dir_of(&self, packet_src_is_lower: bool) -> Dir {
        if packet_src_is_lower == self.client_is_lower {
            Dir::ClientToServer
        } else {
            Dir::ServerToClient
        }
    }

    /// One side.
    pub fn side(&self, side: Side) -> &SideState {
        &self.sides[side.index()]
    }

    /// One side, mutably.
    pub fn side_mut(&mut self, side: Side) -> &mut SideState {
        &mut self.sides[side.index()]
    }

    /// Both endpoints are done, or neither is monitored any more.
    pub fn finished(&self) -> bool {
        let closed = self.sides.iter().all(|s| s.tcp.state.is_closed());
        let stopped = self.sides.iter().all(|s| !s.monitoring);
        closed || stopped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Everything of a record that the engine reads (the hole tables behind the counts are
    /// dead when their counts are zero, so they are left out).
    fn live(conn: &Conn) -> String {
        let sides: Vec<String> = conn
            .sides
            .iter()
            .map(|s| {
                let b = &s.stream;
                format!(
                    "{:?} {} {} {} {} {:?} {} | {} {} {} {} {} {} {} {} {:?} {}",
                    s.tcp,
                    s.buffering,
                    s.monitoring,
                    s.new_data_pending,
                    s.keep_unread.get(),
                    s.sent,
                    s.unbuffered_next,
                    b.has_region(),
                    b.base(),
                    b.read_offset(),
                    b.contig_end(),
                    b.missed(),
                    b.lost_unread(),
                    b.fragments().count(),
                    b.gaps().count(),
                    b.policy(),
                    b.max_holes(),
                )
            })
            .collect();
        format!(
            "{:?} {:?} {:?} {:?} {} {} {} {:?} {:?} {:?} {} {} {sides:?}",
            conn.last_seen,
            conn.start,
            conn.user_timer.is_some(),
            conn.idle_timer.is_some(),
            conn.client_is_lower,
            conn.synack,
            conn.in_new_data_list,
            conn.new_data_first,
            conn.end_reason,
            conn.sides[0].tcp.state,
            conn.client,
            conn.server,
        )
    }

    #[test]
    fn restart_makes_a_used_record_what_it_makes_a_fresh_one() {
        let client = SocketAddr::from(([192, 0, 2, 1], 40000));
        let server = SocketAddr::from(([198, 51, 100, 7], 80));
        let start = |conn: &mut Conn| {
            conn.restart(
                client,
                server,
                false,
                Timestamp(7_000),
                4,
                OverlapPolicy::default(),
                true,
            );
        };
        let mut fresh = Conn::default();
        start(&mut fresh);

        // A record an ended connection left behind, every field the engine writes changed.
        let mut used = Conn::default();
        start(&mut used);
        used.last_seen = Timestamp(99_000);
        used.synack = true;
        used.in_new_data_list = true;
        used.new_data_first = Some(Side::Server);
        used.end_reason = Some(EndReason::Rst);
        used.client = server;
        for side in &mut used.sides {
            side.tcp = Endpoint::new(TcpState::Established);
            side.buffering = false;
            side.monitoring = false;
            side.new_data_pending = true;
            side.keep_unread.set(12);
            side.sent.packets = 5;
            side.sent.fin = true;
            side.unbuffered_next = 300;
            side.stream.skip_to(1_000);
        }
        assert_ne!(live(&used), live(&fresh));
        start(&mut used);
        assert_eq!(live(&used), live(&fresh));
    }
}
