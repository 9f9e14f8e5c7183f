//! `nat`: inline source NAT, mOS's `nat` sample.
//!
//! Each TCP connection from a client gets a port of the public address from a pool
//! (1025–65534, least recently released first, so a port is not reused while the peer may still
//! remember it). At the `SND` hook of the connection's SYN — before the packet is forwarded —
//! the client's address and port are rewritten to the public ones, and so on for every packet
//! the client sends; packets the server sends have their destination rewritten the same way.
//! The rewrites patch the IP and TCP checksums incrementally, then `update_checksums()`
//! recomputes them from the bytes, so the output verifies whatever the input's checksums were
//! (captures taken on an end host often carry unfinished, offloaded checksums). The port goes
//! back to the pool at `ON_CONN_END`.
//!
//! # What the output is
//! The capture is read as seen on the private side; the output pcap (`--out`) is what the
//! public side carries: every packet of a translated connection between the public address and
//! the server. Connections whose family has no public address (`--public-ip6` not given for
//! IPv6), packets outside any connection (UDP, ICMP, ARP, orphans) and connections that found
//! the pool empty pass unchanged and are counted.
//!
//! On a live inline deployment the server's replies come back addressed to the public address;
//! mOS's own `nat` relies on its flow table keying the server side by the translated address.
//! This runtime keys a connection by the addresses of its SYN as received, so the example is
//! meant for what it does here — translating captures — and shows the rewriting API
//! (`cx.packet_mut()`, the setters, `update_checksums`).

use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;

use mos_runtime::PcapSink;

use crate::outln;
use crate::run::{self, Exit, NullSink, Out};

/// `--help` text.
pub const USAGE: &str = "\
nat — inline source NAT: rewrites each connection's client address and port

usage: nat [--public-ip ADDR] [--public-ip6 ADDR] [--out FILE] [--quiet] [TRACE]

  --public-ip ADDR    public IPv4 address (default 100.64.0.1)
  --public-ip6 ADDR   public IPv6 address (default: IPv6 connections pass unchanged)
  --out FILE          write the (translated) forwarded packets to this pcap
  --quiet             print only the final summary and report
  --cores N           accepted for uniformity; inline runs use one worker
  TRACE               pcap or pcapng file (default: the sample trace shipped in examples/data)

lines:  CLIENT -> SERVER  as PUBLIC:PORT";

/// The first port of the pool.
pub const FIRST_PORT: u16 = 1025;
/// The last port of the pool.
pub const LAST_PORT: u16 = 65534;

/// The public ports, least recently released first. Filled once; never grows.
#[derive(Debug, Default)]
pub struct PortPool {
    free: VecDeque<u16>,
    size: usize,
}

impl PortPool {
    /// Every port of `first..=last`, allocated now.
    pub fn new(first: u16, last: u16) -> PortPool {
        let mut free = VecDeque::with_capacity(usize::from(last.saturating_sub(first)) + 1);
        free.extend(first..=last);
        let size = free.len();
        PortPool { free, size }
    }

    /// Takes a port; `None` when all are in use.
    pub fn take(&mut self) -> Option<u16> {
        self.free.pop_front()
    }

    /// Returns a taken port (to the back: it is reused last). More ports than the pool holds
    /// are refused, so it never grows.
    pub fn give_back(&mut self, port: u16) {
        if self.free.len() < self.size {
            self.free.push_back(port);
        }
    }

    /// Ports available.
    pub fn available(&self) -> usize {
        self.free.len()
    }

    /// Ports taken.
    pub fn in_use(&self) -> usize {
        self.size - self.free.len()
    }
}

// ANCHOR: app
#[mos_runtime::app]
pub mod nat {
    use std::net::{IpAddr, SocketAddr};

    use mos_runtime::prelude::*;

    use super::PortPool;
    use crate::outln;
    use crate::run::Out;

    /// Per connection: the public endpoint it was given, if any.
    #[flow_state]
    #[derive(Default, Debug)]
    pub struct Flow {
        public: Option<SocketAddr>,
        /// The pool was empty or the family has no public address.
        untranslated: bool,
    }

    /// Per worker.
    #[core_state]
    #[derive(Default, Debug)]
    pub struct Core {
        /// Where lines go.
        pub out: Out,
        /// Print only the summary.
        pub quiet: bool,
        /// Public IPv4 address.
        pub public_v4: Option<IpAddr>,
        /// Public IPv6 address.
        pub public_v6: Option<IpAddr>,
        /// Free public ports.
        pub ports: PortPool,
        /// Connections translated.
        pub translated: u64,
        /// Connections passed unchanged: no public address of their family.
        pub other_family: u64,
        /// Connections passed unchanged: no free port.
        pub pool_empty: u64,
        /// Packets rewritten.
        pub rewritten: u64,
        /// Packets whose transport checksum could not be recomputed (truncated by the capture).
        pub checksum_skipped: u64,
        /// Packets a rewrite refused (should not happen for TCP).
        pub failed: u64,
        /// Most ports in use at once.
        pub peak_ports: usize,
    }

    // ANCHOR: translate
    /// Every packet of a connection, at its sender's side, before it is forwarded.
    #[on(event = ON_PKT_IN, hook = SND)]
    fn translate(cx: &mut Cx<'_, Flow, Core>) {
        if cx.flow().untranslated {
            return;
        }
        let public = match cx.flow().public {
            Some(public) => public,
            None => match assign(cx) {
                Some(public) => public,
                None => return,
            },
        };
        let from_client = cx.side() == Side::Client;
        let Some(mut pkt) = cx.packet_mut() else {
            return;
        };
        let ip = public.ip();
        let port = public.port();
        let done = if from_client {
            pkt.set_src_ip(ip).and_then(|()| pkt.set_src_port(port))
        } else {
            pkt.set_dst_ip(ip).and_then(|()| pkt.set_dst_port(port))
        };
        let full = pkt.update_checksums();
        let core = cx.core_mut();
        match done {
            Ok(()) => core.rewritten += 1,
            Err(_) => core.failed += 1,
        }
        if !full {
            core.checksum_skipped += 1;
        }
    }
    // ANCHOR_END: translate

    /// A port for the connection, at its first packet (the client's SYN).
    fn assign(cx: &mut Cx<'_, Flow, Core>) -> Option<SocketAddr> {
        let (client, server) = (cx.client(), cx.server());
        let core = cx.core_mut();
        let Some(ip) = (match client.ip() {
            IpAddr::V4(_) => core.public_v4,
            IpAddr::V6(_) => core.public_v6,
        }) else {
            core.other_family += 1;
            cx.flow_mut().untranslated = true;
            return None;
        };
        let Some(port) = core.ports.take() else {
            core.pool_empty += 1;
            cx.flow_mut().untranslated = true;
            return None;
        };
        let public = SocketAddr::new(ip, port);
        core.translated += 1;
        let in_use = core.ports.in_use();
        core.peak_ports = core.peak_ports.max(in_use);
        if !core.quiet {
            outln!(core.out, "{client} -> {server}  as {public}");
        }
        cx.flow_mut().public = Some(public);
        Some(public)
    }

    /// The port goes back to the pool (once: `ON_CONN_END` is raised for both sides).
    #[on(event = ON_CONN_END, hook = SND)]
    fn release(cx: &mut Cx<'_, Flow, Core>) {
        if let Some(public) = cx.flow_mut().public.take() {
            cx.core_mut().ports.give_back(public.port());
        }
    }
}
// ANCHOR_END: app

/// Runs the example: `args` without the program name.
pub fn run(mut args: Vec<String>, out: &mut Out) -> Result<(), Exit> {
    let v4: Ipv4Addr = match run::take_value(&mut args, "--public-ip")? {
        Some(text) => text
            .parse()
            .map_err(|_| Exit::Usage(format!("--public-ip: not an IPv4 address: {text}")))?,
        None => Ipv4Addr::new(100, 64, 0, 1),
    };
    let v6: Option<Ipv6Addr> = match run::take_value(&mut args, "--public-ip6")? {
        Some(text) => Some(
            text.parse()
                .map_err(|_| Exit::Usage(format!("--public-ip6: not an IPv6 address: {text}")))?,
        ),
        None => None,
    };
    let out_path = run::take_value(&mut args, "--out")?.map(PathBuf::from);
    let args = run::common(args, USAGE)?;
    let core = nat::Core {
        out: std::mem::take(out),
        quiet: args.quiet,
        public_v4: Some(IpAddr::V4(v4)),
        public_v6: v6.map(IpAddr::V6),
        ports: PortPool::new(FIRST_PORT, LAST_PORT),
        ..nat::Core::default()
    };
    let builder = run::builder(&args)?.cores(1);
    let builder = match &out_path {
        Some(path) => builder.inline(
            PcapSink::create(path).map_err(|e| Exit::Failed(format!("{}: {e}", path.display())))?,
        ),
        None => builder.inline(NullSink),
    };
    let (report, core) = builder.build()?.run_init::<nat::App>(core)?;
    let c = &core;
    outln!(
        c.out,
        "nat: {} connections translated (at most {} ports in use at once), {} passed unchanged \
         ({} without a public address of their family, {} with the pool empty)",
        c.translated,
        c.peak_ports,
        c.other_family + c.pool_empty,
        c.other_family,
        c.pool_empty
    );
    outln!(
        c.out,
        "packets: {} in, {} forwarded ({} rewritten, {} unchanged), {} dropped; {} rewrites \
         refused, {} transport checksums left (truncated)",
        report.packets,
        report.forwarded,
        c.rewritten,
        report.forwarded.saturating_sub(c.rewritten),
        report.dropped,
        c.failed,
        c.checksum_skipped
    );
    if let Some(path) = &out_path {
        if c.out.is_stdout() {
            eprintln!("nat: forwarded packets written to {}", path.display());
        }
    }
    run::finish(&c.out, &report);
    *out = core.out;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pool_hands_out_least_recently_released_ports_and_never_grows() {
        let mut pool = PortPool::new(1000, 1002);
        let cap = pool.free.capacity();
        assert_eq!((pool.take(), pool.take()), (Some(1000), Some(1001)));
        pool.give_back(1000);
        assert_eq!(pool.take(), Some(1002));
        assert_eq!(pool.take(), Some(1000));
        assert_eq!(pool.take(), None);
        for p in [1000, 1001, 1002, 1003] {
            pool.give_back(p);
        }
        assert_eq!(
            pool.available(),
            3,
            "more ports than the pool holds are refused"
        );
        assert_eq!(pool.free.capacity(), cap);
        assert_eq!(PortPool::new(FIRST_PORT, LAST_PORT).available(), 64510);
    }
}
