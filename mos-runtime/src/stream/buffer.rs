//! One side's receive buffer: the bytes the peer sent, reassembled in stream order.
//!
//! # Offsets
//!
//! Positions are 64-bit *stream offsets* (0 = the first byte after the peer's ISN), which do
//! not wrap; the engine converts sequence numbers with
//! [`SeqNum::stream_offset`](crate::tcp::seq::SeqNum::stream_offset).
//!
//! # Layout: a linear window over one pool region
//!
//! A [`StreamBuf`] is metadata only (no heap, under 480 bytes). Its bytes live in one region
//! of a [`BufferPool`], acquired on the first payload and returned by [`StreamBuf::release`];
//! a buffer must always be used with the same pool. The region is *linear*, not a ring:
//! region byte `i` holds stream offset `origin + i`, so the unread bytes are always one
//! contiguous slice and [`peek`](StreamBuf::peek) needs no copy. The offsets the buffer knows
//! about are ordered
//!
//! ```text
//! origin <= base <= read <= contig_end            fragments (out of order)
//!    |  dead  | consumed |   unread   |  hole  | frag |  hole  | frag |
//! ```
//!
//! * `[base, read)`: bytes already consumed, kept only to compare retransmissions against
//!   (conflict detection) and for [`peek_at`](StreamBuf::peek_at).
//! * `[read, contig_end)`: unread in-order bytes, what [`peek`](StreamBuf::peek) returns.
//! * fragments: sorted, disjoint, non-adjacent runs of received bytes above `contig_end`, at
//!   most `max_holes` of them (each one is preceded by a hole). A fragment's start doubles as
//!   the "held segment start" of the start-based overlap policies (see [`OverlapPolicy`]).
//!
//! Compaction is lazy: reading only moves `read`. When a write needs room past
//! `origin + region_size`, the buffer first drops the consumed bytes (moves `[read, held end)`
//! to the region start: `origin = base = read`); only if that is still not enough are the
//! oldest *unread* bytes discarded (counted in [`WriteOutcome::overwritten_unread`] and
//! [`StreamBuf::lost_unread`]; the engine asks [`StreamBuf::unread_overwrite_needed`] first so
//! that it can raise `ON_ERROR(BufferFull)` while the bytes are still readable). Segment
//! bytes that end up below `base` after compaction are ignored (`below_base`), not compared.
//!
//! The furthest a segment can reach is `contig_end + region_size`: everything unread could be
//! discarded, but the hole at `contig_end` must stay in the region. A segment ending beyond
//! that is cut there (`out_of_window`), and storing the part that fits may discard every
//! unread byte; a segment starting beyond it is not stored and discards nothing. The engine
//! normally rejects such segments first with its own receive-window check.
//!
//! # Gaps
//!
//! A monitor on a lossy tap may never see some bytes. When the peer acknowledges past a hole,
//! the engine calls [`skip_to`](StreamBuf::skip_to): `contig_end` jumps over the hole (and
//! over the fragments that become contiguous), the hole's length is counted in
//! [`missed`](StreamBuf::missed), and the hole becomes a *gap*: a range below `contig_end`
//! with no bytes. Gaps are never returned as data:
//!
//! * if nothing is unread before the hole, `read` (and `base`) simply jump over it;
//! * otherwise the gap is recorded, [`peek`](StreamBuf::peek) stops at it, and the read
//!   cursor jumps over it when the bytes before it are consumed; [`consume`](StreamBuf::consume)
//!   counts real bytes only and crosses gaps. [`unread_len`](StreamBuf::unread_len) counts
//!   all real unread bytes, so it can exceed `peek().len()` while a gap is pending.
//!
//! Either way, jumping a gap moves `base` to the gap's end: consumed bytes are kept only while
//! they are contiguous with the read cursor.
//!
//! At most [`MAX_GAPS`] gaps are pending; if a skip needs one more, the unread bytes before
//! the oldest gap are discarded (counted in [`lost_unread`](StreamBuf::lost_unread)) and the
//! cursor moves past it. Bytes that arrive later for a gap are dropped (the stream has moved
//! on), though [`received_before`](StreamBuf::received_before) reports them as seen: the
//! peer acknowledged them, so whoever sends them again is retransmitting.
//!
//! # Without a region
//!
//! A buffer that has no region (before its first payload, after [`release`](StreamBuf::release),
//! or when the pool was empty) still tracks offsets: [`received_before`](StreamBuf::received_before),
//! [`skip_to`](StreamBuf::skip_to), [`contig_end`](StreamBuf::contig_end) and the counters work;
//! [`peek`](StreamBuf::peek) is empty. When the app turns buffering off for a side, the engine
//! releases the region and stops calling [`write`](StreamBuf::write) (which would acquire a
//! region again).
//!
//! # Cost
//!
//! `write`, `peek`, `consume` and `skip_to` never allocate; their work is a copy of the
//! segment, at most one `memmove` of the held bytes (compaction), and loops over the fixed
//! fragment and gap arrays.

use super::overlap::OverlapPolicy;
use super::pool::{BufferPool, RegionId};

/// Most out-of-order fragments (holes) a buffer can track; `max_holes` is at most this.
pub const MAX_FRAGMENTS: usize = 16;

/// Most skipped gaps that can be pending inside the unread bytes (see the module docs).
pub const MAX_GAPS: usize = 8;

/// A half-open range of stream offsets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Span {
    start: u64,
    end: u64,
}

impl Span {
    const EMPTY: Span = Span { start: 0, end: 0 };
}

/// What one [`StreamBuf::write`] did. Every byte of the segment is either new, overlapping,
/// below `base`, beyond the window (`out_of_window`), refused (`too_many_holes`,
/// `no_buffer`), or in a skipped gap (dropped and counted nowhere: the stream moved past it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WriteOutcome {
    /// Bytes stored that were not held before.
    pub new_bytes: u32,
    /// How far `contig_end` moved (the new in-order bytes, including fragments that became
    /// contiguous).
    pub advanced: u32,
    /// Bytes of the segment that fell on bytes already held (consumed-but-kept, unread, or
    /// in a fragment), whichever copy was kept.
    pub overlap_bytes: u32,
    /// At least one overlapping byte differed from the held copy.
    pub conflict: bool,
    /// Bytes of the segment below `base` (consumed and dropped): ignored, not compared.
    pub below_base: u32,
    /// Unread bytes discarded to make room for this segment.
    pub overwritten_unread: u64,
    /// Nothing was stored: the segment would have needed a fragment beyond `max_holes`.
    pub too_many_holes: bool,
    /// The segment ends beyond `contig_end + region_size`, where it cannot fit even with all
    /// unread bytes discarded (the hole before it must stay); only the part below that limit
    /// was considered.
    pub out_of_window: bool,
    /// Nothing was stored: the buffer had no region and the pool was empty.
    pub no_buffer: bool,
}

/// What a write must do before storing (shared by `write` and `unread_overwrite_needed`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Room {
    /// The bytes fit in the region as it is.
    Fits,
    /// Dropping the consumed bytes makes enough room.
    Compact,
    /// The unread bytes below this offset must be discarded, then compact.
    Discard(u64),
}

#[derive(Clone, Copy, Debug)]
struct Plan {
    /// End of the part of the segment that is considered (clipped at the window limit).
    end: u64,
    out_of_window: bool,
    too_many_holes: bool,
    /// Something is to be compared or stored.
    store: bool,
    room: Room,
}

/// Per-side reassembly state; see the module documentation for the model.
///
/// `repr(C)` keeps the fields every segment reads in the first 80 bytes and the fragment and
/// gap tables, read only when there are holes, after them: the hot part is what
/// `StreamBuf::prefetch` brings in.
#[derive(Debug)]
#[repr(C)]
pub struct StreamBuf {
    region: Option<RegionId>,
    /// Stream offset of region byte 0.
    origin: u64,
    base: u64,
    read: u64,
    contig_end: u64,
    missed: u64,
    lost_unread: u64,
    nfrags: u8,
    ngaps: u8,
    max_holes: u8,
    policy: OverlapPolicy,
    frags: [Span; MAX_FRAGMENTS],
    /// Pending gaps, all in `(read, contig_end]`: sorted, disjoint, non-adjacent, and the
    /// first one starts strictly after `read`.
    gaps: [Span; MAX_GAPS],
}

// The fields every segment reads fit one cache line, ahead of the hole tables.
const _: () = assert!(std::mem::offset_of!(StreamBuf, frags) <= 64);

fn sat32(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

/// A region index or slice position; out-of-range values fail the slice lookup instead of
/// wrapping.
fn idx(v: u64) -> usize {
    usize::try_from(v).unwrap_or(usize::MAX)
}

/// One write in progress: the region, the segment, and the outcome being filled in.
struct Apply<'a> {
    buf: &'a mut [u8],
    origin: u64,
    data: &'a [u8],
    offset: u64,
    out: WriteOutcome,
}

impl Apply<'_> {
    /// The region bytes and the segment bytes for `[a, b)` (both inside, by the buffer's
    /// invariants; a violation skips the range instead of panicking).
    fn ranges(&mut self, a: u64, b: u64) -> Option<(&mut [u8], &[u8])> {
        let held = self.buf.get_mut(idx(a - self.origin)..idx(b - self.origin));
        let new = self.data.get(idx(a - self.offset)..idx(b - self.offset));
        let pair = held.zip(new);
        debug_assert!(pair.is_some(), "range [{a}, {b}) outside region or segment");
        pair
    }

    /// Compares the held bytes `[a, b)` with the segment's copy; keeps the new one if
    /// `new_wins`.
    fn resolve(&mut self, a: u64, b: u64, new_wins: bool) {
        let Some((held, new)) = self.ranges(a, b) else {
            return;
        };
        let conflict = held != new;
        if conflict && new_wins {
            held.copy_from_slice(new);
        }
        self.out.conflict |= conflict;
        self.out.overlap_bytes = self.out.overlap_bytes.saturating_add(sat32(b - a));
    }

    /// Stores the segment's bytes `[a, b)` (not held before).
    fn store(&mut self, a: u64, b: u64) {
        let Some((dst, src)) = self.ranges(a, b) else {
            return;
        };
        dst.copy_from_slice(src);
        self.out.new_bytes = self.out.new_bytes.saturating_add(sat32(b - a));
    }
}

impl StreamBuf {
    /// An empty buffer at offset 0, with no region yet. `max_holes` (clamped to
    /// [`MAX_FRAGMENTS`]) bounds the out-of-order fragments it keeps.
    pub fn new(max_holes: usize, policy: OverlapPolicy) -> StreamBuf {
        StreamBuf {
            region: None,
            origin: 0,
            base: 0,
            read: 0,
            contig_end: 0,
            frags: [Span::EMPTY; MAX_FRAGMENTS],
            nfrags: 0,
            gaps: [Span::EMPTY; MAX_GAPS],
            ngaps: 0,
            max_holes: max_holes.min(MAX_FRAGMENTS) as u8,
            policy,
            missed: 0,
            lost_unread: 0,
        }
    }

    /// Fragments held (at most [`MAX_FRAGMENTS`]).
    #[inline]
    fn nfrags(&self) -> usize {
        usize::from(self.nfrags)
    }

    /// Pending gaps (at most [`MAX_GAPS`]).
    #[inline]
    fn ngaps(&self) -> usize {
        usize::from(self.ngaps)
    }

    /// Asks for the cache line of the fields every write and read uses (see
    /// [`crate::prefetch`]).
    #[inline(always)]
    pub(crate) fn prefetch(&self) {
        crate::prefetch::line(self);
    }

    /// Asks for the line of the region where the next in-order bytes go (the copy of a
    /// segment's payload writes there).
    #[inline(always)]
    pub(crate) fn prefetch_write_position(&self, pool: &BufferPool) {
        if let Some(region) = self.region {
            let at = idx(self.contig_end.saturating_sub(self.origin));
            if let Some(byte) = pool.region(region).get(at) {
                crate::prefetch::line(byte);
            }
        }
    }

    /// Changes the overlap policy for the following writes.
    pub fn set_policy(&mut self, policy: OverlapPolicy) {
        self.policy = policy;
    }

    /// The overlap policy.
    pub fn policy(&self) -> OverlapPolicy {
        self.policy
    }

    /// The hole limit set at construction.
    pub fn max_holes(&self) -> usize {
        usize::from(self.max_holes)
    }

    /// Whether a pool region is attached.
    pub fn has_region(&self) -> bool {
        self.region.is_some()
    }

    /// Lowest offset still held (consumed bytes from here on are kept for comparison).
    pub fn base(&self) -> u64 {
        self.base
    }

    /// The read cursor: offset of the next unread byte.
    pub fn read_offset(&self) -> u64 {
        self.read
    }

    /// End of the in-order data: every offset below it was received (or skipped).
    pub fn contig_end(&self) -> u64 {
        self.contig_end
    }

    /// Real unread bytes (gaps excluded); can exceed `peek().len()` while a gap is pending.
    pub fn unread_len(&self) -> usize {
        idx(self.real_bytes_between(self.read, self.contig_end))
    }

    /// Bytes skipped by [`skip_to`](Self::skip_to)/[`skip_all_holes`](Self::skip_all_holes)
    /// that were never received.
    pub fn missed(&self) -> u64 {
        self.missed
    }

    /// Unread bytes discarded before anyone consumed them (to make room, or to free a gap
    /// slot).
    pub fn lost_unread(&self) -> u64 {
        self.lost_unread
    }

    /// The out-of-order fragments `(start, end)`, ascending.
    pub fn fragments(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.frags[..self.nfrags()].iter().map(|f| (f.start, f.end))
    }

    /// The pending gaps `(start, end)` inside the unread bytes, ascending.
    pub fn gaps(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.gaps[..self.ngaps()].iter().map(|g| (g.start, g.end))
    }

    /// Whether any byte of `[offset, offset + len)` was received before: it lies below
    /// `contig_end` (received in order, even if consumed and dropped since, or skipped after
    /// the peer acknowledged it) or inside a held fragment. Call it *before*
    /// [`write`](Self::write) to detect retransmissions. Empty ranges were never received.
    pub fn received_before(&self, offset: u64, len: u32) -> bool {
        if len == 0 {
            return false;
        }
        let end = offset.saturating_add(u64::from(len));
        offset < self.contig_end || self.fragments().any(|(s, e)| s < end && e > offset)
    }

    /// How many unread bytes a write of `len` bytes at `offset` would discard, given the
    /// pool's region size (0 when the segment fits after dropping consumed bytes, or would
    /// not be stored at all).
    pub fn unread_overwrite_needed(&self, pool_region_size: usize, offset: u64, len: u32) -> u64 {
        if len == 0 {
            return 0;
        }
        let end = offset.saturating_add(u64::from(len));
        let plan = self.plan(pool_region_size as u64, offset, end);
        match plan.room {
            Room::Discard(x) if plan.store => self.real_bytes_between(self.read, x),
            _ => 0,
        }
    }

    /// Adds a segment of `data` at stream offset `offset`; see [`WriteOutcome`] for what is
    /// reported. Acquires a region on first use.
    ///
    /// Order of work: clip what lies below `base` (`below_base`) and beyond
    /// `contig_end + region_size` (`out_of_window`); refuse a segment that would need one
    /// fragment more than `max_holes` (`too_many_holes`); make room (compaction, then
    /// discarding the oldest unread bytes); compare every byte that falls on a held byte
    /// (`overlap_bytes`, `conflict`) and keep the copy the policy picks; store the new bytes;
    /// merge fragments and advance `contig_end`.
    pub fn write(&mut self, pool: &mut BufferPool, offset: u64, data: &[u8]) -> WriteOutcome {
        let mut out = WriteOutcome::default();
        if data.is_empty() {
            return out;
        }
        let region = match self.region {
            Some(r) => r,
            None => match pool.acquire() {
                Some(r) => {
                    // Nothing is unread without a region: start the window at the cursor.
                    self.region = Some(r);
                    self.origin = self.read;
                    r
                }
                None => {
                    out.no_buffer = true;
                    return out;
                }
            },
        };
        let end = offset.saturating_add(data.len() as u64);
        let plan = self.plan(pool.region_size() as u64, offset, end);
        out.out_of_window = plan.out_of_window;
        out.too_many_holes = plan.too_many_holes;
        if plan.store {
            match plan.room {
                Room::Fits => {}
                Room::Compact => self.compact(pool.region_mut(region)),
                Room::Discard(x) => {
                    let lost = self.advance_read_to(x);
                    out.overwritten_unread = lost;
                    self.lost_unread = self.lost_unread.saturating_add(lost);
                    self.compact(pool.region_mut(region));
                }
            }
        }
        let lo = offset.max(self.base);
        out.below_base = sat32(lo.min(end) - offset);
        let e = plan.end;
        if !plan.store || lo >= e {
            return out;
        }
        let old_contig = self.contig_end;
        let mut apply = Apply {
            buf: pool.region_mut(region),
            origin: self.origin,
            data,
            offset,
            out,
        };

        // Bytes already accepted in order: compare, and overwrite only under Last. Gaps hold
        // nothing and take nothing.
        let in_order_end = e.min(old_contig);
        if lo < in_order_end {
            let new_wins = self.policy.new_wins_in_order();
            let mut cur = lo;
            for g in &self.gaps[..self.ngaps()] {
                if g.end <= cur {
                    continue;
                }
                if g.start >= in_order_end {
                    break;
                }
                if g.start > cur {
                    apply.resolve(cur, g.start, new_wins);
                }
                cur = g.end;
            }
            if cur < in_order_end {
                apply.resolve(cur, in_order_end, new_wins);
            }
        }

        // Above the in-order data: new bytes between fragments, policy inside them (decided
        // against the fragments as they were before this segment).
        let from = lo.max(old_contig);
        if from < e {
            let mut cur = from;
            for f in &self.frags[..self.nfrags()] {
                if f.end <= cur {
                    continue;
                }
                if f.start >= e {
                    break;
                }
                if f.start > cur {
                    apply.store(cur, f.start);
                }
                let b = e.min(f.end);
                let new_wins = self.policy.new_wins_fragment(offset, end, f.start, f.end);
                apply.resolve(cur.max(f.start), b, new_wins);
                cur = b;
            }
            if cur < e {
                apply.store(cur, e);
            }
        }
        let mut out = apply.out;
        if from < e {
            self.insert_received(from, e);
        }
        out.advanced = sat32(self.contig_end - old_contig);
        out
    }

    /// The peer acknowledged everything below `offset`: holes below it will never be
    /// filled. `contig_end` jumps to `offset` (and on over fragments that become
    /// contiguous); returns the number of bytes that were never received (also added to
    /// [`missed`](Self::missed)). Unread bytes stay readable; see the module docs for gaps.
    pub fn skip_to(&mut self, offset: u64) -> u64 {
        if offset <= self.contig_end {
            return 0;
        }
        let mut missed = 0;
        while self.nfrags() > 0 && self.frags[0].start <= offset {
            let f = self.frags[0];
            self.remove_frags(0, 1);
            missed += f.start - self.contig_end;
            self.add_gap(self.contig_end, f.start);
            self.contig_end = f.end;
        }
        if self.contig_end < offset {
            missed += offset - self.contig_end;
            self.add_gap(self.contig_end, offset);
            self.contig_end = offset;
        }
        self.missed = self.missed.saturating_add(missed);
        missed
    }

    /// Skips every hole below the last fragment (at connection end: deliver everything
    /// held). Returns the bytes missed.
    pub fn skip_all_holes(&mut self) -> u64 {
        match self.nfrags().checked_sub(1) {
            Some(last) => self.skip_to(self.frags[last].start),
            None => 0,
        }
    }

    /// The unread in-order bytes up to the first pending gap, as one slice (empty without a
    /// region).
    pub fn peek<'p>(&self, pool: &'p BufferPool) -> &'p [u8] {
        let Some(region) = self.region else {
            return &[];
        };
        let stop = self.gaps[..self.ngaps()]
            .first()
            .map_or(self.contig_end, |g| g.start);
        pool.region(region)
            .get(idx(self.read - self.origin)..idx(stop - self.origin))
            .unwrap_or(&[])
    }

    /// Up to `len` held bytes starting at `offset`: consumed-but-kept, unread, or inside one
    /// fragment. The slice stops early where the held run containing `offset` ends (a gap,
    /// `contig_end`, or the fragment's end). `None` if `offset` is not held or `len` is 0.
    pub fn peek_at<'p>(&self, pool: &'p BufferPool, offset: u64, len: usize) -> Option<&'p [u8]> {
        let region = self.region?;
        if len == 0 {
            return None;
        }
        let stop = if offset >= self.base && offset < self.contig_end {
            let mut stop = self.contig_end;
            for g in &self.gaps[..self.ngaps()] {
                if offset >= g.start && offset < g.end {
                    return None;
                }
                if g.start > offset {
                    stop = g.start;
                    break;
                }
            }
            stop
        } else {
            self.frags[..self.nfrags()]
                .iter()
                .find(|f| f.start <= offset && offset < f.end)?
                .end
        };
        let end = stop.min(offset.saturating_add(len as u64));
        pool.region(region)
            .get(idx(offset - self.origin)..idx(end - self.origin))
            .filter(|s| !s.is_empty())
    }

    /// Marks up to `n` unread bytes as read (crossing pending gaps, which count for nothing)
    /// and returns how many were. The bytes stay held for comparison until compaction.
    pub fn consume(&mut self, n: usize) -> usize {
        let mut left = n as u64;
        let mut done = 0u64;
        while left > 0 && self.read < self.contig_end {
            let stop = self.gaps[..self.ngaps()]
                .first()
                .map_or(self.contig_end, |g| g.start);
            let take = left.min(stop.saturating_sub(self.read));
            if take == 0 {
                // Unreachable while the gap invariant holds; never spin on a broken one.
                debug_assert!(false, "read cursor at a gap start");
                break;
            }
            done += self.advance_read_to(self.read + take);
            left -= take;
        }
        idx(done)
    }

    /// Marks every unread byte as read; returns how many there were.
    pub fn consume_all(&mut self) -> usize {
        let n = self.real_bytes_between(self.read, self.contig_end);
        self.advance_read_to(self.contig_end);
        idx(n)
    }

    /// Returns the region to the pool. Unread bytes and fragments are dropped (not counted
    /// as lost: this is a decision, not an overflow); offsets and counters stay, so the
    /// buffer keeps working as an offset tracker, and a later `write` acquires a new region.
    pub fn release(&mut self, pool: &mut BufferPool) {
        if let Some(region) = self.region.take() {
            pool.release(region);
        }
        self.read = self.contig_end;
        self.base = self.contig_end;
        self.origin = self.contig_end;
        self.nfrags = 0;
        self.ngaps = 0;
    }

    /// Forgets everything (offsets back to 0, counters to 0) but keeps the region, if any,
    /// for reuse by a new connection. Call [`release`](Self::release) first to return it.
    pub fn reset(&mut self) {
        let region = self.region;
        *self = StreamBuf::new(self.max_holes(), self.policy);
        self.region = region;
    }

    /// Makes this buffer what [`new`](Self::new) makes, in place, writing only its
    /// bookkeeping: with no fragments and no gaps counted, the fragment and gap tables are
    /// dead, so their 384 bytes are left as they are. For reusing a connection record; the
    /// region must have been [released](Self::release) first.
    pub fn restart(&mut self, max_holes: usize, policy: OverlapPolicy) {
        debug_assert!(self.region.is_none(), "restart while holding a region");
        self.region = None;
        self.origin = 0;
        self.base = 0;
        self.read = 0;
        self.contig_end = 0;
        self.missed = 0;
        self.lost_unread = 0;
        self.nfrags = 0;
        self.ngaps = 0;
        self.max_holes = max_holes.min(MAX_FRAGMENTS) as u8;
        self.policy = policy;
    }

    // ---- internals ----

    fn plan(&self, region_size: u64, offset: u64, end: u64) -> Plan {
        let lo = offset.max(self.base);
        let limit = self.contig_end.saturating_add(region_size);
        let clipped = end.min(limit);
        let mut plan = Plan {
            end: clipped,
            out_of_window: end > limit,
            too_many_holes: false,
            store: false,
            room: Room::Fits,
        };
        if lo >= clipped {
            return plan;
        }
        let from = lo.max(self.contig_end);
        if from > self.contig_end
            && self.nfrags() >= self.max_holes()
            && !self.fragments().any(|(s, e)| s <= clipped && e >= from)
        {
            plan.too_many_holes = true;
            return plan;
        }
        plan.store = true;
        // Bytes below contig_end are already in the region (or in gaps, never stored): only
        // new bytes above it can need room.
        if clipped > self.contig_end && clipped > self.origin.saturating_add(region_size) {
            plan.room = if clipped > self.read.saturating_add(region_size) {
                Room::Discard(clipped - region_size)
            } else {
                Room::Compact
            };
        }
        plan
    }

    /// Real (non-gap) bytes in `[a, b)`, for `read <= a <= b <= contig_end`.
    fn real_bytes_between(&self, a: u64, b: u64) -> u64 {
        let gap_bytes: u64 = self.gaps[..self.ngaps()]
            .iter()
            .map(|g| g.end.min(b).saturating_sub(g.start.max(a)))
            .sum();
        b.saturating_sub(a).saturating_sub(gap_bytes)
    }

    /// Moves the read cursor to `x` (at most `contig_end`), then over any gap it reached;
    /// jumping a gap drops the consumed bytes before it (`base` = the gap's end). Returns the
    /// real bytes passed.
    fn advance_read_to(&mut self, x: u64) -> u64 {
        let target = x.min(self.contig_end).max(self.read);
        let passed = self.real_bytes_between(self.read, target);
        self.read = target;
        let mut jumped = 0;
        while jumped < self.ngaps() && self.gaps[jumped].start <= self.read {
            let gap_end = self.gaps[jumped].end;
            self.read = self.read.max(gap_end);
            // What was consumed before the gap is no longer contiguous with what follows.
            self.base = gap_end;
            jumped += 1;
        }
        if jumped > 0 {
            let n = self.ngaps();
            self.gaps.copy_within(jumped..n, 0);
            self.ngaps -= jumped as u8;
        }
        passed
    }

    /// Drops the consumed bytes: moves the held bytes `[read, held end)` to the region start.
    fn compact(&mut self, buf: &mut [u8]) {
        let held_end = match (self.nfrags().checked_sub(1), self.ngaps().checked_sub(1)) {
            (Some(last), _) => self.frags[last].end,
            // A gap that reaches contig_end has no bytes behind it (it may even extend past
            // the region).
            (None, Some(last)) if self.gaps[last].end == self.contig_end => self.gaps[last].start,
            _ => self.contig_end,
        };
        if self.read > self.origin && held_end > self.read {
            let src = idx(self.read - self.origin)..idx(held_end - self.origin);
            if src.end <= buf.len() {
                buf.copy_within(src, 0);
            } else {
                debug_assert!(
                    false,
                    "held bytes [{}, {held_end}) outside region",
                    self.read
                );
            }
        }
        self.origin = self.read;
        self.base = self.read;
    }

    /// Records that `[start, end)` (at or above `contig_end`) is now held.
    fn insert_received(&mut self, start: u64, end: u64) {
        if start <= self.contig_end {
            self.contig_end = self.contig_end.max(end);
            let mut absorbed = 0;
            while absorbed < self.nfrags() && self.frags[absorbed].start <= self.contig_end {
                self.contig_end = self.contig_end.max(self.frags[absorbed].end);
                absorbed += 1;
            }
            self.remove_frags(0, absorbed);
            return;
        }
        let frags = &self.frags[..self.nfrags()];
        let i = frags
            .iter()
            .position(|f| f.end >= start)
            .unwrap_or(self.nfrags());
        let j = frags
            .iter()
            .position(|f| f.start > end)
            .unwrap_or(self.nfrags());
        if i < j {
            // Touches fragments i..j: merge them into one.
            let merged = Span {
                start: start.min(self.frags[i].start),
                end: end.max(self.frags[j - 1].end),
            };
            self.frags[i] = merged;
            self.remove_frags(i + 1, j - i - 1);
        } else if self.nfrags() < MAX_FRAGMENTS {
            let n = self.nfrags();
            self.frags.copy_within(i..n, i + 1);
            self.frags[i] = Span { start, end };
            self.nfrags += 1;
        } else {
            // `plan` refuses segments that need a fragment beyond the limit.
            debug_assert!(false, "fragment array full");
        }
    }

    fn remove_frags(&mut self, at: usize, count: usize) {
        if count > 0 {
            let n = self.nfrags();
            self.frags.copy_within(at + count..n, at);
            self.nfrags -= count as u8;
        }
    }

    /// Records the skipped hole `[start, end)`, where `start == contig_end`.
    fn add_gap(&mut self, start: u64, end: u64) {
        if start >= end {
            return;
        }
        if self.read == start {
            // Nothing unread before the hole: jump it.
            self.read = end;
            self.base = end;
            return;
        }
        let n = self.ngaps();
        if let Some(last) = self.gaps[..n].last_mut().filter(|g| g.end == start) {
            last.end = end;
            return;
        }
        if self.ngaps() == MAX_GAPS {
            // Free a slot: give up the unread bytes before the oldest gap.
            let lost = self.advance_read_to(self.gaps[0].end);
            self.lost_unread = self.lost_unread.saturating_add(lost);
        }
        let n = self.ngaps();
        if let Some(slot) = self.gaps.get_mut(n) {
            *slot = Span { start, end };
            self.ngaps += 1;
        }
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod model_tests;
