//! A bounded, blocking queue between two threads, with its storage allocated once.
//!
//! The multi-core reader and each worker exchange a fixed set of preallocated batches through
//! two of these per worker: filled batches one way, emptied ones back. Every batch is always in
//! exactly one place (a ring, the reader's hands, or the worker's), so a ring never holds more
//! than the batches in circulation; its capacity is that number and a push never waits.
//!
//! A `Mutex` around a `VecDeque` of fixed capacity and a `Condvar` for the popper: one lock per
//! *batch* (hundreds of packets), so contention costs nothing per packet, and no `unsafe`. A
//! push wakes the other side only when it is asleep (the `sleeping` flag), so a busy pair
//! never makes a system call. Nothing allocates after [`Ring::new`]: the deque never grows
//! past its reserved capacity, and std's futex-based `Mutex`/`Condvar` allocate nothing.
//!
//! Either side may [`close`](Ring::close) the ring (end of input, or a thread unwinding): a
//! closed ring still hands out what it holds, then `pop` returns `None` instead of blocking.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

struct State<T> {
    items: VecDeque<T>,
    closed: bool,
    /// The popper is (about to be) blocked in `wait`.
    sleeping: bool,
}

/// A bounded blocking single-producer single-consumer queue.
pub(crate) struct Ring<T> {
    state: Mutex<State<T>>,
    ready: Condvar,
    capacity: usize,
}

impl<T> Ring<T> {
    /// A ring for at most `capacity` items (at least 1), all its storage reserved now.
    pub fn new(capacity: usize) -> Ring<T> {
        let capacity = capacity.max(1);
        Ring {
            state: Mutex::new(State {
                items: VecDeque::with_capacity(capacity),
                closed: false,
                sleeping: false,
            }),
            ready: Condvar::new(),
            capacity,
        }
    }

    /// A panic on another thread must not turn into a second one here: the state is a plain
    /// queue, consistent after every operation, so a poisoned lock is still usable.
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends `item`, waking the popper if it sleeps. Gives the item back when the ring is
    /// closed or full (full cannot happen when the ring's capacity is the number of items in
    /// circulation, as in the multi-core runtime).
    pub fn push(&self, item: T) -> Result<(), T> {
        let mut s = self.lock();
        if s.closed || s.items.len() >= self.capacity {
            return Err(item);
        }
        s.items.push_back(item);
        let wake = s.sleeping;
        drop(s);
        if wake {
            self.ready.notify_one();
        }
        Ok(())
    }

    /// The oldest item, waiting for one if the ring is empty; `None` once the ring is closed
    /// and empty.
    pub fn pop(&self) -> Option<T> {
        let mut s = self.lock();
        loop {
            if let Some(item) = s.items.pop_front() {
                return Some(item);
            }
            if s.closed {
                return None;
            }
            s.sleeping = true;
            s = self.ready.wait(s).unwrap_or_else(PoisonError::into_inner);
            s.sleeping = false;
        }
    }

    /// No more pushes; a blocked `pop` returns what is left, then `None`.
    pub fn close(&self) {
        let mut s = self.lock();
        s.closed = true;
        drop(s);
        self.ready.notify_all();
    }
}

impl<T> std::fmt::Debug for Ring<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.lock();
        f.debug_struct("Ring")
            .field("len", &s.items.len())
            .field("capacity", &self.capacity)
            .field("closed", &s.closed)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn fifo_bounded_and_closed() {
        let ring = Ring::new(2);
        assert!(ring.push(1).is_ok());
        assert!(ring.push(2).is_ok());
        assert_eq!(ring.push(3), Err(3), "a full ring gives the item back");
        assert_eq!(ring.pop(), Some(1));
        assert!(ring.push(3).is_ok());
        ring.close();
        assert_eq!(ring.push(4), Err(4), "a closed ring takes nothing");
        assert_eq!(ring.pop(), Some(2), "a closed ring still drains");
        assert_eq!(ring.pop(), Some(3));
        assert_eq!(ring.pop(), None);
    }

    #[test]
    fn pop_blocks_until_push_or_close() {
        let ring = Arc::new(Ring::new(4));
        let consumer = {
            let ring = Arc::clone(&ring);
            std::thread::spawn(move || {
                let mut got = Vec::new();
                while let Some(v) = ring.pop() {
                    got.push(v);
                }
                got
            })
        };
        // Pushing items one at a time with room always free (the consumer keeps up or not:
        // either way every item arrives, in order).
        let mut sent = 0;
        while sent < 1000 {
            if ring.push(sent).is_ok() {
                sent += 1;
            } else {
                std::thread::yield_now();
            }
        }
        ring.close();
        let got = consumer.join().unwrap();
        assert_eq!(got, (0..1000).collect::<Vec<_>>());
    }
}
