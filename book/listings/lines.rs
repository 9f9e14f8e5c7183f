//! The book's "Reading streams" listing: a line reader over what the client sent.
//! `tests/tests/book.rs` compiles it, runs it over scripted captures (segments out of order, a
//! line split across segments, bytes the capture missed, a retransmission that changes the
//! bytes) and compares what it prints with `lines-*.out`, which the book shows.

use mos_runtime::{OverlapPolicy, Report, RunError, Runtime};

// ANCHOR: all
#[mos_runtime::app]
pub mod lines {
    use mos_runtime::prelude::*;

    #[flow_state]
    #[derive(Default)]
    pub struct Flow;

    #[core_state]
    #[derive(Default)]
    pub struct Core {
        pub lines: Vec<String>,
    }

    fn text(bytes: &[u8]) -> String {
        format!("{:?}", String::from_utf8_lossy(bytes))
    }

    // ANCHOR: segment
    /// Each segment the client sent, right after the server side stored it.
    #[on(event = ON_PKT_IN, hook = RCV)]
    fn segment(cx: &mut Cx<'_, Flow, Core>) {
        let payload = match cx.packet() {
            Some(p) if cx.side() == Side::Server && !p.payload().is_empty() => text(p.payload()),
            _ => return,
        };
        let line = format!(
            "segment {payload:<9} peek={:<10} peek_at(0, 6)={:?}",
            text(cx.peek(Side::Server)),
            cx.peek_at(Side::Server, 0, 6).map(String::from_utf8_lossy),
        );
        cx.core_mut().lines.push(line);
    }
    // ANCHOR_END: segment

    // ANCHOR: read_lines
    /// Complete lines of what the client sent. A partial line stays unread: the runtime
    /// consumes everything else after this dispatch, and the next one sees the kept bytes
    /// followed by the new ones.
    #[on(event = ON_CONN_NEW_DATA)]
    fn read_lines(cx: &mut Cx<'_, Flow, Core>) {
        if cx.side() != Side::Server {
            return;
        }
        let data = cx.peek(Side::Server);
        let complete = data.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let mut out: Vec<String> = data
            .get(..complete)
            .unwrap_or_default()
            .split_inclusive(|&b| b == b'\n')
            .map(|l| format!("line    {}", text(l.strip_suffix(b"\n").unwrap_or(l))))
            .collect();
        let partial = data.len() - complete;
        if partial > 0 {
            cx.keep_unread(Side::Server, partial);
            out.push(format!("keep    {partial} bytes"));
        }
        cx.core_mut().lines.extend(out);
    }
    // ANCHOR_END: read_lines

    // ANCHOR: anomalies
    /// Raised at the receiver before the segment is stored: `peek` still shows the old bytes.
    #[on(event = ON_REXMIT)]
    fn rexmit(cx: &mut Cx<'_, Flow, Core>) {
        let payload = cx.packet().map(|p| text(p.payload())).unwrap_or_default();
        cx.core_mut().lines.push(format!("rexmit  {payload}"));
    }

    #[on(event = ON_ERROR, hook = RCV)]
    fn error(cx: &mut Cx<'_, Flow, Core>) {
        let kind = cx.error_kind().map_or("?", |k| k.name());
        cx.core_mut().lines.push(format!("error   {kind}"));
    }
    // ANCHOR_END: anomalies

    // ANCHOR: end
    /// What the client sent, counted once the connection is over.
    #[on(event = ON_CONN_END, hook = RCV)]
    fn end(cx: &mut Cx<'_, Flow, Core>) {
        if cx.side() != Side::Server {
            return;
        }
        let sent = cx.sent_by(Side::Client);
        let line = format!(
            "end     {}: stream_bytes={} missed_bytes={} rexmits={}",
            cx.end_reason().map_or("?", |r| r.name()),
            sent.stream_bytes,
            sent.missed_bytes,
            sent.rexmits,
        );
        cx.core_mut().lines.push(line);
    }
    // ANCHOR_END: end
}
// ANCHOR_END: all

// ANCHOR: run
/// Runs the app over a capture held in memory.
pub fn run(
    capture: Vec<u8>,
    batch: usize,
    overlap: OverlapPolicy,
) -> Result<(Report, lines::Core), RunError> {
    Runtime::builder()
        .pcap_bytes(capture)
        .batch_size(batch) // packets per receive batch: ON_CONN_NEW_DATA comes after each batch
        .overlap(overlap) // which copy wins when a retransmission overlaps held bytes
        .buffer_size(64 << 10) // reassembly bytes per side (the default)
        .progress(false)
        .build()?
        .run_with_core::<lines::App>()
}
// ANCHOR_END: run
