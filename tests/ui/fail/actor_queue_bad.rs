use streamlib::prelude::*;

// Queue sizes that cannot work, and `queue` where it means nothing: each an error on its token.
#[actor]
pub struct Dashboard {
    #[input(queue = 0)]
    pub alerts: Input<u32>,
    #[input(queue = 2000000)]
    pub huge: Input<u32>,
    #[input(queue = "many")]
    pub words: Input<u32>,
    #[output(queue = 4)]
    pub shown: Output<u32>,
}

impl Process for Dashboard {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        Ok(())
    }
}

fn main() {}
