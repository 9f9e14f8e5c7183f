//! `mos-bench`: the whole-run benchmark command (SPEC §6). See the crate docs and `--help`.

use std::path::PathBuf;
use std::process::ExitCode;

use mos_bench::run::{Options, bench};
use mos_bench::workload::{self, Capture};
use mos_bench::{alloc, rss};
use mos_runtime::{Config, Worker};
use mos_synth::workload::Preset;

#[global_allocator]
static GLOBAL: alloc::Counting = alloc::Counting;

const USAGE: &str = "\
mos-bench: replay a workload through a midstat-class app and print one JSON line (SPEC §6)

USAGE:
    mos-bench [--preset W1|W5|WC|WB] [--seed N] [--flows N] [--concurrency N] [OPTIONS]
    mos-bench --pcap FILE [--truth FILE] [--stream] [OPTIONS]
    mos-bench memory [--flows N]
    mos-bench peers [--preset NAME] [--seed N] [--flows N] [--concurrency N] [--runs N]
                    [--pcap FILE [--truth FILE]] [--no-tshark] [--tshark-runs N]
                    [--workdir DIR] [--max-flows N]

WORKLOAD:
    --preset NAME       seeded workload generated in memory (default W1)
    --seed N            workload seed (default 1)
    --flows N           scale the preset to N connections
    --concurrency N     connections open at once
    --pcap FILE         replay this capture instead (read into memory first)
    --truth FILE        its ground truth (mos-synth workload --truth), to check the counts
    --stream            read FILE while running (the runtime's streaming reader) instead of
                        from memory: the figure to set beside other tools reading the file

OPTIONS:
    --cores N           workers (default 1)
    --runs N            timed runs; medians are reported (default 3)
    --no-verify         do not verify checksums (default: verified)
    --max-flows N       flow-table capacity per worker (default: 1.5 x the preset's
                        concurrency, rounded up to a power of two; 65536 for --pcap)
    --buffers N         reassembly buffers per worker (default: 2 x max-flows)
    --buffer-size N     reassembly bytes per side (default 65536)
    --prefetch-min-flows N
                        prefetch flow state while N flows or more are tracked (default
                        16384; 0: always, a huge N: never)
    -h, --help          this text

memory: the bytes per tracked flow of the midstat app's workers (computed from the types),
and the resident memory measured when a worker for N flows (default 1,000,000) is built.

peers: mos, libnids (with and without checksums), a mapped-file read-and-hash loop (the
ceiling), libpcap's read loop and tshark on the same capture, alternating, each run a whole
process; prints medians, min-max, ns per packet, peak RSS and the ratios mos/peer (default
W5, 5 rounds; the workload is generated into --workdir, default target/mos-bench-peers).
Needs cc, libnids-dev, libpcap-dev, GNU time and tshark.";

#[derive(Debug)]
struct Args {
    memory: bool,
    peers: bool,
    tshark: bool,
    tshark_runs: Option<usize>,
    workdir: Option<PathBuf>,
    preset: Preset,
    seed: u64,
    flows: Option<u64>,
    concurrency: Option<u32>,
    pcap: Option<PathBuf>,
    truth: Option<PathBuf>,
    stream: bool,
    cores: usize,
    runs: usize,
    verify: bool,
    max_flows: Option<usize>,
    buffers: Option<usize>,
    buffer_size: usize,
    prefetch_min_flows: Option<usize>,
}

fn number<T: std::str::FromStr>(flag: &str, v: Option<String>) -> Result<T, String> {
    let v = v.ok_or_else(|| format!("{flag} needs a value"))?;
    v.replace('_', "")
        .parse()
        .map_err(|_| format!("{flag} takes a number, not {v:?}"))
}

fn parse(raw: Vec<String>) -> Result<Args, String> {
    let mut a = Args {
        memory: false,
        peers: false,
        tshark: true,
        tshark_runs: None,
        workdir: None,
        preset: Preset::W1,
        seed: 1,
        flows: None,
        concurrency: None,
        pcap: None,
        truth: None,
        stream: false,
        cores: 1,
        runs: 3,
        verify: true,
        max_flows: None,
        buffers: None,
        buffer_size: 64 << 10,
        prefetch_min_flows: None,
    };
    let raw_has_runs = raw.iter().any(|x| x == "--runs");
    let raw_has_preset = raw.iter().any(|x| x == "--preset");
    let mut it = raw.into_iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "memory" => a.memory = true,
            "peers" => a.peers = true,
            "--no-tshark" => a.tshark = false,
            "--tshark-runs" => a.tshark_runs = Some(number(&arg, it.next())?),
            "--workdir" => a.workdir = Some(it.next().ok_or("--workdir needs a directory")?.into()),
            "--preset" => {
                let v = it.next().unwrap_or_default();
                a.preset = Preset::parse(&v).ok_or_else(|| format!("unknown preset {v:?}"))?;
            }
            "--seed" => a.seed = number(&arg, it.next())?,
            "--flows" => a.flows = Some(number(&arg, it.next())?),
            "--concurrency" => a.concurrency = Some(number(&arg, it.next())?),
            "--pcap" => a.pcap = Some(it.next().ok_or("--pcap needs a file")?.into()),
            "--truth" => a.truth = Some(it.next().ok_or("--truth needs a file")?.into()),
            "--stream" => a.stream = true,
            "--cores" => a.cores = number(&arg, it.next())?,
            "--runs" => a.runs = number(&arg, it.next())?,
            "--no-verify" => a.verify = false,
            "--max-flows" => a.max_flows = Some(number(&arg, it.next())?),
            "--buffers" => a.buffers = Some(number(&arg, it.next())?),
            "--buffer-size" => a.buffer_size = number(&arg, it.next())?,
            "--prefetch-min-flows" => {
                a.prefetch_min_flows = Some(number(&arg, it.next())?);
            }
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if a.peers && !raw_has_runs {
        a.runs = 5;
    }
    if a.peers && !raw_has_preset && a.pcap.is_none() {
        a.preset = Preset::W5;
    }
    if a.stream && a.pcap.is_none() {
        return Err("--stream needs --pcap FILE".into());
    }
    Ok(a)
}

fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1).collect()) {
        Ok(a) => a,
        Err(msg) if msg.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(msg) => {
            eprintln!("mos-bench: {msg}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let result = if args.memory {
        memory(args.flows.unwrap_or(1_000_000))
    } else if args.peers {
        peers(&args)
    } else {
        benchmark(&args)
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mos-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn benchmark(args: &Args) -> Result<(), String> {
    if !alloc::is_installed() {
        return Err("the counting allocator is not installed".into());
    }
    let capture: Capture = match &args.pcap {
        Some(path) => workload::load(path, args.truth.as_deref(), args.stream)?,
        None => {
            let cfg = workload::preset_config(args.preset, args.seed, args.flows, args.concurrency);
            let name = format!("{} seed {}", args.preset.name(), args.seed);
            eprintln!("mos-bench: generating {name} in memory...");
            workload::generate(name, cfg)?
        }
    };
    let concurrency = match &args.pcap {
        Some(_) => None,
        None => Some(
            args.concurrency
                .unwrap_or_else(|| args.preset.config(args.seed).concurrency),
        ),
    };
    let max_flows = args.max_flows.unwrap_or_else(|| match concurrency {
        Some(c) => (c as usize * 3 / 2).next_power_of_two().max(1024),
        None => 1 << 16,
    });
    let opts = Options {
        cores: args.cores,
        verify_checksums: args.verify,
        stream: if args.stream { args.pcap.clone() } else { None },
        max_flows,
        buffers: args.buffers.unwrap_or(max_flows * 2),
        buffer_size: args.buffer_size,
        prefetch_min_flows: args
            .prefetch_min_flows
            .unwrap_or(Options::default().prefetch_min_flows),
    };
    eprintln!(
        "mos-bench: {} ({} MB in memory), {} run(s) on {} core(s), max_flows {}, buffers {} x {} B",
        capture.name,
        capture.bytes.len() >> 20,
        args.runs,
        opts.cores,
        opts.max_flows,
        opts.buffers,
        opts.buffer_size
    );
    let line = bench(&capture, &opts, args.runs)?;
    let json = serde_json::to_string(&line).map_err(|e| e.to_string())?;
    println!("{json}");
    if line.truth_ok == Some(false) {
        return Err(format!(
            "the counts differ from the ground truth: {}",
            line.truth_differences.join("; ")
        ));
    }
    if !line.counts_identical {
        return Err("the runs did not all count the same".into());
    }
    Ok(())
}

/// The peers side by side.
fn peers(args: &Args) -> Result<(), String> {
    let workdir = match &args.workdir {
        Some(d) => d.clone(),
        None => std::env::current_exe()
            .map_err(|e| e.to_string())?
            .parent()
            .and_then(|p| p.parent())
            .ok_or("no target directory")?
            .join("mos-bench-peers"),
    };
    let concurrency = args
        .concurrency
        .unwrap_or_else(|| args.preset.config(args.seed).concurrency);
    mos_bench::peers::run(&mos_bench::peers::PeerOptions {
        preset: args.preset.name().to_string(),
        seed: args.seed,
        flows: args.flows,
        concurrency: args.concurrency,
        runs: args.runs,
        pcap: args.pcap.clone(),
        truth: args.truth.clone(),
        tshark: args.tshark,
        tshark_runs: args.tshark_runs.unwrap_or(args.runs),
        workdir,
        max_flows: args.max_flows.unwrap_or_else(|| match &args.pcap {
            Some(_) => 1 << 16,
            None => (concurrency as usize * 3 / 2).next_power_of_two().max(1024),
        }),
    })
}

/// Bytes per tracked flow, computed and measured.
fn memory(flows: u64) -> Result<(), String> {
    let cfg = Config {
        max_flows: usize::try_from(flows).map_err(|e| e.to_string())?,
        buffers: 1,
        ..Config::default()
    };
    let budget = Worker::<mos_bench::app::Midstat>::memory(&cfg).map_err(|e| e.to_string())?;
    let before = rss::current().unwrap_or(0);
    let worker = Worker::<mos_bench::app::Midstat>::new(cfg, None).map_err(|e| e.to_string())?;
    let after = rss::current().unwrap_or(0);
    let resident = after.saturating_sub(before);
    let line = serde_json::json!({
        "flows": flows,
        "bytes_per_flow_computed": budget.per_flow,
        "slot_bytes": budget.slot,
        "index_bytes": budget.index,
        "timer_bytes": budget.timers,
        "app_bytes": budget.app,
        "flows_total_bytes_computed": budget.flows_total,
        "resident_bytes_measured": resident,
        "bytes_per_flow_measured": resident as f64 / flows.max(1) as f64,
        "live_flows": worker.live_flows(),
    });
    println!("{line}");
    drop(worker);
    Ok(())
}
