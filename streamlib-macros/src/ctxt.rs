//! The error collector every stage writes to (as serde's `ctxt.rs`): one per macro invocation,
//! created by `expand` and handed down to `ast`, `attr` and `valid`, so that no stage imports
//! another to report an error.
//!
//! Errors are collected, not returned at the first one: an invocation with three mistakes gets
//! three errors in one build. One mistake is one error: where a mistake has two places (a port
//! name given twice), the error stands at the place to change and its message carries a `note:`
//! line naming the other place ([`Errors::push_noted`]). Stable proc macros cannot attach a
//! spanned note to an error (`proc_macro::Diagnostic` is unstable), and `syn::Error::combine`
//! would make the second place a second error, counted and listed as a mistake of its own.

use std::fmt::Display;

use proc_macro2::Span;

/// All errors of one macro invocation, combined into one `syn::Error`.
#[derive(Default)]
pub(crate) struct Errors(Option<syn::Error>);

impl Errors {
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(errors) => errors.combine(error),
            None => self.0 = Some(error),
        }
    }

    /// One error at `span` whose message ends with a `note:` line about another place that
    /// belongs to the same mistake: `message` says what is wrong here, `note` where the other
    /// half is (by its name: a note has no span of its own).
    pub(crate) fn push_noted(&mut self, span: Span, message: impl Display, note: impl Display) {
        self.push(syn::Error::new(span, format!("{message}\nnote: {note}")));
    }

    pub(crate) fn extend(&mut self, errors: impl IntoIterator<Item = syn::Error>) {
        for error in errors {
            self.push(error);
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    pub(crate) fn finish(self) -> syn::Result<()> {
        match self.0 {
            Some(errors) => Err(errors),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(errors: Errors) -> Vec<String> {
        match errors.finish() {
            Ok(()) => Vec::new(),
            Err(error) => error.into_iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn collects_every_error_in_order() {
        let mut errors = Errors::default();
        assert!(errors.is_empty());
        errors.push(syn::Error::new(Span::call_site(), "first"));
        errors.extend([syn::Error::new(Span::call_site(), "second")]);
        assert!(!errors.is_empty());
        assert_eq!(messages(errors), ["first", "second"]);
    }

    #[test]
    fn a_noted_error_is_one_error() {
        let mut errors = Errors::default();
        errors.push_noted(
            Span::call_site(),
            "duplicate `x`",
            "`x` is first named by `a`",
        );
        assert_eq!(
            messages(errors),
            ["duplicate `x`\nnote: `x` is first named by `a`"]
        );
    }

    #[test]
    fn no_error_finishes_ok() {
        assert!(Errors::default().finish().is_ok());
    }
}
