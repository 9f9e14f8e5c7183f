//! The command line every example shares: `[OPTIONS] [TRACE]`, `--help`, `--quiet`,
//! `--cores N`, the shipped trace when no TRACE is given, and, when built with the `dpdk`
//! feature, `--dpdk "EAL ARGS"` in place of TRACE ([`runtime_builder`] turns either into a
//! [`RuntimeBuilder`]).
//!
//! ```text
//! cargo run --release --features dpdk --example flowdump -- --dpdk \
//!     "-l 0 --no-huge -m 256 --no-pci --no-shconf --vdev net_pcap0,rx_pcap=trace.pcap"
//! ```
//!
//! With `--dpdk`, the ports are the ones the EAL flags create (`--vdev`) or find (NICs bound to
//! a DPDK driver); `--dpdk-forward 0:1,1:0` forwards between them (bump in the wire, what the
//! app does not drop), and the run stops once every port has been quiet for `--dpdk-idle MS`
//! (default 500; 0: run until killed).

use std::path::PathBuf;

use mos_runtime::{RunError, Runtime, RuntimeBuilder};

/// Options common to every example.
#[derive(Clone, Debug, Default)]
pub struct CommonArgs {
    /// The capture to read (the shipped sample when absent).
    pub trace: Option<PathBuf>,
    /// Print only the final report.
    pub quiet: bool,
    /// Worker count.
    pub cores: usize,
    /// Flags this parser does not know, left for the example (in order).
    pub rest: Vec<String>,
    /// `--dpdk "EAL ARGS"` and its companions: read from DPDK ports instead of a capture.
    #[cfg(feature = "dpdk")]
    pub dpdk: Option<DpdkArgs>,
}

/// The DPDK options of the command line (feature `dpdk`).
#[cfg(feature = "dpdk")]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DpdkArgs {
    /// The EAL flags, as one shell-like string.
    pub eal: String,
    /// `--dpdk-forward`: (input port, output port) pairs.
    pub forward: Vec<(usize, usize)>,
    /// `--dpdk-idle`: stop after this many milliseconds without a packet (0: never).
    pub idle_ms: u64,
}

/// Default of `--dpdk-idle`.
#[cfg(feature = "dpdk")]
pub const DPDK_IDLE_MS: u64 = 500;

/// Parses `--dpdk-forward` pairs: `0:1,1:0`.
pub fn parse_forward(spec: &str) -> Result<Vec<(usize, usize)>, String> {
    spec.split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|pair| {
            let (from, to) = pair
                .split_once(':')
                .ok_or_else(|| format!("--dpdk-forward: {pair:?} is not FROM:TO"))?;
            let port = |s: &str| {
                s.trim()
                    .parse::<usize>()
                    .map_err(|_| format!("--dpdk-forward: {s:?} is not a port index"))
            };
            Ok((port(from)?, port(to)?))
        })
        .collect()
}

/// The trace the project ships, used when no TRACE is given.
pub fn shipped_trace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join("sample.pcap")
}

/// The `--help` text: the example's usage, plus the DPDK options when built with them.
pub fn help(usage: &str) -> String {
    #[cfg(feature = "dpdk")]
    {
        format!(
            "{usage}\n\nDPDK (this build has the `dpdk` feature; in place of TRACE):\n  \
             --dpdk \"EAL ARGS\"      read from DPDK ports, e.g. --dpdk \"-l 0 --no-huge --no-pci \
             --vdev net_pcap0,rx_pcap=in.pcap\"\n  \
             --dpdk-forward A:B     inline: forward port A's packets to port B (repeat with ,)\n  \
             --dpdk-idle MS         stop after MS milliseconds without packets (0 = never; default 500)"
        )
    }
    #[cfg(not(feature = "dpdk"))]
    {
        usage.to_string()
    }
}

/// Parse `args` (without the program name). `Err` carries the message to print.
pub fn parse(args: impl IntoIterator<Item = String>, usage: &str) -> Result<CommonArgs, String> {
    let mut out = CommonArgs {
        cores: 1,
        ..CommonArgs::default()
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => return Err(help(usage)),
            "-q" | "--quiet" => out.quiet = true,
            "--cores" => {
                let value = args.next().ok_or("--cores needs a number")?;
                out.cores = value
                    .parse()
                    .map_err(|_| format!("--cores: not a number: {value}"))?;
            }
            #[cfg(feature = "dpdk")]
            "--dpdk" => {
                let eal = args
                    .next()
                    .ok_or("--dpdk needs the EAL flags (one argument)")?;
                dpdk_args(&mut out).eal = eal;
            }
            #[cfg(feature = "dpdk")]
            "--dpdk-forward" => {
                let value = args.next().ok_or("--dpdk-forward needs FROM:TO pairs")?;
                dpdk_args(&mut out).forward = parse_forward(&value)?;
            }
            #[cfg(feature = "dpdk")]
            "--dpdk-idle" => {
                let value = args.next().ok_or("--dpdk-idle needs milliseconds")?;
                dpdk_args(&mut out).idle_ms = value
                    .parse()
                    .map_err(|_| format!("--dpdk-idle: not a number: {value}"))?;
            }
            #[cfg(not(feature = "dpdk"))]
            "--dpdk" | "--dpdk-forward" | "--dpdk-idle" => {
                return Err(format!(
                    "{arg}: this program was built without DPDK; rebuild with `--features dpdk` \
                     (needs the system DPDK: see the README's DPDK section)"
                ));
            }
            flag if flag.starts_with('-') => out.rest.push(arg),
            _ => {
                if out.trace.is_some() {
                    return Err(format!("unexpected argument: {arg}\n\n{usage}"));
                }
                out.trace = Some(PathBuf::from(arg));
            }
        }
    }
    #[cfg(feature = "dpdk")]
    if let Some(d) = &out.dpdk {
        if d.eal.is_empty() {
            return Err("--dpdk-forward and --dpdk-idle need --dpdk \"EAL ARGS\"".to_string());
        }
        if out.trace.is_some() {
            return Err(format!("give a TRACE or --dpdk, not both\n\n{usage}"));
        }
    }
    Ok(out)
}

#[cfg(feature = "dpdk")]
fn dpdk_args(out: &mut CommonArgs) -> &mut DpdkArgs {
    out.dpdk.get_or_insert_with(|| DpdkArgs {
        eal: String::new(),
        forward: Vec::new(),
        idle_ms: DPDK_IDLE_MS,
    })
}

/// What the run reads, for messages: the DPDK flags or the capture's path.
pub fn input_name(args: &CommonArgs) -> String {
    #[cfg(feature = "dpdk")]
    if let Some(d) = &args.dpdk {
        return format!("DPDK ({})", d.eal);
    }
    args.trace
        .clone()
        .unwrap_or_else(shipped_trace)
        .display()
        .to_string()
}

/// A runtime builder over the input `args` name, with `--cores` applied: the DPDK ports of
/// `--dpdk` (feature `dpdk`), else TRACE, else the shipped sample. A capture that cannot be
/// opened is an error now (its message names the file).
pub fn runtime_builder(args: &CommonArgs) -> Result<RuntimeBuilder, RunError> {
    #[cfg(feature = "dpdk")]
    if let Some(d) = &args.dpdk {
        return Ok(Runtime::builder()
            .dpdk(dpdk_config(d, args.cores)?)
            .cores(args.cores.max(1)));
    }
    let trace = args.trace.clone().unwrap_or_else(shipped_trace);
    let builder = Runtime::builder().pcap(&trace)?;
    Ok(builder.cores(args.cores))
}

/// The DPDK configuration of `--dpdk`: the EAL flags' ports, `cores` workers, forwarding and
/// the idle stop.
#[cfg(feature = "dpdk")]
pub fn dpdk_config(
    d: &DpdkArgs,
    cores: usize,
) -> Result<mos_runtime::io::dpdk::DpdkConfig, RunError> {
    use mos_runtime::io::dpdk::{DpdkConfig, IdleStop};
    let mut cfg = DpdkConfig::from_eal_args(&d.eal)?;
    cfg.workers = cores.max(1);
    cfg.forward = d.forward.clone();
    cfg.stop_when_idle =
        (d.idle_ms > 0).then(|| IdleStop::after(std::time::Duration::from_millis(d.idle_ms)));
    cfg.validate()?;
    Ok(cfg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_string()).collect()
    }

    #[test]
    fn forward_pairs_parse() {
        assert_eq!(parse_forward("0:1,1:0"), Ok(vec![(0, 1), (1, 0)]));
        assert_eq!(parse_forward(" 2 : 3 "), Ok(vec![(2, 3)]));
        assert!(parse_forward("0-1").unwrap_err().contains("FROM:TO"));
        assert!(parse_forward("a:1").unwrap_err().contains("port index"));
    }

    #[test]
    fn trace_and_common_flags() {
        let a = parse(args(&["-q", "--cores", "3", "x.pcap", "--json"]), "usage").unwrap();
        assert_eq!(a.trace, Some(PathBuf::from("x.pcap")));
        assert!(a.quiet);
        assert_eq!(a.cores, 3);
        assert_eq!(a.rest, args(&["--json"]));
        assert_eq!(input_name(&a), "x.pcap");
    }

    #[cfg(not(feature = "dpdk"))]
    #[test]
    fn dpdk_flags_explain_the_missing_feature() {
        let err = parse(args(&["--dpdk", "-l 0"]), "usage").unwrap_err();
        assert!(err.contains("--features dpdk"), "{err}");
    }

    #[cfg(feature = "dpdk")]
    #[test]
    fn dpdk_flags_make_a_dpdk_config() {
        let a = parse(
            args(&[
                "--dpdk",
                "-l 0 --no-huge --vdev 'net_pcap0,rx_pcap=a b.pcap'",
                "--dpdk-forward",
                "0:1",
                "--cores",
                "2",
            ]),
            "usage",
        )
        .unwrap();
        let d = a.dpdk.clone().unwrap();
        assert_eq!(d.forward, vec![(0, 1)]);
        assert_eq!(d.idle_ms, DPDK_IDLE_MS);
        let cfg = dpdk_config(&d, a.cores).unwrap();
        assert_eq!(
            cfg.eal_args,
            args(&[
                "-l",
                "0",
                "--no-huge",
                "--vdev",
                "net_pcap0,rx_pcap=a b.pcap"
            ])
        );
        assert_eq!(cfg.workers, 2);
        assert_eq!(cfg.forward, vec![(0, 1)]);
        assert!(cfg.stop_when_idle.is_some());
        assert!(input_name(&a).starts_with("DPDK ("));
        let never = parse(args(&["--dpdk", "-l 0", "--dpdk-idle", "0"]), "u").unwrap();
        assert!(
            dpdk_config(&never.dpdk.unwrap(), 1)
                .unwrap()
                .stop_when_idle
                .is_none()
        );
        assert!(
            parse(args(&["--dpdk", "-l 0", "x.pcap"]), "u")
                .unwrap_err()
                .contains("not both")
        );
        assert!(
            parse(args(&["--dpdk-idle", "5"]), "u")
                .unwrap_err()
                .contains("need --dpdk")
        );
        assert!(
            dpdk_config(
                &parse(args(&["--dpdk", "-l 0 --help"]), "u")
                    .unwrap()
                    .dpdk
                    .unwrap(),
                1
            )
            .is_err()
        );
    }
}
