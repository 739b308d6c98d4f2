#![deny(warnings)]
//! `pipeline!` between generic actors: payloads are checked per instantiation.

use std::ops::Add;

use streamlib::prelude::*;

/// `#[derive(Default)]` needs `Output<T>: Default`, which needs `T: Send + Sync + 'static`.
#[actor]
#[derive(Default)]
pub struct Source<T: Default + Send + Sync + 'static> {
    #[output]
    pub value: Output<T>,
}

#[actor]
pub struct Offset<T: Add<Output = T> + Copy> {
    #[input]
    pub value: Input<T>,
    #[output(name = "value")]
    pub shifted: Output<T>,
    pub offset: T,
}

#[actor]
#[derive(Default)]
pub struct Sink<T: Send + Sync + 'static> {
    #[input]
    pub value: Input<T>,
}

impl<T: Default + Send + Sync + 'static> Process for Source<T> {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        self.value.write(T::default());
        Ok(())
    }
}

impl<T: Add<Output = T> + Copy + Send + Sync + 'static> Process for Offset<T> {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        if let Some(v) = self.value.read_latest() {
            self.shifted.write(*v + self.offset);
        }
        Ok(())
    }
}

impl<T: Send + Sync + 'static> Process for Sink<T> {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        let _ = self.value.read_latest();
        Ok(())
    }
}

/// A constructor that does not name `T`: `pipeline!` infers it from the other end.
#[actor]
pub struct Mean<T: Copy + Into<f64>> {
    #[input]
    pub value: Input<T>,
    #[output(name = "value")]
    pub mean: Output<f64>,
}

impl<T: Copy + Into<f64> + Send + Sync + 'static> Mean<T> {
    pub fn new() -> Self {
        Mean {
            value: Input::new(),
            mean: Output::new(),
        }
    }
}

impl<T: Copy + Into<f64> + Send + Sync + 'static> Process for Mean<T> {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        if let Some(v) = self.value.read_latest() {
            self.mean.write((*v).into());
        }
        Ok(())
    }
}

fn main() -> streamlib::Result<()> {
    let rt = Runtime::new();
    let src = rt.spawn(Source::<f64>::default(), "src")?;
    let offset = rt.spawn(
        Offset {
            value: Input::new(),
            shifted: Output::new(),
            offset: 0.5,
        },
        "offset",
    )?;
    let sink = rt.spawn(Sink::<f64>::default(), "sink")?;
    let pipeline = pipeline! { src.value >> offset.value >> sink.value }?;
    assert_eq!(pipeline.len(), 2);
    let mean = rt.spawn(Mean::new(), "mean")?; // `Mean<f64>`, from `offset.value`
    pipeline! { offset.value >> mean.value }?;
    assert_eq!(mean.uri().class(), "Mean_f64");
    rt.shutdown();
    Ok(())
}
