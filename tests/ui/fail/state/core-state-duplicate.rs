#[mos_runtime::app]
mod my_app {
    use mos_runtime::prelude::*;

    #[core_state]
    #[derive(Default)]
    pub struct Core;

    #[core_state]
    #[derive(Default)]
    pub struct Core2;
}

fn main() {}
