//! UDP/IPv4 sockets for PTP (IEEE 1588 Annex C): event port 319, general port 320, multicast
//! 224.0.1.129 (224.0.0.107 for peer delay), with kernel receive timestamps.

use std::io;
use std::mem::size_of;
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

use crate::clock::sys::{self, Received};

/// The primary PTP multicast group.
pub(super) const PRIMARY_MULTICAST: Ipv4Addr = Ipv4Addr::new(224, 0, 1, 129);
/// The peer-delay multicast group (link-local messages).
pub(super) const PDELAY_MULTICAST: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 107);
/// Event messages (timestamped).
pub(super) const EVENT_PORT: u16 = 319;
/// General messages.
pub(super) const GENERAL_PORT: u16 = 320;
/// How long a send waits for its transmit timestamp before falling back to user-space time.
const TX_TIMESTAMP_WAIT: Duration = Duration::from_millis(5);

/// A network interface by name.
#[derive(Clone, Debug)]
pub(super) struct Interface {
    pub(super) name: String,
    pub(super) index: u32,
    pub(super) mac: Option<[u8; 6]>,
}

impl Interface {
    pub(super) fn resolve(name: &str) -> io::Result<Interface> {
        if name.is_empty() || name.len() >= libc::IFNAMSIZ || name.contains('\0') {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a valid interface name",
            ));
        }
        let c_name = std::ffi::CString::new(name)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "interface name has a NUL"))?;
        // SAFETY: `c_name` is a valid NUL-terminated string that outlives the call.
        let index = unsafe { libc::if_nametoindex(c_name.as_ptr()) };
        if index == 0 {
            return Err(io::Error::last_os_error());
        }
        let mac = std::fs::read_to_string(format!("/sys/class/net/{name}/address"))
            .ok()
            .and_then(|text| parse_mac(text.trim()));
        Ok(Interface {
            name: name.to_string(),
            index,
            mac,
        })
    }
}

fn parse_mac(text: &str) -> Option<[u8; 6]> {
    let mut mac = [0u8; 6];
    let mut parts = text.split(':');
    for byte in &mut mac {
        *byte = u8::from_str_radix(parts.next()?, 16).ok()?;
    }
    parts.next().is_none().then_some(mac)
}

/// One bound, multicast-joined, non-blocking PTP socket.
#[derive(Debug)]
pub(super) struct PtpSocket {
    socket: UdpSocket,
    port: u16,
}

impl PtpSocket {
    pub(super) fn open(port: u16, interface: &Interface) -> io::Result<PtpSocket> {
        // SAFETY: plain socket(2) call; the result is checked before use.
        let fd = unsafe {
            libc::socket(
                libc::AF_INET,
                libc::SOCK_DGRAM | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK,
                libc::IPPROTO_UDP,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` is a freshly created descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let raw = fd.as_raw_fd();
        sys::set_socket_option(raw, libc::SOL_SOCKET, libc::SO_REUSEADDR, &1i32)?;
        // Without SO_BINDTODEVICE (needs CAP_NET_RAW) the multicast membership still selects the
        // interface for most traffic; bind when allowed so that another interface's PTP traffic
        // on the same ports never reaches this slave.
        if let Err(err) = bind_to_device(raw, &interface.name) {
            tracing::debug!(interface = %interface.name, error = %err, "SO_BINDTODEVICE not permitted; relying on the multicast membership");
        }
        // Kernel software timestamps on receive and on transmit (the latter looped back on the
        // error queue without the payload), as `ptp4l -S` uses them.
        let flags = libc::SOF_TIMESTAMPING_RX_SOFTWARE
            | libc::SOF_TIMESTAMPING_TX_SOFTWARE
            | libc::SOF_TIMESTAMPING_SOFTWARE
            | libc::SOF_TIMESTAMPING_OPT_TSONLY;
        sys::set_socket_option(
            raw,
            libc::SOL_SOCKET,
            libc::SO_TIMESTAMPING,
            &(flags as i32),
        )?;
        let address = libc::sockaddr_in {
            sin_family: libc::AF_INET as libc::sa_family_t,
            sin_port: port.to_be(),
            sin_addr: libc::in_addr {
                s_addr: libc::INADDR_ANY,
            },
            sin_zero: [0; 8],
        };
        // SAFETY: `address` is a valid sockaddr_in and the length passed is its size.
        let rc = unsafe {
            libc::bind(
                raw,
                (&address as *const libc::sockaddr_in).cast(),
                size_of::<libc::sockaddr_in>() as libc::socklen_t,
            )
        };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        let membership = |group: Ipv4Addr| libc::ip_mreqn {
            imr_multiaddr: libc::in_addr {
                s_addr: u32::from(group).to_be(),
            },
            imr_address: libc::in_addr { s_addr: 0 },
            imr_ifindex: interface.index as i32,
        };
        sys::set_socket_option(
            raw,
            libc::IPPROTO_IP,
            libc::IP_ADD_MEMBERSHIP,
            &membership(PRIMARY_MULTICAST),
        )?;
        sys::set_socket_option(
            raw,
            libc::IPPROTO_IP,
            libc::IP_ADD_MEMBERSHIP,
            &membership(PDELAY_MULTICAST),
        )?;
        sys::set_socket_option(
            raw,
            libc::IPPROTO_IP,
            libc::IP_MULTICAST_IF,
            &membership(PRIMARY_MULTICAST),
        )?;
        let socket = UdpSocket::from(fd);
        socket.set_multicast_loop_v4(false)?;
        socket.set_multicast_ttl_v4(1)?;
        Ok(PtpSocket { socket, port })
    }

    /// Sends `data` to the PTP group; returns the kernel's transmit timestamp on
    /// `CLOCK_REALTIME` when the driver gives one within a few milliseconds.
    pub(super) fn send(&self, data: &[u8], link_local: bool) -> io::Result<Option<u64>> {
        let group = if link_local {
            PDELAY_MULTICAST
        } else {
            PRIMARY_MULTICAST
        };
        // A late timestamp of an earlier packet must not be taken for this one's.
        self.drain_error_queue();
        self.socket
            .send_to(data, SocketAddrV4::new(group, self.port))?;
        let deadline = std::time::Instant::now() + TX_TIMESTAMP_WAIT;
        loop {
            if let Some(timestamp) = self
                .receive_message(libc::MSG_ERRQUEUE)?
                .and_then(|r| r.realtime_ns)
            {
                return Ok(Some(timestamp));
            }
            let now = std::time::Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            let mut pollfd = libc::pollfd {
                fd: self.socket.as_raw_fd(),
                events: 0,
                revents: 0,
            };
            // Error-queue data is signalled as POLLERR; a failed wait only shortens the loop.
            let _ = sys::poll(std::slice::from_mut(&mut pollfd), Duration::from_millis(1));
        }
    }

    /// Discards whatever waits on the error queue (late transmit timestamps).
    pub(super) fn drain_error_queue(&self) {
        let mut left = 64;
        while left > 0 && matches!(self.receive_message(libc::MSG_ERRQUEUE), Ok(Some(_))) {
            left -= 1;
        }
    }

    /// The next datagram, or `None` when none is waiting.
    pub(super) fn recv(&self, buf: &mut [u8]) -> io::Result<Option<Received>> {
        self.receive_into(buf, 0)
    }

    fn receive_message(&self, flags: i32) -> io::Result<Option<Received>> {
        let mut buf = [0u8; 256];
        self.receive_into(&mut buf, flags)
    }

    /// One `recvmsg` (non-blocking) with its timestamp: the software one of SCM_TIMESTAMPING.
    fn receive_into(&self, buf: &mut [u8], flags: i32) -> io::Result<Option<Received>> {
        loop {
            let fd = self.socket.as_raw_fd();
            match sys::recv_timestamped(fd, buf, flags | libc::MSG_DONTWAIT, libc::SCM_TIMESTAMPING)
            {
                Ok(received) => return Ok(Some(received)),
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => return Ok(None),
                Err(err) => return Err(err),
            }
        }
    }

    pub(super) fn fd(&self) -> RawFd {
        self.socket.as_raw_fd()
    }
}

fn bind_to_device(fd: RawFd, name: &str) -> io::Result<()> {
    sys::set_socket_option_slice(fd, libc::SOL_SOCKET, libc::SO_BINDTODEVICE, name.as_bytes())
}

/// Waits up to `timeout` for either descriptor to become readable.
pub(super) fn poll_readable(fds: [RawFd; 2], timeout: Duration) -> io::Result<[bool; 2]> {
    let mut pollfds = fds.map(|fd| libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    });
    match sys::poll(&mut pollfds, timeout) {
        Ok(_) => {}
        Err(err) if err.kind() == io::ErrorKind::Interrupted => return Ok([false; 2]),
        Err(err) => return Err(err),
    }
    // POLLERR (a late transmit timestamp) counts as ready: the reader drains it.
    let ready = |p: &libc::pollfd| p.revents & (libc::POLLIN | libc::POLLERR) != 0;
    Ok([ready(&pollfds[0]), ready(&pollfds[1])])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_macs() {
        assert_eq!(
            parse_mac("02:ab:0c:00:ff:10"),
            Some([0x02, 0xab, 0x0c, 0x00, 0xff, 0x10])
        );
        assert_eq!(parse_mac("02:ab:0c:00:ff"), None);
        assert_eq!(parse_mac("02:ab:0c:00:ff:10:11"), None);
        assert_eq!(parse_mac("zz:ab:0c:00:ff:10"), None);
    }

    #[test]
    fn unknown_interfaces_are_errors() {
        assert!(Interface::resolve("no-such-if0").is_err());
        assert!(Interface::resolve("").is_err());
        assert!(Interface::resolve("a-name-far-too-long-for-linux").is_err());
        assert!(Interface::resolve("lo").is_ok());
    }
}
