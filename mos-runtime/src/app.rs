//! The dispatch contract between an app and the runtime.
//!
//! An app is a type implementing [`App`]. The `#[mos_runtime::app]` macro generates that impl
//! from annotated handlers; tests and hand-written apps may implement it directly. The runtime
//! never looks up handlers at run time: for each (built-in event, hook) pair it calls one
//! monomorphic associated function of the app (`pkt_in_snd`, `conn_end_rcv`, ...). The
//! generated bodies are straight-line code — handler calls and `if filter(..)` tests — so the
//! compiler can inline the whole dispatch into the engine's packet loop. Entries an app does not
//! override are empty and vanish after inlining; [`App::SUBSCRIPTIONS`] additionally lets the
//! engine skip building a context for them.
//!
//! Per-flow (de)activation of handlers (mOS's per-connection registration) is a bit set per flow:
//! [`HandlerSet`], initialised from [`App::INITIAL_ENABLED`]; generated code tests one bit before
//! each call.

use crate::cx::{Cx, PacketCx};
use crate::event::{Event, Hook};
use crate::wire::Packet;

/// Per-flow enable bits of an app's handlers (bit `i` = handler `i`). At most 128 handlers per
/// runtime (all apps of a `run::<(A, B)>()` together).
pub type HandlerSet = u128;

/// Largest number of handlers a runtime can switch per flow.
pub const MAX_HANDLERS: usize = 128;

/// A handler of an app, as named by generated code (`handlers::log_request`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct HandlerId(pub u8);

/// Static description of one handler (for reports and the event graph).
#[derive(Clone, Copy, Debug)]
pub struct HandlerInfo {
    /// The handler function's name.
    pub name: &'static str,
    /// The event it handles: a built-in (`ON_PKT_IN`) or a user-defined event's name.
    pub event: &'static str,
    /// The hook it runs at.
    pub hook: Hook,
    /// Whether it starts disabled on every flow (`#[on(.., per_flow)]`).
    pub per_flow: bool,
}

/// The (built-in event, hook) pairs an app has at least one handler below.
///
/// One bit per dispatch entry of [`App`]; the engine skips entries whose bit is clear.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct Subscriptions(pub u16);

impl Subscriptions {
    /// Nothing subscribed.
    pub const NONE: Subscriptions = Subscriptions(0);
    /// Every entry subscribed (hand-written apps that override freely).
    pub const ALL: Subscriptions = Subscriptions((1 << 15) - 1);

    /// The bit of an (event, hook) pair, or `None` when the event is never raised there.
    pub const fn slot(event: Event, hook: Hook) -> Option<u16> {
        let slot = match (event, hook) {
            (Event::PktIn, Hook::Snd) => 0,
            (Event::PktIn, Hook::Rcv) => 1,
            (Event::PktIn, Hook::Null) => 2,
            (Event::ConnStart, Hook::Snd) => 3,
            (Event::ConnStart, Hook::Rcv) => 4,
            (Event::TcpStateChange, Hook::Snd) => 5,
            (Event::TcpStateChange, Hook::Rcv) => 6,
            (Event::Rexmit, Hook::Rcv) => 7,
            (Event::ConnNewData, Hook::Rcv) => 8,
            (Event::ConnEnd, Hook::Snd) => 9,
            (Event::ConnEnd, Hook::Rcv) => 10,
            (Event::Orphan, Hook::Null) => 11,
            (Event::Error, Hook::Rcv) => 12,
            (Event::Error, Hook::Null) => 13,
            (Event::Timeout, Hook::Null) => 14,
            _ => return None,
        };
        Some(slot)
    }

    /// `self` plus the pair. Pairs the event is never raised at are ignored (the macro rejects
    /// them at compile time).
    pub const fn with(self, event: Event, hook: Hook) -> Subscriptions {
        match Self::slot(event, hook) {
            Some(slot) => Subscriptions(self.0 | (1 << slot)),
            None => self,
        }
    }

    /// Whether the pair is subscribed.
    #[inline(always)]
    pub const fn contains(self, event: Event, hook: Hook) -> bool {
        match Self::slot(event, hook) {
            Some(slot) => self.0 & (1 << slot) != 0,
            None => false,
        }
    }

    /// The union of two sets (several apps on one runtime).
    pub const fn union(self, other: Subscriptions) -> Subscriptions {
        Subscriptions(self.0 | other.0)
    }
}

/// App-wide state kept once per worker core, merged at the end of a run.
pub trait CoreState: Default + Send + 'static {
    /// Fold another worker's state into this one (`cores(n)` runs). The default keeps `self`.
    fn merge(&mut self, other: Self) {
        let _ = other;
    }

    /// The state another worker starts with when a run is given an initial state
    /// ([`crate::Runtime::run_init`] with `cores(n)`, n > 1): worker 0 gets the initial state
    /// itself, workers 1.. get its fork. Override it to copy configuration the handlers read;
    /// the default is a fresh `Default`.
    fn fork(&self) -> Self {
        Self::default()
    }
}

impl CoreState for () {}

/// A middlebox program: the dispatch entries the engine calls, one per (built-in event, hook).
///
/// Every entry has an empty default, so a hand-written app overrides only what it handles.
/// Within one hook the engine calls the entries in SPEC order: `ON_PKT_IN`, `ON_CONN_START`,
/// `ON_TCP_STATE_CHANGE`, `ON_REXMIT`, `ON_CONN_END`.
pub trait App: Sized + 'static {
    /// Per-connection state (`#[flow_state]`), created with `Default` when a flow starts and
    /// dropped when it ends. Preallocated for `max_flows` connections at start-up.
    type Flow: Default + Send + 'static;
    /// Per-worker state (`#[core_state]`); `()` when the app has none.
    type Core: CoreState;

    /// The app's name (its module name for generated apps).
    const NAME: &'static str;
    /// The app's handlers, indexed by [`HandlerId`].
    const HANDLERS: &'static [HandlerInfo] = &[];
    /// Handlers enabled when a flow starts (handlers declared `per_flow` start off).
    const INITIAL_ENABLED: HandlerSet = HandlerSet::MAX;
    /// Which dispatch entries have handlers below them.
    const SUBSCRIPTIONS: Subscriptions = Subscriptions::ALL;

    /// The app's `scope`: evaluated on the SYN that would start a connection; `false` makes it an
    /// orphan (`OrphanReason::OutOfScope`).
    #[inline(always)]
    fn in_scope(syn: &Packet<'_>) -> bool {
        let _ = syn;
        true
    }

    /// The handler bits a new flow starts with, decided on its SYN. Several apps on one
    /// runtime enable each app's handlers only when that app's scope matches.
    #[inline(always)]
    fn initial_enabled(syn: &Packet<'_>) -> HandlerSet {
        let _ = syn;
        Self::INITIAL_ENABLED
    }

    /// `ON_PKT_IN` at `SND`.
    #[inline(always)]
    fn pkt_in_snd(cx: &mut Cx<'_, Self::Flow, Self::Core>) {
        let _ = cx;
    }
    /// `ON_PKT_IN` at `RCV`.
    #[inline(always)]
    fn pkt_in_rcv(cx: &mut Cx<'_, Self::Flow, Self::Core>) {
        let _ = cx;
    }
    /// `ON_PKT_IN` at `NULL` (packets with no flow context).
    #[inline(always)]
    fn pkt_in_null(cx: &mut PacketCx<'_, Self::Core>) {
        let _ = cx;
    }
    /// `ON_CONN_START` at `SND` (client side).
    #[inline(always)]
    fn conn_start_snd(cx: &mut Cx<'_, Self::Flow, Self::Core>) {
        let _ = cx;
    }
    /// `ON_CONN_START` at `RCV` (server side).
    #[inline(always)]
    fn conn_start_rcv(cx: &mut Cx<'_, Self::Flow, Self::Core>) {
        let _ = cx;
    }
    /// `ON_TCP_STATE_CHANGE` at `SND`.
    #[inline(always)]
    fn tcp_state_change_snd(cx: &mut Cx<'_, Self::Flow, Self::Core>) {
        let _ = cx;
    }
    /// `ON_TCP_STATE_CHANGE` at `RCV`.
    #[inline(always)]
    fn tcp_state_change_rcv(cx: &mut Cx<'_, Self::Flow, Self::Core>) {
        let _ = cx;
    }
    /// `ON_REXMIT` at `RCV`.
    #[inline(always)]
    fn rexmit_rcv(cx: &mut Cx<'_, Self::Flow, Self::Core>) {
        let _ = cx;
    }
    /// `ON_CONN_NEW_DATA` at `RCV` (after the batch; no packet).
    #[inline(always)]
    fn conn_new_data_rcv(cx: &mut Cx<'_, Self::Flow, Self::Core>) {
        let _ = cx;
    }
    /// `ON_CONN_END` at `SND`.
    #[inline(always)]
    fn conn_end_snd(cx: &mut Cx<'_, Self::Flow, Self::Core>) {
        let _ = cx;
    }
    /// `ON_CONN_END` at `RCV`.
    #[inline(always)]
    fn conn_end_rcv(cx: &mut Cx<'_, Self::Flow, Self::Core>) {
        let _ = cx;
    }
    /// `ON_ORPHAN` at `NULL`.
    #[inline(always)]
    fn orphan_null(cx: &mut PacketCx<'_, Self::Core>) {
        let _ = cx;
    }
    /// `ON_ERROR` at `RCV` (with flow context).
    #[inline(always)]
    fn error_rcv(cx: &mut Cx<'_, Self::Flow, Self::Core>) {
        let _ = cx;
    }
    /// `ON_ERROR` at `NULL` (no flow context).
    #[inline(always)]
    fn error_null(cx: &mut PacketCx<'_, Self::Core>) {
        let _ = cx;
    }
    /// `ON_TIMEOUT` at `NULL` (with flow context, no packet).
    #[inline(always)]
    fn timeout_null(cx: &mut Cx<'_, Self::Flow, Self::Core>) {
        let _ = cx;
    }
}
