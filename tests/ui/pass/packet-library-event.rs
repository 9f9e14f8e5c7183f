//! Packet-level library events (filters taking `&PacketCx`, handled at NULL): based on ON_PKT_IN,
//! ON_ORPHAN and ON_ERROR, a library event on such a library event, handlers on them by path
//! and an app event on them, next to a flow library event handled at RCV.
use mos_runtime::prelude::*;
use mos_runtime::ude::{CxKind, UserEvent};

pub mod lib {
    use mos_runtime::prelude::*;

    /// Every UDP datagram without a flow.
    #[mos_runtime::event(base = ON_PKT_IN, filter = is_udp)]
    pub struct Udp;

    pub fn is_udp<C>(cx: &PacketCx<'_, C>) -> bool {
        cx.packet().is_some_and(|p| p.udp().is_some())
    }

    /// A UDP datagram to port 123; built on `Udp` (a bare name: another library event).
    #[mos_runtime::event(base = Udp, filter = is_ntp)]
    pub struct Ntp;

    pub fn is_ntp<C>(cx: &PacketCx<'_, C>) -> bool {
        cx.packet().is_some_and(|p| p.dst_port() == Some(123))
    }

    /// A TCP segment of no tracked connection.
    #[mos_runtime::event(base = ON_ORPHAN, filter = is_tcp_orphan)]
    pub struct TcpOrphan;

    pub fn is_tcp_orphan<C>(cx: &PacketCx<'_, C>) -> bool {
        cx.packet().is_some_and(|p| p.tcp().is_some())
    }

    /// A malformed packet (ON_ERROR at NULL).
    #[mos_runtime::event(base = ON_ERROR, filter = is_malformed)]
    pub struct Malformed;

    pub fn is_malformed<C>(cx: &PacketCx<'_, C>) -> bool {
        cx.error_kind() == Some(ErrorKind::Malformed)
    }

    /// A flow library event on ON_PKT_IN (its filter takes `&FilterCx`): handled at SND/RCV.
    #[mos_runtime::event(base = ON_PKT_IN, filter = has_payload)]
    pub struct Payload;

    pub fn has_payload<F, C>(cx: &FilterCx<'_, F, C>) -> bool {
        cx.packet().is_some_and(|p| !p.payload().is_empty())
    }
}

#[mos_runtime::app]
mod uses_lib {
    use mos_runtime::library;
    use mos_runtime::prelude::*;

    #[flow_state]
    #[derive(Default)]
    pub struct Flow;

    #[core_state]
    #[derive(Default)]
    pub struct Counts {
        pub ntp: u32,
        pub dns: u32,
    }

    #[on(event = crate::lib::Ntp, hook = NULL)]
    fn on_ntp(cx: &mut PacketCx<'_, Counts>) {
        cx.core_mut().ntp += 1;
    }

    #[on(event = crate::lib::TcpOrphan, hook = NULL)]
    fn on_orphan(_cx: &mut PacketCx<'_, Counts>) {}

    #[on(event = crate::lib::Malformed, hook = NULL)]
    fn on_malformed(_cx: &mut PacketCx<'_, Counts>) {}

    #[on(event = crate::lib::Payload, hook = RCV)]
    fn on_payload(_cx: &mut Cx<'_, Flow, Counts>) {}

    // ANCHOR: dns_query
    #[on(event = mos_runtime::library::DnsQuery, hook = NULL)]
    fn log_query(cx: &mut PacketCx<'_, Counts>) {
        if let Some(q) = library::dns_query(cx) {
            println!("{}", q.name().unwrap_or("?"));
        }
    }

    #[event(base = mos_runtime::library::DnsQuery, filter = is_aaaa)]
    pub struct AaaaQuery;

    fn is_aaaa(cx: &PacketCx<'_, Counts>) -> bool {
        library::dns_query(cx).is_some_and(|q| q.qtype() == 28)
    }

    #[on(event = AaaaQuery, hook = NULL)]
    fn on_aaaa(cx: &mut PacketCx<'_, Counts>) {
        cx.core_mut().dns += 1;
    }
    // ANCHOR_END: dns_query
}

fn main() {
    use mos_runtime::App as _;

    assert_eq!(<lib::Ntp as UserEvent>::ROOT, Event::PktIn);
    assert_eq!(<lib::Ntp as UserEvent>::CX, CxKind::PacketLevel);
    assert_eq!(<lib::TcpOrphan as UserEvent>::CX, CxKind::PacketLevel);
    assert_eq!(<lib::Malformed as UserEvent>::ROOT, Event::Error);
    assert_eq!(<lib::Payload as UserEvent>::ROOT, Event::PktIn);
    assert_eq!(<lib::Payload as UserEvent>::CX, CxKind::FlowLevel);
    assert_eq!(<mos_runtime::library::DnsQuery as UserEvent>::CX, CxKind::PacketLevel);
    assert_eq!(<mos_runtime::library::HttpRequest as UserEvent>::CX, CxKind::FlowLevel);
    assert_eq!(
        uses_lib::App::SUBSCRIPTIONS,
        mos_runtime::Subscriptions::NONE
            .with(Event::PktIn, Hook::Null)
            .with(Event::Orphan, Hook::Null)
            .with(Event::Error, Hook::Null)
            .with(Event::PktIn, Hook::Rcv)
    );
    let names: Vec<(&str, Hook)> = uses_lib::App::HANDLERS.iter().map(|h| (h.event, h.hook)).collect();
    assert_eq!(
        names,
        [
            ("Ntp", Hook::Null),
            ("TcpOrphan", Hook::Null),
            ("Malformed", Hook::Null),
            ("Payload", Hook::Rcv),
            ("DnsQuery", Hook::Null),
            ("AaaaQuery", Hook::Null),
        ]
    );
}
