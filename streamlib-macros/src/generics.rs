//! Which generic parameters of an actor a type uses.
//!
//! A port struct takes only the parameters its payloads use (a struct with an unused parameter
//! does not compile), and a payload that uses one gets a plain `Payload` bound rather than a
//! checked assertion.

use std::collections::BTreeSet;

use proc_macro2::{TokenStream, TokenTree};
use quote::ToTokens;
use syn::{GenericParam, Generics, Type};

/// The names of an actor's type and const parameters, to tell which of them a type uses.
pub(crate) struct GenericNames(BTreeSet<String>);

impl GenericNames {
    pub(crate) fn of(generics: &Generics) -> GenericNames {
        let names = generics
            .params
            .iter()
            .filter_map(|param| match param {
                GenericParam::Type(param) => Some(param.ident.to_string()),
                GenericParam::Const(param) => Some(param.ident.to_string()),
                GenericParam::Lifetime(_) => None,
            })
            .collect();
        GenericNames(names)
    }

    /// The parameters named anywhere in `tokens`.
    pub(crate) fn used_by(&self, tokens: &impl ToTokens) -> BTreeSet<String> {
        fn walk(tokens: TokenStream, names: &BTreeSet<String>, used: &mut BTreeSet<String>) {
            for token in tokens {
                match token {
                    TokenTree::Ident(ident) if names.contains(&ident.to_string()) => {
                        used.insert(ident.to_string());
                    }
                    TokenTree::Group(group) => walk(group.stream(), names, used),
                    _ => {}
                }
            }
        }
        let mut used = BTreeSet::new();
        walk(tokens.to_token_stream(), &self.0, &mut used);
        used
    }

    /// The generics a port struct needs: the parameters its payloads use (and those their bounds
    /// use), with the where predicates about them only. A port struct with a parameter it does
    /// not use would not compile.
    pub(crate) fn subset_for(&self, generics: &Generics, payloads: &[&Type]) -> Generics {
        let mut used: BTreeSet<String> = payloads.iter().flat_map(|ty| self.used_by(ty)).collect();
        loop {
            let before = used.len();
            for param in &generics.params {
                let (name, bounds) = match param {
                    GenericParam::Type(param) => (&param.ident, param.bounds.to_token_stream()),
                    GenericParam::Const(param) => (&param.ident, param.ty.to_token_stream()),
                    GenericParam::Lifetime(_) => continue,
                };
                if used.contains(&name.to_string()) {
                    used.extend(self.used_by(&bounds));
                }
            }
            if used.len() == before {
                break;
            }
        }
        let mut subset = generics.clone();
        subset.params = generics
            .params
            .iter()
            .filter(|param| match param {
                GenericParam::Type(param) => used.contains(&param.ident.to_string()),
                GenericParam::Const(param) => used.contains(&param.ident.to_string()),
                GenericParam::Lifetime(_) => false,
            })
            .cloned()
            .collect();
        if let Some(where_clause) = &mut subset.where_clause {
            where_clause.predicates = where_clause
                .predicates
                .iter()
                .filter(|predicate| {
                    let named = self.used_by(predicate);
                    !named.is_empty() && named.is_subset(&used)
                })
                .cloned()
                .collect();
        }
        if subset.params.is_empty() {
            subset.lt_token = None;
            subset.gt_token = None;
        }
        subset
    }
}
