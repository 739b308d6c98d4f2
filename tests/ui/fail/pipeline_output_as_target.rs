use streamlib::prelude::*;

include!("../support/pipeline_actors.rs");

fn main() -> streamlib::Result<()> {
    let rt = Runtime::new();
    let cam = rt.spawn(Camera::default(), "cam")?;
    let blur = rt.spawn(Blur::default(), "blur")?;
    let screen = rt.spawn(Display::default(), "screen")?;
    // `blur.video_out` is an output: the right of `>>` names an input.
    pipeline! { cam.video >> blur.video_out }?;
    let _ = (&cam, &blur, &screen);
    Ok(())
}
