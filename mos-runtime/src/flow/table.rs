//! The flow table: fixed-capacity storage of per-flow values, found by [`FlowKey`], named by
//! generation-checked [`FlowId`] handles, and ordered by recency of activity.
//!
//! # Layout
//! Three arrays, all allocated by [`FlowTable::new`] and never resized:
//!
//! - `slots`: one 64-byte slot header per flow of capacity, holding the key, the time of last
//!   activity, a generation counter, an occupied flag and two `u32` links. The links thread the
//!   occupied slots into the LRU list (oldest at the head, most recently active at the tail)
//!   and the free slots into a singly-linked free list. A slot's index never changes while the
//!   flow lives, so the engine keeps per-flow data that must not move (buffers, app state) in
//!   parallel arrays indexed by [`FlowId::index`].
//! - `values`: the values, parallel to `slots`. Headers and values are apart because the
//!   per-packet work on the table — comparing the key, checking a handle, moving a flow to the
//!   LRU tail (which rewrites its two neighbours' links) — reads and writes headers only: a
//!   dense array of one cache line per flow stays in the caches far better than headers spread
//!   over values of a kilobyte or more, and the value is then read only where its user reads
//!   it. A free slot holds `T::default()` rather than an `Option`, so a value's address (and
//!   its fields') is known from the slot number alone, without reading anything: what
//!   [`prefetch_slot`](FlowTable::prefetch_slot) needs.
//!
//! Both arrays are reserved for the whole capacity by `new` but filled only as slots are
//! first used: a slot that was never used is past the arrays' length (a *watermark*), and the
//! free list holds only slots that were used and freed. An insert takes the free list's head,
//! else the next slot at the watermark — the same order as a free list built in slot order,
//! without writing every slot at start-up. So building a table of a million flows writes
//! nothing but its index, and resident memory follows the most flows held at once; pushing
//! within the reserved capacity never reallocates.
//! - `index`: an open-addressing hash index of power-of-two size at least twice the capacity
//!   (load factor ≤ 1/2), each entry 8 bytes: the slot number and the low 32 bits of the key's
//!   hash. Linear probing; the home position is the hash's low bits, so an entry's home can be
//!   recomputed from the entry alone, and deletion is by *backward shift* (entries after the
//!   hole move back when that does not put them before their home), which leaves no tombstones:
//!   probe lengths depend only on the live keys, not on the table's history.
//!
//! A lookup is one hash, one index probe sequence (usually one or two entries, compared by
//! their 32 hash bits before the key is read) and one slot access. Nothing allocates after
//! `new`; the index always has an empty entry, so every probe ends.
//!
//! # Handles
//! A [`FlowId`] is a slot number plus the slot's generation when the flow was inserted. Removing
//! a flow bumps the generation, so a handle kept past its flow's end (in a timer, say) is
//! detected: every accessor returns `None` for it. Generations wrap after 2^32 reuses of one
//! slot; a handle would have to survive that long to be confused.

use std::fmt;
use std::mem::size_of;

use super::key::FlowKey;
use crate::prefetch;
use crate::time::Timestamp;

/// The end of a slot list.
const NIL: u32 = u32::MAX;

/// The largest capacity [`FlowTable::new`] accepts (2^28 flows; the index then takes 4 GiB).
pub const MAX_CAPACITY: usize = 1 << 28;

/// Bytes per index entry (the index has [`FlowTable::index_len`] of them).
pub const INDEX_ENTRY_BYTES: usize = size_of::<IndexEntry>();

/// A handle on a flow in a [`FlowTable`]: valid until the flow is removed.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct FlowId {
    index: u32,
    generation: u32,
}

impl FlowId {
    /// The flow's slot number, in `0..capacity`: stable for the flow's life, and reused by
    /// later flows, so it can index arrays parallel to the table.
    #[inline]
    pub fn index(self) -> usize {
        self.index as usize
    }

    /// The slot's generation this handle refers to.
    #[inline]
    pub fn generation(self) -> u32 {
        self.generation
    }
}

/// Why [`FlowTable::new`] refused a capacity.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum TableConfigError {
    /// Capacity 0: the table could hold nothing.
    ZeroCapacity,
    /// More than [`MAX_CAPACITY`] flows.
    TooLarge {
        /// The capacity asked for.
        requested: usize,
    },
    /// The allocator refused the table's memory.
    OutOfMemory {
        /// The bytes asked for.
        bytes: usize,
    },
}

impl fmt::Display for TableConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TableConfigError::ZeroCapacity => write!(f, "flow table capacity must be at least 1"),
            TableConfigError::TooLarge { requested } => write!(
                f,
                "flow table capacity {requested} exceeds the maximum of {MAX_CAPACITY} flows"
            ),
            TableConfigError::OutOfMemory { bytes } => {
                write!(f, "cannot allocate {bytes} bytes for the flow table")
            }
        }
    }
}

impl std::error::Error for TableConfigError {}

/// Why [`FlowTable::insert`] did not insert.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum InsertError {
    /// Every slot is taken. The table never evicts by itself: the caller applies its policy
    /// (see the [module docs](super)) and retries, or refuses the flow.
    TableFull,
    /// The key is already in the table, under this handle (the caller should have looked it
    /// up first; nothing was changed).
    Duplicate(FlowId),
}

impl fmt::Display for InsertError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InsertError::TableFull => write!(f, "flow table full"),
            InsertError::Duplicate(id) => write!(f, "flow already in the table as {id:?}"),
        }
    }
}

impl std::error::Error for InsertError {}

/// One flow's header (its value is in `values`, same index). Free slots keep their last key,
/// `occupied: false` and a default value.
/// Aligned to a cache line, so that comparing the key, checking a handle or relinking touches
/// one line, and one prefetch brings all of it.
#[derive(Debug)]
#[repr(align(64))]
struct Slot {
    key: FlowKey,
    generation: u32,
    /// LRU: the next older flow (occupied) — unused when free.
    prev: u32,
    /// LRU: the next newer flow (occupied) or the next free slot (free).
    next: u32,
    last_seen: Timestamp,
    /// A flow lives here (its value is `Some`).
    occupied: bool,
}

/// An index entry: `slot == NIL` is empty.
#[derive(Clone, Copy, Debug)]
struct IndexEntry {
    slot: u32,
    /// The low 32 bits of the key's hash; its low bits are the home position.
    tag: u32,
}

const EMPTY: IndexEntry = IndexEntry { slot: NIL, tag: 0 };

/// Fixed-capacity flow storage: hash lookup by [`FlowKey`], [`FlowId`] handles, an O(1) LRU
/// order. See the [module docs](self) for the layout.
pub struct FlowTable<T> {
    /// Slots in use or used before (`slots.len()` is the watermark); capacity reserved.
    slots: Vec<Slot>,
    /// Parallel to `slots`, same length.
    /// Free slots keep a default value (so a value's address is known without reading it).
    values: Vec<T>,
    /// The most flows the table holds.
    capacity: usize,
    index: Vec<IndexEntry>,
    /// `index.len() - 1`.
    mask: usize,
    len: usize,
    free_head: u32,
    /// Oldest flow.
    lru_head: u32,
    /// Most recently active flow.
    lru_tail: u32,
}

impl<T> FlowTable<T> {
    /// A table for up to `capacity` flows, all its memory allocated (reserved) now.
    ///
    /// Fails for 0, for more than [`MAX_CAPACITY`], or when the allocator refuses
    /// [`FlowTable::memory_bytes`] bytes.
    pub fn new(capacity: usize) -> Result<Self, TableConfigError> {
        let bytes = Self::memory_bytes(capacity)?;
        let index_len = Self::index_len(capacity)?;
        let oom = TableConfigError::OutOfMemory { bytes };
        let mut slots: Vec<Slot> = Vec::new();
        slots.try_reserve_exact(capacity).map_err(|_| oom)?;
        let mut values: Vec<T> = Vec::new();
        values.try_reserve_exact(capacity).map_err(|_| oom)?;
        let mut index: Vec<IndexEntry> = Vec::new();
        index.try_reserve_exact(index_len).map_err(|_| oom)?;
        // Slots are filled at the watermark as they are first used (see the module docs); a
        // fresh table hands out slots 0, 1, 2, …
        index.resize(index_len, EMPTY);
        Ok(FlowTable {
            slots,
            values,
            capacity,
            index,
            mask: index_len - 1,
            len: 0,
            free_head: NIL,
            lru_head: NIL,
            lru_tail: NIL,
        })
    }

    /// The number of index entries for `capacity`: the next power of two ≥ 2 × capacity.
    pub fn index_len(capacity: usize) -> Result<usize, TableConfigError> {
        if capacity == 0 {
            return Err(TableConfigError::ZeroCapacity);
        }
        if capacity > MAX_CAPACITY {
            return Err(TableConfigError::TooLarge {
                requested: capacity,
            });
        }
        Ok((2 * capacity).next_power_of_two())
    }

    /// Bytes of one slot for this `T`: the 64-byte header (the 38-byte key, timestamp,
    /// generation, two links, the occupied flag, padding) and `T`.
    pub const fn slot_bytes() -> usize {
        size_of::<Slot>() + size_of::<T>()
    }

    /// The memory a table of `capacity` flows takes:
    /// `capacity × slot_bytes() + index_len(capacity) × INDEX_ENTRY_BYTES`, i.e. the slots
    /// plus 16 to 32 bytes of index per flow (plus a few words for the struct itself).
    pub fn memory_bytes(capacity: usize) -> Result<usize, TableConfigError> {
        let index_len = Self::index_len(capacity)?;
        capacity
            .checked_mul(Self::slot_bytes())
            .and_then(|s| index_len.checked_mul(INDEX_ENTRY_BYTES)?.checked_add(s))
            .ok_or(TableConfigError::TooLarge {
                requested: capacity,
            })
    }

    /// The number of flows.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// No flows.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The maximum number of flows.
    #[inline]
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Every slot is taken: the next [`insert`](FlowTable::insert) fails unless a flow is
    /// removed first.
    #[inline]
    pub fn is_full(&self) -> bool {
        self.len == self.capacity
    }

    /// The flow with this key. Computes [`FlowKey::hash64`]; use
    /// [`lookup_hashed`](FlowTable::lookup_hashed) when the hash is at hand.
    #[inline]
    pub fn lookup(&self, key: &FlowKey) -> Option<FlowId> {
        self.lookup_hashed(key, key.hash64())
    }

    /// The flow with this key, given `hash == key.hash64()` (computed once by the caller, who
    /// may also use it to pick a shard). Another hash value makes the lookup miss.
    #[inline]
    pub fn lookup_hashed(&self, key: &FlowKey, hash: u64) -> Option<FlowId> {
        debug_assert_eq!(hash, key.hash64(), "lookup_hashed: hash of another key");
        match self.probe(key, hash) {
            Probe::Found { slot, .. } => Some(FlowId {
                index: slot,
                generation: self.slots[slot as usize].generation,
            }),
            Probe::Vacant { .. } => None,
        }
    }

    /// Prefetch, stage one (see the crate's `prefetch` module): the index entry at `hash`'s home.
    #[inline]
    pub fn prefetch_index(&self, hash: u64) {
        if let Some(entry) = self.index.get(hash as u32 as usize & self.mask) {
            prefetch::line(entry);
        }
    }

    /// Prefetch, stage two, once stage one's line has had time to arrive: the slot whose index
    /// entry near `hash`'s home carries `hash`'s tag — the flow's slot, unless the flow is new
    /// or a colliding entry comes first — has its header prefetched, and its number and value
    /// are returned for the caller to prefetch what it will read. Reads the index only; keys
    /// are not compared (a wrong slot costs a useless prefetch, nothing else).
    #[inline]
    pub fn prefetch_slot(&self, hash: u64) -> Option<(usize, &T)> {
        let tag = hash as u32;
        let mut pos = tag as usize & self.mask;
        // Entries of one cluster share a line or two; a longer walk would wait on more lines.
        for _ in 0..4 {
            let entry = self.index.get(pos)?;
            if entry.slot == NIL {
                return None;
            }
            if entry.tag == tag {
                let slot = entry.slot as usize;
                prefetch::line(self.slots.get(slot)?);
                return Some((slot, self.values.get(slot)?));
            }
            pos = (pos + 1) & self.mask;
        }
        None
    }

    /// The value in slot `slot`, occupied or not (a free slot's is the default): for
    /// prefetching what a value points to, never for reading a flow's state.
    #[inline]
    pub fn value_at(&self, slot: usize) -> Option<&T> {
        self.values.get(slot)
    }

    /// Prefetch, stage three, once stage two's lines have had time to arrive: the headers of
    /// the slot's LRU neighbours, which moving the flow to the LRU tail rewrites.
    #[inline]
    pub fn prefetch_links(&self, slot: usize) {
        if let Some(s) = self.slots.get(slot) {
            if let Some(prev) = self.slots.get(s.prev as usize) {
                prefetch::line(prev);
            }
            if let Some(next) = self.slots.get(s.next as usize) {
                prefetch::line(next);
            }
        }
    }

    /// Walks the probe sequence of `hash` to `key`'s entry or the first empty entry.
    #[inline]
    fn probe(&self, key: &FlowKey, hash: u64) -> Probe {
        let tag = hash as u32;
        let mut pos = tag as usize & self.mask;
        loop {
            let entry = self.index[pos];
            if entry.slot == NIL {
                return Probe::Vacant { pos };
            }
            if entry.tag == tag && self.slots[entry.slot as usize].key == *key {
                return Probe::Found { slot: entry.slot };
            }
            pos = (pos + 1) & self.mask;
        }
    }

    /// Adds a flow, as the most recently active one, with `last_seen = now`.
    ///
    /// Never evicts: when full it returns [`InsertError::TableFull`] (and drops `value`). A key
    /// already present gives [`InsertError::Duplicate`] and changes nothing.
    #[inline]
    pub fn insert(&mut self, key: FlowKey, value: T, now: Timestamp) -> Result<FlowId, InsertError>
    where
        T: Default,
    {
        self.insert_hashed(key, key.hash64(), value, now)
    }

    /// [`insert`](FlowTable::insert) with `hash == key.hash64()` precomputed.
    pub fn insert_hashed(
        &mut self,
        key: FlowKey,
        hash: u64,
        value: T,
        now: Timestamp,
    ) -> Result<FlowId, InsertError>
    where
        T: Default,
    {
        self.insert_with(key, hash, now, |slot| *slot = value)
    }

    /// [`insert_hashed`](FlowTable::insert_hashed) with the value written in place by `init`,
    /// which gets the slot's previous value (a removed flow's, left by
    /// [`remove_in_place`](FlowTable::remove_in_place), or the default): for values large
    /// enough that building one and moving it in costs more than resetting the fields that
    /// matter. `init` is not called when nothing is inserted.
    pub fn insert_with(
        &mut self,
        key: FlowKey,
        hash: u64,
        now: Timestamp,
        init: impl FnOnce(&mut T),
    ) -> Result<FlowId, InsertError>
    where
        T: Default,
    {
        debug_assert_eq!(hash, key.hash64(), "insert_with: hash of another key");
        let pos = match self.probe(&key, hash) {
            Probe::Found { slot } => {
                let generation = self.slots[slot as usize].generation;
                return Err(InsertError::Duplicate(FlowId {
                    index: slot,
                    generation,
                }));
            }
            Probe::Vacant { pos } => pos,
        };
        let Some(index) = self.take_free() else {
            return Err(InsertError::TableFull);
        };
        let (Some(slot), Some(value)) = (
            self.slots.get_mut(index as usize),
            self.values.get_mut(index as usize),
        ) else {
            return Err(InsertError::TableFull);
        };
        init(value);
        slot.key = key;
        slot.occupied = true;
        slot.last_seen = now;
        let generation = slot.generation;
        self.index[pos] = IndexEntry {
            slot: index,
            tag: hash as u32,
        };
        self.link_tail(index);
        self.len += 1;
        Ok(FlowId { index, generation })
    }

    /// A free slot, off the free list or at the watermark (then filled with a fresh header and
    /// a default value, within the reserved capacity); `None` when the table is full.
    fn take_free(&mut self) -> Option<u32>
    where
        T: Default,
    {
        if let Some(slot) = self.slots.get(self.free_head as usize) {
            let index = self.free_head;
            self.free_head = slot.next;
            return Some(index);
        }
        if self.slots.len() >= self.capacity {
            return None;
        }
        // `capacity` ≤ MAX_CAPACITY < u32::MAX, so the cast is exact.
        let index = self.slots.len() as u32;
        self.slots.push(Slot {
            key: FlowKey::from_v4([0; 4], 0, [0; 4], 0, 0).0,
            generation: 0,
            prev: NIL,
            next: NIL,
            last_seen: Timestamp::ZERO,
            occupied: false,
        });
        self.values.push(T::default());
        Some(index)
    }

    /// The slot of a live handle.
    #[inline]
    fn live(&self, id: FlowId) -> Option<&Slot> {
        self.slots
            .get(id.index as usize)
            .filter(|s| s.generation == id.generation && s.occupied)
    }

    #[inline]
    fn live_mut(&mut self, id: FlowId) -> Option<&mut Slot> {
        self.slots
            .get_mut(id.index as usize)
            .filter(|s| s.generation == id.generation && s.occupied)
    }

    /// Whether the handle still names a flow in this table.
    #[inline]
    pub fn contains(&self, id: FlowId) -> bool {
        self.live(id).is_some()
    }

    /// The flow's value.
    #[inline]
    pub fn get(&self, id: FlowId) -> Option<&T> {
        self.live(id)?;
        self.values.get(id.index as usize)
    }

    /// The flow's value, mutably.
    #[inline]
    pub fn get_mut(&mut self, id: FlowId) -> Option<&mut T> {
        self.live(id)?;
        self.values.get_mut(id.index as usize)
    }

    /// The flow's key.
    #[inline]
    pub fn key(&self, id: FlowId) -> Option<&FlowKey> {
        Some(&self.live(id)?.key)
    }

    /// The time of the flow's last activity (insertion or [`touch`](FlowTable::touch)).
    #[inline]
    pub fn last_seen(&self, id: FlowId) -> Option<Timestamp> {
        Some(self.live(id)?.last_seen)
    }

    /// Records activity: the flow becomes the most recently active one (O(1)) and its
    /// `last_seen` becomes `now` — unless `now` is earlier (captures are not always in time
    /// order), in which case `last_seen` stays: it never goes back. Returns `false` for a
    /// stale handle.
    ///
    /// The LRU order is the order of touches, so with out-of-order timestamps the head's
    /// `last_seen` may not be the smallest; it is the least recently *touched* flow.
    #[inline]
    pub fn touch(&mut self, id: FlowId, now: Timestamp) -> bool {
        let Some(slot) = self.live_mut(id) else {
            return false;
        };
        if now > slot.last_seen {
            slot.last_seen = now;
        }
        if self.lru_tail != id.index {
            self.unlink(id.index);
            self.link_tail(id.index);
        }
        true
    }

    /// The least recently active flow and its `last_seen`.
    #[inline]
    pub fn oldest(&self) -> Option<(FlowId, Timestamp)> {
        let slot = self.slots.get(self.lru_head as usize)?;
        Some((
            FlowId {
                index: self.lru_head,
                generation: slot.generation,
            },
            slot.last_seen,
        ))
    }

    /// The least recently active flow if it has been idle for at least `min_idle` at `now`:
    /// the candidate for eviction under the policy of the [module docs](super).
    #[inline]
    pub fn oldest_idle(&self, now: Timestamp, min_idle: std::time::Duration) -> Option<FlowId> {
        let (id, last_seen) = self.oldest()?;
        (now.saturating_since(last_seen) >= min_idle).then_some(id)
    }

    /// Removes a flow, returning its key and value; `None` for a stale handle. O(1) plus the
    /// backward shift of the entries that follow it in its probe cluster.
    pub fn remove(&mut self, id: FlowId) -> Option<(FlowKey, T)>
    where
        T: Default,
    {
        let key = self.free_slot(id)?;
        let value = std::mem::take(self.values.get_mut(id.index as usize)?);
        Some((key, value))
    }

    /// Removes a flow like [`remove`](FlowTable::remove), but leaves its value in the slot
    /// and lends it out instead of moving it, for the caller to release what it holds: the
    /// next [`insert_with`](FlowTable::insert_with) into the slot gets it back to reset. Nothing
    /// else reads a free slot's value. A value holding memory keeps it until the slot is
    /// reused or the table dropped, so this is for values that own nothing.
    pub fn remove_in_place(&mut self, id: FlowId) -> Option<(FlowKey, &mut T)> {
        let key = self.free_slot(id)?;
        Some((key, self.values.get_mut(id.index as usize)?))
    }

    /// Takes a live flow out of the index and the LRU list and puts its slot on the free list
    /// (its value is the caller's business); returns its key.
    fn free_slot(&mut self, id: FlowId) -> Option<FlowKey> {
        let key = self.live(id)?.key;
        // Find the index entry by slot number (not by key: robust even if the key's hash
        // were to change, and the same walk).
        let mut pos = key.hash64() as u32 as usize & self.mask;
        loop {
            let slot = self.index[pos].slot;
            if slot == id.index {
                break;
            }
            if slot == NIL {
                // Unreachable while the index is consistent; refuse rather than corrupt.
                debug_assert!(false, "flow {id:?} missing from the index");
                return None;
            }
            pos = (pos + 1) & self.mask;
        }
        self.delete_at(pos);
        self.unlink(id.index);
        let slot = &mut self.slots[id.index as usize];
        slot.occupied = false;
        slot.generation = slot.generation.wrapping_add(1);
        slot.next = self.free_head;
        slot.prev = NIL;
        self.free_head = id.index;
        self.len -= 1;
        Some(key)
    }

    /// Empties index position `hole` by shifting later entries of its cluster back.
    fn delete_at(&mut self, mut hole: usize) {
        let mask = self.mask;
        let mut pos = (hole + 1) & mask;
        loop {
            let entry = self.index[pos];
            if entry.slot == NIL {
                break;
            }
            let home = entry.tag as usize & mask;
            // The entry may fill the hole unless its home lies cyclically in (hole, pos]:
            // then it would sit before its home and lookups from there would miss it.
            if (pos.wrapping_sub(home) & mask) >= (pos.wrapping_sub(hole) & mask) {
                self.index[hole] = entry;
                hole = pos;
            }
            pos = (pos + 1) & mask;
        }
        self.index[hole] = EMPTY;
    }

    fn unlink(&mut self, i: u32) {
        let (prev, next) = {
            let s = &self.slots[i as usize];
            (s.prev, s.next)
        };
        match self.slots.get_mut(prev as usize) {
            Some(p) => p.next = next,
            None => self.lru_head = next,
        }
        match self.slots.get_mut(next as usize) {
            Some(n) => n.prev = prev,
            None => self.lru_tail = prev,
        }
    }

    fn link_tail(&mut self, i: u32) {
        let tail = self.lru_tail;
        {
            let s = &mut self.slots[i as usize];
            s.prev = tail;
            s.next = NIL;
        }
        match self.slots.get_mut(tail as usize) {
            Some(t) => t.next = i,
            None => self.lru_head = i,
        }
        self.lru_tail = i;
    }

    /// The flows from least to most recently active, with keys and values.
    pub fn iter(&self) -> Iter<'_, T> {
        Iter {
            table: self,
            cur: self.lru_head,
            remaining: self.len,
        }
    }

    /// The handles from least to most recently active. To end every flow (end of trace)
    /// while mutating the table, loop on [`oldest`](FlowTable::oldest) and
    /// [`remove`](FlowTable::remove) instead: same order, no allocation.
    pub fn ids_oldest_first(&self) -> impl Iterator<Item = FlowId> + '_ {
        self.iter().map(|(id, _, _)| id)
    }

    /// The next more recently active flow after `id` (`None` at the newest or for a stale
    /// handle): a cursor for walking the LRU order while mutating values between steps.
    pub fn newer(&self, id: FlowId) -> Option<FlowId> {
        let next = self.live(id)?.next;
        let slot = self.slots.get(next as usize)?;
        Some(FlowId {
            index: next,
            generation: slot.generation,
        })
    }
}

/// The outcome of a probe.
enum Probe {
    /// The key's slot.
    Found { slot: u32 },
    /// The key is absent; `pos` is the empty index entry that ends its probe sequence.
    Vacant { pos: usize },
}

impl<T> fmt::Debug for FlowTable<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FlowTable")
            .field("len", &self.len)
            .field("capacity", &self.capacity)
            .field("watermark", &self.slots.len())
            .field("index_len", &self.index.len())
            .finish()
    }
}

/// Iterator over a [`FlowTable`] in LRU order (oldest first).
pub struct Iter<'a, T> {
    table: &'a FlowTable<T>,
    cur: u32,
    remaining: usize,
}

impl<'a, T> Iterator for Iter<'a, T> {
    type Item = (FlowId, &'a FlowKey, &'a T);

    fn next(&mut self) -> Option<Self::Item> {
        let slot = self.table.slots.get(self.cur as usize)?;
        let id = FlowId {
            index: self.cur,
            generation: slot.generation,
        };
        self.cur = slot.next;
        self.remaining = self.remaining.saturating_sub(1);
        let value = self.table.values.get(id.index as usize)?;
        Some((id, &slot.key, value))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl<T> ExactSizeIterator for Iter<'_, T> {}

impl<T> fmt::Debug for Iter<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Iter")
            .field("remaining", &self.remaining)
            .finish()
    }
}

#[cfg(test)]
mod tests;
