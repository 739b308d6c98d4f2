//! Logging in one line (feature `log`): `streamlib::log::init()` prints the runtime's events to
//! stderr with the actor's URI on each line, filtered by `RUST_LOG`. Each case re-executes this
//! test binary as a child (`STREAMLIB_LOG_ROLE=child`) that installs the subscriber, so the
//! global subscriber of the test process is never touched; the test reads the child's stderr.

#[path = "support/bounded.rs"]
mod bounded;

use std::process::Command;
use std::time::Duration;

use streamlib::{
    Actor, ActorError, Error, PortBinder, Process, ProcessResult, Runtime, SpawnOptions, Tick,
};

/// Fails once, panics once, then asks to shut the runtime down.
#[derive(Default)]
struct Failing {
    calls: u32,
}

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
    fn process(&mut self, _tick: &Tick) -> ProcessResult {
        self.calls += 1;
        match self.calls {
            1 => Err(ActorError::msg("camera unplugged")),
            2 => panic!("decoder exploded"),
            _ => Err(ActorError::stop_runtime()),
        }
    }
}

/// The child: installs the subscriber, runs the failing actor to its end.
#[test]
#[ignore = "run by the other tests as a child process"]
fn child_role() {
    if std::env::var("STREAMLIB_LOG_ROLE").as_deref() != Ok("child") {
        return;
    }
    assert!(streamlib::log::init(), "no subscriber was installed before");
    assert!(!streamlib::log::init(), "a second call changes nothing");
    let rt = Runtime::new();
    rt.spawn_with(Failing::default(), "cam7", SpawnOptions::new())
        .unwrap();
    rt.run_for(Duration::from_secs(30)).unwrap();
}

/// Runs the child with `RUST_LOG` set to `rust_log` (unset for `None`); its stderr.
fn child_stderr(rust_log: Option<&str>) -> String {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args(["--exact", "child_role", "--ignored", "--nocapture"])
        .env("STREAMLIB_LOG_ROLE", "child");
    match rust_log {
        Some(filter) => command.env("RUST_LOG", filter),
        None => command.env_remove("RUST_LOG"),
    };
    // The child runs 30 s at most, and shuts down within 11 s more.
    let output = bounded::output_within(&mut command, Duration::from_secs(60));
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "child failed:\n{stderr}");
    stderr
}

fn line_with<'a>(text: &'a str, parts: &[&str]) -> Option<&'a str> {
    text.lines().find(|l| parts.iter().all(|p| l.contains(p)))
}

#[test]
fn warnings_and_errors_carry_the_actor_uri() {
    let stderr = child_stderr(None);
    let actor = "actor=actor://local/Failing/cam7";
    assert!(
        line_with(&stderr, &["WARN", actor, "camera unplugged"]).is_some(),
        "{stderr}"
    );
    assert!(
        line_with(&stderr, &["ERROR", actor, "decoder exploded"]).is_some(),
        "{stderr}"
    );
    // The actor's own request to stop is no fault: nothing about it at `info`.
    assert!(!stderr.contains("stop_runtime"), "{stderr}");
}

#[test]
fn rust_log_filters() {
    let stderr = child_stderr(Some("error"));
    assert!(
        line_with(&stderr, &["ERROR", "decoder exploded"]).is_some(),
        "{stderr}"
    );
    assert!(!stderr.contains("camera unplugged"), "{stderr}");
}

#[test]
fn a_bad_rust_log_falls_back_to_info_and_says_so() {
    let stderr = child_stderr(Some("streamlib=loud"));
    assert!(
        line_with(
            &stderr,
            &["RUST_LOG is not a valid filter", "streamlib=loud"]
        )
        .is_some(),
        "{stderr}"
    );
    assert!(
        line_with(&stderr, &["WARN", "camera unplugged"]).is_some(),
        "{stderr}"
    );
}

#[test]
fn a_bad_filter_is_a_typed_error() {
    match streamlib::log::init_with("streamlib=loud") {
        Err(Error::InvalidOption { option, value, .. }) => {
            assert_eq!((option, value.as_str()), ("log filter", "streamlib=loud"));
        }
        other => panic!("expected InvalidOption, got {other:?}"),
    }
}
