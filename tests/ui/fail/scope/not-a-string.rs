#[mos_runtime::app(scope = 80)]
mod my_app {}

fn main() {}
