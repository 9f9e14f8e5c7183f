//! `#[event(..)]` on a `pub struct` outside any app: a library event implementing
//! `__private::UserEvent`.
//!
//! The filter's signature decides the event's context: a flow event's filter takes
//! `&FilterCx<'_, F, C>`, a packet-level event's `&PacketCx<'_, C>`. This macro only sees the
//! filter's path, so the impl reads the signature through `__private::LibraryFilter` (one impl
//! per shape, the right one inferred): `UserEvent::CX` is that impl's context, and both filter
//! methods call the filter through it (the one of the other context returns `false`). The base
//! is checked against that context by a `const` assertion at the `filter = ..` token, with the
//! message this macro would have given had it seen the signature.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use super::rt;
use crate::catalog::{Builtin, CxKind};
use crate::ctxt::Ctxt;
use crate::syntax::ast::EventRef;
use crate::syntax::parse::EventArgs;

/// The filter signatures, for messages.
const FLOW_FILTER: &str = "fn f<F, C>(cx: &FilterCx<'_, F, C>) -> bool";
const PACKET_FILTER: &str = "fn f<C>(cx: &PacketCx<'_, C>) -> bool";

/// Check the keys and generate the struct plus its `UserEvent` impl; `None` if something was
/// reported.
pub fn library_event(cx: &Ctxt, args: EventArgs, item: &syn::ItemStruct) -> Option<TokenStream> {
    let rt = rt();
    let ident = &item.ident;
    if let Some(raised) = &args.raised {
        cx.error_spanned_by(raised, "`raised` events exist only inside an app (their base's filter, in the same app, raises them)");
    }
    let Some(filter) = &args.filter else {
        cx.error_spanned_by(
            ident,
            format!("a library event needs a filter: `#[mos_runtime::event(base = .., filter = f)]` with `{FLOW_FILTER}` (flow events) or `{PACKET_FILTER}` (packet-level events, handled at NULL)"),
        );
        return None;
    };
    let filter_str = filter.to_token_stream().to_string().replace(' ', "");
    let fspan = filter.span();
    let (root, base, check) = match &args.base {
        None => {
            cx.error_spanned_by(ident, "a library event needs a base: `#[mos_runtime::event(base = ON_CONN_NEW_DATA, filter = ..)]`");
            return None;
        }
        Some(EventRef::Name(name)) => match Builtin::from_name(&name.to_string()) {
            Some(Builtin::Timeout) => {
                cx.error_spanned_by(
                    name,
                    "ON_TIMEOUT is raised for the timers an app's handlers armed, at NULL with a flow; a library event at NULL is packet-level (no flow), so it cannot be based on ON_TIMEOUT: declare this event inside the app (`#[event(base = ON_TIMEOUT, filter = ..)]`)",
                );
                return None;
            }
            Some(b) => {
                let variant = format_ident!("{}", b.variant());
                let check = builtin_check(b, ident, &filter_str, fspan);
                (quote!(#rt::Event::#variant), None, check)
            }
            None if name.to_string().starts_with("ON_") => {
                let hint = crate::catalog::did_you_mean(
                    &name.to_string(),
                    Builtin::ALL.map(Builtin::name),
                )
                .map(|s| format!("did you mean `{s}`? "))
                .unwrap_or_default();
                cx.error_spanned_by(
                    name,
                    format!(
                        "unknown built-in event `{name}`; {hint}the built-in events are {}",
                        crate::catalog::BUILTIN_LIST
                    ),
                );
                return None;
            }
            // Another library event in scope (`base = HttpRequest`).
            None => {
                let ue = quote_spanned!(name.span()=> <#name as #rt::UserEvent>);
                let check = library_check(&name.to_string(), &ue, ident, &filter_str, fspan);
                (quote!(#ue::ROOT), Some(ue), check)
            }
        },
        Some(EventRef::Path(path)) => {
            let ue = quote_spanned!(path.span()=> <#path as #rt::UserEvent>);
            let name = path.to_token_stream().to_string().replace(' ', "");
            let check = library_check(&name, &ue, ident, &filter_str, fspan);
            (quote!(#ue::ROOT), Some(ue), check)
        }
    };
    let name = ident.to_string();
    let (base_flow, base_packet) = match &base {
        Some(ue) => (
            Some(quote!(#ue::filter(cx) &&)),
            Some(quote!(#ue::packet_filter(cx) &&)),
        ),
        None => (None, None),
    };
    // Spanned at the user's `filter = ..`: a filter of neither shape is reported there.
    let cx_kind = quote_spanned!(fspan=> #rt::filter_cx(&#filter));
    let call_flow = quote_spanned!(fspan=> #rt::LibraryFilter::<_, F, C>::call_flow(&#filter, cx));
    let call_packet =
        quote_spanned!(fspan=> #rt::LibraryFilter::<_, (), C>::call_packet(&#filter, cx));
    let check = check.map(|check| {
        quote_spanned! {fspan=>
            const _: () = #check;
        }
    });
    Some(quote! {
        #item

        impl #rt::UserEvent for #ident {
            const NAME: &'static str = #name;
            const ROOT: #rt::Event = #root;
            const CX: #rt::CxKind = #cx_kind;
            const FILTER: &'static str = #filter_str;

            #[inline(always)]
            fn filter<F, C>(cx: &#rt::FilterCx<'_, F, C>) -> bool {
                #base_flow #call_flow
            }

            #[inline(always)]
            fn packet_filter<C>(cx: &#rt::PacketCx<'_, C>) -> bool {
                #base_packet #call_packet
            }
        }

        #check
    })
}

/// The contexts `b` is raised with.
fn contexts(b: Builtin) -> (bool, bool) {
    let flow = b.hooks().iter().any(|&h| b.cx_kind(h) == CxKind::Flow);
    let packet = b.hooks().iter().any(|&h| b.cx_kind(h) == CxKind::Packet);
    (flow, packet)
}

/// The assertion body for a built-in base that has one context only.
fn builtin_check(b: Builtin, ident: &syn::Ident, filter: &str, span: Span) -> Option<TokenStream> {
    let rt = rt();
    let this = quote!(<#ident as #rt::UserEvent>);
    match contexts(b) {
        (true, true) | (false, false) => None,
        (true, false) => {
            let msg = format!(
                "`{ident}`: its filter `{filter}` takes `&PacketCx` (a packet without a flow), but {b} always has a flow (it is raised {}); take the flow view: `{}`",
                b.flow_hooks_prose(),
                FLOW_FILTER.replace("fn f", &format!("fn {filter}"))
            );
            Some(
                quote_spanned!(span=> if let #rt::CxKind::PacketLevel = #this::CX { ::core::panic!(#msg) }),
            )
        }
        (false, true) => {
            let msg = format!(
                "`{ident}`: its filter `{filter}` takes `&FilterCx`, but {b} has no flow context (it is raised only at NULL); take the packet view: `{}`",
                PACKET_FILTER.replace("fn f", &format!("fn {filter}"))
            );
            Some(
                quote_spanned!(span=> if let #rt::CxKind::FlowLevel = #this::CX { ::core::panic!(#msg) }),
            )
        }
    }
}

/// The assertion body for a library base: both events have the same context.
fn library_check(
    base: &str,
    base_ue: &TokenStream,
    ident: &syn::Ident,
    filter: &str,
    span: Span,
) -> Option<TokenStream> {
    let rt = rt();
    let this = quote!(<#ident as #rt::UserEvent>);
    let flow_on_packet = format!(
        "`{ident}`: its base `{base}` is a packet-level event (no flow, handled at NULL), but its filter `{filter}` takes `&FilterCx`; take the packet view: `{}`",
        PACKET_FILTER.replace("fn f", &format!("fn {filter}"))
    );
    let packet_on_flow = format!(
        "`{ident}`: its base `{base}` is a flow event (handled at SND or RCV), but its filter `{filter}` takes `&PacketCx`; take the flow view: `{}`",
        FLOW_FILTER.replace("fn f", &format!("fn {filter}"))
    );
    Some(quote_spanned! {span=>
        match (#base_ue::CX, #this::CX) {
            (#rt::CxKind::PacketLevel, #rt::CxKind::FlowLevel) => ::core::panic!(#flow_on_packet),
            (#rt::CxKind::FlowLevel, #rt::CxKind::PacketLevel) => ::core::panic!(#packet_on_flow),
            _ => {}
        }
    })
}
