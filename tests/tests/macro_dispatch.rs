//! Behaviour of apps built with `#[mos_runtime::app]`, replayed over scripted captures: the exact
//! handler call sequence, filter call counts (at most once per occurrence, zero when nothing is
//! subscribed below), per-flow disable/enable, UDE chains three deep, raised child events and
//! library events, flow and packet-level (`library::DnsQuery` over the public captures, checked
//! against tshark).

use std::cell::Cell;

use mos_runtime::Runtime;
use mos_runtime::report::Report;
use mos_synth::script::{Client, Script, Server};
use mos_tests::traces::{public_captures, public_dir, tshark_available};

/// Replay `pcap` through app `A`, returning the report and the app's core state. Receive batches
/// of one packet, so `ON_CONN_NEW_DATA` follows each data packet (not the end of a batch).
fn replay<A: mos_runtime::App>(pcap: Vec<u8>) -> (Report, A::Core) {
    Runtime::builder()
        .pcap_bytes(pcap)
        .batch_size(1)
        .build()
        .and_then(|rt| rt.run_with_core::<A>())
        .unwrap_or_else(|e| panic!("run failed: {e}"))
}

fn handler_calls(report: &Report, name: &str) -> u64 {
    report
        .handlers
        .iter()
        .find(|c| c.name == name)
        .map_or(0, |c| c.count)
}

/// One HTTP-like exchange: handshake, a request from the client, a response, close.
fn http_exchange(request: &[u8], response: &[u8]) -> Vec<u8> {
    let mut s = Script::new();
    let c = s.tcp("10.0.0.1:40000", "10.0.0.2:80");
    s.handshake(c)
        .send(c, Client, request)
        .send(c, Server, response)
        .close(c);
    s.to_pcap()
}

thread_local! {
    /// Filter calls, per filter, for the current test's thread (the runtime runs in it).
    static CALLS: [Cell<u32>; 8] = const { [const { Cell::new(0) }; 8] };
}

fn count_call(i: usize) {
    CALLS.with(|c| c[i].set(c[i].get() + 1));
}

fn calls(i: usize) -> u32 {
    CALLS.with(|c| c[i].get())
}

#[mos_runtime::app]
mod chain {
    use mos_runtime::prelude::*;

    #[flow_state]
    #[derive(Default)]
    pub struct Flow;

    #[core_state]
    #[derive(Default, Debug)]
    pub struct Log {
        pub lines: Vec<String>,
    }

    fn log(cx: &mut Cx<'_, Flow, Log>, what: &str) {
        let line = format!("{what} {}", cx.side());
        cx.core_mut().lines.push(line);
    }

    #[event(base = ON_CONN_NEW_DATA, filter = any_data)]
    pub struct Data;
    #[event(base = Data, filter = starts_with_letter)]
    pub struct Text;
    #[event(base = Text, filter = has_newline)]
    pub struct Line;
    /// Nothing handles it: its filter must never run.
    #[event(base = Text, filter = never)]
    pub struct Unused;

    fn any_data(cx: &FilterCx<'_, Flow, Log>) -> bool {
        super::count_call(0);
        !cx.peek(cx.side()).is_empty()
    }
    fn starts_with_letter(cx: &FilterCx<'_, Flow, Log>) -> bool {
        super::count_call(1);
        cx.peek(cx.side())
            .first()
            .is_some_and(u8::is_ascii_alphabetic)
    }
    fn has_newline(cx: &FilterCx<'_, Flow, Log>) -> bool {
        super::count_call(2);
        cx.peek(cx.side()).contains(&b'\n')
    }
    // rustc rightly says it is never used: the macro generated no call to it.
    #[allow(dead_code)]
    fn never(_cx: &FilterCx<'_, Flow, Log>) -> bool {
        super::count_call(3);
        true
    }

    // Declared before the handlers of the parent events on purpose: pre-order puts an event's
    // own handlers before its children whatever the declaration order.
    #[on(event = Line)]
    fn on_line(cx: &mut Cx<'_, Flow, Log>) {
        log(cx, "line");
    }
    #[on(event = Text)]
    fn on_text(cx: &mut Cx<'_, Flow, Log>) {
        log(cx, "text");
    }
    #[on(event = Data)]
    fn on_data(cx: &mut Cx<'_, Flow, Log>) {
        log(cx, "data");
    }
    #[on(event = ON_CONN_NEW_DATA)]
    fn on_new_data(cx: &mut Cx<'_, Flow, Log>) {
        log(cx, "new_data");
    }
}

#[test]
fn ude_chain_three_deep_runs_pre_order_and_filters_once_per_occurrence() {
    let pcap = http_exchange(
        b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
        b"\x16\x03\x01\x00\x05hello",
    );
    let (report, log) = replay::<chain::App>(pcap);
    assert_eq!(
        log.lines,
        [
            // The client's request reached the server side's buffer: the whole chain fires.
            "new_data server",
            "data server",
            "text server",
            "line server",
            // The server's binary reply: `Text` is false, so `Line` is pruned.
            "new_data client",
            "data client",
        ]
    );
    let new_data = report.event_count(mos_runtime::Event::ConnNewData, mos_runtime::Hook::Rcv);
    assert_eq!(new_data, 2);
    // Each filter at most once per occurrence of its base event.
    assert_eq!(calls(0), 2, "any_data: once per ON_CONN_NEW_DATA");
    assert_eq!(calls(1), 2, "starts_with_letter: once per Data");
    assert_eq!(calls(2), 1, "has_newline: once per Text");
    assert_eq!(calls(3), 0, "a filter with no handler below never runs");
    assert_eq!(handler_calls(&report, "on_line"), 1);
    assert_eq!(handler_calls(&report, "on_new_data"), 2);
}

#[mos_runtime::app]
mod toggles {
    use mos_runtime::prelude::*;

    #[flow_state]
    #[derive(Default)]
    pub struct Flow {
        pkts: u32,
    }

    /// Counts its own calls, then switches itself off for the flow after the second.
    #[on(event = ON_PKT_IN, hook = RCV)]
    fn first_two(cx: &mut Cx<'_, Flow>) {
        cx.flow_mut().pkts += 1;
        if cx.flow().pkts == 2 {
            cx.disable(handlers::first_two);
        }
    }

    /// Starts off on every flow; switched on by the first data.
    #[on(event = ON_PKT_IN, hook = SND, per_flow)]
    fn after_data(cx: &mut Cx<'_, Flow>) {
        assert!(cx.is_enabled(handlers::after_data));
    }

    #[on(event = ON_CONN_NEW_DATA)]
    fn on_data(cx: &mut Cx<'_, Flow>) {
        cx.enable(handlers::after_data);
    }

    /// A filter whose only handler is per-flow and never enabled: it must never run.
    #[event(base = ON_CONN_START, filter = gated)]
    pub struct Gated;
    fn gated(_cx: &FilterCx<'_, Flow>) -> bool {
        super::count_call(4);
        true
    }
    #[on(event = Gated, hook = RCV, per_flow)]
    fn never_enabled(_cx: &mut Cx<'_, Flow>) {}
}

#[test]
fn per_flow_disable_and_enable() {
    // Two connections: 10 packets each (3 handshake, request, its ACK, reply, its ACK, 3 close).
    let mut s = Script::new();
    for port in [40000u16, 40001] {
        let c = s.tcp(format!("10.0.0.1:{port}").as_str(), "10.0.0.2:80");
        s.handshake(c)
            .send(c, Client, b"ping")
            .send(c, Server, b"pong")
            .close(c);
    }
    let (report, ()) = replay::<toggles::App>(s.to_pcap());
    assert_eq!(report.connections, 2);
    // Disabled after its second call on each flow.
    assert_eq!(handler_calls(&report, "first_two"), 4);
    // Enabled by the first ON_CONN_NEW_DATA (right after "ping"): it then sees the six later
    // packets of each flow at SND (ACK, "pong", ACK, FIN, FIN, ACK), never the four before.
    assert_eq!(
        report.event_count(mos_runtime::Event::PktIn, mos_runtime::Hook::Snd),
        20
    );
    assert_eq!(handler_calls(&report, "after_data"), 12);
    assert_eq!(handler_calls(&report, "never_enabled"), 0);
    assert_eq!(
        calls(4),
        0,
        "a filter whose handlers are all disabled on the flow is skipped"
    );
}

#[mos_runtime::app]
mod raising {
    use mos_runtime::prelude::*;
    use mos_runtime::ude::Raise;

    #[flow_state]
    #[derive(Default)]
    pub struct Flow;

    #[core_state]
    #[derive(Default, Debug)]
    pub struct Log {
        pub lines: Vec<&'static str>,
    }

    /// One matcher over the new data, raising one child per method found (mOS's
    /// `mtcp_raise_event`, which never worked there).
    #[event(base = ON_CONN_NEW_DATA, filter = methods)]
    pub struct Methods;
    fn methods(cx: &FilterCx<'_, Flow, Log>, raise: &mut Raise) -> bool {
        super::count_call(5);
        let data = cx.peek(cx.side());
        for line in data.split(|&b| b == b'\n') {
            if line.starts_with(b"GET ") {
                raise.raise(events::Get);
            }
            if line.starts_with(b"POST ") {
                raise.raise(events::Post);
            }
        }
        raise.any()
    }

    #[event(base = Methods, raised)]
    pub struct Get;
    #[event(base = Methods, raised)]
    pub struct Post;
    #[event(base = Post, filter = has_body)]
    pub struct PostWithBody;
    fn has_body(cx: &FilterCx<'_, Flow, Log>) -> bool {
        cx.peek(cx.side()).ends_with(b"body")
    }

    #[on(event = Methods)]
    fn on_methods(cx: &mut Cx<'_, Flow, Log>) {
        cx.core_mut().lines.push("methods");
    }
    #[on(event = Get)]
    fn on_get(cx: &mut Cx<'_, Flow, Log>) {
        cx.core_mut().lines.push("get");
    }
    #[on(event = Post)]
    fn on_post(cx: &mut Cx<'_, Flow, Log>) {
        cx.core_mut().lines.push("post");
    }
    #[on(event = PostWithBody)]
    fn on_post_body(cx: &mut Cx<'_, Flow, Log>) {
        cx.core_mut().lines.push("post+body");
    }
}

#[test]
fn raised_children_dispatch_once_each_in_declaration_order() {
    // Two GETs and a POST in one batch: `Get` is raised twice but dispatched once.
    let request = b"POST /a HTTP/1.1\nGET /b HTTP/1.1\nGET /c HTTP/1.1\n\nbody";
    let pcap = http_exchange(request, b"HTTP/1.1 200 OK\r\n\r\n");
    let (_, log) = replay::<raising::App>(pcap);
    assert_eq!(log.lines, ["methods", "get", "post", "post+body"]);
    assert_eq!(calls(5), 2, "the matcher runs once per ON_CONN_NEW_DATA");
}

/// Library events, as another crate would ship them (used by path below).
pub mod lib {
    use mos_runtime::prelude::*;

    /// The client's data starts with an HTTP method.
    #[mos_runtime::event(base = ON_CONN_NEW_DATA, filter = is_request)]
    #[derive(Debug)]
    pub struct Request;

    pub fn is_request<F, C>(cx: &FilterCx<'_, F, C>) -> bool {
        super::count_call(6);
        cx.side() == Side::Server && cx.peek(cx.side()).starts_with(b"GET ")
    }
}

#[mos_runtime::app]
mod uses_library {
    use mos_runtime::prelude::*;

    #[flow_state]
    #[derive(Default)]
    pub struct Flow {
        pub requests: u32,
    }

    #[core_state]
    #[derive(Default, Debug)]
    pub struct Total {
        pub requests: u32,
        pub long_requests: u32,
    }

    #[on(event = crate::lib::Request, hook = RCV)]
    fn on_request(cx: &mut Cx<'_, Flow, Total>) {
        cx.flow_mut().requests += 1;
        cx.core_mut().requests += 1;
    }

    #[event(base = crate::lib::Request, filter = is_long)]
    pub struct LongRequest;
    fn is_long(cx: &FilterCx<'_, Flow, Total>) -> bool {
        cx.peek(cx.side()).len() > 20
    }
    #[on(event = LongRequest, hook = RCV)]
    fn on_long(cx: &mut Cx<'_, Flow, Total>) {
        cx.core_mut().long_requests += 1;
    }
}

#[test]
fn library_event_used_by_path() {
    let pcap = http_exchange(
        b"GET /a-long-path HTTP/1.1\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n\r\n",
    );
    let (report, total) = replay::<uses_library::App>(pcap);
    assert_eq!((total.requests, total.long_requests), (1, 1));
    // The library filter runs once per ON_CONN_NEW_DATA (shared by both handlers' subtrees).
    assert_eq!(calls(6), 2);
    assert_eq!(handler_calls(&report, "on_request"), 1);
}

/// The packet-level library event `DnsQuery` (UDP, no flow: handled at NULL) and an app event
/// built on it, next to every flow-less packet.
#[mos_runtime::app]
mod dns_log {
    use mos_runtime::library;
    use mos_runtime::prelude::*;

    #[core_state]
    #[derive(Default, Debug)]
    pub struct Names {
        /// Packets without a flow (`ON_PKT_IN` at NULL).
        pub flowless: u32,
        /// The first question's name of each DNS query, in order.
        pub queries: Vec<String>,
        /// The queries whose name is in `example.com` (the app event).
        pub example: Vec<String>,
    }

    #[on(event = ON_PKT_IN, hook = NULL)]
    fn flowless(cx: &mut PacketCx<'_, Names>) {
        cx.core_mut().flowless += 1;
    }

    #[on(event = mos_runtime::library::DnsQuery, hook = NULL)]
    fn on_query(cx: &mut PacketCx<'_, Names>) {
        let name = library::dns_query(cx).map(|q| q.name().unwrap_or("?").to_string());
        cx.core_mut()
            .queries
            .push(name.expect("the filter saw a query"));
    }

    #[event(base = mos_runtime::library::DnsQuery, filter = in_example_com)]
    pub struct ExampleQuery;

    fn in_example_com(cx: &PacketCx<'_, Names>) -> bool {
        super::count_call(7);
        library::dns_query(cx)
            .and_then(|q| {
                q.name()
                    .map(|n| n == "example.com" || n.ends_with(".example.com"))
            })
            .unwrap_or(false)
    }

    #[on(event = ExampleQuery, hook = NULL)]
    fn on_example(cx: &mut PacketCx<'_, Names>) {
        let name = library::dns_query(cx).and_then(|q| q.name().map(str::to_string));
        cx.core_mut().example.push(name.unwrap_or_default());
    }
}

/// tshark's DNS queries over UDP to port 53 in `trace`: the first question's name of each.
fn tshark_dns_queries(trace: &std::path::Path) -> Vec<String> {
    let out = std::process::Command::new("tshark")
        .arg("-r")
        .arg(trace)
        .args([
            "-Y",
            "udp.dstport == 53 && dns.flags.response == 0 && dns.count.queries > 0",
            "-T",
            "fields",
            "-e",
            "dns.qry.name",
        ])
        .output()
        .expect("tshark runs");
    assert!(out.status.success(), "tshark failed on {}", trace.display());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.split(',').next().unwrap_or("").to_string())
        .collect()
}

#[test]
fn packet_level_library_event_sees_exactly_the_dns_queries_of_real_captures() {
    let Some(dir) = public_dir() else { return };
    // What tshark shows (`-Y dns`): a query and its answer over IPv4, one query over IPv6 on a
    // raw-IP link; DHCP is UDP but not DNS.
    let expected: [(&str, &[&str], u32); 3] = [
        ("tcpdump-dns-udp.pcap", &["www.tcpdump.org"], 2),
        ("tcpdump-linktype-raw-ipv6.pcap", &["example.com"], 1),
        ("pcapparser-test001-be.pcapng", &[], 4),
    ];
    for (trace, queries, flowless) in expected {
        let before = calls(7);
        let (report, names) = replay::<dns_log::App>(std::fs::read(dir.join(trace)).unwrap());
        assert_eq!(names.queries, queries, "{trace}");
        assert_eq!(names.flowless, flowless, "{trace}");
        assert_eq!(
            handler_calls(&report, "on_query"),
            queries.len() as u64,
            "{trace}"
        );
        // The app event's filter runs once per DnsQuery, never for the other packets.
        assert_eq!(calls(7) - before, queries.len() as u32, "{trace}");
        let in_example: Vec<&str> = queries
            .iter()
            .copied()
            .filter(|n| *n == "example.com")
            .collect();
        assert_eq!(names.example, in_example, "{trace}");
    }
    // Every public capture against tshark: the same queries, in the same order.
    if !tshark_available() {
        return;
    }
    let mut total = 0;
    for trace in public_captures(&dir) {
        let (_, names) = replay::<dns_log::App>(std::fs::read(&trace).unwrap());
        assert_eq!(
            names.queries,
            tshark_dns_queries(&trace),
            "{}",
            trace.display()
        );
        total += names.queries.len();
    }
    assert_eq!(
        total, 2,
        "the public captures hold two DNS queries over UDP"
    );
}

/// Two apps on one runtime log into one shared list, to see their relative order.
mod pair {
    use std::cell::RefCell;

    thread_local! {
        pub static ORDER: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
    }

    pub fn push(line: String) {
        ORDER.with(|o| o.borrow_mut().push(line));
    }

    #[mos_runtime::app]
    pub mod first {
        use mos_runtime::prelude::*;

        #[flow_state]
        #[derive(Default)]
        pub struct Flow {
            pub pkts: u32,
        }

        #[on(event = ON_PKT_IN, hook = RCV)]
        fn a_pkt(cx: &mut Cx<'_, Flow>) {
            cx.flow_mut().pkts += 1;
            super::push(format!("A {:?}", cx.dir()));
        }

        #[on(event = ON_CONN_END, hook = RCV)]
        fn a_end(cx: &mut Cx<'_, Flow>) {
            super::push(format!("A end {}", cx.flow().pkts));
        }
    }

    #[mos_runtime::app]
    pub mod second {
        use mos_runtime::prelude::*;

        #[flow_state]
        #[derive(Default)]
        pub struct Flow {
            pub pkts: u64,
        }

        #[on(event = ON_PKT_IN, hook = RCV)]
        fn b_pkt(cx: &mut Cx<'_, Flow>) {
            cx.flow_mut().pkts += 1;
            super::push(format!("B {:?}", cx.dir()));
            // Switching off its own handler must not touch the first app's.
            if cx.flow().pkts == 3 {
                cx.disable(handlers::b_pkt);
            }
        }
    }
}

#[test]
fn two_apps_chain_order_and_separate_state() {
    let mut s = Script::new();
    let c = s.tcp("10.0.0.1:40000", "10.0.0.2:80");
    s.handshake(c).send(c, Client, b"hi").send(c, Server, b"yo");
    let (report, ((), ())) = replay::<(pair::first::App, pair::second::App)>(s.to_pcap());
    let order = pair::ORDER.with(|o| o.borrow().clone());
    // Client→server: first then second; server→client: second then first. The second app
    // disabled its handler after three packets; the first keeps counting (its own flow state).
    let expected = [
        "A ClientToServer", // SYN: client→server, first app first
        "B ClientToServer",
        "B ServerToClient", // SYN-ACK: server→client, second app first
        "A ServerToClient",
        "A ClientToServer", // ACK; the second app switches itself off after this one
        "B ClientToServer",
        "A ClientToServer", // "hi"
        "A ServerToClient", // its ACK
        "A ServerToClient", // "yo"
        "A ClientToServer", // its ACK
        "A end 7",          // ON_CONN_END at RCV, once per side, with the first app's
        "A end 7",          // own flow state (seven packets)
    ];
    assert_eq!(order, expected);
    assert_eq!(handler_calls(&report, "b_pkt"), 3);
    assert_eq!(handler_calls(&report, "a_pkt"), 7);
}

#[mos_runtime::app(scope = "tcp dst port 80 and (net 10.0.0.0/8 or host 2001:db8::2)")]
mod scoped {
    use mos_runtime::prelude::*;

    #[flow_state]
    #[derive(Default)]
    pub struct Flow;

    #[on(event = ON_CONN_START, hook = SND)]
    fn started(_cx: &mut Cx<'_, Flow>) {}
}

#[test]
fn scope_is_evaluated_on_the_syn() {
    let mut s = Script::new();
    for (client, server) in [
        ("10.0.0.1:40000", "10.0.0.2:80"),           // in scope
        ("10.0.0.1:40001", "10.0.0.2:8080"),         // wrong port
        ("192.168.0.1:40002", "192.168.0.2:80"),     // wrong network
        ("[2001:db8::1]:40003", "[2001:db8::2]:80"), // in scope (IPv6 host)
        ("[2001:db8::1]:40004", "[2001:db8::3]:80"), // wrong IPv6 host
    ] {
        let c = s.tcp(client, server);
        s.handshake(c).close(c);
    }
    let (report, ()) = replay::<scoped::App>(s.to_pcap());
    assert_eq!(report.connections, 2);
    assert_eq!(handler_calls(&report, "started"), 2);
    assert_eq!(
        report.orphan_count(mos_runtime::OrphanReason::OutOfScope),
        3
    );
}

#[mos_runtime::app(scope = "tcp dst port 8080")]
mod alt_port {
    use mos_runtime::prelude::*;

    #[flow_state]
    #[derive(Default)]
    pub struct Flow;

    #[on(event = ON_CONN_START, hook = SND)]
    fn started_8080(_cx: &mut Cx<'_, Flow>) {}
}

#[test]
fn each_app_of_a_pair_sees_only_flows_in_its_own_scope() {
    let mut s = Script::new();
    for (client, server) in [
        ("10.0.0.1:40000", "10.0.0.2:80"),   // the first app's scope
        ("10.0.0.1:40001", "10.0.0.2:8080"), // the second app's scope
        ("10.0.0.1:40002", "10.0.0.2:22"),   // neither
    ] {
        let c = s.tcp(client, server);
        s.handshake(c).close(c);
    }
    let (report, ((), ())) = replay::<(scoped::App, alt_port::App)>(s.to_pcap());
    assert_eq!(report.connections, 2, "tracked when in either scope");
    assert_eq!(
        handler_calls(&report, "started"),
        1,
        "the port-80 app sees only its flow"
    );
    assert_eq!(
        handler_calls(&report, "started_8080"),
        1,
        "the port-8080 app sees only its flow"
    );
}

/// `#[core_state(merge = .., fork = ..)]`: every worker of a `cores(n)` run starts from the
/// initial state's fork, so configuration the handlers read reaches all of them.
#[mos_runtime::app]
mod forked {
    use mos_runtime::prelude::*;

    #[flow_state]
    #[derive(Default)]
    pub struct Flow;

    #[core_state(merge = merge, fork = fork)]
    #[derive(Debug, Default)]
    pub struct Settings {
        pub tag: u32,
        pub packets: u64,
        pub untagged: u64,
    }

    fn merge(into: &mut Settings, other: Settings) {
        into.packets += other.packets;
        into.untagged += other.untagged;
    }

    fn fork(first: &Settings) -> Settings {
        Settings {
            tag: first.tag,
            ..Settings::default()
        }
    }

    #[on(event = ON_PKT_IN, hook = RCV)]
    fn count(cx: &mut Cx<'_, Flow, Settings>) {
        let core = cx.core_mut();
        core.packets += 1;
        if core.tag != 7 {
            core.untagged += 1;
        }
    }
}

#[test]
fn core_state_fork_configures_every_worker() {
    let mut s = Script::new();
    for port in 40000..40016u16 {
        let c = s.tcp(format!("10.0.0.1:{port}").as_str(), "10.0.0.2:80");
        s.handshake(c).send(c, Client, b"x").close(c);
    }
    let (report, settings) = Runtime::builder()
        .pcap_bytes(s.to_pcap())
        .cores(2)
        .progress(false)
        .build()
        .and_then(|rt| {
            rt.run_init::<forked::App>(forked::Settings {
                tag: 7,
                ..Default::default()
            })
        })
        .unwrap_or_else(|e| panic!("run failed: {e}"));
    assert_eq!(report.cores, 2);
    assert_eq!(settings.packets, report.tcp_packets);
    assert_eq!(
        settings.untagged, 0,
        "every worker saw the forked configuration"
    );
}
