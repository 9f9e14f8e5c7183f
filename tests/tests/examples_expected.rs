//! Every example's output on the shipped sample, compared with `examples/expected/NAME.txt`.
//!
//! The examples run in-process through the same `run(args, out)` their binaries call, with the
//! output kept in memory; everything they print on stdout depends on the capture only (packet
//! time, never wall-clock time), so the comparison is exact. After a deliberate change, rewrite
//! the files with `MOS_UPDATE_EXPECTED=1 cargo test -p mos-tests --test examples_expected` and
//! review the diff.

use std::path::PathBuf;

use mos_examples::run::{Exit, Out};

type RunFn = fn(Vec<String>, &mut Out) -> Result<(), Exit>;

fn expected_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/expected")
        .join(format!("{name}.txt"))
}

fn output(run: RunFn, args: &[&str]) -> String {
    let mut out = Out::memory();
    match run(args.iter().map(|s| s.to_string()).collect(), &mut out) {
        Ok(()) => {}
        Err(e) => panic!("{args:?}: {e:?}"),
    }
    out.as_text()
}

fn check(name: &str, run: RunFn, args: &[&str]) {
    let got = output(run, args);
    mos_tests::golden::check(
        &expected_path(name),
        &got,
        "MOS_UPDATE_EXPECTED",
        "cargo test -p mos-tests --test examples_expected",
    );
    // Determinism within a process too: a second run prints the same.
    assert_eq!(output(run, args), got, "{name}: two runs differ");
}

fn temp(name: &str) -> String {
    std::env::temp_dir()
        .join(format!("mos-expected-{}-{name}", std::process::id()))
        .to_string_lossy()
        .into_owned()
}

#[test]
fn flowdump() {
    check("flowdump", mos_examples::flowdump::run, &[]);
}

#[test]
fn flowdump_json() {
    check("flowdump-json", mos_examples::flowdump::run, &["--json"]);
}

#[test]
fn midstat() {
    check("midstat", mos_examples::midstat::run, &[]);
}

#[test]
fn rexmit() {
    check("rexmit", mos_examples::rexmit::run, &[]);
}

#[test]
fn http_monitor() {
    check("http_monitor", mos_examples::http_monitor::run, &[]);
}

#[test]
fn tls_sni() {
    check("tls_sni", mos_examples::tls_sni::run, &[]);
}

#[test]
fn simple_firewall() {
    let out = temp("firewall.pcap");
    check(
        "simple_firewall",
        mos_examples::simple_firewall::run,
        &["--out", &out],
    );
    let _ = std::fs::remove_file(out);
}

#[test]
fn nat() {
    let out = temp("nat.pcap");
    check("nat", mos_examples::nat::run, &["--out", &out]);
    let _ = std::fs::remove_file(out);
}

#[test]
fn eventlog() {
    check("eventlog", mos_examples::eventlog::run, &[]);
}

#[test]
fn graph() {
    check("graph", mos_examples::graph::run, &[]);
}

#[test]
fn graph_pair() {
    check(
        "graph-pair",
        mos_examples::graph::run,
        &["http_monitor", "midstat"],
    );
}

#[test]
fn quiet_prints_only_the_final_summary_and_report() {
    for (name, run) in [
        ("midstat", mos_examples::midstat::run as RunFn),
        ("rexmit", mos_examples::rexmit::run),
        ("http_monitor", mos_examples::http_monitor::run),
        ("tls_sni", mos_examples::tls_sni::run),
        ("flowdump", mos_examples::flowdump::run),
        ("eventlog", mos_examples::eventlog::run),
    ] {
        let full = output(run, &[]);
        let quiet = output(run, &["--quiet"]);
        assert!(quiet.len() < full.len(), "{name}: --quiet printed as much");
        assert!(
            full.ends_with(&quiet),
            "{name}: --quiet is not the tail of the full output"
        );
        assert!(quiet.contains("mos report:"), "{name}");
    }
}

#[test]
fn help_and_bad_options() {
    for run in [
        mos_examples::midstat::run as RunFn,
        mos_examples::rexmit::run,
        mos_examples::http_monitor::run,
        mos_examples::tls_sni::run,
        mos_examples::flowdump::run,
        mos_examples::eventlog::run,
        mos_examples::simple_firewall::run,
        mos_examples::nat::run,
        mos_examples::graph::run,
    ] {
        let mut out = Out::memory();
        match run(vec!["--help".into()], &mut out) {
            Err(Exit::Help(usage)) => assert!(usage.contains("usage:"), "{usage}"),
            other => panic!("--help gave {other:?}"),
        }
        match run(vec!["--no-such-option".into()], &mut out) {
            Err(Exit::Usage(msg)) => assert!(msg.contains("--no-such-option"), "{msg}"),
            other => panic!("a bad option gave {other:?}"),
        }
        assert!(out.as_text().is_empty());
    }
    // A capture that does not exist is a failure with the path in the message.
    let mut out = Out::memory();
    match mos_examples::rexmit::run(vec!["/nonexistent/x.pcap".into()], &mut out) {
        Err(Exit::Failed(msg)) => assert!(msg.contains("/nonexistent/x.pcap"), "{msg}"),
        other => panic!("{other:?}"),
    }
}

/// `--cores 2`: the same lines as one worker (in another order: workers print as they go),
/// and the options reach both workers (`#[core_state(fork = ..)]`): with `--quiet`, no
/// worker prints per-connection lines.
#[test]
fn two_workers_print_the_same_lines_and_honour_the_options() {
    let sorted = |text: String| {
        let mut lines: Vec<String> = text
            .lines()
            .filter(|l| !l.starts_with("  ") && !l.starts_with("mos report"))
            .map(str::to_string)
            .collect();
        lines.sort();
        lines
    };
    for (name, run) in [
        ("flowdump", mos_examples::flowdump::run as RunFn),
        ("rexmit", mos_examples::rexmit::run),
        ("http_monitor", mos_examples::http_monitor::run),
        ("tls_sni", mos_examples::tls_sni::run),
    ] {
        let one = sorted(output(run, &["--json"][..usize::from(name == "flowdump")]));
        let two = sorted(output(
            run,
            if name == "flowdump" {
                &["--json", "--cores", "2"][..]
            } else {
                &["--cores", "2"][..]
            },
        ));
        assert_eq!(one, two, "{name}: two workers print other lines than one");
        let quiet_one = output(run, &["--quiet"]);
        let quiet_two = output(run, &["--quiet", "--cores", "2"]);
        assert_eq!(
            quiet_one.lines().count(),
            quiet_two.lines().count(),
            "{name}: --quiet must reach the second worker too"
        );
    }
}
