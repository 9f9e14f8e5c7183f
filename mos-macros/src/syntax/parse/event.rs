//! `#[event(base = .., filter = .., raised)]`.

use proc_macro2::TokenStream;
use syn::{Attribute, Ident, Path};

use super::{flag, key_name, key_value, unknown_key};
use crate::catalog::Builtin;
use crate::ctxt::Ctxt;
use crate::symbol;
use crate::syntax::ast::EventRef;

/// The keys of one `#[event(..)]`.
#[derive(Debug, Default)]
pub struct EventArgs {
    pub base: Option<EventRef>,
    pub filter: Option<Path>,
    pub raised: Option<Ident>,
    /// Something in the attribute was reported already.
    pub malformed: bool,
}

/// Classify a path used as an event: built-in names (even through a path such as
/// `prelude::ON_PKT_IN`) and bare names resolve later; other paths are library events.
pub fn event_ref(path: Path) -> EventRef {
    if let Some(ident) = path.get_ident() {
        return EventRef::Name(ident.clone());
    }
    let last = path
        .segments
        .last()
        .filter(|s| s.arguments.is_none())
        .map(|s| s.ident.clone());
    match last {
        Some(ident) if Builtin::from_name(&ident.to_string()).is_some() => EventRef::Name(ident),
        _ => EventRef::Path(path),
    }
}

/// Parse the keys of an `#[event(..)]` attribute.
pub fn parse_event_attr(cx: &Ctxt, attr: &Attribute) -> EventArgs {
    let mut args = EventArgs::default();
    if let syn::Meta::Path(_) = attr.meta {
        cx.error_spanned_by(attr, "an event needs a base and a filter: write `#[event(base = ON_CONN_NEW_DATA, filter = my_filter)]`");
        return args;
    }
    let before = cx.error_count();
    let result = attr.parse_nested_meta(|meta| parse_key(cx, &mut args, &meta));
    if let Err(err) = result {
        cx.syn_error(err);
    }
    args.malformed = cx.error_count() > before;
    args
}

/// Parse the keys of `#[event(..)]` given as macro arguments (a library event outside any app).
pub fn parse_event_args(cx: &Ctxt, tokens: TokenStream) -> EventArgs {
    let mut args = EventArgs::default();
    let before = cx.error_count();
    let parser = syn::meta::parser(|meta| parse_key(cx, &mut args, &meta));
    if let Err(err) = syn::parse::Parser::parse2(parser, tokens) {
        cx.syn_error(err);
    }
    args.malformed = cx.error_count() > before;
    args
}

fn parse_key(
    cx: &Ctxt,
    args: &mut EventArgs,
    meta: &syn::meta::ParseNestedMeta<'_>,
) -> syn::Result<()> {
    let key = key_name(meta);
    match key.as_str() {
        symbol::BASE => {
            let value: Path = key_value(meta, "ON_CONN_NEW_DATA")?.parse()?;
            if args.base.is_some() {
                cx.error_spanned_by(
                    &meta.path,
                    "duplicate `base`: an event has exactly one base event",
                );
            } else {
                args.base = Some(event_ref(value));
            }
        }
        symbol::FILTER => {
            let value: Path = key_value(meta, "my_filter_fn")?.parse()?;
            if args.filter.is_some() {
                cx.error_spanned_by(
                    &meta.path,
                    "duplicate `filter`: an event has one filter; combine the tests in one fn",
                );
            } else {
                args.filter = Some(value);
            }
        }
        symbol::RAISED => {
            flag(meta)?;
            let ident = meta.path.segments.last().map(|s| s.ident.clone());
            if args.raised.is_some() {
                cx.error_spanned_by(&meta.path, "duplicate `raised`");
            } else {
                args.raised = ident;
            }
        }
        _ => unknown_key(cx, meta, symbol::EVENT, symbol::EVENT_KEYS)?,
    }
    Ok(())
}

/// `#[event(..)]` on an item outside any app: a library event (a `pub struct`). Returns the
/// keys and the struct, or reports why the item cannot be one.
pub fn parse_library_event(
    cx: &Ctxt,
    args: TokenStream,
    item: &syn::Item,
) -> Option<(EventArgs, syn::ItemStruct)> {
    let args = parse_event_args(cx, args);
    match item {
        syn::Item::Struct(s) => {
            if !matches!(s.vis, syn::Visibility::Public(_)) {
                cx.error_spanned_by(
                    &s.ident,
                    "a library event must be `pub struct`, so that apps in other crates can use it as a base (inside an app, put it in the #[mos_runtime::app] module)",
                );
            }
            if !s.generics.params.is_empty() {
                cx.error_spanned_by(&s.generics, "an event type cannot be generic");
            }
            Some((args, s.clone()))
        }
        syn::Item::Fn(f) => {
            cx.error_spanned_by(
                &f.sig.ident,
                "an #[event] on a handler fn (an anonymous event) must be inside a #[mos_runtime::app] module",
            );
            None
        }
        other => {
            cx.error_spanned_by(other, "#[event] goes on a `pub struct` (a library event) or, inside a #[mos_runtime::app] module, on a struct or a handler fn");
            None
        }
    }
}
