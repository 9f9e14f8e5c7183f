//! Fixed-size byte regions for receive buffers, carved out of one allocation.
//!
//! Every receive side of every connection could need a buffer, but most never carry payload
//! (pure ACK directions, handshakes that go nowhere) and most that do are idle most of the
//! time. So the pool makes one `vec![0u8; count * region_size]` at start-up: a zeroed
//! allocation of that size is served by fresh anonymous pages that the OS commits only when
//! first written, so the whole reservation costs address space, and resident memory grows
//! only with the regions actually written to. Acquiring a region touches none of its bytes.
//!
//! Regions are not laid end to end: each is followed by one cache line of padding
//! ([`REGION_PAD`]). Region sizes are powers of two (64 KiB by default), and nearly every
//! write lands in a region's first kilobytes (a side's region is released once drained, and
//! the next payload starts again at its front), so without the padding the front lines of
//! every region would fall into the same few sets of each cache, whose handful of ways the
//! few dozen regions in use at once would fight over, evicting each other on every batch.
//! With it, region `i`'s front starts `i` lines further round the sets.
//!
//! Regions are handed out as [`RegionId`] indices from a free stack built at construction;
//! acquire and release are O(1) and never allocate. A region is not cleared on release: its
//! owner (a [`StreamBuf`](super::StreamBuf)) tracks which of its bytes are valid.
//!
//! Double release is detected with a per-region "in use" bit in every build: the second
//! release of an id (or the release of an id this pool never handed out) is ignored, counted
//! in [`BufferPool::invalid_releases`] and reported by `release` returning `false`, so the
//! free stack can never hold an id twice.

use core::fmt;

/// Bytes of padding after each region: one cache line, so that regions do not start at
/// addresses a power of two apart (see the [module docs](self)).
pub const REGION_PAD: usize = 64;

/// Handle to one region of a [`BufferPool`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RegionId(u32);

impl RegionId {
    /// The region's index in its pool (0-based).
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// Why a pool configuration was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolConfigError {
    /// `count` was 0.
    ZeroCount,
    /// `region_size` was 0.
    ZeroRegionSize,
    /// `count * region_size` does not fit in memory (`isize::MAX`), or `count` does not fit
    /// a [`RegionId`] (`u32`), or `region_size` exceeds `u32::MAX`.
    TooLarge,
    /// The system refused to reserve `bytes` bytes of address space.
    AllocationFailed {
        /// The size asked for.
        bytes: usize,
    },
}

impl fmt::Display for PoolConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PoolConfigError::ZeroCount => f.write_str("buffer pool: region count must be > 0"),
            PoolConfigError::ZeroRegionSize => f.write_str("buffer pool: region size must be > 0"),
            PoolConfigError::TooLarge => f.write_str(
                "buffer pool: count * region size is too large (or count > 2^32 - 1, \
                 or region size > 2^32 - 1)",
            ),
            PoolConfigError::AllocationFailed { bytes } => {
                write!(f, "buffer pool: cannot reserve {bytes} bytes")
            }
        }
    }
}

impl std::error::Error for PoolConfigError {}

/// `count` regions of `region_size` bytes in one lazily committed allocation.
pub struct BufferPool {
    storage: Vec<u8>,
    region_size: usize,
    /// Distance between region starts: `region_size` rounded up to a cache line, plus
    /// [`REGION_PAD`].
    stride: usize,
    count: usize,
    /// Ids ready to hand out; capacity `count`, never grows.
    free: Vec<u32>,
    /// One bit per region: set while acquired.
    in_use_bits: Vec<u64>,
    peak_in_use: usize,
    invalid_releases: u64,
}

impl fmt::Debug for BufferPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not the bytes: they are megabytes of uninteresting data.
        f.debug_struct("BufferPool")
            .field("count", &self.count)
            .field("region_size", &self.region_size)
            .field("in_use", &self.in_use())
            .field("peak_in_use", &self.peak_in_use)
            .field("invalid_releases", &self.invalid_releases)
            .finish()
    }
}

impl BufferPool {
    /// A pool of `count` regions of `region_size` bytes each.
    ///
    /// This is the only allocation the pool ever makes (plus `count` ids and `count` bits of
    /// bookkeeping). Rejects zero sizes, totals that overflow, and totals the system will not
    /// reserve.
    pub fn new(count: usize, region_size: usize) -> Result<BufferPool, PoolConfigError> {
        let (stride, total) = Self::layout(count, region_size)?;
        // `vec![0; n]` aborts the process when the allocation fails; ask first with a
        // fallible reservation of the same size (never written, so never committed).
        let mut probe: Vec<u8> = Vec::new();
        probe
            .try_reserve_exact(total)
            .map_err(|_| PoolConfigError::AllocationFailed { bytes: total })?;
        drop(probe);
        // Zeroed: the allocator maps fresh pages, which the OS commits on first write.
        let storage = vec![0u8; total];
        // Pop order 0, 1, 2, …: the ids are pushed in reverse.
        let free: Vec<u32> = (0..count)
            .rev()
            .filter_map(|i| u32::try_from(i).ok())
            .collect();
        let in_use_bits = vec![0u64; count.div_ceil(64)];
        Ok(BufferPool {
            storage,
            region_size,
            stride,
            count,
            free,
            in_use_bits,
            peak_in_use: 0,
            invalid_releases: 0,
        })
    }

    /// The bytes of address space a pool of `count` regions of `region_size` bytes reserves
    /// (each region with its [`REGION_PAD`]), or why [`new`](Self::new) would refuse it.
    pub fn reservation(count: usize, region_size: usize) -> Result<usize, PoolConfigError> {
        Self::layout(count, region_size).map(|(_, total)| total)
    }

    /// The distance between region starts and the total size, checked.
    fn layout(count: usize, region_size: usize) -> Result<(usize, usize), PoolConfigError> {
        if count == 0 {
            return Err(PoolConfigError::ZeroCount);
        }
        if region_size == 0 {
            return Err(PoolConfigError::ZeroRegionSize);
        }
        if u32::try_from(count).is_err() || u32::try_from(region_size).is_err() {
            return Err(PoolConfigError::TooLarge);
        }
        let stride = region_size
            .checked_next_multiple_of(REGION_PAD)
            .and_then(|size| size.checked_add(REGION_PAD))
            .ok_or(PoolConfigError::TooLarge)?;
        let total = count
            .checked_mul(stride)
            .filter(|&t| isize::try_from(t).is_ok())
            .ok_or(PoolConfigError::TooLarge)?;
        Ok((stride, total))
    }

    /// Takes a free region; `None` when all are in use. Does not touch the region's bytes.
    pub fn acquire(&mut self) -> Option<RegionId> {
        let id = self.free.pop()?;
        let (word, bit) = Self::bit(id);
        if let Some(w) = self.in_use_bits.get_mut(word) {
            *w |= bit;
        }
        self.peak_in_use = self.peak_in_use.max(self.in_use());
        Some(RegionId(id))
    }

    /// Returns a region to the pool. Returns `false` (and changes nothing but the
    /// [`invalid_releases`](Self::invalid_releases) counter) if `id` is not currently
    /// acquired: a double release, or an id from another pool.
    pub fn release(&mut self, id: RegionId) -> bool {
        let (word, bit) = Self::bit(id.0);
        match self.in_use_bits.get_mut(word) {
            Some(w) if *w & bit != 0 && id.index() < self.count => {
                *w &= !bit;
                // Cannot exceed the capacity reserved at construction: at most `count` ids
                // are ever free, and this one was not.
                self.free.push(id.0);
                true
            }
            _ => {
                self.invalid_releases += 1;
                false
            }
        }
    }

    /// The bytes of a region (`region_size` of them). An id this pool never handed out gives
    /// an empty slice.
    pub fn region(&self, id: RegionId) -> &[u8] {
        let start = id.index().saturating_mul(self.stride);
        self.storage
            .get(start..start.saturating_add(self.region_size))
            .unwrap_or(&[])
    }

    /// The bytes of a region, writable. An id this pool never handed out gives an empty slice.
    pub fn region_mut(&mut self, id: RegionId) -> &mut [u8] {
        let start = id.index().saturating_mul(self.stride);
        let end = start.saturating_add(self.region_size);
        self.storage.get_mut(start..end).unwrap_or(&mut [])
    }

    /// Regions currently acquired.
    pub fn in_use(&self) -> usize {
        self.count - self.free.len()
    }

    /// The most regions ever acquired at the same time.
    pub fn peak_in_use(&self) -> usize {
        self.peak_in_use
    }

    /// Total number of regions.
    pub fn capacity(&self) -> usize {
        self.count
    }

    /// Bytes per region.
    pub fn region_size(&self) -> usize {
        self.region_size
    }

    /// Releases that were refused (double release or foreign id).
    pub fn invalid_releases(&self) -> u64 {
        self.invalid_releases
    }

    fn bit(id: u32) -> (usize, u64) {
        ((id / 64) as usize, 1u64 << (id % 64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_configs() {
        assert_eq!(
            BufferPool::new(0, 1024).err(),
            Some(PoolConfigError::ZeroCount)
        );
        assert_eq!(
            BufferPool::new(4, 0).err(),
            Some(PoolConfigError::ZeroRegionSize)
        );
        // Fits the types, not the machine: a clean error, not an abort.
        assert_eq!(
            BufferPool::new(1 << 31, 1 << 31).err(),
            Some(PoolConfigError::AllocationFailed {
                bytes: (1 << 31) * ((1 << 31) + REGION_PAD)
            })
        );
        assert_eq!(
            BufferPool::new(usize::MAX, 2).err(),
            Some(PoolConfigError::TooLarge)
        );
        assert_eq!(
            BufferPool::new(1, (u32::MAX as usize) + 1).err(),
            Some(PoolConfigError::TooLarge)
        );
        assert!(PoolConfigError::TooLarge.to_string().contains("too large"));
    }

    #[test]
    fn regions_are_disjoint_and_not_a_power_of_two_apart() {
        let mut pool = BufferPool::new(4, 4096).expect("pool");
        assert_eq!(
            BufferPool::reservation(4, 4096),
            Ok(4 * (4096 + REGION_PAD))
        );
        let ids: Vec<RegionId> = (0..4).map(|_| pool.acquire().expect("region")).collect();
        for (i, id) in ids.iter().enumerate() {
            let region = pool.region_mut(*id);
            assert_eq!(region.len(), 4096);
            region.fill(i as u8 + 1);
        }
        let starts: Vec<usize> = ids
            .iter()
            .map(|id| pool.region(*id).as_ptr() as usize)
            .collect();
        for (i, id) in ids.iter().enumerate() {
            // Every byte is still its writer's: no region overlaps another.
            assert!(pool.region(*id).iter().all(|b| *b == i as u8 + 1));
        }
        for pair in starts.windows(2) {
            let apart = pair[1] - pair[0];
            assert_eq!(apart, 4096 + REGION_PAD);
            // Consecutive fronts fall into different cache sets of any power-of-two geometry.
            assert_ne!(apart % 4096, 0);
        }
        // Sizes that are not a multiple of a line are rounded up, then padded.
        assert_eq!(BufferPool::reservation(2, 100), Ok(2 * (128 + REGION_PAD)));
        assert_eq!(
            BufferPool::reservation(2, usize::MAX >> 1),
            Err(PoolConfigError::TooLarge)
        );
    }

    #[test]
    fn exhaustion_and_reuse() {
        let mut pool = BufferPool::new(3, 16).expect("pool");
        assert_eq!(pool.capacity(), 3);
        assert_eq!(pool.region_size(), 16);
        let a = pool.acquire().expect("a");
        let b = pool.acquire().expect("b");
        let c = pool.acquire().expect("c");
        assert_eq!((a.index(), b.index(), c.index()), (0, 1, 2));
        assert_eq!(pool.acquire(), None);
        assert_eq!(pool.in_use(), 3);
        assert!(pool.release(b));
        assert_eq!(pool.in_use(), 2);
        assert_eq!(pool.acquire(), Some(b));
        assert!(pool.release(a));
        assert!(pool.release(c));
        assert!(pool.release(b));
        assert_eq!(pool.in_use(), 0);
        assert_eq!(pool.peak_in_use(), 3);
        // All three come back, each once.
        let mut ids: Vec<usize> = (0..3)
            .filter_map(|_| pool.acquire())
            .map(|r| r.index())
            .collect();
        ids.sort_unstable();
        assert_eq!(ids, vec![0, 1, 2]);
        assert_eq!(pool.acquire(), None);
    }

    #[test]
    fn regions_are_disjoint() {
        let mut pool = BufferPool::new(4, 8).expect("pool");
        let ids: Vec<RegionId> = (0..4).filter_map(|_| pool.acquire()).collect();
        for (i, &id) in ids.iter().enumerate() {
            pool.region_mut(id).fill(i as u8 + 1);
        }
        for (i, &id) in ids.iter().enumerate() {
            assert_eq!(pool.region(id), &[i as u8 + 1; 8]);
        }
    }

    #[test]
    fn double_release_is_refused() {
        let mut pool = BufferPool::new(2, 8).expect("pool");
        let a = pool.acquire().expect("a");
        assert!(pool.release(a));
        assert!(!pool.release(a));
        assert_eq!(pool.invalid_releases(), 1);
        assert_eq!(pool.in_use(), 0);
        // The free stack still holds each id once: two acquisitions, then empty.
        let x = pool.acquire().expect("x");
        let y = pool.acquire().expect("y");
        assert_ne!(x, y);
        assert_eq!(pool.acquire(), None);
        // An id from a bigger pool is refused too, and reads as empty.
        let mut big = BufferPool::new(100, 8).expect("big");
        let foreign = (0..100)
            .filter_map(|_| big.acquire())
            .last()
            .expect("foreign");
        assert!(!pool.release(foreign));
        assert_eq!(pool.invalid_releases(), 2);
        assert!(pool.region(foreign).is_empty());
        assert!(pool.region_mut(foreign).is_empty());
    }

    /// Resident memory (Linux): a big pool costs nothing until regions are written.
    ///
    /// RSS is per process and other tests allocate concurrently, so the measurement runs
    /// alone in a child process (this test binary, filtered to the ignored test below).
    #[cfg(target_os = "linux")]
    #[test]
    fn lazy_commit() {
        let exe = std::env::current_exe().expect("test binary");
        let path = module_path!()
            .split_once("::")
            .map_or(module_path!(), |(_, rest)| rest);
        let name = format!("{path}::lazy_commit_measure");
        let out = std::process::Command::new(exe)
            .args([
                name.as_str(),
                "--exact",
                "--ignored",
                "--test-threads=1",
                "--nocapture",
            ])
            .output()
            .expect("run child test");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "child failed:\n{stdout}\n{stderr}");
        assert!(
            stdout.contains("1 passed"),
            "child did not run the measurement:\n{stdout}"
        );
    }

    /// The measurement behind [`lazy_commit`]; meaningful only alone in its process.
    #[cfg(target_os = "linux")]
    #[test]
    #[ignore = "run by lazy_commit in a child process"]
    fn lazy_commit_measure() {
        fn rss_kib() -> u64 {
            let status = std::fs::read_to_string("/proc/self/status").expect("status");
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
                .expect("VmRSS")
        }
        const MIB: u64 = 1024; // in KiB
        let before = rss_kib();
        let mut pool = BufferPool::new(1024, 256 * 1024).expect("256 MiB pool");
        let ids: Vec<RegionId> = (0..1024).filter_map(|_| pool.acquire()).collect();
        assert_eq!(ids.len(), 1024);
        let idle = rss_kib();
        assert!(
            idle.saturating_sub(before) < 4 * MIB,
            "idle pool committed: {before} -> {idle} KiB"
        );
        // Writing 64 regions (16 MiB) commits about that much, and not the rest.
        for &id in &ids[..64] {
            pool.region_mut(id).fill(0xA5);
        }
        let used = rss_kib();
        let grown = used.saturating_sub(idle);
        assert!(
            (15 * MIB..20 * MIB).contains(&grown),
            "{idle} -> {used} KiB"
        );
        for &id in &ids {
            pool.release(id);
        }
        assert_eq!(pool.in_use(), 0);
    }
}
