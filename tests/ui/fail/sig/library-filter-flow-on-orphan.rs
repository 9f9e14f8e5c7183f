use mos_runtime::prelude::*;

// ON_ORPHAN has no flow: its library events are packet-level, their filters take `&PacketCx`.
pub fn f<F, C>(_cx: &FilterCx<'_, F, C>) -> bool {
    true
}

#[mos_runtime::event(base = ON_ORPHAN, filter = f)]
pub struct OrphanEvent;

fn main() {}
