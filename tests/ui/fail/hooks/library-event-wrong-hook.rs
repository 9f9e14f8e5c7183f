use mos_runtime::prelude::*;

/// A library event rooted at ON_CONN_NEW_DATA (raised only at RCV).
#[mos_runtime::event(base = ON_CONN_NEW_DATA, filter = is_data)]
pub struct Data;

pub fn is_data<F, C>(_cx: &FilterCx<'_, F, C>) -> bool {
    true
}

#[mos_runtime::app]
mod my_app {
    use super::*;

    #[flow_state]
    #[derive(Default)]
    pub struct Flow;

    #[on(event = super::Data, hook = SND)]
    fn h(_cx: &mut Cx<'_, Flow>) {}
}

fn main() {}
