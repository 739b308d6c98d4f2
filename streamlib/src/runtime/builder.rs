//! Building a runtime with options: worker count, host name, a network.

use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Weak};

use super::{Runtime, RuntimeInner};
use crate::error::{Error, Result};
use crate::remote::{Network, Transport};
use crate::uri::ActorUri;

/// Starts a transport engine for the runtime's host name.
pub(crate) type EngineStart = Box<dyn FnOnce(&str) -> Result<Arc<dyn Transport>> + Send>;

/// A server that reads the runtime from threads of its own (what `inspect(..)` starts); the
/// runtime stops it at shutdown.
pub(crate) trait Service: Send + Sync {
    /// The address it listens on, if any.
    fn address(&self) -> Option<SocketAddr>;
    /// Stops it and joins its threads; bounded in time.
    fn stop(&self);
}

/// Starts a service for the runtime being built; it holds the runtime only weakly.
pub(crate) type ServiceStart =
    Box<dyn FnOnce(Weak<RuntimeInner>) -> Result<Box<dyn Service>> + Send>;

/// Options for a [`Runtime`]; [`Runtime::builder`] makes one, [`build`](Self::build) the runtime.
///
/// ```
/// use streamlib::Runtime;
/// let rt = Runtime::builder().workers(2).host("studio-a").build()?;
/// assert!(Runtime::builder().workers(0).build().is_err());
/// assert!(Runtime::builder().host("no spaces").build().is_err());
/// # drop(rt);
/// # Ok::<(), streamlib::Error>(())
/// ```
#[must_use = "a builder does nothing until `build()`"]
#[derive(Default)]
pub struct RuntimeBuilder {
    workers: Option<usize>,
    host: Option<String>,
    engine: Option<(EngineStart, bool)>,
    local_engine: Option<(EngineStart, bool)>,
    services: Vec<ServiceStart>,
}

impl RuntimeBuilder {
    /// Worker threads of the pool (default: one per core); at least 1.
    pub fn workers(mut self, workers: usize) -> RuntimeBuilder {
        self.workers = Some(workers);
        self
    }

    /// The host part of this runtime's URIs once it is on a network: others reach its actors as
    /// `actor://<host>/<Class>/<id>`. Default: the machine's host name. Must be unique among the
    /// runtimes that see each other, and a valid URI host that is not `local`, `localhost`,
    /// `127.0.0.1` or `::1` (those always name a runtime's own actors).
    pub fn host(mut self, name: &str) -> RuntimeBuilder {
        self.host = Some(name.to_owned());
        self
    }

    /// Links this runtime to others through `start`ed engine (what `network(..)` and `ipc()`
    /// call); `accept_writes`: whether other processes may write into local inputs.
    #[cfg_attr(not(feature = "net"), allow(dead_code))]
    pub(crate) fn engine(mut self, accept_writes: bool, start: EngineStart) -> RuntimeBuilder {
        self.engine = Some((start, accept_writes));
        self
    }

    /// Links this runtime to the other processes of this host through `start`ed engine (what
    /// `ipc()` calls); with a network engine too, each link takes one of them (see `ipc`).
    #[cfg_attr(not(feature = "ipc"), allow(dead_code))]
    pub(crate) fn local_engine(
        mut self,
        accept_writes: bool,
        start: EngineStart,
    ) -> RuntimeBuilder {
        self.local_engine = Some((start, accept_writes));
        self
    }

    /// Starts `start`ed service at `build()`, once the runtime exists (what `inspect(..)` calls).
    #[cfg_attr(not(feature = "inspect"), allow(dead_code))]
    pub(crate) fn service(mut self, start: ServiceStart) -> RuntimeBuilder {
        self.services.push(start);
        self
    }

    /// The runtime; a typed error names an option that cannot work, or the endpoint a network
    /// could not use.
    pub fn build(self) -> Result<Runtime> {
        let workers = match self.workers {
            Some(0) => {
                return Err(Error::InvalidOption {
                    option: "workers",
                    value: "0".into(),
                    reason: "a runtime needs at least one worker thread",
                })
            }
            Some(n) => n,
            None => super::pool::cores(),
        };
        let host = match self.host {
            Some(host) => host,
            None => machine_host_name(),
        };
        check_host(&host)?;
        let runtime = Runtime::with_workers(workers);
        let engines = match (self.engine, self.local_engine) {
            (Some((start, accept)), None) | (None, Some((start, accept))) => {
                Some((start(&host)?, accept))
            }
            (Some(wide), Some(local)) => Some(combine(wide, local, &host)?),
            (None, None) => None,
        };
        if let Some((transport, accept_writes)) = engines {
            let network = Network::new(transport, host, accept_writes)?;
            let _ = runtime.inner.registry.network.set(network);
        }
        for start in self.services {
            let service = start(Arc::downgrade(&runtime.inner))?;
            runtime.inner.servers.lock().push(service);
        }
        Ok(runtime)
    }
}

impl fmt::Debug for RuntimeBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RuntimeBuilder")
            .field("workers", &self.workers)
            .field("host", &self.host)
            .field("network", &self.engine.is_some())
            .field("services", &self.services.len())
            .finish()
    }
}

/// A network engine and a local one: each link over one of them.
#[cfg(all(feature = "net", feature = "ipc"))]
fn combine(
    (wide, wide_accepts): (EngineStart, bool),
    (local, local_accepts): (EngineStart, bool),
    host: &str,
) -> Result<(Arc<dyn Transport>, bool)> {
    let local = local(host)?;
    let wide = wide(host)?;
    let both = crate::remote::both::Both::new(local, local_accepts, wide, wide_accepts);
    Ok((both, wide_accepts || local_accepts))
}

#[cfg(not(all(feature = "net", feature = "ipc")))]
fn combine(
    _: (EngineStart, bool),
    _: (EngineStart, bool),
    _: &str,
) -> Result<(Arc<dyn Transport>, bool)> {
    unreachable!("two engines exist only with features net and ipc")
}

fn check_host(host: &str) -> Result<()> {
    let invalid = |reason| Error::InvalidOption {
        option: "host",
        value: host.chars().take(64).collect(),
        reason,
    };
    let uri = ActorUri::parse(&format!("actor://{host}/A/a"))
        .map_err(|_| invalid("not a valid URI host (letters, digits, '-', '.')"))?;
    if uri.host() != host {
        return Err(invalid("not a valid URI host (letters, digits, '-', '.')"));
    }
    if uri.is_local() {
        return Err(invalid(
            "names every runtime's own actors; choose a name others can tell apart",
        ));
    }
    if host.contains(['*', '$', '?', '#', '/', ':']) {
        return Err(invalid("contains a character Zenoh keys cannot hold"));
    }
    Ok(())
}

/// The machine's host name (`gethostname`), or `streamlib` if it has none usable.
fn machine_host_name() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: `buf` is writable for its whole length, which is what we pass; gethostname writes
    // at most that many bytes and we read only up to the first NUL within the buffer.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    let name = if rc == 0 {
        let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
        String::from_utf8_lossy(&buf[..end]).into_owned()
    } else {
        String::new()
    };
    if check_host(&name).is_ok() {
        name
    } else {
        "streamlib".to_owned()
    }
}
