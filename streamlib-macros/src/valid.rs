//! Every check the macros make themselves, each error spanned on the user's token.
//!
//! Errors go to the invocation's collector (`ctxt`). What rustc can check better (an unknown
//! actor binding or port, a payload type mismatch, a port used in the wrong direction) is left to
//! it; see `expand`.

use std::collections::BTreeMap;

use quote::quote;
use syn::{GenericParam, LitInt};

use crate::ast::{Actor, Direction, Pipeline, Port};
use crate::ctxt::Errors;

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
        queue(port, errors);
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
    trigger(actor, errors);
}

/// `on = "x"` names an input port of the actor.
fn trigger(actor: &Actor, errors: &mut Errors) {
    let Some(on) = &actor.options.on else {
        return;
    };
    let wanted = on.value.value();
    let inputs: Vec<String> = actor.inputs().map(Port::name).collect();
    if inputs.contains(&wanted) {
        return;
    }
    let names: Vec<&str> = inputs.iter().map(String::as_str).collect();
    let message = match (crate::attr::closest(&wanted, &names), names.is_empty()) {
        (_, true) => format!(
            "`on = {wanted:?}` names no input: `{}` has no `#[input]` port to be triggered by",
            actor.item.ident
        ),
        (Some(close), _) => format!(
            "`on = {wanted:?}` names no input of `{}`; did you mean `{close}`?",
            actor.item.ident
        ),
        (None, _) => format!(
            "`on = {wanted:?}` names no input of `{}`; its inputs are {}",
            actor.item.ident,
            crate::attr::list(&names)
        ),
    };
    errors.push(syn::Error::new(on.value.span(), message));
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
            "an `#[{attribute}]` field has type `{expected}<T>`{set}, with `T` its payload; found `{}`",
            tidy(&written),
            attribute = port.direction.attribute(),
            expected = port.direction.port_type(),
            set = match port.direction {
                Direction::Input => " (or `Inputs<T>` for an input set)",
                Direction::Output => "",
            },
        ),
    ));
}

/// `queue = N` on an input, with `1 <= N <= 2^20` (the runtime's `MAX_QUEUE`).
fn queue(port: &Port, errors: &mut Errors) {
    let Some(queue) = &port.queue else {
        return;
    };
    if port.direction == Direction::Output {
        errors.push(syn::Error::new(
            queue.key.span(),
            "`queue` is an option of `#[input]`: an output never queues (each queued input \
             keeps its own queue of what the output writes)",
        ));
        return;
    }
    match queue.value.base10_parse::<u64>() {
        Ok(0) => errors.push(syn::Error::new(
            queue.value.span(),
            "a queue of 0 values cannot hold an event: use `queue = N` with N >= 1, or plain \
             `#[input]` for latest-value reads",
        )),
        Ok(n) if n > MAX_QUEUE => errors.push(syn::Error::new(
            queue.value.span(),
            format!("a queued input holds at most {MAX_QUEUE} pending values (its slots are allocated up front)"),
        )),
        Ok(_) => {}
        Err(_) => errors.push(syn::Error::new(
            queue.value.span(),
            format!("`queue` is a whole number of values from 1 to {MAX_QUEUE}"),
        )),
    }
}

/// `streamlib::port::MAX_QUEUE`.
const MAX_QUEUE: u64 = 1 << 20;

/// Two ports of one direction with the same name: one error, at the second, with a note naming
/// the field of the first.
fn unique_names<'a>(ports: impl Iterator<Item = &'a Port>, errors: &mut Errors) {
    let mut seen: BTreeMap<String, &Port> = BTreeMap::new();
    for port in ports {
        let name = port.name();
        match seen.get(&name) {
            Some(first) => {
                let direction = port.direction.attribute();
                errors.push_noted(
                    port.name_span(),
                    format_args!("duplicate {direction} port name `{name}`"),
                    format_args!(
                        "field `{}` already names {direction} port `{name}` (inputs and outputs \
                         are separate namespaces, but names within one must differ)",
                        first.field
                    ),
                );
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

/// Checks the graph of one `pipeline!`: where `->` may stand. (An input driven twice is checked
/// by type: only an input set may be; see `expand::pipeline`.)
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
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The messages `valid::actor` reports for `item` under `#[actor]`.
    fn actor_errors(item: proc_macro2::TokenStream) -> Vec<String> {
        let mut errors = Errors::default();
        let item = syn::parse2(item).unwrap();
        let Ok(parsed) = Actor::from_item(quote!(), item, &mut errors) else {
            panic!("not an actor struct");
        };
        actor(&parsed, &mut errors);
        match errors.finish() {
            Ok(()) => Vec::new(),
            Err(error) => error.into_iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn a_duplicate_port_name_is_one_error_with_a_note() {
        let messages = actor_errors(quote! {
            struct Mixer {
                #[input] left: Input<f32>,
                #[input(name = "left")] right: Input<f32>,
                #[input(name = "left")] centre: Input<f32>,
                #[output(name = "left")] mixed: Output<f32>,
            }
        });
        let expected = "duplicate input port name `left`\nnote: field `left` already names input \
                        port `left` (inputs and outputs are separate namespaces, but names within \
                        one must differ)";
        // One error per duplicate (`right`, `centre`), each pointing back at the first; the
        // output of the same name is no duplicate.
        assert_eq!(messages, [expected, expected]);
    }

    #[test]
    fn distinct_port_names_are_no_error() {
        let messages = actor_errors(quote! {
            struct Mixer {
                #[input] left: Input<f32>,
                #[input] right: Input<f32>,
                #[output(name = "left")] mixed: Output<f32>,
            }
        });
        assert!(messages.is_empty(), "{messages:?}");
    }

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
