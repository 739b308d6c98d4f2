use streamlib::prelude::*;

#[actor(fps = 0)]
pub struct Still {}

#[actor(rate = (0, 1001))]
pub struct Frozen {}

#[actor(rate = (30, 0))]
pub struct Infinite {}

#[actor(fps = 5000000000)]
pub struct TooFast {}

#[actor(fps = 2000000000)]
pub struct Blur {}

#[actor(rate = (3000000000, 2))]
pub struct Smear {}

impl Process for Still {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        Ok(())
    }
}

fn main() {}
