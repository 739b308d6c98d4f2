//! Two processes over Zenoh on loopback: the test binary re-executes itself as the "camera"
//! process (`STREAMLIB_NET_ROLE`), and the test itself is the viewer. Every wait is bounded;
//! children are killed when the test ends, passed or failed.
#![cfg(feature = "net")]

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use streamlib::prelude::*;
use streamlib::{Error, NetConfig, RuntimeBuilder};

/// Writes the tick's frame number on `value` and echoes what arrives on `gain` on `echo`.
#[actor(fps = 100)]
#[derive(Default)]
pub struct Camera {
    #[output]
    pub value: Output<i64>,
    #[input]
    pub gain: Input<i64>,
    #[output]
    pub echo: Output<i64>,
}

impl Process for Camera {
    fn process(&mut self, tick: &Tick) -> ProcessResult {
        if std::env::var("STREAMLIB_NET_ONCE").is_err() || tick.frame_number < 2 {
            self.value.write(tick.frame_number as i64 + 1_000);
        }
        if let Some(gain) = self.gain.read_new() {
            self.echo.write(*gain);
        }
        Ok(())
    }
}

/// Reads `value` (a local sink of remote values).
#[actor(fps = 100)]
#[derive(Default)]
pub struct Sink {
    #[input]
    pub value: Input<i64>,
}

impl Process for Sink {
    fn process(&mut self, _: &Tick) -> ProcessResult {
        let _ = self.value.read_latest();
        Ok(())
    }
}

/// Writes a constant.
#[actor(fps = 100)]
pub struct Source {
    #[output]
    pub value: Output<i64>,
    pub constant: i64,
}

impl Process for Source {
    fn process(&mut self, _: &Tick) -> ProcessResult {
        self.value.write(self.constant);
        Ok(())
    }
}

const CAMERA: &str = "actor://cam-box/Camera/cam0";

/// The camera's runtime: listens on `port`, accepts writes into its inputs.
fn camera_runtime(port: impl std::fmt::Display) -> Runtime {
    Runtime::builder()
        .host("cam-box")
        .network(
            NetConfig::new()
                .listen(&format!("tcp/127.0.0.1:{port}"))
                .accept_writes(true),
        )
        .build()
        .expect("camera runtime")
}

/// The camera process: runs until its stdin closes (the parent died or let go) or 60 s.
fn camera_role(port: &str) {
    let rt = camera_runtime(port);
    rt.spawn(Camera::default(), "cam0").expect("camera actor");
    let started = Instant::now();
    let mut stdin = std::io::stdin();
    let mut byte = [0u8];
    // EOF (parent gone) ends the role; the 60 s bound is a safety net.
    let reader = std::thread::spawn(move || {
        let _ = stdin.read(&mut byte);
    });
    while !reader.is_finished() && started.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(20));
    }
    rt.shutdown();
}

/// A child process running the camera role; killed on drop.
struct CameraProcess {
    child: Child,
}

impl CameraProcess {
    fn start(port: u16, once: bool) -> CameraProcess {
        let mut command = Command::new(std::env::current_exe().unwrap());
        command
            .args(["--exact", "child_role", "--ignored", "--nocapture"])
            .env("STREAMLIB_NET_ROLE", "camera")
            .env("STREAMLIB_NET_PORT", port.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::null());
        if once {
            command.env("STREAMLIB_NET_ONCE", "1");
        }
        CameraProcess {
            child: command.spawn().expect("re-executing the test binary"),
        }
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for CameraProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Not a test of its own: the entry point of the child processes (run with `--ignored`).
#[test]
#[ignore = "the camera process of the other tests; they start it"]
fn child_role() {
    if std::env::var("STREAMLIB_NET_ROLE").as_deref() == Ok("camera") {
        camera_role(&std::env::var("STREAMLIB_NET_PORT").unwrap());
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn viewer(port: u16) -> RuntimeBuilder {
    Runtime::builder()
        .host("view-box")
        .network(NetConfig::new().connect(&format!("tcp/127.0.0.1:{port}")))
}

/// Polls `done` every 5 ms until it holds or `within` passes; returns how long it took.
fn until(within: Duration, mut done: impl FnMut() -> bool) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < within {
        if done() {
            return Some(start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    None
}

#[test]
fn values_flow_both_ways_and_resume_after_a_kill() {
    let port = free_port();
    let mut camera = CameraProcess::start(port, false);
    let rt = viewer(port).build().unwrap();
    let cam = rt.remote::<Camera>(CAMERA).unwrap();
    cam.wait_until_running(Duration::from_secs(20))
        .expect("the camera process announces its actor");
    assert!(rt.registry().lookup(CAMERA).unwrap().unwrap().is_remote());

    // Remote output → local input.
    let sink = rt.spawn(Sink::default(), "sink").unwrap();
    let echo = rt.spawn(Sink::default(), "echo").unwrap();
    let source = rt
        .spawn(
            Source {
                value: Output::new(),
                constant: 77,
            },
            "src",
        )
        .unwrap();
    pipeline! { cam.value >> sink.value; cam.echo >> echo.value; source.value >> cam.gain }
        .unwrap();
    let sink_ref = rt
        .registry()
        .lookup("actor://local/Sink/sink")
        .unwrap()
        .unwrap();
    let sink_in = sink.inputs.value.clone();
    let read = || {
        sink_ref
            .port_stats()
            .inputs
            .first()
            .map_or(0, |(_, s)| s.reads - s.stale_reads)
    };
    until(Duration::from_secs(10), || read() > 10).expect("camera values arrive");
    assert!(!sink_in.is_stale());

    // Local output → remote input: the camera echoes the 77 it received.
    let echo_ref = rt
        .registry()
        .lookup("actor://local/Sink/echo")
        .unwrap()
        .unwrap();
    let echoed = echo_ref.output::<i64>("value");
    assert!(
        echoed.is_err(),
        "Sink has no output; the echo is read below"
    );
    let echo_out = cam.outputs.echo.clone();
    until(Duration::from_secs(10), || {
        echo_out.read_latest().is_some_and(|v| *v == 77)
    })
    .expect("a value written here reaches the camera's input and comes back");

    // Killed: stale within 2 s, the last value stays readable.
    camera.kill();
    let stale = until(Duration::from_secs(5), || sink_in.is_stale());
    let stale = stale.expect("the input turns stale after the camera process dies");
    assert!(stale < Duration::from_secs(2), "stale after {stale:?}");
    assert!(cam.outputs.value.read_latest().is_some());
    assert!(
        rt.registry().lookup(CAMERA).unwrap().is_none(),
        "the registry dropped it"
    );

    // Restarted: the same connection resumes by itself.
    let before = read();
    let _camera = CameraProcess::start(port, false);
    until(Duration::from_secs(20), || {
        !sink_in.is_stale() && read() > before + 10
    })
    .expect("values flow again once the camera returns");

    let started = Instant::now();
    rt.shutdown();
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "shutdown took {:?}",
        started.elapsed()
    );
}

#[test]
fn a_late_joiner_gets_the_newest_value_at_once() {
    let port = free_port();
    let _camera = CameraProcess::start(port, true); // writes two values, then nothing
    let first = viewer(port).build().unwrap();
    first
        .registry()
        .wait_for(CAMERA, Duration::from_secs(20))
        .expect("camera announced");
    std::thread::sleep(Duration::from_millis(300)); // long after its last write
    let rt = viewer(port).host("late-box").build().unwrap();
    let cam = rt.remote::<Camera>(CAMERA).unwrap();
    let value = cam.outputs.value.clone();
    let sink = rt.spawn(Sink::default(), "late").unwrap();
    pipeline! { cam.value >> sink.value }.unwrap();
    until(Duration::from_secs(5), || value.read_latest().is_some())
        .expect("the cached newest value arrives without a new write");
    assert_eq!(
        *value.read_latest().unwrap(),
        1_001,
        "frame 1's value, the newest"
    );
}

#[test]
fn a_slow_reader_sees_only_the_newest() {
    let port = free_port();
    let _camera = CameraProcess::start(port, false);
    let rt = viewer(port).build().unwrap();
    let cam = rt.remote::<Camera>(CAMERA).unwrap();
    cam.wait_until_running(Duration::from_secs(20)).unwrap();
    let mut input = Input::<i64>::new();
    let _link = streamlib::connect(&cam.outputs.value, &input.to_ref()).unwrap();
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
    assert!(input.stats().missed > 0);
    let stamp = input.stamp().expect("a remote value carries its tick");
    assert_eq!(
        stamp.frame_number as i64 + 1_000,
        *input.read_latest().unwrap()
    );
}

#[test]
fn a_wrong_payload_type_is_a_typed_error() {
    let port = free_port();
    let _camera = CameraProcess::start(port, false);
    let rt = viewer(port).build().unwrap();
    let camera = rt
        .registry()
        .wait_for(CAMERA, Duration::from_secs(20))
        .unwrap();
    match camera.output::<f64>("value") {
        Err(Error::PortTypeMismatch {
            expected, actual, ..
        }) => {
            assert_eq!((expected, actual), ("f64", "i64"))
        }
        other => panic!("expected PortTypeMismatch, got {other:?}"),
    }
    assert!(matches!(
        camera.output::<i64>("nope"),
        Err(Error::UnknownPort { .. })
    ));
    assert!(camera.output::<i64>("value").is_ok());
    assert!(matches!(
        rt.remote::<Sink>(CAMERA),
        Err(Error::Remote { .. })
    ));
    let stats = camera.remote_stats(Duration::from_secs(2)).unwrap();
    assert!(stats.ticks > 0, "{stats:?}");
}

#[test]
fn garbage_on_a_key_is_counted_not_fatal() {
    let port = free_port();
    let writer = camera_runtime(port);
    let camera = writer.spawn(Camera::default(), "cam0").unwrap();
    let viewer_port = free_port();
    let rt = Runtime::builder()
        .host("view-box")
        .network(
            NetConfig::new()
                .listen(&format!("tcp/127.0.0.1:{viewer_port}"))
                .connect(&format!("tcp/127.0.0.1:{port}")),
        )
        .build()
        .unwrap();
    let cam = rt.remote::<Camera>(CAMERA).unwrap();
    cam.wait_until_running(Duration::from_secs(10)).unwrap();
    let input = Input::<i64>::new();
    let _link = streamlib::connect(&cam.outputs.value, &input.to_ref()).unwrap();
    until(Duration::from_secs(10), || input.read_latest().is_some()).unwrap();

    // A raw Zenoh peer, linked to both runtimes (peers do not relay), publishes garbage on the
    // camera's output key and on its input key.
    use streamlib::net::zenoh::{self, Wait};
    let mut config = zenoh::Config::default();
    let endpoints = format!("[\"tcp/127.0.0.1:{port}\", \"tcp/127.0.0.1:{viewer_port}\"]");
    config
        .insert_json5("connect/endpoints", &endpoints)
        .unwrap();
    config.insert_json5("listen/endpoints", "[]").unwrap();
    config
        .insert_json5("scouting/multicast/enabled", "false")
        .unwrap();
    let raw = zenoh::open(config).wait().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    for garbage in [&b"junk"[..], &[0u8; 100][..], b"SL\x01\x00short"] {
        raw.put("streamlib/v1/data/cam-box/Camera/cam0/out/value", garbage)
            .wait()
            .unwrap();
        raw.put("streamlib/v1/data/cam-box/Camera/cam0/in/gain", garbage)
            .wait()
            .unwrap();
    }
    until(Duration::from_secs(5), || {
        input.stats().bad_values >= 3 && camera.inputs.gain.stats().bad_values >= 3
    })
    .expect("bad messages are counted on both ports");
    assert!(camera.is_running());
    let before = input.read_latest().unwrap();
    until(Duration::from_secs(5), || {
        *input.read_latest().unwrap() > *before
    })
    .expect("good values keep flowing after the garbage");
    drop(raw);
}

#[test]
fn a_network_that_cannot_start_fails_build_with_the_endpoint() {
    let port = free_port();
    let _first = Runtime::builder()
        .network(NetConfig::new().listen(&format!("tcp/127.0.0.1:{port}")))
        .build()
        .unwrap();
    let taken = format!("tcp/127.0.0.1:{port}");
    match Runtime::builder()
        .network(NetConfig::new().listen(&taken))
        .build()
    {
        Err(Error::Network { endpoint, .. }) => assert_eq!(endpoint, taken),
        other => panic!("expected Error::Network, got {other:?}"),
    }
    match Runtime::builder()
        .network(NetConfig::new().connect("tcp/nowhere"))
        .build()
    {
        Err(Error::Network { endpoint, .. }) => assert_eq!(endpoint, "tcp/nowhere"),
        other => panic!("expected Error::Network, got {other:?}"),
    }
    let local = Runtime::new();
    assert!(matches!(
        local.remote::<Camera>(CAMERA),
        Err(Error::NoNetwork { .. })
    ));
}
