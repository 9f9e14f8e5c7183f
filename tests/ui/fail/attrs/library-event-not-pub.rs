use mos_runtime::prelude::*;

fn f<F, C>(_cx: &FilterCx<'_, F, C>) -> bool {
    true
}

#[mos_runtime::event(base = ON_CONN_NEW_DATA, filter = f)]
struct Private;

fn main() {}
