use streamlib::prelude::*;

include!("../support/pipeline_actors.rs");

fn main() -> streamlib::Result<()> {
    let rt = Runtime::new();
    let cam = rt.spawn(Camera::default(), "cam")?;
    let blur = rt.spawn(Blur::default(), "blur")?;
    let screen = rt.spawn(Display::default(), "screen")?;
    pipeline! { cam >> screen.video }?;
    let _ = (&cam, &blur, &screen);
    Ok(())
}
