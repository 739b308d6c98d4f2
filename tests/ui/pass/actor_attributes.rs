#![deny(warnings, missing_docs)]
//! Doc comments, other attributes, `#[cfg]` on ports, raw identifiers, visibilities, and several
//! actors in one module.

use streamlib::prelude::*;

/// A documented actor: the docs and derives stay on the struct.
#[actor]
#[derive(Debug, Default)]
#[allow(dead_code)]
pub struct Documented {
    /// Frames to annotate.
    #[input]
    pub frame: Input<u64>,
    /// Where the annotated frames go.
    #[output(name = "frame")]
    #[allow(clippy::all)]
    pub annotated: Output<u64>,
    /// A port that exists only when `cfg(any())` holds: never.
    #[cfg(any())]
    #[output]
    pub never: Output<u64>,
    /// Keywords are fine as field names (the port is named `type`).
    #[input]
    pub r#type: Input<String>,
    /// State.
    pub count: u64,
}

impl Process for Documented {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        self.count += 1;
        Ok(())
    }
}

/// A crate-visible actor, in the same module as another.
#[actor]
#[derive(Default)]
pub(crate) struct Internal {
    #[output]
    pub(crate) value: Output<i32>,
    #[input]
    value_in: Input<i32>,
}

impl Process for Internal {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        let _ = self.value_in.read_latest();
        Ok(())
    }
}

/// Attributes before `#[actor]` see the struct after it (here, without `#[output]`).
#[derive(Default)]
#[actor]
pub struct DeriveFirst {
    /// A port.
    #[output]
    pub value: Output<u8>,
}

impl Process for DeriveFirst {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        Ok(())
    }
}

mod private {
    use streamlib::prelude::*;

    #[actor]
    #[derive(Default)]
    struct Hidden {
        #[input]
        value: Input<u8>,
    }

    impl Process for Hidden {
        fn process(&mut self, _tick: &Tick) -> ProcessResult {
            Ok(())
        }
    }

    pub(super) fn spawn(rt: &Runtime) -> streamlib::Result<()> {
        let hidden = rt.spawn(Hidden::default(), "hidden")?;
        let _: &HiddenInputs = &hidden.inputs;
        Ok(())
    }
}

fn main() -> streamlib::Result<()> {
    let rt = Runtime::new();
    let documented = rt.spawn(Documented::default(), "doc")?;
    let _: &InputRef<String> = &documented.inputs.r#type;
    let _: &OutputRef<u64> = &documented.outputs.frame;
    let internal = rt.spawn(Internal::default(), "internal")?;
    let _: &InputRef<i32> = &internal.inputs.value_in;
    private::spawn(&rt)?;
    rt.spawn(DeriveFirst::default(), "first")?;
    let types = rt
        .registry()
        .lookup("actor://local/Documented/doc")?
        .unwrap();
    types.input::<String>("type")?;
    rt.shutdown();
    Ok(())
}
