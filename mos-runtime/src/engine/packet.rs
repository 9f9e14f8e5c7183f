//! The per-packet pipeline (the order of SPEC §2).

use super::dispatch::At;
use super::{Verdict, Worker};
use crate::app::App;
use crate::cx::{Cx, PacketSlot};
use crate::event::{Dir, EndReason, ErrorKind, Event, Hook, OrphanReason, Side};
use crate::flow::FlowId;
use crate::flow::key::FlowKey;
use crate::tcp::{Segment, SeqNum};
use crate::time::Timestamp;
use crate::wire::{self, L4Meta, LinkType, PacketMeta, ParseError, TcpMeta};

/// The current frame: borrowed from the source (passive) or copied for rewriting (inline).
#[derive(Debug)]
pub(crate) enum FrameBuf<'a> {
    Shared(&'a [u8]),
    Owned(&'a mut [u8]),
}

impl FrameBuf<'_> {
    pub fn bytes(&self) -> &[u8] {
        match self {
            FrameBuf::Shared(data) => data,
            FrameBuf::Owned(data) => data,
        }
    }

    /// A packet slot for one dispatch (re-borrows the frame and its metadata).
    pub fn slot<'s>(&'s mut self, meta: &'s mut PacketMeta) -> PacketSlot<'s> {
        match self {
            FrameBuf::Shared(data) => PacketSlot::Shared { meta, data },
            FrameBuf::Owned(data) => PacketSlot::Owned { meta, data },
        }
    }
}

/// Stream offset (0 = first byte after the peer's ISN) of sequence number `seq`, computed
/// relative to the in-order point `next` (an offset) so 64-bit offsets survive sequence wrap.
pub(crate) fn stream_offset(irs: SeqNum, next: u64, seq: SeqNum) -> i64 {
    let next_seq = irs + 1 + (next as u32);
    let delta = i64::from(seq - next_seq);
    next as i64 + delta
}

impl<A: App> Worker<A> {
    /// The sink path: passive (the frame is only read) or inline with a [`super::PacketSink`]
    /// (the frame is copied so handlers may rewrite it, then forwarded unless dropped).
    pub(crate) fn packet(&mut self, frame: &[u8], ts: Timestamp, wire_len: u32, link: LinkType) {
        let inline = self.sink.is_some();
        // Moving the scratch buffer out of `self` keeps the borrow checker happy and
        // allocates nothing.
        let mut scratch = std::mem::take(&mut self.scratch);
        let mut buf = match scratch.get_mut(..frame.len()) {
            Some(copy) if inline => {
                copy.copy_from_slice(frame);
                FrameBuf::Owned(copy)
            }
            _ => FrameBuf::Shared(frame),
        };
        let drop = self.run_frame(&mut buf, ts, wire_len, link);
        if inline {
            if drop {
                self.counters.dropped += 1;
            } else {
                self.counters.forwarded += 1;
                if let Some(sink) = self.sink.as_mut() {
                    if let Err(e) = sink.send(ts, buf.bytes(), wire_len, link) {
                        self.sink_error.get_or_insert(e);
                    }
                }
            }
        }
        self.scratch = scratch;
    }

    /// Zero-copy inline processing of a frame the caller owns (a DPDK mbuf): handlers may
    /// rewrite it in place; the caller forwards or frees it according to the verdict.
    pub(crate) fn packet_in_place(
        &mut self,
        frame: &mut [u8],
        ts: Timestamp,
        wire_len: u32,
        link: LinkType,
    ) -> Verdict {
        let mut buf = FrameBuf::Owned(frame);
        if self.run_frame(&mut buf, ts, wire_len, link) {
            self.counters.dropped += 1;
            Verdict::Drop
        } else {
            self.counters.forwarded += 1;
            Verdict::Forward
        }
    }

    /// Clock, counters, parse and the whole event pipeline for one frame; returns whether a
    /// handler dropped it.
    fn run_frame(
        &mut self,
        buf: &mut FrameBuf<'_>,
        ts: Timestamp,
        wire_len: u32,
        link: LinkType,
    ) -> bool {
        let parsed = wire::parse(link, buf.bytes(), ts, wire_len, self.cfg.verify_checksums);
        self.run_parsed(buf, ts, wire_len, parsed)
    }

    /// [`run_frame`](Self::run_frame) after the parse.
    fn run_parsed(
        &mut self,
        buf: &mut FrameBuf<'_>,
        ts: Timestamp,
        wire_len: u32,
        parsed: Result<PacketMeta, ParseError>,
    ) -> bool {
        self.advance_clock(ts);
        let c = &mut self.counters;
        c.packets += 1;
        c.bytes += u64::from(wire_len);
        // Earliest and latest, not first and last: captures are not always in time order, and
        // workers of a multi-core run each see part of the capture.
        c.first_ts = Some(c.first_ts.map_or(ts.as_nanos(), |t| t.min(ts.as_nanos())));
        c.last_ts = c.last_ts.max(ts.as_nanos());
        let mut drop = false;
        match parsed {
            Ok(mut meta) => self.parsed(&mut meta, buf, &mut drop),
            Err(err) => {
                let kind = match err {
                    ParseError::BadChecksum(_) => ErrorKind::BadChecksum,
                    _ => ErrorKind::Malformed,
                };
                self.error_null(kind, PacketSlot::Raw { data: buf.bytes() }, &mut drop);
            }
        }
        drop
    }

    fn parsed(&mut self, meta: &mut PacketMeta, buf: &mut FrameBuf<'_>, drop: &mut bool) {
        let Some(ip) = meta.ip else {
            return self.orphan(OrphanReason::NonIp, meta, buf, drop);
        };
        if ip.fragment {
            return self.orphan(OrphanReason::Fragment, meta, buf, drop);
        }
        let L4Meta::Tcp(tcp) = meta.l4 else {
            return self.orphan(OrphanReason::NonTcp, meta, buf, drop);
        };
        self.counters.tcp_packets += 1;
        let (key, swapped) = FlowKey::new(ip.src, tcp.src_port, ip.dst, tcp.dst_port, ip.proto);
        let pure_syn = tcp.flags.syn() && !tcp.flags.ack();
        let mut found = self.table.lookup(&key);
        if let Some(id) = found {
            if pure_syn && self.is_new_incarnation(id, !swapped, tcp.seq) {
                // Port reuse: the client closed (or was reset) and opens a new connection on
                // the same four-tuple before the old one was freed.
                let reason = match self.table.get(id) {
                    Some(conn) if conn.sides.iter().any(|s| s.sent.rst) => EndReason::Rst,
                    _ => EndReason::Fin,
                };
                self.end_flow(id, reason);
                found = None;
            }
        }
        let id = match found {
            Some(id) => id,
            None => {
                if !pure_syn {
                    return self.orphan(OrphanReason::NoConnection, meta, buf, drop);
                }
                if !A::in_scope(&wire::Packet::new(meta, buf.bytes())) {
                    return self.orphan(OrphanReason::OutOfScope, meta, buf, drop);
                }
                match self.create_flow(key, !swapped, meta, buf.bytes()) {
                    Some(id) => id,
                    None => {
                        let slot = buf.slot(meta);
                        self.error_null(ErrorKind::FlowTableFull, slot, drop);
                        return self.orphan(OrphanReason::TableFull, meta, buf, drop);
                    }
                }
            }
        };
        self.tcp_segment(id, !swapped, &tcp, meta, buf, drop);
    }

    /// A SYN from the client of a connection whose client side is closed, with a new ISN.
    fn is_new_incarnation(&self, id: FlowId, src_is_lower: bool, seq: u32) -> bool {
        self.table.get(id).is_some_and(|conn| {
            let client = &conn.side(Side::Client).tcp;
            conn.dir_of(src_is_lower) == Dir::ClientToServer
                && client.state.is_closed()
                && client.iss != Some(SeqNum(seq))
        })
    }

    /// Both stack updates and both hooks for one segment of a tracked connection.
    fn tcp_segment(
        &mut self,
        id: FlowId,
        src_is_lower: bool,
        tcp: &TcpMeta,
        meta: &mut PacketMeta,
        buf: &mut FrameBuf<'_>,
        drop: &mut bool,
    ) {
        let now = self.now;
        let seg = Segment {
            seq: SeqNum(tcp.seq),
            ack: SeqNum(tcp.ack),
            flags: tcp.flags,
            // Sequence space taken on the wire, even where the capture cut the payload.
            len: meta.wire_payload_len(),
        };
        self.table.touch(id, now);
        let Some(conn) = self.table.get_mut(id) else {
            return;
        };
        conn.last_seen = now;
        let dir = conn.dir_of(src_is_lower);
        let sender = Side::sender_of(dir);
        let receiver = sender.peer();
        {
            let sent = &mut conn.side_mut(sender).sent;
            sent.packets += 1;
            sent.payload_bytes += u64::from(seg.len);
            sent.fin |= seg.flags.fin();
            sent.rst |= seg.flags.rst();
        }
        if dir == Dir::ServerToClient && seg.flags.syn() && seg.flags.ack() {
            conn.synack = true;
        }

        // 1. The sender's stack, then the SND hook.
        let sender_monitored = conn.side(sender).monitoring;
        if sender_monitored {
            let out = conn.side_mut(sender).tcp.on_send(&seg);
            if seg.flags.ack() && !seg.flags.rst() {
                self.skip_acked_gap(id, sender, seg.ack);
            }
            let facts = HookFacts {
                side: sender,
                dir,
                conn_start: out.conn_start,
                state_changed: out.state_changed,
            };
            self.hook_events::<SndEntries>(id, facts, meta, buf, drop);
        }

        // 2. The receiver's stack (control, data, FIN), then the RCV hook.
        let Some(conn) = self.table.get_mut(id) else {
            return;
        };
        if !conn.side(receiver).monitoring {
            return self.after_segment(id, &seg);
        }
        let mut ctl = conn.side_mut(receiver).tcp.on_receive_control(&seg);
        if seg.len > 0 && !seg.flags.rst() {
            self.receive_payload(id, receiver, dir, &seg, meta, buf, drop);
        }
        let Some(conn) = self.table.get_mut(id) else {
            return;
        };
        conn.side_mut(receiver).tcp.on_receive_fin(&seg, &mut ctl);
        if ctl.rexmit {
            conn.side_mut(sender).sent.rexmits += 1;
        }
        let facts = HookFacts {
            side: receiver,
            dir,
            conn_start: ctl.conn_start,
            state_changed: ctl.state_changed,
        };
        self.hook_events::<RcvEntries>(id, facts, meta, buf, drop);
        if ctl.rexmit {
            let at = facts.at(Event::Rexmit, Hook::Rcv);
            self.dispatch_flow(id, buf.slot(meta), drop, at, A::rexmit_rcv);
        }
        if !A::SUBSCRIPTIONS.contains(Event::ConnNewData, Hook::Rcv) {
            // Nobody reads the stream through ON_CONN_NEW_DATA: consume so it never fills.
            if let Some(conn) = self.table.get_mut(id) {
                let side = conn.side_mut(receiver);
                side.stream.consume_all();
                side.new_data_pending = false;
                if self.cfg.release_drained {
                    super::lifecycle::release_if_drained(&mut side.stream, &mut self.pool);
                }
            }
        }
        self.after_segment(id, &seg);
    }

    /// A hook's events for one segment, in mOS's order: `ON_PKT_IN`, then `ON_CONN_START` and
    /// `ON_TCP_STATE_CHANGE` when the side's stack says so. `H` names the hook's app entries,
    /// so each hook's calls stay direct.
    fn hook_events<H: HookEntries<A>>(
        &mut self,
        id: FlowId,
        facts: HookFacts,
        meta: &mut PacketMeta,
        buf: &mut FrameBuf<'_>,
        drop: &mut bool,
    ) {
        let at = |event| facts.at(event, H::HOOK);
        self.dispatch_flow(id, buf.slot(meta), drop, at(Event::PktIn), H::pkt_in);
        if facts.conn_start {
            self.dispatch_flow(
                id,
                buf.slot(meta),
                drop,
                at(Event::ConnStart),
                H::conn_start,
            );
        }
        if facts.state_changed {
            let event = at(Event::TcpStateChange);
            self.dispatch_flow(id, buf.slot(meta), drop, event, H::tcp_state_change);
        }
    }

    /// Reassemble the payload into the receiver's buffer: retransmission check first (its
    /// `ON_REXMIT` sees the buffer before the write), `ON_ERROR(BufferFull)` before unread bytes
    /// are overwritten, then the write and the errors it reports.
    #[allow(clippy::too_many_arguments)]
    fn receive_payload(
        &mut self,
        id: FlowId,
        receiver: Side,
        dir: Dir,
        seg: &Segment,
        meta: &mut PacketMeta,
        buf: &mut FrameBuf<'_>,
        drop: &mut bool,
    ) {
        let sender = receiver.peer();
        let Some(conn) = self.table.get_mut(id) else {
            return;
        };
        let side = conn.side_mut(receiver);
        let Some(irs) = side.tcp.irs else { return };
        let next = if side.buffering {
            side.stream.contig_end()
        } else {
            side.unbuffered_next
        };
        let mut offset = stream_offset(irs, next, seg.data_seq());
        let payload_start = meta.payload_offset as usize;
        // What the capture holds (it may have cut the segment); the sequence space is
        // `seg.len`, and bytes past the capture become a hole skipped once acknowledged.
        let captured = (meta.payload_len as usize).min(seg.len as usize);
        let mut skip = 0usize;
        if offset < 0 {
            // Bytes before the stream start (garbage or a SYN-era overlap): drop them.
            skip = usize::try_from(-offset)
                .unwrap_or(usize::MAX)
                .min(seg.len as usize);
            offset = 0;
        }
        let len = seg.len as usize - skip;
        if len == 0 {
            return;
        }
        let captured = captured.saturating_sub(skip);
        let offset = offset as u64;
        let at = |event, error| At {
            event,
            hook: Hook::Rcv,
            side: receiver,
            dir,
            error,
        };

        if !side.buffering {
            // Offsets only: count in-order progress, flag data below it as retransmitted.
            if offset < side.unbuffered_next {
                conn.side_mut(sender).sent.rexmits += 1;
                self.dispatch_flow(
                    id,
                    buf.slot(meta),
                    drop,
                    at(Event::Rexmit, None),
                    A::rexmit_rcv,
                );
            }
            if let Some(conn) = self.table.get_mut(id) {
                let side = conn.side_mut(receiver);
                let end = offset + len as u64;
                if offset <= side.unbuffered_next && end > side.unbuffered_next {
                    side.unbuffered_next = end;
                }
            }
            return;
        }

        let seg_len = u32::try_from(len).unwrap_or(u32::MAX);
        if side.stream.received_before(offset, seg_len) {
            conn.side_mut(sender).sent.rexmits += 1;
            self.dispatch_flow(
                id,
                buf.slot(meta),
                drop,
                at(Event::Rexmit, None),
                A::rexmit_rcv,
            );
        }
        let region_size = self.pool.region_size();
        let Some(conn) = self.table.get_mut(id) else {
            return;
        };
        if conn
            .side(receiver)
            .stream
            .unread_overwrite_needed(region_size, offset, seg_len)
            > 0
        {
            self.raise_flow_error(
                id,
                ErrorKind::BufferFull,
                at(Event::Error, Some(ErrorKind::BufferFull)),
                meta,
                buf,
                drop,
            );
        }
        let Some(conn) = self.table.get_mut(id) else {
            return;
        };
        let side = conn.side_mut(receiver);
        if !side.buffering {
            // A BufferFull handler turned buffering off.
            return;
        }
        let data = buf
            .bytes()
            .get(payload_start + skip..payload_start + skip + captured)
            .unwrap_or(&[]);
        let out = side.stream.write(&mut self.pool, offset, data);
        if out.no_buffer {
            // The pool is exhausted: this side falls back to counting offsets (no reassembly)
            // rather than stalling; the error below tells the app.
            side.buffering = false;
            side.unbuffered_next = side.stream.contig_end();
            if offset <= side.unbuffered_next {
                side.unbuffered_next = side.unbuffered_next.max(offset + data.len() as u64);
            }
        }
        if out.advanced > 0 {
            side.new_data_pending = true;
            self.queue_new_data(id, receiver);
        }
        let errors = [
            (out.conflict, ErrorKind::OverlapConflict),
            (out.too_many_holes, ErrorKind::TooManyHoles),
            (out.out_of_window, ErrorKind::OutOfWindow),
            (out.no_buffer, ErrorKind::NoBuffer),
        ];
        for (raised, kind) in errors {
            if raised {
                self.raise_flow_error(id, kind, at(Event::Error, Some(kind)), meta, buf, drop);
            }
        }
    }

    fn raise_flow_error(
        &mut self,
        id: FlowId,
        kind: ErrorKind,
        at: At,
        meta: &mut PacketMeta,
        buf: &mut FrameBuf<'_>,
        drop: &mut bool,
    ) {
        self.counters.errors[kind.index()] += 1;
        self.dispatch_flow(id, buf.slot(meta), drop, at, A::error_rcv);
    }

    /// `side` acknowledged its peer's bytes up to `ack`: holes below that point in `side`'s
    /// receive buffer will never be filled (the receiver already has those bytes), so skip
    /// them and count them as missed. Capped at the end of what the peer was seen sending.
    fn skip_acked_gap(&mut self, id: FlowId, side: Side, ack: SeqNum) {
        let Some(conn) = self.table.get_mut(id) else {
            return;
        };
        let peer_sent_end = conn.side(side.peer()).tcp.snd_max;
        let peer_fin = conn.side(side.peer()).tcp.fin_seq;
        let state = conn.side_mut(side);
        if !state.buffering {
            return;
        }
        let Some(irs) = state.tcp.irs else { return };
        let mut limit = ack;
        if let Some(end) = peer_sent_end {
            limit = limit.min(end);
        }
        if let Some(fin) = peer_fin {
            limit = limit.min(fin);
        }
        let next = state.stream.contig_end();
        let target = stream_offset(irs, next, limit);
        if target <= next as i64 {
            return;
        }
        let before = state.stream.contig_end();
        state.stream.skip_to(target as u64);
        if state.stream.contig_end() > before && state.stream.unread_len() > 0 {
            state.new_data_pending = true;
            self.queue_new_data(id, side);
        }
    }

    /// Teardown check after both hooks.
    fn after_segment(&mut self, id: FlowId, seg: &Segment) {
        let Some(conn) = self.table.get(id) else {
            return;
        };
        if !conn.finished() {
            return;
        }
        let reason = if conn.sides.iter().all(|s| !s.monitoring) {
            EndReason::Stopped
        } else if seg.flags.rst() || conn.sides.iter().any(|s| s.sent.rst) {
            EndReason::Rst
        } else {
            EndReason::Fin
        };
        self.end_flow(id, reason);
    }
}

/// What one side's stack update reported, for its hook's events.
#[derive(Clone, Copy)]
struct HookFacts {
    side: Side,
    dir: Dir,
    conn_start: bool,
    state_changed: bool,
}

impl HookFacts {
    fn at(self, event: Event, hook: Hook) -> At {
        At {
            event,
            hook,
            side: self.side,
            dir: self.dir,
            error: None,
        }
    }
}

/// The app's entries of one flow hook (`SND` or `RCV`) for the events both hooks raise.
trait HookEntries<A: App> {
    const HOOK: Hook;
    fn pkt_in(cx: &mut Cx<'_, A::Flow, A::Core>);
    fn conn_start(cx: &mut Cx<'_, A::Flow, A::Core>);
    fn tcp_state_change(cx: &mut Cx<'_, A::Flow, A::Core>);
}

/// The `SND` entries.
struct SndEntries;

impl<A: App> HookEntries<A> for SndEntries {
    const HOOK: Hook = Hook::Snd;
    #[inline(always)]
    fn pkt_in(cx: &mut Cx<'_, A::Flow, A::Core>) {
        A::pkt_in_snd(cx);
    }
    #[inline(always)]
    fn conn_start(cx: &mut Cx<'_, A::Flow, A::Core>) {
        A::conn_start_snd(cx);
    }
    #[inline(always)]
    fn tcp_state_change(cx: &mut Cx<'_, A::Flow, A::Core>) {
        A::tcp_state_change_snd(cx);
    }
}

/// The `RCV` entries.
struct RcvEntries;

impl<A: App> HookEntries<A> for RcvEntries {
    const HOOK: Hook = Hook::Rcv;
    #[inline(always)]
    fn pkt_in(cx: &mut Cx<'_, A::Flow, A::Core>) {
        A::pkt_in_rcv(cx);
    }
    #[inline(always)]
    fn conn_start(cx: &mut Cx<'_, A::Flow, A::Core>) {
        A::conn_start_rcv(cx);
    }
    #[inline(always)]
    fn tcp_state_change(cx: &mut Cx<'_, A::Flow, A::Core>) {
        A::tcp_state_change_rcv(cx);
    }
}
