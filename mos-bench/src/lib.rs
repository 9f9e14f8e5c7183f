//! # mos-bench
//!
//! The whole-run benchmark of mos (SPEC §6, the performance issue): a midstat-class app
//! ([`app::Midstat`]: every connection tracked on both sides, reassembly on, an HTTP
//! user-defined event, per-flow counters) replays a seeded workload from memory — or any
//! capture — and one JSON line reports packets, seconds, Mpps, Gbit/s, ns per packet,
//! allocations per packet, peak RSS and cores, with the packet-loop time, the start-up time and
//! whether the counts equal the generator's ground truth.
//!
//! - [`workload`]: the capture (generated in memory with its expected totals, or a file);
//! - [`app`]: the app; [`truth`]: the expected totals from the ground truth;
//! - [`run`]: timed runs, the allocation baseline, the JSON line;
//! - [`alloc`]: the counting global allocator; [`rss`]: resident memory from `/proc`.
//!
//! The peers (libnids, a read-and-hash ceiling, libpcap's read loop, tshark) are built and run
//! side by side by [`peers`] (`mos-bench peers`, or `mos-bench/peers/run.sh`); the criterion
//! micro-benchmarks are in `mos-bench/benches/micro.rs`; the DPDK path against the in-memory
//! path, with the same app and packets, is `mos-bench/benches/dpdk_vs_memory.rs` (feature
//! `dpdk`: `cargo bench -p mos-bench --features dpdk --bench dpdk_vs_memory`).
//!
//! ```text
//! cargo run --release -p mos-bench -- --preset W5 [--seed N] [--cores N] [--runs N]
//! cargo run --release -p mos-bench -- --pcap FILE [--truth FILE] [--stream]
//! mos-bench/peers/run.sh --preset W5 --runs 5        # mos, libnids, ceiling, tshark side by side
//! ```

pub mod alloc;
pub mod app;
pub mod peers;
pub mod rss;
pub mod run;
pub mod truth;
pub mod workload;
