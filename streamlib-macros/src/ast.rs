//! The parsed models: an actor struct with its ports, a pipeline with its chains.
//!
//! Building a model checks only what is needed to build it (an actor is a struct with named
//! fields; a pipeline statement is `actor.port >> actor.port ..`). Everything else is checked in
//! `valid`.

use proc_macro2::{Span, TokenStream, TokenTree};
use syn::parse::{Parse, ParseStream, Parser};
use syn::{
    Attribute, Fields, GenericArgument, Ident, Item, ItemStruct, LitInt, LitStr, PathArguments,
};
use syn::{Token, Type};

use crate::attr::{self, ActorOptions, Opt, PortAttr};
use crate::ctxt::Errors;

// ---------------------------------------------------------------------------------------------
// #[actor]

/// Which way a port carries values.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    Input,
    Output,
}

impl Direction {
    /// The field attribute: `input` / `output`.
    pub(crate) fn attribute(self) -> &'static str {
        match self {
            Direction::Input => "input",
            Direction::Output => "output",
        }
    }

    /// The field's type: `Input` / `Output`.
    pub(crate) fn port_type(self) -> &'static str {
        match self {
            Direction::Input => "Input",
            Direction::Output => "Output",
        }
    }
}

/// A struct under `#[actor]`.
pub(crate) struct Actor {
    /// The struct as written, less the `#[input]` / `#[output]` attributes.
    pub item: ItemStruct,
    pub options: ActorOptions,
    /// Ports in field order.
    pub ports: Vec<Port>,
}

/// One `#[input]` or `#[output]` field.
pub(crate) struct Port {
    pub direction: Direction,
    /// The field of the actor struct.
    pub field: Ident,
    /// `name = ".."` of the attribute, if the port is renamed.
    pub rename: Option<LitStr>,
    /// The field's type as written.
    pub ty: Type,
    /// `T` of `Input<T>` / `Inputs<T>` / `Output<T>`; `None` if the type is not of that shape.
    pub payload: Option<Type>,
    /// Whether the field is an input set, `Inputs<T>`.
    pub set: bool,
    /// `queue = N` of `#[input(..)]`.
    pub queue: Option<Opt<LitInt>>,
    /// The field's doc comments, repeated on the port struct's field.
    pub docs: Vec<Attribute>,
    /// The field's `#[cfg(..)]` attributes, repeated on everything generated for the port.
    pub cfgs: Vec<Attribute>,
}

impl Port {
    /// The port's name, as the registry and `pipeline!` know it (without `r#`).
    pub(crate) fn name(&self) -> String {
        match &self.rename {
            Some(lit) => lit.value(),
            None => syn::ext::IdentExt::unraw(&self.field).to_string(),
        }
    }

    /// The field of the port struct (`handle.inputs.<ident>`), spanned on the name as the user
    /// wrote it; `None` if a `name = ".."` is not an identifier.
    pub(crate) fn ident(&self) -> Option<Ident> {
        match &self.rename {
            Some(lit) => ident_from_str(&lit.value(), lit.span()),
            None => Some(self.field.clone()),
        }
    }

    /// Where the port's name is written: the `name = ".."` string, else the field.
    pub(crate) fn name_span(&self) -> Span {
        match &self.rename {
            Some(lit) => lit.span(),
            None => self.field.span(),
        }
    }
}

/// `text` as an identifier (raw if it is a keyword that can be raw), or `None`.
pub(crate) fn ident_from_str(text: &str, span: Span) -> Option<Ident> {
    let mut ident = syn::parse_str::<Ident>(text)
        .or_else(|_| syn::parse_str::<Ident>(&format!("r#{text}")))
        .ok()?;
    ident.set_span(span);
    Some(ident)
}

impl Actor {
    /// Builds the model from the item under `#[actor(args)]`. On `Err`, the item to emit as it is
    /// (so that the rest of the user's code still finds it) goes with the error.
    pub(crate) fn from_item(
        args: TokenStream,
        item: Item,
        errors: &mut Errors,
    ) -> Result<Actor, Box<Item>> {
        let options = ActorOptions::parse(args, errors);
        let mut item = match item {
            Item::Struct(item) => item,
            Item::Enum(item) => {
                errors.push(syn::Error::new(
                    item.enum_token.span,
                    "`#[actor]` applies to a struct with named fields, not to an enum",
                ));
                return Err(Box::new(Item::Enum(item)));
            }
            Item::Union(item) => {
                errors.push(syn::Error::new(
                    item.union_token.span,
                    "`#[actor]` applies to a struct with named fields, not to a union",
                ));
                return Err(Box::new(Item::Union(item)));
            }
            other => {
                errors.push(syn::Error::new(
                    Span::call_site(),
                    "`#[actor]` applies to a struct with named fields",
                ));
                return Err(Box::new(other));
            }
        };
        let fields = match &mut item.fields {
            Fields::Named(fields) => fields,
            Fields::Unnamed(fields) => {
                errors.push(syn::Error::new(
                    fields.paren_token.span.join(),
                    "`#[actor]` needs named fields: ports and state are known by their field names",
                ));
                return Err(Box::new(Item::Struct(item)));
            }
            Fields::Unit => {
                errors.push(syn::Error::new(
                    item.ident.span(),
                    format!(
                        "`#[actor]` needs a struct with named fields; for an actor with no ports \
                         and no state write `struct {} {{}}`",
                        item.ident
                    ),
                ));
                return Err(Box::new(Item::Struct(item)));
            }
        };
        let mut ports = Vec::new();
        for field in &mut fields.named {
            let Some(PortAttr {
                direction,
                name,
                queue,
                ..
            }) = attr::take_port_attr(&mut field.attrs, errors)
            else {
                continue;
            };
            let Some(ident) = field.ident.clone() else {
                continue;
            };
            ports.push(Port {
                direction,
                field: ident,
                rename: name,
                payload: payload(&field.ty, direction),
                set: direction == Direction::Input && port_type_name(&field.ty) == Some("Inputs"),
                queue,
                ty: field.ty.clone(),
                docs: attrs_named(&field.attrs, "doc"),
                cfgs: attrs_named(&field.attrs, "cfg"),
            });
        }
        Ok(Actor {
            item,
            options,
            ports,
        })
    }

    pub(crate) fn inputs(&self) -> impl Iterator<Item = &Port> {
        self.ports
            .iter()
            .filter(|port| port.direction == Direction::Input)
    }

    pub(crate) fn outputs(&self) -> impl Iterator<Item = &Port> {
        self.ports
            .iter()
            .filter(|port| port.direction == Direction::Output)
    }
}

fn attrs_named(attrs: &[Attribute], name: &str) -> Vec<Attribute> {
    attrs
        .iter()
        .filter(|attr| attr.path().is_ident(name))
        .cloned()
        .collect()
}

/// `T` of a field typed `Input<T>` (for an input) or `Output<T>` (for an output). Only the last
/// path segment is looked at, so `streamlib::Input<T>` and an imported alias path both work.
fn payload(ty: &Type, direction: Direction) -> Option<Type> {
    let Type::Path(path) = ty else {
        return None;
    };
    if path.qself.is_some() {
        return None;
    }
    let last = path.path.segments.last()?;
    let set = direction == Direction::Input && last.ident == "Inputs";
    if last.ident != direction.port_type() && !set {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    let mut args = args.args.iter();
    match (args.next(), args.next()) {
        (Some(GenericArgument::Type(payload)), None) => Some(payload.clone()),
        _ => None,
    }
}

/// `Input` of `streamlib::Input<T>`: the last segment of a path type.
fn port_type_name(ty: &Type) -> Option<&'static str> {
    let Type::Path(path) = ty else {
        return None;
    };
    let last = path.path.segments.last()?;
    ["Input", "Inputs", "Output"]
        .into_iter()
        .find(|name| last.ident == name)
}

// ---------------------------------------------------------------------------------------------
// pipeline!

/// The statements of one `pipeline! { .. }`.
pub(crate) struct Pipeline {
    pub chains: Vec<Chain>,
}

/// `a.x >> b.y >> c.z`: at least two hops.
pub(crate) struct Chain {
    pub hops: Vec<Hop>,
    /// The `>>` between `hops[i]` and `hops[i + 1]`.
    pub arrows: Vec<Token![>>]>,
}

/// `actor.port`, or `actor.input -> output` for a middle hop whose two ports differ in name.
pub(crate) struct Hop {
    pub actor: Ident,
    pub port: Ident,
    pub renamed_output: Option<(Token![->], Ident)>,
}

impl Hop {
    /// The port read when this hop is right of `>>`.
    pub(crate) fn input(&self) -> &Ident {
        &self.port
    }

    /// The port written when this hop is left of `>>`.
    pub(crate) fn output(&self) -> &Ident {
        match &self.renamed_output {
            Some((_, output)) => output,
            None => &self.port,
        }
    }
}

/// One connection of a chain: the output of `from` to the input of `to`.
pub(crate) struct Edge<'a> {
    pub from: &'a Hop,
    pub arrow: &'a Token![>>],
    pub to: &'a Hop,
}

impl Chain {
    pub(crate) fn edges(&self) -> impl Iterator<Item = Edge<'_>> {
        self.hops
            .windows(2)
            .zip(&self.arrows)
            .map(|(pair, arrow)| Edge {
                from: &pair[0],
                arrow,
                to: &pair[1],
            })
    }
}

impl Parse for Pipeline {
    /// Statements are parsed one by one, so a mistake in one does not hide those in the others:
    /// all syntax errors of the invocation are reported together.
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut chains = Vec::new();
        let mut errors = Errors::default();
        while !input.is_empty() {
            let statement = input.step(|cursor| {
                let mut rest = *cursor;
                let mut tokens = TokenStream::new();
                while let Some((token, next)) = rest.token_tree() {
                    if matches!(&token, TokenTree::Punct(p) if p.as_char() == ';') {
                        break;
                    }
                    tokens.extend([token]);
                    rest = next;
                }
                Ok((tokens, rest))
            })?;
            let semicolon: Option<Token![;]> = input.parse()?;
            if statement.is_empty() {
                if let Some(semicolon) = semicolon {
                    errors.push(syn::Error::new(
                        semicolon.span,
                        "unexpected `;`: expected a chain like `a.output >> b.input`",
                    ));
                }
                continue;
            }
            match Chain::parse.parse2(statement) {
                Ok(chain) => chains.push(chain),
                Err(err) => errors.push(err),
            }
        }
        errors.finish()?;
        Ok(Pipeline { chains })
    }
}

impl Chain {
    fn parse(input: ParseStream<'_>) -> syn::Result<Chain> {
        if input.peek(Token![>>]) {
            let arrow: Token![>>] = input.parse()?;
            return Err(syn::Error::new_spanned(
                arrow,
                "`>>` needs an output on its left: `a.output >> b.input`",
            ));
        }
        let mut hops = vec![input.parse::<Hop>()?];
        let mut arrows = Vec::new();
        while !input.is_empty() {
            if !input.peek(Token![>>]) {
                return Err(input.error("expected `>>` or `;`"));
            }
            let arrow: Token![>>] = input.parse()?;
            if input.is_empty() {
                return Err(syn::Error::new_spanned(
                    arrow,
                    "`>>` needs an input on its right: `a.output >> b.input`",
                ));
            }
            arrows.push(arrow);
            hops.push(input.parse()?);
        }
        if arrows.is_empty() {
            let hop = &hops[0];
            return Err(syn::Error::new(
                hop.port.span(),
                format!(
                    "`{}.{}` is connected to nothing: a statement is a chain like \
                     `a.output >> b.input`",
                    hop.actor, hop.port
                ),
            ));
        }
        Ok(Chain { hops, arrows })
    }
}

impl Parse for Hop {
    fn parse(input: ParseStream<'_>) -> syn::Result<Hop> {
        if !input.peek(Ident) {
            return Err(
                input.error("expected an actor handle: a local variable holding an `ActorHandle`")
            );
        }
        let actor: Ident = input.parse()?;
        if !input.peek(Token![.]) {
            return Err(syn::Error::new(
                actor.span(),
                format!("expected `{actor}.port`: name a port of `{actor}`"),
            ));
        }
        let _: Token![.] = input.parse()?;
        if !input.peek(Ident) {
            return Err(input.error(format!("expected a port name after `{actor}.`")));
        }
        let port: Ident = input.parse()?;
        if input.peek(Token![.]) {
            let dot: Token![.] = input.parse()?;
            return Err(syn::Error::new(
                dot.span,
                format!(
                    "expected `>>` after `{actor}.{port}`: an endpoint is `actor.port`, with \
                     `actor` a local variable (bind a handle stored elsewhere first: \
                     `let {port} = &{actor}.{port};`)"
                ),
            ));
        }
        let renamed_output = if input.peek(Token![->]) {
            let arrow: Token![->] = input.parse()?;
            if !input.peek(Ident) {
                return Err(input.error(format!(
                    "expected an output port of `{actor}` after `->`: `{actor}.input -> output`"
                )));
            }
            Some((arrow, input.parse()?))
        } else {
            None
        };
        Ok(Hop {
            actor,
            port,
            renamed_output,
        })
    }
}
