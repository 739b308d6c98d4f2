use streamlib::prelude::*;

#[actor]
pub struct Doubler {
    #[output]
    pub doubled: Vec<i64>,
}

impl Process for Doubler {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        Ok(())
    }
}

fn main() {}
