#![deny(warnings)]
//! Every accepted form of `pipeline!`.

use streamlib::prelude::*;

#[actor]
#[derive(Default)]
pub struct Camera {
    #[output]
    pub video: Output<u64>,
    #[output]
    pub audio: Output<f32>,
}

/// Input and output share the name `video`: a middle hop `blur.video`.
#[actor]
#[derive(Default)]
pub struct Blur {
    #[input]
    pub video: Input<u64>,
    #[output(name = "video")]
    pub blurred: Output<u64>,
}

/// Input `unscaled`, output `scaled`: a middle hop `scale.unscaled -> scaled`.
#[actor]
#[derive(Default)]
pub struct Scale {
    #[input]
    pub unscaled: Input<u64>,
    #[output]
    pub scaled: Output<u64>,
}

#[actor]
#[derive(Default)]
pub struct Display {
    #[input]
    pub video: Input<u64>,
}

#[actor]
#[derive(Default)]
pub struct Speaker {
    #[input]
    pub audio: Input<f32>,
}

macro_rules! noop_process {
    ($($actor:ty),*) => {$(
        impl Process for $actor {
            fn process(&mut self, _tick: &Tick) -> ProcessResult {
                Ok(())
            }
        }
    )*};
}

noop_process!(Camera, Blur, Scale, Display, Speaker);

fn wire(
    cam: &ActorHandle<Camera>,
    screen: &ActorHandle<Display>,
) -> streamlib::Result<streamlib::Pipeline> {
    // Handles behind references work as well.
    pipeline! { cam.video >> screen.video }
}

fn main() -> streamlib::Result<()> {
    let rt = Runtime::new();
    let cam = rt.spawn(Camera::default(), "cam")?;
    let blur = rt.spawn(Blur::default(), "blur")?;
    let scale = rt.spawn(Scale::default(), "scale")?;
    let screen = rt.spawn(Display::default(), "screen")?;
    let monitor = rt.spawn(Display::default(), "monitor")?;
    let preview = rt.spawn(Display::default(), "preview")?;
    let speaker = rt.spawn(Speaker::default(), "speaker")?;

    // A chain through a middle hop with shared names, and statements with a trailing `;`.
    let main = pipeline! {
        cam.video >> blur.video >> scale.unscaled -> scaled >> screen.video;
        cam.audio >> speaker.audio;
    }?;
    assert_eq!(main.len(), 4);

    // Fan-out: one output to several inputs, in one statement list (a second `pipeline!` in the
    // same function).
    let fan_out = pipeline! { blur.video >> monitor.video; blur.video >> preview.video }?;
    assert_eq!(fan_out.len(), 2);
    fan_out.disconnect()?;

    let by_reference = wire(&cam, &monitor)?;
    assert_eq!(by_reference.len(), 1);

    // Nothing to connect: an empty pipeline.
    assert!(pipeline! {}?.is_empty());
    rt.shutdown();
    Ok(())
}
