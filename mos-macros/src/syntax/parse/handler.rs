//! `#[on(event = .., hook = .., per_flow)]` and the shape of a handler fn.

use syn::{Attribute, Path};

use super::event::event_ref;
use super::{flag, key_name, key_value, unknown_key};
use crate::catalog::{Hook, did_you_mean};
use crate::ctxt::Ctxt;
use crate::symbol;
use crate::syntax::ast::{EventRef, HookRef};

/// The keys of one `#[on(..)]`.
#[derive(Debug, Default)]
pub struct OnArgs {
    pub event: Option<EventRef>,
    pub hook: Option<HookRef>,
    pub per_flow: bool,
    /// Something in the attribute was reported already.
    pub malformed: bool,
}

/// Parse the keys of an `#[on(..)]` attribute. `#[on]` alone is allowed (an anonymous event's
/// handler whose event has a single hook).
pub fn parse_on_attr(cx: &Ctxt, attr: &Attribute) -> OnArgs {
    let mut args = OnArgs::default();
    if let syn::Meta::Path(_) = attr.meta {
        return args;
    }
    let before = cx.error_count();
    let result = attr.parse_nested_meta(|meta| {
        match key_name(&meta).as_str() {
            symbol::EVENT_KEY => {
                let value: Path = key_value(&meta, "ON_PKT_IN")?.parse()?;
                if args.event.is_some() {
                    cx.error_spanned_by(&meta.path, "duplicate `event`: a handler handles one event; write a second handler fn for another");
                } else {
                    args.event = Some(event_ref(value));
                }
            }
            symbol::HOOK => {
                let value: Path = key_value(&meta, "RCV")?.parse()?;
                let hook = hook_ref(cx, &value);
                if args.hook.is_some() {
                    cx.error_spanned_by(&meta.path, "duplicate `hook`: a handler runs at one hook; write a second handler fn for another");
                } else {
                    args.hook = hook;
                }
            }
            symbol::PER_FLOW => {
                flag(&meta)?;
                if args.per_flow {
                    cx.error_spanned_by(&meta.path, "duplicate `per_flow`");
                }
                args.per_flow = true;
            }
            _ => unknown_key(cx, &meta, symbol::ON, symbol::ON_KEYS)?,
        }
        Ok(())
    });
    if let Err(err) = result {
        cx.syn_error(err);
    }
    args.malformed = cx.error_count() > before;
    args
}

/// `SND`, `RCV`, `NULL` (also through a path such as `prelude::RCV` or `Hook::Rcv`).
fn hook_ref(cx: &Ctxt, path: &Path) -> Option<HookRef> {
    let last = path.segments.last()?;
    let name = last.ident.to_string();
    let hook =
        Hook::from_name(&name).or_else(|| Hook::ALL.into_iter().find(|h| h.variant() == name));
    match hook {
        Some(hook) if last.arguments.is_none() => Some(HookRef {
            hook,
            ident: last.ident.clone(),
        }),
        _ => {
            let hint = did_you_mean(&name, Hook::ALL.map(Hook::name))
                .map(|s| format!("did you mean `{s}`? "))
                .unwrap_or_default();
            cx.error_spanned_by(
                path,
                format!("unknown hook `{name}`; {hint}a hook is one of `SND`, `RCV` or `NULL`"),
            );
            None
        }
    }
}

/// Check the parts of a handler fn's shape that do not depend on its event: a plain, sync,
/// non-variadic fn (the parameter itself is checked once the event is resolved).
pub fn check_handler_shape(cx: &Ctxt, sig: &syn::Signature, what: &str) {
    if let Some(token) = &sig.asyncness {
        cx.error_spanned_by(
            token,
            format!(
                "{what} cannot be `async`: the runtime calls it synchronously on the packet path"
            ),
        );
    }
    if let Some(token) = &sig.constness {
        cx.error_spanned_by(token, format!("{what} cannot be `const`"));
    }
    if let Some(token) = &sig.unsafety {
        cx.error_spanned_by(token, format!("{what} cannot be `unsafe`"));
    }
    if let Some(abi) = &sig.abi {
        cx.error_spanned_by(abi, format!("{what} must be a plain Rust fn (no `extern`)"));
    }
    if let Some(variadic) = &sig.variadic {
        cx.error_spanned_by(variadic, format!("{what} cannot be variadic"));
    }
}
