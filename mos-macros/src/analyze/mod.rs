//! Analysis: every whole-program check, then the immutable [`Analysis`] codegen reads.
//!
//! Stages, all reporting into one [`Ctxt`]:
//! 1. [`graph`]: resolve each event's base and each handler's event (built-in, this app's event,
//!    or a library event by path), find cycles among this app's events, and compute each event's
//!    root built-in event.
//! 2. [`hooks`]: the hook of every handler against the hooks its root is raised at, and the
//!    signatures of handlers and filters against the context they will be given.
//! 3. [`dispatch`]: for each (built-in event, hook) entry, the tree of filter tests and handler
//!    calls in SPEC §2 order, pruned of subtrees that hold no handler at that hook.
//!
//! Codegen runs only when all of this reported nothing, so it never sees an inconsistent model.

pub mod dispatch;
pub mod graph;
pub mod hooks;

use proc_macro2::Span;
use syn::{Ident, Path};

use crate::catalog::{Builtin, Hook};
use crate::ctxt::Ctxt;
use crate::symbol;
use crate::syntax::ast::App;

pub use dispatch::{Entry, Step};

/// Most handlers an app may have (one enable bit each in a `u128`).
pub const MAX_HANDLERS: usize = 128;
/// Most child events (`raised`) an app may have (one bit each in the runtime's `Raise`).
pub const MAX_CHILD_EVENTS: usize = 64;

/// A resolved event reference.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Node {
    /// A built-in event.
    Builtin(Builtin),
    /// This app's event, by index into `App::events`.
    Local(usize),
    /// A library event, by index into [`Analysis::externals`].
    External(usize),
}

/// Where an event's base chain ends.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Root {
    /// A built-in event known at expansion time.
    Builtin(Builtin),
    /// A library event; its root built-in is `<Path as UserEvent>::ROOT` and its context
    /// `<Path as UserEvent>::CX`, known to rustc only. Its handlers' hook gives the context the
    /// macro generates for ([`external_cx`]); a `const` assertion checks it.
    External(usize),
}

/// A library event used by the app (`base = some_crate::HttpRequest`).
#[derive(Debug)]
pub struct External {
    pub path: Path,
    /// First use, for declaration order.
    pub decl: usize,
}

/// An app event after resolution.
#[derive(Clone, Debug)]
pub struct ResolvedEvent {
    pub base: Node,
    pub root: Root,
    /// For a `raised` child: its bit in the runtime's `Raise` set.
    pub child_bit: Option<u8>,
}

/// A handler after resolution.
#[derive(Clone, Debug)]
pub struct ResolvedHandler {
    pub event: Node,
    pub root: Root,
    pub hook: Hook,
    /// Span of the hook as written, or of `#[on]` when it was inferred.
    pub hook_span: Span,
}

/// The context a library event has at `hook`: a flow at `SND` and `RCV`, none at `NULL` (a
/// library event is never based on `ON_TIMEOUT`, the one flow event raised at `NULL`).
pub fn external_cx(hook: Hook) -> crate::catalog::CxKind {
    match hook {
        Hook::Snd | Hook::Rcv => crate::catalog::CxKind::Flow,
        Hook::Null => crate::catalog::CxKind::Packet,
    }
}

/// Everything codegen needs, all checked.
#[derive(Debug)]
pub struct Analysis {
    pub flow: Option<Ident>,
    pub core: Option<Ident>,
    pub core_merge: Option<Path>,
    /// `#[core_state(fork = g)]`.
    pub core_fork: Option<Path>,
    /// Parallel to `App::events`.
    pub events: Vec<ResolvedEvent>,
    /// Parallel to `App::handlers`; the index is the `HandlerId`.
    pub handlers: Vec<ResolvedHandler>,
    pub externals: Vec<External>,
    /// One per (built-in, hook) entry with at least one handler (external ones included).
    pub entries: Vec<Entry>,
}

impl Analysis {
    /// The display name of an event node (graph, `HandlerInfo::event`).
    pub fn node_name(&self, app: &App, node: Node) -> String {
        match node {
            Node::Builtin(b) => b.name().to_owned(),
            Node::Local(i) => event_name(app, i),
            Node::External(i) => quote::ToTokens::to_token_stream(&self.externals[i].path)
                .to_string()
                .replace(' ', ""),
        }
    }
}

/// The display name of app event `i`: its struct name, or for an anonymous event
/// `BASE[filter]` (what it is, since it has no name of its own).
pub fn event_name(app: &App, i: usize) -> String {
    let def = &app.events[i];
    if !def.anonymous {
        return def.ident.to_string();
    }
    let base = match &def.base {
        Some(crate::syntax::ast::EventRef::Name(n)) => n.to_string(),
        Some(crate::syntax::ast::EventRef::Path(p)) => quote::ToTokens::to_token_stream(p)
            .to_string()
            .replace(' ', ""),
        None => String::from("?"),
    };
    let filter = def
        .filter
        .as_ref()
        .map(|f| {
            quote::ToTokens::to_token_stream(f)
                .to_string()
                .replace(' ', "")
        })
        .unwrap_or_default();
    format!("{base}[{filter}]")
}

/// Run every check. `None` when something was reported (codegen must not run).
pub fn analyze(cx: &Ctxt, app: &App) -> Option<Analysis> {
    check_names(cx, app);
    let (flow, core, core_merge, core_fork) = states(cx, app);
    let resolved = graph::resolve(cx, app);
    let handlers = hooks::check(cx, app, &resolved, flow.as_ref(), core.as_ref());
    if cx.has_errors() {
        return None;
    }
    let entries = dispatch::build(app, &resolved, &handlers);
    hooks::check_filters(cx, app, &resolved, &entries, flow.as_ref(), core.as_ref());
    if cx.has_errors() {
        return None;
    }
    let needs_flow = entries
        .iter()
        .any(|e| e.builtin.cx_kind(e.hook) == crate::catalog::CxKind::Flow);
    if flow.is_none() && needs_flow {
        cx.error_spanned_by(
            &app.name,
            "this app handles flow events but has no per-connection state: add `#[flow_state] #[derive(Default)] pub struct Flow { .. }` to the module (an empty struct is fine)",
        );
        return None;
    }
    Some(Analysis {
        flow,
        core,
        core_merge,
        core_fork,
        events: resolved.events,
        handlers,
        externals: resolved.externals,
        entries,
    })
}

/// Names the macro generates must be free; events and handlers must be unique.
fn check_names(cx: &Ctxt, app: &App) {
    let reserved = [
        symbol::GENERATED_APP_TYPE,
        symbol::GENERATED_HANDLERS_MOD,
        symbol::GENERATED_EVENTS_MOD,
    ];
    for item in &app.items {
        let ident = match item {
            syn::Item::Struct(i) => Some(&i.ident),
            syn::Item::Enum(i) => Some(&i.ident),
            syn::Item::Type(i) => Some(&i.ident),
            syn::Item::Union(i) => Some(&i.ident),
            syn::Item::Mod(i) => Some(&i.ident),
            syn::Item::Trait(i) => Some(&i.ident),
            syn::Item::Const(i) => Some(&i.ident),
            syn::Item::Static(i) => Some(&i.ident),
            _ => None,
        };
        if let Some(ident) = ident {
            let name = ident.to_string();
            if reserved.contains(&name.as_str()) {
                cx.error_spanned_by(
                    ident,
                    format!("`{name}` is generated by #[mos_runtime::app] in this module; rename this item"),
                );
            }
        }
    }
    for (i, ev) in app.events.iter().enumerate() {
        if ev.anonymous {
            continue;
        }
        let name = ev.ident.to_string();
        if Builtin::from_name(&name).is_some() {
            cx.error_spanned_by(
                &ev.ident,
                format!("`{name}` is a built-in event; give this event another name"),
            );
        }
        if app.events[..i]
            .iter()
            .any(|e| !e.anonymous && e.ident == ev.ident)
        {
            cx.error_spanned_by(
                &ev.ident,
                format!("duplicate event `{name}`: an app declares each event once"),
            );
        }
    }
    for (i, h) in app.handlers.iter().enumerate() {
        if app.handlers[..i].iter().any(|o| o.ident == h.ident) {
            cx.error_spanned_by(
                &h.ident,
                format!(
                    "duplicate handler `{}`: handler names must be unique in an app",
                    h.ident
                ),
            );
        }
        if i == MAX_HANDLERS {
            cx.error_spanned_by(
                &h.ident,
                format!(
                    "too many handlers: an app has at most {MAX_HANDLERS} (one enable bit each)"
                ),
            );
        }
    }
}

/// `#[flow_state]` and `#[core_state]`: at most one each.
#[allow(clippy::type_complexity)] // the two state types and the two core functions
fn states(cx: &Ctxt, app: &App) -> (Option<Ident>, Option<Ident>, Option<Path>, Option<Path>) {
    let flow = app.flow_states.first().map(|s| s.ident.clone());
    if let Some(first) = app.flow_states.first() {
        for dup in &app.flow_states[1..] {
            cx.error_spanned_by(
                &dup.attr,
                format!("duplicate #[flow_state]: an app has one per-connection state type, and `{}` already is; put both in one struct", first.ident),
            );
        }
    }
    let core = app.core_states.first();
    if let Some(first) = core {
        for dup in &app.core_states[1..] {
            cx.error_spanned_by(
                &dup.attr,
                format!("duplicate #[core_state]: an app has one per-core state type, and `{}` already is; put both in one struct", first.ident),
            );
        }
    }
    (
        flow,
        core.map(|c| c.ident.clone()),
        core.and_then(|c| c.merge.clone()),
        core.and_then(|c| c.fork.clone()),
    )
}
