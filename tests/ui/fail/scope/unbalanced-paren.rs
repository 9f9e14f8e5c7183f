#[mos_runtime::app(scope = "(tcp or udp")]
mod my_app {}

fn main() {}
