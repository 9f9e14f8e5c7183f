#[mos_runtime::app]
mod my_app {
    use mos_runtime::prelude::*;

    #[flow_state]
    #[derive(Default)]
    pub struct Flow;

    pub struct App;
}

fn main() {}
