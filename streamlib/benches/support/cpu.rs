//! What the CPU-cost benches share: the CPU time of the whole process, and of some of its threads.

use std::time::Duration;

/// CPU time of this whole process so far.
pub fn cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec to write to; the clock id is supported on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// `ticks` of `/proc/*/stat`'s clock as a duration.
fn from_ticks(ticks: u64) -> Duration {
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    let per_second = if hz > 0 { hz as u64 } else { 100 };
    Duration::from_nanos(ticks * 1_000_000_000 / per_second)
}

/// The name and the user + system clock ticks of a `/proc/*/stat` line; `None` if malformed.
fn stat_name_and_ticks(stat: &str) -> Option<(&str, u64)> {
    // `pid (comm) state ...`: the name may hold spaces, so split at the last ')'.
    let (open, close) = (stat.find('(')?, stat.rfind(')')?);
    let fields: Vec<&str> = stat.get(close + 2..)?.split(' ').collect();
    // Fields 14 and 15 of stat (utime, stime) are 11 and 12 after `state`.
    let field = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    Some((&stat[open + 1..close], field(11) + field(12)))
}

/// CPU time so far of this process's threads whose name starts with `prefix` (Linux names are
/// cut to 15 bytes), from `/proc/self/task/*/stat`; threads that ended are not counted.
#[allow(dead_code)] // not every bench that includes this file asks
pub fn threads_cpu_time(prefix: &str) -> Duration {
    let mut ticks = 0;
    for task in std::fs::read_dir("/proc/self/task")
        .into_iter()
        .flatten()
        .flatten()
    {
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
            continue;
        };
        if let Some((name, used)) = stat_name_and_ticks(&stat) {
            if name.starts_with(prefix) {
                ticks += used;
            }
        }
    }
    from_ticks(ticks)
}

/// CPU time so far of another process, whole (user + system, from `/proc/<pid>/stat`).
#[allow(dead_code)] // not every bench that includes this file asks
pub fn process_cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let ticks = stat_name_and_ticks(&stat).map_or(0, |(_, used)| used);
    from_ticks(ticks)
}
