use streamlib::prelude::*;

include!("../support/pipeline_actors.rs");

fn main() -> streamlib::Result<()> {
    let rt = Runtime::new();
    let cam = rt.spawn(Camera::default(), "cam")?;
    let blur = rt.spawn(Blur::default(), "blur")?;
    let screen = rt.spawn(Display::default(), "screen")?;
    // One error per broken statement, all reported at once.
    pipeline! {
        cam.video >>;
        blur.video_out >> screen.video;
        >> screen.level;
        cam.video >> blur.video.x;
    }?;
    let _ = (&cam, &blur, &screen);
    Ok(())
}
