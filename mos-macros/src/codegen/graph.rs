//! `App::EVENT_GRAPH` and `App::event_graph_dot()`.

use proc_macro2::TokenStream;
use quote::quote;

use super::{hook_expr, rt};
use crate::analyze::{Analysis, Node, event_name};
use crate::syntax::ast::App;

/// Index of a node in the graph's `events`: built-ins `0..9`, then app events, then library
/// events. Library events' positions are known; their bases (roots) are const expressions.
fn index(app: &App, node: Node) -> usize {
    match node {
        Node::Builtin(b) => b as usize,
        Node::Local(i) => 9 + i,
        Node::External(x) => 9 + app.events.len() + x,
    }
}

/// The `AppGraph` impl and the inherent `EVENT_GRAPH` / `event_graph_dot`.
pub fn event_graph(app: &App, analysis: &Analysis) -> TokenStream {
    let rt = rt();
    let builtins = (0..9usize).map(|i| quote!(#rt::BUILTIN_NODES[#i]));
    let locals = app.events.iter().zip(&analysis.events).enumerate().map(|(i, (def, res))| {
        let name = event_name(app, i);
        let filter = def
            .filter
            .as_ref()
            .map(|f| quote::ToTokens::to_token_stream(f).to_string().replace(' ', ""))
            .unwrap_or_default();
        let anonymous = def.anonymous;
        let raised = res.child_bit.is_some();
        let base = u16::try_from(index(app, res.base)).unwrap_or(u16::MAX);
        quote! {
            #rt::EventNode {
                name: #name,
                kind: #rt::EventKind::User { filter: #filter, anonymous: #anonymous, raised: #raised },
                base: ::core::option::Option::Some(#base),
            }
        }
    });
    let externals = analysis.externals.iter().map(|ext| {
        let path = &ext.path;
        quote! {
            #rt::EventNode {
                name: <#path as #rt::UserEvent>::NAME,
                kind: #rt::EventKind::Library { filter: <#path as #rt::UserEvent>::FILTER },
                base: ::core::option::Option::Some(<#path as #rt::UserEvent>::ROOT as u16),
            }
        }
    });
    let handlers = app
        .handlers
        .iter()
        .zip(&analysis.handlers)
        .map(|(def, res)| {
            let name = def.ident.to_string();
            let event = u16::try_from(index(app, res.event)).unwrap_or(u16::MAX);
            let hook = hook_expr(res.hook);
            let per_flow = def.per_flow;
            quote! {
                #rt::HandlerNode { name: #name, event: #event, hook: #hook, per_flow: #per_flow }
            }
        });
    let name = app.name.to_string();
    quote! {
        impl #rt::AppGraph for App {
            const EVENT_GRAPH: #rt::EventGraph = #rt::EventGraph {
                app: #name,
                events: &[#(#builtins,)* #(#locals,)* #(#externals,)*],
                handlers: &[#(#handlers),*],
            };
        }

        impl App {
            /// This app's event graph (the one the macro checked).
            pub const EVENT_GRAPH: #rt::EventGraph = <Self as #rt::AppGraph>::EVENT_GRAPH;

            /// This app's event graph in Graphviz DOT.
            pub fn event_graph_dot() -> ::std::string::String {
                Self::EVENT_GRAPH.to_dot()
            }
        }
    }
}
