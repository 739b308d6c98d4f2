//! Input sets: one input port fed by any number of outputs.
//!
//! `#[input] pub layers: Inputs<VideoFrame>` declares a port that every connection adds one
//! upstream to (`a.video >> comp.layers; b.video >> comp.layers` in one `pipeline!`). The actor
//! sees one [`Input`] per upstream, in connection order, each with its own read state (and its
//! own queue, for `#[input(queue = N)]`) and its upstream's identity; disconnecting one removes
//! it from the set.
//!
//! ```
//! use streamlib::{connect, Inputs, Output};
//!
//! let (a, b) = (Output::<u8>::new(), Output::<u8>::new());
//! let mut layers = Inputs::<u8>::new();
//! connect(&a.to_ref(), &layers.to_ref())?;
//! connect(&b.to_ref(), &layers.to_ref())?;
//! a.write(1);
//! b.write(2);
//! let newest: Vec<u8> = layers.iter().filter_map(|i| i.read_latest()).map(|v| *v).collect();
//! assert_eq!(newest, [1, 2], "in connection order");
//! # Ok::<(), streamlib::Error>(())
//! ```

use std::fmt;
use std::ops::{Deref, Shr};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::{Input, InputRef, InputShared, OutputRef, PortStats};
use crate::error::Result;
use crate::pipeline::{connect, Connection};

/// An input port that any number of outputs feed (an input set): one [`Input`] per upstream.
pub struct Inputs<T> {
    shared: Arc<InputShared<T>>,
    /// `shared.version` when `members` was last brought up to date.
    version: u64,
    /// One input per upstream, in connection order.
    members: Vec<Input<T>>,
}

impl<T: Send + Sync + 'static> Inputs<T> {
    /// An input set with no upstream yet.
    pub fn new() -> Inputs<T> {
        Inputs {
            shared: Arc::new(InputShared::new(None, true)),
            version: 0,
            members: Vec::new(),
        }
    }

    /// A set whose every member is a queued input of `capacity` values (see
    /// [`Input::queued`]); `#[input(queue = N)]` on an `Inputs<T>` field makes one.
    pub fn queued(capacity: usize) -> Result<Inputs<T>> {
        let inputs = Inputs::new();
        inputs.shared.set_queue(capacity)?;
        Ok(inputs)
    }

    /// Picks up connects and disconnects since the last call: one atomic load when there were
    /// none. A member that stays keeps its read state.
    fn refresh(&mut self) {
        let version = self.shared.version.load(Ordering::Acquire);
        if version == self.version {
            return;
        }
        let mut old = std::mem::take(&mut self.members);
        self.members = self
            .shared
            .members()
            .into_iter()
            .map(
                |member| match old.iter().position(|i| Arc::ptr_eq(&i.shared, &member)) {
                    Some(at) => old.swap_remove(at),
                    None => Input::over(member),
                },
            )
            .collect();
        self.version = version;
    }

    /// How many outputs feed this set now.
    pub fn len(&mut self) -> usize {
        self.refresh();
        self.members.len()
    }

    /// Whether no output feeds this set.
    pub fn is_empty(&mut self) -> bool {
        self.len() == 0
    }

    /// One input per upstream, in connection order ([`Input::upstream`] says which).
    pub fn iter(&mut self) -> std::slice::Iter<'_, Input<T>> {
        self.refresh();
        self.members.iter()
    }

    /// As [`iter`](Inputs::iter), for [`Input::read_new`] and [`Input::drain`].
    pub fn iter_mut(&mut self) -> std::slice::IterMut<'_, Input<T>> {
        self.refresh();
        self.members.iter_mut()
    }

    /// A handle to this port, for wiring.
    pub fn to_ref(&self) -> InputsRef<T> {
        InputsRef {
            input: InputRef {
                shared: self.shared.clone(),
            },
        }
    }

    /// Counters of this port, summed over its upstreams.
    pub fn stats(&self) -> PortStats {
        self.shared.stats()
    }
}

impl<T: Send + Sync + 'static> Default for Inputs<T> {
    fn default() -> Self {
        Inputs::new()
    }
}

impl<T: Send + Sync + 'static> fmt::Debug for Inputs<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Inputs")
            .field("port", &self.shared.describe())
            .field("payload", &std::any::type_name::<T>())
            .finish()
    }
}

/// A handle to an input set, for wiring: every [`connect`] to it adds one upstream. Derefs to
/// the [`InputRef`] it is (name, stats, `connect`).
pub struct InputsRef<T> {
    input: InputRef<T>,
}

impl<T: Send + Sync + 'static> InputsRef<T> {
    /// A set over `input` (a remote actor's set: one upstream per connection of this process).
    pub(crate) fn over(input: InputRef<T>) -> InputsRef<T> {
        InputsRef { input }
    }

    /// How many outputs feed this set now.
    pub fn len(&self) -> usize {
        self.input.shared.upstream_count()
    }

    /// Whether no output feeds this set.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `actor://host/Class/id.port` of each output feeding this set, in connection order.
    pub fn upstreams(&self) -> Vec<String> {
        self.input
            .shared
            .upstream_ports()
            .into_iter()
            .map(|address| address.to_string())
            .collect()
    }
}

impl<T> Deref for InputsRef<T> {
    type Target = InputRef<T>;

    fn deref(&self) -> &InputRef<T> {
        &self.input
    }
}

impl<T> Clone for InputsRef<T> {
    fn clone(&self) -> Self {
        InputsRef {
            input: self.input.clone(),
        }
    }
}

impl<T> fmt::Debug for InputsRef<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Inputs{:?}", self.input)
    }
}

impl<T: Send + Sync + 'static> Shr<&InputsRef<T>> for &OutputRef<T> {
    type Output = Result<Connection>;

    /// `&output >> &set` is [`connect`]`(&output, &set)`: one more upstream.
    fn shr(self, set: &InputsRef<T>) -> Result<Connection> {
        connect(self, set)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Output;

    #[test]
    fn members_follow_connects_and_keep_their_read_state() {
        let (a, b, c) = (Output::new(), Output::new(), Output::new());
        let mut set = Inputs::<u32>::new();
        let to_a = connect(&a.to_ref(), &set.to_ref()).unwrap();
        connect(&b.to_ref(), &set.to_ref()).unwrap();
        a.write(1);
        b.write(2);
        let first: Vec<u32> = set
            .iter_mut()
            .filter_map(|i| i.read_new())
            .map(|v| *v)
            .collect();
        assert_eq!(first, [1, 2]);
        to_a.disconnect().unwrap();
        connect(&c.to_ref(), &set.to_ref()).unwrap();
        c.write(3);
        assert_eq!(set.len(), 2);
        let second: Vec<u32> = set
            .iter_mut()
            .filter_map(|i| i.read_new())
            .map(|v| *v)
            .collect();
        assert_eq!(second, [3], "b's 2 was returned already; a is gone");
        assert_eq!(set.to_ref().len(), 2);
    }

    #[test]
    fn a_second_connect_to_a_single_input_is_still_refused() {
        let (a, b) = (Output::<u8>::new(), Output::<u8>::new());
        let single = crate::Input::<u8>::new();
        connect(&a.to_ref(), &single.to_ref()).unwrap();
        let error = connect(&b.to_ref(), &single.to_ref()).unwrap_err();
        assert!(matches!(error, crate::Error::InputAlreadyConnected { .. }));
    }

    #[test]
    fn queued_members_each_keep_every_value() {
        let (a, b) = (Output::new(), Output::new());
        let mut set = Inputs::<u32>::queued(8).unwrap();
        connect(&a.to_ref(), &set.to_ref()).unwrap();
        connect(&b.to_ref(), &set.to_ref()).unwrap();
        for v in 0..3 {
            a.write(v);
            b.write(10 + v);
        }
        let got: Vec<Vec<u32>> = set
            .iter_mut()
            .map(|i| i.drain().map(|v| *v).collect())
            .collect();
        assert_eq!(got, [vec![0, 1, 2], vec![10, 11, 12]]);
        assert_eq!(set.stats().reads, 6);
    }
}
