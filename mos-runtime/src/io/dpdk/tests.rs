//! Unit tests of the parts that need no EAL: configuration, flag splitting, the plan, the RSS
//! key, placement and the clock arithmetic. The DPDK runs themselves are tested in
//! `tests/dpdk_runtime.rs` (one EAL per test process).

#![allow(clippy::unwrap_used, reason = "a panic is the failure report")]

use std::net::{IpAddr, Ipv4Addr};

use super::clock::{PortClock, tsc_to_nanos};
use super::config::{Clock, DpdkConfig, Fanout, IdleStop, PortSpec, split_eal_args};
use super::fanout::owner_of;
use super::plan::{Plan, Spread, TxAssign};
use super::port::{PortCaps, SYMMETRIC_RSS_KEY};

fn words(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_string()).collect()
}

#[test]
fn eal_flags_split_like_a_shell() {
    assert_eq!(
        split_eal_args("  -l 0  --no-huge\t-m 256 ").unwrap(),
        words(&["-l", "0", "--no-huge", "-m", "256"])
    );
    assert_eq!(
        split_eal_args("--vdev 'net_pcap0,rx_pcap=my trace.pcap' x").unwrap(),
        words(&["--vdev", "net_pcap0,rx_pcap=my trace.pcap", "x"])
    );
    assert_eq!(
        split_eal_args(r#"--vdev="net_pcap0,rx_pcap=a \"b\" c" a\ b"#).unwrap(),
        words(&["--vdev=net_pcap0,rx_pcap=a \"b\" c", "a b"])
    );
    assert_eq!(split_eal_args("''").unwrap(), words(&[""]));
    assert!(split_eal_args("").unwrap().is_empty());
    for bad in ["'open", "\"open", "trailing\\"] {
        let err = split_eal_args(bad).unwrap_err();
        assert!(err.to_string().contains("EAL flags"), "{bad}: {err}");
    }
}

#[test]
fn config_validation_names_the_bad_value() {
    let ok = DpdkConfig::default();
    ok.validate().unwrap();
    let cases: Vec<(DpdkConfig, &str)> = vec![
        (
            DpdkConfig {
                burst: 0,
                ..DpdkConfig::default()
            },
            "burst = 0",
        ),
        (
            DpdkConfig {
                burst: 513,
                ..DpdkConfig::default()
            },
            "burst = 513",
        ),
        (
            DpdkConfig {
                ring_size: 1000,
                ..DpdkConfig::default()
            },
            "ring_size = 1000",
        ),
        (
            DpdkConfig {
                clock: Clock::MbufTimestamp { nanos_per_unit: 0 },
                ..DpdkConfig::default()
            },
            "nanos_per_unit",
        ),
        (
            DpdkConfig {
                stop_when_idle: Some(IdleStop::polls(0)),
                ..DpdkConfig::default()
            },
            "empty_polls",
        ),
        (
            DpdkConfig {
                eal_args: words(&["-l", "0", "--help"]),
                ..DpdkConfig::default()
            },
            "exit the process",
        ),
        (
            DpdkConfig {
                ports: vec![PortSpec::vdev("net_null0")],
                forward: vec![(0, 1)],
                ..DpdkConfig::default()
            },
            "the run has 1 ports",
        ),
        (
            DpdkConfig {
                ports: vec![PortSpec::vdev("net_null0"), PortSpec::vdev("net_null1")],
                forward: vec![(0, 1), (0, 0)],
                ..DpdkConfig::default()
            },
            "paired twice",
        ),
    ];
    for (cfg, expected) in cases {
        let err = cfg.validate().unwrap_err().to_string();
        assert!(
            err.contains(expected),
            "{err:?} should mention {expected:?}"
        );
    }
}

#[test]
fn builder_cores_fill_only_an_unset_worker_count() {
    assert_eq!(DpdkConfig::default().with_cores(4).workers, 4);
    assert_eq!(DpdkConfig::default().with_cores(1).workers, 0);
    let set = DpdkConfig {
        workers: 2,
        ..DpdkConfig::default()
    };
    assert_eq!(set.with_cores(4).workers, 2);
}

fn caps(driver: &str, rx: u16, tx: u16, rss: u64, key: u8) -> PortCaps {
    PortCaps {
        driver: driver.to_string(),
        max_rx_queues: rx,
        max_tx_queues: tx,
        rss_offloads: rss,
        hash_key_size: key,
        rx_offloads: 0,
    }
}

const RSS_TCP: u64 = dpdk_sys::RTE_ETH_RSS_NONFRAG_IPV4_TCP;

#[test]
fn one_worker_polls_every_queue_and_sends_on_queue_zero() {
    let cfg = DpdkConfig {
        forward: vec![(0, 1)],
        ..DpdkConfig::default()
    };
    let ports = [caps("net_pcap", 2, 2, 0, 0), caps("net_pcap", 1, 1, 0, 0)];
    let plan = Plan::new(&cfg, 1, &ports).unwrap();
    assert_eq!(plan.spread, Spread::Single);
    // The output port is not polled.
    assert_eq!(plan.rx, vec![vec![(0, 0), (0, 1)]]);
    assert_eq!(plan.route, vec![Some(1), None]);
    assert_eq!(plan.outputs, vec![1]);
    assert_eq!(
        plan.tx,
        vec![vec![TxAssign {
            port: 1,
            queue: 0,
            lock: None
        }]]
    );
    assert_eq!(plan.locks, 0);
    // Every input of a pcap port is polled; the output has its one tx queue.
    let shape: Vec<_> = plan
        .setups
        .iter()
        .map(|s| (s.rx_queues, s.tx_queues, s.rss))
        .collect();
    assert_eq!(shape, [(2, 1, false), (0, 1, false)]);
}

#[test]
fn rss_ports_get_a_queue_per_worker() {
    let cfg = DpdkConfig {
        forward: vec![(0, 1), (1, 0)],
        ..DpdkConfig::default()
    };
    let nic = caps("net_ixgbe", 16, 16, RSS_TCP, 40);
    let plan = Plan::new(&cfg, 3, &[nic.clone(), nic]).unwrap();
    assert_eq!(plan.spread, Spread::Rss);
    assert!(
        plan.setups
            .iter()
            .all(|s| s.rss && s.rx_queues == 3 && s.tx_queues == 3)
    );
    // Worker w polls queue w of both ports and sends on its own queue w: no locks.
    for w in 0..3u16 {
        assert_eq!(plan.rx[usize::from(w)], vec![(0, w), (1, w)]);
        assert!(
            plan.tx[usize::from(w)]
                .iter()
                .all(|t| t.queue == w && t.lock.is_none())
        );
    }
    assert_eq!(plan.locks, 0);
}

#[test]
fn ports_without_rss_or_a_symmetric_key_use_the_software_fanout() {
    let cfg = DpdkConfig {
        forward: vec![(0, 1)],
        ..DpdkConfig::default()
    };
    // net_null offers RSS but takes no key: symmetry cannot be promised.
    let null = caps("net_null", 1024, 1024, RSS_TCP, 0);
    let pcap = caps("net_pcap", 1, 1, 0, 0);
    for ports in [
        vec![null.clone(), null.clone()],
        vec![pcap.clone(), pcap.clone()],
    ] {
        let plan = Plan::new(&cfg, 4, &ports).unwrap();
        assert_eq!(plan.spread, Spread::Software);
        assert!(plan.setups.iter().all(|s| !s.rss));
    }
    // Forced RSS on net_null: allowed (the driver's own hash).
    let forced = DpdkConfig {
        fanout: Fanout::Rss,
        ..cfg.clone()
    };
    assert_eq!(
        Plan::new(&forced, 2, &[null.clone(), null]).unwrap().spread,
        Spread::Rss
    );
    // Forced RSS without RSS: an error naming the ports.
    let err = Plan::new(&forced, 2, &[pcap.clone(), pcap])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("Fanout::Rss") && err.contains("net_pcap"),
        "{err}"
    );
}

#[test]
fn software_fanout_shares_out_queues_and_locks_short_tx_ports() {
    let cfg = DpdkConfig {
        forward: vec![(0, 1)],
        ..DpdkConfig::default()
    };
    // A ring port with 16 queues, a pcap port with one tx queue.
    let ports = [caps("net_ring", 16, 16, 0, 0), caps("net_pcap", 1, 1, 0, 0)];
    let plan = Plan::new(&cfg, 2, &ports).unwrap();
    assert_eq!(plan.spread, Spread::Software);
    assert_eq!(plan.setups[0].rx_queues, 2, "one queue per worker at most");
    assert_eq!(plan.setups[1].rx_queues, 0, "an output only");
    assert_eq!(plan.rx, vec![vec![(0, 0)], vec![(0, 1)]]);
    // Both workers send on the output's only queue, under lock 0.
    for w in 0..2 {
        assert_eq!(
            plan.tx[w],
            vec![TxAssign {
                port: 1,
                queue: 0,
                lock: Some(0)
            }]
        );
    }
    assert_eq!(plan.locks, 1);
    // The pool covers descriptors, rings and bursts.
    let need = (2 + 1) * 1024 + 1024 + 2 * (4 * 32 + 4096) + 1024;
    // A pcap port's files are all read, whatever the worker count.
    let three = Plan::new(
        &cfg,
        2,
        &[caps("net_pcap", 3, 3, 0, 0), caps("net_pcap", 1, 1, 0, 0)],
    )
    .unwrap();
    assert_eq!(three.rx, vec![vec![(0, 0), (0, 2)], vec![(0, 1)]]);
    assert!(plan.pool_size as usize >= need);
    assert!((plan.pool_size + 1).is_power_of_two());
}

#[test]
fn plan_rejects_what_the_ports_cannot_do() {
    let cfg = DpdkConfig {
        rx_queues: 4,
        ..DpdkConfig::default()
    };
    let err = Plan::new(&cfg, 1, &[caps("net_pcap", 1, 1, 0, 0)]).unwrap_err();
    assert!(
        err.to_string().contains("has 1 rx queues, 4 asked"),
        "{err}"
    );
    let cfg = DpdkConfig {
        forward: vec![(0, 1)],
        ..DpdkConfig::default()
    };
    let err = Plan::new(
        &cfg,
        1,
        &[caps("a", 1, 1, 0, 0), caps("rx_only", 1, 0, 0, 0)],
    )
    .unwrap_err();
    assert!(err.to_string().contains("cannot send"), "{err}");
    let err = Plan::new(&cfg, 1, &[caps("a", 1, 1, 0, 0)]).unwrap_err();
    assert!(err.to_string().contains("the run has 1 ports"), "{err}");
}

/// The Toeplitz hash NICs compute for RSS, over `input` with `key`.
fn toeplitz(key: &[u8], input: &[u8]) -> u32 {
    let mut hash = 0u32;
    // The 32-bit window of the key starting at bit i.
    let window = |i: usize| -> u32 {
        (0..32).fold(0u32, |w, b| {
            let bit = i + b;
            let byte = key.get(bit / 8).copied().unwrap_or(0);
            (w << 1) | u32::from((byte >> (7 - bit % 8)) & 1)
        })
    };
    for (i, byte) in input.iter().enumerate() {
        for b in 0..8 {
            if byte & (0x80 >> b) != 0 {
                hash ^= window(i * 8 + b);
            }
        }
    }
    hash
}

fn tuple(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&src);
    v.extend_from_slice(&dst);
    v.extend_from_slice(&sport.to_be_bytes());
    v.extend_from_slice(&dport.to_be_bytes());
    v
}

#[test]
fn the_rss_key_hashes_both_directions_alike() {
    assert_eq!(&SYMMETRIC_RSS_KEY[..4], &[0x6d, 0x5a, 0x6d, 0x5a]);
    assert!(SYMMETRIC_RSS_KEY.chunks(2).all(|c| c == [0x6d, 0x5a]));
    // Microsoft's verification key: the well-known test vector, to show the hash is right.
    let ms_key: [u8; 40] = [
        0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3, 0x8f,
        0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30,
        0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
    ];
    let v = tuple([66, 9, 149, 187], [161, 142, 100, 80], 2794, 1766);
    assert_eq!(toeplitz(&ms_key, &v), 0x51cc_c178);
    // With that key the reverse direction hashes differently; with the symmetric key it cannot.
    let rev = tuple([161, 142, 100, 80], [66, 9, 149, 187], 1766, 2794);
    assert_ne!(toeplitz(&ms_key, &v), toeplitz(&ms_key, &rev));
    let mut x = 0x1234_5678u32;
    for _ in 0..500 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        let a = x.to_be_bytes();
        let b = x.rotate_left(11).to_be_bytes();
        let (sp, dp) = ((x >> 3) as u16, (x >> 17) as u16);
        let fwd = toeplitz(&SYMMETRIC_RSS_KEY[..40], &tuple(a, b, sp, dp));
        let back = toeplitz(&SYMMETRIC_RSS_KEY[..40], &tuple(b, a, dp, sp));
        assert_eq!(fwd, back, "{a:?}:{sp} <-> {b:?}:{dp}");
    }
}

/// An Ethernet/IPv4/TCP frame from `src:sport` to `dst:dport`.
fn tcp_frame(src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16, fragment: bool) -> Vec<u8> {
    let mut f = vec![0u8; 14 + 20 + 20];
    f[12] = 0x08;
    f[14] = 0x45;
    f[16..18].copy_from_slice(&40u16.to_be_bytes());
    if fragment {
        f[20] = 0x20; // more fragments
    }
    f[22] = 64;
    f[23] = 6;
    f[26..30].copy_from_slice(&src);
    f[30..34].copy_from_slice(&dst);
    f[34..36].copy_from_slice(&sport.to_be_bytes());
    f[36..38].copy_from_slice(&dport.to_be_bytes());
    f[46] = 0x50;
    f[47] = 0x02;
    f
}

#[test]
fn placement_is_symmetric_and_spreads() {
    let mut seen = [0usize; 4];
    for i in 0..400u16 {
        let a = [10, 0, (i >> 8) as u8, i as u8];
        let b = [192, 168, 1, (i % 7) as u8];
        let fwd = owner_of(&tcp_frame(a, 40000 + i, b, 80, false), 4).unwrap();
        let back = owner_of(&tcp_frame(b, 80, a, 40000 + i, false), 4).unwrap();
        assert_eq!(fwd, back);
        seen[fwd] += 1;
        // The same as the flow table's own shard of the canonical key.
        let (key, _) = crate::flow::key::FlowKey::new(
            IpAddr::V4(Ipv4Addr::from(a)),
            40000 + i,
            IpAddr::V4(Ipv4Addr::from(b)),
            80,
            6,
        );
        assert_eq!(fwd, key.shard(4));
    }
    assert!(seen.iter().all(|&n| n > 50), "{seen:?}");
    // Fragments go by addresses only, whatever ports a first fragment shows.
    let f1 = owner_of(&tcp_frame([1, 2, 3, 4], 1, [5, 6, 7, 8], 2, true), 64);
    let f2 = owner_of(&tcp_frame([1, 2, 3, 4], 999, [5, 6, 7, 8], 888, true), 64);
    assert_eq!(f1, f2);
    // Not IP, or not even a frame: stays with whoever received it.
    assert_eq!(owner_of(&[0u8; 60], 4), None);
    assert_eq!(owner_of(&[], 4), None);
}

#[test]
fn clocks_by_driver_and_tsc_arithmetic() {
    assert_eq!(
        PortClock::for_port(Clock::Auto, "net_pcap"),
        PortClock::Mbuf {
            nanos_per_unit: 1000
        }
    );
    assert_eq!(PortClock::for_port(Clock::Auto, "net_ring"), PortClock::Tsc);
    assert_eq!(PortClock::for_port(Clock::Tsc, "net_pcap"), PortClock::Tsc);
    assert_eq!(
        PortClock::for_port(Clock::MbufTimestamp { nanos_per_unit: 1 }, "mlx5_pci"),
        PortClock::Mbuf { nanos_per_unit: 1 }
    );
    assert_eq!(tsc_to_nanos(2_600_000_000, 2_600_000_000), 1_000_000_000);
    assert_eq!(tsc_to_nanos(1, 2_600_000_000), 0);
    assert_eq!(tsc_to_nanos(u64::MAX, 1), u64::MAX, "saturates");
    assert_eq!(tsc_to_nanos(123, 0), 123);
    // A year of a 4 GHz TSC does not overflow the intermediate product.
    let year = 4_000_000_000u64 * 365 * 86_400;
    assert_eq!(
        tsc_to_nanos(year, 4_000_000_000),
        365 * 86_400 * 1_000_000_000
    );
}
