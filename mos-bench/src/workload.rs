//! The capture a benchmark replays: a seeded workload generated in memory (with its expected
//! totals), or a pcap file read into memory (with a ground-truth file, if given).

use std::path::Path;
use std::sync::Arc;

use mos_synth::pcap::PcapWriter;
use mos_synth::workload::{Preset, Workload, WorkloadConfig, WorkloadStats};

use crate::truth::Expected;

/// A capture in memory, shared by the runs of one benchmark.
#[derive(Debug, Clone)]
pub struct Capture {
    /// What it is (`W5 seed 1`, or the file's path).
    pub name: String,
    /// The pcap file's bytes (empty when the capture is streamed from `path`).
    pub bytes: Arc<Vec<u8>>,
    /// The file, when it is one.
    pub path: Option<std::path::PathBuf>,
    /// What a correct run counts, when known.
    pub expected: Option<Expected>,
    /// The generator's counters (generated workloads only).
    pub stats: Option<WorkloadStats>,
}

/// A preset's configuration with `seed`, optionally scaled to `flows` connections and
/// `concurrency` open at once.
pub fn preset_config(
    preset: Preset,
    seed: u64,
    flows: Option<u64>,
    concurrency: Option<u32>,
) -> WorkloadConfig {
    let mut cfg = preset.config(seed);
    if let Some(f) = flows {
        cfg.flows = f;
    }
    if let Some(c) = concurrency {
        cfg.concurrency = c;
    }
    cfg
}

/// Generates a workload into memory, with its expected totals.
pub fn generate(name: String, cfg: WorkloadConfig) -> Result<Capture, String> {
    // About 850 bytes per packet and 70 packets per connection in the presets: reserve close
    // to the final size so the buffer is not copied while it grows.
    let estimate = usize::try_from(cfg.flows.saturating_mul(70 * 850)).unwrap_or(0);
    let mut out = Vec::with_capacity(estimate.min(1 << 36));
    let mut expected = Expected::default();
    let mut wl = Workload::new(cfg).map_err(|e| e.to_string())?;
    wl.keep_truth(true);
    let mut writer = PcapWriter::new(&mut out, mos_synth::Precision::Micros)
        .map_err(|e| format!("writing the capture: {e}"))?;
    let mut frames = 0u64;
    loop {
        let next = wl.next_frame().map_err(|e| e.to_string())?;
        let Some((ts, frame)) = next else { break };
        writer
            .write_packet(ts, frame)
            .map_err(|e| format!("writing the capture: {e}"))?;
        frames += 1;
        if frames % 4096 == 0 {
            wl.drain_truth(|c| expected.add(c));
        }
    }
    wl.drain_truth(|c| expected.add(c));
    let stats = wl.stats();
    expected.set_summary(&stats.summary);
    out.shrink_to_fit();
    Ok(Capture {
        name,
        bytes: Arc::new(out),
        path: None,
        expected: Some(expected),
        stats: Some(stats),
    })
}

/// A pcap or pcapng file, read into memory unless `stream` (then the runtime reads it while
/// running); `truth` is its ground truth, if any.
pub fn load(path: &Path, truth: Option<&Path>, stream: bool) -> Result<Capture, String> {
    let bytes = if stream {
        Vec::new()
    } else {
        std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?
    };
    let expected = truth.map(Expected::read).transpose()?;
    Ok(Capture {
        name: path.display().to_string(),
        bytes: Arc::new(bytes),
        path: Some(path.to_path_buf()),
        expected,
        stats: None,
    })
}
