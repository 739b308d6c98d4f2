//! Feature `record`: record a pipeline into MCAP, replay its source into fresh stages, compare
//! every value; damaged files give typed errors and their readable prefix still replays.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use streamlib::prelude::*;
use streamlib::record::{Recorded, Recorder, RecorderOptions, Recording};
use streamlib::{Error, LatePolicy, Rate, SoftwareClock};

/// A pseudo-random source (xorshift64*), seeded.
#[actor]
pub struct Noise {
    #[output]
    pub value: Output<u64>,
    pub state: u64,
}

impl Process for Noise {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        self.value
            .write(self.state.wrapping_mul(0x2545_f491_4f6c_dd1d));
        Ok(())
    }
}

/// Stage 1: a pure function of each new input value.
#[actor]
pub struct Scale {
    #[input]
    pub value: Input<u64>,
    #[output]
    pub value_out: Output<u64>,
}

impl Process for Scale {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        if let Some(v) = self.value.read_new() {
            self.value_out
                .write(v.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ (*v >> 29));
        }
        Ok(())
    }
}

/// Stage 2: a running hash of every new input value (state carried across ticks).
#[actor]
pub struct Checksum {
    #[input]
    pub value: Input<u64>,
    #[output]
    pub sum: Output<u64>,
    pub state: u64,
}

impl Process for Checksum {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        if let Some(v) = self.value.read_new() {
            self.state = (self.state ^ *v).wrapping_mul(0x100_0000_01b3);
            self.sum.write(self.state);
        }
        Ok(())
    }
}

const NOISE: &str = "actor://local/Noise/noise.value";
const SCALE: &str = "actor://local/Scale/scale.value_out";
const SUM: &str = "actor://local/Checksum/sum.sum";

/// A fresh path per call (tests run in parallel).
fn temp(name: &str) -> PathBuf {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("streamlib-record-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(format!("{n}-{name}"))
}

/// A queue that holds every value of these short tests: a manual clock steps faster than a
/// debug build's writer drains (a full queue drops values rather than block a tick).
const LOSSLESS: usize = 4096;

fn stages(
    rt: &Runtime,
    clock: &dyn streamlib::Clock,
) -> (ActorHandle<Scale>, ActorHandle<Checksum>) {
    let scale = rt
        .spawn_with(
            Scale {
                value: Input::new(),
                value_out: Output::new(),
            },
            "scale",
            streamlib::SpawnOptions::new().clock(clock),
        )
        .unwrap();
    let sum = rt
        .spawn_with(
            Checksum {
                value: Input::new(),
                sum: Output::new(),
                state: 0xcbf2_9ce4_8422_2325,
            },
            "sum",
            streamlib::SpawnOptions::new().clock(clock),
        )
        .unwrap();
    (scale, sum)
}

fn lossless() -> RecorderOptions {
    RecorderOptions {
        queue: LOSSLESS,
        ..RecorderOptions::default()
    }
}

/// Records Noise → Scale → Checksum for `ticks` ticks of a manual clock into `path`.
fn record_pipeline(path: &PathBuf, ticks: u64, options: RecorderOptions) {
    let rt = Runtime::new();
    let clock = ManualClock::new(Rate::fps(100).unwrap());
    let noise = rt
        .spawn_on(
            Noise {
                value: Output::new(),
                state: 0x853c_49e6_748f_ea9b,
            },
            "noise",
            &clock,
        )
        .unwrap();
    let (scale, sum) = stages(&rt, &clock);
    pipeline! { noise.value >> scale.value -> value_out >> sum.value }.unwrap();
    let recorder = Recorder::with_options(path, options).unwrap();
    recorder.record(&noise.outputs.value).unwrap();
    recorder.record(&scale.outputs.value_out).unwrap();
    recorder.record(&sum.outputs.sum).unwrap();
    for _ in 0..ticks {
        clock.step().unwrap();
        // A bounded queue never blocks the tick; here the writer keeps up, checked below.
    }
    rt.shutdown();
    let stats = recorder.finish().unwrap();
    assert_eq!(stats.recorded, 3 * ticks, "{stats:?}");
    assert_eq!(stats.dropped, 0);
}

/// Replays the noise channel of `recording` into fresh stages on a manual clock, recording
/// their outputs into `out`; returns that recording.
fn replay_into_fresh_stages(recording: &Recording, out: &PathBuf) -> Recording {
    let rt = Runtime::new();
    let clock = ManualClock::new(Rate::fps(100).unwrap());
    let source = rt
        .spawn_on(recording.replay::<u64>(NOISE).unwrap(), "noise", &clock)
        .unwrap();
    let (scale, sum) = stages(&rt, &clock);
    pipeline! { source.value >> scale.value -> value_out >> sum.value }.unwrap();
    let recorder = Recorder::with_options(out, lossless()).unwrap();
    recorder.record(&scale.outputs.value_out).unwrap();
    recorder.record(&sum.outputs.sum).unwrap();
    clock.step_n(recording.frames().max(1)).unwrap();
    rt.shutdown();
    recorder.finish().unwrap();
    Recording::open(out).unwrap()
}

fn values(recording: &Recording, topic: &str) -> Vec<(u64, u64)> {
    recording
        .values::<u64>(topic)
        .unwrap()
        .into_iter()
        .map(|r: Recorded<u64>| (r.frame_number, *r.value))
        .collect()
}

#[test]
fn record_then_replay_the_source_reproduces_every_downstream_value_bit_exactly() {
    let path = temp("pipeline.mcap");
    record_pipeline(&path, 300, lossless());
    let recording = Recording::open(&path).unwrap();
    assert!(recording.damage().is_none());
    let topics: Vec<&str> = recording
        .channels()
        .iter()
        .map(|c| c.topic.as_str())
        .collect();
    assert_eq!(topics, [NOISE, SCALE, SUM]);
    for channel in recording.channels() {
        assert_eq!(
            (channel.payload_type.as_str(), channel.messages),
            ("u64", 300)
        );
    }
    assert_eq!(
        (recording.first_frame(), recording.frames()),
        (Some(0), 300)
    );
    let noise = recording.values::<u64>(NOISE).unwrap();
    assert_eq!(noise[0].sequence, 1);
    assert_eq!(
        noise[10].timestamp.as_nanos(),
        100_000_000,
        "frame 10 at 100 fps"
    );
    let distinct: std::collections::HashSet<u64> = noise.iter().map(|r| *r.value).collect();
    assert_eq!(distinct.len(), 300, "the source is pseudo-random");

    let replayed = replay_into_fresh_stages(&recording, &temp("replayed.mcap"));
    for topic in [SCALE, SUM] {
        let (recorded, again) = (values(&recording, topic), values(&replayed, topic));
        assert_eq!(recorded.len(), 300, "{topic}");
        assert_eq!(
            again, recorded,
            "{topic} replays bit-exactly, frame for frame"
        );
    }
}

#[test]
fn replay_at_the_recorded_rate_on_a_software_clock() {
    let path = temp("realtime.mcap");
    record_pipeline(&path, 40, lossless());
    let recording = Recording::open(&path).unwrap();
    let rt = Runtime::new();
    // Catch-up: a late tick on a loaded machine still delivers every recorded frame.
    let clock = SoftwareClock::new(Rate::fps(100).unwrap()).with_late_policy(LatePolicy::CatchUp);
    let source = rt
        .spawn_on(recording.replay::<u64>(NOISE).unwrap(), "noise", &clock)
        .unwrap();
    let (scale, sum) = stages(&rt, &clock);
    let out = temp("realtime-replayed.mcap");
    let recorder = Recorder::with_options(&out, lossless()).unwrap();
    recorder.record(&sum.outputs.sum).unwrap();
    // Downstream first: the replay starts on the tick its output is first read, and every
    // stage after it is wired by then.
    pipeline! { scale.value_out >> sum.value; source.value >> scale.value }.unwrap();
    let started = Instant::now();
    while recorder.stats().recorded < 40 && started.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(10));
    }
    let elapsed = started.elapsed();
    rt.shutdown();
    recorder.finish().unwrap();
    let replayed = Recording::open(&out).unwrap();
    let again: Vec<u64> = values(&replayed, SUM).into_iter().map(|(_, v)| v).collect();
    let recorded: Vec<u64> = values(&recording, SUM)
        .into_iter()
        .map(|(_, v)| v)
        .collect();
    assert_eq!(again, recorded);
    assert!(
        elapsed >= Duration::from_millis(300),
        "40 frames at 100 fps took {elapsed:?}"
    );
}

#[test]
fn replaying_a_channel_as_another_payload_type_or_an_unknown_channel_is_an_error() {
    let path = temp("types.mcap");
    record_pipeline(&path, 5, lossless());
    let recording = Recording::open(&path).unwrap();
    match recording.replay::<f64>(NOISE) {
        Err(Error::Recording {
            channel: Some(channel),
            reason,
            ..
        }) => {
            assert_eq!(channel, NOISE);
            assert!(reason.contains("u64") && reason.contains("f64"), "{reason}");
        }
        other => panic!("expected a type mismatch, got {:?}", other.map(|_| ())),
    }
    let err = recording
        .values::<u64>("actor://local/Nope/x.y")
        .unwrap_err();
    assert!(err.to_string().contains(NOISE), "lists the channels: {err}");
}

#[test]
fn a_channel_of_a_foreign_schema_is_an_unknown_schema_error() {
    let path = temp("foreign.mcap");
    {
        let mut writer = mcap::WriteOptions::new()
            .compression(None)
            .create(std::io::BufWriter::new(
                std::fs::File::create(&path).unwrap(),
            ))
            .unwrap();
        let schema = writer
            .add_schema("sensor_msgs/msg/Image", "ros2msg", b"uint32 height\n")
            .unwrap();
        let channel = writer
            .add_channel(schema, "/camera", "cdr", &Default::default())
            .unwrap();
        let header = mcap::records::MessageHeader {
            channel_id: channel,
            sequence: 1,
            log_time: 5,
            publish_time: 5,
        };
        writer
            .write_to_known_channel(&header, &[0, 1, 0, 0, 7, 0, 0, 0])
            .unwrap();
        writer.finish().unwrap();
    }
    let recording = Recording::open(&path).unwrap();
    assert_eq!(
        recording.channels()[0].payload_type,
        "sensor_msgs/msg/Image"
    );
    match recording.replay::<u64>("/camera") {
        Err(Error::Recording {
            channel: Some(channel),
            reason,
            ..
        }) => {
            assert_eq!(channel, "/camera");
            assert!(reason.contains("unknown schema"), "{reason}");
        }
        other => panic!("expected unknown schema, got {:?}", other.map(|_| ())),
    }
}

/// A recording in small chunks (many of them), and its noise and scale values.
/// `(frame, value)` of each value of a channel.
type Values = Vec<(u64, u64)>;

fn chunked() -> (Vec<u8>, Values, Values) {
    let path = temp("chunked.mcap");
    let options = RecorderOptions {
        chunk_size: 512,
        ..lossless()
    };
    record_pipeline(&path, 60, options);
    let recording = Recording::open(&path).unwrap();
    let (noise, scale) = (values(&recording, NOISE), values(&recording, SCALE));
    (std::fs::read(&path).unwrap(), noise, scale)
}

/// Offsets of the chunk records of an MCAP file (opcode 0x06), walking its top-level records.
fn chunk_offsets(bytes: &[u8]) -> Vec<usize> {
    let mut offsets = Vec::new();
    let mut pos = 8;
    while pos + 9 <= bytes.len() {
        let length = u64::from_le_bytes(bytes[pos + 1..pos + 9].try_into().unwrap()) as usize;
        if bytes[pos] == 0x06 {
            offsets.push(pos);
        }
        if bytes[pos] == 0x02 {
            break;
        }
        pos += 9 + length;
    }
    offsets
}

#[test]
fn a_truncated_file_is_an_error_at_its_offset_and_its_prefix_still_replays() {
    let (bytes, noise, scale) = chunked();
    let chunks = chunk_offsets(&bytes);
    assert!(chunks.len() >= 4, "{} chunks", chunks.len());
    let cut = chunks[chunks.len() / 2] + 20; // inside a chunk record
    let truncated = bytes[..cut].to_vec();
    match Recording::from_bytes("cut.mcap", truncated.clone()) {
        Err(Error::Recording {
            path,
            offset: Some(offset),
            reason,
            ..
        }) => {
            assert_eq!(path, "cut.mcap");
            assert_eq!(offset as usize, chunks[chunks.len() / 2]);
            assert!(reason.contains("truncated"), "{reason}");
        }
        other => panic!("expected a truncation error, got {:?}", other.map(|_| ())),
    }
    let prefix = Recording::from_bytes_prefix("cut.mcap", truncated).unwrap();
    assert!(matches!(prefix.damage(), Some(Error::Recording { .. })));
    let readable = values(&prefix, NOISE);
    assert!(!readable.is_empty() && readable.len() < noise.len());
    assert_eq!(
        readable[..],
        noise[..readable.len()],
        "the prefix is what was recorded"
    );
    // The prefix replays into fresh stages and reproduces the recorded downstream values.
    let replayed = replay_into_fresh_stages(&prefix, &temp("prefix-replayed.mcap"));
    let again = values(&replayed, SCALE);
    assert_eq!(again.len(), readable.len());
    assert_eq!(again[..], scale[..again.len()]);
}

#[test]
fn a_corrupt_chunk_is_an_error_naming_its_offset() {
    let (mut bytes, noise, _) = chunked();
    let chunks = chunk_offsets(&bytes);
    let damaged = chunks[2];
    let last = bytes.len() - 1;
    // A byte in the chunk's records (past its header), so only the CRC can tell.
    bytes[(damaged + 120).min(last)] ^= 0x40;
    let err = Recording::from_bytes("crc.mcap", bytes.clone()).unwrap_err();
    match &err {
        Error::Recording {
            offset: Some(offset),
            reason,
            ..
        } => {
            assert_eq!(*offset as usize, damaged, "{err}");
            assert!(
                reason.contains("CRC") || reason.contains("corrupt"),
                "{reason}"
            );
        }
        other => panic!("expected a corrupt chunk, got {other:?}"),
    }
    assert!(
        err.to_string().contains(&format!("at byte {damaged}")),
        "{err}"
    );
    let prefix = Recording::from_bytes_prefix("crc.mcap", bytes).unwrap();
    let readable = values(&prefix, NOISE);
    assert!(!readable.is_empty());
    assert_eq!(readable[..], noise[..readable.len()]);
}

#[test]
fn not_an_mcap_file_is_an_error_at_offset_zero() {
    for bytes in [Vec::new(), b"hello world, not mcap".to_vec()] {
        match Recording::from_bytes_prefix("x.mcap", bytes) {
            Err(Error::Recording { offset, .. }) => assert_eq!(offset, Some(0)),
            other => panic!("expected an error, got {:?}", other.map(|_| ())),
        }
    }
    let missing = Recording::open(temp("does-not-exist.mcap")).unwrap_err();
    assert!(
        missing.to_string().contains("does-not-exist.mcap"),
        "{missing}"
    );
}

/// How a valid file is damaged.
#[derive(Clone, Debug)]
enum Damage {
    Truncate(usize),
    Flip(Vec<(usize, u8)>),
    Overwrite(usize, Vec<u8>),
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        any::<usize>().prop_map(Damage::Truncate),
        proptest::collection::vec((any::<usize>(), 1..=255u8), 1..8).prop_map(Damage::Flip),
        (
            any::<usize>(),
            proptest::collection::vec(any::<u8>(), 1..64)
        )
            .prop_map(|(at, bytes)| Damage::Overwrite(at, bytes)),
    ]
}

fn small_recording() -> &'static (Vec<u8>, Values) {
    static FILE: std::sync::OnceLock<(Vec<u8>, Values)> = std::sync::OnceLock::new();
    FILE.get_or_init(|| {
        let path = temp("fuzz.mcap");
        record_pipeline(
            &path,
            12,
            RecorderOptions {
                chunk_size: 256,
                ..lossless()
            },
        );
        let noise = values(&Recording::open(&path).unwrap(), NOISE);
        (std::fs::read(&path).unwrap(), noise)
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Every entry point on a corrupted file returns (no panic); an error is typed; whatever
    /// decodes from the readable part of the noise channel is a prefix of what was recorded,
    /// unless the damage hit a message's own bytes (which a chunk CRC catches).
    #[test]
    fn the_reader_never_panics_on_corrupted_files(damage in damage()) {
        let (bytes, noise) = small_recording();
        let mut bytes = bytes.clone();
        match &damage {
            Damage::Truncate(at) => bytes.truncate(at % bytes.len()),
            Damage::Flip(flips) => {
                for (at, mask) in flips {
                    let len = bytes.len();
                    bytes[at % len] ^= mask;
                }
            }
            Damage::Overwrite(at, with) => {
                let start = at % bytes.len();
                for (i, b) in with.iter().enumerate() {
                    if let Some(slot) = bytes.get_mut(start + i) {
                        *slot = *b;
                    }
                }
            }
        }
        let strict = Recording::from_bytes("fuzz.mcap", bytes.clone());
        if let Err(err) = &strict {
            prop_assert!(matches!(err, Error::Recording { .. }), "{err:?}");
        }
        if let Ok(recording) = Recording::from_bytes_prefix("fuzz.mcap", bytes) {
            for channel in recording.channels() {
                let _ = recording.values::<u64>(&channel.topic);
                let _ = recording.replay::<u64>(&channel.topic);
                let _ = recording.values::<String>(&channel.topic);
            }
            if let (Damage::Truncate(_), Ok(read)) = (&damage, recording.values::<u64>(NOISE)) {
                let read: Vec<(u64, u64)> = read.iter().map(|r| (r.frame_number, *r.value)).collect();
                prop_assert_eq!(&read[..], &noise[..read.len()]);
            }
        }
    }
}
