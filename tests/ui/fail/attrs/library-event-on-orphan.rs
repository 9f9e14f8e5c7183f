use mos_runtime::prelude::*;

pub fn f<F, C>(_cx: &FilterCx<'_, F, C>) -> bool {
    true
}

#[mos_runtime::event(base = ON_ORPHAN, filter = f)]
pub struct OrphanEvent;

fn main() {}
