//! Checks the macro cannot make itself, handed to rustc at the user's span.
//!
//! The root built-in event of a library event is only known to the compiler (it is a constant
//! of another crate), so "is this hook raised for that event" becomes a `const` evaluation that
//! panics with the same message the macro would have given, located at the hook the user wrote.

use proc_macro2::TokenStream;
use quote::{ToTokens, format_ident, quote_spanned};

use super::rt;
use crate::analyze::{Analysis, Root};
use crate::catalog::{Builtin, CxKind};
use crate::syntax::ast::App;

/// One `const _: () = ..;` per handler whose event derives from a library event.
pub fn external_hooks(app: &App, analysis: &Analysis) -> TokenStream {
    let rt = rt();
    let mut out = TokenStream::new();
    for (def, res) in app.handlers.iter().zip(&analysis.handlers) {
        let Root::External(x) = res.root else {
            continue;
        };
        let path = &analysis.externals[x].path;
        let path_str = path.to_token_stream().to_string().replace(' ', "");
        let hook = res.hook;
        let span = res.hook_span;
        let arms = Builtin::ALL.iter().filter_map(|&b| {
            let variant = format_ident!("{}", b.variant());
            let msg = if !b.raised_at(hook) {
                format!(
                    "`{path_str}` (handled by `{}`) derives from {b}, which is not raised at {hook}; it is raised {}",
                    def.ident,
                    b.hooks_prose()
                )
            } else if b.cx_kind(hook) == CxKind::Packet {
                format!(
                    "`{path_str}` (handled by `{}`) derives from {b}, which has no flow context at {hook}; library events are dispatched at SND or RCV",
                    def.ident
                )
            } else {
                return None;
            };
            Some(quote_spanned!(span=> #rt::Event::#variant => ::core::panic!(#msg),))
        });
        out.extend(quote_spanned! {span=>
            const _: () = match <#path as #rt::UserEvent>::ROOT {
                #(#arms)*
                _ => {}
            };
        });
    }
    out
}
