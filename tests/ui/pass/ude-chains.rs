//! UDE chains three deep, generic filters, filters on flow-less events, raised child events.
use mos_runtime::prelude::*;
use mos_runtime::ude::Raise;

#[mos_runtime::app]
mod chains {
    use super::*;

    #[flow_state]
    #[derive(Default)]
    pub struct Flow {
        seen: u32,
    }

    #[event(base = ON_CONN_NEW_DATA, filter = any_data)]
    pub struct Data;
    #[event(base = Data, filter = starts_with_letter)]
    pub struct Text;
    #[event(base = Text, filter = has_newline)]
    pub struct Line;

    // A library-style generic filter works in an app too.
    fn any_data<F, C>(cx: &FilterCx<'_, F, C>) -> bool {
        !cx.peek(cx.side()).is_empty()
    }
    fn starts_with_letter(cx: &FilterCx<'_, Flow>) -> bool {
        cx.peek(cx.side()).first().is_some_and(u8::is_ascii_alphabetic)
    }
    fn has_newline(cx: &FilterCx<'_, Flow>) -> bool {
        cx.peek(cx.side()).contains(&b'\n')
    }

    #[on(event = Line)]
    fn on_line(cx: &mut Cx<'_, Flow>) {
        cx.flow_mut().seen += 1;
    }

    // Child events raised by one matcher.
    #[event(base = ON_CONN_NEW_DATA, filter = methods)]
    pub struct Method;
    fn methods(cx: &FilterCx<'_, Flow>, raise: &mut Raise) -> bool {
        let data = cx.peek(cx.side());
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
    fn on_get(_cx: &mut Cx<'_, Flow>) {}
    #[on(event = Post)]
    fn on_post(_cx: &mut Cx<'_, Flow>) {}

    // A UDE on a flow-less event: its filter takes `&PacketCx`.
    #[event(base = ON_ORPHAN, filter = is_udp)]
    pub struct UdpOrphan;
    fn is_udp(cx: &PacketCx<'_>) -> bool {
        cx.orphan_reason() == Some(OrphanReason::NonTcp)
    }
    #[on(event = UdpOrphan)]
    fn on_udp(_cx: &mut PacketCx<'_>) {}
}

fn main() {
    use mos_runtime::App as _;
    use mos_runtime::graph::EventKind;

    let g = chains::App::EVENT_GRAPH;
    let chain: Vec<(&str, Option<u16>)> = g.events[9..12].iter().map(|e| (e.name, e.base)).collect();
    assert_eq!(chain, [("Data", Some(4)), ("Text", Some(9)), ("Line", Some(10))]);
    assert!(matches!(g.events[13].kind, EventKind::User { raised: true, .. }));
    assert_eq!(chains::events::Post, mos_runtime::ude::ChildEvent(1));
    assert_eq!(g.events[15].base, Some(Event::Orphan as u16));
    assert!(chains::App::SUBSCRIPTIONS.contains(Event::Orphan, Hook::Null));
    assert!(!chains::App::SUBSCRIPTIONS.contains(Event::PktIn, Hook::Rcv));
}
