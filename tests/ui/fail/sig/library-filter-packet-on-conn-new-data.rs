use mos_runtime::prelude::*;

// ON_CONN_NEW_DATA always has a flow: a packet filter cannot be its library event's filter.
pub fn f<C>(cx: &PacketCx<'_, C>) -> bool {
    cx.packet().is_some()
}

#[mos_runtime::event(base = ON_CONN_NEW_DATA, filter = f)]
pub struct Data;

fn main() {}
