// A generic actor whose payload nothing fixes: `new` does not name `T` and the handle is never
// wired, so rustc asks for the type; the fix is `MovingAverage::<f64>::new(10)`. (Wired with
// `pipeline! { src.value >> avg.value }`, the type is inferred: see ui/pass/pipeline_generic.rs.)
use streamlib::prelude::*;

#[actor]
pub struct MovingAverage<T: Copy + Into<f64>> {
    #[input]
    pub value: Input<T>,
    #[output(name = "value")]
    pub mean: Output<f64>,
    len: usize,
}

impl<T: Copy + Into<f64> + Send + Sync + 'static> MovingAverage<T> {
    pub fn new(len: usize) -> Self {
        MovingAverage { value: Input::new(), mean: Output::new(), len }
    }
}

impl<T: Copy + Into<f64> + Send + Sync + 'static> Process for MovingAverage<T> {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        let _ = (self.value.read_new(), self.len);
        Ok(())
    }
}

fn main() -> streamlib::Result<()> {
    let rt = Runtime::new();
    let avg = rt.spawn(MovingAverage::new(10), "avg")?;
    let _ = avg.uri();
    Ok(())
}
