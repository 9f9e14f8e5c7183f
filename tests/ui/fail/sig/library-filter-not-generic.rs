use mos_runtime::prelude::*;

// A library filter cannot know the app's core type: it must be generic over it.
pub fn is_udp(cx: &PacketCx<'_>) -> bool {
    cx.packet().is_some_and(|p| p.udp().is_some())
}

#[mos_runtime::event(base = ON_PKT_IN, filter = is_udp)]
pub struct Udp;

fn main() {}
