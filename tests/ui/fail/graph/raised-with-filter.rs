#[mos_runtime::app]
mod my_app {
    use mos_runtime::prelude::*;

    #[flow_state]
    #[derive(Default)]
    pub struct Flow;

    fn m(_cx: &FilterCx<'_, Flow>, _raise: &mut Raise) -> bool { true }

    #[event(base = ON_CONN_NEW_DATA, filter = m)]
    pub struct Matcher;

    #[event(base = Matcher, raised, filter = m)]
    pub struct Found;

    #[on(event = Found, hook = RCV)]
    fn h(_cx: &mut Cx<'_, Flow>) {}
}

fn main() {}
