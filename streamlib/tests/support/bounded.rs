//! Running another program from a test without waiting on it forever: `Command::output` returns
//! only once the program exited *and* every process that inherited its pipes closed them, so a
//! stalled browser (or a helper process it leaves behind) would hang the test. Here the output
//! goes to files and the wait has a deadline, after which the program is killed and the test
//! fails naming it.

use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Runs `command` to its end, at most `limit`; its exit status and what it printed. Panics
/// (after killing it) when it runs longer, with what it printed on stderr so far.
pub fn output_within(command: &mut Command, limit: Duration) -> Output {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let base = std::env::temp_dir().join(format!("streamlib-test-{}-{n}", std::process::id()));
    let (out_path, err_path) = (base.with_extension("out"), base.with_extension("err"));
    let file = |path: &std::path::Path| std::fs::File::create(path).expect("a temporary file");
    let mut child = command
        .stdin(Stdio::null())
        .stdout(file(&out_path))
        .stderr(file(&err_path))
        .spawn()
        .unwrap_or_else(|e| panic!("starting {command:?}: {e}"));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for the child") {
            break Some(status);
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let read = |path: &std::path::Path| {
        let bytes = std::fs::read(path).unwrap_or_default();
        let _ = std::fs::remove_file(path);
        bytes
    };
    let (stdout, stderr) = (read(&out_path), read(&err_path));
    let Some(status) = status else {
        panic!(
            "{command:?} ran over {limit:?} and was killed; its stderr:\n{}",
            String::from_utf8_lossy(&stderr)
        );
    };
    Output {
        status,
        stdout,
        stderr,
    }
}
