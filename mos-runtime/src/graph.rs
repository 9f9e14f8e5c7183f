//! The event graph of an app, as data and as Graphviz DOT.
//!
//! `#[mos_runtime::app]` emits the graph it checked as a constant: `my_app::App::EVENT_GRAPH`
//! (also reachable generically through [`AppGraph`]), and `my_app::App::event_graph_dot()`
//! renders it. Nodes are the built-in events (indices `0..9`, in [`Event::ALL`] order, so a
//! library event's root is found by index without a lookup), then the app's own events in
//! declaration order, then the library events it uses. Handlers hang below their event with the
//! hook they run at.
//!
//! Apps run together (`run::<(A, B)>()`, see the pair's `App` impl) have one graph each, in chain
//! order: [`AppGraphs::event_graphs`] yields them for any app or tuple of apps, and
//! [`chain_to_dot`] draws them in one DOT document, one cluster per app. A pair has no single
//! `EventGraph` constant: its graph would be the concatenation of two `&'static` slices, which a
//! generic constant cannot build on stable Rust, and the apps' graphs are independent anyway
//! (each app's events see only its own handlers and filters).

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

/// Apps, and tuples of apps run together, whose event graphs are known: every [`AppGraph`] app,
/// and `(A, B)` of such apps, nested too (`((A, B), C)`), as `run::<(A, B)>()` accepts them.
pub trait AppGraphs: App {
    /// Each app's graph, in chain order (the order the apps' handlers run for a client→server
    /// packet): one for an app, `A`'s then `B`'s for `(A, B)`.
    fn event_graphs() -> impl Iterator<Item = EventGraph>;

    /// The graphs of [`event_graphs`](Self::event_graphs) in one DOT document
    /// ([`chain_to_dot`]). For a single app this is its one-cluster form; its stand-alone
    /// picture is [`EventGraph::to_dot`].
    fn event_graphs_dot() -> String {
        chain_to_dot(Self::event_graphs())
    }
}

impl<T: AppGraph> AppGraphs for T {
    fn event_graphs() -> impl Iterator<Item = EventGraph> {
        core::iter::once(T::EVENT_GRAPH)
    }
}

/// Render the graphs of apps run together as one Graphviz DOT document: one
/// `subgraph cluster_N` per app, `N` its position in the chain from 1, labelled `N: name`;
/// node ids carry the prefix `aN_` so that the apps' nodes stay apart (each app has its own
/// `ON_PKT_IN`, ...). Nodes and edges are drawn as [`EventGraph::to_dot`] draws them.
pub fn chain_to_dot(graphs: impl IntoIterator<Item = EventGraph>) -> String {
    let graphs: Vec<EventGraph> = graphs.into_iter().collect();
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = write_chain_dot(&graphs, &mut out);
    out
}

fn write_chain_dot(graphs: &[EventGraph], out: &mut String) -> fmt::Result {
    let names: Vec<&str> = graphs.iter().map(|g| g.app).collect();
    writeln!(out, "digraph \"{}\" {{", escape(&names.join(" + ")))?;
    write_header(out)?;
    for (n, graph) in (1..).zip(graphs) {
        writeln!(out, "  subgraph cluster_{n} {{")?;
        writeln!(out, "    label=\"{n}: {}\";", escape(graph.app))?;
        graph.write_body(out, "    ", &format!("a{n}_"))?;
        writeln!(out, "  }}")?;
    }
    writeln!(out, "}}")
}

/// The graph attributes every rendering starts with.
fn write_header(out: &mut String) -> fmt::Result {
    writeln!(out, "  rankdir=LR;")?;
    writeln!(out, "  node [fontname=\"Helvetica\", fontsize=11];")
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
        write_header(out)?;
        self.write_body(out, "  ", "")?;
        writeln!(out, "}}")
    }

    /// The nodes and edges, each line indented by `indent`, each node id prefixed by `id`.
    fn write_body(&self, out: &mut String, indent: &str, id: &str) -> fmt::Result {
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
            writeln!(out, "{indent}{id}e{i} [label=\"{label}\", {style}];")?;
            if let Some(base) = node.base {
                writeln!(out, "{indent}{id}e{base} -> {id}e{i};")?;
            }
        }
        for (i, h) in self.handlers.iter().enumerate() {
            let per_flow = if h.per_flow { " (per flow)" } else { "" };
            writeln!(
                out,
                "{indent}{id}h{i} [label=\"{} @ {}{per_flow}\", shape=note];",
                escape(h.name),
                h.hook
            )?;
            writeln!(out, "{indent}{id}e{} -> {id}h{i} [style=dashed];", h.event)?;
        }
        Ok(())
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

    /// A second app: a raised event under `ON_CONN_START`, a handler on it and one on
    /// `ON_PKT_IN` (which the first app uses too: the two `e0` must stay apart).
    const EVENTS2: &[EventNode] = &{
        let mut nodes = [BUILTIN_NODES[0]; 10];
        let mut i = 0;
        while i < 9 {
            nodes[i] = BUILTIN_NODES[i];
            i += 1;
        }
        nodes[9] = EventNode {
            name: "Opened",
            kind: EventKind::User {
                filter: "",
                anonymous: false,
                raised: true,
            },
            base: Some(1),
        };
        nodes
    };

    const GRAPH2: EventGraph = EventGraph {
        app: "other \"app\"",
        events: EVENTS2,
        handlers: &[
            HandlerNode {
                name: "opened",
                event: 9,
                hook: Hook::Snd,
                per_flow: false,
            },
            HandlerNode {
                name: "tick",
                event: 0,
                hook: Hook::Null,
                per_flow: false,
            },
        ],
    };

    /// The node ids (`x [label=...]`) and edges (`x -> y`) of a DOT text, trimmed.
    fn nodes_and_edges(dot: &str) -> (Vec<&str>, Vec<&str>) {
        let mut nodes = Vec::new();
        let mut edges = Vec::new();
        for line in dot.lines().map(str::trim) {
            if line.contains(" -> ") {
                edges.push(line);
            } else if let Some((id, _)) = line.split_once(" [label=") {
                nodes.push(id);
            }
        }
        (nodes, edges)
    }

    #[test]
    fn a_chain_is_one_cluster_per_app_in_order() {
        let dot = chain_to_dot([GRAPH, GRAPH2]);
        let expected = "digraph \"demo + other \\\"app\\\"\" {
  rankdir=LR;
  node [fontname=\"Helvetica\", fontsize=11];
  subgraph cluster_1 {
    label=\"1: demo\";
    a1_e0 [label=\"ON_PKT_IN\", shape=box, style=\"filled,bold\", fillcolor=\"#dde7f7\"];
    a1_e4 [label=\"ON_CONN_NEW_DATA\", shape=box, style=\"filled,bold\", fillcolor=\"#dde7f7\"];
    a1_e9 [label=\"HttpRequest\\nfilter: is_http\", shape=box, style=rounded];
    a1_e4 -> a1_e9;
    a1_e10 [label=\"Search\\nfilter: is_\\\"search\\\"\", shape=box, style=rounded];
    a1_e9 -> a1_e10;
    a1_h0 [label=\"count @ RCV\", shape=note];
    a1_e0 -> a1_h0 [style=dashed];
    a1_h1 [label=\"log @ RCV (per flow)\", shape=note];
    a1_e10 -> a1_h1 [style=dashed];
  }
  subgraph cluster_2 {
    label=\"2: other \\\"app\\\"\";
    a2_e0 [label=\"ON_PKT_IN\", shape=box, style=\"filled,bold\", fillcolor=\"#dde7f7\"];
    a2_e1 [label=\"ON_CONN_START\", shape=box, style=\"filled,bold\", fillcolor=\"#dde7f7\"];
    a2_e9 [label=\"Opened\\n(raised)\", shape=box, style=rounded];
    a2_e1 -> a2_e9;
    a2_h0 [label=\"opened @ SND\", shape=note];
    a2_e9 -> a2_h0 [style=dashed];
    a2_h1 [label=\"tick @ NULL\", shape=note];
    a2_e0 -> a2_h1 [style=dashed];
  }
}
";
        assert_eq!(dot, expected);
    }

    #[test]
    fn chain_ids_do_not_collide_and_counts_add_up() {
        // The same app twice is the worst case: every id of one cluster exists in the other.
        for chain in [[GRAPH, GRAPH2], [GRAPH, GRAPH]] {
            let dot = chain_to_dot(chain);
            let (nodes, edges) = nodes_and_edges(&dot);
            let mut unique = nodes.clone();
            unique.sort_unstable();
            unique.dedup();
            assert_eq!(unique.len(), nodes.len(), "duplicate node ids: {nodes:?}");
            let parts: Vec<(usize, usize)> = chain
                .iter()
                .map(|g| {
                    let single = g.to_dot();
                    let (n, e) = nodes_and_edges(&single);
                    (n.len(), e.len())
                })
                .collect();
            assert_eq!(nodes.len(), parts.iter().map(|p| p.0).sum::<usize>());
            assert_eq!(edges.len(), parts.iter().map(|p| p.1).sum::<usize>());
            // Every edge joins two nodes of the same cluster.
            for edge in &edges {
                let (from, rest) = edge.split_once(" -> ").unwrap();
                let to = rest.trim_end_matches(';').split(' ').next().unwrap();
                assert!(nodes.contains(&from) && nodes.contains(&to), "{edge}");
                assert_eq!(from.split('_').next(), to.split('_').next(), "{edge}");
            }
        }
    }

    #[test]
    fn a_cluster_draws_what_to_dot_draws() {
        // One app's cluster is its stand-alone body, indented and with prefixed ids.
        for graph in [GRAPH, GRAPH2] {
            let single = graph.to_dot();
            let body: Vec<&str> = single.lines().skip(3).collect();
            let body = &body[..body.len() - 1];
            let chain = chain_to_dot([graph]);
            let cluster: Vec<String> = chain
                .lines()
                .skip(5)
                .take(body.len())
                .map(|l| l.replacen("  ", "", 1).replace("a1_", ""))
                .collect();
            assert_eq!(cluster, body);
            assert_eq!(chain.lines().count(), body.len() + 7);
        }
        // And to_dot itself is unchanged by the chain rendering sharing its code: see
        // `dot_lists_live_events_and_handlers` for the exact text.
        assert!(
            GRAPH
                .to_dot()
                .starts_with("digraph \"demo\" {\n  rankdir=LR;\n")
        );
    }

    #[test]
    fn an_empty_chain_is_an_empty_graph() {
        assert_eq!(
            chain_to_dot([]),
            "digraph \"\" {\n  rankdir=LR;\n  node [fontname=\"Helvetica\", fontsize=11];\n}\n"
        );
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
