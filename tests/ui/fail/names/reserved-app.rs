use mos_runtime::prelude::*;

#[mos_runtime::app]
mod my_app {
    use super::*;

    #[flow_state]
    #[derive(Default)]
    pub struct Flow;

    pub struct App;
}

fn main() {}
