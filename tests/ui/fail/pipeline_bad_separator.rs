use streamlib::prelude::*;

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

fn main() -> streamlib::Result<()> {
    let rt = Runtime::new();
    let cam = rt.spawn(Camera::default(), "cam")?;
    let blur = rt.spawn(Blur::default(), "blur")?;
    let screen = rt.spawn(Display::default(), "screen")?;
    pipeline! { cam.video >> screen.video, cam.video >> blur.video }?;
    let _ = (&cam, &blur, &screen);
    Ok(())
}
