//! The dispatch model: per (built-in event, hook), the tree of filter tests and handler calls.
//!
//! SPEC §2: a UDE subtree is walked depth-first, children in declaration order; a filter runs at
//! most once per occurrence of its base event and prunes its subtree when false; a filter with no
//! handler below it never runs. As in mOS (`HandleCb`), the walk is pre-order: an event's own
//! handlers run first (in declaration order), then its child events (in declaration order), each
//! with its whole subtree, before the next sibling. The tree makes all of this structural: each
//! event appears once under its single base, children are sorted, and subtrees without a handler
//! at the entry's hook are not built at all.
//!
//! Library events (`base = some_crate::Event`) have a root built-in that only rustc knows, so
//! their subtrees go into every entry they could belong to (same hook, and the context a
//! library event has at that hook: a flow at `SND`/`RCV`, none at `NULL`), each behind a
//! `const` test of the library event's root and context that the compiler folds away.

use super::graph::Resolved;
use super::{Node, ResolvedHandler};
use crate::catalog::{Builtin, CxKind, Hook, entries};
use crate::syntax::ast::App;

/// One dispatch entry of the runtime's `App` trait.
#[derive(Debug)]
pub struct Entry {
    pub builtin: Builtin,
    pub hook: Hook,
    pub steps: Vec<Step>,
}

/// One statement of a dispatch body.
#[derive(Debug)]
pub enum Step {
    /// `if cx.__enter(id) { handler(cx) }`.
    Call { handler: usize },
    /// `if <any handler below enabled> && filter(cx) { body }`.
    Filter {
        event: usize,
        /// Handlers in `body`, transitively (the per-flow enable mask).
        below: Vec<usize>,
        /// The filter raises child events: it gets a `&mut Raise` and `body` tests its bits.
        raises: bool,
        body: Vec<Step>,
    },
    /// A child event raised by the enclosing filter: `if raise.is_raised(bit) { body }`.
    Raised { bit: u8, body: Vec<Step> },
    /// A library event: `if const { ROOT is this entry } { if <X>::filter(cx) { body } }`.
    External {
        ext: usize,
        below: Vec<usize>,
        body: Vec<Step>,
    },
}

/// A child of a node, with its declaration position.
#[derive(Clone, Copy)]
enum Child {
    Handler(usize),
    Event(usize),
    External(usize),
}

struct Builder<'a> {
    app: &'a App,
    resolved: &'a Resolved,
    handlers: &'a [ResolvedHandler],
    hook: Hook,
}

impl Builder<'_> {
    fn children(&self, node: Node, kind: CxKind) -> Vec<Child> {
        let mut out: Vec<(usize, Child)> = Vec::new();
        for (i, h) in self.handlers.iter().enumerate() {
            if h.event == node {
                out.push((self.app.handlers[i].decl, Child::Handler(i)));
            }
        }
        for (e, ev) in self.resolved.events.iter().enumerate() {
            if ev.base == node {
                out.push((self.app.events[e].decl, Child::Event(e)));
            }
        }
        // Library events hang below their (unknown) root: offer them under every built-in
        // whose entry has the context library events have at this hook (so not under
        // ON_TIMEOUT at NULL, which has a flow).
        if let Node::Builtin(_) = node {
            if kind == super::external_cx(self.hook) {
                for (x, ext) in self.resolved.externals.iter().enumerate() {
                    out.push((ext.decl, Child::External(x)));
                }
            }
        }
        // Pre-order: the node's own handlers, then its child events; each group by declaration.
        out.sort_by_key(|(decl, child)| (!matches!(child, Child::Handler(_)), *decl));
        out.into_iter().map(|(_, c)| c).collect()
    }

    fn steps(&self, node: Node, kind: CxKind) -> Vec<Step> {
        let mut steps = Vec::new();
        for child in self.children(node, kind) {
            match child {
                Child::Handler(i) => {
                    if self.handlers[i].hook == self.hook {
                        steps.push(Step::Call { handler: i });
                    }
                }
                Child::Event(e) => {
                    let body = self.steps(Node::Local(e), kind);
                    if body.is_empty() {
                        continue;
                    }
                    match self.resolved.events[e].child_bit {
                        Some(bit) => steps.push(Step::Raised { bit, body }),
                        None => {
                            let raises = self
                                .resolved
                                .events
                                .iter()
                                .any(|c| c.child_bit.is_some() && c.base == Node::Local(e));
                            let below = handlers_in(&body);
                            steps.push(Step::Filter {
                                event: e,
                                below,
                                raises,
                                body,
                            });
                        }
                    }
                }
                Child::External(x) => {
                    let body = self.steps(Node::External(x), kind);
                    if !body.is_empty() {
                        let below = handlers_in(&body);
                        steps.push(Step::External {
                            ext: x,
                            below,
                            body,
                        });
                    }
                }
            }
        }
        steps
    }
}

/// Every handler called in `steps`, in call order.
pub fn handlers_in(steps: &[Step]) -> Vec<usize> {
    let mut out = Vec::new();
    collect(steps, &mut out);
    out
}

fn collect(steps: &[Step], out: &mut Vec<usize>) {
    for step in steps {
        match step {
            Step::Call { handler } => out.push(*handler),
            Step::Filter { body, .. } | Step::Raised { body, .. } | Step::External { body, .. } => {
                collect(body, out)
            }
        }
    }
}

/// Build the non-empty entries, in the runtime trait's order.
pub fn build(app: &App, resolved: &Resolved, handlers: &[ResolvedHandler]) -> Vec<Entry> {
    entries()
        .filter_map(|(builtin, hook)| {
            let builder = Builder {
                app,
                resolved,
                handlers,
                hook,
            };
            let steps = builder.steps(Node::Builtin(builtin), builtin.cx_kind(hook));
            (!steps.is_empty()).then_some(Entry {
                builtin,
                hook,
                steps,
            })
        })
        .collect()
}
