#[mos_runtime::app]
mod my_app {
    use mos_runtime::prelude::*;

    #[flow_state]
    #[derive(Default)]
    pub struct Flow;

    #[on(event = ON_CONN_START, hook = SND)]
    #[on(event = ON_CONN_START, hook = RCV)]
    fn h(_cx: &mut Cx<'_, Flow>) {}
}

fn main() {}
