//! The inspection API against a running runtime (feature `inspect`): the graph matches the
//! pipeline, the counters move, taps show values, the token rule holds, bad requests are turned
//! away without stalling anything, shutdown cleans up; and the web page in a real headless
//! Chromium. Loopback only; every wait is bounded; nothing asserts on time.

#[path = "support/bounded.rs"]
mod bounded;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use serde_json::Value;
use streamlib::inspect::discovery;
use streamlib::inspect::InspectConfig;
use streamlib::prelude::*;
use streamlib::{Error, PixelFormat, VideoFrame};

#[actor(fps = 30)]
#[derive(Default)]
pub struct Camera {
    #[output]
    pub video: Output<VideoFrame>,
}

impl Process for Camera {
    fn process(&mut self, tick: &Tick) -> ProcessResult {
        let (w, h) = (64, 36);
        let frame = VideoFrame::new(
            w,
            h,
            PixelFormat::Rgb8,
            vec![0u8; (w * h * 3) as usize],
            tick.timestamp,
            tick.frame_number,
        )?;
        self.video.write(frame);
        Ok(())
    }
}

#[actor(fps = 30)]
#[derive(Default)]
pub struct Blur {
    #[input]
    pub video: Input<VideoFrame>,
    #[output]
    pub video_out: Output<VideoFrame>,
}

impl Process for Blur {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        if let Some(frame) = self.video.read_latest() {
            self.video_out.write_arc(frame);
        }
        Ok(())
    }
}

#[actor(fps = 30)]
#[derive(Default)]
pub struct Display {
    #[input]
    pub video: Input<VideoFrame>,
    pub shown: u64,
}

impl Process for Display {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        if self.video.read_new().is_some() {
            self.shown += 1;
        }
        Ok(())
    }
}

/// A payload without `Debug`: a tap shows sequence numbers only.
pub struct Opaque;

#[actor(fps = 30)]
#[derive(Default)]
pub struct Secretive {
    #[output]
    pub blob: Output<Opaque>,
}

impl Process for Secretive {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        self.blob.write(Opaque);
        Ok(())
    }
}

/// A runtime serving inspection with camera → blur → display and a secretive actor.
fn pipeline(builder: streamlib::RuntimeBuilder) -> streamlib::Result<Runtime> {
    let rt = builder.build()?;
    let cam = rt.spawn(Camera::default(), "cam0")?;
    let blur = rt.spawn(Blur::default(), "blur")?;
    let view = rt.spawn(Display::default(), "view")?;
    rt.spawn(Secretive::default(), "s0")?;
    pipeline! { cam.video >> blur.video; blur.video_out >> view.video }?;
    Ok(rt)
}

/// Sends `request` as is and returns (status, body).
fn raw(address: SocketAddr, request: &[u8]) -> (u16, String) {
    let mut stream = TcpStream::connect(address).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    stream.write_all(request).expect("send");
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    (status, body)
}

fn get_with(address: SocketAddr, path: &str, token: Option<&str>) -> (u16, String) {
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    raw(
        address,
        format!("GET {path} HTTP/1.1\r\nHost: x\r\n{auth}\r\n").as_bytes(),
    )
}

fn get(address: SocketAddr, path: &str) -> Value {
    let (status, body) = get_with(address, path, None);
    assert_eq!(status, 200, "{path}: {body}");
    serde_json::from_str(&body).expect("JSON")
}

fn actor<'a>(doc: &'a Value, uri: &str) -> &'a Value {
    doc["actors"]
        .as_array()
        .expect("actors")
        .iter()
        .find(|a| a["uri"] == uri)
        .unwrap_or_else(|| panic!("{uri} in {doc}"))
}

/// Polls `probe` until it returns `Some`, for at most 10 s.
fn eventually<T>(what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(found) = probe() {
            return found;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "gave up waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn graph_matches_the_pipeline_and_stats_move() {
    let rt = pipeline(Runtime::builder().inspect("127.0.0.1:0")).expect("runtime");
    let address = rt.inspect_addr().expect("serving");
    assert!(address.ip().is_loopback());

    let graph = get(address, "/api/graph");
    assert_eq!(graph["actors"].as_array().expect("actors").len(), 4);
    let cam = actor(&graph, "actor://local/Camera/cam0");
    assert_eq!(cam["class"], "Camera");
    assert_eq!(cam["outputs"], serde_json::json!(["video"]));
    assert_eq!(cam["inputs"], serde_json::json!([]));
    assert!(cam["clock"].as_str().is_some_and(|c| !c.is_empty()));
    let blur = actor(&graph, "actor://local/Blur/blur");
    assert_eq!(blur["inputs"], serde_json::json!(["video"]));
    assert_eq!(blur["outputs"], serde_json::json!(["video_out"]));
    let mut connections: Vec<(String, String, String)> = graph["connections"]
        .as_array()
        .expect("connections")
        .iter()
        .map(|c| {
            let s = |k: &str| c[k].as_str().expect(k).to_owned();
            (s("from"), s("to"), s("payload"))
        })
        .collect();
    connections.sort();
    let payload = std::any::type_name::<VideoFrame>().to_owned();
    assert_eq!(
        connections,
        vec![
            (
                "actor://local/Blur/blur.video_out".into(),
                "actor://local/Display/view.video".into(),
                payload.clone()
            ),
            (
                "actor://local/Camera/cam0.video".into(),
                "actor://local/Blur/blur.video".into(),
                payload
            ),
        ]
    );
    // Each end also comes as its parts (actor URI, port name), so no client splits the text.
    let into_view = graph["connections"]
        .as_array()
        .expect("connections")
        .iter()
        .find(|c| c["to"] == "actor://local/Display/view.video")
        .expect("a connection into the view");
    assert_eq!(into_view["from_actor"], "actor://local/Blur/blur");
    assert_eq!(into_view["from_port"], "video_out");
    assert_eq!(into_view["to_actor"], "actor://local/Display/view");
    assert_eq!(into_view["to_port"], "video");

    let first = get(address, "/api/stats");
    let cam_ticks = |doc: &Value| actor(doc, "actor://local/Camera/cam0")["ticks"].as_u64();
    let before = cam_ticks(&first).expect("ticks");
    for key in [
        "ticks",
        "skipped_ticks",
        "errors",
        "panics",
        "process_p50_us",
        "process_p99_us",
    ] {
        assert!(
            actor(&first, "actor://local/Display/view")[key].is_number(),
            "{key}"
        );
    }
    let later = eventually("ticks to move", || {
        let now = get(address, "/api/stats");
        (cam_ticks(&now)? > before).then_some(now)
    });
    let view = actor(&later, "actor://local/Display/view");
    let reads = view["ports"][0]["reads"].as_u64().expect("reads");
    assert_eq!(view["ports"][0]["name"], "video");
    assert!(reads > 0 || cam_ticks(&later) < Some(3), "{view}");
    assert!(later["elapsed_ms"].as_f64() > first["elapsed_ms"].as_f64());
    assert!(!later["clocks"].as_array().expect("clocks").is_empty());
    // The server's own rates, once it has a snapshot old enough to measure against.
    eventually("a measured fps", || {
        let now = get(address, "/api/stats");
        let cam = actor(&now, "actor://local/Camera/cam0");
        let writes = cam["ports"][0]["writes_per_s"].as_f64()?;
        (cam["fps"].as_f64()? > 0.0 && writes > 0.0).then_some(())
    });
    rt.shutdown();
}

/// Spins for about `micros` µs each tick: a measurable share of a core.
#[actor(fps = 100)]
#[derive(Default)]
pub struct Busy {
    pub micros: u64,
}

impl Process for Busy {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        let until = Instant::now() + Duration::from_micros(self.micros);
        while Instant::now() < until {
            std::hint::spin_loop();
        }
        Ok(())
    }
}

/// What `top` asks: the server sorts, keeps the first rows and still counts every actor.
#[test]
fn stats_are_sorted_and_limited_by_the_server() {
    let rt = pipeline(Runtime::builder().inspect("127.0.0.1:0")).expect("runtime");
    rt.spawn(Busy { micros: 500 }, "hot").expect("spawn");
    let address = rt.inspect_addr().expect("serving");
    let top = eventually("rates measured", || {
        let doc = get(address, "/api/stats?ports=0&sort=core&limit=2");
        let first = &doc["actors"][0];
        (first["uri"] == "actor://local/Busy/hot" && first["core_percent"].as_f64()? > 1.0)
            .then_some(doc)
    });
    let rows = top["actors"].as_array().expect("actors");
    assert_eq!(rows.len(), 2, "{top}");
    assert_eq!(top["actors_total"], 5);
    let (first, second) = (
        rows[0]["core_percent"].as_f64().expect("core"),
        rows[1]["core_percent"].as_f64().expect("core"),
    );
    assert!(first >= second, "largest first: {top}");
    assert!(top["core_percent_total"].as_f64() >= Some(first), "{top}");
    assert!(rows[0].get("ports").is_none(), "ports=0 leaves them out");
    let by_uri = get(address, "/api/stats?ports=0&sort=uri");
    let uris: Vec<_> = by_uri["actors"]
        .as_array()
        .expect("actors")
        .iter()
        .map(|a| a["uri"].as_str().expect("uri").to_owned())
        .collect();
    let mut sorted = uris.clone();
    sorted.sort();
    assert_eq!((uris.len(), &uris), (5, &sorted));
    for (path, names) in [
        ("/api/stats?sort=cpu", "not \\\"cpu"),
        ("/api/stats?limit=ten", "limit"),
    ] {
        let (status, body) = get_with(address, path, None);
        assert_eq!(status, 400, "{path}: {body}");
        assert!(body.contains(names), "{path}: {body}");
    }
    rt.shutdown();
}

#[test]
fn taps_show_debug_text_of_outputs_and_of_inputs_upstreams() {
    let rt = pipeline(Runtime::builder().inspect("127.0.0.1:0")).expect("runtime");
    let address = rt.inspect_addr().expect("serving");
    let port = "actor%3A%2F%2Flocal%2FCamera%2Fcam0.video";
    let first = eventually("a frame", || {
        let tap = get(address, &format!("/api/tap?port={port}"));
        tap["text"].is_string().then_some(tap)
    });
    let text = first["text"].as_str().expect("text");
    assert!(
        text.contains("width: 64") && text.contains("frame_number"),
        "{text}"
    );
    let seq = first["seq"].as_u64().expect("seq");
    let newer = eventually("a newer frame", || {
        let tap = get(address, &format!("/api/tap?port={port}&after={seq}"));
        (tap["seq"].as_u64()? > seq && tap["text"].is_string()).then_some(tap)
    });
    assert_ne!(newer["text"], first["text"]);

    // An input shows what its upstream output holds.
    let via = get(
        address,
        "/api/tap?port=actor://local/Display/view.video&after=0",
    );
    assert_eq!(via["via"], "actor://local/Blur/blur.video_out");

    // A payload without Debug: sequence numbers only.
    let opaque = eventually("an opaque value", || {
        let tap = get(address, "/api/tap?port=actor://local/Secretive/s0.blob");
        (tap["seq"].as_u64()? > 0).then_some(tap)
    });
    assert_eq!(opaque["debug"], false);
    assert_eq!(first["json"], false, "a VideoFrame is shown as Debug text");
    assert!(opaque["text"].is_null());

    for missing in [
        "actor://local/Camera/nope.video",
        "actor://local/Camera/cam0.nope",
        "no-dot",
    ] {
        let (status, _) = get_with(address, &format!("/api/tap?port={missing}"), None);
        assert_eq!(status, 404, "{missing}");
    }
    assert_eq!(get_with(address, "/api/tap", None).0, 400);
    rt.shutdown();
}

/// A reading, shown by a tap as JSON (it is `Serialize`) rather than as Debug text.
#[cfg(feature = "serde")]
#[derive(Debug, serde::Serialize)]
pub struct Reading {
    pub celsius: f32,
    pub sensor: String,
}

#[cfg(feature = "serde")]
#[actor(fps = 30)]
#[derive(Default)]
pub struct Thermometer {
    #[output]
    pub reading: Output<Reading>,
}

#[cfg(feature = "serde")]
impl Process for Thermometer {
    fn process(&mut self, tick: &Tick) -> ProcessResult {
        self.reading.write(Reading {
            celsius: 20.5,
            sensor: format!("t{}", tick.frame_number),
        });
        Ok(())
    }
}

#[cfg(feature = "serde")]
#[test]
fn taps_show_serde_payloads_as_json() {
    let rt = Runtime::builder()
        .inspect("127.0.0.1:0")
        .build()
        .expect("runtime");
    rt.spawn(Thermometer::default(), "t0").unwrap();
    let address = rt.inspect_addr().expect("serving");
    let tap = eventually("a reading", || {
        let tap = get(
            address,
            "/api/tap?port=actor://local/Thermometer/t0.reading",
        );
        tap["text"].is_string().then_some(tap)
    });
    assert_eq!(tap["json"], true);
    let value: Value = serde_json::from_str(tap["text"].as_str().unwrap()).expect("JSON text");
    assert_eq!(value["celsius"], 20.5);
    assert!(
        value["sensor"].as_str().unwrap().starts_with('t'),
        "{value}"
    );
    rt.shutdown();
}

#[test]
fn beyond_loopback_needs_a_token_and_requests_must_carry_it() {
    for address in ["0.0.0.0:0", "[::]:0"] {
        match Runtime::builder().inspect(address).build() {
            Err(Error::InvalidOption { option, .. }) => assert_eq!(option, "inspect"),
            other => panic!("{address}: expected InvalidOption, got {other:?}"),
        }
    }
    assert!(matches!(
        Runtime::builder().inspect("not an address").build(),
        Err(Error::InvalidOption { .. })
    ));
    assert!(matches!(
        Runtime::builder()
            .inspect_with(InspectConfig::new("127.0.0.1:0").token(""))
            .build(),
        Err(Error::InvalidOption { .. })
    ));

    // A token is honoured on loopback too (this test binds nothing else).
    let token = "s3cret-token";
    let rt =
        pipeline(Runtime::builder().inspect_with(InspectConfig::new("127.0.0.1:0").token(token)))
            .expect("runtime");
    let address = rt.inspect_addr().expect("serving");
    assert_eq!(get_with(address, "/api/graph", None).0, 401);
    assert_eq!(get_with(address, "/api/graph", Some("s3cret-tokeN")).0, 401);
    assert_eq!(get_with(address, "/api/graph", Some("s3cret")).0, 401);
    assert_eq!(get_with(address, "/api/stats", Some(token)).0, 200);
    assert_eq!(get_with(address, "/api/tap?port=x.y", None).0, 401);
    // The page holds no data; it takes the token from the address's #fragment.
    assert_eq!(get_with(address, "/", None).0, 200);
    rt.shutdown();
}

#[test]
fn bad_requests_are_turned_away_and_slow_clients_stall_nothing() {
    let rt = pipeline(Runtime::builder().inspect("127.0.0.1:0")).expect("runtime");
    let address = rt.inspect_addr().expect("serving");
    assert_eq!(raw(address, b"POST /api/graph HTTP/1.1\r\n\r\n").0, 405);
    assert_eq!(raw(address, b"DELETE / HTTP/1.1\r\n\r\n").0, 405);
    assert_eq!(raw(address, b"GET /api/graph HTTP/2.0\r\n\r\n").0, 505);
    assert_eq!(raw(address, b"\x00\xff garbage\r\n\r\n").0, 400);
    assert_eq!(
        raw(address, b"GET /../../etc/passwd HTTP/1.1\r\n\r\n").0,
        404
    );
    assert_eq!(get_with(address, "/api/nothing", None).0, 404);
    let mut huge = b"GET /api/graph HTTP/1.1\r\nX-Big: ".to_vec();
    huge.extend(std::iter::repeat_n(b'a', 64 * 1024));
    huge.extend_from_slice(b"\r\n\r\n");
    assert_eq!(raw(address, &huge).0, 431);

    // Many silent clients: some wait for a worker, the rest are refused at once; each worker is
    // freed by the read deadline. Meanwhile the actors keep ticking.
    let cam = rt
        .registry()
        .lookup("actor://local/Camera/cam0")
        .expect("uri")
        .expect("cam");
    let silent: Vec<TcpStream> = (0..40)
        .map(|_| TcpStream::connect(address).expect("connect"))
        .collect();
    let ticks = cam.stats().ticks;
    eventually("ticks while clients stall", || {
        (cam.stats().ticks > ticks + 2).then_some(())
    });
    drop(silent);
    eventually("the server to answer again", || {
        (get_with(address, "/api/stats", None).0 == 200).then_some(())
    });
    rt.shutdown();
}

#[test]
fn discovery_file_lives_as_long_as_the_runtime() {
    let rt = pipeline(Runtime::builder().inspect("127.0.0.1:0")).expect("runtime");
    let address = rt.inspect_addr().expect("serving");
    let found = discovery::list()
        .into_iter()
        .find(|r| r.address == address)
        .expect("discovered");
    assert_eq!(found.pid, std::process::id());
    assert!(!found.token_required);
    assert!(found.path.exists());
    let runtime = get(address, "/api/runtime");
    assert_eq!(runtime["pid"], std::process::id());
    drop(rt);
    assert!(!found.path.exists(), "removed at shutdown");
    assert!(
        TcpStream::connect_timeout(&address, Duration::from_secs(1)).is_err(),
        "no longer listening"
    );
    // A runtime without inspection serves nothing.
    assert_eq!(Runtime::new().inspect_addr(), None);
}

/// Chromium from the distribution (`chromium`, Debian's package), if installed.
fn chromium() -> Option<std::path::PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .filter_map(|name| {
            std::env::var_os("PATH").and_then(|path| {
                std::env::split_paths(&path)
                    .map(|dir| dir.join(name))
                    .find(|candidate| candidate.is_file())
            })
        })
        .next()
}

fn headless(chromium: &std::path::Path, args: &[&str]) -> String {
    let profile = std::env::temp_dir().join(format!("streamlib-chromium-{}", std::process::id()));
    let mut command = std::process::Command::new(chromium);
    command
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-extensions",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args);
    // Bounded: a browser that stalls fails the test instead of hanging it.
    let output = bounded::output_within(&mut command, Duration::from_secs(90));
    assert!(
        output.status.success(),
        "chromium {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Loads the page of a running runtime in headless Chromium, waits for its refreshes, checks
/// the actors' names and a non-zero rate in the DOM, and saves a screenshot (to
/// `docs/inspect.png` when `STREAMLIB_SCREENSHOT=docs`, else under the temp dir).
#[test]
fn web_page_in_headless_chromium() {
    let Some(chromium) = chromium() else {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("Chromium is missing on CI (apt-get install chromium)");
        }
        eprintln!("SKIPPED web_page_in_headless_chromium: Chromium is not installed (apt-get install chromium)");
        return;
    };
    let rt = pipeline(Runtime::builder().inspect("127.0.0.1:0")).expect("runtime");
    let address = rt.inspect_addr().expect("serving");
    let url = format!("http://{address}/");
    // Headless Chromium runs the page's timers in virtual time (milliseconds of real time for
    // seconds of page time), so the page's own two snapshots may be too close for a rate; a
    // request a moment before gives the server the baseline for its own rates.
    get(address, "/api/stats");
    std::thread::sleep(Duration::from_millis(400));
    let dom = headless(
        &chromium,
        &["--virtual-time-budget=5000", "--dump-dom", &url],
    );
    let refreshes: u32 = dom
        .split("data-refreshes=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("the page never refreshed:\n{dom}"));
    assert!(refreshes >= 2, "{refreshes} refreshes");
    for uri in [
        "actor://local/Camera/cam0",
        "actor://local/Blur/blur",
        "actor://local/Display/view",
    ] {
        assert!(dom.contains(uri), "{uri} not in the page:\n{dom}");
    }
    let rates: Vec<f64> = dom
        .split("<td class=\"fps\">")
        .skip(1)
        .filter_map(|cell| cell.split('<').next()?.parse().ok())
        .collect();
    assert!(
        rates.iter().any(|r| *r > 0.0),
        "no non-zero fps in {rates:?}:\n{dom}"
    );

    let shot = match std::env::var("STREAMLIB_SCREENSHOT").as_deref() {
        Ok("docs") => std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/inspect.png"),
        _ => std::env::temp_dir().join("streamlib-inspect.png"),
    };
    headless(
        &chromium,
        &[
            "--virtual-time-budget=5000",
            "--window-size=1100,560",
            &format!("--screenshot={}", shot.display()),
            &url,
        ],
    );
    assert!(shot.is_file(), "no screenshot at {}", shot.display());
    eprintln!("screenshot: {}", shot.display());
    rt.shutdown();
}
