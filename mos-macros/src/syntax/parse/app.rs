//! Walk the app module: route `#[event]`/`#[on]`/`#[flow_state]`/`#[core_state]` items into the
//! model and keep every item (minus those attributes) for re-emission.

use proc_macro2::TokenStream;
use syn::{Attribute, Item, LitStr};

use super::event::parse_event_attr;
use super::handler::{check_handler_shape, parse_on_attr};
use super::{Helper, key_name, key_value, take_helpers, unknown_key};
use crate::ctxt::Ctxt;
use crate::scope;
use crate::symbol;
use crate::syntax::ast::{App, CoreStateDef, EventDef, HandlerDef, ScopeArg, StateDef};

/// Parse `#[app(args)] input`. `None` when the input is not an inline module (reported).
pub fn parse_app(cx: &Ctxt, args: TokenStream, input: TokenStream) -> Option<App> {
    let scope = parse_args(cx, args);
    let module: syn::ItemMod = match syn::parse2(input) {
        Ok(m) => m,
        Err(err) => {
            cx.syn_error(syn::Error::new(
                err.span(),
                "#[mos_runtime::app] goes on an inline module: `mod my_app { ... }`",
            ));
            return None;
        }
    };
    let Some((_, content)) = module.content else {
        cx.error_spanned_by(&module.ident, "#[mos_runtime::app] needs the module's items inline: write `mod name { ... }`, not `mod name;`");
        return None;
    };
    if module.unsafety.is_some() {
        cx.error_spanned_by(module.unsafety, "an app module cannot be `unsafe`");
    }

    let mut app = App {
        attrs: module.attrs,
        vis: module.vis,
        name: module.ident,
        scope,
        flow_states: Vec::new(),
        core_states: Vec::new(),
        events: Vec::new(),
        handlers: Vec::new(),
        items: Vec::new(),
    };
    let mut decl = 0usize;
    for mut item in content {
        let helpers = match item_attrs_mut(&mut item) {
            Some(attrs) => take_helpers(attrs),
            None => Vec::new(),
        };
        if !helpers.is_empty() {
            route(cx, &mut app, &mut item, helpers, &mut decl);
        }
        app.items.push(item);
    }
    Some(app)
}

/// `scope = "..."`.
fn parse_args(cx: &Ctxt, args: TokenStream) -> Option<ScopeArg> {
    let mut scope = None;
    let parser = syn::meta::parser(|meta| {
        match key_name(&meta).as_str() {
            symbol::SCOPE => {
                let lit: LitStr = match key_value(&meta, "\"tcp port 80\"")?.parse::<syn::Lit>()? {
                    syn::Lit::Str(s) => s,
                    other => {
                        return Err(syn::Error::new_spanned(
                            other,
                            "`scope` takes a string: `scope = \"tcp dst port 80\"`",
                        ));
                    }
                };
                if scope.is_some() {
                    cx.error_spanned_by(
                        &meta.path,
                        "duplicate `scope`; combine the conditions with `and`/`or` in one string",
                    );
                    return Ok(());
                }
                match scope::parse(&lit.value()) {
                    Ok(expr) => scope = Some(ScopeArg { lit, expr }),
                    Err(err) => cx.error_spanned_by(&lit, err),
                }
            }
            _ => unknown_key(cx, &meta, symbol::APP, symbol::APP_KEYS)?,
        }
        Ok(())
    });
    if let Err(err) = syn::parse::Parser::parse2(parser, args) {
        cx.syn_error(err);
    }
    scope
}

/// The attributes of the items the DSL can annotate.
fn item_attrs_mut(item: &mut Item) -> Option<&mut Vec<Attribute>> {
    match item {
        Item::Const(i) => Some(&mut i.attrs),
        Item::Enum(i) => Some(&mut i.attrs),
        Item::ExternCrate(i) => Some(&mut i.attrs),
        Item::Fn(i) => Some(&mut i.attrs),
        Item::ForeignMod(i) => Some(&mut i.attrs),
        Item::Impl(i) => Some(&mut i.attrs),
        Item::Macro(i) => Some(&mut i.attrs),
        Item::Mod(i) => Some(&mut i.attrs),
        Item::Static(i) => Some(&mut i.attrs),
        Item::Struct(i) => Some(&mut i.attrs),
        Item::Trait(i) => Some(&mut i.attrs),
        Item::TraitAlias(i) => Some(&mut i.attrs),
        Item::Type(i) => Some(&mut i.attrs),
        Item::Union(i) => Some(&mut i.attrs),
        Item::Use(i) => Some(&mut i.attrs),
        _ => None,
    }
}

/// Turn one annotated item into model entries.
fn route(
    cx: &Ctxt,
    app: &mut App,
    item: &mut Item,
    helpers: Vec<(Helper, Attribute)>,
    decl: &mut usize,
) {
    // At most one of each helper per item.
    let mut seen: Vec<Helper> = Vec::new();
    let mut unique = Vec::new();
    for (h, attr) in helpers {
        if seen.contains(&h) {
            let msg = match h {
                Helper::On => {
                    "a handler has one #[on]; to run the same code at another event or hook, write a second handler fn that calls this one"
                }
                Helper::Event => "an item declares at most one event",
                Helper::FlowState => "duplicate #[flow_state] on one item",
                Helper::CoreState => "duplicate #[core_state] on one item",
            };
            cx.error_spanned_by(&attr, msg);
        } else {
            seen.push(h);
            unique.push((h, attr));
        }
    }
    let get = |h: Helper| unique.iter().find(|(k, _)| *k == h).map(|(_, a)| a.clone());
    let event = get(Helper::Event);
    let on = get(Helper::On);
    let flow_state = get(Helper::FlowState);
    let core_state = get(Helper::CoreState);

    match item {
        Item::Fn(f) => {
            for attr in [&flow_state, &core_state].into_iter().flatten() {
                cx.error_spanned_by(attr, "#[flow_state] and #[core_state] go on a struct, enum or type alias holding the state, not on a fn");
            }
            let Some(on) = on else {
                if let Some(event) = event {
                    cx.error_spanned_by(
                        &event,
                        "an #[event] on a fn declares that handler's own (anonymous) event: add `#[on(hook = ...)]` below it, or put the #[event] on a `pub struct` to name the event",
                    );
                }
                return;
            };
            check_handler_shape(cx, &f.sig, "a handler");
            let on_args = parse_on_attr(cx, &on);
            let anonymous_event = event.map(|attr| {
                let args = parse_event_attr(cx, &attr);
                app.events.push(EventDef {
                    ident: f.sig.ident.clone(),
                    anonymous: true,
                    base: args.base,
                    filter: args.filter,
                    raised: args.raised,
                    attr,
                    decl: *decl,
                    malformed: args.malformed,
                });
                *decl += 1;
                app.events.len() - 1
            });
            app.handlers.push(HandlerDef {
                ident: f.sig.ident.clone(),
                sig: f.sig.clone(),
                event: on_args.event,
                hook: on_args.hook,
                per_flow: on_args.per_flow,
                anonymous_event,
                attr: on,
                decl: *decl,
                malformed: on_args.malformed,
            });
            *decl += 1;
        }
        Item::Struct(_) | Item::Enum(_) | Item::Type(_) | Item::Union(_) => {
            let ident = match item {
                Item::Struct(s) => s.ident.clone(),
                Item::Enum(e) => e.ident.clone(),
                Item::Type(t) => t.ident.clone(),
                Item::Union(u) => u.ident.clone(),
                _ => return,
            };
            if let Some(on) = &on {
                cx.error_spanned_by(on, "#[on] goes on a handler fn");
            }
            let roles = [event.is_some(), flow_state.is_some(), core_state.is_some()];
            if roles.iter().filter(|r| **r).count() > 1 {
                let second = [&event, &flow_state, &core_state]
                    .into_iter()
                    .flatten()
                    .nth(1);
                if let Some(attr) = second {
                    cx.error_spanned_by(
                        attr,
                        "an item is one of: an event, the flow state, the core state",
                    );
                }
                return;
            }
            if let Some(attr) = event {
                if !matches!(item, Item::Struct(_)) {
                    cx.error_spanned_by(&attr, "#[event] goes on a struct (a named event) or on a handler fn (an anonymous event)");
                    return;
                }
                let args = parse_event_attr(cx, &attr);
                if let Item::Struct(s) = item {
                    if !s.generics.params.is_empty() {
                        cx.error_spanned_by(&s.generics, "an event type cannot be generic");
                    }
                    // The struct is a name for the graph; generated code never constructs it.
                    s.attrs.push(syn::parse_quote!(#[allow(dead_code)]));
                    app.events.push(EventDef {
                        ident: ident.clone(),
                        anonymous: false,
                        base: args.base,
                        filter: args.filter,
                        raised: args.raised,
                        attr,
                        decl: *decl,
                        malformed: args.malformed,
                    });
                    *decl += 1;
                }
            }
            if let Some(attr) = flow_state {
                if let syn::Meta::List(list) = &attr.meta {
                    cx.error_spanned_by(list, "#[flow_state] takes no arguments");
                }
                app.flow_states.push(StateDef {
                    ident: ident.clone(),
                    attr,
                });
            }
            if let Some(attr) = core_state {
                let (merge, fork) = parse_core_state_attr(cx, &attr);
                app.core_states.push(CoreStateDef {
                    ident,
                    attr,
                    merge,
                    fork,
                });
            }
        }
        _ => {
            let (_, attr) = &unique[0];
            let msg = match unique[0].0 {
                Helper::On => "#[on] goes on a handler fn",
                Helper::Event => {
                    "#[event] goes on a struct (a named event) or on a handler fn (an anonymous event)"
                }
                Helper::FlowState | Helper::CoreState => {
                    "#[flow_state] and #[core_state] go on a struct, enum or type alias holding the state"
                }
            };
            cx.error_spanned_by(attr, msg);
        }
    }
}

/// `#[core_state]` or `#[core_state(merge = f, fork = g)]`.
fn parse_core_state_attr(cx: &Ctxt, attr: &Attribute) -> (Option<syn::Path>, Option<syn::Path>) {
    if let syn::Meta::Path(_) = attr.meta {
        return (None, None);
    }
    let mut merge = None;
    let mut fork = None;
    let result = attr.parse_nested_meta(|meta| {
        let (slot, what) = match key_name(&meta).as_str() {
            symbol::MERGE => (&mut merge, "merge"),
            symbol::FORK => (&mut fork, "fork"),
            _ => return unknown_key(cx, &meta, symbol::CORE_STATE, symbol::CORE_STATE_KEYS),
        };
        let path: syn::Path = key_value(&meta, &format!("{what}_fn"))?.parse()?;
        if slot.is_some() {
            cx.error_spanned_by(&meta.path, format!("duplicate `{what}`"));
        } else {
            *slot = Some(path);
        }
        Ok(())
    });
    if let Err(err) = result {
        cx.syn_error(err);
    }
    (merge, fork)
}
