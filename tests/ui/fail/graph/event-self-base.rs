#[mos_runtime::app]
mod my_app {
    use mos_runtime::prelude::*;

    #[flow_state]
    #[derive(Default)]
    pub struct Flow;

    fn f(_cx: &FilterCx<'_, Flow>) -> bool { true }

    #[event(base = A, filter = f)]
    pub struct A;

    #[on(event = A, hook = RCV)]
    fn h(_cx: &mut Cx<'_, Flow>) {}
}

fn main() {}
