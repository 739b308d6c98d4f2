// Actors shared by the `pipeline!` compile-fail cases: `include!`d at the top of each case, so
// every case reads as one scenario and the snapshots' line numbers point into the case itself.
// Camera: output `video`; Blur: input `video`, output `video_out`; Display: inputs `video`, `level`.
#[actor]
#[derive(Default)]
pub struct Camera {
    #[output]
    pub video: Output<u64>,
}

#[actor]
#[derive(Default)]
pub struct Blur {
    #[input]
    pub video: Input<u64>,
    #[output]
    pub video_out: Output<u64>,
}

#[actor]
#[derive(Default)]
pub struct Display {
    #[input]
    pub video: Input<u64>,
    #[input]
    pub level: Input<f32>,
}

impl Process for Camera {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        Ok(())
    }
}

impl Process for Blur {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        Ok(())
    }
}

impl Process for Display {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        Ok(())
    }
}
