//! What handlers and filters see: [`Cx`] (flow events), [`FilterCx`] (the shared view a UDE
//! filter gets), [`PacketCx`] (events without a flow: `ON_ORPHAN`, `ON_ERROR` at `NULL`,
//! `ON_PKT_IN` at `NULL`).
//!
//! A context is built on the stack for one dispatch and borrows the engine's state; nothing is
//! allocated. `Cx` dereferences to `FilterCx`, so everything a filter may read a handler may
//! read too, and a filter receives `&FilterCx` — shared access only — which is why filters are
//! pure: they cannot change flow state, buffers or verdicts. The one exception is
//! [`FilterCx::keep_unread`], a hint a message parser gives from its filter when it saw only
//! the beginning of a message (see below).
//!
//! # Sides and buffers
//! A side's *receive buffer* holds the bytes its peer sent: `peek(Side::Server)` reads what the
//! client sent. In an `ON_CONN_NEW_DATA` handler `cx.side()` is the side that received the new
//! bytes, so `cx.peek(cx.side())` is always "the new data". Counters of what an endpoint sent
//! are read with [`FilterCx::sent_by`].
//!
//! # Consuming
//! Bytes stay unread until consumed. After each `ON_CONN_NEW_DATA` dispatch of a side, the
//! runtime consumes what is unread except the last `n` bytes some filter or handler asked to
//! keep with `keep_unread(side, n)` (a request split across segments is then seen whole next
//! time). An app without any `ON_CONN_NEW_DATA` handler never keeps data: its buffers are
//! consumed after each packet, so they never fill.

use std::net::SocketAddr;
use std::ops::Deref;
use std::time::Duration;

use crate::app::{HandlerId, HandlerSet};
use crate::engine::conn::{Conn, SentStats};
use crate::event::{Dir, EndReason, ErrorKind, Event, Hook, OrphanReason, Side};
use crate::flow::FlowId;
use crate::flow::timer::TimerWheel;
use crate::stream::BufferPool;
use crate::tcp::TcpState;
use crate::time::Timestamp;
use crate::wire::{Packet, PacketMeta, PacketMut};

/// The current packet as a context holds it.
#[derive(Debug)]
pub(crate) enum PacketSlot<'a> {
    /// No packet (`ON_CONN_NEW_DATA`, `ON_CONN_END`, `ON_TIMEOUT`).
    None,
    /// Passive mode: read-only.
    Shared {
        meta: &'a PacketMeta,
        data: &'a [u8],
    },
    /// Inline mode: handlers may rewrite it.
    Owned {
        meta: &'a mut PacketMeta,
        data: &'a mut [u8],
    },
    /// A frame that did not parse (`ON_ERROR(Malformed)` at `NULL`).
    Raw { data: &'a [u8] },
}

impl PacketSlot<'_> {
    fn packet(&self) -> Option<Packet<'_>> {
        match self {
            PacketSlot::Shared { meta, data } => Some(Packet::new(meta, data)),
            PacketSlot::Owned { meta, data } => Some(Packet::new(meta, data)),
            PacketSlot::None | PacketSlot::Raw { .. } => None,
        }
    }

    fn packet_mut(&mut self) -> Option<PacketMut<'_>> {
        match self {
            PacketSlot::Owned { meta, data } => Some(PacketMut::new(meta, data)),
            _ => None,
        }
    }

    fn frame(&self) -> Option<&[u8]> {
        match self {
            PacketSlot::Shared { data, .. } | PacketSlot::Raw { data } => Some(data),
            PacketSlot::Owned { data, .. } => Some(data),
            PacketSlot::None => None,
        }
    }
}

/// Why a timer exists (the wheel's payload).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum TimerKind {
    /// The app's `set_timer`.
    User,
    /// The idle timeout.
    Idle,
}

/// The wheel's payload: which flow, which timer.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct TimerEntry {
    pub flow: FlowId,
    pub kind: TimerKind,
}

/// Per-dispatch facts and the engine state a flow context borrows (not generic, so several
/// apps can share it).
#[derive(Debug)]
pub(crate) struct FlowEnv<'a> {
    pub conn: &'a mut Conn,
    pub flow_id: FlowId,
    pub pool: &'a mut BufferPool,
    pub timers: &'a mut TimerWheel<TimerEntry>,
    pub handler_calls: &'a mut [u64],
    pub packet: PacketSlot<'a>,
    pub drop: &'a mut bool,
    pub event: Event,
    pub hook: Hook,
    pub side: Side,
    pub dir: Dir,
    pub error: Option<ErrorKind>,
    pub now: Timestamp,
    pub inline: bool,
}

/// The read-only view of a flow context; what a UDE filter receives.
#[derive(Debug)]
pub struct FilterCx<'a, F, C = ()> {
    pub(crate) flow: &'a mut F,
    pub(crate) core: &'a mut C,
    pub(crate) enabled: &'a mut HandlerSet,
    pub(crate) handler_base: u32,
    pub(crate) env: FlowEnv<'a>,
}

/// A handler's context for flow events (everything but `ON_ORPHAN` and `NULL`-hook errors).
#[derive(Debug)]
pub struct Cx<'a, F, C = ()>(pub(crate) FilterCx<'a, F, C>);

impl<'a, F, C> Deref for Cx<'a, F, C> {
    type Target = FilterCx<'a, F, C>;
    #[inline(always)]
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl<'a, F, C> FilterCx<'a, F, C> {
    /// The flow state (`#[flow_state]`).
    #[inline(always)]
    pub fn flow(&self) -> &F {
        self.flow
    }

    /// The worker's app-wide state (`#[core_state]`).
    #[inline(always)]
    pub fn core(&self) -> &C {
        self.core
    }

    /// The event being dispatched (the built-in root for user-defined events).
    pub fn event(&self) -> Event {
        self.env.event
    }

    /// The hook being dispatched.
    pub fn hook(&self) -> Hook {
        self.env.hook
    }

    /// The endpoint whose view this hook reports: the sender at `SND`, the receiver at `RCV`
    /// (and for `ON_CONN_NEW_DATA`, the side whose buffer got the bytes).
    pub fn side(&self) -> Side {
        self.env.side
    }

    /// The direction of the current packet (for `ON_CONN_NEW_DATA`: of the new bytes).
    pub fn dir(&self) -> Dir {
        self.env.dir
    }

    /// The client's address and port.
    pub fn client(&self) -> SocketAddr {
        self.env.conn.client
    }

    /// The server's address and port.
    pub fn server(&self) -> SocketAddr {
        self.env.conn.server
    }

    /// The emulated TCP state of one endpoint (mOS: `getsockopt MOS_TCP_STATE_CLI/SVR`).
    pub fn tcp_state(&self, side: Side) -> TcpState {
        self.env.conn.side(side).tcp.state
    }

    /// The current packet, if the event has one (mOS: `mtcp_getlastpkt`, without the copy).
    pub fn packet(&self) -> Option<Packet<'_>> {
        self.env.packet.packet()
    }

    /// Unread reassembled bytes in `side`'s receive buffer (bytes its peer sent) (mOS: `mtcp_peek`).
    /// Empty when buffering is off or nothing arrived.
    pub fn peek(&self, side: Side) -> &[u8] {
        let state = self.env.conn.side(side);
        if !state.stream.has_region() {
            return &[];
        }
        state.stream.peek(self.env.pool)
    }

    /// `len` bytes at stream offset `offset` (0 = first byte after the ISN) of `side`'s buffer,
    /// if all of them are held (already read, unread, or out of order) (mOS: `mtcp_ppeek`).
    pub fn peek_at(&self, side: Side, offset: u64, len: usize) -> Option<&[u8]> {
        let state = self.env.conn.side(side);
        if !state.stream.has_region() {
            return None;
        }
        state.stream.peek_at(self.env.pool, offset, len)
    }

    /// Stream offset of the first unread byte of `side`'s buffer.
    pub fn read_offset(&self, side: Side) -> u64 {
        self.env.conn.side(side).stream.read_offset()
    }

    /// Bytes missing from `side`'s stream: holes the peer's ACK passed, skipped.
    pub fn missed_bytes(&self, side: Side) -> u64 {
        let state = self.env.conn.side(side);
        state.stream.missed()
    }

    /// Unread bytes of `side` lost because its buffer filled (after `ON_ERROR(BufferFull)`).
    pub fn lost_bytes(&self, side: Side) -> u64 {
        self.env.conn.side(side).stream.lost_unread()
    }

    /// Keep the last `n` unread bytes of `side` past the coming automatic consume (a parser
    /// that saw only the start of a message). The largest request of a dispatch wins.
    pub fn keep_unread(&self, side: Side, n: usize) {
        let cell = &self.env.conn.side(side).keep_unread;
        let n = u32::try_from(n).unwrap_or(u32::MAX);
        if n > cell.get() {
            cell.set(n);
        }
    }

    /// Counters of what `side` sent.
    pub fn sent_by(&self, side: Side) -> SentStats {
        let state = self.env.conn.side(side);
        let mut sent = state.sent;
        let peer = self.env.conn.side(side.peer());
        sent.stream_bytes = stream_bytes(peer);
        sent.missed_bytes = peer.stream.missed();
        sent
    }

    /// Whether the server answered the SYN with a SYN-ACK.
    pub fn synack_seen(&self) -> bool {
        self.env.conn.synack
    }

    /// Time of the connection's SYN.
    pub fn start_time(&self) -> Timestamp {
        self.env.conn.start
    }

    /// Packet time now.
    pub fn now(&self) -> Timestamp {
        self.env.now
    }

    /// Why the connection ended (`ON_CONN_END`, and during its final events).
    pub fn end_reason(&self) -> Option<EndReason> {
        self.env.conn.end_reason
    }

    /// The error kind of an `ON_ERROR`.
    pub fn error_kind(&self) -> Option<ErrorKind> {
        self.env.error
    }

    /// Whether a handler is enabled on this flow.
    pub fn is_enabled(&self, handler: HandlerId) -> bool {
        let bit = self.handler_base + u32::from(handler.0);
        bit < 128 && *self.enabled & (1u128 << bit) != 0
    }

    /// Whether the runtime forwards packets (inline mode).
    pub fn is_inline(&self) -> bool {
        self.env.inline
    }
}

fn stream_bytes(receiver: &crate::engine::conn::SideState) -> u64 {
    if receiver.buffering {
        receiver
            .stream
            .contig_end()
            .saturating_sub(receiver.stream.missed())
    } else {
        receiver.unbuffered_next
    }
}

impl<'a, F, C> Cx<'a, F, C> {
    /// The shared view (what filters get).
    #[inline(always)]
    pub fn as_filter(&self) -> &FilterCx<'a, F, C> {
        &self.0
    }

    /// The flow state, mutably.
    #[inline(always)]
    pub fn flow_mut(&mut self) -> &mut F {
        self.0.flow
    }

    /// The worker's app-wide state, mutably.
    #[inline(always)]
    pub fn core_mut(&mut self) -> &mut C {
        self.0.core
    }

    /// The current packet for rewriting, in inline mode (mOS: `mtcp_setlastpkt`). Call
    /// `update_checksums()` on it after changing headers.
    pub fn packet_mut(&mut self) -> Option<PacketMut<'_>> {
        self.0.env.packet.packet_mut()
    }

    /// Do not forward the current packet (inline mode) (mOS: `MOS_DROP`). It is still processed by
    /// the stack and the remaining handlers.
    pub fn drop_packet(&mut self) {
        *self.0.env.drop = true;
    }

    /// Mark `n` unread bytes of `side`'s buffer as read; returns how many were.
    pub fn consume(&mut self, side: Side, n: usize) -> usize {
        let state = self.0.env.conn.side_mut(side);
        state.stream.consume(n)
    }

    /// Stop monitoring `side` (mOS: `MOS_STOP_MON`): no more events for it and no more state tracking.
    /// When both sides are stopped the connection ends (`EndReason::Stopped`) after the current
    /// packet, and its later packets are orphans. `ON_CONN_END` is still delivered for stopped
    /// sides, so per-flow resources can always be released there.
    pub fn stop_monitoring(&mut self, side: Side) {
        self.0.env.conn.side_mut(side).monitoring = false;
    }

    /// Turn reassembly of `side`'s receive buffer on or off (mOS: `MOS_CLIBUF/SVRBUF`). Turning it off
    /// releases the buffer; no `ON_CONN_NEW_DATA` or data retransmission detection for that side
    /// afterwards (SYN/FIN retransmissions are still detected).
    pub fn set_buffering(&mut self, side: Side, on: bool) {
        let env = &mut self.0.env;
        let state = env.conn.side_mut(side);
        if state.buffering && !on {
            state.unbuffered_next = state.stream.contig_end();
            state.stream.release(env.pool);
        }
        state.buffering = on;
    }

    /// Arm this flow's timer to fire `ON_TIMEOUT` after `after` of packet time (mOS: `mtcp_settimer`);
    /// re-arming replaces the previous deadline. Returns `false` if the timer wheel is full.
    pub fn set_timer(&mut self, after: Duration) -> bool {
        let env = &mut self.0.env;
        if let Some(old) = env.conn.user_timer.take() {
            env.timers.cancel(old);
        }
        let entry = TimerEntry {
            flow: env.flow_id,
            kind: TimerKind::User,
        };
        match env.timers.schedule(env.now.saturating_add(after), entry) {
            Ok(handle) => {
                env.conn.user_timer = Some(handle);
                true
            }
            Err(_) => false,
        }
    }

    /// Disarm this flow's timer.
    pub fn cancel_timer(&mut self) {
        let env = &mut self.0.env;
        if let Some(old) = env.conn.user_timer.take() {
            env.timers.cancel(old);
        }
    }

    /// Switch a handler off for this flow (a bit clear; no allocation).
    pub fn disable(&mut self, handler: HandlerId) {
        let bit = self.0.handler_base + u32::from(handler.0);
        if bit < 128 {
            *self.0.enabled &= !(1u128 << bit);
        }
    }

    /// Switch a handler on for this flow.
    pub fn enable(&mut self, handler: HandlerId) {
        let bit = self.0.handler_base + u32::from(handler.0);
        if bit < 128 {
            *self.0.enabled |= 1u128 << bit;
        }
    }

    /// Generated code: whether handler `id` runs on this flow; counts the call when it does.
    #[doc(hidden)]
    #[inline(always)]
    pub fn __enter(&mut self, id: u8) -> bool {
        let bit = self.0.handler_base + u32::from(id);
        if bit < 128 && *self.0.enabled & (1u128 << bit) != 0 {
            if let Some(count) = self.0.env.handler_calls.get_mut(bit as usize) {
                *count += 1;
            }
            true
        } else {
            false
        }
    }
}

/// Per-dispatch facts of a flow-less event.
#[derive(Debug)]
pub(crate) struct PacketEnv<'a> {
    pub packet: PacketSlot<'a>,
    pub drop: &'a mut bool,
    pub handler_calls: &'a mut [u64],
    pub handler_base: u32,
    pub event: Event,
    pub error: Option<ErrorKind>,
    pub orphan: Option<OrphanReason>,
    pub now: Timestamp,
    pub inline: bool,
}

/// A handler's context for events without a flow (`ON_ORPHAN`, `ON_ERROR` and `ON_PKT_IN` at
/// `NULL`). There is no flow state here by construction.
#[derive(Debug)]
pub struct PacketCx<'a, C = ()> {
    pub(crate) core: &'a mut C,
    pub(crate) env: PacketEnv<'a>,
}

impl<C> PacketCx<'_, C> {
    /// The event being dispatched.
    pub fn event(&self) -> Event {
        self.env.event
    }

    /// Always [`Hook::Null`].
    pub fn hook(&self) -> Hook {
        Hook::Null
    }

    /// The packet, when it parsed.
    pub fn packet(&self) -> Option<Packet<'_>> {
        self.env.packet.packet()
    }

    /// The raw frame (also for frames that did not parse).
    pub fn frame(&self) -> Option<&[u8]> {
        self.env.packet.frame()
    }

    /// The packet for rewriting (inline mode).
    pub fn packet_mut(&mut self) -> Option<PacketMut<'_>> {
        self.env.packet.packet_mut()
    }

    /// Do not forward this packet (inline mode).
    pub fn drop_packet(&mut self) {
        *self.env.drop = true;
    }

    /// Why the packet is an orphan (`ON_ORPHAN`; also set for `ON_PKT_IN` at `NULL`).
    pub fn orphan_reason(&self) -> Option<OrphanReason> {
        self.env.orphan
    }

    /// The error kind (`ON_ERROR`).
    pub fn error_kind(&self) -> Option<ErrorKind> {
        self.env.error
    }

    /// Packet time.
    pub fn now(&self) -> Timestamp {
        self.env.now
    }

    /// The worker's app-wide state.
    pub fn core(&self) -> &C {
        self.core
    }

    /// The worker's app-wide state, mutably.
    pub fn core_mut(&mut self) -> &mut C {
        self.core
    }

    /// Whether the runtime forwards packets (inline mode).
    pub fn is_inline(&self) -> bool {
        self.env.inline
    }

    /// Generated code: counts a call of handler `id` (flow-less handlers cannot be disabled).
    #[doc(hidden)]
    #[inline(always)]
    pub fn __enter(&mut self, id: u8) -> bool {
        let bit = self.env.handler_base + u32::from(id);
        if let Some(count) = self.env.handler_calls.get_mut(bit as usize) {
            *count += 1;
        }
        true
    }
}
