//! The generated static dispatch against a dynamic-registration baseline, on the same app and
//! the same input, in the same run.
//!
//! Both apps have the same handlers and user-defined events: 8 `ON_PKT_IN` handlers at each of
//! `SND` and `RCV`, handlers at `ON_CONN_START` and `ON_CONN_END`, and a two-deep UDE chain on
//! `ON_CONN_NEW_DATA` (an HTTP GET filter, then a `/search` filter). The static app is written
//! with `#[mos_runtime::app]`; the baseline implements `App` by hand the way mOS registers
//! callbacks: a table keyed by (event, hook) holding `Box<dyn Fn>` handlers and a tree of boxed
//! filters, walked at every dispatch. Everything else (capture parsing, flow tracking, TCP
//! emulation, reassembly) is the same runtime, so the difference is the dispatch.
//!
//! `cargo bench -p mos-macros --bench dispatch`

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::OnceLock;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use mos_runtime::prelude::*;
use mos_runtime::{Runtime, Subscriptions};
use mos_synth::workload::{Preset, Workload, WorkloadConfig};

/// Per-connection state shared by both apps.
#[derive(Default, Debug)]
pub struct Flow {
    pkts: [u32; 16],
    starts: u32,
    ends: u32,
    gets: u32,
    searches: u32,
}

fn is_get(cx: &FilterCx<'_, Flow>) -> bool {
    cx.peek(cx.side()).starts_with(b"GET ")
}

fn is_search(cx: &FilterCx<'_, Flow>) -> bool {
    cx.peek(cx.side()).get(4..11) == Some(b"/search")
}

#[mos_runtime::app]
mod static_app {
    use super::{is_get, is_search};
    use mos_runtime::prelude::*;

    #[flow_state]
    type Flow = super::Flow;

    // Macro-generated items are invisible to #[app] (it sees the module before expansion), so
    // the sixteen handlers are spelled out.
    #[on(event = ON_PKT_IN, hook = SND)]
    fn s0(cx: &mut Cx<'_, Flow>) {
        cx.flow_mut().pkts[0] += 1;
    }
    #[on(event = ON_PKT_IN, hook = SND)]
    fn s1(cx: &mut Cx<'_, Flow>) {
        cx.flow_mut().pkts[1] += 1;
    }
    #[on(event = ON_PKT_IN, hook = SND)]
    fn s2(cx: &mut Cx<'_, Flow>) {
        cx.flow_mut().pkts[2] += 1;
    }
    #[on(event = ON_PKT_IN, hook = SND)]
    fn s3(cx: &mut Cx<'_, Flow>) {
        cx.flow_mut().pkts[3] += 1;
    }
    #[on(event = ON_PKT_IN, hook = SND)]
    fn s4(cx: &mut Cx<'_, Flow>) {
        cx.flow_mut().pkts[4] += 1;
    }
    #[on(event = ON_PKT_IN, hook = SND)]
    fn s5(cx: &mut Cx<'_, Flow>) {
        cx.flow_mut().pkts[5] += 1;
    }
    #[on(event = ON_PKT_IN, hook = SND)]
    fn s6(cx: &mut Cx<'_, Flow>) {
        cx.flow_mut().pkts[6] += 1;
    }
    #[on(event = ON_PKT_IN, hook = SND)]
    fn s7(cx: &mut Cx<'_, Flow>) {
        cx.flow_mut().pkts[7] += 1;
    }
    #[on(event = ON_PKT_IN, hook = RCV)]
    fn r0(cx: &mut Cx<'_, Flow>) {
        cx.flow_mut().pkts[8] += 1;
    }
    #[on(event = ON_PKT_IN, hook = RCV)]
    fn r1(cx: &mut Cx<'_, Flow>) {
        cx.flow_mut().pkts[9] += 1;
    }
    #[on(event = ON_PKT_IN, hook = RCV)]
    fn r2(cx: &mut Cx<'_, Flow>) {
        cx.flow_mut().pkts[10] += 1;
    }
    #[on(event = ON_PKT_IN, hook = RCV)]
    fn r3(cx: &mut Cx<'_, Flow>) {
        cx.flow_mut().pkts[11] += 1;
    }
    #[on(event = ON_PKT_IN, hook = RCV)]
    fn r4(cx: &mut Cx<'_, Flow>) {
        cx.flow_mut().pkts[12] += 1;
    }
    #[on(event = ON_PKT_IN, hook = RCV)]
    fn r5(cx: &mut Cx<'_, Flow>) {
        cx.flow_mut().pkts[13] += 1;
    }
    #[on(event = ON_PKT_IN, hook = RCV)]
    fn r6(cx: &mut Cx<'_, Flow>) {
        cx.flow_mut().pkts[14] += 1;
    }
    #[on(event = ON_PKT_IN, hook = RCV)]
    fn r7(cx: &mut Cx<'_, Flow>) {
        cx.flow_mut().pkts[15] += 1;
    }

    #[on(event = ON_CONN_START, hook = SND)]
    fn start(cx: &mut Cx<'_, Flow>) {
        cx.flow_mut().starts += 1;
    }
    #[on(event = ON_CONN_END, hook = RCV)]
    fn end(cx: &mut Cx<'_, Flow>) {
        cx.flow_mut().ends += 1;
    }

    #[event(base = ON_CONN_NEW_DATA, filter = is_get)]
    pub struct Get;
    #[event(base = Get, filter = is_search)]
    pub struct Search;
    #[on(event = Get)]
    fn on_get(cx: &mut Cx<'_, Flow>) {
        cx.flow_mut().gets += 1;
    }
    #[on(event = Search)]
    fn on_search(cx: &mut Cx<'_, Flow>) {
        cx.flow_mut().searches += 1;
    }
}

// ---- the dynamic-registration baseline -----------------------------------------------------

type Handler = Box<dyn for<'a> Fn(&mut Cx<'a, Flow>) + Send + Sync>;
type Filter = Box<dyn for<'a, 'b> Fn(&'b FilterCx<'a, Flow>) -> bool + Send + Sync>;

/// A node of a registered event tree: a filter (none at the built-in root), its handlers, its
/// child events.
struct Node {
    filter: Option<Filter>,
    handlers: Vec<Handler>,
    children: Vec<Node>,
}

/// Registrations by (event, hook), as mOS keeps them.
struct Registry {
    trees: HashMap<(Event, Hook), Node>,
}

static REGISTRY: OnceLock<Registry> = OnceLock::new();

fn registry() -> &'static Registry {
    REGISTRY.get_or_init(|| {
        let mut trees = HashMap::new();
        let counter = |i: usize| -> Handler {
            Box::new(move |cx: &mut Cx<'_, Flow>| cx.flow_mut().pkts[i] += 1)
        };
        let leaf = |handlers: Vec<Handler>| Node {
            filter: None,
            handlers,
            children: Vec::new(),
        };
        trees.insert(
            (Event::PktIn, Hook::Snd),
            leaf((0..8).map(counter).collect()),
        );
        trees.insert(
            (Event::PktIn, Hook::Rcv),
            leaf((8..16).map(counter).collect()),
        );
        trees.insert(
            (Event::ConnStart, Hook::Snd),
            leaf(vec![Box::new(|cx: &mut Cx<'_, Flow>| {
                cx.flow_mut().starts += 1
            })]),
        );
        trees.insert(
            (Event::ConnEnd, Hook::Rcv),
            leaf(vec![Box::new(|cx: &mut Cx<'_, Flow>| {
                cx.flow_mut().ends += 1
            })]),
        );
        let search = Node {
            filter: Some(Box::new(|cx: &FilterCx<'_, Flow>| is_search(cx))),
            handlers: vec![Box::new(|cx: &mut Cx<'_, Flow>| {
                cx.flow_mut().searches += 1
            })],
            children: Vec::new(),
        };
        let get = Node {
            filter: Some(Box::new(|cx: &FilterCx<'_, Flow>| is_get(cx))),
            handlers: vec![Box::new(|cx: &mut Cx<'_, Flow>| cx.flow_mut().gets += 1)],
            children: vec![search],
        };
        trees.insert(
            (Event::ConnNewData, Hook::Rcv),
            Node {
                filter: None,
                handlers: Vec::new(),
                children: vec![get],
            },
        );
        Registry { trees }
    })
}

fn walk(node: &Node, cx: &mut Cx<'_, Flow>) {
    if let Some(filter) = &node.filter {
        if !filter(cx.as_filter()) {
            return;
        }
    }
    for handler in &node.handlers {
        handler(cx);
    }
    for child in &node.children {
        walk(child, cx);
    }
}

fn dispatch(event: Event, hook: Hook, cx: &mut Cx<'_, Flow>) {
    if let Some(tree) = registry().trees.get(&(event, hook)) {
        walk(tree, cx);
    }
}

/// The same app through a run-time registry.
#[derive(Debug)]
struct DynamicApp;

impl App for DynamicApp {
    type Flow = Flow;
    type Core = ();
    const NAME: &'static str = "dynamic";
    const SUBSCRIPTIONS: Subscriptions = Subscriptions::ALL;

    fn pkt_in_snd(cx: &mut Cx<'_, Flow>) {
        dispatch(Event::PktIn, Hook::Snd, cx);
    }
    fn pkt_in_rcv(cx: &mut Cx<'_, Flow>) {
        dispatch(Event::PktIn, Hook::Rcv, cx);
    }
    fn conn_start_snd(cx: &mut Cx<'_, Flow>) {
        dispatch(Event::ConnStart, Hook::Snd, cx);
    }
    fn conn_start_rcv(cx: &mut Cx<'_, Flow>) {
        dispatch(Event::ConnStart, Hook::Rcv, cx);
    }
    fn tcp_state_change_snd(cx: &mut Cx<'_, Flow>) {
        dispatch(Event::TcpStateChange, Hook::Snd, cx);
    }
    fn tcp_state_change_rcv(cx: &mut Cx<'_, Flow>) {
        dispatch(Event::TcpStateChange, Hook::Rcv, cx);
    }
    fn rexmit_rcv(cx: &mut Cx<'_, Flow>) {
        dispatch(Event::Rexmit, Hook::Rcv, cx);
    }
    fn conn_new_data_rcv(cx: &mut Cx<'_, Flow>) {
        dispatch(Event::ConnNewData, Hook::Rcv, cx);
    }
    fn conn_end_snd(cx: &mut Cx<'_, Flow>) {
        dispatch(Event::ConnEnd, Hook::Snd, cx);
    }
    fn conn_end_rcv(cx: &mut Cx<'_, Flow>) {
        dispatch(Event::ConnEnd, Hook::Rcv, cx);
    }
    fn error_rcv(cx: &mut Cx<'_, Flow>) {
        dispatch(Event::Error, Hook::Rcv, cx);
    }
    fn timeout_null(cx: &mut Cx<'_, Flow>) {
        dispatch(Event::Timeout, Hook::Null, cx);
    }
}

// ---- the run ---------------------------------------------------------------------------------

fn workload() -> Vec<u8> {
    let cfg = WorkloadConfig {
        flows: 1500,
        concurrency: 64,
        bulk_share: 0.0,
        response_max: 16 << 10,
        ..Preset::W1.config(7)
    };
    let mut pcap = Vec::new();
    let workload = Workload::new(cfg).unwrap_or_else(|e| panic!("workload: {e}"));
    workload
        .write_pcap(&mut pcap)
        .unwrap_or_else(|e| panic!("workload: {e}"));
    pcap
}

fn run<A: App>(pcap: Vec<u8>) -> u64 {
    // Small pools: the run should measure packets, not the start-up allocation.
    let report = Runtime::builder()
        .pcap_bytes(pcap)
        .max_flows(1024)
        .buffers(256)
        .buffer_size(16 << 10)
        .build()
        .and_then(|rt| rt.run::<A>())
        .unwrap_or_else(|e| panic!("run: {e}"));
    report.packets
}

fn bench(c: &mut Criterion) {
    let pcap = workload();
    let packets = run::<static_app::App>(pcap.clone());
    // Both apps see the same packets; a sanity check that the baseline is the same app.
    assert_eq!(packets, run::<DynamicApp>(pcap.clone()));
    let mut group = c.benchmark_group("dispatch");
    group.throughput(Throughput::Elements(packets));
    group.sample_size(20);
    group.bench_function("static (#[app])", |b| {
        b.iter_batched(
            || pcap.clone(),
            |p| black_box(run::<static_app::App>(p)),
            BatchSize::LargeInput,
        )
    });
    group.bench_function("dynamic (Box<dyn Fn> registry)", |b| {
        b.iter_batched(
            || pcap.clone(),
            |p| black_box(run::<DynamicApp>(p)),
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
