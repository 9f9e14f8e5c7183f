//! The SPEC §3 example: named UDE, UDE on UDE, anonymous UDE, per-flow handler, scope.
use mos_runtime::prelude::*;

#[mos_runtime::app(scope = "tcp dst port 80")]
mod http_monitor {
    use super::*;

    #[flow_state]
    #[derive(Default)]
    pub struct Flow {
        pkts: u32,
        requests: u32,
    }

    #[event(base = ON_CONN_NEW_DATA, filter = is_http_request)]
    pub struct HttpRequest;

    fn is_http_request(cx: &FilterCx<'_, Flow>) -> bool {
        cx.peek(cx.side()).starts_with(b"GET ")
    }

    #[event(base = HttpRequest, filter = is_search)]
    pub struct SearchQuery;

    fn is_search(cx: &FilterCx<'_, Flow>) -> bool {
        cx.peek(cx.side()).starts_with(b"GET /search")
    }

    #[on(event = ON_PKT_IN, hook = RCV)]
    fn count(cx: &mut Cx<'_, Flow>) {
        cx.flow_mut().pkts += 1;
    }

    #[on(event = HttpRequest, hook = RCV)]
    fn log_request(cx: &mut Cx<'_, Flow>) {
        cx.flow_mut().requests += 1;
        cx.enable(handlers::log_search);
    }

    #[on(event = SearchQuery, hook = RCV, per_flow)]
    fn log_search(cx: &mut Cx<'_, Flow>) {
        cx.disable(handlers::log_search);
    }

    #[event(base = ON_CONN_NEW_DATA, filter = is_tls_client_hello)]
    #[on(hook = RCV)]
    fn on_client_hello(_cx: &mut Cx<'_, Flow>) {}

    fn is_tls_client_hello(cx: &FilterCx<'_, Flow>) -> bool {
        cx.peek(cx.side()).first() == Some(&0x16)
    }
}

fn main() {
    use http_monitor::App as A;
    use mos_runtime::{App as _, HandlerId, Subscriptions};

    assert_eq!(A::NAME, "http_monitor");
    let names: Vec<(&str, &str)> = A::HANDLERS.iter().map(|h| (h.name, h.event)).collect();
    assert_eq!(
        names,
        [
            ("count", "ON_PKT_IN"),
            ("log_request", "HttpRequest"),
            ("log_search", "SearchQuery"),
            ("on_client_hello", "ON_CONN_NEW_DATA[is_tls_client_hello]"),
        ]
    );
    assert!(A::HANDLERS[2].per_flow && !A::HANDLERS[1].per_flow);
    assert_eq!(http_monitor::handlers::log_search, HandlerId(2));
    assert_eq!(A::INITIAL_ENABLED, u128::MAX & !(1 << 2));
    assert_eq!(
        A::SUBSCRIPTIONS,
        Subscriptions::NONE.with(Event::PktIn, Hook::Rcv).with(Event::ConnNewData, Hook::Rcv)
    );

    let graph = A::EVENT_GRAPH;
    let search = &graph.events[10];
    assert_eq!((search.name, search.base), ("SearchQuery", Some(9)));
    assert_eq!(graph.events[9].base, Some(Event::ConnNewData as u16));
    let dot = A::event_graph_dot();
    assert!(dot.starts_with("digraph \"http_monitor\" {"), "{dot}");
    assert!(dot.contains("e9 -> e10;"), "{dot}");
    assert!(dot.contains("log_search @ RCV (per flow)"), "{dot}");
}
