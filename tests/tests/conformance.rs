//! Conformance: flowdump against tshark on every public capture.
//!
//! For every connection whose handshake tshark saw, flowdump must report the same client and
//! server, packets per direction, distinct payload bytes per direction, FIN per direction, RST,
//! and HTTP requests. tshark runs at test time (no stored copy). Every remaining difference is
//! listed in `KNOWN` with its reason, and asserted to still be exactly that difference: if our
//! behaviour changes, the entry fails and must be revisited.

use std::path::Path;

use mos_examples::flowdump::{ConnRecord, Core, FlowDump};
use mos_runtime::Runtime;
use mos_tests::fields::{Difference, Field, differences};
use mos_tests::oracle::tshark_conns;
use mos_tests::traces::{public_captures, public_dir, tshark_available};

/// The fields compared with tshark's view, in the order their differences are reported.
const COMPARED: &[Field] = &[
    Field::Server,
    Field::Synack,
    Field::PktsClient,
    Field::PktsServer,
    Field::BytesClient,
    Field::BytesServer,
    Field::FinClient,
    Field::FinServer,
    Field::Rst,
    Field::HttpRequests,
];

/// A difference we understand: (trace, client endpoint, field, ours, tshark's, why).
struct Known {
    trace: &'static str,
    client: &'static str,
    field: &'static str,
    ours: &'static str,
    theirs: &'static str,
    why: &'static str,
}

const KNOWN: &[Known] = &[
    Known {
        trace: "sv-tls-fin-close.pcap",
        client: "10.84.1.5:53576",
        field: "pkts_server",
        ours: "10",
        theirs: "12",
        why: "the server's first RST (frame 22) closes the last open side, so the connection ends \
              there (mOS: destroyed once both sides are closed); the two RSTs after it (frames 23, \
              24) are orphans (no_connection). tshark keeps counting them in the stream.",
    },
    Known {
        trace: "sv-vlan-ipv4-frag-tcp-syn.pcap",
        client: "1.1.1.1:12345",
        field: "missing",
        ours: "",
        theirs: "",
        why: "the SYN arrives in IPv4 fragments; we do not reassemble IP fragments (orphans with \
              reason `fragment`), tshark does (ip.defragment), so it sees a connection we never start.",
    },
    Known {
        trace: "zeek-ipv6-http-atomic-frag.pcap",
        client: "[2001:db8:1::2]:36951",
        field: "synack",
        ours: "false",
        theirs: "true",
        why: "the SYN-ACK is captured before the SYN; a flow starts only with a pure SYN (mOS), so \
              the early SYN-ACK is an orphan and our connection never sees it.",
    },
    Known {
        trace: "zeek-ipv6-http-atomic-frag.pcap",
        client: "[2001:db8:1::2]:36951",
        field: "pkts_server",
        ours: "4",
        theirs: "5",
        why: "the same early SYN-ACK, counted by tshark and an orphan for us.",
    },
    Known {
        trace: "zeek-tcp-handshake-reorder.pcap",
        client: "141.142.228.5:59856",
        field: "synack",
        ours: "false",
        theirs: "true",
        why: "SYN-ACK captured before the SYN: an orphan for us (flows start with a pure SYN). The \
              client's ACK then tells us the server's ISN, so the rest of the connection, its bytes \
              and its HTTP request match.",
    },
    Known {
        trace: "zeek-tcp-handshake-reorder.pcap",
        client: "141.142.228.5:59856",
        field: "pkts_server",
        ours: "6",
        theirs: "7",
        why: "the same early SYN-ACK.",
    },
    Known {
        trace: "zeek-tcp-retransmit-fast.pcap",
        client: "10.0.88.85:50368",
        field: "pkts_client",
        ours: "16",
        theirs: "17",
        why: "the client's final RST comes 60.9 s after the previous packet, past the 60 s idle \
              timeout: the connection ended with reason `timeout` and the RST is an orphan.",
    },
    Known {
        trace: "zeek-tcp-retransmit-fast.pcap",
        client: "10.0.88.85:50368",
        field: "rst",
        ours: "false",
        theirs: "true",
        why: "the same late RST, after our idle timeout.",
    },
    Known {
        trace: "zeek-tcp-retransmit-fast.pcap",
        client: "10.0.88.85:50368",
        field: "bytes_client",
        ours: "0",
        theirs: "474",
        why: "captured with a 54-byte snap length: no payload byte is in the file. tshark counts \
              tcp.len from the IP header; we count bytes that reached the stream, and report these \
              474 as missed_client (asserted in `headers_only_capture_reports_missed_bytes`).",
    },
    Known {
        trace: "zeek-tcp-retransmit-fast.pcap",
        client: "10.0.88.85:50368",
        field: "bytes_server",
        ours: "0",
        theirs: "23783",
        why: "the same headers-only capture: 23783 bytes reported as missed_server.",
    },
    Known {
        trace: "zeek-tcp-rst-inject.pcap",
        client: "1.2.0.2:2527",
        field: "pkts_client",
        ours: "3",
        theirs: "4",
        why: "frame 7 is an in-window RST from the server address (the trace's injected RST); we \
              accept it as the client's stack would and end the connection, so the client's later \
              150-byte segment (frame 8) is an orphan. tshark has no notion of a connection's end.",
    },
    Known {
        trace: "zeek-tcp-rst-inject.pcap",
        client: "1.2.0.2:2527",
        field: "pkts_server",
        ours: "4",
        theirs: "5",
        why: "after that RST, the server's final RST (frame 9) is an orphan too.",
    },
    Known {
        trace: "zeek-tcp-rst-inject.pcap",
        client: "1.2.0.2:2527",
        field: "bytes_client",
        ours: "25",
        theirs: "175",
        why: "the 150 bytes of frame 8 arrive after the connection ended at the RST of frame 7.",
    },
    Known {
        trace: "zeek-tcp-ssh-dups.pcap",
        client: "192.168.0.102:53206",
        field: "pkts_client",
        ours: "222",
        theirs: "225",
        why: "the capture holds the client's final ACK four times (frames 374-377); the first one \
              completes the close and ends the connection, the three copies are orphans.",
    },
];

fn run_flowdump(trace: &Path) -> Vec<ConnRecord> {
    let (_, core) = Runtime::builder()
        .pcap(trace)
        .unwrap_or_else(|e| panic!("{}: {e}", trace.display()))
        .progress(false)
        .build()
        .expect("build")
        .run_init::<FlowDump>(Core::default())
        .unwrap_or_else(|e| panic!("{}: {e}", trace.display()));
    core.records
}

#[test]
fn flowdump_matches_tshark_on_every_public_capture() {
    let Some(dir) = public_dir() else { return };
    if !tshark_available() {
        return;
    }
    let mut failures = Vec::new();
    let mut used = vec![false; KNOWN.len()];
    let mut table = Vec::new();
    for trace in public_captures(&dir) {
        let name = trace
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let ours = run_flowdump(&trace);
        let theirs = tshark_conns(&trace);
        let mut taken = vec![false; ours.len()];
        let mut matched = 0;
        for o in &theirs {
            let Some(i) = (0..ours.len()).find(|&i| !taken[i] && ours[i].client == o.client) else {
                let known = KNOWN
                    .iter()
                    .position(|k| k.trace == name && k.client == o.client && k.field == "missing");
                match known {
                    Some(k) => used[k] = true,
                    None => failures.push(format!(
                        "{name}: tshark stream {} {} -> {}: no flowdump record",
                        o.stream, o.client, o.server
                    )),
                }
                continue;
            };
            taken[i] = true;
            let mut clean = true;
            for Difference {
                field,
                ours: a,
                theirs: b,
            } in differences(COMPARED, &ours[i], o)
            {
                let field = field.name();
                let known = KNOWN.iter().position(|k| {
                    k.trace == name
                        && k.client == o.client
                        && k.field == field
                        && k.ours == a
                        && k.theirs == b
                });
                match known {
                    Some(k) => used[k] = true,
                    None => {
                        clean = false;
                        failures.push(format!(
                            "{name}: {} -> {}: {field}: ours {a:?}, tshark {b:?}",
                            o.client, o.server
                        ));
                    }
                }
            }
            if clean {
                matched += 1;
            }
        }
        for (i, r) in ours.iter().enumerate() {
            if !taken[i] {
                let known = KNOWN
                    .iter()
                    .position(|k| k.trace == name && k.client == r.client && k.field == "extra");
                match known {
                    Some(k) => used[k] = true,
                    None => failures.push(format!(
                        "{name}: flowdump record {} -> {} has no tshark connection",
                        r.client, r.server
                    )),
                }
            }
        }
        table.push(format!(
            "{name:<40} {matched:>3} / {:<3} connections matched (known differences explained)",
            theirs.len()
        ));
    }
    println!("{}", table.join("\n"));
    for (k, used) in KNOWN.iter().zip(&used) {
        if !*used {
            failures.push(format!(
                "stale KNOWN entry: {} {} {} (ours {}, tshark {}): {}",
                k.trace, k.client, k.field, k.ours, k.theirs, k.why
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} differences:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The headers-only capture of zeek-tcp-retransmit-fast.pcap: every payload byte is missing
/// from the file, and flowdump must say so through `missed_*` rather than invent bytes.
#[test]
fn headers_only_capture_reports_missed_bytes() {
    let Some(dir) = public_dir() else { return };
    let records = run_flowdump(&dir.join("zeek-tcp-retransmit-fast.pcap"));
    assert_eq!(records.len(), 1);
    let r = &records[0];
    assert_eq!((r.bytes_client, r.missed_client), (0, 474));
    assert_eq!((r.bytes_server, r.missed_server), (0, 23783));
    assert_eq!(r.end_reason, "timeout");
}
