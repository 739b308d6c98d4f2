use streamlib::prelude::*;

#[actor(class = "Front Camera")]
pub struct Camera {}

impl Process for Camera {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        Ok(())
    }
}

fn main() {}
