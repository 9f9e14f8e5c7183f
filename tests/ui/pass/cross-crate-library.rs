//! An app in another crate (this one) building on the runtime's UDE library by path.
use mos_runtime::library::{HttpRequest, TlsClientHello};
use mos_runtime::prelude::*;
use mos_runtime::ude::UserEvent;

#[mos_runtime::app(scope = "tcp")]
mod web {
    use mos_runtime::prelude::*;

    #[flow_state]
    #[derive(Default)]
    pub struct Flow {
        requests: u32,
    }

    #[on(event = mos_runtime::library::HttpRequest, hook = RCV)]
    fn on_request(cx: &mut Cx<'_, Flow>) {
        cx.flow_mut().requests += 1;
    }

    #[event(base = mos_runtime::library::HttpRequest, filter = is_search)]
    pub struct Search;
    fn is_search(cx: &FilterCx<'_, Flow>) -> bool {
        cx.peek(cx.side()).starts_with(b"GET /search")
    }
    #[on(event = Search, hook = RCV)]
    fn on_search(_cx: &mut Cx<'_, Flow>) {}

    #[on(event = mos_runtime::library::TlsClientHello, hook = RCV, per_flow)]
    fn on_hello(_cx: &mut Cx<'_, Flow>) {}
}

fn main() {
    use mos_runtime::App as _;

    assert_eq!(<HttpRequest as UserEvent>::ROOT, Event::ConnNewData);
    assert_eq!(
        web::App::SUBSCRIPTIONS,
        mos_runtime::Subscriptions::NONE.with(Event::ConnNewData, Hook::Rcv)
    );
    let events: Vec<&str> = web::App::HANDLERS.iter().map(|h| h.event).collect();
    assert_eq!(
        events,
        ["HttpRequest", "Search", <TlsClientHello as UserEvent>::NAME]
    );
    let dot = web::App::event_graph_dot();
    assert!(
        dot.contains("HttpRequest\\nfilter: is_http_request"),
        "{dot}"
    );
    assert_eq!(web::App::INITIAL_ENABLED, u128::MAX & !(1 << 2));
}
