//! The `mos-synth` binary: commands, files and error messages.

use std::path::PathBuf;
use std::process::{Command, Output};

fn bin(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mos-synth"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("mos-synth-cli-{}-{name}", std::process::id()))
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn help_lists_the_commands() {
    let o = bin(&["--help"]);
    assert!(o.status.success());
    let text = String::from_utf8(o.stdout).unwrap();
    for word in [
        "sample",
        "workload",
        "--preset",
        "--flows",
        "--concurrency",
        "--truth",
    ] {
        assert!(text.contains(word), "{word} missing from --help");
    }
    let o = bin(&[]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn sample_writes_the_library_sample_and_its_truth() {
    let (pcap, truth) = (temp("sample.pcap"), temp("sample.json"));
    let o = bin(&[
        "sample",
        "--out",
        pcap.to_str().unwrap(),
        "--truth",
        truth.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read(&pcap).unwrap(), mos_synth::sample::pcap());
    let text = std::fs::read_to_string(&truth).unwrap();
    let mut back = mos_synth::truth::Truth::parse_json_lines(&text).unwrap();
    let mut want = mos_synth::sample::truth();
    // Times are compared to the microsecond (a JSON float may come back one bit off).
    for (b, w) in back.connections.iter_mut().zip(want.connections.iter_mut()) {
        assert!((b.start - w.start).abs() < 1e-6 && (b.last - w.last).abs() < 1e-6);
        (b.start, b.last, w.start, w.last) = (0.0, 0.0, 0.0, 0.0);
    }
    assert_eq!(back, want);
    std::fs::remove_file(pcap).unwrap();
    std::fs::remove_file(truth).unwrap();
}

#[test]
fn workload_scaled_down_is_deterministic() {
    let (a, b, t) = (temp("a.pcap"), temp("b.pcap"), temp("a.json"));
    let run = |out: &PathBuf, seed: &str| {
        bin(&[
            "workload",
            "--preset",
            "W1",
            "--seed",
            seed,
            "--flows",
            "40",
            "--concurrency=8",
            "--out",
            out.to_str().unwrap(),
            "--truth",
            t.to_str().unwrap(),
        ])
    };
    let o = run(&a, "3");
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("40 TCP connections"));
    let truth = std::fs::read_to_string(&t).unwrap();
    assert_eq!(truth.lines().count(), 41);
    assert!(truth.lines().last().unwrap().starts_with("{\"summary\":"));
    assert!(run(&b, "3").status.success());
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    assert!(run(&b, "4").status.success());
    assert_ne!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    for f in [a, b, t] {
        std::fs::remove_file(f).unwrap();
    }
}

#[test]
fn bad_arguments_say_what_is_wrong() {
    let cases: [(&[&str], &str); 7] = [
        (
            &["workload", "--preset", "W9", "--out", "x"],
            "unknown preset",
        ),
        (&["workload", "--out", "x"], "needs --preset"),
        (
            &["workload", "--preset", "W1", "--seed", "abc", "--out", "x"],
            "takes a number",
        ),
        (&["sample"], "--out FILE is required"),
        (&["sample", "--bogus"], "unknown option"),
        (&["frobnicate"], "unexpected argument"),
        (
            &[
                "workload",
                "--preset",
                "W1",
                "--concurrency",
                "0",
                "--out",
                "/nonexistent-dir/x",
            ],
            "concurrency",
        ),
    ];
    for (args, message) in cases {
        let o = bin(args);
        assert!(!o.status.success(), "{args:?} succeeded");
        assert!(stderr(&o).contains(message), "{args:?}: {}", stderr(&o));
    }
    let o = bin(&["sample", "--out", "/nonexistent-dir/x.pcap"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("cannot create /nonexistent-dir/x.pcap"));
}
