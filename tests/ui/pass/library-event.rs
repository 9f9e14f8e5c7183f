//! Library events (`#[mos_runtime::event]` on a `pub struct` outside any app) used by path, as
//! an app in another crate would, including a library event built on a library event.
use mos_runtime::prelude::*;

pub mod lib {
    use mos_runtime::prelude::*;

    /// Any new data.
    #[mos_runtime::event(base = ON_CONN_NEW_DATA, filter = has_data)]
    pub struct Data;

    pub fn has_data<F, C>(cx: &FilterCx<'_, F, C>) -> bool {
        !cx.peek(cx.side()).is_empty()
    }

    /// Data that looks like HTTP; built on `Data` (a bare name: another library event).
    #[mos_runtime::event(base = Data, filter = is_http)]
    pub struct Http;

    pub fn is_http<F, C>(cx: &FilterCx<'_, F, C>) -> bool {
        cx.peek(cx.side()).starts_with(b"HTTP/")
    }

    /// A connection start event.
    #[mos_runtime::event(base = ON_CONN_START, filter = always)]
    pub struct Start;

    pub fn always<F, C>(_cx: &FilterCx<'_, F, C>) -> bool {
        true
    }
}

#[mos_runtime::app]
mod uses_lib {
    use super::*;

    #[flow_state]
    #[derive(Default)]
    pub struct Flow;

    #[on(event = super::lib::Http, hook = RCV)]
    fn on_http(_cx: &mut Cx<'_, Flow>) {}

    #[event(base = crate::lib::Data, filter = is_long)]
    pub struct LongData;
    fn is_long(cx: &FilterCx<'_, Flow>) -> bool {
        cx.peek(cx.side()).len() > 100
    }
    #[on(event = LongData, hook = RCV)]
    fn on_long(_cx: &mut Cx<'_, Flow>) {}

    #[on(event = crate::lib::Start, hook = SND)]
    fn on_start(_cx: &mut Cx<'_, Flow>) {}
}

fn main() {
    use mos_runtime::App as _;
    use mos_runtime::ude::UserEvent;

    assert_eq!(<lib::Http as UserEvent>::ROOT, Event::ConnNewData);
    assert_eq!(<lib::Http as UserEvent>::NAME, "Http");
    assert_eq!(
        uses_lib::App::SUBSCRIPTIONS,
        mos_runtime::Subscriptions::NONE.with(Event::ConnNewData, Hook::Rcv).with(Event::ConnStart, Hook::Snd)
    );
    let names: Vec<&str> = uses_lib::App::HANDLERS.iter().map(|h| h.event).collect();
    assert_eq!(names, ["Http", "LongData", "Start"]);
    let g = uses_lib::App::EVENT_GRAPH;
    // Library nodes come after the app's own events, based on their root built-in.
    let lib_nodes: Vec<(&str, Option<u16>)> = g.events[10..].iter().map(|e| (e.name, e.base)).collect();
    assert_eq!(lib_nodes, [("Http", Some(4)), ("Data", Some(4)), ("Start", Some(1))]);
}
