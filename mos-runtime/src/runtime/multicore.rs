//! `cores(n)` offline: one reader thread fanning packets out to `n` shared-nothing workers.
//!
//! ```text
//!                        ┌─ full ring ─▶ worker 0 (Worker<A>: own flow table, pool, timers)
//! capture ─ reader ──────┤                 │
//!   parse once,          └─ full ring ─▶ worker 1            ...
//!   hash the 5-tuple,        ▲  free ring ◀┘  (emptied batches go back)
//!   pick the worker          └─────────────
//! ```
//!
//! # Placement
//! The reader parses each frame once, checksums included (with the workers'
//! `verify_checksums`), and hashes its canonical 5-tuple ([`FlowKey::hash64`], the same value
//! for both directions); the worker is
//! [`shard_of`] that hash, from its high bits, while each worker's flow table indexes with the
//! low bits. Both directions of a connection therefore meet on one worker, which owns all its
//! state: nothing is shared between workers but the capture's bytes (read-only). IP packets
//! without ports go by their address pair; non-IP frames and frames that do not parse go to
//! worker 0 (they are counted there, and no flow state depends on them).
//!
//! Why the reader parses rather than only reading the 5-tuple: the parse (with checksums) is
//! the step that streams every frame's bytes from memory, and doing it where the frame is
//! first touched means the bytes come from memory once, and the worker neither parses again
//! nor waits for the headers a second time. Measured against a reader that only read the
//! 5-tuple and workers that parsed in full, this spent about a fifth less CPU per packet.
//!
//! # Batches and rings
//! Packets travel in preallocated batches of up to [`BATCH_FRAMES`] descriptors. A descriptor
//! carries the parse result (`PacketMeta`, 128 bytes) and where the frame's bytes are: an
//! offset into the capture when it is in memory (shared with the workers, never copied), or
//! into the batch's own byte arena when it is streamed from a file (the reader's buffer is
//! reused, so the bytes are copied once into the arena, whose capacity is the largest record
//! the reader accepts). Each worker has [`BATCHES_PER_WORKER`] batches circulating through two
//! [`Ring`]s: filled ones to the worker, emptied ones back to the reader. Nothing is
//! allocated per packet or per batch after start-up.
//!
//! # Same results as one core
//! A flow's packets reach its worker in capture order, and each worker's engine is the
//! single-core engine. What a worker cannot see by itself is the rest of the capture: the
//! receive batches (`ON_CONN_NEW_DATA` is coalesced per batch of `batch_size` packets) and the
//! packet clock (timers fire when the clock passes them). So after every `batch_size`
//! packets of the *whole* capture, the reader sends every worker a tick carrying the clock;
//! the worker advances its clock to it (firing due timers) and ends its batch. Batch
//! boundaries are thus the single-core ones, and a flow's events come in the same order
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
//! A read error stops the reader; the workers finish what they were sent and the run returns
//! the error, as on one core. A panicking handler closes its worker's rings (so the reader
//! never blocks on it), and the panic is resumed on the calling thread after every thread has
//! stopped.

use std::sync::Arc;
use std::time::Instant;

use super::ring::Ring;
use super::{Progress, RunError};
use crate::app::{App, CoreState};
use crate::config::Config;
use crate::engine::{PREFETCH_GROUP, Worker};
use crate::flow::{FlowKey, shard_of};
use crate::io::{MAX_RECORD_LEN, PcapReader};
use crate::report::Report;
use crate::time::Timestamp;
use crate::wire::{self, PacketMeta, ParseError};

/// Descriptors per batch.
pub const BATCH_FRAMES: usize = 256;

/// Batches circulating between the reader and each worker.
pub const BATCHES_PER_WORKER: usize = 8;

/// The most workers a run accepts.
pub const MAX_CORES: usize = 256;

/// What a worker is told to do next.
#[derive(Clone, Copy, Debug)]
enum Item {
    /// Process a frame: `len` bytes at `start` (in the shared capture or the batch's arena).
    Frame {
        start: usize,
        len: usize,
        ts: Timestamp,
        wire_len: u32,
        parsed: Result<PacketMeta, ParseError>,
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
    /// Filled batches, reader → worker.
    full: Ring<Batch>,
    /// Emptied batches, worker → reader.
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

/// Closes a worker's lane when its thread ends, normally or by a panic, so that the reader
/// never waits for a worker that is gone.
struct CloseOnDrop<'a>(&'a Lane);

impl Drop for CloseOnDrop<'_> {
    fn drop(&mut self) {
        self.0.close();
    }
}

/// The worker a parsed frame belongs to, and its flow key's hash (IP frames).
fn worker_of(parsed: &Result<PacketMeta, ParseError>, n: usize) -> (usize, Option<u64>) {
    let Ok(meta) = parsed else { return (0, None) };
    let Some(ip) = meta.ip else { return (0, None) };
    let (sport, dport) = meta.ports().unwrap_or((0, 0));
    let (key, _) = FlowKey::new(ip.src, sport, ip.dst, dport, ip.proto);
    let hash = key.hash64();
    (shard_of(hash, n), Some(hash))
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
    let lanes: Vec<Lane> = (0..n).map(|_| Lane::new(copy)).collect();
    let verify = cfg.verify_checksums;
    let batch_size = cfg.batch_size as u64;
    // Allocated now: the workers may still be ending connections while the results are
    // collected, and nothing is allocated while any of them runs.
    let mut done = Vec::with_capacity(n);
    let started = Instant::now();

    let read_result = std::thread::scope(|s| {
        let mut handles = Vec::with_capacity(n);
        for (i, (worker, lane)) in workers.into_iter().zip(&lanes).enumerate() {
            let shared = shared.as_deref().map(Vec::as_slice);
            let handle = std::thread::Builder::new()
                .name(format!("mos-worker-{i}"))
                .spawn_scoped(s, move || work(worker, lane, shared));
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
        let read_result = read(&mut reader, &lanes, copy, verify, batch_size, progress);
        // End of input (or a dead worker): workers drain their rings, then stop.
        for lane in &lanes {
            lane.full.close();
        }
        for h in handles {
            done.push(h.join());
        }
        read_result
    });
    let mut finished = Vec::with_capacity(n);
    for joined in done {
        match joined {
            Ok(w) => finished.push(w),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
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
    let report = Report::build(A::NAME, &counters, &names, &calls, n, elapsed);
    Ok((report, merged.unwrap_or_default()))
}

/// The reader: parse, place, batch. Returns the capture's read error, if any.
fn read(
    reader: &mut PcapReader,
    lanes: &[Lane],
    copy: bool,
    verify: bool,
    batch_size: u64,
    progress: bool,
) -> Result<(), RunError> {
    let n = lanes.len();
    // The batch being filled for each worker (taken from its free ring when first needed).
    let mut filling: Vec<Option<Batch>> = (0..n).map(|_| None).collect();
    let mut bar = Progress::new(progress);
    let mut clock = Timestamp::ZERO;
    let mut in_batch = 0u64;
    let result = loop {
        let frame = match reader.next_frame() {
            Ok(Some(frame)) => frame,
            Ok(None) => break Ok(()),
            Err(e) => break Err(RunError::Pcap(e)),
        };
        let parsed = wire::parse(frame.link, frame.data, frame.ts, frame.wire_len, verify);
        let (w, hash) = worker_of(&parsed, n);
        clock = clock.max(frame.ts);
        let len = frame.data.len();
        let (ts, wire_len) = (frame.ts, frame.wire_len);
        let Some(batch) = batch_for(&mut filling, lanes, w, if copy { len } else { 0 }) else {
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
            parsed,
            hash,
        });
        bar.tick(1, None);
        in_batch += 1;
        if in_batch >= batch_size {
            in_batch = 0;
            let mut gone = false;
            for w in 0..n {
                match batch_for(&mut filling, lanes, w, 0) {
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
    for (w, slot) in filling.iter_mut().enumerate() {
        if let (Some(batch), Some(lane)) = (slot.take(), lanes.get(w)) {
            if !batch.items.is_empty() {
                let _ = lane.full.push(batch);
            }
        }
    }
    bar.done();
    result
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

/// A worker thread: process batches until the reader closes the ring, then end every
/// connection and hand the worker back.
fn work<A: App>(mut w: Worker<A>, lane: &Lane, shared: Option<&[u8]>) -> Worker<A> {
    let _close = CloseOnDrop(lane);
    while let Some(mut batch) = lane.full.pop() {
        // In groups, the flows' state prefetched first (see `Worker::process_batch`).
        for group in batch.items.chunks(PREFETCH_GROUP) {
            let hashes = || {
                group.iter().filter_map(|item| match item {
                    Item::Frame { hash, .. } => *hash,
                    Item::Tick { .. } => None,
                })
            };
            hashes().for_each(|h| w.prefetch_index(h));
            hashes().for_each(|h| w.prefetch_flow(h));
            for item in group {
                match *item {
                    Item::Frame {
                        start,
                        len,
                        ts,
                        wire_len,
                        parsed,
                        hash: _,
                    } => {
                        let bytes = shared.unwrap_or(batch.arena.as_slice());
                        let data = bytes.get(start..start.saturating_add(len)).unwrap_or(&[]);
                        w.packet_parsed(data, ts, wire_len, parsed);
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
