//! Ports that stand for ports of another process, and the type-erased operations that connect a
//! local port to a transport.
//!
//! - A **remote output** is an ordinary output buffer that a subscription writes into: local
//!   inputs connect to it as to any output, so reading stays lock-free and allocation-free; its
//!   [`Origin`] says whether the writer can be reached.
//! - A **remote input** is an input whose [`Target`] publishes whatever output is connected to
//!   it: a tap on that output encodes each value written and hands it to the transport.
//! - [`WireOps`] are what `#[actor]` records for each port whose payload has a [`Codec`], so that
//!   a networked runtime can publish a local output and accept writes into a local input without
//!   knowing the payload type.

use std::any::{type_name, Any, TypeId};
use std::collections::{HashMap, HashSet};
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, Weak};

use parking_lot::{Mutex, RwLock};

use super::{AnyPort, Deliver, Guard, Message, Peer, Publisher, SharedBytes};

/// Undoes what an operation installed.
type Undo = Box<dyn FnOnce() + Send>;
/// A local port (`OutputRef<T>` / `InputRef<T>`) seen without its type.
type LocalPort<'a> = &'a (dyn Any + Send + Sync);
use crate::codec::{Codec, DecodeError};
use crate::error::{Error, Result};
use crate::message::{DataMessage, VideoFrame};
use crate::port::{InputRef, Origin, OutputRef, OutputShared, Target};
use crate::ring::RingBuffer;
use crate::uri::PortAddress;
use crate::wire::{self, Envelope, Stamp};

/// Encodes and publishes each value written to an output: one epoch, a counting sequence.
pub(crate) struct Sender {
    payload_type: &'static str,
    epoch: u64,
    seq: AtomicU64,
    publisher: Arc<dyn Publisher>,
}

impl Sender {
    pub(crate) fn new(payload_type: &'static str, publisher: Arc<dyn Publisher>) -> Sender {
        Sender {
            payload_type,
            epoch: new_epoch(),
            seq: AtomicU64::new(0),
            publisher,
        }
    }

    /// Encodes `value` behind the envelope of the tick running on this thread and publishes it;
    /// never waits for the network. A value that holds the end of its encoding (a frame's
    /// pixels, a byte vector: [`Codec::tail`]) of at least [`LEND_TAIL_FROM`] bytes lends it to
    /// the engine instead of copying it into the message.
    fn send<T: Codec>(&self, value: Arc<T>) {
        let mut message = Vec::with_capacity(wire::HEADER_LEN + 64);
        let envelope = Envelope {
            epoch: self.epoch,
            seq: self.seq.fetch_add(1, Ordering::Relaxed) + 1,
            stamp: wire::current_stamp(),
        };
        wire::seal(&mut message, self.payload_type, envelope);
        if value.tail().len() >= LEND_TAIL_FROM {
            value.encode_head(&mut message);
            self.publisher.put(message, Some(Arc::new(Tail(value))));
        } else {
            value.encode(&mut message);
            self.publisher.put(message, None);
        }
    }
}

/// A tail this long or longer is lent to the engine rather than copied: below it, a copy costs
/// less than the shared owner's allocation.
pub(crate) const LEND_TAIL_FROM: usize = 4096;

/// A value seen as the bytes of its [`Codec::tail`], kept alive as long as an engine needs them.
struct Tail<T>(Arc<T>);

impl<T: Codec> AsRef<[u8]> for Tail<T> {
    fn as_ref(&self) -> &[u8] {
        self.0.tail()
    }
}

/// A number that differs between port incarnations (time, process id and a counter mixed).
fn new_epoch() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mixed = nanos
        ^ (u64::from(std::process::id()) << 32)
        ^ COUNTER
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_mul(0x9e37_79b9_7f4a_7c15);
    mixed.max(1)
}

/// What a subscription remembers to drop repeats and to answer [`Origin::stamp`].
#[derive(Default)]
struct Received {
    /// (epoch, sequence number) of the newest message taken.
    last: (u64, u64),
    /// (local ring sequence number, stamp) of the last few values, for `Input::stamp`.
    stamps: [(u64, Stamp); 8],
}

/// Decodes messages for one local buffer, counting what does not decode.
struct Receiver<T> {
    output: Weak<OutputShared<T>>,
    received: Mutex<Received>,
    bad: AtomicU64,
    describe: String,
}

impl<T: Codec> Receiver<T> {
    /// Takes one message: checks and decodes it, then writes it to the buffer. Returns whether
    /// it was written.
    fn deliver(&self, message: Message<'_>) -> bool {
        let Some(output) = self.output.upgrade() else {
            return false;
        };
        match decode::<T>(message) {
            Ok((envelope, value)) => {
                let mut received = self.received.lock();
                let (epoch, seq) = received.last;
                if envelope.epoch == epoch && envelope.seq <= seq {
                    return false; // a repeat (history replayed after a reconnect)
                }
                received.last = (envelope.epoch, envelope.seq);
                let local_seq = output.ring.seq() + 1;
                received.stamps[(local_seq % 8) as usize] = (local_seq, envelope.stamp);
                output.write_arc(Arc::new(value));
                true
            }
            Err(error) => {
                let count = self.bad.fetch_add(1, Ordering::Relaxed) + 1;
                // Rate-limited: the first, then every 1000th.
                if count == 1 || count.is_multiple_of(1000) {
                    tracing::warn!(port = %self.describe, %error, dropped = count, "dropped a message that does not decode");
                }
                false
            }
        }
    }

    fn stamp(&self, seq: u64) -> Option<Stamp> {
        let received = self.received.lock();
        let (at, stamp) = received.stamps[(seq % 8) as usize];
        (at == seq).then_some(stamp)
    }
}

/// Checks and decodes one message, copying no more than the value needs: a message in a buffer
/// the engine lets us keep is decoded with [`Codec::decode_shared`] (a frame borrows its
/// pixels), one in pieces is joined once, into the bytes the value keeps.
fn decode<T: Codec>(message: Message<'_>) -> std::result::Result<(Envelope, T), DecodeError> {
    let pieces = match message {
        Message::Kept(kept) => {
            let bytes = (**kept).as_ref();
            let (envelope, payload) = wire::open(bytes, T::PAYLOAD_TYPE)?;
            return Ok((
                envelope,
                T::decode_shared(kept, bytes.len() - payload.len())?,
            ));
        }
        Message::Lent(bytes) => {
            let (envelope, payload) = wire::open(bytes, T::PAYLOAD_TYPE)?;
            return Ok((envelope, T::decode(payload)?));
        }
        Message::Pieces(pieces) => pieces,
    };
    let first = pieces.first().copied().unwrap_or_default();
    if first.len() < wire::HEADER_LEN {
        // The envelope itself is cut (no engine does that today): join everything.
        let joined: SharedBytes = Arc::new(pieces.concat());
        return decode(Message::Kept(&joined));
    }
    let (envelope, rest) = wire::open(first, T::PAYLOAD_TYPE)?;
    let len = rest.len() + pieces[1..].iter().map(|p| p.len()).sum::<usize>();
    let mut payload = Vec::with_capacity(len);
    payload.extend_from_slice(rest);
    for piece in &pieces[1..] {
        payload.extend_from_slice(piece);
    }
    Ok((envelope, T::decode_owned(payload)?))
}

// ---------------------------------------------------------------------------------------------
// Remote outputs

/// The [`Origin`] of an output of another process: a subscription started at the first reader.
struct RemoteOutput<T> {
    peer: Arc<Peer>,
    key: String,
    address: PortAddress,
    receiver: Arc<Receiver<T>>,
    subscription: Mutex<Option<Guard>>,
}

impl<T: Codec> Origin for RemoteOutput<T> {
    fn is_stale(&self) -> bool {
        !self.peer.is_alive()
    }

    fn reader_attached(&self) {
        let mut subscription = self.subscription.lock();
        if subscription.is_some() {
            return;
        }
        let Some(network) = self.peer.network.upgrade() else {
            return;
        };
        let receiver = self.receiver.clone();
        let deliver = Box::new(move |message: Message<'_>| {
            receiver.deliver(message);
        });
        match network.transport.subscribe(&self.key, deliver) {
            Ok(guard) => *subscription = Some(guard),
            Err(error) => {
                tracing::error!(port = %self.receiver.describe, %error, "cannot subscribe")
            }
        }
    }

    fn bad_values(&self) -> u64 {
        self.receiver.bad.load(Ordering::Relaxed)
    }

    fn stamp(&self, seq: u64) -> Option<Stamp> {
        self.receiver.stamp(seq)
    }

    fn address(&self) -> PortAddress {
        self.address.clone()
    }
}

/// An output standing for output `name` of `peer`.
pub(crate) fn remote_output<T: Codec>(peer: &Arc<Peer>, name: &str) -> OutputRef<T> {
    let key = wire::data_key(&peer.path, true, name);
    let address = PortAddress::new(peer.uri.clone(), name.to_string());
    let describe = address.to_string();
    let shared = Arc::new_cyclic(|output: &Weak<OutputShared<T>>| {
        let origin = RemoteOutput {
            peer: peer.clone(),
            key,
            address,
            receiver: Arc::new(Receiver {
                output: output.clone(),
                received: Mutex::new(Received::default()),
                bad: AtomicU64::new(0),
                describe,
            }),
            subscription: Mutex::new(None),
        };
        OutputShared::new(RingBuffer::default(), Some(Arc::new(origin)))
    });
    OutputRef { shared }
}

// ---------------------------------------------------------------------------------------------
// Remote inputs

/// The [`Target`] of an input of another process: taps the outputs connected to it.
struct RemoteInput<T> {
    peer: Arc<Peer>,
    key: String,
    address: PortAddress,
    sender: Mutex<Option<Arc<Sender>>>,
    /// Outputs tapped, by connection id.
    tapped: Mutex<Vec<(u64, Weak<OutputShared<T>>)>>,
    payload: PhantomData<fn() -> T>,
}

impl<T: Codec> RemoteInput<T> {
    fn sender(&self) -> Option<Arc<Sender>> {
        let mut sender = self.sender.lock();
        if let Some(sender) = sender.as_ref() {
            return Some(sender.clone());
        }
        let network = self.peer.network.upgrade()?;
        match network.transport.publisher(&self.key, false) {
            Ok(publisher) => {
                let created = Arc::new(Sender::new(T::PAYLOAD_TYPE, publisher));
                *sender = Some(created.clone());
                Some(created)
            }
            Err(error) => {
                tracing::error!(port = %self.address, %error, "cannot publish");
                None
            }
        }
    }
}

impl<T: Codec> Target<T> for RemoteInput<T> {
    fn attached(&self, connection: u64, output: &OutputRef<T>) {
        let Some(sender) = self.sender() else {
            return;
        };
        if let Some(latest) = output.shared.ring.read_latest() {
            sender.send(latest); // the newest value at once, as a local input would read it
        }
        let tap = Arc::new(move |value: Arc<T>| sender.send(value));
        output.shared.add_tap(connection, tap);
        self.tapped
            .lock()
            .push((connection, Arc::downgrade(&output.shared)));
    }

    fn detached(&self, connection: u64) {
        self.tapped.lock().retain(|(id, output)| {
            if *id == connection {
                if let Some(output) = output.upgrade() {
                    output.remove_tap(connection);
                }
            }
            *id != connection
        });
    }

    fn address(&self) -> PortAddress {
        self.address.clone()
    }
}

/// An input standing for input `name` of `peer`.
pub(crate) fn remote_input<T: Codec>(peer: &Arc<Peer>, name: &str) -> InputRef<T> {
    InputRef::remote(Arc::new(RemoteInput::<T> {
        peer: peer.clone(),
        key: wire::data_key(&peer.path, false, name),
        address: PortAddress::new(peer.uri.clone(), name.to_string()),
        sender: Mutex::new(None),
        tapped: Mutex::new(Vec::new()),
        payload: PhantomData,
    }))
}

// ---------------------------------------------------------------------------------------------
// Type-erased operations on local ports

/// What a networked runtime does with a port whose payload has a [`Codec`], without knowing
/// the type. Recorded by `#[actor]` (see [`WireProbe`]) in each port's info.
#[derive(Clone, Copy)]
pub(crate) struct WireOps {
    /// [`Codec::PAYLOAD_TYPE`].
    pub(crate) payload_type: &'static str,
    /// Publishes every value written to the `OutputRef<T>` through the publisher; returns the
    /// undo.
    pub(crate) publish: fn(LocalPort<'_>, Arc<dyn Publisher>) -> Undo,
    /// A delivery function for messages written into the `InputRef<T>` from the network.
    pub(crate) accept: fn(LocalPort<'_>, String) -> Deliver,
    /// A remote output of a peer, as `OutputRef<T>`.
    pub(crate) remote_output: fn(&Arc<Peer>, &str) -> AnyPort,
    /// A remote input of a peer, as `InputRef<T>`.
    pub(crate) remote_input: fn(&Arc<Peer>, &str) -> AnyPort,
}

impl WireOps {
    /// The operations for `T`, registered so that run-time lookups of remote ports find them.
    pub(crate) fn of<T: Codec>() -> WireOps {
        let ops = WireOps {
            payload_type: T::PAYLOAD_TYPE,
            publish: publish::<T>,
            accept: accept::<T>,
            remote_output: |peer, name| Arc::new(remote_output::<T>(peer, name)),
            remote_input: |peer, name| Arc::new(remote_input::<T>(peer, name)),
        };
        let id = TypeId::of::<T>();
        if !codecs().read().contains_key(&id) {
            codecs().write().insert(id, ops);
        }
        ops
    }
}

/// Makes every codec streamlib implements known to run-time lookups.
pub(crate) fn register_builtin_codecs() {
    use crate::message::{AudioBuffer, KeyEvent, MouseEvent};
    macro_rules! register {
        ($($ty:ty),*) => {$( WireOps::of::<$ty>(); )*};
    }
    register!(
        u8,
        u16,
        u32,
        u64,
        i8,
        i16,
        i32,
        i64,
        f32,
        f64,
        bool,
        String,
        Vec<u8>
    );
    register!(VideoFrame, AudioBuffer, DataMessage, KeyEvent, MouseEvent);
}

fn codecs() -> &'static RwLock<HashMap<TypeId, WireOps>> {
    static CODECS: OnceLock<RwLock<HashMap<TypeId, WireOps>>> = OnceLock::new();
    CODECS.get_or_init(Default::default)
}

/// The operations registered for the payload type `T`: by an actor with a port of that type,
/// by `rt.remote::<A>()`, or by [`register_codec`](crate::register_codec).
pub(crate) fn registered<T: 'static>() -> Result<WireOps> {
    codecs()
        .read()
        .get(&TypeId::of::<T>())
        .copied()
        .ok_or(Error::NoCodec {
            payload_type: type_name::<T>(),
        })
}

fn publish<T: Codec>(port: LocalPort<'_>, publisher: Arc<dyn Publisher>) -> Undo {
    let Some(output) = port.downcast_ref::<OutputRef<T>>() else {
        return Box::new(|| {});
    };
    let sender = Sender::new(T::PAYLOAD_TYPE, publisher.clone());
    // What the actor wrote before it was announced (its first ticks run meanwhile) goes out
    // now, so a late joiner finds it; a write racing this line goes out with the next one.
    if let Some(latest) = output.shared.ring.read_latest() {
        sender.send(latest);
    }
    // The tap's id among the output's taps, and the lender's among its lenders.
    let id = crate::pipeline::next_connection_id();
    // Memory of the engine for values drawn in place: asked by `Output::new_frame` and
    // `Output::new_message` only, the tail going after the envelope and the codec's head.
    // iceoryx2 lends its samples; Zenoh lends nothing.
    if let Some(lender) = publisher.lender(wire::HEADER_LEN) {
        output.shared.set_lender(id, lender);
    }
    output
        .shared
        .add_tap(id, Arc::new(move |value: Arc<T>| sender.send(value)));
    let output = Arc::downgrade(&output.shared);
    Box::new(move || {
        if let Some(output) = output.upgrade() {
            output.remove_tap(id);
            output.remove_lender(id);
        }
    })
}

/// Writes from the network feed a buffer of their own, which becomes the input's upstream at the
/// first value while the input has none (a local connection, if any, keeps precedence).
fn accept<T: Codec>(port: LocalPort<'_>, describe: String) -> Deliver {
    let Some(input) = port.downcast_ref::<InputRef<T>>().cloned() else {
        return Box::new(|_| {});
    };
    let feed = Arc::new(OutputShared::new(RingBuffer::default(), None));
    let receiver = Receiver {
        output: Arc::downgrade(&feed),
        received: Mutex::new(Received::default()),
        bad: AtomicU64::new(0),
        describe: describe.clone(),
    };
    let connection = crate::pipeline::next_connection_id();
    Box::new(move |message: Message<'_>| {
        let before = receiver.bad.load(Ordering::Relaxed);
        if receiver.deliver(message) {
            let attached = input.shared.has_connection(connection);
            if !attached && input.shared.attach(connection, feed.clone()).is_err() {
                tracing::debug!(port = %describe, "a network write found the input connected locally; dropped");
            }
        } else if receiver.bad.load(Ordering::Relaxed) > before {
            input.shared.bad_values.fetch_add(1, Ordering::Relaxed);
        }
    })
}

// ---------------------------------------------------------------------------------------------
// What `#[actor]` uses to find a port's codec, if its payload has one

/// `(&WireProbe::<T>::new()).wire_ops()` is `Some` when `T: Codec` and `None` otherwise
/// (autoref specialisation: the method of [`ViaCodec`] takes the probe by reference and wins
/// when it applies; [`ViaNothing`]'s needs one more reference).
pub struct WireProbe<T>(PhantomData<fn() -> T>);

impl<T> WireProbe<T> {
    /// A probe for `T`.
    pub fn new() -> WireProbe<T> {
        WireProbe(PhantomData)
    }
}

impl<T> Default for WireProbe<T> {
    fn default() -> Self {
        WireProbe::new()
    }
}

/// Opaque codec operations of one payload type (what [`WireProbe`] finds).
#[derive(Clone, Copy)]
pub struct FoundCodec(pub(crate) WireOps);

/// The probe's answer when the payload has a codec.
pub trait ViaCodec {
    /// `Some`: the payload's codec operations.
    fn wire_ops(&self) -> Option<FoundCodec>;
}

impl<T: Codec> ViaCodec for WireProbe<T> {
    fn wire_ops(&self) -> Option<FoundCodec> {
        Some(FoundCodec(WireOps::of::<T>()))
    }
}

/// The probe's answer otherwise.
pub trait ViaNothing {
    /// `None`: the payload stays in its process.
    fn wire_ops(&self) -> Option<FoundCodec>;
}

impl<T> ViaNothing for &WireProbe<T> {
    fn wire_ops(&self) -> Option<FoundCodec> {
        None
    }
}

/// A `&'static str` for a payload type name announced by another process; bounded, since
/// announcements come from the network.
pub(crate) fn intern(name: &str) -> &'static str {
    static NAMES: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let mut names = NAMES.get_or_init(Default::default).lock();
    if let Some(known) = names.get(name) {
        return known;
    }
    if names.len() >= 4096 {
        return "<one of too many remote payload types>";
    }
    let leaked: &'static str = Box::leak(name.to_owned().into_boxed_str());
    names.insert(leaked);
    leaked
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{PixelFormat, VideoFrame};
    use crate::timestamp::Timestamp;

    struct Local;

    /// `value` sealed in an envelope, as a sender publishes it.
    fn sealed<T: Codec>(value: &T) -> (Envelope, Vec<u8>) {
        let envelope = Envelope {
            epoch: 3,
            seq: 9,
            stamp: Stamp {
                frame_number: 4,
                timestamp: Timestamp::from_nanos(5),
            },
        };
        let mut message = Vec::new();
        wire::seal(&mut message, T::PAYLOAD_TYPE, envelope);
        value.encode(&mut message);
        (envelope, message)
    }

    #[test]
    fn a_message_in_pieces_decodes_as_the_whole_one() {
        let bytes: Vec<u8> = (0..200u8).collect();
        let (envelope, message) = sealed(&bytes);
        for cut in [wire::HEADER_LEN, wire::HEADER_LEN + 1, 120] {
            let pieces = [&message[..cut], &message[cut..150], &message[150..]];
            let (got, value) = decode::<Vec<u8>>(Message::Pieces(&pieces)).unwrap();
            assert_eq!((got, &value), (envelope, &bytes), "cut at {cut}");
        }
        // An envelope cut in two is joined first.
        let pieces = [&message[..10], &message[10..]];
        assert_eq!(
            decode::<Vec<u8>>(Message::Pieces(&pieces)).unwrap().1,
            bytes
        );
        // A frame in pieces keeps the one joined copy as its pixels.
        let frame = VideoFrame::new(
            4,
            2,
            PixelFormat::Gray8,
            vec![7u8; 8],
            Timestamp::from_nanos(1),
            0,
        )
        .unwrap();
        let (_, message) = sealed(&frame);
        let pieces = [&message[..60], &message[60..]];
        assert_eq!(
            decode::<VideoFrame>(Message::Pieces(&pieces)).unwrap().1,
            frame
        );
        // Bad pieces are an error naming the type.
        let (_, message) = sealed(&5i64);
        let pieces = [&message[..wire::HEADER_LEN], &message[wire::HEADER_LEN..]];
        let error = decode::<VideoFrame>(Message::Pieces(&pieces)).unwrap_err();
        assert_eq!(error.payload_type, VideoFrame::PAYLOAD_TYPE);
    }

    #[test]
    #[allow(clippy::needless_borrow)] // the borrow is what picks `ViaNothing` when no codec
    fn the_probe_finds_codecs() {
        assert_eq!(
            (&WireProbe::<i64>::new())
                .wire_ops()
                .map(|c| c.0.payload_type),
            Some("i64")
        );
        assert!((&WireProbe::<Local>::new()).wire_ops().is_none());
        assert!(registered::<i64>().is_ok());
        assert!(matches!(
            registered::<Local>(),
            Err(Error::NoCodec { payload_type }) if payload_type.ends_with("Local")
        ));
    }

    #[test]
    fn interned_names_are_shared() {
        let a = intern("x.Y");
        assert!(std::ptr::eq(a, intern(&String::from("x.Y"))));
    }
}
