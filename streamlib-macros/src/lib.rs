//! Procedural macros of [streamlib](https://docs.rs/streamlib): `#[actor]` and `pipeline!`.
//!
//! Use them through `streamlib` (`use streamlib::prelude::*;`), never from this crate directly:
//! the code they generate names the runtime as `::streamlib::__private::…`. Their full grammar,
//! with examples and every rejected form, is documented on the re-exports
//! `streamlib::actor` and `streamlib::pipeline` (from `doc/actor.md` and `doc/pipeline.md` in this
//! crate).
//!
//! # How the crate reads
//!
//! Each macro goes through the same four stages, one module each:
//!
//! - `ast`: the parsed model (an actor struct and its ports; a pipeline and its chains);
//! - `attr`: the options of `#[actor(..)]`, `#[input(..)]` and `#[output(..)]`;
//! - `valid`: every check, each error spanned on the user's token, all errors of one invocation
//!   combined and reported together;
//! - `expand`: code generation. Spans are the user's (`quote_spanned!`), so the errors rustc
//!   itself finds — an unknown actor binding, an unknown port, a payload type mismatch — land on
//!   the token that caused them, worded by `#[diagnostic::on_unimplemented]` traits of the runtime.

mod ast;
mod attr;
mod expand;
mod valid;

use proc_macro::TokenStream;
use syn::parse_macro_input;

/// Turns a struct with `#[input]` / `#[output]` fields into an actor. See `streamlib::actor`.
#[proc_macro_attribute]
pub fn actor(args: TokenStream, input: TokenStream) -> TokenStream {
    let item = parse_macro_input!(input as syn::Item);
    expand::actor(args.into(), item).into()
}

/// Wires actor handles: `pipeline! { a.out >> b.in }`. See `streamlib::pipeline`.
#[proc_macro]
pub fn pipeline(input: TokenStream) -> TokenStream {
    let pipeline = parse_macro_input!(input as ast::Pipeline);
    expand::pipeline(pipeline).into()
}
