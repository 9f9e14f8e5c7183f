//! Flow tracking: the canonical flow key, the fixed-capacity flow table, and the timer wheel
//! that ends idle flows.
//!
//! - [`key`]: [`FlowKey`], a 5-tuple in direction-free order (both directions of a connection
//!   give one key, plus a bit saying which way the packet went) and its hash, which also picks
//!   the worker core ([`FlowKey::shard`]).
//! - [`table`]: [`FlowTable`], all memory allocated at start-up: slots recycled through a free
//!   list, an open-addressing index, an intrusive LRU list, [`FlowId`] handles that detect
//!   reuse.
//! - [`timer`]: [`TimerWheel`], a hierarchical timing wheel that fires in exact deadline order
//!   and skips empty time, for idle timeouts and the timers handlers arm.
//!
//! # The per-packet path
//! Hash the key once ([`FlowKey::hash64`]); the same hash picks the core and probes the table
//! ([`FlowTable::lookup_hashed`]). A hit calls [`FlowTable::touch`] (O(1): relink at the LRU
//! tail, store the time) and nothing else: idle timers are re-armed lazily, when they fire
//! (see [`timer`]). A miss on a connection-opening packet calls
//! [`FlowTable::insert_hashed`] and arms the flow's idle timer at `now + idle_timeout`.
//! Nothing on this path allocates.
//!
//! # Eviction policy (applied by the engine; the table never evicts on its own)
//! When a new flow arrives and [`FlowTable::is_full`]:
//!
//! 1. Take the least recently active flow, [`FlowTable::oldest`]. If it has been idle for at
//!    least the configured minimum (`now − last_seen ≥ min_idle_for_eviction`;
//!    [`FlowTable::oldest_idle`] does this test), it is *evicted*: it ends with reason
//!    `evicted` (`ON_CONN_END` at both hooks), its timers are cancelled, it is removed, and
//!    the new flow takes its slot.
//! 2. Otherwise the new flow is *refused*: its packet becomes an orphan with reason
//!    `TableFull`, and `ON_ERROR(FlowTableFull)` is raised and counted. Established flows are
//!    never sacrificed for new ones faster than the minimum idle time allows, so a SYN flood
//!    cannot flush active connections out of the table.
//!
//! Both outcomes are deterministic: the LRU order depends only on the packet sequence.
//! At the end of a trace the engine ends the remaining flows oldest first by looping on
//! [`FlowTable::oldest`] and [`FlowTable::remove`].
//!
//! # Memory budget
//! A table of `N` flows takes [`FlowTable::memory_bytes`]`(N)` =
//! `N × slot_bytes() + next_power_of_two(2N) × 8`: each slot is a 64-byte header (the 38-byte
//! key, the `last_seen` timestamp, a generation, an occupied flag and two `u32` links, with
//! padding) plus `T` in a parallel array (64 bytes for `T = ()`, 72 for `u64`, 128 for a
//! 64-byte value; free slots hold `T::default()`); the index adds 16 to 32 bytes per flow
//! (8-byte entries, load factor between 1/4 and 1/2). For example, 2^20 flows with a 64-byte
//! value take 2^20 × 128 + 2^21 × 8 bytes = 144 MiB. A timer wheel of `M` timers takes [`TimerWheel::memory_bytes`]`(M)`: per timer
//! one entry (36 bytes plus `Option<P>`, rounded up to 8) and one 24-byte heap item, plus
//! 2.75 KiB of slot heads; the engine sizes it for one idle timer and one handler timer per
//! flow.

pub mod key;
pub mod table;
pub mod timer;

#[cfg(test)]
mod testutil;

pub use key::{FlowKey, shard_of};
pub use table::{FlowId, FlowTable, InsertError, TableConfigError};
pub use timer::{TimerConfigError, TimerFull, TimerHandle, TimerWheel};
