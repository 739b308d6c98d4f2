#![deny(warnings)]
//! Generic actors: payload bounds are added by `#[actor]`; port structs take only the generic
//! parameters their payloads use.

use std::fmt::Debug;
use std::ops::Mul;

use streamlib::prelude::*;

/// A type parameter used by the ports, with inline bounds.
#[actor]
pub struct Gain<T: Mul<Output = T> + Copy> {
    #[input]
    pub value: Input<T>,
    #[output]
    pub value_out: Output<T>,
    pub gain: T,
}

impl<T: Mul<Output = T> + Copy + Send + Sync + 'static> Process for Gain<T> {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        if let Some(v) = self.value.read_latest() {
            self.value_out.write(*v * self.gain);
        }
        Ok(())
    }
}

/// A parameter used only by state (`F`), one only by inputs (`T`), a where clause, and a const
/// parameter in a payload.
#[actor]
pub(crate) struct Window<T, F, const N: usize>
where
    T: Debug + Clone,
    F: FnMut(&T) -> f32 + Send + 'static,
{
    #[input]
    pub(crate) sample: Input<T>,
    #[output]
    pub(crate) window: Output<[f32; N]>,
    map: F,
    filled: usize,
}

impl<T, F, const N: usize> Process for Window<T, F, N>
where
    T: Debug + Clone + Send + Sync + 'static,
    F: FnMut(&T) -> f32 + Send + 'static,
{
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        if let Some(sample) = self.sample.read_new() {
            let mut window = [0.0; N];
            window[self.filled % N] = (self.map)(&sample);
            self.filled += 1;
            self.window.write(window);
        }
        Ok(())
    }
}

fn main() -> streamlib::Result<()> {
    let rt = Runtime::new();
    let gain = rt.spawn(
        Gain {
            value: Input::new(),
            value_out: Output::new(),
            gain: 2.0f32,
        },
        "gain",
    )?;
    let _: &GainInputs<f32> = &gain.inputs;
    let window = rt.spawn(
        Window::<f32, _, 4> {
            sample: Input::new(),
            window: Output::new(),
            map: |x: &f32| *x,
            filled: 0,
        },
        "window",
    )?;
    // `WindowInputs<T>` and `WindowOutputs<N>`: `F` is state only.
    let _: &WindowInputs<f32> = &window.inputs;
    let _: &WindowOutputs<4> = &window.outputs;
    assert_eq!(gain.uri().class(), "Gain_f32");
    assert_eq!(window.uri().class(), "Window_f32_closure_4");
    rt.shutdown();
    Ok(())
}
