#[mos_runtime::app]
mod my_app {
    use mos_runtime::prelude::*;

    #[on(event = ON_CONN_START, hook = SND)]
    fn h(_cx: &mut Cx<'_, ()>) {}
}

fn main() {}
