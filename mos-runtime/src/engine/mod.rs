//! The engine: one worker's per-packet pipeline (SPEC §2, mOS Figure 3.1).
//!
//! ```text
//! frame ─ parse ─┬─ not TCP / fragment / no flow ──────────── ON_PKT_IN@NULL, ON_ORPHAN@NULL
//!                ├─ malformed / bad checksum ───────────────── ON_ERROR@NULL
//!                └─ TCP ─ find flow (a pure SYN creates it) ─ update sender ─ SND handlers
//!                         ─ retransmission check ─ update receiver (state, reassembly)
//!                         ─ RCV handlers ─ forward or drop ─ both closed? ON_CONN_END
//! end of batch ─ ON_CONN_NEW_DATA once per side that got bytes
//! ```
//!
//! A [`Worker`] owns everything one core needs — flow table, app flow states (a parallel array
//! indexed by flow handle), per-flow handler bits, buffer pool, timer wheel, counters — all sized
//! at construction. The per-packet path allocates nothing. The app is a type parameter, so every
//! dispatch is a direct, inlinable call of the app's generated entry.
//!
//! # Memory
//! [`Worker::memory`] gives the figures for a configuration ([`MemoryBudget`]). Per flow of
//! `max_flows` capacity, allocated at start-up whether used or not:
//!
//! | part | bytes |
//! |---|---|
//! | flow-table slot: 64-byte header (key, LRU links, generation) + connection record | 1,312 |
//! | — of the record: a 48-byte header (times, timer handles, flags), two endpoints, each TCP state 52, flags 8, sent counters 48, in-order offset 8, reassembly bookkeeping 64, out-of-order table 16 × 16 and gap table 8 × 16; addresses 64 | 1,248 |
//! | hash index (8-byte entries, load ≤ ½) | 16–32 |
//! | timer wheel: two entries (idle timeout, app timer) | 144 |
//! | the app's slot: handler enable bits (16) and its `#[flow_state]`, side by side | 16 + `size_of::<Flow>()`, aligned to 16 |
//!
//! That is 1,569 bytes per flow for the benchmark's midstat app (72-byte flow state):
//! 1,000,000 flows take 1.57 GB once all are in use. The index, the timer wheel and the app
//! slots are written at start-up (209 MB resident for 1 M flows, measured by
//! `mos-bench memory`); flow-table slots are written when first used, so their share of
//! resident memory follows the most flows held at once. 16,384 flows
//! take 26 MB. Reassembly buffers are not in that figure: the pool reserves
//! `buffers × buffer_size` of address space (plus a cache line each, see
//! [`BufferPool`]), and a side holds a buffer only while it has bytes
//! to keep — from its first payload byte until everything received has been read (with
//! [`Config::release_drained`], the default) — so resident buffer memory follows the data in
//! flight, and the few buffers in use are reused while their pages are warm. A budget for
//! 1 M concurrent flows is therefore 1.6 GB plus `buffer_size` for each side holding unread
//! or out-of-order data at once (e.g. 20,000 such sides × 64 KiB = 1.3 GB reserved, touched
//! only as far as written).

mod batch;
pub(crate) mod conn;
mod dispatch;
mod lifecycle;
mod packet;

use std::io;

use crate::app::{App, HandlerSet};
use crate::config::Config;
use crate::cx::TimerEntry;
use crate::flow::FlowId;
use crate::flow::table::FlowTable;
use crate::flow::timer::TimerWheel;
use crate::report::Counters;
use crate::stream::BufferPool;
use crate::time::Timestamp;
use crate::wire::LinkType;

pub use batch::PREFETCH_GROUP;
pub(crate) use batch::STAGE_THREE_LEAD;
use conn::Conn;

/// Where forwarded packets go in inline mode.
pub trait PacketSink: Send {
    /// Emit one frame.
    fn send(
        &mut self,
        ts: Timestamp,
        frame: &[u8],
        wire_len: u32,
        link: LinkType,
    ) -> io::Result<()>;
    /// Flush buffered frames.
    fn flush(&mut self) -> io::Result<()>;
}

impl PacketSink for crate::io::PcapSink {
    fn send(
        &mut self,
        ts: Timestamp,
        frame: &[u8],
        wire_len: u32,
        link: LinkType,
    ) -> io::Result<()> {
        self.write_frame(ts, frame, wire_len, link)
    }
    fn flush(&mut self) -> io::Result<()> {
        crate::io::PcapSink::flush(self)
    }
}

/// What happens to a packet in inline mode.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Verdict {
    /// Send it on.
    Forward,
    /// A handler dropped it.
    Drop,
}

/// Why a worker could not be built.
#[derive(Debug)]
pub enum BuildError {
    /// A capacity is zero or too large.
    Capacity(String),
}

impl std::fmt::Display for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BuildError::Capacity(msg) => write!(f, "invalid capacity: {msg}"),
        }
    }
}

impl std::error::Error for BuildError {}

/// What a worker's memory is made of, computed from its configuration
/// ([`Worker::memory`]).
///
/// The per-flow structures are allocated *and touched* when the worker is built, for
/// `max_flows` flows whether or not they are used: that part of the resident memory is
/// `max_flows × per_flow`. Reassembly buffers are different: the pool reserves
/// `buffers × buffer_size` bytes of address space, and pages become resident only when a
/// buffer first writes to them; a side takes a buffer on its first payload byte and gives it
/// back when its connection ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryBudget {
    /// Bytes per flow of capacity: the flow-table slot (the connection record: both
    /// endpoints' TCP state and reassembly metadata), its share of the hash index, the app's
    /// flow state, the handler bits, and two timer entries.
    pub per_flow: usize,
    /// Of `per_flow`: the flow-table slot (64-byte header with the key and LRU links, and
    /// the connection record: both endpoints' TCP state, reassembly metadata with its
    /// out-of-order and gap tables, counters).
    pub slot: usize,
    /// Of `per_flow`: the hash index's share (8-byte entries, 2 to 4 per flow).
    pub index: usize,
    /// Of `per_flow`: two timer-wheel entries (idle timeout, app timer).
    pub timers: usize,
    /// Of `per_flow`: the app's flow state and the handler enable bits.
    pub app: usize,
    /// The per-flow structures for `max_flows` flows, plus the timer wheel's fixed heads.
    pub flows_total: usize,
    /// The buffer pool's reservation, `buffers × buffer_size` plus a cache line per buffer
    /// (address space; resident only as written).
    pub buffers_reserved: usize,
}

/// What the app keeps per flow: its `#[flow_state]` and which of its handlers run on the flow.
/// Side by side, because every dispatch reads both: one or two cache lines per packet instead
/// of one in each of two arrays.
#[derive(Debug)]
pub(crate) struct AppSlot<F> {
    pub(crate) enabled: HandlerSet,
    pub(crate) flow: F,
}

/// One core's engine for app `A`.
pub struct Worker<A: App> {
    pub(crate) cfg: Config,
    pub(crate) table: FlowTable<Conn>,
    /// Per flow slot (parallel to the table): the app's flow state and handler bits.
    pub(crate) apps: Vec<AppSlot<A::Flow>>,
    pub(crate) core: A::Core,
    pub(crate) pool: BufferPool,
    pub(crate) timers: TimerWheel<TimerEntry>,
    /// Flows with a side waiting for `ON_CONN_NEW_DATA` at the end of the batch.
    pub(crate) new_data: Vec<FlowId>,
    pub(crate) handler_calls: Vec<u64>,
    pub(crate) counters: Counters,
    pub(crate) now: Timestamp,
    pub(crate) in_batch: usize,
    /// Inline mode: the frame is copied here so handlers may rewrite it.
    pub(crate) scratch: Vec<u8>,
    pub(crate) sink: Option<Box<dyn PacketSink>>,
    pub(crate) sink_error: Option<io::Error>,
    /// Inline mode: handlers may rewrite and drop packets.
    pub(crate) inline: bool,
}

impl<A: App> std::fmt::Debug for Worker<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("app", &A::NAME)
            .field("flows", &self.table.len())
            .field("now", &self.now)
            .finish_non_exhaustive()
    }
}

/// Largest frame the inline scratch buffer holds.
const MAX_FRAME: usize = 256 * 1024;

impl<A: App> Worker<A> {
    /// The memory a worker built with `cfg` takes (see [`MemoryBudget`]).
    pub fn memory(cfg: &Config) -> Result<MemoryBudget, BuildError> {
        let n = cfg.max_flows;
        let cap = |e: String| BuildError::Capacity(e);
        let table = FlowTable::<Conn>::memory_bytes(n).map_err(|e| cap(e.to_string()))?;
        let timers =
            TimerWheel::<TimerEntry>::memory_bytes(n * 2 + 16).map_err(|e| cap(e.to_string()))?;
        let app = n * std::mem::size_of::<AppSlot<A::Flow>>();
        let buffers_reserved = BufferPool::reservation(cfg.buffers.max(1), cfg.buffer_size)
            .map_err(|e| cap(e.to_string()))?;
        let flows_total = table + timers + app;
        let slot = FlowTable::<Conn>::slot_bytes();
        let per = |total: usize| total / n.max(1);
        Ok(MemoryBudget {
            per_flow: flows_total.div_ceil(n.max(1)),
            slot,
            index: per(table).saturating_sub(slot),
            timers: per(timers),
            app: per(app),
            flows_total,
            buffers_reserved,
        })
    }

    /// A worker with every structure allocated for `cfg`.
    pub fn new(cfg: Config, sink: Option<Box<dyn PacketSink>>) -> Result<Self, BuildError> {
        if cfg.max_flows == 0 || cfg.max_flows > (1 << 26) {
            return Err(BuildError::Capacity(format!(
                "max_flows = {} (1 ..= 2^26)",
                cfg.max_flows
            )));
        }
        if cfg.batch_size == 0 || cfg.batch_size > 4096 {
            return Err(BuildError::Capacity(format!(
                "batch_size = {} (1 ..= 4096)",
                cfg.batch_size
            )));
        }
        let table =
            FlowTable::new(cfg.max_flows).map_err(|e| BuildError::Capacity(e.to_string()))?;
        let pool = BufferPool::new(cfg.buffers.max(1), cfg.buffer_size)
            .map_err(|e| BuildError::Capacity(e.to_string()))?;
        // Two timers per flow at most: the idle timeout and the app's.
        let timer_capacity = cfg.max_flows * 2 + 16;
        let timers = TimerWheel::new(timer_capacity, cfg.timer_tick, Timestamp::ZERO)
            .map_err(|e| BuildError::Capacity(e.to_string()))?;
        let mut apps = Vec::with_capacity(cfg.max_flows);
        apps.resize_with(cfg.max_flows, || AppSlot {
            enabled: A::INITIAL_ENABLED,
            flow: A::Flow::default(),
        });
        let handlers = A::HANDLERS.len();
        Ok(Worker {
            table,
            apps,
            core: A::Core::default(),
            pool,
            timers,
            new_data: Vec::with_capacity(cfg.batch_size * 2 + 2),
            handler_calls: vec![0; handlers],
            counters: Counters::default(),
            now: Timestamp::ZERO,
            in_batch: 0,
            scratch: if sink.is_some() {
                vec![0; MAX_FRAME]
            } else {
                Vec::new()
            },
            inline: sink.is_some(),
            sink,
            sink_error: None,
            cfg,
        })
    }

    /// Process one frame. Call [`Worker::end_batch`] after every `batch_size` frames (the
    /// driver does); [`Worker::process`] does it by itself when a batch is full.
    pub fn process(&mut self, frame: &[u8], ts: Timestamp, wire_len: u32, link: LinkType) {
        self.packet(frame, ts, wire_len, link);
        self.in_batch += 1;
        if self.in_batch >= self.cfg.batch_size {
            self.end_batch();
        }
    }

    /// Inline processing of a frame the caller owns and forwards itself (zero copy: the DPDK
    /// path). Handlers see the frame as rewritable; the verdict says whether to send it on.
    /// Batches end as with [`Worker::process`].
    pub fn process_in_place(
        &mut self,
        frame: &mut [u8],
        ts: Timestamp,
        wire_len: u32,
        link: LinkType,
    ) -> Verdict {
        self.inline = true;
        let verdict = self.packet_in_place(frame, ts, wire_len, link);
        self.in_batch += 1;
        if self.in_batch >= self.cfg.batch_size {
            self.end_batch();
        }
        verdict
    }

    /// End the current receive batch: raise the coalesced `ON_CONN_NEW_DATA`s.
    pub fn end_batch(&mut self) {
        self.in_batch = 0;
        self.flush_new_data();
    }

    /// End of input: finish the batch, then end every remaining connection (`TraceEnd`), oldest
    /// first.
    pub fn finish(&mut self) -> io::Result<()> {
        self.end_batch();
        while let Some((id, _)) = self.table.oldest() {
            self.end_flow(id, crate::event::EndReason::TraceEnd);
        }
        if let Some(sink) = self.sink.as_mut() {
            if let Err(e) = sink.flush() {
                self.sink_error.get_or_insert(e);
            }
        }
        match self.sink_error.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// The app-wide state of this worker.
    pub fn core(&self) -> &A::Core {
        &self.core
    }

    /// Take the app-wide state out (end of run).
    pub fn take_core(&mut self) -> A::Core {
        std::mem::take(&mut self.core)
    }

    /// Connections currently tracked.
    pub fn live_flows(&self) -> usize {
        self.table.len()
    }
}
