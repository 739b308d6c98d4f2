//! Errors of the runtime API.
//!
//! [`Error`] is the one error enum of streamlib's API: every fallible call returns
//! [`Result<T>`](crate::Result). Each variant names the value that was wrong and why, so a message
//! read in a log is enough to fix the call. [`ActorError`] is what an actor's
//! [`process`](crate::Process::process) returns: it takes any `std::error::Error` through `?`.
//!
//! ```
//! use streamlib::{Error, Rate};
//! match Rate::new(0, 1) {
//!     Err(Error::InvalidRate { num, den, .. }) => assert_eq!((num, den), (0, 1)),
//!     other => panic!("expected InvalidRate, got {other:?}"),
//! }
//! ```

use std::fmt;
use std::time::Duration;

/// Result of the runtime API.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Every error the runtime API reports.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A frame rate of zero, with a zero denominator, or so fast (over 10⁹ fps) that its
    /// period rounds down to 0 ns.
    #[error("invalid rate {num}/{den}: {reason}")]
    InvalidRate {
        /// Numerator given.
        num: u32,
        /// Denominator given.
        den: u32,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A ring buffer asked for with an unusable number of slots.
    #[error("invalid ring buffer size {slots}: a ring buffer has between 1 and {max} slots", max = crate::ring::RingBuffer::<()>::MAX_SLOTS)]
    InvalidSlots {
        /// Slots asked for.
        slots: usize,
    },
    /// A string that is not a valid `actor://host/Class/instance-id` URI.
    ///
    /// The message quotes at most the first 128 characters of the text, then its length in
    /// bytes, so that it stays short whatever was given; the field holds all of it.
    #[error("invalid actor URI {}: {reason}", quoted(.uri))]
    InvalidUri {
        /// The text given.
        uri: String,
        /// Which part is wrong and how.
        reason: String,
    },
    /// An actor with this URI is already registered in the runtime.
    #[error("an actor is already registered at {uri}")]
    DuplicateActor {
        /// The URI taken twice.
        uri: String,
    },
    /// An instance id that is not `[A-Za-z0-9_-]+`.
    #[error("invalid instance id {}: {reason}", quoted(.id))]
    InvalidInstanceId {
        /// The id given.
        id: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// `connect` on an input that already has an upstream; disconnect it first.
    #[error("input {input} is already connected to {upstream}; disconnect it first")]
    InputAlreadyConnected {
        /// The input, as `actor://…/Class/id.port`.
        input: String,
        /// Its current upstream output.
        upstream: String,
    },
    /// `disconnect` of a connection that no longer exists.
    #[error("{input} is not connected to {output}")]
    NotConnected {
        /// The output side.
        output: String,
        /// The input side.
        input: String,
    },
    /// No port of that name and direction on the actor.
    #[error("actor {actor} has no {direction} port {} (its {direction} ports: {available})", quoted(.port))]
    UnknownPort {
        /// The actor's URI.
        actor: String,
        /// The port name asked for.
        port: String,
        /// `"input"` or `"output"`.
        direction: &'static str,
        /// Comma-separated names of the ports that exist in that direction.
        available: String,
    },
    /// The port exists but carries another payload type.
    #[error("{direction} port {port:?} of {actor} carries {actual}, not {expected}")]
    PortTypeMismatch {
        /// The actor's URI.
        actor: String,
        /// The port name.
        port: String,
        /// `"input"` or `"output"`.
        direction: &'static str,
        /// The payload type asked for.
        expected: &'static str,
        /// The payload type the port carries.
        actual: &'static str,
    },
    /// `stop()` waited `timeout` for a `process` call that did not return; its work was detached.
    #[error(
        "actor {uri} did not finish its process call within {timeout:?}; its work was detached"
    )]
    StopTimeout {
        /// The actor's URI.
        uri: String,
        /// How long `stop()` waited.
        timeout: Duration,
    },
    /// A payload type that has no [`Codec`](crate::Codec) registered in this process was asked
    /// for across a process boundary.
    #[error("payload type {payload_type} cannot cross a process boundary here: no `Codec` of it is registered (implement `streamlib::Codec`, then call `streamlib::register_codec::<T>()` or use it in an actor)")]
    NoCodec {
        /// The Rust type asked for.
        payload_type: &'static str,
    },
    /// Waiting for something (a remote actor) gave up.
    #[error("timed out after {timeout:?} waiting for {waiting_for}")]
    Timeout {
        /// What was awaited, e.g. an actor URI.
        waiting_for: String,
        /// How long it waited.
        timeout: Duration,
    },
    /// The runtime has no link to other processes (built without `network` / `ipc`).
    #[error("{what} needs a runtime built with a network (`Runtime::builder().network(..)`, feature `net`)")]
    NoNetwork {
        /// What was asked for.
        what: String,
    },
    /// A network engine could not start or work as configured.
    #[error("network endpoint {}: {reason}", quoted(.endpoint))]
    Network {
        /// The endpoint or setting concerned (e.g. `tcp/127.0.0.1:7447`).
        endpoint: String,
        /// What failed, in the engine's words.
        reason: String,
    },
    /// A remote actor answered something unusable, or not what was asked for.
    #[error("remote actor {uri}: {reason}")]
    Remote {
        /// The remote actor's URI.
        uri: String,
        /// What is wrong.
        reason: String,
    },
    /// A runtime option that cannot work.
    #[error("invalid {option} {}: {reason}", quoted(.value))]
    InvalidOption {
        /// The option (`"workers"`, `"host"`, …).
        option: &'static str,
        /// The value given.
        value: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A connection to or from an actor that is stopped (or stopping).
    #[error("actor {uri} is not running: a connection to or from it is refused")]
    ActorNotRunning {
        /// The stopped actor's URI.
        uri: String,
    },
    /// A connection between actors of two runtimes: each runtime orders and owns only its own.
    #[error("{output} and {input} belong to two runtimes; connect actors of one runtime (across runtimes, use a network: `rt.remote`)")]
    DifferentRuntimes {
        /// The output side.
        output: String,
        /// The input side.
        input: String,
    },
    /// The runtime is shutting down or shut down: nothing new can be spawned or connected.
    #[error("the runtime is shut down")]
    RuntimeShutDown,
    /// An operating system call failed (thread creation, a clock, a socket).
    #[error("{what} failed: {message}")]
    Os {
        /// What was being done.
        what: &'static str,
        /// The operating system's message.
        message: String,
    },
    /// A `PortAllocator` range that is not `[start, end)` with both even and `start < end`.
    #[error("invalid port range [{start}, {end}): {reason}")]
    InvalidPortRange {
        /// First port of the range.
        start: u16,
        /// One past the last port of the range.
        end: u16,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Every port of the allocator's range is in use.
    #[error("no free {what} in [{start}, {end}) for {}", quoted(.desc))]
    PortsExhausted {
        /// First port of the range.
        start: u16,
        /// One past the last port of the range.
        end: u16,
        /// `"port"` or `"RTP/RTCP pair"`.
        what: &'static str,
        /// The description the caller gave.
        desc: String,
    },
    /// `free` of a port that is not allocated (or, for `free_pair`, an odd or unpaired port).
    #[error("port {port} is not allocated{detail}")]
    PortNotAllocated {
        /// The port given.
        port: u16,
        /// Extra detail, empty or starting with `: `.
        detail: String,
    },
    /// A message (video frame, audio buffer, …) whose fields do not agree.
    #[error("invalid {kind}: {reason}")]
    InvalidMessage {
        /// `"VideoFrame"`, `"AudioBuffer"`, …
        kind: &'static str,
        /// What does not agree, with the values.
        reason: String,
    },
    /// A clock that cannot run as configured (PTP, genlock).
    #[error("clock {clock}: {reason}")]
    Clock {
        /// Which clock.
        clock: String,
        /// What is wrong.
        reason: String,
    },
}

/// Characters of a caller's text that an error message quotes.
pub(crate) const QUOTED_CHARS: usize = 128;

/// A caller's text as an error message quotes it: in double quotes with Rust escapes (`{:?}`),
/// cut after its first [`QUOTED_CHARS`] characters and followed by `… (N bytes)` when longer.
///
/// Errors name the value that was wrong, and that value may be anything a caller or a peer
/// sent (a 1 MB URI): the message stays short enough to log whatever the input.
pub(crate) fn quoted(text: &str) -> Quoted<'_> {
    Quoted(text)
}

/// See [`quoted`].
pub(crate) struct Quoted<'a>(&'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.char_indices().nth(QUOTED_CHARS) {
            None => write!(f, "{:?}", self.0),
            Some((cut, _)) => write!(f, "{:?}… ({} bytes)", &self.0[..cut], self.0.len()),
        }
    }
}

impl Error {
    pub(crate) fn os(what: &'static str, err: std::io::Error) -> Self {
        Error::Os {
            what,
            message: err.to_string(),
        }
    }
}

/// What an actor's `process` returns on failure: any error, boxed.
///
/// `?` converts every `std::error::Error + Send + Sync + 'static` into it; [`ActorError::msg`]
/// makes one from text. Like `anyhow::Error`, it does not itself implement `std::error::Error`
/// (that would collide with the blanket conversion); [`ActorError::inner`] reaches the cause.
pub struct ActorError(Box<dyn std::error::Error + Send + Sync + 'static>);

impl ActorError {
    /// An error carrying only a message.
    pub fn msg(message: impl fmt::Display) -> Self {
        ActorError(message.to_string().into())
    }

    /// The underlying error.
    pub fn inner(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        &*self.0
    }
}

impl<E: std::error::Error + Send + Sync + 'static> From<E> for ActorError {
    fn from(err: E) -> Self {
        ActorError(Box::new(err))
    }
}

impl fmt::Debug for ActorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for ActorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// What [`Process::process`](crate::Process::process) returns.
pub type ProcessResult = std::result::Result<(), ActorError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("sensor offline: {0}")]
    struct SensorOffline(u8);

    fn failing() -> ProcessResult {
        Err(SensorOffline(3))?;
        Ok(())
    }

    #[test]
    fn actor_error_takes_any_error_through_question_mark() {
        let err = failing().unwrap_err();
        assert_eq!(err.to_string(), "sensor offline: 3");
        assert!(err.inner().downcast_ref::<SensorOffline>().is_some());
    }

    #[test]
    fn actor_error_from_message() {
        assert_eq!(ActorError::msg("bad frame 7").to_string(), "bad frame 7");
    }

    #[test]
    fn quoted_cuts_long_text_after_128_characters() {
        assert_eq!(quoted("cam 0").to_string(), r#""cam 0""#);
        assert_eq!(quoted("a\nb").to_string(), r#""a\nb""#);
        let exact = "x".repeat(QUOTED_CHARS);
        assert_eq!(quoted(&exact).to_string(), format!("{exact:?}"));
        let long = "é".repeat(1 << 20);
        let expected = format!("{:?}… ({} bytes)", "é".repeat(QUOTED_CHARS), 2 << 20);
        assert_eq!(quoted(&long).to_string(), expected);
    }

    #[test]
    fn messages_quote_a_bounded_prefix_of_the_input() {
        let huge = "b".repeat(1 << 20);
        for err in [
            Error::InvalidUri {
                uri: huge.clone(),
                reason: "missing scheme".into(),
            },
            Error::InvalidInstanceId {
                id: huge.clone(),
                reason: "bad",
            },
            Error::InvalidOption {
                option: "host",
                value: huge.clone(),
                reason: "bad",
            },
            Error::PortsExhausted {
                start: 5000,
                end: 5002,
                what: "port",
                desc: huge.clone(),
            },
        ] {
            let message = err.to_string();
            assert!(message.len() < 400, "{} bytes", message.len());
            assert!(message.contains("… (1048576 bytes)"), "{message}");
        }
    }

    #[test]
    fn messages_name_the_value() {
        let e = Error::InvalidSlots { slots: 0 };
        assert!(e.to_string().contains('0'));
        let e = Error::PortTypeMismatch {
            actor: "actor://local/A/a".into(),
            port: "video".into(),
            direction: "output",
            expected: "i64",
            actual: "f32",
        };
        let text = e.to_string();
        assert!(text.contains("i64") && text.contains("f32") && text.contains("video"));
    }
}
