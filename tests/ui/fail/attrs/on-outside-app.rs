use mos_runtime::prelude::*;

#[mos_runtime::on(event = ON_PKT_IN, hook = RCV)]
fn h(_cx: &mut Cx<'_, ()>) {}

fn main() {}
