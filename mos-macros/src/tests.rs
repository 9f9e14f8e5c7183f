//! Expansion snapshots (parse2 → analyze → codegen → prettyplease → insta) and the analysis'
//! error messages, without going through rustc.

use proc_macro2::TokenStream;
use quote::quote;

use crate::ctxt::Ctxt;

/// Expand an app and pretty-print it.
fn expand(args: TokenStream, input: TokenStream) -> String {
    let out = crate::expand_app(args, input);
    let file: syn::File = match syn::parse2(out.clone()) {
        Ok(f) => f,
        Err(e) => panic!("expansion does not parse: {e}\n{out}"),
    };
    prettyplease::unparse(&file)
}

/// The error messages an app produces, in report order (empty when it is accepted).
fn errors(args: TokenStream, input: TokenStream) -> Vec<String> {
    let cx = Ctxt::new();
    if let Some(app) = crate::syntax::parse_app(&cx, args, input) {
        let _ = crate::analyze::analyze(&cx, &app);
    }
    match cx.check() {
        Ok(()) => Vec::new(),
        Err(e) => e.into_iter().map(|e| e.to_string()).collect(),
    }
}

/// The one error an app produces.
fn error(args: TokenStream, input: TokenStream) -> String {
    let errs = errors(args, input);
    assert_eq!(errs.len(), 1, "expected exactly one error, got {errs:#?}");
    errs.into_iter().next().unwrap_or_default()
}

fn library(args: TokenStream, input: TokenStream) -> String {
    let out = crate::expand_library_event(args, input);
    let file: syn::File = match syn::parse2(out.clone()) {
        Ok(f) => f,
        Err(e) => panic!("expansion does not parse: {e}\n{out}"),
    };
    prettyplease::unparse(&file)
}

#[test]
fn snapshot_http_monitor() {
    let out = expand(
        quote!(scope = "tcp dst port 80"),
        quote! {
            mod http_monitor {
                use super::*;

                #[flow_state]
                #[derive(Default)]
                pub struct Flow { pkts: u32, requests: u32 }

                #[event(base = ON_CONN_NEW_DATA, filter = is_http_request)]
                pub struct HttpRequest;

                fn is_http_request(cx: &FilterCx<'_, Flow>) -> bool { cx.peek(cx.side()).starts_with(b"GET ") }

                #[event(base = HttpRequest, filter = is_search)]
                pub struct SearchQuery;

                fn is_search(cx: &FilterCx<'_, Flow>) -> bool { true }

                #[on(event = ON_PKT_IN, hook = RCV)]
                fn count(cx: &mut Cx<'_, Flow>) { cx.flow_mut().pkts += 1; }

                #[on(event = HttpRequest, hook = RCV)]
                fn log_request(cx: &mut Cx<'_, Flow>) { cx.flow_mut().requests += 1; }

                #[on(event = SearchQuery, hook = RCV, per_flow)]
                fn log_search(cx: &mut Cx<'_, Flow>) {}

                #[event(base = ON_CONN_NEW_DATA, filter = is_tls_client_hello)]
                #[on(hook = RCV)]
                fn on_client_hello(cx: &mut Cx<'_, Flow>) {}

                fn is_tls_client_hello(cx: &FilterCx<'_, Flow>) -> bool { false }
            }
        },
    );
    insta::assert_snapshot!(out);
}

#[test]
fn snapshot_core_state_orphans_library_and_raised_events() {
    let out = expand(
        quote!(scope = "(tcp and net 10.0.0.0/8) or ip6 and not src port 22"),
        quote! {
            pub mod firewall {
                use super::*;

                #[flow_state]
                type Flow = ();

                #[core_state(merge = add)]
                #[derive(Default)]
                pub struct Stats { dropped: u64 }
                fn add(a: &mut Stats, b: Stats) { a.dropped += b.dropped; }

                #[on(event = ON_ORPHAN)]
                fn drop_orphan(cx: &mut PacketCx<'_, Stats>) { cx.drop_packet(); }

                #[event(base = ON_CONN_NEW_DATA, filter = match_methods)]
                pub struct Method;
                fn match_methods(cx: &FilterCx<'_, Flow, Stats>, raise: &mut Raise) -> bool { raise.any() }

                #[event(base = Method, raised)]
                pub struct Get;
                #[event(base = Method, raised)]
                pub struct Post;

                #[on(event = Post)]
                fn on_post(cx: &mut Cx<'_, Flow, Stats>) {}

                #[on(event = Get)]
                fn on_get(cx: &mut Cx<'_, Flow, Stats>) {}

                #[on(event = mos_runtime::ude::HttpRequest, hook = RCV)]
                fn on_library_request(cx: &mut Cx<'_, Flow, Stats>) {}
            }
        },
    );
    insta::assert_snapshot!(out);
}

#[test]
fn snapshot_library_event() {
    let out = library(
        quote!(base = ON_CONN_NEW_DATA, filter = is_http_request),
        quote!(
            pub struct HttpRequest;
        ),
    );
    insta::assert_snapshot!(out);
    let out = library(
        quote!(base = HttpRequest, filter = is_get),
        quote!(
            pub struct HttpGet;
        ),
    );
    assert!(
        out.contains("<HttpRequest as ::mos_runtime::__private::UserEvent>::ROOT"),
        "{out}"
    );
    let flat = flatten(&out);
    assert!(
        flat.contains(
            "<HttpRequestas::mos_runtime::__private::UserEvent>::filter(cx)&&::mos_runtime::__private::LibraryFilter::<_,F,C>::call_flow(&is_get,cx)"
        ),
        "{out}"
    );
}

#[test]
fn packet_level_library_events() {
    let rt = "::mos_runtime::__private";
    // ON_PKT_IN has both contexts: the filter's signature decides, nothing to assert.
    let out = library(
        quote!(base = ON_PKT_IN, filter = is_dns_query),
        quote!(
            pub struct DnsQuery;
        ),
    );
    let flat = flatten(&out);
    assert!(
        flat.contains(&format!(
            "constCX:{rt}::CxKind={rt}::filter_cx(&is_dns_query);"
        )),
        "{out}"
    );
    assert!(
        flat.contains(&format!(
            "fnpacket_filter<C>(cx:&{rt}::PacketCx<'_,C>)->bool{{{rt}::LibraryFilter::<_,(),C>::call_packet(&is_dns_query,cx)}}"
        )),
        "{out}"
    );
    assert!(!out.contains("const _"), "{out}");
    // ON_ORPHAN has no flow: a flow filter is refused at compile time.
    let out = library(
        quote!(base = ON_ORPHAN, filter = f),
        quote!(
            pub struct Orphaned;
        ),
    );
    let flat = flatten(&out);
    assert!(
        flat.contains(&format!(
            "const_:()=iflet{rt}::CxKind::FlowLevel=<Orphanedas{rt}::UserEvent>::CX{{"
        )),
        "{out}"
    );
    assert!(
        out.contains("ON_ORPHAN has no flow context (it is raised only at NULL); take the packet view: `fn f<C>(cx: &PacketCx<'_, C>) -> bool`"),
        "{out}"
    );
    // On another library event: both filters in order, and the contexts must agree.
    let out = library(
        quote!(base = DnsQuery, filter = is_aaaa),
        quote!(
            pub struct AaaaQuery;
        ),
    );
    let flat = flatten(&out);
    assert!(
        flat.contains(&format!(
            "<DnsQueryas{rt}::UserEvent>::packet_filter(cx)&&{rt}::LibraryFilter::<_,(),C>::call_packet(&is_aaaa,cx)"
        )),
        "{out}"
    );
    assert!(
        flat.contains(&format!(
            "match(<DnsQueryas{rt}::UserEvent>::CX,<AaaaQueryas{rt}::UserEvent>::CX)"
        )),
        "{out}"
    );
    assert!(
        out.contains("`AaaaQuery`: its base `DnsQuery` is a packet-level event (no flow, handled at NULL), but its filter `is_aaaa` takes `&FilterCx`"),
        "{out}"
    );
    // ON_TIMEOUT is at NULL with a flow: no library event on it.
    let out = library(
        quote!(base = ON_TIMEOUT, filter = f),
        quote!(
            pub struct Idle;
        ),
    );
    assert!(
        out.contains(
            "a library event at NULL is packet-level (no flow), so it cannot be based on ON_TIMEOUT"
        ),
        "{out}"
    );
}

#[test]
fn handlers_of_library_events_at_null_are_packet_level() {
    let out = expand(
        quote!(),
        quote! {
            mod dns_log {
                #[core_state] #[derive(Default)] pub struct Names;
                #[on(event = lib::DnsQuery, hook = NULL)]
                fn query(cx: &mut PacketCx<'_, Names>) {}
                #[event(base = lib::DnsQuery, filter = is_aaaa)]
                pub struct Aaaa;
                fn is_aaaa(cx: &PacketCx<'_, Names>) -> bool { true }
                #[on(event = Aaaa, hook = NULL)]
                fn aaaa(cx: &mut PacketCx<'_, Names>) {}
            }
        },
    );
    let flat = flatten(&out);
    let rt = "::mos_runtime::__private";
    // No flow events handled: no flow state needed, no flow entry generated.
    assert!(flat.contains("typeFlow=();"), "{out}");
    for entry in ["fn pkt_in_null", "fn orphan_null", "fn error_null"] {
        let body = flatten(section(&out, entry));
        let variant = match entry {
            "fn pkt_in_null" => "PktIn",
            "fn orphan_null" => "Orphan",
            _ => "Error",
        };
        assert!(
            body.contains(&format!(
                "ifconst{{{rt}::is_root(<lib::DnsQueryas{rt}::UserEvent>::ROOT,<lib::DnsQueryas{rt}::UserEvent>::CX,{rt}::Event::{variant},{rt}::CxKind::PacketLevel)}}{{if<lib::DnsQueryas{rt}::UserEvent>::packet_filter::<Self::Core>(&*cx){{"
            )),
            "{body}"
        );
        // Pre-order: the library event's handler, then the app event's filter and handler.
        let q = body.find("query(cx)").unwrap_or(usize::MAX);
        let f = body.find("is_aaaa(view)").unwrap_or(usize::MAX);
        let a = body.find("aaaa(cx)").unwrap_or(usize::MAX);
        assert!(q < f && f < a, "{body}");
    }
    assert!(!out.contains("fn timeout_null"), "{out}");
    assert!(!out.contains("fn pkt_in_rcv"), "{out}");
    // The hook is checked against the library event's root and context by rustc.
    assert!(
        out.contains("(handled by `query`) derives from ON_PKT_IN with a flow (its filter takes `&FilterCx`), so it is raised at SND and RCV; ON_PKT_IN at NULL has no flow"),
        "{out}"
    );
    assert!(
        out.contains("(handled by `aaaa`) derives from ON_CONN_NEW_DATA, which is not raised at NULL; it is raised only at RCV"),
        "{out}"
    );
    assert!(!out.contains("Event::Timeout"), "{out}");
}

#[test]
fn library_event_contexts_follow_the_hook() {
    let msg = error(
        quote!(),
        quote! { mod a {
            #[flow_state] #[derive(Default)] pub struct Flow;
            #[on(event = lib::DnsQuery, hook = NULL)] fn h(cx: &mut Cx<'_, Flow>) {}
        }},
    );
    assert_eq!(
        msg,
        "`lib::DnsQuery` at NULL has no flow context, so no flow state: take `cx: &mut PacketCx<'_>` (a library event is handled at SND or RCV with a flow, at NULL without one)"
    );
    let msg = error(
        quote!(),
        quote! { mod a {
            #[event(base = lib::DnsQuery, filter = f)] pub struct E;
            fn f(cx: &FilterCx<'_, Flow>) -> bool { true }
            #[on(event = E, hook = NULL)] fn h(cx: &mut PacketCx<'_>) {}
        }},
    );
    assert_eq!(
        msg,
        "`E` is dispatched at NULL (it derives from library event `lib::DnsQuery`), which has no flow context: take `cx: &PacketCx<'_>` (use separate events for flow and flow-less hooks)"
    );
    let msg = error(
        quote!(),
        quote! { mod a {
            #[on(event = lib::DnsQuery)] fn h(cx: &mut PacketCx<'_>) {}
        }},
    );
    assert!(
        msg.starts_with("add `hook = RCV` (or `SND`; `NULL` for a packet-level event such as `mos_runtime::library::DnsQuery`)"),
        "{msg}"
    );
}

#[test]
fn dispatch_is_pre_order_depth_first_in_declaration_order_and_pruned() {
    let out = expand(
        quote!(),
        quote! {
            mod order {
                #[flow_state] #[derive(Default)] pub struct Flow;
                #[on(event = ON_CONN_NEW_DATA)] fn first(cx: &mut Cx<'_, Flow>) {}
                #[event(base = ON_CONN_NEW_DATA, filter = fa)] pub struct A;
                #[event(base = A, filter = fb)] pub struct B;
                #[on(event = B)] fn third(cx: &mut Cx<'_, Flow>) {}
                #[on(event = A)] fn fourth(cx: &mut Cx<'_, Flow>) {}
                #[on(event = ON_CONN_NEW_DATA)] fn fifth(cx: &mut Cx<'_, Flow>) {}
                // No handler below: its filter must not appear anywhere.
                #[event(base = A, filter = never_called)] pub struct Unused;
                // Handlers only at SND: absent from the RCV entries.
                #[event(base = ON_PKT_IN, filter = snd_only)] pub struct SndOnly;
                #[on(event = SndOnly, hook = SND)] fn at_snd(cx: &mut Cx<'_, Flow>) {}
            }
        },
    );
    assert!(!out.contains("never_called("), "{out}");
    let rcv = section(&out, "fn conn_new_data_rcv");
    // Pre-order: an event's own handlers, then its child events, each in declaration order.
    let order: Vec<&str> = ["first(", "fifth(", "fa(", "fourth(", "fb(", "third("]
        .into_iter()
        .filter(|s| rcv.contains(s))
        .collect();
    assert_eq!(order.len(), 6, "{rcv}");
    let positions: Vec<usize> = order
        .iter()
        .map(|s| rcv.find(s).unwrap_or(usize::MAX))
        .collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "order {positions:?} in {rcv}"
    );
    // Each filter appears once per entry.
    assert_eq!(rcv.matches("fa(").count(), 1);
    assert!(out.contains("fn pkt_in_snd"));
    assert!(!out.contains("fn pkt_in_rcv"));
    assert!(section(&out, "fn pkt_in_snd").contains("snd_only("));
}

/// `out` without whitespace and without the trailing commas prettyplease adds when it wraps a
/// list, so that substring checks do not depend on line width.
fn flatten(out: &str) -> String {
    let flat: String = out.split_whitespace().collect();
    flat.replace(",>", ">").replace(",)", ")")
}

/// The text of one generated fn (from its signature to the next `fn` at the same level).
fn section<'a>(out: &'a str, start: &str) -> &'a str {
    let Some(from) = out.find(start) else {
        return "";
    };
    let rest = &out[from..];
    let end = rest[1..]
        .find("\n        fn ")
        .map_or(rest.len(), |e| e + 1);
    &rest[..end]
}

#[test]
fn subscriptions_and_initial_enabled() {
    let out = expand(
        quote!(),
        quote! {
            mod subs {
                #[flow_state] #[derive(Default)] pub struct Flow;
                #[on(event = ON_CONN_START, hook = SND)] fn a(cx: &mut Cx<'_, Flow>) {}
                #[on(event = ON_CONN_START, hook = SND, per_flow)] fn b(cx: &mut Cx<'_, Flow>) {}
                #[on(event = ON_ERROR, hook = NULL)] fn c(cx: &mut PacketCx<'_>) {}
                #[on(event = ON_TIMEOUT, per_flow)] fn d(cx: &mut Cx<'_, Flow>) {}
            }
        },
    );
    let flat: String = out.split_whitespace().collect();
    let rt = "::mos_runtime::__private";
    let expected = format!(
        "constSUBSCRIPTIONS:{rt}::Subscriptions={rt}::Subscriptions::NONE.with({rt}::Event::ConnStart,{rt}::Hook::Snd,).with({rt}::Event::Error,{rt}::Hook::Null,).with({rt}::Event::Timeout,{rt}::Hook::Null,);"
    );
    assert!(flat.contains(&expected), "{flat}");
    assert!(
        flat.contains(&format!(
            "constINITIAL_ENABLED:{rt}::HandlerSet={rt}::HandlerSet::MAX&!0xa_u128;"
        )),
        "{out}"
    );
    assert!(
        flat.contains(&format!("pubconstd:{rt}::HandlerId={rt}::HandlerId(3u8")),
        "{out}"
    );
}

// ---- errors -------------------------------------------------------------------------------

#[test]
fn unknown_event_suggests() {
    let msg = error(
        quote!(),
        quote! { mod a {
            #[flow_state] #[derive(Default)] pub struct Flow;
            #[on(event = ON_PKT_INN, hook = RCV)] fn h(cx: &mut Cx<'_, Flow>) {}
        }},
    );
    assert!(
        msg.starts_with("unknown event `ON_PKT_INN`; did you mean `ON_PKT_IN`?"),
        "{msg}"
    );
    let msg = error(
        quote!(),
        quote! { mod a {
            #[flow_state] #[derive(Default)] pub struct Flow;
            #[event(base = ON_CONN_NEW_DATA, filter = f)] pub struct HttpRequest;
            #[event(base = HttpReqest, filter = f)] pub struct Search;
            #[on(event = Search, hook = RCV)] fn h(cx: &mut Cx<'_, Flow>) {}
        }},
    );
    assert!(
        msg.starts_with("unknown event `HttpReqest`; did you mean `HttpRequest`?"),
        "{msg}"
    );
}

#[test]
fn wrong_hook_lists_the_right_ones() {
    let msg = error(
        quote!(),
        quote! { mod a {
            #[flow_state] #[derive(Default)] pub struct Flow;
            #[on(event = ON_CONN_START, hook = NULL)] fn h(cx: &mut Cx<'_, Flow>) {}
        }},
    );
    assert_eq!(
        msg,
        "ON_CONN_START is not raised at NULL; it is raised at SND and RCV: write `hook = SND` or `hook = RCV`"
    );
    let msg = error(
        quote!(),
        quote! { mod a {
            #[flow_state] #[derive(Default)] pub struct Flow;
            #[event(base = ON_CONN_NEW_DATA, filter = f)] pub struct Req;
            #[on(event = Req, hook = SND)] fn h(cx: &mut Cx<'_, Flow>) {}
        }},
    );
    assert_eq!(
        msg,
        "`Req` is not raised at SND: `Req` derives from ON_CONN_NEW_DATA, which is raised only at RCV; write `hook = RCV`"
    );
    let msg = error(
        quote!(),
        quote! { mod a {
            #[flow_state] #[derive(Default)] pub struct Flow;
            #[on(event = ON_PKT_IN)] fn h(cx: &mut Cx<'_, Flow>) {}
        }},
    );
    assert_eq!(
        msg,
        "ON_PKT_IN is raised at SND, RCV and NULL; say which with `hook = SND` or `hook = RCV` or `hook = NULL`"
    );
}

#[test]
fn cycles_are_shown() {
    let msg = error(
        quote!(),
        quote! { mod a {
            #[flow_state] #[derive(Default)] pub struct Flow;
            #[event(base = C, filter = f)] pub struct A;
            #[event(base = A, filter = f)] pub struct B;
            #[event(base = B, filter = f)] pub struct C;
            #[on(event = C, hook = RCV)] fn h(cx: &mut Cx<'_, Flow>) {}
        }},
    );
    assert!(
        msg.starts_with("cycle among events: A -> C -> B -> A"),
        "{msg}"
    );
    let msg = error(
        quote!(),
        quote! { mod a {
            #[event(base = A, filter = f)] pub struct A;
        }},
    );
    assert!(msg.starts_with("event `A` is its own base"), "{msg}");
}

#[test]
fn handler_context_must_match_the_event() {
    let msg = error(
        quote!(),
        quote! { mod a {
            #[flow_state] #[derive(Default)] pub struct Flow;
            #[on(event = ON_ORPHAN)] fn h(cx: &mut Cx<'_, Flow>) {}
        }},
    );
    assert_eq!(
        msg,
        "ON_ORPHAN at NULL has no flow context, so no flow state: take `cx: &mut PacketCx<'_>`"
    );
    let msg = error(
        quote!(),
        quote! { mod a {
            #[flow_state] #[derive(Default)] pub struct Flow;
            #[core_state] #[derive(Default)] pub struct Core;
            #[on(event = ON_CONN_START, hook = SND)] fn h(cx: &Cx<'_, Flow, Core>) {}
        }},
    );
    assert_eq!(
        msg,
        "a handler takes its context by mutable reference: `cx: &mut Cx<'_, Flow, Core>`"
    );
    let msg = error(
        quote!(),
        quote! { mod a {
            #[flow_state] #[derive(Default)] pub struct Flow;
            #[on(event = ON_CONN_START, hook = SND)] async fn h(cx: &mut Cx<'_, Flow>) {}
        }},
    );
    assert!(msg.starts_with("a handler cannot be `async`"), "{msg}");
}

#[test]
fn filter_signatures() {
    let app = |filter: TokenStream| {
        quote! { mod a {
            #[flow_state] #[derive(Default)] pub struct Flow;
            #[event(base = ON_CONN_NEW_DATA, filter = f)] pub struct E;
            #filter
            #[on(event = E)] fn h(cx: &mut Cx<'_, Flow>) {}
        }}
    };
    let msg = error(
        quote!(),
        app(quote!(
            fn f(cx: &mut FilterCx<'_, Flow>) -> bool {
                true
            }
        )),
    );
    assert!(msg.starts_with("a filter only reads"), "{msg}");
    let msg = error(
        quote!(),
        app(quote!(
            fn f(cx: &FilterCx<'_, Flow>) {}
        )),
    );
    assert!(msg.starts_with("a filter returns `bool`"), "{msg}");
    let msg = error(
        quote!(),
        app(quote!(
            fn f(cx: &Cx<'_, Flow>) -> bool {
                true
            }
        )),
    );
    assert_eq!(
        msg,
        "a filter gets the read-only view: take `cx: &FilterCx<'_, Flow>`"
    );
    let msg = error(
        quote!(),
        app(quote!(
            fn f(cx: &FilterCx<'_, Flow>, raise: &mut Raise) -> bool {
                true
            }
        )),
    );
    assert_eq!(
        msg,
        "a filter takes one parameter: `fn f(cx: &FilterCx<'_, Flow>) -> bool`"
    );
    assert!(
        errors(
            quote!(),
            app(quote!(
                fn f<F, C>(cx: &FilterCx<'_, F, C>) -> bool {
                    true
                }
            ))
        )
        .is_empty()
    );
}

#[test]
fn state_types() {
    let msg = error(
        quote!(),
        quote! { mod a {
            #[on(event = ON_CONN_START, hook = SND)] fn h(cx: &mut Cx<'_, Flow>) {}
        }},
    );
    assert!(
        msg.starts_with("this app handles flow events but has no per-connection state"),
        "{msg}"
    );
    let msg = error(
        quote!(),
        quote! { mod a {
            #[flow_state] #[derive(Default)] pub struct Flow;
            #[flow_state] #[derive(Default)] pub struct Flow2;
        }},
    );
    assert!(msg.starts_with("duplicate #[flow_state]"), "{msg}");
    // An app with flow-less handlers only needs no flow state.
    assert!(
        errors(
            quote!(),
            quote! { mod a { #[on(event = ON_ORPHAN)] fn h(cx: &mut PacketCx<'_>) {} } }
        )
        .is_empty()
    );
}

#[test]
fn attribute_keys() {
    let msg = error(
        quote!(),
        quote! { mod a {
            #[flow_state] #[derive(Default)] pub struct Flow;
            #[on(event = ON_CONN_START, hok = SND)] fn h(cx: &mut Cx<'_, Flow>) {}
        }},
    );
    assert_eq!(
        msg,
        "unknown key `hok` in #[on]; did you mean `hook`? (#[on] accepts `event`, `hook` and `per_flow`)"
    );
    let msg = error(quote!(scpoe = "tcp"), quote! { mod a {} });
    assert_eq!(
        msg,
        "unknown key `scpoe` in #[app]; did you mean `scope`? (#[app] accepts `scope`)"
    );
    let msg = error(quote!(scope = "tcp dst prot 80"), quote! { mod a {} });
    assert_eq!(
        msg,
        "malformed scope at column 9: expected `host`, `net`, `port` or `portrange`, found `prot`"
    );
    let msg = error(
        quote!(),
        quote! { mod a {
            #[flow_state] #[derive(Default)] pub struct Flow;
            #[on(event = ON_CONN_START, hook = SEND)] fn h(cx: &mut Cx<'_, Flow>) {}
        }},
    );
    assert_eq!(
        msg,
        "unknown hook `SEND`; did you mean `SND`? a hook is one of `SND`, `RCV` or `NULL`"
    );
}

#[test]
fn names() {
    let errs = errors(
        quote!(),
        quote! { mod a {
            #[flow_state] #[derive(Default)] pub struct Flow;
            pub struct App;
            #[event(base = ON_CONN_NEW_DATA, filter = f)] pub struct E;
            #[event(base = ON_CONN_NEW_DATA, filter = f)] pub struct E;
        }},
    );
    assert_eq!(
        errs,
        [
            "`App` is generated by #[mos_runtime::app] in this module; rename this item",
            "duplicate event `E`: an app declares each event once",
        ]
    );
}

#[test]
fn raised_events() {
    let msg = error(
        quote!(),
        quote! { mod a {
            #[flow_state] #[derive(Default)] pub struct Flow;
            #[event(base = ON_CONN_NEW_DATA, raised)] pub struct E;
            #[on(event = E)] fn h(cx: &mut Cx<'_, Flow>) {}
        }},
    );
    assert!(
        msg.starts_with("built-in events raise no child events"),
        "{msg}"
    );
    let msg = error(
        quote!(),
        quote! { mod a {
            #[flow_state] #[derive(Default)] pub struct Flow;
            #[event(base = ON_CONN_NEW_DATA, filter = m)] pub struct M;
            fn m(cx: &FilterCx<'_, Flow>) -> bool { true }
            #[event(base = M, raised)] pub struct E;
            #[on(event = E)] fn h(cx: &mut Cx<'_, Flow>) {}
        }},
    );
    assert_eq!(
        msg,
        "`M` has `raised` child events, so its filter raises them: `fn m(cx: &FilterCx<'_, Flow>, raise: &mut Raise) -> bool`"
    );
}

#[test]
fn every_error_is_reported_at_once() {
    let errs = errors(
        quote!(scope = "port"),
        quote! { mod a {
            #[flow_state] #[derive(Default)] pub struct Flow;
            #[on(event = ON_PKT_INN, hook = RCV)] fn h1(cx: &mut Cx<'_, Flow>) {}
            #[on(event = ON_CONN_START, hook = NULL)] fn h2(cx: &mut Cx<'_, Flow>) {}
            #[on(event = ON_ORPHAN, bogus)] fn h3(cx: &mut PacketCx<'_>) {}
        }},
    );
    assert_eq!(errs.len(), 4, "{errs:#?}");
}
