//! The `streamlib` binary against a runtime of this test process, on loopback.

use std::process::{Command, Output as ProcessOutput};

use streamlib::prelude::*;

#[actor(fps = 50)]
#[derive(Default)]
pub struct Counter {
    #[output]
    pub value: Output<i64>,
}

impl Process for Counter {
    fn process(&mut self, tick: &Tick) -> ProcessResult {
        self.value.write(tick.frame_number as i64);
        Ok(())
    }
}

#[actor(fps = 50)]
#[derive(Default)]
pub struct Doubler {
    #[input]
    pub value: Input<i64>,
    #[output(name = "value")]
    pub doubled: Output<i64>,
}

impl Process for Doubler {
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        if let Some(v) = self.value.read_latest() {
            self.doubled.write(*v * 2);
        }
        Ok(())
    }
}

fn runtime() -> Runtime {
    let rt = Runtime::builder()
        .inspect("127.0.0.1:0")
        .build()
        .expect("runtime");
    let src = rt.spawn(Counter::default(), "src").expect("src");
    let dbl = rt.spawn(Doubler::default(), "dbl").expect("dbl");
    pipeline! { src.value >> dbl.value }.expect("pipeline");
    rt
}

fn streamlib(args: &[&str]) -> (String, String) {
    let ProcessOutput {
        status,
        stdout,
        stderr,
    } = Command::new(env!("CARGO_BIN_EXE_streamlib"))
        .args(args)
        .output()
        .expect("run streamlib");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    );
    assert!(
        status.success(),
        "streamlib {args:?}: {status}\n{stdout}\n{stderr}"
    );
    (stdout, stderr)
}

#[test]
fn ls_finds_this_process_and_its_actors() {
    let rt = runtime();
    let address = rt.inspect_addr().expect("serving").to_string();
    let pid = std::process::id().to_string();
    let (out, _) = streamlib(&["ls", "--pid", &pid]);
    assert!(
        out.contains(&format!("runtime pid {pid} at {address}")),
        "{out}"
    );
    assert!(out.contains("actor://local/Counter/src"), "{out}");
    assert!(out.contains("actor://local/Doubler/dbl"), "{out}");
}

#[test]
fn top_once_prints_a_table_with_rates() {
    let rt = runtime();
    let address = rt.inspect_addr().expect("serving").to_string();
    let (out, _) = streamlib(&["top", "--once", "--addr", &address, "--interval", "0.5"]);
    eprintln!("{out}");
    let header = out
        .lines()
        .find(|l| l.starts_with("ACTOR"))
        .unwrap_or_else(|| panic!("{out}"));
    for column in [
        "FPS", "LATE", "SKIPPED", "ERRORS", "P50_US", "P99_US", "CORE%",
    ] {
        assert!(header.contains(column), "{header}");
    }
    let src = out
        .lines()
        .find(|l| l.starts_with("actor://local/Counter/src"))
        .unwrap_or_else(|| panic!("{out}"));
    let fps: f64 = src
        .split_whitespace()
        .nth(1)
        .and_then(|f| f.parse().ok())
        .unwrap_or_else(|| panic!("{src}"));
    assert!(fps > 0.0, "{src}");
    assert!(out.contains("clock "), "{out}");
}

#[test]
fn graph_in_three_formats() {
    let rt = runtime();
    let address = rt.inspect_addr().expect("serving").to_string();
    let (dot, _) = streamlib(&["graph", "--addr", &address]);
    assert!(
        dot.contains(
            "\"actor://local/Counter/src\" -> \"actor://local/Doubler/dbl\" [label=\"value -> value: i64\"]"
        ),
        "{dot}"
    );
    let (json, _) = streamlib(&["graph", "--format", "json", "--addr", &address]);
    let json: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(json["connections"][0]["payload"], "i64");
    let (svg, _) = streamlib(&["graph", "--format", "svg", "--addr", &address]);
    assert!(
        svg.starts_with("<svg") && svg.contains("local/Doubler/dbl"),
        "{svg}"
    );
}

#[test]
fn tap_prints_new_values() {
    let rt = runtime();
    let address = rt.inspect_addr().expect("serving").to_string();
    let (out, _) = streamlib(&[
        "tap",
        "actor://local/Doubler/dbl.value",
        "--addr",
        &address,
        "--count",
        "3",
        "--rate",
        "20",
    ]);
    let values: Vec<i64> = out
        .lines()
        .map(|l| {
            let (seq, value) = l.split_once(' ').unwrap_or_else(|| panic!("{out}"));
            assert!(seq.starts_with('#'), "{l}");
            value
                .split_whitespace()
                .next()
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{l}"))
        })
        .collect();
    assert_eq!(values.len(), 3, "{out}");
    assert!(values.windows(2).all(|w| w[0] < w[1]), "{out}");
    assert!(values.iter().all(|v| v % 2 == 0), "{out}");
}

#[test]
fn errors_are_plain_messages() {
    let rt = runtime();
    let address = rt.inspect_addr().expect("serving").to_string();
    let output = Command::new(env!("CARGO_BIN_EXE_streamlib"))
        .args(["tap", "actor://local/Nobody/x.value", "--addr", &address])
        .output()
        .expect("run");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("no actor actor://local/Nobody/x"),
        "{stderr}"
    );
}
