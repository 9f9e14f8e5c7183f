//! User-defined events that live in a library and the child-event set of raising filters.
//!
//! # Library events
//! `#[mos_runtime::event(base = .., filter = ..)]` on a `pub struct` outside any app defines a
//! reusable user-defined event (mOS's "UDE library"): the macro implements [`UserEvent`] for the
//! struct. An app in another crate builds on it with `base = some_crate::HttpRequest` or handles
//! it with `#[on(event = some_crate::HttpRequest, hook = RCV)]`. Because a library filter cannot
//! know the app's flow and core types, it is generic over them:
//!
//! ```ignore
//! #[mos_runtime::event(base = ON_CONN_NEW_DATA, filter = is_http_request)]
//! pub struct HttpRequest;
//!
//! pub fn is_http_request<F, C>(cx: &FilterCx<'_, F, C>) -> bool { /* ... */ }
//! ```
//!
//! The app macro cannot see a library event's root built-in event (it is a different crate), so
//! the hook of a handler on a library event is checked by a `const` assertion the app macro emits
//! at the hook the user wrote, and the event's subtree is placed behind a `const` test of
//! [`UserEvent::ROOT`] that the compiler folds away. A library event built on another library
//! event tests its base's filter first, inside its own [`UserEvent::filter`].
//!
//! # Child events raised by a filter
//! An app event declared `#[event(base = Matcher, raised)]` has no filter of its own: the filter
//! of `Matcher` raises it. Such a filter takes a second parameter, `raise: &mut Raise`, and calls
//! `raise.raise(events::GetRequest)` for each child it found (a multi-pattern matcher raising one
//! child per pattern, say). After the filter returns `true`, each raised child's subtree is
//! dispatched once, in declaration order, however often it was raised.

use crate::cx::FilterCx;
use crate::event::Event;

/// A user-defined event defined in a library (implemented by `#[mos_runtime::event]`).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a user-defined event",
    label = "not declared with #[mos_runtime::event]",
    note = "a library event is a `pub struct` with `#[mos_runtime::event(base = .., filter = ..)]`; an event of this app is named without a path"
)]
pub trait UserEvent: 'static {
    /// The event's name (its type's name).
    const NAME: &'static str;
    /// The built-in event its base chain ends at; its handlers run at that event's hooks.
    const ROOT: Event;
    /// The filter's name (for the event graph).
    const FILTER: &'static str;

    /// Whether the event happened: the base's filter (for a library event on a library event),
    /// then this event's own filter.
    fn filter<F, C>(cx: &FilterCx<'_, F, C>) -> bool;
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
