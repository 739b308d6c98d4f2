//! Generic actors: each instantiation is a class of its own (`Collector<Alert>` registers as
//! `Collector_Alert`), and `pipeline!` infers a generic actor's payload from the other end.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use streamlib::prelude::*;

#[derive(Debug, Clone, PartialEq)]
pub struct Alert(pub u64);

#[derive(Debug, Clone, PartialEq)]
pub struct Reading(pub f64);

/// Keeps the newest value of any payload type.
#[actor]
pub struct Collector<T> {
    #[input]
    pub items: Input<T>,
    pub seen: usize,
}

impl<T: Send + Sync + 'static> Default for Collector<T> {
    fn default() -> Self {
        Collector {
            items: Input::new(),
            seen: 0,
        }
    }
}

impl<T: Send + Sync + 'static> Process for Collector<T> {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        if self.items.read_new().is_some() {
            self.seen += 1;
        }
        Ok(())
    }
}

/// A const parameter is part of the class too.
#[actor]
#[derive(Default)]
pub struct Delay<const N: usize> {
    #[input]
    pub value: Input<f64>,
}

impl<const N: usize> Process for Delay<N> {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        Ok(())
    }
}

/// Writes the frame number as an `f64`.
#[actor]
#[derive(Default)]
pub struct Sensor {
    #[output]
    pub value: Output<f64>,
}

impl Process for Sensor {
    fn process(&mut self, tick: &Tick) -> ProcessResult {
        self.value.write(tick.frame_number as f64);
        Ok(())
    }
}

/// A moving average of any number type: `new` does not name `T`.
#[actor]
pub struct MovingAverage<T: Copy + Into<f64>> {
    #[input]
    pub value: Input<T>,
    #[output(name = "value")]
    pub mean: Output<f64>,
    window: VecDeque<f64>,
    len: usize,
}

impl<T: Copy + Into<f64> + Send + Sync + 'static> MovingAverage<T> {
    pub fn new(len: usize) -> Self {
        MovingAverage {
            value: Input::new(),
            mean: Output::new(),
            window: VecDeque::new(),
            len,
        }
    }
}

impl<T: Copy + Into<f64> + Send + Sync + 'static> Process for MovingAverage<T> {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        if let Some(v) = self.value.read_new() {
            self.window.push_back((*v).into());
            if self.window.len() > self.len {
                self.window.pop_front();
            }
            let mean = self.window.iter().sum::<f64>() / self.window.len() as f64;
            self.mean.write(mean);
        }
        Ok(())
    }
}

#[test]
fn two_instantiations_are_two_classes_in_one_runtime() -> streamlib::Result<()> {
    let rt = Runtime::new();
    let alerts = rt.spawn(Collector::<Alert>::default(), "c")?;
    // The same id under the other instantiation: another class, so another URI.
    let readings = rt.spawn(Collector::<Reading>::default(), "c")?;
    let nested = rt.spawn(Collector::<Vec<Alert>>::default(), "c")?;
    assert_eq!(alerts.uri().to_string(), "actor://local/Collector_Alert/c");
    assert_eq!(
        readings.uri().to_string(),
        "actor://local/Collector_Reading/c"
    );
    assert_eq!(nested.uri().class(), "Collector_Vec_Alert");
    assert_eq!(rt.registry().find_by_class("Collector_Alert").len(), 1);
    assert_eq!(rt.registry().find_by_class("Collector_Reading").len(), 1);
    // Looked up by URI, the ports keep their payload types apart.
    let found = rt
        .registry()
        .lookup("actor://local/Collector_Reading/c")?
        .expect("registered");
    assert!(found.input::<Reading>("items").is_ok());
    assert!(found.input::<Alert>("items").is_err());
    // The same instantiation twice under one id is still a duplicate.
    assert!(matches!(
        rt.spawn(Collector::<Alert>::default(), "c"),
        Err(streamlib::Error::DuplicateActor { .. })
    ));

    let three = rt.spawn(Delay::<3>::default(), "d")?;
    let four = rt.spawn(Delay::<4>::default(), "d")?;
    assert_eq!(three.uri().class(), "Delay_3");
    assert_eq!(four.uri().class(), "Delay_4");
    rt.shutdown();
    Ok(())
}

#[test]
fn pipeline_infers_a_generic_actors_payload() -> streamlib::Result<()> {
    let rt = Runtime::new();
    let src = rt.spawn(Sensor::default(), "src")?;
    // No `MovingAverage::<f64>`: `pipeline!` fixes `T` from `src.value`.
    let avg = rt.spawn(MovingAverage::new(4), "avg")?;
    pipeline! { src.value >> avg.value }?;
    assert_eq!(avg.uri().class(), "MovingAverage_f64");
    let start = Instant::now();
    while avg.outputs.value.read_latest().is_none() && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(avg.outputs.value.read_latest().is_some());
    rt.shutdown();
    Ok(())
}
