//! # mos runtime
//!
//! The runtime of mos, a Rust framework for stateful, event-driven middleboxes in the style of
//! mOS (KAIST, NSDI 2017). An app is a set of `<event, handler>` pairs compiled by
//! `#[mos_runtime::app]` into an implementation of [`App`]: one straight-line function per
//! (built-in event, hook). This crate feeds packets through flow tracking, both endpoints' TCP
//! state machines and per-side reassembly, and calls those functions in mOS's order.
//!
//! ## Layers (bottom up)
//! - [`wire`]: zero-copy parsing of frames into a compact [`wire::PacketMeta`] (offsets and
//!   header fields; the bytes stay where they are). [`io`]: pcap/pcapng reading and writing.
//! - [`flow`]: the fixed-capacity flow table (symmetric 5-tuple keys, generational handles, an
//!   LRU list for eviction) and the timer wheel (idle timeouts, app timers).
//! - [`tcp`]: sequence arithmetic and the per-endpoint emulated state machine.
//!   [`stream`]: per-side receive buffers — a linear buffer per side drawn lazily from a
//!   preallocated pool, a bounded out-of-order assembler, overlap policies with conflict
//!   detection, gap skipping.
//! - [`engine`]: the per-packet pipeline of one worker ([`Worker`]), raising events through
//!   [`App`]'s entries with a [`Cx`] built on the stack.
//! - [`runtime`]: the builder and the run loop; [`report`]: the statistics of a run.
//!
//! ## Rules of the hot path
//! Everything a worker needs is allocated when it is built: flow table, app flow states,
//! handler bits, buffer pool, timer wheel, the pending-`ON_CONN_NEW_DATA` list. Processing a
//! packet allocates nothing (a test proves it with a counting allocator on real captures).
//! Limits are visible: when one is hit the runtime raises `ON_ERROR` with the limit's
//! [`ErrorKind`] and counts it; it never grows, never panics on input.
//!
//! ## Time
//! Offline runs use packet timestamps as the clock, so idle timeouts and app timers fire at
//! the same packet on every run.
//!
//! ## Unsafe
//! None outside the DPDK I/O module (feature `dpdk`), where FFI requires it.
#![deny(unsafe_code)]

// The macros name this crate `::mos_runtime`; the UDE library uses them from inside it.
extern crate self as mos_runtime;

pub mod app;
pub mod config;
pub mod cx;
pub mod engine;
pub mod event;
pub mod flow;
pub mod graph;
pub mod io;
pub mod library;
mod multi;
mod prefetch;
pub mod proto;
pub mod report;
pub mod runtime;
pub mod stream;
pub mod tcp;
pub mod time;
pub mod ude;
pub mod wire;

#[doc(hidden)]
#[path = "export.rs"]
pub mod __private;

pub use app::{App, CoreState, HandlerId, HandlerInfo, HandlerSet, Subscriptions};
pub use config::Config;
pub use cx::{Cx, FilterCx, PacketCx};
pub use engine::{MemoryBudget, PacketSink, Verdict, Worker};
pub use event::{Dir, EndReason, ErrorKind, Event, Hook, OrphanReason, Side};
pub use io::PcapSink;
pub use mos_macros::{app, core_state, event, flow_state, on};
pub use report::Report;
pub use runtime::{RunError, Runtime, RuntimeBuilder};
pub use stream::OverlapPolicy;

/// Everything an app needs: `use mos_runtime::prelude::*;`.
pub mod prelude {
    pub use crate::app::{App, CoreState, HandlerId};
    pub use crate::cx::{Cx, FilterCx, PacketCx};
    pub use crate::event::{Dir, EndReason, ErrorKind, Event, Hook, OrphanReason, Side};
    pub use crate::tcp::TcpState;
    pub use crate::time::Timestamp;
    pub use crate::ude::{ChildEvent, Raise};
    pub use crate::wire::{Packet, PacketMut};

    /// `ON_PKT_IN`: every packet of a tracked flow; at `NULL`, every packet without one.
    pub const ON_PKT_IN: Event = Event::PktIn;
    /// `ON_CONN_START`: a connection begins.
    pub const ON_CONN_START: Event = Event::ConnStart;
    /// `ON_TCP_STATE_CHANGE`: the hook side's emulated TCP state changed.
    pub const ON_TCP_STATE_CHANGE: Event = Event::TcpStateChange;
    /// `ON_REXMIT`: the receiver saw a retransmission.
    pub const ON_REXMIT: Event = Event::Rexmit;
    /// `ON_CONN_NEW_DATA`: new in-order bytes in a side's receive buffer.
    pub const ON_CONN_NEW_DATA: Event = Event::ConnNewData;
    /// `ON_CONN_END`: the connection is destroyed.
    pub const ON_CONN_END: Event = Event::ConnEnd;
    /// `ON_ORPHAN`: a packet outside any tracked flow.
    pub const ON_ORPHAN: Event = Event::Orphan;
    /// `ON_ERROR`: an anomaly.
    pub const ON_ERROR: Event = Event::Error;
    /// `ON_TIMEOUT`: a flow timer expired.
    pub const ON_TIMEOUT: Event = Event::Timeout;
    /// Hook `SND`: after the sender side's update.
    pub const SND: Hook = Hook::Snd;
    /// Hook `RCV`: after the receiver side's update.
    pub const RCV: Hook = Hook::Rcv;
    /// Hook `NULL`: no stream context.
    pub const NULL: Hook = Hook::Null;
}
