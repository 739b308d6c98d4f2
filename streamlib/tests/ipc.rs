//! Two processes of one host over iceoryx2 shared memory: the test binary re-executes itself as
//! the "camera" process (`STREAMLIB_IPC_ROLE`), and the test itself is the viewer. Each test has
//! its own iceoryx2 prefix, so parallel runs never see each other, and removes its files at the
//! end. Every wait is bounded; children are killed when the test ends, passed or failed.
#![cfg(feature = "ipc")]

#[path = "support/child.rs"]
mod child;
#[path = "support/remote.rs"]
mod remote;

use std::path::Path;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use child::{until, CameraVars, ChildProcess};
use remote::{
    assert_quick_shutdown, assert_stale_soon, assert_typed_port_errors, read_slowly, Source,
};
use streamlib::ipc::iceoryx2::prelude::{
    ipc_threadsafe, CallbackProgression, Config, FileName, Node, NodeState, SemanticString,
};
use streamlib::prelude::*;
use streamlib::{
    DataMessage, Error, IpcConfig, PixelFormat, RuntimeBuilder, Timestamp, VideoFrame,
};

const WIDTH: u32 = 1920;
const HEIGHT: u32 = 1080;

/// How the tests start the camera process: `STREAMLIB_IPC_PREFIX` is the iceoryx2 prefix.
const VARS: CameraVars = CameraVars {
    role: "STREAMLIB_IPC_ROLE",
    arg: "STREAMLIB_IPC_PREFIX",
    once: "STREAMLIB_IPC_ONCE",
};

/// Writes the tick's frame number on `value`, a 1080p frame every 10th tick on `video`, and
/// echoes what arrives on `gain` on `echo`.
#[actor(fps = 100)]
#[derive(Default)]
pub struct Camera {
    #[output]
    pub value: Output<i64>,
    #[output]
    pub video: Output<VideoFrame>,
    #[input]
    pub gain: Input<i64>,
    #[output]
    pub echo: Output<i64>,
    /// Ticks that wrote (`STREAMLIB_IPC_ONCE`: only the first two that run, whatever their
    /// numbers: under load the first ticks can be skipped).
    pub written: u64,
}

/// A 1080p RGBA frame whose first 8 bytes are `n` and last byte `n as u8`.
fn frame(n: u64) -> VideoFrame {
    let len = PixelFormat::Rgba8.bytes_for(WIDTH, HEIGHT).unwrap();
    let mut data = vec![0u8; len];
    draw(&mut data, n);
    VideoFrame::new(
        WIDTH,
        HEIGHT,
        PixelFormat::Rgba8,
        data,
        Timestamp::from_nanos(n),
        n,
    )
    .unwrap()
}

/// Every pixel of [`frame`]`(n)`.
fn draw(pixels: &mut [u8], n: u64) {
    pixels.fill(0);
    pixels[..8].copy_from_slice(&n.to_le_bytes());
    if let Some(last) = pixels.last_mut() {
        *last = n as u8;
    }
}

/// Draws [`frame`]`(n)` in the buffer its output lends (`Output::new_frame`), one per tick.
#[actor(fps = 30)]
pub struct Painter {
    #[output]
    pub video: Output<VideoFrame>,
    /// Buffers that were the transport's shared memory.
    pub lent: Arc<AtomicU64>,
    pub n: u64,
}

impl Painter {
    fn new(lent: &Arc<AtomicU64>) -> Painter {
        Painter {
            video: Output::new(),
            lent: lent.clone(),
            n: 0,
        }
    }
}

impl Process for Painter {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        let mut buffer = self
            .video
            .new_frame(WIDTH, HEIGHT, PixelFormat::Rgba8)
            .expect("1080p RGBA is a frame size");
        if buffer.is_lent() {
            self.lent.fetch_add(1, Ordering::Relaxed);
        }
        draw(buffer.pixels_mut(), self.n);
        let frame = buffer.finish(Timestamp::from_nanos(self.n), self.n);
        self.video.write(frame);
        self.n += 1;
        Ok(())
    }
}

impl Process for Camera {
    fn process(&mut self, tick: &Tick) -> ProcessResult {
        if std::env::var(VARS.once).is_err() || self.written < 2 {
            self.written += 1;
            self.value.write(tick.frame_number as i64 + 1_000);
            if tick.frame_number.is_multiple_of(10) {
                self.video.write(frame(tick.frame_number));
            }
        }
        if let Some(gain) = self.gain.read_new() {
            self.echo.write(*gain);
        }
        Ok(())
    }
}

/// Writes whatever frame it holds, every tick.
#[actor(fps = 50)]
pub struct FrameSource {
    #[output]
    pub video: Output<VideoFrame>,
    #[output]
    pub value: Output<i64>,
    pub frame: VideoFrame,
}

impl Process for FrameSource {
    fn process(&mut self, tick: &Tick) -> ProcessResult {
        self.video.write(self.frame.clone());
        self.value.write(tick.frame_number as i64);
        Ok(())
    }
}

const CAMERA: &str = "actor://cam-box/Camera/cam0";

/// A prefix of this test's own; its files are removed when it drops.
struct Prefix(String);

impl Prefix {
    fn new() -> Prefix {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        Prefix(format!("slt{}_{n}_", std::process::id()))
    }

    fn config(&self) -> IpcConfig {
        IpcConfig::new()
            .prefix(&self.0)
            .directory(&self.directory())
            .accept_writes(true)
    }

    /// iceoryx2's node and service descriptions of this test.
    fn directory(&self) -> String {
        format!(
            "{}/streamlib-ipc-tests/{}",
            std::env::temp_dir().display(),
            self.0
        )
    }

    /// Files of this prefix under `dir` (recursively).
    fn files(&self, dir: &Path) -> Vec<std::path::PathBuf> {
        let mut found = Vec::new();
        let Ok(entries) = std::fs::read_dir(dir) else {
            return found;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                found.extend(self.files(&path));
            } else if entry.file_name().to_string_lossy().starts_with(&self.0) {
                found.push(path);
            }
        }
        found
    }

    fn all_files(&self) -> Vec<std::path::PathBuf> {
        let mut files = self.files(Path::new("/dev/shm"));
        files.extend(self.files(Path::new(&self.directory())));
        files
    }

    /// The node states iceoryx2 sees under this prefix: (alive, dead).
    fn nodes(&self) -> (usize, usize) {
        let mut config = Config::default();
        config.global.prefix = FileName::new(self.0.as_bytes()).unwrap();
        let root = format!("{}/", self.directory());
        config
            .global
            .set_root_path(&streamlib::ipc::iceoryx2::prelude::Path::new(root.as_bytes()).unwrap());
        let (mut alive, mut dead) = (0, 0);
        Node::<ipc_threadsafe::Service>::list(&config, |state| {
            match state {
                NodeState::Alive(_) => alive += 1,
                NodeState::Dead(_) => dead += 1,
                _ => {}
            }
            CallbackProgression::Continue
        })
        .unwrap();
        (alive, dead)
    }
}

impl Drop for Prefix {
    fn drop(&mut self) {
        for file in self.files(Path::new("/dev/shm")) {
            let _ = std::fs::remove_file(file);
        }
        let _ = std::fs::remove_dir_all(self.directory());
    }
}

/// The camera process: runs until its stdin closes (the parent died or let go) or 60 s.
fn camera_role(prefix: &str) {
    log();
    let prefix = Prefix(prefix.to_owned());
    let rt = Runtime::builder()
        .host("cam-box")
        .ipc_config(prefix.config())
        .build()
        .expect("camera runtime");
    std::mem::forget(prefix); // the test's files, removed by the test
    rt.spawn(Camera::default(), "cam0").expect("camera actor");
    child::until_parent_lets_go(Duration::from_secs(60));
    rt.shutdown();
}

/// A child process running the camera role under `prefix`.
fn start_camera(prefix: &Prefix, once: bool) -> ChildProcess {
    VARS.start(&prefix.0, once)
}

/// Not a test of its own: the entry point of the child processes (run with `--ignored`).
#[test]
#[ignore = "the camera process of the other tests; they start it"]
fn child_role() {
    if let Some(prefix) = VARS.camera_arg() {
        camera_role(&prefix);
    }
}

/// The path of the memory mapping holding `address` (from `/proc/self/maps`), if it has one.
fn mapping_of(address: *const u8) -> Option<String> {
    mapped_at(address).map(|(path, _)| path)
}

/// The file mapped at `address` and the offset in it (from `/proc/self/maps`), if any: two
/// mappings of one shared-memory file (a publisher's and a subscriber's) give the same pair for
/// the same sample.
fn mapped_at(address: *const u8) -> Option<(String, u64)> {
    let address = address as usize;
    let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
    maps.lines().find_map(|line| {
        let mut fields = line.split_whitespace();
        let (start, end) = fields.next()?.split_once('-')?;
        let (start, end) = (
            usize::from_str_radix(start, 16).ok()?,
            usize::from_str_radix(end, 16).ok()?,
        );
        let offset = u64::from_str_radix(fields.nth(1)?, 16).ok()?;
        let path = fields.nth(2).unwrap_or("");
        (start <= address && address < end)
            .then(|| (path.to_owned(), offset + (address - start) as u64))
    })
}

/// Waits until `local()` and `remote()` give values of the same number, and returns whether
/// their bytes are the same place of the same shared-memory file: one sample, written once,
/// read in place on both sides (a value that went out as a copy is read from another sample).
fn read_in_the_same_sample<V>(
    local: impl Fn() -> Option<Arc<V>>,
    remote: impl Fn() -> Option<Arc<V>>,
    number: impl Fn(&V) -> u64,
    bytes: impl Fn(&V) -> &[u8],
) -> bool {
    let mut pair = None;
    until(Duration::from_secs(10), || {
        let (Some(a), Some(b)) = (local(), remote()) else {
            return false;
        };
        let same = number(&a) == number(&b);
        pair = Some((a, b));
        same
    })
    .expect("both readers get the same value");
    let (a, b) = pair.unwrap();
    let (at_a, at_b) = (mapped_at(bytes(&a).as_ptr()), mapped_at(bytes(&b).as_ptr()));
    at_a.is_some() && at_a == at_b
}

/// `STREAMLIB_TEST_LOG=1` prints the runtime's (and iceoryx2's) tracing events.
fn log() {
    if std::env::var_os("STREAMLIB_TEST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_writer(std::io::stderr)
            .try_init();
    }
}

fn viewer(prefix: &Prefix, host: &str) -> RuntimeBuilder {
    log();
    Runtime::builder().host(host).ipc_config(prefix.config())
}

#[test]
fn values_and_frames_flow_both_ways_and_resume_after_a_kill() {
    let prefix = Prefix::new();
    let mut camera = start_camera(&prefix, false);
    let rt = viewer(&prefix, "view-box").build().unwrap();
    let cam = rt.remote::<Camera>(CAMERA).unwrap();
    cam.wait_until_running(Duration::from_secs(20))
        .expect("the camera process announces its actor");
    assert!(rt.registry().lookup(CAMERA).unwrap().unwrap().is_remote());

    let value = Input::<i64>::new();
    let video = Input::<VideoFrame>::new();
    let _links = (
        streamlib::connect(&cam.outputs.value, &value.to_ref()).unwrap(),
        streamlib::connect(&cam.outputs.video, &video.to_ref()).unwrap(),
    );
    let source = rt.spawn(Source::new(77), "src").unwrap();
    pipeline! { source.value >> cam.gain }.unwrap();

    let first = *until(Duration::from_secs(10), || value.read_latest().is_some())
        .and_then(|_| value.read_latest())
        .expect("camera values arrive");
    until(Duration::from_secs(5), || {
        value.read_latest().is_some_and(|v| *v > first + 10)
    })
    .expect("values keep arriving");
    until(Duration::from_secs(10), || video.read_latest().is_some()).expect("frames arrive");
    let got = video.read_latest().unwrap();
    let n = got.frame_number();
    assert_eq!((got.width(), got.height()), (WIDTH, HEIGHT));
    assert_eq!(&got.data()[..8], &n.to_le_bytes());
    assert_eq!(*got.data().last().unwrap(), n as u8);
    assert_eq!(*got, frame(n), "the frame arrives whole");
    let mapped = mapping_of(got.data().as_ptr()).expect("the pixels are mapped memory");
    assert!(
        mapped.starts_with(&format!("/dev/shm/{}", prefix.0)),
        "zero copy: the frame's pixels are the shared-memory sample's, found them in {mapped:?}"
    );

    // Local output → remote input: the camera echoes the 77 it received.
    let echo = Input::<i64>::new();
    let _echo_link = streamlib::connect(&cam.outputs.echo, &echo.to_ref()).unwrap();
    until(Duration::from_secs(10), || {
        echo.read_latest().is_some_and(|v| *v == 77)
    })
    .expect("a value written here reaches the camera's input and comes back");

    // SIGKILL: stale within 2 s, the last value stays readable, the registry drops it.
    camera.kill();
    assert_stale_soon(&value.to_ref());
    assert!(value.read_latest().is_some() && video.read_latest().is_some());
    assert!(rt.registry().lookup(CAMERA).unwrap().is_none());
    until(Duration::from_secs(2), || prefix.nodes().1 == 0)
        .expect("the viewer removed what the dead process left");

    // Restarted: the same links resume by themselves.
    let before = *value.read_latest().unwrap();
    let _camera = start_camera(&prefix, false);
    until(Duration::from_secs(20), || {
        !value.to_ref().is_stale() && value.read_latest().is_some_and(|v| *v != before)
    })
    .expect("values flow again once the camera returns");
    let frame_before = video.read_latest().unwrap().frame_number();
    until(Duration::from_secs(10), || {
        video
            .read_latest()
            .is_some_and(|f| f.frame_number() != frame_before)
    })
    .expect("frames flow again");

    assert_quick_shutdown(&rt);
}

/// Each tick: a 16 x 16 frame drawn with `new_frame` on `small` (under 4 KiB: never lent), and
/// a 1080p one on `video` written twice (the second write cannot send the sample again).
#[actor(fps = 30)]
pub struct Twice {
    #[output]
    pub small: Output<VideoFrame>,
    #[output]
    pub video: Output<VideoFrame>,
    /// Small buffers that were lent (none expected), and big ones.
    pub lent: Arc<[AtomicU64; 2]>,
    pub n: u64,
}

impl Process for Twice {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        let mut small = self.small.new_frame(16, 16, PixelFormat::Gray8).unwrap();
        let mut big = self
            .video
            .new_frame(WIDTH, HEIGHT, PixelFormat::Rgba8)
            .unwrap();
        for (i, lent) in [small.is_lent(), big.is_lent()].into_iter().enumerate() {
            self.lent[i].fetch_add(u64::from(lent), Ordering::Relaxed);
        }
        small.pixels_mut().fill(self.n as u8);
        draw(big.pixels_mut(), self.n);
        let ts = Timestamp::from_nanos(self.n);
        self.small.write(small.finish(ts, self.n));
        let big = Arc::new(big.finish(ts, self.n));
        self.video.write_arc(big.clone());
        self.video.write_arc(big);
        self.n += 1;
        Ok(())
    }
}

#[test]
fn small_frames_are_not_lent_and_a_frame_written_twice_goes_out_again_as_a_copy() {
    let prefix = Prefix::new();
    let writer = Runtime::builder()
        .host("twice")
        .ipc_config(prefix.config())
        .build()
        .unwrap();
    let lent = Arc::new([AtomicU64::new(0), AtomicU64::new(0)]);
    let twice = Twice {
        small: Output::new(),
        video: Output::new(),
        lent: lent.clone(),
        n: 0,
    };
    writer.spawn(twice, "t").unwrap();
    let rt = viewer(&prefix, "twice-reader").build().unwrap();
    let remote = rt.remote::<Twice>("actor://twice/Twice/t").unwrap();
    remote.wait_until_running(Duration::from_secs(20)).unwrap();
    let (small, video) = (Input::<VideoFrame>::new(), Input::<VideoFrame>::new());
    let _links = (
        streamlib::connect(&remote.outputs.small, &small.to_ref()).unwrap(),
        streamlib::connect(&remote.outputs.video, &video.to_ref()).unwrap(),
    );
    let copied_before = streamlib::ipc::lent_frames_copied();
    until(Duration::from_secs(10), || {
        video.read_latest().is_some_and(|f| f.frame_number() >= 5)
            && small.read_latest().is_some_and(|f| f.frame_number() >= 5)
            && lent[1].load(Ordering::Relaxed) >= 5
            && streamlib::ipc::lent_frames_copied() >= copied_before + 4
    })
    .expect("both outputs' frames arrive, lent 1080p frames among them, written twice");
    let got = video.read_latest().unwrap();
    assert_eq!(*got, frame(got.frame_number()), "the frame arrives whole");
    let tiny = small.read_latest().unwrap();
    assert_eq!(tiny.data(), &[tiny.frame_number() as u8; 256][..]);
    assert_eq!(
        lent[0].load(Ordering::Relaxed),
        0,
        "a frame under 4 KiB is not lent"
    );
}

/// A painter runtime ("painter") with a reader of its own, and a watcher runtime reading it
/// over shared memory (both in this process: each has its own iceoryx2 node, as processes do).
struct Painted {
    _links: (streamlib::Connection, streamlib::Connection),
    /// An input of the watcher's runtime.
    video: Input<VideoFrame>,
    _rt: Runtime,
    /// An input of the painter's runtime.
    local: Input<VideoFrame>,
    lent: Arc<AtomicU64>,
    _writer: Runtime,
    /// Declared last: its files are removed once both runtimes are gone.
    prefix: Prefix,
}

fn painted() -> Painted {
    let prefix = Prefix::new();
    let writer = Runtime::builder()
        .host("painter")
        .ipc_config(prefix.config())
        .build()
        .unwrap();
    let lent = Arc::new(AtomicU64::new(0));
    let painter = writer.spawn(Painter::new(&lent), "p").unwrap();
    let local = Input::<VideoFrame>::new();
    let local_link = streamlib::connect(&painter.outputs.video, &local.to_ref()).unwrap();
    let rt = viewer(&prefix, "watcher").build().unwrap();
    let remote = rt.remote::<Painter>("actor://painter/Painter/p").unwrap();
    remote.wait_until_running(Duration::from_secs(20)).unwrap();
    let video = Input::<VideoFrame>::new();
    let link = streamlib::connect(&remote.outputs.video, &video.to_ref()).unwrap();
    until(Duration::from_secs(10), || video.read_latest().is_some()).expect("frames arrive");
    Painted {
        _links: (local_link, link),
        video,
        _rt: rt,
        local,
        lent,
        _writer: writer,
        prefix,
    }
}

/// Waits until the watcher has a frame numbered `n` or later, and checks it is whole.
fn watched_from(painted: &Painted, n: u64) -> Arc<VideoFrame> {
    until(Duration::from_secs(10), || {
        painted
            .video
            .read_latest()
            .is_some_and(|f| f.frame_number() >= n)
    })
    .unwrap_or_else(|| panic!("frame {n} or later arrives"));
    let got = painted.video.read_latest().unwrap();
    assert_eq!(*got, frame(got.frame_number()), "the frame arrives whole");
    got
}

/// Whether `bytes` lie in a shared-memory file of the iceoryx2 `prefix`.
fn in_shared_memory(prefix: &str, bytes: &[u8]) -> bool {
    let mapped = mapping_of(bytes.as_ptr()).expect("the bytes are mapped memory");
    mapped.starts_with(&format!("/dev/shm/{prefix}"))
}

#[test]
fn frames_drawn_in_a_lent_sample_reach_another_runtime_without_a_copy() {
    let painted = painted();
    let first = painted.video.read_latest().unwrap().frame_number();
    let sent_before = streamlib::ipc::frames_sent_in_place();
    until(Duration::from_secs(10), || {
        streamlib::ipc::frames_sent_in_place() >= sent_before + 5
    })
    .expect("frames are sent from the samples they were drawn in");
    let got = watched_from(&painted, first + 5);
    assert!(
        in_shared_memory(&painted.prefix.0, got.data()),
        "the watcher reads the sample itself"
    );
    let local = painted
        .local
        .read_latest()
        .expect("the painter's own reader has frames");
    assert!(
        in_shared_memory(&painted.prefix.0, local.data()),
        "the painter's own readers read the sample the frame was drawn in"
    );
    assert!(
        read_in_the_same_sample(
            || painted.local.read_latest(),
            || painted.video.read_latest(),
            VideoFrame::frame_number,
            VideoFrame::data,
        ),
        "the painter's reader and the watcher read one frame in one sample"
    );
    assert!(
        painted.lent.load(Ordering::Relaxed) >= 5,
        "buffers are lent"
    );
    // Frames outlive their runtimes (and the files): each keeps its sample's memory mapped.
    drop(painted);
    assert_eq!(*local, frame(local.frame_number()));
    assert_eq!(*got, frame(got.frame_number()));
}

/// Bytes of a [`Scanner`]'s scan: 64 KiB, lent over `ipc`.
const SCAN_LEN: usize = 64 * 1024;

/// Scan `n`: every byte of it (`n`'s bytes, then `n as u8` to the end).
fn scan(bytes: &mut [u8], n: u64) {
    bytes.fill(n as u8);
    bytes[..8].copy_from_slice(&n.to_le_bytes());
}

fn scan_number(bytes: &[u8]) -> u64 {
    u64::from_le_bytes(bytes[..8].try_into().unwrap())
}

/// Each tick: a 64 KiB scan filled in the buffer its output lends (`Output::new_message`), and a
/// 16-byte status the same way (under 4 KiB: never lent).
#[actor(fps = 30)]
#[derive(Default)]
pub struct Scanner {
    #[output]
    pub scans: Output<DataMessage>,
    #[output]
    pub status: Output<DataMessage>,
    /// Scan buffers that were the transport's shared memory, and status buffers that were.
    pub lent: Arc<(AtomicU64, AtomicU64)>,
    pub n: u64,
}

impl Process for Scanner {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        let mut buffer = self.scans.new_message("lidar/front", SCAN_LEN)?;
        self.lent
            .0
            .fetch_add(u64::from(buffer.is_lent()), Ordering::Relaxed);
        scan(buffer.bytes_mut(), self.n);
        self.scans
            .write(buffer.finish(Timestamp::from_nanos(self.n)));
        let mut status = self.status.new_message("lidar/status", 16)?;
        self.lent
            .1
            .fetch_add(u64::from(status.is_lent()), Ordering::Relaxed);
        scan(status.bytes_mut(), self.n);
        self.status
            .write(status.finish(Timestamp::from_nanos(self.n)));
        self.n += 1;
        Ok(())
    }
}

#[test]
fn messages_filled_in_a_lent_sample_reach_another_runtime_without_a_copy() {
    let prefix = Prefix::new();
    let writer = Runtime::builder()
        .host("scanner")
        .ipc_config(prefix.config())
        .build()
        .unwrap();
    let scanner = Scanner::default();
    let lent = scanner.lent.clone();
    let scanner = writer.spawn(scanner, "s").unwrap();
    let local = Input::<DataMessage>::new();
    let _local_link = streamlib::connect(&scanner.outputs.scans, &local.to_ref()).unwrap();
    let rt = viewer(&prefix, "planner").build().unwrap();
    let remote = rt.remote::<Scanner>("actor://scanner/Scanner/s").unwrap();
    remote.wait_until_running(Duration::from_secs(20)).unwrap();
    let (scans, status) = (Input::<DataMessage>::new(), Input::<DataMessage>::new());
    let _links = (
        streamlib::connect(&remote.outputs.scans, &scans.to_ref()).unwrap(),
        streamlib::connect(&remote.outputs.status, &status.to_ref()).unwrap(),
    );
    until(Duration::from_secs(10), || scans.read_latest().is_some()).expect("scans arrive");
    let first = scan_number(scans.read_latest().unwrap().bytes());
    let sent_before = streamlib::ipc::frames_sent_in_place();
    until(Duration::from_secs(10), || {
        streamlib::ipc::frames_sent_in_place() >= sent_before + 5
            && scans
                .read_latest()
                .is_some_and(|m| scan_number(m.bytes()) >= first + 5)
    })
    .expect("scans are sent from the samples they were filled in");

    let got = scans.read_latest().unwrap();
    let n = scan_number(got.bytes());
    let mut expected = vec![0; SCAN_LEN];
    scan(&mut expected, n);
    assert_eq!(got.bytes(), expected, "scan {n} arrives whole");
    assert_eq!(got.topic(), "lidar/front");
    assert_eq!(got.timestamp(), Timestamp::from_nanos(n));
    assert!(
        in_shared_memory(&prefix.0, got.bytes()),
        "the reader reads the sample itself"
    );
    let own = local
        .read_latest()
        .expect("the scanner's own reader has scans");
    assert!(
        in_shared_memory(&prefix.0, own.bytes()),
        "the scanner's own readers read the sample the scan was filled in"
    );
    assert!(
        read_in_the_same_sample(
            || local.read_latest(),
            || scans.read_latest(),
            |m: &DataMessage| scan_number(m.bytes()),
            DataMessage::bytes,
        ),
        "the scanner's reader and the planner read one scan in one sample"
    );
    assert!(lent.0.load(Ordering::Relaxed) >= 5, "scan buffers are lent");
    until(Duration::from_secs(10), || status.read_latest().is_some())
        .expect("status messages arrive");
    assert_eq!(status.read_latest().unwrap().bytes().len(), 16);
    assert_eq!(
        lent.1.load(Ordering::Relaxed),
        0,
        "a message under 4 KiB is not lent"
    );
}

#[test]
fn frames_a_reader_keeps_stay_intact_and_later_ones_go_out_as_copies() {
    let mut painted = painted();
    let copied_before = streamlib::ipc::lent_frames_copied();
    // Keep eight frames in the painter's process: more than its own reader may hold sent.
    let mut kept: Vec<Arc<VideoFrame>> = Vec::new();
    until(Duration::from_secs(10), || {
        kept.extend(painted.local.read_new());
        kept.len() >= 8
    })
    .expect("the painter's own reader gets frames");
    let last = kept.last().unwrap().frame_number();
    watched_from(&painted, last + 10);
    for frame_kept in &kept {
        let n = frame_kept.frame_number();
        assert_eq!(
            **frame_kept,
            frame(n),
            "frame {n}'s sample was not lent again while it was kept"
        );
    }
    assert!(
        streamlib::ipc::lent_frames_copied() > copied_before,
        "frames written while the own reader held all it may went out as copies"
    );
}

#[test]
fn a_killed_process_leaves_shared_memory_that_the_next_start_removes() {
    let prefix = Prefix::new();
    let mut camera = start_camera(&prefix, false);
    until(Duration::from_secs(20), || prefix.nodes().0 == 1).expect("the camera's node is up");
    std::thread::sleep(Duration::from_millis(300)); // its actor announced, frames written
    camera.kill();
    assert_eq!(prefix.nodes(), (0, 1), "a dead node is left behind");
    let left = prefix.all_files();
    assert!(!left.is_empty(), "the killed process left files");

    let rt = viewer(&prefix, "next").build().unwrap();
    assert_eq!(
        prefix.nodes(),
        (1, 0),
        "the next start cleaned the dead node"
    );
    let remaining: Vec<_> = left.iter().filter(|f| f.exists()).collect();
    assert!(
        remaining.len() < left.len(),
        "stale files removed: {remaining:?}"
    );
    drop(rt);
    let left: Vec<_> = prefix
        .all_files()
        .into_iter()
        .filter(|f| !f.to_string_lossy().ends_with(".global_mgmt")) // iceoryx2's node counter
        .collect();
    assert!(
        left.is_empty(),
        "nothing else of the prefix is left once every runtime is gone: {left:?}"
    );
}

#[test]
fn a_late_joiner_gets_the_newest_value_at_once() {
    let prefix = Prefix::new();
    let _camera = start_camera(&prefix, true); // writes two values, then nothing
    let first = viewer(&prefix, "first").build().unwrap();
    let early = first.remote::<Camera>(CAMERA).unwrap();
    early.wait_until_running(Duration::from_secs(20)).unwrap();
    let seen_early = Input::<i64>::new();
    let _early_link = streamlib::connect(&early.outputs.value, &seen_early.to_ref()).unwrap();
    until(Duration::from_secs(5), || {
        seen_early.read_latest().is_some()
    })
    .unwrap();
    std::thread::sleep(Duration::from_millis(300)); // long after its last write
    let newest = *seen_early.read_latest().unwrap();

    let rt = viewer(&prefix, "late-box").build().unwrap();
    let cam = rt.remote::<Camera>(CAMERA).unwrap();
    let value = Input::<i64>::new();
    let _link = streamlib::connect(&cam.outputs.value, &value.to_ref()).unwrap();
    until(Duration::from_secs(5), || value.read_latest().is_some())
        .expect("the newest value arrives without a new write");
    assert_eq!(
        *value.read_latest().unwrap(),
        newest,
        "the newest, not an older one"
    );
}

#[test]
fn a_slow_reader_sees_only_the_newest() {
    let prefix = Prefix::new();
    let _camera = start_camera(&prefix, false);
    let rt = viewer(&prefix, "view-box").build().unwrap();
    let cam = rt.remote::<Camera>(CAMERA).unwrap();
    cam.wait_until_running(Duration::from_secs(20)).unwrap();
    read_slowly(&cam.outputs.value);
}

#[test]
fn a_wrong_payload_type_is_a_typed_error() {
    let prefix = Prefix::new();
    let _camera = start_camera(&prefix, false);
    let rt = viewer(&prefix, "view-box").build().unwrap();
    let camera = rt
        .registry()
        .wait_for(CAMERA, Duration::from_secs(20))
        .unwrap();
    assert_typed_port_errors(&camera);
    assert!(camera.output::<VideoFrame>("video").is_ok());
}

#[test]
fn an_oversize_frame_is_dropped_and_counted_not_fatal() {
    let prefix = Prefix::new();
    let writer = Runtime::builder()
        .host("writer")
        .ipc_config(prefix.config().max_message_size(64 << 10))
        .build()
        .unwrap();
    let source = writer
        .spawn(
            FrameSource {
                video: Output::new(),
                value: Output::new(),
                frame: frame(3),
            },
            "big",
        )
        .unwrap();
    let rt = viewer(&prefix, "reader").build().unwrap();
    let remote = rt
        .remote::<FrameSource>("actor://writer/FrameSource/big")
        .unwrap();
    remote.wait_until_running(Duration::from_secs(10)).unwrap();
    let video = Input::<VideoFrame>::new();
    let value = Input::<i64>::new();
    let _links = (
        streamlib::connect(&remote.outputs.video, &video.to_ref()).unwrap(),
        streamlib::connect(&remote.outputs.value, &value.to_ref()).unwrap(),
    );
    let before = streamlib::ipc::oversize_dropped();
    until(Duration::from_secs(5), || {
        streamlib::ipc::oversize_dropped() > before + 3
    })
    .expect("each oversize frame is counted");
    until(Duration::from_secs(5), || value.read_latest().is_some())
        .expect("small values still flow");
    assert!(video.read_latest().is_none(), "no frame crossed in part");
    assert!(source.is_running());
}

#[test]
fn build_fails_clearly_when_dev_shm_is_too_small_or_the_host_is_taken() {
    let prefix = Prefix::new();
    match viewer(&prefix, "huge")
        .ipc_config(prefix.config().max_message_size(1 << 50))
        .build()
    {
        Err(Error::SharedMemoryTooSmall {
            path,
            needed,
            available,
            ..
        }) => {
            assert_eq!(path, "/dev/shm");
            assert!(needed > available && needed >= 1 << 50);
        }
        other => panic!("expected SharedMemoryTooSmall, got {other:?}"),
    }
    let first = viewer(&prefix, "taken").build().unwrap();
    first.spawn(Camera::default(), "cam0").unwrap();
    match viewer(&prefix, "taken").build() {
        Err(Error::InvalidOption { option, value, .. }) => {
            assert_eq!((option, value.as_str()), ("host", "taken"))
        }
        other => panic!("expected the host to be refused, got {other:?}"),
    }
    match viewer(&prefix, "x")
        .ipc_config(IpcConfig::new().prefix("no/slash"))
        .build()
    {
        Err(Error::InvalidOption { option, .. }) => assert_eq!(option, "ipc prefix"),
        other => panic!("expected a bad prefix error, got {other:?}"),
    }
}

/// With `net` too: a runtime of this host is reached over shared memory (even when Zenoh cannot
/// reach it), another one over Zenoh; the writer serves both.
#[cfg(feature = "net")]
#[test]
fn with_net_too_local_links_take_shared_memory_and_others_zenoh() {
    use streamlib::NetConfig;
    let free_port = || {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    };
    let prefix = Prefix::new();
    let port = free_port();
    let writer = Runtime::builder()
        .host("both-writer")
        .network(NetConfig::new().listen(&format!("tcp/127.0.0.1:{port}")))
        .ipc_config(prefix.config())
        .build()
        .unwrap();
    writer.spawn(Source::new(5), "s").unwrap();
    const URI: &str = "actor://both-writer/Source/s";
    // Zenoh of this one dials a port where nothing listens: only shared memory reaches the writer.
    let local = Runtime::builder()
        .host("both-local")
        .network(NetConfig::new().connect(&format!("tcp/127.0.0.1:{}", free_port())))
        .ipc_config(prefix.config())
        .build()
        .unwrap();
    // Zenoh only (another host, as far as it knows).
    let wide = Runtime::builder()
        .host("both-wide")
        .network(NetConfig::new().connect(&format!("tcp/127.0.0.1:{port}")))
        .build()
        .unwrap();
    let mut links = Vec::new();
    let mut inputs = Vec::new();
    for rt in [&local, &wide] {
        let remote = rt.remote::<Source>(URI).unwrap();
        remote.wait_until_running(Duration::from_secs(20)).unwrap();
        let input = Input::<i64>::new();
        links.push(streamlib::connect(&remote.outputs.value, &input.to_ref()).unwrap());
        inputs.push(input);
    }
    for input in &inputs {
        until(Duration::from_secs(10), || {
            input.read_latest().is_some_and(|v| *v == 5)
        })
        .expect("both readers get the value, each over its engine");
    }
}
