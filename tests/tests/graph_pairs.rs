//! Event graphs of apps run together: `<(A, B) as AppGraphs>::event_graphs()` gives each app's
//! graph in the order `run::<(A, B)>()` chains them, the handlers of those graphs are the pair's
//! handlers in the runtime's order, and the chain's DOT is one valid Graphviz document (checked
//! with `dot` when it is installed).

use std::io::Write as _;
use std::process::{Command, Stdio};

use mos_runtime::graph::{AppGraph, AppGraphs, EventGraph, EventKind, chain_to_dot};
use mos_runtime::{App, Runtime};
use mos_synth::script::{Client, Script, Server};

#[mos_runtime::app]
mod first {
    use mos_runtime::prelude::*;

    #[flow_state]
    #[derive(Default)]
    pub struct Flow;

    #[event(base = ON_CONN_NEW_DATA, filter = is_get)]
    pub struct Get;

    fn is_get(cx: &FilterCx<'_, Flow>) -> bool {
        cx.peek(cx.side()).starts_with(b"GET ")
    }

    #[on(event = Get)]
    fn on_get(_cx: &mut Cx<'_, Flow>) {}

    #[on(event = ON_CONN_END, hook = SND)]
    fn on_end(_cx: &mut Cx<'_, Flow>) {}
}

#[mos_runtime::app]
mod second {
    use mos_runtime::prelude::*;

    #[flow_state]
    #[derive(Default)]
    pub struct Flow;

    #[on(event = ON_PKT_IN, hook = RCV)]
    fn count(_cx: &mut Cx<'_, Flow>) {}

    #[on(event = ON_CONN_NEW_DATA, per_flow)]
    fn gated(_cx: &mut Cx<'_, Flow>) {}
}

type Pair = (first::App, second::App);

/// What generic code over any app or chain sees.
fn graphs_of<T: AppGraphs>() -> Vec<EventGraph> {
    T::event_graphs().collect()
}

#[test]
fn a_pair_yields_both_graphs_in_chain_order() {
    let graphs = graphs_of::<Pair>();
    assert_eq!(
        graphs,
        [
            <first::App as AppGraph>::EVENT_GRAPH,
            <second::App as AppGraph>::EVENT_GRAPH
        ]
    );
    assert_eq!(graphs[0].app, "first");
    assert_eq!(graphs[1].app, "second");
    // The first app's own event is in its graph, not in the second's.
    assert!(graphs[0].events.iter().any(|e| e.name == "Get"
        && matches!(
            e.kind,
            EventKind::User {
                filter: "is_get",
                ..
            }
        )));
    assert!(graphs[1].events.iter().all(|e| e.name != "Get"));

    let reversed: Vec<&str> = graphs_of::<(second::App, first::App)>()
        .iter()
        .map(|g| g.app)
        .collect();
    assert_eq!(reversed, ["second", "first"]);
    let nested: Vec<&str> = graphs_of::<(Pair, first::App)>()
        .iter()
        .map(|g| g.app)
        .collect();
    assert_eq!(nested, ["first", "second", "first"]);
    // One app is a chain of one.
    assert_eq!(graphs_of::<first::App>(), [first::App::EVENT_GRAPH]);
}

#[test]
fn the_graphs_handlers_are_the_pairs_handlers_in_order() {
    let from_graphs: Vec<&str> = graphs_of::<(Pair, first::App)>()
        .iter()
        .flat_map(|g| g.handlers.iter().map(|h| h.name))
        .collect();
    let from_app: Vec<&str> = <(Pair, first::App) as App>::HANDLERS
        .iter()
        .map(|h| h.name)
        .collect();
    assert_eq!(
        from_graphs,
        ["on_get", "on_end", "count", "gated", "on_get", "on_end"]
    );
    assert_eq!(from_graphs, from_app);

    // And the runtime reports them in that order when it runs the pair.
    let mut s = Script::new();
    let c = s.tcp("10.0.0.1:40000", "10.0.0.2:80");
    s.handshake(c)
        .send(c, Client, b"GET / HTTP/1.1\r\n\r\n")
        .send(c, Server, b"HTTP/1.1 200 OK\r\n\r\n")
        .close(c);
    let report = Runtime::builder()
        .pcap_bytes(s.to_pcap())
        .build()
        .and_then(|rt| rt.run::<Pair>())
        .unwrap_or_else(|e| panic!("run failed: {e}"));
    let reported: Vec<&str> = report.handlers.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(reported, ["on_get", "on_end", "count", "gated"]);
    let calls = |name: &str| {
        report
            .handlers
            .iter()
            .find(|h| h.name == name)
            .map(|h| h.count)
    };
    assert_eq!(calls("on_get"), Some(1));
    assert_eq!(calls("gated"), Some(0), "per-flow handlers start off");
}

#[test]
fn the_chain_dot_has_a_cluster_per_app() {
    let dot = <Pair as AppGraphs>::event_graphs_dot();
    assert_eq!(dot, chain_to_dot(graphs_of::<Pair>()));
    assert!(dot.starts_with("digraph \"first + second\" {\n"), "{dot}");
    let first_at = dot.find("subgraph cluster_1 {\n    label=\"1: first\";");
    let second_at = dot.find("subgraph cluster_2 {\n    label=\"2: second\";");
    assert!(
        first_at.is_some() && second_at.is_some() && first_at < second_at,
        "{dot}"
    );
    // Both apps use ON_CONN_NEW_DATA (index 4): two nodes, one per cluster.
    assert!(
        dot.contains("    a1_e4 [label=\"ON_CONN_NEW_DATA\""),
        "{dot}"
    );
    assert!(
        dot.contains("    a2_e4 [label=\"ON_CONN_NEW_DATA\""),
        "{dot}"
    );
    assert!(dot.contains("    a1_e4 -> a1_e9;"), "{dot}");
    assert!(dot.contains("    a2_e4 -> a2_h1 [style=dashed];"), "{dot}");
    // A single app's own rendering is untouched by the chain rendering.
    assert!(first::App::event_graph_dot().starts_with("digraph \"first\" {\n  rankdir=LR;\n"));
    assert!(!first::App::event_graph_dot().contains("cluster"));
}

#[test]
fn the_graph_example_prints_what_the_pair_generates() {
    type Monitor = mos_examples::http_monitor::http_monitor::App;
    type Midstat = mos_examples::midstat::midstat::App;
    let mut out = mos_examples::run::Out::memory();
    mos_examples::graph::run(vec!["http_monitor".into(), "midstat".into()], &mut out)
        .unwrap_or_else(|e| panic!("graph failed: {e:?}"));
    assert_eq!(
        out.as_text(),
        <(Monitor, Midstat) as AppGraphs>::event_graphs_dot()
    );
    // The example's table holds the apps' own graphs.
    assert_eq!(
        mos_examples::graph::GRAPHS[0].1.to_dot(),
        Monitor::event_graph_dot()
    );
}

/// `dot` accepts the chain's DOT (skipped, with a notice, when Graphviz is not installed; in
/// CI, where `.ci/run` installs it, a missing `dot` fails).
#[test]
fn graphviz_parses_the_chain() {
    let mut dots = vec![
        <Pair as AppGraphs>::event_graphs_dot(),
        <(Pair, first::App) as AppGraphs>::event_graphs_dot(),
    ];
    let examples: Vec<EventGraph> = mos_examples::graph::GRAPHS.iter().map(|g| g.1).collect();
    dots.push(chain_to_dot(examples));
    for dot in dots {
        let child = Command::new("dot")
            .arg("-Tcanon")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn();
        let mut child = match child {
            Ok(child) => child,
            Err(e) => {
                assert!(
                    std::env::var_os("CI").is_none(),
                    "Graphviz `dot` is not available in CI ({e}): apt-get install -y graphviz"
                );
                eprintln!("skipped: Graphviz `dot` is not available ({e})");
                return;
            }
        };
        child
            .stdin
            .take()
            .unwrap()
            .write_all(dot.as_bytes())
            .unwrap();
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "dot rejected:\n{dot}\n{stderr}");
        assert!(stderr.trim().is_empty(), "dot warned: {stderr}");
        let canon = String::from_utf8_lossy(&output.stdout);
        // The canonical form keeps the subgraphs: both clusters were read.
        assert!(canon.contains("subgraph cluster_1"), "{canon}");
        assert!(canon.contains("subgraph cluster_2"), "{canon}");
    }
}
