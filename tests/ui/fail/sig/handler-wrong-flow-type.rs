#[mos_runtime::app]
mod my_app {
    use mos_runtime::prelude::*;

    #[flow_state]
    #[derive(Default)]
    pub struct Flow;

    #[derive(Default)]
    pub struct Other;

    #[on(event = ON_CONN_START, hook = SND)]
    fn h(_cx: &mut Cx<'_, Other>) {}
}

fn main() {}
