//! `cores(n)` offline: `n` shared-nothing workers; worker 0 also reads the capture and hands
//! the other workers their frames.
//!
//! ```text
//!            ┌──────────────── worker 0: read, place, process its own frames ───┐
//! capture ───┤   full ring ─▶ worker 1 (Worker<A>: own flow table, pool, timers) ├─ merge
//!            │   free ring ◀┘ (emptied batches go back)                          │
//!            └─  ...           worker n-1                                       ─┘
//! ```
//!
//! # Placement
//! Worker 0 reads each frame and *places* it by its flow key's hash (the same value for both
//! directions, [`FlowKey::hash64`]): guessed from the frame's first bytes when they are plain
//! TCP ([`flow_key_hint`], a few loads), else from a parse without checksums; frames without
//! an IP 5-tuple go to worker 0. Both directions of a connection therefore meet on one
//! worker, which owns all its state: nothing is shared between workers but the capture's bytes
//! (read-only). Worker 0 processes the frames placed on it at once and sends the others
//! descriptors; every worker parses its own frames (checksums included), so the parse — the
//! step that reads every byte — is spread over the workers instead of serialising them.
//!
//! Reading and placing costs worker 0 a little per frame of the whole capture, so it gets a
//! smaller part of the hash space ([`LEAD_SHARE`]) and the workers end about together. There
//! is no reader thread: on a machine with as many cores as workers, a reader of its own would
//! take a core's share from them.
//!
//! # Batches and rings
//! Frames travel to workers 1.. in preallocated batches of up to [`BATCH_FRAMES`] descriptors
//! (where the bytes are, timestamps, the hash for prefetching): an offset into the capture
//! when it is in memory (shared, never copied), or into the batch's own byte arena when it is
//! streamed from a file (the reader's buffer is reused, so the bytes are copied once into the
//! arena, whose capacity is the largest record the reader accepts). Each worker has
//! [`BATCHES_PER_WORKER`] batches circulating through two [`Ring`]s: filled ones to the
//! worker, emptied ones back; when a worker falls behind, worker 0 waits for a batch to come
//! back. Nothing is allocated per packet or per batch after start-up.
//!
//! # Same results as one core
//! A flow's packets reach its worker in capture order, and each worker's engine is the
//! single-core engine. What a worker cannot see by itself is the rest of the capture: the
//! receive batches (`ON_CONN_NEW_DATA` is coalesced per batch of `batch_size` packets) and the
//! packet clock (timers fire when the clock passes them). So after every `batch_size` packets
//! of the *whole* capture, worker 0 ends its own batch and sends every worker a tick carrying
//! the clock; the worker advances its clock to it (firing due timers) and ends its batch.
//! Batch boundaries are thus the single-core ones, and a flow's events come in the same order
//! relative to its packets and batches. Per connection, results are identical to `cores(1)`;
//! what may differ is the wall-clock interleaving of different flows, and the `cx.now()` a
//! timer handler sees (the tick's time rather than the exact packet that passed the deadline
//! on one core). Capacities (`max_flows`, `buffers`) are per worker, so limits are reached at
//! different points when they are reached at all.
//!
//! # Merge order (deterministic)
//! Counters and handler calls are summed. Core states are merged in worker order: worker 0's
//! state absorbs worker 1's, then worker 2's, ... ([`CoreState::merge`]); within a worker,
//! state accumulated in event order. Since a flow's worker depends only on its 5-tuple and
//! `n`, the merged result is the same on every run with the same `n`.
//!
//! # Failure
//! A read error stops worker 0's reading; the workers finish what they were sent and the run
//! returns the error, as on one core. A panicking handler closes its worker's rings (so worker
//! 0 never blocks on it), and the panic is resumed on the calling thread after every thread
//! has stopped; a panic on worker 0 closes every lane, so the others finish too.

use std::sync::Arc;
use std::time::Instant;

use super::ring::Ring;
use super::{Progress, RunError};
use crate::app::{App, CoreState};
use crate::config::Config;
use crate::engine::{PREFETCH_GROUP, STAGE_THREE_LEAD, Worker};
use crate::flow::FlowKey;
use crate::io::{Frame, MAX_RECORD_LEN, PcapReader};
use crate::prefetch;
use crate::report::Report;
use crate::time::Timestamp;
use crate::wire::{self, LinkType, flow_key_hint};

/// Descriptors per batch.
pub const BATCH_FRAMES: usize = 256;

/// Batches circulating between worker 0 and each other worker.
pub const BATCHES_PER_WORKER: usize = 8;

/// How many frames ahead of the one it processes a worker (1..) prefetches a frame's bytes.
const FRAME_LEAD: usize = 4;

/// The most workers a run accepts.
pub const MAX_CORES: usize = 256;

/// Worker 0's part of the hash space, in hundredths of another worker's: it also reads and
/// places every frame. Measured on a W5-shaped capture with two workers (CPU samples per
/// thread, with the other workers prefetching their frames): reading and placing a frame costs
/// about an eighth of processing one, so worker 0 takes 75/175 = 43 % of the flows and the
/// two finish together (70 left worker 1 with 13 % more to do, 80 worker 0 with 6 % more).
pub const LEAD_SHARE: u64 = 75;

/// What a worker is told to do next.
#[derive(Clone, Copy, Debug)]
enum Item {
    /// Process a frame: `len` bytes at `start` (in the shared capture or the batch's arena).
    Frame {
        start: usize,
        len: usize,
        ts: Timestamp,
        wire_len: u32,
        link: LinkType,
        /// The flow key's hash, for the worker to prefetch the flow's state.
        hash: Option<u64>,
    },
    /// `batch_size` packets of the whole capture have passed: advance the clock to `clock`
    /// and end the receive batch.
    Tick { clock: Timestamp },
}

/// A batch of work for one worker, preallocated and reused.
#[derive(Debug)]
struct Batch {
    items: Vec<Item>,
    /// Frame bytes, when the capture is streamed (capacity [`MAX_RECORD_LEN`], never grown).
    arena: Vec<u8>,
}

impl Batch {
    fn new(copy: bool) -> Batch {
        Batch {
            items: Vec::with_capacity(BATCH_FRAMES),
            arena: Vec::with_capacity(if copy { MAX_RECORD_LEN } else { 0 }),
        }
    }

    fn is_full(&self) -> bool {
        self.items.len() >= BATCH_FRAMES
    }
}

/// The two rings of one worker.
struct Lane {
    /// Filled batches, worker 0 → worker.
    full: Ring<Batch>,
    /// Emptied batches, worker → worker 0.
    free: Ring<Batch>,
}

impl Lane {
    fn new(copy: bool) -> Lane {
        let lane = Lane {
            full: Ring::new(BATCHES_PER_WORKER),
            free: Ring::new(BATCHES_PER_WORKER),
        };
        for _ in 0..BATCHES_PER_WORKER {
            // Cannot fail: the ring is open and holds exactly this many.
            let _ = lane.free.push(Batch::new(copy));
        }
        lane
    }

    fn close(&self) {
        self.full.close();
        self.free.close();
    }
}

/// Closes a worker's lane when its thread ends, normally or by a panic, so that worker 0
/// never waits for a worker that is gone.
struct CloseOnDrop<'a>(&'a Lane);

impl Drop for CloseOnDrop<'_> {
    fn drop(&mut self) {
        self.0.close();
    }
}

/// Closes every lane when worker 0's thread ends, normally or by a panic, so that no worker
/// waits for batches that will not come.
struct CloseAllOnDrop<'a>(&'a [Lane]);

impl Drop for CloseAllOnDrop<'_> {
    fn drop(&mut self) {
        for lane in self.0 {
            lane.close();
        }
    }
}

/// The worker (in `0..n`) that owns `frame`, and its flow key's hash when it has one (see
/// the module docs).
fn placement(frame: &Frame<'_>, n: usize) -> (usize, Option<u64>) {
    let hash = match flow_key_hint(frame.link, frame.data) {
        Some(key) => key.hash64(),
        None => {
            let Ok(meta) = wire::parse(frame.link, frame.data, frame.ts, frame.wire_len, false)
            else {
                return (0, None);
            };
            let Some(ip) = meta.ip else {
                return (0, None);
            };
            let (sport, dport) = meta.ports().unwrap_or((0, 0));
            FlowKey::new(ip.src, sport, ip.dst, dport, ip.proto)
                .0
                .hash64()
        }
    };
    (shard_weighted(hash, n), Some(hash))
}

/// [`crate::flow::shard_of`] with worker 0's part [`LEAD_SHARE`] hundredths of the others':
/// the hash scaled to `0..total` by a multiply-shift (its high bits, while each worker's flow
/// table indexes with the low bits).
fn shard_weighted(hash: u64, n: usize) -> usize {
    if n <= 1 {
        return 0;
    }
    let total = LEAD_SHARE + 100 * (n as u64 - 1);
    let point = ((u128::from(hash) * u128::from(total)) >> 64) as u64;
    match point.checked_sub(LEAD_SHARE) {
        None => 0,
        Some(rest) => (1 + rest / 100) as usize,
    }
}

/// Run `A` on `n` workers over `reader`. `shared` is the capture the reader reads from when it
/// is in memory (frames are then passed by offset).
pub(super) fn run<A: App>(
    cfg: Config,
    mut reader: PcapReader,
    shared: Option<Arc<Vec<u8>>>,
    n: usize,
    core: A::Core,
) -> Result<(Report, A::Core), RunError> {
    let progress = cfg.progress && std::io::IsTerminal::is_terminal(&std::io::stderr());
    let building = Instant::now();
    let mut workers = Vec::with_capacity(n);
    for i in 0..n {
        let mut w = Worker::<A>::new(cfg.clone(), None)?;
        if i > 0 {
            w.core = core.fork();
        }
        workers.push(w);
    }
    if let Some(w) = workers.first_mut() {
        w.core = core;
    }
    let copy = shared.is_none();
    // Lanes of workers 1..n (lane `w - 1` for worker `w`).
    let lanes: Vec<Lane> = (1..n).map(|_| Lane::new(copy)).collect();
    let batch_size = cfg.batch_size as u64;
    // Allocated now: the workers may still be ending connections while the results are
    // collected, and nothing is allocated while any of them runs.
    let mut done = Vec::with_capacity(n);
    let started = Instant::now();

    let spawned = std::thread::scope(|s| {
        let mut handles = Vec::with_capacity(n);
        let mut workers = workers.into_iter();
        let lead_worker = workers.next();
        for (i, (worker, lane)) in workers.zip(&lanes).enumerate() {
            let shared = shared.as_deref().map(Vec::as_slice);
            let handle = std::thread::Builder::new()
                .name(format!("mos-worker-{}", i + 1))
                .spawn_scoped(s, move || (work(worker, lane, shared), Ok(())));
            match handle {
                Ok(h) => handles.push(h),
                Err(e) => {
                    for lane in &lanes {
                        lane.close();
                    }
                    return Err(RunError::Thread(e));
                }
            }
        }
        if let Some(worker) = lead_worker {
            let lead = std::thread::Builder::new()
                .name("mos-worker-0".into())
                .spawn_scoped(s, || {
                    let _close = CloseAllOnDrop(&lanes);
                    lead(worker, &mut reader, &lanes, copy, batch_size, progress)
                });
            match lead {
                Ok(h) => handles.insert(0, h),
                Err(e) => {
                    for lane in &lanes {
                        lane.close();
                    }
                    return Err(RunError::Thread(e));
                }
            }
        }
        for h in handles {
            done.push(h.join());
        }
        Ok(())
    });
    let mut finished = Vec::with_capacity(n);
    let mut read_result = Ok(());
    for joined in done {
        match joined {
            Ok((w, result)) => {
                finished.push(w);
                if result.is_err() {
                    read_result = result;
                }
            }
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
    spawned?;
    read_result?;
    if finished.len() != n {
        return Err(RunError::Config("a worker thread did not start".into()));
    }

    let elapsed = started.elapsed();
    let mut counters = crate::report::Counters::default();
    let mut calls = vec![0u64; A::HANDLERS.len()];
    let mut merged: Option<A::Core> = None;
    for mut w in finished {
        counters.merge(&w.counters);
        for (total, c) in calls.iter_mut().zip(&w.handler_calls) {
            *total += c;
        }
        let c = w.take_core();
        match merged.as_mut() {
            Some(m) => m.merge(c),
            None => merged = Some(c),
        }
    }
    let names: Vec<&str> = A::HANDLERS.iter().map(|h| h.name).collect();
    let mut report = Report::build(A::NAME, &counters, &names, &calls, n, elapsed);
    report.setup_seconds = started.duration_since(building).as_secs_f64();
    Ok((report, merged.unwrap_or_default()))
}

/// Worker 0: read the capture, process the frames placed on worker 0, send the others theirs;
/// then end every connection. Returns the worker and the capture's read error, if any.
fn lead<A: App>(
    mut w: Worker<A>,
    reader: &mut PcapReader,
    lanes: &[Lane],
    copy: bool,
    batch_size: u64,
    progress: bool,
) -> (Worker<A>, Result<(), RunError>) {
    let n = lanes.len() + 1;
    // The batch being filled for each other worker (taken from its free ring when first
    // needed).
    let mut filling: Vec<Option<Batch>> = (1..n).map(|_| None).collect();
    let mut bar = Progress::new(progress);
    let mut clock = Timestamp::ZERO;
    let mut in_batch = 0u64;
    let result = loop {
        let frame = match reader.next_frame() {
            Ok(Some(frame)) => frame,
            Ok(None) => break Ok(()),
            Err(e) => break Err(RunError::Pcap(e)),
        };
        clock = clock.max(frame.ts);
        let (to, hash) = placement(&frame, n);
        if to == 0 {
            w.packet(frame.data, frame.ts, frame.wire_len, frame.link);
        } else {
            let len = frame.data.len();
            let (ts, wire_len, link) = (frame.ts, frame.wire_len, frame.link);
            let Some(batch) = batch_for(&mut filling, lanes, to - 1, if copy { len } else { 0 })
            else {
                // The worker is gone (it panicked): stop; the panic is reported by the caller.
                break Ok(());
            };
            let start = if copy {
                let start = batch.arena.len();
                batch.arena.extend_from_slice(frame.data);
                start
            } else {
                // In memory: the worker reads the frame where it is.
                reader.frame_offset().unwrap_or(0)
            };
            batch.items.push(Item::Frame {
                start,
                len,
                ts,
                wire_len,
                link,
                hash,
            });
        }
        bar.tick(1, None);
        in_batch += 1;
        if in_batch >= batch_size {
            in_batch = 0;
            w.advance_clock(clock);
            w.end_batch();
            let mut gone = false;
            for lane in 0..n - 1 {
                match batch_for(&mut filling, lanes, lane, 0) {
                    Some(batch) => batch.items.push(Item::Tick { clock }),
                    None => gone = true,
                }
            }
            if gone {
                break Ok(());
            }
        }
    };
    // Send what is left: the last partial batches.
    for (slot, lane) in filling.iter_mut().zip(lanes) {
        if let Some(batch) = slot.take() {
            if !batch.items.is_empty() {
                let _ = lane.full.push(batch);
            }
        }
    }
    // End of input: the other workers drain their rings, then stop.
    for lane in lanes {
        lane.full.close();
    }
    bar.done();
    // No sink in multi-core runs, so finishing cannot fail.
    let _ = w.finish();
    (w, result)
}

/// The batch being filled for worker `w`, with room for one more item and `bytes` arena
/// bytes: the current one, or (when it is full) a fresh one after sending the current one.
/// `None` when the worker's lane is closed.
fn batch_for<'b>(
    filling: &'b mut [Option<Batch>],
    lanes: &[Lane],
    w: usize,
    bytes: usize,
) -> Option<&'b mut Batch> {
    let lane = lanes.get(w)?;
    let slot = filling.get_mut(w)?;
    let needs_new = match slot {
        Some(b) => b.is_full() || b.arena.len() + bytes > b.arena.capacity(),
        None => true,
    };
    if needs_new {
        if let Some(b) = slot.take() {
            lane.full.push(b).ok()?;
        }
        *slot = Some(lane.free.pop()?);
    }
    slot.as_mut()
}

/// Workers 1..: process batches until worker 0 closes the ring, then end every
/// connection and hand the worker back.
fn work<A: App>(mut w: Worker<A>, lane: &Lane, shared: Option<&[u8]>) -> Worker<A> {
    let _close = CloseOnDrop(lane);
    while let Some(mut batch) = lane.full.pop() {
        let bytes = shared.unwrap_or(batch.arena.as_slice());
        // The bytes of item `i`, when it is a frame.
        let frame = |i: usize| match batch.items.get(i) {
            Some(Item::Frame { start, len, .. }) => bytes.get(*start..start.saturating_add(*len)),
            _ => None,
        };
        // The frames' bytes, a few frames ahead: worker 0's reader brought them into *its*
        // caches, not this worker's, and the parse reads every byte (checksums).
        for data in (0..FRAME_LEAD).filter_map(frame) {
            prefetch::bytes(data);
        }
        // In groups, the flows' state prefetched first (see `Worker::process_batch`).
        for (g, group) in batch.items.chunks(PREFETCH_GROUP).enumerate() {
            let hash_of = |item: &Item| match item {
                Item::Frame { hash, .. } => *hash,
                Item::Tick { .. } => None,
            };
            // Only when it pays (see `Config::prefetch_min_flows`).
            let mut slots = [None; PREFETCH_GROUP];
            if w.prefetching() {
                let mut hashes = [None; PREFETCH_GROUP];
                for (hash, item) in hashes.iter_mut().zip(group) {
                    *hash = hash_of(item);
                }
                w.prefetch_hashes(&hashes, &mut slots);
            }
            for slot in slots.iter().take(STAGE_THREE_LEAD).flatten() {
                w.prefetch_dependents(*slot);
            }
            for (k, item) in group.iter().enumerate() {
                if let Some(Some(slot)) = slots.get(k + STAGE_THREE_LEAD) {
                    w.prefetch_dependents(*slot);
                }
                if let Some(ahead) = frame(g * PREFETCH_GROUP + k + FRAME_LEAD) {
                    prefetch::bytes(ahead);
                }
                match *item {
                    Item::Frame {
                        start,
                        len,
                        ts,
                        wire_len,
                        link,
                        hash: _,
                    } => {
                        let data = bytes.get(start..start.saturating_add(len)).unwrap_or(&[]);
                        w.packet(data, ts, wire_len, link);
                    }
                    Item::Tick { clock } => {
                        w.advance_clock(clock);
                        w.end_batch();
                    }
                }
            }
        }
        batch.items.clear();
        batch.arena.clear();
        if lane.free.push(batch).is_err() {
            // The reader stopped; keep draining what was already sent.
        }
    }
    // No sink in multi-core runs, so finishing cannot fail.
    let _ = w.finish();
    w
}
