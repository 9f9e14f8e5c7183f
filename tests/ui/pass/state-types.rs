//! `#[core_state(merge = ..)]`, a type alias as flow state, attribute paths, hooks by path.
use mos_runtime::prelude::*;

#[mos_runtime::app]
mod stats {
    use super::*;

    #[mos_runtime::flow_state]
    pub type Flow = u64;

    #[core_state(merge = add)]
    #[derive(Default, Debug, PartialEq)]
    pub struct Totals {
        pub packets: u64,
    }

    fn add(into: &mut Totals, other: Totals) {
        into.packets += other.packets;
    }

    #[mos_runtime::on(event = mos_runtime::prelude::ON_PKT_IN, hook = Hook::Rcv)]
    fn count(cx: &mut Cx<'_, Flow, Totals>) {
        *cx.flow_mut() += 1;
        cx.core_mut().packets += 1;
    }

    #[on(event = ON_ORPHAN)]
    fn orphan(cx: &mut PacketCx<'_, Totals>) {
        cx.core_mut().packets += 1;
    }
}

#[mos_runtime::app]
mod flowless {
    use super::*;

    // No #[flow_state]: only flow-less events are handled.
    #[on(event = ON_ERROR, hook = NULL)]
    fn on_error(_cx: &mut PacketCx<'_>) {}
}

fn main() {
    use mos_runtime::{App, CoreState};

    let mut a = stats::Totals { packets: 2 };
    a.merge(stats::Totals { packets: 3 });
    assert_eq!(a, stats::Totals { packets: 5 });
    fn flow_of<A: App>() -> &'static str {
        std::any::type_name::<A::Flow>()
    }
    assert_eq!(flow_of::<stats::App>(), "u64");
    assert_eq!(flow_of::<flowless::App>(), "()");
    assert_eq!(<flowless::App as App>::HANDLERS[0].name, "on_error");
}
