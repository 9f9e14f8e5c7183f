//! The peers side by side: mos and the tools it is measured against, on the same capture, in
//! the same invocation, alternating, each run a whole process (`mos-bench peers`, wrapped by
//! `mos-bench/peers/run.sh`).
//!
//! | tool | what it does |
//! |---|---|
//! | `mos` | `mos-bench --pcap FILE --stream`: the midstat app, checksums verified, reading the file while running |
//! | `mos-nocsum` | the same without checksum verification |
//! | `libnids` | `peers/nids_monitor.c`: the same counts with libnids (checksums verified, its default) |
//! | `libnids-nocsum` | the same with checksum verification off |
//! | `ceiling` | `peers/ceiling.c`: the file mapped, every frame's 5-tuple hashed, nothing else |
//! | `libpcap-loop` | the same through libpcap's offline reader |
//! | `tshark` | `tshark -q -z conv,tcp` |
//!
//! Every round runs every tool once, starting one tool later than the round before, so that
//! no tool always runs first (cold) or right after a particular other one. Wall time is the
//! whole process (exec to exit, the file in the page cache: it is read once before the
//! rounds); peak RSS comes from GNU time (`%M`). Before the rounds an untimed
//! `mos-bench --pcap FILE --truth TRUTH` run checks the counts against the ground truth and
//! gives the in-process figures (packet loop, allocations per packet, memory without the
//! capture).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use serde::Serialize;
use serde_json::Value;

use crate::run::median;
use crate::truth::Expected;

/// What to run.
#[derive(Clone, Debug)]
pub struct PeerOptions {
    /// Workload preset (when no `pcap`).
    pub preset: String,
    /// Workload seed.
    pub seed: u64,
    /// Scale the preset to this many connections.
    pub flows: Option<u64>,
    /// Connections open at once.
    pub concurrency: Option<u32>,
    /// Rounds (each runs every tool once).
    pub runs: usize,
    /// A capture to use instead of a generated workload.
    pub pcap: Option<PathBuf>,
    /// Its ground truth.
    pub truth: Option<PathBuf>,
    /// Include tshark.
    pub tshark: bool,
    /// Rounds tshark runs in (the first ones; tshark takes tens of seconds per million
    /// packets), at most `runs`.
    pub tshark_runs: usize,
    /// Where peers are built and workloads written.
    pub workdir: PathBuf,
    /// Flow-table capacity for mos.
    pub max_flows: usize,
}

/// One tool's figures over the rounds.
#[derive(Clone, Debug, Serialize)]
pub struct ToolSummary {
    /// The tool.
    pub tool: String,
    /// Median whole-process wall time, seconds.
    pub seconds: f64,
    /// Fastest run.
    pub seconds_min: f64,
    /// Slowest run.
    pub seconds_max: f64,
    /// Median whole-process nanoseconds per packet.
    pub ns_per_packet: f64,
    /// Median of the tool's own packet-loop time per packet, when it reports one.
    pub loop_ns_per_packet: Option<f64>,
    /// Median peak RSS, bytes.
    pub peak_rss_bytes: Option<u64>,
    /// mos's median ns per packet divided by this tool's (below 1: mos is faster).
    pub mos_over_peer: f64,
    /// What the tool counted, in the last round (its JSON output).
    pub output: Value,
    /// How its counts compare with the ground truth.
    pub counts: String,
}

fn sh(cmd: &mut Command) -> Result<std::process::Output, String> {
    cmd.output()
        .map_err(|e| format!("{:?}: {e}", cmd.get_program()))
}

fn build_peers(src: &Path, workdir: &Path) -> Result<(PathBuf, PathBuf), String> {
    let nids = workdir.join("nids_monitor");
    let ceiling = workdir.join("ceiling");
    for (out, file, libs) in [
        (&nids, "nids_monitor.c", &["-lnids", "-lpcap"][..]),
        (&ceiling, "ceiling.c", &["-lpcap"][..]),
    ] {
        let o = sh(Command::new("cc")
            .args(["-O2", "-o"])
            .arg(out)
            .arg(src.join(file))
            .args(libs))?;
        if !o.status.success() {
            return Err(format!(
                "building {file} failed (apt-get install gcc libnids-dev libpcap-dev):\n{}",
                String::from_utf8_lossy(&o.stderr)
            ));
        }
    }
    Ok((nids, ceiling))
}

/// One timed run of a command: wall seconds, peak RSS (GNU time), stdout.
fn timed(argv: &[String], time_file: &Path) -> Result<(f64, Option<u64>, String), String> {
    let started = Instant::now();
    let o = sh(Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(time_file)
        .args(argv))?;
    let secs = started.elapsed().as_secs_f64();
    if !o.status.success() {
        return Err(format!(
            "{argv:?} failed: {}",
            String::from_utf8_lossy(&o.stderr)
        ));
    }
    let rss = std::fs::read_to_string(time_file)
        .ok()
        .and_then(|t| t.lines().last()?.trim().parse::<u64>().ok())
        .map(|kb| kb * 1024);
    Ok((secs, rss, String::from_utf8_lossy(&o.stdout).into_owned()))
}

fn last_json(stdout: &str) -> Value {
    stdout
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str(l).ok())
        .unwrap_or(Value::Null)
}

fn compare(tool: &str, out: &Value, all: &Expected, v4: &Expected) -> String {
    let get = |k: &str| out.get(k).and_then(Value::as_u64);
    let fields = |e: &Expected, prefix: &str| -> String {
        let t = &e.totals;
        let mut diffs = Vec::new();
        for (name, want) in [
            ("bytes_client", t.bytes_client),
            ("bytes_server", t.bytes_server),
            ("http_requests", t.http_requests),
            ("http_digest", t.http_digest),
        ] {
            let got = get(name).or_else(|| {
                out.get("totals")
                    .and_then(|x| x.get(name))
                    .and_then(Value::as_u64)
            });
            if got != Some(want) {
                diffs.push(format!("{name} {} (truth {want})", got.unwrap_or(0)));
            }
        }
        if diffs.is_empty() {
            format!("{prefix}equal to the ground truth")
        } else {
            format!("{prefix}differs: {}", diffs.join(", "))
        }
    };
    match tool {
        t if t.starts_with("mos") => fields(all, ""),
        t if t.starts_with("libnids") => fields(v4, "IPv4 connections (libnids tracks no IPv6): "),
        "tshark" => format!(
            "{} TCP conversations listed",
            get("conversations").unwrap_or(0)
        ),
        _ => format!("{} frames hashed", get("packets").unwrap_or(0)),
    }
}

/// Runs everything and prints the table and a JSON line.
pub fn run(o: &PeerOptions) -> Result<(), String> {
    std::fs::create_dir_all(&o.workdir).map_err(|e| format!("{}: {e}", o.workdir.display()))?;
    let bin_dir = std::env::current_exe()
        .map_err(|e| e.to_string())?
        .parent()
        .map(Path::to_path_buf)
        .ok_or("no binary directory")?;
    let mos_bench = bin_dir.join("mos-bench");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("peers");
    eprintln!("peers: building the C peers in {}", o.workdir.display());
    let (nids, ceiling) = build_peers(&src, &o.workdir)?;

    let (pcap, truth) = match &o.pcap {
        Some(p) => (p.clone(), o.truth.clone()),
        None => {
            let mut stem = format!("{}-seed{}", o.preset, o.seed);
            if let Some(f) = o.flows {
                stem.push_str(&format!("-flows{f}"));
            }
            if let Some(c) = o.concurrency {
                stem.push_str(&format!("-conc{c}"));
            }
            let pcap = o.workdir.join(format!("{stem}.pcap"));
            let truth = o.workdir.join(format!("{stem}.truth.jsonl"));
            if !pcap.exists() || !truth.exists() {
                eprintln!("peers: generating {}", pcap.display());
                let mut synth = Command::new(bin_dir.join("mos-synth"));
                synth
                    .args(["workload", "--preset", &o.preset, "--seed"])
                    .arg(o.seed.to_string());
                if let Some(f) = o.flows {
                    synth.arg("--flows").arg(f.to_string());
                }
                if let Some(c) = o.concurrency {
                    synth.arg("--concurrency").arg(c.to_string());
                }
                let out = sh(synth.arg("--out").arg(&pcap).arg("--truth").arg(&truth))?;
                if !out.status.success() {
                    return Err(format!(
                        "mos-synth failed: {}",
                        String::from_utf8_lossy(&out.stderr)
                    ));
                }
            }
            (pcap, Some(truth))
        }
    };
    let (all, v4) = match &truth {
        Some(t) => (Expected::read(t)?, Expected::read_filtered(t, true)?),
        None => (Expected::default(), Expected::default()),
    };
    // The file into the page cache, for every tool alike.
    let mut f = std::fs::File::open(&pcap).map_err(|e| format!("{}: {e}", pcap.display()))?;
    std::io::copy(&mut f, &mut std::io::sink()).map_err(|e| e.to_string())?;

    // Untimed: the counts against the ground truth, and the in-process figures.
    eprintln!("peers: checking mos against the ground truth (untimed)");
    let mut check = Command::new(&mos_bench);
    check
        .arg("--pcap")
        .arg(&pcap)
        .args(["--runs", "1", "--max-flows"])
        .arg(o.max_flows.to_string());
    if let Some(t) = &truth {
        check.arg("--truth").arg(t);
    }
    let checked = sh(&mut check)?;
    let in_process = last_json(&String::from_utf8_lossy(&checked.stdout));
    if !checked.status.success() {
        return Err(format!(
            "mos-bench failed the check: {}",
            String::from_utf8_lossy(&checked.stderr)
        ));
    }
    let packets = in_process
        .get("packets")
        .and_then(Value::as_u64)
        .unwrap_or(1)
        .max(1);

    let p = |s: &Path| s.display().to_string();
    let mos = |extra: &[&str]| {
        let mut v = vec![
            p(&mos_bench),
            "--pcap".into(),
            p(&pcap),
            "--stream".into(),
            "--runs".into(),
            "1".into(),
            "--max-flows".into(),
            o.max_flows.to_string(),
        ];
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let mut tools: Vec<(&str, Vec<String>)> = vec![
        ("mos", mos(&[])),
        ("mos-nocsum", mos(&["--no-verify"])),
        ("libnids", vec![p(&nids), p(&pcap)]),
        (
            "libnids-nocsum",
            vec![p(&nids), "--no-checksum".into(), p(&pcap)],
        ),
        ("ceiling", vec![p(&ceiling), p(&pcap)]),
        (
            "libpcap-loop",
            vec![p(&ceiling), "--libpcap".into(), p(&pcap)],
        ),
    ];
    if o.tshark {
        tools.push((
            "tshark",
            ["tshark", "-r", &p(&pcap), "-q", "-z", "conv,tcp"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
        ));
    }
    let time_file = o.workdir.join("time.out");
    let mut samples: Vec<Vec<(f64, Option<u64>, Value)>> = vec![Vec::new(); tools.len()];
    for round in 0..o.runs.max(1) {
        for k in 0..tools.len() {
            let i = (round + k) % tools.len();
            let (name, argv) = &tools[i];
            if *name == "tshark" && round >= o.tshark_runs {
                continue;
            }
            eprintln!("peers: round {} {name}", round + 1);
            let (secs, rss, stdout) = timed(argv, &time_file)?;
            let out = if *name == "tshark" {
                // Conversation rows look like "a:p <-> b:p  frames bytes ...".
                let rows = stdout.lines().filter(|l| l.contains("<->")).count();
                serde_json::json!({ "conversations": rows })
            } else {
                last_json(&stdout)
            };
            samples[i].push((secs, rss, out));
        }
    }

    let summarize = |i: usize, mos_ns: f64| -> ToolSummary {
        let s = &samples[i];
        let secs: Vec<f64> = s.iter().map(|x| x.0).collect();
        let rss: Vec<f64> = s.iter().filter_map(|x| x.1).map(|r| r as f64).collect();
        let loops: Vec<f64> = s
            .iter()
            .filter_map(|x| {
                x.2.get("loop_seconds")
                    .or_else(|| x.2.get("loop_ns_per_packet"))
                    .and_then(Value::as_f64)
                    .map(|v| {
                        if x.2.get("loop_seconds").is_some() {
                            v * 1e9 / packets as f64
                        } else {
                            v
                        }
                    })
            })
            .collect();
        let seconds = median(&secs);
        let ns = seconds * 1e9 / packets as f64;
        let out = s.last().map(|x| x.2.clone()).unwrap_or(Value::Null);
        ToolSummary {
            tool: tools[i].0.to_string(),
            seconds,
            seconds_min: secs.iter().copied().fold(f64::INFINITY, f64::min),
            seconds_max: secs.iter().copied().fold(0.0, f64::max),
            ns_per_packet: ns,
            loop_ns_per_packet: (!loops.is_empty()).then(|| median(&loops)),
            peak_rss_bytes: (!rss.is_empty()).then(|| median(&rss) as u64),
            mos_over_peer: if mos_ns > 0.0 { mos_ns / ns } else { 0.0 },
            counts: compare(tools[i].0, &out, &all, &v4),
            output: out,
        }
    };
    let mos_ns = median(&samples[0].iter().map(|x| x.0).collect::<Vec<_>>()) * 1e9 / packets as f64;
    let summaries: Vec<ToolSummary> = (0..tools.len()).map(|i| summarize(i, mos_ns)).collect();

    println!(
        "{} ({} packets), {} rounds, whole process, file in the page cache",
        pcap.display(),
        packets,
        o.runs.max(1)
    );
    println!(
        "{:<16}{:>10}{:>20}{:>10}{:>10}{:>11}{:>10}  counts",
        "tool", "median s", "min-max s", "ns/pkt", "loop ns", "RSS MiB", "mos/peer"
    );
    for s in &summaries {
        println!(
            "{:<16}{:>10.3}{:>20}{:>10.1}{:>10}{:>11}{:>10.2}  {}",
            s.tool,
            s.seconds,
            format!("{:.3}-{:.3}", s.seconds_min, s.seconds_max),
            s.ns_per_packet,
            s.loop_ns_per_packet
                .map_or("-".to_string(), |v| format!("{v:.1}")),
            s.peak_rss_bytes
                .map_or("-".to_string(), |v| format!("{:.1}", v as f64 / 1048576.0)),
            s.mos_over_peer,
            s.counts
        );
    }
    println!(
        "mos in-process (untimed check run, from memory): loop {:.1} ns/packet, {} allocations/packet, {:.1} MiB RSS without the capture, start-up {:.1} ms, counts {}",
        in_process
            .get("loop_ns_per_packet")
            .and_then(Value::as_f64)
            .unwrap_or(0.0),
        in_process
            .get("allocs_per_packet")
            .and_then(Value::as_f64)
            .unwrap_or(-1.0),
        in_process
            .get("peak_rss_excl_capture_bytes")
            .and_then(Value::as_f64)
            .unwrap_or(0.0)
            / 1048576.0,
        in_process
            .get("startup_ms")
            .and_then(Value::as_f64)
            .unwrap_or(0.0),
        match in_process.get("truth_ok").and_then(Value::as_bool) {
            Some(true) => "equal to the ground truth",
            Some(false) => "DIFFERENT from the ground truth",
            None => "not checked (no ground truth)",
        }
    );
    let line = serde_json::json!({
        "workload": pcap.display().to_string(),
        "packets": packets,
        "rounds": o.runs.max(1),
        "mos_in_process": in_process,
        "tools": summaries,
    });
    println!("{line}");
    Ok(())
}
