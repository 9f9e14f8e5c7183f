//! The event graph of an app, as data and as Graphviz DOT.
//!
//! `#[mos_runtime::app]` emits the graph it checked as a constant: `my_app::App::EVENT_GRAPH`
//! (also reachable generically through [`AppGraph`]), and `my_app::App::event_graph_dot()`
//! renders it. Nodes are the built-in events (indices `0..9`, in [`Event::ALL`] order, so a
//! library event's root is found by index without a lookup), then the app's own events in
//! declaration order, then the library events it uses. Handlers hang below their event with the
//! hook they run at.

use std::fmt::{self, Write as _};

use crate::app::App;
use crate::event::{Event, Hook};

/// What kind of event a node is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum EventKind {
    /// A built-in event.
    Builtin(Event),
    /// An event of the app, with the filter deciding it (for `raised` events, the base's filter
    /// raises it and `filter` is empty).
    User {
        /// The filter fn as written.
        filter: &'static str,
        /// Declared on its handler (no name of its own).
        anonymous: bool,
        /// Raised by its base's filter.
        raised: bool,
    },
    /// A library event (`base = some_crate::Event`).
    Library {
        /// Its filter's name.
        filter: &'static str,
    },
}

/// One event of the graph.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct EventNode {
    /// The name users write (`ON_CONN_NEW_DATA`, `HttpRequest`, `ON_CONN_NEW_DATA[is_tls]`).
    pub name: &'static str,
    /// What it is.
    pub kind: EventKind,
    /// Index of its base in [`EventGraph::events`]; `None` for built-ins.
    pub base: Option<u16>,
}

/// One handler of the graph.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct HandlerNode {
    /// The handler fn's name.
    pub name: &'static str,
    /// Index of its event in [`EventGraph::events`].
    pub event: u16,
    /// The hook it runs at.
    pub hook: Hook,
    /// Starts disabled on every flow.
    pub per_flow: bool,
}

/// An app's event graph.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct EventGraph {
    /// The app's name.
    pub app: &'static str,
    /// Built-ins first (`0..9`), then the app's events, then library events.
    pub events: &'static [EventNode],
    /// Handlers, indexed like the app's `HandlerId`s.
    pub handlers: &'static [HandlerNode],
}

/// The nine built-in nodes every graph starts with.
pub const BUILTIN_NODES: [EventNode; 9] = {
    let mut nodes = [EventNode {
        name: "",
        kind: EventKind::Builtin(Event::PktIn),
        base: None,
    }; 9];
    let mut i = 0;
    while i < 9 {
        let event = Event::ALL[i];
        nodes[i] = EventNode {
            name: event.name(),
            kind: EventKind::Builtin(event),
            base: None,
        };
        i += 1;
    }
    nodes
};

/// Apps whose event graph is known (every app the macro generates).
pub trait AppGraph: App {
    /// The graph the macro checked.
    const EVENT_GRAPH: EventGraph;
}

impl EventGraph {
    /// Whether event `i` has a handler at or below it.
    fn live(&self, i: usize) -> bool {
        self.handlers
            .iter()
            .any(|h| self.descends(usize::from(h.event), i))
    }

    /// Whether `node` is `ancestor` or below it.
    fn descends(&self, mut node: usize, ancestor: usize) -> bool {
        // Bounded by the node count: a malformed graph (a base loop) cannot hang the walk.
        for _ in 0..=self.events.len() {
            if node == ancestor {
                return true;
            }
            match self.events.get(node).and_then(|n| n.base) {
                Some(base) => node = usize::from(base),
                None => return false,
            }
        }
        false
    }

    /// Render as Graphviz DOT: events as boxes (built-ins filled), handlers as notes labelled
    /// with their hook; built-in events with nothing below them are left out.
    pub fn to_dot(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = self.write_dot(&mut out);
        out
    }

    fn write_dot(&self, out: &mut String) -> fmt::Result {
        writeln!(out, "digraph \"{}\" {{", escape(self.app))?;
        writeln!(out, "  rankdir=LR;")?;
        writeln!(out, "  node [fontname=\"Helvetica\", fontsize=11];")?;
        for (i, node) in self.events.iter().enumerate() {
            let builtin = matches!(node.kind, EventKind::Builtin(_));
            if builtin
                && !self.live(i)
                && !self.events.iter().any(|n| n.base == u16::try_from(i).ok())
            {
                continue;
            }
            let label = match node.kind {
                EventKind::Builtin(_) => escape(node.name),
                EventKind::User { raised: true, .. } => format!("{}\\n(raised)", escape(node.name)),
                EventKind::User {
                    anonymous: true, ..
                } => escape(node.name),
                EventKind::User { filter, .. } | EventKind::Library { filter } => {
                    format!("{}\\nfilter: {}", escape(node.name), escape(filter))
                }
            };
            let style = match node.kind {
                EventKind::Builtin(_) => "shape=box, style=\"filled,bold\", fillcolor=\"#dde7f7\"",
                EventKind::User { .. } => "shape=box, style=rounded",
                EventKind::Library { .. } => "shape=box, style=\"rounded,dashed\"",
            };
            writeln!(out, "  e{i} [label=\"{label}\", {style}];")?;
            if let Some(base) = node.base {
                writeln!(out, "  e{base} -> e{i};")?;
            }
        }
        for (i, h) in self.handlers.iter().enumerate() {
            let per_flow = if h.per_flow { " (per flow)" } else { "" };
            writeln!(
                out,
                "  h{i} [label=\"{} @ {}{per_flow}\", shape=note];",
                escape(h.name),
                h.hook
            )?;
            writeln!(out, "  e{} -> h{i} [style=dashed];", h.event)?;
        }
        writeln!(out, "}}")
    }
}

impl fmt::Display for EventGraph {
    /// The DOT rendering.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_dot())
    }
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVENTS: &[EventNode] = &{
        let mut nodes = [EventNode {
            name: "",
            kind: EventKind::Builtin(Event::PktIn),
            base: None,
        }; 11];
        let mut i = 0;
        while i < 9 {
            nodes[i] = BUILTIN_NODES[i];
            i += 1;
        }
        nodes[9] = EventNode {
            name: "HttpRequest",
            kind: EventKind::User {
                filter: "is_http",
                anonymous: false,
                raised: false,
            },
            base: Some(4),
        };
        nodes[10] = EventNode {
            name: "Search",
            kind: EventKind::User {
                filter: "is_\"search\"",
                anonymous: false,
                raised: false,
            },
            base: Some(9),
        };
        nodes
    };

    const GRAPH: EventGraph = EventGraph {
        app: "demo",
        events: EVENTS,
        handlers: &[
            HandlerNode {
                name: "count",
                event: 0,
                hook: Hook::Rcv,
                per_flow: false,
            },
            HandlerNode {
                name: "log",
                event: 10,
                hook: Hook::Rcv,
                per_flow: true,
            },
        ],
    };

    #[test]
    fn builtins_are_indexed_by_event() {
        for (i, e) in Event::ALL.iter().enumerate() {
            assert_eq!(BUILTIN_NODES[i].kind, EventKind::Builtin(*e));
            assert_eq!(*e as usize, i);
        }
    }

    #[test]
    fn dot_lists_live_events_and_handlers() {
        let dot = GRAPH.to_dot();
        let expected = "digraph \"demo\" {
  rankdir=LR;
  node [fontname=\"Helvetica\", fontsize=11];
  e0 [label=\"ON_PKT_IN\", shape=box, style=\"filled,bold\", fillcolor=\"#dde7f7\"];
  e4 [label=\"ON_CONN_NEW_DATA\", shape=box, style=\"filled,bold\", fillcolor=\"#dde7f7\"];
  e9 [label=\"HttpRequest\\nfilter: is_http\", shape=box, style=rounded];
  e4 -> e9;
  e10 [label=\"Search\\nfilter: is_\\\"search\\\"\", shape=box, style=rounded];
  e9 -> e10;
  h0 [label=\"count @ RCV\", shape=note];
  e0 -> h0 [style=dashed];
  h1 [label=\"log @ RCV (per flow)\", shape=note];
  e10 -> h1 [style=dashed];
}
";
        assert_eq!(dot, expected);
        assert_eq!(GRAPH.to_string(), expected);
    }

    #[test]
    fn a_base_loop_does_not_hang() {
        const LOOP: &[EventNode] = &[
            EventNode {
                name: "a",
                kind: EventKind::Library { filter: "f" },
                base: Some(1),
            },
            EventNode {
                name: "b",
                kind: EventKind::Library { filter: "f" },
                base: Some(0),
            },
        ];
        let g = EventGraph {
            app: "x",
            events: LOOP,
            handlers: &[],
        };
        assert!(!g.descends(0, 5));
        assert!(g.to_dot().contains("e1 -> e0;"));
    }
}
