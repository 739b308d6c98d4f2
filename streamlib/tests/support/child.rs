//! What the multi-process tests share: re-executing this test binary as a child process that
//! runs the ignored test `child_role` (the camera role, named by a test's own variables), the
//! child's rule to run until its parent lets go, and the parent's bounded wait for what the child
//! does.

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A child process running `child_role` of this test binary with the variables `envs`; killed
/// (SIGKILL: nothing of it gets to clean up) when dropped, so a failed test leaves none behind.
pub struct ChildProcess {
    child: Child,
}

impl ChildProcess {
    pub fn start(envs: &[(&str, &str)]) -> ChildProcess {
        let mut command = Command::new(std::env::current_exe().unwrap());
        command
            .args(["--exact", "child_role", "--ignored", "--nocapture"])
            .envs(envs.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::null());
        ChildProcess {
            child: command.spawn().expect("re-executing the test binary"),
        }
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ChildProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The variables through which a test starts its camera child process: `role` (set to
/// `camera`), `arg` (the camera role's one argument: a port, a prefix) and `once` (set: the
/// camera writes twice, then no more).
pub struct CameraVars {
    pub role: &'static str,
    pub arg: &'static str,
    pub once: &'static str,
}

impl CameraVars {
    /// A child process running the camera role with `arg`.
    pub fn start(&self, arg: &str, once: bool) -> ChildProcess {
        let mut envs = vec![(self.role, "camera"), (self.arg, arg)];
        if once {
            envs.push((self.once, "1"));
        }
        ChildProcess::start(&envs)
    }

    /// In `child_role`: the camera role's argument, if this process is the camera.
    pub fn camera_arg(&self) -> Option<String> {
        (std::env::var(self.role).as_deref() == Ok("camera"))
            .then(|| std::env::var(self.arg).unwrap())
    }
}

/// In the child: returns when stdin closes (the parent died or let go) or after `limit`, a
/// safety net.
pub fn until_parent_lets_go(limit: Duration) {
    let started = Instant::now();
    let mut stdin = std::io::stdin();
    let mut byte = [0u8];
    let reader = std::thread::spawn(move || {
        let _ = stdin.read(&mut byte);
    });
    while !reader.is_finished() && started.elapsed() < limit {
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Polls `done` every 5 ms until it holds or `within` passes; returns how long it took.
pub fn until(within: Duration, mut done: impl FnMut() -> bool) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < within {
        if done() {
            return Some(start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    None
}
