//! Checks the macro cannot make itself, handed to rustc at the user's span.
//!
//! The root built-in event and the context of a library event are only known to the compiler
//! (they are constants of another crate), so "is this hook raised for that event" becomes a
//! `const` evaluation that panics with the same message the macro would have given, located at
//! the hook the user wrote. The macro generates a library event's handlers with the context of
//! their hook (a flow at `SND`/`RCV`, none at `NULL`); the assertion holds exactly when the
//! event's root is raised at that hook with that context.

use proc_macro2::TokenStream;
use quote::{ToTokens, format_ident, quote_spanned};

use super::rt;
use crate::analyze::{Analysis, Root};
use crate::catalog::{Builtin, CxKind, Hook};
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
        let handler = &def.ident;
        let mut arms = TokenStream::new();
        for b in Builtin::ALL {
            for c in [CxKind::Flow, CxKind::Packet] {
                let Some(msg) = message(b, c, hook, &path_str, &handler.to_string()) else {
                    continue;
                };
                let variant = format_ident!("{}", b.variant());
                let cx_variant = match c {
                    CxKind::Flow => format_ident!("FlowLevel"),
                    CxKind::Packet => format_ident!("PacketLevel"),
                };
                arms.extend(quote_spanned!(span=> (#rt::Event::#variant, #rt::CxKind::#cx_variant) => ::core::panic!(#msg),));
            }
        }
        out.extend(quote_spanned! {span=>
            const _: () = match (<#path as #rt::UserEvent>::ROOT, <#path as #rt::UserEvent>::CX) {
                #arms
                _ => {}
            };
        });
    }
    out
}

/// Why a handler at `hook` cannot run for a library event with root `b` and context `c`; `None`
/// when it can, or when no library event has that root and context (the library macro rejects
/// a filter whose context the base does not have, and ON_TIMEOUT as a base).
fn message(b: Builtin, c: CxKind, hook: Hook, path: &str, handler: &str) -> Option<String> {
    let exists = b != Builtin::Timeout && b.hooks().iter().any(|&h| b.cx_kind(h) == c);
    if !exists || (b.raised_at(hook) && b.cx_kind(hook) == c) {
        return None;
    }
    let what = format!("`{path}` (handled by `{handler}`)");
    Some(match c {
        CxKind::Packet if b.raised_at(hook) => format!(
            "{what} is a packet-level event (it derives from {b} at NULL, and its filter takes `&PacketCx`): it is raised only at NULL; write `hook = NULL` and take `cx: &mut PacketCx<'_>`"
        ),
        CxKind::Packet => format!(
            "{what} derives from {b}, which is not raised at {hook}; it is raised only at NULL, without a flow: write `hook = NULL` and take `cx: &mut PacketCx<'_>`"
        ),
        CxKind::Flow if b.raised_at(hook) => format!(
            "{what} derives from {b} with a flow (its filter takes `&FilterCx`), so it is raised {}; {b} at NULL has no flow",
            b.flow_hooks_prose()
        ),
        CxKind::Flow => format!(
            "{what} derives from {b}, which is not raised at {hook}; it is raised {}",
            b.flow_hooks_prose()
        ),
    })
}
