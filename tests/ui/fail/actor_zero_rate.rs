use streamlib::prelude::*;

#[actor(fps = 0)]
pub struct Still {}

#[actor(rate = (0, 1001))]
pub struct Frozen {}

#[actor(rate = (30, 0))]
pub struct Infinite {}

#[actor(fps = 5000000000)]
pub struct TooFast {}

impl Process for Still {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        Ok(())
    }
}

fn main() {}
