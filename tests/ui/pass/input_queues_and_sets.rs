#![deny(warnings)]
//! A queued input and an input set, wired by `pipeline!`: an input set may be driven twice.
use streamlib::prelude::*;

#[actor]
#[derive(Default)]
pub struct Source {
    #[output]
    pub value: Output<u32>,
}

#[actor]
#[derive(Default)]
pub struct Mixer {
    /// Any number of layers, in connection order.
    #[input]
    pub layers: Inputs<u32>,
    /// Every event, up to 64 pending.
    #[input(queue = 64)]
    pub events: Input<u32>,
    #[input(queue = 8)]
    pub commands: Inputs<u32>,
}

impl Process for Source {
    fn process(&mut self, tick: &Tick) -> ProcessResult {
        self.value.write(tick.frame_number as u32);
        Ok(())
    }
}

impl Process for Mixer {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        let _sum: u32 = self.layers.iter().filter_map(|l| l.read_latest()).map(|v| *v).sum();
        for _event in self.events.drain() {}
        for command in self.commands.iter_mut() {
            while command.read_new().is_some() {}
        }
        Ok(())
    }
}

fn main() -> streamlib::Result<()> {
    let rt = Runtime::new();
    let a = rt.spawn(Source::default(), "a")?;
    let b = rt.spawn(Source::default(), "b")?;
    let mix = rt.spawn(Mixer::default(), "mix")?;
    pipeline! {
        a.value >> mix.layers;
        b.value >> mix.layers;
        a.value >> mix.events;
        b.value >> mix.commands;
        a.value >> mix.commands;
    }?;
    assert_eq!(mix.inputs.layers.len(), 2);
    assert_eq!(mix.inputs.events.queue(), Some(64));
    assert_eq!(mix.inputs.commands.queue(), Some(8));
    rt.shutdown();
    Ok(())
}
