//! The inline examples' output captures, re-read by tshark: `simple_firewall` and `nat` on the
//! shipped sample and on public captures, plus `simple_firewall` on a synthetic conversation
//! that exercises the orphans of a denied connection.
//!
//! tshark runs with IPv4 and TCP checksum verification on; every packet must verify, every
//! packet the runtime counted as forwarded must be in the file, and `in = forwarded + dropped`.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use mos_examples::run::Out;
use mos_synth::script::{Client, Script, Server};
use mos_tests::traces::{public_dir, tshark_available};

fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("mos-inline-{}-{name}", std::process::id()))
}

/// One row per frame of `pcap`: the fields asked for, tab-separated, with checksum checks on.
fn tshark_rows(pcap: &Path, fields: &[&str]) -> Vec<Vec<String>> {
    let mut cmd = Command::new("tshark");
    cmd.args(["-n", "-r"]).arg(pcap);
    cmd.args([
        "-o",
        "tcp.check_checksum:TRUE",
        "-o",
        "ip.check_checksum:TRUE",
        "-T",
        "fields",
        "-E",
        "separator=\t",
    ]);
    for f in fields {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().expect("run tshark");
    assert!(
        out.status.success(),
        "tshark failed on {}: {}",
        pcap.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .lines()
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

/// Frames in `pcap`, and asserts that every IPv4 header and TCP segment in it verifies
/// (tshark's checksum status 1 = good; 0 = bad, 2 = not checked).
fn assert_valid(pcap: &Path) -> usize {
    let (frames, bad) = check_sums(pcap);
    assert!(
        bad.is_empty(),
        "{}: bad TCP checksums in frames {bad:?}",
        pcap.display()
    );
    frames
}

/// Frames in `pcap` and the frames whose TCP checksum is bad; asserts every IPv4 header
/// checksum is good and every TCP checksum was checked.
fn check_sums(pcap: &Path) -> (usize, Vec<String>) {
    let rows = tshark_rows(
        pcap,
        &["frame.number", "ip.checksum.status", "tcp.checksum.status"],
    );
    let mut bad = Vec::new();
    for row in &rows {
        let field = |i: usize| row.get(i).map_or("", String::as_str);
        assert_ne!(
            field(1),
            "0",
            "{}: bad IPv4 checksum in frame {}",
            pcap.display(),
            field(0)
        );
        match field(2) {
            "" | "1" => {}
            "0" => bad.push(field(0).to_string()),
            other => panic!(
                "{}: TCP checksum status {other} in frame {}",
                pcap.display(),
                field(0)
            ),
        }
    }
    (rows.len(), bad)
}

/// `packets: N in = F forwarded + D dropped` from the firewall's summary, or the report's
/// `packets` / `forwarded` / `dropped` lines.
fn counts(text: &str) -> (u64, u64, u64) {
    let value = |name: &str| -> u64 {
        text.lines()
            .find_map(|l| {
                let l = l.trim_start();
                l.strip_prefix(name)
                    .filter(|rest| rest.starts_with(' '))
                    .and_then(|rest| rest.trim().parse().ok())
            })
            .unwrap_or_else(|| panic!("no `{name}` line in:\n{text}"))
    };
    (value("packets"), value("forwarded"), value("dropped"))
}

fn run(
    example: fn(Vec<String>, &mut Out) -> Result<(), mos_examples::run::Exit>,
    args: &[&str],
) -> String {
    let mut out = Out::memory();
    if let Err(e) = example(args.iter().map(|s| s.to_string()).collect(), &mut out) {
        panic!("{args:?}: {e:?}");
    }
    out.as_text()
}

#[test]
fn firewall_output_on_the_sample_is_valid_and_adds_up() {
    if !tshark_available() {
        return;
    }
    let out = temp("fw.pcap");
    let text = run(
        mos_examples::simple_firewall::run,
        &["--out", out.to_str().unwrap()],
    );
    let (packets, forwarded, dropped) = counts(&text);
    assert_eq!(packets, forwarded + dropped);
    assert!(text.contains(&format!(
        "packets: {packets} in = {forwarded} forwarded + {dropped} dropped"
    )));
    assert_eq!(assert_valid(&out) as u64, forwarded);
    // Nothing of a denied service is in the output: the rules of examples/data/firewall.rules
    // deny 198.51.100.0/24 port 80 (except 198.51.100.21 from 10.0.0.23), 203.0.113.32 port 80,
    // and 10.0.0.42 to 192.0.2.50:8080; the tail of a connection to 203.0.113.32 whose
    // handshake was not captured is dropped as an orphan.
    let rows = tshark_rows(&out, &["ip.src", "tcp.srcport", "ip.dst", "tcp.dstport"]);
    let mut servers: BTreeMap<String, usize> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.len() == 4 && !r[1].is_empty()) {
        let (src, sport, dst, dport) = (&r[0], &r[1], &r[2], &r[3]);
        let server = if sport == "80" || sport == "443" || sport == "8080" || sport == "8443" {
            format!("{src}:{sport}")
        } else {
            format!("{dst}:{dport}")
        };
        assert_ne!(server, "203.0.113.32:80", "{r:?}");
        assert_ne!(server, "192.0.2.50:8080", "{r:?}");
        assert!(
            !(server.starts_with("198.51.100.") && server.ends_with(":80"))
                || server == "198.51.100.21:80",
            "{r:?}"
        );
        *servers.entry(server).or_default() += 1;
    }
    assert!(
        servers.contains_key("198.51.100.21:80"),
        "the ACCEPT rule's connections are forwarded"
    );
    assert!(
        servers.contains_key("192.0.2.10:80"),
        "default-accepted connections are forwarded"
    );
    let _ = std::fs::remove_file(out);
}

#[test]
fn nat_output_on_the_sample_is_valid_and_translated() {
    if !tshark_available() {
        return;
    }
    let out = temp("nat.pcap");
    let text = run(
        mos_examples::nat::run,
        &[
            "--out",
            out.to_str().unwrap(),
            "--public-ip",
            "198.18.0.7",
            "--public-ip6",
            "2001:db8:ffff::7",
        ],
    );
    let (packets, forwarded, dropped) = counts(&text);
    assert_eq!((forwarded, dropped), (packets, 0), "NAT drops nothing");
    assert_eq!(assert_valid(&out) as u64, forwarded);
    // Every TCP segment of a connection is between the public address and a server; the
    // client addresses of the sample appear only outside TCP (DNS, ICMP, ARP) and in the
    // orphan tail whose handshake was not captured.
    let rows = tshark_rows(
        &out,
        &[
            "ip.src",
            "ipv6.src",
            "tcp.srcport",
            "ip.dst",
            "ipv6.dst",
            "tcp.dstport",
            "tcp.stream",
        ],
    );
    let mut public_ports = std::collections::BTreeSet::new();
    let mut untranslated = 0;
    for r in rows.iter().filter(|r| r.len() == 7 && !r[2].is_empty()) {
        let src = if r[0].is_empty() { &r[1] } else { &r[0] };
        let dst = if r[3].is_empty() { &r[4] } else { &r[3] };
        if src == "198.18.0.7" || src == "2001:db8:ffff::7" {
            public_ports.insert(r[2].clone());
        } else if dst == "198.18.0.7" || dst == "2001:db8:ffff::7" {
            public_ports.insert(r[5].clone());
        } else {
            untranslated += 1;
            let mut ends = [src.as_str(), dst.as_str()];
            ends.sort_unstable();
            assert_eq!(ends, ["10.0.0.42", "203.0.113.32"], "{r:?}");
        }
    }
    assert_eq!(
        untranslated, 6,
        "the orphan tail (6 packets) passes unchanged"
    );
    // One public port per connection (36 connections in the sample).
    assert_eq!(public_ports.len(), 36);
    assert!(
        public_ports
            .iter()
            .all(|p| (1025..=65534).contains(&p.parse::<u32>().unwrap()))
    );
    let _ = std::fs::remove_file(out);
}

#[test]
fn nat_fixes_checksums_the_capture_left_unfinished() {
    if !tshark_available() {
        return;
    }
    // A capture taken on the client with checksum offload: every checksum is zero.
    let mut t = Script::new();
    let c = t.tcp("10.0.0.1:40000", "10.0.0.2:80");
    t.handshake(c);
    t.send(c, Client, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    t.send(c, Server, b"HTTP/1.1 204 No Content\r\n\r\n");
    t.close(c);
    let mut pcap = t.to_pcap();
    zero_checksums(&mut pcap);
    let input = temp("offload.pcap");
    std::fs::write(&input, &pcap).unwrap();
    let out = temp("offload-nat.pcap");
    let text = run(
        mos_examples::nat::run,
        &["--out", out.to_str().unwrap(), input.to_str().unwrap()],
    );
    assert!(text.contains("1 connections translated"), "{text}");
    let frames = assert_valid(&out);
    assert_eq!(frames, t.frames().len());
    let _ = (std::fs::remove_file(input), std::fs::remove_file(out));
}

/// Sets the IPv4 header and TCP checksums of every Ethernet/IPv4/TCP frame of a
/// classic pcap to zero.
fn zero_checksums(pcap: &mut [u8]) {
    let mut at = 24;
    while at + 16 <= pcap.len() {
        let caplen = u32::from_le_bytes(pcap[at + 8..at + 12].try_into().unwrap()) as usize;
        let frame = at + 16;
        let ip = frame + 14;
        if pcap[frame + 12..frame + 14] == [0x08, 0x00] && pcap[ip + 9] == 6 {
            let ihl = usize::from(pcap[ip] & 0x0f) * 4;
            pcap[ip + 10..ip + 12].copy_from_slice(&[0, 0]);
            let tcp = ip + ihl;
            pcap[tcp + 16..tcp + 18].copy_from_slice(&[0, 0]);
        }
        at = frame + caplen;
    }
}

#[test]
fn firewall_drops_the_orphans_of_a_denied_connection_and_forwards_accepted_ones() {
    let rules = temp("rules");
    std::fs::write(
        &rules,
        "DROP any 10.0.0.2 dport:23\nACCEPT any any dport:80\n",
    )
    .unwrap();
    let mut t = Script::new();
    // Denied: every packet of the conversation, and after the server's RST has ended it,
    // the client's late segment (an orphan of the denied connection).
    let telnet = t.tcp("10.0.0.1:40000", "10.0.0.2:23");
    t.handshake(telnet);
    t.send(telnet, Client, b"login\r\n");
    t.rst(telnet, Server);
    let before_late = t.frames().len();
    t.send(telnet, Client, b"late");
    let late = (t.frames().len() - before_late) as u64;
    // Accepted: monitoring stops at the SYN, the rest are orphans, all forwarded.
    let before_web = t.frames().len();
    let web = t.tcp("10.0.0.1:40001", "10.0.0.3:80");
    t.handshake(web);
    t.send(web, Client, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    t.close(web);
    let web_frames = (t.frames().len() - before_web) as u64;
    let input = temp("fw-synthetic.pcap");
    std::fs::write(&input, t.to_pcap()).unwrap();
    let out = temp("fw-synthetic-out.pcap");
    let text = run(
        mos_examples::simple_firewall::run,
        &[
            "--rules",
            rules.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            input.to_str().unwrap(),
        ],
    );
    let total = t.frames().len() as u64;
    let (packets, forwarded, dropped) = counts(&text);
    assert_eq!(packets, total);
    assert_eq!(forwarded, web_frames, "{text}");
    assert_eq!(forwarded + dropped, total);
    assert!(
        text.contains("DROP   10.0.0.1:40000 -> 10.0.0.2:23  (rule 1, line 1)"),
        "{text}"
    );
    assert!(
        text.contains("ACCEPT 10.0.0.1:40001 -> 10.0.0.3:80  (rule 2, line 2)"),
        "{text}"
    );
    assert!(late >= 1);
    assert!(
        text.contains(&format!("1 SYNs, {} other packets of denied connections, {late} orphans of denied connections, 0 other TCP orphans", total - web_frames - late - 1)),
        "{text}"
    );
    if tshark_available() {
        let rows = tshark_rows(&out, &["tcp.dstport", "tcp.srcport"]);
        assert_eq!(rows.len() as u64, web_frames);
        assert!(
            rows.iter().all(|r| r.contains(&"80".to_string())),
            "{rows:?}"
        );
    }
    let _ = (
        std::fs::remove_file(rules),
        std::fs::remove_file(input),
        std::fs::remove_file(out),
    );
}

#[test]
fn inline_examples_on_public_captures() {
    let Some(dir) = public_dir() else {
        return;
    };
    if !tshark_available() {
        return;
    }
    let rules = temp("public-rules");
    std::fs::write(&rules, "DROP any any dport:443\n").unwrap();
    for trace in [
        "zeek-http-pipelined.pcap",
        "retina-tls-ciphers.pcap",
        "zeek-tcp-reassembly.pcap",
    ] {
        let input = dir.join(trace);
        let out = temp(&format!("public-{trace}"));
        let text = run(
            mos_examples::nat::run,
            &["--out", out.to_str().unwrap(), input.to_str().unwrap()],
        );
        let (packets, forwarded, dropped) = counts(&text);
        assert_eq!((forwarded, dropped), (packets, 0), "{trace}");
        // Rewritten packets get their checksums recomputed, except where the capture cut the
        // segment (then the TCP checksum cannot be computed and is only patched, so it stays
        // as wrong as it was): nat counts those, and only those may fail.
        let left: usize = text
            .split(" transport checksums left")
            .next()
            .and_then(|t| t.rsplit(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no checksum count in:\n{text}"));
        let (frames, bad) = check_sums(&out);
        assert_eq!(frames as u64, forwarded, "{trace}");
        assert!(
            bad.len() <= left,
            "{trace}: bad checksums in frames {bad:?}, {left} left as captured"
        );
        let text = run(
            mos_examples::simple_firewall::run,
            &[
                "--rules",
                rules.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
                input.to_str().unwrap(),
            ],
        );
        let (packets, forwarded, dropped) = counts(&text);
        assert_eq!(packets, forwarded + dropped, "{trace}");
        let rows = tshark_rows(&out, &["tcp.dstport", "tcp.srcport"]);
        assert_eq!(rows.len() as u64, forwarded, "{trace}");
        let _ = std::fs::remove_file(out);
    }
    let _ = std::fs::remove_file(rules);
}
