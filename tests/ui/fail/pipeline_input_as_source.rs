use streamlib::prelude::*;

include!("../support/pipeline_actors.rs");

fn main() -> streamlib::Result<()> {
    let rt = Runtime::new();
    let cam = rt.spawn(Camera::default(), "cam")?;
    let blur = rt.spawn(Blur::default(), "blur")?;
    let screen = rt.spawn(Display::default(), "screen")?;
    // `screen.level` is an input of `screen`: it cannot feed `blur.video`.
    pipeline! { screen.level >> blur.video }?;
    let _ = (&cam, &blur, &screen);
    Ok(())
}
