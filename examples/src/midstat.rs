//! `midstat`: "middlebox netstat", mOS's `midstat` sample. Every `--interval` of packet time it
//! prints a table of the live TCP connections — both endpoints' emulated TCP states, packets,
//! payload bytes and retransmissions per direction — and at the end a summary.
//!
//! Like mOS's, it keeps its own table of live connections (a row per connection, added at
//! `ON_CONN_START`, removed at `ON_CONN_END`) and refreshes a side's state at
//! `ON_TCP_STATE_CHANGE`. The rows live in a slab sized once from the runtime's `max_flows`
//! (a connection holds at most one row, so it never fills or grows); the flow state holds the
//! row's index. mOS prints from a one-second timer; here the clock is the packets' own time,
//! checked at every packet, so the same capture gives the same tables on every run. With
//! `--cores N` each worker prints the table of its own connections.

use std::net::SocketAddr;
use std::time::Duration;

use mos_runtime::prelude::*;

use crate::outln;
use crate::run::{self, Exit, Out, Pair};

/// `--help` text.
pub const USAGE: &str = "\
midstat — per-connection statistics, printed periodically (mOS's midstat)

usage: midstat [--interval SECS] [--quiet] [--cores N] [TRACE]

  --interval SECS  seconds of packet time between tables (default 5; mOS prints every second)
  --quiet          print only the final summary and report
  --cores N        worker threads (default 1; each prints its own connections)
  TRACE            pcap or pcapng file (default: the sample trace shipped in examples/data)

columns: client and server address and emulated TCP state, then per direction (client→server /
server→client): packets, payload bytes, retransmissions";

/// Rows held by default: the runtime's default `max_flows`.
pub const DEFAULT_ROWS: usize = 1 << 16;

/// Seconds of packet time between tables by default.
pub const DEFAULT_INTERVAL_SECS: u64 = 5;

/// One live connection.
#[derive(Clone, Copy, Debug)]
pub struct Row {
    /// The client's address.
    pub client: SocketAddr,
    /// The server's address.
    pub server: SocketAddr,
    /// Emulated TCP state of the client and the server.
    pub state: [TcpState; 2],
    /// Packets sent by the client and by the server.
    pub pkts: [u64; 2],
    /// Payload bytes sent by the client and by the server (retransmissions included).
    pub bytes: [u64; 2],
    /// Retransmissions of data the client sent and of data the server sent.
    pub rexmit: [u64; 2],
    /// The SYN's time.
    pub start: Timestamp,
}

/// Fixed-capacity storage of rows: a `Vec` never pushed past the capacity it was built with,
/// and a free list of the same capacity.
#[derive(Debug, Default)]
pub struct Slab {
    rows: Vec<Option<Row>>,
    free: Vec<u32>,
    live: usize,
    /// Indices of the live rows in print order (reused at every table).
    order: Vec<u32>,
}

impl Slab {
    /// Room for `cap` rows, allocated now.
    pub fn with_capacity(cap: usize) -> Slab {
        Slab {
            rows: Vec::with_capacity(cap),
            free: Vec::with_capacity(cap),
            live: 0,
            order: Vec::with_capacity(cap),
        }
    }

    /// Stores a row; `None` when full.
    pub fn insert(&mut self, row: Row) -> Option<u32> {
        let index = if let Some(i) = self.free.pop() {
            *self.rows.get_mut(i as usize)? = Some(row);
            i
        } else if self.rows.len() < self.rows.capacity() {
            self.rows.push(Some(row));
            u32::try_from(self.rows.len() - 1).ok()?
        } else {
            return None;
        };
        self.live += 1;
        Some(index)
    }

    /// The row at `index`, if live.
    pub fn get_mut(&mut self, index: u32) -> Option<&mut Row> {
        self.rows.get_mut(index as usize)?.as_mut()
    }

    /// Removes and returns the row at `index`.
    pub fn remove(&mut self, index: u32) -> Option<Row> {
        let row = self.rows.get_mut(index as usize)?.take()?;
        self.free.push(index);
        self.live -= 1;
        Some(row)
    }

    /// Live rows.
    pub fn len(&self) -> usize {
        self.live
    }

    /// Whether no row is live.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }
}

// ANCHOR: app
#[mos_runtime::app]
pub mod midstat {
    use mos_runtime::prelude::*;

    use std::time::Duration;

    use super::{Row, Slab, print_table};
    use crate::run::Out;

    /// Per connection: the row in the core's slab (`None` if the slab was full).
    #[flow_state]
    #[derive(Default, Debug)]
    pub struct Flow {
        row: Option<u32>,
    }

    /// Per worker: the live rows, the clock of the tables, the totals of ended connections.
    #[core_state(merge = merge, fork = fork)]
    #[derive(Debug)]
    pub struct Core {
        /// Where tables go.
        pub out: Out,
        /// Print only the summary.
        pub quiet: bool,
        /// Time between tables.
        pub interval: Duration,
        /// Live connections.
        pub rows: Slab,
        /// The first packet's time (the tables' time origin).
        pub origin: Option<Timestamp>,
        /// When the next table is due.
        pub next_table: Option<Timestamp>,
        /// Tables printed.
        pub tables: u64,
        /// Connections that ended, their packets, bytes and retransmissions per direction.
        pub ended: u64,
        /// Packets per direction of ended connections.
        pub pkts: [u64; 2],
        /// Payload bytes per direction of ended connections.
        pub bytes: [u64; 2],
        /// Retransmissions per direction of ended connections.
        pub rexmit: [u64; 2],
        /// Most connections live at once.
        pub peak: usize,
        /// Connections not shown because the slab was full.
        pub untracked: u64,
    }

    /// Another worker's start under `--cores N`: the first worker's options, empty tables.
    fn fork(first: &Core) -> Core {
        Core {
            out: first.out.fork(),
            quiet: first.quiet,
            interval: first.interval,
            ..Core::default()
        }
    }

    /// The state with the default options (the runtime's `Default` requirement).
    impl Default for Core {
        fn default() -> Core {
            Core {
                out: Out::stdout(),
                quiet: false,
                interval: Duration::from_secs(super::DEFAULT_INTERVAL_SECS),
                rows: Slab::with_capacity(super::DEFAULT_ROWS),
                origin: None,
                next_table: None,
                tables: 0,
                ended: 0,
                pkts: [0; 2],
                bytes: [0; 2],
                rexmit: [0; 2],
                peak: 0,
                untracked: 0,
            }
        }
    }

    fn merge(core: &mut Core, other: Core) {
        core.out.merge(other.out);
        core.tables += other.tables;
        core.ended += other.ended;
        for i in 0..2 {
            core.pkts[i] += other.pkts[i];
            core.bytes[i] += other.bytes[i];
            core.rexmit[i] += other.rexmit[i];
        }
        core.peak += other.peak;
        core.untracked += other.untracked;
    }

    /// Prints the table when its time has come (before this packet is counted).
    fn tick(core: &mut Core, now: Timestamp) {
        let interval = u64::try_from(core.interval.as_nanos()).unwrap_or(u64::MAX);
        if interval == 0 {
            return;
        }
        let origin = *core.origin.get_or_insert(now);
        let next = *core
            .next_table
            .get_or_insert(Timestamp(origin.0.saturating_add(interval)));
        if now < next {
            return;
        }
        // One table for the latest boundary passed: nothing changed between boundaries.
        let due = next.0 + (now.0 - next.0) / interval * interval;
        core.next_table = Some(Timestamp(due.saturating_add(interval)));
        core.tables += 1;
        if !core.quiet {
            print_table(core, due - origin.0);
        }
    }

    #[on(event = ON_PKT_IN, hook = NULL)]
    fn clock_without_flow(cx: &mut PacketCx<'_, Core>) {
        let now = cx.now();
        tick(cx.core_mut(), now);
    }

    /// Every packet of a connection, at its sender's side.
    #[on(event = ON_PKT_IN, hook = SND)]
    fn count(cx: &mut Cx<'_, Flow, Core>) {
        let now = cx.now();
        tick(cx.core_mut(), now);
        let from = cx.side().index();
        let payload = cx.packet().map_or(0, |p| p.payload().len() as u64);
        if let Some(row) = cx.flow().row.and_then(|i| cx.core_mut().rows.get_mut(i)) {
            row.pkts[from] += 1;
            row.bytes[from] += payload;
        }
    }

    #[on(event = ON_CONN_START, hook = SND)]
    fn add_row(cx: &mut Cx<'_, Flow, Core>) {
        let row = Row {
            client: cx.client(),
            server: cx.server(),
            state: [cx.tcp_state(Side::Client), cx.tcp_state(Side::Server)],
            // The SYN was counted before the row existed.
            pkts: [1, 0],
            bytes: [cx.packet().map_or(0, |p| p.payload().len() as u64), 0],
            rexmit: [0, 0],
            start: cx.start_time(),
        };
        let core = cx.core_mut();
        let index = core.rows.insert(row);
        if index.is_none() {
            core.untracked += 1;
        }
        core.peak = core.peak.max(core.rows.len());
        cx.flow_mut().row = index;
    }

    #[on(event = ON_TCP_STATE_CHANGE, hook = SND)]
    fn state_snd(cx: &mut Cx<'_, Flow, Core>) {
        refresh(cx);
    }

    #[on(event = ON_TCP_STATE_CHANGE, hook = RCV)]
    fn state_rcv(cx: &mut Cx<'_, Flow, Core>) {
        refresh(cx);
    }

    fn refresh(cx: &mut Cx<'_, Flow, Core>) {
        let side = cx.side();
        let state = cx.tcp_state(side);
        if let Some(row) = cx.flow().row.and_then(|i| cx.core_mut().rows.get_mut(i)) {
            row.state[side.index()] = state;
        }
    }

    /// A retransmission the receiver saw: of data its peer sent.
    #[on(event = ON_REXMIT, hook = RCV)]
    fn rexmit(cx: &mut Cx<'_, Flow, Core>) {
        let sender = cx.side().peer().index();
        if let Some(row) = cx.flow().row.and_then(|i| cx.core_mut().rows.get_mut(i)) {
            row.rexmit[sender] += 1;
        }
    }

    #[on(event = ON_CONN_END, hook = SND)]
    fn remove_row(cx: &mut Cx<'_, Flow, Core>) {
        let Some(index) = cx.flow_mut().row.take() else {
            return;
        };
        let core = cx.core_mut();
        if let Some(row) = core.rows.remove(index) {
            core.ended += 1;
            for i in 0..2 {
                core.pkts[i] += row.pkts[i];
                core.bytes[i] += row.bytes[i];
                core.rexmit[i] += row.rexmit[i];
            }
        }
    }
}
// ANCHOR_END: app

/// One table: the live rows by start time, then client address.
fn print_table(core: &mut midstat::Core, at_nanos: u64) {
    let midstat::Core { out, rows, .. } = core;
    rows.order.clear();
    for (i, row) in rows.rows.iter().enumerate() {
        if row.is_some() {
            rows.order.push(i as u32);
        }
    }
    let slots = &rows.rows;
    let key = |i: &u32| {
        slots
            .get(*i as usize)
            .and_then(|r| r.as_ref())
            .map(|r| (r.start, r.client))
    };
    rows.order.sort_unstable_by_key(key);
    outln!(
        out,
        "[+{:.3}s] {} live connection{}",
        Duration::from_nanos(at_nanos).as_secs_f64(),
        rows.len(),
        if rows.len() == 1 { "" } else { "s" }
    );
    if rows.is_empty() {
        return;
    }
    outln!(
        out,
        "  {:<5} {:<24} {:<12} {:<24} {:<12} {:>9} {:>13} {:>7}",
        "Proto",
        "Client Address",
        "Client State",
        "Server Address",
        "Server State",
        "Pkts",
        "Bytes",
        "Rexmit"
    );
    for i in &rows.order {
        let Some(Some(r)) = slots.get(*i as usize) else {
            continue;
        };
        outln!(
            out,
            "  {:<5} {:<24} {:<12} {:<24} {:<12} {:>9} {:>13} {:>7}",
            "tcp",
            r.client,
            r.state[0].name(),
            r.server,
            r.state[1].name(),
            Pair(r.pkts[0], r.pkts[1]),
            Pair(r.bytes[0], r.bytes[1]),
            Pair(r.rexmit[0], r.rexmit[1]),
        );
    }
}

/// Runs the example: `args` without the program name.
pub fn run(mut args: Vec<String>, out: &mut Out) -> Result<(), Exit> {
    let interval: f64 =
        run::take_number(&mut args, "--interval")?.unwrap_or(DEFAULT_INTERVAL_SECS as f64);
    if !(interval.is_finite() && interval >= 0.0) {
        return Err(Exit::Usage(format!(
            "--interval: {interval} is not a duration"
        )));
    }
    let args = run::common(args, USAGE)?;
    let core = midstat::Core {
        out: std::mem::take(out),
        quiet: args.quiet,
        interval: Duration::from_secs_f64(interval),
        ..midstat::Core::default()
    };
    let (report, core) = run::builder(&args)?
        .max_flows(DEFAULT_ROWS)
        .build()?
        .run_init::<midstat::App>(core)?;
    outln!(
        core.out,
        "midstat: {} connections ended ({} tables printed, at most {} live at once{})",
        core.ended,
        core.tables,
        core.peak,
        if core.untracked > 0 {
            format!(", {} not shown: table full", core.untracked)
        } else {
            String::new()
        }
    );
    outln!(
        core.out,
        "  packets    client→server {:>10}  server→client {:>10}",
        core.pkts[0],
        core.pkts[1]
    );
    outln!(
        core.out,
        "  bytes      client→server {:>10}  server→client {:>10}",
        core.bytes[0],
        core.bytes[1]
    );
    outln!(
        core.out,
        "  rexmits    client→server {:>10}  server→client {:>10}",
        core.rexmit[0],
        core.rexmit[1]
    );
    run::finish(&core.out, &report);
    *out = core.out;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(port: u16) -> Row {
        Row {
            client: SocketAddr::from(([10, 0, 0, 1], port)),
            server: SocketAddr::from(([10, 0, 0, 2], 80)),
            state: [TcpState::SynSent, TcpState::Listen],
            pkts: [0; 2],
            bytes: [0; 2],
            rexmit: [0; 2],
            start: Timestamp::ZERO,
        }
    }

    #[test]
    fn the_slab_reuses_rows_and_refuses_past_its_capacity() {
        let mut slab = Slab::with_capacity(2);
        let a = slab.insert(row(1)).unwrap();
        let b = slab.insert(row(2)).unwrap();
        assert_eq!(slab.insert(row(3)), None);
        assert_eq!(slab.len(), 2);
        assert_eq!(slab.remove(a).unwrap().client.port(), 1);
        assert!(slab.remove(a).is_none(), "removed twice");
        let c = slab.insert(row(4)).unwrap();
        assert_eq!(c, a, "the freed row is reused");
        assert_eq!(slab.get_mut(b).unwrap().client.port(), 2);
        assert_eq!(slab.rows.capacity(), 2, "never grew");
    }
}
