//! `tls_sni`: the server name of every TLS connection, from the UDE library's
//! `TlsClientHello` event (a ClientHello split over segments or records is found once whole).
//!
//! One line per ClientHello: the connection, the SNI (or `-`), the first ALPN protocol and the
//! highest version offered; at the end, how many connections named each server.

use crate::outln;
use crate::run::{self, Exit, Out};

/// `--help` text.
pub const USAGE: &str = "\
tls_sni — the server name (SNI) of every TLS ClientHello

usage: tls_sni [--quiet] [--cores N] [TRACE]

  --quiet     print only the final summary and report
  --cores N   worker threads (default 1)
  TRACE       pcap or pcapng file (default: the sample trace shipped in examples/data)

lines:  CLIENT -> SERVER  sni NAME  alpn PROTO  VERSION";

/// Distinct server names counted in the summary (more are counted as `(other)`).
pub const MAX_NAMES: usize = 4096;

// ANCHOR: app
#[mos_runtime::app]
pub mod tls_sni {
    use std::collections::BTreeMap;

    use mos_runtime::library;
    use mos_runtime::prelude::*;

    use super::MAX_NAMES;
    use crate::outln;
    use crate::run::Out;

    /// No per-connection state: everything is in the ClientHello.
    #[flow_state]
    #[derive(Default, Debug)]
    pub struct Flow;

    /// Per worker.
    #[core_state(merge = merge, fork = fork)]
    #[derive(Default, Debug)]
    pub struct Core {
        /// Where lines go.
        pub out: Out,
        /// Print only the summary.
        pub quiet: bool,
        /// ClientHellos seen.
        pub hellos: u64,
        /// ClientHellos per server name; at most [`MAX_NAMES`] names.
        pub names: BTreeMap<String, u64>,
        /// ClientHellos without a server name.
        pub no_sni: u64,
        /// Hellos whose name did not fit in `names`.
        pub other: u64,
    }

    /// Another worker's start under `--cores N`: the first worker's options, zero counts.
    fn fork(first: &Core) -> Core {
        Core {
            out: first.out.fork(),
            quiet: first.quiet,
            ..Core::default()
        }
    }

    fn merge(core: &mut Core, other: Core) {
        core.out.merge(other.out);
        core.hellos += other.hellos;
        core.other += other.other;
        core.no_sni += other.no_sni;
        for (name, n) in other.names {
            *core.names.entry(name).or_default() += n;
        }
    }

    #[on(event = mos_runtime::library::TlsClientHello, hook = RCV)]
    fn log_hello(cx: &mut Cx<'_, Flow, Core>) {
        let Some(hello) = library::tls_client_hello(cx) else {
            return;
        };
        let (client, server) = (cx.client(), cx.server());
        let core = cx.core_mut();
        core.hellos += 1;
        match hello.sni() {
            None => core.no_sni += 1,
            Some(name) => {
                if let Some(n) = core.names.get_mut(name) {
                    *n += 1;
                } else if core.names.len() < MAX_NAMES {
                    core.names.insert(name.to_string(), 1);
                } else {
                    core.other += 1;
                }
            }
        }
        let sni = hello.sni().unwrap_or("-");
        if !core.quiet {
            let version = if hello.supported_versions_has_tls13 {
                "TLS 1.3"
            } else {
                match hello.legacy_version {
                    0x0303 => "TLS 1.2",
                    0x0302 => "TLS 1.1",
                    0x0301 => "TLS 1.0",
                    0x0300 => "SSL 3.0",
                    _ => "SSL 2.0-compatible",
                }
            };
            outln!(
                core.out,
                "{client} -> {server}  sni {sni}  alpn {}  {version}",
                hello.alpn_str().unwrap_or("-")
            );
        }
    }
}
// ANCHOR_END: app

/// Runs the example: `args` without the program name.
pub fn run(args: Vec<String>, out: &mut Out) -> Result<(), Exit> {
    let args = run::common(args, USAGE)?;
    let core = tls_sni::Core {
        out: std::mem::take(out),
        quiet: args.quiet,
        ..tls_sni::Core::default()
    };
    let (report, core) = run::builder(&args)?
        .build()?
        .run_init::<tls_sni::App>(core)?;
    outln!(
        core.out,
        "tls_sni: {} ClientHellos, {} without a server name, {} distinct server names",
        core.hellos,
        core.no_sni,
        core.names.len() + usize::from(core.other > 0)
    );
    // Most frequent first, then by name.
    let mut by_count: Vec<(&String, &u64)> = core.names.iter().collect();
    by_count.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    for (name, n) in by_count {
        outln!(core.out, "  {n:>6}  {name}");
    }
    if core.other > 0 {
        outln!(
            core.out,
            "  {:>6}  (other names, not counted one by one)",
            core.other
        );
    }
    run::finish(&core.out, &report);
    *out = core.out;
    Ok(())
}
