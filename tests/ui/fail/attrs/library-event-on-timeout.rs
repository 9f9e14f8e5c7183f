use mos_runtime::prelude::*;

pub fn f<F, C>(_cx: &FilterCx<'_, F, C>) -> bool {
    true
}

// ON_TIMEOUT fires for the app's own timers, at NULL with a flow: not a library event's base.
#[mos_runtime::event(base = ON_TIMEOUT, filter = f)]
pub struct Idle;

fn main() {}
