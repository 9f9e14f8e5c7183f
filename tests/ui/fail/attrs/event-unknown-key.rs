#[mos_runtime::app]
mod my_app {
    use mos_runtime::prelude::*;

    #[flow_state]
    #[derive(Default)]
    pub struct Flow;

    fn f(_cx: &FilterCx<'_, Flow>) -> bool { true }

    #[event(bse = ON_CONN_NEW_DATA, filter = f)]
    pub struct E;
}

fn main() {}
