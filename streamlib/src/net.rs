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
//! A value of 256 KiB or more (a video frame: Zenoh pushes it through its queue in 64 KiB
//! fragments, which takes as long as the link needs) is sent from a thread of its publisher
//! instead, so the writing actor does not wait; if it writes again before the previous value
//! has gone, the newer value replaces the one waiting (the latest value wins, as everywhere).
//!
//! **Copies**: a value's bytes that it already holds ([`Codec::tail`](crate::Codec::tail): a
//! frame's pixels, a `Vec<u8>`) are handed to Zenoh as they are; Zenoh copies them once into
//! its transmit batches. A received frame borrows Zenoh's receive buffer; a message that arrived
//! in fragments is joined once, straight into the bytes the value keeps (a frame's pixels, a
//! `Vec<u8>`: [`Codec::decode_owned`](crate::Codec::decode_owned)).
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
/// zenoh-ext at the same version: the advanced publisher (a cache of one) and subscriber
/// (history, late publishers) that streamlib's links use, for raw peers that join them.
pub use zenoh_ext;

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use parking_lot::{Condvar, Mutex};

use zenoh::bytes::ZBytes;
use zenoh::qos::{CongestionControl, Priority};
use zenoh::sample::SampleKind;
use zenoh::{Config, Session, Wait};
use zenoh_ext::{
    AdvancedPublisherBuilderExt, AdvancedSubscriberBuilderExt, CacheConfig, HistoryConfig,
};

use crate::error::{Error, Result};
use crate::remote::{Deliver, Guard, Message, Publisher, SharedBytes, TokenChanged, Transport};
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

impl NetConfig {
    /// Where the session listens: the endpoints given, or a free port on loopback.
    fn listen_endpoints(&self) -> Vec<String> {
        if self.listen.is_empty() {
            let protocol = if self.tls.is_some() { "tls" } else { "tcp" };
            vec![format!("{protocol}/127.0.0.1:0")]
        } else {
            self.listen.clone()
        }
    }

    /// The Zenoh configuration a runtime's session opens with: these endpoints (loopback when
    /// none is set), peer mode without multicast scouting or gossip, lease 1 s, timestamps on,
    /// and TLS if set. For tools that join the same network with Zenoh itself (a raw
    /// subscriber, a benchmark's peer) at exactly the runtime's settings.
    ///
    /// # Errors
    /// [`Error::Network`] naming an endpoint that is malformed or of the wrong protocol.
    pub fn zenoh_config(&self) -> Result<Config> {
        let tls = self.tls.is_some();
        let listen = self.listen_endpoints();
        for endpoint in listen.iter().chain(&self.connect) {
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
        set("connect/endpoints", json_list(&self.connect))?;
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
        if let Some(tls) = &self.tls {
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
        Ok(zenoh)
    }
}

impl Zenoh {
    fn open(config: &NetConfig) -> Result<Zenoh> {
        let zenoh = config.zenoh_config()?;
        let (listen, tls) = (config.listen_endpoints(), config.tls.is_some());
        let session = zenoh::open(zenoh)
            .wait()
            .map_err(|e| network_error(&listen.join(","), e))?;
        tracing::info!(listen = ?listen, connect = ?config.connect, tls, "zenoh session open");
        Ok(Zenoh { session })
    }
}

/// Puts messages on one Zenoh publisher: small ones at once, on the writer's thread; big ones
/// ([`SEND_APART_FROM`] bytes or more, which Zenoh cuts into fragments and pushes through its
/// transmit queue one at a time) from a thread of the publisher's own, so that the writing
/// actor never waits while a frame crosses. That thread sends the newest big message: one
/// written while the previous is still on its way replaces the one waiting (latest value).
struct ZenohPublisher {
    put: Arc<PutFn>,
    key: String,
    /// The sending thread's mailbox, made at the first big message.
    apart: OnceLock<Arc<Mailbox>>,
}

type PutFn = dyn Fn(ZBytes) -> zenoh::Result<()> + Send + Sync;

/// Messages this big or bigger are sent from the publisher's thread. Below it a put returns
/// within Zenoh's `wait_before_drop` (1 ms) even when the queue is full.
const SEND_APART_FROM: usize = 256 * 1024;

/// One message waiting for the sending thread, and whether the publisher is gone.
#[derive(Default)]
struct Mailbox {
    state: Mutex<(Option<ZBytes>, bool)>,
    ready: Condvar,
}

impl ZenohPublisher {
    fn new(key: &str, put: Box<PutFn>) -> ZenohPublisher {
        ZenohPublisher {
            put: put.into(),
            key: key.to_owned(),
            apart: OnceLock::new(),
        }
    }

    fn put_now(put: &PutFn, key: &str, payload: ZBytes) {
        if let Err(error) = put(payload) {
            tracing::debug!(%error, key, "zenoh put failed");
        }
    }

    /// Hands a big message to the sending thread (started the first time).
    fn put_apart(&self, payload: ZBytes) {
        let mailbox = self.apart.get_or_init(|| {
            let mailbox = Arc::new(Mailbox::default());
            let (put, key, inbox) = (self.put.clone(), self.key.clone(), mailbox.clone());
            let started = std::thread::Builder::new()
                .name("streamlib-zenoh-send".into())
                .spawn(move || loop {
                    let payload = {
                        let mut state = inbox.state.lock();
                        loop {
                            match state.0.take() {
                                Some(payload) => break payload,
                                None if state.1 => return,
                                None => inbox.ready.wait(&mut state),
                            }
                        }
                    };
                    ZenohPublisher::put_now(&*put, &key, payload);
                });
            if let Err(error) = started {
                tracing::error!(%error, key = self.key, "cannot start a zenoh sending thread");
                mailbox.state.lock().1 = true;
            }
            mailbox
        });
        let mut state = mailbox.state.lock();
        if state.1 {
            drop(state);
            return ZenohPublisher::put_now(&*self.put, &self.key, payload);
        }
        if state.0.replace(payload).is_some() {
            tracing::trace!(
                key = self.key,
                "a newer value replaced one waiting to be sent"
            );
        }
        mailbox.ready.notify_one();
    }
}

impl Drop for ZenohPublisher {
    fn drop(&mut self) {
        if let Some(mailbox) = self.apart.get() {
            mailbox.state.lock().1 = true;
            mailbox.ready.notify_one();
        }
    }
}

/// `head` then `tail` as one payload of two slices, neither copied: Zenoh copies each into its
/// transmit batches.
fn payload(head: Vec<u8>, tail: Option<SharedBytes>) -> ZBytes {
    let Some(tail) = tail else {
        return ZBytes::from(head);
    };
    let mut payload = ZBytes::writer();
    payload.append(ZBytes::from(head));
    payload.append(ZBytes::from(bytes::Bytes::from_owner(Lent(tail))));
    payload.finish()
}

impl Publisher for ZenohPublisher {
    fn put(&self, head: Vec<u8>, tail: Option<SharedBytes>) {
        let payload = payload(head, tail);
        if payload.len() >= SEND_APART_FROM {
            self.put_apart(payload);
        } else {
            ZenohPublisher::put_now(&*self.put, &self.key, payload);
        }
    }
}

/// Bytes lent to Zenoh ([`bytes::Bytes::from_owner`] takes an owner that is `AsRef<[u8]>`).
struct Lent(SharedBytes);

impl AsRef<[u8]> for Lent {
    fn as_ref(&self) -> &[u8] {
        (*self.0).as_ref()
    }
}

/// A received payload in one piece, kept by a frame that borrows its pixels.
struct Received(ZBytes);

impl AsRef<[u8]> for Received {
    fn as_ref(&self) -> &[u8] {
        self.0.slices().next().unwrap_or_default()
    }
}

/// Hands a received payload on without copying it: in one piece with Zenoh's own buffer as its
/// owner, or (a message that arrived in fragments) as its pieces, which the receiver joins once,
/// straight into the value's bytes.
fn deliver_payload(payload: &ZBytes, deliver: &Deliver) {
    let mut slices = payload.slices();
    match (slices.next(), slices.next()) {
        (Some(_), Some(_)) => {
            let pieces: Vec<&[u8]> = payload.slices().collect();
            deliver(Message::Pieces(&pieces));
        }
        _ => {
            let owner: SharedBytes = Arc::new(Received(payload.clone()));
            deliver(Message::Kept(&owner));
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
        let put: Box<PutFn> = if cache {
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
        Ok(Arc::new(ZenohPublisher::new(key, put)))
    }

    fn subscribe(&self, key: &str, deliver: Deliver) -> Result<Guard> {
        let subscriber = self
            .session
            .declare_subscriber(key.to_owned())
            .callback(move |sample| deliver_payload(sample.payload(), &deliver))
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
    use crate::message::{PixelFormat, VideoFrame};
    use crate::timestamp::Timestamp;
    use crate::Codec;

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

    fn frame() -> VideoFrame {
        let pixels: Vec<u8> = (0..64 * 64 * 4).map(|i| i as u8).collect();
        VideoFrame::new(
            64,
            64,
            PixelFormat::Rgba8,
            pixels,
            Timestamp::from_nanos(9),
            3,
        )
        .unwrap()
    }

    #[test]
    fn a_frame_goes_out_from_its_own_pixels() {
        let frame = frame();
        let mut head = b"envelope".to_vec();
        frame.encode_head(&mut head);
        let tail: SharedBytes = Arc::new(frame.data_arc().clone());
        let sent = payload(head.clone(), Some(tail));
        let slices: Vec<&[u8]> = sent.slices().collect();
        assert_eq!(slices.len(), 2);
        assert_eq!(slices[0], &head[..]);
        assert_eq!(
            slices[1].as_ptr(),
            frame.data().as_ptr(),
            "the frame's memory, not a copy"
        );
        assert_eq!(sent.len(), head.len() + frame.data().len());
    }

    #[test]
    fn a_received_payload_is_handed_on_without_a_copy() {
        let frame = frame();
        let mut message = Vec::new();
        frame.encode(&mut message);
        let given = Arc::new(Mutex::new(Vec::new()));
        let seen = given.clone();
        let deliver: Deliver = Box::new(move |message| {
            seen.lock().push(match message {
                Message::Kept(owner) => vec![(**owner).as_ref().as_ptr() as usize],
                Message::Lent(_) => panic!("Zenoh's buffer can be kept"),
                Message::Pieces(pieces) => pieces.iter().map(|p| p.as_ptr() as usize).collect(),
            })
        });

        let whole = ZBytes::from(message.clone());
        deliver_payload(&whole, &deliver);
        let at = whole.slices().next().unwrap().as_ptr() as usize;
        assert_eq!(given.lock()[0], vec![at], "one piece: Zenoh's own buffer");

        let mut pieces = ZBytes::writer();
        pieces.append(ZBytes::from(message[..100].to_vec()));
        pieces.append(ZBytes::from(message[100..].to_vec()));
        let pieces = pieces.finish();
        deliver_payload(&pieces, &deliver);
        let at: Vec<usize> = pieces.slices().map(|p| p.as_ptr() as usize).collect();
        assert_eq!(given.lock()[1], at, "fragments as they are");
    }
}
