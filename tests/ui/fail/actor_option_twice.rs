use streamlib::prelude::*;

#[actor(class = "Camera", dedicated, class = "Cam", dedicated)]
pub struct Camera {}

impl Process for Camera {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        Ok(())
    }
}

fn main() {}
