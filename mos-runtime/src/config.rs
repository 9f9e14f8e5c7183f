//! Start-up configuration: every capacity and timeout, read once. Nothing grows after start-up;
//! when a limit is hit the runtime raises `ON_ERROR` with the limit's kind and counts it.

use std::time::Duration;

use crate::stream::OverlapPolicy;

/// Capacities, timeouts and policies of a run (set through [`crate::RuntimeBuilder`]).
#[derive(Clone, Debug)]
pub struct Config {
    /// Flow-table capacity per worker.
    pub max_flows: usize,
    /// Reassembly bytes per side.
    pub buffer_size: usize,
    /// Reassembly buffers in the pool per worker (each side takes one on its first payload and
    /// returns it when the connection ends). Memory is reserved, not touched, until used.
    pub buffers: usize,
    /// Out-of-order holes a side may hold before segments creating new ones are refused.
    pub max_holes: usize,
    /// Which copy wins when retransmitted bytes overlap bytes already held.
    pub overlap: OverlapPolicy,
    /// A connection with no packet for this long ends with `EndReason::Timeout`.
    pub idle_timeout: Duration,
    /// When the table is full, the least recently active flow is evicted only if it has been
    /// idle at least this long; otherwise the new flow is refused.
    pub evict_min_idle: Duration,
    /// Packets per receive batch (`ON_CONN_NEW_DATA` is coalesced per side per batch).
    pub batch_size: usize,
    /// Verify IPv4/TCP/UDP checksums; bad packets become `ON_ERROR(BadChecksum)`. Off by
    /// default: captures taken on an end host carry offloaded (not yet computed) checksums.
    pub verify_checksums: bool,
    /// Resolution of the timer wheel.
    pub timer_tick: Duration,
    /// Whether reassembly is on for new connections.
    pub buffering: bool,
    /// A side whose received bytes have all been read (nothing unread, kept, out of order or
    /// pending behind a gap) gives its reassembly buffer back to the pool after its
    /// `ON_CONN_NEW_DATA`, and takes one again with its next payload. So only sides with
    /// bytes to hold occupy buffers, and the few buffers in use are reused while their pages
    /// are warm: resident memory follows the data in flight, not the connections open. The
    /// price: bytes already read are no longer held, so a later retransmission of them is not
    /// compared with them (no `OverlapConflict` for it; it is still an `ON_REXMIT`), and
    /// `peek_at` cannot return them. Off: a side keeps its buffer, and the bytes it read, until
    /// its connection ends or the buffer must make room.
    pub release_drained: bool,
    /// Prefetch each packet's flow state a few packets ahead (see the `prefetch` module) while
    /// at least this many flows are tracked. Prefetching pays when the flows' state no longer
    /// stays in the last-level cache between two packets of a flow, and costs a little when
    /// it does (it reads frames ahead and asks for lines already there). Measured on a
    /// 2-vCPU EPYC VM, prefetching always against never: WC (50,000 flows open) 1.56× faster,
    /// W5 (10,000) 5 % slower, W1 (2,000) 1.4× slower, WB (500 bulk flows) 1.3× slower.
    /// `usize::MAX` turns it off, 0 on always.
    pub prefetch_min_flows: usize,
    /// Progress bar on stderr (only drawn when stderr is a terminal).
    pub progress: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_flows: 1 << 16,
            buffer_size: 64 << 10,
            buffers: 4096,
            max_holes: 8,
            overlap: OverlapPolicy::default(),
            idle_timeout: Duration::from_secs(60),
            evict_min_idle: Duration::from_secs(10),
            batch_size: 32,
            verify_checksums: false,
            timer_tick: Duration::from_millis(1),
            buffering: true,
            release_drained: true,
            prefetch_min_flows: 16_384,
            progress: true,
        }
    }
}
