#[mos_runtime::app(scope = "net 10.1.2.3/8")]
mod my_app {}

fn main() {}
