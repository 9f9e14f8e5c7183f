//! What the midstat app must count on a generated capture, from the generator's ground truth.
//!
//! The generator describes every TCP connection in `flowdump`'s terms (`mos_synth::truth`);
//! summed over connections, those lines give the totals [`crate::app::Midstat`] accumulates.
//! Comparing the sums (and the HTTP request digest, which covers every request line's
//! content) checks a whole multi-million-packet run with a few integers.

use std::io::BufRead;
use std::path::Path;

use mos_synth::truth::{ConnTruth, Summary};
use serde::Serialize;

use crate::app::{Totals, request_digest};

/// The expected totals of a capture.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Expected {
    /// The app's totals.
    pub totals: Totals,
    /// Frames in the capture.
    pub packets: u64,
    /// Packets outside any connection.
    pub orphans: u64,
    /// TCP frames.
    pub tcp_packets: u64,
}

impl Expected {
    /// Adds one connection line.
    pub fn add(&mut self, c: &ConnTruth) {
        let t = &mut self.totals;
        t.connections += 1;
        t.pkts_client += c.pkts_client;
        t.pkts_server += c.pkts_server;
        t.bytes_client += c.bytes_client;
        t.bytes_server += c.bytes_server;
        t.missed_client += c.missed_client;
        t.missed_server += c.missed_server;
        t.rexmit_client += c.rexmit_client;
        t.rexmit_server += c.rexmit_server;
        t.http_requests += c.http_requests.len() as u64;
        for r in &c.http_requests {
            t.http_digest = t.http_digest.wrapping_add(request_digest(
                r.method.as_bytes(),
                r.host.as_bytes(),
                r.uri.as_bytes(),
            ));
        }
    }

    /// Records the summary line.
    pub fn set_summary(&mut self, s: &Summary) {
        self.packets = s.packets;
        self.orphans = s.orphans;
        self.tcp_packets = s.tcp_packets;
    }

    /// Reads a ground-truth file (`mos-synth workload --truth FILE`): JSON lines, one per
    /// connection, then `{"summary":{...}}`.
    pub fn read(path: &Path) -> Result<Expected, String> {
        Expected::read_filtered(path, false)
    }

    /// [`read`](Expected::read), counting only the IPv4 connections when `ipv4_only` (what
    /// libnids, which tracks IPv4 only, can be compared with; the summary stays whole).
    pub fn read_filtered(path: &Path, ipv4_only: bool) -> Result<Expected, String> {
        let file = std::fs::File::open(path)
            .map_err(|e| format!("{}: cannot open the ground truth: {e}", path.display()))?;
        let mut expected = Expected::default();
        let mut summary = false;
        for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
            let line = line.map_err(|e| format!("{}: {e}", path.display()))?;
            if line.trim().is_empty() {
                continue;
            }
            let value: serde_json::Value = serde_json::from_str(&line)
                .map_err(|e| format!("{} line {}: {e}", path.display(), i + 1))?;
            if let Some(s) = value.get("summary") {
                let s: Summary = serde_json::from_value(s.clone())
                    .map_err(|e| format!("{} line {}: {e}", path.display(), i + 1))?;
                expected.set_summary(&s);
                summary = true;
            } else {
                let c: ConnTruth = serde_json::from_value(value)
                    .map_err(|e| format!("{} line {}: {e}", path.display(), i + 1))?;
                // IPv6 endpoints print as `[addr]:port`.
                if !(ipv4_only && c.client.starts_with('[')) {
                    expected.add(&c);
                }
            }
        }
        if !summary {
            return Err(format!("{}: no summary line", path.display()));
        }
        Ok(expected)
    }

    /// The fields where `got` differs from `self`, as `name: got X, expected Y`.
    pub fn differences(&self, got: &Expected) -> Vec<String> {
        let mut out = Vec::new();
        let mut cmp = |name: &str, g: u64, e: u64| {
            if g != e {
                out.push(format!("{name}: got {g}, expected {e}"));
            }
        };
        let (g, e) = (&got.totals, &self.totals);
        cmp("packets", got.packets, self.packets);
        cmp("orphans", got.orphans, self.orphans);
        cmp("tcp_packets", got.tcp_packets, self.tcp_packets);
        cmp("connections", g.connections, e.connections);
        cmp("pkts_client", g.pkts_client, e.pkts_client);
        cmp("pkts_server", g.pkts_server, e.pkts_server);
        cmp("bytes_client", g.bytes_client, e.bytes_client);
        cmp("bytes_server", g.bytes_server, e.bytes_server);
        cmp("missed_client", g.missed_client, e.missed_client);
        cmp("missed_server", g.missed_server, e.missed_server);
        cmp("rexmit_client", g.rexmit_client, e.rexmit_client);
        cmp("rexmit_server", g.rexmit_server, e.rexmit_server);
        cmp("http_requests", g.http_requests, e.http_requests);
        cmp("http_digest", g.http_digest, e.http_digest);
        out
    }
}
