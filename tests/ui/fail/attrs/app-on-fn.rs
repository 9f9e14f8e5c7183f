#[mos_runtime::app]
fn not_a_module() {}

fn main() {}
