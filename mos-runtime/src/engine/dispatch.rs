//! Building a context on the stack and calling one of the app's dispatch entries.
//!
//! Entries are passed as `FnOnce` *items* (`A::pkt_in_snd`), so each call site is monomorphic
//! and inlines; `App::SUBSCRIPTIONS` is a constant, so unsubscribed entries cost one counter
//! increment.

use super::{AppSlot, Worker};
use crate::app::App;
use crate::cx::{Cx, FilterCx, FlowEnv, PacketCx, PacketEnv, PacketSlot};
use crate::event::{Dir, ErrorKind, Event, Hook, OrphanReason, Side};
use crate::flow::FlowId;

/// What a flow dispatch is about.
#[derive(Clone, Copy, Debug)]
pub(crate) struct At {
    pub event: Event,
    pub hook: Hook,
    pub side: Side,
    pub dir: Dir,
    pub error: Option<ErrorKind>,
}

impl<A: App> Worker<A> {
    /// Raise `at.event` at `at.hook` on flow `id`.
    #[inline(always)]
    pub(crate) fn dispatch_flow<E>(
        &mut self,
        id: FlowId,
        packet: PacketSlot<'_>,
        drop: &mut bool,
        at: At,
        entry: E,
    ) where
        E: for<'c> FnOnce(&mut Cx<'c, A::Flow, A::Core>),
    {
        self.counters.event(at.event, at.hook);
        if !A::SUBSCRIPTIONS.contains(at.event, at.hook) {
            return;
        }
        let idx = id.index();
        let inline = self.inline;
        let Some(conn) = self.table.get_mut(id) else {
            return;
        };
        let Some(AppSlot { enabled, flow }) = self.apps.get_mut(idx) else {
            return;
        };
        let mut cx = Cx(FilterCx {
            flow,
            core: &mut self.core,
            enabled,
            handler_base: 0,
            env: FlowEnv {
                conn,
                flow_id: id,
                pool: &mut self.pool,
                timers: &mut self.timers,
                handler_calls: &mut self.handler_calls,
                packet,
                drop,
                event: at.event,
                hook: at.hook,
                side: at.side,
                dir: at.dir,
                error: at.error,
                now: self.now,
                inline,
            },
        });
        entry(&mut cx);
    }

    /// Raise a flow-less event at `NULL`.
    #[inline(always)]
    pub(crate) fn dispatch_packet<E>(
        &mut self,
        packet: PacketSlot<'_>,
        drop: &mut bool,
        event: Event,
        error: Option<ErrorKind>,
        orphan: Option<OrphanReason>,
        entry: E,
    ) where
        E: for<'c> FnOnce(&mut PacketCx<'c, A::Core>),
    {
        self.counters.event(event, Hook::Null);
        if !A::SUBSCRIPTIONS.contains(event, Hook::Null) {
            return;
        }
        let mut cx = PacketCx {
            core: &mut self.core,
            env: PacketEnv {
                packet,
                drop,
                handler_calls: &mut self.handler_calls,
                handler_base: 0,
                event,
                error,
                orphan,
                now: self.now,
                inline: self.inline,
            },
        };
        entry(&mut cx);
    }

    /// Count and raise `ON_ERROR` at `NULL`.
    pub(crate) fn error_null(&mut self, kind: ErrorKind, packet: PacketSlot<'_>, drop: &mut bool) {
        self.counters.errors[kind.index()] += 1;
        self.dispatch_packet(packet, drop, Event::Error, Some(kind), None, A::error_null);
    }

    /// Count and raise `ON_PKT_IN` then `ON_ORPHAN` at `NULL`.
    pub(crate) fn orphan(
        &mut self,
        reason: OrphanReason,
        meta: &mut crate::wire::PacketMeta,
        frame: &mut super::packet::FrameBuf<'_>,
        drop: &mut bool,
    ) {
        self.counters.orphans[reason.index()] += 1;
        let slot = frame.slot(meta);
        self.dispatch_packet(slot, drop, Event::PktIn, None, Some(reason), A::pkt_in_null);
        let slot = frame.slot(meta);
        self.dispatch_packet(
            slot,
            drop,
            Event::Orphan,
            None,
            Some(reason),
            A::orphan_null,
        );
    }
}
