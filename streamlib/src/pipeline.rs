//! Wiring: connections between an output and an input, and pipelines of them.
//!
//! [`connect`] (or `&output >> &input`) points an input at an output's ring buffer. It works while
//! both actors run: the input sees the new upstream on its next read, and the scheduler reorders
//! the clock's actors so that the writer runs before the reader within each tick. An input has at
//! most one upstream: connecting a connected input is [`Error::InputAlreadyConnected`], never a
//! silent replacement. An output feeds any number of inputs (fan-out shares one `Arc`).
//!
//! A [`Connection`] and a [`Pipeline`] (what `pipeline!` returns) are receipts: dropping them
//! changes nothing; [`Connection::disconnect`] / [`Pipeline::disconnect`] undo the wiring.
//!
//! ```
//! use streamlib::{Input, Output, Pipeline};
//!
//! let (a, b) = (Output::<f32>::new(), Output::<f32>::new());
//! let (x, y) = (Input::<f32>::new(), Input::<f32>::new());
//! let mut pipeline = Pipeline::new();
//! pipeline.push((&a.to_ref() >> &x.to_ref())?);
//! pipeline.push((&a.to_ref() >> &y.to_ref())?); // fan-out
//! assert!((&b.to_ref() >> &x.to_ref()).is_err(), "x already has an upstream");
//! assert!(pipeline.to_dot().starts_with("digraph"));
//! pipeline.disconnect()?;
//! assert!(!x.is_connected());
//! # Ok::<(), streamlib::Error>(())
//! ```

use std::any::type_name;
use std::fmt;
use std::ops::Shr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};

use crate::error::{Error, Result};
use crate::graph::{GraphModel, Link};
use crate::port::{Detach, Graph, InputRef, OutputRef};

/// Connects `output` to `input`: from now on `input` reads what `output` writes.
///
/// Errors with [`Error::InputAlreadyConnected`] if `input` has an upstream already.
pub fn connect<T: Send + Sync + 'static>(
    output: &OutputRef<T>,
    input: &InputRef<T>,
) -> Result<Connection> {
    // Both ends bound to actors: they must be of one runtime, which then orders and owns the
    // connection. (A port of a remote actor is bound to none.)
    let bound = match (output.shared.binding.get(), input.shared.binding.get()) {
        (Some(from), Some(to)) if !Weak::ptr_eq(&from.graph, &to.graph) => {
            return Err(Error::DifferentRuntimes {
                output: output.shared.describe(),
                input: input.shared.describe(),
            })
        }
        (Some(from), Some(to)) => Some((from, to)),
        _ => None,
    };
    let id = next_connection_id();
    input
        .shared
        .attach(id, output.shared.clone())
        .map_err(|upstream| Error::InputAlreadyConnected {
            input: input.shared.describe(),
            upstream,
        })?;
    let detach: Detach = {
        let shared = input.shared.clone();
        Arc::new(move || shared.detach(id))
    };
    let graph = match bound {
        Some((from, to)) => {
            if let Some(graph) = to.graph.upgrade() {
                // Checked under the runtime's lock, so a stop cannot slip between: a connection
                // never outlives either end.
                if let Err(stopped) = graph.connected(id, from.actor, to.actor, detach.clone()) {
                    detach();
                    let uri = if stopped == from.actor {
                        &from.uri
                    } else {
                        &to.uri
                    };
                    return Err(Error::ActorNotRunning {
                        uri: uri.to_string(),
                    });
                }
            }
            Some(to.graph.clone())
        }
        None => None,
    };
    let shared = input.shared.clone();
    let link = Link {
        from: output.shared.address(),
        to: input.shared.address(),
        payload: type_name::<T>(),
    };
    Ok(Connection {
        inner: Arc::new(ConnectionInner {
            id,
            output: link.output_text(),
            input: link.input_text(),
            link,
            graph,
            detach,
            current: Box::new(move || shared.has_connection(id)),
        }),
    })
}

/// A connection id, unique in the process (they count up from 1).
pub(crate) fn next_connection_id() -> u64 {
    static NEXT_ID: AtomicU64 = AtomicU64::new(1);
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

impl<T: Send + Sync + 'static> Shr<&InputRef<T>> for &OutputRef<T> {
    type Output = Result<Connection>;

    /// `&output >> &input` is [`connect`]`(&output, &input)`.
    fn shr(self, input: &InputRef<T>) -> Result<Connection> {
        connect(self, input)
    }
}

struct ConnectionInner {
    id: u64,
    /// The ends as typed data, for describing the graph.
    link: Link,
    output: String,
    input: String,
    graph: Option<Weak<dyn Graph>>,
    detach: Detach,
    /// Whether this connection still feeds the input.
    current: Box<dyn Fn() -> bool + Send + Sync>,
}

/// One output → input link. Cloning gives another receipt for the same link.
#[derive(Clone)]
pub struct Connection {
    inner: Arc<ConnectionInner>,
}

impl Connection {
    /// Undoes the link: the input reads `None` until connected again.
    ///
    /// Errors with [`Error::NotConnected`] if it was already undone (by this receipt, another
    /// one, or because one of its actors stopped).
    pub fn disconnect(&self) -> Result<()> {
        let inner = &*self.inner;
        if !(inner.detach)() {
            return Err(Error::NotConnected {
                output: inner.output.clone(),
                input: inner.input.clone(),
            });
        }
        if let Some(graph) = inner.graph.as_ref().and_then(Weak::upgrade) {
            graph.disconnected(inner.id);
        }
        Ok(())
    }

    /// Whether the link is still in place.
    pub fn is_connected(&self) -> bool {
        (self.inner.current)()
    }

    /// The output side, as `actor://host/Class/id.port`.
    pub fn output(&self) -> &str {
        &self.inner.output
    }

    /// The input side, as `actor://host/Class/id.port`.
    pub fn input(&self) -> &str {
        &self.inner.input
    }

    /// The payload type carried.
    pub fn payload_type(&self) -> &'static str {
        self.inner.link.payload
    }

    /// A number unique to this link in the process.
    pub fn id(&self) -> u64 {
        self.inner.id
    }
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} >> {} ({})",
            self.inner.output, self.inner.input, self.inner.link.payload
        )
    }
}

/// The connections made by one `pipeline!` (or collected by hand).
#[derive(Clone, Debug, Default)]
pub struct Pipeline {
    connections: Vec<Connection>,
}

impl Pipeline {
    /// An empty pipeline.
    pub fn new() -> Pipeline {
        Pipeline::default()
    }

    /// Adds a connection.
    pub fn push(&mut self, connection: Connection) {
        self.connections.push(connection);
    }

    /// The connections, in the order they were made.
    pub fn connections(&self) -> &[Connection] {
        &self.connections
    }

    /// Number of connections.
    pub fn len(&self) -> usize {
        self.connections.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.connections.is_empty()
    }

    /// Disconnects every connection still in place; errors only if none was.
    pub fn disconnect(&self) -> Result<()> {
        let mut first_error = None;
        let mut undone = 0;
        for connection in &self.connections {
            match connection.disconnect() {
                Ok(()) => undone += 1,
                Err(e) => first_error = first_error.or(Some(e)),
            }
        }
        match first_error {
            Some(e) if undone == 0 => Err(e),
            _ => Ok(()),
        }
    }

    /// The pipeline as a Graphviz DOT digraph: one node per actor, one edge per connection
    /// labelled `output → input : payload` (described by the same model as
    /// [`Registry::to_dot`](crate::Registry::to_dot)).
    pub fn to_dot(&self) -> String {
        self.graph().to_dot()
    }

    /// The connections as a graph model, their ends as typed data.
    pub(crate) fn graph(&self) -> GraphModel {
        let links = self.connections.iter().map(|c| c.inner.link.clone());
        GraphModel::new(Vec::new(), links.collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::port::{Input, Output};

    #[test]
    fn connect_then_read() {
        let out = Output::new();
        let inp = Input::new();
        let c = connect(&out.to_ref(), &inp.to_ref()).unwrap();
        out.write(5u8);
        assert_eq!(*inp.read_latest().unwrap(), 5);
        assert!(c.is_connected());
        assert_eq!(c.payload_type(), "u8");
    }

    #[test]
    fn an_output_knows_whether_anything_reads_it() {
        let out = Output::<u8>::new();
        let (single, queued) = (Input::new(), Input::queued(4).unwrap());
        assert!(!out.is_connected());
        let a = connect(&out.to_ref(), &single.to_ref()).unwrap();
        let b = connect(&out.to_ref(), &queued.to_ref()).unwrap();
        assert!(out.is_connected() && out.to_ref().is_connected());
        a.disconnect().unwrap();
        assert!(out.is_connected(), "the queued input still reads");
        b.disconnect().unwrap();
        assert!(!out.is_connected());
    }

    #[test]
    fn input_already_connected_names_both_sides() {
        let out1 = Output::<u8>::new();
        let out2 = Output::<u8>::new();
        let inp = Input::new();
        let _c = connect(&out1.to_ref(), &inp.to_ref()).unwrap();
        let err = connect(&out2.to_ref(), &inp.to_ref()).unwrap_err();
        assert!(matches!(err, Error::InputAlreadyConnected { .. }), "{err}");
    }

    #[test]
    fn disconnect_twice_is_an_error() {
        let out = Output::<u8>::new();
        let inp = Input::new();
        let c = connect(&out.to_ref(), &inp.to_ref()).unwrap();
        let copy = c.clone();
        c.disconnect().unwrap();
        assert!(!copy.is_connected());
        assert!(matches!(copy.disconnect(), Err(Error::NotConnected { .. })));
        // The input is free again.
        connect(&out.to_ref(), &inp.to_ref()).unwrap();
    }

    #[test]
    fn dropping_a_connection_keeps_the_link() {
        let out = Output::new();
        let inp = Input::new();
        drop(connect(&out.to_ref(), &inp.to_ref()).unwrap());
        out.write(1u8);
        assert_eq!(*inp.read_latest().unwrap(), 1);
    }
}
