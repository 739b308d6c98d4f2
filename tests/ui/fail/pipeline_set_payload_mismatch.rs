use streamlib::prelude::*;

// An input set checks each connection's payload as a single input does.
#[actor]
#[derive(Default)]
pub struct Meter {
    #[output]
    pub level: Output<f32>,
}

#[actor]
#[derive(Default)]
pub struct Mixer {
    #[input]
    pub layers: Inputs<u64>,
}

impl Process for Meter {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        Ok(())
    }
}

impl Process for Mixer {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        Ok(())
    }
}

fn main() -> streamlib::Result<()> {
    let rt = Runtime::new();
    let meter = rt.spawn(Meter::default(), "meter")?;
    let mix = rt.spawn(Mixer::default(), "mix")?;
    pipeline! { meter.level >> mix.layers }?;
    Ok(())
}
