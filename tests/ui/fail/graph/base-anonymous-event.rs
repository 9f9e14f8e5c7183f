#[mos_runtime::app]
mod my_app {
    use mos_runtime::prelude::*;

    #[flow_state]
    #[derive(Default)]
    pub struct Flow;

    fn f(_cx: &FilterCx<'_, Flow>) -> bool { true }

    #[event(base = ON_CONN_NEW_DATA, filter = f)]
    #[on(hook = RCV)]
    fn anon(_cx: &mut Cx<'_, Flow>) {}

    #[event(base = anon, filter = f)]
    pub struct Child;

    #[on(event = Child, hook = RCV)]
    fn h(_cx: &mut Cx<'_, Flow>) {}
}

fn main() {}
