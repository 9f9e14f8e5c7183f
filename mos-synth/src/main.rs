//! `mos-synth`: writes the shipped sample capture or a seeded benchmark workload.
//!
//! ```text
//! mos-synth sample --out FILE [--truth FILE] [--nanos]
//! mos-synth workload --preset W1|W5|WC|WB [--seed N] [--flows N] [--concurrency N]
//!                    [--nanos] --out FILE [--truth FILE]
//! ```

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::process::ExitCode;
use std::time::Instant;

use mos_synth::workload::{Preset, Workload};
use mos_synth::{Error, Precision, sample};

const USAGE: &str = "\
mos-synth: deterministic synthetic captures for mos

USAGE:
    mos-synth sample --out FILE [--truth FILE] [--nanos]
    mos-synth workload --preset W1|W5|WC|WB [--seed N] [--flows N] [--concurrency N]
                       [--nanos] --out FILE [--truth FILE]
    mos-synth --help

COMMANDS:
    sample      the small realistic capture shipped with mos (HTTP, TLS, DNS, IPv6, a
                retransmission, an out-of-order segment, an RST, an idle connection, an orphan)
    workload    a seeded benchmark workload, streamed:
                  W1  14,400 TCP connections, 2,000 open at once, ~1 M packets (HTTP-heavy)
                  W5  72,000 connections, 10,000 open at once, ~4.9 M packets
                  WC  200,000 small HTTP connections, 50,000 open at once
                  WB  4,000 connections, half of them bulk transfers

OPTIONS:
    --out FILE          the pcap to write ('-' for standard output)
    --truth FILE        also write the ground truth, one JSON line per TCP connection and a
                        summary line, in flowdump's field names
    --preset NAME       workload preset
    --seed N            workload seed (default 1)
    --flows N           number of TCP connections (scales a preset down or up)
    --concurrency N     connections open at once
    --nanos             nanosecond timestamps (default: microseconds)
    -h, --help          this text
";

#[derive(Debug, Default)]
struct Args {
    command: String,
    out: Option<String>,
    truth: Option<String>,
    preset: Option<Preset>,
    seed: u64,
    flows: Option<u64>,
    concurrency: Option<u32>,
    nanos: bool,
    help: bool,
}

fn parse_number<T: std::str::FromStr>(flag: &str, value: &str) -> Result<T, String> {
    value
        .replace('_', "")
        .parse()
        .map_err(|_| format!("{flag} takes a number, not {value:?}"))
}

fn parse_args(raw: &[String]) -> Result<Args, String> {
    let mut args = Args {
        seed: 1,
        ..Args::default()
    };
    let mut it = raw.iter();
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (arg.as_str(), None),
        };
        let mut value = || -> Result<String, String> {
            inline
                .clone()
                .or_else(|| it.next().cloned())
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        match flag {
            "-h" | "--help" | "help" => args.help = true,
            "--out" | "-o" => args.out = Some(value()?),
            "--truth" => args.truth = Some(value()?),
            "--preset" => {
                let v = value()?;
                args.preset = Some(
                    Preset::parse(&v)
                        .ok_or_else(|| format!("unknown preset {v:?}: use W1, W5, WC or WB"))?,
                );
            }
            "--seed" => args.seed = parse_number(flag, &value()?)?,
            "--flows" => args.flows = Some(parse_number(flag, &value()?)?),
            "--concurrency" => args.concurrency = Some(parse_number(flag, &value()?)?),
            "--nanos" => args.nanos = true,
            "sample" | "workload" if args.command.is_empty() => args.command = flag.to_string(),
            other if other.starts_with('-') => {
                return Err(format!("unknown option {other:?} (see --help)"));
            }
            other => return Err(format!("unexpected argument {other:?} (see --help)")),
        }
    }
    Ok(args)
}

/// Opens `path` for writing, `-` being standard output.
fn open(path: &str) -> Result<Box<dyn Write>, Error> {
    if path == "-" {
        Ok(Box::new(BufWriter::with_capacity(
            1 << 20,
            io::stdout().lock(),
        )))
    } else {
        let f = File::create(path).map_err(|e| {
            Error::Io(io::Error::new(
                e.kind(),
                format!("cannot create {path}: {e}"),
            ))
        })?;
        Ok(Box::new(BufWriter::with_capacity(1 << 20, f)))
    }
}

fn run(args: Args) -> Result<(), Error> {
    let precision = if args.nanos {
        Precision::Nanos
    } else {
        Precision::Micros
    };
    let out_path = args
        .out
        .ok_or_else(|| Error::Config("--out FILE is required".into()))?;
    match args.command.as_str() {
        "sample" => {
            if args.preset.is_some() || args.flows.is_some() || args.concurrency.is_some() {
                return Err(Error::Config(
                    "--preset, --flows and --concurrency are for `workload`".into(),
                ));
            }
            let mut script = sample::script();
            script.set_precision(precision);
            let mut out = open(&out_path)?;
            out = script.write_pcap_to(out)?;
            out.flush()?;
            let truth = script.truth();
            if let Some(path) = &args.truth {
                let mut t = open(path)?;
                truth.write_json_lines(&mut t)?;
                t.flush()?;
            }
            eprintln!(
                "mos-synth: sample: {} packets, {} connections -> {out_path}",
                truth.summary.packets, truth.summary.connections
            );
            Ok(())
        }
        "workload" => {
            let preset = args
                .preset
                .ok_or_else(|| Error::Config("workload needs --preset W1|W5|WC|WB".into()))?;
            let mut cfg = preset.config(args.seed);
            cfg.precision = precision;
            if let Some(f) = args.flows {
                cfg.flows = f;
            }
            if let Some(c) = args.concurrency {
                cfg.concurrency = c;
            }
            let began = Instant::now();
            let workload = Workload::new(cfg)?;
            let out = open(&out_path)?;
            let truth = args.truth.as_deref().map(open).transpose()?;
            let stats = workload.write(out, truth)?;
            let secs = began.elapsed().as_secs_f64();
            eprintln!(
                "mos-synth: {} seed {}: {} packets ({} MB), {} TCP connections, {} s of traffic, written in {:.2} s ({:.2} Mpps) -> {out_path}",
                preset.name(),
                args.seed,
                stats.summary.packets,
                stats.frame_bytes >> 20,
                stats.summary.connections,
                stats.last.since(stats.first).as_secs(),
                secs,
                stats.summary.packets as f64 / secs.max(1e-9) / 1e6
            );
            let pct = |n: u64, of: u64| 100.0 * n as f64 / of.max(1) as f64;
            eprintln!(
                "mos-synth: {} data segments ({:.2} % retransmitted, {:.2} % reordered); {:.1} % refused, {:.1} % reset, {} bulk, {} TLS; {} HTTP requests, {} DNS queries; {} UDP, {} ICMP packets; at most {} open",
                stats.data_segments,
                pct(stats.rexmit_segments, stats.data_segments),
                pct(stats.reordered_segments, stats.data_segments),
                pct(stats.refused, stats.summary.connections),
                pct(stats.rst_teardowns, stats.summary.connections),
                stats.bulk_flows,
                stats.tls_flows,
                stats.http_requests,
                stats.dns_queries,
                stats.summary.udp_packets,
                stats.summary.icmp_packets,
                stats.peak_open
            );
            Ok(())
        }
        "" => Err(Error::Config(
            "give a command: `sample` or `workload` (see --help)".into(),
        )),
        other => Err(Error::Config(format!("unknown command {other:?}"))),
    }
}

fn main() -> ExitCode {
    let raw: Vec<String> = std::env::args().skip(1).collect();
    let args = match parse_args(&raw) {
        Ok(a) => a,
        Err(msg) => {
            eprintln!("mos-synth: {msg}");
            return ExitCode::from(2);
        }
    };
    if args.help || raw.is_empty() {
        print!("{USAGE}");
        return if args.help {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(2)
        };
    }
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mos-synth: {e}");
            ExitCode::FAILURE
        }
    }
}
