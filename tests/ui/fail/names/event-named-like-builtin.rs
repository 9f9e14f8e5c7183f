#[mos_runtime::app]
mod my_app {
    use mos_runtime::prelude::*;

    #[flow_state]
    #[derive(Default)]
    pub struct Flow;

    fn f(_cx: &FilterCx<'_, Flow>) -> bool { true }

    #[event(base = ON_CONN_START, filter = f)]
    #[allow(non_camel_case_types)]
    pub struct ON_CONN_NEW_DATA;
}

fn main() {}
