//! Typed handles to actors of other processes: what `rt.remote::<A>(uri)` returns.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::proxy::{remote_input, remote_output};
use super::{AnyPort, Peer};
use crate::actor::Actor;
use crate::codec::Codec;
use crate::error::{Error, Result};
use crate::port::{InputRef, InputsRef, OutputRef};
use crate::stats::ActorStats;
use crate::uri::ActorUri;

/// An actor whose ports can all cross a process boundary: every payload has a [`Codec`].
///
/// `#[actor]` implements it whenever that holds (the bound is on the impl, so an actor with a
/// payload that cannot travel is still a fine local actor; only `rt.remote::<A>(..)` of it fails
/// to compile, naming the payload type).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be used across processes: one of its payload types has no `Codec`",
    note = "the error above or below names the payload type; see `streamlib::Codec`"
)]
pub trait RemoteActor: Actor {
    /// The port structs of a remote instance, built from the actor's declaration alone.
    fn remote_ports(ports: &mut RemoteBinder<'_>) -> (Self::Inputs, Self::Outputs);
}

/// Builds the ports of a remote actor; handed to [`RemoteActor::remote_ports`].
pub struct RemoteBinder<'a> {
    pub(crate) peer: &'a Arc<Peer>,
}

impl RemoteBinder<'_> {
    /// The remote actor's input `name`: outputs connected to it publish there.
    pub fn input<T: Codec>(&mut self, name: &'static str) -> InputRef<T> {
        self.proxy::<InputRef<T>, T>(name, false, |peer, name| {
            Arc::new(remote_input::<T>(peer, name))
        })
    }

    /// The remote actor's input set `name`. From this process it takes one upstream (a second
    /// `connect` is [`Error::InputAlreadyConnected`](crate::Error::InputAlreadyConnected)):
    /// the values of one process reach the remote set as one member.
    pub fn inputs<T: Codec>(&mut self, name: &'static str) -> InputsRef<T> {
        InputsRef::over(self.input::<T>(name))
    }

    /// The remote actor's output `name`: inputs connected to it read what it publishes.
    pub fn output<T: Codec>(&mut self, name: &'static str) -> OutputRef<T> {
        self.proxy::<OutputRef<T>, T>(name, true, |peer, name| {
            Arc::new(remote_output::<T>(peer, name))
        })
    }

    fn proxy<P: Clone + 'static, T: Codec>(
        &mut self,
        name: &'static str,
        output: bool,
        make: fn(&Arc<Peer>, &str) -> AnyPort,
    ) -> P {
        super::proxy::WireOps::of::<T>();
        let port = self.peer.proxy(name, output, T::PAYLOAD_TYPE, make);
        port.downcast_ref::<P>()
            .cloned()
            .expect("a proxy is made with its payload type, which is part of its key")
    }
}

/// An actor of another process or host, with its ports typed as the actor declares them.
///
/// `inputs` and `outputs` work in `pipeline!` and [`connect`](crate::connect) like those of an
/// [`ActorHandle`](crate::ActorHandle): a local input connected to a remote output reads what
/// the remote actor writes (stale while it cannot be reached); a local output connected to a
/// remote input publishes each value written there (the remote runtime must accept writes).
/// Returned at once; values flow once the remote actor is reachable.
pub struct RemoteHandle<A: Actor> {
    /// The remote actor's input ports.
    pub inputs: A::Inputs,
    /// The remote actor's output ports.
    pub outputs: A::Outputs,
    pub(crate) peer: Arc<Peer>,
}

impl<A: RemoteActor> RemoteHandle<A> {
    pub(crate) fn new(peer: Arc<Peer>) -> RemoteHandle<A> {
        let (inputs, outputs) = A::remote_ports(&mut RemoteBinder { peer: &peer });
        RemoteHandle {
            inputs,
            outputs,
            peer,
        }
    }
}

impl<A: Actor> RemoteHandle<A> {
    /// The remote actor's URI.
    pub fn uri(&self) -> &ActorUri {
        &self.peer.uri
    }

    /// Whether the remote actor is announced now (its runtime runs it and can be reached).
    pub fn is_running(&self) -> bool {
        self.peer.is_alive()
    }

    /// Waits until the remote actor is reachable; [`Error::Timeout`] after `timeout`.
    pub fn wait_until_running(&self, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout.min(Duration::from_secs(3600 * 24));
        while !self.peer.is_alive() {
            let network = self.peer.network.upgrade().ok_or(Error::RuntimeShutDown)?;
            if Instant::now() >= deadline {
                return Err(Error::Timeout {
                    waiting_for: self.peer.uri.to_string(),
                    timeout,
                });
            }
            network.wait_change(deadline);
        }
        Ok(())
    }

    /// The remote actor's counters, asked of its runtime (within `timeout`).
    pub fn stats(&self, timeout: Duration) -> Result<ActorStats> {
        self.peer.stats(timeout)
    }
}

impl<A: Actor> fmt::Debug for RemoteHandle<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RemoteHandle({})", self.peer.uri)
    }
}
