//! Syntax: from the tokens of `#[app(..)] mod name { .. }` to the plain data of [`ast::App`].
//!
//! Parsing reports into the shared [`Ctxt`] and keeps going wherever it can, so one build shows
//! every malformed attribute. Only an input that is not an inline module at all stops it.

pub mod ast;
pub mod parse;

pub use parse::{check_fn_shape, parse_app, parse_library_event};
