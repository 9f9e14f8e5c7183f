//! A DPDK run: set up ports and workers from a [`Plan`], run one loop per worker, tear down,
//! merge the workers' reports and core states.

use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use dpdk_sys as sys;

use super::DpdkError;
use super::clock::{PortClock, RunClock};
use super::config::{DpdkConfig, IdleStop, PortSpec};
use super::eal::{self, LcoreGuard};
use super::fanout::{self, Ring};
use super::mbuf;
use super::mempool::Mempool;
use super::plan::{Plan, Spread};
use super::port::{Owner, Port};
use crate::app::{App, CoreState};
use crate::config::Config;
use crate::engine::{PREFETCH_GROUP, Verdict, Worker};
use crate::report::{Counters, Report};
use crate::runtime::RunError;
use crate::time::Timestamp;
use crate::wire::LinkType;

/// Ports a route table covers (DPDK's `RTE_MAX_ETHPORTS`).
const MAX_PORTS: usize = sys::RTE_MAX_ETHPORTS as usize;

/// "No output": the packet is only observed.
const NO_ROUTE: u8 = u8::MAX;

/// Tx attempts that take nothing before the rest of a tx burst is given up (freed, counted as
/// dropped). A driver that is merely slow takes some on most attempts; one whose link is down
/// takes nothing, and the worker must not spin on it forever.
const TX_STALLS: u32 = 64;

/// Largest chained (multi-segment) packet read whole: the engine's own frame limit. Longer
/// chains are processed as a capture cut at this length (their wire length is kept).
const MAX_LINEAR: usize = 256 * 1024;

/// Runs app `A` on DPDK ports (see the [module docs](super)).
pub(crate) fn run<A: App>(
    cfg: Config,
    dpdk: DpdkConfig,
    core: A::Core,
) -> Result<(Report, A::Core), RunError> {
    dpdk.validate()?;
    let eal = eal::start(&dpdk.eal_args)?;
    let workers = if dpdk.workers == 0 {
        usize::try_from(eal.lcores).unwrap_or(1).max(1)
    } else {
        dpdk.workers
    };
    // Every engine is built before a port is touched: a bad capacity fails here, cheaply.
    let building = Instant::now();
    let mut engines = Vec::with_capacity(workers);
    for _ in 0..workers {
        engines.push(Worker::<A>::new(cfg.clone(), None)?);
    }
    for engine in engines.iter_mut().skip(1) {
        engine.core = core.fork();
    }
    if let Some(first) = engines.first_mut() {
        first.core = core;
    }

    let owner = Owner::new()?;
    let specs: Vec<PortSpec> = if dpdk.ports.is_empty() {
        Owner::unowned_ports()
            .into_iter()
            .map(PortSpec::Id)
            .collect()
    } else {
        dpdk.ports.clone()
    };
    if specs.is_empty() {
        return Err(DpdkError::msg(
            "no port: name some in DpdkConfig::ports, or give the EAL a --vdev or a NIC",
        )
        .into());
    }
    let mut ports = Vec::with_capacity(specs.len());
    for spec in &specs {
        ports.push(Port::open(spec, &owner)?);
    }
    let caps: Vec<_> = ports.iter().map(|p| p.caps.clone()).collect();
    let plan = Plan::new(&dpdk, workers, &caps)?;
    let pool = match &dpdk.mempool {
        Some(pool) => pool.clone(),
        None => {
            let size = if dpdk.mempool_size > 0 {
                dpdk.mempool_size
            } else {
                plan.pool_size
            };
            Mempool::new(size, dpdk.mempool_cache)?
        }
    };
    for (port, setup) in ports.iter_mut().zip(&plan.setups) {
        let mut setup = *setup;
        if matches!(
            PortClock::for_port(dpdk.clock, &port.caps.driver),
            PortClock::Mbuf { .. }
        ) {
            setup.rx_offloads |= sys::RTE_ETH_RX_OFFLOAD_TIMESTAMP;
        }
        port.start(&setup, &pool)?;
    }
    let port_clocks: Vec<(u16, PortClock)> = ports
        .iter()
        .map(|p| (p.id, PortClock::for_port(dpdk.clock, &p.caps.driver)))
        .collect();
    let clock = RunClock::new(eal.tsc_hz, &port_clocks)?;
    let rings = if plan.spread == Spread::Software {
        (0..workers)
            .map(|_| Ring::new(dpdk.ring_size))
            .collect::<Result<Vec<_>, _>>()?
    } else {
        Vec::new()
    };
    let locks: Vec<Mutex<()>> = (0..plan.locks).map(|_| Mutex::new(())).collect();
    let ctx = Shared {
        workers,
        burst: dpdk.burst,
        rings: &rings,
        clock: &clock,
        locks: &locks,
        stop: dpdk.stop.as_deref(),
        idle_rule: dpdk.stop_when_idle,
        done: AtomicBool::new(false),
        idle: AtomicUsize::new(0),
        retired: AtomicUsize::new(0),
        last_ts: AtomicU64::new(0),
    };
    let ids: Vec<u16> = ports.iter().map(|p| p.id).collect();
    let lanes: Vec<LaneSpec> = (0..workers)
        .map(|w| LaneSpec::new(w, &plan, &ids))
        .collect();

    let started = Instant::now();
    let finished: Vec<(Worker<A>, std::io::Result<()>)> = std::thread::scope(|s| {
        let handles: Vec<_> = engines
            .into_iter()
            .zip(lanes)
            .map(|(engine, spec)| {
                let ctx = &ctx;
                s.spawn(move || {
                    let _lcore = LcoreGuard::register();
                    let _unwind = UnwindGuard(ctx);
                    Lane::new(engine, spec, ctx).run()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    let elapsed = started.elapsed();
    // Ports stop (drivers hand back the mbufs they hold) before the rings and the pool go.
    drop(ports);
    drop(rings);
    drop(owner);

    let mut counters = Counters::default();
    let mut calls = vec![0u64; A::HANDLERS.len()];
    let mut merged: Option<A::Core> = None;
    let mut sink_error = None;
    for (mut engine, finish) in finished {
        if let Err(e) = finish {
            sink_error.get_or_insert(e);
        }
        counters.merge(&engine.counters);
        for (total, n) in calls.iter_mut().zip(&engine.handler_calls) {
            *total += n;
        }
        let core = engine.take_core();
        match merged.as_mut() {
            Some(m) => m.merge(core),
            None => merged = Some(core),
        }
    }
    if let Some(e) = sink_error {
        return Err(RunError::Sink(e));
    }
    let names: Vec<&str> = A::HANDLERS.iter().map(|h| h.name).collect();
    let mut report = Report::build(A::NAME, &counters, &names, &calls, workers, elapsed);
    // Building the engines, then the ports and their queues, up to the first burst.
    report.setup_seconds = started.duration_since(building).as_secs_f64();
    drop(pool);
    Ok((report, merged.unwrap_or_default()))
}

/// What the workers share: read-only setup and the stop protocol's counters.
///
/// Stopping, without losing a packet in flight: a worker that sees the run stopping (the
/// caller's flag, or every worker idle under [`IdleStop`]) stops polling rx queues, pushes out
/// what it still holds for other workers, and *retires* (counts itself in `retired`). From then
/// on it never enqueues again, but keeps draining its own ring until every worker has retired;
/// then a last drain empties its ring for good, since nobody can fill it any more.
struct Shared<'r> {
    workers: usize,
    burst: u16,
    /// One per worker with the software fan-out, else empty.
    rings: &'r [Ring],
    clock: &'r RunClock,
    /// Locks of tx queues shared by several workers.
    locks: &'r [Mutex<()>],
    stop: Option<&'r AtomicBool>,
    idle_rule: Option<IdleStop>,
    /// Every worker was idle at once.
    done: AtomicBool,
    /// Workers currently idle under `idle_rule`.
    idle: AtomicUsize,
    /// Workers that no longer poll rx or enqueue to rings.
    retired: AtomicUsize,
    /// The latest packet time any worker has seen (nanoseconds).
    last_ts: AtomicU64,
}

impl Shared<'_> {
    #[inline]
    fn stopping(&self) -> bool {
        self.done.load(Ordering::Acquire) || self.stop.is_some_and(|s| s.load(Ordering::Relaxed))
    }
}

/// Stops the run if a worker's thread unwinds (a handler panicked): the other workers would
/// otherwise wait for it forever. It counts as retired; the panic is resumed on the caller's
/// thread once every worker has stopped. The mbufs the panicking worker held are lost to the
/// pool (the pool itself is freed with the run).
struct UnwindGuard<'r>(&'r Shared<'r>);

impl Drop for UnwindGuard<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.done.store(true, Ordering::Release);
            self.0.retired.fetch_add(1, Ordering::AcqRel);
        }
    }
}

/// One worker's share of the plan, in port ids.
#[derive(Debug)]
struct LaneSpec {
    index: usize,
    rx: Vec<(u16, u16)>,
    /// (port id, queue, lock index) per output.
    tx: Vec<(u16, u16, Option<usize>)>,
    /// Rx port id → index into `tx`.
    route: [u8; MAX_PORTS],
    fanout: bool,
}

impl LaneSpec {
    fn new(w: usize, plan: &Plan, ids: &[u16]) -> LaneSpec {
        let id = |p: usize| ids.get(p).copied().unwrap_or(u16::MAX);
        let rx = plan
            .rx
            .get(w)
            .map(|list| list.iter().map(|&(p, q)| (id(p), q)).collect())
            .unwrap_or_default();
        let assigned = plan.tx.get(w).cloned().unwrap_or_default();
        let tx = assigned
            .iter()
            .map(|t| (id(t.port), t.queue, t.lock))
            .collect();
        let mut route = [NO_ROUTE; MAX_PORTS];
        for (from, to) in plan.route.iter().enumerate() {
            let (Some(to), Some(slot)) = (to, route.get_mut(usize::from(id(from)))) else {
                continue;
            };
            if let Some(k) = plan.outputs.iter().position(|o| o == to) {
                *slot = u8::try_from(k).unwrap_or(NO_ROUTE);
            }
        }
        LaneSpec {
            index: w,
            rx,
            tx,
            route,
            fanout: plan.spread == Spread::Software,
        }
    }
}

/// A tx queue of one output port, as one worker uses it.
struct TxLane<'r> {
    port: u16,
    queue: u16,
    lock: Option<&'r Mutex<()>>,
    /// Forwarded packets of the current burst.
    pending: Vec<*mut sys::rte_mbuf>,
}

impl TxLane<'_> {
    /// Sends the pending packets; what the driver will not take after [`TX_STALLS`] attempts is
    /// freed and moved from `forwarded` to `dropped`.
    fn flush(&mut self, counters: &mut Counters) {
        let len = self.pending.len();
        if len == 0 {
            return;
        }
        let guard = self
            .lock
            .map(|l| l.lock().unwrap_or_else(PoisonError::into_inner));
        let mut sent = 0usize;
        let mut stalls = 0u32;
        while sent < len && stalls < TX_STALLS {
            let rest = &mut self.pending[sent..];
            let n = u16::try_from(rest.len()).unwrap_or(u16::MAX);
            // SAFETY: the port is started and this worker is the only user of this queue (or
            // holds its lock); `rest` holds `n` mbufs this worker owns. The ones the driver
            // takes are the driver's from now on and are not touched again.
            let took =
                unsafe { sys::mos_rte_eth_tx_burst(self.port, self.queue, rest.as_mut_ptr(), n) };
            if took == 0 {
                stalls += 1;
                std::hint::spin_loop();
            }
            sent += usize::from(took);
        }
        drop(guard);
        if sent < len {
            let unsent = &mut self.pending[sent..];
            let n = unsent.len();
            // SAFETY: the driver did not take these: they are still this worker's.
            unsafe { sys::rte_pktmbuf_free_bulk(unsent.as_mut_ptr(), n as u32) };
            counters.forwarded = counters.forwarded.saturating_sub(n as u64);
            counters.dropped += n as u64;
        }
        self.pending.clear();
    }
}

/// Tracks whether a worker counts as idle under the run's [`IdleStop`].
#[derive(Default)]
struct IdleTracker {
    empty_polls: u64,
    since: Option<Instant>,
    counted: bool,
}

impl IdleTracker {
    fn empty(&mut self, ctx: &Shared<'_>) {
        let Some(rule) = ctx.idle_rule else {
            return;
        };
        self.empty_polls = self.empty_polls.saturating_add(1);
        if self.counted || self.empty_polls < rule.empty_polls {
            return;
        }
        if !rule.min_idle.is_zero() {
            let since = *self.since.get_or_insert_with(Instant::now);
            if since.elapsed() < rule.min_idle {
                return;
            }
        }
        self.counted = true;
        if ctx.idle.fetch_add(1, Ordering::AcqRel) + 1 == ctx.workers {
            ctx.done.store(true, Ordering::Release);
        }
    }

    fn busy(&mut self, ctx: &Shared<'_>) {
        self.empty_polls = 0;
        self.since = None;
        if self.counted {
            self.counted = false;
            ctx.idle.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

/// One worker: its engine, its queues, and the buffers of its loop (all sized up front).
struct Lane<'r, A: App> {
    index: usize,
    engine: Worker<A>,
    ctx: &'r Shared<'r>,
    rx: Vec<(u16, u16)>,
    tx: Vec<TxLane<'r>>,
    route: [u8; MAX_PORTS],
    fanout: bool,
    /// Packets received here that belong to another worker, per worker.
    pending: Vec<Vec<*mut sys::rte_mbuf>>,
    pending_count: usize,
    burst: Vec<*mut sys::rte_mbuf>,
    free: Vec<*mut sys::rte_mbuf>,
    /// Chained packets are copied here to be seen whole.
    scratch: Vec<u8>,
}

impl<'r, A: App> Lane<'r, A> {
    fn new(engine: Worker<A>, spec: LaneSpec, ctx: &'r Shared<'r>) -> Self {
        let burst = usize::from(ctx.burst);
        let tx = spec
            .tx
            .iter()
            .map(|&(port, queue, lock)| TxLane {
                port,
                queue,
                lock: lock.and_then(|l| ctx.locks.get(l)),
                pending: Vec::with_capacity(burst),
            })
            .collect();
        let pending = if spec.fanout {
            (0..ctx.workers)
                .map(|_| Vec::with_capacity(burst))
                .collect()
        } else {
            Vec::new()
        };
        Lane {
            index: spec.index,
            engine,
            ctx,
            rx: spec.rx,
            tx,
            route: spec.route,
            fanout: spec.fanout,
            pending,
            pending_count: 0,
            burst: vec![ptr::null_mut(); burst],
            free: Vec::with_capacity(burst),
            scratch: vec![0; MAX_LINEAR],
        }
    }

    /// The loop; returns the engine (for its counters and core state) and how finishing went.
    fn run(mut self) -> (Worker<A>, std::io::Result<()>) {
        let ctx = self.ctx;
        let mut idle = IdleTracker::default();
        let mut retired = false;
        loop {
            let stopping = retired || ctx.stopping();
            let mut got = 0usize;
            if !stopping && self.pending_count == 0 {
                for i in 0..self.rx.len() {
                    got += self.poll_rx(i);
                    if self.pending_count != 0 {
                        break;
                    }
                }
            }
            if self.pending_count != 0 {
                self.flush_pending();
            }
            got += self.poll_inbox();
            if got > 0 {
                idle.busy(ctx);
            } else {
                if ctx.clock.all_tsc() {
                    // A quiet link still has a clock: let idle timeouts and timers fire.
                    self.engine.advance_clock(ctx.clock.now());
                }
                if stopping {
                    std::hint::spin_loop();
                } else {
                    idle.empty(ctx);
                }
            }
            if !retired && stopping && self.pending_count == 0 {
                retired = true;
                ctx.retired.fetch_add(1, Ordering::AcqRel);
            }
            if retired && ctx.retired.load(Ordering::Acquire) >= ctx.workers {
                // Nobody enqueues any more: what is in the ring now is all there will be.
                while self.poll_inbox() > 0 {}
                break;
            }
        }
        // The input ended at the latest packet any worker saw. On one core that packet would
        // have advanced the clock past every timer due before it; a worker whose own last
        // packet is older catches up here, so idle timeouts fire as they would on one core
        // rather than turning into `TraceEnd`.
        let last = self.ctx.last_ts.load(Ordering::Acquire);
        if self.ctx.clock.all_tsc() {
            self.engine.advance_clock(self.ctx.clock.now());
        } else if last > 0 {
            self.engine.advance_clock(Timestamp(last));
        }
        let finish = self.engine.finish();
        (self.engine, finish)
    }

    /// The TSC time for a burst.
    #[inline]
    fn burst_time(&self) -> Timestamp {
        self.ctx.clock.now()
    }

    /// One rx burst from rx queue `i` of this worker.
    #[inline]
    fn poll_rx(&mut self, i: usize) -> usize {
        let Some(&(port, queue)) = self.rx.get(i) else {
            return 0;
        };
        let want = self.ctx.burst;
        // SAFETY: the port is started; this worker is the only one polling this queue; the
        // burst array has room for `want` pointers.
        let n = usize::from(unsafe {
            sys::mos_rte_eth_rx_burst(port, queue, self.burst.as_mut_ptr(), want)
        });
        if n == 0 {
            return 0;
        }
        let now = self.burst_time();
        self.prefetch_burst(n);
        for k in 0..n {
            let m = self.burst[k];
            if self.fanout {
                if let Some(w) = self.owner(m) {
                    if w != self.index {
                        if let Some(list) = self.pending.get_mut(w) {
                            // The owner learns the input port from the mbuf; software
                            // devices (net_ring) leave there whatever port the mbuf came from
                            // before, so it is set here.
                            // SAFETY: `m` is this worker's until it is enqueued.
                            unsafe { (*m).port = port };
                            list.push(m);
                            self.pending_count += 1;
                            continue;
                        }
                    }
                }
            }
            self.handle(m, port, now);
        }
        self.end_burst();
        n
    }

    /// One burst from this worker's fan-out ring.
    #[inline]
    fn poll_inbox(&mut self) -> usize {
        let Some(ring) = self.ctx.rings.get(self.index) else {
            return 0;
        };
        let want = usize::from(self.ctx.burst);
        // SAFETY: ring `index` is consumed by this worker only.
        let n = unsafe { ring.dequeue(&mut self.burst[..want]) };
        if n == 0 {
            return 0;
        }
        let now = self.burst_time();
        self.prefetch_burst(n);
        for k in 0..n {
            let m = self.burst[k];
            // SAFETY: the producer set the input port before enqueueing `m`, now ours.
            let port = unsafe { (*m).port };
            self.handle(m, port, now);
        }
        self.end_burst();
        n
    }

    /// Asks for the flow state of the first `n` mbufs of the burst before they are handled
    /// (see [`Worker::process_batch`](crate::Worker::process_batch)).
    #[inline]
    fn prefetch_burst(&self, n: usize) {
        let Some(burst) = self.burst.get(..n) else {
            return;
        };
        if !self.engine.prefetching() {
            return;
        }
        for group in burst.chunks(PREFETCH_GROUP) {
            let frames = group.iter().map(|&m| {
                // SAFETY: the first `n` pointers of the burst are mbufs this worker just
                // received and owns; a first segment holds data_len bytes at its data
                // pointer, and nothing writes them while this slice lives (it ends before
                // any packet of the burst is handled).
                let frame = unsafe {
                    let s = mbuf::seg(m);
                    std::slice::from_raw_parts(s.data.cast_const(), usize::from(s.data_len))
                };
                (LinkType::Ethernet, frame)
            });
            let mut slots = [None; PREFETCH_GROUP];
            self.engine.prefetch_frames(frames, &mut slots);
            for slot in slots.iter().flatten() {
                self.engine.prefetch_dependents(*slot);
            }
        }
    }

    /// Hands the packets held for other workers to their rings (as many as fit).
    fn flush_pending(&mut self) {
        for (w, list) in self.pending.iter_mut().enumerate() {
            if list.is_empty() {
                continue;
            }
            let Some(ring) = self.ctx.rings.get(w) else {
                continue;
            };
            let sent = ring.enqueue(list);
            list.drain(..sent);
            self.pending_count -= sent;
        }
    }

    /// Which worker owns `m`'s connection (software fan-out).
    #[inline]
    fn owner(&self, m: *mut sys::rte_mbuf) -> Option<usize> {
        // SAFETY: `m` was just received and is owned by this worker; its first segment holds
        // data_len bytes at its data pointer (a chain's first segment holds the headers).
        let frame = unsafe {
            let s = mbuf::seg(m);
            std::slice::from_raw_parts(s.data, usize::from(s.data_len))
        };
        fanout::owner_of(frame, self.ctx.workers)
    }

    /// One packet, received on `port`, through the engine, then to its output or back to the
    /// pool. The port is the queue's, not the mbuf's `port` field: software devices
    /// (`net_ring`) do not set that field, so an mbuf forwarded into a ring would otherwise
    /// look, when read back, as if it came from its first port.
    #[inline]
    fn handle(&mut self, m: *mut sys::rte_mbuf, port: u16, now: Timestamp) {
        // SAFETY: `m` is a valid mbuf this worker owns.
        let seg = unsafe { mbuf::seg(m) };
        let wire_len = seg.pkt_len;
        // SAFETY: as above.
        let ts = unsafe { self.ctx.clock.stamp(m, port, now) };
        let route = self
            .route
            .get(usize::from(port))
            .copied()
            .unwrap_or(NO_ROUTE);
        if seg.nb_segs != 1 {
            return self.handle_chain(m, ts, wire_len, route);
        }
        // A single-segment mbuf holds its whole packet, data_len bytes at its data pointer,
        // inside its buffer. Received mbufs are direct with refcnt 1, so nothing else reads or
        // writes these bytes while the slice lives (it ends before `m` is sent or freed).
        let (data, len) = (seg.data, usize::from(seg.data_len));
        match self.tx.get_mut(usize::from(route)) {
            None => {
                // SAFETY: see above.
                let frame = unsafe { std::slice::from_raw_parts(data, len) };
                self.engine.process(frame, ts, wire_len, LinkType::Ethernet);
                self.free.push(m);
            }
            Some(out) => {
                // SAFETY: see above; exclusive access makes the mutable slice sound.
                let frame = unsafe { std::slice::from_raw_parts_mut(data, len) };
                match self
                    .engine
                    .process_in_place(frame, ts, wire_len, LinkType::Ethernet)
                {
                    Verdict::Forward => out.pending.push(m),
                    Verdict::Drop => self.free.push(m),
                }
            }
        }
    }

    /// A chained packet (jumbo frames, scattered rx): copied into the scratch buffer so the
    /// engine sees one contiguous frame, and copied back if it is forwarded (handlers may have
    /// rewritten it).
    #[cold]
    fn handle_chain(&mut self, m: *mut sys::rte_mbuf, ts: Timestamp, wire_len: u32, route: u8) {
        // SAFETY: `m` is a valid chain this worker owns.
        let len = unsafe { gather(m, &mut self.scratch) };
        let frame = &mut self.scratch[..len];
        match self.tx.get_mut(usize::from(route)) {
            None => {
                self.engine.process(frame, ts, wire_len, LinkType::Ethernet);
                self.free.push(m);
            }
            Some(out) => {
                match self
                    .engine
                    .process_in_place(frame, ts, wire_len, LinkType::Ethernet)
                {
                    Verdict::Forward => {
                        // SAFETY: `m` is still this worker's; `frame` came from it.
                        unsafe { scatter(m, frame) };
                        out.pending.push(m);
                    }
                    Verdict::Drop => self.free.push(m),
                }
            }
        }
    }

    /// After a burst: end the engine's batch, send what is forwarded, free the rest.
    #[inline]
    fn end_burst(&mut self) {
        self.engine.end_batch();
        if self.ctx.workers > 1 {
            self.ctx
                .last_ts
                .fetch_max(self.engine.counters.last_ts, Ordering::AcqRel);
        }
        for out in &mut self.tx {
            out.flush(&mut self.engine.counters);
        }
        if !self.free.is_empty() {
            let n = self.free.len();
            // SAFETY: every mbuf in `free` is this worker's and referenced nowhere else.
            unsafe { sys::rte_pktmbuf_free_bulk(self.free.as_mut_ptr(), n as u32) };
            self.free.clear();
        }
    }
}

/// Copies the segments of chain `m` into `out`, up to its length; returns the bytes copied.
///
/// # Safety
/// `m` must be a valid mbuf chain the caller owns.
unsafe fn gather(m: *mut sys::rte_mbuf, out: &mut [u8]) -> usize {
    let mut at = 0usize;
    let mut seg = m;
    while !seg.is_null() && at < out.len() {
        // SAFETY: `seg` is a segment of the chain (caller); data_len bytes at its data pointer
        // are its data.
        let s = unsafe { mbuf::seg(seg) };
        let (data, len) = (s.data, usize::from(s.data_len));
        let take = len.min(out.len() - at);
        // SAFETY: as above; `out[at..at + take]` is in bounds and does not overlap the mbuf.
        let src = unsafe { std::slice::from_raw_parts(data, take) };
        out[at..at + take].copy_from_slice(src);
        at += take;
        // SAFETY: as above.
        seg = unsafe { mbuf::next(seg) };
    }
    at
}

/// Copies `data` back over the first `data.len()` bytes of chain `m` (the inverse of
/// [`gather`]).
///
/// # Safety
/// `m` must be a valid mbuf chain the caller owns, and `data` must not point into it.
unsafe fn scatter(m: *mut sys::rte_mbuf, data: &[u8]) {
    let mut at = 0usize;
    let mut seg = m;
    while !seg.is_null() && at < data.len() {
        // SAFETY: `seg` is a segment of the chain (caller), exclusively owned.
        let s = unsafe { mbuf::seg(seg) };
        let (dst, len) = (s.data, usize::from(s.data_len));
        let take = len.min(data.len() - at);
        // SAFETY: as above; the segment has `len >= take` bytes at `dst`.
        unsafe { std::slice::from_raw_parts_mut(dst, take) }.copy_from_slice(&data[at..at + take]);
        at += take;
        // SAFETY: as above.
        seg = unsafe { mbuf::next(seg) };
    }
}
