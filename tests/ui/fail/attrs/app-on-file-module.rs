use mos_runtime::prelude::*;

#[mos_runtime::app]
mod elsewhere;

fn main() {}
