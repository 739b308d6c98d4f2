use streamlib::prelude::*;

include!("../support/pipeline_actors.rs");

fn main() -> streamlib::Result<()> {
    let rt = Runtime::new();
    let cam = rt.spawn(Camera::default(), "cam")?;
    let blur = rt.spawn(Blur::default(), "blur")?;
    let screen = rt.spawn(Display::default(), "screen")?;
    // As a middle hop, `blur.video` means input `video` and output `video` of `blur`, but `blur`'s
    // output is `video_out`: `blur.video -> video_out` says so.
    pipeline! { cam.video >> blur.video >> screen.video }?;
    let _ = (&cam, &blur, &screen);
    Ok(())
}
