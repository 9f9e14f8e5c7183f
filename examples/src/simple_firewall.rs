//! `simple_firewall`: an inline firewall that judges TCP connections at their SYN, mOS's
//! `simple_firewall` sample.
//!
//! # Rules
//! A rules file has one rule per line, `ACTION SRC[/PREFIX] DST[/PREFIX] [sport:N] [dport:N]`,
//! where ACTION is `ACCEPT` or `DROP`, addresses are IPv4 or IPv6 (`any` matches both
//! families), and `#` starts a comment. The source is the connection's client (who sent the
//! SYN), the destination its server. The first rule that matches wins; a connection no rule
//! matches is accepted.
//!
//! # What happens to packets
//! - A pure SYN is a user-defined event (`PureSyn`, on `ON_PKT_IN`); its handler at `SND`
//!   looks the connection up in the rules, once per connection.
//! - **DROP**: the SYN is dropped, and so is every later packet of the connection (a
//!   retransmitted SYN, and offline the rest of the captured conversation), at `SND`, before
//!   it is forwarded. The connection is also remembered in a bounded table, so its packets that
//!   arrive after the runtime has forgotten it (orphans: after its end, a timeout or an
//!   eviction) are dropped too.
//! - **ACCEPT**: monitoring stops on both sides (mOS's `MOS_STOP_MON`): the runtime ends the
//!   connection after the SYN, spends nothing more on it, and forwards its later packets as
//!   orphans. The connection is remembered in a second bounded table so those orphans are
//!   recognised and forwarded.
//! - Other TCP orphans (a connection whose SYN was never seen, or forgotten from both tables,
//!   and SYNs the runtime could not track): judged by the rules on their addresses and ports in
//!   both orientations, since which end is the client is unknown; dropped when a DROP rule
//!   matches one orientation and no ACCEPT rule matches the other.
//! - Everything that is not TCP is forwarded.
//!
//! Forwarded packets go to `--out FILE` (a pcap), and the run ends with the count
//! `in = forwarded + dropped`.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use mos_runtime::PcapSink;

use crate::outln;
use crate::run::{self, Exit, NullSink, Out};

/// `--help` text.
pub const USAGE: &str = "\
simple_firewall — inline TCP firewall: rules judge each connection at its SYN

usage: simple_firewall [--rules FILE] [--out FILE] [--quiet] [TRACE]

  --rules FILE   rules, one per line: ACCEPT|DROP SRC[/PREFIX] DST[/PREFIX] [sport:N] [dport:N]
                 (first match wins, default accept; default: examples/data/firewall.rules)
  --out FILE     write the forwarded packets to this pcap (default: count them only)
  --quiet        print only the final summary and report
  --cores N      accepted for uniformity; inline runs use one worker
  TRACE          pcap or pcapng file (default: the sample trace shipped in examples/data)

lines:  DROP|ACCEPT CLIENT -> SERVER  (rule N | default)";

/// Connections remembered per table (denied, accepted); the oldest is forgotten first.
pub const REMEMBERED: usize = 1 << 16;

/// The rules file shipped with the examples (written for the shipped sample).
pub fn shipped_rules() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join("firewall.rules")
}

/// What a rule does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Let the connection through (and stop monitoring it).
    Accept,
    /// Drop the connection's packets.
    Drop,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Action::Accept => "ACCEPT",
            Action::Drop => "DROP",
        })
    }
}

/// An address prefix, or `any`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Net {
    /// Every address of both families.
    Any,
    /// `addr/len`.
    Prefix(IpAddr, u8),
}

impl Net {
    /// Whether `ip` is in this prefix (never across families).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (*self, ip) {
            (Net::Any, _) => true,
            (Net::Prefix(IpAddr::V4(net), len), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (Net::Prefix(IpAddr::V6(net), len), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }

    fn parse(text: &str) -> Result<Net, String> {
        if text.eq_ignore_ascii_case("any") {
            return Ok(Net::Any);
        }
        let (addr, len) = match text.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (text, None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| format!("not an address: {addr:?}"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let len = match len {
            None => max,
            Some(l) => match l.parse::<u8>() {
                Ok(l) if l <= max => l,
                _ => return Err(format!("bad prefix length /{l} (0..={max})")),
            },
        };
        Ok(Net::Prefix(addr, len))
    }
}

impl fmt::Display for Net {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = run::StackStr::<64>::new();
        let _ = match self {
            Net::Any => fmt::Write::write_str(&mut buf, "any"),
            Net::Prefix(a, l) => fmt::Write::write_fmt(&mut buf, format_args!("{a}/{l}")),
        };
        f.pad(buf.as_str())
    }
}

/// One rule of the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// ACCEPT or DROP.
    pub action: Action,
    /// The client's address.
    pub src: Net,
    /// The server's address.
    pub dst: Net,
    /// The client's port.
    pub sport: Option<u16>,
    /// The server's port.
    pub dport: Option<u16>,
    /// Line in the file (1-based).
    pub line: usize,
}

impl Rule {
    /// Whether a connection from `client` to `server` matches.
    pub fn matches(&self, client: SocketAddr, server: SocketAddr) -> bool {
        self.src.contains(client.ip())
            && self.dst.contains(server.ip())
            && self.sport.is_none_or(|p| p == client.port())
            && self.dport.is_none_or(|p| p == server.port())
    }
}

/// Parses a rules file; errors name the line.
pub fn parse_rules(text: &str) -> Result<Vec<Rule>, String> {
    let mut rules = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let body = raw.split('#').next().unwrap_or("").trim();
        if body.is_empty() {
            continue;
        }
        let err = |msg: String| format!("line {line}: {msg}: {raw:?}");
        let mut words = body.split_whitespace();
        let action = match words.next().map(str::to_ascii_uppercase).as_deref() {
            Some("ACCEPT") => Action::Accept,
            Some("DROP") => Action::Drop,
            _ => return Err(err("the action is ACCEPT or DROP".into())),
        };
        let src =
            Net::parse(words.next().ok_or_else(|| err("missing source".into()))?).map_err(err)?;
        let dst = Net::parse(
            words
                .next()
                .ok_or_else(|| err("missing destination".into()))?,
        )
        .map_err(err)?;
        let (mut sport, mut dport) = (None, None);
        for word in words {
            let (key, value) = word
                .split_once(':')
                .ok_or_else(|| err(format!("expected sport:N or dport:N, got {word:?}")))?;
            let port: u16 = value
                .parse()
                .map_err(|_| err(format!("not a port: {value:?}")))?;
            let slot = match key {
                "sport" => &mut sport,
                "dport" => &mut dport,
                _ => return Err(err(format!("unknown key {key:?} (sport or dport)"))),
            };
            if slot.replace(port).is_some() {
                return Err(err(format!("{key} given twice")));
            }
        }
        rules.push(Rule {
            action,
            src,
            dst,
            sport,
            dport,
            line,
        });
    }
    Ok(rules)
}

/// The index of the first rule matching `client → server`.
pub fn first_match(rules: &[Rule], client: SocketAddr, server: SocketAddr) -> Option<usize> {
    rules.iter().position(|r| r.matches(client, server))
}

/// The verdict for a TCP orphan whose client is unknown (see the module docs).
pub fn judge_orphan(rules: &[Rule], a: SocketAddr, b: SocketAddr) -> Action {
    let action = |c, s| {
        first_match(rules, c, s)
            .and_then(|i| rules.get(i))
            .map(|r| r.action)
    };
    let (ab, ba) = (action(a, b), action(b, a));
    let dropped = ab == Some(Action::Drop) || ba == Some(Action::Drop);
    let accepted = ab == Some(Action::Accept) || ba == Some(Action::Accept);
    if dropped && !accepted {
        Action::Drop
    } else {
        Action::Accept
    }
}

/// A connection's two endpoints, in a fixed order (either direction gives the same key).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ConnKey(SocketAddr, SocketAddr);

impl ConnKey {
    /// The key of the connection between `a` and `b`.
    pub fn new(a: SocketAddr, b: SocketAddr) -> ConnKey {
        if a <= b { ConnKey(a, b) } else { ConnKey(b, a) }
    }
}

/// A set of connections with a fixed capacity, built at start-up: when full, the connection
/// remembered longest ago is forgotten. Neither the map nor the queue ever grows past it.
#[derive(Debug, Default)]
pub struct ConnSet {
    map: HashMap<ConnKey, u64>,
    queue: VecDeque<(ConnKey, u64)>,
    cap: usize,
    next: u64,
    /// Connections forgotten to make room.
    pub forgotten: u64,
}

impl ConnSet {
    /// Room for `cap` connections, allocated now.
    pub fn with_capacity(cap: usize) -> ConnSet {
        ConnSet {
            // One more: a new key is in the map for a moment before the oldest leaves.
            map: HashMap::with_capacity(cap + 1),
            queue: VecDeque::with_capacity(cap),
            cap,
            next: 0,
            forgotten: 0,
        }
    }

    /// Remembers `key` (again: it becomes the newest).
    pub fn insert(&mut self, key: ConnKey) {
        if self.cap == 0 {
            return;
        }
        self.next += 1;
        let stamp = self.next;
        self.map.insert(key, stamp);
        if self.queue.len() == self.cap {
            if let Some((old, old_stamp)) = self.queue.pop_front() {
                // A key inserted again since has a newer stamp: only its last entry counts.
                if self.map.get(&old) == Some(&old_stamp) {
                    self.map.remove(&old);
                    self.forgotten += 1;
                }
            }
        }
        self.queue.push_back((key, stamp));
    }

    /// Forgets `key`.
    pub fn remove(&mut self, key: &ConnKey) {
        self.map.remove(key);
    }

    /// Whether `key` is remembered.
    pub fn contains(&self, key: &ConnKey) -> bool {
        self.map.contains_key(key)
    }

    /// Connections remembered.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether none is remembered.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

// ANCHOR: app
#[mos_runtime::app]
pub mod simple_firewall {
    use std::net::SocketAddr;

    use mos_runtime::prelude::*;

    use super::{Action, ConnKey, ConnSet, Rule, first_match, judge_orphan};
    use crate::outln;
    use crate::run::Out;

    /// Per connection: the verdict, once judged.
    #[flow_state]
    #[derive(Default, Debug)]
    pub struct Flow {
        verdict: Option<Action>,
    }

    /// Per worker: the rules and their counters, the remembered connections, the counts.
    #[core_state]
    #[derive(Default, Debug)]
    pub struct Core {
        /// Where lines go.
        pub out: Out,
        /// Print only the summary.
        pub quiet: bool,
        /// The rules, in order.
        pub rules: Vec<Rule>,
        /// Connections judged by each rule (same order as `rules`).
        pub hits: Vec<u64>,
        /// Connections accepted because no rule matched.
        pub default_hits: u64,
        /// Denied connections.
        pub denied: ConnSet,
        /// Accepted connections (no longer monitored).
        pub accepted: ConnSet,
        /// SYNs dropped (first and repeated).
        pub dropped_syns: u64,
        /// Other packets of denied connections dropped while tracked.
        pub dropped_in_flow: u64,
        /// Orphans of denied connections dropped.
        pub dropped_orphans_denied: u64,
        /// Other TCP orphans dropped by the rules.
        pub dropped_orphans_rules: u64,
    }

    /// A SYN without ACK: the start of a connection.
    #[event(base = ON_PKT_IN, filter = is_pure_syn)]
    #[derive(Debug)]
    pub struct PureSyn;

    fn is_pure_syn(cx: &FilterCx<'_, Flow, Core>) -> bool {
        cx.packet()
            .and_then(|p| p.tcp().map(|t| t.flags.syn() && !t.flags.ack()))
            .unwrap_or(false)
    }

    /// Judges the connection at its first SYN; drops every SYN of a denied one.
    #[on(event = PureSyn, hook = SND)]
    fn judge_syn(cx: &mut Cx<'_, Flow, Core>) {
        match cx.flow().verdict {
            Some(Action::Drop) => {
                cx.drop_packet();
                cx.core_mut().dropped_syns += 1;
                return;
            }
            Some(Action::Accept) => return,
            None => {}
        }
        let (client, server) = (cx.client(), cx.server());
        let core = cx.core_mut();
        let rule = first_match(&core.rules, client, server);
        let action = rule
            .and_then(|i| core.rules.get(i))
            .map_or(Action::Accept, |r| r.action);
        match rule.and_then(|i| core.hits.get_mut(i)) {
            Some(hits) => *hits += 1,
            None => core.default_hits += 1,
        }
        let key = ConnKey::new(client, server);
        match action {
            Action::Drop => {
                core.accepted.remove(&key);
                core.denied.insert(key);
            }
            Action::Accept => {
                core.denied.remove(&key);
                core.accepted.insert(key);
            }
        }
        if !core.quiet {
            print_verdict(core, action, client, server, rule);
        }
        cx.flow_mut().verdict = Some(action);
        match action {
            Action::Drop => {
                cx.drop_packet();
                cx.core_mut().dropped_syns += 1;
            }
            Action::Accept => {
                cx.stop_monitoring(Side::Client);
                cx.stop_monitoring(Side::Server);
            }
        }
    }

    fn print_verdict(
        core: &Core,
        action: Action,
        client: SocketAddr,
        server: SocketAddr,
        rule: Option<usize>,
    ) {
        match rule.and_then(|i| core.rules.get(i).map(|r| (i, r))) {
            Some((i, r)) => outln!(
                core.out,
                "{action:<6} {client} -> {server}  (rule {}, line {})",
                i + 1,
                r.line
            ),
            None => outln!(core.out, "{action:<6} {client} -> {server}  (default)"),
        }
    }

    // ANCHOR: drop
    /// Every other packet of a denied connection is dropped before it is forwarded (its
    /// SYNs are `judge_syn`'s).
    #[on(event = ON_PKT_IN, hook = SND)]
    fn drop_denied(cx: &mut Cx<'_, Flow, Core>) {
        if cx.flow().verdict != Some(Action::Drop) || is_pure_syn(cx) {
            return;
        }
        cx.drop_packet();
        cx.core_mut().dropped_in_flow += 1;
    }

    /// Packets outside any tracked connection.
    #[on(event = ON_ORPHAN, hook = NULL)]
    fn judge_orphans(cx: &mut PacketCx<'_, Core>) {
        let Some((a, b)) = cx.packet().and_then(|p| {
            p.tcp()?;
            let (sp, dp) = p.ports()?;
            Some((
                SocketAddr::new(p.src_ip()?, sp),
                SocketAddr::new(p.dst_ip()?, dp),
            ))
        }) else {
            return;
        };
        let key = ConnKey::new(a, b);
        let core = cx.core_mut();
        if core.denied.contains(&key) {
            core.dropped_orphans_denied += 1;
        } else if core.accepted.contains(&key) || judge_orphan(&core.rules, a, b) == Action::Accept
        {
            return;
        } else {
            core.dropped_orphans_rules += 1;
        }
        cx.drop_packet();
    }
    // ANCHOR_END: drop
}
// ANCHOR_END: app

/// Runs the example: `args` without the program name.
pub fn run(mut args: Vec<String>, out: &mut Out) -> Result<(), Exit> {
    let rules_path = run::take_value(&mut args, "--rules")?
        .map(PathBuf::from)
        .unwrap_or_else(shipped_rules);
    let out_path = run::take_value(&mut args, "--out")?.map(PathBuf::from);
    let args = run::common(args, USAGE)?;
    let text = std::fs::read_to_string(&rules_path)
        .map_err(|e| Exit::Failed(format!("{}: {e}", rules_path.display())))?;
    let rules =
        parse_rules(&text).map_err(|e| Exit::Failed(format!("{}: {e}", rules_path.display())))?;
    let core = simple_firewall::Core {
        out: std::mem::take(out),
        quiet: args.quiet,
        hits: vec![0; rules.len()],
        rules,
        denied: ConnSet::with_capacity(REMEMBERED),
        accepted: ConnSet::with_capacity(REMEMBERED),
        ..simple_firewall::Core::default()
    };
    // ANCHOR: inline_sink
    // Inline mode runs on one worker offline.
    let builder = run::builder(&args)?.cores(1);
    let builder = match &out_path {
        Some(path) => builder.inline(
            PcapSink::create(path).map_err(|e| Exit::Failed(format!("{}: {e}", path.display())))?,
        ),
        None => builder.inline(NullSink),
    };
    // ANCHOR_END: inline_sink
    let (report, core) = builder.build()?.run_init::<simple_firewall::App>(core)?;
    let c = &core;
    outln!(
        c.out,
        "rules ({}):",
        rules_path.file_name().map_or_else(
            || rules_path.display().to_string(),
            |n| n.to_string_lossy().into_owned()
        )
    );
    outln!(
        c.out,
        "  {:>3} {:<6} {:<22} {:<22} {:>5} {:>5} {:>6}",
        "#",
        "action",
        "source",
        "destination",
        "sport",
        "dport",
        "conns"
    );
    for (i, (r, hits)) in c.rules.iter().zip(&c.hits).enumerate() {
        outln!(
            c.out,
            "  {:>3} {:<6} {:<22} {:<22} {:>5} {:>5} {:>6}",
            i + 1,
            r.action,
            r.src,
            r.dst,
            Port(r.sport),
            Port(r.dport),
            hits
        );
    }
    outln!(
        c.out,
        "  {:>3} {:<6} {:<22} {:<22} {:>5} {:>5} {:>6}",
        "-",
        Action::Accept,
        "(default)",
        "",
        "",
        "",
        c.default_hits
    );
    outln!(
        c.out,
        "packets: {} in = {} forwarded + {} dropped",
        report.packets,
        report.forwarded,
        report.dropped
    );
    outln!(
        c.out,
        "dropped: {} SYNs, {} other packets of denied connections, {} orphans of denied \
         connections, {} other TCP orphans",
        c.dropped_syns,
        c.dropped_in_flow,
        c.dropped_orphans_denied,
        c.dropped_orphans_rules
    );
    if let Some(path) = &out_path {
        if c.out.is_stdout() {
            eprintln!(
                "simple_firewall: forwarded packets written to {}",
                path.display()
            );
        }
    }
    run::finish(&c.out, &report);
    *out = core.out;
    Ok(())
}

/// A port, or `-`.
struct Port(Option<u16>);

impl fmt::Display for Port {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = run::StackStr::<8>::new();
        let _ = match self.0 {
            Some(p) => fmt::Write::write_fmt(&mut buf, format_args!("{p}")),
            None => fmt::Write::write_str(&mut buf, "-"),
        };
        f.pad(buf.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sa(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn rules_parse_with_comments_prefixes_and_ports() {
        let rules = parse_rules(
            "# comment\n\nDROP 10.0.0.0/8 any dport:23  # telnet\naccept any 2001:db8::/32 sport:1 dport:2\n",
        )
        .unwrap();
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[0].action, Action::Drop);
        assert_eq!(rules[0].line, 3);
        assert_eq!(rules[0].dport, Some(23));
        assert_eq!(rules[1].sport, Some(1));
        assert!(rules[0].matches(sa("10.1.2.3:5000"), sa("192.0.2.1:23")));
        assert!(!rules[0].matches(sa("11.1.2.3:5000"), sa("192.0.2.1:23")));
        assert!(!rules[0].matches(sa("10.1.2.3:5000"), sa("192.0.2.1:22")));
        assert!(rules[1].matches(sa("[::1]:1"), sa("[2001:db8:5::1]:2")));
        assert!(!rules[1].matches(sa("[::1]:1"), sa("10.0.0.1:2")));
    }

    #[test]
    fn bad_rules_name_their_line() {
        for (text, needle) in [
            ("PASS any any", "ACCEPT or DROP"),
            ("DROP any", "missing destination"),
            ("DROP 10.0.0.0/33 any", "prefix"),
            ("DROP any any port:80", "unknown key"),
            ("DROP any any dport:70000", "not a port"),
            ("DROP any any dport:1 dport:2", "twice"),
            ("DROP 10.0.0.300 any", "not an address"),
        ] {
            let err = parse_rules(&format!("# x\n{text}")).unwrap_err();
            assert!(
                err.starts_with("line 2:") && err.contains(needle),
                "{text}: {err}"
            );
        }
    }

    #[test]
    fn prefixes_match_within_their_family() {
        let net = Net::parse("192.0.2.0/24").unwrap();
        assert!(net.contains("192.0.2.77".parse().unwrap()));
        assert!(!net.contains("192.0.3.1".parse().unwrap()));
        assert!(!net.contains("::ffff:192.0.2.77".parse().unwrap()));
        assert!(
            Net::parse("0.0.0.0/0")
                .unwrap()
                .contains("1.2.3.4".parse().unwrap())
        );
        assert!(
            !Net::parse("0.0.0.0/0")
                .unwrap()
                .contains("::1".parse().unwrap())
        );
        assert!(Net::parse("any").unwrap().contains("::1".parse().unwrap()));
        assert_eq!(Net::parse("10.0.0.1").unwrap().to_string(), "10.0.0.1/32");
    }

    #[test]
    fn first_match_wins_and_orphans_need_an_unopposed_drop() {
        let rules = parse_rules(
            "ACCEPT 10.0.0.0/24 any dport:80\nDROP any 10.0.0.0/24\nDROP any 192.0.2.9 dport:22",
        )
        .unwrap();
        let (c, s) = (sa("10.0.0.5:40000"), sa("192.0.2.9:80"));
        assert_eq!(first_match(&rules, c, s), Some(0));
        assert_eq!(first_match(&rules, s, c), Some(1));
        // A reply of an accepted connection: DROP one way, ACCEPT the other: forwarded.
        assert_eq!(judge_orphan(&rules, s, c), Action::Accept);
        // A packet towards a denied service, either direction.
        let (c2, ssh) = (sa("198.51.100.1:5000"), sa("192.0.2.9:22"));
        assert_eq!(judge_orphan(&rules, c2, ssh), Action::Drop);
        assert_eq!(judge_orphan(&rules, ssh, c2), Action::Drop);
        // Nothing matches: accepted.
        assert_eq!(
            judge_orphan(&rules, sa("1.1.1.1:1"), sa("2.2.2.2:2")),
            Action::Accept
        );
    }

    #[test]
    fn the_connection_set_forgets_the_oldest_and_never_grows() {
        let mut set = ConnSet::with_capacity(2);
        let k = |p| ConnKey::new(sa(&format!("10.0.0.1:{p}")), sa("10.0.0.2:80"));
        assert_eq!(k(1), ConnKey::new(sa("10.0.0.2:80"), sa("10.0.0.1:1")));
        set.insert(k(1));
        set.insert(k(2));
        set.insert(k(1)); // k(1) is the newest now; its first entry is stale
        assert!(set.contains(&k(1)) && set.contains(&k(2)));
        assert_eq!(set.forgotten, 0);
        set.insert(k(3)); // k(2) is the oldest
        assert!(set.contains(&k(1)) && !set.contains(&k(2)) && set.contains(&k(3)));
        assert_eq!((set.forgotten, set.len()), (1, 2));
        let (map_cap, queue_cap) = (set.map.capacity(), set.queue.capacity());
        for p in 10..100 {
            set.insert(k(p));
        }
        assert_eq!(set.len(), 2);
        assert_eq!(
            (set.map.capacity(), set.queue.capacity()),
            (map_cap, queue_cap)
        );
        set.remove(&k(99));
        assert!(!set.contains(&k(99)) && set.contains(&k(98)));
    }
}
