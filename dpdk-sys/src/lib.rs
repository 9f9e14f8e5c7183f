//! Raw bindings to the system DPDK, plus a C shim for the functions DPDK only ships as
//! `static inline`.
//!
//! This is the only crate of mos (with the runtime's DPDK module) where `unsafe` lives. It has
//! no safe API: the runtime's `dpdk` feature builds the safe layer (EAL handle, mempool, port,
//! owned mbuf) on top of it.
//!
//! # Layout
//!
//! - `build.rs` asks `pkg-config` for `libdpdk` (Debian's `libdpdk-dev`, 22.11 here; at least
//!   21.11), compiles `csrc/shim.c` with DPDK's own cflags, runs bindgen over `csrc/wrapper.h`
//!   and links the DPDK shared libraries pkg-config lists plus `rte_bus_vdev` (the vdev bus
//!   driver is a plugin that pkg-config does not list, but `rte_vdev_init` lives there).
//!   Without DPDK the build stops with one message naming the packages to install.
//! - The generated bindings (in `$OUT_DIR`, never checked in: they follow the installed
//!   headers) are re-exported at the crate root. They hold what the headers in `wrapper.h`
//!   declare (EAL, lcores and launch, ethdev, mbuf, mempool, ring, vdev bus, errno, cycles,
//!   ether, log, version, build config) and the types those refer to, and nothing else of
//!   DPDK (`rte_flow` alone would triple them) or of libc. Names are C's: `rte_*` functions
//!   and types, `RTE_*` constants, including the function-like flag macros, evaluated by
//!   clang: `RTE_MBUF_F_*`, `RTE_ETH_RX_OFFLOAD_*`, `RTE_ETH_TX_OFFLOAD_*` and `RTE_ETH_RSS_*`
//!   are `u64` like the fields they go into; `RING_F_*`, `MEMPOOL_F_*`, `LCORE_ID_ANY`,
//!   `SOCKET_ID_ANY`, and the errno values DPDK returns negated (`ENOENT`, `EINVAL`,
//!   `ENOTSUP`, ...) as `i32`. Enumerators appear under their C names (`RTE_ETH_MQ_RX_RSS`);
//!   structs implement `Default` (all zeroes), as DPDK's configuration structs expect.
//!   bindgen's layout checks (`rte_mbuf` is 128 bytes, align 64, ...) run at compile time.
//! - The `mos_*` functions below wrap DPDK's inline hot-path functions and its per-thread
//!   variables (`rte_errno`, the lcore id), which have no symbol to link to. Their Rust
//!   declarations are checked at compile time against `csrc/shim.h` (bindgen parses it too),
//!   so C and Rust cannot drift apart silently. Functions DPDK exports as real symbols are
//!   used directly from the bindings, with no wrapper: among the hot-path ones
//!   [`rte_pktmbuf_free_bulk`], [`rte_mempool_avail_count`], [`rte_mempool_in_use_count`],
//!   [`rte_get_tsc_hz`], [`rte_vdev_init`] and [`rte_vdev_uninit`].
//!
//! # Why not crates.io's `dpdk-sys`
//!
//! That crate (0.1.5) binds DPDK 18.05, vendors and builds its source, and needs a musl cross
//! toolchain; its ethdev/mbuf layouts do not match 22.11 (SPEC §7). The other published
//! bindings target 19.11 or do not find pkg-config's include path. Generating the bindings
//! from the installed headers keeps them exactly in step with whatever DPDK the distribution
//! ships. This crate shares the name but is a workspace path dependency and is never
//! published, so crates.io is never consulted for it.
//!
//! # Rules the bindings do not express
//!
//! - `rte_eal_init` succeeds once per process, ever (a second call fails with `EALREADY`, even
//!   after `rte_eal_cleanup`). Keep the EAL in a process-wide once-cell; in tests, share it
//!   between all tests of a binary and hot-plug a uniquely named vdev per test.
//! - EAL flags proven on machines without hugepages or NICs (this crate's tests use them):
//!   `-l 0 --no-huge -m 256 --no-pci --no-shconf --no-telemetry --log-level=*:warning`
//!   (`--no-shconf` is what lets several DPDK processes run at once), with ports from
//!   `rte_vdev_init("net_pcap7", "rx_pcap=IN,tx_pcap=OUT")`, `net_ring` or `net_null`.
//! - `rte_eal_init` pins the calling thread to the main lcore's CPU. Other threads get
//!   [`mos_rte_lcore_id`] `==` [`LCORE_ID_ANY`]; they may still rx/tx and allocate mbufs
//!   (without a per-lcore mempool cache).
//! - `rte_errno` is per thread: read it with [`mos_rte_errno`] on the thread that made the
//!   failing call.
//! - An mbuf handed to [`mos_rte_eth_tx_burst`] and counted in its return value belongs to the
//!   driver; the ones past the count still belong to the caller, who must send or free them.
//! - A file-backed `net_pcap` rx queue signals the end of the file only by returning empty
//!   bursts.

#![allow(unsafe_code, reason = "this crate is the FFI boundary to DPDK")]

use core::ffi::{c_int, c_uint, c_void};

/// Everything bindgen generated (DPDK's items and, for the check below, the shim's).
mod bindings {
    #![allow(
        non_camel_case_types,
        non_snake_case,
        non_upper_case_globals,
        dead_code,
        unreachable_pub,
        missing_docs,
        missing_debug_implementations,
        unnecessary_transmutes,
        clippy::all,
        clippy::pedantic,
        clippy::unwrap_used,
        clippy::undocumented_unsafe_blocks,
        rustdoc::all,
        reason = "generated from DPDK's C headers; names and shapes follow C"
    )]
    include!(concat!(env!("OUT_DIR"), "/bindings.rs"));
}

pub use bindings::*;

/// Declares shim functions and checks each declaration against bindgen's reading of
/// `csrc/shim.h`: a parameter or return type that differs is a type error here.
macro_rules! shim {
    ($(
        $(#[$attr:meta])*
        pub fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)?;
    )*) => {
        unsafe extern "C" {
            $(
                $(#[$attr])*
                pub fn $name($($arg: $ty),*) $(-> $ret)?;
            )*
        }
        const _: () = {
            $( let _: unsafe extern "C" fn($($ty),*) $(-> $ret)? = bindings::$name; )*
        };
    };
}

shim! {
    /// `rte_eth_rx_burst`: receives up to `nb_pkts` packets from rx queue `queue_id` of
    /// `port_id` into `rx_pkts`; returns how many were stored. The caller owns them.
    ///
    /// # Safety
    /// The port and queue must be configured and started; `rx_pkts` must have room for
    /// `nb_pkts` pointers. One thread per queue at a time.
    pub fn mos_rte_eth_rx_burst(
        port_id: u16,
        queue_id: u16,
        rx_pkts: *mut *mut rte_mbuf,
        nb_pkts: u16,
    ) -> u16;

    /// `rte_eth_tx_burst`: hands up to `nb_pkts` packets from `tx_pkts` to tx queue `queue_id`;
    /// returns how many the driver took (it frees them). The rest still belong to the caller.
    ///
    /// # Safety
    /// The port and queue must be configured and started; `tx_pkts` must hold `nb_pkts` valid
    /// mbufs. One thread per queue at a time.
    pub fn mos_rte_eth_tx_burst(
        port_id: u16,
        queue_id: u16,
        tx_pkts: *mut *mut rte_mbuf,
        nb_pkts: u16,
    ) -> u16;

    /// `rte_eth_rx_queue_count`: used descriptors of an rx queue, or a negative errno
    /// (`-ENOTSUP` when the driver cannot tell, `-EINVAL`/`-ENODEV` for bad ids).
    ///
    /// # Safety
    /// The port must be started, or the call reads a queue that does not exist.
    pub fn mos_rte_eth_rx_queue_count(port_id: u16, queue_id: u16) -> c_int;

    /// `rte_pktmbuf_alloc`: one reset packet mbuf (data_len 0, headroom
    /// [`RTE_PKTMBUF_HEADROOM`]), or null when the pool is empty.
    ///
    /// # Safety
    /// `mp` must be a live packet mbuf pool (from `rte_pktmbuf_pool_create`).
    pub fn mos_rte_pktmbuf_alloc(mp: *mut rte_mempool) -> *mut rte_mbuf;

    /// `rte_pktmbuf_alloc_bulk`: `count` reset mbufs into `mbufs`, all or none; 0 on success,
    /// a negative errno when the pool has fewer (`-ENOENT` as documented, but DPDK 22.11's
    /// default ring mempool driver returns `-ENOBUFS`).
    ///
    /// # Safety
    /// `mp` must be a live packet mbuf pool and `mbufs` must have room for `count` pointers.
    pub fn mos_rte_pktmbuf_alloc_bulk(mp: *mut rte_mempool, mbufs: *mut *mut rte_mbuf, count: c_uint) -> c_int;

    /// `rte_pktmbuf_free`: returns a packet and all its segments to their pools; null is a
    /// no-op.
    ///
    /// # Safety
    /// `m` must be null or an mbuf the caller owns; it must not be used afterwards.
    pub fn mos_rte_pktmbuf_free(m: *mut rte_mbuf);

    /// `rte_pktmbuf_mtod`: the start of the first segment's data (`data_len` bytes).
    ///
    /// # Safety
    /// `m` must be a valid mbuf.
    pub fn mos_rte_pktmbuf_mtod(m: *mut rte_mbuf) -> *mut u8;

    /// `rte_pktmbuf_data_len`: bytes of data in this segment.
    ///
    /// # Safety
    /// `m` must be a valid mbuf.
    pub fn mos_rte_pktmbuf_data_len(m: *const rte_mbuf) -> u16;

    /// `rte_pktmbuf_pkt_len`: bytes of data in the whole packet, all segments.
    ///
    /// # Safety
    /// `m` must be a valid mbuf.
    pub fn mos_rte_pktmbuf_pkt_len(m: *const rte_mbuf) -> u32;

    /// Sets this segment's `data_len`, unchecked (prefer append/trim, which check room).
    ///
    /// # Safety
    /// `m` must be a valid mbuf, and `data_off + len` must not exceed its buffer.
    pub fn mos_rte_pktmbuf_set_data_len(m: *mut rte_mbuf, len: u16);

    /// Sets the packet's `pkt_len`, unchecked.
    ///
    /// # Safety
    /// `m` must be a valid first segment; `len` must equal the sum of its segments' data_len.
    pub fn mos_rte_pktmbuf_set_pkt_len(m: *mut rte_mbuf, len: u32);

    /// Number of segments in the packet (1 unless chained, e.g. jumbo frames).
    ///
    /// # Safety
    /// `m` must be a valid first segment.
    pub fn mos_rte_pktmbuf_nb_segs(m: *const rte_mbuf) -> u16;

    /// The next segment of a chained packet, or null.
    ///
    /// # Safety
    /// `m` must be a valid mbuf.
    pub fn mos_rte_pktmbuf_next(m: *const rte_mbuf) -> *mut rte_mbuf;

    /// The port a received packet came in on.
    ///
    /// # Safety
    /// `m` must be a valid mbuf.
    pub fn mos_rte_pktmbuf_port(m: *const rte_mbuf) -> u16;

    /// The driver's RSS hash; meaningful only when [`mos_rte_pktmbuf_ol_flags`] has
    /// [`RTE_MBUF_F_RX_RSS_HASH`].
    ///
    /// # Safety
    /// `m` must be a valid mbuf.
    pub fn mos_rte_pktmbuf_rss_hash(m: *const rte_mbuf) -> u32;

    /// The offload flags (`RTE_MBUF_F_*`).
    ///
    /// # Safety
    /// `m` must be a valid mbuf.
    pub fn mos_rte_pktmbuf_ol_flags(m: *const rte_mbuf) -> u64;

    /// `rte_pktmbuf_headroom`: free bytes before the data of the first segment.
    ///
    /// # Safety
    /// `m` must be a valid mbuf.
    pub fn mos_rte_pktmbuf_headroom(m: *const rte_mbuf) -> u16;

    /// `rte_pktmbuf_tailroom`: free bytes after the data of the last segment.
    ///
    /// # Safety
    /// `m` must be a valid mbuf.
    pub fn mos_rte_pktmbuf_tailroom(m: *const rte_mbuf) -> u16;

    /// `rte_pktmbuf_append`: grows the packet by `len` bytes at its end (last segment) and
    /// returns a pointer to them (uninitialised), or null if the tailroom is too small.
    ///
    /// # Safety
    /// `m` must be a valid first segment that the caller owns.
    pub fn mos_rte_pktmbuf_append(m: *mut rte_mbuf, len: u16) -> *mut u8;

    /// `rte_pktmbuf_prepend`: grows the packet by `len` bytes at its start and returns the new
    /// start (uninitialised), or null if the headroom is too small.
    ///
    /// # Safety
    /// `m` must be a valid first segment that the caller owns.
    pub fn mos_rte_pktmbuf_prepend(m: *mut rte_mbuf, len: u16) -> *mut u8;

    /// `rte_pktmbuf_adj`: removes `len` bytes from the start and returns the new start, or
    /// null if the first segment has fewer than `len` bytes.
    ///
    /// # Safety
    /// `m` must be a valid first segment that the caller owns.
    pub fn mos_rte_pktmbuf_adj(m: *mut rte_mbuf, len: u16) -> *mut u8;

    /// `rte_pktmbuf_trim`: removes `len` bytes from the end; 0, or -1 if the last segment has
    /// fewer than `len` bytes.
    ///
    /// # Safety
    /// `m` must be a valid first segment that the caller owns.
    pub fn mos_rte_pktmbuf_trim(m: *mut rte_mbuf, len: u16) -> c_int;

    /// `rte_ring_enqueue_burst`: enqueues up to `n` pointers from `obj_table`; returns how many.
    /// If `free_space` is not null it receives the room left.
    ///
    /// # Safety
    /// `r` must be a live ring, `obj_table` must hold `n` pointers, and the ring's
    /// single/multi-producer flags must match the callers.
    pub fn mos_rte_ring_enqueue_burst(
        r: *mut rte_ring,
        obj_table: *const *mut c_void,
        n: c_uint,
        free_space: *mut c_uint,
    ) -> c_uint;

    /// `rte_ring_dequeue_burst`: dequeues up to `n` pointers into `obj_table`; returns how
    /// many. If `available` is not null it receives the entries left.
    ///
    /// # Safety
    /// `r` must be a live ring, `obj_table` must have room for `n` pointers, and the ring's
    /// single/multi-consumer flags must match the callers.
    pub fn mos_rte_ring_dequeue_burst(
        r: *mut rte_ring,
        obj_table: *mut *mut c_void,
        n: c_uint,
        available: *mut c_uint,
    ) -> c_uint;

    /// `rte_ring_count`: entries currently in the ring.
    ///
    /// # Safety
    /// `r` must be a live ring.
    pub fn mos_rte_ring_count(r: *const rte_ring) -> c_uint;

    /// `rte_lcore_id`: the calling thread's lcore id, or [`LCORE_ID_ANY`] in a thread that
    /// EAL neither created nor registered.
    ///
    /// # Safety
    /// None beyond FFI; safe to call before EAL init (gives [`LCORE_ID_ANY`]).
    pub fn mos_rte_lcore_id() -> c_uint;

    /// `rte_errno`: the calling thread's last DPDK error (a positive errno or `E_RTE_*`).
    /// DPDK sets it only on failure; it is not cleared by success.
    ///
    /// # Safety
    /// None beyond FFI.
    pub fn mos_rte_errno() -> c_int;

    /// Sets the calling thread's `rte_errno` (e.g. to 0 before a call whose failure is
    /// reported only there).
    ///
    /// # Safety
    /// None beyond FFI.
    pub fn mos_rte_set_errno(value: c_int);

    /// `rte_rdtsc`: the CPU's time-stamp counter; [`rte_get_tsc_hz`] gives its rate (valid
    /// after EAL init).
    ///
    /// # Safety
    /// None beyond FFI.
    pub fn mos_rte_rdtsc() -> u64;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_macros_are_u64_at_their_documented_bits() {
        let rx: u64 = RTE_MBUF_F_RX_RSS_HASH;
        assert_eq!(rx, 1 << 1);
        assert_eq!(RTE_MBUF_F_TX_IPV4, 1 << 55);
        assert_eq!(RTE_ETH_RX_OFFLOAD_IPV4_CKSUM, 1 << 1);
        assert_eq!(RTE_ETH_TX_OFFLOAD_TCP_CKSUM, 1 << 3);
        // Bit 63 would be an i64 without the FlagWidths callback in build.rs.
        assert_eq!(RTE_ETH_RSS_L3_SRC_ONLY, 1 << 63);
        assert_eq!(
            RTE_ETH_RSS_IPV4 | RTE_ETH_RSS_NONFRAG_IPV4_TCP,
            (1 << 2) | (1 << 4)
        );
        // Redirection-table sizes are sizes, not flags.
        let reta: u32 = RTE_ETH_RSS_RETA_SIZE_512;
        assert_eq!(reta, 512);
    }

    #[test]
    fn plain_constants_keep_their_c_values() {
        let (enoent, enotsup): (i32, i32) = (ENOENT, ENOTSUP);
        assert_eq!((enoent, enotsup, EOPNOTSUPP), (2, 95, 95));
        assert_eq!(LCORE_ID_ANY, u32::MAX);
        assert_eq!(SOCKET_ID_ANY, -1);
        assert_eq!(RTE_MBUF_DEFAULT_BUF_SIZE, 2048 + RTE_PKTMBUF_HEADROOM);
        assert_eq!(RTE_ETH_MQ_RX_RSS, 1);
    }

    #[test]
    fn core_structs_have_dpdks_layout() {
        assert_eq!(size_of::<rte_mbuf>(), 128);
        assert_eq!(align_of::<rte_mbuf>(), 64);
        assert_eq!(size_of::<rte_ether_addr>(), 6);
        // Zeroed configuration is what DPDK's examples start from.
        let conf = rte_eth_conf::default();
        assert_eq!((conf.rxmode.offloads, conf.txmode.offloads), (0, 0));
    }
}
