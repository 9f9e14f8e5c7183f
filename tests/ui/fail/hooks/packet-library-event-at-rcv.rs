#[mos_runtime::app]
mod my_app {
    use mos_runtime::prelude::*;

    #[flow_state]
    #[derive(Default)]
    pub struct Flow;

    // DnsQuery is packet-level (base ON_PKT_IN at NULL): it is never raised at RCV.
    #[on(event = mos_runtime::library::DnsQuery, hook = RCV)]
    fn h(_cx: &mut Cx<'_, Flow>) {}

    // Nor is an app event built on it.
    #[event(base = mos_runtime::library::DnsQuery, filter = is_a)]
    pub struct AQuery;
    fn is_a(cx: &FilterCx<'_, Flow>) -> bool {
        !cx.peek(cx.side()).is_empty()
    }
    #[on(event = AQuery, hook = SND)]
    fn on_a(_cx: &mut Cx<'_, Flow>) {}
}

fn main() {}
