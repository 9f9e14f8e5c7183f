//! A hierarchical timing wheel of fixed capacity, firing in exact deadline order.
//!
//! # Structure
//! Time is cut into ticks of a fixed [`Duration`] counted from the wheel's `start`. Pending
//! timers live in one of two places:
//!
//! - **The wheel**: [`LEVELS`] levels of 64 slots. A slot at level *k* covers 64^*k* ticks, so
//!   eleven levels span every `u64` tick: there is no overflow list and no deadline is too far.
//!   A timer whose tick is ahead of the wheel's current tick `cur` goes to the level of the
//!   highest base-64 digit in which its tick differs from `cur`, in the slot of that digit.
//!   When `cur` reaches the start of an upper slot, the slot is *cascaded*: its timers are
//!   placed again relative to the new `cur`, each at a strictly lower level. A timer is
//!   therefore moved at most `LEVELS` times in its life.
//! - **The due heap**: timers whose tick is `cur` or earlier (deadlines in the current tick,
//!   in the past, or before `start`), in a binary heap ordered by (deadline, scheduling
//!   sequence number). When `cur` reaches a level-0 slot, the slot's timers move here.
//!
//! Slots are intrusive doubly-linked lists threaded through the entry array by `u32` indices,
//! and each level keeps a 64-bit occupancy mask. All memory — entries, heap, slot heads — is
//! allocated by [`TimerWheel::new`]; the heap can never exceed the number of entries, so
//! pushing on it never reallocates.
//!
//! # Order and cost
//! [`TimerWheel::advance`] (or the pull form [`TimerWheel::pop_expired`]) fires every timer
//! whose deadline is ≤ `now`, in deadline order to the nanosecond, ties in scheduling order:
//! everything in the heap is earlier than anything in the wheel, and the heap's order is total,
//! so runs are reproducible. To find the next slot to process it looks for the lowest level
//! with an occupied slot at or after `cur`'s digit (one mask operation per level): empty spans
//! are skipped whatever their length, so a 3-day pause in a capture costs at most a few
//! dozen mask tests, not billions of ticks. The work of an advance is `O(LEVELS)` per
//! occupied slot reached, plus `O(log n)` per timer fired and `O(1)` per timer cascaded.
//! [`TimerWheel::stats`] counts the slots visited, so tests can hold the wheel to that. The
//! wheel also keeps a lower bound of the pending deadlines, so the common per-packet call
//! with nothing due costs one comparison.
//!
//! [`TimerWheel::cancel`] is `O(1)` for a timer in the wheel and `O(log n)` in the due heap;
//! handles carry a generation, so cancelling a timer that fired or was cancelled is a no-op.
//! The tick only sets the granularity of the bookkeeping, never of firing: a timer never fires
//! before its deadline, and fires at the first advance whose `now` reaches it.
//!
//! # The idle-timeout pattern
//! The engine keeps one idle timer per flow, armed at `last_seen + timeout`, and does *not*
//! touch the wheel per packet: a packet only updates the flow's `last_seen` in the flow table.
//! When the timer fires, the engine compares: if `last_seen + timeout > deadline` the flow was
//! active since the timer was armed, so it arms a new timer at `last_seen + timeout` (which may
//! itself be ≤ `now` after a long pause; it then fires within the same
//! [`pop_expired`](TimerWheel::pop_expired) loop, in order); otherwise the flow has been idle
//! for `timeout` and ends. A flow removed for another reason cancels its timer, or lets it fire
//! and finds its [`FlowId`](super::FlowId) stale. Re-arming from inside the loop is why the
//! pull form exists: `advance` holds the wheel for the duration of its callback.
//!
//! ```
//! # use mos_runtime::flow::{FlowTable, FlowKey, FlowId, timer::TimerWheel};
//! # use mos_runtime::time::Timestamp;
//! # use std::time::Duration;
//! let timeout = Duration::from_secs(60);
//! let mut flows: FlowTable<()> = FlowTable::new(16).unwrap();
//! let mut wheel: TimerWheel<FlowId> =
//!     TimerWheel::new(16, Duration::from_millis(1), Timestamp::ZERO).unwrap();
//! let t0 = Timestamp::from_parts(1_000, 0);
//! let (key, _) = FlowKey::from_v4([10, 0, 0, 1], 40000, [10, 0, 0, 2], 80, 6);
//! let id = flows.insert(key, (), t0).unwrap();
//! wheel.schedule(t0.saturating_add(timeout), id).unwrap();
//! flows.touch(id, Timestamp::from_parts(1_030, 0)); // a packet: no wheel operation
//!
//! let now = Timestamp::from_parts(1_100, 0);
//! let mut ended = None;
//! while let Some((deadline, id)) = wheel.pop_expired(now) {
//!     let Some(seen) = flows.last_seen(id) else { continue }; // flow already gone
//!     let due = seen.saturating_add(timeout);
//!     if due > deadline {
//!         wheel.schedule(due, id).unwrap(); // active since: lazy re-arm
//!     } else {
//!         ended = Some(deadline);
//!         flows.remove(id);
//!     }
//! }
//! assert_eq!(ended, Some(Timestamp::from_parts(1_090, 0)));
//! ```

use std::cell::Cell;
use std::fmt;
use std::mem::size_of;
use std::time::Duration;

use crate::time::Timestamp;

/// Levels of the wheel: 11 × 6 bits cover every `u64` tick.
pub const LEVELS: usize = 11;
/// log2 of the slots per level.
const SLOT_BITS: u32 = 6;
/// Slots per level.
const SLOTS: usize = 1 << SLOT_BITS;
/// The end of a list.
const NIL: u32 = u32::MAX;
/// The largest capacity [`TimerWheel::new`] accepts.
pub const MAX_CAPACITY: usize = 1 << 28;

/// A handle on a scheduled timer, valid until it fires or is cancelled.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct TimerHandle {
    index: u32,
    generation: u32,
}

/// [`TimerWheel::schedule`] failed: every entry is in use.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct TimerFull;

impl fmt::Display for TimerFull {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "timer wheel full")
    }
}

impl std::error::Error for TimerFull {}

/// Why [`TimerWheel::new`] refused its configuration.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum TimerConfigError {
    /// Capacity 0.
    ZeroCapacity,
    /// More than [`MAX_CAPACITY`] timers.
    TooLarge {
        /// The capacity asked for.
        requested: usize,
    },
    /// A tick shorter than a nanosecond, or longer than `u64::MAX` nanoseconds.
    BadTick(Duration),
    /// The allocator refused the wheel's memory.
    OutOfMemory {
        /// The bytes asked for.
        bytes: usize,
    },
}

impl fmt::Display for TimerConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TimerConfigError::ZeroCapacity => write!(f, "timer capacity must be at least 1"),
            TimerConfigError::TooLarge { requested } => write!(
                f,
                "timer capacity {requested} exceeds the maximum of {MAX_CAPACITY} timers"
            ),
            TimerConfigError::BadTick(d) => {
                write!(f, "timer tick {d:?} must be between 1 ns and u64::MAX ns")
            }
            TimerConfigError::OutOfMemory { bytes } => {
                write!(f, "cannot allocate {bytes} bytes for the timer wheel")
            }
        }
    }
}

impl std::error::Error for TimerConfigError {}

/// Work counters, for tests and diagnostics.
#[derive(Clone, Copy, PartialEq, Eq, Default, Debug)]
pub struct TimerStats {
    /// Wheel slots processed by advancing: level-0 slots moved to the due heap plus upper
    /// slots cascaded. Empty ticks cost nothing and are not counted.
    pub slots_visited: u64,
    /// Timers moved down a level by a cascade.
    pub entries_cascaded: u64,
}

/// Where an entry is.
#[derive(Clone, Copy, Debug)]
enum Place {
    Free,
    Wheel { level: u8, slot: u8 },
    Heap { pos: u32 },
}

#[derive(Debug)]
struct Entry<P> {
    /// Nanoseconds since the epoch.
    deadline: u64,
    /// Scheduling order, for ties.
    seq: u64,
    payload: Option<P>,
    generation: u32,
    /// Slot list links (wheel) or free-list link (`next`, free).
    prev: u32,
    next: u32,
    place: Place,
}

/// A due-heap item: the order key next to the entry index, so sifting stays in the heap.
#[derive(Clone, Copy, Debug)]
struct Due {
    deadline: u64,
    seq: u64,
    index: u32,
}

impl Due {
    #[inline]
    fn before(&self, other: &Due) -> bool {
        (self.deadline, self.seq) < (other.deadline, other.seq)
    }
}

/// A fixed-capacity hierarchical timing wheel; `P` is what a timer carries back when it
/// fires (a flow handle and a kind, say). See the [module docs](self).
pub struct TimerWheel<P: Copy> {
    entries: Vec<Entry<P>>,
    /// `LEVELS × SLOTS` list heads.
    heads: Vec<u32>,
    occupied: [u64; LEVELS],
    due: Vec<Due>,
    free_head: u32,
    len: usize,
    /// The current tick: every timer of an earlier tick has moved to the due heap.
    cur: u64,
    start: Timestamp,
    tick_ns: u64,
    next_seq: u64,
    /// No pending deadline is earlier (a lower bound): below it, `pop_expired` returns at once.
    quiet_until: u64,
    /// `next_deadline` memo: `None` = unknown.
    next_cache: Cell<Option<Option<Timestamp>>>,
    stats: TimerStats,
}

impl<P: Copy> TimerWheel<P> {
    /// A wheel for up to `capacity` pending timers, with ticks of `tick` counted from `start`
    /// (the time of the first packet, or [`Timestamp::ZERO`]). All memory is allocated now.
    pub fn new(
        capacity: usize,
        tick: Duration,
        start: Timestamp,
    ) -> Result<Self, TimerConfigError> {
        let bytes = Self::memory_bytes(capacity)?;
        let tick_ns = match u64::try_from(tick.as_nanos()) {
            Ok(0) | Err(_) => return Err(TimerConfigError::BadTick(tick)),
            Ok(ns) => ns,
        };
        let oom = TimerConfigError::OutOfMemory { bytes };
        let mut entries: Vec<Entry<P>> = Vec::new();
        entries.try_reserve_exact(capacity).map_err(|_| oom)?;
        let mut due: Vec<Due> = Vec::new();
        due.try_reserve_exact(capacity).map_err(|_| oom)?;
        // capacity ≤ MAX_CAPACITY < u32::MAX: the casts are exact.
        entries.extend((0..capacity).map(|i| Entry {
            deadline: 0,
            seq: 0,
            payload: None,
            generation: 0,
            prev: NIL,
            next: if i + 1 < capacity {
                (i + 1) as u32
            } else {
                NIL
            },
            place: Place::Free,
        }));
        Ok(TimerWheel {
            entries,
            heads: vec![NIL; LEVELS * SLOTS],
            occupied: [0; LEVELS],
            due,
            free_head: 0,
            len: 0,
            cur: 0,
            start,
            tick_ns,
            next_seq: 0,
            quiet_until: u64::MAX,
            next_cache: Cell::new(Some(None)),
            stats: TimerStats::default(),
        })
    }

    /// The memory a wheel of `capacity` timers takes: per timer one entry and one due-heap
    /// item, plus `LEVELS × 64` slot heads.
    pub fn memory_bytes(capacity: usize) -> Result<usize, TimerConfigError> {
        if capacity == 0 {
            return Err(TimerConfigError::ZeroCapacity);
        }
        if capacity > MAX_CAPACITY {
            return Err(TimerConfigError::TooLarge {
                requested: capacity,
            });
        }
        let per_timer = size_of::<Entry<P>>() + size_of::<Due>();
        Ok(capacity * per_timer + LEVELS * SLOTS * size_of::<u32>())
    }

    /// Pending timers.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// No pending timers.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The maximum number of pending timers.
    #[inline]
    pub fn capacity(&self) -> usize {
        self.entries.len()
    }

    /// The tick length.
    pub fn tick(&self) -> Duration {
        Duration::from_nanos(self.tick_ns)
    }

    /// Work counters since creation.
    pub fn stats(&self) -> TimerStats {
        self.stats
    }

    #[inline]
    fn tick_of(&self, t: u64) -> u64 {
        t.saturating_sub(self.start.0) / self.tick_ns
    }

    /// Arms a timer that fires `payload` at the first advance whose `now` is ≥ `deadline`.
    /// A deadline in the past fires at the next advance (before any later deadline); any
    /// future deadline works, however far.
    pub fn schedule(&mut self, deadline: Timestamp, payload: P) -> Result<TimerHandle, TimerFull> {
        let index = self.free_head;
        let entry = self.entries.get_mut(index as usize).ok_or(TimerFull)?;
        self.free_head = entry.next;
        entry.deadline = deadline.0;
        entry.seq = self.next_seq;
        entry.payload = Some(payload);
        let generation = entry.generation;
        self.next_seq += 1;
        self.len += 1;
        self.place(index);
        self.quiet_until = self.quiet_until.min(deadline.0);
        match self.next_cache.get() {
            Some(Some(d)) if d <= deadline => {}
            Some(_) => self.next_cache.set(Some(Some(deadline))),
            None => {}
        }
        Ok(TimerHandle { index, generation })
    }

    /// Disarms a pending timer and returns its payload; `None` if it already fired or was
    /// cancelled (or the handle is not from this wheel).
    pub fn cancel(&mut self, handle: TimerHandle) -> Option<P> {
        let entry = self.entries.get(handle.index as usize)?;
        if entry.generation != handle.generation || entry.payload.is_none() {
            return None;
        }
        let deadline = entry.deadline;
        match entry.place {
            Place::Wheel { level, slot } => self.unlink(handle.index, level.into(), slot.into()),
            Place::Heap { pos } => self.heap_remove(pos as usize),
            Place::Free => return None,
        }
        if self.next_cache.get() == Some(Some(Timestamp(deadline))) {
            self.next_cache.set(None);
        }
        self.release(handle.index)
    }

    /// The deadline of a pending timer; `None` once it fired or was cancelled.
    pub fn deadline(&self, handle: TimerHandle) -> Option<Timestamp> {
        let entry = self.entries.get(handle.index as usize)?;
        (entry.generation == handle.generation && entry.payload.is_some())
            .then_some(Timestamp(entry.deadline))
    }

    /// The earliest pending deadline (exact), or `None` when no timer is pending.
    ///
    /// O(1) when a timer is due in the current tick or the answer is remembered from an
    /// earlier call; otherwise it reads the timers of the earliest occupied slot.
    pub fn next_deadline(&self) -> Option<Timestamp> {
        if let Some(known) = self.next_cache.get() {
            return known;
        }
        let earliest = match self.due.first() {
            Some(top) => Some(top.deadline),
            None => self.next_occupied().and_then(|(level, slot, _)| {
                let mut i = self.heads[level * SLOTS + slot];
                let mut min: Option<u64> = None;
                while let Some(e) = self.entries.get(i as usize) {
                    min = Some(min.map_or(e.deadline, |m| m.min(e.deadline)));
                    i = e.next;
                }
                min
            }),
        }
        .map(Timestamp);
        self.next_cache.set(Some(earliest));
        earliest
    }

    /// Fires, in deadline order (ties in scheduling order), every timer whose deadline is
    /// ≤ `now`, calling `fire(deadline, payload)` for each. A `now` earlier than a previous
    /// one fires only what is due by it and moves nothing back.
    ///
    /// `fire` cannot reach the wheel; to schedule from a firing (re-arming), loop on
    /// [`pop_expired`](TimerWheel::pop_expired) instead.
    pub fn advance(&mut self, now: Timestamp, mut fire: impl FnMut(Timestamp, P)) {
        while let Some((deadline, payload)) = self.pop_expired(now) {
            fire(deadline, payload);
        }
    }

    /// The earliest timer with deadline ≤ `now`, removed from the wheel, with its deadline;
    /// `None` when nothing more is due. Calling it until `None` is [`advance`]; in between
    /// calls the caller may schedule and cancel, and a timer it schedules with a deadline
    /// ≤ `now` is returned by a later call, in order.
    ///
    /// [`advance`]: TimerWheel::advance
    pub fn pop_expired(&mut self, now: Timestamp) -> Option<(Timestamp, P)> {
        // The per-packet case: nothing can be due yet. The wheel's tick is left behind, which
        // is harmless: timers scheduled meanwhile land on a higher level and cascade later.
        if now.0 < self.quiet_until {
            return None;
        }
        let target = self.tick_of(now.0);
        loop {
            let due_now = self
                .due
                .first()
                .filter(|top| top.deadline <= now.0)
                .copied();
            if let Some(top) = due_now {
                self.heap_remove(0);
                self.next_cache.set(None);
                let payload = self.release(top.index)?;
                return Some((Timestamp(top.deadline), payload));
            }
            // Nothing due in the heap: move the wheel to its next occupied slot if that is
            // not after `now`'s tick, else just to `now`'s tick.
            match self.next_occupied() {
                Some((level, slot, slot_start)) if slot_start <= target => {
                    self.cur = slot_start;
                    self.stats.slots_visited += 1;
                    let head = &mut self.heads[level * SLOTS + slot];
                    let mut i = std::mem::replace(head, NIL);
                    self.occupied[level] &= !(1u64 << slot);
                    while i != NIL {
                        let next = self.entries[i as usize].next;
                        self.place(i);
                        i = next;
                        if level > 0 {
                            self.stats.entries_cascaded += 1;
                        }
                    }
                }
                _ => {
                    self.cur = self.cur.max(target);
                    self.quiet_until = self.earliest_bound();
                    return None;
                }
            }
        }
    }

    /// A lower bound of the pending deadlines: the heap's first (everything in the heap is
    /// earlier than anything in the wheel), else the first instant of the earliest slot.
    fn earliest_bound(&self) -> u64 {
        match (self.due.first(), self.next_occupied()) {
            (Some(top), _) => top.deadline,
            // A deadline in that slot exists, so this sum does not actually saturate.
            (None, Some((_, _, tick))) => self
                .start
                .0
                .saturating_add(tick.saturating_mul(self.tick_ns)),
            (None, None) => u64::MAX,
        }
    }

    /// The earliest occupied slot (level, slot, first tick). The lowest level with an
    /// occupied slot at or after `cur`'s digit holds it: a lower level's slots all lie
    /// within the current slot of the level above.
    fn next_occupied(&self) -> Option<(usize, usize, u64)> {
        for (level, &mask) in self.occupied.iter().enumerate() {
            let shift = SLOT_BITS * level as u32;
            let digit = (self.cur >> shift) & (SLOTS as u64 - 1);
            let ahead = mask & (u64::MAX << digit);
            if ahead != 0 {
                let slot = u64::from(ahead.trailing_zeros());
                let block = shift + SLOT_BITS;
                let base = if block >= 64 {
                    0
                } else {
                    (self.cur >> block) << block
                };
                return Some((level, slot as usize, base | (slot << shift)));
            }
        }
        None
    }

    /// Puts a pending entry where its deadline belongs relative to `cur`.
    fn place(&mut self, index: u32) {
        let tick = self.tick_of(self.entries[index as usize].deadline);
        if tick <= self.cur {
            self.heap_push(index);
            return;
        }
        let level = (63 - (tick ^ self.cur).leading_zeros()) / SLOT_BITS;
        let slot = (tick >> (SLOT_BITS * level)) as usize & (SLOTS - 1);
        let level = level as usize;
        let head = &mut self.heads[level * SLOTS + slot];
        let old = std::mem::replace(head, index);
        if let Some(o) = self.entries.get_mut(old as usize) {
            o.prev = index;
        }
        let e = &mut self.entries[index as usize];
        e.prev = NIL;
        e.next = old;
        // level < 11 and slot < 64 fit in u8.
        e.place = Place::Wheel {
            level: level as u8,
            slot: slot as u8,
        };
        self.occupied[level] |= 1u64 << slot;
    }

    fn unlink(&mut self, index: u32, level: usize, slot: usize) {
        let (prev, next) = {
            let e = &self.entries[index as usize];
            (e.prev, e.next)
        };
        match self.entries.get_mut(prev as usize) {
            Some(p) => p.next = next,
            None => self.heads[level * SLOTS + slot] = next,
        }
        if let Some(n) = self.entries.get_mut(next as usize) {
            n.prev = prev;
        }
        if self.heads[level * SLOTS + slot] == NIL {
            self.occupied[level] &= !(1u64 << slot);
        }
    }

    /// Frees an entry that is in neither the wheel nor the heap any more.
    fn release(&mut self, index: u32) -> Option<P> {
        let e = &mut self.entries[index as usize];
        let payload = e.payload.take();
        e.generation = e.generation.wrapping_add(1);
        e.place = Place::Free;
        e.next = self.free_head;
        self.free_head = index;
        self.len -= 1;
        payload
    }

    fn heap_push(&mut self, index: u32) {
        let e = &self.entries[index as usize];
        let pos = self.due.len();
        // At most `capacity` entries are pending and the heap was reserved for all of them.
        self.due.push(Due {
            deadline: e.deadline,
            seq: e.seq,
            index,
        });
        self.set_pos(pos);
        self.sift_up(pos);
    }

    fn heap_remove(&mut self, pos: usize) {
        let Some(last) = self.due.pop() else { return };
        if pos < self.due.len() {
            self.due[pos] = last;
            self.set_pos(pos);
            if self.sift_up(pos) == pos {
                self.sift_down(pos);
            }
        }
    }

    #[inline]
    fn set_pos(&mut self, pos: usize) {
        let index = self.due[pos].index;
        // Heap positions are < capacity ≤ MAX_CAPACITY.
        self.entries[index as usize].place = Place::Heap { pos: pos as u32 };
    }

    fn swap(&mut self, a: usize, b: usize) {
        self.due.swap(a, b);
        self.set_pos(a);
        self.set_pos(b);
    }

    fn sift_up(&mut self, mut pos: usize) -> usize {
        while pos > 0 {
            let parent = (pos - 1) / 2;
            if !self.due[pos].before(&self.due[parent]) {
                break;
            }
            self.swap(pos, parent);
            pos = parent;
        }
        pos
    }

    fn sift_down(&mut self, mut pos: usize) {
        loop {
            let left = 2 * pos + 1;
            let Some(l) = self.due.get(left) else { break };
            let mut child = left;
            if self.due.get(left + 1).is_some_and(|r| r.before(l)) {
                child = left + 1;
            }
            if !self.due[child].before(&self.due[pos]) {
                break;
            }
            self.swap(pos, child);
            pos = child;
        }
    }
}

impl<P: Copy> fmt::Debug for TimerWheel<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TimerWheel")
            .field("len", &self.len)
            .field("capacity", &self.entries.len())
            .field("tick", &self.tick())
            .field("start", &self.start)
            .field("current_tick", &self.cur)
            .field("due", &self.due.len())
            .finish()
    }
}

#[cfg(test)]
mod tests;
