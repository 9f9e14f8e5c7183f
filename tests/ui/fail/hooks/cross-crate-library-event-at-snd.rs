#[mos_runtime::app]
mod my_app {
    use mos_runtime::prelude::*;

    #[flow_state]
    #[derive(Default)]
    pub struct Flow;

    // The runtime's HttpRequest derives from ON_CONN_NEW_DATA, raised only at RCV.
    #[on(event = mos_runtime::library::HttpRequest, hook = SND)]
    fn h(_cx: &mut Cx<'_, Flow>) {}
}

fn main() {}
