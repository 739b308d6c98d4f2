//! Faults are reported through `tracing` with the actor's URI as a field.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use streamlib::{Actor, ActorError, PortBinder, Process, ProcessResult, Runtime, Tick};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

struct Failing;

impl Actor for Failing {
    type Inputs = ();
    type Outputs = ();
    fn class_name() -> &'static str {
        "Failing"
    }
    fn bind_ports(&self, _: &mut PortBinder<'_>) -> ((), ()) {
        ((), ())
    }
}

impl Process for Failing {
    fn process(&mut self, tick: &Tick) -> ProcessResult {
        if tick.frame_number.is_multiple_of(2) {
            Err(ActorError::msg("camera unplugged"))
        } else {
            panic!("decoder exploded")
        }
    }
}

#[test]
fn errors_and_panics_are_logged_with_the_actor_uri() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let rt = Runtime::new();
    let failing = rt.spawn(Failing, "cam7").unwrap();
    let start = Instant::now();
    loop {
        let text = String::from_utf8_lossy(&captured.0.lock().unwrap()).to_string();
        let error = text.lines().any(|l| {
            l.contains("actor=actor://local/Failing/cam7") && l.contains("camera unplugged")
        });
        let panic = text.lines().any(|l| {
            l.contains("actor=actor://local/Failing/cam7") && l.contains("decoder exploded")
        });
        if error && panic {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "events not seen:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        failing.is_running(),
        "the default policy keeps the actor ticking"
    );
    rt.shutdown();
}
