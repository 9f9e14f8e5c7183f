//! The parsed app: plain data, every node keeping the user's tokens for error spans.
//!
//! Nothing here is validated beyond "each attribute parsed": names are not resolved, hooks not
//! checked against events, signatures not inspected. That is the analysis' job.

use proc_macro2::Span;
use syn::{Attribute, Ident, Item, LitStr, Path, Signature, Visibility};

use crate::catalog::Hook;
use crate::scope::Scope;

/// `#[app(..)] mod name { .. }`.
#[derive(Debug)]
pub struct App {
    /// The module's outer attributes (minus `#[app]`, which the compiler already removed).
    pub attrs: Vec<Attribute>,
    pub vis: Visibility,
    /// The module's name; also the app's `NAME`.
    pub name: Ident,
    /// `scope = "..."`, parsed.
    pub scope: Option<ScopeArg>,
    /// Every `#[flow_state]` item (exactly one is valid; the analysis says so).
    pub flow_states: Vec<StateDef>,
    /// Every `#[core_state]` item (at most one is valid).
    pub core_states: Vec<CoreStateDef>,
    /// User-defined events, named and anonymous, in declaration order.
    pub events: Vec<EventDef>,
    /// Handlers in declaration order; their position is their `HandlerId`.
    pub handlers: Vec<HandlerDef>,
    /// The module's items with the DSL's helper attributes removed, re-emitted verbatim.
    pub items: Vec<Item>,
}

/// The `scope` argument: the literal (for spans) and its parse.
#[derive(Debug)]
pub struct ScopeArg {
    pub lit: LitStr,
    pub expr: Scope,
}

/// A `#[flow_state]` item.
#[derive(Debug)]
pub struct StateDef {
    /// The type's name.
    pub ident: Ident,
    /// The helper attribute (error span for duplicates).
    pub attr: Attribute,
}

/// A `#[core_state]` or `#[core_state(merge = f, fork = g)]` item.
#[derive(Debug)]
pub struct CoreStateDef {
    pub ident: Ident,
    pub attr: Attribute,
    /// `fn(&mut Core, Core)` folding another worker's state in.
    pub merge: Option<Path>,
    /// `fn(&Core) -> Core` making another worker's initial state from the first one's.
    pub fork: Option<Path>,
}

/// How an event is named where it is used as a base or a handler's event.
#[derive(Clone, Debug)]
pub enum EventRef {
    /// A bare name: a built-in (`ON_PKT_IN`, also `prelude::ON_PKT_IN`) or an event of this app.
    Name(Ident),
    /// A path to a library event type (`some_crate::HttpRequest`), implementing
    /// `mos_runtime::ude::UserEvent`.
    Path(Path),
}

/// `#[event(base = .., filter = ..)]` on a struct (named) or on a handler fn (anonymous).
#[derive(Debug)]
pub struct EventDef {
    /// The struct's name, or for an anonymous event the handler's name.
    pub ident: Ident,
    /// Declared on a handler fn rather than a struct.
    pub anonymous: bool,
    /// `base = ..`; `None` if missing (already reported).
    pub base: Option<EventRef>,
    /// `filter = ..`.
    pub filter: Option<Path>,
    /// `raised`: a child event its base's filter raises, with no filter of its own.
    pub raised: Option<Ident>,
    /// The whole attribute, for errors about it as a whole.
    pub attr: Attribute,
    /// Position among events and handlers (declaration order of the graph).
    pub decl: usize,
    /// The attribute had errors already reported (no "missing key" follow-ups).
    pub malformed: bool,
}

/// A hook as written.
#[derive(Clone, Debug)]
pub struct HookRef {
    pub hook: Hook,
    pub ident: Ident,
}

/// `#[on(..)] fn name(cx: ..) { .. }`.
#[derive(Debug)]
pub struct HandlerDef {
    pub ident: Ident,
    pub sig: Signature,
    /// `event = ..`; `None` when omitted (an anonymous event's handler, or an error).
    pub event: Option<EventRef>,
    /// `hook = ..`; `None` when omitted (allowed when the event has a single hook).
    pub hook: Option<HookRef>,
    /// `per_flow`: starts disabled on every flow.
    pub per_flow: bool,
    /// Index into [`App::events`] of the anonymous event declared on this fn.
    pub anonymous_event: Option<usize>,
    /// The `#[on]` attribute.
    pub attr: Attribute,
    /// Position among events and handlers.
    pub decl: usize,
    /// The attribute had errors already reported (no "missing key" follow-ups).
    pub malformed: bool,
}

impl HandlerDef {
    /// Span of the whole `#[on(..)]`, for errors about a missing key.
    pub fn attr_span(&self) -> Span {
        use syn::spanned::Spanned;
        self.attr.span()
    }
}
