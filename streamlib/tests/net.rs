//! Two processes over Zenoh on loopback: the test binary re-executes itself as the "camera"
//! process (`STREAMLIB_NET_ROLE`), and the test itself is the viewer. Every wait is bounded;
//! children are killed when the test ends, passed or failed.
#![cfg(feature = "net")]

#[path = "support/child.rs"]
mod child;
#[path = "support/remote.rs"]
mod remote;

use std::time::Duration;

use child::{until, CameraVars, ChildProcess};
use remote::{
    assert_quick_shutdown, assert_stale_soon, assert_typed_port_errors, read_slowly, Source,
};
use streamlib::prelude::*;
use streamlib::{
    Error, LatePolicy, NetConfig, PixelFormat, Rate, RuntimeBuilder, SoftwareClock, VideoFrame,
};

/// How the tests start the camera process: `STREAMLIB_NET_PORT` is the port it listens on.
const VARS: CameraVars = CameraVars {
    role: "STREAMLIB_NET_ROLE",
    arg: "STREAMLIB_NET_PORT",
    once: "STREAMLIB_NET_ONCE",
};

/// Writes the tick's frame number + 1,000 on `value` (`STREAMLIB_NET_ONCE`: 1,000 and 1,001,
/// then nothing) and echoes what arrives on `gain` on `echo`.
#[actor(fps = 100)]
#[derive(Default)]
pub struct Camera {
    #[output]
    pub value: Output<i64>,
    #[input]
    pub gain: Input<i64>,
    #[output]
    pub echo: Output<i64>,
    /// Ticks that wrote (`STREAMLIB_NET_ONCE`: only the first two that run, whatever their
    /// numbers: under load the first ticks can be skipped).
    pub written: u64,
}

impl Process for Camera {
    fn process(&mut self, tick: &Tick) -> ProcessResult {
        if std::env::var(VARS.once).is_err() {
            self.value.write(tick.frame_number as i64 + 1_000);
        } else if self.written < 2 {
            self.value.write(self.written as i64 + 1_000);
            self.written += 1;
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
///
/// Its clock catches up on late ticks rather than skipping them, so it writes a value for every
/// frame even when the machine stalls it: the queued-input test checks that no frame is
/// missing. No test of this role relies on skipped ticks.
fn camera_role(port: &str) {
    let rt = camera_runtime(port);
    let clock = SoftwareClock::new(Rate::fps(100).unwrap()).with_late_policy(LatePolicy::CatchUp);
    rt.spawn_on(Camera::default(), "cam0", &clock)
        .expect("camera actor");
    child::until_parent_lets_go(Duration::from_secs(60));
    rt.shutdown();
}

/// A child process running the camera role, listening on `port`.
fn start_camera(port: u16, once: bool) -> ChildProcess {
    VARS.start(&port.to_string(), once)
}

/// Not a test of its own: the entry point of the child processes (run with `--ignored`).
#[test]
#[ignore = "the camera process of the other tests; they start it"]
fn child_role() {
    if let Some(port) = VARS.camera_arg() {
        camera_role(&port);
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

#[test]
fn values_flow_both_ways_and_resume_after_a_kill() {
    let port = free_port();
    let mut camera = start_camera(port, false);
    let rt = viewer(port).build().unwrap();
    let cam = rt.remote::<Camera>(CAMERA).unwrap();
    cam.wait_until_running(Duration::from_secs(20))
        .expect("the camera process announces its actor");
    assert!(rt.registry().lookup(CAMERA).unwrap().unwrap().is_remote());

    // Remote output → local input.
    let sink = rt.spawn(Sink::default(), "sink").unwrap();
    let echo = rt.spawn(Sink::default(), "echo").unwrap();
    let source = rt.spawn(Source::new(77), "src").unwrap();
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
    assert_stale_soon(&sink_in);
    assert!(cam.outputs.value.read_latest().is_some());
    assert!(
        rt.registry().lookup(CAMERA).unwrap().is_none(),
        "the registry dropped it"
    );

    // Restarted: the same connection resumes by itself.
    let before = read();
    let _camera = start_camera(port, false);
    until(Duration::from_secs(20), || {
        !sink_in.is_stale() && read() > before + 10
    })
    .expect("values flow again once the camera returns");

    assert_quick_shutdown(&rt);
}

#[test]
fn a_late_joiner_gets_the_newest_value_at_once() {
    let port = free_port();
    let _camera = start_camera(port, true); // writes two values, then nothing
    let first = viewer(port).build().unwrap();
    let early = first.remote::<Camera>(CAMERA).unwrap();
    early
        .wait_until_running(Duration::from_secs(20))
        .expect("camera announced");
    // A first viewer sees the camera's second and last value: the late joiner below joins
    // after the camera's last write, however late its first ticks came.
    let seen_early = Input::<i64>::new();
    let _early_link = streamlib::connect(&early.outputs.value, &seen_early.to_ref()).unwrap();
    until(Duration::from_secs(10), || {
        seen_early.read_latest().is_some_and(|v| *v == 1_001)
    })
    .expect("the camera writes its two values");
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
        "the second value, the newest"
    );
}

#[test]
fn a_slow_reader_sees_only_the_newest() {
    let port = free_port();
    let _camera = start_camera(port, false);
    let rt = viewer(port).build().unwrap();
    let cam = rt.remote::<Camera>(CAMERA).unwrap();
    cam.wait_until_running(Duration::from_secs(20)).unwrap();
    let (input, _link) = read_slowly(&cam.outputs.value);
    assert!(input.stats().missed > 0);
}

#[test]
fn a_queued_input_keeps_every_value_that_reaches_this_process() {
    let port = free_port();
    let _camera = start_camera(port, false);
    let rt = viewer(port).build().unwrap();
    let cam = rt.remote::<Camera>(CAMERA).unwrap();
    cam.wait_until_running(Duration::from_secs(20)).unwrap();
    let mut events = Input::<i64>::queued(1024).unwrap();
    let _link = streamlib::connect(&cam.outputs.value, &events.to_ref()).unwrap();
    until(Duration::from_secs(10), || events.pending() > 0).unwrap();
    std::thread::sleep(Duration::from_millis(300)); // about 30 camera ticks, none read
    let seen: Vec<i64> = events.drain().map(|v| *v).collect();
    assert!(seen.len() >= 10, "{seen:?}");
    for pair in seen.windows(2) {
        assert_eq!(pair[1], pair[0] + 1, "every value in order: {seen:?}");
    }
    assert_eq!(events.stats().dropped, 0);
}

/// Writes a 640×480 RGBA frame a tick (1.2 MB: Zenoh sends it in fragments, from the
/// publisher's own thread), every byte its frame number mod 251.
#[actor(fps = 60)]
#[derive(Default)]
pub struct Frames {
    #[output]
    pub video: Output<VideoFrame>,
}

impl Process for Frames {
    fn process(&mut self, tick: &Tick) -> ProcessResult {
        let fill = (tick.frame_number % 251) as u8;
        let pixels = vec![fill; 640 * 480 * 4];
        let frame = VideoFrame::new(
            640,
            480,
            PixelFormat::Rgba8,
            pixels,
            tick.timestamp,
            tick.frame_number,
        )?;
        self.video.write(frame);
        Ok(())
    }
}

#[test]
fn frames_cross_whole_and_in_order() {
    let port = free_port();
    let camera = Runtime::builder()
        .host("frame-box")
        .network(NetConfig::new().listen(&format!("tcp/127.0.0.1:{port}")))
        .build()
        .unwrap();
    camera.spawn(Frames::default(), "f0").unwrap();
    let rt = viewer(port).build().unwrap();
    let frames = rt.remote::<Frames>("actor://frame-box/Frames/f0").unwrap();
    frames.wait_until_running(Duration::from_secs(20)).unwrap();
    let mut input = Input::<VideoFrame>::new();
    let _link = streamlib::connect(&frames.outputs.video, &input.to_ref()).unwrap();
    let mut seen = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while seen.len() < 10 && std::time::Instant::now() < deadline {
        let Some(frame) = input.read_new() else {
            std::thread::sleep(Duration::from_millis(2));
            continue;
        };
        let fill = (frame.frame_number() % 251) as u8;
        assert_eq!((frame.width(), frame.height()), (640, 480));
        assert!(
            frame.data().iter().all(|&b| b == fill),
            "frame {} arrived damaged",
            frame.frame_number()
        );
        seen.push(frame.frame_number());
    }
    assert!(seen.len() >= 10, "only {seen:?} in 20 s");
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "in order: {seen:?}");
    rt.shutdown();
    camera.shutdown();
}

#[test]
fn a_wrong_payload_type_is_a_typed_error() {
    let port = free_port();
    let _camera = start_camera(port, false);
    let rt = viewer(port).build().unwrap();
    let camera = rt
        .registry()
        .wait_for(CAMERA, Duration::from_secs(20))
        .unwrap();
    assert_typed_port_errors(&camera);
    assert!(camera.output::<i64>("value").is_ok());
    assert!(matches!(
        rt.remote::<Sink>(CAMERA),
        Err(Error::Remote { .. })
    ));
    // The camera answers as soon as it is announced, possibly before its
    // first tick: ask again (bounded) until it has ticked.
    let mut stats = None;
    until(Duration::from_secs(20), || {
        let now = camera.remote_stats(Duration::from_secs(2)).unwrap();
        let ticked = now.ticks > 0;
        stats = Some(now);
        ticked
    });
    let stats = stats.expect("asked at least once");
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
    // The raw peer's links and its peers' subscriptions reach it in the background, and a put
    // made before they did is lost: the garbage is put again on every poll until both ports
    // counted some (bounded), rather than once after a fixed sleep.
    let garbage: [&[u8]; 3] = [b"junk", &[0u8; 100], b"SL\x01\x00short"];
    until(Duration::from_secs(10), || {
        for bad in garbage {
            raw.put("streamlib/v1/data/cam-box/Camera/cam0/out/value", bad)
                .wait()
                .unwrap();
            raw.put("streamlib/v1/data/cam-box/Camera/cam0/in/gain", bad)
                .wait()
                .unwrap();
        }
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
