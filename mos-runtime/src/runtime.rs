//! The front door: [`Runtime::builder`] → [`RuntimeBuilder`] → [`Runtime::run`].
//!
//! One worker runs on the calling thread: read a frame, process it, and so on (reading a few
//! frames ahead to prefetch their flows' state while many flows are tracked; see
//! [`Config::prefetch_min_flows`]). With `cores(n)`, n > 1, n worker threads share the work:
//! worker 0 reads the capture and hands the others their frames by symmetric flow hash. The
//! private `runtime::multicore` module documents the design, the guarantee (per-connection
//! results identical to `cores(1)`) and the deterministic merge order of the workers' reports
//! and core states.

mod multicore;
mod ring;
#[cfg(test)]
mod tests;

pub use multicore::{BATCH_FRAMES, BATCHES_PER_WORKER, MAX_CORES};

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::app::App;
use crate::config::Config;
use crate::engine::{BuildError, PREFETCH_GROUP, PacketSink, Worker};
use crate::io::{PcapError, PcapReader};
use crate::report::Report;
use crate::stream::OverlapPolicy;

/// Why a run failed.
#[derive(Debug)]
pub enum RunError {
    /// The capture could not be opened or read.
    Pcap(PcapError),
    /// A configuration value is out of range.
    Config(String),
    /// Writing forwarded packets failed.
    Sink(std::io::Error),
    /// No packet source was configured.
    NoSource,
    /// A worker thread could not be started.
    Thread(std::io::Error),
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Pcap(e) => write!(f, "{e}"),
            RunError::Config(msg) => write!(f, "configuration: {msg}"),
            RunError::Sink(e) => write!(f, "writing forwarded packets: {e}"),
            RunError::NoSource => {
                f.write_str("no packet source: call .pcap(path) or .pcap_bytes(bytes)")
            }
            RunError::Thread(e) => write!(f, "starting a worker thread: {e}"),
        }
    }
}

impl std::error::Error for RunError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RunError::Pcap(e) => Some(e),
            RunError::Sink(e) => Some(e),
            RunError::Thread(e) => Some(e),
            _ => None,
        }
    }
}

impl From<PcapError> for RunError {
    fn from(e: PcapError) -> Self {
        RunError::Pcap(e)
    }
}

impl From<BuildError> for RunError {
    fn from(e: BuildError) -> Self {
        RunError::Config(e.to_string())
    }
}

enum Source {
    File(PathBuf),
    Memory(Vec<u8>),
    Shared(Arc<Vec<u8>>),
    #[cfg(feature = "dpdk")]
    Dpdk(crate::io::dpdk::DpdkConfig),
}

/// Builds a [`Runtime`].
pub struct RuntimeBuilder {
    cfg: Config,
    source: Option<Source>,
    sink: Option<Box<dyn PacketSink>>,
    cores: usize,
}

impl std::fmt::Debug for RuntimeBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuntimeBuilder")
            .field("cfg", &self.cfg)
            .field("cores", &self.cores)
            .finish_non_exhaustive()
    }
}

impl RuntimeBuilder {
    /// Read packets from a pcap or pcapng file. Fails now if the file cannot be opened or is
    /// not a capture.
    pub fn pcap(mut self, path: impl AsRef<Path>) -> Result<Self, RunError> {
        let path = path.as_ref();
        PcapReader::open(path)?;
        self.source = Some(Source::File(path.to_path_buf()));
        Ok(self)
    }

    /// Replay a capture held in memory (benchmarks: no I/O in the packet loop).
    pub fn pcap_bytes(mut self, bytes: Vec<u8>) -> Self {
        self.source = Some(Source::Memory(bytes));
        self
    }

    /// Replay a capture held in memory and shared: several runs over one capture without
    /// copying it (benchmarks), and with `cores(n)` the workers read frames where they are.
    pub fn pcap_shared(mut self, bytes: Arc<Vec<u8>>) -> Self {
        self.source = Some(Source::Shared(bytes));
        self
    }

    /// Receive from DPDK ports (feature `dpdk`; see [`crate::io::dpdk`]). Inline forwarding on
    /// DPDK is [`DpdkConfig::forward`](crate::io::dpdk::DpdkConfig::forward), not
    /// [`RuntimeBuilder::inline`]; `cores(n)` sets the worker count when the configuration
    /// leaves it at 0.
    #[cfg(feature = "dpdk")]
    pub fn dpdk(mut self, cfg: crate::io::dpdk::DpdkConfig) -> Self {
        self.source = Some(Source::Dpdk(cfg));
        self
    }

    /// Inline mode: forward every packet not dropped by a handler to `sink`.
    pub fn inline(mut self, sink: impl PacketSink + 'static) -> Self {
        self.sink = Some(Box::new(sink));
        self
    }

    /// Flow-table capacity per worker.
    pub fn max_flows(mut self, n: usize) -> Self {
        self.cfg.max_flows = n;
        self
    }

    /// Reassembly bytes per side.
    pub fn buffer_size(mut self, bytes: usize) -> Self {
        self.cfg.buffer_size = bytes;
        self
    }

    /// Reassembly buffers in the pool (sides holding data at once).
    pub fn buffers(mut self, n: usize) -> Self {
        self.cfg.buffers = n;
        self
    }

    /// Out-of-order holes per side.
    pub fn max_holes(mut self, n: usize) -> Self {
        self.cfg.max_holes = n;
        self
    }

    /// Overlap policy for retransmitted bytes.
    pub fn overlap(mut self, policy: OverlapPolicy) -> Self {
        self.cfg.overlap = policy;
        self
    }

    /// Idle timeout of a connection.
    pub fn idle_timeout(mut self, d: Duration) -> Self {
        self.cfg.idle_timeout = d;
        self
    }

    /// Minimum idle time before a flow may be evicted from a full table.
    pub fn evict_min_idle(mut self, d: Duration) -> Self {
        self.cfg.evict_min_idle = d;
        self
    }

    /// Packets per receive batch.
    pub fn batch_size(mut self, n: usize) -> Self {
        self.cfg.batch_size = n;
        self
    }

    /// Verify checksums (bad ones become `ON_ERROR(BadChecksum)`).
    pub fn verify_checksums(mut self, on: bool) -> Self {
        self.cfg.verify_checksums = on;
        self
    }

    /// Reassembly on or off for new connections.
    pub fn buffering(mut self, on: bool) -> Self {
        self.cfg.buffering = on;
        self
    }

    /// Give a side's reassembly buffer back to the pool whenever everything it received has
    /// been read (default on; see [`Config::release_drained`] for what that trades).
    pub fn release_drained(mut self, on: bool) -> Self {
        self.cfg.release_drained = on;
        self
    }

    /// Prefetch flow state ahead while at least `n` flows are tracked (default 16,384; see
    /// [`Config::prefetch_min_flows`]).
    pub fn prefetch_min_flows(mut self, n: usize) -> Self {
        self.cfg.prefetch_min_flows = n;
        self
    }

    /// Progress bar on stderr when it is a terminal.
    pub fn progress(mut self, on: bool) -> Self {
        self.cfg.progress = on;
        self
    }

    /// Number of workers (default 1). With n > 1 a reader thread parses the capture and hands
    /// each packet to one of n worker threads by symmetric flow hash; each worker has its own
    /// flow table, buffer pool and timers of the configured sizes (`max_flows`, `buffers` are
    /// per worker). Inline mode runs on one worker offline.
    pub fn cores(mut self, n: usize) -> Self {
        self.cores = n;
        self
    }

    /// The whole configuration at once.
    pub fn config(mut self, cfg: Config) -> Self {
        self.cfg = cfg;
        self
    }

    /// Check the configuration and make the runtime.
    pub fn build(self) -> Result<Runtime, RunError> {
        let source = self.source.ok_or(RunError::NoSource)?;
        if self.cores == 0 || self.cores > MAX_CORES {
            return Err(RunError::Config(format!(
                "cores({}) : between 1 and {MAX_CORES}",
                self.cores
            )));
        }
        if self.cores > 1 && self.sink.is_some() {
            return Err(RunError::Config(format!(
                "cores({}) with an inline sink: inline mode runs on one worker offline (the \
                 forwarded packets keep the capture's order); use cores(1)",
                self.cores
            )));
        }
        #[cfg(feature = "dpdk")]
        if self.sink.is_some() && matches!(source, Source::Dpdk(_)) {
            return Err(RunError::Config(
                "inline(sink) with a DPDK source: DPDK forwards between its own ports; set \
                 DpdkConfig::forward instead"
                    .to_string(),
            ));
        }
        if self.cfg.buffer_size < 1024 {
            return Err(RunError::Config(format!(
                "buffer_size = {} (at least 1024)",
                self.cfg.buffer_size
            )));
        }
        Ok(Runtime {
            cfg: self.cfg,
            source,
            sink: self.sink,
            cores: self.cores,
        })
    }
}

/// A configured runtime, ready to run an app.
pub struct Runtime {
    cfg: Config,
    source: Source,
    sink: Option<Box<dyn PacketSink>>,
    cores: usize,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("cfg", &self.cfg)
            .field("cores", &self.cores)
            .finish_non_exhaustive()
    }
}

impl Runtime {
    /// Start configuring a runtime.
    pub fn builder() -> RuntimeBuilder {
        RuntimeBuilder {
            cfg: Config::default(),
            source: None,
            sink: None,
            cores: 1,
        }
    }

    /// Run app `A` over the whole input.
    pub fn run<A: App>(self) -> Result<Report, RunError> {
        self.run_with_core::<A>().map(|(report, _)| report)
    }

    /// Run app `A` and also return its merged `#[core_state]`.
    pub fn run_with_core<A: App>(self) -> Result<(Report, A::Core), RunError> {
        self.run_init::<A>(A::Core::default())
    }

    /// Run app `A` with an initial `#[core_state]` (configuration the app's handlers read),
    /// returning the report and the final state. With `cores(n)`, worker 0 starts from `core`
    /// and the others from [`CoreState::fork`](crate::CoreState::fork) of it; the returned
    /// state is the workers' states merged in worker order.
    pub fn run_init<A: App>(self, core: A::Core) -> Result<(Report, A::Core), RunError> {
        let Runtime {
            cfg,
            source,
            sink,
            cores,
        } = self;
        if cores > 1 {
            let (reader, shared) = match source {
                Source::File(path) => (PcapReader::open(&path)?, None),
                Source::Memory(bytes) => {
                    let bytes = Arc::new(bytes);
                    (PcapReader::from_shared(Arc::clone(&bytes))?, Some(bytes))
                }
                Source::Shared(bytes) => {
                    (PcapReader::from_shared(Arc::clone(&bytes))?, Some(bytes))
                }
                #[cfg(feature = "dpdk")]
                Source::Dpdk(dpdk) => {
                    return crate::io::dpdk::run::<A>(cfg, dpdk.with_cores(cores), core);
                }
            };
            return multicore::run::<A>(cfg, reader, shared, cores, core);
        }
        let reader = match source {
            Source::File(path) => PcapReader::open(&path)?,
            Source::Memory(bytes) => PcapReader::from_bytes(bytes)?,
            Source::Shared(bytes) => PcapReader::from_shared(bytes)?,
            #[cfg(feature = "dpdk")]
            Source::Dpdk(dpdk) => {
                return crate::io::dpdk::run::<A>(cfg, dpdk.with_cores(cores), core);
            }
        };
        run_offline::<A>(cfg, reader, sink, core)
    }
}

/// One worker over a capture.
fn run_offline<A: App>(
    cfg: Config,
    mut reader: PcapReader,
    sink: Option<Box<dyn PacketSink>>,
    core: A::Core,
) -> Result<(Report, A::Core), RunError> {
    let progress = cfg.progress && std::io::stderr().is_terminal();
    let building = Instant::now();
    let mut worker = Worker::<A>::new(cfg, sink)?;
    worker.core = core;
    let started = Instant::now();
    let mut bar = Progress::new(progress);
    let read_result = loop {
        if !worker.prefetching() {
            // Frame by frame: each one is processed right after it is read, while its bytes
            // are arriving (see `Config::prefetch_min_flows`).
            match reader.next_frame() {
                Ok(Some(frame)) => {
                    worker.process(frame.data, frame.ts, frame.wire_len, frame.link);
                    bar.tick(1, Some(worker.live_flows()));
                    continue;
                }
                Ok(None) => break Ok(()),
                Err(e) => break Err(e),
            }
        }
        match reader.next_batch(PREFETCH_GROUP) {
            Ok(batch) if batch.is_empty() => break Ok(()),
            Ok(batch) => {
                worker.process_batch(batch.iter());
                bar.tick(batch.len(), Some(worker.live_flows()));
            }
            Err(e) => break Err(e),
        }
    };
    let finish = worker.finish();
    bar.done();
    read_result?;
    finish.map_err(RunError::Sink)?;
    let names: Vec<&str> = A::HANDLERS.iter().map(|h| h.name).collect();
    let mut report = Report::build(
        A::NAME,
        &worker.counters,
        &names,
        &worker.handler_calls,
        1,
        started.elapsed(),
    );
    report.setup_seconds = started.duration_since(building).as_secs_f64();
    Ok((report, worker.take_core()))
}

/// A one-line progress display on stderr, redrawn at most every 200 ms.
struct Progress {
    on: bool,
    packets: u64,
    last: Instant,
    start: Instant,
}

impl Progress {
    fn new(on: bool) -> Self {
        let now = Instant::now();
        Progress {
            on,
            packets: 0,
            last: now,
            start: now,
        }
    }

    /// One more packet; `flows` is the number of flows tracked, when the caller knows it
    /// (the multi-core reader does not: the flows live on the workers).
    #[inline(always)]
    /// `packets` more were read.
    fn tick(&mut self, packets: usize, flows: Option<usize>) {
        if !self.on {
            return;
        }
        let before = self.packets;
        self.packets += packets as u64;
        // Look at the clock about every 65,536 packets.
        if before >> 16 == self.packets >> 16 || self.last.elapsed() < Duration::from_millis(200) {
            return;
        }
        self.last = Instant::now();
        let mpps = self.packets as f64 / self.start.elapsed().as_secs_f64().max(1e-9) / 1e6;
        match flows {
            Some(f) => eprint!("\r{} packets  {f} flows  {mpps:.2} Mpps ", self.packets),
            None => eprint!("\r{} packets  {mpps:.2} Mpps ", self.packets),
        }
    }

    fn done(&self) {
        if self.on && self.packets >= 65_536 {
            eprintln!();
        }
    }
}
