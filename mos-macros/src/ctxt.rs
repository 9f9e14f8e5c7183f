//! The error collector threaded through parsing and analysis.
//!
//! Every stage reports into one [`Ctxt`] instead of returning at the first problem, so a user
//! sees all the mistakes of an app in one build, each on their own token. [`Ctxt::check`] must
//! be called before the context is dropped: forgetting it is a bug in this crate (errors would
//! be lost silently), which the drop bomb turns into a loud panic during development.

use std::cell::RefCell;
use std::fmt::Display;

use quote::ToTokens;

/// Accumulates `syn::Error`s; consumed by [`Ctxt::check`].
#[derive(Debug)]
pub struct Ctxt {
    /// `None` once `check` ran.
    errors: RefCell<Option<Vec<syn::Error>>>,
}

impl Ctxt {
    /// An empty collector.
    pub fn new() -> Self {
        Ctxt {
            errors: RefCell::new(Some(Vec::new())),
        }
    }

    /// Report `msg` on the span of `tokens` (all of it, first to last token).
    pub fn error_spanned_by<T: ToTokens, M: Display>(&self, tokens: T, msg: M) {
        self.syn_error(syn::Error::new_spanned(tokens.into_token_stream(), msg));
    }

    /// Report an error built elsewhere (a `syn` parse error keeps its own span).
    pub fn syn_error(&self, err: syn::Error) {
        if let Some(errors) = self.errors.borrow_mut().as_mut() {
            errors.push(err);
        }
    }

    /// How many errors were reported so far (a parser compares counts to know whether the item
    /// it just parsed was malformed, and then skips follow-up errors about it).
    pub fn error_count(&self) -> usize {
        self.errors.borrow().as_ref().map_or(0, Vec::len)
    }

    /// Whether anything was reported so far.
    pub fn has_errors(&self) -> bool {
        self.errors
            .borrow()
            .as_ref()
            .is_some_and(|errors| !errors.is_empty())
    }

    /// Consume the collector: `Err` with every error combined into one, if there were any.
    pub fn check(self) -> syn::Result<()> {
        let errors = self.errors.borrow_mut().take().unwrap_or_default();
        let mut iter = errors.into_iter();
        match iter.next() {
            None => Ok(()),
            Some(mut first) => {
                for rest in iter {
                    first.combine(rest);
                }
                Err(first)
            }
        }
    }
}

impl Drop for Ctxt {
    fn drop(&mut self) {
        if !std::thread::panicking() && self.errors.borrow().is_some() {
            panic!("mos-macros bug: Ctxt dropped without check()");
        }
    }
}
