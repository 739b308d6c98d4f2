//! The wire format of links between runtimes: key layout and the envelope of each value.
//!
//! Version 1. Every engine (Zenoh across hosts, iceoryx2 between processes of one host) carries
//! the same messages under the same names, so a client in another language can join a pipeline
//! by reading this page.
//!
//! **Keys** (Zenoh key expressions, and iceoryx2 service names; `<host>`, `<Class>`, `<id>` as
//! in the actor's URI; over iceoryx2 an announcement is an event service whose attributes `k0`,
//! `k1`, .. hold the liveliness key in pieces, see the `ipc` module):
//!
//! | key | what |
//! |---|---|
//! | `streamlib/v1/live/<host>/<Class>/<id>/<ports>` | liveliness token while the actor runs |
//! | `streamlib/v1/data/<host>/<Class>/<id>/out/<port>` | each value written on an output |
//! | `streamlib/v1/data/<host>/<Class>/<id>/in/<port>` | values written into an input from afar |
//! | `streamlib/v1/stats/<host>/<Class>/<id>` | queryable: the actor's counters |
//!
//! `<ports>` lists the actor's ports as `<dir>:<name>:<payload type>` joined by `;`, where
//! `<dir>` is `o` (output), `i` (input) or `w` (input that accepts writes from the network), and
//! the payload type is the [`Codec::PAYLOAD_TYPE`](crate::Codec::PAYLOAD_TYPE); ports without a
//! codec are not listed. A runtime announces every actor of its own host name only.
//!
//! **Envelope**: each value is a 44-byte header followed by the payload's
//! [`Codec`](crate::Codec) encoding. All integers little-endian:
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 2 | magic `"SL"` |
//! | 2 | 1 | version, `1` |
//! | 3 | 1 | flags, `0` (others are refused) |
//! | 4 | 8 | payload type tag: FNV-1a 64 of the payload type's name |
//! | 12 | 8 | epoch: random per publishing port incarnation |
//! | 20 | 8 | sequence number, from 1 per epoch |
//! | 28 | 8 | frame number of the tick that wrote the value |
//! | 36 | 8 | timestamp of that tick, nanoseconds of the writer's clock |
//!
//! A receiver drops (and counts) a message whose magic, version, flags or type tag is not what it
//! expects, and a message whose (epoch, sequence number) it has seen already. The timestamp is the
//! writing clock's own time: when both runtimes run [`PtpClock`](crate::PtpClock)s of one PTP
//! domain, timestamps of the two sides are on the same TAI time line and compare directly; with
//! software clocks they are each machine's `CLOCK_MONOTONIC` and do not.
//!
//! ```
//! use streamlib::wire::{open, seal, Envelope, Stamp};
//! use streamlib::Timestamp;
//!
//! let stamp = Stamp { frame_number: 9, timestamp: Timestamp::from_nanos(1_000) };
//! let mut bytes = Vec::new();
//! seal(&mut bytes, "i64", Envelope { epoch: 1, seq: 2, stamp });
//! bytes.extend_from_slice(&42i64.to_le_bytes());
//! let (envelope, payload) = open(&bytes, "i64")?;
//! assert_eq!((envelope.seq, envelope.stamp, payload.len()), (2, stamp, 8));
//! assert!(open(&bytes, "f64").is_err(), "another payload type is refused");
//! # Ok::<(), streamlib::DecodeError>(())
//! ```

use std::cell::Cell;

use crate::codec::{DecodeError, Reader};
use crate::timestamp::Timestamp;

/// Version of this format.
pub const VERSION: u8 = 1;
/// Bytes before the payload.
pub const HEADER_LEN: usize = 44;
const MAGIC: &[u8; 2] = b"SL";

/// Which tick wrote a value: its frame number and its clock's timestamp.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Stamp {
    /// Frame number of the writing tick.
    pub frame_number: u64,
    /// Timestamp of the writing tick (the writer's clock).
    pub timestamp: Timestamp,
}

/// What the header says of one value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Envelope {
    /// Random per publishing port incarnation: a restarted writer starts a new epoch.
    pub epoch: u64,
    /// Sequence number within the epoch, from 1.
    pub seq: u64,
    /// The tick that wrote the value.
    pub stamp: Stamp,
}

/// FNV-1a 64 of `payload_type`: the header's type tag.
pub const fn type_tag(payload_type: &str) -> u64 {
    let bytes = payload_type.as_bytes();
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        i += 1;
    }
    hash
}

/// Appends the header of a `payload_type` value to `out`; the payload's encoding follows.
pub fn seal(out: &mut Vec<u8>, payload_type: &str, envelope: Envelope) {
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[VERSION, 0]);
    out.extend_from_slice(&type_tag(payload_type).to_le_bytes());
    out.extend_from_slice(&envelope.epoch.to_le_bytes());
    out.extend_from_slice(&envelope.seq.to_le_bytes());
    out.extend_from_slice(&envelope.stamp.frame_number.to_le_bytes());
    out.extend_from_slice(&envelope.stamp.timestamp.as_nanos().to_le_bytes());
}

/// Splits a message into its envelope and payload bytes, checking it carries `payload_type`.
pub fn open<'a>(
    bytes: &'a [u8],
    payload_type: &'static str,
) -> Result<(Envelope, &'a [u8]), DecodeError> {
    let mut r = Reader::new(bytes, payload_type);
    if r.take(2)? != MAGIC {
        return Err(r.error("no \"SL\" magic: not a streamlib message"));
    }
    let (version, flags) = (r.u8()?, r.u8()?);
    if version != VERSION || flags != 0 {
        return Err(r.error(format!(
            "wire version {version} flags {flags:#x}; this build reads version {VERSION} flags 0"
        )));
    }
    if r.u64()? != type_tag(payload_type) {
        return Err(r.error("the message carries another payload type"));
    }
    let (epoch, seq) = (r.u64()?, r.u64()?);
    let stamp = Stamp {
        frame_number: r.u64()?,
        timestamp: Timestamp::from_nanos(r.u64()?),
    };
    Ok((Envelope { epoch, seq, stamp }, r.rest()))
}

thread_local! {
    static CURRENT: Cell<Stamp> = const { Cell::new(Stamp { frame_number: 0, timestamp: Timestamp::from_nanos(0) }) };
}

/// The tick this thread is running `process` for (zero outside a tick).
pub(crate) fn current_stamp() -> Stamp {
    CURRENT.with(Cell::get)
}

/// Marks the tick this thread runs `process` for, so values written travel with it.
pub(crate) fn set_current_stamp(stamp: Stamp) {
    CURRENT.with(|c| c.set(stamp));
}

/// The key prefix of one actor: `<host>/<Class>/<id>`.
pub(crate) fn actor_path(host: &str, class: &str, id: &str) -> String {
    format!("{host}/{class}/{id}")
}

/// `streamlib/v1/data/<actor>/out/<port>` or `…/in/<port>`.
pub(crate) fn data_key(actor_path: &str, output: bool, port: &str) -> String {
    let dir = if output { "out" } else { "in" };
    format!("streamlib/v1/data/{actor_path}/{dir}/{port}")
}

/// What [`data_key`] wrote into `key`: `(host, whether the port is an output)`; `None` for a key
/// of another kind. The direction is read from its own segment, right before the port's name,
/// so a host or an instance named `in` or `out` does not confuse it. (Read where both engines
/// share a runtime: `remote::both`.)
#[cfg(any(test, all(feature = "net", feature = "ipc")))]
pub(crate) fn data_key_parts(key: &str) -> Option<(&str, bool)> {
    let rest = key.strip_prefix("streamlib/v1/data/")?;
    let host = rest.split('/').next()?;
    let mut tail = rest.rsplitn(3, '/');
    let (_port, dir) = (tail.next()?, tail.next()?);
    match dir {
        "out" => Some((host, true)),
        "in" => Some((host, false)),
        _ => None,
    }
}

/// `streamlib/v1/stats/<actor>`.
pub(crate) fn stats_key(actor_path: &str) -> String {
    format!("streamlib/v1/stats/{actor_path}")
}

/// Prefix of every liveliness token.
pub(crate) const LIVE_PREFIX: &str = "streamlib/v1/live/";

/// The host of a liveliness token's key (`streamlib/v1/live/<host>/...`); read by `remote::both`.
#[cfg(any(test, all(feature = "net", feature = "ipc")))]
pub(crate) fn live_key_host(key: &str) -> Option<&str> {
    key.strip_prefix(LIVE_PREFIX)?.split('/').next()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_data_key_gives_back_its_host_and_direction() {
        let key = data_key("cam-box/Camera/cam0", true, "video");
        assert_eq!(data_key_parts(&key), Some(("cam-box", true)));
        let key = data_key("cam-box/Camera/cam0", false, "gain");
        assert_eq!(data_key_parts(&key), Some(("cam-box", false)));
        // A host and an instance named like directions: the output stays an output.
        let key = data_key("in/Camera/in", true, "video");
        assert_eq!(data_key_parts(&key), Some(("in", true)));
        assert_eq!(data_key_parts("streamlib/v1/stats/a/B/c"), None);
        assert_eq!(
            live_key_host("streamlib/v1/live/cam/Camera/c0/-"),
            Some("cam")
        );
        assert_eq!(live_key_host("nothing"), None);
    }

    #[test]
    fn header_is_documented_length_and_checked() {
        let mut bytes = Vec::new();
        let envelope = Envelope {
            epoch: 7,
            seq: 1,
            stamp: Stamp::default(),
        };
        seal(&mut bytes, "u8", envelope);
        assert_eq!(bytes.len(), HEADER_LEN);
        assert_eq!(open(&bytes, "u8").unwrap().0, envelope);
        for (at, value) in [(0, b'X'), (2, 2), (3, 1), (4, 0)] {
            let mut bad = bytes.clone();
            bad[at] = value;
            assert!(open(&bad, "u8").is_err(), "byte {at} = {value}");
        }
        assert!(open(&bytes[..HEADER_LEN - 1], "u8").is_err());
        assert_eq!(type_tag(""), 0xcbf2_9ce4_8422_2325);
    }
}
