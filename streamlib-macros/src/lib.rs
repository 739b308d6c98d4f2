//! Procedural macros of [streamlib](https://docs.rs/streamlib): `#[actor]` and `pipeline!`.
//!
//! Use them through `streamlib` (`use streamlib::prelude::*;`), never from this crate directly:
//! the code they generate names the runtime as `::streamlib::__private::…`. Their full grammar,
//! with examples and every rejected form, is documented on the re-exports
//! `streamlib::actor` and `streamlib::pipeline` (from `doc/actor.md` and `doc/pipeline.md` in this
//! crate, rendered on the two macros below too).
//!
//! # Grammar in short
//!
//! ```text
//! #[actor]                               on a struct with named fields
//! #[actor(class = "Name", fps = N)]      options: class = "..", fps = N | rate = (NUM, DEN),
//!                                        dedicated
//!   #[input] / #[input(name = "port")]   on an `Input<T>` field: an input port
//!   #[output] / #[output(name = "port")] on an `Output<T>` field: an output port
//!                                        other fields: state
//! → the struct as written, `<Name>Inputs` / `<Name>Outputs` (one `InputRef<T>` / `OutputRef<T>`
//!   field per port) and `impl Actor for Name`.
//!
//! pipeline! { a.x >> b.y >> c.z; d.w >> b.v -> u >> e.t; }
//!   a.x      left of `>>`: output `x` of handle `a`; right of it: input `x`; in the middle of a
//!            chain: input `x`, then output `x`
//!   b.v -> u a middle hop: input `v`, then output `u` of `b`
//!   `;` separates statements (trailing `;` allowed); the whole evaluates to
//!   `streamlib::Result<streamlib::Pipeline>`, all or nothing.
//! ```
//!
//! # How the crate reads
//!
//! Each macro goes through the same four stages, one module each:
//!
//! - `ast`: the parsed model (an actor struct and its ports; a pipeline and its chains);
//! - `attr`: the options of `#[actor(..)]`, `#[input(..)]` and `#[output(..)]`;
//! - `valid`: every check, each error spanned on the user's token;
//! - `expand` (with `generics`): code generation. Spans are the user's (`quote_spanned!`), so
//!   the errors rustc itself finds — an unknown actor binding, an unknown port, a payload type
//!   mismatch — land on the token that caused them, worded by `#[diagnostic::on_unimplemented]`
//!   traits of the runtime.
//!
//! Beside them, `ctxt` holds the error collector that `ast`, `attr`, `valid` and `expand` write
//! to: all errors of one invocation are reported together, one error per mistake.

mod ast;
mod attr;
mod ctxt;
mod expand;
mod generics;
mod valid;

use proc_macro::TokenStream;
use syn::parse_macro_input;

#[doc = include_str!("../doc/actor.md")]
#[proc_macro_attribute]
pub fn actor(args: TokenStream, input: TokenStream) -> TokenStream {
    let item = parse_macro_input!(input as syn::Item);
    expand::actor(args.into(), item).into()
}

#[doc = include_str!("../doc/pipeline.md")]
#[proc_macro]
pub fn pipeline(input: TokenStream) -> TokenStream {
    // Parse errors are not returned as they are: the expansion stays an expression of type
    // `Result<Pipeline>`, so that `pipeline! { .. }?` reports only the real mistakes.
    expand::pipeline(syn::parse::<ast::Pipeline>(input)).into()
}
