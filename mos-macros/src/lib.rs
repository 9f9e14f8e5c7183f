//! Procedural macros of mos (see the `mos-macros` issue for the full DSL).
#![forbid(unsafe_code)]

use proc_macro::TokenStream;

/// Placeholder until the app macro lands: re-emits the module unchanged.
#[proc_macro_attribute]
pub fn app(_args: TokenStream, input: TokenStream) -> TokenStream {
    input
}
