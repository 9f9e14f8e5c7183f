//! Attribute parsing shared by the app, event and handler parsers.

mod app;
mod event;
mod handler;

pub use app::parse_app;
pub use event::{EventArgs, parse_library_event};
pub use handler::check_handler_shape as check_fn_shape;

use syn::meta::ParseNestedMeta;
use syn::{Attribute, Token};

use crate::catalog::did_you_mean;
use crate::ctxt::Ctxt;
use crate::symbol;

/// Which DSL helper an attribute is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Helper {
    Event,
    On,
    FlowState,
    CoreState,
}

impl Helper {
    fn name(self) -> &'static str {
        match self {
            Helper::Event => symbol::EVENT,
            Helper::On => symbol::ON,
            Helper::FlowState => symbol::FLOW_STATE,
            Helper::CoreState => symbol::CORE_STATE,
        }
    }
}

/// The helper an attribute is, if it is one: `#[on]`, `#[mos_runtime::on]`, `#[mos_macros::on]`.
pub fn helper_of(attr: &Attribute) -> Option<Helper> {
    let path = attr.path();
    let last = path.segments.last()?;
    let prefix_ok = match path.segments.len() {
        1 => path.leading_colon.is_none(),
        2 => {
            let first = path.segments.first()?.ident.to_string();
            first == "mos_runtime" || first == "mos_macros"
        }
        _ => false,
    };
    if !prefix_ok {
        return None;
    }
    let name = last.ident.to_string();
    [
        Helper::Event,
        Helper::On,
        Helper::FlowState,
        Helper::CoreState,
    ]
    .into_iter()
    .find(|h| h.name() == name)
}

/// Remove the DSL's helper attributes from `attrs`, returning them in order.
pub fn take_helpers(attrs: &mut Vec<Attribute>) -> Vec<(Helper, Attribute)> {
    let mut taken = Vec::new();
    attrs.retain(|attr| match helper_of(attr) {
        Some(h) => {
            taken.push((h, attr.clone()));
            false
        }
        None => true,
    });
    taken
}

/// Report an unknown key (with a suggestion) and skip its value so parsing can go on.
pub fn unknown_key(
    cx: &Ctxt,
    meta: &ParseNestedMeta<'_>,
    attr: &str,
    known: &[&str],
) -> syn::Result<()> {
    let key = meta
        .path
        .segments
        .last()
        .map(|s| s.ident.to_string())
        .unwrap_or_default();
    let list = prose_list(known);
    let msg = match did_you_mean(&key, known.iter().copied()) {
        Some(s) => format!(
            "unknown key `{key}` in #[{attr}]; did you mean `{s}`? (#[{attr}] accepts {list})"
        ),
        None => format!("unknown key `{key}` in #[{attr}]; #[{attr}] accepts {list}"),
    };
    cx.error_spanned_by(&meta.path, msg);
    skip_value(meta)
}

/// Skip `= expr` or `(..)` after a key.
pub fn skip_value(meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.peek(Token![=]) {
        meta.value()?.parse::<syn::Expr>()?;
    } else if meta.input.peek(syn::token::Paren) {
        let content;
        syn::parenthesized!(content in meta.input);
        content.parse::<proc_macro2::TokenStream>()?;
    }
    Ok(())
}

/// `= value` after a key, or an error saying what to write.
pub fn key_value<'a>(
    meta: &'a ParseNestedMeta<'a>,
    example: &str,
) -> syn::Result<syn::parse::ParseStream<'a>> {
    if !meta.input.peek(Token![=]) {
        let key = meta
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default();
        return Err(meta.error(format!("`{key}` needs a value: write `{key} = {example}`")));
    }
    meta.value()
}

/// Reject `= value` after a flag key.
pub fn flag(meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.peek(Token![=]) || meta.input.peek(syn::token::Paren) {
        let key = meta
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default();
        return Err(meta.error(format!(
            "`{key}` is a flag and takes no value: write just `{key}`"
        )));
    }
    Ok(())
}

/// "`a`, `b` and `c`".
pub fn prose_list(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("`{i}`")).collect();
    match quoted.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, init)) => format!("{} and {last}", init.join(", ")),
    }
}

/// The last identifier of a key path (`base` in `base = ..`).
pub fn key_name(meta: &ParseNestedMeta<'_>) -> String {
    if meta.path.segments.len() == 1 {
        meta.path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default()
    } else {
        // Multi-segment keys are never valid; make them unknown.
        String::from("<path>")
    }
}
