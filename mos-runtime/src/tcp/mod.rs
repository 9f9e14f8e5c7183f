//! TCP tracking: sequence arithmetic and the per-endpoint emulated state machines.
//!
//! mOS emulates *both* endpoints' stacks: each connection has a client-side and a server-side
//! [`Endpoint`]. A packet updates its sender's endpoint first (what the sender now knows it sent)
//! and then its receiver's endpoint (what the receiver now knows it received). Reassembly lives
//! in [`crate::stream`]; this module decides states and which events the update implies.

pub mod seq;
pub mod state;

pub use seq::SeqNum;
pub use state::{Endpoint, RecvControl, Segment, SendOutcome, TcpState};
