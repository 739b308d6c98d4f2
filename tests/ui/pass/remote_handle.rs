// A remote handle's ports are typed by the actor's declaration and wire with `pipeline!` like a
// local handle's; without a network, `rt.remote` is a run-time error, not a compile error.
#![deny(warnings)]

use streamlib::prelude::*;
use streamlib::{Error, VideoFrame};

#[actor]
pub struct Camera {
    #[output]
    pub video: Output<VideoFrame>,
}

impl Process for Camera {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        Ok(())
    }
}

#[actor]
#[derive(Default)]
pub struct Viewer {
    #[input]
    pub video: Input<VideoFrame>,
}

impl Process for Viewer {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        Ok(())
    }
}

fn wire(cam: &streamlib::RemoteHandle<Camera>, view: &ActorHandle<Viewer>) -> streamlib::Result<()> {
    pipeline! { cam.video >> view.video }?;
    Ok(())
}

fn main() {
    let rt = Runtime::new();
    let view = rt.spawn(Viewer::default(), "view").unwrap();
    match rt.remote::<Camera>("actor://cam-box/Camera/cam0") {
        Err(Error::NoNetwork { .. }) => {}
        Ok(cam) => wire(&cam, &view).unwrap(),
        Err(other) => panic!("{other}"),
    }
}
