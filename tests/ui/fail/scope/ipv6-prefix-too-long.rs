#[mos_runtime::app(scope = "net 2001:db8::/129")]
mod my_app {}

fn main() {}
