use streamlib::prelude::*;

#[actor(rate = (30000))]
pub struct Camera {}

impl Process for Camera {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        Ok(())
    }
}

fn main() {}
