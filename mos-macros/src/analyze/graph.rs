//! Resolve event references, find cycles among the app's events, compute roots.

use quote::ToTokens;
use syn::Ident;

use super::{External, MAX_CHILD_EVENTS, Node, ResolvedEvent, Root};
use crate::catalog::{Builtin, did_you_mean};
use crate::ctxt::Ctxt;
use crate::syntax::ast::{App, EventRef};

/// Resolution results; unresolvable entries are `None` (already reported).
#[derive(Debug)]
pub struct Resolved {
    pub events: Vec<ResolvedEvent>,
    /// Handler event nodes (anonymous handlers point at their own event); `None` if unresolved.
    pub handler_events: Vec<Option<Node>>,
    pub externals: Vec<External>,
}

/// Resolve every base and handler event; report unknown names, cycles and misplaced `raised`.
pub fn resolve(cx: &Ctxt, app: &App) -> Resolved {
    let mut externals: Vec<External> = Vec::new();
    let mut external = |path: &syn::Path, decl: usize| -> Node {
        let key = path.to_token_stream().to_string();
        if let Some(i) = externals
            .iter()
            .position(|e| e.path.to_token_stream().to_string() == key)
        {
            return Node::External(i);
        }
        externals.push(External {
            path: path.clone(),
            decl,
        });
        Node::External(externals.len() - 1)
    };

    // 0. Library events, registered in declaration order of their first use (graph order).
    let mut uses: Vec<(usize, &syn::Path)> = Vec::new();
    for ev in &app.events {
        if let Some(EventRef::Path(p)) = &ev.base {
            uses.push((ev.decl, p));
        }
    }
    for h in &app.handlers {
        if let (Some(EventRef::Path(p)), None) = (&h.event, h.anonymous_event) {
            uses.push((h.decl, p));
        }
    }
    uses.sort_by_key(|(decl, _)| *decl);
    for (decl, path) in uses {
        external(path, decl);
    }

    // 1. Bases.
    let mut bases: Vec<Option<Node>> = Vec::with_capacity(app.events.len());
    for ev in &app.events {
        let node = match &ev.base {
            None if ev.malformed => None,
            None => {
                cx.error_spanned_by(
                    &ev.attr,
                    "an event needs a base: add `base = ON_CONN_NEW_DATA` (a built-in), `base = OtherEvent` (an event of this app) or `base = some_crate::Event` (a library event)",
                );
                None
            }
            Some(EventRef::Name(ident)) => resolve_name(cx, app, ident),
            Some(EventRef::Path(path)) => Some(external(path, ev.decl)),
        };
        bases.push(node);
    }

    // 2. Handler events.
    let mut handler_events = Vec::with_capacity(app.handlers.len());
    for h in &app.handlers {
        let node = match (&h.event, h.anonymous_event) {
            (Some(event), Some(_)) => {
                let tokens = match event {
                    EventRef::Name(i) => i.to_token_stream(),
                    EventRef::Path(p) => p.to_token_stream(),
                };
                cx.error_spanned_by(
                    tokens,
                    "this handler declares its own event with the #[event] above it; remove `event = ..` from #[on] (or remove the #[event])",
                );
                None
            }
            (None, Some(anon)) => Some(Node::Local(anon)),
            (None, None) if h.malformed => None,
            (None, None) => {
                cx.error_spanned_by(
                    &h.attr,
                    "a handler needs an event: write `#[on(event = ON_PKT_IN, hook = RCV)]`, or declare an anonymous event with `#[event(base = .., filter = ..)]` above the #[on]",
                );
                None
            }
            (Some(EventRef::Name(ident)), None) => resolve_name(cx, app, ident),
            (Some(EventRef::Path(path)), None) => Some(external(path, h.decl)),
        };
        handler_events.push(node);
    }

    // 3. Cycles (each event has one base, so following bases either ends or loops).
    let n = app.events.len();
    let mut in_cycle = vec![false; n];
    let mut reported = vec![false; n];
    for start in 0..n {
        let mut path = Vec::new();
        let mut cur = start;
        loop {
            if let Some(pos) = path.iter().position(|&p| p == cur) {
                let cycle: Vec<usize> = path[pos..].to_vec();
                for &c in &cycle {
                    in_cycle[c] = true;
                }
                if !cycle.iter().any(|&c| reported[c]) {
                    report_cycle(cx, app, &cycle);
                    for &c in &cycle {
                        reported[c] = true;
                    }
                }
                break;
            }
            path.push(cur);
            match bases[cur] {
                Some(Node::Local(next)) => cur = next,
                _ => break,
            }
        }
    }

    // 4. Roots (events whose chain is broken get none, silently: the break was reported).
    let root_of = |start: usize| -> Option<Root> {
        let mut cur = start;
        for _ in 0..=n {
            if in_cycle[cur] {
                return None;
            }
            match bases[cur]? {
                Node::Builtin(b) => return Some(Root::Builtin(b)),
                Node::External(x) => return Some(Root::External(x)),
                Node::Local(next) => cur = next,
            }
        }
        None
    };

    // 5. `raised` children: base must be an app event with a filter; bits assigned in order.
    let mut next_bit = 0usize;
    let mut events = Vec::with_capacity(n);
    for (i, ev) in app.events.iter().enumerate() {
        let mut child_bit = None;
        if let Some(raised) = &ev.raised {
            check_raised(cx, app, i, raised, bases[i]);
            if ev.anonymous {
                cx.error_spanned_by(raised, "a raised child event must be a named `pub struct` (its filter raises it by name)");
            }
            if next_bit == MAX_CHILD_EVENTS {
                cx.error_spanned_by(
                    raised,
                    format!("too many raised events: an app has at most {MAX_CHILD_EVENTS}"),
                );
            }
            child_bit = u8::try_from(next_bit).ok();
            next_bit += 1;
        } else if ev.filter.is_none() && !ev.malformed {
            cx.error_spanned_by(
                &ev.attr,
                "an event needs a filter: add `filter = my_filter` (a `fn(&FilterCx<'_, Flow>) -> bool` deciding whether the event happened)",
            );
        }
        if let (Some(base), Some(root)) = (bases[i], root_of(i)) {
            events.push(ResolvedEvent {
                base,
                root,
                child_bit,
            });
        } else {
            // Placeholder keeping indices parallel; never reached by codegen (errors reported).
            events.push(ResolvedEvent {
                base: Node::Builtin(Builtin::PktIn),
                root: Root::Builtin(Builtin::PktIn),
                child_bit: None,
            });
            if bases[i].is_some() && !in_cycle[i] && !cx.has_errors() {
                cx.error_spanned_by(&ev.ident, "this event's base chain could not be resolved");
            }
        }
    }
    // Mark unresolved events so later stages skip them.
    let broken: Vec<bool> = (0..n)
        .map(|i| bases[i].is_none() || root_of(i).is_none())
        .collect();
    let handler_events = handler_events
        .into_iter()
        .map(|node| match node {
            Some(Node::Local(i)) if broken[i] => None,
            other => other,
        })
        .collect();
    let events = events
        .into_iter()
        .enumerate()
        .map(|(i, e)| {
            if broken[i] {
                ResolvedEvent {
                    child_bit: None,
                    ..e
                }
            } else {
                e
            }
        })
        .collect();
    Resolved {
        events,
        handler_events,
        externals,
    }
}

/// A bare name: built-in, or a named event of this app.
fn resolve_name(cx: &Ctxt, app: &App, ident: &Ident) -> Option<Node> {
    let name = ident.to_string();
    if let Some(b) = Builtin::from_name(&name) {
        return Some(Node::Builtin(b));
    }
    if let Some(i) = app
        .events
        .iter()
        .position(|e| !e.anonymous && e.ident == *ident)
    {
        return Some(Node::Local(i));
    }
    if app.events.iter().any(|e| e.anonymous && e.ident == *ident) {
        cx.error_spanned_by(
            ident,
            format!("`{name}` is a handler with an anonymous event, which has no name to build on; declare the event as a `pub struct` with #[event] and use that name"),
        );
        return None;
    }
    let candidates: Vec<String> = Builtin::ALL
        .iter()
        .map(|b| b.name().to_owned())
        .chain(
            app.events
                .iter()
                .filter(|e| !e.anonymous)
                .map(|e| e.ident.to_string()),
        )
        .collect();
    let hint = did_you_mean(&name, candidates.iter().map(String::as_str))
        .map(|s| format!("did you mean `{s}`? "))
        .unwrap_or_default();
    cx.error_spanned_by(
        ident,
        format!(
            "unknown event `{name}`; {hint}an event is a built-in ({}), an #[event] struct of this app, or a library event by path (`some_crate::HttpRequest`)",
            crate::catalog::BUILTIN_LIST
        ),
    );
    None
}

fn report_cycle(cx: &Ctxt, app: &App, cycle: &[usize]) {
    // Start the message at the first-declared member so it reads in source order.
    let Some(start) = (0..cycle.len()).min_by_key(|&k| app.events[cycle[k]].decl) else {
        return;
    };
    let mut names: Vec<String> = (0..cycle.len())
        .map(|k| {
            app.events[cycle[(start + k) % cycle.len()]]
                .ident
                .to_string()
        })
        .collect();
    names.push(names[0].clone());
    let first = &app.events[cycle[start]];
    let span_tokens = match &first.base {
        Some(EventRef::Name(i)) => i.to_token_stream(),
        Some(EventRef::Path(p)) => p.to_token_stream(),
        None => first.ident.to_token_stream(),
    };
    let msg = if cycle.len() == 1 {
        format!(
            "event `{}` is its own base; an event's base chain must end at a built-in event such as ON_CONN_NEW_DATA",
            names[0]
        )
    } else {
        format!(
            "cycle among events: {} (each event's base is the next); an event's base chain must end at a built-in event such as ON_CONN_NEW_DATA",
            // Display in "is based on" order: A -> B means A's base is B.
            names.join(" -> ")
        )
    };
    cx.error_spanned_by(span_tokens, msg);
}

fn check_raised(cx: &Ctxt, app: &App, i: usize, raised: &Ident, base: Option<Node>) {
    let ev = &app.events[i];
    if let Some(filter) = &ev.filter {
        cx.error_spanned_by(
            filter,
            "a `raised` event has no filter of its own: its base's filter raises it; remove `filter = ..` (or remove `raised`)",
        );
    }
    match base {
        Some(Node::Builtin(b)) => cx.error_spanned_by(
            raised,
            format!("built-in events raise no child events; the base of a `raised` event is an event of this app whose filter raises it (not {b})"),
        ),
        Some(Node::External(_)) => cx.error_spanned_by(
            raised,
            "a library event cannot raise this app's events; base the `raised` event on an event of this app whose filter raises it",
        ),
        Some(Node::Local(b)) if app.events[b].raised.is_some() => cx.error_spanned_by(
            raised,
            format!("`{}` is itself raised and has no filter to raise `{}`; base it on an event with a filter", app.events[b].ident, ev.ident),
        ),
        _ => {}
    }
}
