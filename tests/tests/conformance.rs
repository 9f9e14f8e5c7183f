//! Conformance: flowdump against tshark on every public capture.
//!
//! For every connection whose handshake tshark saw, flowdump must report the same client and
//! server, packets per direction, distinct payload bytes per direction, FIN per direction, RST,
//! and HTTP requests. tshark runs at test time (no stored copy). Every remaining difference is
//! listed in `KNOWN` with its reason, and asserted to still be exactly that difference: if our
//! behaviour changes, the entry fails and must be revisited.

use std::path::Path;

use mos_examples::flowdump::{ConnRecord, Core, FlowDump};
use mos_runtime::Runtime;
use mos_tests::oracle::{OracleConn, tshark_conns};
use mos_tests::traces::{public_captures, public_dir, tshark_available};

/// A difference we understand: (trace, client endpoint, field, ours, tshark's, why).
struct Known {
    trace: &'static str,
    client: &'static str,
    field: &'static str,
    ours: &'static str,
    theirs: &'static str,
    why: &'static str,
}

const KNOWN: &[Known] = &[];

fn run_flowdump(trace: &Path) -> Vec<ConnRecord> {
    let (_, core) = Runtime::builder()
        .pcap(trace)
        .unwrap_or_else(|e| panic!("{}: {e}", trace.display()))
        .progress(false)
        .build()
        .expect("build")
        .run_init::<FlowDump>(Core::default())
        .unwrap_or_else(|e| panic!("{}: {e}", trace.display()));
    core.records
}

fn requests(r: &ConnRecord) -> String {
    let v: Vec<String> = r.http_requests.iter().map(|h| format!("{} {} {}", h.method, h.host, h.uri)).collect();
    v.join(" | ")
}

fn oracle_requests(o: &OracleConn) -> String {
    let v: Vec<String> = o.http_requests.iter().map(|(m, h, u)| format!("{m} {h} {u}")).collect();
    v.join(" | ")
}

fn compare(ours: &ConnRecord, theirs: &OracleConn) -> Vec<(&'static str, String, String)> {
    let mut diffs = Vec::new();
    let mut check = |field: &'static str, a: String, b: String| {
        if a != b {
            diffs.push((field, a, b));
        }
    };
    check("server", ours.server.clone(), theirs.server.clone());
    check("synack", ours.synack.to_string(), theirs.synack.to_string());
    check("pkts_client", ours.pkts_client.to_string(), theirs.pkts_client.to_string());
    check("pkts_server", ours.pkts_server.to_string(), theirs.pkts_server.to_string());
    check("bytes_client", ours.bytes_client.to_string(), theirs.bytes_client.to_string());
    check("bytes_server", ours.bytes_server.to_string(), theirs.bytes_server.to_string());
    check("fin_client", ours.fin_client.to_string(), theirs.fin_client.to_string());
    check("fin_server", ours.fin_server.to_string(), theirs.fin_server.to_string());
    check("rst", ours.rst.to_string(), theirs.rst.to_string());
    check("http_requests", requests(ours), oracle_requests(theirs));
    diffs
}

#[test]
fn flowdump_matches_tshark_on_every_public_capture() {
    let Some(dir) = public_dir() else { return };
    if !tshark_available() {
        return;
    }
    let mut failures = Vec::new();
    let mut used = vec![false; KNOWN.len()];
    let mut table = Vec::new();
    for trace in public_captures(&dir) {
        let name = trace.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
        let ours = run_flowdump(&trace);
        let theirs = tshark_conns(&trace);
        let mut taken = vec![false; ours.len()];
        let mut matched = 0;
        for o in &theirs {
            let Some(i) = (0..ours.len()).find(|&i| !taken[i] && ours[i].client == o.client) else {
                let known = KNOWN.iter().position(|k| k.trace == name && k.client == o.client && k.field == "missing");
                match known {
                    Some(k) => used[k] = true,
                    None => failures.push(format!("{name}: tshark stream {} {} -> {}: no flowdump record", o.stream, o.client, o.server)),
                }
                continue;
            };
            taken[i] = true;
            let diffs = compare(&ours[i], o);
            let mut clean = true;
            for (field, a, b) in diffs {
                let known = KNOWN
                    .iter()
                    .position(|k| k.trace == name && k.client == o.client && k.field == field && k.ours == a && k.theirs == b);
                match known {
                    Some(k) => used[k] = true,
                    None => {
                        clean = false;
                        failures.push(format!("{name}: {} -> {}: {field}: ours {a:?}, tshark {b:?}", o.client, o.server));
                    }
                }
            }
            if clean {
                matched += 1;
            }
        }
        for (i, r) in ours.iter().enumerate() {
            if !taken[i] {
                let known = KNOWN.iter().position(|k| k.trace == name && k.client == r.client && k.field == "extra");
                match known {
                    Some(k) => used[k] = true,
                    None => failures.push(format!("{name}: flowdump record {} -> {} has no tshark connection", r.client, r.server)),
                }
            }
        }
        table.push(format!("{name:<40} {matched:>3} / {:<3} connections matched (known differences explained)", theirs.len()));
    }
    println!("{}", table.join("\n"));
    for (k, used) in KNOWN.iter().zip(&used) {
        if !*used {
            failures.push(format!(
                "stale KNOWN entry: {} {} {} (ours {}, tshark {}): {}",
                k.trace, k.client, k.field, k.ours, k.theirs, k.why
            ));
        }
    }
    assert!(failures.is_empty(), "{} differences:\n{}", failures.len(), failures.join("\n"));
}
