//! The sample capture the project ships for the README's first command.
//!
//! About 80 seconds of one small office LAN (two laptops, the gateway that is also the DNS
//! resolver) talking to web servers: around forty TCP connections and some DNS, ICMP and ARP
//! in under half a megabyte. Everything a first run should show is in it:
//!
//! - HTTP/1.1 keep-alive with several hosts and URIs, including `GET /search?q=...` for the
//!   `http_monitor` example's search-query event, and a POST with a body;
//! - TLS 1.3 and TLS 1.2 (session resumption) with real ClientHellos carrying SNI;
//! - DNS A and AAAA lookups and answers over UDP, pings, ARP;
//! - a retransmitted segment (lost after the tap, after a duplicate ACK), an out-of-order
//!   segment, a connection reset by the server, a refused connection (SYN, RST), an idle
//!   connection (open, then silent for over a minute until the end of the trace), an orphan
//!   (the tail of a transfer whose handshake was not captured), and an IPv6 connection.
//!
//! It is built with [`Script`] from fixed choices and a fixed seed (integer draws only, so the
//! bytes are the same on every platform); [`truth`] is its ground truth.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use crate::dns;
use crate::http::{self, Request, Response};
use crate::packet::SynOptions;
use crate::pcap::Timestamp;
use crate::rng::Rng;
use crate::script::{ACK, Client, Conn, PSH, Script, Server};
use crate::tls::{self, ClientHello, ServerHello, TlsVersion};
use crate::truth::Truth;

const LAPTOP: &str = "10.0.0.23";
const LAPTOP6: &str = "2001:db8:1::23";
const DESKTOP: &str = "10.0.0.42";
const GATEWAY: &str = "10.0.0.1";
const GATEWAY6: &str = "2001:db8:1::1";
const UA: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0";

/// Name and IPv4 address of the servers of the sample.
const SITES: [(&str, &str); 10] = [
    ("www.example.com", "192.0.2.10"),
    ("search.example.org", "198.51.100.20"),
    ("static.example.com", "192.0.2.11"),
    ("api.example.net", "203.0.113.30"),
    ("mail.example.com", "192.0.2.25"),
    ("login.example.org", "198.51.100.40"),
    ("news.example.org", "198.51.100.21"),
    ("files.example.net", "203.0.113.31"),
    ("status.example.com", "192.0.2.50"),
    ("docs.example.net", "203.0.113.32"),
];

const WORDS: [&str; 24] = [
    "mos",
    "middlebox",
    "flow",
    "event",
    "stream",
    "packet",
    "monitor",
    "rust",
    "state",
    "handler",
    "tcp",
    "reassembly",
    "the",
    "a",
    "of",
    "and",
    "to",
    "in",
    "fast",
    "safe",
    "network",
    "sample",
    "trace",
    "capture",
];

/// The sample's start: 2023-11-14 22:13:20 UTC.
pub const START: Timestamp = Timestamp::from_unix(1_700_000_000, 0);

/// The sample as pcap bytes (microsecond timestamps).
pub fn pcap() -> Vec<u8> {
    script().to_pcap()
}

/// The sample's ground truth.
pub fn truth() -> Truth {
    script().truth()
}

/// The script that builds the sample (to write it with other settings, or extend it).
pub fn script() -> Script {
    let mut b = Builder {
        t: Script::new(),
        rng: Rng::new(0x5a3b_1e00),
        next_port: 40_000,
        dns_id: 0x1a2b,
    };
    b.t.set_time(START);
    b.t.set_step(Duration::from_micros(150));
    b.t.set_syn_options(SynOptions::LINUX);
    b.t.set_padding(true);
    // Servers are beyond the gateway: on the LAN their frames carry its MAC address.
    let gateway_mac = crate::packet::mac_for_ip(IpAddr::V4(ip4(GATEWAY)));
    for (_, addr) in SITES {
        b.t.set_mac(addr, gateway_mac);
    }
    b.t.set_mac("2001:db8:cafe::80", gateway_mac);
    b.t.set_mac(GATEWAY6, gateway_mac);
    b.build();
    b.t
}

struct Builder {
    t: Script,
    rng: Rng,
    next_port: u16,
    dns_id: u16,
}

fn ip4(s: &str) -> Ipv4Addr {
    s.parse().unwrap_or(Ipv4Addr::UNSPECIFIED)
}

fn site(name: &str) -> &'static str {
    SITES
        .iter()
        .find(|(n, _)| *n == name)
        .map_or("192.0.2.1", |(_, a)| a)
}

impl Builder {
    fn ms(&mut self, ms: u64) {
        self.t.advance(Duration::from_millis(ms));
    }

    fn port(&mut self) -> u16 {
        self.next_port += 1 + self.rng.below(7) as u16;
        self.next_port
    }

    fn conn(&mut self, client: &str, server: &str, port: u16) -> Conn {
        let cport = self.port();
        let c: IpAddr = client.parse().unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        let s: IpAddr = server.parse().unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        self.t.tcp((c, cport), (s, port))
    }

    /// Handshake with a round trip of `rtt` ms between SYN and SYN-ACK.
    fn open(&mut self, c: Conn, rtt: u64) {
        self.t.syn(c);
        self.ms(rtt);
        self.t.syn_ack(c).ack(c, Client);
    }

    fn lookup(&mut self, client: &str, resolver: &str, name: &str, answer: &str) {
        let v6 = answer.contains(':');
        let qtype = if v6 { dns::TYPE_AAAA } else { dns::TYPE_A };
        let addr: IpAddr = answer.parse().unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        let c: IpAddr = client.parse().unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        let r: IpAddr = resolver
            .parse()
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        let port = 50_000 + self.rng.below(10_000) as u16;
        self.dns_id = self.dns_id.wrapping_mul(31).wrapping_add(7);
        let mut msg = Vec::new();
        // Names and answers are constants of this file, valid by construction.
        if dns::write_query(&mut msg, self.dns_id, name, qtype).is_ok() {
            self.t.udp((c, port), (r, 53), &msg);
        }
        let wait = 3 + self.rng.below(12);
        self.ms(wait);
        if dns::write_response(&mut msg, self.dns_id, name, qtype, &[addr], 300).is_ok() {
            self.t.udp((r, 53), (c, port), &msg);
        }
        self.ms(1);
    }

    fn text(&mut self, len: usize, html: bool) -> Vec<u8> {
        let mut out = Vec::with_capacity(len + 64);
        if html {
            out.extend_from_slice(
                b"<!DOCTYPE html>\n<html><head><title>mos sample</title></head>\n<body>\n<p>",
            );
        }
        let tail: &[u8] = if html {
            b"</p>\n</body></html>\n"
        } else {
            b"\n"
        };
        while out.len() + tail.len() < len {
            let w = WORDS[self.rng.index(WORDS.len())];
            out.extend_from_slice(w.as_bytes());
            out.push(if self.rng.below(12) == 0 { b'\n' } else { b' ' });
        }
        out.extend_from_slice(tail);
        out
    }

    fn request(&self, method: &str, host: &str, uri: &str, body: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        http::write_request(
            &mut out,
            &Request {
                method,
                host,
                uri,
                user_agent: UA,
                content_type: "application/x-www-form-urlencoded",
                body_len: body.len() as u64,
            },
        );
        out.extend_from_slice(body);
        out
    }

    fn response(&self, status: u16, content_type: &str, body: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        http::write_response(
            &mut out,
            &Response {
                status,
                content_type,
                body_len: body.len() as u64,
                date: self.t.now(),
                server: "nginx/1.24.0",
            },
        );
        out.extend_from_slice(body);
        out
    }

    /// One request/response exchange with a round trip of `rtt` ms.
    fn exchange(&mut self, c: Conn, host: &str, uri: &str, body_len: usize, rtt: u64) {
        let req = self.request("GET", host, uri, b"");
        self.t.send_no_ack(c, Client, &req);
        self.ms(rtt);
        let (ctype, html) = if uri.ends_with(".css") {
            ("text/css", false)
        } else if uri.ends_with(".js") {
            ("application/javascript", false)
        } else {
            ("text/html; charset=utf-8", true)
        };
        let body = self.text(body_len, html);
        let resp = self.response(200, ctype, &body);
        self.t.send(c, Server, &resp);
    }

    fn random32(&mut self) -> [u8; 32] {
        let mut r = [0u8; 32];
        for chunk in r.chunks_mut(8) {
            chunk.copy_from_slice(&self.rng.next_u64().to_le_bytes());
        }
        r
    }

    fn opaque(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.rng.next_u32() as u8).collect()
    }

    /// A TLS session over an open connection: hellos, then `exchanges` application-data
    /// request/response pairs.
    fn tls(&mut self, c: Conn, sni: &str, version: TlsVersion, exchanges: u32, rtt: u64) {
        let session = self.random32();
        let mut rec = Vec::new();
        let hello = ClientHello {
            version,
            sni,
            random: self.random32(),
            session_id: &session,
            key_share: self.random32(),
            alpn: &["h2", "http/1.1"],
        };
        if tls::write_client_hello(&mut rec, &hello).is_err() {
            return;
        }
        self.t.send_no_ack(c, Client, &rec);
        self.ms(rtt);
        rec.clear();
        tls::write_server_hello(
            &mut rec,
            &ServerHello {
                version,
                random: self.random32(),
                session_id: &session,
                cipher: if version == TlsVersion::Tls13 {
                    0x1301
                } else {
                    0xc02f
                },
                key_share: self.random32(),
            },
        );
        tls::write_change_cipher_spec(&mut rec);
        match version {
            TlsVersion::Tls13 => {
                // EncryptedExtensions .. Finished, as opaque application data.
                let len = 2_800 + self.rng.index(900);
                let flight = self.opaque(len);
                tls::write_opaque_record(&mut rec, tls::APPLICATION_DATA, &flight);
            }
            TlsVersion::Tls12 => {
                let fin = self.opaque(40);
                tls::write_opaque_record(&mut rec, tls::HANDSHAKE, &fin);
            }
        }
        self.t.send(c, Server, &rec);
        self.ms(2);
        rec.clear();
        tls::write_change_cipher_spec(&mut rec);
        let fin = self.opaque(if version == TlsVersion::Tls13 { 53 } else { 40 });
        let ty = if version == TlsVersion::Tls13 {
            tls::APPLICATION_DATA
        } else {
            tls::HANDSHAKE
        };
        tls::write_opaque_record(&mut rec, ty, &fin);
        for i in 0..exchanges {
            let len = 90 + self.rng.index(400);
            let req = self.opaque(len);
            tls::write_opaque_record(&mut rec, tls::APPLICATION_DATA, &req);
            self.t.send_no_ack(c, Client, &rec);
            rec.clear();
            self.ms(rtt + 2);
            let len = 300 + self.rng.index(if i == 0 { 9_000 } else { 3_000 });
            let resp = self.opaque(len);
            tls::write_opaque_record(&mut rec, tls::APPLICATION_DATA, &resp);
            self.t.send(c, Server, &rec);
            rec.clear();
            let think = 200 + self.rng.below(800);
            self.ms(think);
        }
    }

    fn build(&mut self) {
        let gw = ip4(GATEWAY);
        self.t.arp(ip4(LAPTOP), gw);
        self.t.arp_reply(gw, ip4(LAPTOP));
        self.ms(2);

        // 1. www.example.com: a page and its resources on one keep-alive connection.
        let www = site("www.example.com");
        self.lookup(LAPTOP, GATEWAY, "www.example.com", www);
        let c1 = self.conn(LAPTOP, www, 80);
        self.open(c1, 12);
        self.exchange(c1, "www.example.com", "/", 6_200, 14);
        self.ms(40);
        // Meanwhile the desktop opens a connection it will leave idle.
        let status = site("status.example.com");
        let idle = self.conn(DESKTOP, status, 8080);
        self.open(idle, 6);
        self.exchange(idle, "status.example.com", "/health", 120, 7);
        self.ms(10);
        self.exchange(c1, "www.example.com", "/static/site.css", 2_400, 13);
        self.ms(25);
        self.exchange(c1, "www.example.com", "/static/app.js", 4_100, 12);
        self.ms(900);
        self.t.close(c1);

        // 2. A search: the query string the http_monitor example looks for.
        let search = site("search.example.org");
        self.lookup(LAPTOP, GATEWAY, "search.example.org", search);
        let c2 = self.conn(LAPTOP, search, 80);
        self.open(c2, 21);
        self.exchange(
            c2,
            "search.example.org",
            "/search?q=rust+middlebox",
            5_300,
            25,
        );
        self.ms(1_500);
        self.exchange(
            c2,
            "search.example.org",
            "/search?q=mos+event+order&page=2",
            4_700,
            22,
        );
        self.ms(300);
        self.t.fin(c2, Server).fin(c2, Client).ack(c2, Server);

        // 3. TLS 1.3 to a mail server.
        let mail = site("mail.example.com");
        self.lookup(LAPTOP, GATEWAY, "mail.example.com", mail);
        let c3 = self.conn(LAPTOP, mail, 443);
        self.open(c3, 18);
        self.tls(c3, "mail.example.com", TlsVersion::Tls13, 3, 18);
        self.t.close(c3);

        // 4. TLS 1.2, a resumed session.
        let login = site("login.example.org");
        self.lookup(LAPTOP, GATEWAY, "login.example.org", login);
        let c4 = self.conn(LAPTOP, login, 443);
        self.open(c4, 30);
        self.tls(c4, "login.example.org", TlsVersion::Tls12, 1, 30);
        self.t.close(c4);

        // 5. IPv6.
        let v6_server = "2001:db8:cafe::80";
        self.lookup(LAPTOP6, GATEWAY6, "ipv6.example.net", v6_server);
        let c5 = self.conn(LAPTOP6, v6_server, 80);
        self.open(c5, 9);
        self.exchange(c5, "ipv6.example.net", "/ipv6-test.html", 3_100, 10);
        self.ms(200);
        self.t.close(c5);

        // 6. A download with a server segment lost after the tap: duplicate ACK, then the
        //    retransmission.
        let files = site("files.example.net");
        let c6 = self.conn(LAPTOP, files, 80);
        self.open(c6, 16);
        let req = self.request("GET", "files.example.net", "/downloads/report.txt", b"");
        self.t.send_no_ack(c6, Client, &req);
        self.ms(17);
        let body = self.text(11_000, false);
        let resp = self.response(200, "text/plain", &body);
        let chunks: Vec<&[u8]> = resp.chunks(1460).collect();
        let mut lost_seq = None;
        for (i, chunk) in chunks.iter().enumerate() {
            let flags = if i + 1 == chunks.len() {
                ACK | PSH
            } else {
                ACK
            };
            if i == 3 {
                lost_seq = Some(self.t.seq(c6, Server));
                self.t
                    .segment(c6, Server)
                    .payload(chunk)
                    .flags(flags)
                    .lost()
                    .emit();
            } else {
                self.t
                    .segment(c6, Server)
                    .payload(chunk)
                    .flags(flags)
                    .emit();
            }
            if i % 2 == 1 {
                self.t.ack(c6, Client);
            }
        }
        self.t.ack(c6, Client); // duplicate: still at the lost segment
        self.ms(34);
        if let (Some(seq), Some(chunk)) = (lost_seq, chunks.get(3)) {
            self.t
                .segment(c6, Server)
                .seq(seq)
                .payload(chunk)
                .flags(ACK)
                .emit();
        }
        self.t.ack(c6, Client);
        self.ms(500);
        self.t.close(c6);

        // 7. An upload whose last segment overtakes the one before it.
        let api = site("api.example.net");
        self.lookup(LAPTOP, GATEWAY, "api.example.net", api);
        let c7 = self.conn(LAPTOP, api, 80);
        self.open(c7, 11);
        let form = self.text(3_400, false);
        let mut body = b"note=".to_vec();
        body.extend(
            form.iter()
                .map(|&b| if b == b' ' || b == b'\n' { b'+' } else { b }),
        );
        let req = self.request("POST", "api.example.net", "/v1/notes", &body);
        let chunks: Vec<&[u8]> = req.chunks(1460).collect();
        let isn = self.t.isn(c7, Client);
        let rel = |i: usize| 1 + (i * 1460) as u32;
        if let [a, b, c] = chunks[..] {
            self.t.segment(c7, Client).payload(a).flags(ACK).emit();
            self.t
                .segment(c7, Client)
                .rel_seq(rel(2))
                .payload(c)
                .flags(ACK | PSH)
                .emit();
            self.t.ack(c7, Server); // duplicate ACK for the hole
            self.t
                .segment(c7, Client)
                .seq(isn.wrapping_add(rel(1)))
                .payload(b)
                .flags(ACK)
                .emit();
            self.t.ack(c7, Server);
        }
        self.ms(12);
        let created = self.response(201, "text/plain", b"created note 7\n");
        self.t.send(c7, Server, &created);
        self.ms(300);
        self.t.close(c7);

        // 8. News: the server resets the connection after its answer.
        let news = site("news.example.org");
        self.lookup(LAPTOP, GATEWAY, "news.example.org", news);
        let c8 = self.conn(LAPTOP, news, 80);
        self.open(c8, 19);
        self.exchange(
            c8,
            "news.example.org",
            "/2023/11/mos-released.html",
            7_800,
            20,
        );
        self.ms(1_200);
        self.t.rst(c8, Server);

        // 9. A refused connection, and pings.
        let www_alt = self.conn(LAPTOP, www, 8443);
        self.t.syn(www_alt);
        self.ms(12);
        self.t.refuse(www_alt);
        self.ms(100);
        for seq in 1..=3u16 {
            let payload: Vec<u8> = (0u8..56).map(|i| i.wrapping_add(0x10)).collect();
            self.t.icmp_echo(LAPTOP, www, 0x4d4f, seq, &payload);
            self.ms(12);
            self.t.icmp_echo_reply(www, LAPTOP, 0x4d4f, seq, &payload);
            self.ms(988);
        }

        // 10. An orphan: the tail of a download whose start the capture missed.
        let orphan = self
            .t
            .tcp((ip4(DESKTOP), 39_001), (ip4(site("docs.example.net")), 80));
        let tail = self.text(2_900, false);
        self.t.send(orphan, Server, &tail);
        self.ms(5);
        self.t
            .fin(orphan, Server)
            .fin(orphan, Client)
            .ack(orphan, Server);

        // 11. The rest of a working session: keep-alive HTTP and TLS over the next minute.
        let hosts = [
            ("static.example.com", false),
            ("www.example.com", false),
            ("docs.example.net", false),
            ("api.example.net", false),
            ("mail.example.com", true),
            ("login.example.org", true),
            ("news.example.org", false),
            ("search.example.org", false),
        ];
        let uris = [
            "/",
            "/index.html",
            "/static/site.css",
            "/static/app.js",
            "/docs/guide.html",
            "/v1/items/42",
            "/search?q=flow+table",
            "/2023/11/index.html",
        ];
        for i in 0..26u32 {
            let gap = 1_200 + self.rng.below(1_200);
            self.ms(gap);
            let (host, is_tls) = hosts[self.rng.index(hosts.len())];
            let addr = site(host);
            let client = if i % 3 == 2 { DESKTOP } else { LAPTOP };
            if self.rng.below(3) == 0 {
                self.lookup(client, GATEWAY, host, addr);
            }
            let rtt = 5 + self.rng.below(40);
            if is_tls {
                let c = self.conn(client, addr, 443);
                self.open(c, rtt);
                let version = if self.rng.below(4) == 0 {
                    TlsVersion::Tls12
                } else {
                    TlsVersion::Tls13
                };
                let exchanges = 1 + self.rng.below(2) as u32;
                self.tls(c, host, version, exchanges, rtt);
                self.t.close(c);
            } else {
                let c = self.conn(client, addr, 80);
                self.open(c, rtt);
                for _ in 0..1 + self.rng.below(3) {
                    let uri = uris[self.rng.index(uris.len())];
                    let size = 400 + self.rng.index(6_000);
                    self.exchange(c, host, uri, size, rtt);
                    let think = 50 + self.rng.below(400);
                    self.ms(think);
                }
                if self.rng.below(2) == 0 {
                    self.t.close(c);
                } else {
                    self.t.fin(c, Server).fin(c, Client).ack(c, Server);
                }
            }
        }
        // The idle connection is still open: about 80 s of trace, over 70 of them silent.
        self.ms(3_000);
        self.t.arp(gw, ip4(DESKTOP));
        self.t.arp_reply(ip4(DESKTOP), gw);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_is_small_and_has_what_the_readme_promises() {
        let t = script();
        let bytes = t.to_pcap();
        assert!(bytes.len() < 1 << 20, "{} bytes", bytes.len());
        let truth = t.truth();
        let conns = &truth.connections;
        assert!(
            (30..=60).contains(&conns.len()),
            "{} connections",
            conns.len()
        );
        let reqs: Vec<_> = conns.iter().flat_map(|c| &c.http_requests).collect();
        assert!(reqs.iter().any(|r| r.uri.starts_with("/search?q=")));
        let hosts: std::collections::BTreeSet<_> = reqs.iter().map(|r| r.host.as_str()).collect();
        assert!(hosts.len() >= 5, "{hosts:?}");
        assert!(reqs.iter().any(|r| r.method == "POST"));
        let snis: Vec<_> = conns.iter().flat_map(|c| &c.tls_sni).collect();
        assert!(snis.iter().any(|s| *s == "mail.example.com"));
        assert!(snis.iter().any(|s| *s == "login.example.org"));
        assert!(conns.iter().any(|c| c.rexmit_server > 0));
        assert!(conns.iter().any(|c| c.end_reason == "rst" && c.synack));
        assert!(conns.iter().any(|c| c.rst && !c.synack), "refused");
        assert!(conns.iter().any(|c| c.client.starts_with('[')));
        let end = t.frames().last().unwrap().ts.as_secs_f64();
        let idle: Vec<_> = conns
            .iter()
            .filter(|c| c.end_reason == "trace_end" && end - c.last > 60.0)
            .collect();
        assert_eq!(idle.len(), 1);
        assert!(truth.summary.orphans > 0);
        assert!(truth.summary.udp_packets >= 20);
        assert_eq!(truth.summary.icmp_packets, 6);
        assert_eq!(truth.summary.errors, 0);
    }

    #[test]
    fn sample_frames_are_valid_and_match_the_truth() {
        let t = script();
        let n = crate::testutil::check_against_truth(&t.to_pcap(), &t.truth());
        assert_eq!(n, t.truth().connections.len());
    }

    #[test]
    fn sample_is_identical_every_time() {
        assert_eq!(pcap(), pcap());
        assert_eq!(truth(), truth());
    }
}
