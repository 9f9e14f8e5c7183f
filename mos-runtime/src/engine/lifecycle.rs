//! Connection lifecycle: creation (with the full-table policy), the coalesced
//! `ON_CONN_NEW_DATA` of a batch, timers, and the end of a connection.

use std::net::SocketAddr;

use super::Worker;
use super::dispatch::At;
use crate::app::App;
use crate::cx::{PacketSlot, TimerEntry, TimerKind};
use crate::event::{Dir, EndReason, Event, Hook, Side};
use crate::flow::FlowId;
use crate::flow::key::FlowKey;
use crate::stream::{BufferPool, StreamBuf};
use crate::tcp::TcpState;
use crate::time::Timestamp;
use crate::wire::PacketMeta;

/// Gives a side's buffer back to the pool when it holds nothing that is still to be read:
/// no unread byte, no out-of-order fragment, no pending gap (`Config::release_drained`).
#[inline]
pub(crate) fn release_if_drained(stream: &mut StreamBuf, pool: &mut BufferPool) {
    if stream.has_region()
        && stream.unread_len() == 0
        && stream.fragments().next().is_none()
        && stream.gaps().next().is_none()
    {
        stream.release(pool);
    }
}

impl<A: App> Worker<A> {
    /// Track a new connection for the SYN in `meta`. When the table is full, the least
    /// recently active flow is evicted if it has been idle at least `evict_min_idle`;
    /// otherwise `None` (the SYN becomes an orphan).
    pub(crate) fn create_flow(
        &mut self,
        key: FlowKey,
        src_is_lower: bool,
        meta: &PacketMeta,
        frame: &[u8],
    ) -> Option<FlowId> {
        let (Some(ip), Some((sport, dport))) = (meta.ip, meta.ports()) else {
            return None;
        };
        if self.table.is_full() {
            let (oldest, last_seen) = self.table.oldest()?;
            if self.now.saturating_since(last_seen) < self.cfg.evict_min_idle {
                return None;
            }
            self.end_flow(oldest, EndReason::Evicted);
        }
        let (now, cfg) = (self.now, &self.cfg);
        // Written in place: the slot holds a default record or the previous connection's.
        let id = self
            .table
            .insert_with(key, key.hash64(), now, |conn| {
                conn.restart(
                    SocketAddr::new(ip.src, sport),
                    SocketAddr::new(ip.dst, dport),
                    src_is_lower,
                    now,
                    cfg.max_holes,
                    cfg.overlap,
                    cfg.buffering,
                );
            })
            .ok()?;
        let idx = id.index();
        // The app's flow state is already the default: set at start-up, and again when the
        // slot's previous connection ended.
        if let Some(app) = self.apps.get_mut(idx) {
            app.enabled = A::initial_enabled(&crate::wire::Packet::new(meta, frame));
        }
        self.counters.connections += 1;
        self.counters.peak_flows = self.counters.peak_flows.max(self.table.len() as u64);
        let deadline = self.now.saturating_add(self.cfg.idle_timeout);
        if let Ok(handle) = self.timers.schedule(
            deadline,
            TimerEntry {
                flow: id,
                kind: TimerKind::Idle,
            },
        ) {
            if let Some(conn) = self.table.get_mut(id) {
                conn.idle_timer = Some(handle);
            }
        }
        Some(id)
    }

    /// Remember that `side` of flow `id` waits for `ON_CONN_NEW_DATA` (the side that got
    /// bytes first in the batch is served first: a request before its response).
    pub(crate) fn queue_new_data(&mut self, id: FlowId, side: Side) {
        let Some(conn) = self.table.get_mut(id) else {
            return;
        };
        conn.new_data_first.get_or_insert(side);
        if conn.in_new_data_list {
            return;
        }
        if self.new_data.len() == self.new_data.capacity() {
            // Cannot happen with one entry per packet of a batch; if it ever does, deliver now
            // rather than grow.
            self.flush_new_data();
        }
        if let Some(conn) = self.table.get_mut(id) {
            conn.in_new_data_list = true;
            self.new_data.push(id);
        }
    }

    /// Raise the batch's `ON_CONN_NEW_DATA`s, in the order the flows first got data.
    pub(crate) fn flush_new_data(&mut self) {
        let mut i = 0;
        while i < self.new_data.len() {
            let id = self.new_data[i];
            i += 1;
            self.new_data_for(id);
        }
        self.new_data.clear();
    }

    /// `ON_CONN_NEW_DATA` for each side of `id` with new bytes — the side that got bytes first
    /// in the batch first — then the automatic consume (keeping what filters or handlers asked
    /// to keep).
    fn new_data_for(&mut self, id: FlowId) {
        let first = match self.table.get_mut(id) {
            Some(conn) => conn.new_data_first.take().unwrap_or(Side::Client),
            None => return,
        };
        for side in [first, first.peer()] {
            let Some(conn) = self.table.get_mut(id) else {
                return;
            };
            conn.in_new_data_list = false;
            let state = conn.side_mut(side);
            if !state.new_data_pending {
                continue;
            }
            state.new_data_pending = false;
            if !state.monitoring {
                continue;
            }
            state.keep_unread.set(0);
            // The bytes in `side`'s buffer travelled towards it.
            let dir = if side == Side::Server {
                Dir::ClientToServer
            } else {
                Dir::ServerToClient
            };
            let at = At {
                event: Event::ConnNewData,
                hook: Hook::Rcv,
                side,
                dir,
                error: None,
            };
            let mut drop = false;
            self.dispatch_flow(id, PacketSlot::None, &mut drop, at, A::conn_new_data_rcv);
            if let Some(conn) = self.table.get_mut(id) {
                let state = conn.side_mut(side);
                let unread = state.stream.unread_len();
                let keep = (state.keep_unread.replace(0) as usize).min(unread);
                state.stream.consume(unread - keep);
                if self.cfg.release_drained {
                    release_if_drained(&mut state.stream, &mut self.pool);
                }
            }
        }
    }

    /// Move the clock to `ts` and fire the timers due (idle timeouts, app timers).
    pub(crate) fn advance_clock(&mut self, ts: Timestamp) {
        if ts <= self.now {
            return;
        }
        // Pull one due timer at a time, with the clock at its deadline: a timer re-armed from
        // a handler counts from the moment it fired, and an idle timer re-armed while firing
        // lands back in deadline order with the others.
        while let Some((deadline, entry)) = self.timers.pop_expired(ts) {
            self.now = self.now.max(deadline);
            self.fire(entry);
        }
        self.now = ts;
    }

    fn fire(&mut self, entry: TimerEntry) {
        let Some(conn) = self.table.get_mut(entry.flow) else {
            return;
        };
        match entry.kind {
            TimerKind::Idle => {
                conn.idle_timer = None;
                let due = conn.last_seen.saturating_add(self.cfg.idle_timeout);
                if due > self.now {
                    // Touched since the timer was armed: re-arm lazily (no wheel work per packet).
                    if let Ok(handle) = self.timers.schedule(due, entry) {
                        if let Some(conn) = self.table.get_mut(entry.flow) {
                            conn.idle_timer = Some(handle);
                        }
                    }
                    return;
                }
                self.end_flow(entry.flow, EndReason::Timeout);
            }
            TimerKind::User => {
                conn.user_timer = None;
                let at = At {
                    event: Event::Timeout,
                    hook: Hook::Null,
                    side: Side::Client,
                    dir: Dir::ClientToServer,
                    error: None,
                };
                let mut drop = false;
                self.dispatch_flow(entry.flow, PacketSlot::None, &mut drop, at, A::timeout_null);
            }
        }
    }

    /// Destroy connection `id`: deliver its pending data (holes skipped: the connection will
    /// not fill them any more), then `ON_TCP_STATE_CHANGE` (if the end changes a state) and
    /// `ON_CONN_END` for each side at `RCV` then `SND`, then free everything.
    pub(crate) fn end_flow(&mut self, id: FlowId, reason: EndReason) {
        let Some(conn) = self.table.get_mut(id) else {
            return;
        };
        conn.end_reason = Some(reason);
        let mut pending = false;
        for state in conn.sides.iter_mut() {
            if state.buffering && state.stream.has_region() {
                let before = state.stream.contig_end();
                state.stream.skip_all_holes();
                if state.stream.contig_end() > before {
                    state.new_data_pending = true;
                }
            }
            pending |= state.new_data_pending;
        }
        if pending {
            self.new_data_for(id);
        }
        for side in [Side::Client, Side::Server] {
            let Some(conn) = self.table.get_mut(id) else {
                return;
            };
            let state = conn.side_mut(side);
            let changed = !state.tcp.state.is_closed();
            if changed {
                state.tcp.state = TcpState::Closed;
            }
            let dir = if side == Side::Server {
                Dir::ClientToServer
            } else {
                Dir::ServerToClient
            };
            for hook in [Hook::Rcv, Hook::Snd] {
                let mut drop = false;
                let at = |event| At {
                    event,
                    hook,
                    side,
                    dir,
                    error: None,
                };
                if changed {
                    let entry = match hook {
                        Hook::Snd => A::tcp_state_change_snd,
                        _ => A::tcp_state_change_rcv,
                    };
                    self.dispatch_flow(
                        id,
                        PacketSlot::None,
                        &mut drop,
                        at(Event::TcpStateChange),
                        entry,
                    );
                }
                let entry = match hook {
                    Hook::Snd => A::conn_end_snd,
                    _ => A::conn_end_rcv,
                };
                self.dispatch_flow(id, PacketSlot::None, &mut drop, at(Event::ConnEnd), entry);
            }
        }
        // The record stays in its slot (released here, reset by the next connection there).
        let Some((_, conn)) = self.table.remove_in_place(id) else {
            return;
        };
        for handle in [conn.user_timer.take(), conn.idle_timer.take()]
            .into_iter()
            .flatten()
        {
            self.timers.cancel(handle);
        }
        for state in conn.sides.iter_mut() {
            state.stream.release(&mut self.pool);
        }
        if let Some(app) = self.apps.get_mut(id.index()) {
            // Drop the app's state now (it may hold resources), not at slot reuse.
            app.flow = A::Flow::default();
        }
        self.counters.ended[reason.index()] += 1;
    }
}
