//! The packet-buffer pool a run receives into.

use std::ffi::CString;
use std::fmt;
use std::ptr::NonNull;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use dpdk_sys as sys;

use super::{DpdkError, eal};

/// Largest per-lcore cache DPDK accepts (`RTE_MEMPOOL_CACHE_MAX_SIZE`).
const CACHE_MAX: u32 = 512;

/// A pool of packet mbufs (`rte_pktmbuf_pool_create`), each with DPDK's default data room
/// (2048 bytes after a 128-byte headroom; larger frames arrive as chains of mbufs).
///
/// Cloning shares the pool; the last clone frees it. A run makes its own unless
/// [`super::DpdkConfig::mempool`] gives one, which is how a caller can check that a run
/// returned every mbuf: [`Mempool::in_use`] before and after.
#[derive(Clone)]
pub struct Mempool {
    inner: Arc<PoolPtr>,
}

struct PoolPtr(NonNull<sys::rte_mempool>);

// SAFETY: a DPDK mempool is built for concurrent use from many lcores (its get/put paths are
// lock-free rings plus per-lcore caches); the pointer itself is only freed in Drop, once.
unsafe impl Send for PoolPtr {}
// SAFETY: as above; the shared reads (counts) are documented as thread-safe.
unsafe impl Sync for PoolPtr {}

impl Drop for PoolPtr {
    fn drop(&mut self) {
        // SAFETY: the last reference is gone: no port of a run still uses the pool (runs keep a
        // clone until their ports are stopped and closed), and no mbuf of it is referenced by
        // this crate any more.
        unsafe { sys::rte_mempool_free(self.0.as_ptr()) }
    }
}

impl Mempool {
    /// A pool of `mbufs` packet buffers (`2^k - 1` is the most memory-efficient size) with a
    /// per-lcore cache of up to `cache` (clamped to what DPDK accepts: at most 512 and two
    /// thirds of the pool). The EAL must be running ([`super::init_eal`]).
    pub fn new(mbufs: u32, cache: u32) -> Result<Mempool, DpdkError> {
        eal::running()?;
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!("mos_pool{}", NEXT.fetch_add(1, Ordering::Relaxed));
        let c_name = CString::new(name.as_str()).map_err(|e| DpdkError::msg(e.to_string()))?;
        let cache = cache.min(CACHE_MAX).min(mbufs / 3 * 2);
        let data_room = u16::try_from(sys::RTE_MBUF_DEFAULT_BUF_SIZE)
            .map_err(|_| DpdkError::msg("RTE_MBUF_DEFAULT_BUF_SIZE does not fit u16"))?;
        // SAFETY: the EAL is running; the name is a valid C string that DPDK copies.
        let mp = unsafe {
            sys::mos_rte_set_errno(0);
            sys::rte_pktmbuf_pool_create(
                c_name.as_ptr(),
                mbufs,
                cache,
                0,
                data_room,
                sys::SOCKET_ID_ANY,
            )
        };
        let mp = NonNull::new(mp).ok_or_else(|| {
            DpdkError::from_rte_errno(format!(
                "rte_pktmbuf_pool_create({name}, {mbufs} mbufs, cache {cache})"
            ))
        })?;
        Ok(Mempool {
            inner: Arc::new(PoolPtr(mp)),
        })
    }

    /// Mbufs currently allocated (received and not yet freed or sent, or held by a driver's
    /// rx ring). Exact: mbufs parked in the per-lcore caches count as available.
    pub fn in_use(&self) -> u32 {
        // SAFETY: the pool is live while `self` is.
        unsafe { sys::rte_mempool_in_use_count(self.as_ptr()) }
    }

    /// Mbufs free in the pool, caches included.
    pub fn available(&self) -> u32 {
        // SAFETY: the pool is live while `self` is.
        unsafe { sys::rte_mempool_avail_count(self.as_ptr()) }
    }

    /// Mbufs the pool was made with.
    pub fn capacity(&self) -> u32 {
        // SAFETY: the pool is live; `size` is set at creation and never changes.
        unsafe { (*self.as_ptr()).size }
    }

    /// The DPDK pool, for code that drives DPDK directly next to a run (tests and benchmarks
    /// that put packets into a port before the run reads them). Valid while `self` lives.
    pub fn as_raw(&self) -> *mut sys::rte_mempool {
        self.inner.0.as_ptr()
    }

    pub(crate) fn as_ptr(&self) -> *mut sys::rte_mempool {
        self.as_raw()
    }
}

impl fmt::Debug for Mempool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mempool")
            .field("capacity", &self.capacity())
            .field("in_use", &self.in_use())
            .finish()
    }
}
