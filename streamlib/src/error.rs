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
use std::io;
use std::sync::Arc;
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
    #[error("invalid ring buffer size {slots}: a ring buffer has between 1 and {max} slots")]
    InvalidSlots {
        /// Slots asked for.
        slots: usize,
        /// The most slots a ring buffer has (`RingBuffer::MAX_SLOTS`).
        max: usize,
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
    /// A value too large for the shared-memory link it was written to (feature `ipc`): dropped
    /// and counted, never sent in part.
    #[error("a {size}-byte message on {key} exceeds the shared-memory maximum of {max} bytes (raise IpcConfig::max_message_size); dropped")]
    MessageTooLarge {
        /// The key (output) it was written to.
        key: String,
        /// Its encoded size, envelope included.
        size: usize,
        /// The configured maximum.
        max: usize,
    },
    /// The shared-memory file system cannot hold what a link of the configured maximum size needs
    /// (feature `ipc`).
    #[error("{path} has {available} bytes free; a shared-memory link of IpcConfig::max_message_size {max_message} needs {needed} bytes (enlarge {path}, e.g. docker --shm-size, or lower the maximum)")]
    SharedMemoryTooSmall {
        /// The file system checked, `/dev/shm`.
        path: String,
        /// Bytes free there.
        available: u64,
        /// Bytes one output at the maximum message size needs.
        needed: u64,
        /// The configured maximum message size.
        max_message: usize,
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
    ///
    /// The message says what was being done; the operating system's error is the
    /// [`source`](std::error::Error::source), so `{:#}` of an `anyhow` chain (or any walk of the
    /// sources) shows both, and [`OsError::get_ref`] reaches the [`io::Error`] itself.
    #[error("{what} failed")]
    Os {
        /// What was being done.
        what: &'static str,
        /// The operating system's error.
        #[source]
        source: OsError,
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
    #[error("port {port} is not allocated{}", .reason.after(*.port))]
    PortNotAllocated {
        /// The port given.
        port: u16,
        /// Why, beyond "nothing is reserved there".
        reason: NotAllocated,
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
    /// An actor's `process`, `on_start` (or `on_stop`) returned an error or panicked, and its
    /// [`FaultPolicy::StopRuntime`](crate::FaultPolicy::StopRuntime) shut the runtime down:
    /// what [`Runtime::run_until_stopped`](crate::Runtime::run_until_stopped) returns then.
    #[error("actor {uri} failed in {during}: {reason}")]
    ActorFailed {
        /// The actor's URI.
        uri: String,
        /// `"process"`, `"on_start"` or `"on_stop"`.
        during: &'static str,
        /// The error's message, or `panicked: <message>`.
        reason: String,
    },
    /// A call that waits for the runtime was made from inside one of its actors, where it
    /// could only wait for itself.
    #[error("{call} called from inside actor {uri}: it would wait for itself; return `Err(ActorError::stop_runtime())` from `process` instead")]
    CalledFromActor {
        /// The call, e.g. `"Runtime::run_until_stopped"`.
        call: &'static str,
        /// The actor whose `process` made the call.
        uri: String,
    },
    /// A recording (an MCAP file, feature `record`) that cannot be written, read or replayed as
    /// asked: damaged bytes, an unknown schema, a channel replayed into a port of another type.
    #[error("recording {}{}{}: {reason}", quoted(.path), channel.as_ref().map(|c| format!(", channel {c}")).unwrap_or_default(), offset.map(|o| format!(", at byte {o}")).unwrap_or_default())]
    Recording {
        /// The file.
        path: String,
        /// The channel concerned (its topic: the recorded port's URI), if one.
        channel: Option<String>,
        /// Where in the file the damage starts, if it is about bytes.
        offset: Option<u64>,
        /// What is wrong, with the values.
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
    pub(crate) fn os(what: &'static str, err: io::Error) -> Self {
        Error::Os {
            what,
            source: OsError::from(err),
        }
    }

    /// An [`Error::Recording`] about the file `path`, its `channel` and the byte at `offset`
    /// where those apply.
    #[cfg(feature = "record")]
    pub(crate) fn recording(
        path: &str,
        channel: Option<&str>,
        offset: Option<u64>,
        reason: impl Into<String>,
    ) -> Self {
        Error::Recording {
            path: path.to_owned(),
            channel: channel.map(str::to_owned),
            offset,
            reason: reason.into(),
        }
    }
}

/// The operating system's error behind [`Error::Os`]: an [`io::Error`], shared, so that
/// [`Error`] stays `Clone` and comparable.
///
/// It displays as the `io::Error` does and passes on its source. Two are equal when their kind,
/// OS error code and message are.
#[derive(Clone, Debug)]
pub struct OsError(Arc<io::Error>);

impl OsError {
    /// The `io::Error` itself.
    pub fn get_ref(&self) -> &io::Error {
        &self.0
    }

    /// Its kind.
    pub fn kind(&self) -> io::ErrorKind {
        self.0.kind()
    }

    /// The OS error code (`errno`), when it came from one.
    pub fn raw_os_error(&self) -> Option<i32> {
        self.0.raw_os_error()
    }
}

impl From<io::Error> for OsError {
    fn from(err: io::Error) -> Self {
        OsError(Arc::new(err))
    }
}

impl PartialEq for OsError {
    fn eq(&self, other: &Self) -> bool {
        self.kind() == other.kind()
            && self.raw_os_error() == other.raw_os_error()
            && self.0.to_string() == other.0.to_string()
    }
}

impl Eq for OsError {}

impl fmt::Display for OsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for OsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

/// Why [`Error::PortNotAllocated`]: what the port is, if anything, instead of a reservation
/// that call can free. [`after`](NotAllocated::after) words it as the tail of that error's
/// message.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NotAllocated {
    /// Nothing is reserved at that port (never was, or it was freed already).
    Free,
    /// The port is outside the allocator's range `[start, end)`.
    OutsideRange {
        /// First port of the range.
        start: u16,
        /// One past the last port of the range.
        end: u16,
    },
    /// `free` of either half of a pair reserved by `allocate_pair`: free the pair instead.
    HalfOfPair {
        /// The pair's even RTP port (the RTCP port is the one above).
        rtp: u16,
        /// The pair's description.
        desc: String,
    },
    /// `free_pair` of an odd port: pairs start at their even RTP port.
    OddRtpPort,
    /// `free_pair` of a port reserved alone by `allocate`: free it with `free`.
    ReservedAlone,
    /// `free_pair` of a port in range where no pair starts.
    NoPair,
}

impl NotAllocated {
    /// The tail of the message "port `port` is not allocated…" (empty for
    /// [`NotAllocated::Free`]).
    pub fn after(&self, port: u16) -> impl fmt::Display + '_ {
        Tail { why: self, port }
    }
}

/// See [`NotAllocated::after`].
struct Tail<'a> {
    why: &'a NotAllocated,
    port: u16,
}

impl fmt::Display for Tail<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let port = self.port;
        match self.why {
            NotAllocated::Free => Ok(()),
            NotAllocated::OutsideRange { start, end } => {
                write!(f, ": it is outside the range [{start}, {end})")
            }
            NotAllocated::HalfOfPair { rtp, desc } => write!(
                f,
                ": it belongs to the RTP/RTCP pair ({rtp}, {}) for {desc:?}; \
                 free the pair with free_pair({rtp})",
                u32::from(*rtp) + 1
            ),
            NotAllocated::OddRtpPort => write!(
                f,
                ": free_pair takes the even RTP port of a pair, and {port} is odd"
            ),
            NotAllocated::ReservedAlone => write!(
                f,
                " as a pair: it was reserved alone by allocate(); free it with free({port})"
            ),
            NotAllocated::NoPair => write!(f, ": no RTP/RTCP pair starts at {port}"),
        }
    }
}

/// What an actor's `process` returns on failure, or to ask to stop.
///
/// `?` converts every `std::error::Error + Send + Sync + 'static` into it; [`ActorError::msg`]
/// makes one from text. Like `anyhow::Error`, it does not itself implement `std::error::Error`
/// (that would collide with the blanket conversion); [`ActorError::inner`] reaches the cause.
///
/// **Stopping from inside.** Two values are not faults but requests, for an actor that knows
/// it is done (a file read to its end, a test that saw enough):
///
/// - `Err(ActorError::stop())` — stop this actor: `process` is not called again, `on_stop` runs
///   right after on the same thread, then its connections and registration go;
/// - `Err(ActorError::stop_runtime())` — shut the whole runtime down, as
///   [`Runtime::shutdown`](crate::Runtime::shutdown) does (its other actors may finish the tick
///   in flight); this actor's `process` is not called again.
///
/// Both return at once (the work happens on the runtime's own threads), are neither logged as
/// an error nor counted in the actor's `errors`, and ignore the actor's
/// [`FaultPolicy`](crate::FaultPolicy). A thread blocked in
/// [`Runtime::run_until_stopped`](crate::Runtime::run_until_stopped) then returns `Ok(())`.
/// Returned from `on_start` they act the same (no `process` runs); from `on_stop` they are
/// ignored (the actor is stopping anyway). Asking twice is harmless. They were chosen over a
/// new `ProcessResult` shape so that `fn process(..) -> ProcessResult` stays as it is.
///
/// ```
/// use streamlib::prelude::*;
/// use streamlib::ActorError;
///
/// #[actor]
/// #[derive(Default)]
/// pub struct CountTo3 {
///     #[output] pub value: Output<u64>,
/// }
///
/// impl Process for CountTo3 {
///     fn process(&mut self, tick: &Tick) -> ProcessResult {
///         if tick.frame_number == 3 {
///             return Err(ActorError::stop_runtime()); // done: not an error
///         }
///         self.value.write(tick.frame_number);
///         Ok(())
///     }
/// }
///
/// let rt = Runtime::new();
/// let counter = rt.spawn(CountTo3::default(), "count")?;
/// rt.run_until_stopped()?;                     // returns once frame 3 asked to stop
/// assert_eq!(counter.outputs.value.read_latest().as_deref(), Some(&2));
/// assert_eq!(counter.stats().errors, 0);
/// # Ok::<(), streamlib::Error>(())
/// ```
pub struct ActorError(Box<dyn std::error::Error + Send + Sync + 'static>);

/// What an actor asked for with [`ActorError::stop`] or [`ActorError::stop_runtime`]; carried
/// inside an `ActorError` like any error, told apart by its type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum StopRequest {
    /// Stop this actor.
    #[error("the actor asked to stop (ActorError::stop)")]
    Actor,
    /// Shut the runtime down.
    #[error("the actor asked to shut the runtime down (ActorError::stop_runtime)")]
    Runtime,
}

impl ActorError {
    /// An error carrying only a message.
    pub fn msg(message: impl fmt::Display) -> Self {
        ActorError(message.to_string().into())
    }

    /// Not an error: asks the runtime to stop this actor (see [the type's docs](ActorError)).
    pub fn stop() -> Self {
        ActorError(Box::new(StopRequest::Actor))
    }

    /// Not an error: asks the runtime to shut down (see [the type's docs](ActorError)).
    pub fn stop_runtime() -> Self {
        ActorError(Box::new(StopRequest::Runtime))
    }

    /// Whether this is [`stop`](Self::stop) or [`stop_runtime`](Self::stop_runtime) rather than
    /// a fault.
    pub fn is_stop_request(&self) -> bool {
        self.stop_request().is_some()
    }

    pub(crate) fn stop_request(&self) -> Option<StopRequest> {
        self.0.downcast_ref::<StopRequest>().copied()
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
    fn stop_requests_are_told_apart_from_faults() {
        assert_eq!(ActorError::stop().stop_request(), Some(StopRequest::Actor));
        assert_eq!(
            ActorError::stop_runtime().stop_request(),
            Some(StopRequest::Runtime)
        );
        assert!(ActorError::stop_runtime().is_stop_request());
        assert!(!ActorError::msg("the actor asked to stop (ActorError::stop)").is_stop_request());
        assert!(!failing().unwrap_err().is_stop_request());
        assert!(ActorError::stop().to_string().contains("ActorError::stop"));
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
    fn os_errors_keep_their_cause_as_the_source() {
        use std::error::Error as _;
        let err = Error::os(
            "spawning a worker thread",
            io::Error::from_raw_os_error(libc::EAGAIN),
        );
        assert_eq!(err.to_string(), "spawning a worker thread failed");
        let source = err.source().expect("the io::Error is the source");
        let io = io::Error::from_raw_os_error(libc::EAGAIN);
        assert_eq!(source.to_string(), io.to_string());
        match &err {
            Error::Os { source, .. } => assert_eq!(source.raw_os_error(), Some(libc::EAGAIN)),
            other => panic!("expected Os, got {other:?}"),
        }
        assert_eq!(err.clone(), err);
    }

    #[test]
    fn messages_name_the_value() {
        let e = Error::InvalidSlots {
            slots: 0,
            max: 1024,
        };
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
