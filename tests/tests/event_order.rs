//! Event order: one small hand-made capture per case, and the exact sequence of
//! `(event@hook, side, direction, detail)` the runtime raises for it (SPEC §2).
//!
//! Captures are built by `mos_synth::script` (one frame per call, 1 ms apart) and replayed with
//! a batch size of 1 (as mOS's pcap module does), except where coalescing is the point.

use mos_synth::script::{ACK, Client, Script, Server};
use mos_tests::conversations::{self, established};

fn assert_events(script: &Script, batch: usize, expected: &str) {
    let got = conversations::event_log(script, batch).join("\n");
    let expected: Vec<&str> = expected
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let got_lines: Vec<&str> = got.lines().collect();
    assert_eq!(got_lines, expected, "\n--- got ---\n{got}\n");
}

/// The three-way handshake, as every tracked connection starts.
const HANDSHAKE: &str = r#"
    ON_PKT_IN@SND client c2s
    ON_CONN_START@SND client c2s
    ON_TCP_STATE_CHANGE@SND client c2s SYN_SENT
    ON_PKT_IN@RCV server c2s
    ON_CONN_START@RCV server c2s
    ON_TCP_STATE_CHANGE@RCV server c2s SYN_RCVD
    ON_PKT_IN@SND server s2c
    ON_PKT_IN@RCV client s2c
    ON_TCP_STATE_CHANGE@RCV client s2c ESTABLISHED
    ON_PKT_IN@SND client c2s
    ON_PKT_IN@RCV server c2s
    ON_TCP_STATE_CHANGE@RCV server c2s ESTABLISHED
"#;

/// `close`: the client's FIN, the server's FIN-ACK, the client's last ACK, then the end of the
/// connection on both sides and hooks.
const FIN_FIN_CLOSE: &str = r#"
    ON_PKT_IN@SND client c2s
    ON_TCP_STATE_CHANGE@SND client c2s FIN_WAIT_1
    ON_PKT_IN@RCV server c2s
    ON_TCP_STATE_CHANGE@RCV server c2s CLOSE_WAIT
    ON_PKT_IN@SND server s2c
    ON_TCP_STATE_CHANGE@SND server s2c LAST_ACK
    ON_PKT_IN@RCV client s2c
    ON_TCP_STATE_CHANGE@RCV client s2c TIME_WAIT
    ON_PKT_IN@SND client c2s
    ON_PKT_IN@RCV server c2s
    ON_TCP_STATE_CHANGE@RCV server c2s CLOSED
    ON_CONN_END@RCV client s2c fin
    ON_CONN_END@SND client s2c fin
    ON_CONN_END@RCV server c2s fin
    ON_CONN_END@SND server c2s fin
"#;

#[test]
fn handshake_data_both_ways_and_fin_fin() {
    let expected = [
        HANDSHAKE,
        r#"
        ON_PKT_IN@SND client c2s len=18
        ON_PKT_IN@RCV server c2s len=18
        ON_CONN_NEW_DATA@RCV server c2s 18 "GET / HTTP/1.1\r\n"
        ON_PKT_IN@SND server s2c
        ON_PKT_IN@RCV client s2c
        ON_PKT_IN@SND server s2c len=19
        ON_PKT_IN@RCV client s2c len=19
        ON_CONN_NEW_DATA@RCV client s2c 19 "HTTP/1.1 200 OK\r"
        ON_PKT_IN@SND client c2s
        ON_PKT_IN@RCV server c2s
        "#,
        FIN_FIN_CLOSE,
    ]
    .concat();
    assert_events(&conversations::request_response(), 1, &expected);
}

#[test]
fn data_retransmission_is_raised_before_the_write() {
    let expected = [
        HANDSHAKE,
        r#"
        ON_PKT_IN@SND client c2s len=5
        ON_PKT_IN@RCV server c2s len=5
        ON_CONN_NEW_DATA@RCV server c2s 5 "hello"
        ON_PKT_IN@SND server s2c
        ON_PKT_IN@RCV client s2c
        ON_PKT_IN@SND client c2s len=5
        ON_REXMIT@RCV server c2s len=5
        ON_PKT_IN@RCV server c2s len=5
        "#,
        FIN_FIN_CLOSE,
    ]
    .concat();
    assert_events(&conversations::retransmission(), 1, &expected);
}

#[test]
fn out_of_order_data_is_delivered_once_the_hole_fills() {
    let (mut t, c) = established();
    t.segment(c, Client)
        .rel_seq(4)
        .payload(b"def")
        .flags(ACK)
        .emit();
    t.segment(c, Client)
        .rel_seq(1)
        .payload(b"abc")
        .flags(ACK)
        .emit();
    t.ack(c, Server);
    t.close(c);
    let expected = [
        HANDSHAKE,
        r#"
        ON_PKT_IN@SND client c2s len=3
        ON_PKT_IN@RCV server c2s len=3
        ON_PKT_IN@SND client c2s len=3
        ON_PKT_IN@RCV server c2s len=3
        ON_CONN_NEW_DATA@RCV server c2s 6 "abcdef"
        ON_PKT_IN@SND server s2c
        ON_PKT_IN@RCV client s2c
        "#,
        FIN_FIN_CLOSE,
    ]
    .concat();
    assert_events(&t, 1, &expected);
}

#[test]
fn rst_closes_both_sides() {
    let (mut t, c) = established();
    t.send(c, Client, b"x");
    t.rst(c, Server);
    let expected = [
        HANDSHAKE,
        r#"
        ON_PKT_IN@SND client c2s len=1
        ON_PKT_IN@RCV server c2s len=1
        ON_CONN_NEW_DATA@RCV server c2s 1 "x"
        ON_PKT_IN@SND server s2c
        ON_PKT_IN@RCV client s2c
        ON_PKT_IN@SND server s2c
        ON_TCP_STATE_CHANGE@SND server s2c CLOSED
        ON_PKT_IN@RCV client s2c
        ON_TCP_STATE_CHANGE@RCV client s2c CLOSED
        ON_CONN_END@RCV client s2c rst
        ON_CONN_END@SND client s2c rst
        ON_CONN_END@RCV server c2s rst
        ON_CONN_END@SND server c2s rst
        "#,
    ]
    .concat();
    assert_events(&t, 1, &expected);
}

#[test]
fn packets_without_a_syn_are_orphans() {
    let mut t = Script::new();
    // Mid-stream data, then a SYN-ACK whose SYN was never seen: neither creates a flow.
    let c = conversations::midstream_data(&mut t);
    t.syn_ack(c);
    assert_events(
        &t,
        1,
        r#"
        ON_PKT_IN@NULL no_connection
        ON_ORPHAN@NULL no_connection
        ON_PKT_IN@NULL no_connection
        ON_ORPHAN@NULL no_connection
        "#,
    );
}

/// One `ON_CONN_NEW_DATA` per side for the whole batch, the side that got bytes first (the
/// server side, with the client's "one") before the other.
#[test]
fn new_data_is_coalesced_per_side_per_batch_and_trace_end_closes() {
    let expected = [
        HANDSHAKE,
        r#"
        ON_PKT_IN@SND client c2s len=3
        ON_PKT_IN@RCV server c2s len=3
        ON_PKT_IN@SND client c2s len=3
        ON_PKT_IN@RCV server c2s len=3
        ON_PKT_IN@SND server s2c len=5
        ON_PKT_IN@RCV client s2c len=5
        ON_PKT_IN@SND client c2s
        ON_PKT_IN@RCV server c2s
        ON_PKT_IN@SND server s2c
        ON_PKT_IN@RCV client s2c
        ON_CONN_NEW_DATA@RCV server c2s 6 "onetwo"
        ON_CONN_NEW_DATA@RCV client s2c 5 "three"
        ON_TCP_STATE_CHANGE@RCV client s2c CLOSED
        ON_CONN_END@RCV client s2c trace_end
        ON_TCP_STATE_CHANGE@SND client s2c CLOSED
        ON_CONN_END@SND client s2c trace_end
        ON_TCP_STATE_CHANGE@RCV server c2s CLOSED
        ON_CONN_END@RCV server c2s trace_end
        ON_TCP_STATE_CHANGE@SND server c2s CLOSED
        ON_CONN_END@SND server c2s trace_end
        "#,
    ]
    .concat();
    assert_events(&conversations::unacknowledged_writes(), 32, &expected);
}

#[test]
fn non_tcp_is_an_orphan() {
    let mut t = Script::new();
    conversations::udp_datagram(&mut t);
    assert_events(
        &t,
        1,
        r#"
        ON_PKT_IN@NULL non_tcp
        ON_ORPHAN@NULL non_tcp
        "#,
    );
}
