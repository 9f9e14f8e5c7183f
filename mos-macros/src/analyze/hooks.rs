//! Hooks against the events' roots, and handler/filter signatures against the context they get.
//!
//! Signatures are checked syntactically here only for the shapes a user gets wrong in a way
//! rustc would explain poorly (a flow context where there is no flow, `&mut` in a filter, a
//! missing `-> bool`). Everything else — the exact flow and core types — is checked by rustc on
//! the generated calls, which carry the user's spans.

use proc_macro2::Span;
use syn::{FnArg, Ident, ReturnType, Type};

use super::graph::Resolved;
use super::{Entry, Node, ResolvedHandler, Root, Step, event_name};
use crate::catalog::{Builtin, CxKind, Hook};
use crate::ctxt::Ctxt;
use crate::syntax::ast::App;

/// How the user should write a context type, given the app's state types.
struct Suggest<'a> {
    flow: Option<&'a Ident>,
    core: Option<&'a Ident>,
}

impl Suggest<'_> {
    fn flow_name(&self) -> String {
        self.flow
            .map_or_else(|| "Flow".to_owned(), Ident::to_string)
    }

    fn cx(&self) -> String {
        match self.core {
            Some(core) => format!("&mut Cx<'_, {}, {core}>", self.flow_name()),
            None => format!("&mut Cx<'_, {}>", self.flow_name()),
        }
    }

    fn packet_cx(&self, mutable: bool) -> String {
        let m = if mutable { "&mut " } else { "&" };
        match self.core {
            Some(core) => format!("{m}PacketCx<'_, {core}>"),
            None => format!("{m}PacketCx<'_>"),
        }
    }

    fn filter_cx(&self) -> String {
        match self.core {
            Some(core) => format!("&FilterCx<'_, {}, {core}>", self.flow_name()),
            None => format!("&FilterCx<'_, {}>", self.flow_name()),
        }
    }

    fn handler(&self, kind: CxKind) -> String {
        match kind {
            CxKind::Flow => self.cx(),
            CxKind::Packet => self.packet_cx(true),
        }
    }

    fn filter(&self, kind: CxKind) -> String {
        match kind {
            CxKind::Flow => self.filter_cx(),
            CxKind::Packet => self.packet_cx(false),
        }
    }
}

/// The root of a node, given resolved events.
fn root_of(resolved: &Resolved, node: Node) -> Root {
    match node {
        Node::Builtin(b) => Root::Builtin(b),
        Node::Local(i) => resolved.events[i].root,
        Node::External(x) => Root::External(x),
    }
}

/// Check every handler's hook and parameter; returns the resolved handlers (complete only when
/// nothing was reported).
pub fn check(
    cx: &Ctxt,
    app: &App,
    resolved: &Resolved,
    flow: Option<&Ident>,
    core: Option<&Ident>,
) -> Vec<ResolvedHandler> {
    let suggest = Suggest { flow, core };
    let mut out = Vec::with_capacity(app.handlers.len());
    for (i, h) in app.handlers.iter().enumerate() {
        let Some(node) = resolved.handler_events[i] else {
            out.push(placeholder());
            continue;
        };
        let root = root_of(resolved, node);
        let event_label = match node {
            Node::Builtin(b) => b.name().to_owned(),
            Node::Local(e) => format!("`{}`", event_name(app, e)),
            Node::External(x) => format!(
                "`{}`",
                quote::ToTokens::to_token_stream(&resolved.externals[x].path)
                    .to_string()
                    .replace(' ', "")
            ),
        };
        let hook = match (&h.hook, root) {
            (Some(hook), Root::Builtin(b)) => {
                if !b.raised_at(hook.hook) {
                    let via = if matches!(node, Node::Builtin(_)) {
                        String::new()
                    } else {
                        format!("{event_label} derives from {b}, which ")
                    };
                    let msg = if via.is_empty() {
                        format!(
                            "{b} is not raised at {}; it is raised {}: write {}",
                            hook.hook,
                            b.hooks_prose(),
                            hook_choices(b)
                        )
                    } else {
                        format!(
                            "{event_label} is not raised at {}: {via}is raised {}; write {}",
                            hook.hook,
                            b.hooks_prose(),
                            hook_choices(b)
                        )
                    };
                    cx.error_spanned_by(&hook.ident, msg);
                    out.push(placeholder());
                    continue;
                }
                (hook.hook, hook.ident.span())
            }
            (Some(hook), Root::External(_)) => (hook.hook, hook.ident.span()),
            (None, Root::Builtin(b)) => match b.hooks() {
                [only] => (*only, h.attr_span()),
                _ if h.malformed => {
                    out.push(placeholder());
                    continue;
                }
                _ => {
                    cx.error_spanned_by(
                        &h.attr,
                        match node {
                            Node::Builtin(_) => format!("{b} is raised {}; say which with {}", b.hooks_prose(), hook_choices(b)),
                            _ => format!("{event_label} derives from {b}, which is raised {}; say which with {}", b.hooks_prose(), hook_choices(b)),
                        },
                    );
                    out.push(placeholder());
                    continue;
                }
            },
            (None, Root::External(_)) if h.malformed => {
                out.push(placeholder());
                continue;
            }
            (None, Root::External(x)) => {
                let lib = quote::ToTokens::to_token_stream(&resolved.externals[x].path)
                    .to_string()
                    .replace(' ', "");
                let what = if matches!(node, Node::External(_)) {
                    format!(
                        "library event {event_label} is raised at the hooks of its root built-in event"
                    )
                } else {
                    format!(
                        "{event_label} derives from library event `{lib}`, raised at the hooks of its root built-in event"
                    )
                };
                cx.error_spanned_by(
                    &h.attr,
                    format!("add `hook = RCV` (or `SND`; `NULL` for a packet-level event such as `mos_runtime::library::DnsQuery`): {what}, which this macro cannot see"),
                );
                out.push(placeholder());
                continue;
            }
        };
        let kind = match root {
            Root::Builtin(b) => b.cx_kind(hook.0),
            Root::External(_) => super::external_cx(hook.0),
        };
        let external = matches!(root, Root::External(_));
        check_handler_param(cx, h, kind, &suggest, &event_label, hook.0, external);
        out.push(ResolvedHandler {
            event: node,
            root,
            hook: hook.0,
            hook_span: hook.1,
        });
    }
    out
}

fn placeholder() -> ResolvedHandler {
    ResolvedHandler {
        event: Node::Builtin(Builtin::PktIn),
        root: Root::Builtin(Builtin::PktIn),
        hook: Hook::Null,
        hook_span: Span::call_site(),
    }
}

fn hook_choices(b: Builtin) -> String {
    let names: Vec<String> = b.hooks().iter().map(|h| format!("`hook = {h}`")).collect();
    names.join(" or ")
}

/// What a context parameter's type is, syntactically.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum CxName {
    Cx,
    FilterCx,
    PacketCx,
    /// Something else (an alias, a typo): left to rustc.
    Other,
}

/// `(is &mut, which context)` of a parameter type, or `None` when it is not a reference.
fn cx_param(ty: &Type) -> Option<(bool, CxName)> {
    let Type::Reference(r) = ty else {
        return None;
    };
    let name = match &*r.elem {
        Type::Path(p) => match p
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .as_deref()
        {
            Some("Cx") => CxName::Cx,
            Some("FilterCx") => CxName::FilterCx,
            Some("PacketCx") => CxName::PacketCx,
            _ => CxName::Other,
        },
        _ => CxName::Other,
    };
    Some((r.mutability.is_some(), name))
}

fn check_handler_param(
    cx: &Ctxt,
    h: &crate::syntax::ast::HandlerDef,
    kind: CxKind,
    suggest: &Suggest<'_>,
    event: &str,
    hook: Hook,
    external: bool,
) {
    let want = suggest.handler(kind);
    // Which context a library event has is the hook's: say so, the macro cannot see more.
    let library_note = if external {
        " (a library event is handled at SND or RCV with a flow, at NULL without one)"
    } else {
        ""
    };
    let inputs: Vec<&FnArg> = h.sig.inputs.iter().collect();
    match inputs.as_slice() {
        [FnArg::Typed(arg)] => match cx_param(&arg.ty) {
            None => cx.error_spanned_by(&arg.ty, format!("a handler takes its context by mutable reference: `cx: {want}`")),
            Some((false, _)) => cx.error_spanned_by(&arg.ty, format!("a handler takes its context by mutable reference: `cx: {want}`")),
            Some((true, name)) => match (kind, name) {
                (_, CxName::Other) => {}
                (CxKind::Flow, CxName::Cx) | (CxKind::Packet, CxName::PacketCx) => {}
                (_, CxName::FilterCx) => cx.error_spanned_by(
                    &arg.ty,
                    format!("`FilterCx` is the read-only view filters get; a handler of {event} at {hook} takes `cx: {want}`"),
                ),
                (CxKind::Packet, CxName::Cx) => cx.error_spanned_by(
                    &arg.ty,
                    format!("{event} at {hook} has no flow context, so no flow state: take `cx: {want}`{library_note}"),
                ),
                (CxKind::Flow, CxName::PacketCx) => cx.error_spanned_by(
                    &arg.ty,
                    format!("{event} at {hook} has a flow context: take `cx: {want}` (`PacketCx` is for ON_ORPHAN and NULL-hook ON_PKT_IN/ON_ERROR){library_note}"),
                ),
            },
        },
        [FnArg::Receiver(r)] => cx.error_spanned_by(r, format!("a handler is a free fn, not a method: `fn {}(cx: {want})`", h.ident)),
        [] => cx.error_spanned_by(&h.sig, format!("a handler takes one parameter, its context: `fn {}(cx: {want})`", h.ident)),
        [_, extra, ..] => cx.error_spanned_by(extra, format!("a handler takes one parameter, its context: `fn {}(cx: {want})`", h.ident)),
    }
    if let ReturnType::Type(_, ty) = &h.sig.output {
        let unit = matches!(&**ty, Type::Tuple(t) if t.elems.is_empty());
        if !unit {
            cx.error_spanned_by(ty, "a handler returns nothing; to stop a filter-like handler, use an #[event] with a filter");
        }
    }
}

/// Filter signatures of the app's own filter fns, against every context they are called with.
pub fn check_filters(
    cx: &Ctxt,
    app: &App,
    resolved: &Resolved,
    entries: &[Entry],
    flow: Option<&Ident>,
    core: Option<&Ident>,
) {
    let suggest = Suggest { flow, core };
    // Where an event is dispatched, for messages: the entry, or for an event on a library event
    // (whose root only rustc knows) the library event and the hook.
    let at = |i: usize| {
        let lib = match resolved.events[i].root {
            Root::External(x) => Some(
                quote::ToTokens::to_token_stream(&resolved.externals[x].path)
                    .to_string()
                    .replace(' ', ""),
            ),
            Root::Builtin(_) => None,
        };
        move |b: Builtin, h: Hook| match &lib {
            Some(lib) => format!("{h} (it derives from library event `{lib}`)"),
            None => format!("{b}/{h}"),
        }
    };
    // Which context kinds each event's filter is called with.
    let mut kinds: Vec<Vec<(CxKind, Builtin, Hook)>> = vec![Vec::new(); app.events.len()];
    for entry in entries {
        let kind = entry.builtin.cx_kind(entry.hook);
        visit_filters(&entry.steps, &mut |e| {
            if !kinds[e].iter().any(|(k, _, _)| *k == kind) {
                kinds[e].push((kind, entry.builtin, entry.hook));
            }
        });
    }
    for (i, ev) in app.events.iter().enumerate() {
        let Some(filter) = &ev.filter else { continue };
        let has_children = resolved
            .events
            .iter()
            .any(|r| r.child_bit.is_some() && r.base == Node::Local(i));
        let Some(ident) = filter.get_ident() else {
            continue;
        };
        let Some(sig) = find_fn(app, ident) else {
            continue;
        };
        crate::syntax::check_fn_shape(cx, sig, "a filter");
        let params: Vec<&FnArg> = sig.inputs.iter().collect();
        let expected_arity = if has_children { 2 } else { 1 };
        let at = at(i);
        for &(kind, b, h) in &kinds[i] {
            let want = suggest.filter(kind);
            let Some(first) = params.first() else {
                cx.error_spanned_by(
                    sig,
                    format!(
                        "a filter takes the read-only context: `fn {ident}(cx: {want}) -> bool`"
                    ),
                );
                break;
            };
            let FnArg::Typed(arg) = first else {
                cx.error_spanned_by(
                    first,
                    format!(
                        "a filter is a free fn, not a method: `fn {ident}(cx: {want}) -> bool`"
                    ),
                );
                break;
            };
            match cx_param(&arg.ty) {
                None => cx.error_spanned_by(&arg.ty, format!("a filter takes its context by shared reference: `cx: {want}`")),
                Some((true, _)) => cx.error_spanned_by(
                    &arg.ty,
                    format!("a filter only reads (it decides whether an event happened; state changes belong in handlers): take `cx: {want}`"),
                ),
                Some((false, name)) => match (kind, name) {
                    (_, CxName::Other) | (CxKind::Flow, CxName::FilterCx) | (CxKind::Packet, CxName::PacketCx) => {}
                    (CxKind::Flow, CxName::Cx) => cx.error_spanned_by(&arg.ty, format!("a filter gets the read-only view: take `cx: {want}`")),
                    (CxKind::Flow, CxName::PacketCx) => cx.error_spanned_by(
                        &arg.ty,
                        format!("`{}` is dispatched at {}, which has a flow context: take `cx: {want}`", event_name(app, i), at(b, h)),
                    ),
                    (CxKind::Packet, _) => cx.error_spanned_by(
                        &arg.ty,
                        format!("`{}` is dispatched at {}, which has no flow context: take `cx: {want}` (use separate events for flow and flow-less hooks)", event_name(app, i), at(b, h)),
                    ),
                },
            }
        }
        if params.len() != expected_arity && !kinds[i].is_empty() {
            let want = suggest.filter(kinds[i][0].0);
            if has_children {
                cx.error_spanned_by(
                    &sig.inputs,
                    format!("`{}` has `raised` child events, so its filter raises them: `fn {ident}(cx: {want}, raise: &mut Raise) -> bool`", event_name(app, i)),
                );
            } else {
                cx.error_spanned_by(
                    &sig.inputs,
                    format!("a filter takes one parameter: `fn {ident}(cx: {want}) -> bool`"),
                );
            }
        }
        let returns_bool = matches!(&sig.output, ReturnType::Type(_, ty) if matches!(&**ty, Type::Path(p) if p.path.is_ident("bool")));
        if !returns_bool {
            let tokens = match &sig.output {
                ReturnType::Default => quote::ToTokens::to_token_stream(&sig.ident),
                ReturnType::Type(_, ty) => quote::ToTokens::to_token_stream(ty),
            };
            cx.error_spanned_by(tokens, "a filter returns `bool`: `true` when the event happened (its handlers run), `false` to prune its subtree");
        }
    }
}

fn visit_filters(steps: &[Step], f: &mut impl FnMut(usize)) {
    for step in steps {
        match step {
            Step::Call { .. } => {}
            Step::Filter { event, body, .. } => {
                f(*event);
                visit_filters(body, f);
            }
            Step::Raised { body, .. } | Step::External { body, .. } => visit_filters(body, f),
        }
    }
}

/// A fn of the app module by name.
fn find_fn<'a>(app: &'a App, ident: &Ident) -> Option<&'a syn::Signature> {
    app.items.iter().find_map(|item| match item {
        syn::Item::Fn(f) if f.sig.ident == *ident => Some(&f.sig),
        _ => None,
    })
}
