#[mos_runtime::app]
mod my_app {
    use mos_runtime::prelude::*;

    #[flow_state]
    #[derive(Default)]
    pub struct Flow;

    #[on(event = ON_CONN_START, hook = SND)]
    fn h(_cx: &mut PacketCx<'_>) {}
}

fn main() {}
