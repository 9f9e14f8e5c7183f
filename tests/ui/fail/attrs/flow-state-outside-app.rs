#[mos_runtime::flow_state]
#[derive(Default)]
pub struct Flow;

fn main() {}
