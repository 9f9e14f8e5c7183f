//! flowdump against the generator's ground truth: the shipped-style sample and a scaled-down
//! W1 workload. Unlike tshark, the generator knows what it sent, including retransmission
//! counts and bytes that never reached the capture, so every field of SPEC §5 is compared.

use std::collections::HashMap;

use mos_examples::flowdump::{ConnRecord, Core, FlowDump};
use mos_runtime::{Report, Runtime};
use mos_synth::truth::{ConnTruth, Truth};
use mos_synth::workload::{Preset, Workload};
use mos_tests::fields::{ConnFields, Difference, Field, differences};

/// Every field flowdump prints. The server is part of the key a record is matched by (with the
/// client and the start), so it always agrees; the rest is what is compared.
const COMPARED: &[Field] = &Field::ALL;

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

/// What flowdump must report for a truth connection: the truth, except that a connection
/// the capture left open (`trace_end`) but silent for longer than the idle timeout before the
/// capture ended must have timed out.
struct Expected<'a> {
    truth: &'a ConnTruth,
    timed_out: bool,
}

impl ConnFields for Expected<'_> {
    fn field(&self, field: Field) -> Option<String> {
        if field == Field::EndReason && self.timed_out {
            return Some("timeout".to_string());
        }
        self.truth.field(field)
    }
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
        let expected = Expected {
            truth: t,
            timed_out: t.end_reason == "trace_end" && trace_end - t.last > idle_timeout,
        };
        for Difference {
            field,
            ours,
            theirs,
        } in differences(COMPARED, r, &expected)
        {
            diffs.push(format!(
                "{} -> {}: {}: ours {ours:?}, truth {theirs:?}",
                t.client,
                t.server,
                field.name()
            ));
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
