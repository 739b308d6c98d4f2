//! What the two-process tests (`ipc`: iceoryx2, `net`: Zenoh) share: the local source actor, and
//! the checks that do not depend on the engine (a slow reader sees only the newest, a typed port
//! error, staleness after a kill, a quick shutdown).

use std::time::{Duration, Instant};

use streamlib::prelude::*;
use streamlib::{ActorRef, Connection, Error};

use crate::child::until;

/// Writes a constant.
#[actor(fps = 100)]
pub struct Source {
    #[output]
    pub value: Output<i64>,
    pub constant: i64,
}

impl Source {
    pub fn new(constant: i64) -> Source {
        Source {
            value: Output::new(),
            constant,
        }
    }
}

impl Process for Source {
    fn process(&mut self, _: &Tick) -> ProcessResult {
        self.value.write(self.constant);
        Ok(())
    }
}

/// Reads `value`, the running camera's frame number + 1,000 at 100 Hz, through a latest-value
/// input five times 100 ms apart: each read jumps to the newest (nothing queued), and the newest
/// carries its tick's stamp. Returns the input, still connected.
pub fn read_slowly(value: &OutputRef<i64>) -> (Input<i64>, Connection) {
    let mut input = Input::<i64>::new();
    let link = streamlib::connect(value, &input.to_ref()).unwrap();
    until(Duration::from_secs(10), || input.read_latest().is_some()).unwrap();
    let mut seen = Vec::new();
    for _ in 0..5 {
        std::thread::sleep(Duration::from_millis(100)); // 10 camera ticks between reads
        if let Some(v) = input.read_new() {
            seen.push(*v);
        }
    }
    assert!(seen.len() >= 4, "{seen:?}");
    for pair in seen.windows(2) {
        assert!(
            pair[1] - pair[0] > 3,
            "nothing queued: each read jumps to the newest, {seen:?}"
        );
    }
    // The value first, then the stamp of that read (`stamp` is the tick of the newest value this
    // input read), so a value arriving between the two calls changes neither. The input keeps
    // the stamps of its last 8 values only: should more arrive between the two calls (a stall
    // of the test's thread), read again.
    let mut stamped = None;
    until(Duration::from_secs(10), || {
        let value = *input.read_latest().unwrap();
        stamped = input.stamp().map(|stamp| (stamp, value));
        stamped.is_some()
    });
    let (stamp, value) = stamped.expect("a remote value carries its tick");
    assert_eq!(stamp.frame_number as i64 + 1_000, value);
    (input, link)
}

/// The camera's `value` (an `i64`) asked for as an `f64`, and an unknown port, are typed errors.
pub fn assert_typed_port_errors(camera: &ActorRef) {
    match camera.output::<f64>("value") {
        Err(Error::PortTypeMismatch {
            expected, actual, ..
        }) => assert_eq!((expected, actual), ("f64", "i64")),
        other => panic!("expected PortTypeMismatch, got {other:?}"),
    }
    assert!(matches!(
        camera.output::<i64>("nope"),
        Err(Error::UnknownPort { .. })
    ));
}

/// After its writer's process was killed, `input` turns stale within 2 s.
pub fn assert_stale_soon(input: &InputRef<i64>) {
    let stale = until(Duration::from_secs(5), || input.is_stale())
        .expect("the input turns stale after the camera process dies");
    assert!(stale < Duration::from_secs(2), "stale after {stale:?}");
}

/// `rt` shuts down within 5 s: a debug build closing its transport (a Zenoh session, iceoryx2
/// nodes) on a loaded machine takes well under that, while a shutdown that waits out a lease or
/// the runtime's longest shutdown (10 s) does not.
pub fn assert_quick_shutdown(rt: &Runtime) {
    let started = Instant::now();
    rt.shutdown();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "shutdown took {:?}",
        started.elapsed()
    );
}
