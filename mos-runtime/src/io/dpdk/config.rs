//! What a DPDK run is told: EAL flags, ports, forwarding, workers, memory, clock, when to stop.
//!
//! Everything here is plain data, checked by [`DpdkConfig::validate`] before the EAL or any
//! port is touched, so a bad value is an error before anything is set up.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use super::DpdkError;
use super::mempool::Mempool;

/// EAL flags for a machine without hugepages or DPDK-bound NICs (a laptop, CI): one lcore,
/// anonymous memory, no PCI scan, no runtime files (several DPDK processes may run at once),
/// no telemetry thread, warnings only. Ports then come from virtual devices (`net_pcap`,
/// `net_ring`, `net_null`, `net_af_packet`, ...).
pub const LAPTOP_EAL_ARGS: &[&str] = &[
    "-l",
    "0",
    "--no-huge",
    "-m",
    "256",
    "--no-pci",
    "--no-shconf",
    "--no-telemetry",
    "--log-level=*:warning",
];

/// Largest rx/tx burst a run accepts (the per-worker burst arrays are this long at most).
pub const MAX_BURST: u16 = 512;

/// One port of a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PortSpec {
    /// A virtual device hot-plugged for this run and removed at its end, in `--vdev` syntax:
    /// `"net_pcap0,rx_pcap=in.pcap,tx_pcap=out.pcap"`, `"net_ring3"`, `"net_null1,size=64"`.
    /// The name (up to the first comma) must be unique in the process while the run lasts.
    Vdev(String),
    /// A port the EAL already probed, by device name: a PCI address (`"0000:03:00.0"`) or the
    /// name of a `--vdev` given in the EAL flags (`"net_pcap0"`). Stopped, not closed, at the
    /// end of the run.
    Name(String),
    /// A port the EAL already probed, by port id.
    Id(u16),
}

impl PortSpec {
    /// A hot-plugged virtual device from its `--vdev` string.
    pub fn vdev(spec: impl Into<String>) -> PortSpec {
        PortSpec::Vdev(spec.into())
    }
}

/// How packets are spread over several workers (ignored with one worker).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Fanout {
    /// RSS when every receiving port offers it with one queue per worker and takes a 40- or
    /// 52-byte Toeplitz key (the symmetric key is installed); the software fan-out otherwise.
    #[default]
    Auto,
    /// Hardware RSS, one rx queue per worker; an error if a receiving port lacks RSS or queues.
    /// With a driver that takes no hash key (`hash_key_size` 0, e.g. `net_null`) the driver's
    /// own hash is used, which is not guaranteed to be symmetric.
    Rss,
    /// Software fan-out: whoever polls an rx queue hashes each packet's canonical 5-tuple
    /// ([`crate::flow::key::FlowKey::shard`]) and hands packets owned by another worker over
    /// an `rte_ring`. Works with any port, costs a header parse and a ring hop per packet moved.
    Software,
}

/// Where packet timestamps come from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Clock {
    /// `net_pcap` ports: the capture's own timestamps, which the pcap driver stores in the
    /// mbuf's rx-timestamp field in microseconds (so timeouts behave as in an offline run of
    /// the same file, to the microsecond). Every other port: [`Clock::Tsc`].
    #[default]
    Auto,
    /// The TSC read once per rx burst, as Unix-epoch time: one (TSC, system clock) pair is
    /// taken when the run starts and the TSC's rate (`rte_get_tsc_hz`) converts from there, so
    /// the clock is monotonic and costs no system call per packet.
    Tsc,
    /// The mbuf rx-timestamp dynamic field, for NICs that timestamp in hardware (the
    /// `RTE_ETH_RX_OFFLOAD_TIMESTAMP` offload is requested where the port offers it). The
    /// field's unit is the driver's: `nanos_per_unit` converts it (1 for drivers that count
    /// nanoseconds of Unix time). Packets without a timestamp get the TSC clock.
    MbufTimestamp {
        /// Nanoseconds per unit of the driver's timestamp.
        nanos_per_unit: u64,
    },
}

/// When a run ends by itself: after every worker has seen nothing on its inputs for both
/// `empty_polls` polls in a row and `min_idle` of time.
///
/// A `net_pcap` rx queue reads its file synchronously and then returns empty bursts forever, so
/// for file replay the first empty poll already means the end of the file
/// ([`IdleStop::polls`]`(1)`), unless the mempool ran dry (size it above the burst). Live ports
/// need a time: [`IdleStop::after`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IdleStop {
    /// Consecutive polls of every input of a worker that returned nothing.
    pub empty_polls: u64,
    /// Time without a packet.
    pub min_idle: Duration,
}

impl IdleStop {
    /// Stop after `n` empty polls in a row (no time condition).
    pub const fn polls(n: u64) -> IdleStop {
        IdleStop {
            empty_polls: n,
            min_idle: Duration::ZERO,
        }
    }

    /// Stop after `d` without a packet.
    pub const fn after(d: Duration) -> IdleStop {
        IdleStop {
            empty_polls: 1,
            min_idle: d,
        }
    }
}

/// A DPDK packet source (and, with [`DpdkConfig::forward`], an inline forwarder): give it to
/// [`crate::RuntimeBuilder::dpdk`].
///
/// ```no_run
/// # #[cfg(feature = "dpdk")] {
/// use mos_runtime::io::dpdk::{DpdkConfig, IdleStop, PortSpec};
///
/// // Replay a capture through DPDK's pcap driver, forwarding what the app lets through.
/// let cfg = DpdkConfig {
///     ports: vec![
///         PortSpec::vdev("net_pcap0,rx_pcap=in.pcap"),
///         PortSpec::vdev("net_pcap1,tx_pcap=out.pcap"),
///     ],
///     forward: vec![(0, 1)],
///     stop_when_idle: Some(IdleStop::polls(1)),
///     ..DpdkConfig::default()
/// };
/// # let _ = cfg; }
/// ```
#[derive(Clone, Debug)]
pub struct DpdkConfig {
    /// EAL flags, without a program name. Used by the first DPDK run of the process
    /// (`rte_eal_init` works once per process); later runs share that EAL and ignore theirs,
    /// so they should bring their ports as [`PortSpec::Vdev`]. Default: [`LAPTOP_EAL_ARGS`].
    pub eal_args: Vec<String>,
    /// The ports of the run, indexed from 0 in this order. Empty: every port the EAL probed
    /// (its `--vdev`s and bound NICs) that no other run owns, in port-id order. Every port is
    /// polled for packets, except outputs (see [`DpdkConfig::forward`]).
    pub ports: Vec<PortSpec>,
    /// Inline mode: `(from, to)` sends what arrives on port `from` and the app does not drop
    /// out of port `to` (indices into the run's ports; `(0, 1), (1, 0)` is a bump in the wire,
    /// `(0, 0)` a reflector). Handlers may rewrite packets in place and drop them. Packets of
    /// a port with no pair are only observed, then freed. A port that is only ever a `to` is
    /// an output and is not polled (`net_pcap` with a `tx_pcap` only, a ring that someone
    /// else reads).
    pub forward: Vec<(usize, usize)>,
    /// Workers (threads, each registered as an EAL lcore). 0: one per EAL lcore (`-l`).
    pub workers: usize,
    /// How packets are spread over the workers.
    pub fanout: Fanout,
    /// Rx queues per port; 0: one per worker with RSS; otherwise as many as the port has, up
    /// to one per worker, except `net_pcap` ports, whose queues are their inputs (one per
    /// `rx_pcap`/`rx_iface`) and are all polled.
    pub rx_queues: u16,
    /// Mbufs in the run's pool; 0: enough for every descriptor, ring and burst of the run.
    pub mempool_size: u32,
    /// Per-lcore mbuf cache of that pool (clamped to what DPDK accepts for its size).
    pub mempool_cache: u32,
    /// Use this pool instead of making one (to watch its counts around a run).
    pub mempool: Option<Mempool>,
    /// Packets per rx burst (1 ..= [`MAX_BURST`]; 32 or 64 suit most drivers).
    pub burst: u16,
    /// Rx descriptors per queue (the driver may round it).
    pub rx_descriptors: u16,
    /// Tx descriptors per queue (the driver may round it).
    pub tx_descriptors: u16,
    /// Slots of each worker's fan-out ring (a power of two).
    pub ring_size: u32,
    /// Where timestamps come from.
    pub clock: Clock,
    /// End the run when the inputs go quiet (needed for file replay through `net_pcap`).
    pub stop_when_idle: Option<IdleStop>,
    /// End the run when this becomes `true` (live ports); every packet already received is
    /// still processed, and every mbuf sent or freed.
    pub stop: Option<Arc<AtomicBool>>,
}

impl Default for DpdkConfig {
    fn default() -> Self {
        DpdkConfig {
            eal_args: LAPTOP_EAL_ARGS.iter().map(|a| (*a).to_string()).collect(),
            ports: Vec::new(),
            forward: Vec::new(),
            workers: 0,
            fanout: Fanout::Auto,
            rx_queues: 0,
            mempool_size: 0,
            mempool_cache: 256,
            mempool: None,
            burst: 32,
            rx_descriptors: 1024,
            tx_descriptors: 1024,
            ring_size: 4096,
            clock: Clock::Auto,
            stop_when_idle: None,
            stop: None,
        }
    }
}

impl DpdkConfig {
    /// The default configuration with these EAL flags (a shell-like string, see
    /// [`split_eal_args`]).
    pub fn from_eal_args(args: &str) -> Result<DpdkConfig, DpdkError> {
        Ok(DpdkConfig {
            eal_args: split_eal_args(args)?,
            ..DpdkConfig::default()
        })
    }

    /// `self` with `cores` workers if it leaves the count to the EAL (0) and `cores > 1`: how
    /// `RuntimeBuilder::cores(n)` reaches a DPDK run.
    pub fn with_cores(mut self, cores: usize) -> DpdkConfig {
        if self.workers == 0 && cores > 1 {
            self.workers = cores;
        }
        self
    }

    /// Check every value that does not need the EAL.
    pub fn validate(&self) -> Result<(), DpdkError> {
        if self.burst == 0 || self.burst > MAX_BURST {
            return Err(DpdkError::msg(format!(
                "burst = {} (1 ..= {MAX_BURST})",
                self.burst
            )));
        }
        if !self.ring_size.is_power_of_two() || self.ring_size < u32::from(self.burst) * 2 {
            return Err(DpdkError::msg(format!(
                "ring_size = {} (a power of two, at least twice the burst)",
                self.ring_size
            )));
        }
        if self.rx_descriptors == 0 || self.tx_descriptors == 0 {
            return Err(DpdkError::msg(
                "rx_descriptors and tx_descriptors must be > 0",
            ));
        }
        if let Clock::MbufTimestamp { nanos_per_unit: 0 } = self.clock {
            return Err(DpdkError::msg(
                "Clock::MbufTimestamp needs nanos_per_unit > 0",
            ));
        }
        if let Some(idle) = self.stop_when_idle {
            if idle.empty_polls == 0 {
                return Err(DpdkError::msg("IdleStop::empty_polls must be at least 1"));
            }
        }
        if self.workers > usize::from(u16::MAX) {
            return Err(DpdkError::msg(format!("workers = {}", self.workers)));
        }
        for arg in &self.eal_args {
            // EAL prints its usage and calls exit() on these: never let a library do that.
            if arg == "-h" || arg == "--help" {
                return Err(DpdkError::msg(format!(
                    "EAL flag {arg:?} would make DPDK exit the process"
                )));
            }
        }
        let mut from_seen = Vec::with_capacity(self.forward.len());
        for &(from, to) in &self.forward {
            if !self.ports.is_empty() && (from >= self.ports.len() || to >= self.ports.len()) {
                return Err(DpdkError::msg(format!(
                    "forward ({from}, {to}): the run has {} ports",
                    self.ports.len()
                )));
            }
            if from_seen.contains(&from) {
                return Err(DpdkError::msg(format!(
                    "forward: port {from} is paired twice (one output per input port)"
                )));
            }
            from_seen.push(from);
        }
        Ok(())
    }
}

/// Splits an EAL flag string the way a shell would for simple cases: words separated by
/// whitespace; single quotes keep everything literally; double quotes keep whitespace and
/// honour `\"` and `\\`; a backslash outside quotes escapes the next character. So
/// `--dpdk "-l 0 --vdev 'net_pcap0,rx_pcap=my trace.pcap'"` works.
pub fn split_eal_args(s: &str) -> Result<Vec<String>, DpdkError> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(ch) => word.push(ch),
                        None => return Err(DpdkError::msg("EAL flags: unterminated ' quote")),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(ch @ ('"' | '\\')) => word.push(ch),
                            Some(ch) => {
                                word.push('\\');
                                word.push(ch);
                            }
                            None => {
                                return Err(DpdkError::msg("EAL flags: unterminated \" quote"));
                            }
                        },
                        Some(ch) => word.push(ch),
                        None => return Err(DpdkError::msg("EAL flags: unterminated \" quote")),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some(ch) => word.push(ch),
                    None => return Err(DpdkError::msg("EAL flags: trailing backslash")),
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        out.push(word);
    }
    Ok(out)
}
