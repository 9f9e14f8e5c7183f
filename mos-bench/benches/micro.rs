//! Criterion micro-benchmarks of the runtime's parts (SPEC §6, the performance issue):
//!
//! - `flow_table`: lookup of a present key (with and without the LRU touch), insert+remove
//!   churn, in a table of 16,384 slots holding 10,000 flows with connection-sized values;
//! - `reassembly`: full-size segments into a receive buffer, in order and with every pair of
//!   segments swapped (out of order), consumed as they become readable;
//! - `parse`: one pass over frames of a generated workload, checksums verified and not;
//! - `dispatch`: the same engine and packets with 16 `ON_PKT_IN` handlers (8 at `SND`, 8 at
//!   `RCV`) dispatched statically (what `#[app]` generates: direct calls behind a bit test),
//!   through a mOS-style registry (a `Vec<Box<dyn Fn>>` per event, walked at every dispatch)
//!   and with no handler at all (the engine alone). Per event:
//!   `(time − time without handlers) / events`;
//! - `pipeline`: the whole per-packet path (parse, flow table, both TCP endpoints,
//!   reassembly, the midstat app's events) over a generated W1-shaped workload.
//!
//! `cargo bench -p mos-bench --bench micro [-- FILTER]`

use std::hint::black_box;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use mos_bench::app::Midstat;
use mos_runtime::flow::{FlowKey, FlowTable};
use mos_runtime::io::PcapReader;
use mos_runtime::prelude::*;
use mos_runtime::stream::{BufferPool, OverlapPolicy, StreamBuf};
use mos_runtime::wire::{self, LinkType};
use mos_runtime::{Config, Subscriptions, Worker};
use mos_synth::workload::{Preset, Workload};

/// A frame of a capture, owned.
struct Frame {
    data: Vec<u8>,
    ts: Timestamp,
    wire_len: u32,
    link: LinkType,
}

/// A W1-shaped workload of `flows` connections, `concurrency` open at once.
fn frames(flows: u64, concurrency: u32) -> Vec<Frame> {
    let mut cfg = Preset::W1.config(9);
    cfg.flows = flows;
    cfg.concurrency = concurrency;
    let mut pcap = Vec::new();
    Workload::new(cfg)
        .and_then(|w| w.write_pcap(&mut pcap))
        .unwrap_or_else(|e| panic!("workload: {e}"));
    let mut reader = PcapReader::from_bytes(pcap).unwrap_or_else(|e| panic!("{e}"));
    let mut out = Vec::new();
    while let Ok(Some(f)) = reader.next_frame() {
        out.push(Frame {
            data: f.data.to_vec(),
            ts: f.ts,
            wire_len: f.wire_len,
            link: f.link,
        });
    }
    out
}

fn workload() -> &'static [Frame] {
    static FRAMES: OnceLock<Vec<Frame>> = OnceLock::new();
    FRAMES.get_or_init(|| frames(1500, 400))
}

// ---- flow table ----------------------------------------------------------------------------

fn keys(n: u32) -> Vec<FlowKey> {
    (0..n)
        .map(|i| {
            let c = [10, 1, (i >> 8) as u8, i as u8];
            let s = [192, 0, 2, (i % 7) as u8];
            FlowKey::from_v4(c, 32768 + (i % 28000) as u16, s, 80, 6).0
        })
        .collect()
}

fn flow_table(c: &mut Criterion) {
    // Connection-sized values (the engine's record is about 1.3 KB); only the size matters.
    #[allow(dead_code)]
    struct Value([u64; 160]);
    impl Default for Value {
        fn default() -> Value {
            Value([0; 160])
        }
    }
    let keys = keys(10_000);
    let mut table: FlowTable<Value> = FlowTable::new(16_384).unwrap_or_else(|e| panic!("{e}"));
    for k in &keys {
        let _ = table.insert(*k, Value::default(), Timestamp::ZERO);
    }
    // Visit the keys in a scattered order, as packets of interleaved flows do.
    let order: Vec<usize> = (0..keys.len()).map(|i| (i * 7919) % keys.len()).collect();
    let mut g = c.benchmark_group("flow_table");
    g.throughput(Throughput::Elements(order.len() as u64));
    g.bench_function("lookup_hit", |b| {
        b.iter(|| {
            let mut found = 0usize;
            for &i in &order {
                let k = &keys[i];
                found += usize::from(table.lookup_hashed(k, k.hash64()).is_some());
            }
            black_box(found)
        })
    });
    g.bench_function("lookup_touch", |b| {
        let mut now = Timestamp::ZERO;
        b.iter(|| {
            for &i in &order {
                let k = &keys[i];
                now = now.saturating_add(std::time::Duration::from_nanos(1));
                if let Some(id) = table.lookup_hashed(k, k.hash64()) {
                    table.touch(id, now);
                }
            }
        })
    });
    let fresh = self::keys(20_000).split_off(10_000);
    g.bench_function("insert_remove", |b| {
        b.iter(|| {
            for k in &fresh {
                if let Ok(id) =
                    table.insert_hashed(*k, k.hash64(), Value::default(), Timestamp::ZERO)
                {
                    black_box(table.remove(id));
                }
            }
        })
    });
    g.finish();
}

// ---- reassembly ----------------------------------------------------------------------------

fn reassembly(c: &mut Criterion) {
    const SEG: usize = 1448;
    const SEGS: usize = 1024;
    let payload: Vec<u8> = (0..SEG * SEGS).map(|i| (i * 31 % 251) as u8).collect();
    let mut g = c.benchmark_group("reassembly");
    g.throughput(Throughput::Bytes(payload.len() as u64));
    for (name, swapped) in [("in_order", false), ("out_of_order", true)] {
        g.bench_function(name, |b| {
            let mut pool = BufferPool::new(1, 64 << 10).unwrap_or_else(|e| panic!("{e}"));
            b.iter(|| {
                let mut s = StreamBuf::new(8, OverlapPolicy::default());
                let mut read = 0usize;
                for pair in 0..SEGS / 2 {
                    let order = if swapped { [1, 0] } else { [0, 1] };
                    for k in order {
                        let i = pair * 2 + k;
                        let off = (i * SEG) as u64;
                        let out = s.write(&mut pool, off, &payload[i * SEG..(i + 1) * SEG]);
                        if out.advanced > 0 {
                            read += s.peek(&pool).len();
                            s.consume_all();
                        }
                    }
                }
                s.release(&mut pool);
                black_box(read)
            })
        });
    }
    g.finish();
}

// ---- parse ---------------------------------------------------------------------------------

fn parse(c: &mut Criterion) {
    let frames = workload();
    let mut g = c.benchmark_group("parse");
    g.throughput(Throughput::Elements(frames.len() as u64));
    for (name, verify) in [("checksums_verified", true), ("no_checksums", false)] {
        g.bench_function(name, |b| {
            b.iter(|| {
                let mut ok = 0usize;
                for f in frames {
                    ok +=
                        usize::from(wire::parse(f.link, &f.data, f.ts, f.wire_len, verify).is_ok());
                }
                black_box(ok)
            })
        });
    }
    g.finish();
}

// ---- dispatch ------------------------------------------------------------------------------

/// Per-flow state of the dispatch apps: one counter per handler.
#[derive(Default, Debug)]
struct Counters([u32; 16]);

/// The engine alone: no handler anywhere.
struct NoHandlers;
impl App for NoHandlers {
    type Flow = Counters;
    type Core = ();
    const NAME: &'static str = "none";
    const SUBSCRIPTIONS: Subscriptions = Subscriptions::NONE;
}

const SND_HANDLER: mos_runtime::HandlerInfo = mos_runtime::HandlerInfo {
    name: "count_snd",
    event: "ON_PKT_IN",
    hook: Hook::Snd,
    per_flow: false,
};
const RCV_HANDLER: mos_runtime::HandlerInfo = mos_runtime::HandlerInfo {
    name: "count_rcv",
    event: "ON_PKT_IN",
    hook: Hook::Rcv,
    per_flow: false,
};
/// The 16 handlers of both apps (their call counts are kept like any app's).
const HANDLERS16: [mos_runtime::HandlerInfo; 16] = [
    SND_HANDLER,
    SND_HANDLER,
    SND_HANDLER,
    SND_HANDLER,
    SND_HANDLER,
    SND_HANDLER,
    SND_HANDLER,
    SND_HANDLER,
    RCV_HANDLER,
    RCV_HANDLER,
    RCV_HANDLER,
    RCV_HANDLER,
    RCV_HANDLER,
    RCV_HANDLER,
    RCV_HANDLER,
    RCV_HANDLER,
];

/// What `#[app]` generates for 16 handlers: a bit test and a direct call each.
struct Static16;
macro_rules! calls {
    ($cx:ident, $($i:literal)*) => {
        $( if $cx.__enter($i) { $cx.flow_mut().0[$i] += 1; $cx.core_mut().0 += 1; } )*
    };
}
/// Handler calls of the static app (its core state), to count the events of a replay.
#[derive(Default, Debug)]
struct Calls(u64);
impl mos_runtime::CoreState for Calls {}

impl App for Static16 {
    type Flow = Counters;
    type Core = Calls;
    const NAME: &'static str = "static";
    const HANDLERS: &'static [mos_runtime::HandlerInfo] = &HANDLERS16;
    const SUBSCRIPTIONS: Subscriptions = Subscriptions::NONE
        .with(Event::PktIn, Hook::Snd)
        .with(Event::PktIn, Hook::Rcv);
    fn pkt_in_snd(cx: &mut Cx<'_, Counters, Calls>) {
        calls!(cx, 0 1 2 3 4 5 6 7);
    }
    fn pkt_in_rcv(cx: &mut Cx<'_, Counters, Calls>) {
        calls!(cx, 8 9 10 11 12 13 14 15);
    }
}

type Handler = Box<dyn for<'a> Fn(&mut Cx<'a, Counters, Calls>) + Send + Sync>;

/// The mOS-style baseline: a `Vec<Box<dyn Fn>>` per (event, hook), looked up and walked at
/// every dispatch, each call behind the same per-flow enable bit.
fn registry() -> &'static [Vec<(u8, Handler)>; 15] {
    static REG: OnceLock<[Vec<(u8, Handler)>; 15]> = OnceLock::new();
    REG.get_or_init(|| {
        let mut reg: [Vec<(u8, Handler)>; 15] = Default::default();
        for i in 0..16u8 {
            let hook = if i < 8 { Hook::Snd } else { Hook::Rcv };
            let slot = Subscriptions::slot(Event::PktIn, hook).map_or(0, usize::from);
            let h: Handler = Box::new(move |cx| {
                cx.flow_mut().0[usize::from(i)] += 1;
                cx.core_mut().0 += 1;
            });
            reg[slot].push((i, h));
        }
        reg
    })
}

fn dynamic(cx: &mut Cx<'_, Counters, Calls>) {
    let Some(slot) = Subscriptions::slot(cx.event(), cx.hook()) else {
        return;
    };
    for (id, h) in &registry()[usize::from(slot)] {
        if cx.__enter(*id) {
            h(cx);
        }
    }
}

struct Dynamic16;
impl App for Dynamic16 {
    type Flow = Counters;
    type Core = Calls;
    const NAME: &'static str = "dynamic";
    const HANDLERS: &'static [mos_runtime::HandlerInfo] = &HANDLERS16;
    const SUBSCRIPTIONS: Subscriptions = Subscriptions::NONE
        .with(Event::PktIn, Hook::Snd)
        .with(Event::PktIn, Hook::Rcv);
    fn pkt_in_snd(cx: &mut Cx<'_, Counters, Calls>) {
        dynamic(cx);
    }
    fn pkt_in_rcv(cx: &mut Cx<'_, Counters, Calls>) {
        dynamic(cx);
    }
}

fn config() -> Config {
    Config {
        max_flows: 4096,
        buffers: 1024,
        buffer_size: 64 << 10,
        verify_checksums: true,
        progress: false,
        ..Config::default()
    }
}

/// All frames through a fresh worker (built outside the timing).
fn replay<A: App>(frames: &[Frame]) -> impl FnMut(&mut criterion::Bencher<'_>) {
    move |b| {
        b.iter_batched(
            || Worker::<A>::new(config(), None).unwrap_or_else(|e| panic!("{e}")),
            |mut w| {
                for f in frames {
                    w.process(&f.data, f.ts, f.wire_len, f.link);
                }
                let _ = w.finish();
                w
            },
            BatchSize::PerIteration,
        )
    }
}

fn dispatch(c: &mut Criterion) {
    let frames = workload();
    // The events dispatched to handlers in one replay (16 per tracked packet), to turn the
    // times into a cost per event.
    let mut w = Worker::<Static16>::new(config(), None).unwrap_or_else(|e| panic!("{e}"));
    for f in frames {
        w.process(&f.data, f.ts, f.wire_len, f.link);
    }
    let _ = w.finish();
    let calls: u64 = w.core().0;
    eprintln!(
        "dispatch: {calls} handler calls per replay of {} frames; per event = \
         (time - engine_without_handlers) / {calls}",
        frames.len()
    );
    let mut g = c.benchmark_group("dispatch");
    g.throughput(Throughput::Elements(frames.len() as u64));
    g.sample_size(20);
    g.bench_function("engine_without_handlers", replay::<NoHandlers>(frames));
    g.bench_function("static_16_handlers", replay::<Static16>(frames));
    g.bench_function(
        "dynamic_16_handlers_vec_box_dyn_fn",
        replay::<Dynamic16>(frames),
    );
    g.finish();
    per_event_alternated(frames, calls);
}

/// One replay of `frames` through a fresh worker (built outside the timing).
fn replay_once<A: App>(frames: &[Frame]) -> Duration {
    let mut w = Worker::<A>::new(config(), None).unwrap_or_else(|e| panic!("{e}"));
    let started = Instant::now();
    for f in frames {
        w.process(&f.data, f.ts, f.wire_len, f.link);
    }
    let _ = w.finish();
    let took = started.elapsed();
    black_box(w);
    took
}

/// The cost per event, measured so that this host can show it. The three measurements above
/// run seconds apart, and the load of a shared host moves by more than the dispatch costs in
/// that time, so a difference of two of them can say anything. Here the three replays
/// alternate (in turned order every other round), each round's differences come from one
/// stretch of time, and the medians over the rounds are printed.
fn per_event_alternated(frames: &[Frame], calls: u64) {
    const ROUNDS: usize = 21;
    let mut static_ns = Vec::with_capacity(ROUNDS);
    let mut dynamic_ns = Vec::with_capacity(ROUNDS);
    let mut ratios = Vec::with_capacity(ROUNDS);
    for round in 0..ROUNDS {
        let (engine, fixed, boxed) = if round % 2 == 0 {
            let e = replay_once::<NoHandlers>(frames);
            let s = replay_once::<Static16>(frames);
            (e, s, replay_once::<Dynamic16>(frames))
        } else {
            let d = replay_once::<Dynamic16>(frames);
            let s = replay_once::<Static16>(frames);
            (replay_once::<NoHandlers>(frames), s, d)
        };
        let over = |t: Duration| (t.as_secs_f64() - engine.as_secs_f64()) * 1e9 / calls as f64;
        let (s, d) = (over(fixed), over(boxed));
        static_ns.push(s);
        dynamic_ns.push(d);
        // A round where the static dispatch cost nothing measurable counts as infinitely
        // faster: it sorts last and moves the median by one place.
        ratios.push(if s > 0.0 { d / s } else { f64::INFINITY });
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (s, d) = (median(&mut static_ns), median(&mut dynamic_ns));
    let ratio = median(&mut ratios);
    let (low, high) = (ratios[ROUNDS / 4], ratios[ROUNDS - 1 - ROUNDS / 4]);
    eprintln!(
        "dispatch, the three replays alternated over {ROUNDS} rounds: static {s:.2} ns per \
         event, dynamic {d:.2} ns (medians over the engine alone); dynamic/static {ratio:.1}x \
         (median of the rounds' ratios; middle half {low:.1}-{high:.1}x)"
    );
}

// ---- whole pipeline ------------------------------------------------------------------------

fn pipeline(c: &mut Criterion) {
    let frames = workload();
    let mut g = c.benchmark_group("pipeline");
    g.throughput(Throughput::Elements(frames.len() as u64));
    g.sample_size(20);
    g.bench_function("midstat_per_packet", replay::<Midstat>(frames));
    g.finish();
}

criterion_group!(benches, flow_table, reassembly, parse, dispatch, pipeline);
criterion_main!(benches);
