#[mos_runtime::app]
mod my_app {
    use mos_runtime::prelude::*;

    #[flow_state]
    #[derive(Default)]
    pub struct Flow;

    #[core_state]
    #[derive(Default)]
    pub struct Core;

    #[on(event = ON_CONN_START, hook = SND)]
    fn h(_cx: &mut Cx<'_, Flow>) {}
}

fn main() {}
