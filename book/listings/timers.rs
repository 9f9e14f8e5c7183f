//! The book's "Timers and the end of a connection" listing: clients that connect and stay
//! silent, and why each connection ended. `tests/tests/book.rs` compiles it, runs it over a
//! scripted capture and compares what it prints with `timers.out`, which the book shows.

use std::time::Duration;

use mos_runtime::{Report, RunError, Runtime};

// ANCHOR: all
#[mos_runtime::app]
pub mod silent {
    use std::time::Duration;

    use mos_runtime::prelude::*;

    /// How long a client may stay silent after its SYN.
    const PATIENCE: Duration = Duration::from_secs(2);

    #[flow_state]
    #[derive(Default)]
    pub struct Flow {
        spoke: bool,
    }

    #[core_state]
    #[derive(Default)]
    pub struct Core {
        pub lines: Vec<String>,
    }

    /// `client +seconds since its SYN  what`
    fn log(cx: &mut Cx<'_, Flow, Core>, what: &str) {
        let at = cx.now().saturating_since(cx.start_time()).as_secs_f64();
        let line = format!("{:<16} +{at:>6.3}s  {what}", cx.client().to_string());
        cx.core_mut().lines.push(line);
    }

    // ANCHOR: arm
    #[on(event = ON_CONN_START, hook = SND)]
    fn arm(cx: &mut Cx<'_, Flow, Core>) {
        if !cx.set_timer(PATIENCE) {
            log(cx, "no timer: the timer wheel is full");
        }
    }

    #[on(event = ON_CONN_NEW_DATA)]
    fn first_bytes(cx: &mut Cx<'_, Flow, Core>) {
        if cx.side() == Side::Server && !cx.flow().spoke {
            cx.flow_mut().spoke = true;
            cx.cancel_timer();
            log(cx, "first bytes from the client");
        }
    }
    // ANCHOR_END: arm

    // ANCHOR: timeout
    /// The timer expired: no packet context, `cx.now()` is the deadline.
    #[on(event = ON_TIMEOUT)]
    fn still_silent(cx: &mut Cx<'_, Flow, Core>) {
        log(cx, "silent since its SYN");
    }
    // ANCHOR_END: timeout

    // ANCHOR: end
    /// Raised once per side at each hook; the client side's `RCV` comes first.
    #[on(event = ON_CONN_END, hook = RCV)]
    fn ended(cx: &mut Cx<'_, Flow, Core>) {
        if cx.side() != Side::Client {
            return;
        }
        let reason = cx.end_reason().map_or("?", |r| r.name());
        log(cx, &format!("ended: {reason}"));
    }
    // ANCHOR_END: end
}
// ANCHOR_END: all

// ANCHOR: run
/// Runs the app with a 10-second idle timeout.
pub fn run(capture: Vec<u8>) -> Result<(Report, silent::Core), RunError> {
    Runtime::builder()
        .pcap_bytes(capture)
        .idle_timeout(Duration::from_secs(10)) // no packet for 10 s: EndReason::Timeout
        .progress(false)
        .build()?
        .run_with_core::<silent::App>()
}
// ANCHOR_END: run
