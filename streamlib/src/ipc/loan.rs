//! Frames (and byte messages) drawn in the sample that carries them: the iceoryx2 side of
//! [`Output::new_frame`](crate::Output::new_frame) and
//! [`Output::new_message`](crate::Output::new_message). What is said of a frame and its pixels
//! below holds as well for a `DataMessage` and its bytes.
//!
//! An output's [`Port`] (its publisher and service) lends samples of its publisher. A lent
//! sample is the frame's memory from then on, in this process too. When the frame is written,
//! the sample is sent as it is — the envelope and the frame's head written into the bytes kept
//! free in front of the pixels — and received straight back by a subscriber of the same service
//! that this process keeps for the purpose (the port's *own reader*). Holding that received
//! sample is what stops iceoryx2 from lending the memory again while frames of this process
//! still read it; each frame also keeps its port, so the publisher's mapping stays.
//!
//! Whenever that cannot be guaranteed before sending — the frame was written before, the head
//! is not the size kept free, the own reader already holds as many samples as it may, another
//! publisher shares the service, a connection cannot be set up — the frame goes out as any
//! other value (copied into a new sample) and keeps its own sample, unsent. Should a lent
//! sample be sent and not come back to the own reader (a failure iceoryx2 does not report
//! otherwise), the port is *retired*: it lends and sends nothing more, so the memory frames
//! still read is never lent again, and the output goes on with a new publisher.

use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, Weak};

use iceoryx2::port::subscriber::Subscriber;
use iceoryx2::port::update_connections::UpdateConnections;
use iceoryx2::sample::Sample;
use iceoryx2::sample_mut_uninit::SampleMutUninit;
use iceoryx2::service::port_factory::PortFactory;
use parking_lot::Mutex;

use super::{DataPublisher, DataService, Svc, MAX_BORROWED};
use crate::message::SharedBytes;
use crate::port::Loan;

/// Lent samples a port keeps unsent at once: frames being drawn, and frames that went out as a
/// copy while something of this process still reads them. Beyond, new frames are drawn in this
/// process's memory.
pub(super) const MAX_UNSENT: usize = 2;
/// Samples a publisher may have on loan: the unsent ones and one to copy a value into.
pub(super) const MAX_LOANS: usize = MAX_UNSENT + 1;
/// Samples taken from the own reader's buffer at once: what it may hold besides ours (the
/// history it was handed when it connected) and ours.
const RECEIVES: usize = 4;

/// A loaned sample not written yet.
pub(super) type Unwritten = SampleMutUninit<Svc, [MaybeUninit<u8>], ()>;

/// One output's publisher, its service and what lending needs.
pub(super) struct Port {
    /// Made at the first loan (`None`: it could not be, and lending stays off); receives every
    /// sample this port sends from a loan. Declared first: dropped before the publisher and the
    /// service.
    own_reader: OnceLock<Option<Subscriber<Svc, [u8], ()>>>,
    /// A sample loaned ahead, after a send, for the next value copied in ([`Port::spare`]).
    pub(super) loaned_ahead: Mutex<Option<Unwritten>>,
    /// The length of the last value copied in (`usize::MAX`: none yet).
    last_len: AtomicUsize,
    pub(super) publisher: DataPublisher,
    pub(super) service: DataService,
    /// Lent samples not sent.
    unsent: AtomicUsize,
    /// Samples the own reader holds for frames.
    held: AtomicUsize,
    /// Frames drawn in this port's samples, to know a written tail for one of them.
    frames: Mutex<Vec<Weak<Lent>>>,
    /// Set when a lent sample was sent and not received back: lend and send no more.
    retired: AtomicBool,
    /// Set once a lent sample came back to the own reader: its connection is up and the history
    /// it was handed when it connected is gone, so a send needs no receive before it (about
    /// 2 µs here, on the way from `write` to the readers).
    connected: AtomicBool,
}

/// What became of a tail handed to [`Port::send_lent`].
pub(super) enum Sent {
    /// Sent from its sample, held by the own reader.
    Lent,
    /// Not a frame lent by this port, or not sendable from its sample: copy it.
    Copy,
    /// Sent and lost to the own reader: the port is retired (and the value went out).
    Retired,
}

impl Port {
    pub(super) fn new(publisher: DataPublisher, service: DataService) -> Port {
        Port {
            own_reader: OnceLock::new(),
            loaned_ahead: Mutex::new(None),
            last_len: AtomicUsize::new(usize::MAX),
            publisher,
            service,
            unsent: AtomicUsize::new(0),
            held: AtomicUsize::new(0),
            frames: Mutex::new(Vec::new()),
            retired: AtomicBool::new(false),
            connected: AtomicBool::new(false),
        }
    }

    pub(super) fn is_retired(&self) -> bool {
        self.retired.load(Ordering::Relaxed)
    }

    /// `len` bytes for a frame's pixels (a message's bytes), after `head` bytes kept free, in a sample of this
    /// port; `None` when the port has none to lend now. Called under the publisher's lock.
    pub(super) fn lend(self: &Arc<Self>, head: usize, len: usize) -> Option<Box<dyn Loan>> {
        if self.is_retired() || self.unsent.load(Ordering::Acquire) >= MAX_UNSENT {
            return None;
        }
        self.own_reader()?;
        let mut sample = match self.publisher.loan_slice_uninit(head.checked_add(len)?) {
            Ok(sample) => sample,
            Err(error) => {
                tracing::debug!(
                    ?error,
                    "ipc loan for a frame or message failed; made in memory of its own"
                );
                return None;
            }
        };
        let base = SamplePtr(sample.payload_mut().as_mut_ptr().cast::<u8>());
        self.unsent.fetch_add(1, Ordering::Relaxed);
        Some(Box::new(Lent {
            base,
            head,
            len,
            state: Mutex::new(State::Unsent(sample)),
            port: self.clone(),
        }))
    }

    /// A sample of `len` bytes to copy a value into: the one loaned ahead if it has that length,
    /// else a new loan. Called under the publisher's lock.
    ///
    /// A loan is about 3 µs here (iceoryx2 first takes back what every subscriber returned, in
    /// memory the other processes wrote); made after the previous send instead
    /// ([`loan_ahead`](Self::loan_ahead)), it is off the path from a `write` to its readers. A
    /// stream keeps one length (a sensor's message, a frame size), so the spare fits; when it
    /// does not, it goes back and a new loan is made. The spare is the one sample
    /// [`MAX_LOANS`] keeps for copies, so lending frames never lacks one for it.
    pub(super) fn spare(&self, len: usize) -> Result<Unwritten, iceoryx2::port::LoanError> {
        if let Some(sample) = self.loaned_ahead.lock().take() {
            if sample.payload().len() == len {
                return Ok(sample);
            }
        }
        self.publisher.loan_slice_uninit(len)
    }

    /// Loans a sample of `len` bytes for the next [`spare`](Self::spare), if none is kept and
    /// one can be had (else the next value is loaned for as before). Called under the
    /// publisher's lock, after a send.
    ///
    /// Only once two values in a row had this length: a stream whose length changes from value
    /// to value would otherwise give back a spare of the wrong length and loan twice per value.
    pub(super) fn loan_ahead(&self, len: usize) {
        let repeated = self.last_len.swap(len, Ordering::Relaxed) == len;
        let mut ahead = self.loaned_ahead.lock();
        if repeated && ahead.is_none() && !self.is_retired() {
            *ahead = self.publisher.loan_slice_uninit(len).ok();
        }
    }

    /// The own reader, made at the first call (and not tried again if that failed).
    fn own_reader(&self) -> Option<&Subscriber<Svc, [u8], ()>> {
        let reader = self.own_reader.get_or_init(|| {
            self.service
                .subscriber_builder()
                .buffer_size(1)
                .create()
                .inspect_err(|error| tracing::warn!(?error, "ipc: no reader of its own for lent samples; frames and messages are made in memory of the process"))
                .ok()
        });
        reader.as_ref()
    }

    /// The frame drawn in this port's sample whose pixels `tail` is, if any.
    pub(super) fn lent_frame(&self, tail: &[u8]) -> Option<Arc<Lent>> {
        let mut frames = self.frames.lock();
        frames.retain(|frame| frame.strong_count() > 0);
        frames.iter().filter_map(Weak::upgrade).find(|frame| {
            let pixels = frame.base.0.wrapping_add(frame.head);
            std::ptr::eq(tail.as_ptr(), pixels) && tail.len() == frame.len
        })
    }

    /// Sends `frame`'s own sample with `head` in front, if that is safe (see the module);
    /// called under the publisher's lock, so no other send of this port runs meanwhile.
    ///
    /// `sent` runs right after the send (not for [`Sent::Copy`]), before the sample is taken
    /// back: the readers are woken first, and this thread takes the sample back while they read
    /// (about 3 µs here, off the way from `write` to the readers). Until then the sample waits
    /// in the own reader's buffer, which keeps it from being lent again as well; no other send
    /// could overflow that buffer meanwhile (the publisher's lock).
    pub(super) fn send_lent(&self, frame: &Lent, head: &[u8], sent: impl FnOnce()) -> Sent {
        let Some(Some(reader)) = self.own_reader.get() else {
            return Sent::Copy;
        };
        let publishers = self.service.dynamic_config().number_of_publishers();
        if head.len() != frame.head
            || self.held.load(Ordering::Acquire) >= MAX_BORROWED
            || publishers != 1
        {
            return Sent::Copy;
        }
        let mut state = frame.state.lock();
        if !matches!(*state, State::Unsent(_)) {
            return Sent::Copy; // written before: it is out already
        }
        // Before the first lent sample: what the reader was handed (the history when it
        // connected) goes first, and its connection is set up now, so the send below has
        // nothing left to set up. Later the reader holds at most a copy this port sent (a value
        // not lent), which the send overflows (one buffered sample) or the receive below skips.
        if !self.connected.load(Ordering::Relaxed) {
            for _ in 0..RECEIVES {
                if !matches!(reader.receive(), Ok(Some(_))) {
                    break;
                }
            }
        }
        if self.publisher.update_connections().is_err() {
            return Sent::Copy;
        }
        let State::Unsent(sample) = std::mem::replace(&mut *state, State::Lost) else {
            return Sent::Copy;
        };
        self.unsent.fetch_sub(1, Ordering::Relaxed);
        // SAFETY: the sample's first `frame.head` bytes (== `head.len()`, checked above) are
        // kept free of pixels and nobody holds a reference to them; `head` is memory of ours,
        // not of the sample.
        unsafe { std::ptr::copy_nonoverlapping(head.as_ptr(), frame.base.0, head.len()) };
        // SAFETY: the head was just written; the pixels are bytes of a shared-memory mapping,
        // initialised by the OS (zeroes) or by earlier samples, and every value is a valid
        // `u8` (see `Lent::bytes_mut`).
        let sample = unsafe { sample.assume_init() };
        // A send fails before the sample is delivered only if the publisher is gone (it is
        // ours, alive) or its connections cannot be set up (just done above; and iceoryx2 0.9
        // only warns about a connection it cannot make). Whatever happens, the sample is ours
        // only if it comes back below; if not, the port retires.
        if let Err(error) = sample.send() {
            tracing::debug!(?error, "ipc send of a lent sample reported an error");
        }
        sent();
        let ours = self.publisher.id();
        for _ in 0..RECEIVES {
            match reader.receive() {
                Ok(Some(back)) => {
                    let bytes = back.payload();
                    if back.header().publisher_id() == ours
                        && bytes.len() == frame.head + frame.len
                        && bytes[..head.len()] == *head
                    {
                        self.held.fetch_add(1, Ordering::Relaxed);
                        self.connected.store(true, Ordering::Relaxed);
                        *state = State::Held { _sample: back };
                        return Sent::Lent;
                    }
                }
                Ok(None) | Err(_) => break,
            }
        }
        tracing::error!(
            "ipc: a lent sample did not come back to its own reader; publisher retired"
        );
        self.retired.store(true, Ordering::Relaxed);
        Sent::Retired
    }
}

/// A frame's sample: its pixels, then the frame's memory for as long as any clone of the frame
/// lives.
pub(super) struct Lent {
    /// The sample's first byte, in the publisher's mapping.
    base: SamplePtr,
    /// Bytes before the pixels.
    head: usize,
    /// Bytes of pixels.
    len: usize,
    state: Mutex<State>,
    /// Declared last: dropped after the state's sample, which needs the port's reader.
    port: Arc<Port>,
}

enum State {
    /// Not sent: being drawn, or kept by a frame that went out as a copy.
    Unsent(Unwritten),
    /// Sent; the own reader's sample keeps the memory from being lent again.
    Held { _sample: Sample<Svc, [u8], ()> },
    /// Sent and not received back; the port is retired, so the memory is never lent again.
    Lost,
}

/// A lent sample's first byte.
struct SamplePtr(*mut u8);

// SAFETY: the pointer is into shared memory that stays mapped while the `Lent` holding it lives
// (it keeps the publisher, `Lent::port`). It is written only through `&mut Lent` (`bytes_mut`,
// before the frame is shared) and, for the head only, under the frame's state lock in
// `send_lent`, while shared readers read the pixels only (`as_ref`), which never overlap the
// head; so moving it to, or sharing it with, another thread races nothing.
unsafe impl Send for SamplePtr {}
// SAFETY: see `Send`.
unsafe impl Sync for SamplePtr {}

const _: () = {
    const fn is_send<T: Send>() {}
    is_send::<Unwritten>();
    is_send::<Sample<Svc, [u8], ()>>();
};

impl Loan for Lent {
    fn bytes_mut(&mut self) -> &mut [u8] {
        // SAFETY: `base + head .. base + head + len` lies inside the lent sample, which nobody
        // else reads or writes before the frame is shared (`&mut self`). Its bytes are memory of
        // a shared-memory mapping, initialised by the OS (zeroes) or by earlier samples, so
        // reading them as `u8`, for which every value is valid, is sound.
        unsafe { std::slice::from_raw_parts_mut(self.base.0.add(self.head), self.len) }
    }

    fn share(self: Box<Self>) -> SharedBytes {
        let frame = Arc::new(*self);
        let mut frames = frame.port.frames.lock();
        frames.retain(|frame| frame.strong_count() > 0);
        frames.push(Arc::downgrade(&frame));
        drop(frames);
        frame
    }
}

impl AsRef<[u8]> for Lent {
    fn as_ref(&self) -> &[u8] {
        // SAFETY: as in `bytes_mut`; once shared, the pixels are only read, and the memory is
        // not lent again while `state` holds the sample (or the port is retired, see `State`).
        unsafe { std::slice::from_raw_parts(self.base.0.add(self.head), self.len) }
    }
}

impl Drop for Lent {
    fn drop(&mut self) {
        // The sample goes first, then the count: a count never says a sample is free that
        // iceoryx2 still counts as lent or borrowed.
        let counted = match std::mem::replace(self.state.get_mut(), State::Lost) {
            State::Unsent(sample) => {
                drop(sample);
                &self.port.unsent
            }
            State::Held { _sample } => {
                drop(_sample);
                &self.port.held
            }
            State::Lost => return,
        };
        counted.fetch_sub(1, Ordering::Release); // after the release above: see `send_lent`
    }
}
