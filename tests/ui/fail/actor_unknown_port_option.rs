use streamlib::prelude::*;

#[actor]
pub struct Doubler {
    #[input(nmae = "value")]
    pub input: Input<i64>,
    #[output(name = "value", size = 4)]
    pub doubled: Output<i64>,
}

impl Process for Doubler {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        Ok(())
    }
}

fn main() {}
