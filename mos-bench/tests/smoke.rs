//! Smoke runs of the benchmark command on a small workload: the JSON line has the fields of
//! SPEC §6, nothing is allocated per packet, every run counts the same, and the counts equal
//! the generator's ground truth. No timing is asserted.

use std::process::Command;

use serde_json::Value;

fn bench(args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_mos-bench"))
        .args(args)
        .output()
        .expect("run mos-bench");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "mos-bench {args:?} failed\nstdout: {stdout}\nstderr: {stderr}"
    );
    let line = stdout.lines().last().expect("a JSON line");
    serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"))
}

fn check(v: &Value, cores: u64) {
    for field in [
        "packets",
        "seconds",
        "mpps",
        "gbps",
        "ns_per_packet",
        "allocs_per_packet",
        "peak_rss_bytes",
        "cores",
        "loop_ns_per_packet",
        "startup_ms",
        "cpu_ns_per_packet",
        "payload_gbps",
    ] {
        assert!(v.get(field).is_some(), "no {field} in {v}");
    }
    assert_eq!(v["cores"], cores);
    assert!(v["packets"].as_u64().unwrap() > 10_000, "{v}");
    assert!(v["seconds"].as_f64().unwrap() > 0.0);
    assert!(v["peak_rss_bytes"].as_u64().unwrap() > 0);
    assert_eq!(
        v["allocs_per_packet"].as_f64(),
        Some(0.0),
        "allocations per packet: {v}"
    );
    assert_eq!(v["counts_identical"], true, "{v}");
    assert_eq!(v["truth_ok"], true, "{}", v["truth_differences"]);
    let totals = &v["totals"];
    assert_eq!(totals["connections"], 300);
    assert!(totals["http_requests"].as_u64().unwrap() > 500, "{totals}");
}

#[test]
fn one_core_counts_the_ground_truth_and_allocates_nothing_per_packet() {
    let v = bench(&[
        "--preset",
        "W1",
        "--seed",
        "3",
        "--flows",
        "300",
        "--concurrency",
        "100",
        "--runs",
        "2",
    ]);
    check(&v, 1);
    assert_eq!(v["verify_checksums"], true);
    assert_eq!(v["mode"], "memory");
}

#[test]
fn two_cores_count_the_same() {
    let v = bench(&[
        "--preset",
        "W1",
        "--seed",
        "3",
        "--flows",
        "300",
        "--concurrency",
        "100",
        "--runs",
        "2",
        "--cores",
        "2",
    ]);
    check(&v, 2);
}
