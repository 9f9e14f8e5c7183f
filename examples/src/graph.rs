//! `graph`: an example app's event graph as Graphviz DOT (`App::event_graph_dot()`), the graph
//! `#[mos_runtime::app]` checked at compile time: built-in events, the app's user-defined
//! events and the library events it uses, and each handler with its hook.
//!
//! `cargo run --example graph -- http_monitor | dot -Tsvg > http_monitor.svg`

use crate::run::{self, Exit, Out};

/// `--help` text.
pub const USAGE: &str = "\
graph — print an example app's event graph as Graphviz DOT

usage: graph [--list] [APP]

  --list   the apps it knows
  APP      one of them (default: http_monitor)

example: graph http_monitor | dot -Tsvg > http_monitor.svg";

/// Renders an app's graph.
pub type DotFn = fn() -> String;

// ANCHOR: apps
/// The apps `graph` can draw, with their DOT.
pub const APPS: [(&str, DotFn); 7] = [
    (
        "http_monitor",
        crate::http_monitor::http_monitor::App::event_graph_dot,
    ),
    ("midstat", crate::midstat::midstat::App::event_graph_dot),
    (
        "simple_firewall",
        crate::simple_firewall::simple_firewall::App::event_graph_dot,
    ),
    ("nat", crate::nat::nat::App::event_graph_dot),
    ("rexmit", crate::rexmit::rexmit::App::event_graph_dot),
    ("tls_sni", crate::tls_sni::tls_sni::App::event_graph_dot),
    ("flowdump", crate::flowdump::FlowDump::event_graph_dot),
];
// ANCHOR_END: apps

/// Runs the example: `args` without the program name.
pub fn run(mut args: Vec<String>, out: &mut Out) -> Result<(), Exit> {
    if args.iter().any(|a| a == "-h" || a == "--help") {
        return Err(Exit::Help(USAGE.to_string()));
    }
    if run::take_flag(&mut args, "--list") {
        for (name, _) in APPS {
            out.line(format_args!("{name}"));
        }
        return Ok(());
    }
    if let Some(flag) = args.iter().find(|a| a.starts_with('-')) {
        return Err(Exit::Usage(format!("unknown option: {flag}\n\n{USAGE}")));
    }
    let name = match args.as_slice() {
        [] => "http_monitor",
        [one] => one.as_str(),
        _ => return Err(Exit::Usage(format!("expected one app name\n\n{USAGE}"))),
    };
    let Some((_, dot)) = APPS.iter().find(|(n, _)| *n == name) else {
        let known: Vec<&str> = APPS.iter().map(|(n, _)| *n).collect();
        return Err(Exit::Usage(format!(
            "unknown app {name:?}; the apps are: {}",
            known.join(", ")
        )));
    };
    out.text(&dot());
    Ok(())
}
