use std::rc::Rc;

use streamlib::prelude::*;

// A generic actor needs no bound on `T`: `#[actor]` requires `T: Send + Sync + 'static` where the
// actor is used as one.
#[actor]
pub struct Hold<T> {
    #[input]
    pub value: Input<T>,
}

impl<T> Process for Hold<T> {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        Ok(())
    }
}

fn spawn(rt: &Runtime, hold: Hold<Rc<u8>>) {
    let _ = rt.spawn(hold, "hold");
}

fn main() {
    let _ = spawn;
}
