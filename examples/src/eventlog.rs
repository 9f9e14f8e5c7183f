//! `eventlog`: an app subscribed to every (event, hook) pair that writes one line per
//! dispatch — to see what the runtime raises for a capture, and for the event-order snapshot
//! tests.
//!
//! Line format: `EVENT@HOOK side dir detail`, e.g. `ON_CONN_START@SND client c2s`,
//! `ON_TCP_STATE_CHANGE@RCV server c2s SYN_RCVD`, `ON_CONN_NEW_DATA@RCV server c2s 26 "GET /…"`,
//! `ON_ORPHAN@NULL no_connection`.

use mos_runtime::prelude::*;
use mos_runtime::{CoreState, Subscriptions};

// ANCHOR: app
/// The event-logging app.
#[derive(Debug)]
pub struct EventLog;

/// Lines recorded so far.
#[derive(Debug, Default)]
pub struct Log {
    pub lines: Vec<String>,
}

impl CoreState for Log {
    fn merge(&mut self, other: Self) {
        self.lines.extend(other.lines);
    }
}

fn dir(d: Dir) -> &'static str {
    match d {
        Dir::ClientToServer => "c2s",
        Dir::ServerToClient => "s2c",
    }
}

fn flow_line(cx: &Cx<'_, (), Log>) -> String {
    let mut line = format!(
        "{}@{} {} {}",
        cx.event(),
        cx.hook(),
        cx.side(),
        dir(cx.dir())
    );
    match cx.event() {
        Event::TcpStateChange => line.push_str(&format!(" {}", cx.tcp_state(cx.side()))),
        Event::ConnNewData => {
            let data = cx.peek(cx.side());
            let shown: String = String::from_utf8_lossy(&data[..data.len().min(16)])
                .escape_debug()
                .collect();
            line.push_str(&format!(" {} \"{shown}\"", data.len()));
        }
        Event::Error => line.push_str(&format!(" {}", cx.error_kind().map_or("?", |k| k.name()))),
        Event::ConnEnd => line.push_str(&format!(" {}", cx.end_reason().map_or("?", |r| r.name()))),
        Event::PktIn | Event::Rexmit => {
            if let Some(p) = cx.packet() {
                let payload = p.payload().len();
                if payload > 0 {
                    line.push_str(&format!(" len={payload}"));
                }
            }
        }
        _ => {}
    }
    line
}

fn packet_line(cx: &PacketCx<'_, Log>) -> String {
    let mut line = format!("{}@NULL", cx.event());
    if let Some(r) = cx.orphan_reason() {
        line.push_str(&format!(" {r}"));
    }
    if let Some(k) = cx.error_kind() {
        line.push_str(&format!(" {k}"));
    }
    line
}

macro_rules! record_flow {
    ($($name:ident),* $(,)?) => {
        $(fn $name(cx: &mut Cx<'_, (), Log>) {
            let line = flow_line(cx);
            cx.core_mut().lines.push(line);
        })*
    };
}

impl App for EventLog {
    type Flow = ();
    type Core = Log;
    const NAME: &'static str = "eventlog";
    const SUBSCRIPTIONS: Subscriptions = Subscriptions::ALL;

    record_flow!(
        pkt_in_snd,
        pkt_in_rcv,
        conn_start_snd,
        conn_start_rcv,
        tcp_state_change_snd,
        tcp_state_change_rcv,
        rexmit_rcv,
        conn_new_data_rcv,
        conn_end_snd,
        conn_end_rcv,
        error_rcv,
        timeout_null,
    );

    fn pkt_in_null(cx: &mut PacketCx<'_, Log>) {
        let line = packet_line(cx);
        cx.core_mut().lines.push(line);
    }

    fn orphan_null(cx: &mut PacketCx<'_, Log>) {
        let line = packet_line(cx);
        cx.core_mut().lines.push(line);
    }

    fn error_null(cx: &mut PacketCx<'_, Log>) {
        let line = packet_line(cx);
        cx.core_mut().lines.push(line);
    }
}
// ANCHOR_END: app

/// `--help` text.
pub const USAGE: &str = "\
eventlog — every event mos raises for a capture, in order

usage: eventlog [--batch N] [--quiet] [--cores N] [TRACE]

  --batch N   packets per receive batch (default 32; ON_CONN_NEW_DATA is coalesced per batch)
  --quiet     print only the final report
  --cores N   worker threads (default 1; lines are grouped by worker)
  TRACE       pcap or pcapng file (default: the sample trace shipped in examples/data)

line format: EVENT@HOOK side direction detail";

/// Runs the example: `args` without the program name.
pub fn run(mut args: Vec<String>, out: &mut crate::run::Out) -> Result<(), crate::run::Exit> {
    use crate::run;
    let batch = run::take_number(&mut args, "--batch")?.unwrap_or(32);
    let args = run::common(args, USAGE)?;
    let (report, log) = run::builder(&args)?
        .batch_size(batch)
        .build()?
        .run_with_core::<EventLog>()?;
    if !args.quiet {
        for line in &log.lines {
            out.line(format_args!("{line}"));
        }
    }
    run::finish(out, &report);
    Ok(())
}
