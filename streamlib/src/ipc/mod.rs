//! Actors in other processes of this host, over shared memory with
//! [iceoryx2](https://iceoryx.io) (cargo feature `ipc`).
//!
//! A runtime built with [`RuntimeBuilder::ipc`] (or [`ipc_config`](RuntimeBuilder::ipc_config))
//! links to the other runtimes of this machine that use `ipc` with the same
//! [prefix](IpcConfig::prefix), whatever host names they announce, exactly as
//! [`remote`](crate::remote) describes for Zenoh: same URIs, same keys and envelope
//! ([`wire`](crate::wire)), same `rt.remote::<A>(uri)`, `lookup`, `wait_for`, `is_stale`.
//! No daemon: every runtime opens one iceoryx2 node.
//!
//! **Which engine carries a link.** With `ipc` alone, only processes of this host are reached.
//! With `network(..)` too, a remote actor whose runtime is seen over iceoryx2 (a process of this
//! host with `ipc` and the same prefix) is read over shared memory, every other one over Zenoh;
//! a link moves to shared memory by itself when the peer shows up there. Values written by a
//! local output go to both engines (each reader takes them from one).
//!
//! **How.** Each value is one iceoryx2 sample (`[u8]`: the 44-byte envelope and the codec's
//! bytes) on a publish/subscribe service named by its key, with history 1, one buffered sample
//! per subscriber and safe overflow: a late joiner gets the newest value, a slow reader sees only
//! the newest, a writer never waits. Announcements are event services carrying the actor's
//! liveliness key in their attributes, alive while their node's process is. Two background
//! threads per runtime: one sleeps on the runtime's own wake-up event and drains the
//! subscriptions of the keys each wake-up names (a value's wake-up carries an id of its key;
//! one that may have lost a notification to a full queue, or names none, drains them all),
//! nothing else; the other, every 200 ms, checks the announcements (listing them,
//! which takes milliseconds, only when service or node files changed, a node died or could not
//! be read, and at least every 10 s; asking which nodes are alive when node files changed and
//! every 600 ms),
//! removes what dead processes left in shared memory (iceoryx2's dead-node cleanup), hands
//! history to new subscribers, and points each publisher at the wake-up events of the runtimes
//! its subscribers belong to. A value wakes those runtimes only: not the writer's own, not one
//! that reads nothing of it (a new subscriber is woken from the writer's next scan on). No
//! received value waits for a scan.
//!
//! **Frames without a copy.** A received frame borrows the sample it arrived in. On the sending
//! side, a frame drawn with [`Output::new_frame`](crate::Output::new_frame) is drawn in a sample
//! of the output's publisher and sent from there: written once, by the actor, and read in place
//! by every reader of every process, this one included (see [`crate::port`]'s `FrameBuffer`). A
//! frame built in memory of its own (`VideoFrame::new`) is copied once into a sample at `write`.
//! The same holds for byte messages: a received `DataMessage` borrows its sample, and one filled
//! with [`Output::new_message`](crate::Output::new_message) is sent from the sample it was
//! filled in (`MessageBuffer`). A `Vec<u8>` owns its bytes, so it is copied once on each side:
//! use `DataMessage` for large byte payloads. [`frames_sent_in_place`] and
//! [`lent_frames_copied`] count what happened to lent frames and messages.
//!
//! **Failures.** A process killed with SIGKILL is seen dead within about 600 ms: its actors leave
//! the registry and inputs reading them turn [stale](crate::InputRef::is_stale); its shared
//! memory is removed by the first runtime that notices (and by any runtime starting later);
//! when it restarts, links resume by themselves. A value whose encoding exceeds
//! [`IpcConfig::max_message_size`] is dropped with [`Error::MessageTooLarge`] logged and counted
//! ([`oversize_dropped`]). `build()` fails with [`Error::SharedMemoryTooSmall`] naming the bytes
//! needed when `/dev/shm` cannot hold one output at the maximum size, and with
//! [`Error::InvalidOption`] when another live process of this host already announces the
//! runtime's host name.
//!
//! ```no_run
//! use streamlib::{IpcConfig, Runtime};
//! let camera_process = Runtime::builder().host("cam").ipc().build()?;
//! let viewer_process = Runtime::builder()
//!     .host("viewer")
//!     .ipc_config(IpcConfig::new().max_message_size(16 << 20))
//!     .build()?;
//! # Ok::<(), streamlib::Error>(())
//! ```

/// The iceoryx2 crate this engine runs on, for raw access at the same version (tools, benches).
pub use iceoryx2;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use iceoryx2::port::publisher::Publisher as IoxPublisher;
use iceoryx2::prelude::*;
use iceoryx2::service::port_factory::publish_subscribe;

use crate::error::{Error, Result};
use crate::remote::Transport;
use crate::runtime::RuntimeBuilder;

mod engine;
mod loan;

use engine::Iceoryx;

type Svc = ipc_threadsafe::Service;
type DataService = publish_subscribe::PortFactory<Svc, [u8], ()>;
type DataPublisher = IoxPublisher<Svc, [u8], ()>;

/// Subscribers one output serves: four processes reading it, and the output's own reader of
/// frames drawn in its samples (`loan.rs`); writers one input accepts.
const MAX_SUBSCRIBERS: usize = 5;
const MAX_PUBLISHERS: usize = 4;
/// Samples a subscriber may hold at once: the three a remote output's ring buffer keeps as
/// frames borrowing them, one more a reader may hold, one free for the next receive. On the
/// writer's side the own reader holds the frames of the output's ring, and while a frame is sent
/// the one its write displaced too (it is dropped after the send, `Output::write`): a lent frame
/// goes out in its sample while this process's readers keep at most one older frame besides, and
/// as a copy beyond (`loan.rs`).
const MAX_BORROWED: usize = 5;
/// Samples one publisher's data segment holds: what iceoryx2 preallocates for these settings
/// (each subscriber's buffer and borrows, the history, the publisher's loans), plus one.
const SAMPLES_PER_OUTPUT: usize = MAX_SUBSCRIBERS * (1 + MAX_BORROWED) + 1 + loan::MAX_LOANS + 1;
/// How often the scanning thread checks announcements (listing them only when something
/// changed) and hands the history to new subscribers.
const SCAN_PERIOD: Duration = Duration::from_millis(200);
/// Event services that announce an actor: `<prefix><unique>`, the key in the attributes.
const TOKEN_SERVICE: &str = "streamlib/v1/ipc-token/";
/// The wake-up events' names: this, `/`, the runtime's iceoryx2 node id.
const WAKE_SERVICE: &str = "streamlib/v1/ipc-wake";
/// Attribute keys `k0`..`k7` hold a token's key in chunks of this many bytes.
const TOKEN_CHUNK: usize = 200;

static OVERSIZE: AtomicU64 = AtomicU64::new(0);

/// Values this process dropped because their encoding exceeded
/// [`IpcConfig::max_message_size`] (each also logged as [`Error::MessageTooLarge`]).
pub fn oversize_dropped() -> u64 {
    OVERSIZE.load(Ordering::Relaxed)
}

static IN_PLACE: AtomicU64 = AtomicU64::new(0);
static COPIED: AtomicU64 = AtomicU64::new(0);

/// Frames drawn in a lent sample ([`Output::new_frame`](crate::Output::new_frame)), and byte
/// messages filled in one ([`Output::new_message`](crate::Output::new_message)), that this
/// process sent from that sample, without a copy.
pub fn frames_sent_in_place() -> u64 {
    IN_PLACE.load(Ordering::Relaxed)
}

/// Frames (and byte messages) drawn in a lent sample that this process sent as a copy all the
/// same: written a second time, written while readers of this process held as many sent ones as
/// the output's own reader may, or when the sample could not be sent safely as it is (another
/// publisher on the service, a connection that could not be set up; see
/// [`Output::new_frame`](crate::Output::new_frame)). A lent value written to an output other
/// than the one that lent it goes out as a copy too, not counted here.
pub fn lent_frames_copied() -> u64 {
    COPIED.load(Ordering::Relaxed)
}

/// How a runtime links to the other processes of this host.
#[derive(Clone, Debug)]
pub struct IpcConfig {
    prefix: String,
    directory: Option<String>,
    max_message_size: usize,
    accept_writes: bool,
}

impl Default for IpcConfig {
    fn default() -> Self {
        IpcConfig {
            prefix: "streamlib_".into(),
            directory: None,
            max_message_size: 8 << 20,
            accept_writes: false,
        }
    }
}

impl IpcConfig {
    /// Prefix `streamlib_`, messages up to 8 MiB (a 1080p RGBA frame), no writes accepted.
    pub fn new() -> IpcConfig {
        IpcConfig::default()
    }

    /// The prefix of every shared-memory file: runtimes see each other only with the same one
    /// (letters, digits, `_`, `-`; at most 32). Tests give each run its own.
    pub fn prefix(mut self, prefix: &str) -> IpcConfig {
        self.prefix = prefix.to_owned();
        self
    }

    /// The directory of iceoryx2's node and service descriptions (default: iceoryx2's own,
    /// `/tmp/iceoryx2/`); runtimes see each other only with the same one. Shared memory itself
    /// lives in `/dev/shm` under the prefix.
    pub fn directory(mut self, path: &str) -> IpcConfig {
        self.directory = Some(path.to_owned());
        self
    }

    /// The largest encoded value (envelope included) an output sends; larger ones are dropped
    /// with [`Error::MessageTooLarge`]. `build()` checks `/dev/shm` can hold an output's samples
    /// of this size.
    pub fn max_message_size(mut self, bytes: usize) -> IpcConfig {
        self.max_message_size = bytes;
        self
    }

    /// Whether other processes of this host may write into this runtime's inputs (default: no).
    pub fn accept_writes(mut self, accept: bool) -> IpcConfig {
        self.accept_writes = accept;
        self
    }

    fn check(&self) -> Result<()> {
        let valid = !self.prefix.is_empty()
            && self.prefix.len() <= 32
            && self
                .prefix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !valid {
            return Err(Error::InvalidOption {
                option: "ipc prefix",
                value: self.prefix.chars().take(64).collect(),
                reason: "expected 1 to 32 letters, digits, '_' or '-'",
            });
        }
        if self.max_message_size < crate::wire::HEADER_LEN {
            return Err(Error::InvalidOption {
                option: "ipc max_message_size",
                value: self.max_message_size.to_string(),
                reason: "smaller than the 44-byte envelope",
            });
        }
        Ok(())
    }
}

impl RuntimeBuilder {
    /// Links this runtime to the other processes of this host over shared memory (feature
    /// `ipc`), with [`IpcConfig::new`]'s defaults.
    pub fn ipc(self) -> RuntimeBuilder {
        self.ipc_config(IpcConfig::new())
    }

    /// [`ipc`](Self::ipc) with options.
    pub fn ipc_config(self, config: IpcConfig) -> RuntimeBuilder {
        let accept_writes = config.accept_writes;
        self.local_engine(
            accept_writes,
            Box::new(move |host| {
                let transport: Arc<dyn Transport> = Iceoryx::open(&config, host)?;
                Ok(transport)
            }),
        )
    }
}

fn ipc_error(what: &str, reason: impl std::fmt::Debug) -> Error {
    Error::Network {
        endpoint: format!("iceoryx2 {what}"),
        reason: format!("{reason:?}"),
    }
}

fn service_name(name: &str) -> Result<ServiceName> {
    ServiceName::new(name).map_err(|e| ipc_error(name, e))
}

/// Bytes free on `/dev/shm`, if it can be asked.
#[allow(clippy::useless_conversion)] // the statvfs fields are narrower than u64 on some targets
fn shm_available() -> Option<u64> {
    let path = c"/dev/shm";
    // SAFETY: statvfs is plain old data, so all-zero is a valid value to be overwritten.
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `path` is a NUL-terminated string and `stat` a writable statvfs, as statvfs needs.
    let rc = unsafe { libc::statvfs(path.as_ptr(), &mut stat) };
    (rc == 0).then(|| u64::from(stat.f_bavail) * u64::from(stat.f_frsize))
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_options_are_typed_errors() {
        for prefix in ["", "has space", "a/b", &"x".repeat(33)] {
            let error = IpcConfig::new().prefix(prefix).check().unwrap_err();
            assert!(
                matches!(
                    &error,
                    Error::InvalidOption {
                        option: "ipc prefix",
                        ..
                    }
                ),
                "{error}"
            );
        }
        assert!(IpcConfig::new().max_message_size(10).check().is_err());
        assert!(IpcConfig::new().prefix("t_1-x").check().is_ok());
    }
}
