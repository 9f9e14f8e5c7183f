//! A private app module (`mod`, not `pub mod`) whose `App` is only named as a type argument of a
//! generic call: nothing the macro generates, and none of the user's items, is reported as dead
//! code. Every kind of item the macro reads is here: flow and core state with `merge` and
//! `fork`, a named event and an anonymous one, raised child events, a per-flow handler, a
//! library event by path (flow and packet-level) and a scope.
#![deny(dead_code)]

#[mos_runtime::app(scope = "tcp or udp")]
mod private_app {
    use mos_runtime::prelude::*;

    #[flow_state]
    #[derive(Default)]
    pub struct Flow {
        packets: u32,
    }

    #[core_state(merge = add, fork = same)]
    #[derive(Default)]
    pub struct Totals {
        packets: u64,
        pub gets: u64,
        pub queries: u64,
    }

    fn add(into: &mut Totals, other: Totals) {
        into.packets += other.packets;
        into.gets += other.gets;
        into.queries += other.queries;
    }

    fn same(_first: &Totals) -> Totals {
        Totals::default()
    }

    #[event(base = ON_CONN_NEW_DATA, filter = methods)]
    struct Method;

    fn methods(cx: &FilterCx<'_, Flow, Totals>, raise: &mut Raise) -> bool {
        if cx.peek(cx.side()).starts_with(b"GET ") {
            raise.raise(events::Get);
        }
        raise.any()
    }

    #[event(base = Method, raised)]
    struct Get;

    #[on(event = Get, hook = RCV)]
    fn on_get(cx: &mut Cx<'_, Flow, Totals>) {
        cx.core_mut().gets += 1;
    }

    #[on(event = ON_PKT_IN, hook = RCV)]
    fn count(cx: &mut Cx<'_, Flow, Totals>) {
        cx.flow_mut().packets += 1;
        let n = u64::from(cx.flow().packets);
        cx.core_mut().packets = cx.core().packets.max(n);
    }

    #[event(base = ON_CONN_NEW_DATA, filter = has_data)]
    #[on(hook = RCV, per_flow)]
    fn on_data(_cx: &mut Cx<'_, Flow, Totals>) {}

    fn has_data(cx: &FilterCx<'_, Flow, Totals>) -> bool {
        !cx.peek(cx.side()).is_empty()
    }

    #[on(event = mos_runtime::library::HttpRequest, hook = RCV)]
    fn on_request(cx: &mut Cx<'_, Flow, Totals>) {
        cx.enable(handlers::on_data);
    }

    #[on(event = mos_runtime::library::DnsQuery, hook = NULL)]
    fn on_query(cx: &mut PacketCx<'_, Totals>) {
        cx.core_mut().queries += 1;
    }
}

/// The app is only ever a type argument.
fn app_name<A: mos_runtime::App>() -> &'static str {
    A::NAME
}

fn main() {
    use mos_synth::script::{Client, Script};

    assert_eq!(app_name::<private_app::App>(), "private_app");
    let mut query = Vec::new();
    mos_synth::dns::write_query(&mut query, 1, "example.org", 1).expect("query");
    let mut t = Script::new();
    t.udp("10.0.0.1:5300", "10.0.0.53:53", &query);
    let c = t.tcp("10.0.0.1:40000", "10.0.0.2:80");
    t.handshake(c).send(c, Client, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n").close(c);
    let (report, totals) = mos_runtime::Runtime::builder()
        .pcap_bytes(t.to_pcap())
        .progress(false)
        .build()
        .and_then(|rt| rt.run_with_core::<private_app::App>())
        .expect("run");
    assert_eq!((totals.gets, totals.queries), (1, 1));
    let calls = |name: &str| report.handlers.iter().find(|h| h.name == name).map_or(0, |h| h.count);
    assert_eq!(calls("on_request"), 1);
    assert_eq!(calls("on_query"), 1);
}
