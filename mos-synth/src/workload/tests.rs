use super::flow::{Rcv, TLS_RECORD, tls_len};
use super::*;
use crate::Error;
use crate::testutil;
use crate::truth::Truth;
use std::time::Duration;

fn small(seed: u64, flows: u64, concurrency: u32) -> WorkloadConfig {
    let mut cfg = Preset::W1.config(seed);
    cfg.flows = flows;
    cfg.concurrency = concurrency;
    cfg
}

fn run(cfg: WorkloadConfig) -> (Vec<u8>, Truth, WorkloadStats) {
    let mut pcap = Vec::new();
    let mut truth = Vec::new();
    let stats = Workload::new(cfg)
        .unwrap()
        .write(&mut pcap, Some(&mut truth))
        .unwrap();
    let truth = Truth::parse_json_lines(std::str::from_utf8(&truth).unwrap()).unwrap();
    (pcap, truth, stats)
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let (a, ta, _) = run(small(11, 120, 30));
    let (b, tb, _) = run(small(11, 120, 30));
    assert!(a == b, "same seed, different pcap");
    assert_eq!(ta, tb);
    let (c, tc, _) = run(small(12, 120, 30));
    assert!(a != c, "different seeds, same pcap");
    assert_ne!(ta, tc);
    // Without truth the pcap is the same too.
    let mut d = Vec::new();
    Workload::new(small(11, 120, 30))
        .unwrap()
        .write_pcap(&mut d)
        .unwrap();
    assert!(a == d);
}

#[test]
fn frames_are_valid_and_truth_matches_them() {
    let (pcap, truth, stats) = run(small(3, 300, 60));
    let recs = testutil::records(&pcap);
    assert!(
        recs.windows(2).all(|w| w[0].ts_nanos <= w[1].ts_nanos),
        "time order"
    );
    assert_eq!(recs.len() as u64, stats.summary.packets);
    assert_eq!(truth.summary, stats.summary);
    assert_eq!(testutil::check_against_truth(&pcap, &truth), 300);
    // Every connection line names a distinct pair of endpoints, with a SYN.
    assert!(truth.connections.iter().all(|c| c.syn));
    assert!(truth.connections.iter().any(|c| c.client.starts_with('[')));
    assert!(truth.connections.iter().any(|c| !c.tls_sni.is_empty()));
    assert!(
        truth
            .connections
            .iter()
            .any(|c| c.rexmit_server + c.rexmit_client > 0)
    );
    let pkts: u64 = truth
        .connections
        .iter()
        .map(|c| c.pkts_client + c.pkts_server)
        .sum();
    assert_eq!(pkts + truth.summary.orphans, truth.summary.packets);
}

#[test]
fn the_mix_matches_the_configured_shares() {
    let mut cfg = small(5, 4000, 400);
    // Bulk transfers are most of the packets but none of these shares: keep the test quick.
    cfg.bulk_share = 0.0;
    let (_, truth, stats) = run(cfg);
    let n = truth.connections.len() as f64;
    let refused = truth.connections.iter().filter(|c| !c.synack).count() as f64;
    assert!((0.005..0.02).contains(&(refused / n)), "refused {refused}");
    let reset = truth
        .connections
        .iter()
        .filter(|c| c.synack && c.rst)
        .count() as f64;
    assert!(
        (0.06..0.10).contains(&(reset / (n - refused))),
        "reset {reset}"
    );
    let data = stats.data_segments as f64;
    let rexmit = stats.rexmit_segments as f64 / data;
    let reorder = stats.reordered_segments as f64 / data;
    assert!((0.003..0.007).contains(&rexmit), "rexmit rate {rexmit}");
    assert!(
        (0.0015..0.0045).contains(&reorder),
        "reorder rate {reorder}"
    );
    let rexmits: u64 = truth
        .connections
        .iter()
        .map(|c| c.rexmit_client + c.rexmit_server)
        .sum();
    assert_eq!(rexmits, stats.rexmit_segments);
    let v6 = truth
        .connections
        .iter()
        .filter(|c| c.client.starts_with('['))
        .count() as f64;
    assert!((0.03..0.07).contains(&(v6 / n)), "ipv6 {v6}");
    let fin = truth
        .connections
        .iter()
        .filter(|c| c.end_reason == "fin")
        .count() as f64;
    assert!(fin / n > 0.85);
    let reqs: usize = truth
        .connections
        .iter()
        .map(|c| c.http_requests.len())
        .sum();
    assert_eq!(reqs as u64, stats.http_requests);
    assert!(stats.dns_queries > 0 && truth.summary.icmp_packets > 0);
}

#[test]
fn concurrency_is_respected() {
    let (_, truth, stats) = run(small(9, 600, 50));
    assert_eq!(stats.peak_open, 50);
    // From the truth alone: at no time are more than 50 connections between SYN and last
    // packet.
    let mut events: Vec<(f64, i32)> = truth
        .connections
        .iter()
        .flat_map(|c| [(c.start, 1), (c.last + 1e-7, -1)])
        .collect();
    events.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let mut open = 0;
    let mut peak = 0;
    for (_, d) in events {
        open += d;
        peak = peak.max(open);
    }
    assert!((40..=50).contains(&peak), "peak {peak}");
}

#[test]
fn bulk_uses_full_size_segments() {
    let mut cfg = Preset::WB.config(2);
    cfg.flows = 12;
    cfg.concurrency = 4;
    cfg.bulk_min = 200_000;
    cfg.bulk_max = 300_000;
    cfg.ipv6_share = 0.0;
    let (pcap, truth, stats) = run(cfg);
    assert!(stats.bulk_flows >= 3, "{stats:?}");
    let sizes: Vec<usize> = testutil::records(&pcap)
        .iter()
        .filter_map(|r| match testutil::parse_frame(r.data) {
            testutil::Parsed::Tcp(s) if !s.payload.is_empty() => Some(s.payload.len()),
            _ => None,
        })
        .collect();
    let full = sizes.iter().filter(|&&s| s == 1460).count();
    assert!(full * 10 > sizes.len() * 8, "{full} of {}", sizes.len());
    assert!(
        truth
            .connections
            .iter()
            .any(|c| c.bytes_server >= 200_000 || c.bytes_client >= 200_000)
    );
}

#[test]
fn next_frame_streams_and_drains_truth() {
    let mut w = Workload::new(small(4, 20, 5)).unwrap();
    w.keep_truth(true);
    let mut frames = 0u64;
    let mut lines = 0;
    let mut last = Timestamp::default();
    while let Some((ts, frame)) = w.next_frame().unwrap() {
        assert!(ts >= last);
        assert!(frame.len() >= 60);
        last = ts;
        frames += 1;
        w.drain_truth(|_| lines += 1);
    }
    assert_eq!(lines, 20);
    assert_eq!(w.stats().summary.packets, frames);
    assert!(w.next_frame().unwrap().is_none());
}

#[test]
fn presets_and_validation() {
    assert_eq!(Preset::parse("w1"), Some(Preset::W1));
    assert_eq!(Preset::parse("WB"), Some(Preset::WB));
    assert_eq!(Preset::parse("W2"), None);
    let w1 = Preset::W1.config(1);
    assert_eq!((w1.flows, w1.concurrency), (14_400, 2_000));
    assert_eq!(
        (w1.bulk_share, w1.refused_share, w1.rst_share),
        (0.03, 0.01, 0.08)
    );
    assert_eq!((w1.rexmit_rate, w1.reorder_rate), (0.005, 0.003));
    let w5 = Preset::W5.config(1);
    assert_eq!((w5.flows, w5.concurrency), (72_000, 10_000));
    let wc = Preset::WC.config(1);
    assert_eq!(
        (wc.flows, wc.concurrency, wc.bulk_share),
        (200_000, 50_000, 0.0)
    );
    let wb = Preset::WB.config(1);
    assert_eq!((wb.flows, wb.bulk_share), (4_000, 0.5));
    for p in Preset::ALL {
        p.config(1).validate().unwrap();
    }

    let bad = |f: fn(&mut WorkloadConfig)| {
        let mut c = Preset::W1.config(1);
        f(&mut c);
        matches!(Workload::new(c), Err(Error::Config(_)))
    };
    assert!(bad(|c| c.concurrency = 0));
    assert!(bad(|c| c.bulk_share = 1.5));
    assert!(bad(|c| c.rexmit_rate = -0.1));
    assert!(bad(|c| c.requests_mean = 0.5));
    assert!(bad(|c| c.response_alpha = 0.0));
    assert!(bad(|c| c.bulk_min = c.bulk_max + 1));
    assert!(bad(|c| c.rtt_min = Duration::ZERO));
    assert!(bad(|c| c.flows = MAX_FLOWS + 1));
    assert!(bad(|c| c.tls_share = f64::NAN));
}

#[test]
fn zero_flows_is_an_empty_capture() {
    let (pcap, truth, stats) = run(small(1, 0, 10));
    assert_eq!(pcap.len(), 24);
    assert_eq!(stats.summary.packets, 0);
    assert!(truth.connections.is_empty());
}

#[test]
fn receiver_model_tracks_holes() {
    let mut r = Rcv {
        nxt: 100,
        ..Rcv::default()
    };
    r.deliver(110, 120); // hole 100..110
    r.deliver(120, 130); // extends the held range
    assert_eq!((r.nxt, r.n), (100, 1));
    r.deliver(100, 110);
    assert_eq!((r.nxt, r.n), (130, 0));
    r.deliver(120, 125); // old data
    assert_eq!(r.nxt, 130);
    // Across the wrap.
    let mut w = Rcv {
        nxt: u32::MAX - 4,
        ..Rcv::default()
    };
    w.deliver(5, 10);
    w.deliver(u32::MAX - 4, 5);
    assert_eq!(w.nxt, 10);
}

#[test]
fn tls_record_lengths_never_leave_an_empty_record() {
    for len in [
        0,
        1,
        5,
        6,
        TLS_RECORD,
        TLS_RECORD + 1,
        TLS_RECORD + 5,
        3 * TLS_RECORD + 2,
    ] {
        let l = tls_len(len);
        assert!(l >= len.max(6));
        let r = l % TLS_RECORD;
        assert!(r == 0 || r > 5, "{len} -> {l}");
    }
}
