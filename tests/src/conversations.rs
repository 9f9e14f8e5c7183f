//! Scripted TCP conversations that more than one suite replays, and the runs that replay them.
//!
//! `tests/tests/event_order.rs` pins the events each conversation raises line by line, and
//! `tests/tests/book.rs` prints the same conversations as the listings of the book's "order of
//! events" chapter: both build them here, so the book shows what the suite pins. The scripts
//! come from `mos_synth::script` (one frame per call, 1 ms apart).

use mos_examples::eventlog::EventLog;
use mos_runtime::{App, Report, Runtime, RuntimeBuilder};
use mos_synth::script::{ACK, Client, Conn, PSH, Script, Server};

/// The client of [`established`]'s connection.
pub const CLIENT: &str = "10.0.0.1:40000";

/// The server of [`established`]'s connection.
pub const SERVER: &str = "10.0.0.2:80";

/// A script with one connection, [`CLIENT`] to [`SERVER`], whose three-way handshake is done.
pub fn established() -> (Script, Conn) {
    let mut t = Script::new();
    let c = t.tcp(CLIENT, SERVER);
    t.handshake(c);
    (t, c)
}

/// An HTTP request and its response on one connection, then the FIN/FIN close.
pub fn request_response() -> Script {
    let (mut t, c) = established();
    t.send(c, Client, b"GET / HTTP/1.1\r\n\r\n");
    t.send(c, Server, b"HTTP/1.1 200 OK\r\n\r\n");
    t.close(c);
    t
}

/// Five bytes from the client, acknowledged, then the same five bytes again (a retransmission
/// of data the server already has), then the close.
pub fn retransmission() -> Script {
    let (mut t, c) = established();
    t.send(c, Client, b"hello");
    t.segment(c, Client)
        .rel_seq(1)
        .payload(b"hello")
        .flags(ACK | PSH)
        .emit();
    t.close(c);
    t
}

/// Two client writes and a server write before either side acknowledges, then both
/// acknowledge; no close, so the connection ends with the trace. Replayed in one batch, it
/// shows how new data is coalesced per side.
pub fn unacknowledged_writes() -> Script {
    let (mut t, c) = established();
    t.send_no_ack(c, Client, b"one");
    t.send_no_ack(c, Client, b"two");
    t.send_no_ack(c, Server, b"three");
    t.ack(c, Client);
    t.ack(c, Server);
    t
}

/// Adds to `t` a data segment of a [`CLIENT`]-[`SERVER`] connection whose SYN the capture
/// never saw (an orphan); returns the connection, for more of its packets.
pub fn midstream_data(t: &mut Script) -> Conn {
    let c = t.tcp(CLIENT, SERVER);
    t.segment(c, Client)
        .rel_seq(1)
        .payload(b"mid")
        .flags(ACK)
        .emit();
    c
}

/// Adds to `t` a one-byte UDP datagram (not TCP: an orphan).
pub fn udp_datagram(t: &mut Script) {
    t.udp("10.0.0.1:5353", "10.0.0.2:53", b"q");
}

/// A runtime builder over `script`'s capture, progress output off, every other option at its
/// default.
pub fn replay(script: &Script) -> RuntimeBuilder {
    Runtime::builder()
        .pcap_bytes(script.to_pcap())
        .progress(false)
}

/// Builds the runtime and runs `A` from its default core state; panics on an error (tests
/// only).
pub fn run<A: App>(builder: RuntimeBuilder) -> (Report, A::Core) {
    builder
        .build()
        .expect("build")
        .run_with_core::<A>()
        .expect("run")
}

/// The lines `eventlog` prints for `script` replayed `batch` frames per receive batch.
pub fn event_log(script: &Script, batch: usize) -> Vec<String> {
    run::<EventLog>(replay(script).batch_size(batch)).1.lines
}
