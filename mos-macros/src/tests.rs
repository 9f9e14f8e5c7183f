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
    assert!(
        out.contains(
            "<HttpRequest as ::mos_runtime::__private::UserEvent>::filter(cx) && is_get(cx)"
        ),
        "{out}"
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
