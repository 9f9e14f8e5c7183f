//! `rexmit`: packets and retransmissions per connection, and how each side's emulated TCP state
//! went, printed when the connection ends.
//!
//! `ON_REXMIT` is raised at the receiver (`RCV`) when it sees bytes it already has, a repeated
//! SYN, SYN-ACK or FIN: the count goes to the *sender* of the retransmitted segment. Each
//! side's state changes come from `ON_TCP_STATE_CHANGE` at both hooks (the sender's at `SND`,
//! the receiver's at `RCV`) and are kept in a small fixed array per connection; the side that
//! entered `FIN_WAIT_1` first is the one that closed first, and the line says so.

use mos_runtime::prelude::*;

use crate::outln;
use crate::run::{self, Exit, Out, Pair};

/// `--help` text.
pub const USAGE: &str = "\
rexmit — retransmissions and TCP state changes of every connection

usage: rexmit [--quiet] [--cores N] [TRACE]

  --quiet     print only the final summary and report
  --cores N   worker threads (default 1)
  TRACE       pcap or pcapng file (default: the sample trace shipped in examples/data)

lines:  CLIENT -> SERVER  END_REASON  pkts C/S  rexmit C/S  [closed first by SIDE]
          client STATE > STATE > ...
          server STATE > STATE > ...";

/// State changes kept per side (a side normally goes through at most 6).
pub const MAX_STATES: usize = 8;

/// The states one side went through, in order; changes past [`MAX_STATES`] are counted only.
#[derive(Clone, Copy, Debug, Default)]
pub struct StatePath {
    states: [Option<TcpState>; MAX_STATES],
    len: usize,
    latest: Option<TcpState>,
    /// Changes not kept.
    pub more: u32,
}

impl StatePath {
    /// Appends a state (a repeat of the last one is ignored).
    pub fn push(&mut self, state: TcpState) {
        if self.latest == Some(state) {
            return;
        }
        self.latest = Some(state);
        match self.states.get_mut(self.len) {
            Some(slot) => {
                *slot = Some(state);
                self.len += 1;
            }
            None => self.more = self.more.saturating_add(1),
        }
    }

    /// The latest state kept.
    pub fn last(&self) -> Option<TcpState> {
        self.states.get(self.len.checked_sub(1)?).copied().flatten()
    }

    /// The states kept, in order.
    pub fn iter(&self) -> impl Iterator<Item = TcpState> + '_ {
        self.states.iter().take(self.len).filter_map(|s| *s)
    }
}

impl std::fmt::Display for StatePath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, s) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(" > ")?;
            }
            f.write_str(s.name())?;
        }
        if self.more > 0 {
            write!(f, " > ... ({} more)", self.more)?;
        }
        Ok(())
    }
}

/// `  closed first by client`, or nothing.
struct ClosedFirst(Option<Side>);

impl std::fmt::Display for ClosedFirst {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(side) => write!(f, "  closed first by {side}"),
            None => Ok(()),
        }
    }
}

// ANCHOR: app
#[mos_runtime::app]
pub mod rexmit {
    use mos_runtime::prelude::*;

    use super::{ClosedFirst, StatePath};
    use crate::outln;
    use crate::run::{Out, Pair};

    /// Per connection.
    #[flow_state]
    #[derive(Default, Debug)]
    pub struct Flow {
        pkts: [u64; 2],
        rexmit: [u64; 2],
        path: [StatePath; 2],
        /// The side that reached `FIN_WAIT_1` first.
        closed_first: Option<Side>,
        printed: bool,
    }

    /// Per worker.
    #[core_state(merge = merge, fork = fork)]
    #[derive(Default, Debug)]
    pub struct Core {
        /// Where lines go.
        pub out: Out,
        /// Print only the summary.
        pub quiet: bool,
        /// Connections ended.
        pub connections: u64,
        /// Connections with at least one retransmission.
        pub with_rexmit: u64,
        /// Retransmissions by the client, by the server.
        pub rexmit: [u64; 2],
        /// Connections closed first by the client, by the server.
        pub closed_first: [u64; 2],
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
        core.connections += other.connections;
        core.with_rexmit += other.with_rexmit;
        for i in 0..2 {
            core.rexmit[i] += other.rexmit[i];
            core.closed_first[i] += other.closed_first[i];
        }
    }

    #[on(event = ON_PKT_IN, hook = SND)]
    fn count(cx: &mut Cx<'_, Flow, Core>) {
        let from = cx.side().index();
        cx.flow_mut().pkts[from] += 1;
    }

    #[on(event = ON_CONN_START, hook = SND)]
    fn start(cx: &mut Cx<'_, Flow, Core>) {
        let (client, server) = (cx.tcp_state(Side::Client), cx.tcp_state(Side::Server));
        let flow = cx.flow_mut();
        flow.path[0].push(client);
        flow.path[1].push(server);
    }

    #[on(event = ON_TCP_STATE_CHANGE, hook = SND)]
    fn state_snd(cx: &mut Cx<'_, Flow, Core>) {
        note_state(cx);
    }

    #[on(event = ON_TCP_STATE_CHANGE, hook = RCV)]
    fn state_rcv(cx: &mut Cx<'_, Flow, Core>) {
        note_state(cx);
    }

    fn note_state(cx: &mut Cx<'_, Flow, Core>) {
        let side = cx.side();
        let state = cx.tcp_state(side);
        let flow = cx.flow_mut();
        flow.path[side.index()].push(state);
        if state == TcpState::FinWait1 && flow.closed_first.is_none() {
            flow.closed_first = Some(side);
        }
    }

    /// At the receiver: the retransmission is of what its peer sent.
    #[on(event = ON_REXMIT, hook = RCV)]
    fn rexmit(cx: &mut Cx<'_, Flow, Core>) {
        let sender = cx.side().peer().index();
        cx.flow_mut().rexmit[sender] += 1;
    }

    #[on(event = ON_CONN_END, hook = RCV)]
    fn report(cx: &mut Cx<'_, Flow, Core>) {
        if cx.flow().printed {
            return;
        }
        cx.flow_mut().printed = true;
        let (client, server) = (cx.client(), cx.server());
        let reason = cx.end_reason().map_or("trace_end", |r| r.name());
        let flow = cx.flow();
        let (pkts, rexmit, path, closed_first) =
            (flow.pkts, flow.rexmit, flow.path, flow.closed_first);
        let core = cx.core_mut();
        core.connections += 1;
        if rexmit[0] + rexmit[1] > 0 {
            core.with_rexmit += 1;
        }
        core.rexmit[0] += rexmit[0];
        core.rexmit[1] += rexmit[1];
        if let Some(side) = closed_first {
            core.closed_first[side.index()] += 1;
        }
        if core.quiet {
            return;
        }
        outln!(
            core.out,
            "{client} -> {server}  {reason}  pkts {}  rexmit {}{}",
            Pair(pkts[0], pkts[1]),
            Pair(rexmit[0], rexmit[1]),
            ClosedFirst(closed_first),
        );
        outln!(core.out, "    client {}", path[0]);
        outln!(core.out, "    server {}", path[1]);
    }
}
// ANCHOR_END: app

/// Runs the example: `args` without the program name.
pub fn run(args: Vec<String>, out: &mut Out) -> Result<(), Exit> {
    let args = run::common(args, USAGE)?;
    let core = rexmit::Core {
        out: std::mem::take(out),
        quiet: args.quiet,
        ..rexmit::Core::default()
    };
    let (report, core) = run::builder(&args)?
        .build()?
        .run_init::<rexmit::App>(core)?;
    outln!(
        core.out,
        "rexmit: {} connections, {} with retransmissions; retransmitted by client/server {}; \
         closed first by client/server {}",
        core.connections,
        core.with_rexmit,
        Pair(core.rexmit[0], core.rexmit[1]),
        Pair(core.closed_first[0], core.closed_first[1]),
    );
    run::finish(&core.out, &report);
    *out = core.out;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_path_keeps_changes_in_order_and_counts_the_overflow() {
        let mut p = StatePath::default();
        p.push(TcpState::SynSent);
        p.push(TcpState::SynSent);
        p.push(TcpState::Established);
        assert_eq!(p.to_string(), "SYN_SENT > ESTABLISHED");
        for _ in 0..4 {
            p.push(TcpState::FinWait1);
            p.push(TcpState::Established);
        }
        // 2 + 8 changes: 8 kept, 2 counted.
        assert_eq!(p.iter().count(), MAX_STATES);
        assert_eq!(p.more, 2);
        assert_eq!(p.last(), Some(TcpState::Established));
        assert!(
            p.to_string()
                .ends_with("FIN_WAIT_1 > ESTABLISHED > ... (2 more)"),
            "{p}"
        );
    }
}
