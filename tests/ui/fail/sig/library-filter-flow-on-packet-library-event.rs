use mos_runtime::prelude::*;

// `DnsQuery` is packet-level (UDP has no flow): an event built on it filters packets too.
pub fn is_long<F, C>(cx: &FilterCx<'_, F, C>) -> bool {
    cx.peek(cx.side()).len() > 100
}

#[mos_runtime::event(base = mos_runtime::library::DnsQuery, filter = is_long)]
pub struct LongQuery;

fn main() {}
