use mos_runtime::prelude::*;

#[mos_runtime::app]
mod my_app {
    use super::*;

    #[flow_state]
    #[derive(Default)]
    pub struct Flow;

    #[on(event = ON_PKT_IN)]
    fn h(_cx: &mut Cx<'_, Flow>) {}
}

fn main() {}
