//! The PTPv2 common message header (IEEE 1588-2019 §13.3), checked before a packet reaches the
//! protocol engine.
//!
//! The engine parses message bodies itself; this gate decides what is malformed (counted and
//! dropped) and extracts what the lock state machine needs: message type, flags, source, and the
//! log message interval. Nothing here can panic on any input: every read is bounds-checked.

use std::fmt;

/// Length of the common header.
pub(crate) const HEADER_LEN: usize = 34;

/// Two-step flag (`flagField` octet 0, bit 1): a Follow_Up carries the precise origin time.
pub(crate) const FLAG_TWO_STEP: u16 = 0x0200;

/// PTP message types (`messageType`, low nibble of octet 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum MessageType {
    Sync,
    DelayReq,
    PdelayReq,
    PdelayResp,
    FollowUp,
    DelayResp,
    PdelayRespFollowUp,
    Announce,
    Signaling,
    Management,
}

impl MessageType {
    fn from_nibble(nibble: u8) -> Option<MessageType> {
        Some(match nibble {
            0x0 => MessageType::Sync,
            0x1 => MessageType::DelayReq,
            0x2 => MessageType::PdelayReq,
            0x3 => MessageType::PdelayResp,
            0x8 => MessageType::FollowUp,
            0x9 => MessageType::DelayResp,
            0xA => MessageType::PdelayRespFollowUp,
            0xB => MessageType::Announce,
            0xC => MessageType::Signaling,
            0xD => MessageType::Management,
            _ => return None,
        })
    }

    #[cfg(test)]
    pub(crate) fn nibble(self) -> u8 {
        match self {
            MessageType::Sync => 0x0,
            MessageType::DelayReq => 0x1,
            MessageType::PdelayReq => 0x2,
            MessageType::PdelayResp => 0x3,
            MessageType::FollowUp => 0x8,
            MessageType::DelayResp => 0x9,
            MessageType::PdelayRespFollowUp => 0xA,
            MessageType::Announce => 0xB,
            MessageType::Signaling => 0xC,
            MessageType::Management => 0xD,
        }
    }

    /// Smallest valid `messageLength` for this type (header plus fixed body).
    pub(crate) fn min_len(self) -> usize {
        match self {
            MessageType::Sync | MessageType::DelayReq | MessageType::FollowUp => 44,
            MessageType::DelayResp
            | MessageType::PdelayReq
            | MessageType::PdelayResp
            | MessageType::PdelayRespFollowUp => 54,
            MessageType::Announce => 64,
            MessageType::Signaling => 44,
            MessageType::Management => 48,
        }
    }

    /// Whether the message travels on the event port (319) and is timestamped.
    #[cfg(test)]
    pub(crate) fn is_event(self) -> bool {
        matches!(
            self,
            MessageType::Sync
                | MessageType::DelayReq
                | MessageType::PdelayReq
                | MessageType::PdelayResp
        )
    }
}

/// Why a packet was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Malformed {
    /// Shorter than the common header.
    Truncated { len: usize },
    /// Not PTP version 2.
    Version { major: u8 },
    /// A reserved message type.
    UnknownType { nibble: u8 },
    /// `messageLength` is shorter than the type's fixed part or longer than the packet.
    Length {
        declared: usize,
        actual: usize,
        min: usize,
    },
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Malformed::Truncated { len } => {
                write!(f, "{len} bytes, shorter than the {HEADER_LEN}-byte header")
            }
            Malformed::Version { major } => write!(f, "PTP version {major}, not 2"),
            Malformed::UnknownType { nibble } => write!(f, "reserved message type {nibble:#x}"),
            Malformed::Length {
                declared,
                actual,
                min,
            } => write!(
                f,
                "messageLength {declared} outside [{min}, {actual}] (type minimum, packet length)"
            ),
        }
    }
}

/// The fields of the common header the clock uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) message_type: MessageType,
    pub(crate) minor_version: u8,
    pub(crate) message_length: usize,
    pub(crate) domain: u8,
    pub(crate) flags: u16,
    pub(crate) correction: i64,
    pub(crate) source_clock: [u8; 8],
    pub(crate) source_port: u16,
    pub(crate) sequence_id: u16,
    pub(crate) log_message_interval: i8,
}

impl Header {
    /// Checks and reads the header of `packet`.
    pub(crate) fn parse(packet: &[u8]) -> Result<Header, Malformed> {
        let header: &[u8; HEADER_LEN] = packet
            .get(..HEADER_LEN)
            .and_then(|h| h.try_into().ok())
            .ok_or(Malformed::Truncated { len: packet.len() })?;
        let major = header[1] & 0x0f;
        if major != 2 {
            return Err(Malformed::Version { major });
        }
        let nibble = header[0] & 0x0f;
        let message_type =
            MessageType::from_nibble(nibble).ok_or(Malformed::UnknownType { nibble })?;
        let declared = usize::from(u16::from_be_bytes([header[2], header[3]]));
        let min = message_type.min_len();
        if declared < min || declared > packet.len() {
            return Err(Malformed::Length {
                declared,
                actual: packet.len(),
                min,
            });
        }
        let mut source_clock = [0; 8];
        source_clock.copy_from_slice(&header[20..28]);
        let mut correction = [0; 8];
        correction.copy_from_slice(&header[8..16]);
        Ok(Header {
            message_type,
            minor_version: header[1] >> 4,
            message_length: declared,
            domain: header[4],
            flags: u16::from_be_bytes([header[6], header[7]]),
            correction: i64::from_be_bytes(correction),
            source_clock,
            source_port: u16::from_be_bytes([header[28], header[29]]),
            sequence_id: u16::from_be_bytes([header[30], header[31]]),
            log_message_interval: header[33] as i8,
        })
    }

    /// The header as the 34 bytes it was read from (for tests and fixtures).
    #[cfg(test)]
    pub(crate) fn to_bytes(self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        out[0] = self.message_type.nibble();
        out[1] = (self.minor_version << 4) | 2;
        out[2..4].copy_from_slice(&(self.message_length as u16).to_be_bytes());
        out[4] = self.domain;
        out[6..8].copy_from_slice(&self.flags.to_be_bytes());
        out[8..16].copy_from_slice(&self.correction.to_be_bytes());
        out[20..28].copy_from_slice(&self.source_clock);
        out[28..30].copy_from_slice(&self.source_port.to_be_bytes());
        out[30..32].copy_from_slice(&self.sequence_id.to_be_bytes());
        out[33] = self.log_message_interval as u8;
        out
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    pub(crate) const TYPES: [MessageType; 10] = [
        MessageType::Sync,
        MessageType::DelayReq,
        MessageType::PdelayReq,
        MessageType::PdelayResp,
        MessageType::FollowUp,
        MessageType::DelayResp,
        MessageType::PdelayRespFollowUp,
        MessageType::Announce,
        MessageType::Signaling,
        MessageType::Management,
    ];

    /// A valid message of `kind` with a zeroed body.
    pub(crate) fn message(kind: MessageType, sequence_id: u16) -> Vec<u8> {
        let header = Header {
            message_type: kind,
            minor_version: 0,
            message_length: kind.min_len(),
            domain: 0,
            flags: FLAG_TWO_STEP,
            correction: 0,
            source_clock: [0, 1, 2, 0xff, 0xfe, 3, 4, 5],
            source_port: 1,
            sequence_id,
            log_message_interval: -3,
        };
        let mut bytes = header.to_bytes().to_vec();
        bytes.resize(kind.min_len(), 0);
        bytes
    }

    /// A Sync as ptp4l 3.1 sends it (two-step, domain 0, logMessageInterval 0).
    const PTP4L_SYNC: [u8; 44] = [
        0x00, 0x02, 0x00, 0x2c, 0x00, 0x00, 0x02,
        0x00, // type, version, length, domain, flags
        0, 0, 0, 0, 0, 0, 0, 0, // correction
        0, 0, 0, 0, // reserved
        0x7a, 0x1b, 0x2c, 0xff, 0xfe, 0x3d, 0x4e, 0x5f, 0x00, 0x01, // source port identity
        0x12, 0x34, // sequence id
        0x00, 0x00, // control, log message interval
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // origin timestamp
    ];

    #[test]
    fn parses_a_ptp4l_sync() {
        let header = Header::parse(&PTP4L_SYNC).unwrap();
        assert_eq!(header.message_type, MessageType::Sync);
        assert!(header.message_type.is_event());
        assert_eq!(header.message_length, 44);
        assert_eq!(header.flags & FLAG_TWO_STEP, FLAG_TWO_STEP);
        assert_eq!(
            header.source_clock,
            [0x7a, 0x1b, 0x2c, 0xff, 0xfe, 0x3d, 0x4e, 0x5f]
        );
        assert_eq!(header.source_port, 1);
        assert_eq!(header.sequence_id, 0x1234);
        assert_eq!(header.log_message_interval, 0);
    }

    #[test]
    fn rejects_each_kind_of_malformed_packet() {
        assert_eq!(
            Header::parse(&PTP4L_SYNC[..20]),
            Err(Malformed::Truncated { len: 20 })
        );
        let mut v1 = PTP4L_SYNC;
        v1[1] = 0x01;
        assert_eq!(Header::parse(&v1), Err(Malformed::Version { major: 1 }));
        let mut reserved = PTP4L_SYNC;
        reserved[0] = 0x05;
        assert_eq!(
            Header::parse(&reserved),
            Err(Malformed::UnknownType { nibble: 5 })
        );
        // Declares 44 bytes, carries 40.
        assert!(matches!(
            Header::parse(&PTP4L_SYNC[..40]),
            Err(Malformed::Length {
                declared: 44,
                actual: 40,
                ..
            })
        ));
        // An Announce claiming the length of a Sync.
        let mut short_announce = PTP4L_SYNC;
        short_announce[0] = 0x0b;
        assert!(matches!(
            Header::parse(&short_announce),
            Err(Malformed::Length { min: 64, .. })
        ));
        assert!(Malformed::Truncated { len: 3 }
            .to_string()
            .contains("3 bytes"));
    }

    #[test]
    fn trailing_bytes_beyond_message_length_are_accepted() {
        let mut padded = PTP4L_SYNC.to_vec();
        padded.extend_from_slice(&[0; 20]);
        assert_eq!(Header::parse(&padded).unwrap().message_length, 44);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = Header::parse(&bytes);
        }

        #[test]
        fn every_truncation_of_a_valid_message_is_rejected(kind in 0usize..10, cut in 0usize..64) {
            let bytes = message(TYPES[kind], 7);
            let cut = cut.min(bytes.len());
            let result = Header::parse(&bytes[..bytes.len() - cut]);
            prop_assert_eq!(result.is_ok(), cut == 0);
        }

        #[test]
        fn header_round_trips(
            kind in 0usize..10,
            minor in 0u8..16,
            domain: u8,
            flags: u16,
            correction: i64,
            source_clock: [u8; 8],
            source_port: u16,
            sequence_id: u16,
            log_message_interval: i8,
            extra in 0usize..32,
        ) {
            let message_type = TYPES[kind];
            let header = Header {
                message_type,
                minor_version: minor,
                message_length: message_type.min_len() + extra,
                domain,
                flags,
                correction,
                source_clock,
                source_port,
                sequence_id,
                log_message_interval,
            };
            let mut bytes = header.to_bytes().to_vec();
            bytes.resize(header.message_length, 0xAA);
            prop_assert_eq!(Header::parse(&bytes), Ok(header));
        }

        #[test]
        fn single_byte_corruptions_never_panic(kind in 0usize..10, at in 0usize..64, value: u8) {
            let mut bytes = message(TYPES[kind], 1);
            let at = at % bytes.len();
            bytes[at] = value;
            let _ = Header::parse(&bytes);
        }
    }
}
