//! Software prefetch: asking for cache lines before the code that reads them runs.
//!
//! A worker's per-packet cost is dominated by misses on per-flow state spread over tens of
//! megabytes (the flow-table index, the slot header, the connection record, the app's flow
//! state and handler bits): each packet of a busy link belongs to a flow whose state was last
//! touched thousands of packets ago. The misses of one packet depend on each other (the index
//! gives the slot, the slot the record), so they cannot overlap within a packet; those of
//! *different* packets can. [`Worker::process_batch`](crate::Worker::process_batch) therefore
//! looks at a group of frames in stages — find each frame's flow key and prefetch its index
//! entry; then read the entries and prefetch each flow's state — before processing them one
//! by one, by which time their state is in cache.
//!
//! A prefetch is a hint: it never faults, never changes a value, and a wrong guess (the flow
//! is not in the table, or another flow's entry was prefetched) costs one useless memory read.
//! The instruction comes from `safe_arch` (a safe wrapper of SSE's `prefetcht0`, part of every
//! x86-64 CPU), so this crate keeps its no-`unsafe` rule; on other targets the hint does
//! nothing.

/// Brings the cache line holding `value`'s first byte toward the L1 cache.
#[inline(always)]
pub(crate) fn line<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    safe_arch::prefetch_t0(value);
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}

/// Brings every line of `bytes` toward the L1 cache (one hint per 64 bytes, from the first).
#[inline(always)]
pub(crate) fn bytes(bytes: &[u8]) {
    bytes.iter().step_by(64).for_each(line);
}

/// Brings element `i` of `items` toward the L1 cache: its first line, and the next element's
/// when the element crosses a line boundary (that covers elements of up to 64 bytes whole, and
/// the first two lines of larger ones).
#[inline(always)]
pub(crate) fn element<T>(items: &[T], i: usize) {
    if let Some(item) = items.get(i) {
        line(item);
        let offset = std::ptr::from_ref(item) as usize % 64;
        if offset + size_of::<T>() > 64 {
            if let Some(next) = items.get(i + 1) {
                line(next);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_change_nothing() {
        let values = [7u64; 64];
        for v in &values {
            line(v);
        }
        line(&values);
        for i in 0..70 {
            element(&values, i);
        }
        assert!(values.iter().all(|&v| v == 7));
    }
}
