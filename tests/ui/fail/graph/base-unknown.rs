#[mos_runtime::app]
mod my_app {
    use mos_runtime::prelude::*;

    #[flow_state]
    #[derive(Default)]
    pub struct Flow;

    #[event(base = ON_CONN_NEW_DATA, filter = is_http)]
    pub struct HttpRequest;
    fn is_http(_cx: &FilterCx<'_, Flow>) -> bool { true }

    #[event(base = HttpReqest, filter = is_http)]
    pub struct Search;

    #[on(event = Search, hook = RCV)]
    fn h(_cx: &mut Cx<'_, Flow>) {}
}

fn main() {}
