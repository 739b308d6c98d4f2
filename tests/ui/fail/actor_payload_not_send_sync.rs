use std::cell::Cell;
use std::rc::Rc;

use streamlib::prelude::*;

#[actor]
pub struct Cache {
    #[input]
    pub shared: Input<Rc<Vec<u8>>>,
    #[output]
    pub counter: Output<Cell<u64>>,
}

impl Process for Cache {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        Ok(())
    }
}

fn main() {}
