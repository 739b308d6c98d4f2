//! Every check the macros make themselves, each error spanned on the user's token.
//!
//! Errors are collected, not returned at the first one: an invocation with three mistakes gets
//! three errors in one build. What rustc can check better (an unknown actor binding or port, a
//! payload type mismatch, a port used in the wrong direction) is left to it; see `expand`.

use std::collections::BTreeMap;

use quote::quote;
use syn::{GenericParam, LitInt};

use crate::ast::{Actor, Direction, Pipeline, Port};

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

// ---------------------------------------------------------------------------------------------
// #[actor]

/// Checks an actor's options, generics and ports.
pub(crate) fn actor(actor: &Actor, errors: &mut Errors) {
    options(actor, errors);
    for param in &actor.item.generics.params {
        if let GenericParam::Lifetime(param) = param {
            errors.push(syn::Error::new(
                param.lifetime.span(),
                "an actor cannot borrow: it is moved to a worker thread and lives as long as the \
                 runtime (`'static`), so `#[actor]` takes no lifetime parameters",
            ));
        }
    }
    for port in &actor.ports {
        port_type(port, errors);
        if port.ident().is_none() {
            errors.push(syn::Error::new(
                port.name_span(),
                format!(
                    "port name {:?} is not a Rust identifier: it names a field of `{}{}`",
                    port.name(),
                    actor.item.ident,
                    match port.direction {
                        Direction::Input => "Inputs",
                        Direction::Output => "Outputs",
                    }
                ),
            ));
        }
    }
    unique_names(actor.inputs(), errors);
    unique_names(actor.outputs(), errors);
}

fn options(actor: &Actor, errors: &mut Errors) {
    let options = &actor.options;
    if let Some(class) = &options.class {
        let name = class.value.value();
        if syn::parse_str::<syn::Ident>(&name).is_err() || name.starts_with("r#") {
            errors.push(syn::Error::new(
                class.value.span(),
                format!(
                    "class name {name:?} is not a Rust identifier: it is the `Class` part of \
                     `actor://host/Class/id`"
                ),
            ));
        }
    }
    // Zero does not tick; over 10^9 a second, the period rounds to 0 ns (the runtime refuses it).
    if let Some(fps) = &options.fps {
        non_zero(&fps.value, "`fps`", errors);
        errors.extend(faster_than_a_nanosecond(&fps.value, 1));
    }
    if let Some(rate) = &options.rate {
        non_zero(&rate.value.num, "the numerator of `rate`", errors);
        non_zero(&rate.value.den, "the denominator of `rate`", errors);
        if let Ok(den) = rate.value.den.base10_parse::<u32>() {
            errors.extend(faster_than_a_nanosecond(&rate.value.num, u64::from(den)));
        }
    }
    if let (Some(_), Some(rate)) = (&options.fps, &options.rate) {
        errors.push(syn::Error::new(
            rate.key.span(),
            "`fps` and `rate` both set the clock rate: keep one (`fps = 30` is `rate = (30, 1)`)",
        ));
    }
}

/// Most ticks a second a clock can have: more and the period rounds to 0 ns.
const MAX_FPS: u64 = 1_000_000_000;

/// An error on `num` if `num / den` ticks a second is more than [`MAX_FPS`].
fn faster_than_a_nanosecond(num: &LitInt, den: u64) -> Option<syn::Error> {
    let value = num.base10_parse::<u32>().ok()?;
    (den > 0 && u64::from(value) > den * MAX_FPS).then(|| {
        syn::Error::new(
            num.span(),
            format!(
                "{value}/{den} ticks a second is too fast: the period rounds to 0 ns (at most \
                 {MAX_FPS} a second)"
            ),
        )
    })
}

/// A `u32` greater than zero: a clock must tick.
fn non_zero(lit: &LitInt, what: &str, errors: &mut Errors) {
    match lit.base10_parse::<u32>() {
        Ok(0) => errors.push(syn::Error::new(
            lit.span(),
            format!("{what} must not be zero: an actor's clock must tick"),
        )),
        Ok(_) => {}
        Err(_) => errors.push(syn::Error::new(
            lit.span(),
            format!("{what} must be a whole number from 1 to {}", u32::MAX),
        )),
    }
}

/// An `#[input]` is `Input<T>`, an `#[output]` is `Output<T>`.
fn port_type(port: &Port, errors: &mut Errors) {
    if port.payload.is_some() {
        return;
    }
    let ty = &port.ty;
    let written = quote!(#ty).to_string();
    errors.push(syn::Error::new_spanned(
        ty,
        format!(
            "an `#[{attribute}]` field has type `{expected}<T>`, with `T` its payload; found `{}`",
            tidy(&written),
            attribute = port.direction.attribute(),
            expected = port.direction.port_type(),
        ),
    ));
}

/// Two ports of one direction with the same name: an error at each.
fn unique_names<'a>(ports: impl Iterator<Item = &'a Port>, errors: &mut Errors) {
    let mut seen: BTreeMap<String, &Port> = BTreeMap::new();
    for port in ports {
        let name = port.name();
        match seen.get(&name) {
            Some(first) => {
                let direction = port.direction.attribute();
                errors.push(syn::Error::new(
                    port.name_span(),
                    format!("duplicate {direction} port name `{name}`"),
                ));
                errors.push(syn::Error::new(
                    first.name_span(),
                    format!(
                        "{direction} port `{name}` is also named here (inputs and outputs are \
                         separate namespaces, but names within one must differ)"
                    ),
                ));
            }
            None => {
                seen.insert(name, port);
            }
        }
    }
}

/// Type tokens as a person writes them: `Vec<u8>`, not `Vec < u8 >`.
pub(crate) fn tidy(tokens: &str) -> String {
    let mut text = tokens.to_owned();
    for (from, to) in [
        (" < ", "<"),
        (" <", "<"),
        ("< ", "<"),
        (" >", ">"),
        (" , ", ", "),
        (" :: ", "::"),
        (":: ", "::"),
        (" ::", "::"),
        ("& ", "&"),
        (" ;", ";"),
        ("[ ", "["),
        (" ]", "]"),
        ("( ", "("),
        (" )", ")"),
    ] {
        text = text.replace(from, to);
    }
    text
}

// ---------------------------------------------------------------------------------------------
// pipeline!

/// Checks the graph of one `pipeline!`: where `->` may stand, and that no input is driven twice.
pub(crate) fn pipeline(pipeline: &Pipeline, errors: &mut Errors) {
    for chain in &pipeline.chains {
        let (first, last) = (&chain.hops[0], &chain.hops[chain.hops.len() - 1]);
        if let Some((arrow, output)) = &first.renamed_output {
            errors.push(syn::Error::new_spanned(
                quote!(#arrow #output),
                format!(
                    "`->` names the output of a middle hop, but `{actor}` starts this chain: \
                     write `{actor}.{output}`",
                    actor = first.actor,
                ),
            ));
        }
        if let Some((arrow, output)) = &last.renamed_output {
            errors.push(syn::Error::new_spanned(
                quote!(#arrow #output),
                format!(
                    "`->` names the output of a middle hop, but `{actor}` ends this chain: only \
                     its input `{input}` is used, so remove `-> {output}`",
                    actor = last.actor,
                    input = last.port,
                ),
            ));
        }
    }
    driven_once(pipeline, errors);
}

/// An input reads one output: the same input on the right of two `>>` is an error at both.
fn driven_once(pipeline: &Pipeline, errors: &mut Errors) {
    let mut driven = BTreeMap::new();
    for edge in pipeline.chains.iter().flat_map(|chain| chain.edges()) {
        let (actor, input) = (&edge.to.actor, edge.to.input());
        let key = (unraw(actor), unraw(input));
        match driven.get(&key) {
            Some(first) => {
                errors.push(syn::Error::new_spanned(
                    quote!(#actor . #input),
                    format!(
                        "input `{actor}.{input}` is driven twice in this `pipeline!`: an input \
                         reads from one output (an output may feed many inputs)"
                    ),
                ));
                errors.push(syn::Error::new_spanned(
                    first,
                    format!("`{actor}.{input}` is also driven here"),
                ));
            }
            None => {
                driven.insert(key, quote!(#actor . #input));
            }
        }
    }
}

fn unraw(ident: &syn::Ident) -> String {
    syn::ext::IdentExt::unraw(ident).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tidy_writes_types_like_a_person() {
        let ty: syn::Type =
            syn::parse_quote!(std::collections::HashMap<String, Vec<(u8, &'static str)>>);
        assert_eq!(
            tidy(&quote!(#ty).to_string()),
            "std::collections::HashMap<String, Vec<(u8, &'static str)>>"
        );
        let ty: syn::Type = syn::parse_quote!([f32; 4]);
        assert_eq!(tidy(&quote!(#ty).to_string()), "[f32; 4]");
    }
}
