//! mos runtime (architecture essay to be completed with the engine).
#![deny(unsafe_code)]

pub mod app;
pub mod config;
pub mod cx;
pub mod engine;
pub mod event;
pub mod flow;
pub mod graph;
pub mod io;
mod multi;
pub mod report;
pub mod runtime;
pub mod stream;
pub mod tcp;
pub mod time;
pub mod wire;

#[doc(hidden)]
#[path = "export.rs"]
pub mod __private;

pub use app::{App, CoreState, HandlerId, HandlerInfo, HandlerSet, Subscriptions};
pub use cx::{Cx, FilterCx, PacketCx};
pub use event::{Dir, EndReason, ErrorKind, Event, Hook, OrphanReason, Side};
pub use config::Config;
pub use engine::{PacketSink, Worker};
pub use io::PcapSink;
pub use mos_macros::app;
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
