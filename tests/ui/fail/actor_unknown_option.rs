use streamlib::prelude::*;

// A typo gets the closest option; a name close to none gets the list.
#[actor(fsp = 30, priority = 1)]
pub struct Camera {
    #[output]
    pub frame: Output<u64>,
}

impl Process for Camera {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        Ok(())
    }
}

fn main() {}
