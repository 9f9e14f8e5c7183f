//! Deterministic synthetic captures for mos.
//!
//! Three kinds of traffic, all a pure function of their inputs (and a seed), written as classic
//! pcap files on an Ethernet link with valid IPv4/IPv6 and TCP/UDP/ICMP checksums:
//!
//! - [`script`]: hand-made conversations for tests, one capture per case, written like the
//!   scenario they describe;
//! - [`sample`]: the small, realistic capture the project ships for its README's first
//!   command (HTTP, TLS, DNS, a retransmission, an out-of-order segment, an RST, an idle
//!   connection, an orphan, IPv6);
//! - [`workload`]: seeded, streamed workloads for benchmarks: many concurrent interleaved TCP
//!   connections (HTTP keep-alive with heavy-tailed responses, bulk transfers, TLS), refused
//!   connections, RST teardowns, retransmissions and reordering, DNS and ICMP.
//!
//! Each comes with its **ground truth** ([`truth`]): one JSON line per TCP connection with the
//! field names of `flowdump --json` (SPEC §5), and a summary line, so a test compares a
//! monitor's output with what was generated, field by field.
//!
//! Layering: [`rng`] (xoshiro256**) and [`pcap`] (the file format) at the bottom; [`packet`]
//! builds whole frames with etherparse; [`http`], [`tls`] and [`dns`] build application
//! payloads; [`truth`] observes packets and derives the expected report; `script`, `sample`
//! and `workload` sit on top. The `mos-synth` binary exposes `sample` and `workload`.
//!
//! # A hand-made conversation
//!
//! ```
//! use mos_synth::script::{Script, Client, Server, ACK, PSH};
//!
//! let mut t = Script::new(); // Ethernet, fixed start time, 1 ms per frame
//! let c = t.tcp("10.0.0.1:40000", "10.0.0.2:80");
//! t.handshake(c); // SYN, SYN-ACK, ACK
//! t.send(c, Client, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"); // data, then the server's ACK
//! // A retransmission of the first five bytes: sequence numbers relative to the ISN,
//! // 1 being the first payload byte as in Wireshark.
//! t.segment(c, Client).rel_seq(1).payload(b"GET /").flags(ACK | PSH).emit();
//! t.send(c, Server, b"HTTP/1.1 204 No Content\r\n\r\n");
//! t.fin(c, Client).fin(c, Server).ack(c, Client);
//!
//! // Sequence numbers were tracked per side.
//! assert_eq!(t.seq(c, Client), t.isn(c, Client).wrapping_add(1 + 27 + 1));
//!
//! let truth = t.truth();
//! let line = &truth.connections[0];
//! assert_eq!(line.bytes_client, 27); // the retransmitted bytes count once
//! assert_eq!(line.rexmit_client, 1);
//! assert_eq!(line.http_requests[0].host, "a");
//! assert_eq!(line.end_reason, "fin");
//!
//! let pcap: Vec<u8> = t.to_pcap();
//! assert_eq!(&pcap[..4], &[0xd4, 0xc3, 0xb2, 0xa1]);
//! ```
//!
//! # A workload
//!
//! ```
//! use mos_synth::workload::{Preset, Workload};
//!
//! let mut cfg = Preset::W1.config(7);
//! cfg.flows = 50;
//! cfg.concurrency = 10;
//! let mut pcap = Vec::new();
//! let mut truth = Vec::new();
//! let stats = Workload::new(cfg).unwrap().write(&mut pcap, Some(&mut truth)).unwrap();
//! assert_eq!(stats.summary.connections, 50);
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod dns;
mod error;
pub mod http;
pub mod packet;
pub mod pcap;
pub mod rng;
pub mod sample;
pub mod script;
#[cfg(test)]
mod testutil;
pub mod tls;
pub mod truth;
pub mod workload;

pub use error::Error;
pub use pcap::{Precision, Timestamp};

/// The two ends of a TCP connection: the client sent the SYN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// The side that opened the connection.
    Client,
    /// The side that accepted it.
    Server,
}

impl Side {
    /// The other side.
    pub const fn peer(self) -> Side {
        match self {
            Side::Client => Side::Server,
            Side::Server => Side::Client,
        }
    }

    /// 0 for the client, 1 for the server.
    pub const fn index(self) -> usize {
        match self {
            Side::Client => 0,
            Side::Server => 1,
        }
    }
}
