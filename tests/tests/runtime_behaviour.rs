//! Runtime behaviour beyond the event order: limits and their policies, timers, per-flow
//! control from handlers, errors, inline mode, bad input. Each case builds its capture with
//! `mos_synth::script` and runs a small hand-written app.

use std::time::Duration;

use mos_examples::flowdump::{Core as DumpCore, FlowDump};
use mos_runtime::io::PcapReader;
use mos_runtime::prelude::*;
use mos_runtime::{HandlerInfo, PcapSink, Runtime, Subscriptions};
use mos_synth::script::{ACK, Client, PSH, Script};
use mos_tests::conversations::{self, established, replay, run};
use mos_tests::recorder::{Seen, record_end, record_new_data};

// ---------------------------------------------------------------------------------------------

struct TimerApp;

impl App for TimerApp {
    type Flow = u32;
    type Core = Seen;
    const NAME: &'static str = "timer";
    const SUBSCRIPTIONS: Subscriptions = Subscriptions::ALL;

    fn conn_start_snd(cx: &mut Cx<'_, u32, Seen>) {
        assert!(cx.set_timer(Duration::from_secs(1)));
    }
    fn timeout_null(cx: &mut Cx<'_, u32, Seen>) {
        assert!(cx.packet().is_none());
        *cx.flow_mut() += 1;
        cx.core_mut().timeouts += 1;
        if *cx.flow() < 3 {
            cx.set_timer(Duration::from_secs(1));
        }
    }
    fn conn_end_rcv(cx: &mut Cx<'_, u32, Seen>) {
        record_end(cx);
    }
}

#[test]
fn timers_fire_on_packet_time_and_idle_connections_time_out() {
    let (mut t, _a) = established();
    // 5 s of silence, then another connection's packets move the clock on.
    t.advance(Duration::from_secs(5));
    let b = t.tcp("10.0.0.3:40001", "10.0.0.2:80");
    t.handshake(b);
    t.advance(Duration::from_secs(120));
    t.send(b, Client, b"late");
    let (report, seen) = run::<TimerApp>(replay(&t).idle_timeout(Duration::from_secs(60)));
    // a's timer fires at +1 s, +2 s, +3 s (re-armed twice); b's also three times in the 120 s.
    assert_eq!(seen.timeouts, 6);
    assert_eq!(report.event_count(Event::Timeout, Hook::Null), 6);
    // Both time out: a during the 120 s pause, b ... no: b saw a packet at the end.
    assert_eq!(seen.ends[0], ("10.0.0.1:40000".to_string(), "timeout"));
    assert_eq!(
        report.ended_count(EndReason::Timeout),
        2,
        "b times out during the pause too"
    );
}

// ---------------------------------------------------------------------------------------------

struct EndOnly;

impl App for EndOnly {
    type Flow = ();
    type Core = Seen;
    const NAME: &'static str = "end-only";
    const SUBSCRIPTIONS: Subscriptions = Subscriptions::NONE.with(Event::ConnEnd, Hook::Rcv);

    fn conn_end_rcv(cx: &mut Cx<'_, (), Seen>) {
        record_end(cx);
    }
}

#[test]
fn a_full_table_evicts_the_oldest_idle_flow_or_refuses_the_new_one() {
    let mut t = Script::new();
    t.syn_only("10.0.0.1:1000", "10.0.0.2:80");
    t.syn_only("10.0.0.1:1001", "10.0.0.2:80");
    // Full, and the oldest flow has been idle 2 ms only: refused.
    t.syn_only("10.0.0.1:1002", "10.0.0.2:80");
    t.advance(Duration::from_secs(20));
    // Now the oldest has been idle 20 s: evicted to make room.
    t.syn_only("10.0.0.1:1003", "10.0.0.2:80");
    let b = replay(&t)
        .max_flows(2)
        .evict_min_idle(Duration::from_secs(10));
    let (report, seen) = run::<EndOnly>(b);
    assert_eq!(report.connections, 3);
    assert_eq!(report.orphan_count(OrphanReason::TableFull), 1);
    assert_eq!(report.error_count(ErrorKind::FlowTableFull), 1);
    assert_eq!(report.ended_count(EndReason::Evicted), 1);
    assert_eq!(seen.ends[0], ("10.0.0.1:1000".to_string(), "evicted"));
    assert_eq!(report.ended_count(EndReason::TraceEnd), 2);
}

// ---------------------------------------------------------------------------------------------

struct StopAfterHandshake;

impl App for StopAfterHandshake {
    type Flow = ();
    type Core = Seen;
    const NAME: &'static str = "stop";
    const SUBSCRIPTIONS: Subscriptions = Subscriptions::NONE
        .with(Event::TcpStateChange, Hook::Rcv)
        .with(Event::ConnEnd, Hook::Rcv)
        .with(Event::PktIn, Hook::Rcv);

    fn pkt_in_rcv(cx: &mut Cx<'_, (), Seen>) {
        cx.core_mut().calls += 1;
    }
    fn tcp_state_change_rcv(cx: &mut Cx<'_, (), Seen>) {
        if cx.side() == Side::Server && cx.tcp_state(Side::Server) == TcpState::Established {
            cx.stop_monitoring(Side::Client);
            cx.stop_monitoring(Side::Server);
        }
    }
    fn conn_end_rcv(cx: &mut Cx<'_, (), Seen>) {
        record_end(cx);
    }
}

#[test]
fn stopping_both_sides_ends_the_connection_and_later_packets_are_orphans() {
    let (mut t, c) = established();
    t.send(c, Client, b"after the stop");
    let (report, seen) = run::<StopAfterHandshake>(replay(&t));
    assert_eq!(seen.ends, vec![("10.0.0.1:40000".to_string(), "stopped")]);
    assert_eq!(
        seen.calls, 3,
        "ON_PKT_IN@RCV for the three handshake packets only"
    );
    // The data segment and the server's ACK: no connection any more.
    assert_eq!(report.orphan_count(OrphanReason::NoConnection), 2);
}

// ---------------------------------------------------------------------------------------------

/// Records new data; handler 0 disables itself after its first call on each flow.
struct DataApp;

impl App for DataApp {
    type Flow = ();
    type Core = Seen;
    const NAME: &'static str = "data";
    const HANDLERS: &'static [HandlerInfo] = &[
        HandlerInfo {
            name: "once",
            event: "ON_PKT_IN",
            hook: Hook::Snd,
            per_flow: false,
        },
        HandlerInfo {
            name: "late",
            event: "ON_PKT_IN",
            hook: Hook::Rcv,
            per_flow: true,
        },
    ];
    const INITIAL_ENABLED: mos_runtime::HandlerSet = 0b01;
    const SUBSCRIPTIONS: Subscriptions = Subscriptions::ALL;

    fn pkt_in_snd(cx: &mut Cx<'_, (), Seen>) {
        if cx.__enter(0) {
            cx.core_mut().calls += 1;
            cx.disable(HandlerId(0));
            cx.enable(HandlerId(1));
        }
    }
    fn pkt_in_rcv(cx: &mut Cx<'_, (), Seen>) {
        if cx.__enter(1) {
            cx.core_mut().calls += 100;
        }
    }
    fn conn_new_data_rcv(cx: &mut Cx<'_, (), Seen>) {
        let side = record_new_data(cx);
        cx.core_mut().lost = cx.lost_bytes(side);
        if side == Side::Server {
            // Keep everything the client sent unread.
            cx.keep_unread(side, usize::MAX);
        }
    }
    fn error_rcv(cx: &mut Cx<'_, (), Seen>) {
        let kind = cx.error_kind().map_or("?", |k| k.name());
        cx.core_mut().errors.push(kind);
    }
    fn conn_end_rcv(cx: &mut Cx<'_, (), Seen>) {
        record_end(cx);
    }
}

#[test]
fn handlers_switch_per_flow_and_per_flow_handlers_start_off() {
    let mut t = Script::new();
    let a = t.tcp("10.0.0.1:40000", "10.0.0.2:80");
    let b = t.tcp("10.0.0.3:40000", "10.0.0.2:80");
    t.handshake(a);
    t.handshake(b);
    let (report, seen) = run::<DataApp>(replay(&t));
    // `once` runs on the first packet of each flow; `late` then runs on the other 5 RCVs of
    // each flow (3 packets per handshake, first one excluded... the SYN's RCV comes after its
    // SND, so `late` already runs for it): 3 RCVs per flow.
    assert_eq!(seen.calls, 2 + 2 * 3 * 100);
    let calls: Vec<(String, u64)> = report
        .handlers
        .iter()
        .map(|c| (c.name.clone(), c.count))
        .collect();
    assert_eq!(
        calls,
        vec![("once".to_string(), 2), ("late".to_string(), 6)]
    );
}

#[test]
fn unread_data_kept_past_the_buffer_raises_buffer_full_before_it_is_lost() {
    let (mut t, c) = established();
    t.send(c, Client, &[b'a'; 600]);
    t.send(c, Client, &[b'b'; 600]);
    t.send(c, Client, &[b'c'; 600]);
    let (report, seen) = run::<DataApp>(replay(&t).buffer_size(1024).batch_size(1));
    // The second and the third write each needed room: the oldest unread bytes went.
    assert_eq!(seen.errors, vec!["buffer_full", "buffer_full"]);
    assert_eq!(report.error_count(ErrorKind::BufferFull), 2);
    let last = &seen.new_data.last().expect("new data").1;
    assert_eq!(last.len(), 1024);
    assert!(last.ends_with(&[b'c'; 600]));
    assert_eq!(seen.lost, 1800 - 1024);
}

#[test]
fn conflicting_overlap_is_an_error_and_first_copy_wins_by_default() {
    let (mut t, c) = established();
    t.segment(c, Client)
        .rel_seq(1)
        .payload(b"GOOD")
        .flags(ACK | PSH)
        .emit();
    t.segment(c, Client)
        .rel_seq(1)
        .payload(b"EVIL")
        .flags(ACK | PSH)
        .emit();
    t.segment(c, Client)
        .rel_seq(5)
        .payload(b"!")
        .flags(ACK | PSH)
        .emit();
    let (report, seen) = run::<DataApp>(replay(&t));
    assert_eq!(seen.errors, vec!["overlap_conflict"]);
    assert_eq!(report.event_count(Event::Rexmit, Hook::Rcv), 1);
    assert_eq!(seen.stream(Side::Server), b"GOOD!");

    let (_, seen) = run::<DataApp>(
        replay(&t)
            .overlap(mos_runtime::OverlapPolicy::Last)
            .batch_size(64),
    );
    assert_eq!(
        seen.stream(Side::Server),
        b"EVIL!",
        "with policy `last` the retransmitted copy wins while unread"
    );
}

/// Reads every delivery and lets the runtime consume it.
struct Reader;

impl App for Reader {
    type Flow = ();
    type Core = Seen;
    const NAME: &'static str = "reader";
    const SUBSCRIPTIONS: Subscriptions = Subscriptions::NONE
        .with(Event::ConnNewData, Hook::Rcv)
        .with(Event::ConnEnd, Hook::Rcv);

    fn conn_new_data_rcv(cx: &mut Cx<'_, (), Seen>) {
        record_new_data(cx);
    }
    fn conn_end_rcv(cx: &mut Cx<'_, (), Seen>) {
        record_end(cx);
    }
}

#[test]
fn a_hole_the_receiver_acknowledged_is_skipped_and_counted() {
    let (mut t, c) = established();
    t.send(c, Client, b"head");
    // Four bytes bypass the capture: the server gets and acknowledges them.
    t.unseen(c, Client, 4);
    t.send(c, Client, b"tail");
    t.close(c);
    let (_, seen) = run::<Reader>(replay(&t).batch_size(1));
    assert_eq!(seen.missed, 4);
    assert_eq!(seen.deliveries(Side::Server), [&b"head"[..], &b"tail"[..]]);
    assert_eq!(seen.ends, vec![("10.0.0.1:40000".to_string(), "fin")]);
}

#[test]
fn a_request_split_across_segments_and_batches_is_found_once() {
    let (mut t, c) = established();
    t.send(c, Client, b"GET /index.html HTTP/1.1\r\nHo");
    t.send(
        c,
        Client,
        b"st: example.com\r\n\r\nGET /second HTTP/1.1\r\nHost: example.com\r\n\r\n",
    );
    t.close(c);
    let (_, core) = replay(&t)
        .batch_size(1)
        .build()
        .expect("build")
        .run_init::<FlowDump>(DumpCore::default())
        .expect("run");
    let uris: Vec<&str> = core.records[0]
        .http_requests
        .iter()
        .map(|r| r.uri.as_str())
        .collect();
    assert_eq!(uris, ["/index.html", "/second"]);
    assert_eq!(core.records[0].http_requests[0].host, "example.com");
}

// ---------------------------------------------------------------------------------------------

/// Records flow-less errors; drops SYNs to port 80 and every later packet of those flows.
struct Firewall;

impl App for Firewall {
    type Flow = bool;
    type Core = Seen;
    const NAME: &'static str = "firewall";
    const SUBSCRIPTIONS: Subscriptions = Subscriptions::ALL;

    fn pkt_in_snd(cx: &mut Cx<'_, bool, Seen>) {
        if cx.server().port() == 80 {
            *cx.flow_mut() = true;
        }
        if *cx.flow() {
            cx.drop_packet();
        }
    }
    fn error_null(cx: &mut PacketCx<'_, Seen>) {
        let kind = cx.error_kind().map_or("?", |k| k.name());
        assert!(cx.frame().is_some());
        cx.core_mut().errors.push(kind);
    }
    fn orphan_null(cx: &mut PacketCx<'_, Seen>) {
        if cx.orphan_reason() == Some(OrphanReason::OutOfScope) {
            cx.drop_packet();
        }
    }
    fn in_scope(syn: &Packet<'_>) -> bool {
        syn.dst_port() != Some(25)
    }
}

#[test]
fn inline_mode_forwards_what_handlers_do_not_drop() {
    let mut t = Script::new();
    let web = t.tcp("10.0.0.1:40000", "10.0.0.2:80");
    let ssh = t.tcp("10.0.0.1:40001", "10.0.0.2:22");
    t.handshake(web);
    t.handshake(ssh);
    t.send(ssh, Client, b"SSH-2.0-x\r\n");
    t.syn_only("10.0.0.1:40002", "10.0.0.2:25");
    conversations::udp_datagram(&mut t);
    let out = std::env::temp_dir().join(format!("mos-inline-{}.pcap", std::process::id()));
    let sink = PcapSink::create(&out).expect("sink");
    let (report, _) = run::<Firewall>(replay(&t).inline(sink));
    // web: 3 packets dropped; smtp SYN: out of scope, dropped by the orphan handler.
    assert_eq!(report.packets, 3 + 3 + 2 + 1 + 1);
    assert_eq!((report.forwarded, report.dropped), (6, 4));
    let mut reader = PcapReader::open(&out).expect("output readable");
    let mut frames = 0;
    while let Some(frame) = reader.next_frame().expect("frame") {
        let meta = mos_runtime::wire::parse(frame.link, frame.data, frame.ts, frame.wire_len, true)
            .expect("valid");
        assert_ne!(meta.ports().map(|p| p.1), Some(80));
        frames += 1;
    }
    assert_eq!(frames, 6);
    let _ = std::fs::remove_file(&out);
}

#[test]
fn malformed_frames_and_bad_checksums_are_counted_errors() {
    let (mut t, c) = established();
    t.send(c, Client, b"payload");
    // An IPv4 header that claims 40 bytes of options in a 20-byte frame.
    t.raw(
        &[
            0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00, 0x4f, 0, 0, 20, 0, 0, 0, 0, 64, 6,
        ],
        true,
    );
    let mut pcap = t.to_pcap();
    // Corrupt one payload byte of the data segment (frame 4): its TCP checksum no longer holds.
    let needle = b"payload";
    let at = pcap
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("payload in capture");
    pcap[at] ^= 0x20;
    let b = Runtime::builder().pcap_bytes(pcap.clone()).progress(false);
    let (report, seen) = run::<Firewall>(b.verify_checksums(true));
    assert_eq!(seen.errors, vec!["bad_checksum", "malformed"]);
    assert_eq!(report.error_count(ErrorKind::BadChecksum), 1);
    assert_eq!(report.error_count(ErrorKind::Malformed), 1);
    // Without verification the corrupted segment is data like any other.
    let (report, seen) = run::<Firewall>(Runtime::builder().pcap_bytes(pcap).progress(false));
    assert_eq!(seen.errors, vec!["malformed"]);
    assert_eq!(report.error_count(ErrorKind::BadChecksum), 0);
}

#[test]
fn bad_capture_files_give_clear_errors() {
    let dir = std::env::temp_dir();
    let not_pcap = dir.join(format!("mos-not-a-pcap-{}.txt", std::process::id()));
    std::fs::write(&not_pcap, b"hello, this is text").expect("write");
    let err = Runtime::builder()
        .pcap(&not_pcap)
        .expect_err("not a capture");
    assert!(
        err.to_string().contains("not a pcap or pcapng file"),
        "{err}"
    );
    let _ = std::fs::remove_file(&not_pcap);

    let missing = Runtime::builder()
        .pcap(dir.join("mos-no-such-file.pcap"))
        .expect_err("missing");
    assert!(
        missing.to_string().contains("mos-no-such-file.pcap"),
        "{missing}"
    );

    // A capture cut inside its last record: the frames before it were processed, and the
    // run reports the truncation as an error naming it.
    let (t, _) = established();
    let mut pcap = t.to_pcap();
    pcap.truncate(pcap.len() - 10);
    let err = Runtime::builder()
        .pcap_bytes(pcap)
        .progress(false)
        .build()
        .expect("build")
        .run::<EndOnly>()
        .expect_err("truncated");
    assert!(
        err.to_string().to_lowercase().contains("truncated"),
        "{err}"
    );
}

#[test]
fn a_new_syn_on_a_closed_client_side_starts_a_new_connection() {
    let (mut t, old) = established();
    // The client resets with a sequence number the server side cannot accept: the client side
    // is closed, the server side is not, so the old connection lingers...
    let far = t.isn(old, Client).wrapping_add(1 << 30);
    t.segment(old, Client)
        .seq(far)
        .flags(mos_synth::script::RST)
        .emit();
    // ...until the client opens a new connection on the same four-tuple.
    let new = t.tcp("10.0.0.1:40000", "10.0.0.2:80");
    t.handshake(new);
    t.send(new, Client, b"again");
    let (report, seen) = run::<EndOnly>(replay(&t));
    assert_eq!(report.connections, 2);
    assert_eq!(
        seen.ends,
        vec![
            ("10.0.0.1:40000".to_string(), "rst"),
            ("10.0.0.1:40000".to_string(), "trace_end")
        ]
    );
    assert_eq!(report.orphans, 0);
}
