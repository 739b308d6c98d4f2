//! A bridge from a port to a pulse source: [`PortPulses`] lets a
//! [`GenlockClock`](crate::GenlockClock) lock to pulse times another actor writes.
//!
//! It lives above both layers it joins — the clocks, which know nothing of ports, and the ports
//! and connections — so that neither imports the other.

use std::io;
use std::time::{Duration, Instant};

use crate::clock::{PulseSource, Timestamp};
use crate::error::Result;
use crate::pipeline::{connect, Connection};
use crate::port::{Input, OutputRef};

/// Pulses carried by a streamlib port: an upstream [`Output<Timestamp>`](crate::Output) whose
/// values are pulse times (e.g. an actor reading a capture card's vertical sync).
///
/// The port is polled every `poll_interval` (default 1 ms). Since each value carries its own
/// time, polling adds latency, not jitter; pulses written faster than the poll interval are
/// seen as drop-outs (latest-value semantics), which the loop tolerates.
///
/// ```
/// use streamlib::{Output, PortPulses, Timestamp};
/// let pulses = Output::<Timestamp>::new();
/// let source = PortPulses::connect(&pulses.to_ref())?;
/// # drop(source);
/// # Ok::<(), streamlib::Error>(())
/// ```
pub struct PortPulses {
    input: Input<Timestamp>,
    poll_interval: Duration,
    // Keeps the wiring alive for the source's lifetime.
    _connection: Connection,
}

impl PortPulses {
    /// A source reading pulse times written to `output`.
    pub fn connect(output: &OutputRef<Timestamp>) -> Result<PortPulses> {
        let input = Input::new();
        let connection = connect(output, &input.to_ref())?;
        Ok(PortPulses {
            input,
            poll_interval: Duration::from_millis(1),
            _connection: connection,
        })
    }

    /// This source polling every `interval` (at least 100 µs).
    pub fn with_poll_interval(mut self, interval: Duration) -> PortPulses {
        self.poll_interval = interval.max(Duration::from_micros(100));
        self
    }
}

impl PulseSource for PortPulses {
    fn next_pulse(&mut self, timeout: Duration) -> io::Result<Option<Timestamp>> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(pulse) = self.input.read_new() {
                return Ok(Some(*pulse));
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            std::thread::sleep(self.poll_interval.min(deadline - now));
        }
    }

    fn describe(&self) -> String {
        "port".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_pulses_return_each_written_time_once() {
        let output = crate::Output::<Timestamp>::new();
        let mut source = PortPulses::connect(&output.to_ref()).unwrap();
        assert_eq!(source.next_pulse(Duration::from_millis(3)).unwrap(), None);
        output.write(Timestamp::from_nanos(42));
        assert_eq!(
            source.next_pulse(Duration::from_secs(1)).unwrap(),
            Some(Timestamp::from_nanos(42))
        );
        assert_eq!(source.next_pulse(Duration::from_millis(3)).unwrap(), None);
    }
}
