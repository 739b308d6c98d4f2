//! A client of one runtime's inspection API: which runtime, and GET requests to it.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

use serde_json::Value;
use streamlib::inspect::discovery::{self, Discovered};

/// Time a runtime has to answer one request.
const TIMEOUT: Duration = Duration::from_secs(3);
/// Largest response read (10,000 actors' stats are about 4 MB).
const MAX_RESPONSE: u64 = 64 * 1024 * 1024;

/// A runtime to ask.
#[derive(Clone, Debug)]
pub struct Client {
    pub address: SocketAddr,
    pub pid: Option<u32>,
    token: Option<String>,
}

impl Client {
    pub fn new(address: SocketAddr, pid: Option<u32>, token: Option<String>) -> Client {
        Client {
            address,
            pid,
            token,
        }
    }

    /// `--addr` if given, else the only runtime found (or the one of `--pid`).
    pub fn choose(
        address: Option<&str>,
        pid: Option<u32>,
        token: Option<String>,
    ) -> Result<Client, String> {
        if let Some(address) = address {
            let resolved = address
                .to_socket_addrs()
                .map_err(|e| format!("{address}: {e}"))?
                .next()
                .ok_or_else(|| format!("{address} resolves to no address"))?;
            return Ok(Client::new(resolved, None, token));
        }
        let found: Vec<Discovered> = discovery::list()
            .into_iter()
            .filter(|r| pid.is_none_or(|pid| r.pid == pid))
            .collect();
        match found.as_slice() {
            [one] => Ok(Client::new(one.address, Some(one.pid), token)),
            [] => Err(format!(
                "no running runtime with inspection found in {} (build it with \
                 Runtime::builder().inspect(\"127.0.0.1:0\"), or pass --addr)",
                discovery::directory().display()
            )),
            many => Err(format!(
                "{} runtimes are running (pids {}); choose one with --pid or --addr",
                many.len(),
                many.iter()
                    .map(|r| r.pid.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }

    /// GET `path` and parse the JSON answer; an HTTP error becomes its message.
    pub fn get(&self, path: &str) -> Result<Value, String> {
        let fail = |e: std::io::Error| format!("{}: {e}", self.address);
        let mut stream = TcpStream::connect_timeout(&self.address, TIMEOUT).map_err(fail)?;
        stream.set_read_timeout(Some(TIMEOUT)).map_err(fail)?;
        stream.set_write_timeout(Some(TIMEOUT)).map_err(fail)?;
        let mut request = format!("GET {path} HTTP/1.1\r\nHost: {}\r\n", self.address);
        if let Some(token) = &self.token {
            request.push_str(&format!("Authorization: Bearer {token}\r\n"));
        }
        request.push_str("Connection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).map_err(fail)?;
        let mut response = Vec::new();
        stream
            .take(MAX_RESPONSE)
            .read_to_end(&mut response)
            .map_err(fail)?;
        let split = response
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .ok_or_else(|| format!("{}: not an HTTP response", self.address))?;
        let head = String::from_utf8_lossy(&response[..split]);
        let status: u16 = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("{}: not an HTTP response", self.address))?;
        let body: Value = serde_json::from_slice(&response[split + 4..])
            .map_err(|e| format!("{}{path}: bad JSON: {e}", self.address))?;
        if status != 200 {
            let message = body["error"].as_str().unwrap_or("error");
            return Err(format!("{}{path}: HTTP {status}: {message}", self.address));
        }
        Ok(body)
    }
}

/// Percent-encodes a query value.
pub fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
