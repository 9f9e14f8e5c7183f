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
#[derive(Debug)]
pub struct SideState {
    /// The emulated TCP stack.
    pub tcp: Endpoint,
    /// Receive buffer: the peer's bytes, reassembled.
    pub stream: StreamBuf,
    /// Reassembly on for this side (`set_buffering`).
    pub buffering: bool,
    /// Events and state tracking on for this side (`stop_monitoring` turns it off).
    pub monitoring: bool,
    /// In-order offset reached when buffering is off (bytes are counted, not kept).
    pub unbuffered_next: u64,
    /// What this endpoint sent.
    pub sent: SentStats,
    /// A new in-order byte arrived since the last `ON_CONN_NEW_DATA` for this side.
    pub new_data_pending: bool,
    /// Unread bytes a filter or handler asked to keep past the next `ON_CONN_NEW_DATA`.
    pub keep_unread: Cell<u32>,
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
}

/// A tracked TCP connection.
#[derive(Debug)]
pub struct Conn {
    /// The endpoint that sent the first SYN.
    pub client: SocketAddr,
    /// The endpoint the SYN went to.
    pub server: SocketAddr,
    /// Whether the client is the flow key's lower endpoint (to turn key order into a [`Dir`]).
    pub client_is_lower: bool,
    /// Time of the SYN.
    pub start: Timestamp,
    /// Time of the last packet.
    pub last_seen: Timestamp,
    /// `[client, server]`.
    pub sides: [SideState; 2],
    /// The server answered with a SYN-ACK.
    pub synack: bool,
    /// Why it ended, once it did.
    pub end_reason: Option<EndReason>,
    /// The app's timer, if armed.
    pub user_timer: Option<TimerHandle>,
    /// The idle-timeout timer.
    pub idle_timer: Option<TimerHandle>,
    /// Position in the batch's pending `ON_CONN_NEW_DATA` list (avoids duplicates).
    pub in_new_data_list: bool,
    /// The side that got new bytes first in the current batch (delivered first).
    pub new_data_first: Option<Side>,
}

impl Conn {
    /// A connection started by a SYN from `client` to `server`.
    pub fn new(
        client: SocketAddr,
        server: SocketAddr,
        client_is_lower: bool,
        now: Timestamp,
        max_holes: usize,
        policy: OverlapPolicy,
        buffering: bool,
    ) -> Conn {
        Conn {
            client,
            server,
            client_is_lower,
            start: now,
            last_seen: now,
            sides: [
                SideState::new(TcpState::Closed, max_holes, policy, buffering),
                SideState::new(TcpState::Listen, max_holes, policy, buffering),
            ],
            synack: false,
            end_reason: None,
            user_timer: None,
            idle_timer: None,
            in_new_data_list: false,
            new_data_first: None,
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
