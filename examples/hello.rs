use mos_runtime::prelude::*;
use mos_runtime::{RunError, Runtime, library};

#[mos_runtime::app(scope = "tcp dst port 80")]
mod hello {
    use super::*;

    #[flow_state]
    #[derive(Default)]
    pub struct Flow;

    /// A library event: complete HTTP requests at the start of what the client sent.
    #[on(event = mos_runtime::library::HttpRequest, hook = RCV)]
    fn request(cx: &mut Cx<'_, Flow>) {
        for req in library::http_requests(cx) {
            let host = req.host_str().unwrap_or("-");
            println!("{} {host}{}", cx.client(), req.uri_str().unwrap_or("?"));
        }
    }
}

fn main() -> Result<(), RunError> {
    let trace = "examples/data/sample.pcap";
    let report = Runtime::builder()
        .pcap(trace)?
        .build()?
        .run::<hello::App>()?;
    println!("{report}");
    Ok(())
}
