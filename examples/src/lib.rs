//! The example middleboxes of mos. Each app lives here as a library module with a
//! `run(args, out)` function, and `examples/NAME.rs` is a three-line `main` around it, so the
//! expected-output and conformance suites run exactly what the example binaries run.
//!
//! | example | what it shows |
//! |---|---|
//! | [`midstat`] | per-connection statistics, a periodic table driven by packet time (mOS's `midstat`) |
//! | [`simple_firewall`] | inline: rules on SYNs, drops denied connections and their orphans, stop monitoring (mOS's `simple_firewall`) |
//! | [`nat`] | inline source NAT: rewrites addresses and ports, checksums fixed (mOS's `nat`) |
//! | [`rexmit`] | retransmissions and TCP state changes per connection |
//! | [`http_monitor`] | the UDE library's HTTP events, a UDE on a UDE, per-flow handler activation |
//! | [`tls_sni`] | the UDE library's TLS ClientHello event |
//! | [`flowdump`] | the conformance tool (SPEC §5) |
//! | [`eventlog`] | every event the runtime raises |
//! | [`graph`] | an app's event graph as Graphviz DOT |
#![forbid(unsafe_code)]

pub mod cli;
pub mod eventlog;
pub mod flowdump;
pub mod graph;
pub mod http_monitor;
pub mod midstat;
pub mod nat;
pub mod rexmit;
pub mod run;
pub mod simple_firewall;
pub mod tls_sni;
