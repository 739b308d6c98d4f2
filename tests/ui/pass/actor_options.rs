#![deny(warnings)]
//! Every `#[actor(..)]` option.

use streamlib::prelude::*;
use streamlib::{Dispatch, Rate};

#[actor(class = "Camera", fps = 30)]
pub struct Cam {
    #[output]
    pub frame: Output<u64>,
}

#[actor(rate = (30000, 1001), dedicated)]
pub struct NtscWindow {
    #[input]
    pub frame: Input<u64>,
}

#[actor(dedicated, class = "Sink", rate = (48_000, 1024,))]
pub struct AudioSink {}

#[actor()]
pub struct Empty {}

macro_rules! noop_process {
    ($($actor:ty),*) => {$(
        impl Process for $actor {
            fn process(&mut self, _tick: &Tick) -> ProcessResult {
                Ok(())
            }
        }
    )*};
}

noop_process!(Cam, NtscWindow, AudioSink, Empty);

fn main() -> streamlib::Result<()> {
    assert_eq!(Cam::class_name(), "Camera");
    assert_eq!(Cam::config().rate, Some(Rate::new(30, 1)?));
    assert_eq!(Cam::config().dispatch, Dispatch::Pool);
    assert_eq!(NtscWindow::config().rate, Some(Rate::new(30000, 1001)?));
    assert_eq!(NtscWindow::config().dispatch, Dispatch::Dedicated);
    assert_eq!(AudioSink::class_name(), "Sink");
    assert_eq!(AudioSink::config().rate, Some(Rate::new(48000, 1024)?));
    assert_eq!(Empty::config().rate, None);
    Ok(())
}
