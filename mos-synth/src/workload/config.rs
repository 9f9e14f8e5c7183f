//! Workload parameters and the presets of the performance issue.

use std::time::Duration;

use crate::Error;
use crate::pcap::{Precision, Timestamp};

/// Parameters of a workload. Start from a [`Preset`] and change what you need.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkloadConfig {
    /// Seed of everything random.
    pub seed: u64,
    /// TCP connections in total.
    pub flows: u64,
    /// Connections open at once.
    pub concurrency: u32,
    /// Share of connections that are bulk transfers.
    pub bulk_share: f64,
    /// Share of the other connections that are TLS on port 443.
    pub tls_share: f64,
    /// Share of connections refused (SYN answered by RST).
    pub refused_share: f64,
    /// Share of established connections closed by an RST instead of FINs.
    pub rst_share: f64,
    /// Probability that a data segment is lost after the tap and retransmitted.
    pub rexmit_rate: f64,
    /// Probability that a data segment is swapped with its successor.
    pub reorder_rate: f64,
    /// Share of connections over IPv6.
    pub ipv6_share: f64,
    /// Share of connections preceded by a DNS lookup.
    pub dns_share: f64,
    /// Share of connections preceded by a ping.
    pub icmp_share: f64,
    /// Mean request/response exchanges per keep-alive connection (geometric, at least 1).
    pub requests_mean: f64,
    /// Pareto scale (smallest size) of response bodies, bytes.
    pub response_min: f64,
    /// Pareto shape of response bodies (smaller is heavier-tailed).
    pub response_alpha: f64,
    /// Cap on response bodies, bytes.
    pub response_max: u64,
    /// Smallest bulk transfer, bytes (sizes are log-uniform).
    pub bulk_min: u64,
    /// Largest bulk transfer, bytes.
    pub bulk_max: u64,
    /// Mean client think time between exchanges.
    pub think_mean: Duration,
    /// Smallest round-trip time (log-uniform per connection).
    pub rtt_min: Duration,
    /// Largest round-trip time.
    pub rtt_max: Duration,
    /// Time of the first packet (before jitter).
    pub start: Timestamp,
    /// Timestamp precision of the pcap.
    pub precision: Precision,
}

/// The workloads of the performance issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Preset {
    /// 14,400 connections, 2,000 open at once, about 1 M packets; HTTP-heavy, 3 % bulk,
    /// 1 % refused, 0.5 % retransmitted and 0.3 % reordered segments, 8 % RST teardowns.
    W1,
    /// W1's mix at five times the size: 72,000 connections, 10,000 open, about 4.9 M packets.
    W5,
    /// Connection churn: 200,000 small HTTP connections (one short exchange), 50,000 open.
    WC,
    /// Bulk: 4,000 connections, half of them bulk transfers in full-size segments.
    WB,
}

impl Preset {
    /// Every preset.
    pub const ALL: [Preset; 4] = [Preset::W1, Preset::W5, Preset::WC, Preset::WB];

    /// The preset's name (`W1`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Preset::W1 => "W1",
            Preset::W5 => "W5",
            Preset::WC => "WC",
            Preset::WB => "WB",
        }
    }

    /// The preset named `name` (case-insensitive).
    pub fn parse(name: &str) -> Option<Preset> {
        Preset::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(name))
    }

    /// The preset's parameters with `seed`.
    pub fn config(self, seed: u64) -> WorkloadConfig {
        let w1 = WorkloadConfig {
            seed,
            flows: 14_400,
            concurrency: 2_000,
            bulk_share: 0.03,
            tls_share: 0.25,
            refused_share: 0.01,
            rst_share: 0.08,
            rexmit_rate: 0.005,
            reorder_rate: 0.003,
            ipv6_share: 0.05,
            dns_share: 0.2,
            icmp_share: 0.01,
            requests_mean: 5.3,
            response_min: 1_200.0,
            response_alpha: 1.2,
            response_max: 2 << 20,
            bulk_min: 128 << 10,
            bulk_max: 2 << 20,
            think_mean: Duration::from_millis(150),
            rtt_min: Duration::from_millis(1),
            rtt_max: Duration::from_millis(150),
            start: Timestamp::from_unix(1_700_000_000, 0),
            precision: Precision::Micros,
        };
        match self {
            Preset::W1 => w1,
            Preset::W5 => WorkloadConfig {
                flows: 72_000,
                concurrency: 10_000,
                ..w1
            },
            Preset::WC => WorkloadConfig {
                flows: 200_000,
                concurrency: 50_000,
                bulk_share: 0.0,
                tls_share: 0.0,
                requests_mean: 1.0,
                response_min: 300.0,
                response_alpha: 1.5,
                response_max: 64 << 10,
                think_mean: Duration::from_millis(20),
                ..w1
            },
            Preset::WB => WorkloadConfig {
                flows: 4_000,
                concurrency: 500,
                bulk_share: 0.5,
                ..w1
            },
        }
    }
}

impl WorkloadConfig {
    /// Checks that every value makes sense.
    pub fn validate(&self) -> Result<(), Error> {
        let shares = [
            ("bulk_share", self.bulk_share),
            ("tls_share", self.tls_share),
            ("refused_share", self.refused_share),
            ("rst_share", self.rst_share),
            ("rexmit_rate", self.rexmit_rate),
            ("reorder_rate", self.reorder_rate),
            ("ipv6_share", self.ipv6_share),
            ("dns_share", self.dns_share),
            ("icmp_share", self.icmp_share),
        ];
        for (name, v) in shares {
            if !(0.0..=1.0).contains(&v) {
                return Err(Error::Config(format!("{name} must be in [0, 1], not {v}")));
            }
        }
        if self.concurrency == 0 {
            return Err(Error::Config("concurrency must be at least 1".into()));
        }
        if self.flows > MAX_FLOWS {
            return Err(Error::Config(format!(
                "at most {MAX_FLOWS} flows (unique client address and port pairs)"
            )));
        }
        if !(self.requests_mean >= 1.0 && self.requests_mean <= 1000.0) {
            return Err(Error::Config("requests_mean must be in [1, 1000]".into()));
        }
        if !(self.response_min >= 1.0 && self.response_alpha > 0.0) {
            return Err(Error::Config(
                "response_min must be at least 1 and response_alpha positive".into(),
            ));
        }
        if self.bulk_min == 0 || self.bulk_min > self.bulk_max {
            return Err(Error::Config("need 0 < bulk_min <= bulk_max".into()));
        }
        if self.rtt_min.is_zero() || self.rtt_min > self.rtt_max {
            return Err(Error::Config("need 0 < rtt_min <= rtt_max".into()));
        }
        Ok(())
    }
}

/// Client hosts; with 28,000 ports each this bounds the unique 5-tuples.
pub(super) const CLIENTS: u64 = 1000;
/// Ephemeral ports per client (32768..60768).
pub(super) const PORTS: u64 = 28_000;
/// Largest `flows` with unique client address/port pairs.
pub const MAX_FLOWS: u64 = CLIENTS * PORTS;
