use mos_runtime::prelude::*;

// `HttpRequest` has a flow: an event built on it takes the flow view.
pub fn is_udp<C>(cx: &PacketCx<'_, C>) -> bool {
    cx.packet().is_some_and(|p| p.udp().is_some())
}

#[mos_runtime::event(base = mos_runtime::library::HttpRequest, filter = is_udp)]
pub struct Odd;

fn main() {}
