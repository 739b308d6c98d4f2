// `rt.remote::<A>()` needs every payload of `A` to cross a process boundary: a payload type
// without a `Codec` is a compile error naming that type, at the call.
use streamlib::prelude::*;

pub struct Settings {
    pub gain: f32,
}

#[actor]
pub struct Mixer {
    #[input]
    pub settings: Input<Settings>,
    #[output]
    pub level: Output<f32>,
}

impl Process for Mixer {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        Ok(())
    }
}

fn main() -> streamlib::Result<()> {
    let rt = Runtime::new();
    let _mixer = rt.remote::<Mixer>("actor://desk/Mixer/m0")?;
    Ok(())
}
