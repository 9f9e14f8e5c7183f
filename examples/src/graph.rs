//! `graph`: an example app's event graph as Graphviz DOT (`App::event_graph_dot()`), the graph
//! `#[mos_runtime::app]` checked at compile time: built-in events, the app's user-defined
//! events and the library events it uses, and each handler with its hook. Given several apps,
//! the graphs of the apps run together (`run::<(A, B)>()`), one cluster per app in chain order
//! ([`mos_runtime::graph::chain_to_dot`], what `<(A, B) as AppGraphs>::event_graphs_dot()`
//! prints).
//!
//! `cargo run --example graph -- http_monitor | dot -Tsvg > http_monitor.svg`

use mos_runtime::graph::{EventGraph, chain_to_dot};

use crate::run::{self, Exit, Out};

/// `--help` text.
pub const USAGE: &str = "\
graph — print an example app's event graph as Graphviz DOT

usage: graph [--list] [APP...]

  --list   the apps it knows
  APP      one of them (default: http_monitor); several: the graphs of
           the apps run together, run::<(A, B)>(), in that chain order

example: graph http_monitor | dot -Tsvg > http_monitor.svg
         graph http_monitor midstat | dot -Tsvg > both.svg";

// ANCHOR: apps
/// The apps `graph` can draw, with their graph.
pub const GRAPHS: [(&str, EventGraph); 7] = [
    (
        "http_monitor",
        crate::http_monitor::http_monitor::App::EVENT_GRAPH,
    ),
    ("midstat", crate::midstat::midstat::App::EVENT_GRAPH),
    (
        "simple_firewall",
        crate::simple_firewall::simple_firewall::App::EVENT_GRAPH,
    ),
    ("nat", crate::nat::nat::App::EVENT_GRAPH),
    ("rexmit", crate::rexmit::rexmit::App::EVENT_GRAPH),
    ("tls_sni", crate::tls_sni::tls_sni::App::EVENT_GRAPH),
    ("flowdump", crate::flowdump::FlowDump::EVENT_GRAPH),
];
// ANCHOR_END: apps

/// Runs the example: `args` without the program name.
pub fn run(mut args: Vec<String>, out: &mut Out) -> Result<(), Exit> {
    if args.iter().any(|a| a == "-h" || a == "--help") {
        return Err(Exit::Help(USAGE.to_string()));
    }
    if run::take_flag(&mut args, "--list") {
        for (name, _) in GRAPHS {
            out.line(format_args!("{name}"));
        }
        return Ok(());
    }
    if let Some(flag) = args.iter().find(|a| a.starts_with('-')) {
        return Err(Exit::Usage(format!("unknown option: {flag}\n\n{USAGE}")));
    }
    if args.is_empty() {
        args.push("http_monitor".to_string());
    }
    let mut graphs = Vec::with_capacity(args.len());
    for name in &args {
        let Some((_, graph)) = GRAPHS.iter().find(|(n, _)| n == name) else {
            let known: Vec<&str> = GRAPHS.iter().map(|(n, _)| *n).collect();
            return Err(Exit::Usage(format!(
                "unknown app {name:?}; the apps are: {}",
                known.join(", ")
            )));
        };
        graphs.push(*graph);
    }
    match graphs.as_slice() {
        [one] => out.text(&one.to_dot()),
        _ => out.text(&chain_to_dot(graphs)),
    }
    Ok(())
}
