//! The clocks' operating-system layer: every system call the clocks make, each written once with
//! its safety argument.
//!
//! Reading a POSIX clock (`clock_gettime`), mapping a kernel timestamp from `CLOCK_REALTIME` onto
//! `CLOCK_MONOTONIC`, receiving a datagram together with the kernel's receive timestamp
//! (`recvmsg` and its control-message walk), setting a socket option, waiting on descriptors
//! (`poll`) and the thread settings of a ticking thread (timer slack, real-time priority). The
//! software, PTP and genlock clocks call these; none of them calls `libc` for the same thing
//! itself.

use std::io;
use std::mem::size_of;
use std::os::fd::RawFd;
use std::time::Duration;

/// `ts` in nanoseconds; a negative field (never given by the kernel for these clocks) reads as 0.
pub(crate) fn timespec_ns(ts: libc::timespec) -> u64 {
    (ts.tv_sec.max(0) as u64).saturating_mul(1_000_000_000) + ts.tv_nsec.max(0) as u64
}

/// Reads `clock` in nanoseconds, or the OS error.
pub(crate) fn read_clock(clock: libc::clockid_t) -> io::Result<u64> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the duration of the call; an invalid clock
    // id makes the call fail with EINVAL, it never writes elsewhere.
    let rc = unsafe { libc::clock_gettime(clock, &mut ts) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(timespec_ns(ts))
}

/// `CLOCK_MONOTONIC` in nanoseconds: the time base of software-clock timestamps and of pulse
/// times. `CLOCK_MONOTONIC` is supported on every unix this builds for, so the read cannot fail
/// (a failure would read as 0).
pub(crate) fn monotonic_ns() -> u64 {
    read_clock(libc::CLOCK_MONOTONIC).unwrap_or(0)
}

/// Maps a kernel timestamp on `CLOCK_REALTIME` onto `CLOCK_MONOTONIC`. The two clocks are
/// read back to back, bracketed by monotonic reads; a pair straddling a preemption (the reads
/// more than 20 µs apart) is read again, or a wrong mapping would look like a jump of the master.
pub(crate) fn realtime_to_monotonic(realtime: u64) -> u64 {
    let mut best: Option<(u64, i128)> = None;
    for _ in 0..8 {
        let before = monotonic_ns();
        let now_realtime = read_clock(libc::CLOCK_REALTIME).unwrap_or(0);
        let after = monotonic_ns();
        let width = after.saturating_sub(before);
        let offset = i128::from(now_realtime) - i128::from(before + width / 2);
        if best.is_none_or(|(w, _)| width < w) {
            best = Some((width, offset));
        }
        if width < 20_000 {
            break;
        }
    }
    let offset = best.map_or(0, |(_, offset)| offset);
    u64::try_from((i128::from(realtime) - offset).max(0)).unwrap_or(0)
}

/// A received datagram: its length, and the kernel's receive (or, from the error queue,
/// transmit) time on `CLOCK_REALTIME` when the kernel attached one.
pub(crate) struct Received {
    /// Bytes written into the buffer.
    #[cfg_attr(not(feature = "ptp"), allow(dead_code))]
    pub(crate) len: usize,
    /// The first `timespec` of the `SOL_SOCKET` control message asked for, unless it is zero
    /// (the kernel's "no timestamp of this kind").
    pub(crate) realtime_ns: Option<u64>,
}

/// One `recvmsg(2)` on `fd` into `buf` with `flags`, and the timestamp the kernel attached as a
/// `SOL_SOCKET` control message of type `timestamp_type` (`SCM_TIMESTAMPNS`, whose one
/// `timespec` is the receive time, or `SCM_TIMESTAMPING`, whose first of three is the software
/// time). Errors (`WouldBlock` and `Interrupted` included) are returned as they are, for the
/// caller to decide.
pub(crate) fn recv_timestamped(
    fd: RawFd,
    buf: &mut [u8],
    flags: i32,
    timestamp_type: i32,
) -> io::Result<Received> {
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // u64 elements keep the control buffer aligned for `cmsghdr`; 128 bytes hold a timestamping
    // message (three timespecs) beside an error-queue message.
    let mut control = [0u64; 16];
    // SAFETY: an all-zero msghdr is valid (null pointers, zero lengths).
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = size_of::<[u64; 16]>() as _;
    // SAFETY: `msg` points at `iov` (which points at `buf`) and at `control`, all live and
    // writable for the call, with their true lengths.
    let n = unsafe { libc::recvmsg(fd, &mut msg, flags) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    let mut realtime_ns = None;
    // SAFETY: `msg` was filled by recvmsg; CMSG_FIRSTHDR/CMSG_NXTHDR stay within
    // `msg_controllen` bytes of `control` and return null at the end; a non-null `cmsg` points at
    // a complete header inside `control`; a timestamp message carries at least one `timespec`,
    // read unaligned.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            let header = &*cmsg;
            if header.cmsg_level == libc::SOL_SOCKET && header.cmsg_type == timestamp_type {
                let ts: libc::timespec = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast());
                if ts.tv_sec != 0 || ts.tv_nsec != 0 {
                    realtime_ns = Some(timespec_ns(ts));
                }
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
    }
    Ok(Received {
        len: n as usize,
        realtime_ns,
    })
}

/// `setsockopt(2)` with a plain value.
pub(crate) fn set_socket_option<T>(fd: RawFd, level: i32, name: i32, value: &T) -> io::Result<()> {
    set_socket_option_bytes(fd, level, name, (value as *const T).cast(), size_of::<T>())
}

/// `setsockopt(2)` with the bytes of `value` (a device name for `SO_BINDTODEVICE`).
#[cfg_attr(not(feature = "ptp"), allow(dead_code))]
pub(crate) fn set_socket_option_slice(
    fd: RawFd,
    level: i32,
    name: i32,
    value: &[u8],
) -> io::Result<()> {
    set_socket_option_bytes(fd, level, name, value.as_ptr().cast(), value.len())
}

fn set_socket_option_bytes(
    fd: RawFd,
    level: i32,
    name: i32,
    value: *const libc::c_void,
    len: usize,
) -> io::Result<()> {
    // SAFETY: both callers pass a pointer to a live value of exactly `len` bytes, borrowed for
    // the call; the kernel only reads it.
    let rc = unsafe { libc::setsockopt(fd, level, name, value, len as libc::socklen_t) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// `poll(2)` on `fds` for at most `timeout` (rounded down to milliseconds); the number of
/// descriptors with events, or the OS error (`Interrupted` included).
pub(crate) fn poll(fds: &mut [libc::pollfd], timeout: Duration) -> io::Result<usize> {
    let millis = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX);
    // SAFETY: `fds` is a live, writable slice of pollfd and its true length is passed.
    let rc = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, millis) };
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc as usize)
    }
}

/// Sets the calling thread's timer slack.
pub(crate) fn set_timer_slack_ns(nanos: libc::c_ulong) {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_TIMERSLACK takes one unsigned long argument and only affects the calling
    // thread; it cannot fail for a non-zero value.
    unsafe {
        libc::prctl(libc::PR_SET_TIMERSLACK, nanos);
    }
    #[cfg(not(target_os = "linux"))]
    let _ = nanos;
}

/// Puts the calling thread under `SCHED_FIFO` at a middle priority.
pub(crate) fn set_realtime_priority() -> io::Result<()> {
    let param = libc::sched_param { sched_priority: 50 };
    // SAFETY: `pthread_self()` is the calling thread, alive for the call; `param` is a valid
    // sched_param that outlives the call.
    let rc = unsafe { libc::pthread_setschedparam(libc::pthread_self(), libc::SCHED_FIFO, &param) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::from_raw_os_error(rc))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timespecs_convert_to_nanoseconds() {
        let ts = libc::timespec {
            tv_sec: 3,
            tv_nsec: 250,
        };
        assert_eq!(timespec_ns(ts), 3_000_000_250);
        let negative = libc::timespec {
            tv_sec: -1,
            tv_nsec: 5,
        };
        assert_eq!(timespec_ns(negative), 5);
    }

    #[test]
    fn monotonic_time_moves_forward() {
        let first = monotonic_ns();
        let second = monotonic_ns();
        assert!(first > 0 && second >= first);
    }

    #[test]
    fn realtime_maps_onto_monotonic() {
        let realtime = read_clock(libc::CLOCK_REALTIME).unwrap();
        let mono = monotonic_ns();
        let mapped = realtime_to_monotonic(realtime);
        assert!(mapped.abs_diff(mono) < 5_000_000, "{mapped} vs {mono}");
    }

    #[test]
    fn an_invalid_clock_is_an_os_error() {
        assert!(read_clock(libc::clockid_t::MAX).is_err());
    }
}
