#![deny(warnings)]
//! The actor of DESIGN.md: an input and an output sharing the port name `value`, and state.

use streamlib::prelude::*;

#[actor]
pub struct Doubler {
    #[input]
    pub value: Input<i64>,
    #[output(name = "value")]
    pub doubled: Output<i64>,
    pub factor: i64,
}

impl Process for Doubler {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        if let Some(v) = self.value.read_latest() {
            self.doubled.write(*v * self.factor);
        }
        Ok(())
    }
}

fn main() -> streamlib::Result<()> {
    assert_eq!(Doubler::class_name(), "Doubler");
    let rt = Runtime::new();
    let dbl = rt.spawn(
        Doubler {
            value: Input::new(),
            doubled: Output::new(),
            factor: 2,
        },
        "dbl",
    )?;
    let _input: &InputRef<i64> = &dbl.inputs.value;
    let _output: &OutputRef<i64> = &dbl.outputs.value;
    let _ports: (DoublerInputs, DoublerOutputs) = (dbl.inputs.clone(), dbl.outputs.clone());
    rt.shutdown();
    Ok(())
}
