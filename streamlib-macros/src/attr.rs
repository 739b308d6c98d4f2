//! Options of `#[actor(..)]` and of the `#[input(..)]` / `#[output(..)]` field attributes.
//!
//! This module only reads the syntax; whether the values make sense (a non-zero rate, a class
//! name that is an identifier) is for `valid`. An unknown option is reported here, with the closest
//! known one suggested, because the parser must know an option to read its value.

use proc_macro2::{TokenStream, TokenTree};
use syn::meta::ParseNestedMeta;
use syn::parse::Parser;
use syn::{Attribute, Ident, LitInt, LitStr, Meta, Token};

use crate::ast::Direction;
use crate::ctxt::Errors;

/// The options `#[actor(..)]` accepts, in the order the docs list them.
const ACTOR_OPTIONS: &[&str] = &["class", "fps", "rate", "dedicated", "on"];
/// The options `#[input(..)]` and `#[output(..)]` accept.
const PORT_OPTIONS: &[&str] = &["name", "queue"];

/// An option as written: its key (for spans) and its value.
pub(crate) struct Opt<T> {
    pub key: Ident,
    pub value: T,
}

/// `rate = (num, den)`.
pub(crate) struct RateValue {
    pub num: LitInt,
    pub den: LitInt,
}

/// The options of `#[actor(..)]`.
#[derive(Default)]
pub(crate) struct ActorOptions {
    /// `class = "Name"`: the class part of the actor's URI (default: the struct's name).
    pub class: Option<Opt<LitStr>>,
    /// `fps = N`: the default clock runs at `N / 1` frames per second.
    pub fps: Option<Opt<LitInt>>,
    /// `rate = (num, den)`: the default clock runs at `num / den` frames per second.
    pub rate: Option<Opt<RateValue>>,
    /// `dedicated`: `process` runs on a thread of its own.
    pub dedicated: Option<Ident>,
    /// `on = "input"`: `process` runs only on ticks where a value arrived on that input.
    pub on: Option<Opt<LitStr>>,
}

impl ActorOptions {
    /// Reads the tokens inside `#[actor(..)]`; unknown and repeated options go to `errors`.
    pub(crate) fn parse(args: TokenStream, errors: &mut Errors) -> ActorOptions {
        let mut options = ActorOptions::default();
        let parser = syn::meta::parser(|meta| {
            let Some(key) = option_key(&meta, "#[actor]", ACTOR_OPTIONS, errors)? else {
                return Ok(());
            };
            match key.to_string().as_str() {
                "class" => {
                    let value = meta.value()?.parse()?;
                    set_option(&mut options.class, key, value, errors);
                }
                "fps" => {
                    let value = meta.value()?.parse()?;
                    set_option(&mut options.fps, key, value, errors);
                }
                "rate" => {
                    let value = parse_rate(&meta)?;
                    set_option(&mut options.rate, key, value, errors);
                }
                "on" => {
                    let value = meta.value()?.parse()?;
                    set_option(&mut options.on, key, value, errors);
                }
                "dedicated" => {
                    if !meta.input.is_empty() && !meta.input.peek(Token![,]) {
                        skip_value(&meta)?;
                        errors.push(syn::Error::new(
                            key.span(),
                            "`dedicated` is a flag and takes no value: write `#[actor(dedicated)]`",
                        ));
                    } else {
                        set_once(&mut options.dedicated, key.clone(), &key, errors);
                    }
                }
                _ => unreachable!("`option_key` returns known options only"),
            }
            Ok(())
        });
        if let Err(err) = parser.parse2(args) {
            errors.push(err);
        }
        options
    }
}

/// What `#[input(..)]` or `#[output(..)]` says about one field.
pub(crate) struct PortAttr {
    pub direction: Direction,
    /// The `input` / `output` word of the attribute.
    pub keyword: Ident,
    /// `name = "port"`, when the port is not named after its field.
    pub name: Option<LitStr>,
    /// `queue = N`: a queued input keeping up to `N` values (checked by `valid`).
    pub queue: Option<Opt<LitInt>>,
}

/// Finds the `#[input]` / `#[output]` attribute among a field's attributes and removes it (the
/// struct is emitted without them). Any problem with them goes to `errors`.
pub(crate) fn take_port_attr(attrs: &mut Vec<Attribute>, errors: &mut Errors) -> Option<PortAttr> {
    let mut found: Option<PortAttr> = None;
    let mut kept = Vec::with_capacity(attrs.len());
    for attr in attrs.drain(..) {
        let direction = if attr.path().is_ident("input") {
            Direction::Input
        } else if attr.path().is_ident("output") {
            Direction::Output
        } else {
            kept.push(attr);
            continue;
        };
        let Some(port) = parse_port_attr(&attr, direction, errors) else {
            continue;
        };
        match &found {
            Some(first) if first.direction == port.direction => errors.push(syn::Error::new(
                port.keyword.span(),
                format!("duplicate `#[{}]` attribute", port.direction.attribute()),
            )),
            Some(_) => errors.push(syn::Error::new(
                port.keyword.span(),
                "a field is an `#[input]` or an `#[output]`, not both",
            )),
            None => found = Some(port),
        }
    }
    *attrs = kept;
    found
}

fn parse_port_attr(
    attr: &Attribute,
    direction: Direction,
    errors: &mut Errors,
) -> Option<PortAttr> {
    let keyword = attr.path().get_ident()?.clone();
    let mut port = PortAttr {
        direction,
        keyword,
        name: None,
        queue: None,
    };
    match &attr.meta {
        Meta::Path(_) => {}
        Meta::List(_) => {
            let what = format!("#[{}]", direction.attribute());
            let result = attr.parse_nested_meta(|meta| {
                if let Some(key) = option_key(&meta, &what, PORT_OPTIONS, errors)? {
                    if key == "queue" {
                        let value = meta.value()?.parse().map_err(|_| {
                            meta.error("expected `queue = N`, with `N` a whole number of values")
                        })?;
                        set_option(&mut port.queue, key, value, errors);
                    } else {
                        let value = meta.value()?.parse()?;
                        set_once(&mut port.name, value, &key, errors);
                    }
                }
                Ok(())
            });
            if let Err(err) = result {
                errors.push(err);
            }
        }
        Meta::NameValue(meta) => errors.push(syn::Error::new_spanned(
            &meta.value,
            format!(
                "expected `#[{0}]` or `#[{0}(name = \"port_name\")]`",
                direction.attribute()
            ),
        )),
    }
    Some(port)
}

/// The key of one option if it is a known one; otherwise reports it (with the closest known
/// option, if one is close), skips its value and returns `None`.
fn option_key(
    meta: &ParseNestedMeta<'_>,
    attribute: &str,
    known: &[&str],
    errors: &mut Errors,
) -> syn::Result<Option<Ident>> {
    let key = match meta.path.get_ident() {
        Some(key) if known.contains(&key.to_string().as_str()) => return Ok(Some(key.clone())),
        Some(key) => key.clone(),
        None => {
            skip_value(meta)?;
            errors.push(syn::Error::new_spanned(
                &meta.path,
                format!("expected an option of `{attribute}`: {}", list(known)),
            ));
            return Ok(None);
        }
    };
    skip_value(meta)?;
    let unknown = key.to_string();
    let message = match closest(&unknown, known) {
        Some(close) => format!("unknown `{attribute}` option `{unknown}`; did you mean `{close}`?"),
        None => format!(
            "unknown `{attribute}` option `{unknown}`; expected {}",
            list(known)
        ),
    };
    errors.push(syn::Error::new(key.span(), message));
    Ok(None)
}

/// `rate = (num, den)`, with an optional trailing comma.
fn parse_rate(meta: &ParseNestedMeta<'_>) -> syn::Result<RateValue> {
    let input = meta.value()?;
    let content;
    let parens = syn::parenthesized!(content in input);
    let num = content.parse()?;
    let comma: Option<Token![,]> = content.parse()?;
    if comma.is_none() || content.is_empty() {
        return Err(syn::Error::new(
            parens.span.join(),
            "expected `rate = (numerator, denominator)`, e.g. `rate = (30000, 1001)`",
        ));
    }
    let den = content.parse()?;
    let _: Option<Token![,]> = content.parse()?;
    if !content.is_empty() {
        return Err(content.error("expected `)`: a rate is `(numerator, denominator)`"));
    }
    Ok(RateValue { num, den })
}

/// Consumes whatever follows an option's key (`= value` or `(..)`) so parsing can go on.
fn skip_value(meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.peek(Token![=]) {
        let _: syn::Expr = meta.value()?.parse()?;
    } else if !meta.input.is_empty() && !meta.input.peek(Token![,]) {
        let _: TokenTree = meta.input.parse()?;
    }
    Ok(())
}

fn set_option<T>(slot: &mut Option<Opt<T>>, key: Ident, value: T, errors: &mut Errors) {
    let opt = Opt {
        key: key.clone(),
        value,
    };
    set_once(slot, opt, &key, errors);
}

fn set_once<T>(slot: &mut Option<T>, value: T, key: &Ident, errors: &mut Errors) {
    if slot.is_some() {
        errors.push(syn::Error::new(
            key.span(),
            format!("option `{key}` is given twice"),
        ));
    } else {
        *slot = Some(value);
    }
}

/// `` `a`, `b` or `c` ``.
pub(crate) fn list(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|name| format!("`{name}`")).collect();
    match quoted.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// The known name closest to `unknown` by edit distance, if it is close enough to be a typo.
pub(crate) fn closest<'a>(unknown: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|name| (edit_distance(unknown, name), *name))
        .filter(|(distance, name)| *distance <= (unknown.len().max(name.len()) / 3).max(1))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, name)| name)
}

/// Optimal string alignment distance: insertions, deletions, substitutions and transpositions of
/// two neighbours (`fsp` is one edit from `fps`).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut rows = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    rows[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_a_transposition_once() {
        assert_eq!(edit_distance("fsp", "fps"), 1);
        assert_eq!(edit_distance("clas", "class"), 1);
        assert_eq!(edit_distance("rate", "rate"), 0);
        assert_eq!(edit_distance("", "abc"), 3);
    }

    #[test]
    fn suggests_only_close_names() {
        assert_eq!(closest("fsp", ACTOR_OPTIONS), Some("fps"));
        assert_eq!(closest("dedicate", ACTOR_OPTIONS), Some("dedicated"));
        assert_eq!(closest("klass", ACTOR_OPTIONS), Some("class"));
        assert_eq!(closest("nmae", PORT_OPTIONS), Some("name"));
        assert_eq!(closest("priority", ACTOR_OPTIONS), None);
    }

    #[test]
    fn lists_names_in_prose() {
        assert_eq!(list(&["a"]), "`a`");
        assert_eq!(list(&["a", "b", "c"]), "`a`, `b` or `c`");
    }
}
