//! Several apps on one runtime: `run::<(A, B)>()` (mOS's several monitoring sockets on a flow).
//!
//! `(A, B)` is itself an [`App`]: its flow state is `(A::Flow, B::Flow)` and its core state
//! `(A::Core, B::Core)`, so each app keeps its own state in the same preallocated slot. Each
//! dispatch entry of the pair builds, one after the other, a context for `A` and one for `B`
//! that borrow their half of the state and share the engine's (connection, buffers, timers,
//! packet); nothing is allocated and every call is still static. Nest pairs for more apps:
//! `((A, B), C)`.
//!
//! Handler ids: `B`'s handlers come after `A`'s in the runtime's per-flow enable bits and call
//! counters (`handler_base` is offset by `A::HANDLERS.len()`), so `cx.disable(handlers::x)` in
//! either app switches its own handler; at most [`MAX_HANDLERS`] in total.
//!
//! Order (mOS §1.7, a chain of middleboxes between client and server): for a packet travelling
//! client→server, `A` then `B` at every hook; server→client, `B` then `A`. Flow-less events
//! (`ON_ORPHAN`, `NULL`-hook errors) go to `A` then `B`.
//!
//! Graphs: the pair has no [`EventGraph`](crate::graph::EventGraph) of its own but implements
//! [`AppGraphs`]: `A`'s graphs then `B`'s, the order above for a client→server packet, so
//! `<((A, B), C) as AppGraphs>::event_graphs()` yields three graphs, `A`, `B`, `C`.
//!
//! Scope: a connection is tracked when it is in scope of either app (the pair's `in_scope` is
//! the `or` of the two), and each app's handlers start enabled on it only when the connection
//! is in that app's own scope (`initial_enabled`), so an app never sees a flow outside its
//! scope.

use crate::app::{App, CoreState, HandlerInfo, HandlerSet, MAX_HANDLERS, Subscriptions};
use crate::cx::{Cx, FilterCx, FlowEnv, PacketCx, PacketEnv, PacketSlot};
use crate::event::{Dir, Hook};
use crate::graph::{AppGraphs, EventGraph};
use crate::wire::Packet;

impl<A: CoreState, B: CoreState> CoreState for (A, B) {
    fn merge(&mut self, other: Self) {
        self.0.merge(other.0);
        self.1.merge(other.1);
    }
}

/// A placeholder entry for the fixed-capacity handler table.
const NO_HANDLER: HandlerInfo = HandlerInfo {
    name: "",
    event: "",
    hook: Hook::Null,
    per_flow: false,
};

/// `a` followed by `b`, in a table of [`MAX_HANDLERS`] entries; the length is returned too.
/// Panics at compile time (it is only used in constants) if the apps have too many handlers.
const fn concat_handlers(
    a: &[HandlerInfo],
    b: &[HandlerInfo],
) -> ([HandlerInfo; MAX_HANDLERS], usize) {
    let len = a.len() + b.len();
    if len > MAX_HANDLERS {
        panic!("the apps of a run have more than 128 handlers in total (one enable bit each)");
    }
    let mut table = [NO_HANDLER; MAX_HANDLERS];
    let mut i = 0;
    while i < a.len() {
        table[i] = a[i];
        i += 1;
    }
    let mut j = 0;
    while j < b.len() {
        table[a.len() + j] = b[j];
        j += 1;
    }
    (table, len)
}

/// The bits of `set` below `n`.
const fn low_bits(set: HandlerSet, n: usize) -> HandlerSet {
    if n >= MAX_HANDLERS {
        set
    } else {
        set & ((1u128 << n) - 1)
    }
}

/// A context for one app of the pair, reborrowing the shared engine state of `env`.
#[inline(always)]
fn reborrow_env<'b>(env: &'b mut FlowEnv<'_>) -> FlowEnv<'b> {
    FlowEnv {
        conn: &mut *env.conn,
        flow_id: env.flow_id,
        pool: &mut *env.pool,
        timers: &mut *env.timers,
        handler_calls: &mut *env.handler_calls,
        packet: reborrow_packet(&mut env.packet),
        drop: &mut *env.drop,
        event: env.event,
        hook: env.hook,
        side: env.side,
        dir: env.dir,
        error: env.error,
        now: env.now,
        inline: env.inline,
    }
}

#[inline(always)]
fn reborrow_packet<'b>(slot: &'b mut PacketSlot<'_>) -> PacketSlot<'b> {
    match slot {
        PacketSlot::None => PacketSlot::None,
        // Deref coercion reborrows each field for `'b`.
        PacketSlot::Shared { meta, data } => PacketSlot::Shared { meta, data },
        PacketSlot::Owned { meta, data } => PacketSlot::Owned { meta, data },
        PacketSlot::Raw { data } => PacketSlot::Raw { data },
    }
}

/// Run `entry` of the first app of the pair on `cx`.
#[inline(always)]
fn first<FA, FB, CA, CB>(
    cx: &mut Cx<'_, (FA, FB), (CA, CB)>,
    entry: impl FnOnce(&mut Cx<'_, FA, CA>),
) {
    let inner = &mut cx.0;
    let mut sub = Cx(FilterCx {
        flow: &mut inner.flow.0,
        core: &mut inner.core.0,
        enabled: &mut *inner.enabled,
        handler_base: inner.handler_base,
        env: reborrow_env(&mut inner.env),
    });
    entry(&mut sub);
}

/// Run `entry` of the second app of the pair on `cx`; its handlers start at bit `offset`.
#[inline(always)]
fn second<FA, FB, CA, CB>(
    cx: &mut Cx<'_, (FA, FB), (CA, CB)>,
    offset: u32,
    entry: impl FnOnce(&mut Cx<'_, FB, CB>),
) {
    let inner = &mut cx.0;
    let mut sub = Cx(FilterCx {
        flow: &mut inner.flow.1,
        core: &mut inner.core.1,
        enabled: &mut *inner.enabled,
        handler_base: inner.handler_base.saturating_add(offset),
        env: reborrow_env(&mut inner.env),
    });
    entry(&mut sub);
}

#[inline(always)]
fn reborrow_packet_env<'b>(env: &'b mut PacketEnv<'_>, offset: u32) -> PacketEnv<'b> {
    PacketEnv {
        packet: reborrow_packet(&mut env.packet),
        drop: &mut *env.drop,
        handler_calls: &mut *env.handler_calls,
        handler_base: env.handler_base.saturating_add(offset),
        event: env.event,
        error: env.error,
        orphan: env.orphan,
        now: env.now,
        inline: env.inline,
    }
}

/// One flow entry of the pair: both apps, in chain order for the packet's direction.
macro_rules! flow_entry {
    ($name:ident) => {
        #[inline(always)]
        fn $name(cx: &mut Cx<'_, Self::Flow, Self::Core>) {
            let offset = <Self as PairConsts>::OFFSET;
            match cx.dir() {
                Dir::ClientToServer => {
                    first(cx, A::$name);
                    second(cx, offset, B::$name);
                }
                Dir::ServerToClient => {
                    second(cx, offset, B::$name);
                    first(cx, A::$name);
                }
            }
        }
    };
}

/// One flow-less entry of the pair: `A` then `B`.
macro_rules! packet_entry {
    ($name:ident) => {
        #[inline(always)]
        fn $name(cx: &mut PacketCx<'_, Self::Core>) {
            {
                let mut sub = PacketCx {
                    core: &mut cx.core.0,
                    env: reborrow_packet_env(&mut cx.env, 0),
                };
                A::$name(&mut sub);
            }
            let mut sub = PacketCx {
                core: &mut cx.core.1,
                env: reborrow_packet_env(&mut cx.env, <Self as PairConsts>::OFFSET),
            };
            B::$name(&mut sub);
        }
    };
}

/// Constants of the pair that are not part of [`App`].
trait PairConsts {
    /// Bit offset of the second app's handlers.
    const OFFSET: u32;
    /// Both apps' handlers in a fixed-capacity table, and how many there are (a generic `const`
    /// cannot be an array of computed length, so the table is fixed-size and sliced).
    const TABLE: ([HandlerInfo; MAX_HANDLERS], usize);
}

impl<A: App, B: App> PairConsts for (A, B) {
    const OFFSET: u32 = A::HANDLERS.len() as u32;
    const TABLE: ([HandlerInfo; MAX_HANDLERS], usize) = concat_handlers(A::HANDLERS, B::HANDLERS);
}

impl<A: App, B: App> App for (A, B) {
    type Flow = (A::Flow, B::Flow);
    type Core = (A::Core, B::Core);

    const NAME: &'static str = "multi";
    const HANDLERS: &'static [HandlerInfo] = {
        let table: &'static ([HandlerInfo; MAX_HANDLERS], usize) = &<Self as PairConsts>::TABLE;
        table.0.split_at(table.1).0
    };
    const INITIAL_ENABLED: HandlerSet = {
        let n = A::HANDLERS.len();
        let b = match B::INITIAL_ENABLED.checked_shl(n as u32) {
            Some(b) => b,
            None => 0,
        };
        low_bits(A::INITIAL_ENABLED, n) | b
    };
    const SUBSCRIPTIONS: Subscriptions = A::SUBSCRIPTIONS.union(B::SUBSCRIPTIONS);

    #[inline(always)]
    fn in_scope(syn: &Packet<'_>) -> bool {
        A::in_scope(syn) || B::in_scope(syn)
    }

    fn initial_enabled(syn: &Packet<'_>) -> HandlerSet {
        let n = A::HANDLERS.len();
        let a = if A::in_scope(syn) {
            low_bits(A::initial_enabled(syn), n)
        } else {
            0
        };
        let b = if B::in_scope(syn) {
            B::initial_enabled(syn).checked_shl(n as u32).unwrap_or(0)
        } else {
            0
        };
        a | b
    }

    flow_entry!(pkt_in_snd);
    flow_entry!(pkt_in_rcv);
    packet_entry!(pkt_in_null);
    flow_entry!(conn_start_snd);
    flow_entry!(conn_start_rcv);
    flow_entry!(tcp_state_change_snd);
    flow_entry!(tcp_state_change_rcv);
    flow_entry!(rexmit_rcv);
    flow_entry!(conn_new_data_rcv);
    flow_entry!(conn_end_snd);
    flow_entry!(conn_end_rcv);
    packet_entry!(orphan_null);
    flow_entry!(error_rcv);
    packet_entry!(error_null);
    flow_entry!(timeout_null);
}

impl<A: AppGraphs, B: AppGraphs> AppGraphs for (A, B) {
    fn event_graphs() -> impl Iterator<Item = EventGraph> {
        A::event_graphs().chain(B::event_graphs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct A;
    struct B;

    impl App for A {
        type Flow = u8;
        type Core = ();
        const NAME: &'static str = "a";
        const HANDLERS: &'static [HandlerInfo] = &[
            HandlerInfo {
                name: "a0",
                event: "ON_PKT_IN",
                hook: Hook::Rcv,
                per_flow: false,
            },
            HandlerInfo {
                name: "a1",
                event: "ON_PKT_IN",
                hook: Hook::Snd,
                per_flow: true,
            },
        ];
        const INITIAL_ENABLED: HandlerSet = HandlerSet::MAX & !0b10;
        const SUBSCRIPTIONS: Subscriptions =
            Subscriptions::NONE.with(crate::event::Event::PktIn, Hook::Rcv);
    }

    impl App for B {
        type Flow = u16;
        type Core = ();
        const NAME: &'static str = "b";
        const HANDLERS: &'static [HandlerInfo] = &[
            HandlerInfo {
                name: "b0",
                event: "ON_ORPHAN",
                hook: Hook::Null,
                per_flow: true,
            },
            HandlerInfo {
                name: "b1",
                event: "ON_ORPHAN",
                hook: Hook::Null,
                per_flow: false,
            },
            HandlerInfo {
                name: "b2",
                event: "ON_ORPHAN",
                hook: Hook::Null,
                per_flow: false,
            },
        ];
        const INITIAL_ENABLED: HandlerSet = HandlerSet::MAX & !0b1;
        const SUBSCRIPTIONS: Subscriptions =
            Subscriptions::NONE.with(crate::event::Event::Orphan, Hook::Null);
    }

    #[test]
    fn handler_tables_are_concatenated() {
        let names: Vec<&str> = <(A, B) as App>::HANDLERS.iter().map(|h| h.name).collect();
        assert_eq!(names, ["a0", "a1", "b0", "b1", "b2"]);
        let nested: Vec<&str> = <((A, B), A) as App>::HANDLERS
            .iter()
            .map(|h| h.name)
            .collect();
        assert_eq!(nested, ["a0", "a1", "b0", "b1", "b2", "a0", "a1"]);
        assert_eq!(<(A, B) as PairConsts>::OFFSET, 2);
    }

    #[test]
    fn enable_bits_are_offset() {
        // a0 on, a1 off (per flow), b0 off (per flow), b1 and b2 on, everything above on.
        let bits = <(A, B) as App>::INITIAL_ENABLED;
        assert_eq!(bits & 0b11111, 0b11001);
        assert_eq!(bits >> 5, HandlerSet::MAX >> 5);
        let subs = <(A, B) as App>::SUBSCRIPTIONS;
        assert!(subs.contains(crate::event::Event::PktIn, Hook::Rcv));
        assert!(subs.contains(crate::event::Event::Orphan, Hook::Null));
        assert!(!subs.contains(crate::event::Event::PktIn, Hook::Snd));
    }

    #[test]
    fn core_states_merge_pairwise() {
        #[derive(Default, Debug, PartialEq)]
        struct Sum(u32);
        impl CoreState for Sum {
            fn merge(&mut self, other: Self) {
                self.0 += other.0;
            }
        }
        let mut a = (Sum(1), Sum(10));
        a.merge((Sum(2), Sum(20)));
        assert_eq!(a, (Sum(3), Sum(30)));
    }

    impl crate::graph::AppGraph for A {
        const EVENT_GRAPH: EventGraph = EventGraph {
            app: "a",
            events: &crate::graph::BUILTIN_NODES,
            handlers: &[],
        };
    }

    impl crate::graph::AppGraph for B {
        const EVENT_GRAPH: EventGraph = EventGraph {
            app: "b",
            events: &crate::graph::BUILTIN_NODES,
            handlers: &[],
        };
    }

    fn graph_names<T: AppGraphs>() -> Vec<&'static str> {
        T::event_graphs().map(|g| g.app).collect()
    }

    #[test]
    fn graphs_come_in_chain_order() {
        assert_eq!(graph_names::<A>(), ["a"]);
        assert_eq!(graph_names::<(A, B)>(), ["a", "b"]);
        assert_eq!(graph_names::<(B, A)>(), ["b", "a"]);
        assert_eq!(graph_names::<((A, B), A)>(), ["a", "b", "a"]);
        assert_eq!(graph_names::<(B, (A, (B, A)))>(), ["b", "a", "b", "a"]);
        let dot = <((A, B), A) as AppGraphs>::event_graphs_dot();
        assert!(dot.starts_with("digraph \"a + b + a\" {"), "{dot}");
        assert!(
            dot.contains("subgraph cluster_3 {\n    label=\"3: a\";"),
            "{dot}"
        );
    }

    #[test]
    fn low_bits_cover_the_whole_range() {
        assert_eq!(low_bits(HandlerSet::MAX, 0), 0);
        assert_eq!(low_bits(HandlerSet::MAX, 3), 0b111);
        assert_eq!(low_bits(HandlerSet::MAX, 128), HandlerSet::MAX);
    }
}
