//! The lock around an actor's state: one locked instruction to take it, a plain store to give
//! it back.
//!
//! A tick takes an actor's lock once per run, and nearly always nobody else wants it: the
//! only other takers are a stop (`on_stop`, the drop of the state) and a tick of another
//! thread that found the actor still running. A general mutex pays a compare-and-swap on
//! release too, to see whether it must wake a sleeper; this one keeps no sleepers. A taker that
//! finds it held spins briefly, then polls with sleeps that double from 20 µs to 1 ms: such a
//! wait is rare and waits for user code (`process`, `on_stop`) that runs for much longer.
//! 10,000 empty actors at 60 Hz: a locked instruction less per actor-tick (BENCHMARKS.md).
//!
//! [`ActorLock`] is a [`lock_api::Mutex`](parking_lot::lock_api::Mutex) over
//! [`RawActorLock`], with the same guards and timed `try_lock_until` as `parking_lot`'s.

// Under loom only the model below uses the raw lock (the cell takes parking_lot's).
#![cfg_attr(loom, allow(dead_code))]

use std::time::{Duration, Instant};

#[cfg(not(loom))]
use parking_lot::lock_api::{GuardSend, RawMutex, RawMutexTimed};

use self::sync::{AtomicBool, Ordering};

/// Loom's atomic under `cfg(loom)` (the model below), the standard library's otherwise.
mod sync {
    #[cfg(loom)]
    pub(crate) use loom::sync::atomic::{AtomicBool, Ordering};
    #[cfg(not(loom))]
    pub(crate) use std::sync::atomic::{AtomicBool, Ordering};
}

/// A mutex whose release is a plain store (see the module docs).
#[cfg(not(loom))]
pub(crate) type ActorLock<T> = parking_lot::lock_api::Mutex<RawActorLock, T>;
/// Under loom (which models the raw lock below, not the cell), `parking_lot`'s.
#[cfg(loom)]
pub(crate) type ActorLock<T> = parking_lot::Mutex<T>;

/// The raw lock of [`ActorLock`]: one flag.
pub(crate) struct RawActorLock {
    locked: AtomicBool,
}

/// Spins before a waiter starts to sleep (none under loom, where a spin is a yield).
#[cfg(not(loom))]
const SPINS: u32 = 64;
#[cfg(loom)]
const SPINS: u32 = 0;
/// A waiter's first sleep; each next one doubles, up to [`LONGEST_SLEEP`].
const FIRST_SLEEP: Duration = Duration::from_micros(20);
const LONGEST_SLEEP: Duration = Duration::from_millis(1);

impl RawActorLock {
    #[cfg(loom)]
    fn new() -> RawActorLock {
        RawActorLock {
            locked: AtomicBool::new(false),
        }
    }

    /// Takes the lock, waiting as long as it takes.
    #[inline]
    fn take(&self) {
        if !self.try_take() {
            self.take_slow(None);
        }
    }

    /// Gives the lock back; only its holder may.
    #[inline]
    fn release(&self) {
        self.locked.store(false, Ordering::Release);
    }

    #[inline]
    fn try_take(&self) -> bool {
        self.locked
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }

    /// Waits for the lock, until `until` if given; returns whether it took it.
    #[cold]
    fn take_slow(&self, until: Option<Instant>) -> bool {
        let mut sleep = FIRST_SLEEP;
        let mut tries = 0u32;
        loop {
            // Reading before the compare-and-swap keeps waiters off the holder's cache line.
            if !self.locked.load(Ordering::Relaxed) && self.try_take() {
                return true;
            }
            tries += 1;
            if tries < SPINS {
                std::hint::spin_loop();
                continue;
            }
            let now = Instant::now();
            let nap = match until {
                Some(until) if now >= until => return false,
                Some(until) => sleep.min(until - now),
                None => sleep,
            };
            pause(nap);
            sleep = (sleep * 2).min(LONGEST_SLEEP);
        }
    }
}

/// Sleeps `nap` (under loom: lets another thread run).
fn pause(nap: Duration) {
    #[cfg(loom)]
    {
        let _ = nap;
        loom::thread::yield_now();
    }
    #[cfg(not(loom))]
    std::thread::sleep(nap);
}

#[cfg(not(loom))]
// SAFETY: `lock`/`try_lock` return only once the compare-and-swap took `locked` from false to
// true (Acquire), so at most one owner holds it at a time; `unlock` is called only by that owner
// (lock_api's contract) and stores false with Release, so the next owner's Acquire sees every
// write the previous one made under the lock.
unsafe impl RawMutex for RawActorLock {
    #[allow(clippy::declare_interior_mutable_const)]
    const INIT: RawActorLock = RawActorLock {
        locked: AtomicBool::new(false),
    };

    type GuardMarker = GuardSend;

    #[inline]
    fn lock(&self) {
        self.take();
    }

    #[inline]
    fn try_lock(&self) -> bool {
        self.try_take()
    }

    #[inline]
    unsafe fn unlock(&self) {
        self.release();
    }

    fn is_locked(&self) -> bool {
        self.locked.load(Ordering::Relaxed)
    }
}

#[cfg(not(loom))]
// SAFETY: as for `RawMutex` above: the timed forms take the lock by the same compare-and-swap,
// or return false without it.
unsafe impl RawMutexTimed for RawActorLock {
    type Duration = Duration;
    type Instant = Instant;

    fn try_lock_for(&self, timeout: Duration) -> bool {
        match Instant::now().checked_add(timeout) {
            Some(until) => self.try_lock_until(until),
            // A timeout past what an `Instant` holds: wait as long as it takes.
            None => {
                self.take();
                true
            }
        }
    }

    fn try_lock_until(&self, until: Instant) -> bool {
        self.try_take() || self.take_slow(Some(until))
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::ActorLock;
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    #[test]
    fn a_held_lock_times_out_then_is_taken_once_released() {
        let lock = Arc::new(ActorLock::new(0u32));
        let mut guard = lock.lock();
        let started = Instant::now();
        assert!(lock.try_lock_for(Duration::from_millis(30)).is_none());
        assert!(started.elapsed() >= Duration::from_millis(30));
        *guard += 1;
        let waiter = {
            let lock = lock.clone();
            std::thread::spawn(move || {
                let mut value = lock.lock();
                *value += 1;
                *value
            })
        };
        std::thread::sleep(Duration::from_millis(20));
        assert!(!waiter.is_finished(), "the waiter took a held lock");
        drop(guard);
        assert_eq!(
            waiter.join().unwrap(),
            2,
            "the waiter saw the holder's write"
        );
        assert_eq!(*lock.try_lock_for(Duration::ZERO).unwrap(), 2);
    }

    #[test]
    fn four_threads_lose_no_increment() {
        let lock = Arc::new(ActorLock::new(0u64));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let lock = lock.clone();
                std::thread::spawn(move || {
                    for _ in 0..20_000 {
                        *lock.lock() += 1;
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(*lock.lock(), 80_000);
    }
}

/// Loom model of [`RawActorLock`]: `RUSTFLAGS="--cfg loom" cargo test -p streamlib --release
/// --lib loom_actor_lock`.
#[cfg(all(test, loom))]
mod loom_actor_lock {
    use super::RawActorLock;
    use loom::cell::UnsafeCell;
    use loom::sync::Arc;
    use loom::thread;

    struct Shared {
        lock: RawActorLock,
        value: UnsafeCell<u32>,
    }

    // SAFETY (test): `value` is only touched under `lock`; loom checks exactly that.
    unsafe impl Sync for Shared {}

    /// Two threads (a tick, a stop) each add under the lock: never at once (loom's cell would
    /// report it), and the second sees the first's write, so nothing is lost.
    #[test]
    fn a_plain_store_release_still_excludes_and_publishes() {
        loom::model(|| {
            let shared = Arc::new(Shared {
                lock: RawActorLock::new(),
                value: UnsafeCell::new(0),
            });
            let other = {
                let shared = shared.clone();
                thread::spawn(move || {
                    shared.lock.take();
                    // SAFETY: this thread holds the lock.
                    shared.value.with_mut(|v| unsafe { *v += 1 });
                    shared.lock.release();
                })
            };
            shared.lock.take();
            // SAFETY: this thread holds the lock.
            shared.value.with_mut(|v| unsafe { *v += 1 });
            shared.lock.release();
            other.join().unwrap();
            shared.lock.take();
            // SAFETY: this thread holds the lock.
            assert_eq!(shared.value.with(|v| unsafe { *v }), 2);
            shared.lock.release();
        });
    }
}
