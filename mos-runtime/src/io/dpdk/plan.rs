//! Who polls and who sends what: queue counts per port, the rx queues of each worker, and the
//! tx queue each worker uses on each output port. Pure arithmetic over the ports' capabilities,
//! so it is tested without DPDK.

use super::DpdkError;
use super::config::{DpdkConfig, Fanout};
use super::port::{PortCaps, PortSetup};

/// How packets reach their worker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Spread {
    /// One worker: it polls every queue.
    Single,
    /// Hardware RSS: worker `w` polls queue `w` of every port.
    Rss,
    /// Software fan-out over rings.
    Software,
}

/// A tx queue a worker sends on: port index, queue, and the lock index when several workers
/// share the queue (the port has fewer tx queues than there are workers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TxAssign {
    pub port: usize,
    pub queue: u16,
    pub lock: Option<usize>,
}

/// The whole plan of a run.
#[derive(Clone, Debug)]
pub(crate) struct Plan {
    pub spread: Spread,
    /// Per port (in run order).
    pub setups: Vec<PortSetup>,
    /// Per worker: (port index, rx queue).
    pub rx: Vec<Vec<(usize, u16)>>,
    /// Per port index: the index of the port it forwards to.
    pub route: Vec<Option<usize>>,
    /// Per worker, per output port (in `outputs` order): the tx queue it uses.
    pub tx: Vec<Vec<TxAssign>>,
    /// Output ports (those some port forwards to), in ascending index order.
    pub outputs: Vec<usize>,
    /// How many tx locks the shared queues need.
    pub locks: usize,
    /// Mbufs the run's pool needs when the configuration leaves it to the run.
    pub pool_size: u32,
}

impl Plan {
    /// The plan for `workers` workers over ports with capabilities `caps`.
    pub(crate) fn new(
        cfg: &DpdkConfig,
        workers: usize,
        caps: &[PortCaps],
    ) -> Result<Plan, DpdkError> {
        let nports = caps.len();
        if workers == 0 {
            return Err(DpdkError::msg("a run needs at least one worker"));
        }
        let wq =
            u16::try_from(workers).map_err(|_| DpdkError::msg(format!("{workers} workers")))?;
        let mut route = vec![None; nports];
        for &(from, to) in &cfg.forward {
            if from >= nports || to >= nports {
                return Err(DpdkError::msg(format!(
                    "forward ({from}, {to}): the run has {nports} ports"
                )));
            }
            route[from] = Some(to);
        }
        // A port that only receives forwarded packets is an output, not an input: polling it
        // would read back what was sent (net_ring) or nothing (a tx-only net_pcap).
        let output_only = |i: usize| route.contains(&Some(i)) && route.get(i) == Some(&None);
        let polled_at = |i: usize, c: &PortCaps| c.max_rx_queues > 0 && !output_only(i);
        let spread = if workers == 1 {
            Spread::Single
        } else {
            let inputs = || caps.iter().enumerate().filter(|&(i, c)| polled_at(i, c));
            let rss_ok = inputs().all(|(_, c)| c.rss_for(wq));
            let symmetric = inputs().all(|(_, c)| c.symmetric_key());
            match cfg.fanout {
                Fanout::Software => Spread::Software,
                Fanout::Rss if rss_ok => Spread::Rss,
                Fanout::Rss => {
                    return Err(DpdkError::msg(format!(
                        "Fanout::Rss: a port lacks RSS or {workers} rx queues ({})",
                        describe(caps)
                    )));
                }
                Fanout::Auto if rss_ok && symmetric => Spread::Rss,
                Fanout::Auto => Spread::Software,
            }
        };
        let mut setups = Vec::with_capacity(nports);
        for (i, c) in caps.iter().enumerate() {
            let rx_queues = if !polled_at(i, c) {
                0
            } else if spread == Spread::Rss {
                wq
            } else if cfg.rx_queues > 0 {
                if cfg.rx_queues > c.max_rx_queues {
                    return Err(DpdkError::msg(format!(
                        "port {i} ({}) has {} rx queues, {} asked",
                        c.driver, c.max_rx_queues, cfg.rx_queues
                    )));
                }
                cfg.rx_queues
            } else if c.driver == "net_pcap" {
                // Each rx queue of a pcap port is one of its input files or interfaces.
                c.max_rx_queues
            } else {
                c.max_rx_queues.min(wq)
            };
            let is_output = route.contains(&Some(i));
            let tx_queues = if c.max_tx_queues == 0 {
                if is_output {
                    return Err(DpdkError::msg(format!(
                        "port {i} ({}) cannot send (no tx queue) but is a forward target",
                        c.driver
                    )));
                }
                0
            } else if is_output {
                c.max_tx_queues.min(wq)
            } else {
                1
            };
            setups.push(PortSetup {
                rx_queues,
                tx_queues,
                rss: spread == Spread::Rss && rx_queues > 0,
                rx_offloads: 0,
                rx_descriptors: cfg.rx_descriptors,
                tx_descriptors: cfg.tx_descriptors,
            });
        }
        let mut rx = vec![Vec::new(); workers];
        let mut k = 0usize;
        for (p, s) in setups.iter().enumerate() {
            for q in 0..s.rx_queues {
                let w = if spread == Spread::Rss {
                    usize::from(q)
                } else {
                    let w = k % workers;
                    k += 1;
                    w
                };
                if let Some(list) = rx.get_mut(w) {
                    list.push((p, q));
                }
            }
        }
        let outputs: Vec<usize> = (0..nports).filter(|i| route.contains(&Some(*i))).collect();
        let mut locks = 0usize;
        let mut lock_base = Vec::with_capacity(outputs.len());
        for &o in &outputs {
            let queues = setups.get(o).map_or(0, |s| s.tx_queues);
            if usize::from(queues) < workers {
                lock_base.push(Some(locks));
                locks += usize::from(queues);
            } else {
                lock_base.push(None);
            }
        }
        let tx = (0..workers)
            .map(|w| {
                outputs
                    .iter()
                    .zip(&lock_base)
                    .map(|(&o, base)| {
                        let queues = setups.get(o).map_or(1, |s| s.tx_queues.max(1));
                        let queue = (w % usize::from(queues)) as u16;
                        TxAssign {
                            port: o,
                            queue,
                            lock: base.map(|b| b + usize::from(queue)),
                        }
                    })
                    .collect()
            })
            .collect();
        let burst = u32::from(cfg.burst);
        let mut need: u64 = 0;
        for s in &setups {
            need += u64::from(s.rx_queues) * u64::from(cfg.rx_descriptors);
            need += u64::from(s.tx_queues) * u64::from(cfg.tx_descriptors);
        }
        let per_worker = u64::from(burst) * 4
            + if spread == Spread::Software {
                u64::from(cfg.ring_size)
            } else {
                0
            };
        need += per_worker * workers as u64 + 1024;
        let pool_size = u32::try_from(need.next_power_of_two() - 1)
            .map_err(|_| DpdkError::msg(format!("a pool of {need} mbufs")))?
            .max(2047);
        Ok(Plan {
            spread,
            setups,
            rx,
            route,
            tx,
            outputs,
            locks,
            pool_size,
        })
    }
}

fn describe(caps: &[PortCaps]) -> String {
    caps.iter()
        .enumerate()
        .map(|(i, c)| {
            format!(
                "port {i} {}: {} rx queues, RSS {:#x}, key {} bytes",
                c.driver, c.max_rx_queues, c.rss_offloads, c.hash_key_size
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}
