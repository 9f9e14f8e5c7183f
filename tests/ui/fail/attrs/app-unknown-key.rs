use mos_runtime::prelude::*;

#[mos_runtime::app(scpoe = "tcp")]
mod my_app {}

fn main() {}
