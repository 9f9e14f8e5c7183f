//! `#[event(..)]` on a `pub struct` outside any app: a library event implementing
//! `__private::UserEvent`.

use proc_macro2::TokenStream;
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use super::rt;
use crate::catalog::{Builtin, CxKind};
use crate::ctxt::Ctxt;
use crate::syntax::ast::EventRef;
use crate::syntax::parse::EventArgs;

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
            "a library event needs a filter: `#[mos_runtime::event(base = .., filter = my_filter)]` with `fn my_filter<F, C>(cx: &FilterCx<'_, F, C>) -> bool`",
        );
        return None;
    };
    let (root, base_filter) = match &args.base {
        None => {
            cx.error_spanned_by(ident, "a library event needs a base: `#[mos_runtime::event(base = ON_CONN_NEW_DATA, filter = ..)]`");
            return None;
        }
        Some(EventRef::Name(name)) => match Builtin::from_name(&name.to_string()) {
            Some(b) if b.hooks().iter().all(|&h| b.cx_kind(h) == CxKind::Packet) => {
                cx.error_spanned_by(
                    name,
                    format!("{b} has no flow context, and a library event's filter takes `&FilterCx`; base it on an event with a flow (ON_PKT_IN, ON_CONN_NEW_DATA, ...)"),
                );
                return None;
            }
            Some(b) => {
                let variant = format_ident!("{}", b.variant());
                (quote!(#rt::Event::#variant), None)
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
                (quote!(#ue::ROOT), Some(quote!(#ue::filter(cx) &&)))
            }
        },
        Some(EventRef::Path(path)) => {
            let ue = quote_spanned!(path.span()=> <#path as #rt::UserEvent>);
            (quote!(#ue::ROOT), Some(quote!(#ue::filter(cx) &&)))
        }
    };
    let name = ident.to_string();
    let filter_str = filter.to_token_stream().to_string().replace(' ', "");
    let call = quote_spanned!(filter.span()=> #filter(cx));
    Some(quote! {
        #item

        impl #rt::UserEvent for #ident {
            const NAME: &'static str = #name;
            const ROOT: #rt::Event = #root;
            const FILTER: &'static str = #filter_str;

            #[inline(always)]
            fn filter<F, C>(cx: &#rt::FilterCx<'_, F, C>) -> bool {
                #base_filter #call
            }
        }
    })
}
