use mos_runtime::prelude::*;

#[mos_runtime::app(scope = "(tcp or udp")]
mod my_app {}

fn main() {}
