//! Proves that reading frames (`PcapReader::next_frame`) and parsing them (`wire::parse`)
//! allocate nothing per frame once the reader is built, for a file reader and an in-memory
//! reader, over real captures in both formats.
//!
//! A counting global allocator wraps the system allocator. The count is thread-local, so the
//! test harness and tests running in parallel on other threads do not disturb it.
#![allow(unsafe_code)]
#![allow(clippy::unwrap_used)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::path::PathBuf;

thread_local! {
    /// Allocations (alloc, alloc_zeroed, realloc) made by this thread.
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

fn bump() {
    // `try_with`: the slot may already be gone while a thread is being torn down.
    let _ = ALLOCATIONS.try_with(|count| count.set(count.get() + 1));
}

struct CountingAllocator;

// SAFETY: every method forwards its arguments unchanged to `System`, so the memory handed out
// and taken back is exactly `System`'s and meets the `GlobalAlloc` contract as `System` does.
// The only extra work is `bump`, which touches a const-initialised thread-local `Cell` (no lazy
// initialisation, no destructor registration), so it never allocates or re-enters the allocator.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        bump();
        // SAFETY: the caller upholds `alloc`'s contract for `layout`; we pass it through.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        bump();
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` (through this wrapper) with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        bump();
        // SAFETY: `ptr` came from `System` with `layout`; the caller upholds `new_size`'s rules.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Runs `f` and returns its result with the number of allocations it made on this thread.
fn counting<T>(f: impl FnOnce() -> T) -> (T, u64) {
    let before = ALLOCATIONS.with(Cell::get);
    let result = f();
    (result, ALLOCATIONS.with(Cell::get) - before)
}

fn trace(name: &str) -> PathBuf {
    let dir = match std::env::var_os("MOS_TRACES") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/traces/public"),
    };
    assert!(
        dir.is_dir(),
        "trace directory {} not found: set MOS_TRACES",
        dir.display()
    );
    dir.join(name)
}

/// The traces and their frame counts (the tshark oracle's "frames").
const TRACES: [(&str, u64); 5] = [
    ("retina-tls-ciphers.pcap", 1095),
    ("zeek-ipv6-http-atomic-frag.pcap", 38),
    ("tcpdump-tcp-handshake-nano.pcap", 3),
    ("zeek-tcp-retransmit-timeout.pcapng", 3),
    ("pcapparser-test001-be.pcapng", 4),
];

// Named `io::...` so that `cargo test io::` selects them with the module tests.
mod io {
    use super::*;
    use mos_runtime::io::PcapReader;
    use mos_runtime::wire::{Packet, parse};

    /// Reads and parses every frame, touching the payload; returns (frames, TCP payload bytes).
    fn replay(reader: &mut PcapReader) -> (u64, u64) {
        let mut frames = 0;
        let mut tcp_bytes = 0u64;
        while let Some(frame) = reader.next_frame().unwrap() {
            frames += 1;
            for verify in [false, true] {
                if let Ok(meta) = parse(frame.link, frame.data, frame.ts, frame.wire_len, verify) {
                    if meta.tcp().is_some() && !verify {
                        tcp_bytes += Packet::new(&meta, frame.data).payload().len() as u64;
                    }
                }
            }
        }
        (frames, tcp_bytes)
    }

    #[test]
    fn file_reader_and_parser_allocate_nothing_per_frame() {
        for (name, expected) in TRACES {
            let (reader, setup) = counting(|| PcapReader::open(trace(name)));
            let mut reader = reader.unwrap();
            // The counter works: building the reader allocated its buffer.
            assert!(setup > 0, "{name}: no allocation seen at construction");
            let ((frames, _), allocations) = counting(|| replay(&mut reader));
            assert_eq!(frames, expected, "{name}");
            assert_eq!(
                allocations, 0,
                "{name}: {allocations} allocations over {frames} frames"
            );
        }
    }

    #[test]
    fn memory_reader_and_parser_allocate_nothing_per_frame() {
        for (name, expected) in TRACES {
            let bytes = std::fs::read(trace(name)).unwrap();
            let mut reader = PcapReader::from_bytes(bytes).unwrap();
            let ((frames, tcp_bytes), allocations) = counting(|| replay(&mut reader));
            assert_eq!(frames, expected, "{name}");
            assert_eq!(
                allocations, 0,
                "{name}: {allocations} allocations over {frames} frames"
            );
            if name == "retina-tls-ciphers.pcap" {
                assert!(tcp_bytes > 100_000, "{tcp_bytes}");
            }
        }
    }

    #[test]
    fn the_counter_sees_allocations() {
        // A test that could not fail would prove nothing: show the counter counts.
        let (v, allocations) = counting(|| vec![1u8; 64]);
        assert_eq!(v.len(), 64);
        assert_eq!(allocations, 1);
    }
}
