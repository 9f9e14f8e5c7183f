#[mos_runtime::app]
mod elsewhere;

fn main() {}
