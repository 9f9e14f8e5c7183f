//! The command line every example shares: `[OPTIONS] [TRACE]`, `--help`, `--quiet`,
//! `--cores N`, and the shipped trace when no TRACE is given.

use std::path::PathBuf;

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
}

/// The trace the project ships, used when no TRACE is given.
pub fn shipped_trace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join("sample.pcap")
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
            "-h" | "--help" => return Err(usage.to_string()),
            "-q" | "--quiet" => out.quiet = true,
            "--cores" => {
                let value = args.next().ok_or("--cores needs a number")?;
                out.cores = value
                    .parse()
                    .map_err(|_| format!("--cores: not a number: {value}"))?;
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
    Ok(out)
}
