//! What every example's `main` shares: option parsing around [`crate::cli`], the runtime
//! builder for the chosen input, where output goes ([`Out`]), the deterministic report, and the
//! exit status.
//!
//! Each example is a library function `run(args, out)` so the expected-output tests run
//! exactly what the binary runs, writing into memory instead of stdout. Everything an example
//! prints on stdout is a function of the input alone (packet times, never wall-clock time); the
//! run's elapsed time and rate go to stderr.

use std::cell::RefCell;
use std::fmt;
use std::io::Write;
use std::process::ExitCode;

use mos_runtime::{PacketSink, Report, RunError, RuntimeBuilder};

use crate::cli::{self, CommonArgs};

/// How an example ends when it does not succeed.
#[derive(Debug)]
pub enum Exit {
    /// `--help`: the usage, printed on stdout, success.
    Help(String),
    /// Bad command line: the message, printed on stderr, status 2.
    Usage(String),
    /// The run failed (unreadable capture, bad rules file, ...): status 1.
    Failed(String),
}

impl Exit {
    /// Print the message where it belongs and give the process status.
    pub fn report(result: Result<(), Exit>) -> ExitCode {
        match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(Exit::Help(usage)) => {
                println!("{usage}");
                ExitCode::SUCCESS
            }
            Err(Exit::Usage(msg)) => {
                eprintln!("{msg}");
                ExitCode::from(2)
            }
            Err(Exit::Failed(msg)) => {
                eprintln!("{msg}");
                ExitCode::FAILURE
            }
        }
    }
}

impl From<RunError> for Exit {
    fn from(e: RunError) -> Self {
        Exit::Failed(e.to_string())
    }
}

/// Removes `--name VALUE` (or `--name=VALUE`) from `args`; the last one wins.
pub fn take_value(args: &mut Vec<String>, name: &str) -> Result<Option<String>, Exit> {
    let mut value = None;
    let mut i = 0;
    let prefix = format!("{name}=");
    while i < args.len() {
        if args[i] == name {
            if i + 1 >= args.len() {
                return Err(Exit::Usage(format!("{name} needs a value")));
            }
            value = Some(args.remove(i + 1));
            args.remove(i);
        } else if let Some(v) = args[i].strip_prefix(&prefix) {
            value = Some(v.to_string());
            args.remove(i);
        } else {
            i += 1;
        }
    }
    Ok(value)
}

/// Removes every `name` flag from `args`; whether there was one.
pub fn take_flag(args: &mut Vec<String>, name: &str) -> bool {
    let before = args.len();
    args.retain(|a| a != name);
    args.len() != before
}

/// Parses `--name N` as a number.
pub fn take_number<T: std::str::FromStr>(
    args: &mut Vec<String>,
    name: &str,
) -> Result<Option<T>, Exit> {
    match take_value(args, name)? {
        None => Ok(None),
        Some(v) => v
            .parse()
            .map(Some)
            .map_err(|_| Exit::Usage(format!("{name}: not a number: {v}"))),
    }
}

/// The common options (`--help`, `--quiet`, `--cores N`, TRACE) of what is left in `args`,
/// after the example took its own. Any other flag is an error.
pub fn common(args: Vec<String>, usage: &str) -> Result<CommonArgs, Exit> {
    let wants_help = args.iter().any(|a| a == "-h" || a == "--help");
    if wants_help {
        return Err(Exit::Help(cli::help(usage)));
    }
    let parsed = cli::parse(args, usage).map_err(Exit::Usage)?;
    if let Some(flag) = parsed.rest.first() {
        return Err(Exit::Usage(format!("unknown option: {flag}\n\n{usage}")));
    }
    Ok(parsed)
}

/// The capture an example reads: TRACE, or the shipped sample.
pub fn trace_of(args: &CommonArgs) -> std::path::PathBuf {
    args.trace.clone().unwrap_or_else(cli::shipped_trace)
}

/// A runtime builder over the chosen input — the capture, or DPDK ports with `--dpdk` when
/// built with the `dpdk` feature — with the common options applied.
pub fn builder(args: &CommonArgs) -> Result<RuntimeBuilder, Exit> {
    cli::runtime_builder(args).map_err(|e| Exit::Failed(format!("{}: {e}", cli::input_name(args))))
}

/// Where an example writes: stdout (the binaries) or memory (the tests).
///
/// Handlers write through the `#[core_state]` that holds it, so a line is written whole, in
/// packet order. Writing needs only a shared borrow (`cx.core().out`), so a handler can print
/// while it still borrows the receive buffer (`library::http_requests(cx)`). In-memory outputs
/// of several workers are concatenated in worker order.
#[derive(Debug, Default)]
pub struct Out {
    memory: Option<RefCell<Vec<u8>>>,
}

impl Out {
    /// Standard output, written as lines come.
    pub fn stdout() -> Out {
        Out { memory: None }
    }

    /// An in-memory output.
    pub fn memory() -> Out {
        Out {
            memory: Some(RefCell::new(Vec::new())),
        }
    }

    /// Whether this writes to stdout.
    pub fn is_stdout(&self) -> bool {
        self.memory.is_none()
    }

    /// Writes one line. Errors (a closed pipe) are ignored: output is best effort, the run
    /// goes on.
    pub fn line(&self, args: fmt::Arguments<'_>) {
        match &self.memory {
            None => {
                let mut lock = std::io::stdout().lock();
                let _ = lock.write_fmt(args);
                let _ = lock.write_all(b"\n");
            }
            Some(buf) => {
                let mut buf = buf.borrow_mut();
                let _ = buf.write_fmt(args);
                buf.push(b'\n');
            }
        }
    }

    /// Writes text as is.
    pub fn text(&self, text: &str) {
        match &self.memory {
            None => {
                let _ = std::io::stdout().lock().write_all(text.as_bytes());
            }
            Some(buf) => buf.borrow_mut().extend_from_slice(text.as_bytes()),
        }
    }

    /// What was written to an in-memory output (empty for stdout).
    pub fn as_text(&self) -> String {
        match &self.memory {
            None => String::new(),
            Some(buf) => String::from_utf8_lossy(&buf.borrow()).into_owned(),
        }
    }

    /// A fresh output of the same kind (for another worker).
    pub fn fork(&self) -> Out {
        match &self.memory {
            None => Out::stdout(),
            Some(_) => Out::memory(),
        }
    }

    /// Appends another worker's in-memory output.
    pub fn merge(&mut self, other: Out) {
        if let (Some(buf), Some(more)) = (&self.memory, other.memory) {
            buf.borrow_mut().extend_from_slice(&more.into_inner());
        }
    }
}

/// Writes a line to an [`Out`]: `outln!(out, "{} packets", n)`.
#[macro_export]
macro_rules! outln {
    ($out:expr, $($arg:tt)*) => {
        $out.line(format_args!($($arg)*))
    };
}

/// The run's report without its wall-clock lines (`elapsed seconds`, `Mpps`): the same for
/// every run over the same input.
pub fn report_text(report: &Report) -> String {
    format!("{}\n", report.untimed())
}

/// Prints the report (deterministic part) on `out` and its timing on stderr.
pub fn finish(out: &Out, report: &Report) {
    out.text(&report_text(report));
    if out.is_stdout() {
        eprintln!(
            "{}: {} packets in {:.3} s ({:.3} Mpps)",
            report.app, report.packets, report.elapsed_seconds, report.mpps
        );
    }
}

/// An inline sink that forwards nowhere: the runtime still counts forwarded packets.
#[derive(Clone, Copy, Debug, Default)]
pub struct NullSink;

impl PacketSink for NullSink {
    fn send(
        &mut self,
        _ts: mos_runtime::time::Timestamp,
        _frame: &[u8],
        _wire_len: u32,
        _link: mos_runtime::wire::LinkType,
    ) -> std::io::Result<()> {
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// `a/b` (client→server / server→client), padded as one field by the formatter's width, with no
/// allocation: `format!("{:>9}", Pair(12, 10))` is `"    12/10"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pair(pub u64, pub u64);

impl fmt::Display for Pair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Two u64 and a slash: at most 41 bytes.
        let mut buf = StackStr::<48>::new();
        let _ = fmt::Write::write_fmt(&mut buf, format_args!("{}/{}", self.0, self.1));
        f.pad(buf.as_str())
    }
}

/// A fixed-size string buffer for formatting without the heap; text past its size is cut.
#[derive(Debug)]
pub struct StackStr<const N: usize> {
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> StackStr<N> {
    /// Empty.
    pub fn new() -> Self {
        StackStr {
            buf: [0; N],
            len: 0,
        }
    }

    /// The text written (whole characters only).
    pub fn as_str(&self) -> &str {
        let bytes = self.buf.get(..self.len).unwrap_or(&[]);
        match std::str::from_utf8(bytes) {
            Ok(s) => s,
            // Cut inside a character: keep the valid prefix.
            Err(e) => {
                std::str::from_utf8(bytes.get(..e.valid_up_to()).unwrap_or(&[])).unwrap_or("")
            }
        }
    }
}

impl<const N: usize> Default for StackStr<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> fmt::Write for StackStr<N> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = N - self.len;
        let take = s.len().min(room);
        if let (Some(dst), Some(src)) = (
            self.buf.get_mut(self.len..self.len + take),
            s.as_bytes().get(..take),
        ) {
            dst.copy_from_slice(src);
            self.len += take;
        }
        if take < s.len() {
            Err(fmt::Error)
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_taken_with_their_values() {
        let mut args: Vec<String> = ["--out", "x.pcap", "trace.pcap", "--interval=2", "--json"]
            .map(String::from)
            .to_vec();
        assert_eq!(
            take_value(&mut args, "--out").unwrap().as_deref(),
            Some("x.pcap")
        );
        assert_eq!(
            take_number::<f64>(&mut args, "--interval").unwrap(),
            Some(2.0)
        );
        assert!(take_flag(&mut args, "--json"));
        assert_eq!(args, ["trace.pcap"]);
        let mut bad = vec!["--out".to_string()];
        assert!(matches!(take_value(&mut bad, "--out"), Err(Exit::Usage(_))));
        let mut nan = vec!["--cores".to_string(), "two".to_string()];
        assert!(matches!(
            take_number::<usize>(&mut nan, "--cores"),
            Err(Exit::Usage(_))
        ));
    }

    #[test]
    fn unknown_flags_and_help() {
        assert!(
            matches!(common(vec!["--bogus".into()], "U"), Err(Exit::Usage(m)) if m.contains("--bogus"))
        );
        assert!(matches!(common(vec!["-h".into()], "U"), Err(Exit::Help(u)) if u == "U"));
        let args = common(vec!["--quiet".into(), "t.pcap".into()], "U").unwrap();
        assert!(args.quiet);
        assert_eq!(args.trace.unwrap().to_str(), Some("t.pcap"));
    }

    #[test]
    fn pairs_pad_and_stack_strings_cut() {
        assert_eq!(format!("{:>9}|", Pair(12, 10)), "    12/10|");
        assert_eq!(format!("{:<6}|", Pair(1, 2)), "1/2   |");
        assert_eq!(Pair(u64::MAX, u64::MAX).to_string().len(), 41);
        let mut s = StackStr::<4>::new();
        assert!(fmt::Write::write_str(&mut s, "abcdef").is_err());
        assert_eq!(s.as_str(), "abcd");
        let mut s = StackStr::<3>::new();
        let _ = fmt::Write::write_str(&mut s, "aé!");
        assert_eq!(s.as_str(), "aé");
    }

    #[test]
    fn the_report_text_has_no_wall_clock_lines() {
        let report = mos_runtime::Runtime::builder()
            .pcap(crate::cli::shipped_trace())
            .unwrap()
            .progress(false)
            .build()
            .unwrap()
            .run::<crate::flowdump::FlowDump>()
            .unwrap();
        let text = report_text(&report);
        assert!(
            text.contains("packets") && text.contains("trace seconds"),
            "{text}"
        );
        assert!(
            !text.contains("setup") && !text.contains("elapsed") && !text.contains("Mpps"),
            "{text}"
        );
        assert_eq!(text.lines().count() + 3, report.to_string().lines().count());
    }
}
