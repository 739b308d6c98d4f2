//! UDP port allocation for RTP streams, following SMPTE ST 2110 / RTP practice.
//!
//! A [`PortAllocator`] hands out ports from a half-open range `[start, end)` whose bounds are both
//! even. RTP media uses even ports and its RTCP companion the odd port just above
//! (RFC 3550 §11), so:
//!
//! - [`allocate`](PortAllocator::allocate) reserves one even port;
//! - [`allocate_pair`](PortAllocator::allocate_pair) reserves an even RTP port `p` and the odd
//!   RTCP port `p + 1` (which is always inside the range, since `end` is even);
//! - the search starts at the even port after the last one handed out and wraps around to
//!   `start` (as the Python original did), so a port just freed is not reused at once — a late
//!   packet for an old stream does not land in a new one;
//! - a full range is [`Error::PortsExhausted`]; freeing a port that is not allocated is
//!   [`Error::PortNotAllocated`], whose typed reason says why (outside the range, half of a pair, …).
//!
//! Every allocation occupies one even slot: the odd port above a single allocation is never
//! handed out to anyone else. A pair is freed only as a whole, with
//! [`free_pair`](PortAllocator::free_pair); [`free`](PortAllocator::free) refuses either half of it.
//!
//! All methods take `&self`: the state sits behind a mutex, so one allocator can be shared between
//! threads (in an `Arc`, or a `static`) without further locking. Each call holds the lock for one
//! short search of the range.
//!
//! ```
//! use streamlib::PortAllocator;
//!
//! let ports = PortAllocator::new(5004, 5010)?;
//! assert_eq!(ports.allocate_pair("cam0 video")?, (5004, 5005));
//! assert_eq!(ports.allocate("cam0 audio")?, 5006);
//! ports.free_pair(5004)?;
//! assert!(!ports.is_allocated(5005));
//! assert_eq!(ports.allocate("cam1 video")?, 5008); // after the last one handed out
//! assert_eq!(ports.allocate("cam2 video")?, 5004); // wrapped around to the start
//! assert!(ports.allocate("one too many").is_err());
//! # Ok::<(), streamlib::Error>(())
//! ```

use std::collections::BTreeMap;

use parking_lot::Mutex;

use crate::error::{Error, NotAllocated, Result};

/// Hands out even RTP ports, and RTP/RTCP pairs, from `[start, end)`.
///
/// See the [module documentation](self) for the rules. There is deliberately no `Default`: the
/// range depends on the deployment (firewall rules, other services on the host).
#[derive(Debug)]
pub struct PortAllocator {
    start: u16,
    end: u16,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    /// Every allocated port, the halves of a pair included.
    allocations: BTreeMap<u16, Allocation>,
    /// The even port the next search starts at.
    next: u16,
}

#[derive(Debug)]
struct Allocation {
    role: Role,
    desc: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Reserved by `allocate`.
    Single,
    /// The even half of a pair reserved by `allocate_pair`.
    Rtp,
    /// The odd half of a pair reserved by `allocate_pair`.
    Rtcp,
}

impl PortAllocator {
    /// An allocator for the half-open range `[start, end)`, nothing allocated.
    ///
    /// # Errors
    /// [`Error::InvalidPortRange`] naming the rule broken: `start` is 0 (port 0 means "any port"
    /// to the system), `start` or `end` is odd, or `start >= end`.
    pub fn new(start: u16, end: u16) -> Result<PortAllocator> {
        let reason = if start == 0 {
            Some("start must not be 0 (port 0 asks the system for any free port)")
        } else if !start.is_multiple_of(2) {
            Some("start must be even (RTP uses even ports)")
        } else if !end.is_multiple_of(2) {
            Some("end must be even (the range is [start, end) of whole RTP/RTCP pairs)")
        } else if start >= end {
            Some("start must be less than end")
        } else {
            None
        };
        if let Some(reason) = reason {
            return Err(Error::InvalidPortRange { start, end, reason });
        }
        Ok(PortAllocator {
            start,
            end,
            state: Mutex::new(State {
                allocations: BTreeMap::new(),
                next: start,
            }),
        })
    }

    /// First port of the range.
    pub fn start(&self) -> u16 {
        self.start
    }

    /// One past the last port of the range.
    pub fn end(&self) -> u16 {
        self.end
    }

    /// Reserves one even port for `desc` (a description kept for [`allocations`](Self::allocations)
    /// and error messages) and returns it.
    ///
    /// # Errors
    /// [`Error::PortsExhausted`] when every even port of the range is taken.
    pub fn allocate(&self, desc: &str) -> Result<u16> {
        let mut state = self.state.lock();
        let port = self
            .next_free(&state)
            .ok_or_else(|| self.exhausted("port", desc))?;
        state.insert(port, Role::Single, desc);
        state.next = self.after(port);
        Ok(port)
    }

    /// Reserves an even RTP port `p` and the odd RTCP port `p + 1` for `desc`; returns `(p, p + 1)`.
    ///
    /// # Errors
    /// [`Error::PortsExhausted`] when no such pair is free.
    pub fn allocate_pair(&self, desc: &str) -> Result<(u16, u16)> {
        let mut state = self.state.lock();
        let rtp = self
            .next_free(&state)
            .ok_or_else(|| self.exhausted("RTP/RTCP pair", desc))?;
        state.insert(rtp, Role::Rtp, desc);
        state.insert(rtp + 1, Role::Rtcp, desc);
        state.next = self.after(rtp);
        Ok((rtp, rtp + 1))
    }

    /// Releases a port reserved by [`allocate`](Self::allocate).
    ///
    /// # Errors
    /// [`Error::PortNotAllocated`] if `port` is not allocated, is outside the range, or is half of
    /// a pair (free that with [`free_pair`](Self::free_pair)).
    pub fn free(&self, port: u16) -> Result<()> {
        let mut state = self.state.lock();
        match state.allocations.get(&port) {
            Some(Allocation {
                role: Role::Single, ..
            }) => {
                state.allocations.remove(&port);
                Ok(())
            }
            Some(Allocation { role, desc }) => {
                let rtp = if *role == Role::Rtp { port } else { port - 1 };
                Err(not_allocated(
                    port,
                    NotAllocated::HalfOfPair {
                        rtp,
                        desc: desc.clone(),
                    },
                ))
            }
            None => Err(not_allocated(
                port,
                self.unallocated(port, NotAllocated::Free),
            )),
        }
    }

    /// Releases the RTP port `rtp` and the RTCP port `rtp + 1` reserved together by
    /// [`allocate_pair`](Self::allocate_pair).
    ///
    /// # Errors
    /// [`Error::PortNotAllocated`] if `rtp` is odd, or no pair starts at `rtp` (nothing is
    /// allocated there, or the port was reserved alone by [`allocate`](Self::allocate)).
    pub fn free_pair(&self, rtp: u16) -> Result<()> {
        if !rtp.is_multiple_of(2) {
            return Err(not_allocated(rtp, NotAllocated::OddRtpPort));
        }
        let mut state = self.state.lock();
        match state
            .allocations
            .get(&rtp)
            .map(|allocation| allocation.role)
        {
            Some(Role::Rtp) => {
                state.allocations.remove(&rtp);
                state.allocations.remove(&(rtp + 1));
                Ok(())
            }
            Some(_) => Err(not_allocated(rtp, NotAllocated::ReservedAlone)),
            None => Err(not_allocated(
                rtp,
                self.unallocated(rtp, NotAllocated::NoPair),
            )),
        }
    }

    /// Whether `port` is reserved, alone or as either half of a pair.
    pub fn is_allocated(&self, port: u16) -> bool {
        self.state.lock().allocations.contains_key(&port)
    }

    /// Every reserved port with its description, sorted by port. Both halves of a pair are listed,
    /// with the pair's description.
    pub fn allocations(&self) -> Vec<(u16, String)> {
        self.state
            .lock()
            .allocations
            .iter()
            .map(|(&port, allocation)| (port, allocation.desc.clone()))
            .collect()
    }

    /// Releases every port and starts the next search at `start` again.
    pub fn reset(&self) {
        let mut state = self.state.lock();
        state.allocations.clear();
        state.next = self.start;
    }

    /// The first even port, from `state.next` on and wrapping around, with it and the port above free.
    fn next_free(&self, state: &State) -> Option<u16> {
        let slots = u32::from(self.end - self.start) / 2;
        let first = u32::from(state.next - self.start) / 2;
        (0..slots)
            .map(|i| u32::from(self.start) + (first + i) % slots * 2)
            .filter_map(|port| u16::try_from(port).ok())
            .find(|&port| {
                !state.allocations.contains_key(&port)
                    && !state.allocations.contains_key(&(port + 1))
            })
    }

    /// Where the search starts after `port` was handed out.
    fn after(&self, port: u16) -> u16 {
        // `port <= end - 2 <= 65532`, so `port + 2` cannot overflow.
        if port + 2 >= self.end {
            self.start
        } else {
            port + 2
        }
    }

    fn exhausted(&self, what: &'static str, desc: &str) -> Error {
        Error::PortsExhausted {
            start: self.start,
            end: self.end,
            what,
            desc: desc.to_owned(),
        }
    }

    /// Why nothing can be freed at `port`, where nothing is reserved: `in_range` inside the
    /// range, else that it is outside.
    fn unallocated(&self, port: u16, in_range: NotAllocated) -> NotAllocated {
        if (self.start..self.end).contains(&port) {
            in_range
        } else {
            NotAllocated::OutsideRange {
                start: self.start,
                end: self.end,
            }
        }
    }
}

impl State {
    fn insert(&mut self, port: u16, role: Role, desc: &str) {
        let desc = desc.to_owned();
        self.allocations.insert(port, Allocation { role, desc });
    }
}

fn not_allocated(port: u16, reason: NotAllocated) -> Error {
    Error::PortNotAllocated { port, reason }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range_error(start: u16, end: u16) -> &'static str {
        match PortAllocator::new(start, end) {
            Err(Error::InvalidPortRange {
                start: s,
                end: e,
                reason,
            }) => {
                assert_eq!((s, e), (start, end));
                reason
            }
            other => panic!("expected InvalidPortRange for [{start}, {end}), got {other:?}"),
        }
    }

    fn detail(result: Result<()>, expected_port: u16) -> String {
        match result {
            Err(Error::PortNotAllocated { port, reason }) => {
                assert_eq!(port, expected_port);
                reason.after(port).to_string()
            }
            other => panic!("expected PortNotAllocated, got {other:?}"),
        }
    }

    #[test]
    fn range_must_be_even_ordered_and_not_start_at_zero() {
        assert!(PortAllocator::new(5004, 5006).is_ok());
        assert!(PortAllocator::new(2, 65534).is_ok());
        assert!(range_error(5005, 5010).starts_with("start must be even"));
        assert!(range_error(5004, 5011).starts_with("end must be even"));
        assert_eq!(range_error(5004, 5004), "start must be less than end");
        assert_eq!(range_error(5010, 5004), "start must be less than end");
        assert!(range_error(0, 10).starts_with("start must not be 0"));
    }

    #[test]
    fn exposes_its_range() {
        let ports = PortAllocator::new(5000, 5100).unwrap();
        assert_eq!((ports.start(), ports.end()), (5000, 5100));
    }

    #[test]
    fn allocates_even_ports_in_order() {
        let ports = PortAllocator::new(5000, 5100).unwrap();
        assert_eq!(ports.allocate("a").unwrap(), 5000);
        assert_eq!(ports.allocate("b").unwrap(), 5002);
        assert_eq!(ports.allocate("c").unwrap(), 5004);
        assert!(ports.is_allocated(5002));
        assert!(
            !ports.is_allocated(5003),
            "the odd port above a single one stays unallocated"
        );
        assert!(!ports.is_allocated(5006));
    }

    #[test]
    fn search_continues_after_the_last_port_and_wraps_to_start() {
        let ports = PortAllocator::new(10, 16).unwrap();
        assert_eq!(ports.allocate("a").unwrap(), 10);
        assert_eq!(ports.allocate("b").unwrap(), 12);
        ports.free(10).unwrap();
        assert_eq!(ports.allocate("c").unwrap(), 14, "not the port just freed");
        assert_eq!(ports.allocate("d").unwrap(), 10, "wrapped around");
        ports.free(12).unwrap();
        assert_eq!(
            ports.allocate("e").unwrap(),
            12,
            "the search resumes after 10, the last port handed out"
        );
    }

    #[test]
    fn wrap_skips_taken_ports() {
        let ports = PortAllocator::new(10, 18).unwrap();
        for expected in [10, 12, 14, 16] {
            assert_eq!(ports.allocate("x").unwrap(), expected);
        }
        ports.free(14).unwrap();
        // next is 10 (wrapped); 10 and 12 are taken, so the search lands on 14.
        assert_eq!(ports.allocate("y").unwrap(), 14);
    }

    #[test]
    fn exhaustion_names_range_kind_and_description() {
        let ports = PortAllocator::new(10, 14).unwrap();
        ports.allocate("a").unwrap();
        ports.allocate("b").unwrap();
        assert_eq!(
            ports.allocate("cam9 video"),
            Err(Error::PortsExhausted {
                start: 10,
                end: 14,
                what: "port",
                desc: "cam9 video".to_owned()
            })
        );
        assert!(matches!(
            ports.allocate_pair("cam9 audio"),
            Err(Error::PortsExhausted {
                what: "RTP/RTCP pair",
                ..
            })
        ));
        ports.free(12).unwrap();
        assert_eq!(ports.allocate("again").unwrap(), 12, "freed port is reused");
    }

    #[test]
    fn pairs_are_even_rtp_and_odd_rtcp() {
        let ports = PortAllocator::new(5004, 5012).unwrap();
        assert_eq!(ports.allocate_pair("v").unwrap(), (5004, 5005));
        assert_eq!(ports.allocate("a").unwrap(), 5006);
        assert_eq!(ports.allocate_pair("w").unwrap(), (5008, 5009));
        assert!(ports.is_allocated(5004) && ports.is_allocated(5005));
        ports.free_pair(5004).unwrap();
        assert!(!ports.is_allocated(5004) && !ports.is_allocated(5005));
        assert_eq!(ports.allocate_pair("x").unwrap(), (5010, 5011));
        assert_eq!(
            ports.allocate_pair("y").unwrap(),
            (5004, 5005),
            "wrapped, reused"
        );
        assert!(ports.allocate_pair("z").is_err());
    }

    #[test]
    fn the_last_pair_of_the_highest_range_fits() {
        let ports = PortAllocator::new(65530, 65534).unwrap();
        assert_eq!(ports.allocate_pair("a").unwrap(), (65530, 65531));
        assert_eq!(ports.allocate_pair("b").unwrap(), (65532, 65533));
        assert!(ports.allocate("c").is_err());
    }

    #[test]
    fn free_rejects_ports_that_are_not_allocated() {
        let ports = PortAllocator::new(5000, 5010).unwrap();
        assert_eq!(detail(ports.free(5002), 5002), "");
        assert!(detail(ports.free(6000), 6000).contains("outside the range [5000, 5010)"));
        let port = ports.allocate("a").unwrap();
        ports.free(port).unwrap();
        assert_eq!(
            detail(ports.free(port), port),
            "",
            "freeing twice is an error"
        );
        let message = ports.free(5001).unwrap_err().to_string();
        assert_eq!(message, "port 5001 is not allocated");
    }

    #[test]
    fn free_refuses_either_half_of_a_pair() {
        let ports = PortAllocator::new(5000, 5010).unwrap();
        ports.allocate_pair("cam0").unwrap();
        for half in [5000, 5001] {
            let text = detail(ports.free(half), half);
            assert!(text.contains("pair (5000, 5001) for \"cam0\""), "{text}");
            assert!(text.contains("free_pair(5000)"), "{text}");
        }
        assert!(ports.is_allocated(5000) && ports.is_allocated(5001));
    }

    #[test]
    fn free_pair_checks_parity_and_pairing() {
        let ports = PortAllocator::new(5000, 5010).unwrap();
        ports.allocate_pair("p").unwrap();
        let single = ports.allocate("s").unwrap();
        assert!(detail(ports.free_pair(5001), 5001).contains("5001 is odd"));
        assert_eq!(
            ports.free_pair(5001),
            Err(Error::PortNotAllocated {
                port: 5001,
                reason: NotAllocated::OddRtpPort
            })
        );
        assert!(detail(ports.free_pair(single), single).contains("reserved alone by allocate()"));
        assert!(ports.is_allocated(single));
        assert!(detail(ports.free_pair(5004), 5004).contains("no RTP/RTCP pair starts at 5004"));
        assert!(detail(ports.free_pair(6000), 6000).contains("outside the range"));
        ports.free_pair(5000).unwrap();
        assert!(detail(ports.free_pair(5000), 5000).contains("no RTP/RTCP pair"));
        ports.free(single).unwrap();
    }

    #[test]
    fn allocations_are_listed_by_port_with_their_description() {
        let ports = PortAllocator::new(5000, 5010).unwrap();
        ports.allocate("audio").unwrap();
        ports.allocate_pair("video").unwrap();
        assert_eq!(
            ports.allocations(),
            vec![
                (5000, "audio".to_owned()),
                (5002, "video".to_owned()),
                (5003, "video".to_owned()),
            ]
        );
    }

    #[test]
    fn reset_frees_everything_and_restarts_at_start() {
        let ports = PortAllocator::new(5000, 5010).unwrap();
        ports.allocate("a").unwrap();
        ports.allocate_pair("b").unwrap();
        ports.reset();
        assert!(ports.allocations().is_empty());
        assert!(!ports.is_allocated(5000));
        assert_eq!(ports.allocate("c").unwrap(), 5000);
    }

    #[test]
    fn one_allocator_is_shared_between_threads() {
        let ports = PortAllocator::new(10_000, 10_400).unwrap();
        let mut handed_out: Vec<u16> = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..4)
                .map(|_| {
                    scope.spawn(|| {
                        (0..50)
                            .map(|_| ports.allocate("t").unwrap())
                            .collect::<Vec<u16>>()
                    })
                })
                .collect();
            workers
                .into_iter()
                .flat_map(|worker| worker.join().unwrap_or_default())
                .collect::<Vec<u16>>()
        });
        handed_out.sort_unstable();
        handed_out.dedup();
        assert_eq!(handed_out.len(), 200);
        assert!(ports.allocate("full").is_err());
    }
}
