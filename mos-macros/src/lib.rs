//! Procedural macros of mos: the event DSL, compile-time checks of the event graph, and the
//! static dispatch it compiles to. Use them through `mos_runtime` (`#[mos_runtime::app]`).
//!
//! # One macro sees the whole graph
//! `#[mos_runtime::app] mod name { .. }` is the only real macro. It reads the helper attributes
//! inside the module — `#[event]`, `#[on]`, `#[flow_state]`, `#[core_state]` — and removes them;
//! because it sees every event and handler at once it can check whole-program properties
//! (unknown bases, hooks an event is never raised at, cycles among events) and generate one
//! straight-line function per (built-in event, hook). The helpers are also exported as
//! attributes of their own only so that misusing them outside an app gives a clear error; the
//! exception is `#[event]` on a `pub struct` outside any app, which defines a library event.
//!
//! ```ignore
//! #[mos_runtime::app(scope = "tcp dst port 80")]
//! mod http_monitor {
//!     use mos_runtime::prelude::*;
//!
//!     #[flow_state]
//!     #[derive(Default)]
//!     pub struct Flow { requests: u32 }
//!
//!     #[event(base = ON_CONN_NEW_DATA, filter = is_http_request)]
//!     pub struct HttpRequest;
//!     fn is_http_request(cx: &FilterCx<'_, Flow>) -> bool { cx.peek(cx.side()).starts_with(b"GET ") }
//!
//!     #[on(event = HttpRequest, hook = RCV)]
//!     fn log_request(cx: &mut Cx<'_, Flow>) { cx.flow_mut().requests += 1; }
//! }
//! ```
//!
//! # The DSL
//! - `#[app(scope = "...")]`: optional BPF-like scope (`tcp`, `udp`, `ip`, `ip6`, `host A`,
//!   `net A/len`, `port N`, `portrange N-M`, `src`/`dst`, `and`/`or`/`not`, parentheses; IPv4 and
//!   IPv6), parsed at compile time and compiled into integer comparisons in `App::in_scope`.
//! - `#[flow_state]` on the per-connection state type (struct, enum or type alias; it must be
//!   `Default + Send`). Required when any handler or filter runs on a flow event.
//! - `#[core_state]` or `#[core_state(merge = f, fork = g)]` on the per-core state type; the
//!   macro implements `CoreState`, with `merge` calling `f(&mut self, other)` and `fork` calling
//!   `g(&self)` when given (`fork` makes the initial state of workers 1.. of a `cores(n)` run
//!   from worker 0's, so configuration the handlers read reaches every worker).
//! - `#[event(base = B, filter = f)] pub struct E;` a named user-defined event. `B` is a built-in
//!   (`ON_CONN_NEW_DATA`), another event of the app, or a library event by path
//!   (`some_crate::HttpRequest` — a path, so that typos in local names stay errors).
//!   `f: fn(&FilterCx<'_, Flow[, Core]>) -> bool` (or `&PacketCx<'_[, Core]>` for events without
//!   a flow: `ON_ORPHAN`, and `ON_PKT_IN`/`ON_ERROR` at `NULL`).
//! - `#[event(base = Matcher, raised)] pub struct E;` a child event raised by `Matcher`'s filter,
//!   which then takes a second parameter `raise: &mut Raise` and calls
//!   `raise.raise(events::E)`; see `mos_runtime::ude`.
//! - `#[on(event = E, hook = SND|RCV|NULL[, per_flow])] fn h(cx: &mut Cx<'_, Flow[, Core]>)` a
//!   handler (`&mut PacketCx<'_[, Core]>` where there is no flow). `hook` may be omitted when the
//!   event is raised at one hook only. `per_flow` handlers start disabled on every flow.
//! - `#[event(base = B, filter = f)] #[on(hook = H)] fn h(..)` the short form: an anonymous
//!   event declared on its only handler (named `B[f]` in reports and graphs).
//!
//! # What is generated (inside the module)
//! - `pub struct App;` implementing `mos_runtime::App` and `mos_runtime::graph::AppGraph`, with
//!   inherent `App::EVENT_GRAPH` and `App::event_graph_dot()`;
//! - `pub mod handlers { pub const h: HandlerId = .. }` for `cx.disable(handlers::h)`;
//! - `pub mod events { pub const E: ChildEvent = .. }` when there are `raised` events.
//!
//! Items named `App`, `handlers` or `events` in the module are therefore rejected.
//!
//! # Dispatch
//! For each (built-in event, hook) pair with a handler below it, a function of direct calls and
//! `if filter(..)` tests in SPEC §2 order: depth-first and pre-order as in mOS (an event's own
//! handlers, in declaration order, then its child events, in declaration order, each with its
//! whole subtree); each filter runs at most once per occurrence of its base event; subtrees
//! without a handler at that hook are not generated, so their filters never run. Each call is gated by the handler's
//! per-flow enable bit, and a filter whose handlers are all disabled on the flow is skipped too.
//! Nothing is looked up at run time: no map, no vector, no `dyn`, no fn-pointer table.
//!
//! Library events (`base = some_crate::Event`) belong to a root built-in event, and have a
//! context (flow or packet-level), that only rustc knows; their subtrees are emitted into every
//! dispatch function of the same hook behind an `if const { root and context == this entry }`
//! test, which the compiler folds away. The hook says which context the macro generates for:
//! a flow at `SND`/`RCV`, none at `NULL`.
//!
//! # Library events
//! `#[event(base = B, filter = f)] pub struct E;` outside an app implements
//! `mos_runtime::ude::UserEvent`. The filter's signature makes it a flow event
//! (`fn f<F, C>(cx: &FilterCx<'_, F, C>) -> bool`, handled at `SND`/`RCV`) or a packet-level one
//! (`fn f<C>(cx: &PacketCx<'_, C>) -> bool`, base `ON_PKT_IN`, `ON_ORPHAN` or `ON_ERROR`,
//! handled at `NULL`). The macro sees the filter's path only, so the signature is read by the
//! type system (`__private::LibraryFilter`) and checked against the base by a `const`
//! assertion at the `filter = ..` token; `ON_TIMEOUT` (at `NULL` with a flow) is refused.
//!
//! # Errors
//! Parsing and analysis report into one collector ([`ctxt::Ctxt`]), each error on the user's
//! token with what to write instead. On error the module is re-emitted without the helper
//! attributes, with a `handlers` module and the `compile_error!`s, so the rest of the crate and
//! IDEs keep working. Type errors only rustc can find (the exact flow and core types of a
//! handler) come from the generated calls, which carry the user's spans; hooks of library events
//! are checked by `const` assertions at the hook the user wrote.
#![forbid(unsafe_code)]

mod analyze;
mod catalog;
mod codegen;
mod ctxt;
mod scope;
mod symbol;
mod syntax;
#[cfg(test)]
mod tests;

use proc_macro::TokenStream;
use proc_macro2::TokenStream as TokenStream2;
use quote::quote;

use ctxt::Ctxt;

/// Turn a module of annotated handlers into an app. See the crate docs for the DSL.
#[proc_macro_attribute]
pub fn app(args: TokenStream, input: TokenStream) -> TokenStream {
    expand_app(args.into(), input.into()).into()
}

/// A user-defined event. Inside a `#[mos_runtime::app]` module, the app reads it. On a
/// `pub struct` outside any app, it defines a library event (implements
/// `mos_runtime::ude::UserEvent`) that apps in other crates can use with
/// `base = some_crate::Name`: a flow event when its filter takes `&FilterCx<'_, F, C>`, a
/// packet-level event (handled at `NULL`) when it takes `&PacketCx<'_, C>`.
#[proc_macro_attribute]
pub fn event(args: TokenStream, input: TokenStream) -> TokenStream {
    expand_library_event(args.into(), input.into()).into()
}

/// A handler; only meaningful inside a `#[mos_runtime::app]` module.
#[proc_macro_attribute]
pub fn on(_args: TokenStream, input: TokenStream) -> TokenStream {
    outside_app(symbol::ON, input.into()).into()
}

/// The per-connection state type; only meaningful inside a `#[mos_runtime::app]` module.
#[proc_macro_attribute]
pub fn flow_state(_args: TokenStream, input: TokenStream) -> TokenStream {
    outside_app(symbol::FLOW_STATE, input.into()).into()
}

/// The per-core state type; only meaningful inside a `#[mos_runtime::app]` module.
#[proc_macro_attribute]
pub fn core_state(_args: TokenStream, input: TokenStream) -> TokenStream {
    outside_app(symbol::CORE_STATE, input.into()).into()
}

/// parse → analyze → codegen, or the module back with its errors.
fn expand_app(args: TokenStream2, input: TokenStream2) -> TokenStream2 {
    let cx = Ctxt::new();
    let Some(app) = syntax::parse_app(&cx, args, input.clone()) else {
        let errors = cx.check().err().map(|e| e.to_compile_error());
        return quote!(#input #errors);
    };
    let analysis = analyze::analyze(&cx, &app);
    match (cx.check(), analysis) {
        (Ok(()), Some(analysis)) => codegen::app(&app, &analysis),
        (Err(err), _) => codegen::recover(&app, err.to_compile_error()),
        // Analysis gave up without saying why: a bug here, but never a silent success.
        (Ok(()), None) => {
            let err = syn::Error::new_spanned(
                &app.name,
                "mos-macros: analysis failed without an error (please report)",
            );
            codegen::recover(&app, err.to_compile_error())
        }
    }
}

fn expand_library_event(args: TokenStream2, input: TokenStream2) -> TokenStream2 {
    let cx = Ctxt::new();
    let item: syn::Item = match syn::parse2(input.clone()) {
        Ok(item) => item,
        Err(err) => {
            let _ = cx.check();
            return err.to_compile_error();
        }
    };
    let out = syntax::parse_library_event(&cx, args, &item)
        .and_then(|(args, s)| codegen::library::library_event(&cx, args, &s));
    match (cx.check(), out) {
        (Ok(()), Some(out)) => out,
        (Err(err), _) => {
            let err = err.to_compile_error();
            quote!(#item #err)
        }
        (Ok(()), None) => input,
    }
}

/// `#[on]`, `#[flow_state]`, `#[core_state]` outside an app: the item back plus an error.
fn outside_app(name: &str, input: TokenStream2) -> TokenStream2 {
    // An attribute macro's call site is the attribute itself.
    let span = proc_macro2::Span::call_site();
    let msg = format!(
        "#[{name}] must be used inside a #[mos_runtime::app] module: put this item in `#[mos_runtime::app] mod my_app {{ .. }}`"
    );
    let err = syn::Error::new(span, msg).to_compile_error();
    quote!(#input #err)
}
