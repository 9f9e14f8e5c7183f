//! Processing frames in groups, their flow state prefetched first (see [`crate::prefetch`]).

use super::Worker;
use crate::app::App;
use crate::io::Frame;
use crate::prefetch;
#[cfg(feature = "dpdk")]
use crate::wire::LinkType;
use crate::wire::flow_key_hint;

/// Frames looked at together where a source hands over a burst at once (DPDK, the
/// multi-core workers' batches): enough that their misses overlap, few enough that the lines
/// asked for (about ten per frame) are still in the L1 and L2 caches when the frame's turn
/// comes.
pub const PREFETCH_GROUP: usize = 16;

/// Stage three runs this many frames ahead of processing (multi-core workers).
pub(crate) const STAGE_THREE_LEAD: usize = 2;

/// How many frames ahead of the one being processed [`Worker::process_batch`] runs each
/// prefetch stage: one frame's processing covers a memory latency, so each stage is one frame
/// behind the one before it.
const LEAD: [usize; 3] = [3, 2, 1];

/// Frames in flight in the prefetch pipeline (a power of two above `LEAD[0]`).
const RING: usize = 4;

impl<A: App> Worker<A> {
    /// Processes `frames` exactly as [`Worker::process`] one after the other would — same
    /// events in the same order, same batch boundaries — while prefetching, a few frames
    /// ahead, the state each frame will touch (see the `prefetch` module):
    ///
    /// 1. three frames ahead: guess the flow key from the frame's first bytes, prefetch its
    ///    flow-table index entry;
    /// 2. two frames ahead: read that entry, prefetch the flow's slot header, connection
    ///    record, app state and handler bits;
    /// 3. one frame ahead: read the slot and the record, prefetch what they point to: the
    ///    slot's LRU neighbours (the LRU update rewrites them) and the buffer lines the
    ///    payload will be copied to.
    ///
    /// One stage per frame keeps a steady, small number of lines in flight rather than bursts
    /// that fill the CPU's miss buffers. The guesses only choose what to prefetch.
    pub fn process_batch<'f, I>(&mut self, frames: I)
    where
        I: IntoIterator<Item = Frame<'f>>,
        I::IntoIter: Clone,
    {
        let frames = frames.into_iter();
        let mut stage_one = frames.clone();
        let mut hashes = [None; RING];
        let mut slots = [None; RING];
        let mut issued = 0;
        // Prologue: the first frames' early stages.
        for _ in 0..LEAD[0] {
            self.stage_one(&mut stage_one, &mut hashes, issued);
            issued += 1;
        }
        for j in 0..LEAD[1] {
            slots[j % RING] = hashes[j % RING].and_then(|h| self.prefetch_flow(h));
        }
        for j in 0..LEAD[2] {
            if let Some(slot) = slots[j % RING] {
                self.prefetch_dependents(slot);
            }
        }
        for (i, frame) in frames.enumerate() {
            self.stage_one(&mut stage_one, &mut hashes, issued);
            issued += 1;
            let two = (i + LEAD[1]) % RING;
            slots[two] = hashes[two].and_then(|h| self.prefetch_flow(h));
            if let Some(slot) = slots[(i + LEAD[2]) % RING] {
                self.prefetch_dependents(slot);
            }
            self.process(frame.data, frame.ts, frame.wire_len, frame.link);
        }
    }

    /// Whether enough flows are tracked for prefetching to pay
    /// ([`Config::prefetch_min_flows`](crate::Config::prefetch_min_flows)): drivers that have
    /// several frames at hand use [`Worker::process_batch`] then, frame-by-frame processing
    /// otherwise.
    #[inline]
    pub fn prefetching(&self) -> bool {
        self.table.len() >= self.cfg.prefetch_min_flows
    }

    /// Stage one for the next frame of `ahead` (frame number `j`), its hash kept in the ring.
    #[inline(always)]
    fn stage_one<'f>(
        &self,
        ahead: &mut impl Iterator<Item = Frame<'f>>,
        hashes: &mut [Option<u64>; RING],
        j: usize,
    ) {
        let hash = ahead
            .next()
            .and_then(|f| flow_key_hint(f.link, f.data))
            .map(|key| key.hash64());
        if let Some(h) = hash {
            self.prefetch_index(h);
        }
        hashes[j % RING] = hash;
    }

    /// Stages one and two of prefetching for the first [`PREFETCH_GROUP`] of `frames` (link
    /// type and bytes), the flow keys guessed from their first bytes; the slot prefetched for
    /// each goes to `slots`.
    #[cfg(feature = "dpdk")]
    pub(crate) fn prefetch_frames<'f>(
        &self,
        frames: impl Iterator<Item = (LinkType, &'f [u8])>,
        slots: &mut [Option<usize>; PREFETCH_GROUP],
    ) {
        let mut hashes = [None; PREFETCH_GROUP];
        for (hash, (link, data)) in hashes.iter_mut().zip(frames) {
            *hash = flow_key_hint(link, data).map(|key| key.hash64());
        }
        self.prefetch_hashes(&hashes, slots);
    }

    /// Stages one and two for a group of flows named by their key hashes (`None`: no flow):
    /// every index entry first, then every flow's state, so that the group's misses overlap;
    /// the slot prefetched for each goes to `slots`.
    pub(crate) fn prefetch_hashes(&self, hashes: &[Option<u64>], slots: &mut [Option<usize>]) {
        for hash in hashes.iter().flatten() {
            self.prefetch_index(*hash);
        }
        for (hash, slot) in hashes.iter().zip(slots.iter_mut()) {
            *slot = hash.and_then(|h| self.prefetch_flow(h));
        }
    }

    /// Prefetch, stage one, for the flow whose key hashes to `hash`: its index entry.
    #[inline(always)]
    pub(crate) fn prefetch_index(&self, hash: u64) {
        self.table.prefetch_index(hash);
    }

    /// Prefetch, stage two, once stage one's line has had time to arrive: everything a packet
    /// of the flow reads, by the slot its index entry names (returned).
    #[inline(always)]
    pub(crate) fn prefetch_flow(&self, hash: u64) -> Option<usize> {
        let (slot, conn) = self.table.prefetch_slot(hash)?;
        conn.prefetch();
        prefetch::element(&self.apps, slot);
        Some(slot)
    }

    /// Prefetch, stage three, once stage two's lines have had time to arrive: what the slot
    /// and the record point to.
    #[inline(always)]
    pub(crate) fn prefetch_dependents(&self, slot: usize) {
        self.table.prefetch_links(slot);
        if let Some(conn) = self.table.value_at(slot) {
            conn.prefetch_buffers(&self.pool);
        }
    }
}
