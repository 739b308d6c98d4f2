use streamlib::prelude::*;

#[actor]
pub struct Doubler {
    #[input]
    pub value: Output<i64>,
    #[input]
    pub factor: i64,
    #[input]
    pub gains: Input<i64, f32>,
}

impl Process for Doubler {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        Ok(())
    }
}

fn main() {}
