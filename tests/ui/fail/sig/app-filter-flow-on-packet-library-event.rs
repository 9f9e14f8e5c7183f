#[mos_runtime::app]
mod my_app {
    use mos_runtime::prelude::*;

    #[flow_state]
    #[derive(Default)]
    pub struct Flow;

    // An app event on the packet-level DnsQuery is dispatched at NULL: its filter takes
    // `&PacketCx`.
    #[event(base = mos_runtime::library::DnsQuery, filter = is_long)]
    pub struct LongQuery;
    fn is_long(cx: &FilterCx<'_, Flow>) -> bool {
        cx.peek(cx.side()).len() > 100
    }

    #[on(event = LongQuery, hook = NULL)]
    fn h(_cx: &mut PacketCx<'_>) {}
}

fn main() {}
