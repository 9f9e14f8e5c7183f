//! A multi-core run whose handler panics: the panic reaches the caller of `run`, on whichever
//! worker it happened (worker 0, which also reads the capture, or another), and no thread is
//! left waiting for another. A hang would show as the run not returning within the deadline.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;
use std::time::Duration;

use mos_runtime::prelude::*;
use mos_runtime::{Runtime, Subscriptions};
use mos_synth::script::{Client, Script, Server};

/// Panics in `ON_CONN_START` of the connection to this server port.
struct Boom;

const FATAL_PORT: u16 = 8080;

impl App for Boom {
    type Flow = ();
    type Core = ();
    const NAME: &'static str = "boom";
    const SUBSCRIPTIONS: Subscriptions = Subscriptions::ALL;

    fn conn_start_snd(cx: &mut Cx<'_, (), ()>) {
        if cx.server().port() == FATAL_PORT {
            panic!("boom on {}", cx.server());
        }
    }
}

/// `flows` connections of a request and a response each, one of them to [`FATAL_PORT`] at
/// position `fatal`, each from its own client port (so they spread over the workers).
fn capture(flows: u16, fatal: u16) -> Vec<u8> {
    let mut t = Script::new();
    for i in 0..flows {
        let port = if i == fatal { FATAL_PORT } else { 80 };
        let c = t.tcp(
            format!("10.0.{}.{}:{}", i / 250, i % 250 + 1, 40_000 + i).as_str(),
            format!("10.9.0.1:{port}").as_str(),
        );
        t.handshake(c);
        t.send(c, Client, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        t.send(c, Server, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    }
    t.to_pcap()
}

/// Runs `Boom` on `cores` workers in a thread and waits at most a minute for the outcome:
/// `Some(message)` for a panic that reached the caller, `None` for a normal return.
fn run(bytes: Vec<u8>, cores: usize) -> Option<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            Runtime::builder()
                .pcap_bytes(bytes)
                .cores(cores)
                .max_flows(1024)
                .buffers(64)
                .progress(false)
                .build()
                .expect("build")
                .run::<Boom>()
        }));
        let _ = tx.send(outcome.err().map(|p| {
            p.downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default()
        }));
    });
    rx.recv_timeout(Duration::from_secs(60))
        .expect("the run did not return within a minute: a worker waits for another")
}

#[test]
fn a_panicking_handler_stops_a_multi_core_run_with_its_panic() {
    // Without the fatal connection the run completes.
    assert_eq!(run(capture(40, u16::MAX), 2), None);
    // The fatal connection first, in the middle and last, on 2 and 3 workers: it lands on
    // worker 0 for some placements and on another worker for others.
    for cores in [2, 3] {
        for fatal in [0, 17, 39] {
            let message = run(capture(40, fatal), cores)
                .unwrap_or_else(|| panic!("{cores} cores, fatal {fatal}: the run returned"));
            assert!(
                message.contains(&format!("boom on 10.9.0.1:{FATAL_PORT}")),
                "{cores} cores, fatal {fatal}: {message}"
            );
        }
    }
}
