#[mos_runtime::app]
mod my_app {
    use mos_runtime::prelude::*;

    #[flow_state]
    #[derive(Default)]
    pub struct Flow;

    fn f(_cx: &FilterCx<'_, Flow>) -> bool { true }

    #[event(base = C, filter = f)]
    pub struct A;
    #[event(base = A, filter = f)]
    pub struct B;
    #[event(base = B, filter = f)]
    pub struct C;

    #[on(event = C, hook = RCV)]
    fn h(_cx: &mut Cx<'_, Flow>) {}
}

fn main() {}
