//! The dispatch entries: one `fn` per (built-in event, hook) with handlers below it, made of
//! direct calls and `if filter(..)` tests — no table, no lookup, nothing allocated.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use super::{handler_id_lit, mask_lit, rt};
use crate::analyze::{Analysis, Entry, Step};
use crate::catalog::CxKind;
use crate::syntax::ast::App;

/// The `fn` items of the `App` impl.
pub fn entries(app: &App, analysis: &Analysis) -> TokenStream {
    let rt = rt();
    analysis
        .entries
        .iter()
        .map(|entry| {
            let name = format_ident!("{}", entry.builtin.entry_name(entry.hook));
            let kind = entry.builtin.cx_kind(entry.hook);
            let body = steps(app, analysis, entry, kind, &entry.steps);
            let doc = format!(" {} at {}.", entry.builtin, entry.hook);
            match kind {
                CxKind::Flow => quote! {
                    #[doc = #doc]
                    #[inline(always)]
                    fn #name(cx: &mut #rt::Cx<'_, Self::Flow, Self::Core>) {
                        #body
                    }
                },
                CxKind::Packet => quote! {
                    #[doc = #doc]
                    #[inline(always)]
                    fn #name(cx: &mut #rt::PacketCx<'_, Self::Core>) {
                        #body
                    }
                },
            }
        })
        .collect()
}

/// The `cx` identifier placed at a user's span (so rustc's type errors point at the user's
/// parameter), keeping the macro's own hygiene.
fn cx_at(span: Span) -> syn::Ident {
    syn::Ident::new("cx", Span::call_site().located_at(span))
}

fn steps(
    app: &App,
    analysis: &Analysis,
    entry: &Entry,
    kind: CxKind,
    list: &[Step],
) -> TokenStream {
    let rt = rt();
    list.iter()
        .map(|step| match step {
            Step::Call { handler } => {
                let def = &app.handlers[*handler];
                let ident = &def.ident;
                let id = handler_id_lit(*handler);
                let arg_span = def.sig.inputs.first().map_or_else(|| def.sig.ident.span(), |a| a.span());
                let cx = cx_at(arg_span);
                quote! {
                    if cx.__enter(#id) {
                        #ident(#cx);
                    }
                }
            }
            Step::Filter { event, below, raises, body } => {
                let def = &app.events[*event];
                let Some(filter) = &def.filter else {
                    return TokenStream::new();
                };
                let span = filter.span();
                let body = steps(app, analysis, entry, kind, body);
                // The view is bound with its type spelled out, and passed as one identifier at
                // the user's `filter = ..` token: a filter taking the wrong flow or core type is
                // then reported there as "expected `&FilterCx<'_, Other>`, found
                // `&FilterCx<'_, Flow>`".
                let view = syn::Ident::new("view", Span::call_site().located_at(span));
                let bind = match kind {
                    CxKind::Flow => quote!(let #view = #rt::Cx::<Self::Flow, Self::Core>::as_filter(cx);),
                    CxKind::Packet => quote!(let #view: &#rt::PacketCx<'_, Self::Core> = &*cx;),
                };
                let call = if *raises {
                    quote_spanned!(span=> #filter(#view, &mut raise))
                } else {
                    quote_spanned!(span=> #filter(#view))
                };
                let call = quote!({ #bind #call });
                let test = match kind {
                    CxKind::Flow => {
                        let mask = mask_lit(below);
                        quote!(#rt::any_enabled(#rt::Cx::as_filter(cx), #mask) && #call)
                    }
                    CxKind::Packet => call,
                };
                if *raises {
                    quote! {
                        {
                            let mut raise = #rt::Raise::new();
                            if #test {
                                #body
                            }
                        }
                    }
                } else {
                    quote! {
                        if #test {
                            #body
                        }
                    }
                }
            }
            Step::Raised { bit, body, .. } => {
                let body = steps(app, analysis, entry, kind, body);
                quote! {
                    if raise.is_raised(#rt::ChildEvent(#bit)) {
                        #body
                    }
                }
            }
            Step::External { ext, below, body } => {
                let path = &analysis.externals[*ext].path;
                let span = path.span();
                let body = steps(app, analysis, entry, kind, body);
                let variant = format_ident!("{}", entry.builtin.variant());
                let cx = cx_at(span);
                let ue = quote_spanned!(span=> <#path as #rt::UserEvent>);
                let (entry_cx, test) = match kind {
                    CxKind::Flow => {
                        let mask = mask_lit(below);
                        (
                            quote!(#rt::CxKind::FlowLevel),
                            quote!(#rt::any_enabled(#rt::Cx::as_filter(cx), #mask) && #ue::filter(#rt::Cx::as_filter(#cx))),
                        )
                    }
                    CxKind::Packet => (
                        quote!(#rt::CxKind::PacketLevel),
                        quote!(#ue::packet_filter::<Self::Core>(&*#cx)),
                    ),
                };
                quote! {
                    if const { #rt::is_root(#ue::ROOT, #ue::CX, #rt::Event::#variant, #entry_cx) } {
                        if #test {
                            #body
                        }
                    }
                }
            }
        })
        .collect()
}
