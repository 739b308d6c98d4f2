//! A minimal HTTP/1.1 server for read-only GET requests, on std alone.
//!
//! Why not a crate: the small ones (tiny_http 0.12) start a thread per waiting connection, read
//! header lines without a length limit and set no socket timeouts, so one slow or hostile client
//! could grow threads or memory without bound. Here everything is bounded: one thread accepts,
//! [`WORKERS`] threads answer, at most [`QUEUE`] connections wait (more are closed at once), a
//! request head is at most [`MAX_HEAD`] bytes and must arrive within [`READ_DEADLINE`], every
//! socket read and write times out, and each connection carries one request (`Connection:
//! close`). A request body is never read. None of this runs on a thread of the runtime.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, Receiver, TrySendError};
use parking_lot::Mutex;

/// Threads answering requests.
pub(crate) const WORKERS: usize = 2;
/// Accepted connections waiting for a worker; more are refused.
pub(crate) const QUEUE: usize = 16;
/// Largest request line + headers.
pub(crate) const MAX_HEAD: usize = 8 * 1024;
/// Time a client has to send its whole request head.
pub(crate) const READ_DEADLINE: Duration = Duration::from_secs(2);
/// Most bytes read after an error response, before closing.
const DRAIN: u64 = 256 * 1024;
/// Longest time spent draining.
const DRAIN_TIME: Duration = Duration::from_millis(300);
/// Time a client has to take the response.
const WRITE_TIMEOUT: Duration = Duration::from_secs(2);

/// A parsed request: the path and the query string (both still percent-encoded) and the
/// `Authorization` header.
#[derive(Debug)]
pub(crate) struct Request {
    pub(crate) path: String,
    pub(crate) query: String,
    pub(crate) authorization: Option<String>,
}

impl Request {
    /// The value of query parameter `name`, percent-decoded.
    pub(crate) fn param(&self, name: &str) -> Option<String> {
        self.query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(key, _)| *key == name)
            .map(|(_, value)| percent_decode(value))
    }
}

/// A response: status, content type, body.
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) content_type: &'static str,
    pub(crate) body: Vec<u8>,
}

impl Response {
    pub(crate) fn json(value: &serde_json::Value) -> Response {
        Response {
            status: 200,
            content_type: "application/json",
            body: value.to_string().into_bytes(),
        }
    }

    pub(crate) fn json_text(text: String) -> Response {
        Response {
            status: 200,
            content_type: "application/json",
            body: text.into_bytes(),
        }
    }

    pub(crate) fn error(status: u16, message: &str) -> Response {
        Response {
            status,
            content_type: "application/json",
            body: serde_json::json!({ "error": message })
                .to_string()
                .into_bytes(),
        }
    }
}

/// Answers one request.
pub(crate) type Handler = dyn Fn(&Request) -> Response + Send + Sync;

/// The running server: its threads and how to stop them.
pub(crate) struct HttpServer {
    address: SocketAddr,
    stopping: Arc<AtomicBool>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl HttpServer {
    /// Serves `handler` on `listener` until [`stop`](Self::stop).
    pub(crate) fn start(
        listener: TcpListener,
        handler: Arc<Handler>,
    ) -> std::io::Result<HttpServer> {
        let address = listener.local_addr()?;
        let stopping = Arc::new(AtomicBool::new(false));
        let (queue, waiting) = bounded::<TcpStream>(QUEUE);
        let mut threads = Vec::with_capacity(WORKERS + 1);
        for n in 0..WORKERS {
            let (waiting, handler) = (waiting.clone(), handler.clone());
            threads.push(
                std::thread::Builder::new()
                    .name(format!("streamlib-inspect-{n}"))
                    .spawn(move || serve(&waiting, &*handler))?,
            );
        }
        let flag = stopping.clone();
        threads.push(
            std::thread::Builder::new()
                .name("streamlib-inspect-accept".into())
                .spawn(move || {
                    for stream in listener.incoming() {
                        if flag.load(Ordering::Acquire) {
                            break;
                        }
                        let Ok(stream) = stream else { continue };
                        if let Err(TrySendError::Full(stream)) = queue.try_send(stream) {
                            let _ = refuse(stream);
                        }
                    }
                    // Dropping `queue` ends the workers once they finish what they hold.
                })?,
        );
        Ok(HttpServer {
            address,
            stopping,
            threads: Mutex::new(threads),
        })
    }

    pub(crate) fn address(&self) -> SocketAddr {
        self.address
    }

    /// Stops accepting, lets the workers finish (each request is bounded by the socket
    /// timeouts) and joins every thread.
    pub(crate) fn stop(&self) {
        if self.stopping.swap(true, Ordering::AcqRel) {
            return;
        }
        // Wake the acceptor with a connection of our own.
        let mut wake = self.address;
        if wake.ip().is_unspecified() {
            wake.set_ip(match wake {
                SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
                SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
            });
        }
        let _ = TcpStream::connect_timeout(&wake, Duration::from_secs(1));
        for thread in self.threads.lock().drain(..) {
            let _ = thread.join();
        }
    }
}

fn serve(waiting: &Receiver<TcpStream>, handler: &Handler) {
    while let Ok(stream) = waiting.recv() {
        let _ = answer(stream, handler);
    }
}

fn refuse(mut stream: TcpStream) -> std::io::Result<()> {
    stream.set_write_timeout(Some(Duration::from_millis(100)))?;
    write_response(
        &mut stream,
        &Response::error(503, "busy: too many connections"),
    )
}

fn answer(mut stream: TcpStream, handler: &Handler) -> std::io::Result<()> {
    stream.set_write_timeout(Some(WRITE_TIMEOUT))?;
    let response = match read_head(&mut stream) {
        Ok(head) => match parse_head(&head) {
            Ok(request) => handler(&request),
            Err(response) => response,
        },
        Err(HeadError::TooLarge) => Response::error(431, "request head too large"),
        Err(HeadError::Timeout) => Response::error(408, "request head not received in time"),
        Err(HeadError::Closed) => return Ok(()),
    };
    write_response(&mut stream, &response)?;
    let _ = stream.shutdown(Shutdown::Write);
    if response.status != 200 {
        // Closing with unread bytes makes the kernel reset the connection, which can destroy
        // the error response before the client reads it: drain a bounded amount first.
        drain(&mut stream);
    }
    Ok(())
}

/// Reads and drops at most [`DRAIN`] bytes for at most [`DRAIN_TIME`].
fn drain(stream: &mut TcpStream) {
    let deadline = Instant::now() + DRAIN_TIME;
    let mut left = DRAIN;
    let mut chunk = [0u8; 4096];
    while left > 0 {
        let wait = deadline.saturating_duration_since(Instant::now());
        if wait.is_zero() || stream.set_read_timeout(Some(wait)).is_err() {
            return;
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => left = left.saturating_sub(n as u64),
        }
    }
}

enum HeadError {
    TooLarge,
    Timeout,
    Closed,
}

/// Reads up to the blank line ending the head, within [`MAX_HEAD`] bytes and [`READ_DEADLINE`].
fn read_head(stream: &mut TcpStream) -> Result<Vec<u8>, HeadError> {
    let deadline = Instant::now() + READ_DEADLINE;
    let mut head = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(HeadError::Timeout);
        }
        stream
            .set_read_timeout(Some(left))
            .map_err(|_| HeadError::Closed)?;
        match stream.read(&mut chunk) {
            Ok(0) => return Err(HeadError::Closed),
            Ok(n) => head.extend_from_slice(&chunk[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Err(HeadError::Timeout)
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(_) => return Err(HeadError::Closed),
        }
        if let Some(end) = find(&head, b"\r\n\r\n") {
            head.truncate(end);
            return Ok(head);
        }
        if head.len() > MAX_HEAD {
            return Err(HeadError::TooLarge);
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn parse_head(head: &[u8]) -> Result<Request, Response> {
    let bad = || Response::error(400, "malformed request");
    let head = std::str::from_utf8(head).map_err(|_| bad())?;
    let mut lines = head.split("\r\n");
    let mut parts = lines.next().ok_or_else(bad)?.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad());
    };
    if !version.starts_with("HTTP/1.") {
        return Err(Response::error(505, "HTTP/1.x only"));
    }
    if method != "GET" {
        return Err(Response::error(405, "read-only: GET only"));
    }
    if !target.starts_with('/') {
        return Err(bad());
    }
    let mut authorization = None;
    for line in lines {
        let (name, value) = line.split_once(':').ok_or_else(bad)?;
        if name.eq_ignore_ascii_case("authorization") {
            authorization = Some(value.trim().to_owned());
        }
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    Ok(Request {
        path: path.to_owned(),
        query: query.to_owned(),
        authorization,
    })
}

fn write_response(stream: &mut TcpStream, response: &Response) -> std::io::Result<()> {
    let reason = match response.status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "Error",
    };
    let mut out = format!(
        "HTTP/1.1 {} {reason}\r\nContent-Type: {}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n",
        response.status,
        response.content_type,
        response.body.len()
    );
    if response.status == 401 {
        out.push_str("WWW-Authenticate: Bearer\r\n");
    }
    if response.status == 405 {
        out.push_str("Allow: GET\r\n");
    }
    out.push_str("\r\n");
    stream.write_all(out.as_bytes())?;
    stream.write_all(&response.body)?;
    stream.flush()
}

/// `%XX` and `+` decoded; invalid escapes kept as they are.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(high), Some(low)) => {
                    out.push(high << 4 | low);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(digit: u8) -> Option<u8> {
    char::from(digit).to_digit(16).map(|d| d as u8)
}

/// Compares a presented secret with the expected one in time independent of where they differ.
pub(crate) fn constant_time_eq(presented: &[u8], expected: &[u8]) -> bool {
    let mut difference = presented.len() ^ expected.len();
    for (i, byte) in expected.iter().enumerate() {
        let other = presented.get(i).copied().unwrap_or(!byte);
        difference |= usize::from(byte ^ other);
    }
    difference == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_decode() {
        let request = parse_head(
            b"GET /api/tap?port=actor%3A%2F%2Flocal%2FA%2Fa.value&x=1 HTTP/1.1\r\nHost: x",
        )
        .unwrap_or_else(|_| panic!("parses"));
        assert_eq!(request.path, "/api/tap");
        assert_eq!(
            request.param("port").as_deref(),
            Some("actor://local/A/a.value")
        );
        assert_eq!(request.param("y"), None);
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
    }

    #[test]
    fn only_get_is_served() {
        assert!(matches!(parse_head(b"POST / HTTP/1.1"), Err(r) if r.status == 405));
        assert!(matches!(parse_head(b"GET / HTTP/2"), Err(r) if r.status == 505));
        assert!(matches!(parse_head(b"GET"), Err(r) if r.status == 400));
        assert!(matches!(parse_head(b"GET / HTTP/1.1\r\nno-colon"), Err(r) if r.status == 400));
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secreT", b"secret"));
        assert!(!constant_time_eq(b"secret-and-more", b"secret"));
        assert!(!constant_time_eq(b"", b"secret"));
    }
}
