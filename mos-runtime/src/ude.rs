//! User-defined events that live in a library and the child-event set of raising filters.
//!
//! # Library events
//! `#[mos_runtime::event(base = .., filter = ..)]` on a `pub struct` outside any app defines a
//! reusable user-defined event (mOS's "UDE library"): the macro implements [`UserEvent`] for the
//! struct. An app in another crate builds on it with `base = some_crate::HttpRequest` or handles
//! it with `#[on(event = some_crate::HttpRequest, hook = RCV)]`. Because a library filter cannot
//! know the app's flow and core types, it is generic over them. Its parameter says which
//! context the event has ([`CxKind`]):
//!
//! ```ignore
//! // A flow event: raised at SND or RCV, handlers get `&mut Cx`.
//! #[mos_runtime::event(base = ON_CONN_NEW_DATA, filter = is_http_request)]
//! pub struct HttpRequest;
//! pub fn is_http_request<F, C>(cx: &FilterCx<'_, F, C>) -> bool { /* ... */ }
//!
//! // A packet-level event: raised at NULL (packets without a flow, such as UDP), handlers get
//! // `&mut PacketCx`. Base `ON_PKT_IN`, `ON_ORPHAN` or `ON_ERROR`.
//! #[mos_runtime::event(base = ON_PKT_IN, filter = is_dns_query)]
//! pub struct DnsQuery;
//! pub fn is_dns_query<C>(cx: &PacketCx<'_, C>) -> bool { /* ... */ }
//! ```
//!
//! The rule for apps is the hook: a library event is handled at `SND` or `RCV` with a flow
//! context, at `NULL` without one. (`ON_TIMEOUT`, raised at `NULL` *with* a flow for the app's
//! own timers, is therefore not a base for library events; an app declares such events itself.)
//!
//! The macro cannot see the filter's signature (the filter is a path to a fn it is not
//! applied to), so the signature is read by the type system: [`LibraryFilter`] is implemented
//! for both shapes of filter and gives [`UserEvent::CX`]; a `const` assertion next to the impl
//! checks it against the base (a flow filter on `ON_ORPHAN`, or a packet filter on a flow
//! library event, does not compile). [`UserEvent`] has both filter methods,
//! [`UserEvent::filter`] and [`UserEvent::packet_filter`]; the one that does not fit the event's
//! context returns `false` and is never called.
//!
//! The app macro cannot see a library event's root built-in event or context either (they are
//! constants of a different crate), so the hook of a handler on a library event is checked by a
//! `const` assertion the app macro emits at the hook the user wrote, and the event's subtree is
//! placed behind a `const` test of [`UserEvent::ROOT`] and [`UserEvent::CX`] that the compiler
//! folds away. A library event built on another library event tests its base's filter first,
//! inside its own filter method.
//!
//! # Child events raised by a filter
//! An app event declared `#[event(base = Matcher, raised)]` has no filter of its own: the filter
//! of `Matcher` raises it. Such a filter takes a second parameter, `raise: &mut Raise`, and calls
//! `raise.raise(events::GetRequest)` for each child it found (a multi-pattern matcher raising one
//! child per pattern, say). After the filter returns `true`, each raised child's subtree is
//! dispatched once, in declaration order, however often it was raised.

use crate::cx::{FilterCx, PacketCx};
use crate::event::Event;

/// The context an event's filter and handlers get.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum CxKind {
    /// A flow event, on a connection: filters take `&FilterCx`, handlers `&mut Cx` (hooks
    /// `SND`, `RCV`).
    FlowLevel,
    /// A packet-level event, on a packet without a flow: filters take `&PacketCx`, handlers
    /// `&mut PacketCx` (hook `NULL` of `ON_PKT_IN`, `ON_ORPHAN` and `ON_ERROR`).
    PacketLevel,
}

/// A user-defined event defined in a library (implemented by `#[mos_runtime::event]`).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a user-defined event",
    label = "not declared with #[mos_runtime::event]",
    note = "a library event is a `pub struct` with `#[mos_runtime::event(base = .., filter = ..)]`; an event of this app is named without a path"
)]
pub trait UserEvent: 'static {
    /// The event's name (its type's name).
    const NAME: &'static str;
    /// The built-in event its base chain ends at; its handlers run at that event's hooks that
    /// have the context [`CX`](Self::CX).
    const ROOT: Event;
    /// Flow or packet-level: what the filter takes (`&FilterCx` or `&PacketCx`), hence the
    /// hooks (`SND`/`RCV`, or `NULL`).
    const CX: CxKind;
    /// The filter's name (for the event graph).
    const FILTER: &'static str;

    /// For a flow event: whether the event happened, the base's filter first (for a library
    /// event on a library event), then this event's own. `false` for a packet-level event.
    fn filter<F, C>(cx: &FilterCx<'_, F, C>) -> bool;

    /// For a packet-level event: whether the event happened, the base's filter first, then
    /// this event's own. `false` for a flow event.
    fn packet_filter<C>(cx: &PacketCx<'_, C>) -> bool;
}

/// Marker of a flow filter (`fn(&FilterCx<'_, F, C>) -> bool`) for [`LibraryFilter`].
#[doc(hidden)]
#[derive(Debug)]
pub enum FlowFilter {}

/// Marker of a packet filter (`fn(&PacketCx<'_, C>) -> bool`) for [`LibraryFilter`].
#[doc(hidden)]
#[derive(Debug)]
pub enum PacketFilter {}

/// A library event's filter, of either shape: generated code calls it through this trait, so
/// the filter's own signature decides the event's context. `M` ([`FlowFilter`] or
/// [`PacketFilter`]) is inferred: exactly one of the two impls applies to a fn.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a library event filter",
    label = "a library filter is generic over the app's types and returns `bool`",
    note = "for a flow event: `fn f<F, C>(cx: &FilterCx<'_, F, C>) -> bool`; for a packet-level event (base ON_PKT_IN, ON_ORPHAN or ON_ERROR, handled at NULL): `fn f<C>(cx: &PacketCx<'_, C>) -> bool`"
)]
pub trait LibraryFilter<M, F, C> {
    /// The context the filter takes.
    const CX: CxKind;
    /// Call a flow filter (`false` for a packet filter).
    fn call_flow(&self, cx: &FilterCx<'_, F, C>) -> bool;
    /// Call a packet filter (`false` for a flow filter).
    fn call_packet(&self, cx: &PacketCx<'_, C>) -> bool;
}

impl<Func, F, C> LibraryFilter<FlowFilter, F, C> for Func
where
    Func: Fn(&FilterCx<'_, F, C>) -> bool,
{
    const CX: CxKind = CxKind::FlowLevel;

    #[inline(always)]
    fn call_flow(&self, cx: &FilterCx<'_, F, C>) -> bool {
        self(cx)
    }

    #[inline(always)]
    fn call_packet(&self, _cx: &PacketCx<'_, C>) -> bool {
        false
    }
}

impl<Func, F, C> LibraryFilter<PacketFilter, F, C> for Func
where
    Func: Fn(&PacketCx<'_, C>) -> bool,
{
    const CX: CxKind = CxKind::PacketLevel;

    #[inline(always)]
    fn call_flow(&self, _cx: &FilterCx<'_, F, C>) -> bool {
        false
    }

    #[inline(always)]
    fn call_packet(&self, cx: &PacketCx<'_, C>) -> bool {
        self(cx)
    }
}

/// The context a library filter takes (for [`UserEvent::CX`]).
#[doc(hidden)]
pub const fn filter_cx<M, Func: LibraryFilter<M, (), ()>>(_filter: &Func) -> CxKind {
    Func::CX
}

/// Whether a library event with `root` and `cx` is dispatched at an entry of built-in event
/// `entry` with context `entry_cx` (folded at compile time by `if const { .. }`).
#[doc(hidden)]
pub const fn is_root(root: Event, cx: CxKind, entry: Event, entry_cx: CxKind) -> bool {
    root as u8 == entry as u8 && cx as u8 == entry_cx as u8
}

/// A child event of an app (`#[event(.., raised)]`), as named by generated code
/// (`events::GetRequest`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct ChildEvent(pub u8);

/// The child events a filter raised during one occurrence of its event (a bit set; raising twice
/// is raising once).
#[derive(Clone, Copy, PartialEq, Eq, Default, Debug)]
pub struct Raise {
    bits: u64,
}

impl Raise {
    /// Nothing raised.
    #[inline(always)]
    pub const fn new() -> Self {
        Raise { bits: 0 }
    }

    /// Raise `event`: its subtree is dispatched once after the filter returns `true`.
    #[inline(always)]
    pub fn raise(&mut self, event: ChildEvent) {
        if let Some(bit) = 1u64.checked_shl(u32::from(event.0)) {
            self.bits |= bit;
        }
    }

    /// Whether `event` was raised.
    #[inline(always)]
    pub const fn is_raised(&self, event: ChildEvent) -> bool {
        match 1u64.checked_shl(event.0 as u32) {
            Some(bit) => self.bits & bit != 0,
            None => false,
        }
    }

    /// Whether anything was raised (a handy return value for a pure matcher filter).
    #[inline(always)]
    pub const fn any(&self) -> bool {
        self.bits != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flow_filter<F, C>(_cx: &FilterCx<'_, F, C>) -> bool {
        true
    }

    fn packet_filter<C>(_cx: &PacketCx<'_, C>) -> bool {
        true
    }

    #[test]
    fn a_filter_signature_gives_its_context() {
        const FLOW: CxKind = filter_cx(&flow_filter);
        const PACKET: CxKind = filter_cx(&packet_filter);
        assert_eq!((FLOW, PACKET), (CxKind::FlowLevel, CxKind::PacketLevel));
        assert!(is_root(
            Event::PktIn,
            CxKind::PacketLevel,
            Event::PktIn,
            CxKind::PacketLevel
        ));
        assert!(!is_root(
            Event::PktIn,
            CxKind::PacketLevel,
            Event::PktIn,
            CxKind::FlowLevel
        ));
        assert!(!is_root(
            Event::PktIn,
            CxKind::PacketLevel,
            Event::Orphan,
            CxKind::PacketLevel
        ));
    }

    #[test]
    fn raise_is_a_set() {
        let mut r = Raise::new();
        assert!(!r.any());
        r.raise(ChildEvent(3));
        r.raise(ChildEvent(3));
        r.raise(ChildEvent(63));
        assert!(r.is_raised(ChildEvent(3)));
        assert!(r.is_raised(ChildEvent(63)));
        assert!(!r.is_raised(ChildEvent(0)));
        assert!(r.any());
        // Out-of-range ids are ignored, never a panic.
        r.raise(ChildEvent(64));
        assert!(!r.is_raised(ChildEvent(64)));
        assert_eq!(r.bits, (1 << 3) | (1 << 63));
    }
}
