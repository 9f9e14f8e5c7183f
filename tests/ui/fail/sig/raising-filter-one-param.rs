#[mos_runtime::app]
mod my_app {
    use mos_runtime::prelude::*;

    #[flow_state]
    #[derive(Default)]
    pub struct Flow;

    #[event(base = ON_CONN_NEW_DATA, filter = m)]
    pub struct Matcher;
    fn m(_cx: &FilterCx<'_, Flow>) -> bool { true }

    #[event(base = Matcher, raised)]
    pub struct Found;

    #[on(event = Found)]
    fn h(_cx: &mut Cx<'_, Flow>) {}
}

fn main() {}
