//! Actors in other processes and on other hosts, over [Zenoh](https://zenoh.io) (cargo feature
//! `net`).
//!
//! A runtime built with [`RuntimeBuilder::network`] opens one Zenoh session (peer mode, no
//! multicast scouting, no gossip: it talks only to the endpoints it is given) and links to other
//! runtimes as [`remote`](crate::remote) describes, with the keys and envelope of
//! [`wire`](crate::wire).
//!
//! **Defaults that keep it safe**: without [`NetConfig::listen`] the runtime listens on loopback
//! only (`tcp/127.0.0.1:0`, a free port); other processes may not write into its inputs unless
//! [`NetConfig::accept_writes`] says so; with [`NetConfig::tls`] every link is TLS 1.3 with
//! **mutual** authentication against your CA (a peer without a certificate it signed is refused),
//! and plain `tcp/` endpoints are refused at `build()`.
//!
//! **Failures**: a lost peer is seen within about a second (lease 1 s, keep-alive every 250 ms;
//! a killed process at once, its sockets close): its actors leave the registry, inputs reading
//! them turn [stale](crate::Input::is_stale), and the configured `connect` endpoints are redialed
//! so links resume when it returns. A listen address in use or a malformed endpoint fails
//! `build()` with [`Error::Network`] naming it. Under congestion a publisher waits at most 1 ms
//! for queue space (Zenoh's `wait_before_drop`; without it, a frame of several 64 KiB fragments
//! is dropped whenever the queue is momentarily full), then drops the value: it never blocks.
//!
//! Two machines, one command each (the demo `demo_net` does this on one machine):
//!
//! ```no_run
//! use streamlib::{NetConfig, Runtime};
//! // camera host, 10.0.0.7:
//! let cam_rt = Runtime::builder()
//!     .host("cam-box")
//!     .network(NetConfig::new().listen("tcp/0.0.0.0:7447"))
//!     .build()?;
//! // viewer host:
//! let view_rt = Runtime::builder()
//!     .host("view-box")
//!     .network(NetConfig::new().connect("tcp/10.0.0.7:7447"))
//!     .build()?;
//! # Ok::<(), streamlib::Error>(())
//! ```
//!
//! With TLS and mutual authentication (PEM files: your CA, this node's certificate and key; the
//! certificate names the address others dial, as a DNS name or an IP address):
//!
//! ```no_run
//! use streamlib::{NetConfig, Runtime, TlsConfig};
//! let tls = TlsConfig::new("ca.pem", "node.pem", "node.key");
//! let rt = Runtime::builder()
//!     .host("cam-box")
//!     .network(NetConfig::new().listen("tls/10.0.0.7:7447").tls(tls))
//!     .build()?;
//! # Ok::<(), streamlib::Error>(())
//! ```

/// The Zenoh crate this engine runs on, for raw access at the same version (tools, tests).
pub use zenoh;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use zenoh::qos::{CongestionControl, Priority};
use zenoh::sample::SampleKind;
use zenoh::{Config, Session, Wait};
use zenoh_ext::{
    AdvancedPublisherBuilderExt, AdvancedSubscriberBuilderExt, CacheConfig, HistoryConfig,
};

use crate::error::{Error, Result};
use crate::remote::{Deliver, Guard, Publisher, TokenChanged, Transport};
use crate::runtime::RuntimeBuilder;

/// How a runtime joins the network: where it listens, whom it dials, what it accepts.
#[derive(Clone, Debug, Default)]
pub struct NetConfig {
    listen: Vec<String>,
    connect: Vec<String>,
    accept_writes: bool,
    tls: Option<TlsConfig>,
}

impl NetConfig {
    /// Loopback only, nothing dialed, no writes accepted, no TLS.
    pub fn new() -> NetConfig {
        NetConfig::default()
    }

    /// Listen on a Zenoh endpoint, e.g. `tcp/127.0.0.1:7447` or `tls/10.0.0.7:7447` (repeatable).
    pub fn listen(mut self, endpoint: &str) -> NetConfig {
        self.listen.push(endpoint.to_owned());
        self
    }

    /// Dial a Zenoh endpoint, e.g. `tcp/10.0.0.7:7447` (repeatable); redialed while unreachable.
    pub fn connect(mut self, endpoint: &str) -> NetConfig {
        self.connect.push(endpoint.to_owned());
        self
    }

    /// Whether other processes may write into this runtime's inputs (default: no). When yes, a
    /// value written from afar into an input without a local upstream becomes its upstream.
    pub fn accept_writes(mut self, accept: bool) -> NetConfig {
        self.accept_writes = accept;
        self
    }

    /// Every link over TLS with mutual authentication.
    pub fn tls(mut self, tls: TlsConfig) -> NetConfig {
        self.tls = Some(tls);
        self
    }
}

/// TLS with mutual authentication: PEM files of the CA both sides trust, and of this node's
/// certificate (used to listen and to dial) and private key.
#[derive(Clone, Debug)]
pub struct TlsConfig {
    ca: PathBuf,
    certificate: PathBuf,
    private_key: PathBuf,
}

impl TlsConfig {
    /// `ca`: the CA certificate; `certificate` / `private_key`: this node's, signed by `ca`.
    pub fn new(
        ca: impl AsRef<Path>,
        certificate: impl AsRef<Path>,
        private_key: impl AsRef<Path>,
    ) -> TlsConfig {
        TlsConfig {
            ca: ca.as_ref().to_owned(),
            certificate: certificate.as_ref().to_owned(),
            private_key: private_key.as_ref().to_owned(),
        }
    }
}

impl RuntimeBuilder {
    /// Links this runtime to others over Zenoh (feature `net`); `build()` opens the session and
    /// fails with [`Error::Network`] naming an endpoint that cannot be used.
    pub fn network(self, config: NetConfig) -> RuntimeBuilder {
        let accept_writes = config.accept_writes;
        self.engine(
            accept_writes,
            Box::new(move |_host| {
                let transport: Arc<dyn Transport> = Arc::new(Zenoh::open(&config)?);
                Ok(transport)
            }),
        )
    }
}

/// The Zenoh engine: one session per runtime.
struct Zenoh {
    session: Session,
}

fn network_error(endpoint: &str, reason: impl ToString) -> Error {
    Error::Network {
        endpoint: endpoint.to_owned(),
        reason: reason.to_string(),
    }
}

/// Checks an endpoint's form before Zenoh sees it: `tcp/` or `tls/`, then `host:port`.
fn check_endpoint(endpoint: &str, tls: bool) -> Result<()> {
    let (protocol, address) = endpoint
        .split_once('/')
        .ok_or_else(|| network_error(endpoint, "expected <protocol>/<host>:<port>"))?;
    match (protocol, tls) {
        ("tls", true) | ("tcp", false) => {}
        ("tcp", true) => {
            return Err(network_error(
                endpoint,
                "a TLS runtime takes only tls/ endpoints (tcp/ would skip authentication)",
            ))
        }
        ("tls", false) => {
            return Err(network_error(
                endpoint,
                "a tls/ endpoint needs NetConfig::tls(..)",
            ))
        }
        _ => {
            return Err(network_error(
                endpoint,
                "unsupported protocol (tcp/ and tls/ are built in)",
            ))
        }
    }
    let address = address.split(['?', '#']).next().unwrap_or(address);
    match address.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => Ok(()),
        _ => Err(network_error(
            endpoint,
            "expected <host>:<port> after the protocol",
        )),
    }
}

fn json_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| format!("{s:?}")).collect();
    format!("[{}]", quoted.join(","))
}

impl Zenoh {
    fn open(config: &NetConfig) -> Result<Zenoh> {
        let tls = config.tls.is_some();
        let listen = if config.listen.is_empty() {
            let protocol = if tls { "tls" } else { "tcp" };
            vec![format!("{protocol}/127.0.0.1:0")]
        } else {
            config.listen.clone()
        };
        for endpoint in listen.iter().chain(&config.connect) {
            check_endpoint(endpoint, tls)?;
        }
        let mut zenoh = Config::default();
        let mut set = |key: &str, value: String| {
            zenoh
                .insert_json5(key, &value)
                .map_err(|e| network_error(key, e))
        };
        set("mode", "\"peer\"".into())?;
        set("listen/endpoints", json_list(&listen))?;
        set("connect/endpoints", json_list(&config.connect))?;
        set("scouting/multicast/enabled", "false".into())?;
        set("scouting/gossip/enabled", "false".into())?;
        set("transport/link/tx/lease", "1000".into())?;
        set("transport/link/tx/keep_alive", "4".into())?;
        set("timestamping/enabled", "true".into())?;
        set(
            "connect/retry",
            "{period_init_ms: 100, period_max_ms: 1000, period_increase_factor: 2}".into(),
        )?;
        set("open/return_conditions", "{connect_scouted: false}".into())?;
        if let Some(tls) = &config.tls {
            let path = |p: &Path| format!("{:?}", p.display().to_string());
            set("transport/link/tls/root_ca_certificate", path(&tls.ca))?;
            set(
                "transport/link/tls/listen_certificate",
                path(&tls.certificate),
            )?;
            set(
                "transport/link/tls/listen_private_key",
                path(&tls.private_key),
            )?;
            set(
                "transport/link/tls/connect_certificate",
                path(&tls.certificate),
            )?;
            set(
                "transport/link/tls/connect_private_key",
                path(&tls.private_key),
            )?;
            set("transport/link/tls/enable_mtls", "true".into())?;
            set("transport/link/tls/verify_name_on_connect", "true".into())?;
        }
        let session = zenoh::open(zenoh)
            .wait()
            .map_err(|e| network_error(&listen.join(","), e))?;
        tracing::info!(listen = ?listen, connect = ?config.connect, tls, "zenoh session open");
        Ok(Zenoh { session })
    }
}

struct ZenohPublisher(Box<dyn Fn(Vec<u8>) -> zenoh::Result<()> + Send + Sync>);

impl Publisher for ZenohPublisher {
    fn put(&self, message: Vec<u8>) {
        if let Err(error) = (self.0)(message) {
            tracing::debug!(%error, "zenoh put failed");
        }
    }
}

impl Transport for Zenoh {
    fn name(&self) -> &'static str {
        "zenoh"
    }

    fn declare_token(&self, key: &str) -> Result<Guard> {
        let token = self
            .session
            .liveliness()
            .declare_token(key.to_owned())
            .wait()
            .map_err(|e| network_error(key, e))?;
        Ok(Box::new(token))
    }

    fn watch_tokens(&self, prefix: &str, changed: TokenChanged) -> Result<Guard> {
        let key = format!("{prefix}**");
        let subscriber = self
            .session
            .liveliness()
            .declare_subscriber(key.clone())
            .history(true)
            .callback(move |sample| {
                changed(sample.key_expr().as_str(), sample.kind() == SampleKind::Put)
            })
            .wait()
            .map_err(|e| network_error(&key, e))?;
        Ok(Box::new(subscriber))
    }

    fn publisher(&self, key: &str, cache: bool) -> Result<Arc<dyn Publisher>> {
        let builder = self
            .session
            .declare_publisher(key.to_owned())
            .congestion_control(CongestionControl::Drop)
            .priority(Priority::DataHigh)
            .express(true);
        let put: Box<dyn Fn(Vec<u8>) -> zenoh::Result<()> + Send + Sync> = if cache {
            let publisher = builder
                .cache(CacheConfig::default().max_samples(1))
                .publisher_detection()
                .wait()
                .map_err(|e| network_error(key, e))?;
            Box::new(move |message| publisher.put(message).wait())
        } else {
            let publisher = builder.wait().map_err(|e| network_error(key, e))?;
            Box::new(move |message| publisher.put(message).wait())
        };
        Ok(Arc::new(ZenohPublisher(put)))
    }

    fn subscribe(&self, key: &str, deliver: Deliver) -> Result<Guard> {
        let subscriber = self
            .session
            .declare_subscriber(key.to_owned())
            .callback(move |sample| deliver(&sample.payload().to_bytes(), None))
            .history(
                HistoryConfig::default()
                    .detect_late_publishers()
                    .max_samples(1),
            )
            .wait()
            .map_err(|e| network_error(key, e))?;
        Ok(Box::new(subscriber))
    }

    fn serve(&self, key: &str, answer: Box<dyn Fn() -> Vec<u8> + Send + Sync>) -> Result<Guard> {
        let queryable = self
            .session
            .declare_queryable(key.to_owned())
            .callback(move |query| {
                if let Err(error) = query.reply(query.key_expr().clone(), answer()).wait() {
                    tracing::debug!(%error, "zenoh reply failed");
                }
            })
            .wait()
            .map_err(|e| network_error(key, e))?;
        Ok(Box::new(queryable))
    }

    fn query(&self, key: &str, timeout: Duration) -> Result<Vec<u8>> {
        let replies = self
            .session
            .get(key.to_owned())
            .timeout(timeout)
            .wait()
            .map_err(|e| network_error(key, e))?;
        while let Ok(reply) = replies.recv() {
            if let Ok(sample) = reply.result() {
                return Ok(sample.payload().to_bytes().into_owned());
            }
        }
        Err(Error::Timeout {
            waiting_for: format!("an answer on {key}"),
            timeout,
        })
    }

    fn close(&self) {
        // Bounded: Zenoh's own close gives up after 10 s; we wait at most 1 s for it.
        let session = self.session.clone();
        let (done, closed) = crossbeam_channel::bounded(1);
        let closer = std::thread::Builder::new()
            .name("streamlib-zenoh-close".into())
            .spawn(move || {
                let result = session.close().wait();
                let _ = done.send(result);
            });
        match closer {
            Ok(_) => match closed.recv_timeout(Duration::from_secs(1)) {
                Ok(Ok(())) => tracing::debug!("zenoh session closed"),
                Ok(Err(error)) => tracing::warn!(%error, "zenoh session close failed"),
                Err(_) => tracing::warn!("zenoh session still closing after 1 s; left to finish"),
            },
            Err(error) => tracing::warn!(%error, "cannot spawn the zenoh close thread"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_checked_before_zenoh_sees_them() {
        assert!(check_endpoint("tcp/127.0.0.1:7447", false).is_ok());
        assert!(check_endpoint("tls/[::1]:7447", true).is_ok());
        for (bad, tls) in [
            ("127.0.0.1:7447", false),
            ("udp/127.0.0.1:7447", false),
            ("tcp/127.0.0.1", false),
            ("tcp/127.0.0.1:99999", false),
            ("tcp/127.0.0.1:7447", true),
            ("tls/127.0.0.1:7447", false),
        ] {
            let error = check_endpoint(bad, tls).unwrap_err();
            assert!(
                matches!(&error, Error::Network { endpoint, .. } if endpoint == bad),
                "{error}"
            );
        }
    }
}
