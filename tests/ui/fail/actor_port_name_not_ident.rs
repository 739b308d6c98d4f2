use streamlib::prelude::*;

#[actor]
pub struct Camera {
    #[output(name = "video-out")]
    pub frame: Output<u64>,
    #[output = "audio"]
    pub audio: Output<f32>,
}

impl Process for Camera {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        Ok(())
    }
}

fn main() {}
