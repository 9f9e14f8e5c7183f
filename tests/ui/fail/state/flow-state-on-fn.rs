use mos_runtime::prelude::*;

#[mos_runtime::app]
mod my_app {
    use super::*;

    #[flow_state]
    fn flow() {}
}

fn main() {}
