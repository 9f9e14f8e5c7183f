//! Per-side TCP reassembly: byte regions from a shared pool, and the buffer that orders a
//! peer's bytes into a stream.
//!
//! * [`pool`]: [`BufferPool`], fixed-size regions carved out of one lazily committed
//!   allocation, handed out by [`RegionId`].
//! * [`buffer`]: [`StreamBuf`], one side's reassembly metadata (no heap) over one region:
//!   in-order bytes, out-of-order fragments, gap skipping, overflow accounting.
//! * [`overlap`]: [`OverlapPolicy`], which copy wins when bytes are received twice.

pub mod buffer;
pub mod overlap;
pub mod pool;

pub use buffer::{MAX_FRAGMENTS, MAX_GAPS, StreamBuf, WriteOutcome};
pub use overlap::{OverlapPolicy, ParsePolicyError};
pub use pool::{BufferPool, PoolConfigError, RegionId};
