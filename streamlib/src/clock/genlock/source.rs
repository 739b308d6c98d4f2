//! Where reference pulses come from.

use std::io;
use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::Duration;

use crate::clock::sys::{self, monotonic_ns, realtime_to_monotonic};
use crate::clock::Timestamp;

/// A reference pulse train a [`GenlockClock`](super::GenlockClock) locks to.
///
/// Pulse times are on this machine's `CLOCK_MONOTONIC`, in nanoseconds — the time base of
/// [`SoftwareClock`](crate::SoftwareClock) timestamps. A source is read from one thread (the
/// clock's loop thread), so it needs only `Send`.
pub trait PulseSource: Send + 'static {
    /// Waits at most `timeout` for the next pulse; returns its time, or `None` on timeout.
    /// Must return within about `timeout` (the loop checks between calls whether its clock was
    /// dropped). Errors are logged by the clock, which then treats the wait as silence.
    fn next_pulse(&mut self, timeout: Duration) -> io::Result<Option<Timestamp>>;

    /// A short description for logs, e.g. `udp 127.0.0.1:9000`.
    fn describe(&self) -> String;
}

/// Pulses signalled by a file descriptor that becomes readable once per pulse: a GPIO line
/// event file, a device node, an `eventfd`, a pipe.
///
/// The pulse time is when `poll(2)` returned, so the kernel's wake-up latency is part of the
/// jitter the loop smooths. Whatever is readable is drained after each pulse (a GPIO event
/// record, an eventfd counter, pipe bytes). End of file (a closed pipe) reads as silence.
///
/// ```
/// use std::os::fd::OwnedFd;
/// use std::os::unix::net::UnixStream;
/// use streamlib::clock::FdPulses;
/// let (reader, _writer) = UnixStream::pair()?; // the writer side signals pulses
/// let source = FdPulses::new(OwnedFd::from(reader))?;
/// # drop(source);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct FdPulses {
    fd: OwnedFd,
}

impl FdPulses {
    /// A source on `fd`, switched to non-blocking mode.
    pub fn new(fd: OwnedFd) -> io::Result<FdPulses> {
        let raw = fd.as_raw_fd();
        // SAFETY: fcntl on a descriptor we own; F_GETFL takes no argument.
        let flags = unsafe { libc::fcntl(raw, libc::F_GETFL) };
        if flags < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: as above; F_SETFL takes the new flags as an int.
        if unsafe { libc::fcntl(raw, libc::F_SETFL, flags | libc::O_NONBLOCK) } < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(FdPulses { fd })
    }

    /// Reads whatever is waiting; `Ok(false)` at end of file.
    fn drain(&self) -> io::Result<bool> {
        let mut buf = [0u8; 256];
        for _ in 0..64 {
            // SAFETY: `buf` is live and writable for `buf.len()` bytes during the call.
            let n = unsafe { libc::read(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
            if n == 0 {
                return Ok(false);
            }
            if n < 0 {
                let err = io::Error::last_os_error();
                return match err.kind() {
                    io::ErrorKind::WouldBlock => Ok(true),
                    io::ErrorKind::Interrupted => continue,
                    _ => Err(err),
                };
            }
        }
        Ok(true)
    }
}

impl PulseSource for FdPulses {
    fn next_pulse(&mut self, timeout: Duration) -> io::Result<Option<Timestamp>> {
        let mut pollfd = libc::pollfd {
            fd: self.fd.as_raw_fd(),
            events: libc::POLLIN | libc::POLLPRI,
            revents: 0,
        };
        let rc = sys::poll(std::slice::from_mut(&mut pollfd), timeout);
        let at = monotonic_ns();
        let rc = match rc {
            Ok(ready) => ready,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => return Ok(None),
            Err(err) => return Err(err),
        };
        if rc == 0 {
            return Ok(None);
        }
        if pollfd.revents & libc::POLLNVAL != 0 {
            return Err(io::Error::from_raw_os_error(libc::EBADF));
        }
        if !self.drain()? {
            // End of file: the writer is gone; wait out the timeout instead of spinning.
            std::thread::sleep(timeout);
            return Ok(None);
        }
        Ok(Some(Timestamp::from_nanos(at)))
    }

    fn describe(&self) -> String {
        format!("fd {}", self.fd.as_raw_fd())
    }
}

/// Pulses carried by UDP datagrams: each datagram received is a pulse (its content is ignored),
/// timed by the kernel when it arrived (`SO_TIMESTAMPNS`), so the reading thread's scheduling
/// adds no jitter; where the kernel gives no timestamp, the time `recvmsg` returned is used.
///
/// ```
/// use streamlib::clock::UdpPulses;
/// let source = UdpPulses::bind("127.0.0.1:0")?;
/// let address = source.local_addr()?; // send one datagram per pulse here
/// # drop((source, address));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct UdpPulses {
    socket: UdpSocket,
}

impl UdpPulses {
    /// A source on a socket bound to `address`.
    pub fn bind(address: impl ToSocketAddrs) -> io::Result<UdpPulses> {
        Ok(UdpPulses::from_socket(UdpSocket::bind(address)?))
    }

    /// A source on an existing socket (e.g. one joined to a multicast group).
    pub fn from_socket(socket: UdpSocket) -> UdpPulses {
        let on: i32 = 1;
        let fd = socket.as_raw_fd();
        if let Err(error) = sys::set_socket_option(fd, libc::SOL_SOCKET, libc::SO_TIMESTAMPNS, &on)
        {
            tracing::debug!(%error, "SO_TIMESTAMPNS refused; timing UDP pulses in user space");
        }
        UdpPulses { socket }
    }

    /// The bound address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.socket.local_addr()
    }

    /// One datagram (waiting up to the socket's read timeout): its arrival on the monotonic
    /// clock, or `None` on timeout.
    fn receive(&self) -> io::Result<Option<u64>> {
        let mut buf = [0u8; 64];
        let fd = self.socket.as_raw_fd();
        let received = sys::recv_timestamped(fd, &mut buf, 0, libc::SCM_TIMESTAMPNS);
        let arrived = monotonic_ns();
        match received {
            Ok(received) => Ok(Some(match received.realtime_ns {
                Some(realtime) => realtime_to_monotonic(realtime).min(arrived),
                None => arrived,
            })),
            Err(err) => match err.kind() {
                io::ErrorKind::WouldBlock
                | io::ErrorKind::TimedOut
                | io::ErrorKind::Interrupted => Ok(None),
                _ => Err(err),
            },
        }
    }
}

impl PulseSource for UdpPulses {
    fn next_pulse(&mut self, timeout: Duration) -> io::Result<Option<Timestamp>> {
        self.socket
            .set_read_timeout(Some(timeout.max(Duration::from_millis(1))))?;
        Ok(self.receive()?.map(Timestamp::from_nanos))
    }

    fn describe(&self) -> String {
        match self.socket.local_addr() {
            Ok(address) => format!("udp {address}"),
            Err(_) => "udp".to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn fd_pulses_time_each_write_and_drain_it() {
        let (reader, mut writer) = std::os::unix::net::UnixStream::pair().unwrap();
        let mut source = FdPulses::new(OwnedFd::from(reader)).unwrap();
        assert_eq!(source.next_pulse(Duration::from_millis(10)).unwrap(), None);
        let before = monotonic_ns();
        writer.write_all(b"xyz").unwrap();
        let pulse = source.next_pulse(Duration::from_secs(5)).unwrap().unwrap();
        assert!(pulse.as_nanos() >= before);
        assert_eq!(
            source.next_pulse(Duration::from_millis(10)).unwrap(),
            None,
            "drained"
        );
        drop(writer);
        assert_eq!(
            source.next_pulse(Duration::from_millis(10)).unwrap(),
            None,
            "EOF is silence"
        );
    }

    #[test]
    fn eventfd_pulses() {
        // SAFETY: plain eventfd(2) call; the result is checked.
        let raw = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC) };
        assert!(raw >= 0);
        // SAFETY: `raw` is a fresh descriptor nothing else owns.
        let fd = unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(raw) };
        let writer = fd.try_clone().unwrap();
        let mut source = FdPulses::new(fd).unwrap();
        let one = 1u64.to_ne_bytes();
        // SAFETY: writes 8 live bytes to a descriptor we own.
        assert_eq!(
            unsafe { libc::write(writer.as_raw_fd(), one.as_ptr().cast(), 8) },
            8
        );
        assert!(source.next_pulse(Duration::from_secs(5)).unwrap().is_some());
        assert_eq!(source.next_pulse(Duration::from_millis(5)).unwrap(), None);
    }

    #[test]
    fn udp_pulses() {
        let mut source = UdpPulses::bind("127.0.0.1:0").unwrap();
        let address = source.local_addr().unwrap();
        assert_eq!(source.next_pulse(Duration::ZERO).unwrap(), None);
        let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
        let before = monotonic_ns();
        sender.send_to(b"p", address).unwrap();
        let pulse = source.next_pulse(Duration::from_secs(5)).unwrap().unwrap();
        // Timed by the kernel on arrival: after the send began, not after a slow wake-up.
        assert!(pulse.as_nanos() + 1_000_000 >= before && pulse.as_nanos() <= monotonic_ns());
        assert!(source.describe().starts_with("udp 127.0.0.1:"));
    }
}
