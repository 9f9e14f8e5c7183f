//! flowdump against the generator's ground truth: the shipped-style sample and a scaled-down
//! W1 workload. Unlike tshark, the generator knows what it sent, including retransmission
//! counts and bytes that never reached the capture, so every field of SPEC §5 is compared.

use std::collections::HashMap;

use mos_examples::flowdump::{ConnRecord, Core, FlowDump};
use mos_runtime::{Report, Runtime};
use mos_synth::truth::{ConnTruth, Truth};
use mos_synth::workload::{Preset, Workload};

fn flowdump(pcap: Vec<u8>) -> (Report, Vec<ConnRecord>) {
    let (report, core) = Runtime::builder()
        .pcap_bytes(pcap)
        .progress(false)
        .build()
        .expect("build")
        .run_init::<FlowDump>(Core::default())
        .expect("run");
    (report, core.records)
}

/// Every field flowdump prints, as text, for a readable diff.
fn fields_of_record(r: &ConnRecord) -> Vec<(&'static str, String)> {
    let http: Vec<String> = r
        .http_requests
        .iter()
        .map(|h| format!("{} {} {}", h.method, h.host, h.uri))
        .collect();
    vec![
        ("end_reason", r.end_reason.to_string()),
        ("synack", r.synack.to_string()),
        ("fin_client", r.fin_client.to_string()),
        ("fin_server", r.fin_server.to_string()),
        ("rst", r.rst.to_string()),
        ("pkts_client", r.pkts_client.to_string()),
        ("pkts_server", r.pkts_server.to_string()),
        ("bytes_client", r.bytes_client.to_string()),
        ("bytes_server", r.bytes_server.to_string()),
        ("rexmit_client", r.rexmit_client.to_string()),
        ("rexmit_server", r.rexmit_server.to_string()),
        ("missed_client", r.missed_client.to_string()),
        ("missed_server", r.missed_server.to_string()),
        ("http_requests", http.join(" | ")),
        ("tls_sni", r.tls_sni.join(",")),
    ]
}

fn fields_of_truth(t: &ConnTruth) -> Vec<(&'static str, String)> {
    let http: Vec<String> = t
        .http_requests
        .iter()
        .map(|h| format!("{} {} {}", h.method, h.host, h.uri))
        .collect();
    vec![
        ("end_reason", t.end_reason.clone()),
        ("synack", t.synack.to_string()),
        ("fin_client", t.fin_client.to_string()),
        ("fin_server", t.fin_server.to_string()),
        ("rst", t.rst.to_string()),
        ("pkts_client", t.pkts_client.to_string()),
        ("pkts_server", t.pkts_server.to_string()),
        ("bytes_client", t.bytes_client.to_string()),
        ("bytes_server", t.bytes_server.to_string()),
        ("rexmit_client", t.rexmit_client.to_string()),
        ("rexmit_server", t.rexmit_server.to_string()),
        ("missed_client", t.missed_client.to_string()),
        ("missed_server", t.missed_server.to_string()),
        ("http_requests", http.join(" | ")),
        ("tls_sni", t.tls_sni.join(",")),
    ]
}

/// Compare; returns the differences as readable lines. `idle_timeout` turns the truth's
/// `trace_end` into the `timeout` the runtime must report for a connection silent that long
/// before the end of the capture.
fn compare(
    records: &[ConnRecord],
    truth: &Truth,
    trace_end: f64,
    idle_timeout: f64,
) -> Vec<String> {
    let mut by_key: HashMap<(String, String, i64), &ConnRecord> = HashMap::new();
    for r in records {
        by_key.insert(
            (
                r.client.clone(),
                r.server.clone(),
                (r.start * 1e6).round() as i64,
            ),
            r,
        );
    }
    let mut diffs = Vec::new();
    for t in &truth.connections {
        let key = (
            t.client.clone(),
            t.server.clone(),
            (t.start * 1e6).round() as i64,
        );
        let Some(r) = by_key.remove(&key) else {
            diffs.push(format!("{} -> {}: no flowdump record", t.client, t.server));
            continue;
        };
        let mut expected = fields_of_truth(t);
        if t.end_reason == "trace_end" && trace_end - t.last > idle_timeout {
            expected[0].1 = "timeout".to_string();
        }
        for ((field, ours), (_, theirs)) in fields_of_record(r).into_iter().zip(expected) {
            if ours != theirs {
                diffs.push(format!(
                    "{} -> {}: {field}: ours {ours:?}, truth {theirs:?}",
                    t.client, t.server
                ));
            }
        }
    }
    for r in by_key.values() {
        diffs.push(format!(
            "{} -> {}: record without a truth connection",
            r.client, r.server
        ));
    }
    diffs
}

#[test]
fn sample_matches_its_ground_truth() {
    let truth = mos_synth::sample::truth();
    let (report, records) = flowdump(mos_synth::sample::pcap());
    let trace_end = truth.connections.iter().map(|c| c.last).fold(0.0, f64::max);
    let diffs = compare(&records, &truth, trace_end, 60.0);
    assert!(
        diffs.is_empty(),
        "{} differences:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
    assert_eq!(report.connections, truth.summary.connections);
    assert_eq!(report.packets, truth.summary.packets);
    assert_eq!(report.orphans, truth.summary.orphans);
}

#[test]
fn scaled_w1_workload_matches_its_ground_truth() {
    let mut cfg = Preset::W1.config(7);
    cfg.flows = 400;
    cfg.concurrency = 60;
    let mut pcap = Vec::new();
    let mut truth_lines = Vec::new();
    Workload::new(cfg)
        .expect("config")
        .write(&mut pcap, Some(&mut truth_lines))
        .expect("generate");
    let truth =
        Truth::parse_json_lines(std::str::from_utf8(&truth_lines).expect("utf-8")).expect("truth");
    let (report, records) = flowdump(pcap);
    let trace_end = truth.connections.iter().map(|c| c.last).fold(0.0, f64::max);
    let diffs = compare(&records, &truth, trace_end, 60.0);
    assert!(
        diffs.is_empty(),
        "{} differences:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
    assert_eq!(report.connections, truth.summary.connections);
    assert_eq!(report.packets, truth.summary.packets);
}
