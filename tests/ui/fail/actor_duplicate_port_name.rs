use streamlib::prelude::*;

// Inputs and outputs are separate namespaces (an input and an output may share a name), but two
// ports of one direction may not.
#[actor]
pub struct Mixer {
    #[input]
    pub left: Input<f32>,
    #[input(name = "left")]
    pub right: Input<f32>,
    #[output(name = "left")]
    pub mixed: Output<f32>,
}

impl Process for Mixer {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        Ok(())
    }
}

fn main() {}
