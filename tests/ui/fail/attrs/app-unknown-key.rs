#[mos_runtime::app(scpoe = "tcp")]
mod my_app {}

fn main() {}
