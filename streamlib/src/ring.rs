//! TEMPORARY placeholder (mutex-based) until the lock-free ring lands.
#![allow(missing_docs)]
use parking_lot::Mutex;
use std::sync::Arc;
pub struct RingBuffer<T> {
    inner: Mutex<(u64, Option<Arc<T>>)>,
    slots: usize,
}
impl<T> RingBuffer<T> {
    pub const DEFAULT_SLOTS: usize = 3;
    pub fn new(slots: usize) -> crate::Result<Self> {
        if slots == 0 {
            return Err(crate::Error::InvalidSlots { slots });
        }
        Ok(RingBuffer {
            inner: Mutex::new((0, None)),
            slots,
        })
    }
    pub fn write(&self, v: T) {
        self.write_arc(Arc::new(v))
    }
    pub fn write_arc(&self, v: Arc<T>) {
        let mut g = self.inner.lock();
        g.0 += 1;
        g.1 = Some(v);
    }
    pub fn read_latest(&self) -> Option<Arc<T>> {
        self.inner.lock().1.clone()
    }
    pub fn read_latest_with_seq(&self) -> Option<(u64, Arc<T>)> {
        let g = self.inner.lock();
        g.1.clone().map(|v| (g.0, v))
    }
    pub fn seq(&self) -> u64 {
        self.inner.lock().0
    }
    pub fn is_empty(&self) -> bool {
        self.seq() == 0
    }
    pub fn slots(&self) -> usize {
        self.slots
    }
}
impl<T> Default for RingBuffer<T> {
    fn default() -> Self {
        Self::new(3).unwrap()
    }
}
