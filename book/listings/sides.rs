//! The book's "Sides and directions" listing: what `cx.side()`, `cx.dir()` and `cx.peek(..)`
//! report at each hook. `tests/tests/book.rs` compiles it, runs it over a small conversation and
//! compares what it prints with `sides.out`, which the book shows.

// ANCHOR: app
#[mos_runtime::app]
pub mod sides {
    use mos_runtime::prelude::*;

    #[flow_state]
    #[derive(Default)]
    pub struct Flow;

    /// The lines the handlers write, in event order.
    #[core_state]
    #[derive(Default)]
    pub struct Core {
        pub lines: Vec<String>,
    }

    fn text(bytes: &[u8]) -> String {
        format!("{:?}", String::from_utf8_lossy(bytes))
    }

    #[on(event = ON_PKT_IN, hook = SND)]
    fn packet_snd(cx: &mut Cx<'_, Flow, Core>) {
        log_data_packet(cx);
    }

    #[on(event = ON_PKT_IN, hook = RCV)]
    fn packet_rcv(cx: &mut Cx<'_, Flow, Core>) {
        log_data_packet(cx);
    }

    /// Packets that carry payload, seen from the hook's side.
    fn log_data_packet(cx: &mut Cx<'_, Flow, Core>) {
        let payload = match cx.packet() {
            Some(p) if !p.payload().is_empty() => text(p.payload()),
            _ => return,
        };
        let line = format!(
            "ON_PKT_IN@{}         side={:<6} dir={:?}  payload={payload}",
            cx.hook(),
            cx.side(),
            cx.dir(),
        );
        cx.core_mut().lines.push(line);
    }

    /// New bytes in a side's receive buffer: the bytes its peer sent.
    #[on(event = ON_CONN_NEW_DATA, hook = RCV)]
    fn new_data(cx: &mut Cx<'_, Flow, Core>) {
        let line = format!(
            "ON_CONN_NEW_DATA@RCV  side={:<6} dir={:?}  peek(Side::Server)={}  peek(Side::Client)={}",
            cx.side(),
            cx.dir(),
            text(cx.peek(Side::Server)),
            text(cx.peek(Side::Client)),
        );
        cx.core_mut().lines.push(line);
    }

    /// What each endpoint sent, counted once at the end.
    #[on(event = ON_CONN_END, hook = RCV)]
    fn end(cx: &mut Cx<'_, Flow, Core>) {
        if cx.side() != Side::Server {
            return;
        }
        let (client, server) = (cx.sent_by(Side::Client), cx.sent_by(Side::Server));
        let line = format!(
            "ON_CONN_END@RCV       sent_by(Side::Client).stream_bytes={}  sent_by(Side::Server).stream_bytes={}",
            client.stream_bytes, server.stream_bytes,
        );
        cx.core_mut().lines.push(line);
    }
}
// ANCHOR_END: app
