use streamlib::prelude::*;

#[actor(dedicated = true)]
pub struct Window {}

impl Process for Window {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        Ok(())
    }
}

fn main() {}
