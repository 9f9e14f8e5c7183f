#[mos_runtime::app]
mod my_app {
    #[core_state(merge = add)]
    #[derive(Default)]
    pub struct Core { n: u64 }

    fn add(a: &mut Core, b: &Core) { a.n += b.n; }
}

fn main() {}
