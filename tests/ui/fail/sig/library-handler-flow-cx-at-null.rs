#[mos_runtime::app]
mod my_app {
    use mos_runtime::prelude::*;

    #[flow_state]
    #[derive(Default)]
    pub struct Flow;

    // At NULL a library event has no flow (DnsQuery: UDP datagrams).
    #[on(event = mos_runtime::library::DnsQuery, hook = NULL)]
    fn h(_cx: &mut Cx<'_, Flow>) {}
}

fn main() {}
