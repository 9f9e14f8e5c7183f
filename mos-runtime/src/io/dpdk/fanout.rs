//! The software fan-out: which worker owns a packet, and the rings that carry packets there.
//!
//! Used when the ports cannot spread flows over queues themselves (no RSS: `net_pcap`,
//! `net_ring`, or fewer queues than workers). Whoever polls an rx queue classifies each packet
//! by its canonical 5-tuple — the same [`FlowKey`] the flow table uses, so both directions
//! agree — keeps its own, and enqueues the others onto the owner's ring (multi-producer,
//! single-consumer).

use std::ffi::CString;
use std::ptr::{self, NonNull};
use std::sync::atomic::{AtomicU32, Ordering};

use dpdk_sys as sys;

use super::DpdkError;
use crate::flow::key::FlowKey;
use crate::time::Timestamp;
use crate::wire::{self, LinkType};

/// The worker (in `0..workers`) that owns the connection of an Ethernet frame, or `None` for
/// a frame that is not IP or does not parse.
///
/// IP packets without ports (fragments, ICMP, other protocols) go by their address pair, so
/// every fragment of a datagram meets on one worker (a first fragment's ports are ignored for
/// that reason). The offline `cores(n)` reader places packets the same way, except that it
/// sends non-IP frames to worker 0; here they stay where they were received, saving a ring hop
/// (no flow state depends on them).
pub(crate) fn owner_of(frame: &[u8], workers: usize) -> Option<usize> {
    let wire_len = u32::try_from(frame.len()).unwrap_or(u32::MAX);
    let meta = wire::parse(LinkType::Ethernet, frame, Timestamp::ZERO, wire_len, false).ok()?;
    let ip = meta.ip?;
    let (sport, dport) = if ip.fragment {
        (0, 0)
    } else {
        meta.ports().unwrap_or((0, 0))
    };
    let (key, _) = FlowKey::new(ip.src, sport, ip.dst, dport, ip.proto);
    Some(key.shard(workers))
}

/// An `rte_ring` of mbuf pointers: any worker enqueues, one worker dequeues.
#[derive(Debug)]
pub(crate) struct Ring(NonNull<sys::rte_ring>);

// SAFETY: the ring is created multi-producer, so enqueueing from any thread is safe; dequeueing
// is single-consumer and is an `unsafe fn` whose contract names the one consumer.
unsafe impl Send for Ring {}
// SAFETY: as above.
unsafe impl Sync for Ring {}

impl Ring {
    /// A ring of `slots` (a power of two; `slots - 1` usable).
    pub(crate) fn new(slots: u32) -> Result<Ring, DpdkError> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!("mos_fan{}", NEXT.fetch_add(1, Ordering::Relaxed));
        let c_name = CString::new(name.as_str()).map_err(|e| DpdkError::msg(e.to_string()))?;
        // SAFETY: the EAL is running; DPDK copies the name.
        let ring = unsafe {
            sys::mos_rte_set_errno(0);
            sys::rte_ring_create(
                c_name.as_ptr(),
                slots,
                sys::SOCKET_ID_ANY,
                sys::RING_F_SC_DEQ,
            )
        };
        NonNull::new(ring)
            .map(Ring)
            .ok_or_else(|| DpdkError::from_rte_errno(format!("rte_ring_create({name}, {slots})")))
    }

    /// Enqueues as many of `mbufs` as fit, in order; returns how many (they now belong to the
    /// consumer).
    #[inline]
    pub(crate) fn enqueue(&self, mbufs: &[*mut sys::rte_mbuf]) -> usize {
        let n = u32::try_from(mbufs.len()).unwrap_or(u32::MAX);
        // SAFETY: the ring is live and multi-producer; the slice holds `n` pointers.
        let done = unsafe {
            sys::mos_rte_ring_enqueue_burst(
                self.0.as_ptr(),
                mbufs.as_ptr().cast(),
                n,
                ptr::null_mut(),
            )
        };
        done as usize
    }

    /// Dequeues up to `out.len()` mbufs; returns how many.
    ///
    /// # Safety
    /// Only one thread may dequeue from a ring (it is single-consumer): the run gives each
    /// ring's consumer end to exactly one worker.
    #[inline]
    pub(crate) unsafe fn dequeue(&self, out: &mut [*mut sys::rte_mbuf]) -> usize {
        let n = u32::try_from(out.len()).unwrap_or(u32::MAX);
        // SAFETY: the ring is live; `out` has room for `n` pointers; single consumer (caller).
        let done = unsafe {
            sys::mos_rte_ring_dequeue_burst(
                self.0.as_ptr(),
                out.as_mut_ptr().cast(),
                n,
                ptr::null_mut(),
            )
        };
        done as usize
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        // A run drains every ring before its workers exit; anything left here would be a bug,
        // but it must still go back to the pool rather than leak.
        let mut left = [ptr::null_mut::<sys::rte_mbuf>(); 64];
        loop {
            // SAFETY: every worker has exited, so this is the only consumer.
            let n = unsafe { self.dequeue(&mut left) };
            if n == 0 {
                break;
            }
            // SAFETY: the ring held the only reference to these mbufs.
            unsafe { sys::rte_pktmbuf_free_bulk(left.as_mut_ptr(), n as u32) };
        }
        // SAFETY: the ring is empty and nobody uses it any more.
        unsafe { sys::rte_ring_free(self.0.as_ptr()) };
    }
}
