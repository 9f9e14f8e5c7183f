//! DPDK as a packet source and inline forwarder (feature `dpdk`).
//!
//! `Runtime::builder().dpdk(DpdkConfig { .. })` runs an app on DPDK ports instead of a capture
//! file. The packets go through the same engine ([`crate::Worker`]) as offline runs, so events,
//! their order and the report are the same; only where frames come from and go to differs.
//!
//! # A run
//!
//! 1. **EAL** ([`init_eal`]): started on first use with [`DpdkConfig::eal_args`], once per
//!    process (DPDK cannot start twice); later runs share it. [`LAPTOP_EAL_ARGS`] run anywhere:
//!    `--no-huge --no-pci --no-shconf`, ports from virtual devices.
//! 2. **Ports** ([`PortSpec`]): hot-plugged virtual devices (`"net_pcap0,rx_pcap=in.pcap"`),
//!    ports the EAL probed (by name or id), or, with an empty list, every port no other run
//!    owns. The run takes DPDK ownership of them, configures queues, starts them, and at the
//!    end stops them (and removes hot-plugged ones).
//! 3. **Workers**: [`DpdkConfig::workers`] threads (default: one per EAL lcore), each
//!    registered as an EAL lcore (so the mempool's per-lcore caches serve it), each with its own
//!    engine: flow table, buffers, timers, app state. Nothing is shared between workers while
//!    packets flow (shared-nothing); at the end their reports add up and their core states
//!    merge ([`CoreState::merge`](crate::CoreState::merge)). Worker 0 starts with the core state
//!    given to `run_init`; the others start from `Default`.
//! 4. **Spreading flows** ([`Fanout`]): both directions of a connection must reach the same
//!    worker. Ports with RSS get one rx queue per worker and the symmetric Toeplitz key
//!    ([`SYMMETRIC_RSS_KEY`]); other ports (the virtual ones: `net_pcap`, `net_ring`; several
//!    ports whose RSS cannot be trusted to agree) use the software fan-out: whoever polls a
//!    queue hashes each packet's canonical 5-tuple and passes it to its owner over an
//!    `rte_ring`.
//! 5. **The loop** of a worker: rx burst ([`DpdkConfig::burst`]) → each mbuf to the engine,
//!    parsed where it lies (zero copy: the frame is the slice `mtod .. mtod + data_len`) →
//!    `end_batch` (the coalesced `ON_CONN_NEW_DATA`) → tx burst of what is forwarded, bulk
//!    free of the rest.
//! 6. **Stopping**: [`DpdkConfig::stop`] (a flag, for live ports) or
//!    [`DpdkConfig::stop_when_idle`] (every worker idle at once; a file-backed `net_pcap` is
//!    exhausted at its first empty burst). Packets already received are still processed;
//!    then each engine's `finish` ends the open connections (`EndReason::TraceEnd`). A
//!    handler that panics stops every worker, and the panic resumes on the caller's thread
//!    once the ports are given back.
//!
//! # Inline mode
//!
//! [`DpdkConfig::forward`] pairs an input port with an output port (bump in the wire:
//! `(0, 1), (1, 0)`). Packets of a paired port go through [`Worker::process_in_place`]:
//! handlers may rewrite the mbuf's bytes (`packet_mut`, checksums fixed by
//! `update_checksums`) and drop it (`drop_packet`); forwarded mbufs are queued for a tx burst
//! at the end of the rx burst. Each worker has its own tx queue where the output port has
//! enough; otherwise workers share its queues under a lock. What the driver will not take after
//! a bounded number of attempts is freed. Every received mbuf is sent or freed, and counted:
//! the report's `forwarded` is what the driver took, its `dropped` what handlers dropped plus
//! what could not be sent. Packets of unpaired ports are observed only, then freed.
//!
//! # Clock
//!
//! [`Clock::Auto`]: a `net_pcap` port carries the capture's timestamps in the mbuf's
//! rx-timestamp field (microseconds), so idle timeouts and timers fire at the same packets
//! as in an offline run of the file; other ports use the TSC, read once per burst and
//! converted to Unix time from a (TSC, system clock) pair taken at start, and an idle worker
//! advances its engine's clock with it so timers fire on a quiet link. NIC hardware timestamps:
//! [`Clock::MbufTimestamp`].
//!
//! # Chained mbufs
//!
//! A frame larger than an mbuf's data room (2048 bytes: jumbo frames, scattered rx) arrives as
//! a chain. The engine needs one contiguous frame, so a chain is copied into a per-worker
//! scratch buffer (256 KiB, allocated with the worker), processed there, and copied back into
//! its segments when it is forwarded. Longer chains are processed as a capture cut at 256 KiB.
//! Single-segment packets, which is nearly all of them, are never copied.
//!
//! # Memory
//!
//! Everything a worker touches per packet is allocated before the first packet: the engine,
//! the burst array, the tx and fan-out staging arrays (one burst each), the scratch buffer.
//! The mbuf pool ([`Mempool`]) is sized from the queues, descriptors, rings and bursts of the
//! run unless [`DpdkConfig::mempool_size`] says otherwise.
//!
//! # Unsafe
//!
//! This module is the only place of the runtime with `unsafe`: FFI calls into DPDK and the
//! slices built over mbuf data. Every block says why it is sound. The invariants it rests on:
//! a received mbuf belongs to exactly one worker until it is sent, freed or enqueued to
//! another worker's ring; each rx queue and each ring's consumer end has one worker; a tx queue
//! has one worker or a lock; the pool outlives the ports that receive into it.

#![allow(
    unsafe_code,
    reason = "FFI boundary to DPDK (see the module's Unsafe section)"
)]

mod clock;
mod config;
mod eal;
mod error;
mod fanout;
mod mbuf;
mod mempool;
mod plan;
mod port;
mod run;
#[cfg(test)]
mod tests;

pub use config::{
    Clock, DpdkConfig, Fanout, IdleStop, LAPTOP_EAL_ARGS, MAX_BURST, PortSpec, split_eal_args,
};
pub use eal::init_eal;
pub use error::DpdkError;
pub use mempool::Mempool;
pub use port::SYMMETRIC_RSS_KEY;
pub(crate) use run::run;

#[cfg(doc)]
use crate::Worker;
