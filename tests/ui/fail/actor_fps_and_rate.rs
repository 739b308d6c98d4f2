use streamlib::prelude::*;

#[actor(fps = 30, rate = (30000, 1001))]
pub struct Camera {}

impl Process for Camera {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        Ok(())
    }
}

fn main() {}
