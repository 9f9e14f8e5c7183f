//! The mbuf fields the packet loop reads, inlined.
//!
//! dpdk-sys's shim wraps these accessors as out-of-line C functions; in the per-packet loop
//! each would be a call. They are plain loads of `struct rte_mbuf` fields, whose layout
//! bindgen checks at compile time against the installed headers (`rte_mbuf` is 128 bytes,
//! align 64, every field at its C offset), so they are read here directly. `data` computes
//! `buf_addr + data_off`, which is what DPDK's `rte_pktmbuf_mtod` macro expands to.

use dpdk_sys::rte_mbuf;

/// The fields of one mbuf (segment) that the loop needs.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Seg {
    /// First byte of this segment's data.
    pub data: *mut u8,
    /// Bytes of data in this segment.
    pub data_len: u16,
    /// Bytes in the whole packet (first segment only).
    pub pkt_len: u32,
    /// Segments in the packet (first segment only).
    pub nb_segs: u16,
}

/// Reads `m`'s fields.
///
/// # Safety
/// `m` must point to a valid mbuf.
#[inline(always)]
pub(crate) unsafe fn seg(m: *const rte_mbuf) -> Seg {
    // SAFETY: `m` is valid (caller); these are plain field reads, and `buf_addr + data_off`
    // stays inside the mbuf's buffer, as DPDK maintains `data_off <= buf_len`.
    unsafe {
        let m = &*m;
        Seg {
            data: m.buf_addr.cast::<u8>().add(usize::from(m.data_off)),
            data_len: m.data_len,
            pkt_len: m.pkt_len,
            nb_segs: m.nb_segs,
        }
    }
}

/// `m`'s offload flags.
///
/// # Safety
/// `m` must point to a valid mbuf.
#[inline(always)]
pub(crate) unsafe fn ol_flags(m: *const rte_mbuf) -> u64 {
    // SAFETY: a field read of a valid mbuf (caller).
    unsafe { (*m).ol_flags }
}

/// The next segment of `m`'s chain, or null.
///
/// # Safety
/// `m` must point to a valid mbuf.
#[inline(always)]
pub(crate) unsafe fn next(m: *const rte_mbuf) -> *mut rte_mbuf {
    // SAFETY: a field read of a valid mbuf (caller).
    unsafe { (*m).next }
}
