//! Processing frames in groups, their flow state prefetched first (see [`crate::prefetch`]).

use super::Worker;
use crate::app::App;
use crate::io::Frame;
use crate::prefetch;
use crate::wire::{LinkType, flow_key_hint};

/// Frames looked at together: enough that their misses overlap, few enough that the lines
/// asked for (about ten per frame) are still in the L1 and L2 caches when the frame's turn
/// comes.
pub const PREFETCH_GROUP: usize = 16;

impl<A: App> Worker<A> {
    /// Processes `frames` exactly as [`Worker::process`] one after the other would — same
    /// events in the same order, same batch boundaries — but in groups of
    /// [`PREFETCH_GROUP`]: each group's flow keys are guessed from the frames' first bytes and
    /// their flow-table index entries prefetched, then the flows' slots, connection records,
    /// app states and handler bits, and only then are the frames processed, by which time
    /// those lines have arrived. The guesses only choose what to prefetch.
    pub fn process_batch<'f, I>(&mut self, frames: I)
    where
        I: IntoIterator<Item = Frame<'f>>,
        I::IntoIter: Clone,
    {
        let mut frames = frames.into_iter();
        loop {
            let group = frames.clone().take(PREFETCH_GROUP);
            let n = self.prefetch_frames(group.map(|f| (f.link, f.data)));
            if n == 0 {
                return;
            }
            for frame in frames.by_ref().take(n) {
                self.process(frame.data, frame.ts, frame.wire_len, frame.link);
            }
        }
    }

    /// Stages one and two of prefetching for the first [`PREFETCH_GROUP`] of `frames` (link
    /// type and bytes); returns how many it looked at.
    pub(crate) fn prefetch_frames<'f>(
        &self,
        frames: impl Iterator<Item = (LinkType, &'f [u8])> + Clone,
    ) -> usize {
        let mut hashes = [None; PREFETCH_GROUP];
        let mut n = 0;
        for (hash, (link, data)) in hashes.iter_mut().zip(frames) {
            *hash = flow_key_hint(link, data).map(|key| key.hash64());
            if let Some(h) = *hash {
                self.prefetch_index(h);
            }
            n += 1;
        }
        for hash in hashes.iter().take(n).flatten() {
            self.prefetch_flow(*hash);
        }
        n
    }

    /// Prefetch, stage one, for the flow whose key hashes to `hash`: its index entry.
    #[inline(always)]
    pub(crate) fn prefetch_index(&self, hash: u64) {
        self.table.prefetch_index(hash);
    }

    /// Prefetch, stage two, once stage one's line has had time to arrive: everything a packet
    /// of the flow reads, by the slot its index entry names.
    #[inline(always)]
    pub(crate) fn prefetch_flow(&self, hash: u64) {
        if let Some((slot, conn)) = self.table.prefetch_slot(hash) {
            conn.prefetch();
            if let Some(flow) = self.flows.get(slot) {
                prefetch::line(flow);
            }
            if let Some(bits) = self.enabled.get(slot) {
                prefetch::line(bits);
            }
        }
    }
}
