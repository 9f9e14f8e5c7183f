//! A handler at every (built-in event, hook) pair the runtime raises, with the context each
//! gets: `Cx` where there is a flow, `PacketCx` where there is none.
use mos_runtime::prelude::*;

#[mos_runtime::app]
mod all {
    use super::*;

    #[flow_state]
    #[derive(Default)]
    pub struct Flow;

    #[on(event = ON_PKT_IN, hook = SND)]
    fn pkt_in_snd(_cx: &mut Cx<'_, Flow>) {}
    #[on(event = ON_PKT_IN, hook = RCV)]
    fn pkt_in_rcv(_cx: &mut Cx<'_, Flow>) {}
    #[on(event = ON_PKT_IN, hook = NULL)]
    fn pkt_in_null(_cx: &mut PacketCx<'_>) {}
    #[on(event = ON_CONN_START, hook = SND)]
    fn conn_start_snd(_cx: &mut Cx<'_, Flow>) {}
    #[on(event = ON_CONN_START, hook = RCV)]
    fn conn_start_rcv(_cx: &mut Cx<'_, Flow>) {}
    #[on(event = ON_TCP_STATE_CHANGE, hook = SND)]
    fn tcp_state_change_snd(_cx: &mut Cx<'_, Flow>) {}
    #[on(event = ON_TCP_STATE_CHANGE, hook = RCV)]
    fn tcp_state_change_rcv(_cx: &mut Cx<'_, Flow>) {}
    #[on(event = ON_REXMIT, hook = RCV)]
    fn rexmit_rcv(_cx: &mut Cx<'_, Flow>) {}
    #[on(event = ON_CONN_NEW_DATA)]
    fn conn_new_data_rcv(_cx: &mut Cx<'_, Flow>) {}
    #[on(event = ON_CONN_END, hook = SND)]
    fn conn_end_snd(_cx: &mut Cx<'_, Flow>) {}
    #[on(event = ON_CONN_END, hook = RCV)]
    fn conn_end_rcv(_cx: &mut Cx<'_, Flow>) {}
    #[on(event = ON_ORPHAN)]
    fn orphan_null(_cx: &mut PacketCx<'_>) {}
    #[on(event = ON_ERROR, hook = RCV)]
    fn error_rcv(_cx: &mut Cx<'_, Flow>) {}
    #[on(event = ON_ERROR, hook = NULL)]
    fn error_null(_cx: &mut PacketCx<'_>) {}
    #[on(event = ON_TIMEOUT, hook = NULL)]
    fn timeout_null(_cx: &mut Cx<'_, Flow>) {}
}

fn main() {
    use mos_runtime::{App as _, Subscriptions};
    assert_eq!(all::App::SUBSCRIPTIONS, Subscriptions::ALL);
    assert_eq!(all::App::HANDLERS.len(), 15);
    for (i, h) in all::App::HANDLERS.iter().enumerate() {
        let event = Event::ALL.iter().find(|e| e.name() == h.event).expect("a built-in");
        assert!(event.hooks().contains(&h.hook), "{}", h.name);
        assert_eq!(all::App::EVENT_GRAPH.handlers[i].event, *event as u16);
    }
}
