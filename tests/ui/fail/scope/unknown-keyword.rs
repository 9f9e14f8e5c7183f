#[mos_runtime::app(scope = "tcp dst prot 80")]
mod my_app {}

fn main() {}
