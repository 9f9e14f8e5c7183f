#[mos_runtime::app(scope = "tcp dst port http")]
mod my_app {}

fn main() {}
