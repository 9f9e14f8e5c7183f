use mos_runtime::prelude::*;

/// A flow library event on ON_PKT_IN: its filter takes `&FilterCx`, so it is raised at SND and
/// RCV, not at NULL.
#[mos_runtime::event(base = ON_PKT_IN, filter = has_payload)]
pub struct Payload;

pub fn has_payload<F, C>(cx: &FilterCx<'_, F, C>) -> bool {
    cx.packet().is_some_and(|p| !p.payload().is_empty())
}

#[mos_runtime::app]
mod my_app {
    use mos_runtime::prelude::*;

    #[on(event = super::Payload, hook = NULL)]
    fn h(_cx: &mut PacketCx<'_>) {}

    // HttpRequest derives from ON_CONN_NEW_DATA, never raised at NULL.
    #[on(event = mos_runtime::library::HttpRequest, hook = NULL)]
    fn h2(_cx: &mut PacketCx<'_>) {}
}

fn main() {}
