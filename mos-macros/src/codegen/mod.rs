//! Codegen: the checked model back into Rust, inside the user's module.
//!
//! Everything reaches the runtime through `::mos_runtime::__private` (one path to keep stable).
//! Output is deterministic: it iterates the model's vectors, which follow declaration order.
//!
//! Generated in the app module:
//! - `pub struct App;` implementing `__private::App` (the dispatch entries, `HANDLERS`,
//!   `INITIAL_ENABLED`, `SUBSCRIPTIONS`, `in_scope`) and `__private::AppGraph`, plus inherent
//!   `App::EVENT_GRAPH` / `App::event_graph_dot()`;
//! - `pub mod handlers` with one `HandlerId` const per handler (named like the fn);
//! - `pub mod events` with one `ChildEvent` const per `raised` event (only if there are any);
//! - `impl CoreState for Core` for a `#[core_state]` type (`merge` delegating to the given fn);
//! - `const` assertions checking hooks on library events at the user's span.

mod assertions;
mod dispatch;
mod graph;
pub mod library;

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use crate::analyze::{Analysis, Node, Root};
use crate::scope;
use crate::syntax::ast::App;

/// The runtime path generated code uses.
pub fn rt() -> TokenStream {
    quote!(::mos_runtime::__private)
}

/// `HandlerId` number literal.
fn handler_id_lit(i: usize) -> Literal {
    Literal::u8_suffixed(u8::try_from(i).unwrap_or(u8::MAX))
}

/// A `u128` bit mask over handler ids, as a hex literal.
fn mask_lit(handlers: &[usize]) -> TokenStream {
    let mask = handlers
        .iter()
        .filter(|&&h| h < 128)
        .fold(0u128, |m, &h| m | (1u128 << h));
    let lit: TokenStream = format!("0x{mask:x}_u128").parse().unwrap_or_default();
    lit
}

/// The whole expansion of a checked app.
pub fn app(app: &App, analysis: &Analysis) -> TokenStream {
    let rt = rt();
    let App {
        attrs,
        vis,
        name,
        items,
        ..
    } = app;
    let (outer, inner) = split_attrs(attrs);
    let name_str = name.to_string();

    let flow_ty = match &analysis.flow {
        Some(flow) => quote_spanned!(flow.span()=> #flow),
        None => quote!(()),
    };
    let core_ty = match &analysis.core {
        Some(core) => quote_spanned!(core.span()=> #core),
        None => quote!(()),
    };
    let core_impl = analysis.core.as_ref().map(|core| {
        let merge = analysis.core_merge.as_ref().map(|merge| {
            quote_spanned! {merge.span()=>
                #[inline]
                fn merge(&mut self, other: Self) {
                    #merge(self, other)
                }
            }
        });
        let fork = analysis.core_fork.as_ref().map(|fork| {
            quote_spanned! {fork.span()=>
                #[inline]
                fn fork(&self) -> Self {
                    #fork(self)
                }
            }
        });
        quote_spanned! {core.span()=>
            impl #rt::CoreState for #core {
                #merge
                #fork
            }
        }
    });

    let handler_consts = app.handlers.iter().enumerate().map(|(i, h)| {
        let ident = &h.ident;
        let id = handler_id_lit(i);
        let doc = format!(" Handler `{ident}` (for `cx.disable`/`cx.enable`).");
        quote! {
            #[doc = #doc]
            pub const #ident: #rt::HandlerId = #rt::HandlerId(#id);
        }
    });
    let child_events: Vec<TokenStream> = app
        .events
        .iter()
        .zip(&analysis.events)
        .filter_map(|(def, res)| {
            let bit = res.child_bit?;
            let ident = &def.ident;
            let doc =
                format!(" Child event `{ident}` (for `raise.raise(..)` in its base's filter).");
            Some(quote! {
                #[doc = #doc]
                pub const #ident: #rt::ChildEvent = #rt::ChildEvent(#bit);
            })
        })
        .collect();
    let events_mod = (!child_events.is_empty()).then(|| {
        quote! {
            /// Ids of the app's `raised` events.
            #[allow(non_upper_case_globals, dead_code)]
            pub mod events {
                #(#child_events)*
            }
        }
    });

    let handler_infos = app
        .handlers
        .iter()
        .zip(&analysis.handlers)
        .map(|(def, res)| {
            let name = def.ident.to_string();
            let event = event_name_expr(app, analysis, res.event);
            let hook = hook_expr(res.hook);
            let per_flow = def.per_flow;
            quote! {
                #rt::HandlerInfo { name: #name, event: #event, hook: #hook, per_flow: #per_flow }
            }
        });
    let per_flow: Vec<usize> = app
        .handlers
        .iter()
        .enumerate()
        .filter(|(_, h)| h.per_flow)
        .map(|(i, _)| i)
        .collect();
    let initial_enabled = if per_flow.is_empty() {
        quote!(#rt::HandlerSet::MAX)
    } else {
        let mask = mask_lit(&per_flow);
        quote!(#rt::HandlerSet::MAX & !#mask)
    };
    let subscriptions = subscriptions(analysis);
    let in_scope = app.scope.as_ref().map(|scope| {
        let pkt = format_ident!("pkt");
        let test = scope::codegen(&scope.expr, &pkt);
        let doc = format!(" Compiled from `scope = {:?}`.", scope.lit.value());
        quote! {
            #[doc = #doc]
            #[inline(always)]
            fn in_scope(#pkt: &#rt::Packet<'_>) -> bool {
                #test
            }
        }
    });
    let entries = dispatch::entries(app, analysis);
    let assertions = assertions::external_hooks(app, analysis);
    let graph = graph::event_graph(app, analysis);
    let app_doc = format!(
        " The `{name_str}` app, generated by `#[mos_runtime::app]`: run it with `run::<{name_str}::App>()`."
    );

    quote! {
        #(#outer)*
        #vis mod #name {
            #(#inner)*
            #(#items)*

            #[doc = #app_doc]
            #[derive(Clone, Copy, Debug, Default)]
            pub struct App;

            /// Handler ids of this app, for `cx.disable(..)` / `cx.enable(..)`.
            #[allow(non_upper_case_globals, dead_code)]
            pub mod handlers {
                #(#handler_consts)*
            }

            #events_mod

            #core_impl

            #assertions

            impl #rt::App for App {
                type Flow = #flow_ty;
                type Core = #core_ty;
                const NAME: &'static str = #name_str;
                const HANDLERS: &'static [#rt::HandlerInfo] = &[#(#handler_infos),*];
                const INITIAL_ENABLED: #rt::HandlerSet = #initial_enabled;
                const SUBSCRIPTIONS: #rt::Subscriptions = #subscriptions;
                #in_scope
                #entries
            }

            #graph
        }
    }
}

/// `Hook::Rcv` etc.
fn hook_expr(hook: crate::catalog::Hook) -> TokenStream {
    let rt = rt();
    let variant = format_ident!("{}", hook.variant());
    quote!(#rt::Hook::#variant)
}

/// A `&'static str` expression naming an event node.
fn event_name_expr(app: &App, analysis: &Analysis, node: Node) -> TokenStream {
    let rt = rt();
    match node {
        Node::External(x) => {
            let path = &analysis.externals[x].path;
            quote!(<#path as #rt::UserEvent>::NAME)
        }
        other => {
            let name = analysis.node_name(app, other);
            quote!(#name)
        }
    }
}

/// `Subscriptions::NONE.with(..)...`: one `with` per distinct (root, hook) of the handlers.
fn subscriptions(analysis: &Analysis) -> TokenStream {
    let rt = rt();
    let mut seen: Vec<(Root, crate::catalog::Hook)> = Vec::new();
    let mut out = quote!(#rt::Subscriptions::NONE);
    for h in &analysis.handlers {
        if seen.contains(&(h.root, h.hook)) {
            continue;
        }
        seen.push((h.root, h.hook));
        let hook = hook_expr(h.hook);
        let event = match h.root {
            Root::Builtin(b) => {
                let variant = format_ident!("{}", b.variant());
                quote!(#rt::Event::#variant)
            }
            Root::External(x) => {
                let path = &analysis.externals[x].path;
                quote!(<#path as #rt::UserEvent>::ROOT)
            }
        };
        out = quote!(#out.with(#event, #hook));
    }
    out
}

/// On error: the user's items (helper attributes removed, so rustc adds no "unknown attribute"
/// noise), a `handlers` module so uses of `handlers::x` still resolve, and the errors.
pub fn recover(app: &App, errors: TokenStream) -> TokenStream {
    let rt = rt();
    let App {
        attrs,
        vis,
        name,
        items,
        ..
    } = app;
    let (outer, inner) = split_attrs(attrs);
    let user_has_handlers = items.iter().any(
        |i| matches!(i, syn::Item::Mod(m) if m.ident == crate::symbol::GENERATED_HANDLERS_MOD),
    );
    let mut seen = Vec::new();
    let consts = app.handlers.iter().enumerate().filter_map(|(i, h)| {
        if seen.contains(&h.ident) {
            return None;
        }
        seen.push(h.ident.clone());
        let ident = &h.ident;
        let id = handler_id_lit(i);
        Some(quote!(pub const #ident: #rt::HandlerId = #rt::HandlerId(#id);))
    });
    let handlers = (!user_has_handlers).then(|| {
        quote! {
            #[allow(non_upper_case_globals, dead_code)]
            pub mod handlers {
                #(#consts)*
            }
        }
    });
    // The app is not generated, so its handlers and filters are unused: say nothing about that,
    // the errors are what matters.
    // A second event struct or handler fn of the same name was reported already; leave it out
    // so rustc does not report it again as a redefinition.
    let mut defined: Vec<(bool, &syn::Ident)> = Vec::new();
    let items = items.iter().filter(|item| {
        let key = match item {
            syn::Item::Struct(s)
                if app
                    .events
                    .iter()
                    .any(|e| !e.anonymous && e.ident == s.ident) =>
            {
                (true, &s.ident)
            }
            syn::Item::Fn(f) if app.handlers.iter().any(|h| h.ident == f.sig.ident) => {
                (false, &f.sig.ident)
            }
            _ => return true,
        };
        if defined.contains(&key) {
            return false;
        }
        defined.push(key);
        true
    });
    quote! {
        #(#outer)*
        #[allow(dead_code, unused_imports)]
        #vis mod #name {
            #(#inner)*
            #(#items)*

            #handlers

            #errors
        }
    }
}

/// A module's attributes: outer ones go before `mod`, inner ones (`#![..]`) first inside it.
fn split_attrs(attrs: &[syn::Attribute]) -> (Vec<&syn::Attribute>, Vec<&syn::Attribute>) {
    attrs
        .iter()
        .partition(|a| matches!(a.style, syn::AttrStyle::Outer))
}
