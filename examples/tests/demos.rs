//! Every demo, run headless for about a second at 320×180 and 30 fps, then checked by what it
//! wrote: the pictures decode at the requested size and show the bars and the overlay blended
//! over them, the marker moves, the recordings hold as many frames as the clock ticked (less the
//! ticks the runtime reports as skipped), the graph names the actors.
//!
//! The demos run one at a time (a lock), so that each has the machine's two cores to itself.

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use clap::Parser;
use image::RgbaImage;
use streamlib_examples::actors::drawing::{panel_probe, PANEL_COLOR};
use streamlib_examples::actors::test_pattern::{bar_center, marker_rect, smpte_bars, BARS_75};
use streamlib_examples::actors::{blend_over, wav, y4m, RecordingProgress, Rgba};
use streamlib_examples::demos::{
    demo, demo_audio, demo_compositor, demo_drawing, demo_record, demo_registry,
};

const W: u32 = 320;
const H: u32 = 180;
const FPS: u32 = 30;

/// A row of the bars below the overlay's reach (it ends at 57 % of the height).
const BARS_ROW: u32 = H * 62 / 100;

fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn out_dir(demo: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("demos")
        .join(demo);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Flags for a short, small, headless, quiet run.
fn video_flags(demo: &str, seconds: &str) -> Vec<String> {
    let out = out_dir(demo);
    let flags = [
        demo,
        "--width",
        "320",
        "--height",
        "180",
        "--fps",
        "30",
        "--duration",
        seconds,
        "--headless",
        "--quiet",
        "--out",
    ];
    flags
        .iter()
        .map(|s| s.to_string())
        .chain([out.display().to_string()])
        .collect()
}

fn open_png(path: &std::path::Path) -> RgbaImage {
    image::open(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .to_rgba8()
}

fn pixel(image: &RgbaImage, x: u32, y: u32) -> Rgba {
    image.get_pixel(x, y).0
}

fn assert_close(got: Rgba, want: Rgba, tolerance: u8, what: &str) {
    let close = got
        .iter()
        .zip(&want)
        .all(|(g, w)| g.abs_diff(*w) <= tolerance);
    assert!(close, "{what}: got {got:?}, want {want:?} (±{tolerance})");
}

fn assert_bars(image: &RgbaImage, tolerance: u8) {
    for (i, color) in BARS_75.iter().enumerate() {
        let x = bar_center(W, i as u32);
        assert_close(
            pixel(image, x, BARS_ROW),
            *color,
            tolerance,
            &format!("bar {i} at ({x}, {BARS_ROW})"),
        );
    }
}

/// The colour of the bar under column `x`.
fn bar_under(x: u32) -> Rgba {
    BARS_75[(x * 7 / W) as usize]
}

fn assert_overlay_blended(image: &RgbaImage) {
    let (x, y) = panel_probe(W, H);
    let under = bar_under(x);
    let got = pixel(image, x, y);
    assert_close(
        got,
        blend_over(under, PANEL_COLOR, 255),
        1,
        "panel over the bars",
    );
    // Visibly transparent: neither the bar nor the panel's own colour.
    assert!(
        got[..3] != under[..3] && got[..3] != PANEL_COLOR[..3],
        "{got:?}"
    );
    assert_eq!(got[3], 255);
}

/// The horizontal extent of what differs from the static pattern along the marker's middle row.
fn marker_extent(image: &RgbaImage) -> (u32, u32) {
    let (_, y, side) = marker_rect(W, H, 0.0);
    let row = y + side / 2;
    let still = smpte_bars(W, H);
    let moved: Vec<u32> = (0..W)
        .filter(|&x| pixel(image, x, row) != still.pixel(x, row))
        .collect();
    assert!(!moved.is_empty(), "no marker on row {row}");
    (moved[0], moved[moved.len() - 1])
}

/// From the first item recorded to the last, the clock ticked `last - first + 1` times: each
/// tick is in the recording except the ones the runtime reports as skipped; and that span, at the
/// clock's rate, is the time the demo ran (less start-up and shutdown on a loaded machine).
fn assert_recorded_every_tick(
    recording: &RecordingProgress,
    skipped: u64,
    rate: u32,
    (ran_for, ran_until_stopped): (Duration, Duration),
) {
    let (first, last) = (
        recording.first_frame.unwrap(),
        recording.last_frame.unwrap(),
    );
    let ticks = last - first + 1;
    let received = recording.received;
    assert!(
        received <= ticks && received + skipped >= ticks,
        "{received} received over {ticks} ticks ({first}..={last}), {skipped} reported skipped"
    );
    let span = Duration::from_secs_f64(ticks as f64 / f64::from(rate));
    let slack = (ran_for / 4).max(Duration::from_millis(300));
    let per_tick = Duration::from_secs_f64(1.0 / f64::from(rate));
    assert!(
        span + slack >= ran_for && span <= ran_until_stopped + 2 * per_tick,
        "{ticks} ticks at {rate} per second span {span:?}; the demo ran {ran_for:?} ({ran_until_stopped:?} with shutdown)"
    );
}

#[test]
fn demo_writes_bars_under_the_overlay_a_moving_marker_a_recording_and_the_graph() {
    let _serial = serial();
    let mut flags = video_flags("demo", "1.2");
    flags.extend(["--snapshot-every".to_string(), "0.4".to_string()]);
    let report = demo::run(&demo::Args::parse_from(flags)).expect("demo runs");

    let last = open_png(&report.png);
    assert_eq!(last.dimensions(), (W, H));
    assert_bars(&last, 0);
    assert_overlay_blended(&last);

    assert!(report.snapshots.len() >= 2, "{:?}", report.snapshots);
    let first = open_png(&report.snapshots[0]);
    let later = open_png(report.snapshots.last().unwrap());
    let (a, b) = (marker_extent(&first), marker_extent(&later));
    assert!(
        a.0.abs_diff(b.0) > 2,
        "the marker did not move: {a:?} then {b:?}"
    );

    let info = y4m::inspect(&report.y4m).unwrap();
    assert!(
        info.header
            .starts_with("YUV4MPEG2 W320 H180 F30:1 Ip A1:1 C420jpeg"),
        "{}",
        info.header
    );
    let recording = &report.recording;
    assert!(recording.finished);
    assert_eq!(info.frames, recording.written, "frames in the file");
    assert_eq!(recording.written + recording.dropped, recording.received);
    assert_recorded_every_tick(
        recording,
        report.recorder_stats.skipped_ticks,
        FPS,
        (report.ran_for, report.ran_until_stopped),
    );
    let frame = y4m::read_frame(&report.y4m, 0).unwrap();
    for (i, color) in BARS_75.iter().enumerate() {
        let got = frame.pixel(bar_center(W, i as u32), BARS_ROW);
        assert_close(got, *color, 4, &format!("bar {i} in the Y4M"));
    }

    let dot = std::fs::read_to_string(&report.dot).unwrap();
    for name in [
        "TestPattern/pattern",
        "Drawing/overlay",
        "Compositor/mix",
        "Display/window",
        "PngSnapshot/snapshot",
        "Y4mRecorder/recorder",
    ] {
        assert!(dot.contains(name), "{name} missing from\n{dot}");
    }
    assert!(dot.contains("video → layers : VideoFrame"), "{dot}");
    assert_eq!(dot.matches(" -> ").count(), 5, "{dot}");
    assert_eq!(report.rows.len(), 6);
    assert!(
        report.rows.iter().all(|row| row.faults == 0),
        "{:?}",
        report.rows
    );
}

#[test]
fn demo_compositor_blends_scales_and_places_its_layers() {
    let _serial = serial();
    let png = demo_compositor::run(&demo_compositor::Args::parse_from(video_flags(
        "demo_compositor",
        "0.6",
    )))
    .expect("runs");
    let image = open_png(&png);
    assert_eq!(image.dimensions(), (W, H));

    // Layer 1: a 64×64 red frame scaled into a quarter-size square at half opacity.
    let (cx, cy) = (W / 4, H / 2);
    let tint = blend_over(bar_under(cx), demo_compositor::TINT, 128);
    assert_close(pixel(&image, cx, cy), tint, 0, "red at 50 % over a bar");

    // Layer 2: a half-size ramp scaled into the bottom-right third, over everything.
    let (left, right, row) = (W * 5 / 8 + 2, W * 5 / 8 + W / 3 - 3, H * 5 / 8 + 2);
    let (l, r) = (pixel(&image, left, row), pixel(&image, right, row));
    assert!(
        l[0] == l[1] && l[1] == l[2] && r[0] == r[1] && r[1] == r[2],
        "grey: {l:?} {r:?}"
    );
    assert!(
        l[0] < 20 && r[0] > 235,
        "a ramp from black to white: {l:?} .. {r:?}"
    );

    // Layer 3: 4:3 bars at their own size in the top-right corner, at 80 % opacity.
    let (inset_w, _) = demo_compositor::inset_size(W);
    let (x, y) = (W - inset_w - W / 32 + bar_center(inset_w, 0), H / 32 + 4);
    let inset = blend_over(bar_under(x), BARS_75[0], 204);
    assert_close(pixel(&image, x, y), inset, 0, "inset white bar at 80 %");

    // Elsewhere, layer 0's bars as they are.
    assert_close(
        pixel(&image, bar_center(W, 3), BARS_ROW - 40),
        BARS_75[3],
        0,
        "green bar",
    );
}

#[test]
fn demo_drawing_writes_transparent_animated_frames() {
    let _serial = serial();
    let report = demo_drawing::run(&demo_drawing::Args::parse_from(video_flags(
        "demo_drawing",
        "1.2",
    )))
    .expect("runs");
    let last = open_png(&report.png);
    assert_eq!(last.dimensions(), (W, H));
    assert_eq!(
        pixel(&last, 0, 0),
        [0, 0, 0, 0],
        "transparent outside the shapes"
    );
    assert_eq!(pixel(&last, W - 1, H - 1), [0, 0, 0, 0]);
    let (x, y) = panel_probe(W, H);
    assert_close(
        pixel(&last, x, y),
        PANEL_COLOR,
        1,
        "the panel keeps its alpha",
    );
    assert!(report.snapshots.len() >= 2, "{:?}", report.snapshots);
    let first = open_png(&report.snapshots[0]);
    assert_ne!(first, last, "the overlay is animated");
}

#[test]
fn demo_registry_wires_by_uri_and_reports_type_errors() {
    let _serial = serial();
    let report = demo_registry::run(&demo_registry::Args::parse_from(video_flags(
        "demo_registry",
        "0.6",
    )))
    .expect("runs");
    assert_eq!(
        report.listed,
        [
            "actor://local/Compositor/mix",
            "actor://local/Drawing/overlay",
            "actor://local/PngSnapshot/snapshot",
            "actor://local/TestPattern/bars",
        ]
    );
    assert_eq!(report.connections.len(), 3);
    assert!(
        report.connections[0]
            .contains("TestPattern/bars.video >> actor://local/Compositor/mix.layers"),
        "{:?}",
        report.connections
    );
    let wrong = &report.wrong_type;
    assert!(
        wrong.contains("AudioBuffer")
            && wrong.contains("VideoFrame")
            && wrong.contains("\"video\""),
        "{wrong}"
    );
    let unknown = &report.unknown_port;
    assert!(
        unknown.contains("\"vidoe\"") && unknown.contains("video"),
        "{unknown}"
    );

    let image = open_png(&report.png);
    assert_eq!(image.dimensions(), (W, H));
    assert_bars(&image, 0);
    assert_overlay_blended(&image);
    let dot = std::fs::read_to_string(&report.dot).unwrap();
    assert_eq!(dot.matches(" -> ").count(), 3, "{dot}");
}

#[test]
fn demo_audio_records_the_tone_it_measures() {
    let _serial = serial();
    let out = out_dir("demo_audio");
    let args = demo_audio::Args::parse_from([
        "demo_audio",
        "--duration",
        "1",
        "--quiet",
        "--out",
        &out.display().to_string(),
    ]);
    let report = demo_audio::run(&args).expect("runs");

    let level = report.level;
    assert!(
        (level.rms_dbfs() + 9.03).abs() < 0.2,
        "RMS {} dBFS",
        level.rms_dbfs()
    );
    assert!(
        (level.peak_dbfs() + 6.02).abs() < 0.2,
        "peak {} dBFS",
        level.peak_dbfs()
    );
    assert_eq!(level.frames, 480);

    let file = wav::inspect(&report.wav).unwrap();
    assert_eq!((file.channels, file.sample_rate), (2, 48_000));
    let recording = &report.recording;
    assert!(recording.finished);
    assert_eq!(
        file.frames,
        recording.written * 480,
        "480 sample frames per buffer"
    );
    assert_eq!(recording.written, recording.received);
    assert_recorded_every_tick(
        recording,
        report.tone_stats.skipped_ticks,
        100,
        (report.ran_for, report.ran_until_stopped),
    );
    let power: f64 = file
        .samples
        .iter()
        .map(|&s| f64::from(s) * f64::from(s))
        .sum();
    let rms = (power / file.samples.len() as f64).sqrt() / 32767.0;
    assert!((rms - 0.5 / 2f64.sqrt()).abs() < 0.01, "RMS {rms}");
}

#[test]
fn demo_record_replays_the_composite_frame_for_frame_and_python_mcap_reads_the_file() {
    let _serial = serial();
    let out = out_dir("demo_record");
    let args = demo_record::Args::parse_from([
        "demo_record",
        "--width",
        "320",
        "--height",
        "180",
        "--fps",
        "30",
        "--duration",
        "1",
        "--out",
        &out.display().to_string(),
    ]);
    let report = demo_record::run(&args).unwrap();
    assert!(report.mcap.exists());
    assert_eq!(report.dropped, 0, "{report:?}");
    assert!(report.compared >= 20, "{report:?}");
    assert_eq!(report.matched, report.compared, "{report:?}");
    assert!(report.warm_up <= 3, "{report:?}");
    // 1 s at 30 fps: a press every tenth frame, from the second on with a release in the same tick.
    assert!(report.keys_recorded >= 3, "{report:?}");
    assert_eq!(report.keys_replayed, report.keys_recorded, "{report:?}");
    assert!(
        report.replay_ticks as usize >= report.composites,
        "{report:?}"
    );

    // A reader not written here: the `mcap` Python package, when installed (.ci/run installs it).
    let has_mcap = std::process::Command::new("python3")
        .args(["-c", "import mcap"])
        .status()
        .is_ok_and(|s| s.success());
    if !has_mcap {
        println!("skipped the Python check: python3 with the `mcap` package is not available (pip install mcap)");
        return;
    }
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/mcap_check.py");
    let output = std::process::Command::new("python3")
        .arg(script)
        .arg(&report.mcap)
        .args([
            "actor://local/TestPattern/pattern.video=streamlib.VideoFrame",
            "actor://local/Drawing/overlay.video=streamlib.VideoFrame",
            "actor://local/Compositor/mix.video=streamlib.VideoFrame",
            "actor://local/Compositor/mix.video/image=sensor_msgs/msg/Image",
            "actor://local/KeyScript/keys.keys=streamlib.KeyEvent",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("OK"), "{stdout}");
}
