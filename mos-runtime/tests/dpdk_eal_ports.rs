//! Ports from the EAL flags (feature `dpdk`): the `--dpdk "EAL ARGS"` path of the examples.
//!
//! A test binary of its own, because the EAL starts once per process and this one starts it
//! with a `--vdev`: the run names no port and takes every port the EAL probed.

#![cfg(feature = "dpdk")]
#![allow(clippy::unwrap_used, reason = "a panic is the failure report")]

use std::path::PathBuf;

use mos_runtime::app::{App, HandlerInfo, Subscriptions};
use mos_runtime::cx::Cx;
use mos_runtime::event::{Event, Hook, Side};
use mos_runtime::io::dpdk::{DpdkConfig, IdleStop, split_eal_args};
use mos_runtime::{CoreState, Runtime};

/// (client, server, client packets, server packets, client stream bytes, end reason).
type Line = (String, String, u64, u64, u64, &'static str);

#[derive(Debug, Default)]
struct Lines(Vec<Line>);

impl CoreState for Lines {
    fn merge(&mut self, other: Lines) {
        self.0.extend(other.0);
    }
}

struct Conns;

impl App for Conns {
    type Flow = bool;
    type Core = Lines;
    const NAME: &'static str = "conns";
    const HANDLERS: &'static [HandlerInfo] = &[HandlerInfo {
        name: "line",
        event: "ON_CONN_END",
        hook: Hook::Rcv,
        per_flow: false,
    }];
    const SUBSCRIPTIONS: Subscriptions = Subscriptions::NONE.with(Event::ConnEnd, Hook::Rcv);

    fn conn_end_rcv(cx: &mut Cx<'_, bool, Lines>) {
        if !cx.__enter(0) || *cx.flow() {
            return;
        }
        *cx.flow_mut() = true;
        let (c, s) = (cx.sent_by(Side::Client), cx.sent_by(Side::Server));
        let line = (
            cx.client().to_string(),
            cx.server().to_string(),
            c.packets,
            s.packets,
            c.stream_bytes,
            cx.end_reason().map_or("none", |r| r.name()),
        );
        cx.core_mut().0.push(line);
    }
}

#[test]
fn a_run_without_ports_takes_the_eal_vdevs() {
    let trace = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/traces/public/zeek-http-pipelined.pcap");
    let flags = format!(
        "-l 0 --no-huge -m 128 --no-pci --no-shconf --no-telemetry --log-level=*:warning \
         --vdev 'net_pcap0,rx_pcap={}'",
        trace.display()
    );
    let cfg = DpdkConfig {
        stop_when_idle: Some(IdleStop::polls(1)),
        ..DpdkConfig::from_eal_args(&flags).unwrap()
    };
    assert_eq!(cfg.eal_args.len(), 11);
    assert!(cfg.ports.is_empty());
    let (got, got_lines) = Runtime::builder()
        .dpdk(cfg)
        .build()
        .unwrap()
        .run_with_core::<Conns>()
        .unwrap();
    let (want, want_lines) = Runtime::builder()
        .pcap(&trace)
        .unwrap()
        .progress(false)
        .build()
        .unwrap()
        .run_with_core::<Conns>()
        .unwrap();
    assert_eq!(got.packets, 49);
    assert_eq!(got_lines.0, want_lines.0);
    assert_eq!(got_lines.0.len(), 1);
    assert_eq!((got.packets, got.bytes), (want.packets, want.bytes));
    assert_eq!(got.events, want.events);
    // The port went back to the pool of unowned ports: a second run takes it again, and since
    // the pcap driver opens its file when the port starts, reads the capture once more.
    let again = DpdkConfig {
        eal_args: split_eal_args("ignored: the EAL already runs").unwrap(),
        stop_when_idle: Some(IdleStop::polls(1)),
        ..DpdkConfig::default()
    };
    let (second, _) = Runtime::builder()
        .dpdk(again)
        .build()
        .unwrap()
        .run_with_core::<Conns>()
        .unwrap();
    assert_eq!((second.packets, second.connections), (49, 1));
}
