#[mos_runtime::app]
mod my_app {
    use mos_runtime::prelude::*;

    #[on(event = ON_ORPHAN, hook = RCV)]
    fn h(_cx: &mut PacketCx<'_>) {}
}

fn main() {}
