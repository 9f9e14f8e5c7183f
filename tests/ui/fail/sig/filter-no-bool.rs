#[mos_runtime::app]
mod my_app {
    use mos_runtime::prelude::*;

    #[flow_state]
    #[derive(Default)]
    pub struct Flow;

    #[event(base = ON_CONN_NEW_DATA, filter = f)]
    pub struct E;
    fn f(_cx: &FilterCx<'_, Flow>) {}

    #[on(event = E)]
    fn h(_cx: &mut Cx<'_, Flow>) {}
}

fn main() {}
