//! The book's "Writing an app" listing: every part of the DSL in one app. `tests/tests/book.rs`
//! compiles it, runs it over a scripted capture and compares what it prints with `shop.out`,
//! which the book shows.

use mos_runtime::{Report, RunError, Runtime};

// ANCHOR: all
// ANCHOR: module
#[mos_runtime::app(scope = "tcp dst port 80")]
pub mod shop {
    use mos_runtime::prelude::*;
    // ANCHOR_END: module

    // ANCHOR: flow_state
    /// Per connection: made with `Default` when its SYN arrives, dropped when it ends.
    #[flow_state]
    #[derive(Default)]
    pub struct Flow {
        /// Requests not answered yet.
        outstanding: u32,
    }
    // ANCHOR_END: flow_state

    // ANCHOR: core_state
    /// Per worker core: the output and the totals, merged at the end of a run.
    #[core_state(merge = merge)]
    #[derive(Default)]
    pub struct Core {
        pub lines: Vec<String>,
        pub gets: u64,
        pub posts: u64,
    }

    fn merge(core: &mut Core, other: Core) {
        core.lines.extend(other.lines);
        core.gets += other.gets;
        core.posts += other.posts;
    }
    // ANCHOR_END: core_state

    // ANCHOR: handler
    #[on(event = ON_CONN_START, hook = SND)]
    fn connected(cx: &mut Cx<'_, Flow, Core>) {
        let line = format!("{} -> {}  connected", cx.client(), cx.server());
        cx.core_mut().lines.push(line);
    }
    // ANCHOR_END: handler

    // ANCHOR: event
    /// What the client sent starts with a complete HTTP request line.
    #[event(base = ON_CONN_NEW_DATA, filter = is_request)]
    pub struct Request;

    fn is_request(cx: &FilterCx<'_, Flow, Core>) -> bool {
        cx.side() == Side::Server && request_line(cx.peek(Side::Server)).is_some()
    }

    #[on(event = Request, hook = RCV)]
    fn request(cx: &mut Cx<'_, Flow, Core>) {
        let first = request_line(cx.peek(Side::Server)).map(text);
        let line = format!("{}  request   {}", cx.client(), first.unwrap_or_default());
        cx.core_mut().lines.push(line);
        cx.flow_mut().outstanding += 1;
        cx.enable(handlers::response);
    }
    // ANCHOR_END: event

    // ANCHOR: chain
    /// A request for the cart: an event built on another event.
    #[event(base = Request, filter = is_cart)]
    pub struct CartRequest;

    fn is_cart(cx: &FilterCx<'_, Flow, Core>) -> bool {
        request_line(cx.peek(Side::Server)).is_some_and(|l| target(l).starts_with(b"/cart"))
    }

    // ON_CONN_NEW_DATA is raised at RCV only, so the hook may be left out.
    #[on(event = CartRequest)]
    fn cart(cx: &mut Cx<'_, Flow, Core>) {
        let line = format!("{}  cart", cx.client());
        cx.core_mut().lines.push(line);
    }
    // ANCHOR_END: chain

    // ANCHOR: raised
    /// One matcher, several child events: the filter raises the children it found.
    #[event(base = Request, filter = method)]
    pub struct Method;

    fn method(cx: &FilterCx<'_, Flow, Core>, raise: &mut Raise) -> bool {
        let data = cx.peek(Side::Server);
        if data.starts_with(b"GET ") {
            raise.raise(events::Get);
        }
        if data.starts_with(b"POST ") {
            raise.raise(events::Post);
        }
        raise.any()
    }

    #[event(base = Method, raised)]
    pub struct Get;

    #[event(base = Method, raised)]
    pub struct Post;

    #[on(event = Get)]
    fn count_get(cx: &mut Cx<'_, Flow, Core>) {
        cx.core_mut().gets += 1;
    }

    #[on(event = Post)]
    fn count_post(cx: &mut Cx<'_, Flow, Core>) {
        cx.core_mut().posts += 1;
    }
    // ANCHOR_END: raised

    // ANCHOR: per_flow
    /// Responses. The event has no name: it is declared on its only handler. The handler is
    /// `per_flow`: off on every connection until `request` switches it on, and it switches
    /// itself off once every request of the connection was answered.
    #[event(base = ON_CONN_NEW_DATA, filter = is_response)]
    #[on(hook = RCV, per_flow)]
    fn response(cx: &mut Cx<'_, Flow, Core>) {
        let status = status_line(cx.peek(Side::Client)).map(text);
        let line = format!("{}  response  {}", cx.client(), status.unwrap_or_default());
        cx.core_mut().lines.push(line);
        let flow = cx.flow_mut();
        flow.outstanding = flow.outstanding.saturating_sub(1);
        if flow.outstanding == 0 {
            cx.disable(handlers::response);
        }
    }

    fn is_response(cx: &FilterCx<'_, Flow, Core>) -> bool {
        cx.side() == Side::Client && status_line(cx.peek(Side::Client)).is_some()
    }
    // ANCHOR_END: per_flow

    // ANCHOR: helpers
    /// The request line at the start of `data` (without its CRLF), once it is complete.
    fn request_line(data: &[u8]) -> Option<&[u8]> {
        let line = first_line(data)?;
        let methods: [&[u8]; 4] = [b"GET ", b"POST ", b"HEAD ", b"PUT "];
        methods.iter().any(|m| line.starts_with(m)).then_some(line)
    }

    /// The status line at the start of `data`, once it is complete.
    fn status_line(data: &[u8]) -> Option<&[u8]> {
        first_line(data).filter(|l| l.starts_with(b"HTTP/1."))
    }

    fn first_line(data: &[u8]) -> Option<&[u8]> {
        let end = data.windows(2).position(|w| w == b"\r\n")?;
        data.get(..end)
    }

    /// The request target: the second word of the request line.
    fn target(line: &[u8]) -> &[u8] {
        line.split(|&b| b == b' ').nth(1).unwrap_or_default()
    }

    fn text(bytes: &[u8]) -> String {
        String::from_utf8_lossy(bytes).into_owned()
    }
    // ANCHOR_END: helpers
}
// ANCHOR_END: all

// ANCHOR: run
/// Runs the app over a capture held in memory: the report and the merged core state.
pub fn run(capture: Vec<u8>) -> Result<(Report, shop::Core), RunError> {
    Runtime::builder()
        .pcap_bytes(capture) // or .pcap("trace.pcap")?
        .batch_size(1) // ON_CONN_NEW_DATA after every packet
        .progress(false)
        .build()?
        .run_with_core::<shop::App>()
}
// ANCHOR_END: run
