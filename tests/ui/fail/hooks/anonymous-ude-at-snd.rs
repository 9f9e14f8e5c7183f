#[mos_runtime::app]
mod my_app {
    use mos_runtime::prelude::*;

    #[flow_state]
    #[derive(Default)]
    pub struct Flow;

    fn f(_cx: &FilterCx<'_, Flow>) -> bool { true }

    #[event(base = ON_REXMIT, filter = f)]
    #[on(hook = SND)]
    fn h(_cx: &mut Cx<'_, Flow>) {}
}

fn main() {}
