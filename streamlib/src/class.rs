//! Class names of generic actors: `Collector<Alert>` in the registry as `Collector_Alert`.
//!
//! A non-generic actor's class is its struct's name (or `#[actor(class = "..")]`). A generic
//! actor's class also names its type and const arguments, so that two instantiations spawned in
//! one runtime (`Collector<Alert>` and `Collector<Reading>`) are two classes: `find_by_class`
//! tells them apart, and a remote handle is checked against the right one.
//!
//! **The mapping.** `#[actor]` computes, once per instantiation (then cached):
//!
//! 1. the arguments as Rust writes them ([`std::any::type_name`]), each path cut to its last
//!    segment — `alloc::vec::Vec<my_app::Alert>` becomes `Vec<Alert>` — and const arguments
//!    by their value: the *written form*, e.g. `Collector<Vec<Alert>>`, `Window<f32, 4>`;
//! 2. the class, a valid URI class (`[A-Za-z_][A-Za-z0-9_]*`): the written form with each run of
//!    other characters (`<`, `>`, `,`, spaces, `&`, `[`, `;`, …) turned into one `_`, trailing
//!    ones dropped, a `-` written `neg` and any non-ASCII letter as `u<hex>` —
//!    `Collector<Alert>` → `Collector_Alert`, `Collector<Vec<Alert>>` → `Collector_Vec_Alert`,
//!    `Window<f32, {{closure}}, 4>` → `Window_f32_closure_4`, `Delay<-3>` → `Delay_neg_3`.
//!
//! The class stays the same in every program that instantiates the actor with the same
//! argument types (the module paths are gone), so `rt.remote::<Collector<Alert>>(uri)` agrees
//! with the process that spawned it. Two instantiations whose arguments differ only by module
//! path (`a::Alert` and `b::Alert`) map to one class; the second one computed logs a warning
//! naming both types. (`type_name`'s text is best-effort by its documentation; it has been
//! stable in practice, and only the registry's names depend on it.)
//!
//! ```
//! use streamlib::prelude::*;
//!
//! #[actor]
//! pub struct Collector<T> {
//!     #[input] pub items: Input<T>,
//! }
//!
//! impl<T: Send + Sync + 'static> Process for Collector<T> {
//!     fn process(&mut self, _tick: &Tick) -> ProcessResult { Ok(()) }
//! }
//!
//! pub struct Alert;
//! assert_eq!(<Collector<Alert> as Actor>::class_name(), "Collector_Alert");
//! assert_eq!(<Collector<Vec<u8>> as Actor>::class_name(), "Collector_Vec_u8");
//! ```

use std::any::TypeId;
use std::collections::HashMap;
use std::sync::OnceLock;

use parking_lot::Mutex;

/// The class of a generic actor type (see the module docs), computed at its first call and
/// cached per type. `base` is the struct's name (or its `class` option), `args` its arguments
/// as [`type_argument`] / [`const_argument`] write them, `full` the type's whole name (for the
/// warning on a collision).
pub(crate) fn generic_class(
    type_id: TypeId,
    full: &'static str,
    base: &'static str,
    args: &dyn Fn() -> Vec<String>,
) -> &'static str {
    static CLASSES: OnceLock<Mutex<Classes>> = OnceLock::new();
    let mut classes = CLASSES.get_or_init(Default::default).lock();
    if let Some(class) = classes.by_type.get(&type_id) {
        return class;
    }
    let written = written_form(base, &args());
    let class: &'static str = Box::leak(identifier(&written).into_boxed_str());
    if let Some(other) = classes.by_class.get(class) {
        tracing::warn!(
            class,
            first = other,
            second = full,
            "two generic actor types map to one class (their arguments differ only by module path); give one a `#[actor(class = ..)]` of its own"
        );
    } else {
        classes.by_class.insert(class, full);
    }
    classes.by_type.insert(type_id, class);
    class
}

#[derive(Default)]
struct Classes {
    by_type: HashMap<TypeId, &'static str>,
    /// The first full type name seen for each class.
    by_class: HashMap<&'static str, &'static str>,
}

/// A type argument as the class writes it: its name with every path cut to its last segment
/// (`alloc::sync::Arc<streamlib::message::VideoFrame>` → `Arc<VideoFrame>`); the pipeline
/// graph labels its connections' payloads with it too.
pub(crate) fn type_argument(type_name: &str) -> String {
    let mut out = String::with_capacity(type_name.len());
    let mut segment = String::new();
    let mut chars = type_name.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_alphanumeric() || c == '_' {
            segment.push(c);
        } else if c == ':' && chars.peek() == Some(&':') {
            chars.next();
            segment.clear(); // a module (or type) prefix of the path: dropped
        } else {
            out.push_str(&segment);
            segment.clear();
            out.push(c);
        }
    }
    out.push_str(&segment);
    out
}

/// A const argument as the class writes it: its value.
pub(crate) fn const_argument(value: &dyn std::fmt::Display) -> String {
    value.to_string()
}

/// `Base<A, B>`.
fn written_form(base: &str, args: &[String]) -> String {
    format!("{base}<{}>", args.join(", "))
}

/// The written form as a URI class (see the module docs).
fn identifier(written: &str) -> String {
    let mut id = String::with_capacity(written.len());
    let mut gap = false;
    let push = |id: &mut String, gap: &mut bool, text: &str| {
        if *gap && !id.is_empty() {
            id.push('_');
        }
        *gap = false;
        id.push_str(text);
    };
    for c in written.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            push(&mut id, &mut gap, c.encode_utf8(&mut [0; 4]));
        } else if c.is_alphanumeric() {
            push(&mut id, &mut gap, &format!("u{:x}", u32::from(c)));
        } else if c == '-' {
            gap = true;
            push(&mut id, &mut gap, "neg");
            gap = true;
        } else {
            gap = true;
        }
    }
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class_of(base: &str, args: &[&str]) -> String {
        let args: Vec<String> = args.iter().map(|a| type_argument(a)).collect();
        identifier(&written_form(base, &args))
    }

    #[test]
    fn paths_are_cut_to_their_last_segment() {
        assert_eq!(type_argument("my_app::alerts::Alert"), "Alert");
        assert_eq!(
            type_argument("alloc::vec::Vec<core::option::Option<my::Alert>>"),
            "Vec<Option<Alert>>"
        );
        assert_eq!(type_argument("&'static str"), "&'static str");
        assert_eq!(type_argument("[f32; 4]"), "[f32; 4]");
        assert_eq!(type_argument("tests::main::{{closure}}"), "{{closure}}");
        assert_eq!(
            type_argument("(i32, alloc::string::String)"),
            "(i32, String)"
        );
        assert_eq!(
            type_argument("dyn core::fmt::Debug + core::marker::Send"),
            "dyn Debug + Send"
        );
    }

    #[test]
    fn classes_are_identifiers_that_keep_the_arguments_apart() {
        assert_eq!(class_of("Collector", &["app::Alert"]), "Collector_Alert");
        assert_eq!(
            class_of("Collector", &["app::Reading"]),
            "Collector_Reading"
        );
        assert_eq!(
            class_of("Collector", &["alloc::vec::Vec<app::Alert>"]),
            "Collector_Vec_Alert"
        );
        assert_eq!(
            class_of("Window", &["f32", "x::{{closure}}", "4"]),
            "Window_f32_closure_4"
        );
        assert_eq!(class_of("Delay", &["-3"]), "Delay_neg_3");
        assert_eq!(class_of("Delay", &["3"]), "Delay_3");
        assert_eq!(class_of("Pair", &["(i32, u8)", "&str"]), "Pair_i32_u8_str");
        assert_eq!(class_of("Named", &["Größe"]), "Named_Gruf6udfe");
        for (base, args) in [
            ("Collector", &["app::Alert"][..]),
            ("Window", &["[f32; 4]", "bool"][..]),
            ("Delay", &["-3"][..]),
            ("Odd", &["&'static str"][..]),
        ] {
            let class = class_of(base, args);
            let uri = format!("actor://local/{class}/x");
            assert!(crate::ActorUri::parse(&uri).is_ok(), "{uri}");
        }
    }

    #[test]
    fn types_that_differ_only_by_module_share_a_class() {
        mod a {
            pub struct Alert;
        }
        mod b {
            pub struct Alert;
        }
        fn args_a() -> Vec<String> {
            vec![type_argument(std::any::type_name::<a::Alert>())]
        }
        fn args_b() -> Vec<String> {
            vec![type_argument(std::any::type_name::<b::Alert>())]
        }
        // Logged as a warning; both get the class their written form maps to.
        let first = generic_class(TypeId::of::<a::Alert>(), "a::Alert", "Shared", &args_a);
        let second = generic_class(TypeId::of::<b::Alert>(), "b::Alert", "Shared", &args_b);
        assert_eq!((first, second), ("Shared_Alert", "Shared_Alert"));
    }

    #[test]
    fn a_class_is_computed_once_per_type() {
        fn args() -> Vec<String> {
            vec![type_argument(std::any::type_name::<Vec<u8>>())]
        }
        let a = generic_class(TypeId::of::<Vec<u8>>(), "x", "Test", &args);
        let b = generic_class(TypeId::of::<Vec<u8>>(), "x", "Test", &args);
        assert_eq!(a, "Test_Vec_u8");
        assert!(std::ptr::eq(a, b));
    }
}
