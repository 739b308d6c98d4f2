use streamlib::prelude::*;

// `on` names an input port: a typo, an output, and an actor without inputs.
#[actor(on = "alert")]
pub struct Dashboard {
    #[input]
    pub alerts: Input<u32>,
    #[output]
    pub shown: Output<u32>,
}

#[actor(on = "shown")]
pub struct Echo {
    #[input]
    pub heard: Input<u32>,
    #[output]
    pub shown: Output<u32>,
}

#[actor(on = "x")]
pub struct Source {
    #[output]
    pub x: Output<u32>,
}

impl Process for Dashboard {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        Ok(())
    }
}

impl Process for Echo {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        Ok(())
    }
}

impl Process for Source {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        Ok(())
    }
}

fn main() {}
