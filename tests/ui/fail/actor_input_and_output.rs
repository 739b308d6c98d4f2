use streamlib::prelude::*;

#[actor]
pub struct Relay {
    #[input]
    #[output]
    pub value: Input<i64>,
    #[output]
    #[output]
    pub other: Output<i64>,
}

impl Process for Relay {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        Ok(())
    }
}

fn main() {}
